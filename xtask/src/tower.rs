//! Procedural, illustrative telecom masts written as glTF 2.0 binaries (`cargo xtask gen-assets`).
//!
//! Two models, both in glTF conventions (metres, +Y up, origin at the centre of the base on the
//! ground) and deterministic (the same bytes on every run, so the committed files can be checked):
//!
//! - [`write_lattice_tower_glb`]: a ~30 m square-section tapered lattice tower: four legs, horizontal
//!   rings and X bracing as thin boxes with per-face normals, red/white aviation bands on the top
//!   section, a platform with a railing, three sector panel antennas at 120°, two microwave dishes, a
//!   lightning rod and beacon, and a concrete base pad with footings.
//! - [`write_monopole_glb`]: a ~12 m street pole: a tapered steel cylinder, one small antenna
//!   canister and a concrete base.
//!
//! The models are illustrative, made by the Sangam project (Apache-2.0); they are not surveyed data.

use std::f32::consts::TAU;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

/// `asset.generator` of the written files.
pub const GENERATOR: &str = "sangam xtask (procedural)";
/// `asset.copyright` of the written files.
pub const COPYRIGHT: &str =
    "Illustrative model made by the Sangam project, procedurally generated; Apache-2.0. Not surveyed data.";

type V3 = [f32; 3];

fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn mul(a: V3, s: f32) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn length(a: V3) -> f32 {
    dot(a, a).sqrt()
}
fn normalize(a: V3) -> V3 {
    mul(a, 1.0 / length(a))
}
/// A horizontal unit vector at `azimuth` radians from +X toward -Z (counter-clockwise seen from above).
fn horizontal(azimuth: f32) -> V3 {
    [azimuth.cos(), 0.0, -azimuth.sin()]
}

/// The materials the models use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mat {
    Steel,
    White,
    Red,
    Concrete,
}

impl Mat {
    const ALL: [Mat; 4] = [Mat::Steel, Mat::White, Mat::Red, Mat::Concrete];

    fn json(self) -> Value {
        let (name, color, metallic, roughness) = match self {
            Mat::Steel => ("steel", [0.56, 0.57, 0.58, 1.0], 0.9, 0.4),
            Mat::White => ("antenna_white", [0.9, 0.9, 0.88, 1.0], 0.0, 0.6),
            Mat::Red => ("aviation_red", [0.8, 0.1, 0.1, 1.0], 0.0, 0.5),
            Mat::Concrete => ("concrete", [0.55, 0.54, 0.5, 1.0], 0.0, 0.95),
        };
        json!({
            "name": name,
            "pbrMetallicRoughness": {
                "baseColorFactor": color,
                "metallicFactor": metallic,
                "roughnessFactor": roughness,
            },
        })
    }
}

/// Triangles of one material.
#[derive(Clone, Debug, Default)]
struct Part {
    positions: Vec<V3>,
    normals: Vec<V3>,
    indices: Vec<u32>,
}

impl Part {
    fn vertex(&mut self, p: V3, n: V3) -> u32 {
        self.positions.push(p);
        self.normals.push(n);
        (self.positions.len() - 1) as u32
    }

    /// A flat quad `a b c d`, turned so that it faces `normal`.
    fn quad(&mut self, [a, b, c, d]: [V3; 4], normal: V3) {
        let i = [a, b, c, d].map(|p| self.vertex(p, normal));
        let facing = dot(cross(sub(b, a), sub(c, a)), normal) >= 0.0;
        let tris = if facing { [i[0], i[1], i[2], i[0], i[2], i[3]] } else { [i[0], i[2], i[1], i[0], i[3], i[2]] };
        self.indices.extend_from_slice(&tris);
    }

    /// An oriented box: `centre` and three orthogonal half-axis vectors; 6 faces, 4 vertices each.
    fn oriented_box(&mut self, centre: V3, axes: [V3; 3]) {
        for i in 0..3 {
            let (aj, ak) = (axes[(i + 1) % 3], axes[(i + 2) % 3]);
            for s in [1.0, -1.0] {
                let f = add(centre, mul(axes[i], s));
                let n = normalize(mul(axes[i], s));
                let corners = [sub(sub(f, aj), ak), sub(add(f, aj), ak), add(add(f, aj), ak), add(sub(f, aj), ak)];
                self.quad(corners, n);
            }
        }
    }

