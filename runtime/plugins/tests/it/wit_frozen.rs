//! The SDK contract does not move under plugin authors' feet:
//!
//! - every released WIT folder (`sdk/wit/vX.Y.Z/`) is byte-for-byte what was released, as recorded
//!   in `sdk/wit/RELEASED`;
//! - each minor release is a compatible evolution of the previous one for every role world
//!   (`wit_component::semver_check`), apart from new optional exports the host treats as optional;
//! - the check does catch the classic mistake, a function added to an exported interface;
//! - the host's table of interfaces per version and role matches the WIT.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sangam_plugins::inspect::world_interfaces;
use sangam_plugins::{Role, SUPPORTED_SDK_VERSIONS, SdkVersion};
use sha2::{Digest, Sha256};
use wit_parser::{PackageId, Resolve, WorldId, WorldItem, WorldKey};

/// Exports a minor version may add that the host treats as optional (a plugin built for an older
/// version simply lacks them).
const OPTIONAL_EXPORTS: &[&str] = &["describe"];

fn wit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/wit")
}

const HOW_TO_CHANGE: &str = "released WIT is frozen: plugins built against it must keep working. Do not edit a \
     released folder; copy the newest one to sdk/wit/vX.Y.Z (a new minor for additions, a new major for breaking \
     changes), change the copy, and add its files to sdk/wit/RELEASED (`VERSION PATH SHA256`, sha256 of the file \
     with CRLF turned into LF) when it ships";

fn sha256_hex(bytes: &[u8]) -> String {
    let normalized = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    Sha256::digest(normalized.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `RELEASED` as version -> (file -> sha256).
fn released() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = wit_root().join("RELEASED");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [version, file, hash] = parts[..] else {
            panic!("{}:{}: expected `VERSION PATH SHA256`, found `{line}`", path.display(), n + 1)
        };
        assert!(SdkVersion::parse(version).is_some(), "{}:{}: `{version}` is not a version", path.display(), n + 1);
        assert!(hash.len() == 64, "{}:{}: `{hash}` is not a sha256", path.display(), n + 1);
        let previous = out.entry(version.to_string()).or_default().insert(file.to_string(), hash.to_string());
        assert!(previous.is_none(), "{}:{}: {version} {file} is listed twice", path.display(), n + 1);
    }
    out
}

/// What differs between the released folders under `root` and `released`, one line per file.
fn frozen_problems(root: &Path, released: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (version, files) in released {
        let dir = root.join(format!("v{version}"));
        for (file, hash) in files {
            let path = dir.join(file);
            match std::fs::read(&path) {
                Err(e) => problems.push(format!("{}: released file is missing ({e})", path.display())),
                Ok(bytes) if sha256_hex(&bytes) != *hash => problems
                    .push(format!("{}: released file was modified (sha256 differs from RELEASED)", path.display())),
                Ok(_) => {}
            }
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !files.contains_key(&name) {
                problems.push(format!("{}: file added to a released folder", entry.path().display()));
            }
        }
    }
    problems
}

#[test]
fn released_wit_folders_are_unchanged() {
    let released = released();
    assert!(!released.is_empty(), "sdk/wit/RELEASED lists no release");
    let problems = frozen_problems(&wit_root(), &released);
    assert!(problems.is_empty(), "{}\n\n{HOW_TO_CHANGE}", problems.join("\n"));
}

#[test]
fn an_edited_removed_or_added_file_is_named() {
    // The check above, on a copy with one file edited, one removed and one added.
    let copy = std::env::temp_dir().join(format!("sangam-wit-{}-frozen", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    let released = released();
    for version in released.keys() {
        std::fs::create_dir_all(copy.join(format!("v{version}"))).unwrap();
        for entry in std::fs::read_dir(wit_root().join(format!("v{version}"))).unwrap().flatten() {
            std::fs::copy(entry.path(), copy.join(format!("v{version}")).join(entry.file_name())).unwrap();
        }
    }
    assert!(frozen_problems(&copy, &released).is_empty(), "an exact copy passes");
    let edited = copy.join("v1.0.0/types.wit");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replacen("interface log {", "interface log {\n    flush: func();", 1)).unwrap();
    std::fs::remove_file(copy.join("v1.1.0/overlay.wit")).unwrap();
    std::fs::write(copy.join("v1.1.0/extra.wit"), "package sangam:plugin@1.1.0;\n").unwrap();
    // CRLF line endings (a Windows checkout) are not a change.
    let crlf = copy.join("v1.0.0/adapter.wit");
    let text = std::fs::read_to_string(&crlf).unwrap();
    std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
    let problems = frozen_problems(&copy, &released);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("v1.0.0/types.wit") && problems[0].contains("modified"), "{problems:#?}");
    assert!(problems[1].contains("v1.1.0/overlay.wit") && problems[1].contains("missing"), "{problems:#?}");
    assert!(problems[2].contains("v1.1.0/extra.wit") && problems[2].contains("added"), "{problems:#?}");
    let _ = std::fs::remove_dir_all(copy);
}

