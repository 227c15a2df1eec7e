//! Rendering tests on a real Vulkan adapter (lavapipe in CI).
//!
//! Without an adapter these tests print a loud notice and pass, unless the `CI` environment variable
//! is set: then they fail, so CI cannot silently skip rendering.

use std::f32::consts::FRAC_PI_4;

use glam::{DMat4, DQuat, DVec3, Vec3};
use image::RgbaImage;
use sangam_render::gpu::{FrameStats, GpuScene, MultiviewPolicy, RenderError, RenderTarget, Renderer, RendererOptions};
use sangam_render::model::{
    Aabb, AlphaMode, Material, Mesh, MeshInstance, Model, Primitive, Sampler, Texture, TextureRef, TextureTransform,
};
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn renderer_with(options: RendererOptions) -> Option<Renderer> {
    match Renderer::new_headless_with(options) {
        Ok(r) => Some(r),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set and no GPU adapter is usable: {e}");
            }
            eprintln!("\n!!!!!!!!!! SKIPPING GPU TEST: {e} !!!!!!!!!!\n");
            None
        }
    }
}

fn renderer() -> Option<Renderer> {
    renderer_with(RendererOptions::default())
}

/// A primitive from quads given as four corners each (counter-clockwise seen from the front).
fn quads_primitive(quads: &[([Vec3; 4], Vec3)], material: Option<usize>) -> Primitive {
    let mut p = Primitive { material, ..Default::default() };
    let uvs = [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]];
    for (corners, normal) in quads {
        let base = p.positions.len() as u32;
        for (c, uv) in corners.iter().zip(uvs) {
            p.positions.push(c.to_array());
            p.normals.push(normal.to_array());
            p.uv0.push(uv);
        }
        p.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    p.bounds = Aabb::from_points(p.positions.iter().map(|a| Vec3::from(*a)));
    p
}

fn model_from(name: &str, primitive: Primitive, materials: Vec<Material>, textures: Vec<Texture>) -> Model {
    let mut m = Model {
        name: name.into(),
        meshes: vec![Mesh { name: None, primitives: vec![primitive] }],
        materials,
        textures,
        instances: vec![MeshInstance { mesh: 0, transform: glam::Mat4::IDENTITY }],
        ..Default::default()
    };
    m.compute_bounds();
    m
}

/// A cube of edge `size` centred at the origin.
fn cube(size: f32, material: Material) -> Model {
    let h = size * 0.5;
    let mut quads = Vec::new();
    for n in [Vec3::X, -Vec3::X, Vec3::Y, -Vec3::Y, Vec3::Z, -Vec3::Z] {
        let u = if n.z.abs() > 0.5 { Vec3::X * n.z.signum() } else { Vec3::Z.cross(n) };
        let v = n.cross(u);
        let c = n * h;
        quads.push(([c - u * h - v * h, c + u * h - v * h, c + u * h + v * h, c - u * h + v * h], n));
    }
    model_from("cube", quads_primitive(&quads, Some(0)), vec![material], vec![])
}

/// A square of edge `size` in the XZ plane facing -Y (toward a camera south of it), UV (0,0) top-left.
fn quad(size: f32, material: Material, textures: Vec<Texture>) -> Model {
    let h = size * 0.5;
    let corners = [Vec3::new(-h, 0.0, -h), Vec3::new(h, 0.0, -h), Vec3::new(h, 0.0, h), Vec3::new(-h, 0.0, h)];
    model_from("quad", quads_primitive(&[(corners, -Vec3::Y)], Some(0)), vec![material], textures)
}

fn unlit(rgba: [f32; 4]) -> Material {
    Material { base_color_factor: rgba, unlit: true, ..Default::default() }
}

/// A camera `distance` metres south of `target`, looking north.
fn camera(target: DVec3, distance: f64, width: u32, height: u32) -> View {
    View::look_at(
        target - DVec3::Y * distance,
        target,
        DVec3::Z,
        Fov::symmetric(60f32.to_radians(), width as f32 / height as f32),
    )
}

/// Pixel coordinates of a world point in a view.
fn project(view: &View, p: DVec3, width: u32, height: u32) -> (f64, f64) {
    let rel = view.view_from_relative_world(view.position).transform_point3(p - view.position);
    let clip = view.projection().as_dmat4() * rel.extend(1.0);
    let ndc = clip.truncate() / clip.w;
    ((ndc.x + 1.0) * 0.5 * width as f64, (1.0 - ndc.y) * 0.5 * height as f64)
}

fn render(r: &mut Renderer, scene: &Scene, views: &[View], w: u32, h: u32) -> (Vec<RgbaImage>, FrameStats) {
    let gpu = r.upload(scene).expect("upload");
    render_gpu(r, &gpu, views, w, h)
}

