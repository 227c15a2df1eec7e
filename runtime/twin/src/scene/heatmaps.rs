//! The scene's `[[heatmaps]]`: which maps of the site a simulation hands over (SDK 1.3
//! `output.raster`) are drawn, draped over the site in the colour of their values with a legend in
//! their unit, in every front end. A map no rule names is still kept (and exported), not drawn.
//! Parsing cost: a few comparisons per rule.

use serde::Deserialize;
use serde_spanned::Spanned;

use super::color_by::ColorRamp;
use super::plugins::PluginDecl;
use super::{Cx, SceneError};

/// One `[[heatmaps]]` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapRule {
    /// The simulation plugin (its scene id) whose map is drawn.
    pub plugin: String,
    /// The map's layer, e.g. `radio.rsrp`.
    pub layer: String,
    /// The value at the start of the ramp.
    pub min: f64,
    /// The value at its end.
    pub max: f64,
    /// The ramp (default viridis).
    pub ramp: ColorRamp,
    /// Opacity of the cells with data, 0 to 1 (default 0.6).
    pub opacity: f64,
    /// The same plugin's layer holding the surface height under each cell (metres, site frame): cells
    /// on a roof are drawn on it, the rest on the ground (`heights = "surface.height"`).
    pub heights: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeatmap {
    plugin: Spanned<String>,
    layer: Spanned<String>,
    range: Spanned<Vec<f64>>,
    palette: Option<Spanned<String>>,
    opacity: Option<Spanned<f64>>,
    heights: Option<Spanned<String>>,
}

impl Cx<'_> {
    pub(super) fn heatmap_rules(
        &self,
        raw: &[Spanned<RawHeatmap>],
        plugins: &[PluginDecl],
    ) -> Result<Vec<HeatmapRule>, SceneError> {
        let mut out: Vec<HeatmapRule> = Vec::new();
        for r in raw.iter().map(Spanned::get_ref) {
            let plugin = r.plugin.get_ref().clone();
            if !plugins.iter().any(|p| p.id == plugin) {
                let known: Vec<&str> = plugins.iter().map(|p| p.id.as_str()).collect();
                return Err(self.err(
                    r.plugin.span(),
                    format!("heatmaps: `{plugin}` is not a plugin of this scene (its plugins: {})", known.join(", ")),
                ));
            }
            let layer = r.layer.get_ref().trim().to_string();
            if layer.is_empty() || layer.chars().any(char::is_control) {
                return Err(self.err(r.layer.span(), "heatmaps: layer must name a map layer, e.g. \"radio.rsrp\""));
            }
            if out.iter().any(|o| o.plugin == plugin && o.layer == layer) {
                return Err(self.err(
                    r.layer.span(),
                    format!("heatmaps: `{plugin}` layer `{layer}` already has a rule; keep one"),
                ));
            }
            let (min, max) = self.ramp_range(&r.range, "heatmaps")?;
            let ramp = self.ramp(r.palette.as_ref(), ColorRamp::Viridis, "heatmaps")?;
            let opacity = match &r.opacity {
                None => 0.6,
                Some(o) if (0.0..=1.0).contains(o.get_ref()) => *o.get_ref(),
                Some(o) => return Err(self.err(o.span(), "heatmaps: opacity must be 0 to 1")),
            };
            let heights = match &r.heights {
                None => None,
                Some(h) if !h.get_ref().trim().is_empty() && !h.get_ref().chars().any(char::is_control) => {
                    Some(h.get_ref().trim().to_string())
                }
                Some(h) => {
                    return Err(self.err(
                        h.span(),
                        "heatmaps: heights must name the plugin's layer of surface heights, e.g. \"surface.height\"",
                    ));
                }
            };
            out.push(HeatmapRule { plugin, layer, min, max, ramp, opacity, heights });
        }
        Ok(out)
    }
}
