//! Uploading a [`Scene`] to the GPU: packed vertex/index buffers per model, textures with CPU mips,
//! samplers, and material bind groups.

use std::ops::Range;

use bytemuck::{Pod, Zeroable};
use glam::Mat4;
use wgpu::util::DeviceExt;

use super::{RenderError, Renderer};
use crate::model::{Aabb, AlphaMode, Material, Model, Primitive, Sampler, TextureRef, Wrap};
use crate::scene::{Environment, Placement, Scene};

/// Where a packed primitive lives: index range and base vertex.
type Packed = (Range<u32>, i32);

/// One packed vertex: 72 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct GpuVertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
    /// `w == 0` means "no tangent given": the shader derives a frame from derivatives.
    pub tangent: [f32; 4],
    pub uv0: [f32; 2],
    pub uv1: [f32; 2],
    pub color: [f32; 4],
}

/// Uniform block of one material (matches `Material` in `pbr.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct MaterialUniform {
    base_color: [f32; 4],
    emissive: [f32; 4],
    pbr: [f32; 4],
    alpha: [f32; 4],
    flags: [f32; 4],
    uv: [[f32; 8]; 5],
}

/// Shader feature bits: each removes work (varyings, texture samples) from draws that lack it.
pub(crate) mod features {
    /// The material samples at least one texture (UV varyings, texture fetches).
    pub const TEXTURED: u8 = 1;
    /// The material has a normal map (tangent varying, TBN).
    pub const NORMAL_MAP: u8 = 2;
    /// The primitive has vertex colours.
    pub const COLORS: u8 = 4;
    /// Every feature, in shader-preprocessor names.
    pub const NAMES: [(u8, &str); 3] = [(TEXTURED, "TEXTURED"), (NORMAL_MAP, "NORMAL_MAP"), (COLORS, "COLORS")];
}

/// Which pipeline a draw uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PipelineClass {
    pub blend: bool,
    pub double_sided: bool,
    /// [`features`] bits.
    pub features: u8,
}

/// One uploaded material.
#[derive(Debug)]
pub(crate) struct GpuMaterial {
    pub bind_group: wgpu::BindGroup,
    pub class: PipelineClass,
}

/// One draw: a primitive of a mesh instance of a model.
#[derive(Clone, Debug)]
pub(crate) struct DrawItem {
    pub indices: Range<u32>,
    pub base_vertex: i32,
    /// Index into [`GpuModel::materials`].
    pub material: usize,
    /// The pipeline: the material's class plus the primitive's vertex-colour feature.
    pub class: PipelineClass,
    /// Dynamic offset into the scene's sub-mesh uniform buffer.
    pub submesh_offset: u32,
    /// Bounds in model space (after the mesh instance transform).
    pub bounds: Aabb,
}

/// One uploaded model.
#[derive(Debug)]
pub(crate) struct GpuModel {
    pub vertex_buffer: Option<wgpu::Buffer>,
    pub index_buffer: Option<wgpu::Buffer>,
    pub materials: Vec<GpuMaterial>,
    pub draws: Vec<DrawItem>,
    /// Model-space bounds of everything drawable.
    pub bounds: Aabb,
    /// Triangles per instance.
    pub triangles: u64,
    pub has_blend: bool,
}

/// Texture uploaded as `Rgba8Unorm` with two views: sRGB (colour) and linear (data).
#[derive(Debug)]
pub(crate) struct GpuTexture {
    pub srgb: wgpu::TextureView,
    pub linear: wgpu::TextureView,
}

/// A scene uploaded to the GPU with [`Renderer::upload`]; render it with [`Renderer::render`].
///
/// Placements are kept on the CPU in `f64` and turned into camera-relative `f32` instance matrices
/// every frame; replace them with [`GpuScene::set_placements`] without re-uploading models.
#[derive(Debug)]
pub struct GpuScene {
    pub(crate) models: Vec<GpuModel>,
    pub(crate) placements: Vec<Placement>,
    pub(crate) environment: Environment,
    pub(crate) submesh_bind_group: wgpu::BindGroup,
    pub(crate) warnings: Vec<String>,
    /// Every pipeline class some draw uses (pipelines are compiled on first use).
    pub(crate) classes: Vec<PipelineClass>,
}

impl GpuScene {
    /// Replaces the placements (e.g. after moving objects). Indices refer to the uploaded models.
    pub fn set_placements(&mut self, placements: Vec<Placement>) {
        self.placements = placements;
    }

