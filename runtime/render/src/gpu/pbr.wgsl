// Sangam forward renderer: metallic-roughness PBR (GGX / Smith / Schlick), one directional sun,
// a hemispherical sky/ground ambient, exposure + ACES-fit tone mapping, and a sky gradient.
//
// The host puts frame_prelude.wgsl (the frame uniforms of group 0 and the view-index markers) in front.
// Blocks between `//#if NAME` and `//#endif` (with optional `//#else`) are kept only for draws with
// that feature (TEXTURED, NORMAL_MAP, COLORS), so plain materials pay for no unused varyings or samples.
// All positions reaching the GPU are relative to a per-frame reference point (the mean eye position),
// so they stay small and f32 is precise even at city or projected-CRS scale.

struct UvTransform {
    // Row 0 (xyz) of the 2x3 UV matrix; w = UV set (0 or 1).
    r0: vec4<f32>,
    // Row 1 (xyz).
    r1: vec4<f32>,
};

struct Material {
    base_color: vec4<f32>,
    // rgb emissive factor.
    emissive: vec4<f32>,
    // metallic, roughness, normal scale, occlusion strength.
    pbr: vec4<f32>,
    // x: alpha cutoff (mask), y: alpha mode (0 opaque, 1 mask, 2 blend), z: unlit, w: double sided.
    alpha: vec4<f32>,
    // x: has normal map.
    flags: vec4<f32>,
    // 0 base colour, 1 metallic-roughness, 2 normal, 3 occlusion, 4 emissive.
    uv: array<UvTransform, 5>,
};

struct SubMesh {
    model_from_mesh: mat4x4<f32>,
};


@group(1) @binding(0) var<uniform> material: Material;
@group(1) @binding(1) var base_color_tex: texture_2d<f32>;
@group(1) @binding(2) var base_color_smp: sampler;
@group(1) @binding(3) var mr_tex: texture_2d<f32>;
@group(1) @binding(4) var mr_smp: sampler;
@group(1) @binding(5) var normal_tex: texture_2d<f32>;
@group(1) @binding(6) var normal_smp: sampler;
@group(1) @binding(7) var occlusion_tex: texture_2d<f32>;
@group(1) @binding(8) var occlusion_smp: sampler;
@group(1) @binding(9) var emissive_tex: texture_2d<f32>;
@group(1) @binding(10) var emissive_smp: sampler;

@group(2) @binding(0) var<uniform> submesh: SubMesh;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) tangent: vec4<f32>,
    @location(3) uv0: vec2<f32>,
    @location(4) uv1: vec2<f32>,
    @location(5) color: vec4<f32>,
};

struct InstanceIn {
    @location(6) c0: vec4<f32>,
    @location(7) c1: vec4<f32>,
    @location(8) c2: vec4<f32>,
    @location(9) c3: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world_pos: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(6) @interpolate(flat) view: u32,
//#if NORMAL_MAP
    @location(2) tangent: vec4<f32>,
//#endif
//#if TEXTURED
    // uv0 in xy, uv1 in zw.
    @location(3) uv: vec4<f32>,
//#endif
//#if COLORS
    @location(5) color: vec4<f32>,
//#endif
};

// Transpose of the adjugate of m: transforms normals correctly for any invertible m (up to scale).
fn normal_matrix(m: mat3x3<f32>) -> mat3x3<f32> {
    let c = mat3x3<f32>(cross(m[1], m[2]), cross(m[2], m[0]), cross(m[0], m[1]));
    let det = dot(m[0], c[0]);
    return c * select(1.0, -1.0, det < 0.0);
}

@vertex
fn vs_main(v: VertexIn, inst: InstanceIn VIEW_INDEX_PARAM) -> VertexOut {
    let vi = min(VIEW_INDEX_EXPR, MAX_VIEWS - 1u);
    let world_from_model = mat4x4<f32>(inst.c0, inst.c1, inst.c2, inst.c3);
    let s = submesh.model_from_mesh;
    // Two matrix-vector products are cheaper per vertex than a matrix-matrix product.
    let world = world_from_model * (s * vec4<f32>(v.position, 1.0));
    let m3 = mat3x3<f32>(inst.c0.xyz, inst.c1.xyz, inst.c2.xyz) * mat3x3<f32>(s[0].xyz, s[1].xyz, s[2].xyz);
    var out: VertexOut;
    out.clip = frame.views[vi].view_proj * world;
    out.world_pos = world.xyz;
    out.normal = normal_matrix(m3) * v.normal;
    out.view = vi;
//#if NORMAL_MAP
    out.tangent = vec4<f32>(m3 * v.tangent.xyz, v.tangent.w);
//#endif
//#if TEXTURED
    out.uv = vec4<f32>(v.uv0, v.uv1);
//#endif
//#if COLORS
    out.color = v.color;
//#endif
    return out;
}

