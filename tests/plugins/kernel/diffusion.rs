//! The simulation kernel shared by the `sangam-fixture-sim11` plugin and the native baseline in
//! `runtime/plugins/benches/plugins.rs` (both include this file with `#[path]`), so the benchmark
//! compares the same Rust code compiled to wasm and natively.

/// One explicit step of 1-D diffusion with decay over `values` (entity order), in place.
/// `scratch` must have the same length; it is overwritten.
pub fn diffusion_step(values: &mut [f64], scratch: &mut [f64], alpha: f64, decay: f64, dt: f64) {
    let n = values.len();
    if n == 0 || scratch.len() != n {
        return;
    }
    scratch.copy_from_slice(values);
    let keep = 1.0 - decay * dt;
    for i in 0..n {
        let left = if i == 0 { scratch[i] } else { scratch[i - 1] };
        let right = if i + 1 == n { scratch[i] } else { scratch[i + 1] };
        let centre = scratch[i];
        values[i] = (centre + alpha * dt * (left - 2.0 * centre + right)) * keep;
    }
}

/// Fills `entities` with `0..n` and `out` with `values` (what a step returns to the host).
pub fn emit(values: &[f64], entities: &mut Vec<u32>, out: &mut Vec<f64>) {
    entities.clear();
    entities.extend(0..values.len() as u32);
    out.clear();
    out.extend_from_slice(values);
}