    /// The placements rendered.
    pub fn placements(&self) -> &[Placement] {
        &self.placements
    }

    /// Replaces the lighting environment.
    pub fn set_environment(&mut self, environment: Environment) {
        self.environment = environment;
    }

    /// The lighting environment.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// Number of uploaded models.
    pub fn model_count(&self) -> usize {
        self.models.len()
    }

    /// Non-fatal problems found while uploading (skipped primitives, fallback textures), each naming
    /// the model and the part.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn uv_transform(t: Option<&TextureRef>) -> [f32; 8] {
    let (set, tr) = match t {
        Some(t) => (t.tex_coord.min(1) as f32, t.transform),
        None => (0.0, Default::default()),
    };
    let (s, c) = tr.rotation.sin_cos();
    let [sx, sy] = tr.scale;
    let [ox, oy] = tr.offset;
    // KHR_texture_transform: uv' = T * R * S * uv, with the rotation as in the Khronos sample viewer.
    [sx * c, sy * s, ox, set, -sx * s, sy * c, oy, 0.0]
}

impl MaterialUniform {
    pub(crate) fn new(m: &Material, has_normal_map: bool) -> MaterialUniform {
        let (mode, cutoff) = match m.alpha_mode {
            AlphaMode::Opaque => (0.0, 0.0),
            AlphaMode::Mask { cutoff } => (1.0, cutoff),
            AlphaMode::Blend => (2.0, 0.0),
        };
        let e = m.emissive_factor;
        MaterialUniform {
            base_color: m.base_color_factor,
            emissive: [e[0], e[1], e[2], 0.0],
            pbr: [m.metallic_factor, m.roughness_factor, m.normal_scale, m.occlusion_strength],
            alpha: [cutoff, mode, f32::from(u8::from(m.unlit)), f32::from(u8::from(m.double_sided))],
            flags: [f32::from(u8::from(has_normal_map)), 0.0, 0.0, 0.0],
            uv: [
                uv_transform(m.base_color_texture.as_ref()),
                uv_transform(m.metallic_roughness_texture.as_ref()),
                uv_transform(m.normal_texture.as_ref()),
                uv_transform(m.occlusion_texture.as_ref()),
                uv_transform(m.emissive_texture.as_ref()),
            ],
        }
    }
}

/// Full mip chain of an RGBA8 image by 2x2 box filtering (odd edges clamp). Level 0 is the input.
pub(crate) fn mip_chain(width: u32, height: u32, rgba: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let mut levels = vec![(width, height, rgba.to_vec())];
    let (mut w, mut h) = (width, height);
    while w > 1 || h > 1 {
        let (nw, nh) = ((w / 2).max(1), (h / 2).max(1));
        let src = &levels[levels.len() - 1].2;
        let mut dst = vec![0u8; nw as usize * nh as usize * 4];
        for y in 0..nh {
            let y0 = (2 * y).min(h - 1) as usize;
            let y1 = (2 * y + 1).min(h - 1) as usize;
            for x in 0..nw {
                let x0 = (2 * x).min(w - 1) as usize;
                let x1 = (2 * x + 1).min(w - 1) as usize;
                for c in 0..4 {
                    let at = |xx: usize, yy: usize| u32::from(src[(yy * w as usize + xx) * 4 + c]);
                    let sum = at(x0, y0) + at(x1, y0) + at(x0, y1) + at(x1, y1);
                    dst[(y as usize * nw as usize + x as usize) * 4 + c] = ((sum + 2) / 4) as u8;
                }
            }
        }
        levels.push((nw, nh, dst));
        w = nw;
        h = nh;
    }
    levels
}

fn address_mode(w: Wrap) -> wgpu::AddressMode {
    match w {
        Wrap::Repeat => wgpu::AddressMode::Repeat,
        Wrap::MirroredRepeat => wgpu::AddressMode::MirrorRepeat,
        Wrap::ClampToEdge => wgpu::AddressMode::ClampToEdge,
    }
}

