//! Unit tests: the warning throttle, both shader variants, the glyph atlas and text layout, colour
//! conversion and palettes, and a hostile overlay built within its caps (no GPU needed).

use glam::DVec3;

use super::builder::{Builder, OverlayFrame, build};
use super::color::{linear_color, palette_srgb, srgb_to_linear};
use super::gpu::shader_source;
use super::quads::{KIND_BILLBOARD, STYLE_GLYPH, mode};
use super::text::{GlyphAtlas, TextLayout, glyph_slot};
use super::throttle::{WARN_INTERVAL, WarnThrottle};
use super::*;
use crate::scene::{Fov, View};

#[test]
fn a_warning_over_a_cap_is_logged_once_per_interval_not_every_frame() {
    let mut throttle = WarnThrottle::default();
    let mut built = 0;
    for _ in 0..100 {
        throttle.warn("markers", || {
            built += 1;
            "too many markers".into()
        });
    }
    throttle.warn("text", || "text truncated".into());
    assert_eq!(built, 1, "the message is formatted only when it is logged");
    assert_eq!(throttle.kinds.len(), 2);
    assert_eq!(throttle.kinds[0].2, 99, "held-back repeats are counted for the next report");
    // Once the interval has passed the kind is logged again and the count starts over.
    throttle.kinds[0].1 -= WARN_INTERVAL;
    throttle.warn("markers", || {
        built += 1;
        "too many markers".into()
    });
    assert_eq!((built, throttle.kinds[0].2), (2, 0));
}

#[test]
fn shader_variants_validate() {
    for multiview in [false, true] {
        let src = shader_source(multiview);
        let module = wgpu::naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("multiview {multiview}: {}", e.emit_to_string(&src)));
        wgpu::naga::valid::Validator::new(
            wgpu::naga::valid::ValidationFlags::all(),
            wgpu::naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("multiview {multiview}: {e:?}"));
    }
}

#[test]
fn atlas_has_every_printable_glyph_and_fallback() {
    let atlas = GlyphAtlas::new();
    assert!(atlas.font.is_some());
    for c in ['A', 'g', '?', 'é', 'ß', '~', '—', '’', '₹', '≥', 'Δ', '→'] {
        let g = atlas.glyphs[glyph_slot(c).expect("slot")];
        assert!(g.rect.is_some(), "{c} has no ink");
        assert_ne!(g.id.0, 0, "{c} is in the font (not its missing-glyph box)");
        assert!(g.advance > 0.1);
    }
    let mut budget = 100;
    let mut layout = TextLayout::default();
    atlas.layout("a😀\u{7}b", &mut budget, &mut layout);
    assert_eq!(layout.glyphs.len(), 4, "emoji and BEL draw as '?'");
    assert_eq!(budget, 96);
    atlas.layout("", &mut budget, &mut layout);
    assert_eq!(layout.glyphs.len(), 0);
    assert_eq!(layout.lines.len(), 1);
    atlas.layout("ab\ncd\n", &mut budget, &mut layout);
    assert_eq!(layout.lines.len(), 3);
    let mut small = 3;
    atlas.layout("abcdef", &mut small, &mut layout);
    assert_eq!(layout.glyphs.len(), 3);
    assert!(layout.truncated);
}

#[test]
fn srgb_conversion_and_palettes() {
    assert!((srgb_to_linear(0.5) - 0.214).abs() < 1e-3);
    assert_eq!(linear_color([f32::NAN, 2.0, -1.0, 0.5]), [0.0, 1.0, 0.0, 0.5]);
    let g = palette_srgb(HeatmapPalette::Traffic, 0.0);
    let r = palette_srgb(HeatmapPalette::Traffic, 1.0);
    assert!(g[1] > 0.5 && g[0] < 0.1);
    assert!(r[0] > 0.5 && r[1] < 0.1);
    let w = palette_srgb(HeatmapPalette::Diverging, 0.5);
    assert_eq!(w, [1.0, 1.0, 1.0]);
}

#[test]
fn hostile_overlay_builds_bounded() {
    let v = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, Fov::symmetric(1.0, 1.0));
    let views = [v];
    let frame = OverlayFrame { views: &views, reference: DVec3::ZERO, width: 64, height: 64 };
    let atlas = GlyphAtlas::new();
    let overlay = Overlay {
        lines: vec![OverlayLine { points: vec![DVec3::NAN, DVec3::ZERO, DVec3::ONE], color: [1.0; 4], width_m: 1.0 }],
        markers: vec![OverlayMarker { position: DVec3::INFINITY, radius_m: 1.0, color: [1.0; 4] }],
        labels: vec![OverlayLabel {
            position: DVec3::ONE,
            text: "x".repeat(200_000),
            height_m: 1.0,
            color: [1.0; 4],
            screen_px: None,
        }],
        heatmaps: vec![OverlayHeatmap {
            origin: DVec3::ZERO,
            cell_size_m: 1.0,
            columns: 3,
            rows: 2,
            values: vec![1.0],
            min: 0.0,
            max: 1.0,
            palette: HeatmapPalette::Viridis,
            opacity: 1.0,
            revision: 0,
            heights: Vec::new(),
        }],
        volumes: vec![OverlayVolume {
            shape: VolumeShape::Box,
            center: DVec3::ONE,
            size: [0.0, 1.0, 1.0],
            color: [1.0; 4],
        }],
        hud: vec![],
        layers: vec![],
    };
    let mut b = Builder::default();
    let mut texels = Vec::new();
    build(&overlay, &frame, &atlas, 4096, &mut b, &mut texels);
    let glyphs = b.quads.iter().filter(|q| q.p0[3] == mode(KIND_BILLBOARD, STYLE_GLYPH)).count();
    assert_eq!(glyphs, MAX_GLYPHS - 1);
    assert_eq!(texels.len(), 1);
    assert_eq!(texels[0].texels.len(), 3 * 2 * 4);
    assert_eq!(texels[0].texels[3], 255);
    assert_eq!(texels[0].texels[7], 0, "missing values are transparent");
    assert!(b.quads.iter().all(|q| q.p0.iter().chain(&q.p1).all(|x| x.is_finite())));
}

