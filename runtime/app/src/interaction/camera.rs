//! The viewer: an eye with a heading and pitch, moved by orbit, pan, zoom, fly and teleport.
//!
//! The same camera is the desktop window's view and the XR rig: in XR the head pose located in the
//! runtime's STAGE (or LOCAL) space is placed in the world by [`Camera::world_from_stage`], so flying
//! and teleporting move the headset user's whole play area.
//!
//! Angles: `yaw` is the heading in radians clockwise from north (+Y), `pitch` is radians above the
//! horizon. World is ENU, Z up; views use OpenXR's convention (-Z forward, +Y up).

use glam::{DMat3, DMat4, DQuat, DVec2, DVec3};
use sangam_render::scene::{Fov, View};

use super::pick::Ray;

/// The steepest pitch the camera takes (just short of straight up/down, where heading is undefined).
pub const MAX_PITCH: f64 = 89.0 * std::f64::consts::PI / 180.0;

/// Eye height above the floor used for teleport and the XR rig, metres.
pub const EYE_HEIGHT_M: f64 = 1.7;

/// Near plane of the interactive camera, metres.
pub const CAMERA_NEAR_M: f32 = 0.1;

/// The viewer's eye.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Eye position, world metres.
    pub eye: DVec3,
    /// Heading, radians clockwise from north.
    pub yaw: f64,
    /// Pitch, radians above the horizon, within ±[`MAX_PITCH`].
    pub pitch: f64,
    /// Distance to the point orbit and zoom turn about (the pivot), metres.
    pub focus_distance: f64,
    /// Vertical field of view of the desktop view, radians.
    pub fov_y: f64,
}

impl Camera {
    /// A camera at `eye` looking at `target` (the pivot) with a vertical field of view in radians.
    pub fn looking_at(eye: DVec3, target: DVec3, fov_y: f64) -> Camera {
        let d = target - eye;
        let (yaw, pitch) = yaw_pitch_of(d);
        Camera { eye, yaw, pitch, focus_distance: d.length().max(0.1), fov_y }
    }

    /// The unit forward direction.
    pub fn forward(&self) -> DVec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        DVec3::new(sy * cp, cy * cp, sp)
    }

    /// The unit right direction (horizontal).
    pub fn right(&self) -> DVec3 {
        let (sy, cy) = self.yaw.sin_cos();
        DVec3::new(cy, -sy, 0.0)
    }

    /// The unit up direction of the view (perpendicular to forward and right).
    pub fn up(&self) -> DVec3 {
        self.right().cross(self.forward())
    }

    /// The point orbit and zoom turn about.
    pub fn pivot(&self) -> DVec3 {
        self.eye + self.forward() * self.focus_distance
    }

    /// Rotates view space (OpenXR: +X right, +Y up, -Z forward) into the world.
    pub fn orientation(&self) -> DQuat {
        let r = self.right();
        let f = self.forward();
        DQuat::from_mat3(&DMat3::from_cols(r, r.cross(f), -f)).normalize()
    }

    /// The desktop view for an image of `aspect` = width / height.
    pub fn view(&self, aspect: f64) -> View {
        let fov = Fov::symmetric(self.fov_y as f32, aspect.max(1e-3) as f32);
        View { position: self.eye, orientation: self.orientation(), fov, near: CAMERA_NEAR_M }
    }

    /// Turns about the pivot: heading by `d_yaw`, pitch by `d_pitch` (radians); the pivot stays put.
    pub fn orbit(&mut self, d_yaw: f64, d_pitch: f64) {
        let pivot = self.pivot();
        self.yaw = wrap_angle(self.yaw + d_yaw);
        self.pitch = (self.pitch + d_pitch).clamp(-MAX_PITCH, MAX_PITCH);
        self.eye = pivot - self.forward() * self.focus_distance;
    }

    /// Turns the eye in place (mouse look): the pivot moves with the view.
    pub fn look(&mut self, d_yaw: f64, d_pitch: f64) {
        self.yaw = wrap_angle(self.yaw + d_yaw);
        self.pitch = (self.pitch + d_pitch).clamp(-MAX_PITCH, MAX_PITCH);
    }

    /// Slides eye and pivot across the view plane by `amount` fractions of the focus distance
    /// (x right, y up), so a drag moves the scene about as far as the pointer moved at the pivot.
    pub fn pan(&mut self, amount: DVec2) {
        let s = self.focus_distance;
        self.eye += (self.right() * amount.x + self.up() * amount.y) * s;
    }

    /// Moves toward the pivot: the focus distance is multiplied by `factor` (< 1 zooms in), within
    /// 0.1 m and 100 km.
    pub fn zoom(&mut self, factor: f64) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let pivot = self.pivot();
        self.focus_distance = (self.focus_distance * factor).clamp(0.1, 100_000.0);
        self.eye = pivot - self.forward() * self.focus_distance;
    }

    /// Flies: `velocity` is in the camera's axes (x right, y forward, z world up) as fractions of the
    /// fly speed, which grows with the focus distance (slow near things, fast over a city).
    pub fn fly(&mut self, velocity: DVec3, dt: f64) {
        if !velocity.is_finite() || !dt.is_finite() || dt <= 0.0 {
            return;
        }
        let speed = self.fly_speed();
        let v = self.right() * velocity.x + self.forward() * velocity.y + DVec3::Z * velocity.z;
        self.eye += v * speed * dt.min(0.25);
    }

    /// Metres per second at full fly input.
    pub fn fly_speed(&self) -> f64 {
        (self.focus_distance * 0.5).clamp(2.0, 500.0)
    }

    /// Teleports to stand on `floor_point`: the eye goes [`EYE_HEIGHT_M`] above it, the heading is kept
    /// and the view levels out.
    pub fn teleport(&mut self, floor_point: DVec3) {
        if !floor_point.is_finite() {
            return;
        }
        self.eye = floor_point + DVec3::Z * EYE_HEIGHT_M;
        self.pitch = 0.0;
        self.focus_distance = 10.0;
    }

    /// Maps the XR runtime's stage space (OpenXR: Y up, -Z forward, floor at y = 0) into the world: the
    /// stage's floor origin under the eye, its forward along the camera's heading, its up along +Z.
    pub fn world_from_stage(&self) -> DMat4 {
        let rotation = DQuat::from_rotation_z(-self.yaw) * DQuat::from_rotation_x(std::f64::consts::FRAC_PI_2);
        DMat4::from_rotation_translation(rotation, self.eye - DVec3::Z * EYE_HEIGHT_M)
    }

    /// A world view from an eye pose located in stage space (position, orientation, field of view).
    pub fn view_from_stage_pose(&self, position: DVec3, orientation: DQuat, fov: Fov) -> View {
        let m = self.world_from_stage();
        let (_, rotation, _) = m.to_scale_rotation_translation();
        View {
            position: m.transform_point3(position),
            orientation: (rotation * orientation).normalize(),
            fov,
            near: CAMERA_NEAR_M,
        }
    }
}

