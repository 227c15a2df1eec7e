//! What every primitive kind emits: instanced quads in the layout overlay.wgsl reads (a kind saying
//! how the vertex shader places the corners, a style saying how the fragment shader fills them),
//! the draw ranges that group them by depth mode and texture, and the camera-relative `f32`
//! positions they are built from. Cost: 80 bytes per quad; nothing here allocates.

use std::ops::Range;

use bytemuck::{Pod, Zeroable};
use glam::{DVec3, Vec3};

pub(super) const KIND_WORLD_QUAD: u32 = 0;
pub(super) const KIND_BILLBOARD: u32 = 1;
pub(super) const KIND_RIBBON: u32 = 2;
pub(super) const KIND_SCREEN: u32 = 3;
/// Like [`KIND_BILLBOARD`], its rect in target pixels about the projected anchor (constant screen size).
pub(super) const KIND_PIXELS: u32 = 4;
pub(super) const KIND_HEAD: u32 = 5;
pub(super) const STYLE_SOLID: u32 = 0;
pub(super) const STYLE_DISC: u32 = 1;
pub(super) const STYLE_GLYPH: u32 = 2;
pub(super) const STYLE_TEXTURE: u32 = 3;

pub(super) fn mode(kind: u32, style: u32) -> f32 {
    (kind | (style << 4)) as f32
}

/// One overlay quad (see overlay.wgsl for the meaning of each field by kind).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct Quad {
    pub(super) p0: [f32; 4],
    pub(super) p1: [f32; 4],
    pub(super) p2: [f32; 4],
    pub(super) p3: [f32; 4],
    pub(super) color: [f32; 4],
}

pub(super) const QUAD_SIZE: u64 = std::mem::size_of::<Quad>() as u64;

/// Which texture a draw samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DrawTexture {
    Atlas,
    Heatmap(usize),
}

#[derive(Clone, Debug)]
pub(super) struct OverlayDraw {
    /// Drawn without depth test (labels, HUD).
    pub(super) on_top: bool,
    pub(super) texture: DrawTexture,
    pub(super) instances: Range<u32>,
}

/// Camera-relative f32 position, or `None` if not finite (before or after the cast).
pub(super) fn rel(p: DVec3, reference: DVec3) -> Option<Vec3> {
    let r = (p - reference).as_vec3();
    (p.is_finite() && r.is_finite()).then_some(r)
}

pub(super) fn v4(v: Vec3, w: f32) -> [f32; 4] {
    [v.x, v.y, v.z, w]
}
