//! What each part of a frame shows. Alone, a site is one pane: the whole frame, the plan's twin. Beside
//! a second scenario (`--compare`) the frame is what the comparison's [`CompareView`] says: the plan
//! on the left and the branch on the right, each with its own maps, live colours, labels and alerts
//! from the same camera (window and headless); or one view of the differences, of the plan or of the
//! branch (every front end; XR's two eyes see one world, so it toggles instead of splitting). `V` in
//! the window and the right thumbstick click in XR go to the next view.
//!
//! [`draw`] renders a frame's panes into a target, each into its region
//! ([`sangam_render::gpu::Renderer::render_region_with_overlay`]). Cost: a split frame is two passes
//! over the scene, each culled for its half.

use anyhow::Result;
use sangam_render::gpu::{FrameStats, GpuScene, Region, RenderTarget, Renderer};

use crate::frontend::SiteSession;

/// What a frame beside a second scenario shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompareView {
    /// The plan left, the branch right (not in XR).
    #[default]
    Split,
    /// One view: the plan's twin with each map replaced by the difference branch minus plan.
    Difference,
    /// One view: the plan.
    Plan,
    /// One view: the branch.
    Branch,
}

impl CompareView {
    /// The next view; `split` is whether the front end can split (not XR).
    pub fn next(self, split: bool) -> CompareView {
        match self {
            CompareView::Split => CompareView::Difference,
            CompareView::Difference => CompareView::Plan,
            CompareView::Plan => CompareView::Branch,
            CompareView::Branch if split => CompareView::Split,
            CompareView::Branch => CompareView::Difference,
        }
    }

    /// In words, for the heads-up display.
    pub fn describe(self, scenario: &str) -> String {
        match self {
            CompareView::Split => format!("split: plan | {scenario}"),
            CompareView::Difference => format!("differences: {scenario} - plan"),
            CompareView::Plan => "plan".to_string(),
            CompareView::Branch => format!("scenario {scenario}"),
        }
    }
}

/// Which twin a pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Twin {
    /// The session as run.
    Plan,
    /// The branch beside it (`--compare`).
    Branch,
}

/// One part of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pane {
    /// The twin it shows.
    pub twin: Twin,
    /// Its maps as differences, branch minus plan.
    pub difference: bool,
    /// The left (0) or right (1) half of the frame; `None`: all of it.
    pub half: Option<u32>,
    /// The first pane of the frame: it carries the frame's timing line and the sources' states.
    pub first: bool,
    /// It carries the comparison's summaries (the last pane).
    pub summaries: bool,
}

impl Pane {
    /// The whole frame showing `twin`.
    pub fn whole(twin: Twin, difference: bool) -> Pane {
        Pane { twin, difference, half: None, first: true, summaries: true }
    }

    /// Where in `target` it is drawn.
    pub fn region(&self, target: &RenderTarget) -> Region {
        self.half.map_or_else(|| Region::whole(target), |i| Region::half(target, i))
    }
}

/// The panes of this frame.
pub fn panes(session: &SiteSession) -> Vec<Pane> {
    let Some(comparison) = &session.comparison else {
        return vec![Pane { summaries: false, ..Pane::whole(Twin::Plan, false) }];
    };
    match comparison.view {
        CompareView::Split => vec![
            Pane { twin: Twin::Plan, difference: false, half: Some(0), first: true, summaries: false },
            Pane { twin: Twin::Branch, difference: false, half: Some(1), first: false, summaries: true },
        ],
        CompareView::Difference => vec![Pane::whole(Twin::Plan, true)],
        CompareView::Plan => vec![Pane::whole(Twin::Plan, false)],
        CompareView::Branch => vec![Pane::whole(Twin::Branch, false)],
    }
}

/// Renders this frame's panes of `session` into `target` from its camera, `stats` on the first pane,
/// and submits the work. Returns the frame's totals (draws, instances and encode time summed; the
/// newest GPU time).
pub fn draw(
    renderer: &mut Renderer,
    gpu: &GpuScene,
    session: &SiteSession,
    stats: Option<&str>,
    target: &RenderTarget,
) -> Result<FrameStats> {
    draw_with(renderer, gpu, session, stats, target, true)
}