/// Heading (clockwise from north) and pitch of a direction; level north for a zero vector.
pub fn yaw_pitch_of(d: DVec3) -> (f64, f64) {
    let Some(d) = d.try_normalize() else { return (0.0, 0.0) };
    let yaw = if d.truncate().length_squared() < 1e-18 { 0.0 } else { d.x.atan2(d.y) };
    (yaw, d.z.clamp(-1.0, 1.0).asin().clamp(-MAX_PITCH, MAX_PITCH))
}

/// `a` wrapped into (-pi, pi] radians.
pub(crate) fn wrap_angle(a: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    let w = a.rem_euclid(tau);
    if w > std::f64::consts::PI { w - tau } else { w }
}

/// The world ray through pixel `(x, y)` (pixels from the top-left corner; centres at +0.5) of a
/// `width` x `height` image rendered from `view`. `None` for an empty image.
pub fn ray_through_pixel(view: &View, width: u32, height: u32, x: f64, y: f64) -> Option<Ray> {
    if width == 0 || height == 0 {
        return None;
    }
    let (l, r, u, d) = view.fov.tangents();
    let (l, r, u, d) = (f64::from(l), f64::from(r), f64::from(u), f64::from(d));
    let fx = x / f64::from(width);
    let fy = y / f64::from(height);
    let dir_view = DVec3::new(l + (r - l) * fx, u + (d - u) * fy, -1.0);
    Ray::new(view.position, view.orientation * dir_view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: DVec3, b: DVec3) -> bool {
        (a - b).length() < 1e-9
    }

    #[test]
    fn looking_at_matches_render_look_at() {
        let eye = DVec3::new(-420.0, -560.0, 380.0);
        let target = DVec3::new(40.0, 20.0, 0.0);
        let cam = Camera::looking_at(eye, target, 1.0);
        assert!(close(cam.pivot(), target), "{:?}", cam.pivot());
        let v = cam.view(1.5);
        let reference = View::look_at(eye, target, DVec3::Z, v.fov);
        assert!(close(v.forward(), reference.forward()));
        assert!(close(v.orientation * DVec3::Y, reference.orientation * DVec3::Y), "same up");
    }

    #[test]
    fn orbit_keeps_the_pivot_and_distance() {
        let mut cam = Camera::looking_at(DVec3::new(0.0, -100.0, 50.0), DVec3::ZERO, 1.0);
        let d = cam.focus_distance;
        cam.orbit(std::f64::consts::FRAC_PI_2, 0.2);
        assert!(close(cam.pivot(), DVec3::ZERO));
        assert!(((cam.eye - DVec3::ZERO).length() - d).abs() < 1e-9);
        // Heading east now: the eye is west of the pivot.
        assert!(cam.eye.x < -50.0, "{:?}", cam.eye);
        cam.orbit(0.0, 10.0);
        assert!((cam.pitch - MAX_PITCH).abs() < 1e-12, "pitch is clamped");
    }

    #[test]
    fn zoom_pan_and_fly_move_as_asked() {
        let mut cam = Camera::looking_at(DVec3::new(0.0, -100.0, 0.0), DVec3::ZERO, 1.0);
        cam.zoom(0.5);
        assert!(close(cam.eye, DVec3::new(0.0, -50.0, 0.0)));
        cam.zoom(f64::NAN);
        cam.zoom(-1.0);
        assert!(close(cam.eye, DVec3::new(0.0, -50.0, 0.0)), "bad factors are ignored");
        cam.pan(DVec2::new(0.1, 0.0));
        assert!(close(cam.eye, DVec3::new(5.0, -50.0, 0.0)), "{:?}", cam.eye);
        let speed = cam.fly_speed();
        cam.fly(DVec3::new(0.0, 1.0, 0.0), 0.1);
        assert!(close(cam.eye, DVec3::new(5.0, -50.0 + speed * 0.1, 0.0)), "{:?}", cam.eye);
        cam.fly(DVec3::new(0.0, 0.0, 1.0), 0.1);
        assert!((cam.eye.z - speed * 0.1).abs() < 1e-9, "Q/E climb along world up");
    }

    #[test]
    fn teleport_stands_on_the_point_at_eye_height() {
        let mut cam = Camera::looking_at(DVec3::new(0.0, -100.0, 80.0), DVec3::ZERO, 1.0);
        let yaw = cam.yaw;
        cam.teleport(DVec3::new(12.0, 3.0, 48.0));
        assert!(close(cam.eye, DVec3::new(12.0, 3.0, 48.0 + EYE_HEIGHT_M)));
        assert_eq!(cam.yaw, yaw);
        assert_eq!(cam.pitch, 0.0);
    }

    #[test]
    fn centre_pixel_ray_is_forward_and_corners_are_the_fov() {
        let cam = Camera::looking_at(DVec3::new(3.0, 4.0, 5.0), DVec3::new(3.0, 104.0, 5.0), 1.0);
        let view = cam.view(2.0);
        let r = ray_through_pixel(&view, 200, 100, 100.0, 50.0).unwrap();
        assert!(close(r.direction, DVec3::Y));
        assert!(close(r.origin, DVec3::new(3.0, 4.0, 5.0)));
        // Top-left corner: up and left by the half angles.
        let r = ray_through_pixel(&view, 200, 100, 0.0, 0.0).unwrap();
        let (l, _, u, _) = view.fov.tangents();
        let expected = DVec3::new(f64::from(l), 1.0, f64::from(u)).normalize();
        assert!((r.direction - expected).length() < 1e-6, "{:?} vs {expected:?}", r.direction);
        assert!(ray_through_pixel(&view, 0, 100, 0.0, 0.0).is_none());
    }

    #[test]
    fn stage_maps_y_up_to_z_up_under_the_eye() {
        let mut cam = Camera::looking_at(DVec3::new(10.0, 20.0, 30.0), DVec3::new(110.0, 20.0, 30.0), 1.0);
        cam.pitch = 0.0;
        // A head at the stage origin at eye height, looking along stage -Z, sees what the camera sees.
        let v = cam.view_from_stage_pose(DVec3::new(0.0, EYE_HEIGHT_M, 0.0), DQuat::IDENTITY, cam.view(1.0).fov);
        assert!(close(v.position, cam.eye), "{:?}", v.position);
        assert!(close(v.forward(), DVec3::X), "camera heads east: {:?}", v.forward());
        assert!(close(v.orientation * DVec3::Y, DVec3::Z), "stage up is world up");
        // Stepping 1 m to the stage's right moves south when facing east.
        let v = cam.view_from_stage_pose(DVec3::new(1.0, EYE_HEIGHT_M, 0.0), DQuat::IDENTITY, v.fov);
        assert!(close(v.position, cam.eye - DVec3::Y), "{:?}", v.position);
    }
}
