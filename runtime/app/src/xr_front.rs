//! The XR front end: the loaded site in an OpenXR session (`sangam run SCENE --xr`).
//!
//! [`SiteXrApp`] implements [`sangam_xr::XrApp`]: the site's scene is uploaded on the runtime's device
//! before the first frame; every frame the controllers become an [`InputFrame`] for the shared
//! [`Interaction`](crate::interaction::Interaction) (the same logic the window uses), and the stage is
//! placed in the world so the wearer stands where the site's first camera looks.
//!
//! Controller mapping (the actions `sangam-xr` binds on every supported profile: aim pose, grip pose,
//! select): the right hand points and selects (an entity's inspector is printed, the controller ticks);
//! the left hand's select, on release, teleports to where its ray meets the twin or the ground. A
//! see-through runtime (AR on site) hides sky and ground so the twin sits over the real world.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Result;
use glam::{DMat4, DQuat, DVec3};
use sangam_render::gpu::{GpuScene, Renderer};
use sangam_render::overlay::Overlay;
use sangam_xr::{FrameControl, Hand, HapticPulse, InputState, SessionInfo, XrApp, XrError, XrFrame, XrOptions};

use crate::frontend::{RunArgs, SiteSession, XrEnd};
use crate::interaction::pick::Ray;
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
        for line in app.session.plugins.status_lines() {
            println!("stats: {line}");
        }
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

impl SiteXrApp {
    /// An app for a loaded site; the stage starts below the site's first camera, facing its view.
    pub fn new(session: SiteSession) -> SiteXrApp {
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
        }
    }

    /// The stage placement now.
    pub fn stage(&self) -> StagePlacement {
        self.stage
    }

    /// The input frame for this XR frame: rays from the controllers' aim poses, in the world.
    pub fn input_frame(&self, input: &InputState, dt: Duration) -> InputFrame {
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
        frame
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
        let outcome = self.session.interaction.update(&input);
        self.session.tick_plugins();
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
        let stats = format!(
            "{} | frame {} | cpu {:.1} ms | gpu {} | missed {}",
            self.session.site.twin.name,
            frame.index,
            frame.previous_cpu_time.as_secs_f64() * 1e3,
            frame.previous_gpu_time.map_or_else(|| "n/a".to_string(), |g| format!("{:.1} ms", g.as_secs_f64() * 1e3)),
            frame.missed_frames
        );
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
        }
    }

    fn app() -> SiteXrApp {
        let scene =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        SiteXrApp::new(SiteSession::load(&scene).expect("demo site loads"))
    }

    #[test]
    fn right_hand_points_and_selects_in_world_space() {
        let app = app();
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
}