fn render_gpu(r: &mut Renderer, gpu: &GpuScene, views: &[View], w: u32, h: u32) -> (Vec<RgbaImage>, FrameStats) {
    let target = RenderTarget::new(r, w, h, views.len() as u32).expect("target");
    let stats = r.render(gpu, views, &target).expect("render");
    let images = r.render_to_images(gpu, views, w, h).expect("render_to_images");
    assert!(r.take_uncaptured_errors().is_empty());
    (images, stats)
}

fn px(img: &RgbaImage, x: u32, y: u32) -> [u8; 4] {
    img.get_pixel(x, y).0
}

fn is_red(p: [u8; 4]) -> bool {
    p[0] > 200 && p[1] < 40 && p[2] < 40
}

/// Pixels matching a predicate: bounding box (x0, y0, x1, y1) inclusive, centroid, count.
type Region = ((u32, u32, u32, u32), (f64, f64), usize);

/// The [`Region`] of pixels matching `pred`.
fn region(img: &RgbaImage, pred: impl Fn([u8; 4]) -> bool) -> Option<Region> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
    for (x, y, p) in img.enumerate_pixels() {
        if pred(p.0) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            sx += x as f64 + 0.5;
            sy += y as f64 + 0.5;
            n += 1;
        }
    }
    (n > 0).then(|| ((x0, y0, x1, y1), (sx / n as f64, sy / n as f64), n))
}

fn save_on_failure(name: &str, img: &RgbaImage) {
    let dir = std::env::temp_dir().join("sangam-gpu-tests");
    let _ = std::fs::create_dir_all(&dir);
    let _ = img.save(dir.join(format!("{name}.png")));
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// (a) A red unlit cube covers the expected pixels; its centre is red; the background is sky.
#[test]
fn unlit_cube_covers_expected_region() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (96, 64);
    let scene = Scene {
        models: vec![cube(1.0, unlit([1.0, 0.0, 0.0, 1.0]))],
        placements: vec![Placement::at(0, DVec3::ZERO)],
        environment: Environment::default(),
    };
    let view = camera(DVec3::ZERO, 3.0, w, h);
    let (images, stats) = render(&mut r, &scene, &[view], w, h);
    let img = &images[0];
    save_on_failure("unlit_cube", img);
    assert_eq!(stats.draw_calls, 1);
    assert_eq!(stats.instances_drawn, 1);
    let c = px(img, w / 2, h / 2);
    assert!(is_red(c), "centre pixel {c:?}");
    // The front face (2.5 m away, 1 m wide) spans these pixels.
    let (ax, ay) = project(&view, DVec3::new(-0.5, -0.5, 0.5), w, h);
    let (bx, by) = project(&view, DVec3::new(0.5, -0.5, -0.5), w, h);
    let ((x0, y0, x1, y1), _, _) = region(img, is_red).expect("red pixels");
    for (got, want) in [(x0 as f64, ax), (y0 as f64, ay), (x1 as f64 + 1.0, bx), (y1 as f64 + 1.0, by)] {
        assert!((got - want).abs() <= 1.5, "red box ({x0},{y0})-({x1},{y1}) vs expected ({ax},{ay})-({bx},{by})");
    }
    // Background: the sky gradient (bluish), not black, not red.
    for (x, y) in [(1, 1), (w - 2, 1)] {
        let p = px(img, x, y);
        assert!(i32::from(p[2]) > i32::from(p[0]) + 20 && p[2] > 120 && p[3] == 255, "sky pixel {p:?}");
    }
}

/// (b) The lit face toward the sun is brighter than a face turned away from it.
#[test]
fn lit_cube_face_toward_sun_is_brighter() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (128, 96);
    let material = Material {
        base_color_factor: [0.8, 0.8, 0.8, 1.0],
        metallic_factor: 0.0,
        roughness_factor: 0.7,
        ..Default::default()
    };
    let environment = Environment { sun_direction: Vec3::new(-1.0, 0.0, 0.25).normalize(), ..Environment::default() };
    let scene =
        Scene { models: vec![cube(1.0, material)], placements: vec![Placement::at(0, DVec3::ZERO)], environment };
    let view = View::look_at(DVec3::new(-2.0, -3.0, 1.2), DVec3::ZERO, DVec3::Z, Fov::symmetric(0.9, 4.0 / 3.0));
    let (images, _) = render(&mut r, &scene, &[view], w, h);
    let img = &images[0];
    save_on_failure("lit_cube", img);
    let lum = |p: DVec3| {
        let (x, y) = project(&view, p, w, h);
        let c = px(img, x as u32, y as u32);
        0.2126 * c[0] as f64 + 0.7152 * c[1] as f64 + 0.0722 * c[2] as f64
    };
    let sunny = lum(DVec3::new(-0.5, 0.0, 0.0)); // -X face, facing the sun
    let shaded = lum(DVec3::new(0.0, -0.5, 0.0)); // -Y face, perpendicular to the sun
    assert!(sunny > shaded + 40.0, "sunny face {sunny}, shaded face {shaded}");
    assert!(shaded > 10.0, "ambient keeps the shaded face visible: {shaded}");
}

