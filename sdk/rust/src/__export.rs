//! Glue between the generated wit-bindgen traits and the SDK's role traits, and the `export_*!`
//! macros. Not part of the public API: use the macros.
//!
//! The plugin instance's state (the value `init` returned) lives in a thread-local cell. A component
//! instance is single-threaded and the component model forbids re-entering an instance, so the cell
//! is only ever borrowed by one call at a time.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use crate::__bindings::adapter::exports::sangam::plugin::adapter as wit_adapter;
use crate::__bindings::describe::exports::sangam::plugin::describe as wit_describe;
use crate::__bindings::overlay::exports::sangam::plugin::overlay as wit_overlay;
use crate::__bindings::simulation::exports::sangam::plugin::simulation as wit_simulation;
use crate::{Adapter, AdapterOutput, EntityTable, Overlay, OverlayFrame, ParameterSpec, Simulation, Tick, TimeUs};
use crate::{SourceInfo, Updates};

thread_local! {
    /// The plugin's state, set by a successful `init`.
    static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Stores the state `init` produced, replacing any earlier one.
fn install<T: 'static>(state: T) {
    STATE.with(|cell| *cell.borrow_mut() = Some(Box::new(state)));
}

/// Runs `f` on the state of type `T`, or explains why there is none.
fn with_state<T: 'static, R>(call: &str, f: impl FnOnce(&mut T) -> Result<R, String>) -> Result<R, String> {
    STATE.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| format!("`{call}` was called while another call was running (re-entrant call)"))?;
        let state = slot.as_mut().ok_or_else(|| format!("`{call}` was called before `init` succeeded"))?;
        let state = state
            .downcast_mut::<T>()
            .ok_or_else(|| format!("`{call}`: the plugin state has an unexpected type (two export macros?)"))?;
        f(state)
    })
}

/// Compile-time check used by [`export_adapter!`](crate::export_adapter).
pub fn assert_adapter<T: Adapter>() {}

/// Compile-time check used by [`export_simulation!`](crate::export_simulation).
pub fn assert_simulation<T: Simulation>() {}

/// Compile-time check used by [`export_overlay!`](crate::export_overlay).
pub fn assert_overlay<T: Overlay>() {}

/// Implements the generated `adapter` and `describe` traits for an [`Adapter`].
pub struct AdapterExport<T>(PhantomData<T>);

impl<T: Adapter> wit_adapter::Guest for AdapterExport<T> {
    fn init() -> Result<(), String> {
        install(T::init()?);
        Ok(())
    }

    fn parse(source: SourceInfo, payload: Vec<u8>) -> Result<AdapterOutput, String> {
        with_state::<T, _>("parse", |state| state.parse(&source, &payload))
    }
}

impl<T: Adapter> wit_describe::Guest for AdapterExport<T> {
    fn describe_parameters() -> Vec<ParameterSpec> {
        T::parameters()
    }
}

/// Implements the generated `simulation` and `describe` traits for a [`Simulation`].
pub struct SimulationExport<T>(PhantomData<T>);

impl<T: Simulation> wit_simulation::Guest for SimulationExport<T> {
    fn init(entities: EntityTable) -> Result<(), String> {
        install(T::init(entities)?);
        Ok(())
    }

    fn step(now: TimeUs, dt_us: i64) -> Result<Updates, String> {
        with_state::<T, _>("step", |state| state.step(Tick { now, dt_us }))
    }
}

impl<T: Simulation> wit_describe::Guest for SimulationExport<T> {
    fn describe_parameters() -> Vec<ParameterSpec> {
        T::parameters()
    }
}

/// Implements the generated `overlay` and `describe` traits for an [`Overlay`].
pub struct OverlayExport<T>(PhantomData<T>);

impl<T: Overlay> wit_overlay::Guest for OverlayExport<T> {
    fn init(entities: EntityTable) -> Result<(), String> {
        install(T::init(entities)?);
        Ok(())
    }

    fn draw(now: TimeUs) -> Result<OverlayFrame, String> {
        with_state::<T, _>("draw", |state| state.draw(now))
    }
}

impl<T: Overlay> wit_describe::Guest for OverlayExport<T> {
    fn describe_parameters() -> Vec<ParameterSpec> {
        T::parameters()
    }
}

/// Exports a type implementing [`Simulation`](crate::Simulation) as this component's simulation
/// model (world `sangam:plugin/simulation-plugin@1.3.0`). Invoke it once, in a `cdylib` crate.
///
/// ```
/// # use sangam_sdk::{EntityTable, Simulation, Tick, Updates};
/// struct Idle;
/// impl Simulation for Idle {
///     fn init(_: EntityTable) -> Result<Self, String> { Ok(Idle) }
///     fn step(&mut self, tick: Tick) -> Result<Updates, String> { Ok(Updates::new(tick.end())) }
/// }
/// sangam_sdk::export_simulation!(Idle);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_simulation {
    ($ty:ty) => {
        // Checks the trait on every target; the exports exist only in the wasm component (their
        // names are not valid symbol names for a native shared library).
        const _: fn() = $crate::__export::assert_simulation::<$ty>;
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __SangamSimulationExport = $crate::__export::SimulationExport<$ty>;
            $crate::__bindings::simulation::export_sim_world!(
                __SangamSimulationExport with_types_in $crate::__bindings::simulation
            );
            $crate::__bindings::describe::export_describe_world!(
                __SangamSimulationExport with_types_in $crate::__bindings::describe
            );
        };
    };
}

