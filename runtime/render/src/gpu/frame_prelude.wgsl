// Shared by every Sangam render pass (pbr.wgsl, overlay.wgsl): the per-frame uniforms of bind group 0
// and the view-index markers. The host puts this file in front of each pass's shader before compiling
// (see `gpu::shader_with_prelude`), so the layout is written once and cannot drift between passes.
// It must match `FrameUniform` and the per-view pass data in gpu/frame.rs.
//
// The host substitutes two markers in the whole source:
//   VIEW_INDEX_PARAM  -> ", @builtin(view_index) view_index: u32" for multiview pipelines, else "".
//   VIEW_INDEX_EXPR   -> "view_index" for multiview pipelines, else "pass_data.view_index".

const MAX_VIEWS: u32 = 8u;

struct ViewData {
    // Clip-from-relative-world.
    view_proj: mat4x4<f32>,
    // Relative-world direction from clip xy (rotation-only inverse), for the sky.
    dir_from_clip: mat4x4<f32>,
    // Eye position relative to the reference point (xyz).
    eye: vec4<f32>,
};

struct Frame {
    views: array<ViewData, 8>,
    // xyz: unit direction toward the sun.
    sun_dir: vec4<f32>,
    // rgb: sun colour * illuminance.
    sun_radiance: vec4<f32>,
    sky: vec4<f32>,
    ground: vec4<f32>,
    // x: exposure.
    params: vec4<f32>,
};

struct PassData {
    view_index: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> pass_data: PassData;
