//! Conversions between OpenXR's spaces (Y up, -Z forward) and Sangam's world (ENU: +X east,
//! +Y north, +Z up), all in `f64`.
//!
//! The *stage* frame is the OpenXR reference space (STAGE or LOCAL) re-expressed Z-up: stage
//! `(x, y, z)` = OpenXR `(x, -z, y)`. Its origin is the reference space's origin (the floor centre
//! for STAGE). The application places the stage in the world with a `world_from_stage` transform
//! (rigid plus a uniform scale, for tabletop mode).

use glam::{DMat4, DQuat, DVec3};
use sangam_render::scene::{Fov, View};

/// A rigid pose: where something is and how it is turned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Position in metres.
    pub position: DVec3,
    /// Orientation: rotates the object's own axes into the frame's. For views and aim poses the own
    /// axes are OpenXR's: +X right, +Y up, -Z forward.
    pub orientation: DQuat,
}

impl Pose {
    /// The identity pose.
    pub const IDENTITY: Pose = Pose { position: DVec3::ZERO, orientation: DQuat::IDENTITY };

    /// The forward direction (-Z of the own axes) in the frame's coordinates.
    pub fn forward(&self) -> DVec3 {
        self.orientation * DVec3::NEG_Z
    }

    /// This pose (given in the stage frame) in the world, through `world_from_stage`.
    ///
    /// The scale of `world_from_stage` (tabletop mode) scales positions; orientations take only its
    /// rotation. A degenerate transform gives back the pose unchanged.
    pub fn to_world(&self, world_from_stage: &DMat4) -> Pose {
        let (_scale, rotation, _translation) = world_from_stage.to_scale_rotation_translation();
        if !rotation.is_finite() {
            return *self;
        }
        Pose {
            position: world_from_stage.transform_point3(self.position),
            orientation: (rotation * self.orientation).normalize(),
        }
    }
}

/// Rotation taking OpenXR axes (Y up) to stage axes (Z up): +90° about X, so `(x, y, z) -> (x, -z, y)`.
pub fn stage_from_openxr_rotation() -> DQuat {
    DQuat::from_rotation_x(std::f64::consts::FRAC_PI_2)
}

/// An OpenXR pose (in the reference space) as a stage-frame [`Pose`].
pub fn pose_from_openxr(p: &openxr::Posef) -> Pose {
    let r = stage_from_openxr_rotation();
    let o = p.orientation;
    let q = DQuat::from_xyzw(f64::from(o.x), f64::from(o.y), f64::from(o.z), f64::from(o.w));
    let q = if q.length_squared() > 1e-12 && q.is_finite() { q.normalize() } else { DQuat::IDENTITY };
    let pos = DVec3::new(f64::from(p.position.x), f64::from(p.position.y), f64::from(p.position.z));
    let pos = if pos.is_finite() { pos } else { DVec3::ZERO };
    Pose { position: r * pos, orientation: (r * q).normalize() }
}

/// A renderer [`Fov`] from OpenXR's field-of-view angles (same convention).
pub fn fov_from_openxr(f: &openxr::Fovf) -> Fov {
    Fov { angle_left: f.angle_left, angle_right: f.angle_right, angle_up: f.angle_up, angle_down: f.angle_down }
}

/// A renderer [`View`] in the world for one located OpenXR view.
pub fn view_from_openxr(v: &openxr::View, world_from_stage: &DMat4, near: f32) -> View {
    let pose = pose_from_openxr(&v.pose).to_world(world_from_stage);
    View { position: pose.position, orientation: pose.orientation, fov: fov_from_openxr(&v.fov), near }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xr_pose(pos: [f32; 3], q: DQuat) -> openxr::Posef {
        openxr::Posef {
            orientation: openxr::Quaternionf { x: q.x as f32, y: q.y as f32, z: q.z as f32, w: q.w as f32 },
            position: openxr::Vector3f { x: pos[0], y: pos[1], z: pos[2] },
        }
    }

    #[test]
    fn openxr_up_becomes_stage_up_and_forward_becomes_north() {
        // A head 1.7 m up, looking straight ahead (-Z in OpenXR).
        let p = pose_from_openxr(&xr_pose([0.0, 1.7, 0.0], DQuat::IDENTITY));
        assert!((p.position - DVec3::new(0.0, 0.0, 1.7)).length() < 1e-6);
        assert!((p.forward() - DVec3::Y).length() < 1e-9, "forward {:?}", p.forward());
        // The view's up (+Y own axis) is the stage's +Z.
        assert!((p.orientation * DVec3::Y - DVec3::Z).length() < 1e-9);
        // A point 2 m in front (OpenXR -Z) is 2 m north.
        let q = pose_from_openxr(&xr_pose([0.5, 0.0, -2.0], DQuat::IDENTITY));
        assert!((q.position - DVec3::new(0.5, 2.0, 0.0)).length() < 1e-6);
    }

    #[test]
    fn turning_left_in_openxr_turns_toward_west() {
        // +90° about OpenXR's +Y (up) turns the forward axis from -Z to -X: west.
        let p = pose_from_openxr(&xr_pose([0.0, 0.0, 0.0], DQuat::from_rotation_y(std::f64::consts::FRAC_PI_2)));
        assert!((p.forward() - DVec3::NEG_X).length() < 1e-6, "forward {:?}", p.forward());
    }

    #[test]
    fn world_from_stage_moves_rotates_and_scales() {
        let p = Pose { position: DVec3::new(1.0, 0.0, 1.5), orientation: DQuat::IDENTITY };
        let m = DMat4::from_scale_rotation_translation(
            DVec3::splat(10.0),
            DQuat::from_rotation_z(std::f64::consts::FRAC_PI_2),
            DVec3::new(100.0, 200.0, 0.0),
        );
        let w = p.to_world(&m);
        assert!((w.position - DVec3::new(100.0, 210.0, 15.0)).length() < 1e-9, "{:?}", w.position);
        assert!((w.orientation - DQuat::from_rotation_z(std::f64::consts::FRAC_PI_2)).length() < 1e-9);
    }

    #[test]
    fn bad_runtime_numbers_do_not_poison_the_pose() {
        let mut raw = xr_pose([f32::NAN, 0.0, 0.0], DQuat::IDENTITY);
        raw.orientation = openxr::Quaternionf { x: 0.0, y: 0.0, z: 0.0, w: 0.0 };
        let p = pose_from_openxr(&raw);
        assert!(p.position.is_finite() && p.orientation.is_finite());
    }

    #[test]
    fn views_keep_asymmetric_fov() {
        let v = openxr::View {
            pose: xr_pose([-0.03, 1.6, 0.0], DQuat::IDENTITY),
            fov: openxr::Fovf { angle_left: -0.9, angle_right: 0.7, angle_up: 0.8, angle_down: -0.85 },
        };
        let view = view_from_openxr(&v, &DMat4::IDENTITY, 0.05);
        assert_eq!(view.fov.angle_left, -0.9);
        assert_eq!(view.fov.angle_right, 0.7);
        assert!((view.position - DVec3::new(-0.03, 0.0, 1.6)).length() < 1e-6);
        assert!((view.forward() - DVec3::Y).length() < 1e-9);
    }
}
