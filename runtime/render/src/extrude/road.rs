//! Road centre lines into flat ribbons with mitred (or bevelled) joins.

use glam::{DVec2, Vec3};

use super::mesh::MeshBuf;
use super::{MITER_LIMIT, RoadPath};

/// Consecutive points closer than this (metres) are merged.
const MERGE_DISTANCE: f64 = 1e-4;

/// How the ribbon's edges meet at an interior point.
#[derive(Clone, Copy, Debug)]
enum Join {
    /// Both segments share the cross-section `p ± offset` (the mitre).
    Miter(DVec2),
    /// Each segment ends square; the outer gap is filled with a triangle.
    Bevel,
}

/// Builds the ribbon of `road` at height `lift` into `buf`, positions relative to `origin`.
///
/// UVs: u runs across the road (0 on the left edge, 1 on the right), v is the distance along the
/// centre line divided by the width, so a square texture tile stays square.
pub(crate) fn ribbon(road: &RoadPath, origin: DVec2, lift: f64, buf: &mut MeshBuf) -> Result<(), String> {
    if !road.width.is_finite() || road.width <= 0.0 {
        return Err(format!("width {} m is not a positive number", road.width));
    }
    if let Some(i) = road.points.iter().position(|p| !p.is_finite()) {
        return Err(format!("point {i} is not a finite number ({}, {})", road.points[i].x, road.points[i].y));
    }
    let mut pts: Vec<DVec2> = Vec::with_capacity(road.points.len());
    for &p in &road.points {
        if pts.last().is_none_or(|&l| l.distance_squared(p) > MERGE_DISTANCE * MERGE_DISTANCE) {
            pts.push(p - origin);
        }
    }
    if pts.len() < 2 {
        return Err(format!("has fewer than 2 distinct points ({} given)", road.points.len()));
    }
    let hw = road.width * 0.5;
    let dirs: Vec<DVec2> = pts.windows(2).map(|w| (w[1] - w[0]).normalize()).collect();
    let left = |d: DVec2| d.perp();
    let join = |j: usize| -> Join {
        let (n0, n1) = (left(dirs[j - 1]), left(dirs[j]));
        let m = n0 + n1;
        if m.length_squared() < 1e-18 {
            return Join::Bevel;
        }
        let m = m.normalize();
        let cos = m.dot(n0);
        if cos * MITER_LIMIT >= 1.0 { Join::Miter(m * (hw / cos)) } else { Join::Bevel }
    };
    let joins: Vec<Option<Join>> =
        (0..pts.len()).map(|j| if j == 0 || j == pts.len() - 1 { None } else { Some(join(j)) }).collect();

    let inv_w = 1.0 / road.width;
    let mut along = 0.0;
    for (i, &d) in dirs.iter().enumerate() {
        let (a, b) = (pts[i], pts[i + 1]);
        let n = left(d) * hw;
        let offset = |j: usize| match joins[j] {
            Some(Join::Miter(off)) => off,
            _ => n,
        };
        let (oa, ob) = (offset(i), offset(i + 1));
        let len = a.distance(b);
        let (va, vb) = (along * inv_w, (along + len) * inv_w);
        let la = buf.vertex((a + oa).extend(lift), Vec3::Z, [0.0, va]);
        let ra = buf.vertex((a - oa).extend(lift), Vec3::Z, [1.0, va]);
        let rb = buf.vertex((b - ob).extend(lift), Vec3::Z, [1.0, vb]);
        let lb = buf.vertex((b + ob).extend(lift), Vec3::Z, [0.0, vb]);
        quad_up(buf, [la, ra, rb, lb], [a + oa, a - oa, b - ob, b + ob]);
        along += len;
        if let Some(Join::Bevel) = joins[i + 1] {
            // Fill the wedge on the outside of the turn between this segment's end and the next's start.
            let n_next = left(dirs[i + 1]) * hw;
            let side = if d.perp_dot(dirs[i + 1]) > 0.0 { -1.0 } else { 1.0 };
            let v = along * inv_w;
            let u = if side > 0.0 { 0.0 } else { 1.0 };
            buf.tri_up([b, b + n * side, b + n_next * side], lift, |p| if p == b { [0.5, v] } else { [u, v] });
        }
    }
    Ok(())
}

/// Two triangles over a quad, each turned to face +Z; degenerate ones are dropped.
fn quad_up(buf: &mut MeshBuf, idx: [u32; 4], p: [DVec2; 4]) {
    for (i, j, k) in [(0, 1, 2), (0, 2, 3)] {
        let area2 = (p[j] - p[i]).perp_dot(p[k] - p[i]);
        if !area2.is_finite() || area2.abs() <= 1e-12 {
            continue;
        }
        if area2 > 0.0 { buf.tri(idx[i], idx[j], idx[k]) } else { buf.tri(idx[i], idx[k], idx[j]) }
    }
}
