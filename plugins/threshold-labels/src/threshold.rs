//! Threshold classification and frame building: pure Rust, no host calls.

use sangam_sdk::EntityTable;
use sangam_sdk::overlay::{OverlayFrame, Severity, color};

/// Which side of the thresholds is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Values at or above a threshold cross it (flow, load, temperature).
    Above,
    /// Values at or below a threshold cross it (signal strength, speed, water level in a tank).
    Below,
}

impl Direction {
    /// Parses the `direction` parameter.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "above" => Ok(Direction::Above),
            "below" => Ok(Direction::Below),
            other => Err(format!("parameter `direction` = {other:?} must be \"above\" or \"below\"")),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Direction::Above => "above",
            Direction::Below => "below",
        }
    }
}

/// A warning and a critical threshold on one side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    warning: f64,
    critical: f64,
    direction: Direction,
}

impl Thresholds {
    /// Checks that both are finite and that `critical` lies beyond `warning` in `direction`.
    pub fn new(warning: f64, critical: f64, direction: Direction) -> Result<Self, String> {
        if !warning.is_finite() || !critical.is_finite() {
            return Err(format!("thresholds must be finite (warning = {warning}, critical = {critical})"));
        }
        let ordered = match direction {
            Direction::Above => critical >= warning,
            Direction::Below => critical <= warning,
        };
        if !ordered {
            return Err(format!(
                "parameter `critical` = {critical} must be {} parameter `warning` = {warning} for direction \"{}\"",
                if direction == Direction::Above { "at or above" } else { "at or below" },
                direction.word()
            ));
        }
        Ok(Thresholds { warning, critical, direction })
    }

    /// The severity of `value`: `None` when it crosses no threshold or is not finite.
    pub fn classify(&self, value: f64) -> Option<Severity> {
        if !value.is_finite() {
            return None;
        }
        let crosses = |t: f64| match self.direction {
            Direction::Above => value >= t,
            Direction::Below => value <= t,
        };
        if crosses(self.critical) {
            Some(Severity::Critical)
        } else if crosses(self.warning) {
            Some(Severity::Warning)
        } else {
            None
        }
    }

    fn threshold(&self, severity: Severity) -> f64 {
        if severity == Severity::Critical { self.critical } else { self.warning }
    }
}

/// How labels look and how many alerts a frame may carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Property name, for the texts.
    pub property: String,
    /// Unit symbol, for the texts.
    pub unit: String,
    /// Label height in metres.
    pub label_size: f32,
    /// How far above the entity the label floats, in metres.
    pub lift: f64,
    /// At most this many per-entity alerts; the rest are summed up in one.
    pub max_alerts: usize,
}

/// Formats a value with its unit, to a precision that suits its size.
pub fn format_value(value: f64, unit: &str) -> String {
    let digits = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 1.0 {
        1
    } else {
        3
    };
    if unit.is_empty() { format!("{value:.digits$}") } else { format!("{value:.digits$} {unit}") }
}

