//! Per-cell KPI reports: JSON objects, one or an array of them per message, or JSON Lines. A report
//! names its cell by global id (`MCC-MNC-TAC-CID`) and carries any of:
//!
//! | field                | property          | unit   | accepted range                           |
//! |----------------------|-------------------|--------|------------------------------------------|
//! | `rsrp_dbm`           | `kpi.rsrp`        | dBm    | -156 to -31 (NR/LTE reporting range)     |
//! | `sinr_db`            | `kpi.sinr`        | dB     | -23 to 40 (SS-SINR reporting range)      |
//! | `prb_util_pct`       | `kpi.prb_util`    | %      | 0 to 100                                 |
//! | `throughput_mbps`    | `kpi.throughput`  | Mbit/s | 0 to 20000 (the IMT-2020 peak)           |
//! | `users`              | `kpi.users`       |        | whole, 0 to 10000 (RRC-connected users)  |
//! | `alarms`             | `kpi.alarms` text |        | at most 32, each at most 256 bytes       |
//! | `available`          | `kpi.state` text  |        | `up` / `down`                            |
//!
//! The ranges are those of 3GPP TS 38.133 (SS-RSRP, SS-SINR); a value outside its range, of the
//! wrong type or missing (`null`) is skipped and counted, and the report's other fields are kept.
//! Unknown fields are ignored (newer feeds may send more).
//!
//! Cost: the message is parsed once, each report straight into its known fields (unknown fields are
//! skipped unparsed; serde_json's recursion limit bounds nesting); at most [`MAX_REPORTS`] reports are
//! kept from one message, the rest counted.

use serde_json::Value;

/// The most reports read from one message.
pub const MAX_REPORTS: usize = 100_000;

/// The most alarms kept per report.
pub const MAX_ALARMS: usize = 32;

/// One cell's report, values already checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KpiReport {
    /// The cell's global id.
    pub cell: String,
    /// Reference signal received power, dBm.
    pub rsrp_dbm: Option<f64>,
    /// Signal to interference and noise ratio, dB.
    pub sinr_db: Option<f64>,
    /// Downlink PRB utilisation, %.
    pub prb_util_pct: Option<f64>,
    /// Downlink cell throughput, Mbit/s.
    pub throughput_mbps: Option<f64>,
    /// RRC-connected users.
    pub users: Option<f64>,
    /// Active alarms (empty list: none).
    pub alarms: Option<Vec<String>>,
    /// Whether the cell is in service.
    pub available: Option<bool>,
}

/// The reports of a message and what was wrong in it.
#[derive(Debug, Default)]
pub struct Reports {
    /// Good reports, in order.
    pub reports: Vec<KpiReport>,
    /// Reports or fields skipped: (index of the report in the message, why).
    pub bad: Vec<(usize, String)>,
    /// Reports past [`MAX_REPORTS`], not read.
    pub over_limit: usize,
}

/// A numeric field's accepted range.
struct Range {
    field: &'static str,
    min: f64,
    max: f64,
    whole: bool,
}

const RSRP: Range = Range { field: "rsrp_dbm", min: -156.0, max: -31.0, whole: false };
const SINR: Range = Range { field: "sinr_db", min: -23.0, max: 40.0, whole: false };
const PRB: Range = Range { field: "prb_util_pct", min: 0.0, max: 100.0, whole: false };
const THROUGHPUT: Range = Range { field: "throughput_mbps", min: 0.0, max: 20_000.0, whole: false };
const USERS: Range = Range { field: "users", min: 0.0, max: 10_000.0, whole: true };

/// One top-level JSON value of a message: a report object, or an array of items.
enum TopLevel {
    One(Item),
    Many(Vec<Item>),
}

/// An item of a message, its known fields taken as they came (unknown fields skipped unparsed).
enum Item {
    Object(Box<RawReport>),
    NotObject,
}

#[derive(Default)]
struct RawReport {
    cell: Option<Value>,
    numbers: [Option<Value>; 5],
    alarms: Option<Value>,
    available: Option<Value>,
}

/// The numeric fields, in [`RawReport::numbers`] order.
const NUMBER_FIELDS: [&Range; 5] = [&RSRP, &SINR, &PRB, &THROUGHPUT, &USERS];

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

/// Reads a report straight into its fields: no map of every field is built, and unknown fields are
/// skipped without being kept.
struct ItemVisitor;

impl<'de> serde::de::Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a KPI report object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut r = RawReport::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "cell" => &mut r.cell,
                "alarms" => &mut r.alarms,
                "available" => &mut r.available,
                other => match NUMBER_FIELDS.iter().position(|f| f.field == other) {
                    Some(i) => &mut r.numbers[i],
                    None => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    }
                },
            };
            *slot = Some(map.next_value()?);
        }
        Ok(Item::Object(Box::new(r)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Item::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> serde::de::Visitor<'de> for TopVisitor {
            type Value = TopLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a KPI report object or an array of them")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Item>()? {
                    // Past the cap an item is still read (to find the message's end), not kept.
                    items.push(if items.len() < MAX_REPORTS { item } else { Item::NotObject });
                }
                Ok(TopLevel::Many(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<TopLevel, A::Error> {
                ItemVisitor.visit_map(map).map(TopLevel::One)
            }
            fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
            fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
            fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
            fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
            fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
            fn visit_unit<E>(self) -> Result<TopLevel, E> {
                Ok(TopLevel::One(Item::NotObject))
            }
        }
        d.deserialize_any(TopVisitor)
    }
}

