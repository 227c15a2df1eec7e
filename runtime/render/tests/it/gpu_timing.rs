//! GPU frame time from timestamp queries ([`FrameStats::gpu_time`]) on a real Vulkan adapter
//! (lavapipe in CI).
//!
//! These tests FAIL (never skip) when no adapter is usable. When the adapter offers
//! `Features::TIMESTAMP_QUERY` they check that measurements arrive and grow with the workload; when it
//! does not, they check that `gpu_time` stays `None` and say so loudly. The renderer itself never
//! waits for the GPU: the tests do, between frames, with `device().poll(wait_indefinitely())`.

use std::time::Duration;

use glam::{DVec3, Vec3};
use sangam_render::gpu::{FrameStats, GpuScene, MultiviewPolicy, RenderTarget, Renderer, RendererOptions};
use sangam_render::model::{Aabb, Material, Mesh, MeshInstance, Model, Primitive};
use sangam_render::overlay::{Overlay, OverlayMarker};
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn renderer_with(options: RendererOptions) -> Renderer {
    Renderer::new_headless_with(options)
        .unwrap_or_else(|e| panic!("GPU timing tests need a Vulkan adapter (lavapipe is enough): {e}"))
}

fn renderer() -> Renderer {
    renderer_with(RendererOptions::default())
}

/// Whether the adapter offers timestamp queries, said loudly either way.
fn report_case(r: &Renderer) -> bool {
    let info = r.adapter_info();
    let offered = r.device().features().contains(wgpu::Features::TIMESTAMP_QUERY);
    if offered {
        eprintln!(
            "[gpu_timing] {} ({}): TIMESTAMP_QUERY offered, timestamp period {} ns/tick; GPU time is measured",
            info.name,
            info.driver_info,
            r.queue().get_timestamp_period()
        );
    } else {
        eprintln!(
            "\n!!!!!!!!!! [gpu_timing] {} ({}): TIMESTAMP_QUERY NOT offered; checking that gpu_time stays None \
             !!!!!!!!!!\n",
            info.name, info.driver_info
        );
    }
    offered
}

/// A cube of edge `size` centred at the origin.
fn cube(size: f32, material: Material) -> Model {
    let h = size * 0.5;
    let mut p = Primitive { material: Some(0), ..Default::default() };
    for n in [Vec3::X, -Vec3::X, Vec3::Y, -Vec3::Y, Vec3::Z, -Vec3::Z] {
        let u = if n.z.abs() > 0.5 { Vec3::X * n.z.signum() } else { Vec3::Z.cross(n) };
        let v = n.cross(u);
        let c = n * h;
        let base = p.positions.len() as u32;
        for corner in [c - u * h - v * h, c + u * h - v * h, c + u * h + v * h, c - u * h + v * h] {
            p.positions.push(corner.to_array());
            p.normals.push(n.to_array());
            p.uv0.push([0.0, 0.0]);
        }
        p.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    p.bounds = Aabb::from_points(p.positions.iter().map(|a| Vec3::from(*a)));
    let mut m = Model {
        name: "cube".into(),
        meshes: vec![Mesh { name: None, primitives: vec![p] }],
        materials: vec![material],
        instances: vec![MeshInstance { mesh: 0, transform: glam::Mat4::IDENTITY }],
        ..Default::default()
    };
    m.compute_bounds();
    m
}

fn lit() -> Material {
    Material {
        base_color_factor: [0.7, 0.5, 0.3, 1.0],
        metallic_factor: 0.0,
        roughness_factor: 0.5,
        ..Default::default()
    }
}

/// `count` lit cubes in layers in front of a camera at the origin looking north (+Y): with many,
/// they overlap heavily and cover the whole view.
fn scene_with(count: usize) -> Scene {
    let placements = (0..count)
        .map(|i| {
            let (col, row, layer) = (i % 16, (i / 16) % 12, i / (16 * 12));
            let p = DVec3::new((col as f64 - 7.5) * 0.6, 6.0 + layer as f64 * 0.7, (row as f64 - 5.5) * 0.6);
            Placement::at(0, p)
        })
        .collect();
    Scene { models: vec![cube(0.9, lit())], placements, environment: Environment::default() }
}

fn camera(width: u32, height: u32) -> View {
    View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, Fov::symmetric(70f32.to_radians(), width as f32 / height as f32))
}

