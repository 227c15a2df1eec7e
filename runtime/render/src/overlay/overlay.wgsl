// Sangam overlay pass: camera-facing ribbons, discs, billboard text, textured world quads
// (heatmaps), translucent volumes and heads-up text, drawn after the scene into the same
// MSAA colour target.
//
// Every primitive is one instance of a 6-vertex quad (two triangles); the vertex shader builds the
// corners from the instance data according to its kind. The host puts frame_prelude.wgsl (the frame
// uniforms of group 0 and the view-index markers) in front.
// World positions arrive relative to the frame's reference point (the mean eye position), computed
// in f64 on the CPU, so they stay small and precise. Colours arrive linear with straight alpha.

struct OverlayView {
    // World-space unit right (+X of view space), relative-world.
    right: vec4<f32>,
    // World-space unit up (+Y of view space).
    up: vec4<f32>,
};

struct OverlayUniform {
    views: array<OverlayView, 8>,
    // Target width, height in pixels, then their reciprocals.
    viewport: vec4<f32>,
};


@group(1) @binding(0) var<uniform> ov: OverlayUniform;
@group(1) @binding(1) var tex: texture_2d<f32>;
@group(1) @binding(2) var smp: sampler;

// Kinds (low 4 bits of the mode in p0.w).
const KIND_WORLD_QUAD: u32 = 0u; // corners p0..p3 (xyz)
const KIND_BILLBOARD: u32 = 1u;  // anchor p0.xyz, rect p1 in metres along the view's right/up, uv rect p2
const KIND_RIBBON: u32 = 2u;     // start p0.xyz, p1.xyz = end - start, p1.w = half width
const KIND_SCREEN: u32 = 3u;     // rect p1 in target pixels (y down), uv rect p2
const KIND_PIXELS: u32 = 4u;     // anchor p0.xyz, rect p1 in target pixels (y up) about its projection, uv rect p2
const KIND_HEAD: u32 = 5u;       // like BILLBOARD, but along view 0's right/up for every view

// Styles (mode >> 4).
const STYLE_SOLID: u32 = 0u;
const STYLE_DISC: u32 = 1u;
const STYLE_GLYPH: u32 = 2u;
const STYLE_TEXTURE: u32 = 3u;

struct QuadIn {
    @location(0) p0: vec4<f32>,
    @location(1) p1: vec4<f32>,
    @location(2) p2: vec4<f32>,
    @location(3) p3: vec4<f32>,
    @location(4) color: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) color: vec4<f32>,
    @location(2) @interpolate(flat) style: u32,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, q: QuadIn VIEW_INDEX_PARAM) -> VertexOut {
    let vidx = min(VIEW_INDEX_EXPR, 7u);
    // Triangles (0, 1, 2) and (0, 2, 3) of the corners 0..3.
    let i = vertex % 6u;
    let k = select(select(select(3u, 2u, i == 4u), 0u, i == 3u), i, i < 3u);
    let cu = select(0.0, 1.0, k == 1u || k == 2u);
    let cv = select(0.0, 1.0, k >= 2u);
    let mode = u32(max(q.p0.w, 0.0) + 0.5);
    let kind = mode & 15u;
    let style = mode >> 4u;
    let vd = frame.views[vidx];

    var out: VertexOut;
    out.color = q.color;
    out.style = style;
    out.uv = vec2<f32>(cu, cv);
    if (kind == KIND_SCREEN) {
        let x = mix(q.p1.x, q.p1.z, cu);
        let y = mix(q.p1.y, q.p1.w, cv);
        out.clip = vec4<f32>(x * ov.viewport.z * 2.0 - 1.0, 1.0 - y * ov.viewport.w * 2.0, 0.5, 1.0);
        out.uv = vec2<f32>(mix(q.p2.x, q.p2.z, cu), mix(q.p2.y, q.p2.w, cv));
        return out;
    }
    if (kind == KIND_PIXELS) {
        // Constant screen size: the anchor projected, the rect added in pixels (times w, so it
        // survives the perspective divide).
        let c = vd.view_proj * vec4<f32>(q.p0.xyz, 1.0);
        let x = mix(q.p1.x, q.p1.z, cu) * 2.0 * ov.viewport.z;
        let y = mix(q.p1.y, q.p1.w, cv) * 2.0 * ov.viewport.w;
        out.clip = vec4<f32>(c.xy + vec2<f32>(x, y) * c.w, c.z, c.w);
        out.uv = vec2<f32>(mix(q.p2.x, q.p2.z, cu), mix(q.p2.y, q.p2.w, cv));
        return out;
    }
    var world: vec3<f32>;
    if (kind == KIND_WORLD_QUAD) {
        world = select(select(select(q.p3.xyz, q.p2.xyz, k == 2u), q.p1.xyz, k == 1u), q.p0.xyz, k == 0u);
    } else if (kind == KIND_RIBBON) {
        let p = q.p0.xyz + q.p1.xyz * cu;
        let across = cross(q.p1.xyz, vd.eye.xyz - p);
        let len = length(across);
        // Looking straight along the segment: fall back to the view's right vector.
        let side = select(ov.views[vidx].right.xyz, across / max(len, 1e-30), len > 1e-12);
        let s = cv * 2.0 - 1.0;
        world = p + side * (q.p1.w * s);
        out.uv = vec2<f32>(cu, s);
    } else {
        let axes = select(vidx, 0u, kind == KIND_HEAD);
        let right = ov.views[axes].right.xyz;
        let up = ov.views[axes].up.xyz;
        let x = mix(q.p1.x, q.p1.z, cu);
        let y = mix(q.p1.y, q.p1.w, cv);
        world = q.p0.xyz + right * x + up * y;
        out.uv = vec2<f32>(mix(q.p2.x, q.p2.z, cu), mix(q.p2.y, q.p2.w, cv));
    }
    out.clip = vd.view_proj * vec4<f32>(world, 1.0);
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Sample and take derivatives in uniform control flow, then pick by style.
    let t = textureSample(tex, smp, in.uv);
    let r = length(in.uv);
    let fw = max(fwidth(r), 1e-4);
    let disc = clamp((1.0 - r) / fw + 0.5, 0.0, 1.0);
    // Glyphs: the atlas holds distance to the outline (0.5 on it); the edge is cut over one pixel of
    // the screen whatever the magnification.
    let edge = max(fwidth(t.r), 1e-4);
    let ink = clamp((t.r - 0.5) / edge + 0.5, 0.0, 1.0);
    var rgb = in.color.rgb;
    var a = in.color.a;
    if (in.style == STYLE_DISC) {
        a = a * disc;
    } else if (in.style == STYLE_GLYPH) {
        a = a * ink;
    } else if (in.style == STYLE_TEXTURE) {
        rgb = rgb * t.rgb;
        a = a * t.a;
    }
    if (a <= 0.0) {
        discard;
    }
    return vec4<f32>(rgb, a);
}
