//! Every Khronos sample model in tests/data/khronos renders framed: it covers a sensible part of the
//! frame and its colours are plausible for what the model is.

use std::path::PathBuf;

use image::RgbaImage;
use sangam::headless::{self, RenderRequest, ShotSize};
use sangam_e2e::{renderer_or_skip, workspace_root};

const SIZE: ShotSize = ShotSize { width: 256, height: 256 };

fn model(name: &str) -> PathBuf {
    workspace_root().join("tests/data/khronos").join(name)
}

/// Renders a model framed automatically; the background is the sky gradient, sampled from a render
/// of an empty frame corner is not reliable, so coverage is measured against the image's own corners.
fn render(renderer: &mut sangam_render::gpu::Renderer, name: &str) -> RgbaImage {
    let request = RenderRequest { input: model(name), bookmark: None, size: SIZE, stereo: false };
    let prepared = headless::prepare(&request).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let mut shots =
        headless::render_prepared(renderer, &prepared, SIZE, false).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let shot = shots.remove(0);
    let _ = std::fs::create_dir_all(workspace_root().join("target/sample-renders"));
    let _ = shot.image.save(workspace_root().join("target/sample-renders").join(format!("{name}.png")));
    shot.image
}

/// Fraction of pixels that differ from the sky (the background colour at the same row, sampled at
/// the left and right edges, which the framing keeps free).
fn coverage(img: &RgbaImage) -> f64 {
    sangam_e2e::coverage(img, |_, y| img.get_pixel(0, y).0[..3].try_into().unwrap_or([0; 3]))
}

/// Mean colour of the covered pixels.
fn covered_mean(img: &RgbaImage) -> [f64; 3] {
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for (_, y, p) in img.enumerate_pixels() {
        let bg = img.get_pixel(0, y).0;
        if (0..3).any(|c| p.0[c].abs_diff(bg[c]) > 40) {
            for (s, v) in sum.iter_mut().zip(p.0) {
                *s += f64::from(v);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n.max(1.0))
}

#[test]
fn sample_models_cover_a_sensible_part_of_the_frame() {
    let Some(mut renderer) = renderer_or_skip("sample_models_cover_a_sensible_part_of_the_frame") else { return };
    for name in [
        "Box.gltf",
        "BoxTextured.gltf",
        "TextureCoordinateTest.gltf",
        "SimpleSparseAccessor.gltf",
        "SimpleMorph.gltf",
        "SimpleSkin.gltf",
        "AnimatedTriangle.gltf",
    ] {
        let img = render(&mut renderer, name);
        let c = coverage(&img);
        assert!((0.03..=0.95).contains(&c), "{name}: covers {:.1}% of the frame", c * 100.0);
    }
}

#[test]
fn box_is_red_and_box_textured_shows_its_texture() {
    let Some(mut renderer) = renderer_or_skip("box_is_red_and_box_textured_shows_its_texture") else { return };
    // Box.gltf's material is base colour (0.8, 0, 0): lit, it is clearly red.
    let img = render(&mut renderer, "Box.gltf");
    let [r, g, b] = covered_mean(&img);
    assert!(r > 2.0 * g && r > 2.0 * b && r > 60.0, "Box is not red: mean {r:.0},{g:.0},{b:.0}");
    // BoxTextured carries the glTF logo texture: the box shows many colours, not one flat shade.
    let img = render(&mut renderer, "BoxTextured.gltf");
    let mut colours = std::collections::HashSet::new();
    for (_, y, p) in img.enumerate_pixels() {
        let bg = img.get_pixel(0, y).0;
        if (0..3).any(|c| p.0[c].abs_diff(bg[c]) > 40) {
            colours.insert([p.0[0] / 16, p.0[1] / 16, p.0[2] / 16]);
        }
    }
    assert!(colours.len() > 12, "BoxTextured shows only {} colour classes: texture missing?", colours.len());
}
