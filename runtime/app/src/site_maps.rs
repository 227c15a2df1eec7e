//! Simulations' maps of the site (SDK 1.3 `output.raster`) on screen: each map a scene's
//! `[[heatmaps]]` rule names is draped over the site in its rule's colours, with a legend in the map's
//! unit, in every front end (moved with the twin in tabletop mode like a plugin's frame).
//!
//! A map becomes an overlay frame once, when it is new ([`SiteMaps::frame`]), and goes through the
//! same per-pose conversion cache as overlay plugins' frames; a frame drawn with an unchanged map costs
//! a pointer comparison per map.

use std::cell::RefCell;
use std::sync::Arc;

use sangam_plugins::{Heatmap, OverlayFrame, Palette, Raster};
use sangam_render::overlay::Overlay;
use sangam_twin::{ColorRamp, ColorRule, HeatmapRule};

use sangam_session::Session;

use crate::frontend::SiteSession;

/// The maps shown, each converted once.
#[derive(Default)]
pub struct SiteMaps {
    entries: RefCell<Vec<Entry>>,
}

struct Entry {
    key: String,
    raster: Arc<Raster>,
    heights: Option<Arc<Raster>>,
    frame: Arc<OverlayFrame>,
}

/// The colour-rule form of a heatmap rule, for its legend: `LAYER [UNIT] (PLUGIN map)`.
pub fn legend_rule(rule: &HeatmapRule) -> ColorRule {
    ColorRule {
        kind: format!("{} map", rule.plugin),
        property: rule.layer.clone(),
        min: rule.min,
        max: rule.max,
        ramp: rule.ramp,
        reverse: false,
        label: false,
    }
}

/// `raster` as an overlay frame holding one heatmap in `rule`'s colours, draped on the surface
/// heights of `heights` (the rule's `heights` layer) when it is given and on the same grid.
pub fn heatmap_frame(raster: &Raster, rule: &HeatmapRule, heights: Option<&Raster>) -> OverlayFrame {
    let palette = match rule.ramp {
        ColorRamp::Viridis => Palette::Viridis,
        ColorRamp::Traffic => Palette::Traffic,
        ColorRamp::Diverging => Palette::Diverging,
    };
    let same_grid = |h: &&Raster| {
        h.columns == raster.columns
            && h.rows == raster.rows
            && h.cell_size == raster.cell_size
            && h.origin[..2] == raster.origin[..2]
            && h.values.len() == raster.values.len()
    };
    let heatmap = Heatmap {
        origin: raster.origin,
        cell_size: raster.cell_size as f32,
        columns: raster.columns,
        rows: raster.rows,
        values: raster.values.clone(),
        min: rule.min as f32,
        max: rule.max as f32,
        palette,
        opacity: rule.opacity as f32,
        heights: heights.filter(same_grid).map(|h| h.values.clone()).unwrap_or_default(),
    };
    OverlayFrame { time: raster.time, heatmaps: vec![heatmap], ..OverlayFrame::default() }
}

/// The surface heights `rule` drapes its map on: its `heights` layer of the same plugin, if `core`
/// has one.
pub fn heights_of(core: &Session, rule: &HeatmapRule) -> Option<Arc<Raster>> {
    let layer = rule.heights.as_deref()?;
    core.rasters().find(|(id, r)| *id == rule.plugin && r.layer == layer).map(|(_, r)| r.clone())
}

