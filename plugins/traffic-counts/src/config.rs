//! The plugin's parameters: their declarations ([`parameters`], mirrored in `plugin.toml`) and their
//! reading and checking at `init` ([`Config::from_params`]), each error naming the parameter and the
//! fix. Runs once per instance; cost linear in the length of `segments`.

use sangam_sdk::{ParamValue, ParameterSpec, params};

use crate::model::{self, Model};
use sangam_sdk::timestamps::parse_time;

/// The allowed range of a segment's share of the station flow.
pub const SHARE_RANGE: (f64, f64) = (0.0, 10.0);
/// The allowed range of a segment's lane count.
pub const LANES_RANGE: (u32, u32) = (1, 12);
/// The allowed range of a free-flow speed (km/h).
pub const FREE_FLOW_RANGE: (f64, f64) = (5.0, 150.0);
/// The allowed range of `lane-capacity` (veh/h per lane).
pub const LANE_CAPACITY_RANGE: (f64, f64) = (300.0, 3000.0);
/// The allowed range of `bpr-alpha`.
pub const ALPHA_RANGE: (f64, f64) = (0.0, 5.0);
/// The allowed range of `bpr-beta`.
pub const BETA_RANGE: (f64, f64) = (1.0, 10.0);
/// The allowed range of `effective-length-m`.
pub const EFFECTIVE_LENGTH_RANGE: (f64, f64) = (2.0, 30.0);
/// The allowed range of a count interval (s): one second to one day.
pub const INTERVAL_RANGE: (f64, f64) = (1.0, 86_400.0);
/// The longest entity id accepted in `segments` (the host's limit for an entity id).
pub const MAX_ID_BYTES: usize = 256;

/// The example shown in errors about `segments`.
const SEGMENTS_EXAMPLE: &str = "`road/ring-road-wb=0.8/3/50, road/aurobindo-marg-nb=0.45/2/40`";

/// The parameters of this plugin (mirrors `plugin.toml`).
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("segments", "").description(
            "Road segments as `entity-id=share/lanes/free-flow-kmh`, comma-separated: segment flow = share * station \
             flow (CSV form); lanes and free-flow speed for the model (both forms).",
        ),
        ParameterSpec::text("time-column", "date_time")
            .description("Header name of the CSV time column (read when `timestamps` = \"message\")."),
        ParameterSpec::text("count-column", "traffic_volume").description("Header name of the CSV count column."),
        ParameterSpec::number("count-interval-s", 3600.0)
            .unit("s")
            .range(INTERVAL_RANGE.0, INTERVAL_RANGE.1)
            .description("The seconds a count covers: flow (veh/h) = count * 3600 / interval."),
        ParameterSpec::number("lane-capacity", model::LANE_CAPACITY)
            .unit("veh/h")
            .range(LANE_CAPACITY_RANGE.0, LANE_CAPACITY_RANGE.1)
            .description("Capacity of one lane; a segment's capacity is its open lanes times this."),
        ParameterSpec::number("bpr-alpha", model::BPR_ALPHA)
            .range(ALPHA_RANGE.0, ALPHA_RANGE.1)
            .description("BPR alpha: the relative delay at capacity (speed there is vf / (1 + alpha))."),
        ParameterSpec::number("bpr-beta", model::BPR_BETA)
            .range(BETA_RANGE.0, BETA_RANGE.1)
            .description("BPR beta: how sharply speed falls as flow nears capacity."),
        ParameterSpec::number("effective-length-m", model::EFFECTIVE_LENGTH_M)
            .unit("m")
            .range(EFFECTIVE_LENGTH_RANGE.0, EFFECTIVE_LENGTH_RANGE.1)
            .description("Vehicle plus loop detector length, for occupancy."),
        ParameterSpec::text("timestamps", "received").description(
            "\"received\": updates at the time the message arrived; \"message\": at the row's time (CSV) or the \
             record's `time` (JSON), relative to `epoch`.",
        ),
        ParameterSpec::text("epoch", "1970-01-01 00:00:00")
            .description("The calendar time (same zone as the data) that is simulation time 0."),
    ]
}

/// One road segment the adapter writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The entity id (kind `road.segment`, already in the scene).
    pub id: String,
    /// Its share of the station flow (CSV form).
    pub share: f64,
    /// Its lanes (all open unless a JSON record says otherwise).
    pub lanes: u32,
    /// Its free-flow speed (km/h).
    pub free_flow_kmh: f64,
}

/// Which time the updates of a message carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamps {
    /// The time the host received the message.
    Received,
    /// The time in the message, relative to the epoch.
    Message,
}

