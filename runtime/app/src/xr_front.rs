//! The XR front end: the loaded site in an OpenXR session (`sangam run SCENE --xr`).
//!
//! [`SiteXrApp`] implements [`sangam_xr::XrApp`]: the site's scene is uploaded on the runtime's device
//! before the first frame; every frame the controllers become an [`InputFrame`] for the shared
//! [`Interaction`](crate::interaction::Interaction) (the same logic the window uses), and the stage is
//! placed in the world so the wearer stands where the site's first camera looks.
//!
//! Controller mapping (the actions `sangam-xr` binds on every supported profile: aim pose, grip pose,
//! select): the right hand points and selects (an entity's inspector is printed, the controller ticks);
//! the left hand's select, on release, teleports to where its ray meets the twin or the ground.
//! Squeezing grabs the whole twin: one hand moves it and turns it about the vertical, two hands also
//! scale it (pull apart to enlarge, push together to shrink it to a tabletop model). On controllers
//! with face buttons and thumbsticks: right A plays/pauses time, right B switches walk-through and
//! tabletop, the right thumbstick scrubs time; left X jumps back to live time, left Y picks the next
//! layer and a left thumbstick click shows or hides it (the HUD names the layer). On the simple
//! controller the menu button plays/pauses (right) or goes live (left). Beside a second scenario
//! (`--compare`) the right thumbstick click goes to the next view: the differences, the plan, the
//! branch (both eyes always see the same one; no split). The left thumbstick works the parameter panel
//! (up and down choose a parameter, left and right change it; [`crate::param_panel`]). A see-through runtime (AR on
//! site) hides sky and ground so the twin sits over the real world.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Result;
use glam::{DMat4, DQuat, DVec3};
use sangam_render::gpu::{GpuScene, Renderer};
use sangam_render::overlay::Overlay;
use sangam_xr::{FrameControl, Hand, HapticPulse, InputState, SessionInfo, XrApp, XrError, XrFrame, XrOptions};

use crate::frontend::{RunArgs, SiteSession, XrEnd};
use crate::interaction::camera::wrap_angle;
use crate::interaction::pick::Ray;
use crate::interaction::twin_pose::GrabDelta;
use crate::interaction::{InputFrame, InteractionEvent};