/// (c) Linear 0.5 is written as sRGB 188, not 128.
#[test]
fn output_is_srgb_encoded() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    let scene = Scene {
        models: vec![quad(4.0, unlit([0.5, 0.5, 0.5, 1.0]), vec![])],
        placements: vec![Placement::at(0, DVec3::ZERO)],
        environment: Environment::default(),
    };
    let (images, _) = render(&mut r, &scene, &[camera(DVec3::ZERO, 2.0, w, h)], w, h);
    let c = px(&images[0], w / 2, h / 2);
    for ch in &c[..3] {
        assert!((*ch as i32 - 188).abs() <= 2, "expected ~188 (sRGB of 0.5), got {c:?}");
    }
}

/// (d) Alpha mask discards below the cutoff; alpha blend composes in either placement order.
#[test]
fn alpha_mask_and_blend() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    let view = camera(DVec3::ZERO, 2.0, w, h);
    // Mask: alpha 0.3 < cutoff 0.5 is discarded (sky shows), alpha 0.7 is drawn opaque.
    for (alpha, drawn) in [(0.3, false), (0.7, true)] {
        let m = Material { alpha_mode: AlphaMode::Mask { cutoff: 0.5 }, ..unlit([0.0, 1.0, 0.0, alpha]) };
        let scene = Scene {
            models: vec![quad(4.0, m, vec![])],
            placements: vec![Placement::at(0, DVec3::ZERO)],
            environment: Environment::default(),
        };
        let (images, _) = render(&mut r, &scene, &[view], w, h);
        let c = px(&images[0], w / 2, h / 2);
        if drawn {
            assert!(c[1] > 240 && c[0] < 10 && c[2] < 10 && c[3] == 255, "mask kept: {c:?}");
        } else {
            assert!(c[2] > c[1], "mask discarded, sky expected: {c:?}");
        }
    }
    // Blend: red at 50 % in front of blue, both blended, in both placement orders.
    let red = quad(2.0, Material { alpha_mode: AlphaMode::Blend, ..unlit([1.0, 0.0, 0.0, 0.5]) }, vec![]);
    let blue = quad(2.0, Material { alpha_mode: AlphaMode::Blend, ..unlit([0.0, 0.0, 1.0, 1.0]) }, vec![]);
    let front = Placement::at(0, DVec3::new(0.0, -0.5, 0.0));
    let back = Placement::at(1, DVec3::new(0.0, 0.5, 0.0));
    for placements in [vec![front, back], vec![back, front]] {
        let scene = Scene { models: vec![red.clone(), blue.clone()], placements, environment: Environment::default() };
        let (images, stats) = render(&mut r, &scene, &[view], w, h);
        let c = px(&images[0], w / 2, h / 2);
        assert!(
            (c[0] as i32 - 188).abs() <= 4 && c[1] < 10 && (c[2] as i32 - 188).abs() <= 4,
            "50% red over blue should be purple (188, 0, 188): {c:?}"
        );
        assert_eq!(stats.instances_drawn, 2);
    }
}

/// (e) 1000 placements of one model are one draw call and all visible; those behind are culled.
#[test]
fn instancing_and_culling() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (320, 200);
    let view = camera(DVec3::ZERO, 10.0, w, h);
    let mut placements = Vec::new();
    for row in 0..25 {
        for col in 0..40 {
            let p = DVec3::new((col as f64 - 19.5) * 0.4, 0.0, (row as f64 - 12.0) * 0.4);
            placements.push(Placement::at(0, p));
        }
    }
    let visible: Vec<DVec3> = placements.iter().map(|p| p.world_from_model.w_axis.truncate()).collect();
    // 500 more behind the camera.
    for i in 0..500 {
        placements.push(Placement::at(0, DVec3::new((i % 50) as f64, -20.0 - (i / 50) as f64, 0.0)));
    }
    let scene =
        Scene { models: vec![cube(0.2, unlit([1.0, 0.0, 0.0, 1.0]))], placements, environment: Environment::default() };
    let (images, stats) = render(&mut r, &scene, &[view], w, h);
    let img = &images[0];
    save_on_failure("instancing", img);
    assert_eq!(stats.draw_calls, 1, "{stats:?}");
    assert_eq!(stats.instances_drawn, 1000, "{stats:?}");
    assert_eq!(stats.instances_culled, 500, "{stats:?}");
    assert_eq!(stats.triangles, 12 * 1000);
    let mut missing = Vec::new();
    for p in &visible {
        let (x, y) = project(&view, *p - DVec3::Y * 0.1, w, h);
        if !is_red(px(img, x as u32, y as u32)) {
            missing.push(*p);
        }
    }
    assert!(missing.is_empty(), "{} of 1000 instances not visible, e.g. {:?}", missing.len(), missing.first());
}

