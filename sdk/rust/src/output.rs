//! What a step hands the host beside the updates it returns: full columns, a property of every
//! granted entity straight from the plugin's memory (since SDK 1.2), and maps of the site (since SDK
//! 1.3).
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

pub use crate::__bindings::simulation::sangam::plugin::output::RasterGrid;

/// Hands over a map of the site (since SDK 1.3): layer `layer` (named like a property, e.g.
/// `radio.rsrp`), in `unit`, one value per cell of `grid`, row-major from its south-west corner
/// (`values[row * columns + column]`), NaN for a cell with no data and every other value finite.
///
/// The runtime keeps the newest map of each layer (a later call replaces it), draws it as a heatmap
/// where the scene asks and exports it as a GeoTIFF. At most 16 layers per plugin and 4096 x 4096
/// cells per map; each value counts 4 bytes against the plugin's output cap.
///
/// Call it only from [`Simulation::step`](crate::Simulation::step). A wrong length, a bad grid, an
/// infinite value, a 17th layer, a call outside a step or output over the cap is malformed output: the
/// runtime stops this instance, reports why and restarts it.
///
/// ```
/// use sangam_sdk::output::{self, RasterGrid};
/// # sangam_sdk::testing::reset();
/// let grid = RasterGrid { origin: (-100.0, -100.0, 1.5), cell_size: 10.0, columns: 20, rows: 20 };
/// let values = vec![-95.0f32; 400];
/// output::raster("radio.rsrp", "dBm", grid, &values);
/// # assert_eq!(sangam_sdk::testing::with_host(|h| h.take_rasters())[0].values.len(), 400);
/// ```
pub fn raster(layer: &str, unit: &str, grid: RasterGrid, values: &[f32]) {
    crate::host::raster(layer, unit, grid, values)
}
