//! `cargo xtask build-plugins`: builds every workspace member that declares
//! `[package.metadata.sangam-plugin]` (first-party plugins in `plugins/`, fault-corpus fixtures in
//! `tests/plugins/`) for `wasm32-wasip2`, in release mode without DWARF, in one cargo invocation, and lists the
//! components it produced with their sizes.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::workspace_root;

/// The Rust target plugins are built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// A workspace member that is a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginCrate {
    /// The package name (what `-p` takes).
    pub package: String,
    /// The library target's name (the `.wasm` file is `<lib_name>.wasm`).
    pub lib_name: String,
}

/// The plugin crates among the members of the workspace described by `metadata` (the JSON of
/// `cargo metadata --no-deps --format-version 1`), sorted by package name.
pub fn plugin_crates(metadata: &Value) -> Result<Vec<PluginCrate>> {
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata: no `workspace_members` list")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = metadata["packages"].as_array().context("cargo metadata: no `packages` list")?;
    let mut out = Vec::new();
    for package in packages {
        let id = package["id"].as_str().unwrap_or_default();
        if !members.contains(&id) || package["metadata"]["sangam-plugin"].is_null() {
            continue;
        }
        let name = package["name"].as_str().context("cargo metadata: a package without a name")?;
        let manifest = package["manifest_path"].as_str().context("cargo metadata: no manifest_path")?;
        let lib = package["targets"].as_array().and_then(|targets| {
            targets.iter().find(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")))
        });
        let Some(lib) = lib else {
            bail!(
                "{manifest}: package `{name}` has [package.metadata.sangam-plugin] but no cdylib library; \
                 add `[lib] crate-type = [\"cdylib\"]`"
            );
        };
        out.push(PluginCrate {
            package: name.to_string(),
            lib_name: lib["name"].as_str().unwrap_or(name).replace('-', "_"),
        });
    }
    out.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(out)
}

/// Builds every plugin crate of the workspace and returns the paths of the components.
pub fn build_plugins() -> Result<Vec<PathBuf>> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&root)
        .output()
        .with_context(|| format!("could not start `{cargo} metadata`"))?;
    if !output.status.success() {
        bail!("`cargo metadata` failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout).context("`cargo metadata` printed no JSON")?;
    let plugins = plugin_crates(&metadata)?;
    if plugins.is_empty() {
        eprintln!("xtask: no workspace member has [package.metadata.sangam-plugin]; nothing to build");
        return Ok(Vec::new());
    }
    // Without DWARF a component is ~20x smaller (csv-adapter: 150 KB instead of 2.9 MB); the name
    // section stays, so traps still name the function. Native release builds keep their line tables.
    let mut args =
        vec!["build", "--release", "--target", WASM_TARGET, "--config", "profile.release.strip=\"debuginfo\""];
    for p in &plugins {
        args.extend(["-p", p.package.as_str()]);
    }
    crate::cargo("plugins", &args)?;

    let target_dir = metadata["target_directory"].as_str().map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let out_dir = target_dir.join(WASM_TARGET).join("release");
    let mut built = Vec::new();
    eprintln!("xtask: plugin components in {}:", out_dir.display());
    for p in &plugins {
        let wasm = out_dir.join(format!("{}.wasm", p.lib_name));
        let size = std::fs::metadata(&wasm)
            .with_context(|| format!("cargo built `{}` but {} is missing", p.package, wasm.display()))?
            .len();
        eprintln!("  {:<28} {:>9} bytes ({:.1} KiB)  {}", p.package, size, size as f64 / 1024.0, wasm.display());
        built.push(wasm);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_members_with_plugin_metadata_and_a_cdylib() {
        let metadata = serde_json::json!({
            "workspace_members": ["a 0.1.0", "b 0.1.0", "c 0.1.0"],
            "packages": [
                {"id": "a 0.1.0", "name": "csv-adapter", "manifest_path": "/w/plugins/csv-adapter/Cargo.toml",
                 "metadata": {"sangam-plugin": {"manifest": "plugin.toml"}},
                 "targets": [{"name": "csv_adapter", "kind": ["cdylib", "rlib"]}]},
                {"id": "b 0.1.0", "name": "sangam-twin", "manifest_path": "/w/runtime/twin/Cargo.toml",
                 "metadata": null, "targets": [{"name": "sangam_twin", "kind": ["lib"]}]},
                {"id": "c 0.1.0", "name": "loop-forever", "manifest_path": "/w/tests/plugins/loop-forever/Cargo.toml",
                 "metadata": {"sangam-plugin": {}},
                 "targets": [{"name": "loop-forever", "kind": ["cdylib"]}]},
                {"id": "d 0.1.0", "name": "not-a-member", "manifest_path": "/x/Cargo.toml",
                 "metadata": {"sangam-plugin": {}}, "targets": [{"name": "x", "kind": ["cdylib"]}]}
            ]
        });
        let found = plugin_crates(&metadata).unwrap();
        let names: Vec<(&str, &str)> = found.iter().map(|p| (p.package.as_str(), p.lib_name.as_str())).collect();
        assert_eq!(names, vec![("csv-adapter", "csv_adapter"), ("loop-forever", "loop_forever")]);
    }

    #[test]
    fn a_plugin_without_cdylib_is_an_error_naming_it() {
        let metadata = serde_json::json!({
            "workspace_members": ["a"],
            "packages": [{"id": "a", "name": "half-plugin", "manifest_path": "/w/p/Cargo.toml",
                          "metadata": {"sangam-plugin": {}}, "targets": [{"name": "half_plugin", "kind": ["lib"]}]}]
        });
        let e = plugin_crates(&metadata).unwrap_err().to_string();
        assert!(e.contains("half-plugin") && e.contains("cdylib"), "{e}");
    }
}