/// [`draw`], without the heads-up text unless `hud`.
fn draw_with(
    renderer: &mut Renderer,
    gpu: &GpuScene,
    session: &SiteSession,
    stats: Option<&str>,
    target: &RenderTarget,
    hud: bool,
) -> Result<FrameStats> {
    let mut total = FrameStats::default();
    for pane in panes(session) {
        let region = pane.region(target);
        let view = session.interaction.camera.view(region.aspect());
        let mut overlay = crate::overlay_compose::compose_pane(session, pane, stats.filter(|_| pane.first));
        if !hud {
            overlay.hud.clear();
        }
        let s = renderer.render_region_with_overlay(gpu, &overlay, &[view], target, region)?;
        total.cpu_encode_time += s.cpu_encode_time;
        total.draw_calls += s.draw_calls;
        total.instances_drawn += s.instances_drawn;
        total.instances_culled += s.instances_culled;
        total.triangles += s.triangles;
        total.overlay_primitives += s.overlay_primitives;
        total.multiview |= s.multiview;
        total.gpu_time = s.gpu_time.or(total.gpu_time);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_cycle_and_xr_skips_the_split() {
        let mut v = CompareView::Split;
        let mut seen = vec![v];
        for _ in 0..4 {
            v = v.next(true);
            seen.push(v);
        }
        use CompareView::*;
        assert_eq!(seen, [Split, Difference, Plan, Branch, Split]);
        assert_eq!(Branch.next(false), Difference, "no split where the eyes see one world");
        assert_eq!(Difference.describe("tilt"), "differences: tilt - plan");
    }

    /// Pixels of `a` and `b` that differ by more than 2 in any channel.
    fn differing(a: &image::RgbaImage, b: &image::RgbaImage) -> usize {
        let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
        let mut n = 0;
        for y in 0..h {
            for x in 0..w {
                let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
                n += usize::from(p.iter().zip(q).any(|(u, v)| u.abs_diff(v) > 2));
            }
        }
        n
    }

    #[test]
    fn a_split_frame_is_the_plan_on_the_left_and_the_branch_on_the_right_each_as_it_is_alone() {
        let (mut session, plan, branch) = crate::compare::tests::demo_beside("tilt-plus-2");
        // Each half's overlay holds its own twin's map.
        let panes = panes(&session);
        assert_eq!(panes.len(), 2);
        for (pane, raster) in panes.iter().zip([&plan, &branch]) {
            let overlay = crate::overlay_compose::compose_pane(&session, *pane, None);
            let maps: Vec<_> = overlay.layers.iter().flat_map(|l| &l.heatmaps).collect();
            assert_eq!(maps.len(), 1, "{pane:?}");
            let same = maps[0].values.iter().zip(&raster.values).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "{pane:?} draws its own twin's map");
        }
        // Looking down on where the retilt changes the map most within the colour ramp's range (nearer
        // the mast both are past its top, the same colour).
        let (cell, _) = plan
            .values
            .iter()
            .zip(&branch.values)
            .map(|(a, b)| if (-115.0..-65.0).contains(a) && (-115.0..-65.0).contains(b) { (b - a).abs() } else { 0.0 })
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap();
        let (column, row) = ((cell % plan.columns as usize) as f64, (cell / plan.columns as usize) as f64);
        let at = glam::DVec3::new(
            plan.origin[0] + (column + 0.5) * plan.cell_size,
            plan.origin[1] + (row + 0.5) * plan.cell_size,
            0.0,
        );
        session.interaction.camera = crate::interaction::camera::Camera::looking_at(
            at + glam::DVec3::new(0.0, -60.0, 250.0),
            at,
            60f64.to_radians(),
        );
        let mut renderer = Renderer::new_headless().expect("a GPU adapter (lavapipe in CI)");
        let gpu = renderer.upload(&session.site.scene).unwrap();
        let (w, h) = (400, 200);
        // Without the heads-up text, which says which view it is and sits over the middle at this size.
        let render = |renderer: &mut Renderer, session: &SiteSession, width: u32| {
            let target = RenderTarget::new(renderer, width, h, 1).unwrap();
            draw_with(renderer, &gpu, session, None, &target, false).unwrap();
            renderer.read_back(&target).unwrap().remove(0)
        };
        let split = render(&mut renderer, &session, w);
        let half = |x0: u32| image::imageops::crop_imm(&split, x0, 0, w / 2, h).to_image();
        let (left, right) = (half(0), half(w / 2));
        let mut alone = |view: CompareView| {
            session.comparison.as_mut().unwrap().view = view;
            render(&mut renderer, &session, w / 2)
        };
        let (plan_alone, branch_alone) = (alone(CompareView::Plan), alone(CompareView::Branch));
        assert!(renderer.take_uncaptured_errors().is_empty());
        let dir = std::env::temp_dir().join("sangam-split-test");
        let _ = std::fs::create_dir_all(&dir);
        for (name, img) in [("split", &split), ("plan", &plan_alone), ("branch", &branch_alone)] {
            let _ = img.save(dir.join(format!("{name}.png")));
        }
        assert_eq!(differing(&left, &plan_alone), 0, "the left half is the plan as drawn alone ({})", dir.display());
        assert_eq!(differing(&right, &branch_alone), 0, "the right half is the branch as drawn alone");
        let changed = differing(&left, &right);
        assert!(changed > 0, "the retilt shows: the halves differ");
        assert!(changed < (w / 2 * h / 4) as usize, "in the retilted sector's part of the map only: {changed} pixels");
    }
}