/// A wgpu sampler for a glTF sampler.
pub(crate) fn create_sampler(device: &wgpu::Device, s: &Sampler) -> wgpu::Sampler {
    let filter = |nearest: bool| if nearest { wgpu::FilterMode::Nearest } else { wgpu::FilterMode::Linear };
    device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("sangam material sampler"),
        address_mode_u: address_mode(s.wrap_u),
        address_mode_v: address_mode(s.wrap_v),
        address_mode_w: wgpu::AddressMode::Repeat,
        mag_filter: filter(s.mag_nearest),
        min_filter: filter(s.min_nearest),
        mipmap_filter: wgpu::MipmapFilterMode::Linear,
        lod_min_clamp: 0.0,
        lod_max_clamp: if s.mipmaps { 32.0 } else { 0.0 },
        compare: None,
        anisotropy_clamp: 1,
        border_color: None,
    })
}

/// Uploads an RGBA8 image (with CPU mips) as `Rgba8Unorm` viewable as sRGB.
pub(crate) fn create_texture_rgba8(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    label: &str,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> GpuTexture {
    let max = device.limits().max_texture_dimension_2d.max(1);
    let mut levels = mip_chain(width, height, rgba);
    // Drop levels that exceed the device's size limit: the texture starts at the first that fits.
    let first = levels.iter().position(|(w, h, _)| *w <= max && *h <= max).unwrap_or(levels.len() - 1);
    if first > 0 {
        tracing::warn!("texture {label}: {width}x{height} exceeds the device limit {max}; using a smaller mip");
        levels.drain(..first);
    }
    let (w0, h0) = (levels[0].0, levels[0].1);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width: w0, height: h0, depth_or_array_layers: 1 },
        mip_level_count: levels.len() as u32,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[wgpu::TextureFormat::Rgba8UnormSrgb],
    });
    for (level, (w, h, data)) in levels.iter().enumerate() {
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: level as u32,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            data,
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * w), rows_per_image: Some(*h) },
            wgpu::Extent3d { width: *w, height: *h, depth_or_array_layers: 1 },
        );
    }
    let view = |format| {
        texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some(label),
            format: Some(format),
            ..Default::default()
        })
    };
    GpuTexture { srgb: view(wgpu::TextureFormat::Rgba8UnormSrgb), linear: view(wgpu::TextureFormat::Rgba8Unorm) }
}