impl SiteMaps {
    /// The frame of `raster` (on `heights`) under `key`, made now only if either map is new.
    fn frame(
        &self,
        key: &str,
        raster: &Arc<Raster>,
        heights: Option<Arc<Raster>>,
        rule: &HeatmapRule,
    ) -> Arc<OverlayFrame> {
        let mut entries = self.entries.borrow_mut();
        let same = |e: &Entry| {
            Arc::ptr_eq(&e.raster, raster)
                && match (&e.heights, &heights) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                }
        };
        match entries.iter_mut().find(|e| e.key == key) {
            Some(e) if same(e) => e.frame.clone(),
            Some(e) => {
                e.frame = Arc::new(heatmap_frame(raster, rule, heights.as_deref()));
                e.raster = raster.clone();
                e.heights = heights;
                e.frame.clone()
            }
            None => {
                let frame = Arc::new(heatmap_frame(raster, rule, heights.as_deref()));
                entries.push(Entry { key: key.to_string(), raster: raster.clone(), heights, frame: frame.clone() });
                frame
            }
        }
    }

    /// Adds every map of `core` (the plan's or a branch's twin, its cache keys starting with
    /// `prefix`) that a rule names, and its legend; with `differenced`, not those drawn as a
    /// difference instead ([`crate::compare`]).
    pub fn add(&self, overlay: &mut Overlay, session: &SiteSession, core: &Session, prefix: &str, differenced: bool) {
        let rules = &session.site.twin.heatmaps;
        if rules.is_empty() {
            return;
        }
        let pose = *session.interaction.twin_pose();
        for (plugin, raster) in core.rasters() {
            let Some(rule) = rules.iter().find(|r| r.plugin == plugin && r.layer == raster.layer) else { continue };
            if differenced && session.comparison.as_ref().is_some_and(|c| c.shows(&session.core, rule)) {
                continue;
            }
            // Under a key of its own (a plugin's map is not one of its overlay frames).
            let key = format!("{prefix}{plugin}\u{1f}map\u{1f}{}", raster.layer);
            let frame = self.frame(&key, raster, heights_of(core, rule), rule);
            overlay.layers.push(session.overlay_frames.get(&key, &frame, &pose));
            overlay.hud.extend(crate::live_colors::legend(&legend_rule(rule), &raster.unit));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn the_demo_drapes_its_coverage_map_over_the_site_with_a_legend_in_dbm_converted_once() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        let mut session = SiteSession::load(&path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let raster = loop {
            session.core.tick(Duration::from_millis(50));
            if let Some((_, r)) = session.core.rasters().find(|(id, r)| *id == "coverage" && r.layer == "radio.rsrp") {
                break r.clone();
            }
            assert!(Instant::now() < deadline, "no coverage map within 60 s");
            std::thread::sleep(Duration::from_millis(5));
        };
        let overlay = crate::overlay_compose::compose(&session, None);
        let heatmaps: Vec<_> = overlay.layers.iter().flat_map(|l| &l.heatmaps).collect();
        // Only the RSRP map has a rule; SINR and best site are kept, not drawn.
        assert_eq!(heatmaps.len(), 1);
        let h = heatmaps[0];
        assert_eq!((h.columns, h.rows, h.cell_size_m), (raster.columns, raster.rows, raster.cell_size as f32));
        assert_eq!((h.min, h.max, h.opacity), (-120.0, -60.0, 0.55));
        assert_eq!(h.origin, glam::DVec3::from_array(raster.origin), "in place: the twin is not moved");
        let same = h.values.iter().zip(&raster.values).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
        assert!(same && h.values.len() == raster.values.len(), "the map's own values, no data as NaN");
        assert!(overlay.hud.iter().any(|t| t.text == "radio.rsrp [dBm] (coverage map)"), "with its legend");
        // Draped on the roofs: the plugin's surface heights, one per cell; cells on a roof are raised.
        let surface = session.core.rasters().find(|(_, r)| r.layer == "surface.height").map(|(_, r)| r.clone());
        let surface = surface.expect("the coverage plugin hands over its surface heights with its first map");
        assert_eq!(h.heights.len(), h.values.len());
        let on_roofs = h.heights.iter().filter(|&&z| z > h.origin.z as f32 + 0.5).count();
        let roofs = surface.values.iter().filter(|&&z| z > 2.0).count();
        assert!(on_roofs > 100 && on_roofs == roofs, "{on_roofs} cells raised, {roofs} on roofs");
        // The next frame with the same map converts nothing.
        let before = session.overlay_frames.conversions();
        let _ = crate::overlay_compose::compose(&session, None);
        assert_eq!(session.overlay_frames.conversions(), before);
    }
}
