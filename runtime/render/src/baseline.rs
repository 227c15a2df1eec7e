//! A deliberately minimal wgpu renderer, the baseline of Sangam's frame benchmarks.
//!
//! It draws the same triangles as a [`Scene`] with ONE instanced draw call, a position + normal vertex,
//! a one-line lighting shader, static buffers and no culling, sorting or materials: what a hand-written
//! wgpu program would do for a fixed scene. A scene of one model is drawn as that model's triangles
//! instanced over the placements; a scene of several models is flattened into one mesh in world space
//! (relative to the camera) and drawn as one instance. Benchmarks print `sangam / baseline`.

use glam::{Mat4, Vec3};
use wgpu::util::DeviceExt;

use crate::gpu::{DEPTH_FORMAT, OUTPUT_FORMAT};
use crate::scene::{Scene, View};

/// The bare-wgpu baseline: static buffers, one pipeline, one instanced draw.
pub struct Baseline {
    pipeline: wgpu::RenderPipeline,
    bind_group: wgpu::BindGroup,
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    index_count: u32,
    instances: wgpu::Buffer,
    instance_count: u32,
    color: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
    output: wgpu::TextureView,
}

const BASELINE_WGSL: &str = r#"
@group(0) @binding(0) var<uniform> view_proj: mat4x4<f32>;
struct Out { @builtin(position) clip: vec4<f32>, @location(0) n: vec3<f32> };
@vertex
fn vs(@location(0) pos: vec3<f32>, @location(1) n: vec3<f32>,
      @location(6) c0: vec4<f32>, @location(7) c1: vec4<f32>, @location(8) c2: vec4<f32>, @location(9) c3: vec4<f32>) -> Out {
    let m = mat4x4<f32>(c0, c1, c2, c3);
    var o: Out;
    o.clip = view_proj * (m * vec4<f32>(pos, 1.0));
    o.n = (m * vec4<f32>(n, 0.0)).xyz;
    return o;
}
@fragment
fn fs(i: Out) -> @location(0) vec4<f32> {
    let l = max(dot(normalize(i.n), vec3<f32>(0.3, -0.4, 0.87)), 0.0);
    return vec4<f32>(vec3<f32>(0.15 + 0.8 * l), 1.0);
}
"#;

impl Baseline {
    /// Builds the baseline's buffers and pipeline for `scene` seen from `view`, rendering
    /// `width` x `height` with `samples` MSAA samples into the renderer's output and depth formats.
    pub fn new(device: &wgpu::Device, scene: &Scene, view: &View, width: u32, height: u32, samples: u32) -> Baseline {
        let (verts, indices, mats) = flatten(scene, view);
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline vertices"),
            contents: bytemuck::cast_slice(&verts),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let index_count = indices.len() as u32;
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline indices"),
            contents: bytemuck::cast_slice(&indices),
            usage: wgpu::BufferUsages::INDEX,
        });
        let instances = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline instances"),
            contents: bytemuck::cast_slice(&mats),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let vp = view.projection() * view.view_from_relative_world(view.position).as_mat4();
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline view"),
            contents: bytemuck::bytes_of(&vp),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: None,
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("baseline"),
            source: wgpu::ShaderSource::Wgsl(BASELINE_WGSL.into()),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let vattrs = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3];
        let iattrs = wgpu::vertex_attr_array![6 => Float32x4, 7 => Float32x4, 8 => Float32x4, 9 => Float32x4];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("baseline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: Default::default(),
                buffers: &[
                    Some(wgpu::VertexBufferLayout {
                        array_stride: 24,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: &vattrs,
                    }),
                    Some(wgpu::VertexBufferLayout {
                        array_stride: 64,
                        step_mode: wgpu::VertexStepMode::Instance,
                        attributes: &iattrs,
                    }),
                ],
            },
            primitive: wgpu::PrimitiveState { cull_mode: Some(wgpu::Face::Back), ..Default::default() },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::GreaterEqual),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: wgpu::MultisampleState { count: samples, ..Default::default() },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs"),
                compilation_options: Default::default(),
                targets: &[Some(OUTPUT_FORMAT.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        let tex = |format, samples| {
            device
                .create_texture(&wgpu::TextureDescriptor {
                    label: None,
                    size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
                    mip_level_count: 1,
                    sample_count: samples,
                    dimension: wgpu::TextureDimension::D2,
                    format,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    view_formats: &[],
                })
                .create_view(&Default::default())
        };
        Baseline {
            pipeline,
            bind_group,
            vertices,
            indices,
            index_count,
            instances,
            instance_count: mats.len() as u32,
            color: (samples > 1).then(|| tex(OUTPUT_FORMAT, samples)),
            depth: tex(DEPTH_FORMAT, samples),
            output: tex(OUTPUT_FORMAT, 1),
        }
    }

    /// Renders one frame and waits for the GPU to finish it.
    pub fn frame(&self, device: &wgpu::Device, queue: &wgpu::Queue) {
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let (view, resolve) = match &self.color {
                Some(c) => (c, Some(&self.output)),
                None => (&self.output, None),
            };
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("baseline"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: resolve,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.depth,
                    depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(0.0), store: wgpu::StoreOp::Discard }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.set_vertex_buffer(0, self.vertices.slice(..));
            pass.set_vertex_buffer(1, self.instances.slice(..));
            pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..self.index_count, 0, 0..self.instance_count);
        }
        queue.submit([encoder.finish()]);
        let _ = device.poll(wgpu::PollType::wait_indefinitely());
    }
}

/// Interleaved position + normal vertices, triangle indices and per-instance matrices (relative to
/// the view's position) that draw `scene`'s triangles with one instanced draw.
#[allow(clippy::type_complexity)]
fn flatten(scene: &Scene, view: &View) -> (Vec<f32>, Vec<u32>, Vec<Mat4>) {
    let relative = |m: glam::DMat4| {
        let mut m = m;
        m.w_axis -= view.position.extend(0.0);
        m.as_mat4()
    };
    let mut verts = Vec::new();
    let mut indices = Vec::new();
    let mut append = |model: &crate::model::Model, transform: Mat4| {
        for inst in &model.instances {
            let Some(mesh) = model.meshes.get(inst.mesh) else { continue };
            let m = transform * inst.transform;
            let normal_m = m.inverse().transpose();
            for p in &mesh.primitives {
                let base = (verts.len() / 6) as u32;
                for (pos, n) in p.positions.iter().zip(&p.normals) {
                    let pos = m.transform_point3(Vec3::from(*pos));
                    let n = normal_m.transform_vector3(Vec3::from(*n)).normalize_or_zero();
                    verts.extend_from_slice(&[pos.x, pos.y, pos.z, n.x, n.y, n.z]);
                }
                indices.extend(p.indices.iter().map(|i| base + i));
            }
        }
    };
    if scene.models.len() == 1 {
        append(&scene.models[0], Mat4::IDENTITY);
        let mats = scene.placements.iter().map(|p| relative(p.world_from_model)).collect();
        (verts, indices, mats)
    } else {
        for p in &scene.placements {
            if let Some(model) = scene.models.get(p.model) {
                append(model, relative(p.world_from_model));
            }
        }
        (verts, indices, vec![Mat4::IDENTITY])
    }
}
