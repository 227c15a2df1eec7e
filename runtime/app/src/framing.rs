//! Automatic framing of a bare glTF model: a scene holding just the model and a camera that sees all of it.

use glam::{DMat4, DVec3, Vec3};
use sangam_render::model::Model;
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};

/// Vertical field of view of the automatic camera, in degrees.
const FRAMING_FOV_Y_DEG: f64 = 45.0;

/// A scene showing `model` alone, lit by the default sun, with no ground.
pub fn scene_for_model(model: Model) -> Scene {
    Scene {
        models: vec![model],
        placements: vec![Placement { model: 0, world_from_model: DMat4::IDENTITY }],
        environment: Environment::default(),
    }
}

/// A camera looking at the whole of `model` from the south-west and a little above, at a distance
/// where its bounding sphere fits the field of view for the given aspect ratio (width / height).
pub fn view_for_model(model: &Model, aspect: f64) -> View {
    let (center, radius) = if model.bounds.is_empty() {
        (Vec3::ZERO, 1.0)
    } else {
        (model.bounds.center(), (model.bounds.size().length() * 0.5).max(1e-3))
    };
    let center = center.as_dvec3();
    let radius = f64::from(radius);
    let half_fov_y = (FRAMING_FOV_Y_DEG.to_radians() * 0.5).tan().atan();
    let half_fov_x = (half_fov_y.tan() * aspect).atan();
    let half_fov = half_fov_y.min(half_fov_x);
    let distance = radius / half_fov.sin() * 1.05;
    let (azimuth, elevation) = (215f64.to_radians(), 25f64.to_radians());
    // Azimuth clockwise from north: direction from the model to the eye.
    let dir = DVec3::new(azimuth.sin() * elevation.cos(), azimuth.cos() * elevation.cos(), elevation.sin());
    let eye = center + dir * distance;
    let fov = Fov::symmetric(FRAMING_FOV_Y_DEG.to_radians() as f32, aspect as f32);
    let mut view = View::look_at(eye, center, DVec3::Z, fov);
    view.near = (distance - radius).max(radius * 1e-3).max(1e-3) as f32 * 0.5;
    view
}
