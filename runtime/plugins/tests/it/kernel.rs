//! The benchmark's diffusion kernel (shared by the `sim11` fixture plugin and the native baseline)
//! computes what the plain formula says, at every length around its chunk size: the chunked,
//! vectorised loop must not change a single bit of the result.

#[path = "../../../../tests/plugins/kernel/diffusion.rs"]
mod diffusion;

/// The formula written the obvious way: each value moves toward its neighbours (an end is its own
/// missing neighbour) and decays.
fn reference(values: &[f64], alpha: f64, decay: f64, dt: f64) -> Vec<f64> {
    let n = values.len();
    (0..n)
        .map(|i| {
            let left = values[i.saturating_sub(1)];
            let right = values[(i + 1).min(n - 1)];
            let centre = values[i];
            (centre + alpha * dt * (left - 2.0 * centre + right)) * (1.0 - decay * dt)
        })
        .collect()
}

#[test]
fn the_chunked_kernel_matches_the_formula_bit_for_bit_at_every_length() {
    let c = diffusion::CHUNK;
    for n in [1, 2, 3, c, c + 1, c + 2, c + 3, 2 * c + 2, 5 * c + 7, 1000] {
        let start: Vec<f64> = (0..n).map(|i| ((i * 7919) % 101) as f64 * 0.37 - 11.0).collect();
        let mut values = start.clone();
        let mut scratch = vec![0.0; n];
        diffusion::diffusion_step(&mut values, &mut scratch, 0.2, 0.05, 0.1);
        let expected = reference(&start, 0.2, 0.05, 0.1);
        for (i, (got, want)) in values.iter().zip(&expected).enumerate() {
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}, entity {i}: {got} vs {want}");
        }
    }
}

#[test]
fn emit_lists_every_entity_in_order_with_its_value() {
    for n in [0, 1, diffusion::CHUNK - 1, diffusion::CHUNK, 3 * diffusion::CHUNK + 5] {
        let values: Vec<f64> = (0..n).map(|i| i as f64 * 1.5).collect();
        let (mut entities, mut out) = (vec![99; 3], vec![-1.0; 2]);
        diffusion::emit(&values, &mut entities, &mut out);
        assert_eq!(entities, (0..n as u32).collect::<Vec<_>>(), "n = {n}");
        assert_eq!(out, values, "n = {n}");
    }
}
