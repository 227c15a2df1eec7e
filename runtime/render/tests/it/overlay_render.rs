//! Overlay pass tests on a real Vulkan adapter (lavapipe in CI).
//!
//! These tests FAIL (never skip) when no adapter is usable. The golden image lives in
//! `tests/golden/`; regenerate it after a deliberate change with `SANGAM_BLESS=1` and review the PNG.

use std::path::{Path, PathBuf};

use glam::{DVec3, Vec3};
use image::RgbaImage;
use sangam_render::gpu::{FrameStats, GpuScene, MultiviewPolicy, RenderTarget, Renderer, RendererOptions};
use sangam_render::model::{Aabb, Material, Mesh, MeshInstance, Model, Primitive};
use sangam_render::overlay::{
    HeatmapPalette, HudCorner, HudText, Overlay, OverlayHeatmap, OverlayLabel, OverlayLine, OverlayMarker,
    OverlayVolume, VolumeShape,
};
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};

const W: u32 = 256;
const H: u32 = 192;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn renderer_with(options: RendererOptions) -> Renderer {
    Renderer::new_headless_with(options)
        .unwrap_or_else(|e| panic!("overlay GPU tests need a Vulkan adapter (lavapipe is enough): {e}"))
}

fn renderer() -> Renderer {
    renderer_with(RendererOptions::default())
}

fn unlit(rgba: [f32; 4]) -> Material {
    Material { base_color_factor: rgba, unlit: true, ..Default::default() }
}

/// A model from quads (four corners each, counter-clockwise from the front, and the normal).
fn quads_model(quads: &[([Vec3; 4], Vec3)], material: Material) -> Model {
    let mut p = Primitive { material: Some(0), ..Default::default() };
    for (corners, normal) in quads {
        let base = p.positions.len() as u32;
        for c in corners {
            p.positions.push(c.to_array());
            p.normals.push(normal.to_array());
            p.uv0.push([0.0, 0.0]);
        }
        p.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    p.bounds = Aabb::from_points(p.positions.iter().map(|a| Vec3::from(*a)));
    let mut m = Model {
        name: "quads".into(),
        meshes: vec![Mesh { name: None, primitives: vec![p] }],
        materials: vec![material],
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
    quads_model(&quads, material)
}

/// A horizontal square of edge `size` at z = 0 facing up.
fn ground(size: f32, material: Material) -> Model {
    let h = size * 0.5;
    let c = [Vec3::new(-h, -h, 0.0), Vec3::new(h, -h, 0.0), Vec3::new(h, h, 0.0), Vec3::new(-h, h, 0.0)];
    quads_model(&[(c, Vec3::Z)], material)
}

/// A camera `distance` metres south of `target`, looking north.
fn camera(target: DVec3, distance: f64) -> View {
    View::look_at(
        target - DVec3::Y * distance,
        target,
        DVec3::Z,
        Fov::symmetric(60f32.to_radians(), W as f32 / H as f32),
    )
}

/// A camera `height` metres above `target` looking down, north up in the image.
fn top_down(target: DVec3, height: f64) -> View {
    View::look_at(target + DVec3::Z * height, target, DVec3::Y, Fov::symmetric(60f32.to_radians(), W as f32 / H as f32))
}

/// Pixel coordinates of a world point in a view.
fn project(view: &View, p: DVec3) -> (f64, f64) {
    let rel = view.view_from_relative_world(view.position).transform_point3(p - view.position);
    let clip = view.projection().as_dmat4() * rel.extend(1.0);
    let ndc = clip.truncate() / clip.w;
    ((ndc.x + 1.0) * 0.5 * W as f64, (1.0 - ndc.y) * 0.5 * H as f64)
}

fn upload(r: &Renderer, scene: &Scene) -> GpuScene {
    let gpu = r.upload(scene).expect("upload");
    assert!(gpu.warnings().is_empty(), "upload warnings: {:?}", gpu.warnings());
    gpu
}

fn render(r: &mut Renderer, gpu: &GpuScene, overlay: &Overlay, views: &[View]) -> (Vec<RgbaImage>, FrameStats) {
    let target = RenderTarget::new(r, W, H, views.len() as u32).expect("target");
    let stats = r.render_with_overlay(gpu, overlay, views, &target).expect("render_with_overlay");
    let images = r.render_to_images_with_overlay(gpu, overlay, views, W, H).expect("render_to_images_with_overlay");
    let errors = r.take_uncaptured_errors();
    assert!(errors.is_empty(), "wgpu errors: {errors:?}");
    (images, stats)
}

fn px(img: &RgbaImage, p: (f64, f64)) -> [u8; 4] {
    img.get_pixel((p.0 as u32).min(W - 1), (p.1 as u32).min(H - 1)).0
}

fn near(a: [u8; 4], b: [u8; 3], tol: u8) -> bool {
    (0..3).all(|c| a[c].abs_diff(b[c]) <= tol)
}

/// Yellow text pixels (antialiased small text over a dark backing box is a muted yellow), never sky.
fn is_yellow(p: [u8; 4]) -> bool {
    p[0] > 140 && p[1] > 140 && u16::from(p[2]) + 60 < u16::from(p[0])
}

/// Bounding box (x0, y0, x1, y1) and count of pixels matching `pred`.
fn region(img: &RgbaImage, pred: impl Fn([u8; 4]) -> bool) -> Option<((u32, u32, u32, u32), usize)> {
    let (mut x0, mut y0, mut x1, mut y1, mut n) = (u32::MAX, u32::MAX, 0, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if pred(p.0) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            n += 1;
        }
    }
    (n > 0).then_some(((x0, y0, x1, y1), n))
}

fn save(name: &str, img: &RgbaImage) {
    let dir = std::env::temp_dir().join("sangam-overlay-tests");
    let _ = std::fs::create_dir_all(&dir);
    let _ = img.save(dir.join(format!("{name}.png")));
}

fn white(text: &str, position: DVec3, height_m: f32, color: [f32; 4]) -> OverlayLabel {
    OverlayLabel { position, text: text.into(), height_m, color, screen_px: None }
}

/// Distance from `p` to the segment `a`-`b` (pixels).
fn seg_dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
}

