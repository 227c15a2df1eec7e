//! What the renderer's overlay pass draws each frame, composed from the session: every overlay
//! plugin's latest frame (moved with the twin in tabletop mode), the entities coloured by a live value
//! with their legends ([`crate::live_colors`]), simulations' maps of the site the scene draws
//! ([`crate::site_maps`]), the selected entity's inspector panel
//! with its history chart (in world space, next to the entity), and heads-up lines: frame timing,
//! the data sources' states and rates, plugin faults and alerts.
//!
//! Pure data in, pure data out: it reads the session and allocates one [`Overlay`], it never waits.
//! Plugin frames are converted once each ([`ConvertedFrames`]), not once per frame drawn.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use glam::DVec3;
use sangam_plugins::{OverlayFrame, Palette, Severity, VolumeShape};
use sangam_render::overlay::{
    HeatmapPalette, HudCorner, HudText, Overlay, OverlayHeatmap, OverlayLabel, OverlayLine, OverlayMarker,
    OverlayVolume, VolumeShape as RenderShape,
};

use crate::frontend::SiteSession;
use crate::interaction::twin_pose::TwinPose;

/// Alerts shown on screen at most (the most severe first).
pub const MAX_HUD_ALERTS: usize = 6;

const WHITE: [f32; 4] = [1.0, 1.0, 1.0, 1.0];
const AMBER: [f32; 4] = [1.0, 0.75, 0.2, 1.0];
const RED: [f32; 4] = [1.0, 0.3, 0.25, 1.0];
const PANEL_TEXT: [f32; 4] = [0.95, 0.95, 0.9, 1.0];
const CHART_LINE: [f32; 4] = [0.3, 0.85, 1.0, 1.0];
/// The other scenario's history in the same chart.
const OTHER_LINE: [f32; 4] = [1.0, 0.6, 0.15, 1.0];

/// Plugin frames converted for the renderer: each frame is converted once, when it is new (or the
/// twin pose moved), and shared by every frame drawn until then ([`Overlay::layers`]). Cost: one
/// pointer comparison per overlay plugin per frame.
#[derive(Default)]
pub struct ConvertedFrames {
    entries: RefCell<Vec<Converted>>,
    conversions: Cell<u64>,
    /// Plugins' labels at a constant screen size (the scene's `[labels] screen_px`), in pixels.
    label_px: Option<f32>,
}

struct Converted {
    plugin: String,
    frame: Arc<OverlayFrame>,
    pose: TwinPose,
    overlay: Arc<Overlay>,
}

impl ConvertedFrames {
    /// No frames yet; plugins' labels to be drawn `label_px` pixels tall (`None`: their own size).
    pub fn with_label_px(label_px: Option<f32>) -> ConvertedFrames {
        ConvertedFrames { label_px, ..Default::default() }
    }

    /// Plugin `plugin`'s `frame` placed by `pose`, converted now only if it was not already.
    pub fn get(&self, plugin: &str, frame: &Arc<OverlayFrame>, pose: &TwinPose) -> Arc<Overlay> {
        let mut entries = self.entries.borrow_mut();
        let at = entries.iter().position(|e| e.plugin == plugin);
        if let Some(e) = at.map(|i| &entries[i])
            && Arc::ptr_eq(&e.frame, frame)
            && e.pose == *pose
        {
            return e.overlay.clone();
        }
        let mut converted = Overlay::default();
        add_plugin_frame(&mut converted, frame, pose, self.label_px);
        self.conversions.set(self.conversions.get() + 1);
        let entry =
            Converted { plugin: plugin.to_string(), frame: frame.clone(), pose: *pose, overlay: Arc::new(converted) };
        let overlay = entry.overlay.clone();
        match at {
            Some(i) => entries[i] = entry,
            None => entries.push(entry),
        }
        overlay
    }

    /// Frames converted so far.
    pub fn conversions(&self) -> u64 {
        self.conversions.get()
    }
}

/// Composes the overlay of a frame drawn as one view (XR, a shot): the first of the frame's panes
/// ([`crate::panes::panes`]; beside a second scenario in the split view, the plan's half). `stats` is
/// the heads-up timing line (shown when `Some`).
pub fn compose(session: &SiteSession, stats: Option<&str>) -> Overlay {
    compose_pane(session, crate::panes::panes(session)[0], stats)
}

