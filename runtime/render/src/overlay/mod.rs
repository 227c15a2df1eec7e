//! Per-frame overlay primitives (lines, markers, labels, heatmaps, volumes, heads-up text) and the
//! pass that draws them on top of the scene.
//!
//! Everything public here is plain data, rebuilt by its producers (plugins, the stats display, the
//! inspector) every frame and handed to [`Renderer::render_with_overlay`](crate::gpu::Renderer).
//! Positions are site-frame `f64` ENU metres (+X east, +Y north, +Z up), like
//! [`Placement`](crate::scene::Placement); the renderer subtracts the frame's reference point in `f64`
//! before casting to `f32`, so overlays at large site coordinates do not jitter.
//!
//! # Colours
//!
//! Colours are **sRGB-encoded RGBA in `0..=1`**, as a plugin author would pick them (e.g. from a
//! colour picker), with straight (not premultiplied) alpha. The renderer converts RGB to linear
//! before blending, so on the default `Rgba8UnormSrgb` target an opaque overlay pixel reads back as
//! exactly the authored value. Overlays are not lit, fogged or tone-mapped (volumes get a slight fixed
//! shading so their shape reads). Non-finite components count as 0; values are clamped to `0..=1`.
//!
//! # Drawing order and depth
//!
//! After the scene's opaque and transparent draws, in the same render pass (same MSAA target and
//! depth buffer): heatmaps, volumes (far to near), lines, markers — all depth-tested against the
//! scene (reverse-Z, `GreaterEqual`) without writing depth, alpha-blended — then labels (far to
//! near) and HUD text with no depth test, so they are never hidden inside buildings.
//!
//! # HUD placement
//!
//! With one view, [`HudText`] is laid out in target pixels: text is 16 px high per line at a
//! 1080 px tall target, scaled with the target height but never below 12 px (legibility floor), with an
//! 8 px margin. With two or more views (stereo), screen-space text could not fuse, so the same layout
//! is placed in head space: on a plane 2 m ahead of the head (the mean of the views' positions),
//! oriented like the first view, spanning 80 % of the first view's field of view. Both eyes then
//! see it at the same depth.
//!
//! # Limits
//!
//! Nothing here panics or allocates without bound on hostile input: non-finite positions or sizes
//! are skipped, unknown characters draw as `?`, and each frame draws at most [`MAX_GLYPHS`] glyphs,
//! [`MAX_LINE_SEGMENTS`] line segments, [`MAX_MARKERS`] markers, [`MAX_VOLUMES`] volumes and
//! [`MAX_HEATMAPS`] heatmaps of at most [`MAX_HEATMAP_SIDE`] cells a side; the excess is dropped with a
//! `tracing` warning.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Range;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};
use bytemuck::{Pod, Zeroable};
use glam::{DQuat, DVec3, Vec3};

use crate::gpu::{DEPTH_FORMAT, MAX_VIEWS};
use crate::scene::View;

/// The most glyphs (characters with ink, plus one backing box per label or HUD entry) drawn per frame.
pub const MAX_GLYPHS: usize = 65_536;
/// The most line segments drawn per frame (over all lines).
pub const MAX_LINE_SEGMENTS: usize = 1_000_000;
/// The most markers drawn per frame.
pub const MAX_MARKERS: usize = 1_000_000;
/// The most volumes drawn per frame.
pub const MAX_VOLUMES: usize = 16_384;
/// The most heatmaps drawn per frame.
pub const MAX_HEATMAPS: usize = 64;
/// The most cells along either side of one heatmap (also limited by the device's texture size).
pub const MAX_HEATMAP_SIDE: u32 = 4096;
/// How far above `origin.z` heatmaps are drawn, in metres, so they do not z-fight with the ground.
pub const HEATMAP_LIFT_M: f64 = 0.05;

/// The DejaVu Sans font used for all overlay text (see `assets/fonts/LICENSE-DejaVu.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

/// Overlay primitives for one frame. The default is empty and costs nothing to render.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    /// Polylines.
    pub lines: Vec<OverlayLine>,
    /// Round markers.
    pub markers: Vec<OverlayMarker>,
    /// Billboard text labels.
    pub labels: Vec<OverlayLabel>,
    /// Gridded values drawn as coloured cells on a horizontal plane.
    pub heatmaps: Vec<OverlayHeatmap>,
    /// Translucent shapes (coverage volumes, zones).
    pub volumes: Vec<OverlayVolume>,
    /// Heads-up text fixed to the screen (or to the head in stereo).
    pub hud: Vec<HudText>,
}

impl Overlay {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
            && self.markers.is_empty()
            && self.labels.is_empty()
            && self.heatmaps.is_empty()
            && self.volumes.is_empty()
            && self.hud.is_empty()
    }
}

/// A polyline of constant world width drawn as a camera-facing ribbon (each segment turns to face
/// the viewer about its own axis). Segments with a non-finite end are skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayLine {
    /// The points, in order; fewer than two draw nothing.
    pub points: Vec<DVec3>,
    /// sRGB RGBA in `0..=1`.
    pub color: [f32; 4],
    /// Width in metres (must be finite and > 0).
    pub width_m: f32,
}

/// A camera-facing disc.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayMarker {
    /// Centre in site metres.
    pub position: DVec3,
    /// Radius in metres (must be finite and > 0).
    pub radius_m: f32,
    /// sRGB RGBA in `0..=1`.
    pub color: [f32; 4],
}

