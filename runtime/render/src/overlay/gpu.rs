//! The GPU side of the overlay pass: the glyph atlas texture, the heatmap textures, the instance
//! buffer and the per-view uniform, the two pipelines (depth-tested and on top) per target key, and
//! recording the frame's draws. Everything is created once and reused: the instance buffer grows
//! by doubling, a heatmap texture is recreated only when its size changes. Cost per frame: one
//! uniform write, one instance upload (80 bytes a quad), one texel upload per heatmap whose values
//! are new (see [`OverlayHeatmap::revision`](super::OverlayHeatmap::revision)), and one draw call per
//! draw range.

use std::collections::HashMap;
use std::num::NonZeroU32;

use bytemuck::{Pod, Zeroable};
use glam::DVec3;

use super::builder::{Builder, OverlayFrame, build};
use super::quads::{DrawTexture, QUAD_SIZE, v4};
use super::text::GlyphAtlas;
use super::{MAX_HEATMAP_SIDE, Overlay};
use crate::gpu::{DEPTH_FORMAT, MAX_VIEWS};

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
    heat_texels: Vec<super::heatmaps::HeatTexels>,
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
        // Heatmap textures, one per slot, reused while their size stays the same; only the slots
        // coloured in this pass are uploaded, and their texels then dropped (the texture holds them).
        for (i, slot) in self.heat_texels.iter_mut().enumerate() {
            if !slot.fresh || slot.last_used != b.pass {
                continue;
            }
            slot.fresh = false;
            let (cw, rh) = slot.size;
            let reuse = self.heat_textures.get(i).is_some_and(|t| t.size == (cw, rh));
            if !reuse {
                let texture = device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("sangam heatmap"),
                    size: wgpu::Extent3d { width: cw, height: rh, depth_or_array_layers: 1 },
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
                let t = HeatTexture { size: (cw, rh), texture, bind_group };
                // Slots are made one at a time and uploaded in the pass that made them: a new slot's
                // index is the next texture's.
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
                &slot.texels,
                wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * cw), rows_per_image: Some(rh) },
                wgpu::Extent3d { width: cw, height: rh, depth_or_array_layers: 1 },
            );
            slot.texels = Vec::new();
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