/// Composes the overlay of one pane of a frame: the overlays, maps, live colours, inspector, faults
/// and alerts of the twin it shows (the plan, or the branch beside it), the difference maps when it
/// shows differences, the comparison's summaries when it carries them. `stats` is the heads-up timing
/// line (shown when `Some`).
pub fn compose_pane(session: &SiteSession, pane: crate::panes::Pane, stats: Option<&str>) -> Overlay {
    use crate::panes::Twin;
    let pose = *session.interaction.twin_pose();
    let comparison = session.comparison.as_ref();
    // A branch's frames and maps are cached under keys of their own beside the plan's.
    let (core, prefix) = match (pane.twin, comparison) {
        (Twin::Branch, Some(c)) => (&c.core, "branch\u{1f}"),
        _ => (&session.core, ""),
    };
    let mut overlay = Overlay::default();
    for (id, frame) in core.overlays() {
        let key = if prefix.is_empty() { id.to_string() } else { format!("{prefix}{id}") };
        overlay.layers.push(session.overlay_frames.get(&key, frame, &pose));
    }
    session.site_maps.add(&mut overlay, session, core, prefix, pane.difference);
    if let Some(c) = comparison {
        if pane.difference {
            c.add_differences(&mut overlay, session);
        }
        if pane.summaries {
            c.add_summaries(&mut overlay, session);
        }
    }
    session.live_colors.add(&mut overlay, core.store(), core.display_time(), &pose);
    add_inspector(&mut overlay, session, core);

    let mut top_left = Vec::new();
    if let Some(s) = stats {
        top_left.push(s.to_string());
    }
    if let Some(c) = comparison {
        let showing = match (pane.half, pane.twin) {
            (Some(_), Twin::Plan) => "plan".to_string(),
            (Some(_), Twin::Branch) => format!("scenario {}", c.scenario),
            (None, _) => c.view.describe(&c.scenario),
        };
        top_left.push(format!("{showing} (V / right stick click: next view)"));
    }
    if pane.twin == Twin::Plan
        && let Some(scenario) = &session.scenario
    {
        top_left.push(scenario.clone());
    }
    if !top_left.is_empty() {
        overlay.hud.push(HudText { text: top_left.join("\n"), corner: HudCorner::TopLeft, color: WHITE });
    }
    // Each data source's state (the branch is fed by the plan's): one that lost its broker or failed
    // is said in colour.
    let sources = if pane.first { session.core.sources().map(sangam_data::Sources::statuses) } else { None };
    for status in sources.unwrap_or_default() {
        let color = match status.state {
            sangam_data::SourceState::Reconnecting { .. } | sangam_data::SourceState::Starting => AMBER,
            sangam_data::SourceState::Failed(_) => RED,
            _ => WHITE,
        };
        overlay.hud.push(HudText {
            text: format!("{} ({}): {}, {:.0} msg/s", status.id, status.kind, status.state, status.rate),
            corner: HudCorner::TopRight,
            color,
        });
    }
    if pane.first {
        session.panel.add(&mut overlay);
    }
    // Faults first: a faulty plugin is reported on screen, with its id and cause.
    for fault in core.plugins().recent_faults() {
        overlay.hud.push(HudText { text: fault.to_string(), corner: HudCorner::BottomLeft, color: RED });
    }
    let mut alerts: Vec<_> = core.overlays().flat_map(|(id, f)| f.alerts.iter().map(move |a| (id, a))).collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.1.severity));
    for (id, alert) in alerts.into_iter().take(MAX_HUD_ALERTS) {
        let (tag, color) = match alert.severity {
            Severity::Critical => ("CRITICAL", RED),
            Severity::Warning => ("WARNING", AMBER),
            Severity::Info => ("info", WHITE),
        };
        overlay.hud.push(HudText {
            text: format!("{tag} [{id}] {}", alert.message),
            corner: HudCorner::BottomRight,
            color,
        });
    }
    overlay
}

/// Length scale of the twin pose (1 in walk-through, e.g. 1/500 on the table).
fn scale_of(pose: &TwinPose) -> f32 {
    pose.scale as f32
}

fn world(pose: &TwinPose, p: [f64; 3]) -> DVec3 {
    pose.to_world(DVec3::from_array(p))
}