/// Everything the parameters say.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The segments, in the order of `segments`.
    pub segments: Vec<Segment>,
    /// Header name of the CSV time column.
    pub time_column: String,
    /// Header name of the CSV count column.
    pub count_column: String,
    /// Seconds a count covers, unless a JSON record says otherwise.
    pub count_interval_s: f64,
    /// The traffic model's constants.
    pub model: Model,
    /// Which time the updates carry.
    pub timestamps: Timestamps,
    /// The calendar time (Unix microseconds) that is simulation time 0.
    pub epoch_unix_us: i64,
}

impl Config {
    /// A configuration with the defaults of every parameter but `segments`.
    pub fn with_segments(segments: Vec<Segment>) -> Self {
        Config {
            segments,
            time_column: "date_time".into(),
            count_column: "traffic_volume".into(),
            count_interval_s: 3600.0,
            model: Model::default(),
            timestamps: Timestamps::Received,
            epoch_unix_us: 0,
        }
    }

    /// Reads and checks the parameters the host holds.
    pub fn from_params() -> Result<Config, String> {
        let segments = parse_segments(&text("segments", "")?)?;
        let time_column = text("time-column", "date_time")?.trim().to_string();
        let count_column = text("count-column", "traffic_volume")?.trim().to_string();
        if count_column.is_empty() {
            return Err("parameter `count-column` is empty; name the CSV column holding the counts".into());
        }
        let timestamps = match text("timestamps", "received")?.trim() {
            "received" => Timestamps::Received,
            "message" => Timestamps::Message,
            other => {
                return Err(format!(
                    "parameter `timestamps` = {:?} is neither \"received\" nor \"message\"; use one of them",
                    short(other)
                ));
            }
        };
        if timestamps == Timestamps::Message && time_column.is_empty() {
            return Err(
                "parameter `time-column` is empty but `timestamps` = \"message\"; name the CSV time column".into()
            );
        }
        let epoch = text("epoch", "1970-01-01 00:00:00")?;
        let epoch_unix_us = parse_time(&epoch).ok_or_else(|| {
            format!("parameter `epoch` = {:?} is not a time; write it as YYYY-MM-DD HH:MM:SS", short(&epoch))
        })?;
        let model = Model {
            lane_capacity: number("lane-capacity", model::LANE_CAPACITY, LANE_CAPACITY_RANGE, "veh/h per lane")?,
            alpha: number("bpr-alpha", model::BPR_ALPHA, ALPHA_RANGE, "")?,
            beta: number("bpr-beta", model::BPR_BETA, BETA_RANGE, "")?,
            effective_length_m: number("effective-length-m", model::EFFECTIVE_LENGTH_M, EFFECTIVE_LENGTH_RANGE, "m")?,
        };
        Ok(Config {
            segments,
            time_column,
            count_column,
            count_interval_s: number("count-interval-s", 3600.0, INTERVAL_RANGE, "s")?,
            model,
            timestamps,
            epoch_unix_us,
        })
    }

    /// The index of segment `id`, if it is configured.
    pub fn segment_index(&self, id: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.id == id)
    }
}

/// A text parameter, its default when the host does not have it.
fn text(name: &str, default: &str) -> Result<String, String> {
    match params::get(name) {
        None => Ok(default.to_string()),
        Some(ParamValue::Text(v)) => Ok(v),
        Some(_) => Err(format!("parameter `{name}` must be text; write it in quotes")),
    }
}

/// A numeric parameter within `range`, its default when the host does not have it.
fn number(name: &str, default: f64, range: (f64, f64), unit: &str) -> Result<f64, String> {
    let v = match params::get(name) {
        None => default,
        Some(ParamValue::Number(v)) => v,
        Some(ParamValue::Integer(v)) => v as f64,
        Some(_) => return Err(format!("parameter `{name}` must be a number; write it without quotes")),
    };
    if !(range.0..=range.1).contains(&v) {
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        return Err(format!(
            "parameter `{name}` = {v} is outside {}..={}{unit}; use a value in that range (default {default})",
            range.0, range.1
        ));
    }
    Ok(v)
}

