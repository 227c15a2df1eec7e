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
//!
//! # Cost
//!
//! Building a frame's overlay is linear in its primitives (plus a sort of the volumes and labels by
//! distance) and reuses its buffers across frames; the GPU side uploads one instance buffer, one
//! uniform and the heatmaps' texels, and records one instanced draw per run of quads that share a
//! pipeline and texture. An empty overlay costs nothing.

use std::sync::Arc;

use glam::DVec3;

// The per-frame build, one file per primitive kind, called by `builder::build` in drawing order:
// heatmaps, volumes, lines, markers, labels, hud. `quads` is what they emit (the instance format
// overlay.wgsl reads), `color` and `text` the colour and glyph helpers they share, `throttle` the
// rate limit on their warnings, `gpu` the pipelines, uploads and draws.
mod builder;
mod color;
mod gpu;
mod heatmaps;
mod hud;
mod labels;
mod lines;
mod markers;
mod quads;
mod text;
mod throttle;
mod volumes;

pub(crate) use builder::OverlayFrame;
pub(crate) use gpu::OverlayGpu;

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
    /// Overlays already converted, shared between frames (a plugin's frame, converted once when it
    /// is new): drawn with this one, each kind of primitive after this one's own. Their own `layers`
    /// are not drawn.
    pub layers: Vec<Arc<Overlay>>,
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
            && self.layers.iter().all(|l| l.is_empty())
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
    /// Height of one line of text in metres (ascender to descender; must be finite and > 0), unless
    /// `screen_px` is given.
    pub height_m: f32,
    /// Text colour, sRGB RGBA in `0..=1`.
    pub color: [f32; 4],
    /// Draw one line this many pixels tall at any distance instead (constant screen size, at most
    /// [`MAX_LABEL_PX`]); `None`: `height_m` in the world, smaller with distance.
    pub screen_px: Option<f32>,
}

/// The tallest line of constant-size label text, in pixels.
pub const MAX_LABEL_PX: f32 = 256.0;

/// Values on a regular horizontal grid, drawn as one nearest-filtered textured quad
/// [`HEATMAP_LIFT_M`] above `origin.z`, and the cells on raised surfaces (roofs, [`OverlayHeatmap::heights`])
/// on them.
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
    /// Names these values: a nonzero revision drawn again promises the same values, heights, size,
    /// range and palette, so the renderer keeps its texture (no colouring, no upload); 0 is coloured
    /// and uploaded every frame. [`next_revision`] hands out fresh ones.
    pub revision: u64,
    /// The height (site metres, as `origin.z`) of the surface under each cell, row-major like
    /// `values`; empty: every cell on the plane at `origin.z`. A cell whose surface stands more than
    /// [`RAISED_M`] above the plane (a roof) is drawn on it, [`HEATMAP_LIFT_M`] up, as a quad of its
    /// own (at most [`MAX_RAISED_CELLS`] a frame), and left clear on the plane.
    pub heights: Vec<f32>,
}

/// A heatmap cell whose surface is this much above the heatmap's plane is drawn on that surface.
pub const RAISED_M: f32 = 0.5;

/// Raised heatmap cells (on roofs) drawn at most per frame, over all heatmaps; the rest are dropped
/// with a warning.
pub const MAX_RAISED_CELLS: usize = 262_144;

/// A revision no heatmap had before (for [`OverlayHeatmap::revision`]).
pub fn next_revision() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
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

impl HeatmapPalette {
    /// The ramp's sRGB colour at `t` in `0..=1` (clamped; NaN is the start), as heatmaps draw it:
    /// for legends and for anything else coloured on the same scale.
    pub fn srgb(self, t: f32) -> [f32; 3] {
        color::palette_srgb(self, t)
    }
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

#[cfg(test)]
mod tests;
