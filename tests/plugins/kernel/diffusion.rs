//! The simulation kernel shared by the `sangam-fixture-sim11` plugin and the native baseline in
//! `runtime/plugins/benches/plugins.rs` (both include this file with `#[path]`), so the benchmark
//! compares the same Rust code compiled to wasm and natively.

/// Elements per inner loop. Inside a plugin the runtime checks its time budget (wasmtime's epoch
/// deadline) once per loop iteration; a fixed-size inner loop is unrolled and vectorised by the compiler,
/// so that check is paid once per chunk instead of once per element or vector.
pub const CHUNK: usize = 16;

/// One explicit step of 1-D diffusion with decay over `values` (entity order), in place.
/// `scratch` must have the same length; it is overwritten.
///
/// The two ends are computed on their own, so the interior loop has no branch per element and
/// vectorises, natively (SSE2) and in the plugin (wasm `simd128`, f64x2); it runs in chunks of
/// [`CHUNK`] elements.
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
    let interior = &mut values[1..n - 1];
    let (left, centre, right) = (&scratch[..n - 2], &scratch[1..n - 1], &scratch[2..]);
    let mut out = interior.chunks_exact_mut(CHUNK);
    let (mut l, mut c, mut r) = (left.chunks_exact(CHUNK), centre.chunks_exact(CHUNK), right.chunks_exact(CHUNK));
    for (((out, l), c), r) in out.by_ref().zip(l.by_ref()).zip(c.by_ref()).zip(r.by_ref()) {
        for i in 0..CHUNK {
            out[i] = update(l[i], c[i], r[i]);
        }
    }
    let rest = out.into_remainder().iter_mut().zip(l.remainder()).zip(c.remainder()).zip(r.remainder());
    for (((out, &l), &c), &r) in rest {
        *out = update(l, c, r);
    }
}

/// Fills `entities` with `0..n` and `out` with `values` (what a step returns to the host). The indices
/// are written in chunks of [`CHUNK`], for the same reason as the step.
pub fn emit(values: &[f64], entities: &mut Vec<u32>, out: &mut Vec<f64>) {
    entities.clear();
    entities.resize(values.len(), 0);
    let mut chunks = entities.chunks_exact_mut(CHUNK);
    let mut base = 0u32;
    for chunk in chunks.by_ref() {
        for (i, e) in chunk.iter_mut().enumerate() {
            *e = base + i as u32;
        }
        base += CHUNK as u32;
    }
    for (i, e) in chunks.into_remainder().iter_mut().enumerate() {
        *e = base + i as u32;
    }
    out.clear();
    out.extend_from_slice(values);
}
