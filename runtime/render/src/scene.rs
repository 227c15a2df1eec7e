//! The render scene: models placed in the world, the lighting environment, and the views to render.
//!
//! Everything here is plain data. World coordinates are `f64` local ENU metres (+X east, +Y north,
//! +Z up) so a whole city (or a projected CRS origin millions of metres away) keeps millimetre
//! precision; the GPU side subtracts a camera reference point in `f64` before casting to `f32`.
//!
//! Views follow OpenXR: view space is +X right, +Y up, -Z forward, and the field of view is four
//! (possibly asymmetric) angles in radians.

use glam::{DMat3, DMat4, DQuat, DVec3, Vec3};

use crate::model::Model;

/// What to render: models, where they are, and the light.
#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// The models; [`Placement::model`] indexes this list.
    pub models: Vec<Model>,
    /// Where each model instance sits in the world. Placements of the same model are GPU-instanced.
    pub placements: Vec<Placement>,
    /// Sun, sky and exposure.
    pub environment: Environment,
}

/// One instance of a model in the world.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Index into [`Scene::models`]. Out-of-range indices are skipped (with a warning) at render time.
    pub model: usize,
    /// World-from-model transform in `f64` (world = local ENU metres).
    pub world_from_model: DMat4,
}

impl Placement {
    /// A placement of `model` translated to `position` (no rotation or scale).
    pub fn at(model: usize, position: DVec3) -> Placement {
        Placement { model, world_from_model: DMat4::from_translation(position) }
    }
}

/// The lighting environment: one directional sun plus a hemispherical sky/ground ambient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Environment {
    /// Unit vector in world space pointing from the scene toward the sun.
    pub sun_direction: Vec3,
    /// Linear colour of the sun light.
    pub sun_color: Vec3,
    /// Sun strength: the radiance scale applied to `sun_color` (1.0 lights a white Lambertian
    /// surface facing the sun to about `1/π` before ambient and exposure).
    pub sun_illuminance: f32,
    /// Linear sky colour: the zenith of the background gradient and the upper hemisphere of the ambient.
    pub sky_color: Vec3,
    /// Linear ground colour: below the horizon in the background and the lower hemisphere of the ambient.
    pub ground_color: Vec3,
    /// Whether to draw the sky gradient; `false` clears to transparent black (for AR passthrough).
    pub draw_sky: bool,
    /// Linear exposure multiplier applied to lit colour before tone mapping.
    pub exposure: f32,
}

impl Default for Environment {
    /// A mid-morning sun from the south-east, a pale blue sky, a brown-grey ground.
    fn default() -> Self {
        Environment {
            sun_direction: Vec3::new(0.35, -0.45, 0.82).normalize(),
            sun_color: Vec3::new(1.0, 0.96, 0.9),
            sun_illuminance: 6.0,
            sky_color: Vec3::new(0.35, 0.55, 0.9),
            ground_color: Vec3::new(0.25, 0.22, 0.18),
            draw_sky: true,
            exposure: 0.6,
        }
    }
}

/// A field of view as four angles in radians, OpenXR's `XrFovf` convention: `angle_left` and
/// `angle_down` are normally negative, `angle_right` and `angle_up` positive. Asymmetric is allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fov {
    /// Angle of the left frustum plane from the forward axis (negative = left of forward).
    pub angle_left: f32,
    /// Angle of the right frustum plane (positive = right of forward).
    pub angle_right: f32,
    /// Angle of the top frustum plane (positive = above forward).
    pub angle_up: f32,
    /// Angle of the bottom frustum plane (negative = below forward).
    pub angle_down: f32,
}

impl Fov {
    /// A symmetric frustum with vertical field of view `fov_y` (radians) and `aspect` = width / height.
    pub fn symmetric(fov_y: f32, aspect: f32) -> Fov {
        let half_y = fov_y * 0.5;
        let half_x = (half_y.tan() * aspect).atan();
        Fov { angle_left: -half_x, angle_right: half_x, angle_up: half_y, angle_down: -half_y }
    }

    /// Tangents of the four angles: `(left, right, up, down)`.
    pub fn tangents(&self) -> (f32, f32, f32, f32) {
        (self.angle_left.tan(), self.angle_right.tan(), self.angle_up.tan(), self.angle_down.tan())
    }

    /// Whether the angles describe a usable frustum (finite, left < right, down < up, all within ±90°).
    pub fn is_valid(&self) -> bool {
        let lim = std::f32::consts::FRAC_PI_2 - 1e-4;
        let a = [self.angle_left, self.angle_right, self.angle_up, self.angle_down];
        a.iter().all(|x| x.is_finite() && x.abs() < lim)
            && self.angle_left < self.angle_right
            && self.angle_down < self.angle_up
    }
}

/// A camera (one eye of a stereo pair, or a mono view).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    /// Eye position in world space.
    pub position: DVec3,
    /// Rotates view space into world space. View space is OpenXR's: +X right, +Y up, -Z forward.
    pub orientation: DQuat,
    /// Field of view.
    pub fov: Fov,
    /// Near plane distance in metres (the far plane is at infinity; depth is reverse-Z).
    pub near: f32,
}

impl View {
    /// The default near plane distance in metres.
    pub const DEFAULT_NEAR: f32 = 0.05;

