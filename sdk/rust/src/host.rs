//! The host calls: the real imports on `wasm32`, the in-process stand-in of [`crate::testing`]
//! elsewhere (so plugin logic can be unit-tested on the build machine).

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::__bindings::simulation::sangam::plugin::{
    clock::{now, step_us},
    geometry::{buildings, roads},
    log::log,
    output::{full_column, raster},
    params::get,
    twin::{aggregate, history, numbers, text},
};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::host::{
    aggregate, buildings, full_column, get, history, log, now, numbers, raster, roads, step_us, text,
};
