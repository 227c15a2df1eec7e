//! The inspector of a selected entity: its properties at the displayed time and a history chart.
//!
//! Plain data for any front end to draw (a world-space panel in XR, a side panel or the title in the
//! window). Values come from the [`TwinStore`] at the playhead, so scrubbing back shows the past.

use std::time::Duration;

use sangam_twin::{EntityId, SimTime, TwinStore};

/// The most points a chart holds, however long the history (a chart is drawn every frame).
pub const MAX_CHART_POINTS: usize = 256;

/// One property line.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectorRow {
    /// Property name.
    pub property: String,
    /// The value at the displayed time, formatted with its unit; `—` when it had no value yet.
    pub value: String,
    /// The numeric value, when the property is a number.
    pub numeric: Option<f64>,
    /// When that value was recorded.
    pub recorded_at: Option<SimTime>,
}

/// A line chart of one numeric property over a time window ending at the displayed time.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Property name.
    pub property: String,
    /// Unit text (empty for plain numbers).
    pub unit: String,
    /// Window start and end, seconds of simulation time.
    pub t0: f64,
    /// Window end (the displayed time).
    pub t1: f64,
    /// `(seconds, value)` samples, oldest first, at most [`MAX_CHART_POINTS`].
    pub points: Vec<(f64, f64)>,
    /// Smallest value in `points`.
    pub min: f64,
    /// Largest value in `points`.
    pub max: f64,
}

/// Everything the inspector panel shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspector {
    /// The entity.
    pub entity: EntityId,
    /// Its display name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// The time shown.
    pub at: SimTime,
    /// Properties in name order.
    pub rows: Vec<InspectorRow>,
    /// History of the charted property, when one is numeric and has samples in the window.
    pub chart: Option<Chart>,
}

/// Builds the inspector of `entity` at time `at` with a chart of `chart_property` (or, when `None`, the
/// numeric property with the most samples in the window, the first by name of equals) over the `window`
/// before `at`. `None` when the store has no such entity. Cost: one pass over each numeric property's
/// samples in the window.
pub fn inspect(
    store: &TwinStore,
    entity: &EntityId,
    at: SimTime,
    chart_property: Option<&str>,
    window: Duration,
) -> Option<Inspector> {
    let e = store.entity(entity)?;
    let rows: Vec<InspectorRow> = e
        .properties
        .keys()
        .map(|name| {
            let sample = store.series(entity, name).and_then(|s| s.window(SimTime(i64::MIN), at).next_back());
            match sample {
                Some((t, v)) => InspectorRow {
                    property: name.clone(),
                    value: v.to_string(),
                    numeric: v.as_f64(),
                    recorded_at: Some(t),
                },
                None => InspectorRow { property: name.clone(), value: "—".into(), numeric: None, recorded_at: None },
            }
        })
        .collect();
    let window_us = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
    let t0 = at.saturating_add_micros(-window_us);
    let chart_for = |name: &str| -> Option<Chart> {
        let series = store.series(entity, name)?;
        let numeric: Vec<(f64, f64)> =
            series.window(t0, at).filter_map(|(t, v)| v.as_f64().map(|x| (t.as_secs_f64(), x))).collect();
        if numeric.is_empty() {
            return None;
        }
        let unit = series.latest().and_then(|(_, v)| v.unit().map(|u| u.as_str().to_string())).unwrap_or_default();
        let points = decimate(&numeric, MAX_CHART_POINTS);
        let (min, max) =
            points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
        Some(Chart { property: name.to_string(), unit, t0: t0.as_secs_f64(), t1: at.as_secs_f64(), points, min, max })
    };
    let chart = match chart_property {
        Some(name) => chart_for(name),
        // The live one: most samples in the window (a scene's constant has one); the first by name of
        // those with as many.
        None => rows
            .iter()
            .filter(|r| r.numeric.is_some())
            .filter_map(|r| chart_for(&r.property))
            .reduce(|best, c| if c.points.len() > best.points.len() { c } else { best }),
    };
    Some(Inspector {
        entity: entity.clone(),
        name: e.display_name().to_string(),
        kind: e.kind.clone(),
        at,
        rows,
        chart,
    })
}

