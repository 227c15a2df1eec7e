//! A growable triangle buffer shared by the footprint and road builders.

use std::ops::Range;

use glam::{DVec2, DVec3, Vec3};

use crate::model::{Aabb, Primitive};

/// Triangles (doubled area) at or below this, in m², are dropped as degenerate.
const MIN_DOUBLE_AREA: f64 = 1e-12;

/// Vertex and index arrays under construction, positions already relative to the caller's origin.
#[derive(Clone, Debug, Default)]
pub(crate) struct MeshBuf {
    pub(crate) positions: Vec<[f32; 3]>,
    pub(crate) normals: Vec<[f32; 3]>,
    pub(crate) uv0: Vec<[f32; 2]>,
    pub(crate) indices: Vec<u32>,
}

impl MeshBuf {
    /// Number of vertices.
    pub(crate) fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    /// Whether there is no triangle.
    pub(crate) fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Adds a vertex and returns its index.
    pub(crate) fn vertex(&mut self, p: DVec3, n: Vec3, uv: [f64; 2]) -> u32 {
        let i = self.positions.len() as u32;
        self.positions.push([p.x as f32, p.y as f32, p.z as f32]);
        self.normals.push(n.to_array());
        self.uv0.push([uv[0] as f32, uv[1] as f32]);
        i
    }

    /// Adds a triangle as given (counter-clockwise seen from the side it faces).
    pub(crate) fn tri(&mut self, a: u32, b: u32, c: u32) {
        self.indices.extend_from_slice(&[a, b, c]);
    }

    /// Adds a horizontal triangle at height `z` facing +Z, fixing its winding; degenerate ones are dropped.
    pub(crate) fn tri_up(&mut self, pts: [DVec2; 3], z: f64, uv: impl Fn(DVec2) -> [f64; 2]) {
        let area2 = (pts[1] - pts[0]).perp_dot(pts[2] - pts[0]);
        if !area2.is_finite() || area2.abs() <= MIN_DOUBLE_AREA {
            return;
        }
        let order = if area2 > 0.0 { [0, 1, 2] } else { [0, 2, 1] };
        let idx = order.map(|k| self.vertex(pts[k].extend(z), Vec3::Z, uv(pts[k])));
        self.tri(idx[0], idx[1], idx[2]);
    }

    /// Appends `other`, returning the range its indices occupy in `self.indices`.
    pub(crate) fn append(&mut self, other: MeshBuf) -> Range<usize> {
        let base = self.positions.len() as u32;
        let start = self.indices.len();
        self.positions.extend(other.positions);
        self.normals.extend(other.normals);
        self.uv0.extend(other.uv0);
        self.indices.extend(other.indices.into_iter().map(|i| i + base));
        start..self.indices.len()
    }

    /// Turns the buffer into a primitive drawn with `material`.
    pub(crate) fn into_primitive(self, material: Option<usize>) -> Primitive {
        let bounds = Aabb::from_points(self.positions.iter().map(|&p| Vec3::from_array(p)));
        Primitive {
            positions: self.positions,
            normals: self.normals,
            tangents: None,
            uv0: self.uv0,
            uv1: None,
            colors: None,
            indices: self.indices,
            material,
            bounds,
        }
    }
}
