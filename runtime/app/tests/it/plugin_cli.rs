//! `sangam plugin ...` as a plugin author and an operator run it: pack, keygen, sign, check, with
//! exit codes and the lines people read. Test components are built from the frozen WIT with
//! wit-component.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

fn sangam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sangam")).args(args).output().expect("the sangam binary runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-plugin-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// A component for `world` of the WIT package in `wit` (a folder).
fn component_from(wit: &Path, world: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit).expect("WIT parses");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).expect("metadata");
    ComponentEncoder::default().module(&module).expect("module").validate(true).encode().expect("component")
}

/// Writes a 1.1.0 simulation component and its manifest into `dir`.
fn simulation_plugin(dir: &Path) -> (PathBuf, PathBuf) {
    let component = dir.join("decay.wasm");
    std::fs::write(&component, component_from(&root().join("sdk/wit/v1.1.0"), "simulation-plugin")).unwrap();
    let manifest = dir.join("plugin.toml");
    std::fs::write(
        &manifest,
        "id = \"sangam.decay\"\nversion = \"0.2.0\"\nsdk = \"1.1.0\"\nrole = \"simulation\"\n\
         description = \"Exponential decay.\"\n\n[capabilities]\nwall-clock = true\n\n[limits]\nmemory-mb = 32\n\n\
         [[parameter]]\nname = \"half-life\"\ntype = \"number\"\ndefault = 60.0\nunit = \"s\"\n",
    )
    .unwrap();
    (component, manifest)
}

#[test]
fn pack_keygen_sign_and_check_a_plugin() {
    let dir = temp_dir("signed");
    let (component, manifest) = simulation_plugin(&dir);
    let key = dir.join("vendor");
    let out = sangam(&["plugin", "keygen", "--out", s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("vendor.key").is_file() && dir.join("vendor.pub").is_file());
    let key_id = stdout(&out).lines().next().and_then(|l| l.strip_prefix("key id ")).unwrap().to_string();
    assert_eq!(key_id.len(), 16, "{}", stdout(&out));

    let artifact = dir.join("dist/decay.wasm");
    let key_file = dir.join("vendor.key");
    let out = sangam(&[
        "plugin",
        "pack",
        s(&component),
        "--manifest",
        s(&manifest),
        "-o",
        s(&artifact),
        "--sign",
        s(&key_file),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("signed by key {key_id}")), "{}", stdout(&out));

    let public = dir.join("vendor.pub");
    let out = sangam(&["plugin", "check", s(&artifact), "--trusted", s(&public)]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    for needle in [
        "plugin        sangam.decay 0.2.0",
        "role          simulation",
        "sdk           1.1.0 (this runtime supports 1.0.0 to 1.3.0)",
        "capabilities  wall-clock",
        "memory 32 MiB",
        "parameter     half-life (number",
        &format!("signed by trusted key {key_id}"),
        "can run       yes",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let size = std::fs::metadata(&artifact).unwrap().len();
    assert!(text.contains(&format!("size          {size} bytes")), "{text}");

    // The same artifact without its vendor's key: refused, and the reason names the key.
    let out = sangam(&["plugin", "check", s(&artifact)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("can run       no:") && text.contains(&key_id), "{text}");

    // A keygen never overwrites.
    let out = sangam(&["plugin", "keygen", "--out", s(&key)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unsigned_plugin_runs_only_in_dev_mode() {
    let dir = temp_dir("unsigned");
    let (component, manifest) = simulation_plugin(&dir);
    let artifact = dir.join("decay.packed.wasm");
    let out = sangam(&["plugin", "pack", s(&component), "--manifest", s(&manifest), "-o", s(&artifact)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sangam(&["plugin", "check", s(&artifact)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("signature     unsigned"), "{}", stdout(&out));
    assert!(stdout(&out).contains("not signed"), "{}", stdout(&out));
    let out = sangam(&["plugin", "check", s(&artifact), "--allow-unsigned"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("can run       yes (dev mode only"), "{}", stdout(&out));

    // A bare component can be checked against its manifest before packing.
    let out = sangam(&["plugin", "check", s(&component), "--manifest", s(&manifest), "--allow-unsigned"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Without one it is not runnable, and the answer says how to package it.
    let out = sangam(&["plugin", "check", s(&component)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("role          simulation") && text.contains("sangam plugin pack"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrong_major_version_is_refused_with_both_versions() {
    let dir = temp_dir("v2");
    let wit = dir.join("wit");
    std::fs::create_dir_all(&wit).unwrap();
    for entry in std::fs::read_dir(root().join("sdk/wit/v1.1.0")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap().replace("sangam:plugin@1.1.0", "sangam:plugin@2.0.0");
        std::fs::write(wit.join(entry.file_name()), text).unwrap();
    }
    let component = dir.join("future.wasm");
    std::fs::write(&component, component_from(&wit, "overlay-plugin")).unwrap();
    let out = sangam(&["plugin", "check", s(&component)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("can run       no:") && text.contains("SDK 2.0.0") && text.contains("1.0.0 to 1.3.0"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pack_refuses_a_mismatched_manifest_naming_the_file() {
    let dir = temp_dir("mismatch");
    let (component, manifest) = simulation_plugin(&dir);
    let text = std::fs::read_to_string(&manifest).unwrap().replace("\"simulation\"", "\"overlay\"");
    std::fs::write(&manifest, text).unwrap();
    let artifact = dir.join("out.wasm");
    let out = sangam(&["plugin", "pack", s(&component), "--manifest", s(&manifest), "-o", s(&artifact)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("decay.wasm") && err.contains("role `overlay`") && err.contains("role `simulation`"), "{err}");
    assert!(!artifact.exists(), "nothing is written on error");

    let bad = dir.join("bad.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("version = \"0.2.0\"", "version = \"1\"");
    std::fs::write(&bad, text).unwrap();
    let out = sangam(&["plugin", "pack", s(&component), "--manifest", s(&bad), "-o", s(&artifact)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.toml:2:11"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_of_garbage_and_missing_files_is_exit_1() {
    let dir = temp_dir("garbage");
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x0d\0\x01\0\x07\xff\xff").unwrap();
    let out = sangam(&["plugin", "check", s(&junk)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("malformed"), "{}", stdout(&out));
    let out = sangam(&["plugin", "check", "/nonexistent/plugin.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("/nonexistent/plugin.wasm"), "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn new_refuses_an_unknown_role() {
    let out = sangam(&["plugin", "new", "x", "--role", "renderer"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("use adapter, simulation or overlay"), "{}", stderr(&out));
}
