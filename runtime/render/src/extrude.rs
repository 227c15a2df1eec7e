//! Building footprints and road centre lines into meshes (CPU only).
//!
//! Input is `f64` in a local ENU frame in metres (+X east, +Y north, +Z up), as the twin's
//! geo-referencing produces it. Output is [`Primitive`]s in `f32`, relative to a caller-given
//! `origin` (subtracted in `f64` before the conversion), so coordinates stay small and precise.
//!
//! - [`Footprint`]: walls (one quad per edge, outward normals, flat shading) and a flat roof
//!   triangulated with earcut, holes supported. Rings are cleaned first: the winding is fixed (outer
//!   counter-clockwise, holes clockwise), repeated, straight-on and spike points are dropped, and a
//!   footprint with a bad outer ring (fewer than 3 points, no area, NaN) is skipped with a warning.
//! - [`RoadPath`]: a flat ribbon lifted slightly above the ground, mitred joins limited to
//!   [`MITER_LIMIT`] half-widths and bevelled beyond.
//! - [`ground_plane`]: a square at z = 0.
//!
//! The model builders ([`buildings_model`], [`roads_model`], [`ground_model`]) merge all features of
//! a layer into as few primitives as possible (chunks of at most [`MAX_CHUNK_VERTICES`] vertices) with
//! one material, and [`extrude_buildings`] / [`extrude_roads`] also return which index range of which
//! primitive each feature became ([`FeatureRange`]), for picking and highlighting.

mod footprint;
mod mesh;
mod road;

use std::ops::Range;

use glam::{DVec2, Mat4, Vec3};

use crate::model::{Material, Mesh, MeshInstance, Model, Primitive};
use mesh::MeshBuf;

/// A road's mitre may reach at most this many half-widths from the centre line; sharper turns are
/// bevelled instead.
pub const MITER_LIMIT: f64 = 2.0;

/// Default height of road ribbons above the ground plane, in metres (avoids z-fighting).
pub const DEFAULT_ROAD_LIFT: f64 = 0.05;

/// Most vertices one merged primitive holds; a feature is never split, so a single feature larger than
/// this gets a primitive of its own.
pub const MAX_CHUNK_VERTICES: usize = 65_536;

/// Roughness of the layer materials (matte: plaster, concrete, asphalt).
pub const LAYER_ROUGHNESS: f32 = 0.9;

/// A building footprint to extrude.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Footprint {
    /// Outer ring in local ENU metres, either winding, closed or not.
    pub outer: Vec<DVec2>,
    /// Inner rings (courtyards), either winding, closed or not.
    pub holes: Vec<Vec<DVec2>>,
    /// Height of the bottom of the walls above the ground, metres (OSM `min_height`).
    pub base: f64,
    /// Height of the roof above the ground, metres (OSM `height`); must be above `base`.
    pub height: f64,
}

/// A road centre line to turn into a ribbon.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoadPath {
    /// Centre line points in local ENU metres.
    pub points: Vec<DVec2>,
    /// Total width of the carriageway, metres.
    pub width: f64,
}

/// Where one input feature landed in a built model: `model.meshes[0].primitives[primitive]`,
/// indices `indices` (triangles `indices.start / 3 .. indices.end / 3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureRange {
    /// Index of the feature in the input slice.
    pub feature: usize,
    /// Index of the primitive in the model's only mesh.
    pub primitive: usize,
    /// Range in that primitive's `indices`.
    pub indices: Range<usize>,
}

/// A built layer model with its warnings and per-feature triangle ranges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extruded {
    /// One mesh (possibly several primitives), one material, one identity instance.
    pub model: Model,
    /// Skipped features and parts, each naming the feature index (also in `model.warnings`).
    pub warnings: Vec<String>,
    /// Where each built feature's triangles are, in input order; skipped features are absent.
    pub features: Vec<FeatureRange>,
}

/// Extrudes one footprint into a primitive (no material) relative to `origin`.
///
/// Returns the primitive and warnings about dropped parts (holes, roof), or an error saying why the
/// whole footprint was skipped.
pub fn footprint_primitive(footprint: &Footprint, origin: DVec2) -> Result<(Primitive, Vec<String>), String> {
    let mut buf = MeshBuf::default();
    let mut warnings = Vec::new();
    footprint::extrude(footprint, origin, &mut buf, &mut warnings)?;
    Ok((buf.into_primitive(None), warnings))
}

/// Builds the ribbon of one road (no material) at height `lift`, relative to `origin`; an error says
/// why the road was skipped (fewer than 2 points, NaN, bad width).
pub fn road_primitive(road: &RoadPath, origin: DVec2, lift: f64) -> Result<Primitive, String> {
    let mut buf = MeshBuf::default();
    road::ribbon(road, origin, lift, &mut buf)?;
    Ok(buf.into_primitive(None))
}

/// A square ground plane at z = 0 facing +Z, `center` ± `half_extent` (in the caller's already
/// origin-relative frame), UVs x/10, y/10. Non-finite or non-positive input gives an empty primitive.
pub fn ground_plane(center: DVec2, half_extent: f64) -> Primitive {
    let mut buf = MeshBuf::default();
    if center.is_finite() && half_extent.is_finite() && half_extent > 0.0 {
        let h = half_extent;
        let corners = [DVec2::new(-h, -h), DVec2::new(h, -h), DVec2::new(h, h), DVec2::new(-h, h)].map(|c| c + center);
        let idx = corners.map(|p| buf.vertex(p.extend(0.0), Vec3::Z, [p.x / 10.0, p.y / 10.0]));
        buf.tri(idx[0], idx[1], idx[2]);
        buf.tri(idx[0], idx[2], idx[3]);
    }
    buf.into_primitive(None)
}

