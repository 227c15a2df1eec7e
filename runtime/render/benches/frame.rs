//! Frame time of a 10,000-tower instanced scene at 1280x720: the Sangam renderer versus a bare-wgpu baseline
//! that draws the same triangles with one instanced draw call and a minimal shader (same device,
//! resolution, MSAA and depth format). Prints `ours / baseline` (goal: <= 1.3).
//!
//! Both measure render + wait for the GPU. Runs in well under a minute on lavapipe.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use glam::DVec3;
use sangam_render::baseline::Baseline;
use sangam_render::gpu::{RenderTarget, Renderer};
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const GRID: usize = 100; // GRID x GRID instances

/// 10,000 illustrative street monopoles (the demo site's `monopole.glb`, 316 triangles each) on a
/// 100 x 100 grid, 6 m apart.
fn scene() -> Scene {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models/monopole.glb");
    let model = sangam_render::gltf_import::load_gltf(&path).expect("assets/models/monopole.glb loads");
    let half = (GRID as f64 - 1.0) * 0.5;
    let placements = (0..GRID * GRID)
        .map(|i| Placement::at(0, DVec3::new(((i % GRID) as f64 - half) * 6.0, ((i / GRID) as f64 - half) * 6.0, 0.0)))
        .collect();
    Scene { models: vec![model], placements, environment: Environment::default() }
}

fn view() -> View {
    View::look_at(
        DVec3::new(0.0, -470.0, 420.0),
        DVec3::new(0.0, 25.0, 0.0),
        DVec3::Z,
        Fov::symmetric(60f32.to_radians(), WIDTH as f32 / HEIGHT as f32),
    )
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
    let baseline = Baseline::new(renderer.device(), &scene, &view, WIDTH, HEIGHT, samples);
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
    let mut group = c.benchmark_group("frame_10k_towers_720p");
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