/// The frame for `values[i]` of entity `entities[i]`: a label and a marker in the severity's colour
/// above every entity that crosses a threshold, and an alert for each (most severe first, capped).
pub fn build_frame(
    table: &EntityTable,
    entities: &[u32],
    values: &[f64],
    thresholds: &Thresholds,
    style: &Style,
) -> OverlayFrame {
    let mut frame = OverlayFrame::new();
    let mut crossing: Vec<(Severity, u32, f64)> = Vec::new();
    for (&e, &v) in entities.iter().zip(values) {
        let Some(severity) = thresholds.classify(v) else { continue };
        let Some([x, y, z]) = table.position(e).filter(|p| p.iter().all(|c| c.is_finite())) else { continue };
        let rgba = color::severity(severity);
        frame.push_marker([x, y, z + style.lift * 0.5], rgba, style.label_size * 0.4);
        frame.push_label([x, y, z + style.lift], format_value(v, &style.unit), rgba, style.label_size);
        crossing.push((severity, e, v));
    }
    // Critical first, then by how far past its threshold (largest first).
    let past = |s: Severity, v: f64| (v - thresholds.threshold(s)).abs();
    crossing.sort_by(|a, b| {
        (b.0 == Severity::Critical).cmp(&(a.0 == Severity::Critical)).then(past(b.0, b.2).total_cmp(&past(a.0, a.2)))
    });
    for &(severity, e, v) in crossing.iter().take(style.max_alerts) {
        let id = table.ids.get(e as usize).map_or("?", String::as_str);
        let level = if severity == Severity::Critical { "critical" } else { "warning" };
        frame.push_alert(
            severity,
            Some(e),
            format!(
                "{id}: {} {} {} {level} threshold {}",
                style.property,
                format_value(v, &style.unit),
                thresholds.direction.word(),
                format_value(thresholds.threshold(severity), &style.unit)
            ),
        );
    }
    if crossing.len() > style.max_alerts {
        let worst = crossing[style.max_alerts..].iter().any(|c| c.0 == Severity::Critical);
        frame.push_alert(
            if worst { Severity::Critical } else { Severity::Warning },
            None,
            format!("{} more entities cross a {} threshold", crossing.len() - style.max_alerts, style.property),
        );
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> EntityTable {
        EntityTable {
            ids: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            kinds: vec!["k".into(); 4],
            positions: vec![0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 20.0, 0.0, 0.0, 30.0, 0.0, 0.0],
        }
    }

    fn style(max_alerts: usize) -> Style {
        Style { property: "traffic.flow".into(), unit: "veh/h".into(), label_size: 2.0, lift: 10.0, max_alerts }
    }

    #[test]
    fn classify_both_directions() {
        let up = Thresholds::new(1000.0, 1500.0, Direction::Above).unwrap();
        assert_eq!(up.classify(999.9), None);
        assert_eq!(up.classify(1000.0), Some(Severity::Warning));
        assert_eq!(up.classify(1500.0), Some(Severity::Critical));
        assert_eq!(up.classify(f64::NAN), None);
        let down = Thresholds::new(-100.0, -110.0, Direction::Below).unwrap();
        assert_eq!(down.classify(-95.0), None);
        assert_eq!(down.classify(-105.0), Some(Severity::Warning));
        assert_eq!(down.classify(-120.0), Some(Severity::Critical));
        assert!(Thresholds::new(10.0, 5.0, Direction::Above).unwrap_err().contains("`critical` = 5"));
        assert!(Thresholds::new(f64::INFINITY, 5.0, Direction::Below).is_err());
        assert!(Direction::parse("sideways").unwrap_err().contains("direction"));
    }

    #[test]
    fn frame_labels_only_crossing_entities_in_their_colour() {
        let t = Thresholds::new(1000.0, 1500.0, Direction::Above).unwrap();
        let f = build_frame(&table(), &[0, 1, 2, 3], &[500.0, 1200.0, 1800.0, f64::NAN], &t, &style(10));
        assert_eq!(f.labels.texts, vec!["1200 veh/h".to_string(), "1800 veh/h".to_string()]);
        assert_eq!(f.labels.positions, vec![10.0, 0.0, 10.0, 20.0, 0.0, 10.0]);
        assert_eq!(&f.labels.colors[..4], &color::AMBER);
        assert_eq!(&f.labels.colors[4..], &color::RED);
        assert_eq!(f.markers.radii.len(), 2);
        assert_eq!(f.alerts.len(), 2);
        assert_eq!(f.alerts[0].severity, Severity::Critical);
        assert_eq!(f.alerts[0].entity, Some(2));
        assert_eq!(f.alerts[0].message, "c: traffic.flow 1800 veh/h above critical threshold 1500 veh/h");
        assert_eq!(f.alerts[1].message, "b: traffic.flow 1200 veh/h above warning threshold 1000 veh/h");
    }

    #[test]
    fn alerts_are_capped_with_a_summary() {
        let t = Thresholds::new(1.0, 2.0, Direction::Above).unwrap();
        let f = build_frame(&table(), &[0, 1, 2, 3], &[1.5, 3.0, 1.2, 9.0], &t, &style(1));
        assert_eq!(f.labels.texts.len(), 4, "every crossing entity keeps its label");
        assert_eq!(f.alerts.len(), 2);
        assert_eq!(f.alerts[0].entity, Some(3), "the worst critical comes first");
        assert_eq!(f.alerts[1].entity, None);
        assert_eq!(f.alerts[1].severity, Severity::Critical, "entity 1 is critical too");
        assert_eq!(f.alerts[1].message, "3 more entities cross a traffic.flow threshold");
    }

    #[test]
    fn entities_outside_the_table_are_skipped() {
        let t = Thresholds::new(1.0, 2.0, Direction::Above).unwrap();
        let f = build_frame(&table(), &[7, u32::MAX], &[5.0, 5.0], &t, &style(10));
        assert!(f.is_empty());
    }

    #[test]
    fn value_formatting() {
        assert_eq!(format_value(1234.56, "veh/h"), "1235 veh/h");
        assert_eq!(format_value(12.34, ""), "12.3");
        assert_eq!(format_value(0.01234, "m"), "0.012 m");
    }
}
