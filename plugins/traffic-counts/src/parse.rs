//! Messages into counts per segment. Two forms, told apart by the first byte:
//! - **CSV station counts** (a header, then rows; e.g. the I-94 series as a file source replays it,
//!   one hour per message): the last row with a readable count is the station's, and it is MAPPED
//!   onto every configured segment by its share;
//! - **JSON segment counts** (starting with `{` or `[`; one object, an array, or JSON Lines):
//!   `{"segment": ID, "count": N, "interval_s": S, "lanes_open": L, "incident": TEXT, "time": T}`,
//!   only `segment` and `count` required (`time`: Unix seconds, read with `timestamps = "message"`).
//!
//! A count is a whole or fractional number of vehicles from 0 to [`MAX_COUNT`]; anything else, an
//! unknown segment, or `lanes_open` past the segment's lanes is skipped and reported.
//!
//! Cost: one pass over the message; a JSON record is read straight into its known fields (unknown
//! fields skipped unparsed; serde_json's recursion limit bounds nesting); at most [`MAX_RECORDS`]
//! records are read from one message, the rest counted.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::config::{Config, INTERVAL_RANGE, Timestamps};
use sangam_sdk::timestamps::{parse_time, seconds_to_us};

/// The largest count accepted (vehicles in one interval).
pub const MAX_COUNT: f64 = 1e6;

/// The most JSON records read from one message.
pub const MAX_RECORDS: usize = 100_000;

/// The longest incident text kept (bytes).
pub const MAX_INCIDENT_BYTES: usize = 256;

/// One segment's count, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentCount {
    /// Index of the segment in the configuration.
    pub segment: usize,
    /// Flow, veh/h.
    pub flow: f64,
    /// Lanes open.
    pub lanes_open: u32,
    /// The incident text, when the message set one (`""` clears it).
    pub incident: Option<String>,
    /// The count's time (simulation microseconds), when `timestamps = "message"` and it has one.
    pub time_us: Option<i64>,
    /// Whether it was mapped from a station's count (the CSV form).
    pub mapped: bool,
}

/// What a message held.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Good counts, in order.
    pub counts: Vec<SegmentCount>,
    /// Rows or records skipped: (where in the message, why).
    pub bad: Vec<(String, String)>,
    /// Records past [`MAX_RECORDS`], not read.
    pub over_limit: usize,
}