/// Billboard text: anchored bottom-centre at `position`, on a dark translucent backing box, drawn on
/// top of everything (no depth test). `'\n'` starts a new line (lines are centred).
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayLabel {
    /// Anchor (bottom centre of the backing box) in site metres.
    pub position: DVec3,
    /// The text; characters outside printable ASCII and Latin-1 draw as `?`.
    pub text: String,
    /// Height of one line of text in metres (ascender to descender; must be finite and > 0).
    pub height_m: f32,
    /// Text colour, sRGB RGBA in `0..=1`.
    pub color: [f32; 4],
}

/// Values on a regular horizontal grid, drawn as one nearest-filtered textured quad
/// [`HEATMAP_LIFT_M`] above `origin.z`.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayHeatmap {
    /// South-west corner of cell (row 0, column 0), in site metres.
    pub origin: DVec3,
    /// Cell edge in metres (must be finite and > 0).
    pub cell_size_m: f32,
    /// Cells per row (going east, +X).
    pub columns: u32,
    /// Rows (row 0 at the origin, going north, +Y).
    pub rows: u32,
    /// Row-major values, `columns * rows` of them; missing values and NaN are transparent, extra
    /// values are ignored.
    pub values: Vec<f32>,
    /// The value mapped to the palette's first colour (lower values clamp to it).
    pub min: f32,
    /// The value mapped to the palette's last colour (higher values clamp to it).
    pub max: f32,
    /// Colour ramp.
    pub palette: HeatmapPalette,
    /// Opacity in `0..=1` of every (non-NaN) cell.
    pub opacity: f32,
}

/// Colour ramps for heatmaps, from `min` to `max`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeatmapPalette {
    /// Matplotlib's perceptually uniform viridis: dark purple, blue, green, yellow.
    #[default]
    Viridis,
    /// Green, yellow, red (good to bad).
    Traffic,
    /// Blue, white, red (below, at, above the midpoint).
    Diverging,
}

/// A translucent shape, depth-tested against the scene. From outside only its near surface is
/// drawn; with the camera inside, its inner surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayVolume {
    /// Which shape.
    pub shape: VolumeShape,
    /// Centre in site metres (for a cylinder, at mid-height).
    pub center: DVec3,
    /// Sphere: `[diameter, _, _]`; cylinder: `[diameter, _, height]` (upright); box: extent
    /// `[east, north, up]`. Used components must be finite and > 0.
    pub size: [f32; 3],
    /// sRGB RGBA in `0..=1` (give alpha < 1 for a see-through volume).
    pub color: [f32; 4],
}

/// Shapes of [`OverlayVolume`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeShape {
    /// A sphere of diameter `size[0]`.
    Sphere,
    /// An upright (Z) cylinder of diameter `size[0]` and height `size[2]`.
    Cylinder,
    /// An axis-aligned box of extent `size` (east, north, up).
    Box,
}

/// Heads-up text: lines of text (split at `'\n'`) stacked from a screen corner. Entries of the same
/// corner stack in order away from the corner: downward from a top corner, upward from a bottom
/// corner (the first entry is nearest the corner). See the module notes for stereo.
#[derive(Clone, Debug, PartialEq)]
pub struct HudText {
    /// The text; characters outside printable ASCII and Latin-1 draw as `?`.
    pub text: String,
    /// Which corner to stack from.
    pub corner: HudCorner,
    /// sRGB RGBA in `0..=1`.
    pub color: [f32; 4],
}

/// Screen corners for [`HudText`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HudCorner {
    /// Top left.
    #[default]
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

// -------------------------------------------------------------------------------------------------
// Colour helpers
// -------------------------------------------------------------------------------------------------

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

fn clamp01(c: f32) -> f32 {
    if c.is_finite() { c.clamp(0.0, 1.0) } else { 0.0 }
}

/// sRGB straight-alpha RGBA in 0..=1 to linear straight-alpha RGBA.
fn linear_color(c: [f32; 4]) -> [f32; 4] {
    [srgb_to_linear(clamp01(c[0])), srgb_to_linear(clamp01(c[1])), srgb_to_linear(clamp01(c[2])), clamp01(c[3])]
}

