//! A self-check for a real runtime: a scene with a near tower and a far wall, an [`XrApp`] that
//! keeps the head at a fixed place in that scene and records what it saw, and the parallax
//! measurement on the two eye images. Used by the `xr` binary and the runtime tests.

use glam::{DMat4, DVec2, DVec3, Vec3};
use sangam_render::extrude::{Footprint, buildings_model};
use sangam_render::gpu::{GpuScene, Renderer};
use sangam_render::scene::{Environment, Placement, Scene, View};

use crate::input::{Hand, HapticPulse, InputState};
use crate::session::{FrameControl, SessionInfo, SessionState, XrApp, XrFrame};
use crate::{EyeImage, Pose};

/// Where the check scene's head is: 1.6 m above the origin, looking north (+Y).
pub const HEAD: DVec3 = DVec3::new(0.0, 0.0, 1.6);
/// The near tower's centre on the ground: 1.2 m ahead, a little left.
pub const TOWER: DVec3 = DVec3::new(-0.35, 1.2, 0.0);
/// The far wall's centre on the ground: 500 m ahead, right of the view axis.
pub const FAR_WALL: DVec3 = DVec3::new(25.0, 500.0, 0.0);

fn block(name: &str, center: DVec3, half: DVec2, height: f64, color: [f32; 3]) -> sangam_render::model::Model {
    let c = center.truncate();
    let fp = Footprint {
        outer: vec![
            c + DVec2::new(-half.x, -half.y),
            c + DVec2::new(half.x, -half.y),
            c + DVec2::new(half.x, half.y),
            c + DVec2::new(-half.x, half.y),
        ],
        holes: Vec::new(),
        base: 0.0,
        height,
    };
    buildings_model(name, &[fp], DVec2::ZERO, color).0
}

/// The check scene: a red tower 1.2 m in front of [`HEAD`] (slightly left) and a green wall 500 m
/// away (right of centre), under a grey sky so the colours are easy to tell apart.
pub fn parallax_scene() -> Scene {
    let tower = block("near tower", TOWER, DVec2::new(0.1, 0.1), 4.0, [0.9, 0.05, 0.05]);
    let wall = block("far wall", FAR_WALL, DVec2::new(20.0, 5.0), 120.0, [0.05, 0.9, 0.05]);
    Scene {
        models: vec![tower, wall],
        placements: vec![Placement::at(0, DVec3::ZERO), Placement::at(1, DVec3::ZERO)],
        environment: Environment {
            sky_color: Vec3::splat(0.45),
            ground_color: Vec3::splat(0.3),
            ..Environment::default()
        },
    }
}

/// Horizontal centroid (pixels) and count of the pixels of one dominant colour channel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Blob {
    /// Mean x of the matching pixels.
    pub x: f64,
    /// How many pixels matched.
    pub pixels: usize,
}

/// Finds the pixels whose `channel` (0 red, 1 green) exceeds both others by a clear margin.
pub fn blob(eye: &EyeImage, channel: usize) -> Option<Blob> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (i, px) in eye.rgba.chunks_exact(4).enumerate() {
        let c = i32::from(px[channel]);
        let others = (0..3).filter(|k| *k != channel).map(|k| i32::from(px[k])).max().unwrap_or(0);
        if c > others + 40 {
            sum += (i as u32 % eye.width.max(1)) as f64;
            n += 1;
        }
    }
    (n > 0).then(|| Blob { x: sum / n as f64, pixels: n })
}

/// The pixel column at which `point` appears in `view` for an image `width` pixels wide.
pub fn project_x(view: &View, point: DVec3, width: u32) -> f64 {
    let local = view.world_from_view().inverse().transform_point3(point);
    let (l, r, _, _) = view.fov.tangents();
    let tan_x = local.x / -local.z;
    (tan_x - f64::from(l)) / f64::from(r - l) * f64::from(width)
}

/// What [`CheckApp`] observed during a session.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Frames seen in FOCUSED.
    pub focused_frames: u64,
    /// Frames in which a controller aim or grip pose was located, per hand.
    pub poses_located: [u64; 2],
    /// Frames in which actions were synchronised and the select state read.
    pub actions_read: u64,
    /// The last located grip pose per hand (stage frame).
    pub last_grip: [Option<Pose>; 2],
    /// The eye views of the last frame (world), for computing the expected parallax.
    pub last_views: Option<[View; 2]>,
    /// Session information handed to `start`.
    pub info: Option<SessionInfo>,
    /// Whether the app printed the FOCUSED marker.
    pub announced_focus: bool,
}

/// An [`XrApp`] showing [`parallax_scene`] from [`HEAD`] whatever the headset does (it moves the
/// stage so the head stays put), reading input and ticking a haptic pulse on select.
pub struct CheckApp {
    scene: Option<GpuScene>,
    /// What happened.
    pub observed: Observed,
    /// Print `FOCUSED` on stdout once when the session gets focus (for supervising processes).
    pub announce_focus: bool,
}

impl CheckApp {
    /// A new app.
    pub fn new() -> CheckApp {
        CheckApp { scene: None, observed: Observed::default(), announce_focus: false }
    }

    fn record_input(&mut self, input: &InputState) {
        if input.synced {
            self.observed.actions_read += 1;
        }
        for hand in Hand::BOTH {
            let h = input.hand(hand);
            if h.aim.is_some() || h.grip.is_some() {
                self.observed.poses_located[hand.index()] += 1;
            }
            if h.grip.is_some() {
                self.observed.last_grip[hand.index()] = h.grip;
            }
        }
    }
}

impl Default for CheckApp {
    fn default() -> Self {
        CheckApp::new()
    }
}