/// Whether an OpenXR runtime with a headset and Vulkan support is active: `Ok(runtime and headset)`
/// or `Err(why not)`, for [`crate::frontend::choose`].
pub fn probe() -> Result<String, String> {
    match sangam_xr::probe() {
        Ok(info) if info.usable() => {
            Ok(format!("{} with {}", info.runtime, info.headset.as_deref().unwrap_or("a headset")))
        }
        Ok(info) if info.headset.is_none() => Err(format!("{} is active but no headset is connected", info.runtime)),
        Ok(info) => Err(format!("{} does not offer Vulkan (XR_KHR_vulkan_enable2), which Sangam needs", info.runtime)),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the site in an OpenXR session until the runtime ends it, or for `args.frames` frames. When
/// the runtime is lost, refuses the session or offers no usable swapchain format, the site is handed
/// back ([`XrEnd::Lost`]) so another front end can go on with it.
pub fn run(session: SiteSession, args: &RunArgs) -> Result<XrEnd> {
    let options = XrOptions {
        app_name: format!("Sangam: {}", session.site.twin.name),
        max_frames: args.frames,
        resolution_scale: args.resolution_scale,
        stall_limit: Some(Duration::from_secs(10)),
        ..XrOptions::default()
    };
    let mut app = SiteXrApp::new(session);
    let summary = match sangam_xr::run(options, &mut app) {
        Ok(summary) => summary,
        Err(
            e @ (XrError::RuntimeLost { .. }
            | XrError::SessionRefused { .. }
            | XrError::NoSwapchainFormat { .. }
            | XrError::NoRuntime { .. }
            | XrError::NoHeadset { .. }),
        ) => {
            eprintln!("sangam: {e}");
            return Ok(XrEnd::Lost { session: Box::new(app.session), reason: e.to_string() });
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "xr: {} on {} ({}), {}x{} per eye, {} space, blend {:?}; {} frames submitted",
        summary.info.system,
        summary.info.runtime,
        summary.info.adapter.name,
        summary.info.eye_size.0,
        summary.info.eye_size.1,
        summary.info.reference_space,
        summary.info.blend_mode,
        summary.timing.frames,
    );
    if args.stats {
        println!("stats: {}", summary.timing);
        println!("stats: app update {}", crate::frontend::TimeStats::of(app.update_times.make_contiguous()));
        for line in app.session.core.status_lines() {
            println!("stats: {line}");
        }
    }
    if let Some(path) = &args.stats_json {
        crate::frontend::write_stats_json(&app.session.core, path)?;
    }
    if !summary.wgpu_errors.is_empty() {
        anyhow::bail!("wgpu reported errors during the XR session: {}", summary.wgpu_errors.join("; "));
    }
    Ok(XrEnd::Finished)
}

/// The site as an OpenXR application.
pub struct SiteXrApp {
    session: SiteSession,
    scene: Option<GpuScene>,
    /// Where the stage stands in the world (yaw about world up, then translation).
    stage: StagePlacement,
    previous: Option<Instant>,
    /// CPU time of the latest [`XrApp::update`]s (input mapping, interaction, plugin tick, overlay), at
    /// most [`crate::frontend::TIMER_WINDOW`].
    pub update_times: VecDeque<Duration>,
    /// Interaction events of the whole session, in order (what the wearer did).
    pub events: Vec<InteractionEvent>,
    overlay: Overlay,
    grab: HandGrab,
    /// The layer the left hand's Y / thumbstick click acts on.
    layer_cursor: usize,
    /// Until when the HUD names that layer (after it was picked or toggled).
    layer_hint_until: Option<Instant>,
    /// The left thumbstick came back to the centre since its last push (one push, one panel step).
    left_stick_centred: bool,
}

/// Thumbstick deflection below this is ignored (sticks rest slightly off centre).
const STICK_DEAD_ZONE: f64 = 0.2;
/// Twin seconds scrubbed per wall-clock second with the right thumbstick fully over.
const SCRUB_RATE: f64 = 300.0;
/// How long the HUD names the picked layer.
const LAYER_HINT: Duration = Duration::from_secs(3);

/// Two hands closer than this (metres) do not scale: their distance is too noisy to divide by.
const MIN_TWO_HAND_SPAN: f64 = 0.05;

/// Turns squeezing hands into grabs of the whole twin, frame by frame.
///
/// Each frame compares the squeezing hands' grip poses (in the world) with the previous frame's. One
/// hand: the twin follows its movement and its turn about the vertical (the twin stays upright). Two
/// hands: it follows their midpoint, the turn of the line between them about the vertical, and the
/// change of their distance as scale. When a hand starts or stops squeezing the next frame starts a
/// new grab, so the twin never jumps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HandGrab {
    /// Last frame's world grip pose of each squeezing hand (left, right).
    previous: [Option<(DVec3, DQuat)>; 2],
}

/// The rotation angle of `q` about world Z (its twist about the vertical), radians.
fn yaw_of(q: DQuat) -> f64 {
    2.0 * q.z.atan2(q.w)
}

impl HandGrab {
    /// This frame's grab from the squeezing hands' world grip poses (None for a hand not squeezing or
    /// not tracked). Returns no delta on the first frame of a grab or when the set of hands changed.
    pub fn update(&mut self, hands: [Option<(DVec3, DQuat)>; 2]) -> Option<GrabDelta> {
        let previous = std::mem::replace(&mut self.previous, hands);
        match (previous, hands) {
            ([Some(l0), Some(r0)], [Some(l1), Some(r1)]) => {
                let (span0, span1) = (r0.0 - l0.0, r1.0 - l1.0);
                let (mid0, mid1) = ((l0.0 + r0.0) * 0.5, (l1.0 + r1.0) * 0.5);
                let (flat0, flat1) = (span0.truncate(), span1.truncate());
                let turn = if flat0.length() >= MIN_TWO_HAND_SPAN && flat1.length() >= MIN_TWO_HAND_SPAN {
                    wrap_angle(flat1.y.atan2(flat1.x) - flat0.y.atan2(flat0.x))
                } else {
                    0.0
                };
                let scale = if span0.length() >= MIN_TWO_HAND_SPAN && span1.length() >= MIN_TWO_HAND_SPAN {
                    span1.length() / span0.length()
                } else {
                    1.0
                };
                Some(GrabDelta { pivot: mid0, translation: mid1 - mid0, rotation: DQuat::from_rotation_z(turn), scale })
            }
            ([Some(a0), None], [Some(a1), None]) | ([None, Some(a0)], [None, Some(a1)]) => {
                let turn = wrap_angle(yaw_of(a1.1 * a0.1.inverse()));
                Some(GrabDelta {
                    pivot: a0.0,
                    translation: a1.0 - a0.0,
                    rotation: DQuat::from_rotation_z(turn),
                    scale: 1.0,
                })
            }
            _ => None,
        }
        .filter(GrabDelta::is_valid)
    }
}

/// The stage's placement in the world: the wearer's floor origin and heading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StagePlacement {
    /// World position of the stage origin (on the ground).
    pub origin: DVec3,
    /// Rotation about world up, radians counter-clockwise (glam's `from_rotation_z`).
    pub yaw: f64,
}

impl StagePlacement {
    /// Standing on the ground below `eye`, facing the horizontal direction of `forward` (the stage's +Y,
    /// which is where OpenXR's -Z points in Sangam's Z-up stage frame).
    pub fn standing_below(eye: DVec3, forward: DVec3, ground_z: f64) -> StagePlacement {
        let heading = if forward.truncate().length_squared() > 1e-12 { forward } else { DVec3::Y };
        // Stage +Y (forward) rotated by yaw must point along the heading: yaw = atan2(-x, y).
        let yaw = (-heading.x).atan2(heading.y);
        StagePlacement { origin: DVec3::new(eye.x, eye.y, ground_z), yaw }
    }

    /// The stage-to-world transform.
    pub fn world_from_stage(&self) -> DMat4 {
        DMat4::from_rotation_translation(DQuat::from_rotation_z(self.yaw), self.origin)
    }
}

/// A left-stick deflection past this is a push (a panel step).
const STICK_PUSH: f64 = 0.7;
/// Under this the left stick is back at the centre.
const STICK_CENTRED: f64 = 0.3;

impl SiteXrApp {
    /// An app for a loaded site; the stage starts below the site's first camera, facing its view.
    pub fn new(mut session: SiteSession) -> SiteXrApp {
        if let Some(c) = session.comparison.as_mut() {
            // Both eyes see one world: a comparison toggles between whole views, starting with the
            // differences.
            c.can_split = false;
            if c.view == crate::panes::CompareView::Split {
                c.view = crate::panes::CompareView::Difference;
            }
        }
        session.panel.can_split = false;
        let camera = &session.interaction.camera;
        // The twin's ground is z = 0 (the site origin's altitude).
        let ground = 0.0;
        let stage = StagePlacement::standing_below(camera.eye, camera.forward(), ground);
        SiteXrApp {
            session,
            scene: None,
            stage,
            previous: None,
            update_times: VecDeque::new(),
            events: Vec::new(),
            overlay: Overlay::default(),
            grab: HandGrab::default(),
            layer_cursor: 0,
            layer_hint_until: None,
            left_stick_centred: true,
        }
    }

    /// The stage placement now.
    pub fn stage(&self) -> StagePlacement {
        self.stage
    }

    /// The input frame for this XR frame: rays from the controllers' aim poses and the grab of the
    /// squeezing hands, in the world.
    pub fn input_frame(&mut self, input: &InputState, dt: Duration) -> InputFrame {
        let world_from_stage = self.stage.world_from_stage();
        let ray = |hand: Hand| {
            input.hand(hand).aim.and_then(|aim| {
                let origin = world_from_stage.transform_point3(aim.position);
                let direction = world_from_stage.transform_vector3(aim.forward());
                Ray::new(origin, direction)
            })
        };
        let right = input.hand(Hand::Right);
        let left = input.hand(Hand::Left);
        let mut frame = InputFrame { dt, ..Default::default() };
        if left.select_released {
            // Teleport along the left ray (the right hand keeps pointing otherwise).
            frame.pointer = ray(Hand::Left);
            frame.teleport = frame.pointer.is_some();
        } else {
            frame.pointer = ray(Hand::Right);
            frame.select = right.select_pressed && frame.pointer.is_some();
        }
        let (_, stage_rotation, _) = world_from_stage.to_scale_rotation_translation();
        let squeezing = |hand: Hand| {
            let h = input.hand(hand);
            h.squeeze
                .then_some(h.grip)
                .flatten()
                .map(|grip| (world_from_stage.transform_point3(grip.position), stage_rotation * grip.orientation))
        };
        frame.grab = self.grab.update([squeezing(Hand::Left), squeezing(Hand::Right)]);
        // Time and modes.
        frame.play_pause = right.primary_pressed;
        frame.go_live = left.primary_pressed;
        frame.toggle_tabletop = right.secondary_pressed;
        frame.next_compare_view = right.thumbstick_pressed;
        let stick = right.thumbstick.x;
        if stick.abs() > STICK_DEAD_ZONE {
            // Past the dead zone the rate grows from 0 to full, so small deflections scrub finely.
            let over = (stick.abs() - STICK_DEAD_ZONE) / (1.0 - STICK_DEAD_ZONE);
            frame.scrub_seconds = stick.signum() * over * over * SCRUB_RATE * dt.as_secs_f64();
        }
        // The parameter panel: each push of the left stick past 0.7 is one step (up and down choose,
        // left and right change); it must come back under 0.3 before the next.
        let push = left.thumbstick;
        if self.left_stick_centred && push.abs().max_element() > STICK_PUSH {
            self.left_stick_centred = false;
            frame.panel.reveal = true;
            if push.y.abs() >= push.x.abs() {
                frame.panel.choose = if push.y > 0.0 { -1 } else { 1 };
            } else {
                frame.panel.change = if push.x > 0.0 { 1 } else { -1 };
            }
        } else if push.abs().max_element() < STICK_CENTRED {
            self.left_stick_centred = true;
        }
        // Layers.
        let layers = self.session.interaction.layers().count();
        if layers > 0 {
            if left.secondary_pressed {
                self.layer_cursor = (self.layer_cursor + 1) % layers;
                self.layer_hint_until = Some(Instant::now() + LAYER_HINT);
            }
            if left.thumbstick_pressed {
                frame.toggle_layer = Some(self.layer_cursor.min(layers - 1));
                self.layer_hint_until = Some(Instant::now() + LAYER_HINT);
            }
        }
        frame
    }

    /// The HUD's layer hint while one is due: the picked layer, whether it shows, and the controls.
    fn layer_hint(&self) -> Option<String> {
        if self.layer_hint_until.is_none_or(|until| Instant::now() > until) {
            return None;
        }
        let count = self.session.interaction.layers().count();
        let (layer, shown) = self.session.interaction.layers().nth(self.layer_cursor)?;
        Some(format!(
            "layer {}/{count} {}: {} (Y: next, left stick click: show/hide)",
            self.layer_cursor + 1,
            layer.name,
            if shown { "shown" } else { "hidden" }
        ))
    }
}

impl XrApp for SiteXrApp {
    fn start(&mut self, renderer: &mut Renderer, info: &SessionInfo) -> Result<(), String> {
        let mut scene = self.session.site.scene.clone();
        if info.blend_mode.is_see_through() {
            // On site the real world is the backdrop: no sky, no ground plane; the twin's buildings,
            // assets and overlays sit over it.
            scene.environment.draw_sky = false;
            let ground = self.session.interaction.layers().position(|(layer, shown)| layer.name == "ground" && shown);
            if let Some(index) = ground {
                self.session.interaction.update(&InputFrame { toggle_layer: Some(index), ..Default::default() });
            }
        }
        if info.see_through_unavailable {
            tracing::warn!("see-through was asked for but {} only offers opaque; showing VR", info.runtime);
        }
        let mut gpu = renderer.upload(&scene).map_err(|e| format!("uploading the site: {e}"))?;
        gpu.set_placements(self.session.interaction.placements(&self.session.site.scene.placements));
        self.scene = Some(gpu);
        Ok(())
    }

    fn update(&mut self, _renderer: &mut Renderer, frame: &XrFrame<'_>) -> FrameControl {
        let started = Instant::now();
        let dt = self.previous.map_or(frame.display_period, |p| started - p);
        self.previous = Some(started);
        let mut control = FrameControl::default();
        if frame.index == 0 {
            control.world_from_stage = Some(self.stage.world_from_stage());
        }
        let input = self.input_frame(frame.input, dt);
        let outcome = self.session.frame(&input).outcome;
        for event in &outcome.events {
            match event {
                InteractionEvent::Haptic(h) => control.haptics.push(HapticPulse {
                    hand: Hand::Right,
                    duration: h.duration,
                    amplitude: h.amplitude,
                    frequency: None,
                }),
                InteractionEvent::Teleported(p) => {
                    self.stage.origin = *p;
                    control.world_from_stage = Some(self.stage.world_from_stage());
                }
                _ => {}
            }
            crate::window::report(event, &self.session);
        }
        self.events.extend(outcome.events);
        if outcome.placements_changed
            && let Some(gpu) = self.scene.as_mut()
        {
            gpu.set_placements(self.session.interaction.placements(&self.session.site.scene.placements));
        }
        let mut stats = format!(
            "{} | frame {} | cpu {:.1} ms | gpu {} | missed {} | {}",
            self.session.site.twin.name,
            frame.index,
            frame.previous_cpu_time.as_secs_f64() * 1e3,
            frame.previous_gpu_time.map_or_else(|| "n/a".to_string(), |g| format!("{:.1} ms", g.as_secs_f64() * 1e3)),
            frame.missed_frames,
            self.session.clock_line()
        );
        if let Some(hint) = self.layer_hint() {
            stats.push_str(" | ");
            stats.push_str(&hint);
        }
        self.overlay = crate::overlay_compose::compose(&self.session, Some(&stats));
        if self.update_times.len() == crate::frontend::TIMER_WINDOW {
            self.update_times.pop_front();
        }
        self.update_times.push_back(started.elapsed());
        control
    }

    fn overlay(&self) -> Option<&Overlay> {
        Some(&self.overlay)
    }

    fn scene(&self) -> Option<&GpuScene> {
        self.scene.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_xr::{HandState, Pose};

    #[test]
    fn standing_below_faces_the_camera_heading() {
        for heading in [DVec3::Y, DVec3::X, -DVec3::X, DVec3::new(1.0, 1.0, -0.5)] {
            let s = StagePlacement::standing_below(DVec3::new(10.0, 20.0, 50.0), heading, 2.0);
            assert_eq!(s.origin, DVec3::new(10.0, 20.0, 2.0));
            let forward = s.world_from_stage().transform_vector3(DVec3::Y);
            let want = DVec3::new(heading.x, heading.y, 0.0).normalize();
            assert!((forward - want).length() < 1e-9, "{heading}: stage forward {forward}, want {want}");
        }
        // Looking straight down: any heading, no NaN.
        let s = StagePlacement::standing_below(DVec3::ZERO, -DVec3::Z, 0.0);
        assert!(s.world_from_stage().is_finite());
    }

    fn pointing(select_pressed: bool, select_released: bool) -> HandState {
        // Aim 1.5 m above the stage floor, pointing along stage +Y (OpenXR -Z maps to Sangam +Y).
        let aim = Pose { position: DVec3::new(0.0, 0.0, 1.5), orientation: DQuat::from_rotation_x(90f64.to_radians()) };
        HandState {
            active: true,
            aim: Some(aim),
            grip: Some(aim),
            select: select_pressed,
            select_pressed,
            select_released,
            ..Default::default()
        }
    }

    fn app() -> SiteXrApp {
        let scene =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        SiteXrApp::new(SiteSession::load(&scene).expect("demo site loads"))
    }

    #[test]
    fn right_hand_points_and_selects_in_world_space() {
        let mut app = app();
        let mut input = InputState::default();
        input.hands[Hand::Right.index()] = pointing(true, false);
        let frame = app.input_frame(&input, Duration::from_millis(11));
        assert!(frame.select && !frame.teleport);
        let ray = frame.pointer.expect("a ray");
        let stage = app.stage().world_from_stage();
        assert!((ray.origin - stage.transform_point3(DVec3::new(0.0, 0.0, 1.5))).length() < 1e-9);
        let want = stage.transform_vector3(DVec3::Y).normalize();
        assert!((ray.direction.normalize() - want).length() < 1e-6, "{} vs {want}", ray.direction);
        // No aim pose tracked: no pointer, no select.
        input.hands[Hand::Right.index()].aim = None;
        let frame = app.input_frame(&input, Duration::from_millis(11));
        assert!(frame.pointer.is_none() && !frame.select);
    }

    #[test]
    fn left_release_teleports_and_moves_the_stage() {
        let mut app = app();
        let mut input = InputState::default();
        // Point down at the ground 3 m ahead of the left hand.
        let mut hand = pointing(false, true);
        hand.aim = Some(Pose {
            position: DVec3::new(0.0, 0.0, 1.5),
            orientation: DQuat::from_rotation_x(90f64.to_radians() - (1.5f64 / 3.0).atan()),
        });
        input.hands[Hand::Left.index()] = hand;
        let frame = app.input_frame(&input, Duration::from_millis(11));
        assert!(frame.teleport && !frame.select);
        let before = app.stage();
        let outcome = app.session.interaction.update(&frame);
        let target = outcome
            .events
            .iter()
            .find_map(|e| if let InteractionEvent::Teleported(p) = e { Some(*p) } else { None })
            .expect("teleported");
        assert!((target - before.origin).truncate().length() > 1.0, "moved somewhere: {target} from {}", before.origin);
    }

    fn held(position: DVec3, yaw_deg: f64) -> Option<(DVec3, DQuat)> {
        Some((position, DQuat::from_rotation_z(yaw_deg.to_radians())))
    }

    /// Where a point of the twin goes under `delta` (the mapping `TwinPose::grabbed` applies).
    fn moved(delta: &GrabDelta, p: DVec3) -> DVec3 {
        delta.rotation * ((p - delta.pivot) * delta.scale) + delta.pivot + delta.translation
    }

    #[test]
    fn one_hand_carries_and_turns_the_twin_upright() {
        let mut grab = HandGrab::default();
        assert_eq!(grab.update([None, held(DVec3::new(1.0, 0.0, 1.0), 0.0)]), None, "a grab starts");
        // The hand moves 0.5 m along +Y and turns 90 degrees about the vertical.
        let d = grab.update([None, held(DVec3::new(1.0, 0.5, 1.0), 90.0)]).expect("a delta");
        assert_eq!(d.scale, 1.0);
        // The point in the hand stays in the hand; a point 1 m in front of it swings round with it.
        assert!((moved(&d, DVec3::new(1.0, 0.0, 1.0)) - DVec3::new(1.0, 0.5, 1.0)).length() < 1e-9);
        assert!((moved(&d, DVec3::new(2.0, 0.0, 1.0)) - DVec3::new(1.0, 1.5, 1.0)).length() < 1e-9);
        // A tilt of the wrist does not tilt the twin.
        let tilted =
            Some((DVec3::new(1.0, 0.5, 1.0), DQuat::from_rotation_z(90f64.to_radians()) * DQuat::from_rotation_x(0.7)));
        let d = grab.update([None, tilted]).expect("a delta");
        assert!(d.rotation.angle_between(DQuat::IDENTITY) < 1e-9, "{:?}", d.rotation);
    }

    #[test]
    fn two_hands_scale_about_their_midpoint_and_a_changed_grip_starts_over() {
        let mut grab = HandGrab::default();
        grab.update([held(DVec3::new(-0.2, 0.0, 1.0), 0.0), held(DVec3::new(0.2, 0.0, 1.0), 0.0)]);
        // Hands pushed together to half their span: the twin halves about the midpoint.
        let d = grab
            .update([held(DVec3::new(-0.1, 0.0, 1.0), 0.0), held(DVec3::new(0.1, 0.0, 1.0), 0.0)])
            .expect("a delta");
        assert!((d.scale - 0.5).abs() < 1e-12);
        assert!((moved(&d, DVec3::new(0.2, 0.0, 1.0)) - DVec3::new(0.1, 0.0, 1.0)).length() < 1e-9);
        // Letting go with one hand: no jump this frame, the one-hand grab continues from the next.
        assert_eq!(grab.update([None, held(DVec3::new(0.1, 0.0, 1.0), 0.0)]), None);
        assert!(grab.update([None, held(DVec3::new(0.1, 0.2, 1.0), 0.0)]).is_some());
        // Hands on top of each other: no division by a tiny span.
        grab.update([held(DVec3::ZERO, 0.0), held(DVec3::new(0.001, 0.0, 0.0), 0.0)]);
        let d = grab.update([held(DVec3::ZERO, 0.0), held(DVec3::new(0.002, 0.0, 0.0), 0.0)]).expect("a delta");
        assert_eq!(d.scale, 1.0);
    }

    #[test]
    fn squeezing_controllers_grab_the_twin_in_the_app() {
        let mut app = app();
        let mut input = InputState::default();
        let before = *app.session.interaction.twin_pose();
        let mut hand = pointing(false, false);
        hand.squeeze = true;
        input.hands[Hand::Right.index()] = hand;
        assert!(app.input_frame(&input, Duration::from_millis(11)).grab.is_none(), "the grab starts");
        let grip = input.hands[Hand::Right.index()].grip.as_mut().expect("grip");
        grip.position += DVec3::new(0.0, 0.0, 0.3);
        let frame = app.input_frame(&input, Duration::from_millis(11));
        let grab = frame.grab.expect("a grab this frame");
        assert!((grab.translation.length() - 0.3).abs() < 1e-9, "{grab:?}");
        app.session.interaction.update(&frame);
        assert_ne!(*app.session.interaction.twin_pose(), before, "the twin moved");
    }

    #[test]
    fn face_buttons_and_the_right_stick_drive_time_and_modes() {
        let mut app = app();
        let mut input = InputState::default();
        input.hands[Hand::Right.index()].primary_pressed = true;
        input.hands[Hand::Right.index()].secondary_pressed = true;
        input.hands[Hand::Left.index()].primary_pressed = true;
        let frame = app.input_frame(&input, Duration::from_millis(100));
        assert!(frame.play_pause && frame.toggle_tabletop && frame.go_live);
        assert_eq!(frame.scrub_seconds, 0.0);

        // The right stick scrubs: nothing inside the dead zone, full rate fully over, both ways.
        let mut input = InputState::default();
        input.hands[Hand::Right.index()].thumbstick = glam::DVec2::new(0.15, 0.0);
        assert_eq!(app.input_frame(&input, Duration::from_millis(100)).scrub_seconds, 0.0);
        input.hands[Hand::Right.index()].thumbstick = glam::DVec2::new(-1.0, 0.0);
        let back = app.input_frame(&input, Duration::from_millis(100)).scrub_seconds;
        assert!((back + SCRUB_RATE * 0.1).abs() < 1e-9, "{back}");

        // In the app: B switches to tabletop.
        let before = app.session.interaction.mode();
        let mut input = InputState::default();
        input.hands[Hand::Right.index()].secondary_pressed = true;
        let frame = app.input_frame(&input, Duration::from_millis(11));
        app.session.interaction.update(&frame);
        assert_ne!(app.session.interaction.mode(), before);
    }

    #[test]
    fn left_y_picks_a_layer_and_the_stick_click_shows_or_hides_it() {
        let mut app = app();
        let layers = app.session.interaction.layers().count();
        assert!(layers >= 2, "the demo site has layers");
        assert!(app.layer_hint().is_none(), "no hint before the layer buttons are used");
        let mut input = InputState::default();
        input.hands[Hand::Left.index()].secondary_pressed = true;
        assert_eq!(app.input_frame(&input, Duration::from_millis(11)).toggle_layer, None);
        assert_eq!(app.layer_cursor, 1);
        let hint = app.layer_hint().expect("the HUD names the picked layer");
        let (second, shown) = app.session.interaction.layers().nth(1).map(|(l, s)| (l.name.clone(), s)).unwrap();
        assert!(hint.contains(&second) && hint.contains(if shown { "shown" } else { "hidden" }), "{hint}");

        let mut input = InputState::default();
        input.hands[Hand::Left.index()].thumbstick_pressed = true;
        let frame = app.input_frame(&input, Duration::from_millis(11));
        assert_eq!(frame.toggle_layer, Some(1));
        app.session.interaction.update(&frame);
        assert_eq!(app.session.interaction.layers().nth(1).map(|(_, s)| s), Some(!shown), "layer 2 toggled");
        // Y wraps around after the last layer.
        let mut input = InputState::default();
        input.hands[Hand::Left.index()].secondary_pressed = true;
        for _ in 0..layers {
            app.input_frame(&input, Duration::from_millis(11));
        }
        assert_eq!(app.layer_cursor, 1);
    }
}