impl Renderer {
    /// Uploads `scene`: one vertex and one index buffer per model, its textures and materials.
    ///
    /// Bad content never panics: primitives with inconsistent attributes or out-of-range indices are
    /// skipped, bad texture or material references fall back to defaults, and every such case is
    /// listed in [`GpuScene::warnings`] (and logged).
    pub fn upload(&self, scene: &Scene) -> Result<GpuScene, RenderError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut warnings = Vec::new();
        let align = u64::from(self.device.limits().min_uniform_buffer_offset_alignment).max(64);
        let mut submesh_data: Vec<u8> = Vec::new();
        let mut models = Vec::with_capacity(scene.models.len());
        for (mi, model) in scene.models.iter().enumerate() {
            models.push(self.upload_model(mi, model, align, &mut submesh_data, &mut warnings)?);
        }
        if submesh_data.is_empty() {
            submesh_data.resize(align as usize, 0);
        }
        let submesh_buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("sangam sub-mesh transforms"),
            contents: &submesh_data,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let submesh_bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sangam sub-mesh bind group"),
            layout: &self.layouts.submesh,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &submesh_buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(64),
                }),
            }],
        });
        for w in &warnings {
            tracing::warn!("{w}");
        }
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Wgpu { operation: "uploading the scene", message: err.to_string() });
        }
        let mut classes: Vec<PipelineClass> = Vec::new();
        for d in models.iter().flat_map(|m| m.draws.iter()) {
            if !classes.contains(&d.class) {
                classes.push(d.class);
            }
        }
        Ok(GpuScene {
            classes,
            models,
            placements: scene.placements.clone(),
            environment: scene.environment,
            submesh_bind_group,
            warnings,
        })
    }

    fn upload_model(
        &self,
        model_index: usize,
        model: &Model,
        align: u64,
        submesh_data: &mut Vec<u8>,
        warnings: &mut Vec<String>,
    ) -> Result<GpuModel, RenderError> {
        let name = if model.name.is_empty() { format!("model #{model_index}") } else { model.name.clone() };

        // Textures.
        let mut textures: Vec<Option<GpuTexture>> = Vec::with_capacity(model.textures.len());
        for (ti, t) in model.textures.iter().enumerate() {
            let expected = (t.width as u64).checked_mul(t.height as u64).and_then(|p| p.checked_mul(4));
            if t.width == 0 || t.height == 0 || expected != Some(t.rgba8.len() as u64) {
                warnings.push(format!(
                    "{name}: texture #{ti} ({}) is {}x{} with {} bytes of RGBA8 data; using a white fallback. \
                     Re-export the texture as a valid image.",
                    t.name.as_deref().unwrap_or("unnamed"),
                    t.width,
                    t.height,
                    t.rgba8.len()
                ));
                textures.push(None);
                continue;
            }
            let label = format!("{name} texture #{ti}");
            textures.push(Some(create_texture_rgba8(&self.device, &self.queue, &label, t.width, t.height, &t.rgba8)));
        }

        // Materials; the glTF default material is appended last.
        let default_material = Material::default();
        let mut materials = Vec::with_capacity(model.materials.len() + 1);
        for (idx, m) in model.materials.iter().chain(std::iter::once(&default_material)).enumerate() {
            let label = format!("{name} material #{idx}");
            materials.push(self.upload_material(&label, m, model, &textures, warnings));
        }
        let default_index = materials.len() - 1;

        // Geometry.
        let mut vertices: Vec<GpuVertex> = Vec::new();
        let mut indices: Vec<u32> = Vec::new();
        let mut draws = Vec::new();
        // Each primitive is packed once even if several mesh instances draw it.
        let mut packed: Vec<Vec<Option<Packed>>> =
            model.meshes.iter().map(|m| vec![None; m.primitives.len()]).collect();
        let mut bounds = Aabb::EMPTY;
        let mut triangles = 0u64;
        for (ii, inst) in model.instances.iter().enumerate() {
            let Some(mesh) = model.meshes.get(inst.mesh) else {
                warnings.push(format!(
                    "{name}: instance #{ii} names mesh #{} but the model has {} meshes; skipped",
                    inst.mesh,
                    model.meshes.len()
                ));
                continue;
            };
            if !inst.transform.is_finite() {
                warnings.push(format!("{name}: instance #{ii} has a non-finite transform; skipped"));
                continue;
            }
            for (pi, prim) in mesh.primitives.iter().enumerate() {
                let range = match &packed[inst.mesh][pi] {
                    Some(r) => r.clone(),
                    None => {
                        let where_ = format!("{name}: mesh #{} primitive #{pi}", inst.mesh);
                        let Some(r) = pack_primitive(&where_, prim, &mut vertices, &mut indices, warnings) else {
                            continue;
                        };
                        packed[inst.mesh][pi] = Some(r.clone());
                        r
                    }
                };
                if range.0.is_empty() {
                    continue;
                }
                let material = match prim.material {
                    None => default_index,
                    Some(m) if m < model.materials.len() => m,
                    Some(m) => {
                        warnings.push(format!(
                            "{name}: mesh #{} primitive #{pi} uses material #{m} but the model has {}; \
                             using the default material",
                            inst.mesh,
                            model.materials.len()
                        ));
                        default_index
                    }
                };
                let prim_bounds = if prim.bounds.is_empty() {
                    Aabb::from_points(prim.positions.iter().map(|p| glam::Vec3::from(*p)))
                } else {
                    prim.bounds
                };
                let item_bounds = prim_bounds.transformed(&inst.transform);
                bounds = bounds.union(&item_bounds);
                let offset = submesh_data.len() as u64;
                let offset = u32::try_from(offset)
                    .map_err(|_| RenderError::TooLarge { what: format!("{name}: sub-mesh transform table") })?;
                submesh_data.extend_from_slice(bytemuck::bytes_of(&inst.transform));
                submesh_data.resize(offset as usize + align as usize, 0);
                let tris = (range.0.len() / 3) as u64;
                triangles += tris;
                let mut class = materials[material].class;
                if prim.colors.is_some() {
                    class.features |= features::COLORS;
                }
                draws.push(DrawItem {
                    indices: range.0,
                    base_vertex: range.1,
                    material,
                    class,
                    submesh_offset: offset,
                    bounds: item_bounds,
                });
            }
        }
        // Opaque first (grouped by material), then blended.
        draws.sort_by_key(|d| (d.class.blend, d.material));
        let has_blend = draws.iter().any(|d| d.class.blend);
        let vertex_buffer = (!vertices.is_empty()).then(|| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(&format!("{name} vertices")),
                contents: bytemuck::cast_slice(&vertices),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        let index_buffer = (!indices.is_empty()).then(|| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(&format!("{name} indices")),
                contents: bytemuck::cast_slice(&indices),
                usage: wgpu::BufferUsages::INDEX,
            })
        });
        if draws.is_empty() {
            tracing::debug!("{name}: nothing drawable");
        }
        Ok(GpuModel { vertex_buffer, index_buffer, materials, draws, bounds, triangles, has_blend })
    }

    fn upload_material(
        &self,
        label: &str,
        m: &Material,
        model: &Model,
        textures: &[Option<GpuTexture>],
        warnings: &mut Vec<String>,
    ) -> GpuMaterial {
        let fallback = &self.fallback;
        // (view, sampler) for a texture slot.
        let mut slot = |r: Option<&TextureRef>, srgb: bool, normal: bool| -> (wgpu::TextureView, wgpu::Sampler, bool) {
            let fb_view = if normal { fallback.normal.linear.clone() } else { fallback.white.linear.clone() };
            let Some(r) = r else {
                return (fb_view, fallback.sampler.clone(), false);
            };
            match textures.get(r.texture) {
                Some(Some(t)) => {
                    let view = if srgb { t.srgb.clone() } else { t.linear.clone() };
                    let sampler = model.textures.get(r.texture).map(|t| create_sampler(&self.device, &t.sampler));
                    (view, sampler.unwrap_or_else(|| fallback.sampler.clone()), true)
                }
                Some(None) => (fb_view, fallback.sampler.clone(), false),
                None => {
                    warnings.push(format!(
                        "{label}: references texture #{} but the model has {}; using a fallback",
                        r.texture,
                        textures.len()
                    ));
                    (fb_view, fallback.sampler.clone(), false)
                }
            }
        };
        let base = slot(m.base_color_texture.as_ref(), true, false);
        let mr = slot(m.metallic_roughness_texture.as_ref(), false, false);
        let normal = slot(m.normal_texture.as_ref(), false, true);
        let occlusion = slot(m.occlusion_texture.as_ref(), false, false);
        let emissive = slot(m.emissive_texture.as_ref(), true, false);
        let uniform = MaterialUniform::new(m, normal.2);
        let buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(&uniform),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layouts.material,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&base.0) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(&base.1) },
                wgpu::BindGroupEntry { binding: 3, resource: wgpu::BindingResource::TextureView(&mr.0) },
                wgpu::BindGroupEntry { binding: 4, resource: wgpu::BindingResource::Sampler(&mr.1) },
                wgpu::BindGroupEntry { binding: 5, resource: wgpu::BindingResource::TextureView(&normal.0) },
                wgpu::BindGroupEntry { binding: 6, resource: wgpu::BindingResource::Sampler(&normal.1) },
                wgpu::BindGroupEntry { binding: 7, resource: wgpu::BindingResource::TextureView(&occlusion.0) },
                wgpu::BindGroupEntry { binding: 8, resource: wgpu::BindingResource::Sampler(&occlusion.1) },
                wgpu::BindGroupEntry { binding: 9, resource: wgpu::BindingResource::TextureView(&emissive.0) },
                wgpu::BindGroupEntry { binding: 10, resource: wgpu::BindingResource::Sampler(&emissive.1) },
            ],
        });
        let mut feature_bits = 0;
        if base.2 || mr.2 || normal.2 || occlusion.2 || emissive.2 {
            feature_bits |= features::TEXTURED;
        }
        if normal.2 {
            feature_bits |= features::NORMAL_MAP;
        }
        let class = PipelineClass {
            blend: m.alpha_mode == AlphaMode::Blend,
            double_sided: m.double_sided,
            features: feature_bits,
        };
        GpuMaterial { bind_group, class }
    }
}

