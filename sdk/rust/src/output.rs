//! Full columns: a simulation hands the host a property of every granted entity straight from its
//! own memory (since SDK 1.2).
//!
//! A column in the [`Updates`](crate::Updates) a step returns is an owned copy of the values plus an
//! entity index for each, and the runtime copies both out of the plugin. A model that updates every
//! granted entity every step (diffusion, flow, coverage on a grid of entities) can instead pass the
//! state it already holds to [`full_column`]: no index list, no copy in the plugin, one copy by the
//! host. At 100k entities that cut the cost of handing a step's output over from 162-179 µs to
//! 45-61 µs in the benchmark (see `BENCHMARKS.md`).
//!
//! ```
//! use sangam_sdk::{EntityTable, Simulation, Tick, Updates, output};
//!
//! /// Every granted entity's `level` relaxes toward zero.
//! struct Relax {
//!     level: Vec<f64>,
//! }
//!
//! impl Simulation for Relax {
//!     fn init(entities: EntityTable) -> Result<Self, String> {
//!         Ok(Relax { level: vec![1.0; entities.ids.len()] })
//!     }
//!
//!     fn step(&mut self, tick: Tick) -> Result<Updates, String> {
//!         let keep = (-0.1 * tick.dt_seconds()).exp();
//!         self.level.iter_mut().for_each(|v| *v *= keep);
//!         // Value `i` is entity `i`'s: every entity, in table order.
//!         output::full_column("level", "m", &self.level);
//!         Ok(Updates::new(tick.end()))
//!     }
//! }
//! # sangam_sdk::testing::reset();
//! # let mut relax = Relax::init(EntityTable { ids: vec!["a".into(), "b".into()], kinds: vec!["x".into(); 2], positions: vec![0.0; 6] }).unwrap();
//! # relax.step(Tick { now: 0, dt_us: 1_000_000 }).unwrap();
//! # let columns = sangam_sdk::testing::with_host(|h| h.take_full_columns());
//! # assert_eq!(columns[0].values, vec![(-0.1f64).exp(); 2]);
//! ```

/// Sets numeric `property`, in `unit`, of every granted entity: `values[i]` is the value of entity `i`
/// of the [`EntityTable`](crate::EntityTable), so `values` must have exactly one entry per entity, and
/// every value must be finite. The column joins the updates the running step returns, after the
/// columns in them, at their time.
///
/// Call it only from [`Simulation::step`](crate::Simulation::step). A wrong length, a non-finite value,
/// a call outside a step or output over the plugin's output cap is malformed output: the runtime stops
/// this instance, reports why and restarts it.
pub fn full_column(property: &str, unit: &str, values: &[f64]) {
    crate::host::full_column(property, unit, values)
}
