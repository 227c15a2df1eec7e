//! Heatmaps: each one a nearest-filtered textured quad [`HEATMAP_LIFT_M`] above its origin, its
//! texels coloured by the palette. Cost: per cell one palette look-up and 4 bytes of texels (in
//! buffers kept across frames) when its values are new (a new [`OverlayHeatmap::revision`], or none),
//! nothing when they are the ones drawn there last frame; per cell on a roof one quad a frame (at most
//! [`MAX_RAISED_CELLS`](super::MAX_RAISED_CELLS)); for at most [`MAX_HEATMAPS`] heatmaps of at most
//! [`MAX_HEATMAP_SIDE`](super::MAX_HEATMAP_SIDE) cells a side.

use glam::DVec3;

use super::builder::Builder;
use super::color::{clamp01, linear_color, palette_srgb};
use super::quads::{DrawTexture, STYLE_SOLID, STYLE_TEXTURE, rel};
use super::{HEATMAP_LIFT_M, MAX_HEATMAPS, MAX_RAISED_CELLS, OverlayHeatmap, RAISED_M};

/// A heatmap texture's slot: what it holds, kept across passes (at most [`MAX_HEATMAPS`] slots).
#[derive(Debug, Default)]
pub(super) struct HeatTexels {
    /// Columns, rows.
    pub size: (u32, u32),
    /// The heatmap's [`OverlayHeatmap::revision`] they were coloured from.
    pub revision: u64,
    /// RGBA8 (sRGB), row 0 first.
    pub texels: Vec<u8>,
    /// Coloured this pass: the texture needs them (and they are dropped once uploaded).
    pub fresh: bool,
    /// The builder's pass that last drew it ([`Builder::pass`]).
    pub last_used: u64,
}

/// Whether cell `i` of `h` stands on a raised surface (a roof), and how high.
fn raised(h: &OverlayHeatmap, i: usize) -> Option<f32> {
    let z = *h.heights.get(i)?;
    (z.is_finite() && z > h.origin.z as f32 + RAISED_M).then_some(z)
}

/// The palette's sRGB colour of `v` in `h`'s range.
fn cell_srgb(h: &OverlayHeatmap, v: f32) -> [f32; 3] {
    let range = h.max - h.min;
    let usable = h.min.is_finite() && h.max.is_finite() && range > 0.0;
    palette_srgb(h.palette, if usable { (v - h.min) / range } else { 0.5 })
}

/// The RGBA8 (sRGB) texels of a heatmap, row 0 first; NaN or missing values, and cells drawn on a
/// raised surface, are transparent.
fn heatmap_texels(h: &OverlayHeatmap, out: &mut Vec<u8>) {
    out.clear();
    let n = h.columns as usize * h.rows as usize;
    out.reserve(n * 4);
    for i in 0..n {
        let v = h.values.get(i).copied().unwrap_or(f32::NAN);
        if v.is_nan() || raised(h, i).is_some() {
            out.extend_from_slice(&[0, 0, 0, 0]);
            continue;
        }
        let c = cell_srgb(h, v);
        out.extend_from_slice(&[
            (c[0] * 255.0).round() as u8,
            (c[1] * 255.0).round() as u8,
            (c[2] * 255.0).round() as u8,
            255,
        ]);
    }
}

