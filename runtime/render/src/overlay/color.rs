//! Colour helpers: authored sRGB straight-alpha colours to the linear values the shader blends, and
//! the heatmap palettes. Cost: a `powf` per channel per colour; a palette look-up is a lerp between
//! two stops.

use super::HeatmapPalette;

pub(super) fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

pub(super) fn clamp01(c: f32) -> f32 {
    if c.is_finite() { c.clamp(0.0, 1.0) } else { 0.0 }
}

/// sRGB straight-alpha RGBA in 0..=1 to linear straight-alpha RGBA.
pub(super) fn linear_color(c: [f32; 4]) -> [f32; 4] {
    [srgb_to_linear(clamp01(c[0])), srgb_to_linear(clamp01(c[1])), srgb_to_linear(clamp01(c[2])), clamp01(c[3])]
}

/// The palette's sRGB colour at `t` in 0..=1.
pub(super) fn palette_srgb(p: HeatmapPalette, t: f32) -> [f32; 3] {
    const VIRIDIS: [[f32; 3]; 9] = [
        [0.267, 0.005, 0.329],
        [0.279, 0.175, 0.483],
        [0.230, 0.322, 0.546],
        [0.173, 0.449, 0.558],
        [0.128, 0.567, 0.551],
        [0.153, 0.680, 0.504],
        [0.361, 0.785, 0.388],
        [0.668, 0.862, 0.196],
        [0.993, 0.906, 0.144],
    ];
    const TRAFFIC: [[f32; 3]; 3] = [[0.0, 0.70, 0.0], [1.0, 0.85, 0.0], [0.85, 0.0, 0.0]];
    const DIVERGING: [[f32; 3]; 3] = [[0.13, 0.28, 0.85], [1.0, 1.0, 1.0], [0.85, 0.10, 0.10]];
    let stops: &[[f32; 3]] = match p {
        HeatmapPalette::Viridis => &VIRIDIS,
        HeatmapPalette::Traffic => &TRAFFIC,
        HeatmapPalette::Diverging => &DIVERGING,
    };
    let t = clamp01(t) * (stops.len() - 1) as f32;
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f32;
    let (a, b) = (stops[i], stops[i + 1]);
    [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]
}
