//! The `sangam` binary's integration tests, one binary: the command line (exit codes, messages,
//! images), `sangam run` and its front ends, `sangam record` and `sangam replay`, plugins in a running site, `sangam plugin ...` and the
//! scaffolded plugin crates.

mod cli;
mod live_plugins;
mod plugin_cli;
mod record;
mod run;
mod scaffold;

use std::path::{Path, PathBuf};

/// Whether rendering can run here; under CI it must (a missing adapter fails the test).
pub fn can_render() -> bool {
    match sangam_render::gpu::Renderer::new_headless() {
        Ok(_) => true,
        Err(e) if std::env::var_os("CI").is_some() => panic!("no GPU adapter under CI: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: no GPU adapter ({e})");
            false
        }
    }
}

/// The demo site's scene file.
pub fn demo_scene() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml")
}

/// Bytes as text, lossily.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