/// At most 64 characters of a user's text, for an error message.
fn short(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Parses parameter `segments`: comma-separated `entity-id=share/lanes/free-flow-kmh` entries.
///
/// ```
/// use traffic_counts::config::parse_segments;
/// let s = parse_segments("road/ring-road-wb=0.8/3/50, road/aurobindo-marg-nb=0.45/2/40").unwrap();
/// assert_eq!((s[1].id.as_str(), s[1].share, s[1].lanes, s[1].free_flow_kmh), ("road/aurobindo-marg-nb", 0.45, 2, 40.0));
/// assert!(parse_segments("road/a=0.8/3").unwrap_err().contains("parameter `segments`"));
/// ```
pub fn parse_segments(spec: &str) -> Result<Vec<Segment>, String> {
    let err = |entry: &str, why: String| format!("parameter `segments`: entry {:?} {why}", short(entry));
    let mut out: Vec<Segment> = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((id, values)) = entry.split_once('=') else {
            return Err(err(
                entry,
                format!("has no `=`; write `entity-id=share/lanes/free-flow-kmh`, e.g. {SEGMENTS_EXAMPLE}"),
            ));
        };
        let id = id.trim();
        if id.is_empty() {
            return Err(err(entry, "names no entity; put the road segment's entity id before `=`".into()));
        }
        if id.len() > MAX_ID_BYTES || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                entry,
                format!(
                    "has an entity id with spaces or control characters, or over {MAX_ID_BYTES} bytes; use the scene's id"
                ),
            ));
        }
        let parts: Vec<&str> = values.split('/').map(str::trim).collect();
        let [share, lanes, free_flow] = parts[..] else {
            return Err(err(
                entry,
                format!(
                    "has {} values after `=`, not 3; write share/lanes/free-flow-kmh, e.g. {SEGMENTS_EXAMPLE}",
                    parts.len()
                ),
            ));
        };
        let share =
            share.parse::<f64>().ok().filter(|s| (SHARE_RANGE.0..=SHARE_RANGE.1).contains(s)).ok_or_else(|| {
                err(entry, format!("has share {share:?}; give a number from {} to {}", SHARE_RANGE.0, SHARE_RANGE.1))
            })?;
        let lanes =
            lanes.parse::<u32>().ok().filter(|n| (LANES_RANGE.0..=LANES_RANGE.1).contains(n)).ok_or_else(|| {
                err(
                    entry,
                    format!("has lanes {lanes:?}; give a whole number from {} to {}", LANES_RANGE.0, LANES_RANGE.1),
                )
            })?;
        let free_flow_kmh =
            free_flow.parse::<f64>().ok().filter(|v| (FREE_FLOW_RANGE.0..=FREE_FLOW_RANGE.1).contains(v)).ok_or_else(
                || {
                    err(
                        entry,
                        format!(
                            "has free-flow speed {free_flow:?}; give km/h from {} to {}",
                            FREE_FLOW_RANGE.0, FREE_FLOW_RANGE.1
                        ),
                    )
                },
            )?;
        if out.iter().any(|s| s.id == id) {
            return Err(err(entry, format!("repeats segment `{id}`; list each segment once")));
        }
        out.push(Segment { id: id.to_string(), share, lanes, free_flow_kmh });
    }
    if out.is_empty() {
        return Err(format!(
            "parameter `segments` is empty; map the counts onto road segments as `entity-id=share/lanes/free-flow-kmh`, \
             comma-separated, e.g. {SEGMENTS_EXAMPLE}"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_parse_with_spaces() {
        let s = parse_segments(" road/a = 0.8 / 3 / 50 ,road/b=0/1/5,").unwrap();
        assert_eq!(
            s,
            vec![
                Segment { id: "road/a".into(), share: 0.8, lanes: 3, free_flow_kmh: 50.0 },
                Segment { id: "road/b".into(), share: 0.0, lanes: 1, free_flow_kmh: 5.0 },
            ]
        );
    }

    #[test]
    fn bad_segments_say_what_is_wrong() {
        let cases = [
            ("", "is empty"),
            (" , ", "is empty"),
            ("road/a", "has no `=`"),
            ("=0.5/2/40", "names no entity"),
            ("road a=0.5/2/40", "spaces or control characters"),
            ("road/a=0.5/2", "has 2 values"),
            ("road/a=0.5/2/40/1", "has 4 values"),
            ("road/a=-0.1/2/40", "has share \"-0.1\""),
            ("road/a=10.5/2/40", "has share"),
            ("road/a=NaN/2/40", "has share"),
            ("road/a=0.5/0/40", "has lanes \"0\""),
            ("road/a=0.5/13/40", "has lanes"),
            ("road/a=0.5/2.5/40", "has lanes"),
            ("road/a=0.5/2/4", "free-flow speed \"4\""),
            ("road/a=0.5/2/151", "free-flow speed"),
            ("road/a=0.5/2/inf", "free-flow speed"),
            ("road/a=0.5/2/40, road/a=1/1/30", "repeats segment `road/a`"),
        ];
        for (spec, want) in cases {
            let e = parse_segments(spec).unwrap_err();
            assert!(e.starts_with("parameter `segments`") && e.contains(want), "{spec:?}: {e}");
        }
        let long = format!("{}=1/1/50", "r".repeat(MAX_ID_BYTES + 1));
        assert!(parse_segments(&long).is_err());
    }
}
