//! Exponential relaxation (Newton's law of cooling, first-order decay): pure Rust, no host calls.
//!
//! `dx/dt = -k (x - T)` has the exact solution `x(t + dt) = T + (x(t) - T) e^{-k dt}`. Stepping with
//! the exact solution (not an Euler step) makes the result independent of the step length and stable
//! for any `k dt`: n steps of `dt` equal one step of `n dt` up to rounding.

/// One exact step: `x` relaxes toward `target` at `rate` (1/s) for `dt_seconds`.
///
/// ```
/// use decay_simulation::decay::relax;
/// // After one half-life (ln 2 / k) half the distance to the target is left.
/// let k = 0.2;
/// let x = relax(10.0, 2.0, k, std::f64::consts::LN_2 / k);
/// assert!((x - 6.0).abs() < 1e-12);
/// ```
pub fn relax(x: f64, target: f64, rate: f64, dt_seconds: f64) -> f64 {
    target + (x - target) * (-rate * dt_seconds).exp()
}

/// Checks a decay rate: finite and not negative (a negative rate would grow without bound).
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && rate >= 0.0 {
        Ok(rate)
    } else {
        Err(format!("parameter `decay-rate` = {rate} must be a finite number >= 0 (unit 1/s)"))
    }
}

/// One step over many entities. `values[i]` is entity `entities[i]`'s current value (NaN: it has
/// none and is left alone); `targets[i]` its target (NaN: use `default_target`). Returns the indices
/// and new values of the entities that had a value.
pub fn step_all(
    entities: &[u32],
    values: &[f64],
    targets: &[f64],
    default_target: f64,
    rate: f64,
    dt_seconds: f64,
) -> (Vec<u32>, Vec<f64>) {
    let keep = (-rate * dt_seconds).exp();
    let mut out_entities = Vec::with_capacity(entities.len());
    let mut out_values = Vec::with_capacity(entities.len());
    for (i, (&e, &x)) in entities.iter().zip(values).enumerate() {
        if !x.is_finite() {
            continue;
        }
        let t = targets.get(i).copied().filter(|t| t.is_finite()).unwrap_or(default_target);
        out_entities.push(e);
        out_values.push(t + (x - t) * keep);
    }
    (out_entities, out_values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form `x(t) = T + (x0 - T) e^{-k t}`, evaluated directly.
    fn closed_form(x0: f64, target: f64, k: f64, t: f64) -> f64 {
        target + (x0 - target) * (-k * t).exp()
    }

    #[test]
    fn many_small_steps_match_the_closed_form() {
        let (x0, target, k) = (35.0, 18.5, 1.0 / 600.0);
        let dt = 0.1;
        let mut x = x0;
        for _ in 0..36_000 {
            x = relax(x, target, k, dt);
        }
        let exact = closed_form(x0, target, k, 3600.0);
        assert!((x - exact).abs() < 1e-9, "{x} vs {exact}");
        // An hour at k = 1/600 s is 6 time constants: e^-6 of the gap is left.
        assert!(((x - target) / (x0 - target) - (-6.0f64).exp()).abs() < 1e-9);
    }

    #[test]
    fn stable_for_steps_longer_than_the_time_constant() {
        // Explicit Euler would oscillate and blow up at k dt = 5; the exact step goes straight in.
        let mut x = 100.0;
        let mut previous_gap = f64::INFINITY;
        for _ in 0..20 {
            x = relax(x, 0.0, 5.0, 1.0);
            assert!(x >= 0.0 && x < previous_gap);
            previous_gap = x;
        }
        assert!(x < 1e-40);
    }

    #[test]
    fn zero_rate_keeps_and_infinite_dt_reaches_the_target() {
        assert_eq!(relax(3.0, 7.0, 0.0, 1e9), 3.0);
        assert_eq!(relax(3.0, 7.0, 1.0, f64::INFINITY), 7.0);
    }

    #[test]
    fn step_all_skips_missing_values_and_falls_back_to_the_default_target() {
        let (e, v) = step_all(&[4, 5, 6], &[10.0, f64::NAN, 10.0], &[0.0, 0.0, f64::NAN], 20.0, 1.0, 1.0);
        assert_eq!(e, vec![4, 6]);
        let keep = (-1.0f64).exp();
        assert!((v[0] - 10.0 * keep).abs() < 1e-12);
        assert!((v[1] - (20.0 - 10.0 * keep)).abs() < 1e-12);
    }

    #[test]
    fn rate_checks() {
        assert!(check_rate(0.0).is_ok());
        assert!(check_rate(-0.1).unwrap_err().contains("decay-rate"));
        assert!(check_rate(f64::NAN).is_err());
    }
}
