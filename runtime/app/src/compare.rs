//! Two scenarios side by side in one session (`sangam run SCENE --compare NAME`): the plan (the
//! scene as run, with its own `--scenario`) and a branch forked from it at the start with scenario
//! NAME's values ([`sangam_session::Session::fork`]), ticked with the same frame times. On screen
//! ([`crate::panes`]): split, the plan left and the branch right, each with its own maps, colours and
//! labels (window and headless); or one view of the differences, the plan or the branch (every front
//! end; XR toggles). In the view of the differences:
//!
//! - each map a `[[heatmaps]]` rule draws becomes the **difference** branch minus plan, cell by cell
//!   (NaN where either has no data), drawn where it changed (by more than [`UNCHANGED`]) on a
//!   diverging ramp (blue lost, red gained) spanning the largest change either way, rounded up to 1, 2
//!   or 5 of a power of ten, with its legend; the plan's own map is not drawn under it;
//!
//! In every view, the **two summaries** next to each other (heads-up, bottom right): per map the mean of its cells
//!   with data, the share at or above the rule's midpoint, and the cells that changed; and, once a
//!   second, how many of the twins' numeric properties differ, with the largest difference.
//!
//! The branch is fed the same inputs: every message the plan accepts from its sources is copied into
//! the branch's inbox before the branch's tick ([`sangam_session::follow`]), so both twins see the same
//! live counts and KPIs and differ only by what the scenario's values do; copies a slow branch could
//! not take in time are counted and said in the summary. Cost: a second set of plugins, one message
//! clone per input; a difference map is made once per pair of maps; the twins are compared once a
//! second (one pass over both stores).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sangam_plugins::Raster;
use sangam_render::overlay::{HudCorner, HudText, Overlay};
use sangam_session::Session;
use sangam_session::branch::{self, ParamOverride};
use sangam_twin::{ColorRamp, HeatmapRule, Scene as TwinScene};

use crate::frontend::SiteSession;
use crate::panes::CompareView;

/// A cell that changed by at most this is drawn clear (and not counted as changed).
pub const UNCHANGED: f32 = 1e-4;

/// The smallest of 1, 2, 5 times a power of ten at or above `x` (`x` > 0).
fn nice(x: f64) -> f64 {
    let decade = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * decade).find(|v| *v >= x * (1.0 - 1e-12)).unwrap_or(10.0 * decade)
}

/// How often the twins' properties are compared.
const COMPARE_EVERY: Duration = Duration::from_secs(1);
const SUMMARY: [f32; 4] = [0.9, 0.95, 1.0, 1.0];

/// The branch beside the plan.
pub struct Comparison {
    /// The branch's name on screen: the scenario it runs, and the parameter panel's changes.
    pub scenario: String,
    /// The scenario's name (`--compare`; the panel's own branch: `what-if`).
    pub name: String,
    /// The scenario's values (the panel's changes go on top of them).
    pub overrides: Vec<ParamOverride>,
    /// The branch.
    pub core: Session,
    /// What the frame shows ([`crate::panes`]).
    pub view: CompareView,
    /// Whether the front end can split the frame (not XR).
    pub can_split: bool,
    diffs: RefCell<Vec<DiffEntry>>,
    twins: RefCell<(Option<Instant>, String)>,
}

/// One drawn map as a difference.
struct Difference<'s> {
    rule: &'s HeatmapRule,
    /// The frame's cache key.
    key: String,
    /// The plan's map.
    plan: Arc<Raster>,
    /// Branch minus plan, as an overlay frame.
    frame: Arc<sangam_plugins::OverlayFrame>,
    /// The pair's summary line.
    summary: String,
}

struct DiffEntry {
    key: String,
    plan: Arc<Raster>,
    branch: Arc<Raster>,
    frame: Arc<sangam_plugins::OverlayFrame>,
    summary: String,
}