/// Appends a primitive's vertices and indices; returns (index range, base vertex), or `None` (with a
/// warning) when the primitive is inconsistent.
fn pack_primitive(
    where_: &str,
    p: &Primitive,
    vertices: &mut Vec<GpuVertex>,
    indices: &mut Vec<u32>,
    warnings: &mut Vec<String>,
) -> Option<Packed> {
    let n = p.positions.len();
    let mut bad = Vec::new();
    if p.normals.len() != n {
        bad.push(format!("{} normals", p.normals.len()));
    }
    if p.uv0.len() != n {
        bad.push(format!("{} uv0", p.uv0.len()));
    }
    if let Some(t) = &p.tangents
        && t.len() != n
    {
        bad.push(format!("{} tangents", t.len()));
    }
    if let Some(t) = &p.uv1
        && t.len() != n
    {
        bad.push(format!("{} uv1", t.len()));
    }
    if let Some(t) = &p.colors
        && t.len() != n
    {
        bad.push(format!("{} colours", t.len()));
    }
    if !bad.is_empty() {
        warnings.push(format!("{where_}: {n} positions but {}; primitive skipped", bad.join(", ")));
        return None;
    }
    if !p.indices.len().is_multiple_of(3) {
        warnings.push(format!(
            "{where_}: {} indices is not a whole number of triangles; primitive skipped",
            p.indices.len()
        ));
        return None;
    }
    if let Some(bad) = p.indices.iter().find(|&&i| i as usize >= n) {
        warnings.push(format!("{where_}: index {bad} is out of range for {n} vertices; primitive skipped"));
        return None;
    }
    let base_vertex = i32::try_from(vertices.len()).ok()?;
    let first = u32::try_from(indices.len()).ok()?;
    let count = u32::try_from(p.indices.len()).ok()?;
    first.checked_add(count)?;
    vertices.reserve(n);
    for i in 0..n {
        vertices.push(GpuVertex {
            position: p.positions[i],
            normal: p.normals[i],
            tangent: p.tangents.as_ref().map_or([0.0; 4], |t| t[i]),
            uv0: p.uv0[i],
            uv1: p.uv1.as_ref().map_or(p.uv0[i], |t| t[i]),
            color: p.colors.as_ref().map_or([1.0; 4], |c| c[i]),
        });
    }
    indices.extend_from_slice(&p.indices);
    Some((first..first + count, base_vertex))
}

