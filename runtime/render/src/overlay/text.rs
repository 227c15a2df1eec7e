//! Overlay text: the embedded font rasterised once into a mipmapped coverage atlas of printable
//! ASCII, Latin-1 and the punctuation and symbols twins use past it (dashes, quotes, ₹, arrows,
//! comparisons), and the layout of a string into placed glyphs in line-height units, shared by labels
//! and HUD text. Cost: building the atlas rasterises 219 glyphs (once, with the renderer);
//! laying out a string is linear in its characters, at most [`MAX_TEXT_CHARS`] of them, and spends
//! one glyph of the frame's [`MAX_GLYPHS`] budget per character with ink.

use std::ops::Range;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};

use super::MAX_GLYPHS;

/// The DejaVu Sans font used for all overlay text (see `assets/fonts/LICENSE-DejaVu.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

/// Pixel height (ascender to descender) the atlas glyphs are rasterised at.
const ATLAS_PX: f32 = 32.0;
const ATLAS_WIDTH: u32 = 512;
const ATLAS_PAD: u32 = 4;
const ATLAS_MIPS: u32 = 3;
/// The most characters of one string looked at (beyond the glyph budget), and lines laid out.
const MAX_TEXT_CHARS: usize = 65_536;
const MAX_TEXT_LINES: usize = 4096;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct GlyphInfo {
    /// Ink rectangle relative to the pen (x) and the line top (y, down), in line heights; empty for
    /// glyphs without ink (space).
    pub(super) rect: Option<[f32; 4]>,
    /// Atlas UV rectangle (u0, v0, u1, v1).
    pub(super) uv: [f32; 4],
    /// Advance in line heights.
    pub(super) advance: f32,
    pub(super) id: GlyphId,
}

/// A coverage atlas of printable ASCII, Latin-1 and [`PUNCTUATION`] glyphs, rasterised once.
#[derive(Debug)]
pub(crate) struct GlyphAtlas {
    pub(super) font: Option<FontRef<'static>>,
    /// Indexed by [`glyph_slot`].
    pub(super) glyphs: Vec<GlyphInfo>,
    /// Extra space between lines, in line heights.
    line_gap: f32,
    pub(super) width: u32,
    pub(super) height: u32,
    /// Mip levels: (width, height, coverage).
    pub(super) levels: Vec<(u32, u32, Vec<u8>)>,
}

/// Characters past Latin-1 that twin labels and the HUD use (dashes and quotes of names, units and
/// symbols of planning values: the rupee, arrows, comparisons, Greek letters of units and deltas).
const PUNCTUATION: [char; 28] = [
    '–', '—', '‘', '’', '“', '”', '•', '…', '‰', '€', '₹', '−', '→', '←', '↑', '↓', '≤', '≥', '≈', '≠', '∞', '√', 'Δ',
    'Ω', 'λ', 'μ', 'σ', 'π',
];

/// Slots in the atlas: printable ASCII, Latin-1 and [`PUNCTUATION`].
const GLYPH_COUNT: usize = 95 + 96 + PUNCTUATION.len();

/// The characters of the atlas, in slot order.
fn atlas_chars() -> impl Iterator<Item = char> {
    (0x20u8..=0x7E).chain(0xA0..=0xFF).map(char::from).chain(PUNCTUATION)
}

/// The atlas slot of a character, or `None` for characters outside the atlas.
pub(super) fn glyph_slot(c: char) -> Option<usize> {
    let u = c as u32;
    match u {
        0x20..=0x7E => Some((u - 0x20) as usize),
        0xA0..=0xFF => Some(95 + (u - 0xA0) as usize),
        _ => PUNCTUATION.iter().position(|&p| p == c).map(|i| 191 + i),
    }
}

const QUESTION_SLOT: usize = ('?' as usize) - 0x20;