fn lit_test_scene(offset: DVec3) -> (Scene, View) {
    let material = Material {
        base_color_factor: [0.7, 0.5, 0.3, 1.0],
        metallic_factor: 0.0,
        roughness_factor: 0.5,
        ..Default::default()
    };
    let mut placements = Vec::new();
    for i in 0..5 {
        let rot = DQuat::from_rotation_z(i as f64 * 0.4);
        let pos = offset + DVec3::new(i as f64 * 1.3 - 2.6, 4.0 + i as f64 * 0.7, 0.2 * i as f64);
        placements.push(Placement { model: 0, world_from_model: DMat4::from_rotation_translation(rot, pos) });
    }
    let view = View::look_at(
        offset + DVec3::new(0.3, -2.0, 1.5),
        offset + DVec3::new(0.0, 5.0, 0.0),
        DVec3::Z,
        Fov::symmetric(1.0, 1.5),
    );
    (Scene { models: vec![cube(1.0, material)], placements, environment: Environment::default() }, view)
}

/// (f) The same scene 3,000 km east and 2,000 km north, camera moved too, renders the same image.
#[test]
fn camera_relative_rendering_has_no_jitter_far_from_origin() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (120, 80);
    let (scene_a, view_a) = lit_test_scene(DVec3::ZERO);
    let (scene_b, view_b) = lit_test_scene(DVec3::new(3_000_000.0, 2_000_000.0, 0.0));
    let (a, _) = render(&mut r, &scene_a, &[view_a], w, h);
    let (b, _) = render(&mut r, &scene_b, &[view_b], w, h);
    save_on_failure("relative_a", &a[0]);
    save_on_failure("relative_b", &b[0]);
    let max_diff = a[0]
        .pixels()
        .zip(b[0].pixels())
        .flat_map(|(p, q)| (0..4).map(move |i| (p.0[i] as i32 - q.0[i] as i32).abs()))
        .max()
        .unwrap_or(0);
    let lit = region(&a[0], |p| i32::from(p[0]) > i32::from(p[2]) + 30).map_or(0, |r| r.2);
    assert!(lit > 300, "the cubes should cover a good part of the image ({lit} px)");
    assert!(max_diff <= 3, "images differ by up to {max_diff}/255");
}

fn stereo_scene() -> Scene {
    Scene {
        models: vec![cube(0.1, unlit([1.0, 0.0, 0.0, 1.0])), cube(6.0, unlit([0.0, 0.0, 1.0, 1.0]))],
        placements: vec![Placement::at(0, DVec3::new(-0.1, 0.5, 0.0)), Placement::at(1, DVec3::new(20.0, 60.0, 0.0))],
        environment: Environment { draw_sky: false, ..Environment::default() },
    }
}

fn check_stereo(r: &mut Renderer, expect_multiview: bool) {
    let (w, h) = (128, 96);
    let fov = Fov { angle_left: -FRAC_PI_4, angle_right: FRAC_PI_4, angle_up: 0.6, angle_down: -0.6 };
    let center = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, fov);
    let ipd = 0.064;
    let views = View::stereo_pair(&center, ipd);
    let gpu = r.upload(&stereo_scene()).expect("upload");
    let (images, stats) = render_gpu(r, &gpu, &views, w, h);
    assert_eq!(stats.multiview, expect_multiview);
    let tag = if expect_multiview { "multiview" } else { "passes" };
    save_on_failure(&format!("stereo_{tag}_left"), &images[0]);
    save_on_failure(&format!("stereo_{tag}_right"), &images[1]);
    let red = |p: [u8; 4]| p[0] > 150 && p[2] < 60 && p[3] > 200;
    let blue = |p: [u8; 4]| p[2] > 150 && p[0] < 60 && p[3] > 200;
    let (_, near_l, _) = region(&images[0], red).expect("near object in left eye");
    let (_, near_r, _) = region(&images[1], red).expect("near object in right eye");
    let (_, far_l, _) = region(&images[0], blue).expect("far object in left eye");
    let (_, far_r, _) = region(&images[1], blue).expect("far object in right eye");
    // Expected disparity of the near cube's front face (0.45 m away): ipd * focal / depth.
    let focal_px = w as f64 / 2.0 / f64::from(FRAC_PI_4).tan();
    let expected = ipd * focal_px / 0.45;
    let disparity = near_l.0 - near_r.0;
    assert!(
        (disparity - expected).abs() < expected * 0.3,
        "{tag}: near object shifted {disparity:.2} px, expected ~{expected:.2}"
    );
    assert!((near_l.1 - near_r.1).abs() < 0.5, "{tag}: no vertical shift");
    assert!((far_l.0 - far_r.0).abs() < 0.5, "{tag}: far object shifted {} px", far_l.0 - far_r.0);
    // Transparent clear when the sky is off (AR).
    assert_eq!(px(&images[1], 0, 0)[3], 0, "{tag}: transparent background in layer 1");
}