fn transform_uv(t: UvTransform, uv0: vec2<f32>, uv1: vec2<f32>) -> vec2<f32> {
    let src = vec3<f32>(select(uv0, uv1, t.r0.w > 0.5), 1.0);
    return vec2<f32>(dot(t.r0.xyz, src), dot(t.r1.xyz, src));
}

const PI: f32 = 3.14159265359;

fn d_ggx(n_dot_h: f32, a: f32) -> f32 {
    let a2 = a * a;
    let d = n_dot_h * n_dot_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * d * d);
}

// Height-correlated Smith visibility (includes the 1 / (4 NdotL NdotV) term).
fn v_smith(n_dot_v: f32, n_dot_l: f32, a: f32) -> f32 {
    let a2 = a * a;
    let gv = n_dot_l * sqrt(n_dot_v * n_dot_v * (1.0 - a2) + a2);
    let gl = n_dot_v * sqrt(n_dot_l * n_dot_l * (1.0 - a2) + a2);
    return 0.5 / max(gv + gl, 1e-5);
}

fn f_schlick(f0: vec3<f32>, v_dot_h: f32) -> vec3<f32> {
    return f0 + (vec3<f32>(1.0) - f0) * pow(1.0 - v_dot_h, 5.0);
}

fn hemisphere(dir_z: f32) -> vec3<f32> {
    return mix(frame.ground.rgb, frame.sky.rgb, clamp(dir_z * 0.5 + 0.5, 0.0, 1.0));
}

// Krzysztof Narkowicz's fit of the ACES filmic curve.
fn tone_map(x: vec3<f32>) -> vec3<f32> {
    return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), vec3<f32>(0.0), vec3<f32>(1.0));
}