/// Whether a payload is JSON (segment counts) rather than CSV (station counts).
pub fn is_json(payload: &[u8]) -> bool {
    matches!(payload.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// Reads a message; `Err` when it has no usable header (CSV) or is not JSON at all.
pub fn parse(payload: &[u8], config: &Config) -> Result<Parsed, String> {
    if is_json(payload) { json(payload, config) } else { csv_counts(payload, config) }
}

/// A count's text or JSON number, checked.
fn count_value(x: Option<f64>) -> Option<f64> {
    x.filter(|c| c.is_finite() && (0.0..=MAX_COUNT).contains(c))
}

fn csv_counts(payload: &[u8], config: &Config) -> Result<Parsed, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(payload);
    let header = reader.headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
    let find = |name: &str| header.iter().position(|h| h == name);
    let count_col = find(&config.count_column).ok_or_else(|| {
        format!(
            "the header has no `{}` column; set parameter `count-column` to one of its columns",
            config.count_column
        )
    })?;
    let time_col = match config.timestamps {
        Timestamps::Message => Some(find(&config.time_column).ok_or_else(|| {
            format!("the header has no `{}` column; set parameter `time-column`", config.time_column)
        })?),
        Timestamps::Received => None,
    };
    let mut out = Parsed::default();
    let mut station: Option<(f64, Option<i64>)> = None;
    for (i, record) in reader.records().enumerate() {
        let line = format!("line {}", i + 2);
        let r = match record {
            Ok(r) if r.iter().all(str::is_empty) => continue,
            Ok(r) => r,
            Err(e) => {
                out.bad.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let text = r.get(count_col).unwrap_or("");
        let Some(count) = count_value(text.parse().ok()) else {
            out.bad.push((line, format!("`{}` = {text:?} is not a count from 0 to {MAX_COUNT}", config.count_column)));
            continue;
        };
        let time = match time_col {
            None => None,
            Some(c) => {
                let t = r.get(c).unwrap_or("");
                match parse_time(t) {
                    Some(us) => Some(us - config.epoch_unix_us),
                    None => {
                        out.bad.push((line, format!("`{}` = {t:?} is not a time", config.time_column)));
                        continue;
                    }
                }
            }
        };
        // The last good row is the station's count (one hour per message, as a file source sends it).
        station = Some((count, time));
    }
    if let Some((count, time_us)) = station {
        let flow = count * 3600.0 / config.count_interval_s;
        for (segment, s) in config.segments.iter().enumerate() {
            out.counts.push(SegmentCount {
                segment,
                flow: flow * s.share,
                lanes_open: s.lanes,
                incident: None,
                time_us,
                mapped: true,
            });
        }
    }
    Ok(out)
}

/// One top-level JSON value: a record, or an array of them.
enum TopLevel {
    One(Item),
    Many(Vec<Item>),
}

/// A record with its known fields as they came, or something that is not a record.
enum Item {
    Record(Box<RawRecord>),
    NotObject,
}

#[derive(Default)]
struct RawRecord {
    segment: Option<Value>,
    count: Option<Value>,
    interval_s: Option<Value>,
    lanes_open: Option<Value>,
    incident: Option<Value>,
    time: Option<Value>,
}

/// Reads a record straight into its fields (no map of every field is built).
struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a segment count object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut r = RawRecord::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "segment" => &mut r.segment,
                "count" => &mut r.count,
                "interval_s" => &mut r.interval_s,
                "lanes_open" => &mut r.lanes_open,
                "incident" => &mut r.incident,
                "time" => &mut r.time,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(Item::Record(Box::new(r)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
}

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

/// A record or an array of records.
struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a segment count object or an array of them")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            // Past the cap a record is still read (to find the message's end), not kept.
            items.push(if items.len() < MAX_RECORDS { item } else { Item::NotObject });
        }
        Ok(TopLevel::Many(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TopLevel, A::Error> {
        ItemVisitor.visit_map(map).map(TopLevel::One)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::One(Item::NotObject))
    }
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

fn json(payload: &[u8], config: &Config) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut index = 0usize;
    let mut seen = 0usize;
    for (n, value) in serde_json::Deserializer::from_slice(payload).into_iter::<TopLevel>().enumerate() {
        let value = match value {
            Ok(v) => v,
            Err(e) if n == 0 => return Err(format!("not JSON: {e}")),
            // What was read before stands; the rest of the message cannot be framed.
            Err(e) => {
                out.bad.push((format!("after record {index}"), format!("unreadable JSON: {e}")));
                break;
            }
        };
        let items = match value {
            TopLevel::Many(items) => items,
            TopLevel::One(item) => vec![item],
        };
        for item in items {
            if seen >= MAX_RECORDS {
                out.over_limit += 1;
            } else {
                seen += 1;
                match record(item, config) {
                    Ok(c) => out.counts.push(c),
                    Err(why) => out.bad.push((format!("record {index}"), why)),
                }
            }
            index += 1;
        }
    }
    Ok(out)
}

fn record(item: Item, config: &Config) -> Result<SegmentCount, String> {
    let Item::Record(r) = item else { return Err("a record is a JSON object".into()) };
    let id = match &r.segment {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err("no `segment` (the road segment's entity id, as text)".into()),
    };
    let segment = config.segment_index(id).ok_or_else(|| {
        let shown: String = id.chars().take(64).collect();
        format!("segment `{shown}` is not in parameter `segments`")
    })?;
    let s = &config.segments[segment];
    let count = count_value(r.count.as_ref().and_then(Value::as_f64))
        .ok_or_else(|| format!("{id}: `count` is not a number from 0 to {MAX_COUNT}"))?;
    let interval = match &r.interval_s {
        None => config.count_interval_s,
        Some(v) => v.as_f64().filter(|x| (INTERVAL_RANGE.0..=INTERVAL_RANGE.1).contains(x)).ok_or_else(|| {
            format!("{id}: `interval_s` = {v} is not {} to {} seconds", INTERVAL_RANGE.0, INTERVAL_RANGE.1)
        })?,
    };
    let lanes_open =
        match &r.lanes_open {
            None => s.lanes,
            Some(v) => v.as_u64().filter(|l| *l <= u64::from(s.lanes)).map(|l| l as u32).ok_or_else(|| {
                format!("{id}: `lanes_open` = {v} is not a whole number from 0 to its {} lanes", s.lanes)
            })?,
        };
    let incident = match &r.incident {
        None => None,
        Some(Value::String(t)) if t.len() <= MAX_INCIDENT_BYTES => Some(t.clone()),
        Some(_) => return Err(format!("{id}: `incident` is not a text of at most {MAX_INCIDENT_BYTES} bytes")),
    };
    let time_us = match (config.timestamps, &r.time) {
        (Timestamps::Message, Some(v)) => Some(
            v.as_f64()
                .and_then(seconds_to_us)
                .ok_or_else(|| format!("{id}: `time` = {v} is not a number of seconds"))?
                - config.epoch_unix_us,
        ),
        _ => None,
    };
    Ok(SegmentCount { segment, flow: count * 3600.0 / interval, lanes_open, incident, time_us, mapped: false })
}
