//! Heatmaps: each one a nearest-filtered textured quad [`HEATMAP_LIFT_M`] above its origin, its
//! texels coloured by the palette. Cost: per cell one palette look-up and 4 bytes of texels (in
//! buffers kept across frames) when its values are new (a new [`OverlayHeatmap::revision`], or none),
//! nothing when they are the ones drawn there last frame; for at most [`MAX_HEATMAPS`] heatmaps of at most
//! [`MAX_HEATMAP_SIDE`](super::MAX_HEATMAP_SIDE) cells a side.

use glam::DVec3;

use super::builder::Builder;
use super::color::{clamp01, palette_srgb};
use super::quads::{DrawTexture, STYLE_TEXTURE, rel};
use super::{HEATMAP_LIFT_M, MAX_HEATMAPS, OverlayHeatmap};

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

/// The RGBA8 (sRGB) texels of a heatmap, row 0 first; NaN or missing values are transparent.
fn heatmap_texels(h: &OverlayHeatmap, out: &mut Vec<u8>) {
    out.clear();
    let n = h.columns as usize * h.rows as usize;
    out.reserve(n * 4);
    let range = h.max - h.min;
    let usable = h.min.is_finite() && h.max.is_finite() && range > 0.0;
    for i in 0..n {
        let v = h.values.get(i).copied().unwrap_or(f32::NAN);
        if v.is_nan() {
            out.extend_from_slice(&[0, 0, 0, 0]);
            continue;
        }
        let t = if usable { (v - h.min) / range } else { 0.5 };
        let c = palette_srgb(h.palette, t);
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
            // A slot no pass of the last two drew from (a frame draws up to two: a split view's
            // halves) is free for new values; else a new slot while under the cap.
            let stale = heat_texels
                .iter()
                .enumerate()
                .filter(|(_, t)| t.last_used + 2 < self.pass)
                .min_by_key(|(_, t)| t.last_used)
                .map(|(i, _)| i);
            let index = match kept.or(stale) {
                Some(i) => i,
                None if heat_texels.len() < MAX_HEATMAPS => {
                    heat_texels.push(HeatTexels::default());
                    heat_texels.len() - 1
                }
                None => heat_texels
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.last_used != self.pass)
                    .min_by_key(|(_, t)| t.last_used)
                    .map_or(0, |(i, _)| i),
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
        }
    }
}