/// (g) Stereo: a near object shifts between the eyes, a far one does not — multiview and per-view passes.
#[test]
fn stereo_multiview_and_per_view_passes() {
    let Some(mut r) = renderer_with(RendererOptions { multiview: MultiviewPolicy::Always, ..Default::default() })
    else {
        return;
    };
    if r.uses_multiview(2) {
        check_stereo(&mut r, true);
    } else {
        eprintln!("!!!!!!!!!! adapter {} lacks MULTIVIEW: multiview assertions skipped", r.adapter_info().name);
    }
    let Some(mut r) = renderer_with(RendererOptions { multiview: MultiviewPolicy::Never, ..Default::default() }) else {
        return;
    };
    check_stereo(&mut r, false);
    // And without MSAA: per-view passes render straight into each layer; multiview into the array.
    let Some(mut r) = renderer_with(RendererOptions { msaa_samples: 1, multiview: MultiviewPolicy::Never }) else {
        return;
    };
    check_stereo(&mut r, false);
    let Some(mut r) = renderer_with(RendererOptions { msaa_samples: 1, multiview: MultiviewPolicy::Always }) else {
        return;
    };
    let multiview = r.uses_multiview(2);
    check_stereo(&mut r, multiview);
}

fn checker_texture() -> Texture {
    let red = [255, 0, 0, 255];
    let green = [0, 255, 0, 255];
    Texture {
        name: Some("checker".into()),
        width: 2,
        height: 2,
        rgba8: [red, green, green, red].concat(),
        sampler: Sampler { mag_nearest: true, min_nearest: true, ..Default::default() },
    }
}

/// Colour transitions along row `y` between columns `x0..x1` (red vs green).
fn transitions(img: &RgbaImage, y: u32, x0: u32, x1: u32) -> usize {
    let classes: Vec<bool> = (x0..x1)
        .filter_map(|x| {
            let p = px(img, x, y).map(i32::from);
            if p[0] > p[1] + 100 {
                Some(true)
            } else if p[1] > p[0] + 100 {
                Some(false)
            } else {
                None
            }
        })
        .collect();
    classes.windows(2).filter(|w| w[0] != w[1]).count()
}

/// (h) A checker-textured quad shows both colours; texture-transform scale 2 doubles the frequency.
#[test]
fn checker_texture_and_texture_transform() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (128, 128);
    let view = camera(DVec3::ZERO, 2.0, w, h);
    let (qx0, qy0) = project(&view, DVec3::new(-1.0, 0.0, 1.0), w, h);
    let (qx1, qy1) = project(&view, DVec3::new(1.0, 0.0, -1.0), w, h);
    let row = (qy0 + (qy1 - qy0) * 0.3) as u32;
    let (x0, x1) = (qx0 as u32 + 2, qx1 as u32 - 2);
    let mut counts = Vec::new();
    for scale in [1.0, 2.0] {
        let texture_ref = TextureRef {
            texture: 0,
            tex_coord: 0,
            transform: TextureTransform { scale: [scale, scale], ..Default::default() },
        };
        let m = Material { base_color_texture: Some(texture_ref), ..unlit([1.0; 4]) };
        let scene = Scene {
            models: vec![quad(2.0, m, vec![checker_texture()])],
            placements: vec![Placement::at(0, DVec3::ZERO)],
            environment: Environment::default(),
        };
        let (images, _) = render(&mut r, &scene, &[view], w, h);
        save_on_failure(&format!("checker_{scale}"), &images[0]);
        let img = &images[0];
        let reds = region(img, |p| p[0] > 200 && p[1] < 50).map_or(0, |r| r.2);
        let greens = region(img, |p| p[1] > 200 && p[0] < 50).map_or(0, |r| r.2);
        assert!(reds > 500 && greens > 500, "both checker colours visible: {reds} red, {greens} green");
        counts.push(transitions(img, row, x0, x1));
    }
    assert_eq!(counts, vec![1, 3], "colour transitions along a row at scale 1 and 2");
}