#[test]
fn every_supported_version_is_released_and_every_folder_is_recorded() {
    let released = released();
    for version in SUPPORTED_SDK_VERSIONS {
        assert!(released.contains_key(&version.to_string()), "SDK {version} is supported but not in sdk/wit/RELEASED");
    }
    for entry in std::fs::read_dir(wit_root()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(version) = name.strip_prefix('v').filter(|_| entry.path().is_dir()) {
            let lines: Vec<String> = std::fs::read_dir(entry.path())
                .unwrap()
                .flatten()
                .map(|f| {
                    format!(
                        "{version} {} {}",
                        f.file_name().to_string_lossy(),
                        sha256_hex(&std::fs::read(f.path()).unwrap())
                    )
                })
                .collect();
            assert!(
                released.contains_key(version),
                "sdk/wit/{name} is not recorded in sdk/wit/RELEASED; when it is released, add:\n{}",
                lines.join("\n")
            );
        }
    }
}

/// Both released folders in one `Resolve`.
fn load(dirs: &[PathBuf]) -> (Resolve, Vec<PackageId>) {
    let mut resolve = Resolve::default();
    let ids = dirs.iter().map(|d| resolve.push_dir(d).unwrap_or_else(|e| panic!("{}: {e:?}", d.display())).0).collect();
    (resolve, ids)
}

fn interface_name(resolve: &Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(name) => name.clone(),
        WorldKey::Interface(id) => resolve.interfaces[*id].name.clone().unwrap_or_default(),
    }
}

fn export_names(resolve: &Resolve, world: WorldId) -> BTreeSet<String> {
    resolve.worlds[world].exports.keys().map(|k| interface_name(resolve, k)).collect()
}

/// `semver_check(prev, new)` with the exports `new` adds over `prev` removed when they are in
/// `OPTIONAL_EXPORTS` (the host calls them only when present).
fn compatible(resolve: &Resolve, prev: WorldId, new: WorldId) -> anyhow::Result<()> {
    let mut resolve = resolve.clone();
    let old_exports = export_names(&resolve, prev);
    let added: Vec<WorldKey> = resolve.worlds[new]
        .exports
        .keys()
        .filter(|k| {
            let name = interface_name(&resolve, k);
            !old_exports.contains(&name) && OPTIONAL_EXPORTS.contains(&name.as_str())
        })
        .cloned()
        .collect();
    for key in added {
        resolve.worlds[new].exports.shift_remove(&key);
    }
    wit_component::semver_check(resolve, prev, new)
}

#[test]
fn each_minor_release_is_compatible_with_the_previous_one_for_every_role() {
    let versions: Vec<SdkVersion> = SUPPORTED_SDK_VERSIONS.to_vec();
    let dirs: Vec<PathBuf> = versions.iter().map(|v| wit_root().join(format!("v{v}"))).collect();
    let (resolve, ids) = load(&dirs);
    for pair in 1..versions.len() {
        if versions[pair].major != versions[pair - 1].major {
            continue;
        }
        for role in Role::ALL {
            let prev = resolve.select_world(&[ids[pair - 1]], Some(role.world())).unwrap();
            let new = resolve.select_world(&[ids[pair]], Some(role.world())).unwrap();
            // The plain check flags the optional exports (a 1.0 plugin has no `describe`), and only those.
            if let Err(e) = wit_component::semver_check(resolve.clone(), prev, new) {
                let msg = format!("{e:#}");
                assert!(
                    OPTIONAL_EXPORTS.iter().any(|x| msg.contains(&format!("missing export named `sangam:plugin/{x}`"))),
                    "{} {}: {msg}",
                    role.world(),
                    versions[pair]
                );
            }
            compatible(&resolve, prev, new).unwrap_or_else(|e| {
                panic!(
                    "{} {} is not a compatible evolution of {}: {e:?}",
                    role.world(),
                    versions[pair],
                    versions[pair - 1]
                )
            });
            // New exports must be optional ones; nothing else may be added to what a plugin provides.
            let added: Vec<String> =
                export_names(&resolve, new).difference(&export_names(&resolve, prev)).cloned().collect();
            for name in &added {
                assert!(
                    OPTIONAL_EXPORTS.contains(&name.as_str()),
                    "{} {}: new export `{name}` is not optional",
                    role.world(),
                    versions[pair]
                );
            }
        }
    }
}