/// The palette's sRGB colour at `t` in 0..=1.
fn palette_srgb(p: HeatmapPalette, t: f32) -> [f32; 3] {
    const VIRIDIS: [[f32; 3]; 9] = [
        [0.267, 0.005, 0.329],
        [0.279, 0.175, 0.483],
        [0.230, 0.322, 0.546],
        [0.173, 0.449, 0.558],
        [0.128, 0.567, 0.551],
        [0.153, 0.680, 0.504],
        [0.361, 0.785, 0.388],
        [0.668, 0.862, 0.196],
        [0.993, 0.906, 0.144],
    ];
    const TRAFFIC: [[f32; 3]; 3] = [[0.0, 0.70, 0.0], [1.0, 0.85, 0.0], [0.85, 0.0, 0.0]];
    const DIVERGING: [[f32; 3]; 3] = [[0.13, 0.28, 0.85], [1.0, 1.0, 1.0], [0.85, 0.10, 0.10]];
    let stops: &[[f32; 3]] = match p {
        HeatmapPalette::Viridis => &VIRIDIS,
        HeatmapPalette::Traffic => &TRAFFIC,
        HeatmapPalette::Diverging => &DIVERGING,
    };
    let t = clamp01(t) * (stops.len() - 1) as f32;
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f32;
    let (a, b) = (stops[i], stops[i + 1]);
    [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]
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

// -------------------------------------------------------------------------------------------------
// Glyph atlas and text layout
// -------------------------------------------------------------------------------------------------

/// Pixel height (ascender to descender) the atlas glyphs are rasterised at.
const ATLAS_PX: f32 = 32.0;
const ATLAS_WIDTH: u32 = 512;
const ATLAS_PAD: u32 = 4;
const ATLAS_MIPS: u32 = 3;
/// The most characters of one string looked at (beyond the glyph budget), and lines laid out.
const MAX_TEXT_CHARS: usize = 65_536;
const MAX_TEXT_LINES: usize = 4096;

#[derive(Clone, Copy, Debug, Default)]
struct GlyphInfo {
    /// Ink rectangle relative to the pen (x) and the line top (y, down), in line heights; empty for
    /// glyphs without ink (space).
    rect: Option<[f32; 4]>,
    /// Atlas UV rectangle (u0, v0, u1, v1).
    uv: [f32; 4],
    /// Advance in line heights.
    advance: f32,
    id: GlyphId,
}

/// A coverage atlas of printable ASCII and Latin-1 glyphs, rasterised once.
#[derive(Debug)]
pub(crate) struct GlyphAtlas {
    font: Option<FontRef<'static>>,
    /// Indexed by [`glyph_slot`].
    glyphs: Vec<GlyphInfo>,
    /// Extra space between lines, in line heights.
    line_gap: f32,
    width: u32,
    height: u32,
    /// Mip levels: (width, height, coverage).
    levels: Vec<(u32, u32, Vec<u8>)>,
}

/// The atlas slot of a character, or `None` for characters outside the atlas.
fn glyph_slot(c: char) -> Option<usize> {
    let u = c as u32;
    match u {
        0x20..=0x7E => Some((u - 0x20) as usize),
        0xA0..=0xFF => Some(95 + (u - 0xA0) as usize),
        _ => None,
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
                    glyphs: vec![GlyphInfo::default(); 191],
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
        let mut glyphs = Vec::with_capacity(191);
        let mut outlines = Vec::with_capacity(191);
        for c in (0x20u8..=0x7E).chain(0xA0..=0xFF).map(char::from) {
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
    fn line_advance(&self) -> f32 {
        1.0 + self.line_gap
    }

    /// Lays `text` out in line heights: lines top to bottom, each starting at x = 0. Spends at most
    /// `budget` glyphs (decremented), and looks at no more than [`MAX_TEXT_CHARS`] characters.
    fn layout(&self, text: &str, budget: &mut usize, out: &mut TextLayout) {
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
struct PlacedGlyph {
    /// x0, y0, x1, y1 in line heights (x from the line start, y down from the line top).
    rect: [f32; 4],
    uv: [f32; 4],
}

#[derive(Debug, Default)]
struct TextLayout {
    /// Each line: its glyphs and its width (line heights).
    lines: Vec<(Range<usize>, f32)>,
    glyphs: Vec<PlacedGlyph>,
    truncated: bool,
}

impl TextLayout {
    fn width(&self) -> f32 {
        self.lines.iter().map(|l| l.1).fold(0.0, f32::max)
    }
}

// -------------------------------------------------------------------------------------------------
// Instances
// -------------------------------------------------------------------------------------------------

const KIND_WORLD_QUAD: u32 = 0;
const KIND_BILLBOARD: u32 = 1;
const KIND_RIBBON: u32 = 2;
const KIND_SCREEN: u32 = 3;
const KIND_HEAD: u32 = 5;
const STYLE_SOLID: u32 = 0;
const STYLE_DISC: u32 = 1;
const STYLE_GLYPH: u32 = 2;
const STYLE_TEXTURE: u32 = 3;

fn mode(kind: u32, style: u32) -> f32 {
    (kind | (style << 4)) as f32
}

/// One overlay quad (see overlay.wgsl for the meaning of each field by kind).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct Quad {
    p0: [f32; 4],
    p1: [f32; 4],
    p2: [f32; 4],
    p3: [f32; 4],
    color: [f32; 4],
}

const QUAD_SIZE: u64 = std::mem::size_of::<Quad>() as u64;

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct OverlayViewData {
    right: [f32; 4],
    up: [f32; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct OverlayUniform {
    views: [OverlayViewData; MAX_VIEWS],
    viewport: [f32; 4],
}

/// Which texture a draw samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DrawTexture {
    Atlas,
    Heatmap(usize),
}

#[derive(Clone, Debug)]
struct OverlayDraw {
    /// Drawn without depth test (labels, HUD).
    on_top: bool,
    texture: DrawTexture,
    instances: Range<u32>,
}

/// The frame's camera-relative frame of reference.
pub(crate) struct OverlayFrame<'a> {
    pub views: &'a [View],
    pub reference: DVec3,
    pub width: u32,
    pub height: u32,
}

/// Camera-relative f32 position, or `None` if not finite (before or after the cast).
fn rel(p: DVec3, reference: DVec3) -> Option<Vec3> {
    let r = (p - reference).as_vec3();
    (p.is_finite() && r.is_finite()).then_some(r)
}

fn v4(v: Vec3, w: f32) -> [f32; 4] {
    [v.x, v.y, v.z, w]
}

/// CPU-side builder: quads and draw ranges for one frame.
#[derive(Debug, Default)]
struct Builder {
    quads: Vec<Quad>,
    draws: Vec<OverlayDraw>,
    primitives: u32,
    // Scratch kept across frames.
    order: Vec<(f64, usize)>,
    tess: Vec<([DVec3; 4], DVec3)>,
    layout: TextLayout,
    warnings: WarnThrottle,
}

/// How often one kind of overlay warning may be logged: an overlay over a cap is usually over it every
/// frame, and a log line per frame would drown everything else.
const WARN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Logs each kind of warning at most once per [`WARN_INTERVAL`], saying how many were held back.
#[derive(Debug, Default)]
struct WarnThrottle {
    /// Per kind: when it was last logged, and how many were held back since.
    kinds: Vec<(&'static str, std::time::Instant, u64)>,
}

impl WarnThrottle {
    /// Logs `message()` under `kind` unless that kind was logged within [`WARN_INTERVAL`].
    fn warn(&mut self, kind: &'static str, message: impl FnOnce() -> String) {
        let now = std::time::Instant::now();
        match self.kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, last, held)) if now.duration_since(*last) < WARN_INTERVAL => *held += 1,
            Some((_, last, held)) => {
                let held_back = std::mem::take(held);
                *last = now;
                let text = message();
                tracing::warn!("{text} ({held_back} more times since the last report)");
            }
            None => {
                self.kinds.push((kind, now, 0));
                let text = message();
                tracing::warn!("{text}");
            }
        }
    }
}

impl Builder {
    fn push_draw(&mut self, on_top: bool, texture: DrawTexture, start: usize) {
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

    fn world_quad(&mut self, corners: [Vec3; 4], style: u32, color: [f32; 4]) {
        self.quads.push(Quad {
            p0: v4(corners[0], mode(KIND_WORLD_QUAD, style)),
            p1: v4(corners[1], 0.0),
            p2: v4(corners[2], 0.0),
            p3: v4(corners[3], 0.0),
            color,
        });
    }

    fn billboard(&mut self, kind: u32, style: u32, anchor: Vec3, rect: [f32; 4], uv: [f32; 4], color: [f32; 4]) {
        self.quads.push(Quad { p0: v4(anchor, mode(kind, style)), p1: rect, p2: uv, p3: [0.0; 4], color });
    }
}

/// Tessellated volume quads: corners and outward normal.
fn volume_quads(v: &OverlayVolume, out: &mut Vec<([DVec3; 4], DVec3)>) -> bool {
    out.clear();
    let c = v.center;
    let s = v.size.map(f64::from);
    let ok = |x: f64| x.is_finite() && x > 0.0;
    match v.shape {
        VolumeShape::Sphere => {
            if !ok(s[0]) {
                return false;
            }
            let r = s[0] * 0.5;
            let (nlat, nlon) = (12, 24);
            let p = |i: usize, j: usize| {
                let theta = std::f64::consts::PI * i as f64 / nlat as f64 - std::f64::consts::FRAC_PI_2;
                let phi = std::f64::consts::TAU * j as f64 / nlon as f64;
                DVec3::new(theta.cos() * phi.cos(), theta.cos() * phi.sin(), theta.sin())
            };
            for i in 0..nlat {
                for j in 0..nlon {
                    let q = [p(i, j), p(i, j + 1), p(i + 1, j + 1), p(i + 1, j)];
                    let n = (q[0] + q[1] + q[2] + q[3]).normalize_or_zero();
                    out.push((q.map(|d| c + d * r), n));
                }
            }
        }
        VolumeShape::Cylinder => {
            if !ok(s[0]) || !ok(s[2]) {
                return false;
            }
            let (r, hh) = (s[0] * 0.5, s[2] * 0.5);
            let n = 32;
            let d = |j: usize| {
                let phi = std::f64::consts::TAU * j as f64 / n as f64;
                DVec3::new(phi.cos(), phi.sin(), 0.0)
            };
            let (lo, hi) = (DVec3::new(0.0, 0.0, -hh), DVec3::new(0.0, 0.0, hh));
            for j in 0..n {
                let (a, b) = (d(j), d(j + 1));
                let side = [a * r + lo, b * r + lo, b * r + hi, a * r + hi];
                out.push((side.map(|p| c + p), (a + b).normalize_or_zero()));
                out.push(([hi, a * r + hi, b * r + hi, hi].map(|p| c + p), DVec3::Z));
                out.push(([lo, b * r + lo, a * r + lo, lo].map(|p| c + p), DVec3::NEG_Z));
            }
        }
        VolumeShape::Box => {
            if !(ok(s[0]) && ok(s[1]) && ok(s[2])) {
                return false;
            }
            let h = DVec3::new(s[0], s[1], s[2]) * 0.5;
            for n in [DVec3::X, DVec3::NEG_X, DVec3::Y, DVec3::NEG_Y, DVec3::Z, DVec3::NEG_Z] {
                let u = if n.z.abs() > 0.5 { DVec3::X } else { DVec3::Z.cross(n) };
                let w = n.cross(u);
                let (cn, cu, cw) = (n * h, u * h, w * h);
                out.push(([cn - cu - cw, cn + cu - cw, cn + cu + cw, cn - cu + cw].map(|p| c + p), n));
            }
        }
    }
    true
}

fn inside_volume(v: &OverlayVolume, eye: DVec3) -> bool {
    let d = eye - v.center;
    let s = v.size.map(f64::from);
    match v.shape {
        VolumeShape::Sphere => d.length() < s[0] * 0.5,
        VolumeShape::Cylinder => d.truncate().length() < s[0] * 0.5 && d.z.abs() < s[2] * 0.5,
        VolumeShape::Box => d.x.abs() < s[0] * 0.5 && d.y.abs() < s[1] * 0.5 && d.z.abs() < s[2] * 0.5,
    }
}

/// Builds the frame's quads from `overlay`. Heatmap texels are written to `heat_texels` (one entry per
/// heatmap drawn, with its size).
fn build(
    overlay: &Overlay,
    frame: &OverlayFrame<'_>,
    atlas: &GlyphAtlas,
    max_heatmap_side: u32,
    b: &mut Builder,
    heat_texels: &mut Vec<(u32, u32, Vec<u8>)>,
) {
    b.quads.clear();
    b.draws.clear();
    b.primitives = 0;
    let mut order = std::mem::take(&mut b.order);
    let mut tess = std::mem::take(&mut b.tess);
    let mut layout = std::mem::take(&mut b.layout);
    let reference = frame.reference;
    let eye = reference;
    let mut heat_count = 0usize;

    // Heatmaps.
    for h in &overlay.heatmaps {
        if heat_count >= MAX_HEATMAPS {
            b.warnings
                .warn("heatmaps", || format!("overlay: more than {MAX_HEATMAPS} heatmaps; the rest are not drawn"));
            break;
        }
        let cell = f64::from(h.cell_size_m);
        if h.columns == 0 || h.rows == 0 || !cell.is_finite() || cell <= 0.0 {
            continue;
        }
        if h.columns > max_heatmap_side || h.rows > max_heatmap_side {
            b.warnings.warn("heatmap size", || {
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
        if heat_texels.len() <= heat_count {
            heat_texels.push((0, 0, Vec::new()));
        }
        let slot = &mut heat_texels[heat_count];
        slot.0 = h.columns;
        slot.1 = h.rows;
        heatmap_texels(h, &mut slot.2);
        let start = b.quads.len();
        b.world_quad([a, bx, c, d], STYLE_TEXTURE, [1.0, 1.0, 1.0, clamp01(h.opacity)]);
        b.push_draw(false, DrawTexture::Heatmap(heat_count), start);
        heat_count += 1;
        b.primitives += 1;
    }

    // Volumes, far to near.
    let start = b.quads.len();
    order.clear();
    order.extend(
        overlay
            .volumes
            .iter()
            .enumerate()
            .filter(|(_, v)| v.center.is_finite())
            .map(|(i, v)| ((v.center - eye).length_squared(), i)),
    );
    if order.len() > MAX_VOLUMES {
        let count = order.len();
        b.warnings.warn("volumes", || format!("overlay: {count} volumes; only the nearest {MAX_VOLUMES} are drawn"));
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        order.truncate(MAX_VOLUMES);
    }
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let light = Vec3::new(0.3, -0.4, 0.85).normalize();
    for &(_, i) in &order {
        let v = &overlay.volumes[i];
        if !volume_quads(v, &mut tess) {
            continue;
        }
        let inside = inside_volume(v, eye);
        let base = linear_color(v.color);
        let mut drew = false;
        for (corners, n) in &tess {
            let centroid = (corners[0] + corners[1] + corners[2] + corners[3]) * 0.25;
            let front = n.dot(eye - centroid) > 0.0;
            if front == inside {
                continue;
            }
            let r = [
                rel(corners[0], reference),
                rel(corners[1], reference),
                rel(corners[2], reference),
                rel(corners[3], reference),
            ];
            let [Some(a), Some(bb), Some(c), Some(d)] = r else { continue };
            let nn = if inside { -*n } else { *n };
            let shade = 0.7 + 0.3 * nn.as_vec3().dot(light).max(0.0);
            let col = [base[0] * shade, base[1] * shade, base[2] * shade, base[3]];
            b.world_quad([a, bb, c, d], STYLE_SOLID, col);
            drew = true;
        }
        b.primitives += u32::from(drew);
    }
    b.push_draw(false, DrawTexture::Atlas, start);

    // Lines.
    let start = b.quads.len();
    let mut segments = 0usize;
    'lines: for l in &overlay.lines {
        let w = l.width_m;
        if !w.is_finite() || w <= 0.0 || l.points.len() < 2 {
            continue;
        }
        let color = linear_color(l.color);
        let hw = w * 0.5;
        let mut drew = false;
        let joints = color[3] >= 0.999;
        for (k, pair) in l.points.windows(2).enumerate() {
            if segments >= MAX_LINE_SEGMENTS {
                b.warnings.warn("lines", || {
                    format!("overlay: more than {MAX_LINE_SEGMENTS} line segments; the rest are not drawn")
                });
                b.primitives += u32::from(drew);
                break 'lines;
            }
            let (Some(a), Some(e)) = (rel(pair[0], reference), rel(pair[1], reference)) else { continue };
            let d = e - a;
            if d.length_squared() == 0.0 || !d.is_finite() {
                continue;
            }
            segments += 1;
            b.quads.push(Quad {
                p0: v4(a, mode(KIND_RIBBON, STYLE_SOLID)),
                p1: v4(d, hw),
                p2: [0.0; 4],
                p3: [0.0; 4],
                color,
            });
            // A round joint at interior points (opaque lines only: translucent ones would double up).
            if joints && k > 0 {
                b.billboard(KIND_BILLBOARD, STYLE_DISC, a, [-hw, -hw, hw, hw], [-1.0, -1.0, 1.0, 1.0], color);
            }
            drew = true;
        }
        b.primitives += u32::from(drew);
    }
    b.push_draw(false, DrawTexture::Atlas, start);

    // Markers.
    let start = b.quads.len();
    for (i, m) in overlay.markers.iter().enumerate() {
        if i >= MAX_MARKERS {
            let count = overlay.markers.len();
            b.warnings.warn("markers", || format!("overlay: {count} markers; only the first {MAX_MARKERS} are drawn"));
            break;
        }
        let r = m.radius_m;
        let Some(p) = rel(m.position, reference) else { continue };
        if !r.is_finite() || r <= 0.0 {
            continue;
        }
        b.billboard(KIND_BILLBOARD, STYLE_DISC, p, [-r, -r, r, r], [-1.0, -1.0, 1.0, 1.0], linear_color(m.color));
        b.primitives += 1;
    }
    b.push_draw(false, DrawTexture::Atlas, start);

    // Labels, far to near, on top.
    let mut glyph_budget = MAX_GLYPHS;
    let mut truncated = false;
    let start = b.quads.len();
    order.clear();
    order.extend(
        overlay
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.position.is_finite() && l.height_m.is_finite() && l.height_m > 0.0)
            .map(|(i, l)| ((l.position - eye).length_squared(), i)),
    );
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let backing = linear_color([0.0, 0.0, 0.0, 0.65]);
    let line_adv = atlas.line_advance();
    for &(_, i) in &order {
        let l = &overlay.labels[i];
        let Some(anchor) = rel(l.position, reference) else { continue };
        if glyph_budget == 0 {
            truncated = true;
            break;
        }
        glyph_budget -= 1; // the backing box
        atlas.layout(&l.text, &mut glyph_budget, &mut layout);
        truncated |= layout.truncated;
        let hm = l.height_m;
        let (pad_x, pad_y) = (0.25f32, 0.12f32);
        let lines = layout.lines.len() as f32;
        let block_h = (lines - 1.0) * line_adv + 1.0;
        let width = layout.width();
        let (half_w, total_h) = ((width * 0.5 + pad_x) * hm, (block_h + 2.0 * pad_y) * hm);
        if !(half_w.is_finite() && total_h.is_finite()) {
            continue;
        }
        b.billboard(KIND_BILLBOARD, STYLE_SOLID, anchor, [-half_w, 0.0, half_w, total_h], [0.0; 4], backing);
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
                b.billboard(KIND_BILLBOARD, STYLE_GLYPH, anchor, rect, uv, color);
            }
        }
        b.primitives += 1;
    }
    b.push_draw(true, DrawTexture::Atlas, start);

    // HUD.
    let start = b.quads.len();
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
    for hud in &overlay.hud {
        if glyph_budget == 0 {
            truncated = true;
            break;
        }
        glyph_budget -= 1;
        atlas.layout(&hud.text, &mut glyph_budget, &mut layout);
        truncated |= layout.truncated;
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
        emit(b, [x0, y0, x0 + block_w, y0 + block_h], [0.0; 4], STYLE_SOLID, backing);
        for (li, (range, lw)) in layout.lines.iter().enumerate() {
            let lx = if left { x0 + pad } else { x0 + block_w - pad - lw * px };
            let ly = y0 + pad + li as f32 * line_adv * px;
            for g in &layout.glyphs[range.clone()] {
                let r = g.rect;
                let rect = [lx + r[0] * px, ly + r[1] * px, lx + r[2] * px, ly + r[3] * px];
                emit(b, rect, g.uv, STYLE_GLYPH, color);
            }
        }
        b.primitives += 1;
    }
    b.push_draw(true, DrawTexture::Atlas, start);
    if truncated {
        b.warnings.warn("text", || {
            format!("overlay: text truncated (more than {MAX_GLYPHS} glyphs, or an over-long string)")
        });
    }
    b.order = order;
    b.tess = tess;
    b.layout = layout;
}

// -------------------------------------------------------------------------------------------------
// GPU side
// -------------------------------------------------------------------------------------------------

struct HeatTexture {
    size: (u32, u32),
    texture: wgpu::Texture,
    bind_group: wgpu::BindGroup,
}

struct OverlayPipelines {
    world: wgpu::RenderPipeline,
    on_top: wgpu::RenderPipeline,
}

/// GPU resources of the overlay pass, created once with the renderer and reused across frames.
pub(crate) struct OverlayGpu {
    atlas: GlyphAtlas,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    uniform: wgpu::Buffer,
    atlas_bind_group: wgpu::BindGroup,
    heat_sampler: wgpu::Sampler,
    heat_textures: Vec<HeatTexture>,
    heat_texels: Vec<(u32, u32, Vec<u8>)>,
    instances: Option<wgpu::Buffer>,
    modules: HashMap<bool, wgpu::ShaderModule>,
    pipelines: HashMap<crate::gpu::PipelineKey, OverlayPipelines>,
    builder: Builder,
}

impl std::fmt::Debug for OverlayGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverlayGpu")
            .field("atlas", &(self.atlas.width, self.atlas.height))
            .field("heatmap_textures", &self.heat_textures.len())
            .finish_non_exhaustive()
    }
}

