//! Where the whole twin sits in the world: 1:1 walk-through, or a scaled model on a table.
//!
//! A [`TwinPose`] is a similarity transform (uniform scale, rotation, translation) from twin space
//! (the scene file's ENU metres) to world space (what the camera and the XR stage live in). Grabbing
//! the twin composes a [`GrabDelta`] onto it; switching to tabletop puts the site's centre on a table
//! point at a scale such as 1:500.

use glam::{DMat4, DQuat, DVec3};

use super::pick::Ray;

/// The default tabletop scale: 1 m of table per 500 m of site.
pub const DEFAULT_TABLETOP_SCALE: f64 = 1.0 / 500.0;

/// Scales a grab may reach, so a slip of the hand cannot make the twin vanish or explode.
pub const SCALE_RANGE: (f64, f64) = (1e-5, 1e3);

/// A similarity transform twin -> world: `world = translation + rotation * (scale * twin)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwinPose {
    /// Uniform scale (1 = walk-through).
    pub scale: f64,
    /// Rotation.
    pub rotation: DQuat,
    /// Translation, world metres.
    pub translation: DVec3,
}

impl Default for TwinPose {
    fn default() -> Self {
        TwinPose::IDENTITY
    }
}

impl TwinPose {
    /// The 1:1 walk-through pose: twin space is world space.
    pub const IDENTITY: TwinPose = TwinPose { scale: 1.0, rotation: DQuat::IDENTITY, translation: DVec3::ZERO };

    /// A tabletop pose: `site_center` lands on `table_point`, the twin turned by `yaw` radians about
    /// the vertical (counter-clockwise seen from above) and scaled by `scale`.
    pub fn tabletop(site_center: DVec3, table_point: DVec3, scale: f64, yaw: f64) -> TwinPose {
        let scale = clamp_scale(scale);
        let rotation = DQuat::from_rotation_z(yaw);
        TwinPose { scale, rotation, translation: table_point - rotation * (site_center * scale) }
    }

    /// Whether this is (numerically) the walk-through identity.
    pub fn is_identity(&self) -> bool {
        (self.scale - 1.0).abs() < 1e-12
            && self.rotation.abs_diff_eq(DQuat::IDENTITY, 1e-12)
            && self.translation.abs_diff_eq(DVec3::ZERO, 1e-9)
    }

    /// The world-from-twin matrix.
    pub fn world_from_twin(&self) -> DMat4 {
        DMat4::from_scale_rotation_translation(DVec3::splat(self.scale), self.rotation, self.translation)
    }

    /// A twin point in the world.
    pub fn to_world(&self, p: DVec3) -> DVec3 {
        self.translation + self.rotation * (p * self.scale)
    }

    /// A world point in the twin.
    pub fn to_twin(&self, p: DVec3) -> DVec3 {
        (self.rotation.inverse() * (p - self.translation)) / self.scale
    }

    /// The inverse transform (world -> twin), itself a similarity transform.
    pub fn inverse(&self) -> TwinPose {
        let rotation = self.rotation.inverse();
        let scale = 1.0 / self.scale;
        TwinPose { scale, rotation, translation: -(rotation * self.translation) * scale }
    }

    /// `self ∘ inner`: first `inner`, then `self`.
    pub fn compose(&self, inner: &TwinPose) -> TwinPose {
        TwinPose {
            scale: self.scale * inner.scale,
            rotation: (self.rotation * inner.rotation).normalize(),
            translation: self.to_world(inner.translation),
        }
    }

    /// A world ray expressed in twin space. Distances along it are twin metres (divide by nothing:
    /// the direction is renormalised), so the caller maps hit points back with [`TwinPose::to_world`].
    pub fn ray_to_twin(&self, ray: &Ray) -> Option<Ray> {
        Ray::new(self.to_twin(ray.origin), self.rotation.inverse() * ray.direction)
    }

    /// Applies a grab: rotate and scale about the grab's pivot, then translate.
    pub fn grabbed(&self, delta: &GrabDelta) -> TwinPose {
        if !delta.is_valid() {
            return *self;
        }
        let new_scale = clamp_scale(self.scale * delta.scale);
        let factor = new_scale / self.scale;
        let about_pivot = TwinPose {
            scale: factor,
            rotation: delta.rotation.normalize(),
            translation: delta.pivot - delta.rotation.normalize() * (delta.pivot * factor) + delta.translation,
        };
        about_pivot.compose(self)
    }
}

fn clamp_scale(s: f64) -> f64 {
    if s.is_finite() && s > 0.0 { s.clamp(SCALE_RANGE.0, SCALE_RANGE.1) } else { 1.0 }
}

/// One frame's change of a grab on the whole twin, in world space (from one or two hands, or a mouse).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrabDelta {
    /// The point rotation and scale turn about (a hand, or the midpoint between two hands).
    pub pivot: DVec3,
    /// Movement, world metres.
    pub translation: DVec3,
    /// Rotation about the pivot.
    pub rotation: DQuat,
    /// Scale factor about the pivot (two hands apart / before).
    pub scale: f64,
}

impl GrabDelta {
    /// A pure move.
    pub fn translate(by: DVec3) -> GrabDelta {
        GrabDelta { pivot: DVec3::ZERO, translation: by, rotation: DQuat::IDENTITY, scale: 1.0 }
    }