/// A copy of v1.1.0 relabelled 1.2.0 with `edit` applied to `file`.
fn modified_copy(name: &str, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-wit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(wit_root().join("v1.1.0")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap().replace("sangam:plugin@1.1.0", "sangam:plugin@1.2.0");
        let text = if entry.file_name() == file { edit(&text) } else { text };
        std::fs::write(dir.join(entry.file_name()), text).unwrap();
    }
    dir
}

#[test]
fn adding_a_function_to_an_exported_interface_is_reported_incompatible() {
    let broken = modified_copy("export-added", "simulation.wit", |t| {
        let edited = t.replacen(
            "interface simulation {",
            "interface simulation {\n    /// Added in a minor: breaks every 1.1 plugin.\n    reset: func();\n",
            1,
        );
        assert_ne!(edited, t, "the edit applies");
        edited
    });
    let (resolve, ids) = load(&[wit_root().join("v1.1.0"), broken.clone()]);
    let prev = resolve.select_world(&[ids[0]], Some("simulation-plugin")).unwrap();
    let new = resolve.select_world(&[ids[1]], Some("simulation-plugin")).unwrap();
    let e = compatible(&resolve, prev, new).expect_err("a new export function must be refused");
    let msg = format!("{e:#}");
    assert!(msg.contains("not semver-compatible") && msg.contains("reset"), "{msg}");
    let _ = std::fs::remove_dir_all(broken);
}

#[test]
fn adding_a_host_function_is_compatible() {
    // The control for the test above: the check is not simply refusing any change.
    let grown = modified_copy("import-added", "types.wit", |t| {
        let edited = t.replacen(
            "interface clock {",
            "interface clock {\n    /// Added in a minor: fine, plugins may ignore it.\n    ticks: func() -> u64;\n",
            1,
        );
        assert_ne!(edited, t, "the edit applies");
        edited
    });
    let (resolve, ids) = load(&[wit_root().join("v1.1.0"), grown.clone()]);
    for role in Role::ALL {
        let prev = resolve.select_world(&[ids[0]], Some(role.world())).unwrap();
        let new = resolve.select_world(&[ids[1]], Some(role.world())).unwrap();
        compatible(&resolve, prev, new).unwrap_or_else(|e| panic!("{}: {e:?}", role.world()));
    }
    let _ = std::fs::remove_dir_all(grown);
}

#[test]
fn host_table_of_interfaces_matches_the_wit() {
    for version in SUPPORTED_SDK_VERSIONS {
        let (resolve, ids) = load(&[wit_root().join(format!("v{version}"))]);
        for role in Role::ALL {
            let world = resolve.select_world(&[ids[0]], Some(role.world())).unwrap();
            let w = &resolve.worlds[world];
            let imports: BTreeSet<String> = w
                .imports
                .iter()
                .filter(|(_, item)| matches!(item, WorldItem::Interface { .. }))
                .map(|(k, _)| interface_name(&resolve, k))
                .collect();
            let exports = export_names(&resolve, world);
            let (table_imports, table_exports) = world_interfaces(version, role);
            let table_imports: BTreeSet<String> = table_imports.iter().map(|s| s.to_string()).collect();
            let table_exports: BTreeSet<String> = table_exports.iter().map(|s| s.to_string()).collect();
            assert_eq!(imports, table_imports, "{version} {}: imports", role.world());
            assert_eq!(exports, table_exports, "{version} {}: exports", role.world());
        }
    }
}
