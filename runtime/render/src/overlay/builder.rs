//! The CPU side of one frame's overlay: the [`Builder`] that collects quads and draw ranges, and
//! [`build`], which runs each primitive kind's step (their own files) in drawing order. Cost: linear
//! in the primitives, plus sorting the volumes and the labels by distance; the builder's vectors
//! and scratch space are kept across frames, so a steady overlay allocates nothing.

use glam::{DVec3, Vec3};

use super::quads::{DrawTexture, KIND_WORLD_QUAD, OverlayDraw, Quad, mode, v4};
use super::text::{GlyphAtlas, TextBudget, TextLayout};
use super::throttle::WarnThrottle;
use super::{MAX_GLYPHS, Overlay};
use crate::scene::View;

/// The frame's camera-relative frame of reference.
pub(crate) struct OverlayFrame<'a> {
    pub views: &'a [View],
    pub reference: DVec3,
    pub width: u32,
    pub height: u32,
}

/// CPU-side builder: quads and draw ranges for one frame.
#[derive(Debug, Default)]
pub(super) struct Builder {
    pub(super) quads: Vec<Quad>,
    pub(super) draws: Vec<OverlayDraw>,
    pub(super) primitives: u32,
    // Scratch kept across frames.
    pub(super) order: Vec<(f64, usize)>,
    pub(super) tess: Vec<([DVec3; 4], DVec3)>,
    pub(super) layout: TextLayout,
    pub(super) warnings: WarnThrottle,
    /// Builds so far (the current one's number, from 1): what a heatmap slot was last drawn in.
    pub(super) pass: u64,
}

impl Builder {
    pub(super) fn push_draw(&mut self, on_top: bool, texture: DrawTexture, start: usize) {
        let end = self.quads.len();
        if end > start {
            match self.draws.last_mut() {
                Some(d) if d.on_top == on_top && d.texture == texture && d.instances.end as usize == start => {
                    d.instances.end = end as u32;
                }
                _ => self.draws.push(OverlayDraw { on_top, texture, instances: start as u32..end as u32 }),
            }
        }
    }

    pub(super) fn world_quad(&mut self, corners: [Vec3; 4], style: u32, color: [f32; 4]) {
        self.quads.push(Quad {
            p0: v4(corners[0], mode(KIND_WORLD_QUAD, style)),
            p1: v4(corners[1], 0.0),
            p2: v4(corners[2], 0.0),
            p3: v4(corners[3], 0.0),
            color,
        });
    }

    pub(super) fn billboard(
        &mut self,
        kind: u32,
        style: u32,
        anchor: Vec3,
        rect: [f32; 4],
        uv: [f32; 4],
        color: [f32; 4],
    ) {
        self.quads.push(Quad { p0: v4(anchor, mode(kind, style)), p1: rect, p2: uv, p3: [0.0; 4], color });
    }
}

/// Builds the frame's quads from `overlay`. Heatmap texels are written to `heat_texels` (one entry per
/// heatmap drawn, with its size).
pub(super) fn build(
    overlay: &Overlay,
    frame: &OverlayFrame<'_>,
    atlas: &GlyphAtlas,
    max_heatmap_side: u32,
    b: &mut Builder,
    heat_texels: &mut Vec<super::heatmaps::HeatTexels>,
) {
    b.quads.clear();
    b.draws.clear();
    b.primitives = 0;
    b.pass += 1;
    let reference = frame.reference;
    // The overlay and its shared layers, each kind of primitive in one pass (caps count them all).
    let parts: Vec<&Overlay> = std::iter::once(overlay).chain(overlay.layers.iter().map(|l| &**l)).collect();
    b.heatmaps(&gather(&parts, |p| &p.heatmaps), reference, max_heatmap_side, heat_texels);
    b.volumes(&gather(&parts, |p| &p.volumes), reference);
    b.lines(&gather(&parts, |p| &p.lines), reference);
    b.markers(&gather(&parts, |p| &p.markers), reference);
    // Labels and HUD text share the frame's glyph budget.
    let mut text = TextBudget::new();
    b.labels(&gather(&parts, |p| &p.labels), reference, atlas, &mut text);
    b.hud(&overlay.hud, frame, atlas, &mut text);
    if text.truncated {
        b.warnings.warn("text", || {
            format!("overlay: text truncated (more than {MAX_GLYPHS} glyphs, or an over-long string)")
        });
    }
}

/// One kind of primitive of every part, in order (a pointer each).
fn gather<'a, T>(parts: &[&'a Overlay], of: fn(&'a Overlay) -> &'a [T]) -> Vec<&'a T> {
    parts.iter().flat_map(|p| of(p)).collect()
}
