//! Building footprints: ring clean-up, walls and a flat roof.

use glam::{DVec2, Vec3};

use super::Footprint;
use super::mesh::MeshBuf;

/// Consecutive points closer than this (metres) are merged.
const MERGE_DISTANCE: f64 = 1e-4;
/// Rings enclosing less than this (m²) are degenerate.
const MIN_RING_AREA: f64 = 1e-6;
/// Roof triangles whose doubled area (m²) is at or below this are dropped.
const MIN_TRIANGLE_AREA2: f64 = 1e-12;
/// Walls lower than this (metres) are not built.
const MIN_WALL_HEIGHT: f64 = 1e-6;
/// Metres of perimeter (u) and of height (v) per texture repeat on walls: one storey.
pub(crate) const WALL_UV_METRES: f64 = 3.0;
/// Metres per texture repeat on roofs.
pub(crate) const ROOF_UV_METRES: f64 = 10.0;

/// Whether `b` adds no direction between `a` and `c`: straight on, or a spike going back.
fn collinear(a: DVec2, b: DVec2, c: DVec2) -> bool {
    let u = b - a;
    let v = c - b;
    u.perp_dot(v).abs() <= 1e-10 * (u.length() * v.length()).max(1e-12)
}

/// Twice the signed area of a ring (positive when counter-clockwise), computed about its first point.
pub(crate) fn signed_area2(ring: &[DVec2]) -> f64 {
    let Some(&o) = ring.first() else { return 0.0 };
    let n = ring.len();
    (0..n).map(|i| (ring[i] - o).perp_dot(ring[(i + 1) % n] - o)).sum()
}

/// Cleans one ring: rejects non-finite coordinates, drops the closing point, repeated points, and
/// points that are straight on or spikes; rejects rings left with fewer than 3 points or no area.
pub(crate) fn clean_ring(ring: &[DVec2]) -> Result<Vec<DVec2>, String> {
    if let Some(i) = ring.iter().position(|p| !p.is_finite()) {
        return Err(format!("point {i} is not a finite number ({}, {})", ring[i].x, ring[i].y));
    }
    let near = |a: DVec2, b: DVec2| a.distance_squared(b) <= MERGE_DISTANCE * MERGE_DISTANCE;
    let mut out: Vec<DVec2> = Vec::with_capacity(ring.len());
    for &p in ring {
        while out.len() >= 2 && collinear(out[out.len() - 2], out[out.len() - 1], p) {
            out.pop();
        }
        if out.last().is_some_and(|&l| near(l, p)) {
            continue;
        }
        out.push(p);
    }
    // The same at the seam between the last and the first point.
    let mut start = 0;
    loop {
        let live = &out[start..];
        let n = live.len();
        if n < 3 {
            break;
        }
        if near(live[n - 1], live[0]) || collinear(live[n - 2], live[n - 1], live[0]) {
            out.pop();
        } else if collinear(live[n - 1], live[0], live[1]) {
            start += 1;
        } else {
            break;
        }
    }
    let out = out.split_off(start);
    if out.len() < 3 {
        return Err(format!("has fewer than 3 distinct points ({} given)", ring.len()));
    }
    let area = signed_area2(&out).abs() * 0.5;
    if !area.is_finite() || area < MIN_RING_AREA {
        return Err(format!("encloses no area ({area:.3e} m²)"));
    }
    Ok(out)
}

/// Cleans `outer` (made counter-clockwise) and `holes` (made clockwise). A bad outer ring is an error;
/// a bad hole is dropped with a warning pushed to `warnings`.
pub(crate) fn clean_polygon(
    outer: &[DVec2],
    holes: &[Vec<DVec2>],
    warnings: &mut Vec<String>,
) -> Result<(Vec<DVec2>, Vec<Vec<DVec2>>), String> {
    let mut outer = clean_ring(outer).map_err(|e| format!("outer ring {e}"))?;
    if signed_area2(&outer) < 0.0 {
        outer.reverse();
    }
    let mut kept = Vec::with_capacity(holes.len());
    for (i, hole) in holes.iter().enumerate() {
        match clean_ring(hole) {
            Ok(mut h) => {
                if signed_area2(&h) > 0.0 {
                    h.reverse();
                }
                kept.push(h);
            }
            Err(e) => warnings.push(format!("hole {i} {e}; hole ignored")),
        }
    }
    Ok((outer, kept))
}