/// The overlay shader behind the shared frame prelude, with the view-index markers substituted.
pub(crate) fn shader_source(multiview: bool) -> String {
    crate::gpu::shader_with_prelude(include_str!("overlay.wgsl"), multiview)
}

impl OverlayGpu {
    pub(crate) fn new(device: &wgpu::Device, queue: &wgpu::Queue, frame_layout: &wgpu::BindGroupLayout) -> OverlayGpu {
        let atlas = GlyphAtlas::new();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("sangam overlay layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("sangam overlay pipeline layout"),
            bind_group_layouts: &[Some(frame_layout), Some(&layout)],
            immediate_size: 0,
        });
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sangam overlay uniform"),
            size: std::mem::size_of::<OverlayUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("sangam glyph atlas"),
            size: wgpu::Extent3d { width: atlas.width, height: atlas.height, depth_or_array_layers: 1 },
            mip_level_count: atlas.levels.len() as u32,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::R8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        for (level, (w, h, data)) in atlas.levels.iter().enumerate() {
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &texture,
                    mip_level: level as u32,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                data,
                wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(*w), rows_per_image: Some(*h) },
                wgpu::Extent3d { width: *w, height: *h, depth_or_array_layers: 1 },
            );
        }
        let atlas_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("sangam glyph sampler"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            mipmap_filter: wgpu::MipmapFilterMode::Linear,
            ..Default::default()
        });
        let heat_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("sangam heatmap sampler"),
            mag_filter: wgpu::FilterMode::Nearest,
            min_filter: wgpu::FilterMode::Nearest,
            ..Default::default()
        });
        let atlas_view = texture.create_view(&Default::default());
        let atlas_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sangam overlay atlas bind group"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&atlas_view) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(&atlas_sampler) },
            ],
        });
        OverlayGpu {
            atlas,
            layout,
            pipeline_layout,
            uniform,
            atlas_bind_group,
            heat_sampler,
            heat_textures: Vec::new(),
            heat_texels: Vec::new(),
            instances: None,
            modules: HashMap::new(),
            pipelines: HashMap::new(),
            builder: Builder::default(),
        }
    }

    /// Creates (once per key) the overlay pipelines.
    pub(crate) fn ensure_pipelines(&mut self, device: &wgpu::Device, key: crate::gpu::PipelineKey) {
        if self.pipelines.contains_key(&key) {
            return;
        }
        let multiview = key.multiview.is_some();
        let module = self.modules.entry(multiview).or_insert_with(|| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("sangam overlay.wgsl"),
                source: wgpu::ShaderSource::Wgsl(shader_source(multiview).into()),
            })
        });
        let world =
            create_pipeline(device, &self.pipeline_layout, module, key.format, key.samples, key.multiview, false);
        let on_top =
            create_pipeline(device, &self.pipeline_layout, module, key.format, key.samples, key.multiview, true);
        self.pipelines.insert(key, OverlayPipelines { world, on_top });
    }

    /// Builds and uploads the frame's overlay; returns the number of primitives to draw.
    pub(crate) fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        overlay: &Overlay,
        frame: &OverlayFrame<'_>,
    ) -> u32 {
        let max_side = device.limits().max_texture_dimension_2d.min(MAX_HEATMAP_SIDE);
        build(overlay, frame, &self.atlas, max_side, &mut self.builder, &mut self.heat_texels);
        let b = &self.builder;
        if b.quads.is_empty() {
            return b.primitives;
        }
        // Uniform: per-view right/up, viewport.
        let mut u = OverlayUniform::zeroed();
        for (i, v) in frame.views.iter().take(MAX_VIEWS).enumerate() {
            let right = (v.orientation * DVec3::X).as_vec3();
            let up = (v.orientation * DVec3::Y).as_vec3();
            u.views[i] = OverlayViewData { right: v4(right, 0.0), up: v4(up, 0.0) };
        }
        let (w, h) = (frame.width.max(1) as f32, frame.height.max(1) as f32);
        u.viewport = [w, h, 1.0 / w, 1.0 / h];
        queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&u));
        // Instances, grown by doubling.
        let needed = b.quads.len() as u64 * QUAD_SIZE;
        if self.instances.as_ref().is_none_or(|buf| buf.size() < needed) {
            let size = needed.next_power_of_two().max(QUAD_SIZE * 1024);
            self.instances = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sangam overlay instances"),
                size,
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        if let Some(buf) = &self.instances {
            queue.write_buffer(buf, 0, bytemuck::cast_slice(&b.quads));
        }
        // Heatmap textures, reused while their size stays the same.
        let used = b.draws.iter().filter(|d| matches!(d.texture, DrawTexture::Heatmap(_))).count();
        for (i, (cw, rh, texels)) in self.heat_texels.iter().take(used).enumerate() {
            let reuse = self.heat_textures.get(i).is_some_and(|t| t.size == (*cw, *rh));
            if !reuse {
                let texture = device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("sangam heatmap"),
                    size: wgpu::Extent3d { width: *cw, height: *rh, depth_or_array_layers: 1 },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: wgpu::TextureFormat::Rgba8UnormSrgb,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                    view_formats: &[],
                });
                let view = texture.create_view(&Default::default());
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("sangam heatmap bind group"),
                    layout: &self.layout,
                    entries: &[
                        wgpu::BindGroupEntry { binding: 0, resource: self.uniform.as_entire_binding() },
                        wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&view) },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: wgpu::BindingResource::Sampler(&self.heat_sampler),
                        },
                    ],
                });
                let t = HeatTexture { size: (*cw, *rh), texture, bind_group };
                if i < self.heat_textures.len() {
                    self.heat_textures[i] = t;
                } else {
                    self.heat_textures.push(t);
                }
            }
            let t = &self.heat_textures[i];
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &t.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                texels,
                wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * cw), rows_per_image: Some(*rh) },
                wgpu::Extent3d { width: *cw, height: *rh, depth_or_array_layers: 1 },
            );
        }
        b.primitives
    }

    /// Records the prepared overlay into `pass` (group 0, the frame bind group, must be set).
    pub(crate) fn record(&self, pass: &mut wgpu::RenderPass<'_>, key: crate::gpu::PipelineKey) -> u32 {
        let (Some(p), Some(instances)) = (self.pipelines.get(&key), &self.instances) else { return 0 };
        if self.builder.draws.is_empty() {
            return 0;
        }
        pass.set_vertex_buffer(0, instances.slice(..));
        let mut current: Option<bool> = None;
        let mut draws = 0;
        for d in &self.builder.draws {
            if current != Some(d.on_top) {
                pass.set_pipeline(if d.on_top { &p.on_top } else { &p.world });
                current = Some(d.on_top);
            }
            let group = match d.texture {
                DrawTexture::Atlas => &self.atlas_bind_group,
                DrawTexture::Heatmap(i) => match self.heat_textures.get(i) {
                    Some(t) => &t.bind_group,
                    None => continue,
                },
            };
            pass.set_bind_group(1, group, &[]);
            pass.draw(0..6, d.instances.clone());
            draws += 1;
        }
        draws
    }
}