/// Adds one plugin frame (twin-space positions) in world space; its labels `label_px` pixels tall
/// when given (constant screen size), else their own size in metres.
pub fn add_plugin_frame(overlay: &mut Overlay, frame: &OverlayFrame, pose: &TwinPose, label_px: Option<f32>) {
    let s = scale_of(pose);
    let l = &frame.labels;
    for (((p, text), color), size) in l.positions.iter().zip(&l.texts).zip(&l.colors).zip(&l.sizes) {
        overlay.labels.push(OverlayLabel {
            position: world(pose, *p),
            text: text.clone(),
            height_m: size * s,
            color: *color,
            screen_px: label_px,
        });
    }
    let m = &frame.markers;
    for ((p, color), r) in m.positions.iter().zip(&m.colors).zip(&m.radii) {
        overlay.markers.push(OverlayMarker { position: world(pose, *p), radius_m: r * s, color: *color });
    }
    for line in &frame.polylines {
        overlay.lines.push(OverlayLine {
            points: line.points.iter().map(|p| world(pose, *p)).collect(),
            color: line.color,
            width_m: line.width * s,
        });
    }
    for h in &frame.heatmaps {
        overlay.heatmaps.push(OverlayHeatmap {
            origin: world(pose, h.origin),
            cell_size_m: h.cell_size * s,
            columns: h.columns,
            rows: h.rows,
            values: h.values.clone(),
            min: h.min,
            max: h.max,
            palette: match h.palette {
                Palette::Viridis => HeatmapPalette::Viridis,
                Palette::Traffic => HeatmapPalette::Traffic,
                Palette::Diverging => HeatmapPalette::Diverging,
            },
            opacity: h.opacity,
            // Converted once per plugin frame (see [`ConvertedFrames`]): the same values until then.
            revision: sangam_render::overlay::next_revision(),
            // Twin heights to the world's: about the twin's plane, scaled with it.
            heights: h
                .heights
                .iter()
                .map(|&z| (world(pose, [h.origin[0], h.origin[1], f64::from(z)]).z) as f32)
                .collect(),
        });
    }
    for v in &frame.volumes {
        overlay.volumes.push(OverlayVolume {
            shape: match v.shape {
                VolumeShape::Sphere => RenderShape::Sphere,
                VolumeShape::Cylinder => RenderShape::Cylinder,
                VolumeShape::Box => RenderShape::Box,
            },
            center: world(pose, v.center),
            size: v.size.map(|x| x * s),
            color: v.color,
        });
    }
}

