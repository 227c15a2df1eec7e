//! `decay-simulation`: a property relaxes exponentially toward a target.
//!
//! Every granted entity's numeric `property` follows `dx/dt = -k (x - T)` (Newton's law of cooling,
//! first-order decay toward an equilibrium), stepped with the exact solution (see [`decay`]). The target
//! `T` is, per entity, the value of `target-property` when that is set and the entity has it, else the
//! `target` parameter. Entities without the property are left alone. Examples: a road surface's
//! temperature following the air temperature; a congestion index fading after an incident.

pub mod decay;

use sangam_sdk::{EntityTable, ParameterSpec, Simulation, Tick, Updates, params, twin};

/// The parameters of this plugin (mirrors `plugin.toml`).
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("property", "value").description("The numeric property that relaxes."),
        ParameterSpec::text("unit", "").description("Its unit symbol, written with every update."),
        ParameterSpec::number("decay-rate", 0.1)
            .unit("1/s")
            .range(0.0, 1000.0)
            .description("k: the inverse time constant; half the gap closes every ln 2 / k seconds."),
        ParameterSpec::number("target", 0.0)
            .description("The equilibrium value where an entity has no target property."),
        ParameterSpec::text("target-property", "")
            .description("A per-entity property holding the equilibrium (e.g. `weather.temperature`); empty: none."),
    ]
}

/// The model's state: the granted entities and the parameters read at `init`.
pub struct Decay {
    entities: Vec<u32>,
    property: String,
    unit: String,
    rate: f64,
    target: f64,
    target_property: String,
}

impl Simulation for Decay {
    fn init(entities: EntityTable) -> Result<Self, String> {
        let text = |name: &str, default: &str| params::text(name).unwrap_or_else(|| default.to_string());
        let property = text("property", "value");
        if property.trim().is_empty() {
            return Err("parameter `property` is empty; name the property that relaxes".into());
        }
        let target = params::number("target").unwrap_or(0.0);
        if !target.is_finite() {
            return Err(format!("parameter `target` = {target} must be finite"));
        }
        Ok(Decay {
            entities: entities.indices(),
            property,
            unit: text("unit", ""),
            rate: decay::check_rate(params::number("decay-rate").unwrap_or(0.1))?,
            target,
            target_property: text("target-property", ""),
        })
    }

    fn step(&mut self, tick: Tick) -> Result<Updates, String> {
        if tick.dt_us < 0 {
            return Err(format!("negative step of {} us", tick.dt_us));
        }
        let values = twin::numbers(&self.property, &self.entities);
        let targets = if self.target_property.is_empty() {
            Vec::new()
        } else {
            twin::numbers(&self.target_property, &self.entities)
        };
        let (entities, next) =
            decay::step_all(&self.entities, &values, &targets, self.target, self.rate, tick.dt_seconds());
        Ok(Updates::new(tick.end()).number(&self.property, &self.unit, &entities, &next))
    }

    fn parameters() -> Vec<ParameterSpec> {
        parameters()
    }
}

sangam_sdk::export_simulation!(Decay);