impl XrApp for CheckApp {
    fn start(&mut self, renderer: &mut Renderer, info: &SessionInfo) -> Result<(), String> {
        let mut scene = parallax_scene();
        scene.environment.draw_sky = !info.blend_mode.is_see_through();
        self.scene = Some(renderer.upload(&scene).map_err(|e| format!("uploading the check scene: {e}"))?);
        self.observed.info = Some(info.clone());
        Ok(())
    }

    fn update(&mut self, _renderer: &mut Renderer, frame: &XrFrame<'_>) -> FrameControl {
        let mut control = FrameControl::default();
        if frame.state == SessionState::Focused {
            self.observed.focused_frames += 1;
            if self.announce_focus && !self.observed.announced_focus {
                println!("FOCUSED");
                self.observed.announced_focus = true;
            }
        }
        self.record_input(frame.input);
        for hand in Hand::BOTH {
            if frame.input.hand(hand).select_pressed {
                control.haptics.push(HapticPulse::tick(hand));
            }
        }
        if let Some(views) = &frame.views {
            // The head (midpoint of the eyes) in the stage frame, then the stage moved so that head
            // sits at HEAD looking north, level.
            let world_from_head = |v: &View| DMat4::from_rotation_translation(v.orientation, v.position);
            let stage_from_world = frame.world_from_stage.inverse();
            let mid = (views[0].position + views[1].position) * 0.5;
            let stage_head = stage_from_world * world_from_head(&View { position: mid, ..views[0] });
            let wanted = View::look_at(HEAD, HEAD + DVec3::Y, DVec3::Z, views[0].fov);
            let world_from_stage = world_from_head(&wanted) * stage_head.inverse();
            control.world_from_stage = Some(world_from_stage);
            let fixed = views.map(|v| {
                let p = world_from_stage * stage_from_world * world_from_head(&v);
                let (_, rot, pos) = p.to_scale_rotation_translation();
                View { position: pos, orientation: rot, ..v }
            });
            // The eyes keep their offsets from the head, so these are the views of every
            // rendered frame from now on (the captured one included).
            self.observed.last_views = Some(fixed);
        }
        control
    }

    fn scene(&self) -> Option<&GpuScene> {
        self.scene.as_ref()
    }
}

/// The measured and expected eye-to-eye shifts of the near tower and the far wall.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parallax {
    /// Tower centroid x in the left eye minus in the right eye, pixels.
    pub near_shift: f64,
    /// The same, expected from the views' geometry.
    pub near_expected: f64,
    /// Far wall centroid shift, pixels.
    pub far_shift: f64,
    /// Tower pixels in the left and right eye.
    pub near_pixels: (usize, usize),
    /// Far wall pixels in the left and right eye.
    pub far_pixels: (usize, usize),
}

/// Measures the parallax between two eye images rendered from `views`.
pub fn measure_parallax(eyes: &[EyeImage; 2], views: &[View; 2]) -> Result<Parallax, String> {
    let find = |eye: &EyeImage, ch: usize, what: &str, side: &str| {
        blob(eye, ch).ok_or_else(|| format!("the {what} is not visible in the {side} eye image"))
    };
    let nl = find(&eyes[0], 0, "near tower (red)", "left")?;
    let nr = find(&eyes[1], 0, "near tower (red)", "right")?;
    let fl = find(&eyes[0], 1, "far wall (green)", "left")?;
    let fr = find(&eyes[1], 1, "far wall (green)", "right")?;
    let tower_mid = TOWER + DVec3::new(0.0, 0.0, HEAD.z);
    let w = eyes[0].width;
    let near_expected = project_x(&views[0], tower_mid, w) - project_x(&views[1], tower_mid, w);
    Ok(Parallax {
        near_shift: nl.x - nr.x,
        near_expected,
        far_shift: fl.x - fr.x,
        near_pixels: (nl.pixels, nr.pixels),
        far_pixels: (fl.pixels, fr.pixels),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_render::scene::Fov;

    #[test]
    fn projection_of_the_tower_shifts_left_in_the_right_eye() {
        let center = View::look_at(HEAD, HEAD + DVec3::Y, DVec3::Z, Fov::symmetric(1.5, 1.0));
        let [l, r] = View::stereo_pair(&center, 0.064);
        let tower = TOWER + DVec3::new(0.0, 0.0, HEAD.z);
        let shift = project_x(&l, tower, 320) - project_x(&r, tower, 320);
        // f = 160 / tan(0.75) px; disparity = ipd * f / distance.
        let expected = 0.064 * 160.0 / 0.75f64.tan() / 1.2;
        assert!((shift - expected).abs() < 0.2, "{shift} vs {expected}");
        let far = FAR_WALL + DVec3::new(0.0, 0.0, 10.0);
        assert!((project_x(&l, far, 320) - project_x(&r, far, 320)).abs() < 0.05);
    }

    #[test]
    fn blobs_find_dominant_colours() {
        let mut rgba = vec![100u8; 8 * 2 * 4];
        // A red pixel at x = 2 and x = 4 (row 0), a green one at x = 6 (row 1).
        for (x, y, c) in [(2, 0, [250, 10, 10]), (4, 0, [250, 10, 10]), (6, 1, [10, 250, 10])] {
            let i = (y * 8 + x) * 4;
            rgba[i..i + 3].copy_from_slice(&c);
        }
        let eye = EyeImage { width: 8, height: 2, rgba };
        assert_eq!(blob(&eye, 0), Some(Blob { x: 3.0, pixels: 2 }));
        assert_eq!(blob(&eye, 1), Some(Blob { x: 6.0, pixels: 1 }));
        assert_eq!(blob(&EyeImage { width: 1, height: 1, rgba: vec![100; 4] }, 0), None);
    }
}
