//! Overlay text: the embedded font rasterised once into a mipmapped signed-distance atlas of printable
//! ASCII, Latin-1 and the punctuation and symbols twins use past it (dashes, quotes, ₹, arrows,
//! comparisons), and the layout of a string into placed glyphs in line-height units, shared by labels
//! and HUD text. Each texel holds the distance to the glyph's outline ([`SDF_SPREAD`] pixels of the
//! atlas either way mapped to 0..1, 0.5 on the outline), so the shader cuts a sharp edge at any
//! magnification instead of blurring a stretched coverage bitmap. Cost: building the atlas rasterises
//! 219 glyphs and runs two linear-time distance transforms on each (once, with the renderer);
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
/// Atlas pixels of distance either side of a glyph's outline the distance field holds (its halo).
pub(super) const SDF_SPREAD: u32 = 4;
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

/// The signed distance (pixels, positive inside) from each pixel centre of a `w` x `h` coverage
/// bitmap to the glyph's outline: halfway to the nearest pixel of the other side (exact Euclidean
/// distances from two squared distance transforms), and in a partly covered pixel its coverage less
/// one half (the outline crosses it). Written here: ab_glyph rasterises coverage only, and the
/// transform (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions", 2012) is a
/// few lines, not worth a dependency.
pub(super) fn distance_field(coverage: &[f32], w: usize, h: usize) -> Vec<f32> {
    let inside: Vec<bool> = coverage.iter().map(|&c| c >= 0.5).collect();
    // Squared distance to the nearest pixel that is (`to_inside`) or is not inside.
    let squared = |to_inside: bool| {
        let mut f: Vec<f32> = inside.iter().map(|&i| if i == to_inside { 0.0 } else { f32::INFINITY }).collect();
        let mut line = Vec::new();
        for y in 0..h {
            line.clear();
            line.extend_from_slice(&f[y * w..(y + 1) * w]);
            let row = edt_1d(&line);
            f[y * w..(y + 1) * w].copy_from_slice(&row);
        }
        for x in 0..w {
            line.clear();
            line.extend((0..h).map(|y| f[y * w + x]));
            for (y, v) in edt_1d(&line).into_iter().enumerate() {
                f[y * w + x] = v;
            }
        }
        f
    };
    let (to_inside, to_outside) = (squared(true), squared(false));
    (0..w * h)
        .map(|i| match coverage[i] {
            // The outline crosses a partly covered pixel: its coverage says how far from the centre.
            c if c > 0.0 && c < 1.0 => c - 0.5,
            // Elsewhere it lies halfway to the nearest pixel of the other side.
            _ if inside[i] => to_outside[i].sqrt() - 0.5,
            _ => -(to_inside[i].sqrt() - 0.5),
        })
        .collect()
}

/// The 1D squared distance transform of `f` (0 at the sites, infinity elsewhere): the lower envelope
/// of the parabolas rooted at the sites.
fn edt_1d(f: &[f32]) -> Vec<f32> {
    let n = f.len();
    let mut out = vec![f32::INFINITY; n];
    let sites: Vec<usize> = (0..n).filter(|&q| f[q].is_finite()).collect();
    if sites.is_empty() {
        return out;
    }
    // v: the parabolas of the envelope; z: where each starts to be the lowest.
    let (mut v, mut z) = (vec![0usize; sites.len()], vec![0f32; sites.len() + 1]);
    let mut k = 0usize;
    v[0] = sites[0];
    z[0] = f32::NEG_INFINITY;
    z[1] = f32::INFINITY;
    let meet = |q: usize, p: usize| {
        let (qf, pf) = (q as f32, p as f32);
        ((f[q] + qf * qf) - (f[p] + pf * pf)) / (2.0 * qf - 2.0 * pf)
    };
    for &q in &sites[1..] {
        let mut s = meet(q, v[k]);
        while s <= z[k] {
            k -= 1;
            s = meet(q, v[k]);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f32::INFINITY;
    }
    k = 0;
    for (q, o) in out.iter_mut().enumerate() {
        while z[k + 1] < q as f32 {
            k += 1;
        }
        let d = q as f32 - v[k] as f32;
        *o = d * d + f[v[k]];
    }
    out
}

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
            // The ink and its distance halo.
            let (w, h) = (b.width().ceil() as u32 + 2 * SDF_SPREAD, b.height().ceil() as u32 + 2 * SDF_SPREAD);
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
        let mut coverage = Vec::new();
        for ((g, o), place) in glyphs.iter_mut().zip(&outlines).zip(&places) {
            let (Some(o), Some((px, py, w, h))) = (o, place) else { continue };
            coverage.clear();
            coverage.resize((w * h) as usize, 0.0f32);
            o.draw(|gx, gy, c| {
                let (cx, cy) = (gx + SDF_SPREAD, gy + SDF_SPREAD);
                if cx < *w && cy < *h {
                    coverage[(cy * w + cx) as usize] = c.clamp(0.0, 1.0);
                }
            });
            let field = distance_field(&coverage, *w as usize, *h as usize);
            for row in 0..*h {
                for col in 0..*w {
                    let (tx, ty) = (px + col, py + row);
                    if tx < width && ty < height {
                        let d = field[(row * w + col) as usize];
                        pixels[(ty * width + tx) as usize] =
                            ((0.5 + d / (2.0 * SDF_SPREAD as f32)).clamp(0.0, 1.0) * 255.0).round() as u8;
                    }
                }
            }
            // The quad covers the ink and its halo, so the edge can be cut anywhere within it.
            let b = o.px_bounds();
            let s = SDF_SPREAD as f32;
            g.rect =
                Some([(b.min.x - s) / line_h, (b.min.y - s) / line_h, (b.max.x + s) / line_h, (b.max.y + s) / line_h]);
            let (fw, fh) = (width as f32, height as f32);
            let (gw, gh) = (b.width() + 2.0 * s, b.height() + 2.0 * s);
            g.uv = [*px as f32 / fw, *py as f32 / fh, (*px as f32 + gw) / fw, (*py as f32 + gh) / fh];
        }
        // Box-filtered mips of the distances (the padding keeps neighbours apart down to the last level).
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
