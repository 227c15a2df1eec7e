//! Frame time of a 10,000-instance scene at 1280x720: the Sangam renderer versus a bare-wgpu baseline
//! that draws the same triangles with one instanced draw call and a minimal shader (same device,
//! resolution, MSAA and depth format). Prints `ours / baseline` (goal: <= 1.3).
//!
//! Both measure render + wait for the GPU. Runs in well under a minute on lavapipe.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use glam::{DVec3, Mat4, Vec3};
use sangam_render::gpu::{DEPTH_FORMAT, OUTPUT_FORMAT, RenderTarget, Renderer};
use sangam_render::model::{Aabb, Material, Mesh, MeshInstance, Model, Primitive};
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};
use wgpu::util::DeviceExt;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const GRID: usize = 100; // GRID x GRID instances

/// A UV sphere of radius 0.5: 16 segments x 16 rings = 480 triangles.
fn sphere() -> Primitive {
    let (segs, rings) = (16u32, 16u32);
    let mut p = Primitive { material: Some(0), ..Default::default() };
    for r in 0..=rings {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..=segs {
            let phi = std::f32::consts::TAU * s as f32 / segs as f32;
            let n = Vec3::new(theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos());
            p.positions.push((n * 0.5).to_array());
            p.normals.push(n.to_array());
            p.uv0.push([s as f32 / segs as f32, r as f32 / rings as f32]);
        }
    }
    for r in 0..rings {
        for s in 0..segs {
            let a = r * (segs + 1) + s;
            let b = a + segs + 1;
            if r != 0 {
                p.indices.extend([a, b, a + 1]);
            }
            if r != rings - 1 {
                p.indices.extend([a + 1, b, b + 1]);
            }
        }
    }
    p.bounds = Aabb::from_points(p.positions.iter().map(|a| Vec3::from(*a)));
    p
}

fn scene() -> Scene {
    let material = Material {
        base_color_factor: [0.8, 0.6, 0.4, 1.0],
        metallic_factor: 0.0,
        roughness_factor: 0.6,
        ..Default::default()
    };
    let mut model = Model {
        name: "sphere".into(),
        meshes: vec![Mesh { name: None, primitives: vec![sphere()] }],
        materials: vec![material],
        instances: vec![MeshInstance { mesh: 0, transform: Mat4::IDENTITY }],
        ..Default::default()
    };
    model.compute_bounds();
    let half = (GRID as f64 - 1.0) * 0.5;
    let placements = (0..GRID * GRID)
        .map(|i| Placement::at(0, DVec3::new(((i % GRID) as f64 - half) * 1.2, ((i / GRID) as f64 - half) * 1.2, 0.0)))
        .collect();
    Scene { models: vec![model], placements, environment: Environment::default() }
}

fn view() -> View {
    View::look_at(
        DVec3::new(0.0, -95.0, 85.0),
        DVec3::new(0.0, 5.0, 0.0),
        DVec3::Z,
        Fov::symmetric(60f32.to_radians(), WIDTH as f32 / HEIGHT as f32),
    )
}

/// The bare-wgpu baseline: static buffers, one pipeline, one instanced draw.
struct Baseline {
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
    fn new(device: &wgpu::Device, scene: &Scene, view: &View, samples: u32) -> Baseline {
        let prim = &scene.models[0].meshes[0].primitives[0];
        let verts: Vec<f32> =
            prim.positions.iter().zip(&prim.normals).flat_map(|(p, n)| p.iter().chain(n.iter()).copied()).collect();
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline vertices"),
            contents: bytemuck::cast_slice(&verts),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("baseline indices"),
            contents: bytemuck::cast_slice(&prim.indices),
            usage: wgpu::BufferUsages::INDEX,
        });
        let mats: Vec<Mat4> = scene
            .placements
            .iter()
            .map(|p| {
                let mut m = p.world_from_model;
                m.w_axis -= view.position.extend(0.0);
                m.as_mat4()
            })
            .collect();
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
                    size: wgpu::Extent3d { width: WIDTH, height: HEIGHT, depth_or_array_layers: 1 },
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
            index_count: prim.indices.len() as u32,
            instances,
            instance_count: mats.len() as u32,
            color: (samples > 1).then(|| tex(OUTPUT_FORMAT, samples)),
            depth: tex(DEPTH_FORMAT, samples),
            output: tex(OUTPUT_FORMAT, 1),
        }
    }

    fn frame(&self, device: &wgpu::Device, queue: &wgpu::Queue) {
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

fn bench_frame(c: &mut Criterion) {
    let mut renderer = match Renderer::new_headless() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("!!!!!!!!!! frame bench skipped: {e}");
            return;
        }
    };
    let scene = scene();
    let view = view();
    let gpu = renderer.upload(&scene).expect("upload");
    let target = RenderTarget::new(&renderer, WIDTH, HEIGHT, 1).expect("target");
    let samples = renderer.options().msaa_samples;
    let baseline = Baseline::new(renderer.device(), &scene, &view, samples);
    // The first frame compiles pipelines; report the second.
    renderer.render(&gpu, &[view], &target).expect("render");
    let _ = renderer.device().poll(wgpu::PollType::wait_indefinitely());
    let stats = renderer.render(&gpu, &[view], &target).expect("render");
    println!(
        "adapter {}; {} instances drawn, {} culled, {} triangles, {} draw calls, {}x MSAA, {WIDTH}x{HEIGHT}; \
         CPU cull+encode {:.2} ms",
        renderer.adapter_info().name,
        stats.instances_drawn,
        stats.instances_culled,
        stats.triangles,
        stats.draw_calls,
        samples,
        stats.cpu_encode_time.as_secs_f64() * 1e3
    );

    let ours_times = Rc::new(RefCell::new(Vec::<Duration>::new()));
    let base_times = Rc::new(RefCell::new(Vec::<Duration>::new()));
    let mut group = c.benchmark_group("frame_10k_instances_720p");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    {
        let times = Rc::clone(&ours_times);
        group.bench_function("sangam", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    renderer.render(&gpu, &[view], &target).expect("render");
                    let _ = renderer.device().poll(wgpu::PollType::wait_indefinitely());
                }
                let d = start.elapsed();
                times.borrow_mut().push(d / iters.max(1) as u32);
                d
            })
        });
    }
    {
        let times = Rc::clone(&base_times);
        let (device, queue) = (renderer.device().clone(), renderer.queue().clone());
        group.bench_function("bare_wgpu_baseline", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    baseline.frame(&device, &queue);
                }
                let d = start.elapsed();
                times.borrow_mut().push(d / iters.max(1) as u32);
                d
            })
        });
    }
    group.finish();
    let median = |v: &RefCell<Vec<Duration>>| {
        let mut v = v.borrow().clone();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let (ours, base) = (median(&ours_times), median(&base_times));
    if !base.is_zero() {
        println!(
            "frame time: sangam {:.2} ms, bare wgpu {:.2} ms, ratio ours/baseline = {:.3} (goal <= 1.3)",
            ours.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            ours.as_secs_f64() / base.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
