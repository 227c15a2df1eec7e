//! `Session::tick` with real plugins (the repository's first-party plugins, built for wasm32-wasip2):
//! simulated time is not lost when steps are shorter than frames, a simulation that cannot keep up
//! holds the clock back and says so, an adapter slower than its source loses no message, and a
//! recorded session replays to the same state hash, a plugin never sees what it was not granted, and branches forked with other parameters run side by
//! side.
//!
//! Needs the plugins built (`cargo xtask build-plugins`, which `cargo xtask test` runs first).

mod branch;
mod catch_up;
mod governance;
mod inbox;
mod live;
mod record;
mod soak;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sangam_session::Session;
use sangam_twin::Scene;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder holding the built plugins; fails with the command to run when they are missing.
pub fn plugin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("target"));
    let dir = target.join("wasm32-wasip2/release");
    for wasm in ["decay_simulation.wasm", "csv_adapter.wasm"] {
        assert!(dir.join(wasm).is_file(), "{} is missing: run `cargo xtask build-plugins`", dir.join(wasm).display());
    }
    dir
}

/// A `[[plugins]]` entry running the first-party decay simulation as `id`: `property` relaxes toward 0
/// at `rate` per second, stepped every `step_ms`.
pub fn decay_plugin(id: &str, property: &str, rate: f64, step_ms: u32) -> String {
    let manifest = repo().join("plugins/decay-simulation/plugin.toml");
    format!(
        "[[plugins]]\nid = \"{id}\"\nartifact = \"decay_simulation.wasm\"\nmanifest = \"{}\"\nstep_ms = {step_ms}\n\
         [plugins.params]\nproperty = \"{property}\"\ndecay-rate = {rate:?}\n\n",
        manifest.display()
    )
}

/// A scene in a fresh folder: the origin, `body` (entities, clock, plugins) and dev-mode policy.
pub fn scene(name: &str, body: &str) -> Scene {
    let dir = std::env::temp_dir().join(format!("sangam-session-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "format = 1\nname = \"{name}\"\n\n[origin]\nlat = 28.5697905\nlon = 77.2091030\n\n[plugin_policy]\nallow_unsigned = \
         true\n\n{body}"
    );
    let path = dir.join("scene.toml");
    // Tests run in parallel and may write the same scene: write aside, then rename (atomic), so no
    // test reads a half-written file.
    let aside = dir.join(format!("scene.toml.{:?}", std::thread::current().id()));
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, &path).unwrap();
    Scene::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A session of `scene`, its plugins found in the built plugin folder.
pub fn session(scene: &Scene) -> Session {
    let _ = plugin_dir();
    Session::load(scene).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Ticks with no real time passing until `done` holds (the plugins finish what was submitted), at most
/// 30 s of wall-clock time, then once more so that what they completed is applied.
pub fn settle(session: &mut Session, done: impl Fn(&Session) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(session) {
        assert!(Instant::now() < deadline, "the plugins did not finish within 30 s: {:?}", session.status_lines());
        session.tick(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
    }
    session.tick(Duration::ZERO);
}