/// Extrudes one footprint into `buf` (walls, then the roof). Positions are relative to `origin`.
///
/// Returns an error (the footprint is skipped) for a bad outer ring or heights; problems that only
/// lose part of the building (a bad hole, a roof earcut could not triangulate) go to `warnings`.
pub(crate) fn extrude(
    fp: &Footprint,
    origin: DVec2,
    buf: &mut MeshBuf,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    if !fp.base.is_finite() || !fp.height.is_finite() {
        return Err(format!("base {} m or height {} m is not a finite number", fp.base, fp.height));
    }
    if fp.height - fp.base < MIN_WALL_HEIGHT {
        return Err(format!("height {} m is not above base {} m", fp.height, fp.base));
    }
    let (outer, holes) = clean_polygon(&fp.outer, &fp.holes, warnings)?;
    let outer: Vec<DVec2> = outer.into_iter().map(|p| p - origin).collect();
    let holes: Vec<Vec<DVec2>> = holes.into_iter().map(|h| h.into_iter().map(|p| p - origin).collect()).collect();

    for ring in std::iter::once(&outer).chain(holes.iter()) {
        walls(ring, fp.base, fp.height, buf);
    }
    roof(&outer, &holes, fp.height, buf, warnings);
    Ok(())
}

/// One quad per edge with its own four vertices (flat shading), facing away from the solid: to the
/// right of the direction of travel, for a counter-clockwise outer ring and clockwise holes alike.
fn walls(ring: &[DVec2], base: f64, top: f64, buf: &mut MeshBuf) {
    let n = ring.len();
    let mut along = 0.0;
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        let len = a.distance(b);
        let d = (b - a) / len;
        let normal = Vec3::new(d.y as f32, -d.x as f32, 0.0);
        let (u0, u1) = (along / WALL_UV_METRES, (along + len) / WALL_UV_METRES);
        // v grows downward (glTF convention), so an upright facade image stays upright.
        let (vb, vt) = (-base / WALL_UV_METRES, -top / WALL_UV_METRES);
        let ab = buf.vertex(a.extend(base), normal, [u0, vb]);
        let bb = buf.vertex(b.extend(base), normal, [u1, vb]);
        let bt = buf.vertex(b.extend(top), normal, [u1, vt]);
        let at = buf.vertex(a.extend(top), normal, [u0, vt]);
        buf.tri(ab, bb, bt);
        buf.tri(ab, bt, at);
        along += len;
    }
}

/// A flat roof at `top`, triangulated by earcut with the holes cut out, facing +Z.
fn roof(outer: &[DVec2], holes: &[Vec<DVec2>], top: f64, buf: &mut MeshBuf, warnings: &mut Vec<String>) {
    let total = outer.len() + holes.iter().map(Vec::len).sum::<usize>();
    let mut coords = Vec::with_capacity(total * 2);
    let mut points = Vec::with_capacity(total);
    let mut hole_starts = Vec::with_capacity(holes.len());
    for (k, ring) in std::iter::once(outer).chain(holes.iter().map(Vec::as_slice)).enumerate() {
        if k > 0 {
            hole_starts.push(points.len());
        }
        for &p in ring {
            coords.extend_from_slice(&[p.x, p.y]);
            points.push(p);
        }
    }
    let triangles = match earcutr::earcut(&coords, &hole_starts, 2) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(format!("roof could not be triangulated ({e}); walls kept, roof left open"));
            return;
        }
    };
    if triangles.is_empty() {
        warnings.push("roof triangulation gave no triangles; walls kept, roof left open".to_string());
        return;
    }
    // One shared vertex per ring point: the roof is flat, so all share the +Z normal.
    let first = buf.vertex_count() as u32;
    for &p in &points {
        buf.vertex(p.extend(top), Vec3::Z, [p.x / ROOF_UV_METRES, p.y / ROOF_UV_METRES]);
    }
    for t in triangles.chunks_exact(3) {
        let (Some(&a), Some(&b), Some(&c)) = (points.get(t[0]), points.get(t[1]), points.get(t[2])) else {
            continue;
        };
        let area2 = (b - a).perp_dot(c - a);
        if !area2.is_finite() || area2.abs() <= MIN_TRIANGLE_AREA2 {
            continue;
        }
        let [i, j, k] = [t[0], t[1], t[2]].map(|i| first + i as u32);
        if area2 > 0.0 { buf.tri(i, j, k) } else { buf.tri(i, k, j) }
    }
}
