//! `{{name}}`: a Sangam simulation model.
//!
//! Every granted entity's `value` relaxes toward zero at parameter `rate` (1/s), stepped with the
//! exact solution `x e^{-rate dt}`. Replace it with your model: read what you need with
//! `twin::numbers` (one call for all entities), return the new values as one column per property.

use sangam_sdk::{EntityTable, ParameterSpec, Simulation, Tick, Updates, params, twin};

/// The model's state, kept between steps.
pub struct Model {
    /// Every granted entity (indices into the entity table given to `init`).
    entities: Vec<u32>,
    /// The decay rate in 1/s.
    rate: f64,
}

impl Simulation for Model {
    fn init(entities: EntityTable) -> Result<Self, String> {
        let rate = params::number("rate").unwrap_or(0.1);
        if !rate.is_finite() || rate < 0.0 {
            return Err(format!("parameter `rate` = {rate} must be a finite number >= 0"));
        }
        sangam_sdk::info!("{{name}}: {} entities, rate {rate} 1/s", entities.len());
        Ok(Model { entities: entities.indices(), rate })
    }

    fn step(&mut self, tick: Tick) -> Result<Updates, String> {
        let values = twin::numbers("value", &self.entities);
        let keep = (-self.rate * tick.dt_seconds()).exp();
        let (mut ids, mut next) = (Vec::new(), Vec::new());
        for (&e, &v) in self.entities.iter().zip(&values) {
            if v.is_finite() {
                ids.push(e);
                next.push(v * keep);
            }
        }
        Ok(Updates::new(tick.end()).number("value", "", &ids, &next))
    }

    fn parameters() -> Vec<ParameterSpec> {
        vec![ParameterSpec::number("rate", 0.1).unit("1/s").range(0.0, 100.0).description("Decay rate.")]
    }
}

sangam_sdk::export_simulation!(Model);

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_sdk::{ParamValue, testing};

    #[test]
    fn one_time_constant_leaves_e_to_the_minus_one() {
        testing::reset();
        testing::with_host(|h| {
            h.set_param("rate", ParamValue::Number(0.5));
            h.push_number(0, "value", 0, 10.0);
        });
        let table = EntityTable { ids: vec!["e".into()], kinds: vec!["k".into()], positions: vec![0.0; 3] };
        let mut model = Model::init(table).unwrap();
        let out = model.step(Tick { now: 0, dt_us: 2_000_000 }).unwrap();
        assert_eq!(out.time, 2_000_000);
        assert!((out.numbers[0].values[0] - 10.0 * (-1.0f64).exp()).abs() < 1e-12);
    }
}