/// (i) An object on the forward axis of an asymmetric frustum appears off-centre, where the
/// frustum's tangents put it.
#[test]
fn asymmetric_fov_puts_forward_axis_off_centre() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (160, 100);
    let fov = Fov { angle_left: -0.2, angle_right: 0.8, angle_up: 0.3, angle_down: -0.5 };
    let view = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, fov);
    let scene = Scene {
        models: vec![cube(0.2, unlit([1.0, 0.0, 0.0, 1.0]))],
        placements: vec![Placement::at(0, DVec3::new(0.0, 5.0, 0.0))],
        environment: Environment::default(),
    };
    let (images, _) = render(&mut r, &scene, &[view], w, h);
    save_on_failure("asymmetric", &images[0]);
    let (_, (cx, cy), _) = region(&images[0], is_red).expect("object visible");
    // Forward maps to the point where tan = 0 sits between the left and right (down and up) tangents.
    let (l, rt, u, d) = (-0.2f64.tan(), 0.8f64.tan(), 0.3f64.tan(), -0.5f64.tan());
    let ex = (0.0 - l) / (rt - l) * w as f64;
    let ey = (u - 0.0) / (u - d) * h as f64;
    assert!((cx - ex).abs() < 1.0 && (cy - ey).abs() < 1.0, "centroid ({cx:.1}, {cy:.1}) expected ({ex:.1}, {ey:.1})");
    assert!(cx < w as f64 * 0.3, "forward should be well left of centre");
}

/// Bad content never panics: empty scene, model without primitives, zero-size texture, bad indices.
#[test]
fn bad_content_is_tolerated() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    let view = camera(DVec3::ZERO, 2.0, w, h);
    let (images, stats) = render(&mut r, &Scene::default(), &[view], w, h);
    assert_eq!(stats.draw_calls, 0);
    assert!(px(&images[0], 16, 16)[2] > 100, "empty scene shows the sky");

    let broken_texture =
        Texture { name: Some("zero.png".into()), width: 0, height: 0, rgba8: vec![], sampler: Sampler::default() };
    let tref = TextureRef { texture: 0, tex_coord: 0, transform: Default::default() };
    let m = Material { base_color_texture: Some(tref), ..unlit([0.0, 1.0, 0.0, 1.0]) };
    let mut bad_prim = quads_primitive(&[([Vec3::ZERO, Vec3::X, Vec3::Z, Vec3::ONE], -Vec3::Y)], Some(7));
    bad_prim.indices.push(99);
    bad_prim.indices.extend([0, 0]);
    let scene = Scene {
        models: vec![
            Model { name: "empty".into(), ..Default::default() },
            quad(2.0, m, vec![broken_texture]),
            model_from("bad", bad_prim, vec![], vec![]),
        ],
        placements: vec![
            Placement::at(0, DVec3::ZERO),
            Placement::at(1, DVec3::ZERO),
            Placement::at(2, DVec3::ZERO),
            Placement::at(42, DVec3::ZERO),
        ],
        environment: Environment::default(),
    };
    let gpu = r.upload(&scene).expect("upload tolerates bad content");
    assert!(gpu.warnings().iter().any(|w| w.contains("texture #0")), "{:?}", gpu.warnings());
    assert!(gpu.warnings().iter().any(|w| w.contains("out of range")), "{:?}", gpu.warnings());
    let (images, stats) = render_gpu(&mut r, &gpu, &[view], w, h);
    assert_eq!(stats.instances_drawn, 1);
    // The zero-size texture falls back to white: the quad shows its green factor.
    let c = px(&images[0], 16, 16);
    assert!(c[1] > 240 && c[0] < 10, "{c:?}");

    // A view count that does not match the target is an error, not a panic.
    let target = RenderTarget::new(&r, w, h, 2).expect("target");
    assert!(matches!(r.render(&gpu, &[view], &target), Err(RenderError::InvalidRequest(_))));
    let bad_view = View { fov: Fov { angle_left: 1.0, ..view.fov }, ..view };
    assert!(r.render_to_images(&gpu, &[bad_view], w, h).is_err());
}

/// A 1x1 tangent-space normal map tilted 45° toward tangent-space +X (`axis == 0`) or +Y (`axis == 1`),
/// or the opposite way when `sign < 0`.
fn tilted_normal_map(axis: usize, sign: f32) -> Texture {
    let mut n = [0.0f32, 0.0, std::f32::consts::FRAC_1_SQRT_2];
    n[axis] = sign * std::f32::consts::FRAC_1_SQRT_2;
    let enc = |v: f32| ((v * 0.5 + 0.5) * 255.0).round() as u8;
    Texture {
        name: Some("tilted normal".into()),
        width: 1,
        height: 1,
        rgba8: vec![enc(n[0]), enc(n[1]), enc(n[2]), 255],
        sampler: Sampler::default(),
    }
}