#[test]
fn a_shared_layer_draws_as_if_its_primitives_were_the_overlay_s_own_after_them() {
    let v = View::look_at(DVec3::new(0.0, -30.0, 10.0), DVec3::ZERO, DVec3::Z, Fov::symmetric(1.0, 1.0));
    let views = [v];
    let frame = OverlayFrame { views: &views, reference: DVec3::ZERO, width: 64, height: 64 };
    let atlas = GlyphAtlas::new();
    let part = |k: f64| Overlay {
        lines: vec![OverlayLine { points: vec![DVec3::ZERO, DVec3::splat(k)], color: [1.0; 4], width_m: k as f32 }],
        markers: vec![OverlayMarker { position: DVec3::splat(k), radius_m: 1.0, color: [k as f32, 0.0, 0.0, 1.0] }],
        labels: vec![OverlayLabel {
            position: DVec3::splat(k),
            text: format!("cell {k}"),
            height_m: 1.0,
            color: [1.0; 4],
            screen_px: None,
        }],
        heatmaps: vec![OverlayHeatmap {
            origin: DVec3::splat(k),
            cell_size_m: 1.0,
            columns: 2,
            rows: 2,
            values: vec![0.0, k as f32, 1.0, 0.5],
            min: 0.0,
            max: 2.0,
            palette: HeatmapPalette::Viridis,
            opacity: 1.0,
            revision: 0,
            heights: Vec::new(),
        }],
        volumes: vec![OverlayVolume {
            shape: VolumeShape::Box,
            center: DVec3::splat(k),
            size: [1.0; 3],
            color: [1.0; 4],
        }],
        hud: vec![],
        layers: vec![],
    };
    let (first, second) = (part(1.0), part(2.0));
    let mut inline = first.clone();
    inline.lines.extend(second.lines.clone());
    inline.markers.extend(second.markers.clone());
    inline.labels.extend(second.labels.clone());
    inline.heatmaps.extend(second.heatmaps.clone());
    inline.volumes.extend(second.volumes.clone());
    let mut layered = first;
    layered.layers.push(std::sync::Arc::new(second));
    let built = |overlay: &Overlay| {
        let (mut b, mut texels) = (Builder::default(), Vec::new());
        build(overlay, &frame, &atlas, 4096, &mut b, &mut texels);
        let texels: Vec<Vec<u8>> = texels.into_iter().map(|t| t.texels).collect();
        (bytemuck::cast_slice::<_, u8>(&b.quads).to_vec(), b.draws.len(), texels)
    };
    let (quads, draws, texels) = built(&inline);
    assert!(!quads.is_empty() && texels.len() == 2);
    assert_eq!(built(&layered), (quads, draws, texels), "the same quads, draws and heatmap texels");
    assert!(
        !layered.is_empty()
            && Overlay { layers: vec![std::sync::Arc::new(Overlay::default())], ..Default::default() }.is_empty()
    );
}

#[test]
fn a_heatmap_drawn_again_with_its_revision_is_not_coloured_again_and_a_new_one_is() {
    let views = [View::look_at(DVec3::new(0.0, -10.0, 10.0), DVec3::ZERO, DVec3::Z, Fov::symmetric(1.0, 1.0))];
    let frame = OverlayFrame { views: &views, reference: DVec3::ZERO, width: 64, height: 64 };
    let atlas = GlyphAtlas::new();
    let heat = |revision: u64, value: f32| Overlay {
        heatmaps: vec![OverlayHeatmap {
            origin: DVec3::ZERO,
            cell_size_m: 1.0,
            columns: 2,
            rows: 1,
            values: vec![value, 1.0],
            min: 0.0,
            max: 1.0,
            palette: HeatmapPalette::Viridis,
            opacity: 1.0,
            revision,
            heights: Vec::new(),
        }],
        ..Default::default()
    };
    let (mut b, mut texels) = (Builder::default(), Vec::new());
    // The slot the heatmap was drawn from: whether it was coloured now, and its texels.
    let mut draw = |overlay: &Overlay| {
        build(overlay, &frame, &atlas, 4096, &mut b, &mut texels);
        let slot = texels.iter().max_by_key(|t| t.last_used).unwrap();
        (slot.fresh, slot.texels.clone())
    };
    let (fresh, first) = draw(&heat(7, 0.0));
    assert!(fresh, "new values are coloured");
    assert_eq!(draw(&heat(7, 0.0)), (false, first.clone()), "the same revision again: kept as it is");
    let (fresh, other) = draw(&heat(8, 1.0));
    assert!(fresh && other != first, "a new revision is coloured again");
    // Two maps taking turns (the halves of a split view) each keep their slot.
    assert!(!draw(&heat(7, 0.0)).0 && !draw(&heat(8, 1.0)).0 && !draw(&heat(7, 0.0)).0);
    assert!(draw(&heat(0, 1.0)).0 && draw(&heat(0, 1.0)).0, "no revision: coloured every frame");
    assert!(texels.len() <= 4, "a stale slot is reused, not a new one made per frame: {}", texels.len());
}

