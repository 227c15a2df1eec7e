//! HUD text: lines stacked from a screen corner on a dark backing box, in target pixels with one
//! view, on a plane 2 m ahead of the head with two or more (see the module notes), never
//! depth-tested. Cost: one quad for each entry's box and one per glyph with ink, out of the frame's
//! shared glyph budget.

use glam::{DQuat, DVec3};

use super::builder::{Builder, OverlayFrame};
use super::color::linear_color;
use super::quads::{DrawTexture, KIND_HEAD, KIND_SCREEN, Quad, STYLE_GLYPH, STYLE_SOLID, mode, rel};
use super::text::{BACKING, GlyphAtlas, TextBudget};
use super::{HudCorner, HudText};

impl Builder {
    /// The HUD entries' quads, on top; spends glyphs from `text`.
    pub(super) fn hud(
        &mut self,
        entries: &[HudText],
        frame: &OverlayFrame<'_>,
        atlas: &GlyphAtlas,
        text: &mut TextBudget,
    ) {
        let mut layout = std::mem::take(&mut self.layout);
        let reference = frame.reference;
        let backing = linear_color(BACKING);
        let line_adv = atlas.line_advance();
        let start = self.quads.len();
        let (w, h) = (frame.width as f32, frame.height as f32);
        let px = (16.0 * h / 1080.0).max(12.0);
        let margin = 8.0f32;
        let stereo = frame.views.len() >= 2;
        // Head-space mapping for stereo: virtual pixels -> metres on a plane 2 m ahead.
        let head = frame.views.iter().map(|v| v.position).sum::<DVec3>() / frame.views.len().max(1) as f64;
        let head_dist = 2.0f64;
        let (tl, tr, tu, td) = frame.views.first().map(|v| v.fov.tangents()).unwrap_or((-1.0, 1.0, 1.0, -1.0));
        let head_orientation = frame.views.first().map(|v| v.orientation).unwrap_or(DQuat::IDENTITY);
        let plane = rel(head + head_orientation * DVec3::new(0.0, 0.0, -head_dist), reference);
        let inset = 0.8f32;
        let to_head = |x: f32, y: f32| -> (f32, f32) {
            let tx = tl + (tr - tl) * (x / w);
            let ty = tu + (td - tu) * (y / h);
            (tx * inset * head_dist as f32, ty * inset * head_dist as f32)
        };
        let mut stack = [0.0f32; 4]; // pixels used so far from each corner
        for hud in entries {
            if text.glyphs == 0 {
                text.truncated = true;
                break;
            }
            text.glyphs -= 1;
            atlas.layout(&hud.text, &mut text.glyphs, &mut layout);
            text.truncated |= layout.truncated;
            let pad = 0.2 * px;
            let block_h = ((layout.lines.len() as f32 - 1.0) * line_adv + 1.0) * px + 2.0 * pad;
            let block_w = layout.width() * px + 2.0 * pad;
            let ci = hud.corner as usize;
            let left = matches!(hud.corner, HudCorner::TopLeft | HudCorner::BottomLeft);
            let topc = matches!(hud.corner, HudCorner::TopLeft | HudCorner::TopRight);
            let x0 = if left { margin } else { w - margin - block_w };
            let y0 = if topc { margin + stack[ci] } else { h - margin - stack[ci] - block_h };
            stack[ci] += block_h + 0.25 * px;
            let color = linear_color(hud.color);
            let emit = |b: &mut Builder, rect: [f32; 4], uv: [f32; 4], style: u32, color: [f32; 4]| {
                // rect: x0, y0, x1, y1 in pixels, y down; uv for (x0,y0)-(x1,y1).
                if stereo {
                    let Some(anchor) = plane else { return };
                    let (ax, ay) = to_head(rect[0], rect[3]);
                    let (bx, by) = to_head(rect[2], rect[1]);
                    b.billboard(KIND_HEAD, style, anchor, [ax, ay, bx, by], [uv[0], uv[3], uv[2], uv[1]], color);
                } else {
                    b.quads.push(Quad {
                        p0: [0.0, 0.0, 0.0, mode(KIND_SCREEN, style)],
                        p1: rect,
                        p2: uv,
                        p3: [0.0; 4],
                        color,
                    });
                }
            };
            emit(self, [x0, y0, x0 + block_w, y0 + block_h], [0.0; 4], STYLE_SOLID, backing);
            for (li, (range, lw)) in layout.lines.iter().enumerate() {
                let lx = if left { x0 + pad } else { x0 + block_w - pad - lw * px };
                let ly = y0 + pad + li as f32 * line_adv * px;
                for g in &layout.glyphs[range.clone()] {
                    let r = g.rect;
                    let rect = [lx + r[0] * px, ly + r[1] * px, lx + r[2] * px, ly + r[3] * px];
                    emit(self, rect, g.uv, STYLE_GLYPH, color);
                }
            }
            self.primitives += 1;
        }
        self.push_draw(true, DrawTexture::Atlas, start);
        self.layout = layout;
    }
}
