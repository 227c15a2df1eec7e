//! The feed's traffic half: per-segment counts (the `traffic-counts` adapter's JSON) for the scene's
//! `road.segment` entities. The counts are REAL, mapped: the hourly westbound I-94 volumes of MnDOT
//! station 301 for the week of 24-30 September 2018 (assets/data/traffic, CC BY 4.0), one day of it per
//! compressed day, interpolated between hours, times each segment's `count_share` (invented). An
//! ILLUSTRATIVE incident blocks one lane of the first segment from 07:12 to 09:36 (phase 0.3 to 0.4).
//!
//! Cost: one small JSON object per segment per period; the week (168 hours) is parsed once.

use anyhow::{Result, bail};
use sangam_twin::Scene;

/// The real counts: one week of MnDOT ATR 301, as the UCI file has it.
const WEEK: &str = include_str!("../../../../assets/data/traffic/i94_atr301_2018-09-24_to_30.csv");

/// A road segment of the scene.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedSegment {
    /// Its entity id.
    pub id: String,
    /// Its lanes.
    pub lanes: u32,
    /// Its share of the station's count.
    pub share: f64,
}

/// The scene's road segments with a `count_share`.
pub fn segments(scene: &Scene) -> Result<Vec<FeedSegment>> {
    let mut out = Vec::new();
    for e in scene.entities.iter().filter(|e| e.kind == "road.segment") {
        let number = |p: &str| e.properties.get(p).and_then(|v| v.as_f64());
        let (Some(share), Some(lanes)) = (number("count_share"), number("lanes")) else {
            bail!("road segment `{}` needs the properties count_share and lanes for the feed", e.id);
        };
        out.push(FeedSegment { id: e.id.to_string(), lanes: lanes.clamp(1.0, 12.0) as u32, share });
    }
    Ok(out)
}

/// The week's hourly counts (veh/h), 168 of them: the first row of each hour (the file repeats an
/// hour once per weather description).
pub fn week() -> Vec<f64> {
    let mut hours: Vec<(String, f64)> = Vec::new();
    for line in WEEK.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(time), Some(count)) = (fields.get(7), fields.get(8).and_then(|c| c.parse().ok())) else { continue };
        if hours.last().is_none_or(|(t, _)| t != time) {
            hours.push((time.to_string(), count));
        }
    }
    hours.into_iter().map(|(_, c)| c).collect()
}

/// The station's flow (veh/h) at `phase` (0..1) of day `day` of the week, linear between hours.
pub fn station_flow(week: &[f64], day: u64, phase: f64) -> f64 {
    let days = (week.len() / 24).max(1) as u64;
    let hour = (day % days) as f64 * 24.0 + phase * 24.0;
    let i = hour.floor() as usize;
    let (a, b) = (week[i.min(week.len() - 1)], week[(i + 1).min(week.len() - 1)]);
    a + (b - a) * hour.fract()
}

/// Whether the incident is on at `phase`.
pub fn incident(phase: f64) -> bool {
    (0.3..0.4).contains(&phase)
}

/// The message for `segment` (the first segment is `first`) at `phase` with the station at `flow`.
pub fn report(segment: &FeedSegment, first: bool, phase: f64, flow: f64) -> String {
    let count = (flow * segment.share).round();
    let (lanes_open, note) = if first && incident(phase) {
        (segment.lanes.saturating_sub(1), "breakdown blocking one lane (illustrative)")
    } else {
        (segment.lanes, "")
    };
    format!(
        r#"{{"segment":"{}","count":{count},"interval_s":3600,"lanes_open":{lanes_open},"incident":"{note}"}}"#,
        segment.id
    )
}