/// Fallback textures and sampler shared by all materials.
#[derive(Debug)]
pub(crate) struct Fallback {
    pub white: GpuTexture,
    pub normal: GpuTexture,
    pub sampler: wgpu::Sampler,
}

/// Instance matrix conversion used by the frame builder: `f64` world-from-model minus the reference
/// point, then cast to `f32`.
pub(crate) fn relative_matrix(m: &glam::DMat4, reference: glam::DVec3) -> Mat4 {
    let mut r = *m;
    r.w_axis.x -= reference.x;
    r.w_axis.y -= reference.y;
    r.w_axis.z -= reference.z;
    r.as_mat4()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mip_chain_box_filters_down_to_one_pixel() {
        // 3x2: odd width clamps at the edge.
        let px = |v: u8| [v, v, v, 255];
        let data: Vec<u8> = [px(0), px(100), px(200), px(40), px(60), px(80)].concat();
        let chain = mip_chain(3, 2, &data);
        assert_eq!(chain.len(), 2);
        assert_eq!((chain[1].0, chain[1].1), (1, 1));
        assert_eq!(chain[1].2[0], 50); // (0 + 100 + 40 + 60) / 4
        let chain = mip_chain(4, 4, &[7u8; 64]);
        assert_eq!(chain.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(), vec![(4, 4), (2, 2), (1, 1)]);
        assert!(chain[2].2.iter().all(|&b| b == 7));
    }

    #[test]
    fn uv_transform_matches_khr_example() {
        // The extension's example: offset (0,1), rotation 90°, scale 0.5 maps the unit square onto the
        // lower-left quadrant [0,0.5]x[0.5,1].
        let t = TextureRef {
            texture: 0,
            tex_coord: 0,
            transform: crate::model::TextureTransform {
                offset: [0.0, 1.0],
                rotation: std::f32::consts::FRAC_PI_2,
                scale: [0.5, 0.5],
            },
        };
        let m = uv_transform(Some(&t));
        let apply = |u: f32, v: f32| (m[0] * u + m[1] * v + m[2], m[4] * u + m[5] * v + m[6]);
        for (u, v) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
            let (x, y) = apply(u, v);
            assert!((-1e-6..=0.5 + 1e-6).contains(&x), "{x}");
            assert!((0.5 - 1e-6..=1.0 + 1e-6).contains(&y), "{y}");
        }
    }

    #[test]
    fn relative_matrix_keeps_precision() {
        let big = glam::DVec3::new(3_000_000.123_456, 2_000_000.654_321, 12.5);
        let m = glam::DMat4::from_translation(big + glam::DVec3::new(0.001, 0.0, 0.0));
        let r = relative_matrix(&m, big);
        assert!((r.w_axis.x - 0.001).abs() < 1e-9);
        assert!(r.w_axis.y.abs() < 1e-9);
    }
}