/// `b - a` cell by cell, if the two maps share a grid (NaN where either has no data).
pub fn difference(a: &Raster, b: &Raster) -> Option<Raster> {
    let same_grid = a.columns == b.columns && a.rows == b.rows && a.origin == b.origin && a.cell_size == b.cell_size;
    if !same_grid || a.values.len() != b.values.len() {
        return None;
    }
    let values = a.values.iter().zip(&b.values).map(|(x, y)| y - x).collect();
    Some(Raster { values, time: a.time.max(b.time), ..a.clone() })
}

/// One map's summary: mean of the cells with data and the share at or above `threshold`.
fn summary(r: &Raster, threshold: f64) -> String {
    let data: Vec<f64> = r.values.iter().filter(|v| !v.is_nan()).map(|&v| f64::from(v)).collect();
    if data.is_empty() {
        return "no data".into();
    }
    let mean = data.iter().sum::<f64>() / data.len() as f64;
    let above = data.iter().filter(|&&v| v >= threshold).count() as f64 / r.values.len() as f64;
    format!("mean {mean:.2} {u}, {:.1} % >= {threshold:.0} {u}", 100.0 * above, u = r.unit)
}

impl Comparison {
    /// Forks `plan` (running `twin`) into a branch with scenario `name`'s values.
    /// The plan copies its inputs for the branch from now on ([`Comparison::tick`]).
    pub fn start(twin: &TwinScene, plan: &mut Session, name: &str) -> Result<Comparison> {
        let overrides: Vec<ParamOverride> = ParamOverride::of_scenario(name, twin)?;
        let core = plan.fork(twin, name, &overrides).with_context(|| format!("--compare {name}"))?;
        plan.copy_inputs();
        Ok(Comparison::of(name, name, overrides, core))
    }

    /// A comparison with branch `core` (forked from the plan, which copies its inputs for it),
    /// running scenario `name`'s `overrides`, shown as `label`.
    pub fn of(label: &str, name: &str, overrides: Vec<ParamOverride>, core: Session) -> Comparison {
        Comparison {
            scenario: label.to_string(),
            name: name.to_string(),
            overrides,
            core,
            view: CompareView::Split,
            can_split: true,
            diffs: RefCell::default(),
            twins: RefCell::new((None, String::new())),
        }
    }

    /// The branch forked again (the parameter panel's change): `core` runs from now, shown as `label`.
    pub fn replace(&mut self, label: &str, core: Session) {
        self.scenario = label.to_string();
        self.core = core;
        self.diffs.borrow_mut().clear();
        *self.twins.borrow_mut() = (None, String::new());
    }

    /// One frame of the branch, after the plan's tick: what the plan accepted goes into the branch's
    /// inbox, then the branch ticks with the same real time.
    pub fn tick(&mut self, plan: &mut Session, dt: Duration) {
        self.core.follow(plan);
        self.core.tick(dt);
    }

    /// Whether rule `rule`'s map is shown as a difference (so the plan's own is not drawn).
    pub fn shows(&self, plan: &Session, rule: &HeatmapRule) -> bool {
        let of = |s: &Session| s.rasters().any(|(id, r)| id == rule.plugin && r.layer == rule.layer);
        of(plan) && of(&self.core)
    }