// Golden images: the same mechanism as the workspace's end-to-end tests (`tests/src/lib.rs`).

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"))
}

/// Compares with `tests/golden/<name>.png` (mean absolute RGB difference and fraction of clearly
/// different pixels). `SANGAM_BLESS=1`, or a missing golden image outside CI, writes it instead.
fn check_golden(name: &str, image: &RgbaImage, max_mean_abs: f64, max_changed_fraction: f64) -> Result<(), String> {
    let path = golden_path(name);
    let bless = std::env::var_os("SANGAM_BLESS").is_some_and(|v| v == "1");
    if bless || (!path.exists() && std::env::var_os("CI").is_none()) {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| e.to_string())?;
        image.save(&path).map_err(|e| format!("could not write {}: {e}", path.display()))?;
        eprintln!("blessed golden image {}", path.display());
        return Ok(());
    }
    let golden = image::open(&path)
        .map_err(|e| format!("golden image {} unreadable ({e}); run with SANGAM_BLESS=1", path.display()))?
        .to_rgba8();
    if golden.dimensions() != image.dimensions() {
        return Err(format!("{name}: size {:?} differs from the golden {:?}", image.dimensions(), golden.dimensions()));
    }
    let (mut sum, mut changed) = (0u64, 0u64);
    for (a, b) in golden.pixels().zip(image.pixels()) {
        let worst = (0..3).map(|c| a.0[c].abs_diff(b.0[c])).max().unwrap_or(0);
        sum += (0..3).map(|c| u64::from(a.0[c].abs_diff(b.0[c]))).sum::<u64>();
        changed += u64::from(worst > 48);
    }
    let pixels = f64::from(W * H);
    let (mean, frac) = (sum as f64 / (pixels * 3.0), changed as f64 / pixels);
    if mean > max_mean_abs || frac > max_changed_fraction {
        let fail = Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden-failures").join(format!("{name}.png"));
        let _ = std::fs::create_dir_all(fail.parent().unwrap_or(Path::new(".")));
        let _ = image.save(&fail);
        return Err(format!(
            "{name} differs from {}: mean abs {mean:.2} (max {max_mean_abs}), {:.2}% changed (max {:.2}%); actual in {}",
            path.display(),
            frac * 100.0,
            max_changed_fraction * 100.0,
            fail.display()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// (1) A marker and a line appear at their projected pixels with their colours; nothing else changes.
#[test]
fn marker_and_line_appear_where_projected() {
    let mut r = renderer();
    let gpu = upload(&r, &Scene::default());
    let view = camera(DVec3::ZERO, 10.0);
    let marker = DVec3::new(-2.0, 0.0, 0.5);
    let (la, lb) = (DVec3::new(0.5, 0.0, -1.5), DVec3::new(3.5, 0.0, 1.0));
    let overlay = Overlay {
        markers: vec![OverlayMarker { position: marker, radius_m: 0.5, color: [1.0, 0.0, 0.0, 1.0] }],
        lines: vec![OverlayLine { points: vec![la, lb], color: [0.0, 0.0, 1.0, 1.0], width_m: 0.3 }],
        ..Default::default()
    };
    let (images, stats) = render(&mut r, &gpu, &overlay, &[view]);
    let (base, base_stats) = render(&mut r, &gpu, &Overlay::default(), &[view]);
    let (img, base) = (&images[0], &base[0]);
    save("marker_line", img);
    assert_eq!(stats.overlay_primitives, 2);
    assert_eq!(base_stats.overlay_primitives, 0);

    let m = project(&view, marker);
    assert!(near(px(img, m), [255, 0, 0], 3), "marker centre {:?} at {m:?}", px(img, m));
    let (pa, pb) = (project(&view, la), project(&view, lb));
    let mid = ((pa.0 + pb.0) * 0.5, (pa.1 + pb.1) * 0.5);
    assert!(near(px(img, mid), [0, 0, 255], 3), "line middle {:?} at {mid:?}", px(img, mid));
    // Marker radius in pixels: 0.5 m at 10 m.
    let focal = H as f64 * 0.5 / 30f64.to_radians().tan();
    let radius_px = 0.5 * focal / 10.0;
    let half_width_px = 0.15 * focal / 10.0;
    assert!(near(px(img, (m.0 + radius_px * 0.6, m.1)), [255, 0, 0], 3), "the marker is a disc of its radius");
    assert!(!near(px(img, (m.0 + radius_px * 0.75, m.1 + radius_px * 0.75)), [255, 0, 0], 60), "and round");
    let mut changed_far = 0;
    let mut changed_near = 0;
    for (x, y, p) in img.enumerate_pixels() {
        let q = (x as f64 + 0.5, y as f64 + 0.5);
        let differs = !near(
            p.0,
            {
                let b = base.get_pixel(x, y).0;
                [b[0], b[1], b[2]]
            },
            2,
        );
        let dm = ((q.0 - m.0).powi(2) + (q.1 - m.1).powi(2)).sqrt() - radius_px;
        let dl = seg_dist(q, pa, pb) - half_width_px;
        if dm.min(dl) > 2.0 {
            changed_far += usize::from(differs);
        } else {
            changed_near += usize::from(differs);
        }
    }
    assert_eq!(changed_far, 0, "pixels changed away from the marker and the line");
    assert!(changed_near > 100, "only {changed_near} pixels drawn");
}

/// (2) Label text appears above its anchor, centred on it, and a longer text is wider.
#[test]
fn label_text_appears_at_anchor_and_grows_with_length() {
    let mut r = renderer();
    let gpu = upload(&r, &Scene::default());
    let view = camera(DVec3::ZERO, 10.0);
    let anchor = DVec3::new(0.0, 0.0, -1.0);
    let a = project(&view, anchor);
    let yellow = [1.0, 1.0, 0.0, 1.0];
    let mut boxes = Vec::new();
    for text in ["Hi", "Hello, overlay world"] {
        let overlay = Overlay { labels: vec![white(text, anchor, 0.8, yellow)], ..Default::default() };
        let (images, _) = render(&mut r, &gpu, &overlay, &[view]);
        let img = &images[0];
        save(&format!("label_{}", text.len()), img);
        let ((x0, y0, x1, y1), n) = region(img, is_yellow).unwrap_or_else(|| panic!("no text pixels for {text:?}"));
        assert!(n > 10, "{text:?}: only {n} text pixels");
        assert!((y1 as f64) < a.1 && (y0 as f64) > a.1 - 40.0, "{text:?}: text rows {y0}..{y1} not just above {a:?}");
        let cx = (x0 + x1) as f64 * 0.5;
        assert!((cx - a.0).abs() < 4.0, "{text:?}: text centred at {cx}, anchor at {}", a.0);
        // The dark backing box sits between the anchor and the text.
        let under = px(img, (a.0, a.1 - 2.0));
        assert!(under[0] < 110 && under[1] < 110 && under[2] < 120, "{text:?}: no dark backing box ({under:?})");
        boxes.push(x1 - x0);
    }
    assert!(boxes[1] > boxes[0] * 3, "longer text is not wider: {boxes:?}");
}

/// A grey ground plane and a camera 20 m above its centre looking down (the heatmap tests' stage).
fn grey_ground_from_above(r: &Renderer) -> (GpuScene, View) {
    let scene = Scene {
        models: vec![ground(200.0, unlit([0.5, 0.5, 0.5, 1.0]))],
        placements: vec![Placement::at(0, DVec3::ZERO)],
        environment: Environment::default(),
    };
    (upload(r, &scene), top_down(DVec3::ZERO, 20.0))
}

/// A heatmap drawn again under its revision keeps its texture; a new revision is coloured and
/// uploaded again, on the GPU too.
#[test]
fn a_heatmap_s_texture_follows_its_revision() {
    let mut r = renderer();
    let (gpu, view) = grey_ground_from_above(&r);
    let heat = |value: f32, revision: u64| Overlay {
        heatmaps: vec![OverlayHeatmap {
            origin: DVec3::new(-4.0, -4.0, 0.0),
            cell_size_m: 8.0,
            columns: 1,
            rows: 1,
            values: vec![value],
            min: 0.0,
            max: 10.0,
            palette: HeatmapPalette::Traffic,
            opacity: 1.0,
            revision,
            heights: Vec::new(),
        }],
        ..Default::default()
    };
    let at = project(&view, DVec3::ZERO);
    let (green, red) = ([0, 179, 0], [217, 0, 0]);
    let mut colour = |overlay: &Overlay| px(&render(&mut r, &gpu, overlay, &[view]).0[0], at);
    assert!(near(colour(&heat(0.0, 41)), green, 4));
    // The same revision promises the same values: what the texture holds is drawn.
    assert!(near(colour(&heat(10.0, 41)), green, 4), "kept under its revision");
    assert!(near(colour(&heat(10.0, 42)), red, 4), "a new revision is uploaded");
    assert!(near(colour(&heat(0.0, 0)), green, 4) && near(colour(&heat(10.0, 0)), red, 4), "none: every frame");
}

/// A label with a screen size is as many pixels tall near and far; one sized in metres shrinks
/// with distance.
#[test]
fn a_constant_size_label_keeps_its_pixel_height_at_any_distance() {
    let mut r = renderer();
    let gpu = upload(&r, &Scene::default());
    let yellow = [1.0, 1.0, 0.0, 1.0];
    let mut height = |distance: f64, screen_px: Option<f32>| {
        let view = camera(DVec3::ZERO, distance);
        let label = OverlayLabel { screen_px, ..white("HH", DVec3::ZERO, 1.0, yellow) };
        let overlay = Overlay { labels: vec![label], ..Default::default() };
        let (images, _) = render(&mut r, &gpu, &overlay, &[view]);
        let ((_, y0, _, y1), _) = region(&images[0], is_yellow).expect("text pixels");
        i64::from(y1 - y0 + 1)
    };
    let (near, far) = (height(10.0, Some(24.0)), height(40.0, Some(24.0)));
    assert!((near - far).abs() <= 1, "{near} px at 10 m, {far} px at 40 m");
    // 'H' has ink over about 73 % of DejaVu Sans' line (ascender to descender).
    assert!((15..=20).contains(&near), "a 24 px line's capitals: {near} px");
    let (near_m, far_m) = (height(10.0, None), height(40.0, None));
    assert!(near_m > 3 * far_m, "sized in metres it shrinks: {near_m} px at 10 m, {far_m} px at 40 m");
}

/// Text seen from close up stays crisp: glyph edges are cut by their distance field over about a
/// pixel of the screen, however far the glyphs are magnified (a coverage bitmap stretched this far
/// blurs each edge over the magnification, here about 12 pixels).
#[test]
fn a_label_seen_from_close_up_has_sharp_edges() {
    let mut r = renderer();
    let gpu = upload(&r, &Scene::default());
    // A 2 m label 3 m away: its 32-pixel atlas glyphs drawn about 12 times larger.
    let view = camera(DVec3::ZERO, 3.0);
    let yellow = [1.0, 1.0, 0.0, 1.0];
    let overlay = Overlay { labels: vec![white("Ab", DVec3::new(0.0, 0.0, -1.0), 2.0, yellow)], ..Default::default() };
    let (images, _) = render(&mut r, &gpu, &overlay, &[view]);
    let img = &images[0];
    save("label_close_up", img);
    let ((x0, y0, x1, y1), ink) = region(img, is_yellow).expect("text pixels");
    // Within the text's box, how yellow each pixel is (min(R, G) - B: 255 for the ink, about 0 for the
    // backing box over sky or ground); an edge's blend lies between.
    let mut partial = 0;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = img.get_pixel(x, y).0;
            let yellowness = i32::from(p[0].min(p[1])) - i32::from(p[2]);
            partial += usize::from((60..200).contains(&yellowness));
        }
    }
    let ratio = partial as f64 / ink as f64;
    assert!(ink > 2000, "the glyphs are large: {ink} ink pixels");
    // About 0.14 with the distance field; the coverage atlas it replaced gave 0.62 here.
    assert!(ratio < 0.25, "{partial} edge pixels for {ink} ink pixels ({ratio:.3}): the edges are blurred");
}

/// (3) A heatmap shows the palette ends in the right cells and the scene through NaN cells.
#[test]
fn heatmap_cells_use_palette_and_nan_is_transparent() {
    let mut r = renderer();
    let (gpu, view) = grey_ground_from_above(&r);
    let origin = DVec3::new(-6.0, -4.0, 0.0);
    let cell = 4.0;
    // Row 0 (south): min, mid, max; row 1 (north): NaN, max, min.
    let values = vec![0.0, 5.0, 10.0, f32::NAN, 10.0, 0.0];
    let overlay = Overlay {
        heatmaps: vec![OverlayHeatmap {
            origin,
            cell_size_m: cell as f32,
            columns: 3,
            rows: 2,
            values,
            min: 0.0,
            max: 10.0,
            palette: HeatmapPalette::Traffic,
            opacity: 1.0,
            revision: 0,
            heights: Vec::new(),
        }],
        ..Default::default()
    };
    let (images, stats) = render(&mut r, &gpu, &overlay, &[view]);
    let (base, _) = render(&mut r, &gpu, &Overlay::default(), &[view]);
    let img = &images[0];
    save("heatmap", img);
    assert_eq!(stats.overlay_primitives, 1);
    let centre = |col: f64, row: f64| project(&view, origin + DVec3::new((col + 0.5) * cell, (row + 0.5) * cell, 0.0));
    // Traffic: green (0, 0.70, 0) sRGB at min, red (0.85, 0, 0) at max.
    let green = [0, 179, 0];
    let red = [217, 0, 0];
    assert!(near(px(img, centre(0.0, 0.0)), green, 4), "min cell {:?}", px(img, centre(0.0, 0.0)));
    assert!(near(px(img, centre(2.0, 0.0)), red, 4), "max cell {:?}", px(img, centre(2.0, 0.0)));
    assert!(near(px(img, centre(1.0, 1.0)), red, 4), "max cell (row 1) {:?}", px(img, centre(1.0, 1.0)));
    assert!(near(px(img, centre(2.0, 1.0)), green, 4), "min cell (row 1) {:?}", px(img, centre(2.0, 1.0)));
    let mid = px(img, centre(1.0, 0.0));
    assert!(mid[0] > 200 && mid[1] > 180 && mid[2] < 40, "middle value is yellow: {mid:?}");
    let nan = centre(0.0, 1.0);
    let b = px(&base[0], nan);
    assert!(near(px(img, nan), [b[0], b[1], b[2]], 2), "NaN cell shows the ground: {:?} vs {b:?}", px(img, nan));
    // Outside the heatmap the ground is untouched.
    let outside = project(&view, origin + DVec3::new(-2.0, -2.0, 0.0));
    let bo = px(&base[0], outside);
    assert!(near(px(img, outside), [bo[0], bo[1], bo[2]], 2));
}

/// (4) A marker behind an opaque building is hidden; a label at the same place is not.
#[test]
fn building_hides_markers_but_not_labels() {
    let mut r = renderer();
    let scene = Scene {
        models: vec![cube(4.0, unlit([0.5, 0.5, 0.5, 1.0]))],
        placements: vec![Placement::at(0, DVec3::new(0.0, 0.0, 2.0))],
        environment: Environment::default(),
    };
    let gpu = upload(&r, &scene);
    let view = camera(DVec3::new(0.0, 0.0, 2.0), 15.0);
    let hidden = DVec3::new(0.0, 5.0, 2.0);
    let beside = DVec3::new(-7.0, 5.0, 2.0);
    let magenta = |p: [u8; 4]| p[0] > 180 && p[2] > 180 && p[1] < 80;
    let green = |p: [u8; 4]| p[1] > 180 && p[0] < 80 && p[2] < 80;
    let overlay = Overlay {
        markers: vec![
            OverlayMarker { position: hidden, radius_m: 0.6, color: [1.0, 0.0, 1.0, 1.0] },
            OverlayMarker { position: beside, radius_m: 0.6, color: [0.0, 1.0, 0.0, 1.0] },
        ],
        labels: vec![white("X", hidden - DVec3::Z * 0.5, 1.0, [1.0, 1.0, 0.0, 1.0])],
        ..Default::default()
    };
    let (images, _) = render(&mut r, &gpu, &overlay, &[view]);
    let img = &images[0];
    save("depth", img);
    assert!(region(img, magenta).is_none(), "the marker behind the building shows through");
    assert!(region(img, green).is_some(), "the marker beside the building is missing");
    let (bbox, _) = region(img, is_yellow).expect("the label is hidden by the building");
    let building = project(&view, DVec3::new(0.0, -2.0, 2.0));
    assert!((f64::from(bbox.0) - building.0).abs() < 20.0, "label {bbox:?} not over the building at {building:?}");
}

/// (5) HUD text appears in the requested corner only.
#[test]
fn hud_text_appears_in_its_corner() {
    let mut r = renderer();
    let gpu = upload(&r, &Scene::default());
    let view = camera(DVec3::ZERO, 10.0);
    for corner in [HudCorner::TopLeft, HudCorner::TopRight, HudCorner::BottomLeft, HudCorner::BottomRight] {
        let overlay = Overlay {
            hud: vec![
                HudText { text: "FPS 60\ndraws 12".into(), corner, color: [1.0, 1.0, 0.0, 1.0] },
                HudText { text: "second".into(), corner, color: [1.0, 1.0, 0.0, 1.0] },
            ],
            ..Default::default()
        };
        let (images, stats) = render(&mut r, &gpu, &overlay, &[view]);
        let img = &images[0];
        save(&format!("hud_{corner:?}"), img);
        assert_eq!(stats.overlay_primitives, 2);
        let ((x0, y0, x1, y1), n) = region(img, is_yellow).unwrap_or_else(|| panic!("{corner:?}: no HUD text"));
        assert!(n > 40, "{corner:?}: only {n} text pixels");
        let left = matches!(corner, HudCorner::TopLeft | HudCorner::BottomLeft);
        let top = matches!(corner, HudCorner::TopLeft | HudCorner::TopRight);
        if left {
            assert!((8..20).contains(&x0) && x1 < W / 2, "{corner:?}: columns {x0}..{x1}");
        } else {
            assert!(x0 > W / 2 && (W - 20..W - 8).contains(&x1), "{corner:?}: columns {x0}..{x1}");
        }
        if top {
            assert!((8..20).contains(&y0) && y1 < H / 2, "{corner:?}: rows {y0}..{y1}");
        } else {
            assert!(y0 > H / 2 && (H - 20..H - 8).contains(&y1), "{corner:?}: rows {y0}..{y1}");
        }
        // Three lines of ~12 px text.
        assert!(y1 - y0 > 30, "{corner:?}: text block only {} px tall", y1 - y0);
    }
}

/// (6) Stereo: both layers show the world overlay and the head-space HUD, per view and multiview.
#[test]
fn stereo_renders_overlay_in_both_layers() {
    for policy in [MultiviewPolicy::Never, MultiviewPolicy::Always] {
        let mut r = renderer_with(RendererOptions { multiview: policy, ..Default::default() });
        let gpu = upload(&r, &Scene::default());
        let views = View::stereo_pair(&camera(DVec3::ZERO, 10.0), 0.064);
        let overlay = Overlay {
            markers: vec![OverlayMarker {
                position: DVec3::new(1.0, 0.0, 0.0),
                radius_m: 0.5,
                color: [1.0, 0.0, 0.0, 1.0],
            }],
            hud: vec![HudText { text: "stereo HUD".into(), corner: HudCorner::TopLeft, color: [1.0, 1.0, 0.0, 1.0] }],
            ..Default::default()
        };
        let (images, stats) = render(&mut r, &gpu, &overlay, &views);
        let expect_mv = r.uses_multiview(2);
        assert_eq!(stats.multiview, expect_mv, "{policy:?}");
        let red = |p: [u8; 4]| p[0] > 200 && p[1] < 40 && p[2] < 40;
        let mut hud_boxes = Vec::new();
        for (i, img) in images.iter().enumerate() {
            save(&format!("stereo_{policy:?}_{i}"), img);
            let (_, n) = region(img, red).unwrap_or_else(|| panic!("{policy:?}: no marker in layer {i}"));
            assert!(n > 50, "{policy:?} layer {i}: marker only {n} pixels");
            let (bbox, n) = region(img, is_yellow).unwrap_or_else(|| panic!("{policy:?}: no HUD in layer {i}"));
            assert!(n > 20, "{policy:?} layer {i}: HUD only {n} pixels");
            assert!(bbox.0 < W / 2 && bbox.1 < H / 2, "{policy:?} layer {i}: HUD not top-left: {bbox:?}");
            hud_boxes.push(bbox);
        }
        // Fusable: the two eyes see the HUD at nearly the same place (2 m away, 64 mm apart).
        let dx = (hud_boxes[0].0 as i64 - hud_boxes[1].0 as i64).abs();
        assert!(dx <= 8 && hud_boxes[0].1.abs_diff(hud_boxes[1].1) <= 1, "HUD positions {hud_boxes:?}");
        if !expect_mv {
            eprintln!("{policy:?}: this device has no usable multiview; the per-view path was tested");
        }
    }
}

/// (7) Hostile input renders without panic or error.
#[test]
fn hostile_overlay_input_is_survived() {
    let mut r = renderer();
    let scene = Scene {
        models: vec![ground(100.0, unlit([0.4, 0.4, 0.4, 1.0]))],
        placements: vec![Placement::at(0, DVec3::ZERO)],
        environment: Environment::default(),
    };
    let gpu = upload(&r, &scene);
    let nan = DVec3::splat(f64::NAN);
    let inf = DVec3::new(f64::INFINITY, 0.0, 0.0);
    let far = DVec3::splat(1.0e300);
    let heat = |columns, rows, values: Vec<f32>, cell: f32| OverlayHeatmap {
        origin: DVec3::ZERO,
        cell_size_m: cell,
        columns,
        rows,
        values,
        min: f32::NAN,
        max: f32::INFINITY,
        palette: HeatmapPalette::Diverging,
        opacity: f32::NAN,
        revision: 0,
        heights: Vec::new(),
    };
    let bad_colour = [f32::NAN, f32::INFINITY, -3.0, 7.0];
    let mut overlay = Overlay {
        lines: vec![
            OverlayLine { points: vec![], color: bad_colour, width_m: 1.0 },
            OverlayLine { points: vec![DVec3::ZERO], color: [1.0; 4], width_m: 1.0 },
            OverlayLine {
                points: vec![nan, DVec3::ZERO, inf, DVec3::ONE, DVec3::ONE, far],
                color: [1.0; 4],
                width_m: 0.1,
            },
            OverlayLine { points: vec![DVec3::ZERO, DVec3::ONE], color: [1.0; 4], width_m: f32::NAN },
            OverlayLine { points: vec![DVec3::ZERO, DVec3::ONE], color: [1.0; 4], width_m: 0.0 },
            OverlayLine { points: vec![DVec3::ZERO, DVec3::ONE], color: [1.0; 4], width_m: -1.0 },
            OverlayLine { points: vec![DVec3::ZERO, DVec3::ONE], color: [1.0; 4], width_m: f32::MAX },
            // Along the view direction (degenerate camera-facing side vector).
            OverlayLine {
                points: vec![DVec3::new(0.0, -5.0, 2.0), DVec3::new(0.0, 5.0, 2.0)],
                color: [1.0; 4],
                width_m: 0.1,
            },
        ],
        markers: vec![
            OverlayMarker { position: nan, radius_m: 1.0, color: [1.0; 4] },
            OverlayMarker { position: far, radius_m: 1.0, color: [1.0; 4] },
            OverlayMarker { position: DVec3::ZERO, radius_m: 0.0, color: [1.0; 4] },
            OverlayMarker { position: DVec3::ZERO, radius_m: f32::INFINITY, color: bad_colour },
            OverlayMarker { position: DVec3::new(0.0, -10.0, 2.0), radius_m: 1.0, color: [1.0; 4] }, // at the eye
        ],
        labels: vec![
            white("", DVec3::ZERO, 1.0, [1.0; 4]),
            white(&"huge label ".repeat(50_000), DVec3::ZERO, 1.0, [1.0; 4]),
            white(&"\n".repeat(100_000), DVec3::ZERO, 1.0, [1.0; 4]),
            white("\u{0}\u{7}\t\r\u{1b}[31m 😀🏙️ 漢字 \u{202e}rtl \u{feff}", DVec3::ZERO, 1.0, [1.0; 4]),
            white("nan", nan, 1.0, [1.0; 4]),
            white("zero", DVec3::ZERO, 0.0, [1.0; 4]),
            white("inf", DVec3::ZERO, f32::INFINITY, [1.0; 4]),
            white("max", DVec3::ZERO, f32::MAX, bad_colour),
        ],
        heatmaps: vec![
            heat(0, 0, vec![], 1.0),
            heat(3, 3, vec![1.0; 2], 1.0),
            heat(2, 2, vec![1.0; 100], 1.0),
            heat(2, 2, vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0], 1.0),
            heat(2, 2, vec![1.0; 4], 0.0),
            heat(2, 2, vec![1.0; 4], f32::NAN),
            heat(100_000, 1, vec![], 1.0),
            heat(u32::MAX, u32::MAX, vec![], 1.0),
            OverlayHeatmap { origin: nan, ..heat(1, 1, vec![0.0], 1.0) },
        ],
        volumes: vec![
            OverlayVolume { shape: VolumeShape::Sphere, center: nan, size: [1.0; 3], color: [1.0; 4] },
            OverlayVolume { shape: VolumeShape::Sphere, center: DVec3::ZERO, size: [0.0; 3], color: [1.0; 4] },
            OverlayVolume {
                shape: VolumeShape::Cylinder,
                center: DVec3::ZERO,
                size: [1.0, 1.0, f32::NAN],
                color: [1.0; 4],
            },
            OverlayVolume { shape: VolumeShape::Box, center: DVec3::ZERO, size: [1.0, -1.0, 1.0], color: [1.0; 4] },
            OverlayVolume { shape: VolumeShape::Box, center: far, size: [1.0; 3], color: [1.0; 4] },
            // The camera inside a sphere and a box.
            OverlayVolume {
                shape: VolumeShape::Sphere,
                center: DVec3::new(0.0, -10.0, 2.0),
                size: [3.0; 3],
                color: [0.0, 0.0, 1.0, 0.2],
            },
            OverlayVolume {
                shape: VolumeShape::Box,
                center: DVec3::new(0.0, -10.0, 2.0),
                size: [f32::MAX; 3],
                color: [1.0, 0.0, 0.0, 0.1],
            },
        ],
        hud: vec![
            HudText { text: String::new(), corner: HudCorner::TopLeft, color: [1.0; 4] },
            HudText { text: "😀\u{0}".repeat(10_000), corner: HudCorner::BottomRight, color: bad_colour },
        ],
        layers: vec![],
    };
    overlay.hud.extend((0..500).map(|i| HudText {
        text: format!("line {i}"),
        corner: HudCorner::TopRight,
        color: [1.0; 4],
    }));
    let view = camera(DVec3::new(0.0, 0.0, 2.0), 10.0);
    for views in [vec![view], View::stereo_pair(&view, 0.064).to_vec()] {
        let (images, _) = render(&mut r, &gpu, &overlay, &views);
        assert_eq!(images.len(), views.len());
    }
    // Glyph budget: far more than the cap still renders.
    let many = Overlay {
        labels: (0..2000)
            .map(|i| white(&"abcdefghij".repeat(5), DVec3::new(i as f64, 0.0, 0.0), 0.5, [1.0; 4]))
            .collect(),
        markers: (0..20_000)
            .map(|i| OverlayMarker { position: DVec3::new(i as f64 * 0.01, 0.0, 0.0), radius_m: 0.01, color: [1.0; 4] })
            .collect(),
        ..Default::default()
    };
    render(&mut r, &gpu, &many, &[view]);
    // And the renderer still works afterwards, including with an empty overlay.
    render(&mut r, &gpu, &Overlay::default(), &[view]);
}

