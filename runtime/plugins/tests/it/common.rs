//! Helpers shared by the plugin host tests.

use std::path::PathBuf;
use std::time::Duration;

use sangam_plugins::{EngineOptions, EntityTable, PluginEngine, PluginSpec, Role, SdkVersion};

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

/// The bytes of fixture plugin `name` (e.g. `sangam-fixture-misbehave`). Fails with the command to
/// run when it has not been built.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = target_dir().join("wasm32-wasip2/release").join(format!("{}.wasm", name.replace('-', "_")));
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => panic!(
            "fixture plugin {} is missing ({error}): run `cargo xtask build-plugins` (or `cargo build --release --target wasm32-wasip2 -p {name}`)",
            path.display()
        ),
    }
}

/// An engine sized for a test.
pub fn engine() -> PluginEngine {
    PluginEngine::new(EngineOptions { max_instances: 16, max_memory_bytes: 256 << 20, ..EngineOptions::default() })
        .expect("engine")
}

/// `n` entities in a row.
pub fn entities(n: usize) -> EntityTable {
    let mut table = EntityTable::default();
    for i in 0..n {
        table.push(format!("e/{i}"), "sensor", [i as f64, 0.0, 0.0]);
    }
    table
}

/// An overlay spec for the misbehave fixture in `mode`.
pub fn misbehave_spec(id: &str, mode: &str) -> PluginSpec {
    let mut spec = PluginSpec::new(id, Role::Overlay, SdkVersion::new(1, 1, 0))
        .param("mode", sangam_plugins::ParamValue::Text(mode.into()));
    spec.entities = entities(3);
    spec.limits.call_time = Duration::from_millis(50);
    spec
}
