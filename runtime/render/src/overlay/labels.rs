//! Labels: billboard text on a dark translucent backing box, anchored bottom-centre, drawn far to
//! near with no depth test so buildings never hide them; sized in metres (smaller with distance) or,
//! with [`OverlayLabel::screen_px`], in pixels at any distance. Cost: a sort of the labels by distance,
//! then one quad for the box and one per glyph with ink, out of the frame's shared glyph budget.

use glam::DVec3;

use super::builder::Builder;
use super::color::linear_color;
use super::quads::{DrawTexture, KIND_BILLBOARD, KIND_PIXELS, STYLE_GLYPH, STYLE_SOLID, rel};
use super::text::{BACKING, GlyphAtlas, TextBudget};
use super::{MAX_LABEL_PX, OverlayLabel};

impl Builder {
    /// The labels' quads, far to near, on top; spends glyphs from `text`.
    pub(super) fn labels(
        &mut self,
        labels: &[&OverlayLabel],
        reference: DVec3,
        atlas: &GlyphAtlas,
        text: &mut TextBudget,
    ) {
        let mut order = std::mem::take(&mut self.order);
        let mut layout = std::mem::take(&mut self.layout);
        let eye = reference;
        let start = self.quads.len();
        order.clear();
        order.extend(
            labels
                .iter()
                .enumerate()
                .filter(|(_, l)| l.position.is_finite() && size_of(l).is_some())
                .map(|(i, l)| ((l.position - eye).length_squared(), i)),
        );
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        let backing = linear_color(BACKING);
        let line_adv = atlas.line_advance();
        for &(_, i) in &order {
            let l = &labels[i];
            let Some(anchor) = rel(l.position, reference) else { continue };
            if text.glyphs == 0 {
                text.truncated = true;
                break;
            }
            text.glyphs -= 1; // the backing box
            atlas.layout(&l.text, &mut text.glyphs, &mut layout);
            text.truncated |= layout.truncated;
            // In metres along the view's axes, or in pixels about the projected anchor.
            let Some((kind, hm)) = size_of(l) else { continue };
            let (pad_x, pad_y) = (0.25f32, 0.12f32);
            let lines = layout.lines.len() as f32;
            let block_h = (lines - 1.0) * line_adv + 1.0;
            let width = layout.width();
            let (half_w, total_h) = ((width * 0.5 + pad_x) * hm, (block_h + 2.0 * pad_y) * hm);
            if !(half_w.is_finite() && total_h.is_finite()) {
                continue;
            }
            self.billboard(kind, STYLE_SOLID, anchor, [-half_w, 0.0, half_w, total_h], [0.0; 4], backing);
            let color = linear_color(l.color);
            let top = block_h + pad_y; // line-height units above the anchor
            for (li, (range, lw)) in layout.lines.iter().enumerate() {
                let x0 = -lw * 0.5;
                let y0 = li as f32 * line_adv;
                for g in &layout.glyphs[range.clone()] {
                    let r = g.rect;
                    let rect = [(x0 + r[0]) * hm, (top - y0 - r[3]) * hm, (x0 + r[2]) * hm, (top - y0 - r[1]) * hm];
                    // The quad's v runs bottom to top; the atlas' v runs top to bottom.
                    let uv = [g.uv[0], g.uv[3], g.uv[2], g.uv[1]];
                    self.billboard(kind, STYLE_GLYPH, anchor, rect, uv, color);
                }
            }
            self.primitives += 1;
        }
        self.push_draw(true, DrawTexture::Atlas, start);
        self.order = order;
        self.layout = layout;
    }
}

/// How a label is sized: its quads' kind and its line height in their units (metres or pixels);
/// `None` for a label with no usable size.
fn size_of(l: &OverlayLabel) -> Option<(u32, f32)> {
    match l.screen_px {
        Some(px) if px.is_finite() && px > 0.0 => Some((KIND_PIXELS, px.min(MAX_LABEL_PX))),
        Some(_) => None,
        None => (l.height_m.is_finite() && l.height_m > 0.0).then_some((KIND_BILLBOARD, l.height_m)),
    }
}