/// Exports a type implementing [`Adapter`](crate::Adapter) as this component's data adapter (world
/// `sangam:plugin/adapter-plugin@1.3.0`). Invoke it once, in a `cdylib` crate.
///
/// ```
/// # use sangam_sdk::{Adapter, AdapterOutput, SourceInfo, Updates};
/// struct Nothing;
/// impl Adapter for Nothing {
///     fn init() -> Result<Self, String> { Ok(Nothing) }
///     fn parse(&mut self, s: &SourceInfo, _: &[u8]) -> Result<AdapterOutput, String> {
///         Ok(AdapterOutput::new(Vec::new(), Updates::new(s.received)))
///     }
/// }
/// sangam_sdk::export_adapter!(Nothing);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($ty:ty) => {
        // Checks the trait on every target; the exports exist only in the wasm component (their
        // names are not valid symbol names for a native shared library).
        const _: fn() = $crate::__export::assert_adapter::<$ty>;
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __SangamAdapterExport = $crate::__export::AdapterExport<$ty>;
            $crate::__bindings::adapter::export_adapter_world!(
                __SangamAdapterExport with_types_in $crate::__bindings::adapter
            );
            $crate::__bindings::describe::export_describe_world!(
                __SangamAdapterExport with_types_in $crate::__bindings::describe
            );
        };
    };
}

/// Exports a type implementing [`Overlay`](crate::Overlay) as this component's overlay (world
/// `sangam:plugin/overlay-plugin@1.3.0`). Invoke it once, in a `cdylib` crate.
///
/// ```
/// # use sangam_sdk::{EntityTable, Overlay, OverlayFrame, TimeUs};
/// struct Blank;
/// impl Overlay for Blank {
///     fn init(_: EntityTable) -> Result<Self, String> { Ok(Blank) }
///     fn draw(&mut self, _: TimeUs) -> Result<OverlayFrame, String> { Ok(OverlayFrame::new()) }
/// }
/// sangam_sdk::export_overlay!(Blank);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_overlay {
    ($ty:ty) => {
        // Checks the trait on every target; the exports exist only in the wasm component (their
        // names are not valid symbol names for a native shared library).
        const _: fn() = $crate::__export::assert_overlay::<$ty>;
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __SangamOverlayExport = $crate::__export::OverlayExport<$ty>;
            $crate::__bindings::overlay::export_overlay_world!(
                __SangamOverlayExport with_types_in $crate::__bindings::overlay
            );
            $crate::__bindings::describe::export_describe_world!(
                __SangamOverlayExport with_types_in $crate::__bindings::describe
            );
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its steps; refuses to start on an empty table.
    struct Counter {
        steps: u32,
    }

    impl Simulation for Counter {
        fn init(entities: EntityTable) -> Result<Self, String> {
            if entities.ids.is_empty() { Err("no entities".into()) } else { Ok(Counter { steps: 0 }) }
        }

        fn step(&mut self, tick: Tick) -> Result<Updates, String> {
            self.steps += 1;
            Ok(Updates::new(tick.end()).number("steps", "", &[0], &[f64::from(self.steps)]))
        }

        fn parameters() -> Vec<ParameterSpec> {
            vec![ParameterSpec::integer("n", 3)]
        }
    }

    type Glue = SimulationExport<Counter>;

    fn table(n: usize) -> EntityTable {
        EntityTable { ids: vec!["e".into(); n], kinds: vec!["k".into(); n], positions: vec![0.0; 3 * n] }
    }

    #[test]
    fn state_lives_between_calls_and_init_errors_pass_through() {
        STATE.with(|s| *s.borrow_mut() = None);
        let e = <Glue as wit_simulation::Guest>::step(0, 1).unwrap_err();
        assert!(e.contains("before `init` succeeded"), "{e}");
        assert_eq!(<Glue as wit_simulation::Guest>::init(table(0)).unwrap_err(), "no entities");

        <Glue as wit_simulation::Guest>::init(table(1)).unwrap();
        <Glue as wit_simulation::Guest>::step(0, 10).unwrap();
        let second = <Glue as wit_simulation::Guest>::step(10, 10).unwrap();
        assert_eq!(second.time, 20);
        assert_eq!(second.numbers[0].values, vec![2.0], "the same state served both steps");

        // A fresh init replaces the state.
        <Glue as wit_simulation::Guest>::init(table(1)).unwrap();
        assert_eq!(<Glue as wit_simulation::Guest>::step(0, 1).unwrap().numbers[0].values, vec![1.0]);
        assert_eq!(<Glue as wit_describe::Guest>::describe_parameters()[0].name, "n");
    }

    #[test]
    fn a_state_of_another_type_is_an_error_not_a_panic() {
        install(String::from("not a counter"));
        let e = <Glue as wit_simulation::Guest>::step(0, 1).unwrap_err();
        assert!(e.contains("unexpected type"), "{e}");
    }
}