/// Renders `frames` frames, waiting for the GPU (in the test, not the renderer) after each; returns
/// every frame's stats.
fn run_frames(
    r: &mut Renderer,
    gpu: &GpuScene,
    overlay: &Overlay,
    views: &[View],
    target: &RenderTarget,
    frames: usize,
) -> Vec<FrameStats> {
    let mut out = Vec::with_capacity(frames);
    for _ in 0..frames {
        out.push(r.render_with_overlay(gpu, overlay, views, target).expect("render"));
        r.device().poll(wgpu::PollType::wait_indefinitely()).expect("poll");
    }
    let errors = r.take_uncaptured_errors();
    assert!(errors.is_empty(), "wgpu errors: {errors:?}");
    out
}

/// Every measurement is plausible (0 < d < 5 s); with timestamps, measurements arrive after the
/// first frame; without, there are none.
fn check_measurements(stats: &[FrameStats], supported: bool, what: &str) -> Vec<Duration> {
    let times: Vec<Duration> = stats.iter().filter_map(|s| s.gpu_time).collect();
    if supported {
        // The first frame has nothing completed yet; every later one has (the test waited).
        assert!(
            stats.iter().skip(1).all(|s| s.gpu_time.is_some()),
            "{what}: gpu_time missing after the first frame: {:?}",
            stats.iter().map(|s| s.gpu_time).collect::<Vec<_>>()
        );
        for d in &times {
            assert!(*d > Duration::ZERO && *d < Duration::from_secs(5), "{what}: implausible GPU time {d:?}");
        }
    } else {
        assert!(times.is_empty(), "{what}: gpu_time without timestamp queries: {times:?}");
    }
    times
}