    /// Whether every part is finite and the scale positive.
    pub fn is_valid(&self) -> bool {
        self.pivot.is_finite()
            && self.translation.is_finite()
            && self.rotation.is_finite()
            && self.rotation.length_squared() > 1e-12
            && self.scale.is_finite()
            && self.scale > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_PI_2;

    fn close(a: DVec3, b: DVec3) -> bool {
        (a - b).length() < 1e-9
    }

    #[test]
    fn tabletop_puts_the_site_on_the_table_at_scale() {
        let center = DVec3::new(40.0, 20.0, 0.0);
        let table = DVec3::new(0.0, 1.0, 0.9);
        let pose = TwinPose::tabletop(center, table, DEFAULT_TABLETOP_SCALE, FRAC_PI_2);
        assert!(close(pose.to_world(center), table));
        // 500 m east of the centre is 1 m from the table point, turned 90° counter-clockwise: north.
        assert!(close(pose.to_world(center + DVec3::new(500.0, 0.0, 0.0)), table + DVec3::Y));
        // A 30 m tower is 6 cm tall on the table.
        let top = pose.to_world(center + DVec3::new(0.0, 0.0, 30.0));
        assert!((top.z - table.z - 0.06).abs() < 1e-12);
        // The matrix agrees with the point function.
        let p = DVec3::new(-123.0, 456.0, 7.0);
        assert!(close(pose.world_from_twin().transform_point3(p), pose.to_world(p)));
    }

    #[test]
    fn pose_is_invertible() {
        let pose = TwinPose::tabletop(DVec3::new(40.0, 20.0, 0.0), DVec3::new(0.3, 1.2, 0.9), 0.002, 0.7);
        for p in [DVec3::ZERO, DVec3::new(500.0, -300.0, 48.0), DVec3::new(1e4, 1e4, 1e2)] {
            assert!((pose.to_twin(pose.to_world(p)) - p).length() < 1e-6);
            assert!((pose.inverse().to_world(pose.to_world(p)) - p).length() < 1e-6);
        }
        let id = pose.compose(&pose.inverse());
        assert!(id.is_identity(), "{id:?}");
        assert!((pose.world_from_twin() * pose.inverse().world_from_twin()).abs_diff_eq(DMat4::IDENTITY, 1e-9));
        assert!(TwinPose::IDENTITY.is_identity());
    }

    #[test]
    fn grab_rotates_and_scales_about_the_pivot() {
        let pose = TwinPose::tabletop(DVec3::ZERO, DVec3::new(0.0, 1.0, 0.9), 0.002, 0.0);
        let pivot = DVec3::new(0.0, 1.0, 0.9);
        let grab =
            GrabDelta { pivot, translation: DVec3::ZERO, rotation: DQuat::from_rotation_z(FRAC_PI_2), scale: 2.0 };
        let after = pose.grabbed(&grab);
        // The site centre sat on the pivot: it stays there.
        assert!(close(after.to_world(DVec3::ZERO), pivot));
        // 500 m east was 1 m east of the pivot; now 2 m north of it.
        assert!(close(after.to_world(DVec3::new(500.0, 0.0, 0.0)), pivot + DVec3::new(0.0, 2.0, 0.0)));
        assert!((after.scale - 0.004).abs() < 1e-15);
        // Two grabs compose like one: twice 45° = 90°.
        let half = GrabDelta { rotation: DQuat::from_rotation_z(FRAC_PI_2 / 2.0), scale: 2f64.sqrt(), ..grab };
        let twice = pose.grabbed(&half).grabbed(&half);
        let p = DVec3::new(123.0, -45.0, 6.0);
        assert!((twice.to_world(p) - after.to_world(p)).length() < 1e-9);
        // A move translates everything.
        let moved = after.grabbed(&GrabDelta::translate(DVec3::new(0.1, 0.0, 0.0)));
        assert!(close(moved.to_world(p), after.to_world(p) + DVec3::new(0.1, 0.0, 0.0)));
    }

    #[test]
    fn bad_grabs_are_ignored_and_scale_is_bounded() {
        let pose = TwinPose::IDENTITY;
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(pose.grabbed(&GrabDelta { scale, ..GrabDelta::translate(DVec3::ZERO) }), pose);
        }
        let huge = GrabDelta { scale: 1e9, ..GrabDelta::translate(DVec3::ZERO) };
        assert_eq!(pose.grabbed(&huge).scale, SCALE_RANGE.1);
        assert_eq!(TwinPose::tabletop(DVec3::ZERO, DVec3::ZERO, f64::NAN, 0.0).scale, 1.0);
    }

    #[test]
    fn rays_map_into_the_twin() {
        let pose = TwinPose::tabletop(DVec3::new(100.0, 0.0, 0.0), DVec3::new(0.0, 0.0, 1.0), 0.01, 0.0);
        // A ray straight down onto the table point goes straight down onto the site centre.
        let r = Ray::new(DVec3::new(0.0, 0.0, 2.0), DVec3::NEG_Z).unwrap();
        let t = pose.ray_to_twin(&r).unwrap();
        assert!(close(t.origin, DVec3::new(100.0, 0.0, 100.0)));
        assert!(close(t.direction, DVec3::NEG_Z));
    }
}
