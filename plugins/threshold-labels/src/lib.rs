//! `threshold-labels`: labels, markers and alerts for entities whose property crosses a threshold,
//! coloured by severity (amber for warning, red for critical).
//!
//! The value compared is the property's latest value, or, with `window-s` > 0, its time-weighted mean
//! over the last `window-s` seconds, computed by the host (`twin.aggregate`, SDK 1.1) so that a short
//! spike does not raise an alert.

pub mod threshold;

use sangam_sdk::twin::{self, Statistic};
use sangam_sdk::{EntityTable, Overlay, OverlayFrame, ParameterSpec, TimeUs, micros, params};

use crate::threshold::{Direction, Style, Thresholds, build_frame};

/// The parameters of this plugin (mirrors `plugin.toml`).
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("property", "traffic.flow").description("The numeric property compared."),
        ParameterSpec::text("unit", "").description("Its unit symbol, for the label and alert texts."),
        ParameterSpec::number("warning", 1000.0).description("Values at or past this raise a warning."),
        ParameterSpec::number("critical", 1500.0).description("Values at or past this are critical."),
        ParameterSpec::text("direction", "above")
            .description("\"above\": high values are bad; \"below\": low values are."),
        ParameterSpec::number("window-s", 0.0)
            .unit("s")
            .range(0.0, 604_800.0)
            .description("0: the latest value; otherwise the time-weighted mean over this many seconds."),
        ParameterSpec::number("label-size", 3.0).unit("m").range(0.1, 100.0).description("Label text height."),
        ParameterSpec::number("lift", 12.0).unit("m").range(0.0, 1000.0).description("Label height above the entity."),
        ParameterSpec::integer("max-alerts", 20)
            .range(0.0, 1000.0)
            .description("Per-entity alerts per frame at most; the rest are summed up in one."),
    ]
}

/// The overlay's state: the entity table and the parameters read at `init`.
pub struct ThresholdLabels {
    table: EntityTable,
    entities: Vec<u32>,
    thresholds: Thresholds,
    style: Style,
    window_us: i64,
}

fn number_in(name: &str, default: f64, min: f64, max: f64) -> Result<f64, String> {
    let v = params::number(name).unwrap_or(default);
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("parameter `{name}` = {v} must be between {min} and {max}"))
    }
}

impl Overlay for ThresholdLabels {
    fn init(table: EntityTable) -> Result<Self, String> {
        let text = |name: &str, default: &str| params::text(name).unwrap_or_else(|| default.to_string());
        let direction = Direction::parse(&text("direction", "above"))?;
        let thresholds = Thresholds::new(
            params::number("warning").unwrap_or(1000.0),
            params::number("critical").unwrap_or(1500.0),
            direction,
        )?;
        let style = Style {
            property: text("property", "traffic.flow"),
            unit: text("unit", ""),
            label_size: number_in("label-size", 3.0, 0.1, 100.0)? as f32,
            lift: number_in("lift", 12.0, 0.0, 1000.0)?,
            max_alerts: number_in("max-alerts", 20.0, 0.0, 1000.0)? as usize,
        };
        let window_us = micros(number_in("window-s", 0.0, 0.0, 604_800.0)?);
        Ok(ThresholdLabels { entities: table.indices(), table, thresholds, style, window_us })
    }

    fn draw(&mut self, now: TimeUs) -> Result<OverlayFrame, String> {
        let values = if self.window_us > 0 {
            let start = now.saturating_sub(self.window_us);
            twin::aggregate(&self.style.property, &self.entities, start, now, Statistic::TimeWeightedMean)
        } else {
            twin::numbers(&self.style.property, &self.entities)
        };
        Ok(build_frame(&self.table, &self.entities, &values, &self.thresholds, &self.style))
    }

    fn parameters() -> Vec<ParameterSpec> {
        parameters()
    }
}

sangam_sdk::export_overlay!(ThresholdLabels);
