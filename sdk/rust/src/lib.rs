//! The Sangam plugin SDK (guest side).
//!
//! A Sangam plugin is a WebAssembly component built for `wasm32-wasip2` against the WIT package
//! `sangam:plugin@1.3.0` (`sdk/wit/v1.3.0`). This crate hides the WIT bindings: a plugin author writes
//! a struct, implements one of three traits and invokes one macro.
//!
//! | Role | Trait | Macro | Called with |
//! |---|---|---|---|
//! | data adapter | [`Adapter`] | [`export_adapter!`] | raw bytes from a host-run source |
//! | simulation model | [`Simulation`] | [`export_simulation!`] | a fixed-dt [`Tick`] over granted entities |
//! | overlay | [`Overlay`] | [`export_overlay!`] | the simulation time of the frame |
//!
//! ```
//! use sangam_sdk::{EntityTable, ParameterSpec, Simulation, Tick, Updates, params, twin};
//!
//! /// Every granted entity's `load` relaxes toward zero.
//! struct Relax {
//!     all: Vec<u32>,
//! }
//!
//! impl Simulation for Relax {
//!     fn init(entities: EntityTable) -> Result<Self, String> {
//!         Ok(Relax { all: (0..entities.ids.len() as u32).collect() })
//!     }
//!
//!     fn step(&mut self, tick: Tick) -> Result<Updates, String> {
//!         let rate = params::number("rate").unwrap_or(0.1);
//!         let load = twin::numbers("load", &self.all);
//!         let keep = (-rate * tick.dt_seconds()).exp();
//!         let next: Vec<f64> = load.iter().map(|v| v * keep).collect();
//!         Ok(Updates::new(tick.end()).number("load", "", &self.all, &next))
//!     }
//!
//!     fn parameters() -> Vec<ParameterSpec> {
//!         vec![ParameterSpec::number("rate", 0.1).unit("1/s").range(0.0, 10.0)]
//!     }
//! }
//!
//! sangam_sdk::export_simulation!(Relax);
//! # fn main() {}
//! ```
//!
//! # Rules of the contract
//!
//! - **Structure of arrays.** Bulk data crosses the boundary as flat numeric lists, one call per tick:
//!   [`Updates::number`] takes parallel slices of entity indices and values, [`twin::numbers`] reads one
//!   property of many entities in one host call. Never call the host once per entity. A simulation
//!   that updates every granted entity hands its state over with [`output::full_column`] (no index
//!   list, no copy in the plugin), and a map of the site with [`output::raster`] (since 1.3).
//! - **Site geometry** (since 1.3): [`geometry::buildings`] and [`geometry::roads`] hand over the
//!   scene's mapped buildings and roads once, in `init`, when the scene grants `site-geometry`.
//! - **Entities are indices** into the [`EntityTable`] the plugin got at `init` (for adapters: into
//!   [`AdapterOutput::keys`]).
//! - **Finite numbers only.** The host rejects NaN and infinities in updates and overlay primitives.
//! - **One instance, one thread.** The runtime never calls a plugin instance concurrently; the state the
//!   macros keep needs no locking.
//! - **Errors are values.** Return `Err(message)` for a bad input; a panic traps the instance and the
//!   runtime quarantines and restarts it.
//!
//! # Testing plugins on the host
//!
//! The crate also builds for the host (not `wasm32`). There the host calls ([`params`], [`twin`],
//! [`clock`], [`log`]) go to an in-process stand-in that tests fill through [`testing`], so a plugin's
//! logic can be unit-tested with `cargo test` without a runtime.

#![warn(missing_docs)]

#[doc(hidden)]
#[path = "bindings.rs"]
pub mod __bindings;

#[doc(hidden)]
pub mod __export;
pub mod clock;
pub mod geometry;
mod host;
pub mod log;
pub mod output;
pub mod overlay;
pub mod params;
mod roles;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod timestamps;
pub mod twin;
mod updates;

pub use __bindings::adapter::exports::sangam::plugin::adapter::{AdapterOutput, NewEntity, SourceInfo};
pub use __bindings::describe::exports::sangam::plugin::describe::ParameterSpec;
pub use __bindings::simulation::sangam::plugin::types::{
    EntityTable, NumberColumn, ParamValue, TextValue, TimeUs, Updates,
};
pub use overlay::OverlayFrame;
pub use roles::{Adapter, Overlay, Simulation, Tick};

/// The version of the WIT package `sangam:plugin` this SDK builds plugins against (put it in the
/// manifest's `sdk` key).
pub const SDK_VERSION: &str = "1.3.0";

/// Microseconds in one second ([`TimeUs`] counts microseconds).
pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// Converts a simulation time or duration in microseconds to seconds.
///
/// ```
/// assert_eq!(sangam_sdk::seconds(2_500_000), 2.5);
/// ```
pub fn seconds(us: TimeUs) -> f64 {
    us as f64 / MICROS_PER_SECOND as f64
}

/// Converts seconds to microseconds, rounding to the nearest microsecond and saturating at the ends of
/// the `i64` range (NaN gives 0).
///
/// ```
/// assert_eq!(sangam_sdk::micros(0.25), 250_000);
/// ```
pub fn micros(seconds: f64) -> TimeUs {
    (seconds * MICROS_PER_SECOND as f64).round() as TimeUs
}