@fragment
fn fs_main(in: VertexOut, @builtin(front_facing) front: bool) -> @location(0) vec4<f32> {
    var base_s = vec4<f32>(1.0);
    var mr_s = vec4<f32>(1.0);
    var o_s = vec4<f32>(1.0);
    var e_s = vec4<f32>(1.0);
//#if TEXTURED
    // Derivatives and samples first, in uniform control flow.
    let uv0 = in.uv.xy;
    let uv1 = in.uv.zw;
    base_s = textureSample(base_color_tex, base_color_smp, transform_uv(material.uv[0], uv0, uv1));
    mr_s = textureSample(mr_tex, mr_smp, transform_uv(material.uv[1], uv0, uv1));
    o_s = textureSample(occlusion_tex, occlusion_smp, transform_uv(material.uv[3], uv0, uv1));
    e_s = textureSample(emissive_tex, emissive_smp, transform_uv(material.uv[4], uv0, uv1));
//#endif
//#if NORMAL_MAP
    let uv_n = transform_uv(material.uv[2], uv0, uv1);
    let n_s = textureSample(normal_tex, normal_smp, uv_n);
    let dp1 = dpdx(in.world_pos);
    let dp2 = dpdy(in.world_pos);
    let duv1 = dpdx(uv_n);
    let duv2 = dpdy(uv_n);
//#endif
    var vertex_color = vec4<f32>(1.0);
//#if COLORS
    vertex_color = in.color;
//#endif

    let base = material.base_color * base_s * vertex_color;
    let mode = material.alpha.y;
    if (mode > 0.5 && mode < 1.5 && base.a < material.alpha.x) {
        discard;
    }
    let alpha = select(1.0, base.a, mode > 1.5);
    if (material.alpha.z > 0.5) {
        return vec4<f32>(base.rgb, alpha);
    }

    var n = normalize(in.normal);
    if (!front && material.alpha.w > 0.5) {
        n = -n;
    }
//#if NORMAL_MAP
    {
        var t: vec3<f32>;
        var b: vec3<f32>;
        if (in.tangent.w != 0.0) {
            t = normalize(in.tangent.xyz - n * dot(n, in.tangent.xyz));
            b = cross(n, t) * sign(in.tangent.w);
        } else {
            // Cotangent frame from screen-space derivatives. The formula gives +u / +v directions when
            // dpdx x dpdy points along n; framebuffer y points down here, so take that orientation
            // into account with `s`. glTF's bitangent (tangent-space +Y) points along -v because UVs
            // start top-left.
            let dp2perp = cross(dp2, n);
            let dp1perp = cross(n, dp1);
            let tt = dp2perp * duv1.x + dp1perp * duv2.x;
            let bb = dp2perp * duv1.y + dp1perp * duv2.y;
            let s = select(-1.0, 1.0, dot(cross(dp1, dp2), n) >= 0.0);
            let inv = s * inverseSqrt(max(max(dot(tt, tt), dot(bb, bb)), 1e-20));
            t = tt * inv;
            b = -bb * inv;
        }
        var tn = n_s.xyz * 2.0 - vec3<f32>(1.0);
        tn = vec3<f32>(tn.xy * material.pbr.z, tn.z);
        let mapped = t * tn.x + b * tn.y + n * tn.z;
        if (dot(mapped, mapped) > 1e-12) {
            n = normalize(mapped);
        }
    }
//#endif

    let metallic = clamp(material.pbr.x * mr_s.b, 0.0, 1.0);
    let rough = clamp(material.pbr.y * mr_s.g, 0.03, 1.0);
    let a = rough * rough;
    let occlusion = mix(1.0, o_s.r, material.pbr.w);
    let emissive = material.emissive.rgb * e_s.rgb;

    let v = normalize(frame.views[in.view].eye.xyz - in.world_pos);
    let n_dot_v = max(dot(n, v), 1e-4);
    let l = frame.sun_dir.xyz;
    let h = normalize(l + v);
    let n_dot_l = max(dot(n, l), 0.0);
    let n_dot_h = max(dot(n, h), 0.0);
    let v_dot_h = max(dot(v, h), 0.0);

    let f0 = mix(vec3<f32>(0.04), base.rgb, metallic);
    let f = f_schlick(f0, v_dot_h);
    let spec = d_ggx(n_dot_h, a) * v_smith(n_dot_v, n_dot_l, a) * f;
    let kd = (vec3<f32>(1.0) - f) * (1.0 - metallic);
    let direct = (kd * base.rgb / PI + spec) * frame.sun_radiance.rgb * n_dot_l;

    // Hemispherical ambient: diffuse from the normal, specular from the reflection vector.
    let f_amb = f0 + (max(vec3<f32>(1.0 - rough), f0) - f0) * pow(1.0 - n_dot_v, 5.0);
    let r = reflect(-v, n);
    let ambient = ((vec3<f32>(1.0) - f_amb) * (1.0 - metallic) * base.rgb * hemisphere(n.z)
        + f_amb * hemisphere(r.z)) * occlusion;

    let lit = (direct + ambient) * frame.params.x + emissive;
    return vec4<f32>(tone_map(lit), alpha);
}

// ---- Sky: a full-screen triangle drawn after opaque geometry at depth 0 (reverse-Z far). ----

struct SkyOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) ndc: vec2<f32>,
    @location(1) @interpolate(flat) view: u32,
};

@vertex
fn vs_sky(@builtin(vertex_index) i: u32 VIEW_INDEX_PARAM) -> SkyOut {
    let vi = min(VIEW_INDEX_EXPR, MAX_VIEWS - 1u);
    let xy = vec2<f32>(f32((i << 1u) & 2u) * 2.0 - 1.0, f32(i & 2u) * 2.0 - 1.0);
    var out: SkyOut;
    out.clip = vec4<f32>(xy, 0.0, 1.0);
    out.ndc = xy;
    out.view = vi;
    return out;
}

@fragment
fn fs_sky(in: SkyOut) -> @location(0) vec4<f32> {
    let p = frame.views[in.view].dir_from_clip * vec4<f32>(in.ndc, 1.0, 1.0);
    let d = normalize(p.xyz / p.w);
    let z = d.z;
    let horizon = mix(frame.sky.rgb, vec3<f32>(1.0), 0.35);
    var c: vec3<f32>;
    if (z >= 0.0) {
        c = mix(horizon, frame.sky.rgb, pow(clamp(z, 0.0, 1.0), 0.6));
    } else {
        c = mix(horizon * 0.8, frame.ground.rgb, clamp(-z * 8.0, 0.0, 1.0));
    }
    return vec4<f32>(c, 1.0);
}