/// Normal maps bend the lighting the glTF way (+X along +u, +Y toward decreasing v), both with
/// vertex tangents and with the derivative-based frame when tangents are absent.
#[test]
fn normal_maps_with_and_without_tangents() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    let view = camera(DVec3::ZERO, 2.0, w, h);
    for with_tangents in [true, false] {
        // axis 0: tangent +X is world +X for our quad; axis 1: tangent +Y is world +Z (UV v grows downward).
        for (axis, sun) in [(0, Vec3::new(1.0, -0.3, 0.0)), (1, Vec3::new(0.0, -0.3, 1.0))] {
            let mut lum = Vec::new();
            for sign in [1.0, -1.0] {
                let nref = TextureRef { texture: 0, tex_coord: 0, transform: Default::default() };
                let m = Material {
                    base_color_factor: [0.8, 0.8, 0.8, 1.0],
                    metallic_factor: 0.0,
                    roughness_factor: 1.0,
                    normal_texture: Some(nref),
                    ..Default::default()
                };
                let mut model = quad(4.0, m, vec![tilted_normal_map(axis, sign)]);
                if with_tangents {
                    let prim = &mut model.meshes[0].primitives[0];
                    prim.tangents = Some(vec![[1.0, 0.0, 0.0, 1.0]; prim.positions.len()]);
                }
                let environment = Environment { sun_direction: sun.normalize(), ..Environment::default() };
                let scene = Scene { models: vec![model], placements: vec![Placement::at(0, DVec3::ZERO)], environment };
                let (images, _) = render(&mut r, &scene, &[view], w, h);
                let c = px(&images[0], w / 2, h / 2);
                lum.push(0.2126 * c[0] as f64 + 0.7152 * c[1] as f64 + 0.0722 * c[2] as f64);
            }
            assert!(
                lum[0] > lum[1] + 40.0,
                "tangents {with_tangents}, axis {axis}: tilt toward the sun {} should be brighter than away {}",
                lum[0],
                lum[1]
            );
        }
    }
}

/// Single-sided geometry seen from behind is culled; double-sided geometry is drawn and lit with
/// the flipped normal.
#[test]
fn double_sided_and_back_face_culling() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    // Camera north of the quad looking south: it sees the back face.
    let view = View::look_at(DVec3::new(0.0, 2.0, 0.0), DVec3::ZERO, DVec3::Z, Fov::symmetric(1.0, 1.0));
    let environment = Environment { sun_direction: Vec3::new(0.0, 1.0, 0.3).normalize(), ..Environment::default() };
    let mut seen = Vec::new();
    for double_sided in [false, true] {
        let m = Material {
            base_color_factor: [0.9, 0.1, 0.1, 1.0],
            metallic_factor: 0.0,
            roughness_factor: 0.8,
            double_sided,
            ..Default::default()
        };
        let scene =
            Scene { models: vec![quad(4.0, m, vec![])], placements: vec![Placement::at(0, DVec3::ZERO)], environment };
        let (images, _) = render(&mut r, &scene, &[view], w, h);
        seen.push(px(&images[0], w / 2, h / 2));
    }
    assert!(seen[0][2] > seen[0][0], "single-sided back face is culled (sky shows): {:?}", seen[0]);
    // Lit from the viewer's side through the flipped normal: clearly red and bright.
    assert!(seen[1][0] > 150 && seen[1][0] > seen[1][2] + 80, "double-sided back face is drawn and lit: {:?}", seen[1]);
}

/// Vertex colours multiply the base colour.
#[test]
fn vertex_colors_multiply_base_color() {
    let Some(mut r) = renderer() else { return };
    let (w, h) = (32, 32);
    let mut model = quad(4.0, unlit([1.0, 0.5, 1.0, 1.0]), vec![]);
    let prim = &mut model.meshes[0].primitives[0];
    prim.colors = Some(vec![[0.5, 1.0, 0.0, 1.0]; prim.positions.len()]);
    let scene = Scene {
        models: vec![model],
        placements: vec![Placement::at(0, DVec3::ZERO)],
        environment: Environment::default(),
    };
    let (images, _) = render(&mut r, &scene, &[camera(DVec3::ZERO, 2.0, w, h)], w, h);
    let c = px(&images[0], w / 2, h / 2);
    assert!((c[0] as i32 - 188).abs() <= 2 && (c[1] as i32 - 188).abs() <= 2 && c[2] < 3, "{c:?}");
}