    /// Each drawn map beside its branch's (made once per pair of maps).
    fn differences<'s>(&self, session: &'s SiteSession) -> Vec<Difference<'s>> {
        let mut out = Vec::new();
        for rule in &session.site.twin.heatmaps {
            let find = |s: &Session| {
                s.rasters().find(|(id, r)| *id == rule.plugin && r.layer == rule.layer).map(|(_, r)| r.clone())
            };
            let (Some(plan), Some(branch)) = (find(&session.core), find(&self.core)) else { continue };
            let key = format!("{}\u{1f}difference\u{1f}{}", rule.plugin, rule.layer);
            let heights = crate::site_maps::heights_of(&session.core, rule);
            if let Some((frame, summary)) = self.difference_frame(&key, &plan, &branch, rule, heights) {
                out.push(Difference { rule, key, plan, frame, summary });
            }
        }
        out
    }

    /// Adds the difference maps and their legends.
    pub fn add_differences(&self, overlay: &mut Overlay, session: &SiteSession) {
        let pose = *session.interaction.twin_pose();
        for Difference { rule, key, plan, frame, .. } in self.differences(session) {
            overlay.layers.push(session.overlay_frames.get(&key, &frame, &pose));
            let span = frame.heatmaps.first().map_or(1.0, |h| f64::from(h.max));
            let legend = sangam_twin::ColorRule {
                kind: format!("{} - plan", self.scenario),
                property: format!("difference of {}", rule.layer),
                min: -span,
                max: span,
                ramp: ColorRamp::Diverging,
                reverse: false,
                label: false,
            };
            let unit = if plan.unit == "dBm" { "dB".to_string() } else { plan.unit.clone() };
            overlay.hud.extend(crate::live_colors::legend(&legend, &unit));
        }
    }

    /// Adds the two summaries, side by side in one block: per map, plan | branch.
    pub fn add_summaries(&self, overlay: &mut Overlay, session: &SiteSession) {
        let mut lines = vec![format!("plan | {}", self.scenario)];
        lines.extend(self.differences(session).into_iter().map(|d| d.summary));
        let mut twins = self.twins.borrow_mut();
        if twins.0.is_none_or(|t| t.elapsed() >= COMPARE_EVERY) {
            let diff = branch::compare(session.core.store(), self.core.store());
            twins.1 = match &diff.largest {
                Some((entity, property, delta)) => format!(
                    "{} of {} properties differ; largest {entity} {property}: {delta:.3}",
                    diff.differences.len(),
                    diff.compared
                ),
                None => format!("the twins agree ({} properties)", diff.compared),
            };
            twins.0 = Some(Instant::now());
        }
        lines.push(twins.1.clone());
        let dropped = session.core.input_copies_dropped();
        if dropped > 0 {
            lines.push(format!("the branch missed {dropped} inputs (its adapters fell behind the plan's)"));
        }
        overlay.hud.push(HudText { text: lines.join("\n"), corner: HudCorner::BottomRight, color: SUMMARY });
    }

    /// The difference of a pair of maps as an overlay frame and the pair's summary line, made once per
    /// pair.
    fn difference_frame(
        &self,
        key: &str,
        plan: &Arc<Raster>,
        branch: &Arc<Raster>,
        rule: &HeatmapRule,
        heights: Option<Arc<Raster>>,
    ) -> Option<(Arc<sangam_plugins::OverlayFrame>, String)> {
        let mut diffs = self.diffs.borrow_mut();
        if let Some(e) = diffs.iter().find(|e| e.key == key)
            && Arc::ptr_eq(&e.plan, plan)
            && Arc::ptr_eq(&e.branch, branch)
        {
            return Some((e.frame.clone(), e.summary.clone()));
        }
        let delta = difference(plan, branch)?;
        let changed = delta.values.iter().filter(|v| v.abs() > UNCHANGED).count();
        let largest = delta.values.iter().filter(|v| !v.is_nan()).fold(0.0f32, |m, v| m.max(v.abs()));
        let span = nice(f64::from(largest).max(1e-3));
        let diverging = HeatmapRule { min: -span, max: span, ramp: ColorRamp::Diverging, ..rule.clone() };
        // Only what changed is drawn: the rest of the site stays as it is.
        let shown = Raster {
            values: delta.values.iter().map(|&v| if v.abs() > UNCHANGED { v } else { f32::NAN }).collect(),
            ..delta
        };
        let frame = Arc::new(crate::site_maps::heatmap_frame(&shown, &diverging, heights.as_deref()));
        let midpoint = (rule.min + rule.max) / 2.0;
        let summary = format!(
            "{}: {} | {}; {changed} cells changed",
            rule.layer,
            summary(plan, midpoint),
            summary(branch, midpoint)
        );
        diffs.retain(|e| e.key != key);
        diffs.push(DiffEntry {
            key: key.to_string(),
            plan: plan.clone(),
            branch: branch.clone(),
            frame: frame.clone(),
            summary: summary.clone(),
        });
        Some((frame, summary))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn raster(values: Vec<f32>) -> Raster {
        Raster {
            layer: "radio.rsrp".into(),
            unit: "dBm".into(),
            origin: [0.0, 0.0, 1.5],
            cell_size: 10.0,
            columns: 2,
            rows: 2,
            values,
            time: 0,
        }
    }

    #[test]
    fn a_difference_is_cell_by_cell_with_no_data_where_either_has_none_and_needs_one_grid() {
        let a = raster(vec![-90.0, -100.0, f32::NAN, -80.0]);
        let b = raster(vec![-88.5, -100.0, -70.0, f32::NAN]);
        let d = difference(&a, &b).unwrap();
        assert_eq!(&d.values[..2], &[1.5, 0.0]);
        assert!(d.values[2].is_nan() && d.values[3].is_nan());
        let moved = Raster { origin: [10.0, 0.0, 1.5], ..b };
        assert!(difference(&a, &moved).is_none(), "maps of two grids are not subtracted");
        assert_eq!(summary(&a, -95.0), "mean -90.00 dBm, 50.0 % >= -95 dBm");
        assert_eq!([nice(0.07), nice(0.3), nice(1.0), nice(7.5), nice(12.0)], [0.1, 0.5, 1.0, 10.0, 20.0]);
    }

    /// The demo beside scenario `name`, run until both have their RSRP map; with both maps.
    pub(crate) fn demo_beside(name: &str) -> (SiteSession, Arc<Raster>, Arc<Raster>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        let mut session = SiteSession::load(&path).unwrap();
        session.compare(name).unwrap();
        let rsrp = |s: &Session| {
            s.rasters().find(|(id, r)| *id == "coverage" && r.layer == "radio.rsrp").map(|(_, r)| r.clone())
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let input = crate::interaction::InputFrame { dt: Duration::from_millis(50), ..Default::default() };
            session.frame(&input);
            let branch = session.comparison.as_ref().and_then(|c| rsrp(&c.core));
            if let (Some(a), Some(b)) = (rsrp(&session.core), branch) {
                return (session, a, b);
            }
            assert!(Instant::now() < deadline, "no maps from both branches within 60 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_demo_beside_its_tilt_scenario_shows_the_difference_map_and_both_summaries() {
        let (mut session, plan, branch) = demo_beside("tilt-plus-2");
        let e = Comparison::start(&session.site.twin, &mut session.core, "flood").err().unwrap();
        assert!(format!("{e:#}").contains("no scenario `flood`"), "{e:#}");
        // V (the window) or the right stick click (XR): from the split to the differences.
        let input = crate::interaction::InputFrame { next_compare_view: true, ..Default::default() };
        session.frame(&input);
        assert_eq!(session.comparison.as_ref().unwrap().view, CompareView::Difference);
        let overlay = crate::overlay_compose::compose(&session, None);
        let heatmaps: Vec<_> = overlay.layers.iter().flat_map(|l| &l.heatmaps).collect();
        assert_eq!(heatmaps.len(), 1, "the difference, not the plan's map under it");
        let h = heatmaps[0];
        let mut changed = 0;
        let mut largest = 0.0f32;
        for ((d, a), b) in h.values.iter().zip(&plan.values).zip(&branch.values) {
            if a.is_nan() || b.is_nan() || (b - a).abs() <= UNCHANGED {
                assert!(d.is_nan(), "no data, or unchanged: drawn clear");
            } else {
                assert_eq!(*d, b - a);
                changed += 1;
                largest = largest.max(d.abs());
            }
        }
        assert!(
            h.max >= largest && h.max < 2.5 * largest && h.min == -h.max,
            "{} for a largest change of {largest}",
            h.max
        );
        // Sector 2 of the ground site changes where it serves; the rest of the site does not.
        assert!(changed > 0 && changed < h.values.len() / 2, "{changed} of {} cells changed", h.values.len());
        let summary = overlay.hud.iter().find(|t| t.text.starts_with("plan | tilt-plus-2")).expect("the summaries");
        assert!(
            summary.text.contains("radio.rsrp: mean") && summary.text.contains(&format!("{changed} cells changed")),
            "{}",
            summary.text
        );
        assert!(
            overlay.hud.iter().any(|t| t.text == "difference of radio.rsrp [dB] (tilt-plus-2 - plan)"),
            "its legend"
        );
    }

    #[test]
    fn the_branch_gets_the_plan_s_live_counts_and_its_closed_road_carries_none_of_them() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        let mut session = SiteSession::load(&path).unwrap();
        session.comparison =
            Some(Comparison::start(&session.site.twin, &mut session.core, "ring-road-closed").unwrap());
        // The feed's counts for each segment, offered to the plan only (as its MQTT source does).
        let segments: Vec<_> =
            session.site.twin.entities.iter().filter(|e| e.kind == "road.segment").map(|e| e.id.to_string()).collect();
        assert_eq!(segments.len(), 6);
        for segment in &segments {
            let payload = format!(r#"{{"segment":"{segment}","count":1200,"interval_s":3600,"lanes_open":2}}"#);
            let message = sangam_session::Message {
                source: format!("sangam/new-delhi-ina/traffic/{segment}"),
                content_type: "application/json".into(),
                received: session.core.time().clock().now(),
                payload: payload.into_bytes(),
            };
            session.core.offer("traffic", message).unwrap();
        }
        let ring = sangam_twin::EntityId::new("road/ring-road-1");
        let value = |s: &Session, property: &str| s.store().latest(&ring, property).and_then(|(_, v)| v.as_f64());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let input = crate::interaction::InputFrame { dt: Duration::from_millis(250), ..Default::default() };
            session.frame(&input);
            let branch = &session.comparison.as_ref().unwrap().core;
            let plan_density = value(&session.core, "flow.density");
            if value(branch, "traffic.flow").is_some()
                && plan_density.is_some_and(|d| d > 0.0)
                && let Some(closed) = value(branch, "flow.density")
            {
                // The same count reached both twins; in the branch the closed road stays empty.
                assert_eq!(value(branch, "traffic.flow"), value(&session.core, "traffic.flow"));
                assert_eq!(closed, 0.0, "a closed road carries nothing (plan: {plan_density:?} veh/km)");
                break;
            }
            assert!(Instant::now() < deadline, "no counts and densities in both branches within 60 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(session.core.input_copies_dropped(), 0);
    }

    #[test]
    fn the_selected_site_s_chart_draws_both_scenarios_histories_in_one_axes() {
        let (mut session, _, _) = demo_beside("tilt-plus-2");
        let site = session.site.twin.placement("tower-ground-1").unwrap().position;
        let ray = crate::interaction::pick::Ray::new(site + glam::DVec3::new(0.0, 0.0, 200.0), -glam::DVec3::Z);
        let pick = crate::interaction::InputFrame { pointer: ray, select: true, ..Default::default() };
        session.frame(&pick);
        let picked = session.interaction.selection().and_then(|s| s.entity.clone());
        assert_eq!(picked.as_ref().map(|e| e.as_str()), Some("site-tower-ground-1"));
        // A few more steps, so both twins hold some history.
        for _ in 0..40 {
            session.frame(&crate::interaction::InputFrame { dt: Duration::from_millis(50), ..Default::default() });
        }
        let orange = [1.0, 0.6, 0.15, 1.0];
        for view in [CompareView::Plan, CompareView::Branch] {
            session.comparison.as_mut().unwrap().view = view;
            let overlay = crate::overlay_compose::compose(&session, None);
            let theirs = overlay.lines.iter().filter(|l| l.color == orange).count();
            assert_eq!(theirs, 1, "{view:?}: the other twin's history beside this one's");
            let (own, other) =
                if view == CompareView::Plan { ("plan", "tilt-plus-2") } else { ("tilt-plus-2", "plan") };
            let title = format!("{own}: cyan, {other}: orange");
            assert!(overlay.labels.iter().any(|l| l.text.ends_with(&title)), "{view:?}: the chart says which is which");
        }
    }
}
