//! Frame time of a 10,000-tower instanced scene at 1280x720: the Sangam renderer versus a bare-wgpu baseline
//! that draws the same triangles with one instanced draw call and a minimal shader (same device,
//! resolution, MSAA and depth format). Prints `ours / baseline` (goal: <= 1.3).
//!
//! Then the overlay's cost (issue 15): the same frame with 10,000 labels (one per tower) and a
//! 1024 x 1024 heatmap over the grid, against the same frame without an overlay, in the same run.
//! Prints `with / without`.
//!
//! Both measure render + wait for the GPU. Runs in about a minute on lavapipe.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use glam::DVec3;
use sangam_render::baseline::Baseline;
use sangam_render::gpu::{RenderTarget, Renderer};
use sangam_render::overlay::{HeatmapPalette, Overlay, OverlayHeatmap, OverlayLabel};
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

/// 10,000 labels, one over each tower, and a 1024 x 1024 heatmap of a smooth field over the grid.
fn overlay() -> Overlay {
    let half = (GRID as f64 - 1.0) * 0.5;
    let labels = (0..GRID * GRID)
        .map(|i| OverlayLabel {
            position: DVec3::new(((i % GRID) as f64 - half) * 6.0, ((i / GRID) as f64 - half) * 6.0, 14.0),
            text: format!("T{i:04}"),
            height_m: 1.5,
            color: [1.0, 1.0, 1.0, 1.0],
            screen_px: None,
        })
        .collect();
    let side = 1024u32;
    let values = (0..side * side)
        .map(|i| {
            let (x, y) = ((i % side) as f32 / side as f32, (i / side) as f32 / side as f32);
            -120.0 + 60.0 * (0.5 + 0.5 * (6.0 * x).sin() * (4.0 * y).cos())
        })
        .collect();
    let heatmap = OverlayHeatmap {
        origin: DVec3::new(-half * 6.0 - 3.0, -half * 6.0 - 3.0, 0.5),
        cell_size_m: (GRID as f32 * 6.0) / side as f32,
        columns: side,
        rows: side,
        values,
        min: -120.0,
        max: -60.0,
        palette: HeatmapPalette::Viridis,
        opacity: 0.6,
        // The same map every frame (a simulation's map between its updates): coloured and uploaded once.
        revision: sangam_render::overlay::next_revision(),
        heights: Vec::new(),
    };
    Overlay { labels, heatmaps: vec![heatmap], ..Overlay::default() }
}

/// Runs `frame` `iters` times and returns the wall time (criterion's `iter_custom`), recording the
/// time per frame in `times` for the same-run ratio.
fn timed(iters: u64, times: &RefCell<Vec<Duration>>, mut frame: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        frame();
    }
    let d = start.elapsed();
    times.borrow_mut().push(d / iters.max(1) as u32);
    d
}

/// Median wall time of `iters` frames, per frame, over criterion's samples.
fn median(v: &RefCell<Vec<Duration>>) -> Duration {
    let mut v = v.borrow().clone();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
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
                timed(iters, &times, || {
                    renderer.render(&gpu, &[view], &target).expect("render");
                    let _ = renderer.device().poll(wgpu::PollType::wait_indefinitely());
                })
            })
        });
    }
    {
        let times = Rc::clone(&base_times);
        let (device, queue) = (renderer.device().clone(), renderer.queue().clone());
        group.bench_function("bare_wgpu_baseline", |b| {
            b.iter_custom(|iters| timed(iters, &times, || baseline.frame(&device, &queue)))
        });
    }
    group.finish();
    let (ours, base) = (median(&ours_times), median(&base_times));
    if !base.is_zero() {
        println!(
            "frame time: sangam {:.2} ms, bare wgpu {:.2} ms, ratio ours/baseline = {:.3} (goal <= 1.3)",
            ours.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            ours.as_secs_f64() / base.as_secs_f64()
        );
    }

    // The overlay's cost: the same frame with and without 10,000 labels and a 1024 x 1024 heatmap.
    let overlay = overlay();
    let plain = Overlay::default();
    renderer.render_with_overlay(&gpu, &overlay, &[view], &target).expect("render with the overlay");
    let _ = renderer.device().poll(wgpu::PollType::wait_indefinitely());
    let with_times = Rc::new(RefCell::new(Vec::<Duration>::new()));
    let without_times = Rc::new(RefCell::new(Vec::<Duration>::new()));
    let mut group = c.benchmark_group("frame_overlay_cost_720p");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    for (name, drawn, times) in [("with_overlay", &overlay, &with_times), ("without_overlay", &plain, &without_times)] {
        let times = Rc::clone(times);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed(iters, &times, || {
                    renderer.render_with_overlay(&gpu, drawn, &[view], &target).expect("render");
                    let _ = renderer.device().poll(wgpu::PollType::wait_indefinitely());
                })
            })
        });
    }
    group.finish();
    let (with, without) = (median(&with_times), median(&without_times));
    if !without.is_zero() {
        println!(
            "overlay cost: with 10,000 labels and a 1024x1024 heatmap {:.2} ms, without {:.2} ms, ratio {:.3}",
            with.as_secs_f64() * 1e3,
            without.as_secs_f64() * 1e3,
            with.as_secs_f64() / without.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
