//! The `sangam` binary's integration tests, one binary: the command line (exit codes, messages,
//! images), `sangam run` and its front ends, `sangam record` and `sangam replay`, plugins in a running site, `sangam plugin ...` and the
//! scaffolded plugin crates.

mod cli;
mod live_plugins;
mod plugin_cli;
mod record;
mod run;
mod scaffold;
