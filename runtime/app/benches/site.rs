//! Demo-site benchmarks (New Delhi, INA / AIIMS), run by `cargo xtask bench`:
//!
//! 1. Scene load to first frame: parse the scene, read and extrude the GeoJSON, import the glTF
//!    assets, upload to the GPU, render and read back the first 1280x720 frame (median of 5 runs).
//! 2. Frame time of each bookmark at 1280x720 (render + wait for the GPU) against the bare-wgpu
//!    baseline drawing the same triangles with one instanced draw, same device, MSAA and size.
//!    Prints `sangam / baseline` (goal <= 1.3).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it runs each measurement once.

use std::path::Path;
use std::time::{Duration, Instant};

use sangam::site;
use sangam_render::baseline::Baseline;
use sangam_render::gpu::{RenderTarget, Renderer};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this once as a smoke test.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (load_runs, frame_runs) = if benchmarking { (5, 15) } else { (1, 1) };
    let scene_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
    let mut renderer = match Renderer::new_headless() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("!!!!!!!!!! site bench cannot run: {e}");
            std::process::exit(1);
        }
    };
    println!("adapter: {}", renderer.adapter_info().name);

    // 1. Scene load to first frame.
    let (mut load, mut upload, mut first) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..load_runs {
        let t0 = Instant::now();
        let site = site::load(&scene_path).expect("demo site loads");
        let t1 = Instant::now();
        let gpu = renderer.upload(&site.scene).expect("upload");
        let t2 = Instant::now();
        let view = site.bookmark_view("overview", f64::from(WIDTH) / f64::from(HEIGHT)).expect("overview");
        renderer.render_to_images(&gpu, &[view], WIDTH, HEIGHT).expect("first frame");
        let t3 = Instant::now();
        load.push(t1 - t0);
        upload.push(t2 - t1);
        first.push(t3 - t2);
    }
    let (load, upload, first) = (median(load), median(upload), median(first));
    println!(
        "scene load to first frame: {:.1} ms = load+extrude+import {:.1} ms + GPU upload {:.1} ms + first frame \
         (pipelines, render, readback) {:.1} ms",
        ms(load + upload + first),
        ms(load),
        ms(upload),
        ms(first)
    );

    // 2. Frame time per bookmark against the baseline.
    let site = site::load(&scene_path).expect("demo site loads");
    let gpu = renderer.upload(&site.scene).expect("upload");
    let target = RenderTarget::new(&renderer, WIDTH, HEIGHT, 1).expect("target");
    let samples = renderer.options().msaa_samples;
    for name in site.bookmark_names() {
        let view = site.bookmark_view(&name, f64::from(WIDTH) / f64::from(HEIGHT)).expect("bookmark");
        let baseline = Baseline::new(renderer.device(), &site.scene, &view, WIDTH, HEIGHT, samples);
        let (device, queue) = (renderer.device().clone(), renderer.queue().clone());
        // Warm up both (pipeline compilation, first-use allocations).
        let stats = renderer.render(&gpu, &[view], &target).expect("render");
        let _ = device.poll(wgpu::PollType::wait_indefinitely());
        baseline.frame(&device, &queue);
        let (mut ours, mut base) = (Vec::new(), Vec::new());
        // Interleave the two so background load affects both alike.
        for _ in 0..frame_runs {
            let t = Instant::now();
            renderer.render(&gpu, &[view], &target).expect("render");
            let _ = device.poll(wgpu::PollType::wait_indefinitely());
            ours.push(t.elapsed());
            let t = Instant::now();
            baseline.frame(&device, &queue);
            base.push(t.elapsed());
        }
        let (ours, base) = (median(ours), median(base));
        println!(
            "demo site `{name}` {WIDTH}x{HEIGHT} {samples}x MSAA: sangam {:.2} ms, bare wgpu {:.2} ms, ratio \
             ours/baseline = {:.3} (goal <= 1.3); {} draw calls, {} drawn, {} culled, {} triangles, CPU encode {:.2} ms",
            ms(ours),
            ms(base),
            ours.as_secs_f64() / base.as_secs_f64(),
            stats.draw_calls,
            stats.instances_drawn,
            stats.instances_culled,
            stats.triangles,
            ms(stats.cpu_encode_time)
        );
    }
}