/// Stereo with geometry that crosses the near plane (a ground plane under the eyes) and the sky:
/// both eyes must show the sky above the horizon and the ground below it. On drivers whose clipper
/// loses the view index (Mesa llvmpipe), the default policy must avoid multiview.
#[test]
fn stereo_ground_and_sky_appear_in_both_eyes() {
    let Some(mut r) = renderer() else { return };
    let ground = sangam_render::extrude::ground_model("ground", glam::DVec2::ZERO, 5_000.0, [0.1, 0.5, 0.1]);
    let scene = Scene {
        models: vec![ground],
        placements: vec![Placement { model: 0, world_from_model: glam::DMat4::IDENTITY }],
        environment: Environment::default(),
    };
    let gpu = r.upload(&scene).expect("upload");
    let (w, h) = (96u32, 64u32);
    let eye = glam::DVec3::new(0.0, 0.0, 1.7);
    let center = View::look_at(eye, eye + glam::DVec3::Y, glam::DVec3::Z, Fov::symmetric(1.2, w as f32 / h as f32));
    let views = View::stereo_pair(&center, 0.064);
    let images = r.render_to_images(&gpu, &views, w, h).expect("render");
    for (i, img) in images.iter().enumerate() {
        let sky = px(img, w / 2, 2);
        let ground = px(img, w / 2, h - 2);
        assert!(
            sky[2] > 150 && sky[2] > sky[1],
            "eye {i}: no sky at the top ({sky:?}), multiview={}",
            r.uses_multiview(2)
        );
        assert!(
            ground[1] > ground[0] + 20 && ground[1] > ground[2] + 20,
            "eye {i}: no green ground at the bottom ({ground:?})"
        );
    }
    let (a, b) = (px(&images[0], w / 2, h - 2), px(&images[1], w / 2, h - 2));
    assert!((0..3).all(|c| a[c].abs_diff(b[c]) < 8), "the eyes see different ground colours: {a:?} vs {b:?}");
}

/// A split view: two regions side by side, each drawn from its own camera, the second keeping what
/// the first drew; with and without multisampling. A region outside the target is refused.
#[test]
fn two_regions_side_by_side_each_keep_their_own_picture() {
    for msaa_samples in [1, 4] {
        let Some(mut r) = renderer_with(RendererOptions { msaa_samples, ..Default::default() }) else { return };
        let (w, h) = (128, 64);
        let scene = Scene {
            models: vec![cube(1.0, unlit([1.0, 0.0, 0.0, 1.0]))],
            placements: vec![Placement::at(0, DVec3::ZERO)],
            environment: Environment::default(),
        };
        let gpu = r.upload(&scene).expect("upload");
        let target = RenderTarget::new(&r, w, h, 1).expect("target");
        let (left, right) =
            (sangam_render::gpu::Region::half(&target, 0), sangam_render::gpu::Region::half(&target, 1));
        assert_eq!((left.x, left.width, right.x, right.width), (0, 64, 64, 64));
        let facing = camera(DVec3::ZERO, 3.0, left.width, left.height);
        let away = View::look_at(DVec3::new(0.0, -3.0, 0.0), DVec3::new(0.0, -10.0, 0.0), DVec3::Z, facing.fov);
        let overlay = sangam_render::overlay::Overlay::default();
        r.render_region_with_overlay(&gpu, &overlay, &[facing], &target, left).expect("left");
        r.render_region_with_overlay(&gpu, &overlay, &[away], &target, right).expect("right");
        let img = r.read_back(&target).expect("read back").remove(0);
        save_on_failure(&format!("split_{msaa_samples}x"), &img);
        assert!(r.take_uncaptured_errors().is_empty());
        assert!(is_red(px(&img, w / 4, h / 2)), "the cube in the left half's centre: {:?}", px(&img, w / 4, h / 2));
        let sky = px(&img, 3 * w / 4, h / 2);
        assert!(!is_red(sky) && sky[2] > sky[0], "the right half looks away, at the sky: {sky:?}");
        // The cube is drawn in the left half's own projection (half the width, same height).
        let ((x0, _, x1, _), _, _) = region(&img, is_red).expect("red pixels");
        let (ax, _) = project(&facing, DVec3::new(-0.5, -0.5, 0.5), left.width, left.height);
        let (bx, _) = project(&facing, DVec3::new(0.5, -0.5, 0.5), left.width, left.height);
        assert!((x0 as f64 - ax).abs() <= 1.5 && (x1 as f64 + 1.0 - bx).abs() <= 1.5, "{x0}..{x1} vs {ax}..{bx}");
        // The same frames the other way round: the right half draws the cube, the left keeps the sky.
        r.render_region_with_overlay(&gpu, &overlay, &[away], &target, left).expect("left");
        r.render_region_with_overlay(&gpu, &overlay, &[facing], &target, right).expect("right");
        let img = r.read_back(&target).expect("read back").remove(0);
        assert!(is_red(px(&img, 3 * w / 4, h / 2)) && !is_red(px(&img, w / 4, h / 2)));
        let outside = sangam_render::gpu::Region { x: 100, width: 64, ..right };
        let e = r.render_region_with_overlay(&gpu, &overlay, &[facing], &target, outside).unwrap_err();
        assert!(e.to_string().contains("not inside the 128x64 target"), "{e}");
    }
}