/// Merges per-feature buffers into chunked primitives, remembering where each feature went.
#[derive(Default)]
struct Chunker {
    done: Vec<MeshBuf>,
    current: MeshBuf,
    features: Vec<FeatureRange>,
}

impl Chunker {
    fn add(&mut self, feature: usize, part: MeshBuf) {
        if part.is_empty() {
            return;
        }
        if !self.current.is_empty() && self.current.vertex_count() + part.vertex_count() > MAX_CHUNK_VERTICES {
            self.done.push(std::mem::take(&mut self.current));
        }
        let indices = self.current.append(part);
        self.features.push(FeatureRange { feature, primitive: self.done.len(), indices });
    }

    fn finish(mut self, name: &str, color: [f32; 3], warnings: Vec<String>) -> Extruded {
        if !self.current.is_empty() {
            self.done.push(self.current);
        }
        let primitives = self.done.into_iter().map(|b| b.into_primitive(Some(0))).collect();
        Extruded { model: layer_model(name, primitives, color, warnings.clone()), warnings, features: self.features }
    }
}

/// The single matte material of a layer.
fn layer_material(name: &str, color: [f32; 3]) -> Material {
    Material {
        name: Some(name.to_string()),
        base_color_factor: [color[0], color[1], color[2], 1.0],
        metallic_factor: 0.0,
        roughness_factor: LAYER_ROUGHNESS,
        ..Material::default()
    }
}

/// A model of one mesh with `primitives`, one material, one identity instance.
fn layer_model(name: &str, primitives: Vec<Primitive>, color: [f32; 3], warnings: Vec<String>) -> Model {
    let mut model = Model {
        name: name.to_string(),
        meshes: vec![Mesh { name: Some(name.to_string()), primitives }],
        materials: vec![layer_material(name, color)],
        textures: Vec::new(),
        instances: vec![MeshInstance { mesh: 0, transform: Mat4::IDENTITY }],
        bounds: crate::model::Aabb::EMPTY,
        warnings,
    };
    model.compute_bounds();
    model
}

/// Extrudes all `footprints` into one model named `name`, positions relative to `origin`, with the
/// per-feature triangle ranges. Skipped footprints and dropped parts are reported as warnings that
/// start with `footprint <index>:`.
pub fn extrude_buildings(name: &str, footprints: &[Footprint], origin: DVec2, color: [f32; 3]) -> Extruded {
    let mut chunker = Chunker::default();
    let mut warnings = Vec::new();
    for (i, fp) in footprints.iter().enumerate() {
        let mut buf = MeshBuf::default();
        let mut local = Vec::new();
        match footprint::extrude(fp, origin, &mut buf, &mut local) {
            Ok(()) => chunker.add(i, buf),
            Err(e) => warnings.push(format!("footprint {i}: skipped: {e}")),
        }
        warnings.extend(local.into_iter().map(|w| format!("footprint {i}: {w}")));
    }
    chunker.finish(name, color, warnings)
}

/// [`extrude_buildings`] without the feature ranges: the model and its warnings.
pub fn buildings_model(name: &str, footprints: &[Footprint], origin: DVec2, color: [f32; 3]) -> (Model, Vec<String>) {
    let e = extrude_buildings(name, footprints, origin, color);
    (e.model, e.warnings)
}

/// Builds the ribbons of all `roads` at height `lift` (a non-finite lift uses [`DEFAULT_ROAD_LIFT`])
/// into one model, with per-feature ranges. Skipped roads give warnings starting with `road <index>:`.
pub fn extrude_roads(name: &str, roads: &[RoadPath], origin: DVec2, color: [f32; 3], lift: f64) -> Extruded {
    let lift = if lift.is_finite() { lift } else { DEFAULT_ROAD_LIFT };
    let mut chunker = Chunker::default();
    let mut warnings = Vec::new();
    for (i, r) in roads.iter().enumerate() {
        let mut buf = MeshBuf::default();
        match road::ribbon(r, origin, lift, &mut buf) {
            Ok(()) => chunker.add(i, buf),
            Err(e) => warnings.push(format!("road {i}: skipped: {e}")),
        }
    }
    chunker.finish(name, color, warnings)
}

/// [`extrude_roads`] without the feature ranges: the model and its warnings.
pub fn roads_model(name: &str, roads: &[RoadPath], origin: DVec2, color: [f32; 3], lift: f64) -> (Model, Vec<String>) {
    let e = extrude_roads(name, roads, origin, color, lift);
    (e.model, e.warnings)
}

/// A model holding [`ground_plane`]`(center, half_extent)` with one matte material of `color`.
pub fn ground_model(name: &str, center: DVec2, half_extent: f64, color: [f32; 3]) -> Model {
    let mut plane = ground_plane(center, half_extent);
    plane.material = Some(0);
    let primitives = if plane.indices.is_empty() { Vec::new() } else { vec![plane] };
    layer_model(name, primitives, color, Vec::new())
}

#[cfg(test)]
mod tests;