fn mean(d: &[Duration]) -> Duration {
    d.iter().sum::<Duration>() / d.len().max(1) as u32
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Measurements arrive (when timestamps are offered), are plausible, and a big frame measures more
/// GPU time than a tiny one.
#[test]
fn gpu_time_arrives_and_grows_with_the_workload() {
    let mut r = renderer();
    let offered = report_case(&r);
    assert_eq!(r.gpu_timing_supported(), offered, "gpu_timing_supported must follow the device's features");

    // Tiny: one cube, 32x32.
    let tiny_scene = r.upload(&scene_with(1)).expect("upload");
    let tiny_target = RenderTarget::new(&r, 32, 32, 1).expect("target");
    let tiny_views = [camera(32, 32)];
    // Big: 768 overlapping lit cubes, 640x480 (about 0.3 s a frame on lavapipe).
    let big_scene = r.upload(&scene_with(768)).expect("upload");
    let big_target = RenderTarget::new(&r, 640, 480, 1).expect("target");
    let big_views = [camera(640, 480)];
    let none = Overlay::default();

    // Warm-up (pipeline creation, first-use costs); its measurements are not used.
    run_frames(&mut r, &tiny_scene, &none, &tiny_views, &tiny_target, 2);
    run_frames(&mut r, &big_scene, &none, &big_views, &big_target, 2);

    // Each frame reports the previous frame's time (the test waits in between), so the first frame
    // after switching workloads reports the other workload: drop it.
    let tiny = run_frames(&mut r, &tiny_scene, &none, &tiny_views, &tiny_target, 10);
    let tiny_times = check_measurements(&tiny[1..], offered, "tiny");
    let big = run_frames(&mut r, &big_scene, &none, &big_views, &big_target, 10);
    let big_times = check_measurements(&big[1..], offered, "big");
    assert!(big[1].instances_drawn > 500, "big scene mostly culled: {:?}", big[1]);

    if !offered {
        assert!(!r.gpu_timing_supported());
        eprintln!("[gpu_timing] no timestamp queries: gpu_time stayed None for every frame, as it must");
        return;
    }
    let (tiny_mean, big_mean) = (mean(&tiny_times), mean(&big_times));
    eprintln!(
        "[gpu_timing] tiny (32x32, 1 cube): mean {tiny_mean:?} over {} frames {:?}",
        tiny_times.len(),
        tiny_times
    );
    eprintln!(
        "[gpu_timing] big (640x480, {} cubes drawn): mean {big_mean:?} over {} frames {:?}",
        big[1].instances_drawn,
        big_times.len(),
        big_times
    );
    assert!(tiny_times.len() >= 8 && big_times.len() >= 8);
    assert!(
        big_mean > tiny_mean * 2,
        "the big frame should take clearly longer on the GPU: big {big_mean:?}, tiny {tiny_mean:?}"
    );
}

/// Several passes per frame (one per view, with the overlay drawn in each), the multiview path where
/// the device has it, and back-to-back frames the test never waits for: no wgpu errors, and every
/// measurement is plausible.
#[test]
fn timestamps_span_every_pass_path_without_errors() {
    let (w, h) = (128, 96);
    let overlay = Overlay {
        markers: vec![OverlayMarker {
            position: DVec3::new(0.0, 6.0, 0.0),
            radius_m: 0.5,
            color: [1.0, 0.0, 0.0, 1.0],
        }],
        ..Default::default()
    };
    for policy in [MultiviewPolicy::Never, MultiviewPolicy::Always] {
        let mut r = renderer_with(RendererOptions { multiview: policy, ..Default::default() });
        let offered = report_case(&r);
        let gpu = r.upload(&scene_with(64)).expect("upload");
        let views = View::stereo_pair(&camera(w, h), 0.064);
        let target = RenderTarget::new(&r, w, h, 2).expect("target");
        let stats = run_frames(&mut r, &gpu, &overlay, &views, &target, 5);
        let what = format!("{policy:?}, multiview {}", stats[0].multiview);
        assert!(stats[0].overlay_primitives > 0, "{what}: overlay not drawn");
        check_measurements(&stats, offered, &what);

        // Back to back without waiting: all slots may be in flight; frames are then not measured,
        // never waited for, and nothing goes wrong.
        let mut seen = Vec::new();
        for _ in 0..12 {
            let s = r.render_with_overlay(&gpu, &overlay, &views, &target).expect("render");
            seen.extend(s.gpu_time);
        }
        r.device().poll(wgpu::PollType::wait_indefinitely()).expect("poll");
        let last = r.render(&gpu, &views, &target).expect("render");
        assert!(r.take_uncaptured_errors().is_empty(), "{what}: wgpu errors");
        seen.extend(last.gpu_time);
        for d in &seen {
            assert!(*d > Duration::ZERO && *d < Duration::from_secs(5), "{what}: implausible GPU time {d:?}");
        }
        assert_eq!(last.gpu_time.is_some(), offered, "{what}: after a wait a measurement must be known");
        eprintln!("[gpu_timing] {what}: {} measurements seen back to back, last {:?}", seen.len(), last.gpu_time);

        // Capture (which does wait, in its readback) still works with timestamps in the frame.
        let images = r.render_to_images(&gpu, &views, w, h).expect("render_to_images");
        assert_eq!(images.len(), 2);
        assert!(r.take_uncaptured_errors().is_empty(), "{what}: wgpu errors");
    }
}

/// A device made elsewhere without `TIMESTAMP_QUERY` (as an OpenXR session might hand in): nothing
/// is measured, and rendering works as before.
#[test]
fn device_without_timestamp_queries_measures_nothing() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .unwrap_or_else(|e| panic!("GPU timing tests need a Vulkan adapter (lavapipe is enough): {e}"));
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("no timestamps"),
        required_features: wgpu::Features::empty(),
        ..Default::default()
    }))
    .expect("device");
    assert!(!device.features().contains(wgpu::Features::TIMESTAMP_QUERY));
    let mut r = Renderer::from_device(adapter.get_info(), device, queue);
    assert!(!r.gpu_timing_supported());
    let gpu = r.upload(&scene_with(16)).expect("upload");
    let target = RenderTarget::new(&r, 64, 64, 1).expect("target");
    let stats = run_frames(&mut r, &gpu, &Overlay::default(), &[camera(64, 64)], &target, 5);
    assert!(stats.iter().all(|s| s.gpu_time.is_none()), "{stats:?}");
    assert!(stats.iter().all(|s| s.instances_drawn == 16), "{stats:?}");
}
