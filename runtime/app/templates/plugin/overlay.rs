//! `{{name}}`: a Sangam overlay.
//!
//! Draws each granted entity's `value` as a label above it, green below parameter `limit` and red at
//! or above it, with an alert for each entity at or above. Replace it with your drawing: read the
//! twin once per frame for all entities, return primitives.

use sangam_sdk::overlay::{OverlayFrame, Severity, color};
use sangam_sdk::{EntityTable, Overlay, ParameterSpec, TimeUs, params, twin};

/// The overlay's state, kept between frames.
pub struct Drawing {
    table: EntityTable,
    entities: Vec<u32>,
    limit: f64,
}

impl Overlay for Drawing {
    fn init(table: EntityTable) -> Result<Self, String> {
        let limit = params::number("limit").unwrap_or(100.0);
        if !limit.is_finite() {
            return Err(format!("parameter `limit` = {limit} must be finite"));
        }
        Ok(Drawing { entities: table.indices(), table, limit })
    }

    fn draw(&mut self, _now: TimeUs) -> Result<OverlayFrame, String> {
        let values = twin::numbers("value", &self.entities);
        let mut frame = OverlayFrame::new();
        for (&e, &v) in self.entities.iter().zip(&values) {
            let Some([x, y, z]) = self.table.position(e) else { continue };
            if !v.is_finite() {
                continue;
            }
            let over = v >= self.limit;
            frame.push_label([x, y, z + 10.0], format!("{v:.1}"), if over { color::RED } else { color::GREEN }, 2.0);
            if over {
                frame.push_alert(
                    Severity::Warning,
                    Some(e),
                    format!("{}: value {v:.1} >= {}", self.table.ids[e as usize], self.limit),
                );
            }
        }
        Ok(frame)
    }

    fn parameters() -> Vec<ParameterSpec> {
        vec![ParameterSpec::number("limit", 100.0).description("Values at or above this are shown red with an alert.")]
    }
}

sangam_sdk::export_overlay!(Drawing);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_over_the_limit_are_red_with_an_alert() {
        sangam_sdk::testing::reset();
        sangam_sdk::testing::with_host(|h| {
            h.push_number(0, "value", 0, 50.0);
            h.push_number(1, "value", 0, 150.0);
        });
        let table =
            EntityTable { ids: vec!["a".into(), "b".into()], kinds: vec!["k".into(); 2], positions: vec![0.0; 6] };
        let frame = Drawing::init(table).unwrap().draw(0).unwrap();
        assert_eq!(frame.labels.texts, vec!["50.0".to_string(), "150.0".to_string()]);
        assert_eq!(&frame.labels.colors[4..], &color::RED);
        assert_eq!(frame.alerts.len(), 1);
        assert_eq!(frame.alerts[0].entity, Some(1));
    }
}
