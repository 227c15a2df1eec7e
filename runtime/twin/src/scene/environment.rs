//! The `[environment]` table: sun, ground and sky, with defaults applied; the ground's default
//! extent covers every layer and placement. Cost: a few comparisons, plus, without a
//! `ground_extent`, one pass over the layers' geometry and the placed positions.

use glam::DVec3;
use serde_spanned::Spanned;

use super::placements::{InstanceGroup, Placement};
use super::raw::RawEnvironment;
use super::{Cx, SceneError};
use crate::geojson::Layer;

/// Lighting and ground, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Sun azimuth, degrees clockwise from north (default 135).
    pub sun_azimuth_deg: f64,
    /// Sun elevation, degrees above the horizon (default 50).
    pub sun_elevation_deg: f64,
    /// Whether to draw a ground plane (default true).
    pub ground: bool,
    /// Ground colour, linear RGB (default [0.42, 0.45, 0.38]).
    pub ground_color: [f32; 3],
    /// Half-size of the ground square, metres (default: the extent of layers and placements + 200 m).
    pub ground_extent_m: f64,
    /// Sky colour, linear RGB (default [0.55, 0.70, 0.90]).
    pub sky_color: [f32; 3],
}

impl Environment {
    /// Unit ENU vector pointing from the ground towards the sun.
    pub fn sun_direction(&self) -> DVec3 {
        let (sa, ca) = self.sun_azimuth_deg.to_radians().sin_cos();
        let (se, ce) = self.sun_elevation_deg.to_radians().sin_cos();
        DVec3::new(sa * ce, ca * ce, se)
    }
}

impl Cx<'_> {
    /// The environment (every key optional).
    pub(super) fn environment(
        &self,
        env: Option<&RawEnvironment>,
        layers: &[Layer],
        placements: &[Placement],
        instance_groups: &[InstanceGroup],
    ) -> Result<Environment, SceneError> {
        let sun_elevation = self.angle(env.and_then(|e| e.sun_elevation.as_ref()), "sun_elevation", 50.0)?;
        if !(-90.0..=90.0).contains(&sun_elevation) {
            let s = env.and_then(|e| e.sun_elevation.as_ref()).map_or(0..0, Spanned::span);
            return Err(self.err(s, format!("sun_elevation {sun_elevation} must be in -90..90 degrees")));
        }
        let ground_extent_m = match env.and_then(|e| e.ground_extent.as_ref()) {
            Some(g) => self.positive(Some(g), "ground_extent", 1.0)?,
            None => default_ground_extent(layers, placements, instance_groups),
        };
        Ok(Environment {
            sun_azimuth_deg: self.angle(env.and_then(|e| e.sun_azimuth.as_ref()), "sun_azimuth", 135.0)?,
            sun_elevation_deg: sun_elevation,
            ground: env.and_then(|e| e.ground).unwrap_or(true),
            ground_color: self.color(env.and_then(|e| e.ground_color.as_ref()), "ground_color", [0.42, 0.45, 0.38])?,
            ground_extent_m,
            sky_color: self.color(env.and_then(|e| e.sky_color.as_ref()), "sky_color", [0.55, 0.70, 0.90])?,
        })
    }
}

/// The ground's half-size when the scene gives none: 200 m beyond the farthest layer geometry or
/// placed position (east or north of the origin, either way).
fn default_ground_extent(layers: &[Layer], placements: &[Placement], instance_groups: &[InstanceGroup]) -> f64 {
    let mut r: f64 = 0.0;
    for l in layers {
        if let Some((lo, hi)) = l.bounds() {
            r = r.max(lo.abs().max_element()).max(hi.abs().max_element());
        }
    }
    let positions = placements
        .iter()
        .map(|p| p.position)
        .chain(instance_groups.iter().flat_map(|g| g.members.iter().map(|m| m.position)));
    for p in positions {
        r = r.max(p.x.abs()).max(p.y.abs());
    }
    r + 200.0
}
