//! Extruded buildings (a footprint ring, a base and a top height) and whether one stands between two
//! antennas: the line-of-sight test of the coverage map.
//!
//! A ray is blocked when it crosses a footprint's edge at a height between that building's base and
//! top. (The ray's height is linear along it, so within a footprint it is lowest at an edge crossing,
//! or at an end inside the footprint: an antenna inside a building is below its roof, blocked.)
//!
//! The edges are binned into a uniform grid of square cells; a ray visits only the cells it passes
//! (Amanatides-Woo traversal), so its cost grows with its length, not with the number of buildings.
//!
//! Bounded: at most [`MAX_EDGES`] edges; an edge is binned into the cells of its bounding box.
//!
//! Cost: building the index is linear in the edges (times the cells each spans); a ray test visits
//! about length / cell size cells and the edges binned there.

/// The most footprint edges indexed (a city district of ~100k buildings).
pub const MAX_EDGES: usize = 2_000_000;

/// One extruded building.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// The footprint ring (site frame, metres east and north), not closed (the last point joins the
    /// first), at least three points.
    pub footprint: Vec<[f64; 2]>,
    /// The height of its base, m.
    pub base_m: f64,
    /// The height of its roof, m.
    pub top_m: f64,
}

/// What is wrong with a set of buildings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildingError {
    /// A building with fewer than three points, a non-finite coordinate or a top below its base.
    #[error("building {index}: {why}")]
    Malformed {
        /// Its index in the list.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// More edges than [`MAX_EDGES`].
    #[error("{edges} footprint edges is over the {MAX_EDGES} the line-of-sight index takes")]
    TooMany {
        /// How many.
        edges: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    a: [f64; 2],
    b: [f64; 2],
    base: f64,
    top: f64,
}

/// Buildings indexed for ray tests.
#[derive(Debug, Clone)]
pub struct Buildings {
    buildings: Vec<Building>,
    edges: Vec<Edge>,
    origin: [f64; 2],
    cell: f64,
    columns: usize,
    rows: usize,
    /// Cell `i`'s edges are `edge_ids[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    edge_ids: Vec<u32>,
}

impl Buildings {
    /// Indexes `buildings` in cells of `cell_m` metres.
    pub fn new(buildings: Vec<Building>, cell_m: f64) -> Result<Buildings, BuildingError> {
        let mut edges = Vec::new();
        for (index, b) in buildings.iter().enumerate() {
            let bad = |why: &str| BuildingError::Malformed { index, why: why.into() };
            if b.footprint.len() < 3 {
                return Err(bad("a footprint needs at least three points"));
            }
            if !b.footprint.iter().flatten().all(|v| v.is_finite()) || !b.base_m.is_finite() || !b.top_m.is_finite() {
                return Err(bad("a coordinate or height is not a finite number"));
            }
            if b.top_m < b.base_m {
                return Err(bad("its top is below its base"));
            }
            if edges.len() + b.footprint.len() > MAX_EDGES {
                return Err(BuildingError::TooMany { edges: edges.len() + b.footprint.len() });
            }
            for (i, &a) in b.footprint.iter().enumerate() {
                let next = b.footprint[(i + 1) % b.footprint.len()];
                edges.push(Edge { a, b: next, base: b.base_m, top: b.top_m });
            }
        }
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for e in &edges {
            for p in [e.a, e.b] {
                for k in 0..2 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        }
        if edges.is_empty() {
            (lo, hi) = ([0.0; 2], [0.0; 2]);
        }
        let cell = cell_m.max(1.0);
        let columns = (((hi[0] - lo[0]) / cell).floor() as usize + 1).min(1 << 14);
        let rows = (((hi[1] - lo[1]) / cell).floor() as usize + 1).min(1 << 14);
        // The cell size grows if the extent would need more cells than the cap.
        let cell = cell.max((hi[0] - lo[0]) / columns as f64).max((hi[1] - lo[1]) / rows as f64) * (1.0 + 1e-9);
        let cell_of = |p: f64, o: f64, n: usize| (((p - o) / cell).floor().max(0.0) as usize).min(n - 1);
        // Counting pass, then the fill: one flat array of edge ids, grouped by cell.
        let mut counts = vec![0u32; columns * rows + 1];
        let span = |e: &Edge| {
            let (x0, x1) = (cell_of(e.a[0].min(e.b[0]), lo[0], columns), cell_of(e.a[0].max(e.b[0]), lo[0], columns));
            let (y0, y1) = (cell_of(e.a[1].min(e.b[1]), lo[1], rows), cell_of(e.a[1].max(e.b[1]), lo[1], rows));
            (x0, x1, y0, y1)
        };
        for e in &edges {
            let (x0, x1, y0, y1) = span(e);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    counts[y * columns + x + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let starts = counts.clone();
        let mut fill = counts;
        let mut edge_ids = vec![0u32; *starts.last().unwrap_or(&0) as usize];
        for (id, e) in edges.iter().enumerate() {
            let (x0, x1, y0, y1) = span(e);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let slot = &mut fill[y * columns + x];
                    edge_ids[*slot as usize] = id as u32;
                    *slot += 1;
                }
            }
        }
        Ok(Buildings { buildings, edges, origin: lo, cell, columns, rows, starts, edge_ids })
    }

    /// The buildings, as given.
    pub fn buildings(&self) -> &[Building] {
        &self.buildings
    }

    /// Whether a building stands between `from` and `to` (site frame, metres).
    pub fn blocks(&self, from: [f64; 3], to: [f64; 3]) -> bool {
        if self.edges.is_empty() {
            return false;
        }
        let d = [to[0] - from[0], to[1] - from[1]];
        // The part of the ray within the index's extent (slab clipping), in ray parameter t.
        let extent = [self.columns as f64 * self.cell, self.rows as f64 * self.cell];
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for k in 0..2 {
            let o = from[k] - self.origin[k];
            if d[k].abs() < 1e-12 {
                if o < 0.0 || o > extent[k] {
                    return false;
                }
            } else {
                let (a, b) = ((0.0 - o) / d[k], (extent[k] - o) / d[k]);
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        if t0 > t1 {
            return false;
        }
        // Cell traversal from the entry point.
        let start = [from[0] + d[0] * t0 - self.origin[0], from[1] + d[1] * t0 - self.origin[1]];
        let mut cx = ((start[0] / self.cell).floor().max(0.0) as usize).min(self.columns - 1);
        let mut cy = ((start[1] / self.cell).floor().max(0.0) as usize).min(self.rows - 1);
        let step = |dk: f64| if dk > 0.0 { 1i64 } else { -1 };
        let next_boundary = |c: usize, dk: f64, o: f64| {
            let edge = if dk > 0.0 { (c + 1) as f64 * self.cell } else { c as f64 * self.cell };
            if dk.abs() < 1e-12 { f64::INFINITY } else { t0 + (edge - o) / dk }
        };
        let mut t_max = [next_boundary(cx, d[0], start[0]), next_boundary(cy, d[1], start[1])];
        let t_delta = [
            if d[0].abs() < 1e-12 { f64::INFINITY } else { self.cell / d[0].abs() },
            if d[1].abs() < 1e-12 { f64::INFINITY } else { self.cell / d[1].abs() },
        ];
        loop {
            let i = cy * self.columns + cx;
            for &id in &self.edge_ids[self.starts[i] as usize..self.starts[i + 1] as usize] {
                if self.edge_blocks(&self.edges[id as usize], from, to) {
                    return true;
                }
            }
            if t_max[0].min(t_max[1]) > t1 {
                return false;
            }
            if t_max[0] < t_max[1] {
                let n = cx as i64 + step(d[0]);
                if n < 0 || n >= self.columns as i64 {
                    return false;
                }
                cx = n as usize;
                t_max[0] += t_delta[0];
            } else {
                let n = cy as i64 + step(d[1]);
                if n < 0 || n >= self.rows as i64 {
                    return false;
                }
                cy = n as usize;
                t_max[1] += t_delta[1];
            }
        }
    }

    /// Whether the ray crosses `e` at a height within its building.
    fn edge_blocks(&self, e: &Edge, from: [f64; 3], to: [f64; 3]) -> bool {
        let r = [to[0] - from[0], to[1] - from[1]];
        let s = [e.b[0] - e.a[0], e.b[1] - e.a[1]];
        let denominator = r[0] * s[1] - r[1] * s[0];
        if denominator.abs() < 1e-12 {
            return false;
        }
        let q = [e.a[0] - from[0], e.a[1] - from[1]];
        let t = (q[0] * s[1] - q[1] * s[0]) / denominator;
        let u = (q[0] * r[1] - q[1] * r[0]) / denominator;
        if !(0.0..=1.0).contains(&t) || !(0.0..=1.0).contains(&u) {
            return false;
        }
        let z = from[2] + t * (to[2] - from[2]);
        z >= e.base && z < e.top
    }
}

/// Whether `ring` holds `p` (even-odd rule).
pub fn contains(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] {
            inside = !inside;
        }
        j = i;
    }
    inside
}