/// The selected entity's panel (from the pane's twin): name, kind, time and properties as a
/// world-space label above the selection point, and its history chart as a line beside it (facing the
/// viewer's heading); beside a second scenario, the other twin's history of the same property in the
/// same chart.
fn add_inspector(overlay: &mut Overlay, session: &SiteSession, core: &sangam_session::Session) {
    let ia = &session.interaction;
    let (Some(selection), Some(inspector)) = (ia.selection(), ia.inspector(core.store(), core.display_time())) else {
        return;
    };
    let distance = (selection.point - ia.camera.eye).length().max(1.0);
    // About 2.5 % of the distance per text line: readable from where it was picked.
    let line_h = (distance * 0.025) as f32;
    let mut text = format!("{} [{}]  t = {:.1} s", inspector.name, inspector.kind, inspector.at.as_secs_f64());
    for row in inspector.rows.iter().take(12) {
        text.push_str(&format!("\n{}: {}", row.property, row.value));
    }
    let lines = text.lines().count() as f64;
    let anchor = selection.point + DVec3::Z * (distance * 0.05);
    overlay.labels.push(OverlayLabel {
        position: anchor,
        text,
        height_m: line_h * lines as f32,
        color: PANEL_TEXT,
        screen_px: None,
    });
    let Some(chart) = &inspector.chart else { return };
    if chart.points.len() < 2 || chart.t1 <= chart.t0 {
        return;
    }
    // The chart: a box of width 12 lines by 6 lines right of the panel, in the vertical plane across
    // the view direction.
    let right = ia.camera.right();
    let (w, h) = (f64::from(line_h) * 12.0, f64::from(line_h) * 6.0);
    let origin = anchor + right * (f64::from(line_h) * 8.0);
    // Beside a second scenario the same property of the other twin is drawn in the same axes, so the
    // two scenarios' histories compare at a glance.
    let other = session.comparison.as_ref().and_then(|c| {
        let (twin, name, own) = if std::ptr::eq(core, &session.core) {
            (&c.core, c.scenario.as_str(), "plan")
        } else {
            (&session.core, "plan", c.scenario.as_str())
        };
        let id = selection.entity.as_ref()?;
        let theirs = crate::interaction::inspector::inspect(
            twin.store(),
            id,
            twin.display_time(),
            Some(&chart.property),
            crate::interaction::CHART_WINDOW,
        )?
        .chart?;
        (theirs.points.len() >= 2).then_some((theirs, name.to_string(), own.to_string()))
    });
    let (lo, hi) =
        other.as_ref().map_or((chart.min, chart.max), |(o, _, _)| (chart.min.min(o.min), chart.max.max(o.max)));
    let span = (hi - lo).max(1e-9);
    let line = |c: &crate::interaction::inspector::Chart| -> Vec<DVec3> {
        c.points
            .iter()
            .map(|(t, v)| {
                let x = ((t - chart.t0) / (chart.t1 - chart.t0)).clamp(0.0, 1.0);
                origin + right * (x * w) + DVec3::Z * ((v - lo) / span * h)
            })
            .collect()
    };
    let width = line_h * 0.15;
    if let Some((theirs, _, _)) = &other {
        overlay.lines.push(OverlayLine { points: line(theirs), color: OTHER_LINE, width_m: width });
    }
    overlay.lines.push(OverlayLine { points: line(chart), color: CHART_LINE, width_m: width });
    // Axes.
    overlay.lines.push(OverlayLine {
        points: vec![origin + DVec3::Z * h, origin, origin + right * w],
        color: [0.8, 0.8, 0.8, 0.8],
        width_m: width * 0.6,
    });
    let mut title = format!("{} [{}] {lo:.1}..{hi:.1}", chart.property, chart.unit);
    if let Some((_, theirs, own)) = &other {
        title.push_str(&format!("\n{own}: cyan, {theirs}: orange"));
    }
    overlay.labels.push(OverlayLabel {
        position: origin + right * (w * 0.5) + DVec3::Z * (h + f64::from(line_h) * 0.5),
        text: title,
        height_m: line_h * 0.8,
        color: CHART_LINE,
        screen_px: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_plugins::{Labels, Markers, Polyline};

    fn frame() -> OverlayFrame {
        OverlayFrame {
            labels: Labels {
                positions: vec![[10.0, 0.0, 5.0]],
                texts: vec!["87 %".into()],
                colors: vec![RED],
                sizes: vec![4.0],
            },
            markers: Markers { positions: vec![[0.0, 10.0, 0.0]], colors: vec![AMBER], radii: vec![2.0] },
            polylines: vec![Polyline { points: vec![[0.0; 3], [100.0, 0.0, 0.0]], color: WHITE, width: 1.0 }],
            ..Default::default()
        }
    }

    #[test]
    fn plugin_frames_follow_the_twin_onto_the_table() {
        let mut walk = Overlay::default();
        add_plugin_frame(&mut walk, &frame(), &TwinPose::IDENTITY, None);
        assert_eq!(walk.labels[0].position, DVec3::new(10.0, 0.0, 5.0));
        assert_eq!((walk.labels[0].height_m, walk.markers[0].radius_m, walk.lines[0].width_m), (4.0, 2.0, 1.0));

        let table = TwinPose::tabletop(DVec3::ZERO, DVec3::new(1.0, 2.0, 0.8), 1.0 / 500.0, 0.0);
        let mut on_table = Overlay::default();
        add_plugin_frame(&mut on_table, &frame(), &table, None);
        let p = on_table.labels[0].position;
        assert!((p - DVec3::new(1.02, 2.0, 0.81)).length() < 1e-9, "{p}");
        assert!((on_table.labels[0].height_m - 4.0 / 500.0).abs() < 1e-9);
        assert!((on_table.lines[0].points[1] - DVec3::new(1.2, 2.0, 0.8)).length() < 1e-9);
    }

    #[test]
    fn a_plugin_frame_is_converted_once_until_a_new_frame_comes_or_the_twin_moves() {
        let frames = ConvertedFrames::default();
        let first = Arc::new(frame());
        let a = frames.get("labels", &first, &TwinPose::IDENTITY);
        let b = frames.get("labels", &first, &TwinPose::IDENTITY);
        assert!(Arc::ptr_eq(&a, &b), "the same frame drawn again is not converted again");
        assert_eq!(frames.conversions(), 1);
        assert_eq!(a.labels.len(), first.labels.texts.len());
        let newer = Arc::new(frame());
        assert!(!Arc::ptr_eq(&a, &frames.get("labels", &newer, &TwinPose::IDENTITY)), "a new frame is converted");
        let table = TwinPose::tabletop(DVec3::ZERO, DVec3::new(1.0, 2.0, 0.8), 1.0 / 500.0, 0.0);
        let moved = frames.get("labels", &newer, &table);
        assert!((moved.labels[0].height_m - first.labels.sizes[0] / 500.0).abs() < 1e-9, "placed by the new pose");
        frames.get("other", &newer, &table);
        assert_eq!(frames.conversions(), 4, "one per (plugin, frame, pose)");
        assert!(Arc::ptr_eq(&moved, &frames.get("labels", &newer, &table)), "each plugin keeps its own");
        assert_eq!(a.labels[0].screen_px, None, "sized in metres unless the scene says otherwise");
        let fixed = ConvertedFrames::with_label_px(Some(18.0)).get("labels", &first, &TwinPose::IDENTITY);
        assert_eq!(fixed.labels[0].screen_px, Some(18.0), "[labels] screen_px: at a constant screen size");
    }
}