/// Reads the reports of a message; `Err` when it is not JSON at all.
pub fn parse(payload: &[u8]) -> Result<Reports, String> {
    let mut out = Reports::default();
    let mut index = 0usize;
    let stream = serde_json::Deserializer::from_slice(payload).into_iter::<TopLevel>();
    for (n, value) in stream.enumerate() {
        let value = match value {
            Ok(v) => v,
            // What was read before the error stands; the rest of the message cannot be framed.
            Err(e) if n == 0 => return Err(format!("not JSON: {e}")),
            Err(e) => {
                out.bad.push((index, format!("unreadable JSON after report {index}: {e}")));
                break;
            }
        };
        let items = match value {
            TopLevel::Many(items) => items,
            TopLevel::One(item) => vec![item],
        };
        for item in items {
            if out.reports.len() + out.bad.len() >= MAX_REPORTS {
                out.over_limit += 1;
            } else {
                report(item, index, &mut out);
            }
            index += 1;
        }
    }
    Ok(out)
}

fn report(item: Item, index: usize, out: &mut Reports) {
    let Item::Object(raw) = item else {
        out.bad.push((index, "a report is a JSON object".into()));
        return;
    };
    let RawReport { cell, numbers, alarms, available } = *raw;
    let cell = match cell {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 => s,
        _ => {
            out.bad.push((index, "no `cell` (the cell's global id MCC-MNC-TAC-CID, as text)".into()));
            return;
        }
    };
    let mut checked = [None; 5];
    for ((slot, value), range) in checked.iter_mut().zip(&numbers).zip(NUMBER_FIELDS) {
        let Some(value) = value else { continue };
        match value.as_f64() {
            Some(x) if x >= range.min && x <= range.max && (!range.whole || x.fract() == 0.0) => *slot = Some(x),
            _ => {
                let kind = if range.whole { "a whole number" } else { "a number" };
                out.bad.push((
                    index,
                    format!(
                        "cell {cell}: `{}` = {value} is not {kind} from {} to {}",
                        range.field, range.min, range.max
                    ),
                ));
            }
        }
    }
    let [rsrp_dbm, sinr_db, prb_util_pct, throughput_mbps, users] = checked;
    let mut r = KpiReport { rsrp_dbm, sinr_db, prb_util_pct, throughput_mbps, users, ..KpiReport::default() };
    match alarms {
        None => {}
        Some(Value::Array(list))
            if list.len() <= MAX_ALARMS && list.iter().all(|a| a.as_str().is_some_and(|s| s.len() <= 256)) =>
        {
            r.alarms = Some(list.iter().filter_map(|a| a.as_str().map(str::to_string)).collect());
        }
        Some(_) => out.bad.push((
            index,
            format!("cell {cell}: `alarms` is not a list of at most {MAX_ALARMS} texts of at most 256 bytes"),
        )),
    }
    match available {
        None => {}
        Some(Value::Bool(b)) => r.available = Some(b),
        Some(other) => out.bad.push((index, format!("cell {cell}: `available` = {other} is not true or false"))),
    }
    r.cell = cell;
    out.reports.push(r);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_an_array_and_json_lines_are_read_and_out_of_range_fields_are_skipped_alone() {
        let one = parse(br#"{"cell":"404-10-1-1","rsrp_dbm":-95.5,"users":12,"alarms":[]}"#).unwrap();
        assert_eq!(one.reports.len(), 1);
        assert_eq!(one.reports[0].rsrp_dbm, Some(-95.5));
        assert_eq!(one.reports[0].users, Some(12.0));
        assert_eq!(one.reports[0].alarms, Some(vec![]));
        let many = parse(
            b"[{\"cell\":\"a\",\"sinr_db\":41}, {\"cell\":\"b\",\"prb_util_pct\":55}]\n{\"cell\":\"c\",\"users\":2.5}\n",
        )
        .unwrap();
        let cells: Vec<&str> = many.reports.iter().map(|r| r.cell.as_str()).collect();
        assert_eq!(cells, ["a", "b", "c"]);
        assert_eq!(many.reports[0].sinr_db, None, "41 dB is past the reporting range");
        assert_eq!(many.reports[2].users, None, "users are whole");
        assert_eq!(many.bad.len(), 2);
        assert!(many.bad[0].1.contains("`sinr_db` = 41 is not a number from -23 to 40"), "{:?}", many.bad);
    }

    #[test]
    fn hostile_messages_are_errors_or_counted_never_a_panic() {
        assert!(parse(b"\xff\xfe").is_err());
        assert!(parse(b"").unwrap().reports.is_empty());
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err(), "nesting is bounded by serde_json");
        let r = parse(br#"[1, "x", {"rsrp_dbm":-90}, {"cell":"a","rsrp_dbm":"-90","available":"yes"}]"#).unwrap();
        assert_eq!(r.reports.len(), 1);
        assert_eq!(r.bad.len(), 5, "{:?}", r.bad);
        let big = format!("[{}]", vec![r#"{"cell":"x"}"#; MAX_REPORTS + 5].join(","));
        let r = parse(big.as_bytes()).unwrap();
        assert_eq!((r.reports.len(), r.over_limit), (MAX_REPORTS, 5));
    }
}