/// At most `max` points: evenly strided, always keeping the first and the last.
fn decimate(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points.to_vec();
    }
    if max < 2 {
        return points.last().copied().into_iter().take(max).collect();
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_twin::{Entity, PropertyValue, Unit};

    fn store() -> (TwinStore, EntityId) {
        let mut s = TwinStore::new();
        let mut e = Entity::new("site-1", "telecom.site");
        e.name = Some("Rooftop 1".into());
        e.properties.insert("tx_power".into(), PropertyValue::Quantity { value: 43.0, unit: Unit::parse("dBm") });
        e.properties.insert("operator".into(), PropertyValue::Text("illustrative".into()));
        s.add_entity(SimTime::ZERO, e).unwrap();
        let id = EntityId::new("site-1");
        for i in 1..=1000 {
            let v = PropertyValue::Quantity { value: 43.0 - f64::from(i % 7), unit: Unit::parse("dBm") };
            s.record(&id, "tx_power", SimTime::from_millis(i64::from(i) * 100), v).unwrap();
        }
        (s, id)
    }

    #[test]
    fn rows_show_values_at_the_playhead() {
        let (s, id) = store();
        let now = inspect(&s, &id, SimTime::from_secs(100), None, Duration::from_secs(10)).unwrap();
        assert_eq!(now.name, "Rooftop 1");
        assert_eq!(now.rows.len(), 2);
        let tx = now.rows.iter().find(|r| r.property == "tx_power").unwrap();
        assert_eq!(tx.numeric, Some(43.0 - f64::from(1000 % 7)));
        assert!(tx.value.contains("dBm"), "{}", tx.value);
        assert_eq!(tx.recorded_at, Some(SimTime::from_secs(100)));
        // Scrubbed back to 0.25 s: the sample of 0.2 s.
        let past = inspect(&s, &id, SimTime::from_millis(250), None, Duration::from_secs(10)).unwrap();
        let tx = past.rows.iter().find(|r| r.property == "tx_power").unwrap();
        assert_eq!(tx.numeric, Some(43.0 - 2.0));
        assert_eq!(tx.recorded_at, Some(SimTime::from_millis(200)));
        // Before the entity existed nothing is known.
        let before = inspect(&s, &id, SimTime::from_secs(-1), None, Duration::from_secs(10)).unwrap();
        assert!(before.rows.iter().all(|r| r.value == "—" && r.numeric.is_none()));
        assert!(before.chart.is_none());
        assert!(inspect(&s, &EntityId::new("nope"), SimTime::ZERO, None, Duration::ZERO).is_none());
    }

    #[test]
    fn chart_covers_the_window_and_is_bounded() {
        let (s, id) = store();
        let i = inspect(&s, &id, SimTime::from_secs(50), None, Duration::from_secs(10)).unwrap();
        let c = i.chart.expect("tx_power has history");
        assert_eq!(c.property, "tx_power");
        assert_eq!(c.unit, "dBm");
        // 40 s .. 50 s at 10 samples per second: 101 points, under the cap, all kept.
        assert_eq!(c.points.len(), 101);
        assert_eq!(c.points.first().unwrap().0, 40.0);
        assert_eq!(c.points.last().unwrap().0, 50.0);
        assert_eq!((c.min, c.max), (37.0, 43.0));
        // The whole history (1001 samples) is cut to the cap, keeping both ends.
        let all = inspect(&s, &id, SimTime::from_secs(100), Some("tx_power"), Duration::from_secs(1000)).unwrap();
        let c = all.chart.unwrap();
        assert_eq!(c.points.len(), MAX_CHART_POINTS);
        assert_eq!(c.points.first().unwrap().0, 0.0);
        assert_eq!(c.points.last().unwrap().0, 100.0);
        // A text property has no chart.
        assert!(
            inspect(&s, &id, SimTime::from_secs(1), Some("operator"), Duration::from_secs(5)).unwrap().chart.is_none()
        );
    }
}
