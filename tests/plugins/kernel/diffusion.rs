//! The simulation kernel shared by the `sangam-fixture-sim11` plugin and the native baseline in
//! `runtime/plugins/benches/plugins.rs` (both include this file with `#[path]`), so the benchmark
//! compares the same Rust code compiled to wasm and natively.

/// One explicit step of 1-D diffusion with decay over `values` (entity order), in place.
/// `scratch` must have the same length; it is overwritten.
///
/// The two ends are computed on their own, so the interior loop has no branch per element and
/// vectorises, natively (SSE2) and in the plugin (wasm `simd128`, f64x2).
pub fn diffusion_step(values: &mut [f64], scratch: &mut [f64], alpha: f64, decay: f64, dt: f64) {
    let n = values.len();
    if n == 0 || scratch.len() != n {
        return;
    }
    scratch.copy_from_slice(values);
    let keep = 1.0 - decay * dt;
    let rate = alpha * dt;
    let update = |left: f64, centre: f64, right: f64| (centre + rate * (left - 2.0 * centre + right)) * keep;
    if n == 1 {
        values[0] = update(scratch[0], scratch[0], scratch[0]);
        return;
    }
    values[0] = update(scratch[0], scratch[0], scratch[1]);
    values[n - 1] = update(scratch[n - 2], scratch[n - 1], scratch[n - 1]);
    let (left, centre, right) = (&scratch[..n - 2], &scratch[1..n - 1], &scratch[2..]);
    for (((out, &l), &c), &r) in values[1..n - 1].iter_mut().zip(left).zip(centre).zip(right) {
        *out = update(l, c, r);
    }
}

/// Fills `entities` with `0..n` and `out` with `values` (what a step returns to the host).
pub fn emit(values: &[f64], entities: &mut Vec<u32>, out: &mut Vec<f64>) {
    entities.clear();
    entities.extend(0..values.len() as u32);
    out.clear();
    out.extend_from_slice(values);
}