/// (8) A small overlay scene matches its golden image within a tolerance.
#[test]
fn overlay_scene_matches_golden_image() {
    let mut r = renderer();
    // Large site coordinates (a projected-CRS-like origin): nothing may jitter or shift.
    let o = DVec3::new(712_345.0, 3_165_432.0, 215.0);
    let scene = Scene {
        models: vec![ground(200.0, unlit([0.45, 0.45, 0.42, 1.0])), cube(6.0, unlit([0.7, 0.65, 0.6, 1.0]))],
        placements: vec![Placement::at(0, o), Placement::at(1, o + DVec3::new(4.0, 8.0, 3.0))],
        environment: Environment::default(),
    };
    let gpu = upload(&r, &scene);
    let view = View::look_at(
        o + DVec3::new(-6.0, -22.0, 12.0),
        o + DVec3::new(0.0, 4.0, 0.0),
        DVec3::Z,
        Fov::symmetric(60f32.to_radians(), W as f32 / H as f32),
    );
    let overlay = Overlay {
        lines: vec![OverlayLine {
            points: vec![
                o + DVec3::new(-12.0, -4.0, 0.5),
                o + DVec3::new(-4.0, 0.0, 0.5),
                o + DVec3::new(-4.0, 10.0, 4.0),
            ],
            color: [0.1, 0.6, 1.0, 1.0],
            width_m: 0.4,
        }],
        markers: vec![
            OverlayMarker { position: o + DVec3::new(-12.0, -4.0, 0.5), radius_m: 0.8, color: [1.0, 0.2, 0.2, 1.0] },
            OverlayMarker { position: o + DVec3::new(-4.0, 10.0, 4.0), radius_m: 0.8, color: [1.0, 0.8, 0.1, 1.0] },
        ],
        labels: vec![white("Tower A", o + DVec3::new(4.0, 8.0, 6.5), 1.5, [1.0, 1.0, 1.0, 1.0])],
        heatmaps: vec![OverlayHeatmap {
            origin: o + DVec3::new(-14.0, -8.0, 0.0),
            cell_size_m: 2.0,
            columns: 6,
            rows: 4,
            values: (0..24).map(|i| if i == 9 { f32::NAN } else { i as f32 }).collect(),
            min: 0.0,
            max: 23.0,
            palette: HeatmapPalette::Viridis,
            opacity: 0.7,
            revision: 0,
            heights: Vec::new(),
        }],
        volumes: vec![
            OverlayVolume {
                shape: VolumeShape::Sphere,
                center: o + DVec3::new(-8.0, 12.0, 3.0),
                size: [6.0; 3],
                color: [0.2, 0.9, 0.4, 0.35],
            },
            OverlayVolume {
                shape: VolumeShape::Cylinder,
                center: o + DVec3::new(10.0, -2.0, 2.0),
                size: [3.0, 3.0, 4.0],
                color: [0.9, 0.3, 0.9, 0.4],
            },
        ],
        hud: vec![HudText {
            text: "Sangam overlay\n42 fps".into(),
            corner: HudCorner::TopLeft,
            color: [1.0, 1.0, 1.0, 1.0],
        }],
        layers: vec![],
    };
    let (images, stats) = render(&mut r, &gpu, &overlay, &[view]);
    save("golden_overlay_scene", &images[0]);
    assert_eq!(stats.overlay_primitives, 8);
    if let Err(e) = check_golden("overlay_scene", &images[0], 2.5, 0.01) {
        panic!("{e}");
    }
}