    /// An axis-aligned box from `min` to `max`.
    fn aabb(&mut self, min: V3, max: V3) {
        let c = mul(add(min, max), 0.5);
        let h = mul(sub(max, min), 0.5);
        self.oriented_box(c, [[h[0], 0.0, 0.0], [0.0, h[1], 0.0], [0.0, 0.0, h[2]]]);
    }

    /// A square-section beam of side `thickness` from `a` to `b`.
    fn beam(&mut self, a: V3, b: V3, thickness: f32) {
        let axis = sub(b, a);
        let dir = normalize(axis);
        let hint = if dir[1].abs() > 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
        let u = normalize(cross(dir, hint));
        let w = cross(dir, u);
        let t = thickness * 0.5;
        self.oriented_box(mul(add(a, b), 0.5), [mul(axis, 0.5), mul(u, t), mul(w, t)]);
    }

    /// A (possibly tapered) cylinder along `axis` (unit) from `base`, radii `r0` at the base and `r1`
    /// at the far end, `segments` sides with smooth normals and two flat caps.
    fn cylinder(&mut self, base: V3, axis: V3, len: f32, r0: f32, r1: f32, segments: u32) {
        let axis = normalize(axis);
        let hint = if axis[1].abs() > 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
        let u = normalize(cross(axis, hint));
        let w = cross(axis, u);
        let top = add(base, mul(axis, len));
        let slope = (r0 - r1) / len;
        let ring = |k: u32| {
            let a = TAU * k as f32 / segments as f32;
            add(mul(u, a.cos()), mul(w, a.sin()))
        };
        let first = self.positions.len() as u32;
        for k in 0..segments {
            let r = ring(k);
            let n = normalize(add(r, mul(axis, slope)));
            self.vertex(add(base, mul(r, r0)), n);
            self.vertex(add(top, mul(r, r1)), n);
        }
        for k in 0..segments {
            let (b0, t0) = (first + 2 * k, first + 2 * k + 1);
            let k1 = (k + 1) % segments;
            let (b1, t1) = (first + 2 * k1, first + 2 * k1 + 1);
            // u × w = axis, so the ring runs counter-clockwise seen from the far end; both triangles
            // are then counter-clockwise seen from outside.
            self.indices.extend_from_slice(&[b0, t1, t0, b0, b1, t1]);
        }
        for (centre, n, r) in [(base, mul(axis, -1.0), r0), (top, axis, r1)] {
            let c = self.vertex(centre, n);
            let rim: Vec<u32> = (0..segments).map(|k| self.vertex(add(centre, mul(ring(k), r)), n)).collect();
            for k in 0..segments as usize {
                let (a, b) = (rim[k], rim[(k + 1) % segments as usize]);
                // u -> w around the axis is counter-clockwise seen from the +axis side.
                if dot(n, axis) > 0.0 {
                    self.indices.extend_from_slice(&[c, a, b]);
                } else {
                    self.indices.extend_from_slice(&[c, b, a]);
                }
            }
        }
    }
}

/// A named mesh with one part per material.
#[derive(Clone, Debug)]
struct MeshDef {
    name: &'static str,
    parts: Vec<(Mat, Part)>,
}

impl MeshDef {
    fn new(name: &'static str) -> MeshDef {
        MeshDef { name, parts: Vec::new() }
    }

    fn part(&mut self, mat: Mat) -> &mut Part {
        let i = match self.parts.iter().position(|(m, _)| *m == mat) {
            Some(i) => i,
            None => {
                self.parts.push((mat, Part::default()));
                self.parts.len() - 1
            }
        };
        &mut self.parts[i].1
    }
}

// Lattice tower dimensions, metres.
const PAD_HALF: f32 = 3.3;
const PAD_TOP: f32 = 0.3;
const PAD_BOTTOM: f32 = -0.2;
const FOOTING_TOP: f32 = 0.6;
const TOWER_TOP: f32 = 30.0;
const BASE_HALF_WIDTH: f32 = 2.4;
const TOP_HALF_WIDTH: f32 = 0.75;
const PANELS: u32 = 10;
const BANDS_FROM: f32 = 24.0;
const BANDS: u32 = 5;
const PLATFORM_Y: f32 = 26.2;