    /// A view at `eye` looking at `target`, with `up` (world) as the approximate up direction.
    ///
    /// If `up` is parallel to the viewing direction another up vector is chosen; if `eye == target`
    /// the view looks north (+Y).
    pub fn look_at(eye: DVec3, target: DVec3, up: DVec3, fov: Fov) -> View {
        let forward = (target - eye).try_normalize().unwrap_or(DVec3::Y);
        let mut right = forward.cross(up).try_normalize();
        if right.is_none() {
            for alt in [DVec3::Z, DVec3::Y, DVec3::X] {
                right = forward.cross(alt).try_normalize();
                if right.is_some() {
                    break;
                }
            }
        }
        let right = right.unwrap_or(DVec3::X);
        let true_up = right.cross(forward);
        let orientation = DQuat::from_mat3(&DMat3::from_cols(right, true_up, -forward)).normalize();
        View { position: eye, orientation, fov, near: Self::DEFAULT_NEAR }
    }

    /// A left/right eye pair `ipd` metres apart, centred on `center` and sharing its orientation,
    /// field of view and near plane. Index 0 is the left eye.
    pub fn stereo_pair(center: &View, ipd: f64) -> [View; 2] {
        let right = center.orientation * DVec3::X;
        let half = right * (ipd * 0.5);
        [View { position: center.position - half, ..*center }, View { position: center.position + half, ..*center }]
    }

    /// Unit forward direction (-Z of view space) in world space.
    pub fn forward(&self) -> DVec3 {
        self.orientation * DVec3::NEG_Z
    }

    /// World-from-view transform.
    pub fn world_from_view(&self) -> DMat4 {
        DMat4::from_rotation_translation(self.orientation, self.position)
    }

    /// View-from-world transform relative to `reference`: maps `world - reference` into view space.
    ///
    /// Computed in `f64`; cast to `f32` after this, so large world coordinates do not lose precision.
    pub fn view_from_relative_world(&self, reference: DVec3) -> DMat4 {
        DMat4::from_rotation_translation(self.orientation, self.position - reference).inverse()
    }

    /// Reverse-Z, infinite-far perspective projection for this view's (asymmetric) field of view,
    /// mapping view space (-Z forward) to clip space with depth `near / distance` (1 at the near plane,
    /// 0 at infinity) — use a depth buffer cleared to 0 with a `GreaterEqual` test.
    pub fn projection(&self) -> glam::Mat4 {
        reverse_z_infinite_projection(&self.fov, self.near)
    }
}

/// Reverse-Z infinite-far projection from OpenXR field-of-view angles; see [`View::projection`].
pub fn reverse_z_infinite_projection(fov: &Fov, near: f32) -> glam::Mat4 {
    let (l, r, u, d) = fov.tangents();
    let near = if near.is_finite() && near > 0.0 { near } else { View::DEFAULT_NEAR };
    glam::Mat4::from_cols(
        glam::Vec4::new(2.0 / (r - l), 0.0, 0.0, 0.0),
        glam::Vec4::new(0.0, 2.0 / (u - d), 0.0, 0.0),
        glam::Vec4::new((r + l) / (r - l), (u + d) / (u - d), 0.0, -1.0),
        glam::Vec4::new(0.0, 0.0, near, 0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_at_points_minus_z_at_target() {
        let v =
            View::look_at(DVec3::new(1.0, 2.0, 3.0), DVec3::new(1.0, 12.0, 3.0), DVec3::Z, Fov::symmetric(1.0, 1.0));
        assert!((v.forward() - DVec3::Y).length() < 1e-9);
        assert!(((v.orientation * DVec3::Y) - DVec3::Z).length() < 1e-9);
        assert!(((v.orientation * DVec3::X) - DVec3::X).length() < 1e-9);
    }

    #[test]
    fn look_at_degenerate_up_is_finite() {
        let v = View::look_at(DVec3::ZERO, DVec3::new(0.0, 0.0, -5.0), DVec3::Z, Fov::symmetric(1.0, 1.0));
        assert!(v.orientation.is_finite());
        assert!((v.forward() - DVec3::NEG_Z).length() < 1e-9);
    }

    #[test]
    fn stereo_pair_separates_along_right() {
        let c = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, Fov::symmetric(1.0, 1.0));
        let [l, r] = View::stereo_pair(&c, 0.064);
        assert!((l.position - DVec3::new(-0.032, 0.0, 0.0)).length() < 1e-12);
        assert!((r.position - DVec3::new(0.032, 0.0, 0.0)).length() < 1e-12);
    }

    #[test]
    fn projection_is_reverse_z_and_asymmetric() {
        let fov = Fov { angle_left: -0.2, angle_right: 0.8, angle_up: 0.5, angle_down: -0.5 };
        let p = reverse_z_infinite_projection(&fov, 0.1);
        let near = p.project_point3(Vec3::new(0.0, 0.0, -0.1));
        assert!((near.z - 1.0).abs() < 1e-6);
        let far = p.project_point3(Vec3::new(0.0, 0.0, -1e7));
        assert!(far.z.abs() < 1e-6 && far.z >= 0.0);
        // The forward axis lands left of centre because the frustum extends further right.
        assert!(near.x < 0.0);
        let right_edge = p.project_point3(Vec3::new(0.8f32.tan(), 0.0, -1.0));
        assert!((right_edge.x - 1.0).abs() < 1e-5);
        assert!(fov.is_valid());
        assert!(!Fov { angle_left: 0.9, ..fov }.is_valid());
        assert!(!Fov { angle_up: f32::NAN, ..fov }.is_valid());
    }
}
