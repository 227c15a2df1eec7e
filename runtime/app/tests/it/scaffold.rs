//! `sangam plugin new`: the scaffolded crates of all three roles build for `wasm32-wasip2` (one cargo
//! invocation over a throwaway workspace in the target folder) and pass their own example tests; bad
//! names, roles and existing folders are refused without writing anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use sangam::scaffold::{ScaffoldError, scaffold};

/// The repository root (this crate is `runtime/app`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs cargo in `dir` with its own target folder; returns stderr on failure.
fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .map_err(|e| format!("could not start {cargo}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} in {} failed:\n{}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn scaffolded_plugins_of_every_role_build_for_wasm32_wasip2() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-build");
    // Keep root/target between runs (only the crates are rewritten) so reruns are incremental.
    for name in ["demo-adapter", "demo-simulation", "demo-overlay"] {
        let _ = std::fs::remove_dir_all(root.join(name));
    }
    std::fs::create_dir_all(&root).unwrap();

    let mut members = Vec::new();
    for role in ["adapter", "simulation", "overlay"] {
        let name = format!("demo-{role}");
        let dir = scaffold(&name, role, &root).unwrap();
        assert_eq!(dir, root.canonicalize().unwrap().join(&name));
        let cargo_toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            cargo_toml.contains("sangam-sdk = { path = \""),
            "inside the repository the SDK comes by path:\n{cargo_toml}"
        );
        assert!(cargo_toml.contains("[package.metadata.sangam-plugin]"));
        let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
        assert!(manifest.contains(&format!("role = \"{role}\"")) && manifest.contains("sdk = \"1.3.0\""));
        assert!(!std::fs::read_to_string(dir.join("src/lib.rs")).unwrap().contains("{{"), "all placeholders filled");
        let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
        assert!(config.contains("target-feature=+simd128"), "a new plugin is built with SIMD:\n{config}");
        members.push(format!("\"{name}\""));
    }
    // A throwaway workspace (so the crates are not taken for members of Sangam's), pinned to
    // Sangam's lock file so the build needs no network.
    std::fs::write(
        root.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[profile.dev]\ndebug = false\n", members.join(", ")),
    )
    .unwrap();
    std::fs::copy(repo_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();

    cargo(&root, &["build", "--offline", "--target", "wasm32-wasip2"]).unwrap();
    for role in ["adapter", "simulation", "overlay"] {
        let wasm = root.join(format!("target/wasm32-wasip2/debug/demo_{role}.wasm"));
        let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
        // A component, not a core module: magic, then version 0x0d and layer 1.
        assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00", "{} is not a component", wasm.display());
        let exported = format!("sangam:plugin/{role}@1.3.0");
        assert!(
            bytes.windows(exported.len()).any(|w| w == exported.as_bytes()),
            "{} does not mention {exported}",
            wasm.display()
        );
    }
    // The examples' own unit tests, on the host with the SDK's stand-in runtime.
    cargo(&root, &["test", "--offline", "--quiet"]).unwrap();
}

#[test]
fn bad_role_bad_name_and_existing_folder_are_refused() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-refusals");
    let _ = std::fs::remove_dir_all(&root);

    let e = scaffold("ok-name", "renderer", &root).unwrap_err();
    assert!(matches!(e, ScaffoldError::UnknownRole { .. }), "{e}");
    assert!(e.to_string().contains("adapter, simulation, overlay"), "{e}");
    assert!(!root.join("ok-name").exists(), "nothing is written for a bad role");

    let e = scaffold("../escape", "overlay", &root).unwrap_err();
    assert!(matches!(e, ScaffoldError::InvalidName { .. }), "{e}");
    assert!(e.to_string().contains("\"../escape\""), "{e}");

    let dir = scaffold("ok-name", "overlay", &root).unwrap();
    assert!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap().contains("export_overlay!(Drawing)"));
    std::fs::write(dir.join("src/lib.rs"), "// my work").unwrap();
    let e = scaffold("ok-name", "simulation", &root).unwrap_err();
    assert!(matches!(e, ScaffoldError::Exists { .. }), "{e}");
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(), "// my work", "never overwrites");
}