/// Half-width of the lattice (leg centre lines) at height `y`.
fn half_width(y: f32) -> f32 {
    let t = (y - FOOTING_TOP) / (TOWER_TOP - FOOTING_TOP);
    BASE_HALF_WIDTH + (TOP_HALF_WIDTH - BASE_HALF_WIDTH) * t
}

/// Aviation marking: red and white bands over the top section, red at both ends; steel below.
fn band_material(y: f32) -> Mat {
    if y < BANDS_FROM {
        return Mat::Steel;
    }
    let band = ((y - BANDS_FROM) / ((TOWER_TOP - BANDS_FROM) / BANDS as f32)) as u32;
    if band.min(BANDS - 1).is_multiple_of(2) { Mat::Red } else { Mat::White }
}

/// The four leg positions at height `y`, counter-clockwise seen from above.
fn corners(y: f32) -> [V3; 4] {
    let h = half_width(y);
    [[h, y, h], [h, y, -h], [-h, y, -h], [-h, y, h]]
}

fn lattice_meshes() -> Vec<MeshDef> {
    let mut structure = MeshDef::new("tower_structure");
    let panel = (TOWER_TOP - FOOTING_TOP) / PANELS as f32;
    let levels: Vec<f32> = (0..=PANELS).map(|k| FOOTING_TOP + panel * k as f32).collect();

    // Legs, cut at every level and band boundary so each piece has one colour.
    let mut cuts: Vec<f32> = levels.clone();
    cuts.extend((1..BANDS).map(|b| BANDS_FROM + (TOWER_TOP - BANDS_FROM) * b as f32 / BANDS as f32));
    cuts.push(BANDS_FROM);
    cuts.sort_by(f32::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    for w in cuts.windows(2) {
        let (lo, hi) = (corners(w[0]), corners(w[1]));
        let mat = band_material((w[0] + w[1]) * 0.5);
        for i in 0..4 {
            structure.part(mat).beam(lo[i], hi[i], 0.16);
        }
    }
    // Horizontal rings at every level, X bracing on every face of every panel.
    for (k, &y) in levels.iter().enumerate() {
        let c = corners(y);
        let mat = band_material(y.min(TOWER_TOP - 0.01));
        for i in 0..4 {
            structure.part(mat).beam(c[i], c[(i + 1) % 4], 0.09);
        }
        if let Some(&y1) = levels.get(k + 1) {
            let c1 = corners(y1);
            let mat = band_material((y + y1) * 0.5);
            for i in 0..4 {
                let j = (i + 1) % 4;
                structure.part(mat).beam(c[i], c1[j], 0.07);
                structure.part(mat).beam(c[j], c1[i], 0.07);
            }
        }
    }
    // Lightning rod and aviation beacon on top.
    structure.part(Mat::Steel).cylinder([0.0, TOWER_TOP, 0.0], [0.0, 1.0, 0.0], 2.5, 0.04, 0.015, 8);
    structure.part(Mat::Steel).aabb([-TOP_HALF_WIDTH, TOWER_TOP, -0.06], [TOP_HALF_WIDTH, TOWER_TOP + 0.1, 0.06]);
    structure.part(Mat::Steel).aabb([-0.06, TOWER_TOP, -TOP_HALF_WIDTH], [0.06, TOWER_TOP + 0.1, TOP_HALF_WIDTH]);
    structure.part(Mat::Red).cylinder([TOP_HALF_WIDTH, TOWER_TOP + 0.1, 0.0], [0.0, 1.0, 0.0], 0.25, 0.1, 0.1, 12);

    // Platform: a grating slab around the lattice with a railing.
    let mut platform = MeshDef::new("platform");
    let ph = half_width(PLATFORM_Y) + 1.0;
    let steel = platform.part(Mat::Steel);
    steel.aabb([-ph, PLATFORM_Y - 0.08, -ph], [ph, PLATFORM_Y, ph]);
    let rail = [[ph, 0.0, ph], [ph, 0.0, -ph], [-ph, 0.0, -ph], [-ph, 0.0, ph]];
    for i in 0..4 {
        let (a, b) = (rail[i], rail[(i + 1) % 4]);
        for t in [0.0, 0.5] {
            let p = add(a, mul(sub(b, a), t));
            steel.beam(add(p, [0.0, PLATFORM_Y, 0.0]), add(p, [0.0, PLATFORM_Y + 1.1, 0.0]), 0.05);
        }
        for y in [0.55, 1.1] {
            steel.beam(add(a, [0.0, PLATFORM_Y + y, 0.0]), add(b, [0.0, PLATFORM_Y + y, 0.0]), 0.05);
        }
    }

    // Three sector panels at 120°, each on a mounting pipe held by two arms.
    let mut sectors = MeshDef::new("sector_antennas");
    for s in 0..3 {
        let dir = horizontal(TAU * s as f32 / 3.0);
        let side = cross([0.0, 1.0, 0.0], dir);
        let r = ph + 0.25;
        let pipe = mul(dir, r);
        sectors.part(Mat::Steel).cylinder(add(pipe, [0.0, PLATFORM_Y, 0.0]), [0.0, 1.0, 0.0], 3.0, 0.045, 0.045, 10);
        for y in [PLATFORM_Y + 0.9, PLATFORM_Y + 2.3] {
            let inner = mul(dir, half_width(y));
            sectors.part(Mat::Steel).beam(add(inner, [0.0, y, 0.0]), add(pipe, [0.0, y, 0.0]), 0.06);
        }
        let centre = add(mul(dir, r + 0.16), [0.0, PLATFORM_Y + 1.6, 0.0]);
        sectors.part(Mat::White).oriented_box(centre, [mul(dir, 0.065), [0.0, 0.72, 0.0], mul(side, 0.16)]);
    }

    // Two microwave dishes below the platform, each on an arm.
    let mut dishes = MeshDef::new("microwave_dishes");
    for (azimuth_deg, y) in [(60.0_f32, 21.8_f32), (200.0, 23.2)] {
        let dir = horizontal(azimuth_deg.to_radians());
        let hw = half_width(y);
        let back = mul(dir, hw * std::f32::consts::SQRT_2 + 0.35);
        dishes.part(Mat::Steel).beam(add(mul(dir, hw), [0.0, y, 0.0]), add(back, [0.0, y, 0.0]), 0.08);
        dishes.part(Mat::White).cylinder(add(back, [0.0, y, 0.0]), dir, 0.3, 0.33, 0.36, 24);
    }

    // Concrete pad and one footing per leg.
    let mut pad = MeshDef::new("base_pad");
    let concrete = pad.part(Mat::Concrete);
    concrete.aabb([-PAD_HALF, PAD_BOTTOM, -PAD_HALF], [PAD_HALF, PAD_TOP, PAD_HALF]);
    for c in corners(FOOTING_TOP) {
        concrete.aabb([c[0] - 0.4, PAD_TOP, c[2] - 0.4], [c[0] + 0.4, FOOTING_TOP, c[2] + 0.4]);
    }

    vec![structure, platform, sectors, dishes, pad]
}

fn monopole_meshes() -> Vec<MeshDef> {
    let mut pole = MeshDef::new("pole");
    pole.part(Mat::Steel).cylinder([0.0, 0.25, 0.0], [0.0, 1.0, 0.0], 10.75, 0.17, 0.09, 20);
    // A short side arm carrying the antenna.
    pole.part(Mat::Steel).beam([0.0, 10.6, 0.0], [0.45, 10.6, 0.0], 0.06);
    let mut antenna = MeshDef::new("antenna");
    antenna.part(Mat::White).cylinder([0.45, 10.2, 0.0], [0.0, 1.0, 0.0], 1.3, 0.09, 0.09, 16);
    antenna.part(Mat::White).cylinder([0.0, 11.0, 0.0], [0.0, 1.0, 0.0], 1.0, 0.13, 0.13, 16);
    let mut base = MeshDef::new("base");
    base.part(Mat::Concrete).cylinder([0.0, -0.05, 0.0], [0.0, 1.0, 0.0], 0.3, 0.5, 0.45, 24);
    vec![pole, antenna, base]
}

/// Appends `bytes` to `bin` at a 4-byte aligned offset, returning the buffer view index.
fn push_view(bin: &mut Vec<u8>, views: &mut Vec<Value>, bytes: &[u8], target: u32) -> usize {
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    views.push(json!({ "buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len(), "target": target }));
    bin.extend_from_slice(bytes);
    views.len() - 1
}

const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const UNSIGNED_SHORT: u32 = 5123;
const UNSIGNED_INT: u32 = 5125;

/// Serialises `meshes` (one node each, under a root node `root`) into a GLB.
fn glb(root: &str, meshes: &[MeshDef]) -> anyhow::Result<Vec<u8>> {
    let used: Vec<Mat> =
        Mat::ALL.into_iter().filter(|m| meshes.iter().any(|d| d.parts.iter().any(|(p, _)| p == m))).collect();
    let mut bin = Vec::new();
    let mut views = Vec::new();
    let mut accessors = Vec::new();
    let mut json_meshes = Vec::new();
    for def in meshes {
        let mut prims = Vec::new();
        for (mat, part) in &def.parts {
            let count = part.positions.len();
            anyhow::ensure!(count > 0 && !part.indices.is_empty(), "mesh {} has an empty {mat:?} part", def.name);
            let mut min = [f32::INFINITY; 3];
            let mut max = [f32::NEG_INFINITY; 3];
            for p in &part.positions {
                for k in 0..3 {
                    min[k] = min[k].min(p[k]);
                    max[k] = max[k].max(p[k]);
                }
            }
            let pos_bytes: Vec<u8> = part.positions.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
            let nor_bytes: Vec<u8> = part.normals.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
            let pos_view = push_view(&mut bin, &mut views, &pos_bytes, ARRAY_BUFFER);
            accessors.push(json!({
                "bufferView": pos_view, "componentType": FLOAT, "count": count, "type": "VEC3", "min": min, "max": max,
            }));
            let pos = accessors.len() - 1;
            let nor_view = push_view(&mut bin, &mut views, &nor_bytes, ARRAY_BUFFER);
            accessors.push(json!({ "bufferView": nor_view, "componentType": FLOAT, "count": count, "type": "VEC3" }));
            let nor = accessors.len() - 1;
            let (idx_bytes, ty): (Vec<u8>, u32) = if count <= usize::from(u16::MAX) {
                (part.indices.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect(), UNSIGNED_SHORT)
            } else {
                (part.indices.iter().flat_map(|i| i.to_le_bytes()).collect(), UNSIGNED_INT)
            };
            let idx_view = push_view(&mut bin, &mut views, &idx_bytes, ELEMENT_ARRAY_BUFFER);
            accessors.push(json!({
                "bufferView": idx_view, "componentType": ty, "count": part.indices.len(), "type": "SCALAR",
            }));
            let material = used.iter().position(|m| m == mat).context("material list is missing a used material")?;
            prims.push(json!({
                "attributes": { "POSITION": pos, "NORMAL": nor },
                "indices": accessors.len() - 1,
                "material": material,
                "mode": 4,
            }));
        }
        json_meshes.push(json!({ "name": def.name, "primitives": prims }));
    }
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let mut nodes = vec![json!({ "name": root, "children": (1..=meshes.len()).collect::<Vec<_>>() })];
    nodes.extend(meshes.iter().enumerate().map(|(i, m)| json!({ "name": m.name, "mesh": i })));
    let doc = json!({
        "asset": { "version": "2.0", "generator": GENERATOR, "copyright": COPYRIGHT },
        "scene": 0,
        "scenes": [{ "name": root, "nodes": [0] }],
        "nodes": nodes,
        "meshes": json_meshes,
        "materials": used.iter().map(|m| m.json()).collect::<Vec<_>>(),
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{ "byteLength": bin.len() }],
    });
    let mut json_bytes = serde_json::to_vec(&doc).context("serialising the glTF JSON")?;
    while !json_bytes.len().is_multiple_of(4) {
        json_bytes.push(b' ');
    }
    let total = 12 + 8 + json_bytes.len() + 8 + bin.len();
    let total = u32::try_from(total).context("the GLB is larger than 4 GiB")?;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&(json_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json_bytes);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    Ok(out)
}

/// The lattice tower as GLB bytes (deterministic).
pub fn lattice_tower_glb() -> anyhow::Result<Vec<u8>> {
    glb("lattice_tower", &lattice_meshes())
}

/// The monopole as GLB bytes (deterministic).
pub fn monopole_glb() -> anyhow::Result<Vec<u8>> {
    glb("monopole", &monopole_meshes())
}

/// Writes the illustrative ~30 m lattice tower to `path` (a `.glb`), creating its folder.
pub fn write_lattice_tower_glb(path: &Path) -> anyhow::Result<()> {
    write(path, &lattice_tower_glb()?)
}

/// Writes the illustrative ~12 m street monopole to `path` (a `.glb`), creating its folder.
pub fn write_monopole_glb(path: &Path) -> anyhow::Result<()> {
    write(path, &monopole_glb()?)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the folder {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> gltf::Gltf {
        gltf::Gltf::from_slice(bytes).expect("the GLB parses and validates")
    }

    /// Checks the structure every written model must have, returning its triangle count.
    fn check_model(bytes: &[u8], root: &str, want_meshes: &[&str]) -> usize {
        assert_eq!(&bytes[0..4], b"glTF");
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, bytes.len());
        let g = parse(bytes);
        let asset = &g.document.as_json().asset;
        assert_eq!(asset.generator.as_deref(), Some(GENERATOR));
        assert!(asset.copyright.as_deref().is_some_and(|c| c.contains("Sangam") && c.contains("Apache-2.0")));
        let names: Vec<&str> = g.meshes().filter_map(|m| m.name()).collect();
        assert_eq!(names, want_meshes);
        assert_eq!(g.buffers().count(), 1);
        let blob = g.blob.as_deref().expect("a BIN chunk");
        let scene = g.default_scene().expect("a default scene");
        let roots: Vec<_> = scene.nodes().collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].name(), Some(root));
        assert_eq!(roots[0].children().count(), want_meshes.len());
        let mut triangles = 0;
        for mesh in g.meshes() {
            for prim in mesh.primitives() {
                assert_eq!(prim.mode(), gltf::mesh::Mode::Triangles);
                assert!(prim.material().index().is_some());
                let pos = prim.get(&gltf::Semantic::Positions).unwrap();
                assert!(pos.min().is_some() && pos.max().is_some(), "POSITION needs min/max");
                for view in [pos.view(), prim.indices().unwrap().view()].into_iter().flatten() {
                    assert_eq!(view.offset() % 4, 0, "buffer views are 4-byte aligned");
                }
                let reader = prim.reader(|_| Some(blob));
                let positions: Vec<[f32; 3]> = reader.read_positions().unwrap().collect();
                let normals: Vec<[f32; 3]> = reader.read_normals().unwrap().collect();
                let indices: Vec<u32> = reader.read_indices().unwrap().into_u32().collect();
                assert_eq!(positions.len(), normals.len());
                let (min, max) = (pos.min().unwrap(), pos.max().unwrap());
                for (k, p) in positions.iter().enumerate() {
                    for c in 0..3 {
                        assert!(p[c] >= min[c].as_f64().unwrap() as f32 && p[c] <= max[c].as_f64().unwrap() as f32);
                    }
                    assert!((length(normals[k]) - 1.0).abs() < 1e-4, "unit normals");
                }
                assert_eq!(indices.len() % 3, 0);
                for t in indices.chunks_exact(3) {
                    let [a, b, c] = [0, 1, 2].map(|k| positions[t[k] as usize]);
                    let face = cross(sub(b, a), sub(c, a));
                    if length(face) < 1e-9 {
                        continue;
                    }
                    for &i in t {
                        assert!(
                            dot(face, normals[i as usize]) > 0.0,
                            "{}: a triangle faces against its normals",
                            mesh.name().unwrap()
                        );
                    }
                }
                triangles += indices.len() / 3;
            }
        }
        triangles
    }

    fn bounds(bytes: &[u8]) -> ([f32; 3], [f32; 3]) {
        let g = parse(bytes);
        let mut min = [f32::INFINITY; 3];
        let mut max = [f32::NEG_INFINITY; 3];
        for acc in g.accessors().filter(|a| a.min().is_some()) {
            for c in 0..3 {
                min[c] = min[c].min(acc.min().unwrap()[c].as_f64().unwrap() as f32);
                max[c] = max[c].max(acc.max().unwrap()[c].as_f64().unwrap() as f32);
            }
        }
        (min, max)
    }

    fn material_names(bytes: &[u8]) -> Vec<String> {
        parse(bytes).materials().filter_map(|m| m.name().map(str::to_string)).collect()
    }

    #[test]
    fn lattice_tower_is_valid_and_complete() {
        let bytes = lattice_tower_glb().unwrap();
        let tris = check_model(
            &bytes,
            "lattice_tower",
            &["tower_structure", "platform", "sector_antennas", "microwave_dishes", "base_pad"],
        );
        assert!((1_000..30_000).contains(&tris), "{tris} triangles");
        let (min, max) = bounds(&bytes);
        assert!((max[1] - 32.5).abs() < 0.1 && (min[1] - PAD_BOTTOM).abs() < 1e-5, "height {min:?}..{max:?}");
        assert!(min[0] > -4.0 && max[0] < 4.0 && min[2] > -4.0 && max[2] < 4.0, "footprint {min:?}..{max:?}");
        assert_eq!(material_names(&bytes), ["steel", "antenna_white", "aviation_red", "concrete"]);
        let g = parse(&bytes);
        let steel = g.materials().find(|m| m.name() == Some("steel")).unwrap().pbr_metallic_roughness();
        assert_eq!((steel.metallic_factor(), steel.roughness_factor()), (0.9, 0.4));
        let red = g.materials().find(|m| m.name() == Some("aviation_red")).unwrap();
        assert_eq!(red.pbr_metallic_roughness().base_color_factor(), [0.8, 0.1, 0.1, 1.0]);
        // Three sector panels: the white part of sector_antennas is three boxes of 12 triangles.
        let sectors = g.meshes().find(|m| m.name() == Some("sector_antennas")).unwrap();
        let white = sectors.primitives().find(|p| p.material().name() == Some("antenna_white")).unwrap();
        assert_eq!(white.indices().unwrap().count(), 3 * 12 * 3);
    }

    #[test]
    fn aviation_bands_alternate_red_and_white_on_the_top_section_only() {
        assert_eq!(band_material(10.0), Mat::Steel);
        assert_eq!(band_material(BANDS_FROM + 0.1), Mat::Red);
        assert_eq!(band_material(BANDS_FROM + 1.3), Mat::White);
        assert_eq!(band_material(TOWER_TOP - 0.1), Mat::Red);
        assert_eq!(band_material(TOWER_TOP), Mat::Red);
    }

    #[test]
    fn monopole_is_valid_and_about_twelve_metres() {
        let bytes = monopole_glb().unwrap();
        let tris = check_model(&bytes, "monopole", &["pole", "antenna", "base"]);
        assert!(tris < 2_000, "{tris} triangles");
        let (min, max) = bounds(&bytes);
        assert!((11.5..13.0).contains(&max[1]) && min[1] < 0.0, "height {min:?}..{max:?}");
        assert_eq!(material_names(&bytes), ["steel", "antenna_white", "concrete"]);
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(lattice_tower_glb().unwrap(), lattice_tower_glb().unwrap());
        assert_eq!(monopole_glb().unwrap(), monopole_glb().unwrap());
    }

    #[test]
    fn write_creates_the_folder_and_the_file() {
        let dir = std::env::temp_dir().join(format!("sangam-tower-test-{}", std::process::id()));
        let path = dir.join("models").join("lattice_tower.glb");
        write_lattice_tower_glb(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), lattice_tower_glb().unwrap());
        write_monopole_glb(&dir.join("monopole.glb")).unwrap();
        assert_eq!(std::fs::read(dir.join("monopole.glb")).unwrap(), monopole_glb().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn committed_assets_match_the_generator() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models");
        for (file, bytes) in [("lattice_tower.glb", lattice_tower_glb()), ("monopole.glb", monopole_glb())] {
            let committed = std::fs::read(models.join(file)).unwrap_or_default();
            assert!(committed == bytes.unwrap(), "assets/models/{file} is stale: run `cargo xtask gen-assets`");
        }
    }
}