#[test]
fn cells_on_roofs_are_drawn_on_them_and_left_clear_on_the_ground_within_a_cap() {
    let views = [View::look_at(DVec3::new(0.0, -10.0, 10.0), DVec3::ZERO, DVec3::Z, Fov::symmetric(1.0, 1.0))];
    let frame = OverlayFrame { views: &views, reference: DVec3::ZERO, width: 64, height: 64 };
    let atlas = GlyphAtlas::new();
    // Three cells of 2 m on a plane at 1.5 m: the ground, a 10 m roof, a height unknown.
    let heat = |columns: u32, heights: Vec<f32>| OverlayHeatmap {
        origin: DVec3::new(0.0, 0.0, 1.5),
        cell_size_m: 2.0,
        columns,
        rows: 1,
        values: vec![0.5; columns as usize],
        min: 0.0,
        max: 1.0,
        palette: HeatmapPalette::Viridis,
        opacity: 0.8,
        revision: 0,
        heights,
    };
    let overlay = Overlay { heatmaps: vec![heat(3, vec![0.0, 10.0, f32::NAN])], ..Default::default() };
    let (mut b, mut texels) = (Builder::default(), Vec::new());
    build(&overlay, &frame, &atlas, 4096, &mut b, &mut texels);
    let solid = mode(quads::KIND_WORLD_QUAD, quads::STYLE_SOLID);
    let roofs: Vec<_> = b.quads.iter().filter(|q| q.p0[3] == solid).collect();
    assert_eq!(roofs.len(), 1, "the roof cell, on its own quad");
    let r = roofs[0];
    assert_eq!([r.p0[0], r.p0[1], r.p0[2]], [2.0, 0.0, 10.0 + HEATMAP_LIFT_M as f32], "on the roof, its cell's corner");
    assert_eq!([r.p2[0], r.p2[1]], [4.0, 2.0]);
    assert!((r.color[3] - 0.8).abs() < 1e-6, "the heatmap's opacity");
    let t = &texels[0].texels;
    assert!(t[3] == 255 && t[7] == 0 && t[11] == 255, "clear on the ground under the roof only: {t:?}");
    // Past the cap the rest are not drawn (and a warning says so).
    let many = (MAX_RAISED_CELLS + 10) as u32;
    let overlay = Overlay { heatmaps: vec![heat(many, vec![10.0; many as usize])], ..Default::default() };
    build(&overlay, &frame, &atlas, u32::MAX, &mut b, &mut texels);
    assert_eq!(b.quads.iter().filter(|q| q.p0[3] == solid).count(), MAX_RAISED_CELLS);
    assert!(b.warnings.kinds.iter().any(|(k, _, _)| *k == "raised heatmap cells"), "and said");
}

#[test]
fn the_glyph_distance_field_is_the_distance_to_the_outline() {
    // A 6 x 6 square of full coverage in a 12 x 12 bitmap (columns and rows 3..9), one edge pixel half
    // covered.
    let (w, h) = (12, 12);
    let mut c = vec![0.0f32; w * h];
    for y in 3..9 {
        for x in 3..9 {
            c[y * w + x] = 1.0;
        }
    }
    c[5 * w + 9] = 0.5;
    let d = text::distance_field(&c, w, h);
    let at = |x: usize, y: usize| d[y * w + x];
    assert_eq!(at(3, 6), 0.5, "an edge pixel inside: half a pixel in");
    assert_eq!(at(2, 6), -0.5, "its neighbour outside: half a pixel out");
    assert_eq!(at(5, 5), 2.5, "deeper inside");
    assert_eq!(at(0, 6), -2.5, "further out");
    assert!((at(0, 0) + (18f32.sqrt() - 0.5)).abs() < 1e-5, "diagonally out: Euclidean");
    assert_eq!(at(9, 5), 0.0, "a half-covered pixel: on the outline");
    let none = text::distance_field(&[0.0; 4], 2, 2);
    assert!(none.iter().all(|v| v.is_infinite() && *v < 0.0), "no ink: everywhere far outside");
}