impl Builder {
    /// The heatmaps' quads, depth-tested; each draws from a slot of `heat_texels`: the one holding its
    /// revision already, or the least recently used, coloured again.
    pub(super) fn heatmaps(
        &mut self,
        heatmaps: &[&OverlayHeatmap],
        reference: DVec3,
        max_heatmap_side: u32,
        heat_texels: &mut Vec<HeatTexels>,
    ) {
        let mut heat_count = 0usize;
        let mut raised_left = MAX_RAISED_CELLS;
        for h in heatmaps {
            if heat_count >= MAX_HEATMAPS {
                self.warnings
                    .warn("heatmaps", || format!("overlay: more than {MAX_HEATMAPS} heatmaps; the rest are not drawn"));
                break;
            }
            let cell = f64::from(h.cell_size_m);
            if h.columns == 0 || h.rows == 0 || !cell.is_finite() || cell <= 0.0 {
                continue;
            }
            if h.columns > max_heatmap_side || h.rows > max_heatmap_side {
                self.warnings.warn("heatmap size", || {
                    format!(
                        "overlay: heatmap of {}x{} cells exceeds {max_heatmap_side} a side; not drawn",
                        h.columns, h.rows
                    )
                });
                continue;
            }
            let o = h.origin + DVec3::Z * HEATMAP_LIFT_M;
            let ex = DVec3::X * cell * f64::from(h.columns);
            let ny = DVec3::Y * cell * f64::from(h.rows);
            let (Some(a), Some(bx), Some(c), Some(d)) =
                (rel(o, reference), rel(o + ex, reference), rel(o + ex + ny, reference), rel(o + ny, reference))
            else {
                continue;
            };
            // The slot that holds these values already (drawn under the same revision in an earlier
            // frame or pass, e.g. the other half of a split view), else the one unused the longest.
            let same = |t: &HeatTexels| h.revision != 0 && t.revision == h.revision && t.size == (h.columns, h.rows);
            let kept = heat_texels.iter().position(|t| t.last_used != self.pass && same(t));
            // The least recently used slot this pass has not drawn from. When no pass of the last two
            // drew from it (a frame draws up to two: a split view's halves) it is free for new values;
            // else a new slot while under the cap, and past the cap it all the same.
            let lru = heat_texels
                .iter()
                .enumerate()
                .filter(|(_, t)| t.last_used != self.pass)
                .min_by_key(|(_, t)| t.last_used)
                .map(|(i, _)| i);
            let stale = lru.filter(|&i| heat_texels[i].last_used + 2 < self.pass);
            let index = match kept.or(stale) {
                Some(i) => i,
                None if heat_texels.len() < MAX_HEATMAPS => {
                    heat_texels.push(HeatTexels::default());
                    heat_texels.len() - 1
                }
                None => lru.unwrap_or(0),
            };
            let slot = &mut heat_texels[index];
            slot.last_used = self.pass;
            slot.fresh = kept.is_none();
            if slot.fresh {
                slot.size = (h.columns, h.rows);
                slot.revision = h.revision;
                heatmap_texels(h, &mut slot.texels);
            }
            let start = self.quads.len();
            self.world_quad([a, bx, c, d], STYLE_TEXTURE, [1.0, 1.0, 1.0, clamp01(h.opacity)]);
            self.push_draw(false, DrawTexture::Heatmap(index), start);
            heat_count += 1;
            self.primitives += 1;
            self.raised_cells(h, cell, reference, &mut raised_left);
        }
    }

    /// `h`'s cells on raised surfaces (roofs), each a solid quad on its surface; at most
    /// `left` of them (the frame's remaining [`MAX_RAISED_CELLS`]).
    fn raised_cells(&mut self, h: &OverlayHeatmap, cell: f64, reference: DVec3, left: &mut usize) {
        if h.heights.is_empty() {
            return;
        }
        let start = self.quads.len();
        let columns = h.columns as usize;
        let n = columns * h.rows as usize;
        for i in 0..n.min(h.heights.len()) {
            let (Some(z), Some(&v)) = (raised(h, i), h.values.get(i)) else { continue };
            if v.is_nan() {
                continue;
            }
            if *left == 0 {
                self.warnings.warn("raised heatmap cells", || {
                    format!("overlay: more than {MAX_RAISED_CELLS} heatmap cells on roofs; the rest are not drawn")
                });
                break;
            }
            *left -= 1;
            let (column, row) = ((i % columns) as f64, (i / columns) as f64);
            let o = DVec3::new(h.origin.x + column * cell, h.origin.y + row * cell, f64::from(z) + HEATMAP_LIFT_M);
            let (ex, ny) = (DVec3::X * cell, DVec3::Y * cell);
            let (Some(a), Some(b), Some(c), Some(d)) =
                (rel(o, reference), rel(o + ex, reference), rel(o + ex + ny, reference), rel(o + ny, reference))
            else {
                continue;
            };
            let [r, g, bl] = cell_srgb(h, v);
            self.world_quad([a, b, c, d], STYLE_SOLID, linear_color([r, g, bl, h.opacity]));
        }
        self.push_draw(false, DrawTexture::Atlas, start);
    }
}