impl GlyphAtlas {
    pub(crate) fn new() -> GlyphAtlas {
        let font = match FontRef::try_from_slice(FONT_BYTES) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("the embedded overlay font could not be read ({e}); overlay text is not drawn");
                return GlyphAtlas {
                    font: None,
                    glyphs: vec![GlyphInfo::default(); GLYPH_COUNT],
                    line_gap: 0.0,
                    width: 1,
                    height: 1,
                    levels: vec![(1, 1, vec![0])],
                };
            }
        };
        let scale = PxScale::from(ATLAS_PX);
        let scaled = font.as_scaled(scale);
        let ascent = scaled.ascent();
        let line_h = (scaled.ascent() - scaled.descent()).max(1.0);
        let mut glyphs = Vec::with_capacity(GLYPH_COUNT);
        let mut outlines = Vec::with_capacity(GLYPH_COUNT);
        for c in atlas_chars() {
            let id = font.glyph_id(c);
            let advance = scaled.h_advance(id) / line_h;
            outlines.push(scaled.outline_glyph(id.with_scale_and_position(scale, ab_glyph::point(0.0, ascent))));
            glyphs.push(GlyphInfo { rect: None, uv: [0.0; 4], advance, id });
        }
        // Shelf packing.
        let (mut x, mut y, mut row_h) = (ATLAS_PAD, ATLAS_PAD, 0u32);
        let mut places = Vec::with_capacity(outlines.len());
        for o in &outlines {
            let Some(o) = o else {
                places.push(None);
                continue;
            };
            let b = o.px_bounds();
            let (w, h) = (b.width().ceil() as u32, b.height().ceil() as u32);
            if x + w + ATLAS_PAD > ATLAS_WIDTH {
                x = ATLAS_PAD;
                y += row_h + ATLAS_PAD;
                row_h = 0;
            }
            places.push(Some((x, y, w, h)));
            x += w + ATLAS_PAD;
            row_h = row_h.max(h);
        }
        let height = (y + row_h + ATLAS_PAD).next_power_of_two();
        let width = ATLAS_WIDTH;
        let mut pixels = vec![0u8; (width * height) as usize];
        for ((g, o), place) in glyphs.iter_mut().zip(&outlines).zip(&places) {
            let (Some(o), Some((px, py, w, h))) = (o, place) else { continue };
            o.draw(|gx, gy, c| {
                let (tx, ty) = (px + gx, py + gy);
                if gx < *w && gy < *h && tx < width && ty < height {
                    pixels[(ty * width + tx) as usize] = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            });
            let b = o.px_bounds();
            g.rect = Some([b.min.x / line_h, b.min.y / line_h, b.max.x / line_h, b.max.y / line_h]);
            let (fw, fh) = (width as f32, height as f32);
            g.uv = [*px as f32 / fw, *py as f32 / fh, (*px as f32 + b.width()) / fw, (*py as f32 + b.height()) / fh];
        }
        // Box-filtered mips (the padding keeps neighbours apart down to the last level).
        let mut levels = vec![(width, height, pixels)];
        for _ in 1..ATLAS_MIPS {
            let (pw, ph, prev) = levels.last().map(|(w, h, p)| (*w, *h, p.as_slice())).unwrap_or((1, 1, &[]));
            let (w, h) = ((pw / 2).max(1), (ph / 2).max(1));
            let mut next = vec![0u8; (w * h) as usize];
            for yy in 0..h {
                for xx in 0..w {
                    let mut sum = 0u32;
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let sx = (xx * 2 + dx).min(pw - 1);
                        let sy = (yy * 2 + dy).min(ph - 1);
                        sum += u32::from(prev[(sy * pw + sx) as usize]);
                    }
                    next[(yy * w + xx) as usize] = (sum / 4) as u8;
                }
            }
            levels.push((w, h, next));
        }
        let line_gap = scaled.line_gap().max(0.0) / line_h;
        GlyphAtlas { font: Some(font), glyphs, line_gap, width, height, levels }
    }

    /// Distance between consecutive baselines, in line heights.
    pub(super) fn line_advance(&self) -> f32 {
        1.0 + self.line_gap
    }

    /// Lays `text` out in line heights: lines top to bottom, each starting at x = 0. Spends at most
    /// `budget` glyphs (decremented), and looks at no more than [`MAX_TEXT_CHARS`] characters.
    pub(super) fn layout(&self, text: &str, budget: &mut usize, out: &mut TextLayout) {
        out.lines.clear();
        out.glyphs.clear();
        let Some(font) = &self.font else { return };
        let scale = PxScale::from(ATLAS_PX);
        let scaled = font.as_scaled(scale);
        let line_h = (scaled.ascent() - scaled.descent()).max(1.0);
        let mut pen = 0.0f32;
        let mut start = 0usize;
        let mut prev: Option<GlyphId> = None;
        let mut truncated = false;
        for (n, c) in text.chars().enumerate() {
            if n >= MAX_TEXT_CHARS {
                truncated = true;
                break;
            }
            match c {
                '\n' => {
                    if out.lines.len() + 1 >= MAX_TEXT_LINES {
                        truncated = true;
                        break;
                    }
                    out.lines.push((start..out.glyphs.len(), pen));
                    start = out.glyphs.len();
                    pen = 0.0;
                    prev = None;
                    continue;
                }
                '\r' => continue,
                _ => {}
            }
            let c = if c == '\t' { ' ' } else { c };
            let slot = glyph_slot(c).unwrap_or(QUESTION_SLOT);
            let slot = if slot != 0 && self.glyphs[slot].id.0 == 0 { QUESTION_SLOT } else { slot };
            let g = self.glyphs[slot];
            if let Some(p) = prev {
                pen += scaled.kern(p, g.id) / line_h;
            }
            if let Some(r) = g.rect {
                if *budget == 0 {
                    truncated = true;
                    break;
                }
                *budget -= 1;
                out.glyphs.push(PlacedGlyph { rect: [r[0] + pen, r[1], r[2] + pen, r[3]], uv: g.uv });
            }
            pen += g.advance;
            prev = Some(g.id);
        }
        out.lines.push((start..out.glyphs.len(), pen));
        out.truncated = truncated;
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct PlacedGlyph {
    /// x0, y0, x1, y1 in line heights (x from the line start, y down from the line top).
    pub(super) rect: [f32; 4],
    pub(super) uv: [f32; 4],
}

#[derive(Debug, Default)]
pub(super) struct TextLayout {
    /// Each line: its glyphs and its width (line heights).
    pub(super) lines: Vec<(Range<usize>, f32)>,
    pub(super) glyphs: Vec<PlacedGlyph>,
    pub(super) truncated: bool,
}

impl TextLayout {
    pub(super) fn width(&self) -> f32 {
        self.lines.iter().map(|l| l.1).fold(0.0, f32::max)
    }
}

/// The dark translucent box behind every label and HUD entry, sRGB RGBA.
pub(super) const BACKING: [f32; 4] = [0.0, 0.0, 0.0, 0.65];

/// The frame's glyph budget, shared by labels and HUD text (each backing box counts as a glyph).
#[derive(Debug)]
pub(super) struct TextBudget {
    /// Glyphs left to draw this frame.
    pub(super) glyphs: usize,
    /// Whether some text was cut short (out of budget, or an over-long string).
    pub(super) truncated: bool,
}

impl TextBudget {
    /// A full frame's budget: [`MAX_GLYPHS`].
    pub(super) fn new() -> TextBudget {
        TextBudget { glyphs: MAX_GLYPHS, truncated: false }
    }
}