fn create_pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    format: wgpu::TextureFormat,
    samples: u32,
    multiview: Option<NonZeroU32>,
    on_top: bool,
) -> wgpu::RenderPipeline {
    let attrs =
        wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32x4, 4 => Float32x4];
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(if on_top { "sangam overlay (on top)" } else { "sangam overlay (depth-tested)" }),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: QUAD_SIZE,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &attrs,
            })],
        },
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleList,
            cull_mode: None,
            ..Default::default()
        },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(false),
            depth_compare: Some(if on_top {
                wgpu::CompareFunction::Always
            } else {
                wgpu::CompareFunction::GreaterEqual
            }),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: wgpu::MultisampleState { count: samples, mask: !0, alpha_to_coverage_enabled: false },
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: multiview,
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Fov;

    #[test]
    fn a_warning_over_a_cap_is_logged_once_per_interval_not_every_frame() {
        let mut throttle = WarnThrottle::default();
        let mut built = 0;
        for _ in 0..100 {
            throttle.warn("markers", || {
                built += 1;
                "too many markers".into()
            });
        }
        throttle.warn("text", || "text truncated".into());
        assert_eq!(built, 1, "the message is formatted only when it is logged");
        assert_eq!(throttle.kinds.len(), 2);
        assert_eq!(throttle.kinds[0].2, 99, "held-back repeats are counted for the next report");
        // Once the interval has passed the kind is logged again and the count starts over.
        throttle.kinds[0].1 -= WARN_INTERVAL;
        throttle.warn("markers", || {
            built += 1;
            "too many markers".into()
        });
        assert_eq!((built, throttle.kinds[0].2), (2, 0));
    }

    #[test]
    fn shader_variants_validate() {
        for multiview in [false, true] {
            let src = shader_source(multiview);
            let module = wgpu::naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("multiview {multiview}: {}", e.emit_to_string(&src)));
            wgpu::naga::valid::Validator::new(
                wgpu::naga::valid::ValidationFlags::all(),
                wgpu::naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("multiview {multiview}: {e:?}"));
        }
    }

    #[test]
    fn atlas_has_every_printable_glyph_and_fallback() {
        let atlas = GlyphAtlas::new();
        assert!(atlas.font.is_some());
        for c in ['A', 'g', '?', 'é', 'ß', '~'] {
            let g = atlas.glyphs[glyph_slot(c).expect("slot")];
            assert!(g.rect.is_some(), "{c} has no ink");
            assert!(g.advance > 0.1);
        }
        let mut budget = 100;
        let mut layout = TextLayout::default();
        atlas.layout("a😀\u{7}b", &mut budget, &mut layout);
        assert_eq!(layout.glyphs.len(), 4, "emoji and BEL draw as '?'");
        assert_eq!(budget, 96);
        atlas.layout("", &mut budget, &mut layout);
        assert_eq!(layout.glyphs.len(), 0);
        assert_eq!(layout.lines.len(), 1);
        atlas.layout("ab\ncd\n", &mut budget, &mut layout);
        assert_eq!(layout.lines.len(), 3);
        let mut small = 3;
        atlas.layout("abcdef", &mut small, &mut layout);
        assert_eq!(layout.glyphs.len(), 3);
        assert!(layout.truncated);
    }

    #[test]
    fn srgb_conversion_and_palettes() {
        assert!((srgb_to_linear(0.5) - 0.214).abs() < 1e-3);
        assert_eq!(linear_color([f32::NAN, 2.0, -1.0, 0.5]), [0.0, 1.0, 0.0, 0.5]);
        let g = palette_srgb(HeatmapPalette::Traffic, 0.0);
        let r = palette_srgb(HeatmapPalette::Traffic, 1.0);
        assert!(g[1] > 0.5 && g[0] < 0.1);
        assert!(r[0] > 0.5 && r[1] < 0.1);
        let w = palette_srgb(HeatmapPalette::Diverging, 0.5);
        assert_eq!(w, [1.0, 1.0, 1.0]);
    }

    #[test]
    fn hostile_overlay_builds_bounded() {
        let v = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, Fov::symmetric(1.0, 1.0));
        let views = [v];
        let frame = OverlayFrame { views: &views, reference: DVec3::ZERO, width: 64, height: 64 };
        let atlas = GlyphAtlas::new();
        let overlay = Overlay {
            lines: vec![OverlayLine {
                points: vec![DVec3::NAN, DVec3::ZERO, DVec3::ONE],
                color: [1.0; 4],
                width_m: 1.0,
            }],
            markers: vec![OverlayMarker { position: DVec3::INFINITY, radius_m: 1.0, color: [1.0; 4] }],
            labels: vec![OverlayLabel {
                position: DVec3::ONE,
                text: "x".repeat(200_000),
                height_m: 1.0,
                color: [1.0; 4],
            }],
            heatmaps: vec![OverlayHeatmap {
                origin: DVec3::ZERO,
                cell_size_m: 1.0,
                columns: 3,
                rows: 2,
                values: vec![1.0],
                min: 0.0,
                max: 1.0,
                palette: HeatmapPalette::Viridis,
                opacity: 1.0,
            }],
            volumes: vec![OverlayVolume {
                shape: VolumeShape::Box,
                center: DVec3::ONE,
                size: [0.0, 1.0, 1.0],
                color: [1.0; 4],
            }],
            hud: vec![],
        };
        let mut b = Builder::default();
        let mut texels = Vec::new();
        build(&overlay, &frame, &atlas, 4096, &mut b, &mut texels);
        let glyphs = b.quads.iter().filter(|q| q.p0[3] == mode(KIND_BILLBOARD, STYLE_GLYPH)).count();
        assert_eq!(glyphs, MAX_GLYPHS - 1);
        assert_eq!(texels.len(), 1);
        assert_eq!(texels[0].2.len(), 3 * 2 * 4);
        assert_eq!(texels[0].2[3], 255);
        assert_eq!(texels[0].2[7], 0, "missing values are transparent");
        assert!(b.quads.iter().all(|q| q.p0.iter().chain(&q.p1).all(|x| x.is_finite())));
    }
}
