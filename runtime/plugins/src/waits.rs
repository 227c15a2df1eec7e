//! WASI waits bounded by the plugin call. A sync host cannot interrupt a thread blocked in
//! `wasi:io/poll`, so the waits themselves are bounded where they are made: the two functions that
//! create timers, `wasi:clocks/monotonic-clock` `subscribe-duration` and `subscribe-instant` (what
//! `std::thread::sleep`, timers and polls with a timeout use), are replaced in every linker.
//!
//! - Without the `wall-clock` grant a plugin may not wait at all: the call faults, naming the grant.
//! - With it, a timer fires at the call's deadline at the latest, whatever it asked for (a pollable
//!   that "never fires" included); the epoch deadline then stops the plugin at its next instruction.
//!
//! Every other pollable the host hands a plugin (its captured stdout and stderr, files under a
//! granted `/data`, the empty stdin) is ready at once, and network interfaces are never admitted
//! ([`crate::admission`]), so no `poll` can block past the deadline. Cost: one resource-table push
//! per timer.

use std::time::{Duration, Instant};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::clocks::WasiClocksView;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use crate::error::FaultCause;
use crate::host::PluginState;

/// The interface whose timer functions are replaced (the version wasmtime-wasi links; components
/// importing any 0.2.x resolve to it).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A timer that fires at `until`.
struct BoundedTimer {
    until: tokio::time::Instant,
}

#[wasmtime_wasi::async_trait]
impl Pollable for BoundedTimer {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.until).await;
    }
}

/// Replaces the timer functions of `linker` (after WASI was added to it).
pub(crate) fn bound_timers(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |mut store: StoreContextMut<'_, PluginState>, (nanos,): (u64,)| {
        let call = "wasi:clocks/monotonic-clock.subscribe-duration";
        timer(store.data_mut(), call, Duration::from_nanos(nanos)).map(|t| (t,))
    })?;
    clock.func_wrap("subscribe-instant", |mut store: StoreContextMut<'_, PluginState>, (when,): (u64,)| {
        let call = "wasi:clocks/monotonic-clock.subscribe-instant";
        let state = store.data_mut();
        // `when` is on the plugin's own monotonic clock (the host's, when granted).
        let now = wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host::now(&mut state.clocks())?;
        timer(state, call, Duration::from_nanos(when.saturating_sub(now))).map(|t| (t,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A timer for `requested`, ending no later than the running call's deadline.
fn timer(state: &mut PluginState, call: &'static str, requested: Duration) -> wasmtime::Result<Resource<DynPollable>> {
    if !state.timers_granted {
        return Err(state.stop(FaultCause::Ungranted { call, capability: "wall-clock" }));
    }
    let deadline = state.deadline();
    let until = Instant::now().checked_add(requested).map_or(deadline, |at| at.min(deadline));
    let table = state.ctx().table;
    let timer = table.push(BoundedTimer { until: until.into() })?;
    subscribe(table, timer)
}
