//! Plugin components as they arrive: inspected before compilation (SDK version, role, WASI), packed
//! with their manifest into one artifact, signed and verified. Test components are built here from
//! the frozen WIT with wit-component (no wasm toolchain needed).

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use sangam_plugins::inspect::{self, InspectError};
use sangam_plugins::package::{self, MANIFEST_SECTION, Package, PackageError, SIGNATURE_SECTION};
use sangam_plugins::signing::{self, Admission, KeyError, KeyId, Signature, SignatureError, TrustedKeys, Verification};
use sangam_plugins::{Role, SdkVersion};
use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

fn wit_dir(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/wit").join(format!("v{version}"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-package-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A core module shaped like `world` of the WIT package in `dir`, with its metadata embedded.
fn core_module(dir: &Path, world: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(dir).expect("WIT parses");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world exists");
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).expect("metadata");
    module
}

/// A component of `world` built from the WIT package in `dir`.
fn component_from(dir: &Path, world: &str) -> Vec<u8> {
    let module = core_module(dir, world);
    ComponentEncoder::default().module(&module).expect("module").validate(true).encode().expect("component")
}

/// A component of a released SDK version's role world.
fn component(version: &str, role: Role) -> Vec<u8> {
    component_from(&wit_dir(version), role.world())
}

/// A copy of the v1.1.0 WIT relabelled as `version`, plus extra files, in a temp folder.
fn custom_wit(name: &str, version: &str, extra: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(wit_dir("1.1.0")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("package sangam:plugin@1.1.0;", &format!("package sangam:plugin@{version};"));
        std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
    }
    for (file, text) in extra {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn manifest(role: Role, sdk: &str) -> String {
    format!(
        "id = \"test.{role}\"\nversion = \"0.1.0\"\nsdk = \"{sdk}\"\nrole = \"{role}\"\n\
         description = \"A test plugin, marker AAAA.\"\n"
    )
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn trusting(keys: &[&SigningKey]) -> TrustedKeys {
    let mut trusted = TrustedKeys::new();
    for (i, k) in keys.iter().enumerate() {
        trusted.add(format!("key{i}"), k.verifying_key());
    }
    trusted
}

/// Names of the top-level custom sections.
fn custom_sections(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            wasmparser::Payload::ModuleSection { .. } | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(c) if depth == 0 => names.push(c.name().to_string()),
            _ => {}
        }
    }
    names
}

/// Appends a custom section (id 0, LEB128 size, name, payload).
fn append_custom(out: &mut Vec<u8>, name: &str, payload: &[u8]) {
    fn leb(out: &mut Vec<u8>, mut v: usize) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut body = Vec::new();
    leb(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    out.push(0);
    leb(out, body.len());
    out.extend_from_slice(&body);
}

// ---------------------------------------------------------------------------------------------
// Inspection.

#[test]
fn inspect_reads_role_and_sdk_version_of_every_released_world() {
    for version in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"] {
        for role in Role::ALL {
            let bytes = component(version, role);
            let found = inspect::inspect(&bytes).unwrap_or_else(|e| panic!("{version} {role}: {e}"));
            assert_eq!(found.role, role);
            assert_eq!(found.sdk, SdkVersion::parse(version).unwrap());
            assert_eq!(found.runs_as, found.sdk);
            assert_eq!(found.exports_describe, version != "1.0.0", "{version} {role}");
            assert!(found.sangam_imports.contains(&"log".to_string()), "{:?}", found.sangam_imports);
            assert_eq!(found.sangam_imports.contains(&"twin".to_string()), role != Role::Adapter);
            // 1.2's full columns (and 1.3's maps) belong to simulation steps only.
            let full_columns = version >= "1.2.0" && role == Role::Simulation;
            assert_eq!(found.sangam_imports.contains(&"output".to_string()), full_columns, "{version} {role}");
            // 1.3's site geometry is for the roles that read the twin.
            let geometry = version == "1.3.0" && role != Role::Adapter;
            assert_eq!(found.sangam_imports.contains(&"geometry".to_string()), geometry, "{version} {role}");
            assert!(found.sangam_exports.contains(&role.export_interface().to_string()));
            assert!(found.wasi_imports.is_empty() && found.other_imports.is_empty(), "{found:?}");
            assert_eq!(found.size, bytes.len());
        }
    }
}

#[test]
fn core_module_is_refused_with_how_to_make_a_component() {
    let module = core_module(&wit_dir("1.1.0"), "simulation-plugin");
    let e = inspect::inspect(&module).unwrap_err();
    assert_eq!(e, InspectError::CoreModule);
    assert!(e.to_string().contains("wasm32-wasip2"), "{e}");
}

#[test]
fn non_wasm_and_empty_input_are_refused() {
    assert_eq!(inspect::inspect(b"").unwrap_err(), InspectError::NotWasm);
    assert_eq!(inspect::inspect(b"id = \"x\"\n").unwrap_err(), InspectError::NotWasm);
    assert!(matches!(inspect::inspect(b"\0asm").unwrap_err(), InspectError::Malformed { .. }));
}

#[test]
fn unsupported_major_version_is_refused_naming_both_versions() {
    let dir = custom_wit("v2", "2.0.0", &[]);
    let bytes = component_from(&dir, "simulation-plugin");
    let e = inspect::inspect(&bytes).unwrap_err();
    assert_eq!(e, InspectError::UnsupportedVersion { found: SdkVersion::new(2, 0, 0) });
    let msg = e.to_string();
    assert!(msg.contains("SDK 2.0.0") && msg.contains("1.0.0 to 1.3.0") && msg.contains("newer Sangam"), "{msg}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn newer_minor_version_is_refused() {
    let dir = custom_wit("v1_7", "1.7.0", &[]);
    let e = inspect::inspect(&component_from(&dir, "overlay-plugin")).unwrap_err();
    assert_eq!(e, InspectError::UnsupportedVersion { found: SdkVersion::new(1, 7, 0) });
    assert!(e.to_string().contains("1.0.0 to 1.3.0"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn patch_release_runs_as_its_minor() {
    let dir = custom_wit("v1_1_4", "1.1.4", &[]);
    let found = inspect::inspect(&component_from(&dir, "adapter-plugin")).unwrap();
    assert_eq!((found.sdk, found.runs_as), (SdkVersion::new(1, 1, 4), SdkVersion::new(1, 1, 0)));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mixed_sdk_versions_are_refused() {
    let dir = temp_dir("mixed");
    std::fs::write(
        dir.join("mixed.wit"),
        "package test:mixed;\nworld mixed {\n  import sangam:plugin/log@1.0.0;\n  export sangam:plugin/simulation@1.1.0;\n}\n",
    )
    .unwrap();
    for version in ["1.0.0", "1.1.0"] {
        let deps = dir.join("deps").join(format!("sangam-{version}"));
        std::fs::create_dir_all(&deps).unwrap();
        for entry in std::fs::read_dir(wit_dir(version)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, deps.join(path.file_name().unwrap())).unwrap();
        }
    }
    let e = inspect::inspect(&component_from(&dir, "mixed")).unwrap_err();
    assert_eq!(e, InspectError::MixedVersions(vec![SdkVersion::new(1, 0, 0), SdkVersion::new(1, 1, 0)]));
    assert!(e.to_string().contains("1.0.0, 1.1.0"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

const FAKE_WASI: &str =
    "package wasi:filesystem@0.2.3;\ninterface preopens {\n  get-directories: func() -> list<string>;\n}\n";
const FAKE_SOCKETS: &str = "package wasi:sockets@0.2.3;\ninterface tcp {\n  connect: func(port: u16) -> bool;\n}\n";

#[test]
fn wasi_imports_are_listed_and_classified() {
    let world = "package sangam:plugin@1.1.0;\nworld greedy {\n  include simulation-plugin;\n  \
                 import wasi:filesystem/preopens@0.2.3;\n  import wasi:sockets/tcp@0.2.3;\n  import extra: func();\n}\n";
    let dir = custom_wit(
        "wasi",
        "1.1.0",
        &[("greedy.wit", world), ("deps/filesystem/fs.wit", FAKE_WASI), ("deps/sockets/tcp.wit", FAKE_SOCKETS)],
    );
    let found = inspect::inspect(&component_from(&dir, "greedy")).unwrap();
    assert_eq!(found.role, Role::Simulation);
    assert_eq!(found.wasi_imports, vec!["wasi:filesystem/preopens@0.2.3", "wasi:sockets/tcp@0.2.3"]);
    assert_eq!(found.other_imports, vec!["extra"]);
    assert_eq!(found.network_imports(), vec!["wasi:sockets/tcp@0.2.3"]);
    assert_eq!(found.wasi_packages().into_iter().collect::<Vec<_>>(), vec!["filesystem", "sockets"]);
    let caps = found.wasi_capabilities();
    assert!(caps.read_data && !caps.wall_clock && !caps.random);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn adapter_importing_twin_is_refused() {
    let world = "package sangam:plugin@1.1.0;\nworld nosy-adapter {\n  include adapter-plugin;\n  import twin;\n}\n";
    let dir = custom_wit("nosy", "1.1.0", &[("nosy.wit", world)]);
    let e = inspect::inspect(&component_from(&dir, "nosy-adapter")).unwrap_err();
    assert!(
        matches!(&e, InspectError::UnknownInterface { name, role: Role::Adapter, .. } if name == "sangam:plugin/twin@1.1.0")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_roles_in_one_component_are_refused() {
    let world =
        "package sangam:plugin@1.1.0;\nworld both {\n  include simulation-plugin;\n  include overlay-plugin;\n}\n";
    let dir = custom_wit("both", "1.1.0", &[("both.wit", world)]);
    let e = inspect::inspect(&component_from(&dir, "both")).unwrap_err();
    assert_eq!(e, InspectError::SeveralRoles(vec![Role::Simulation, Role::Overlay]));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn component_without_sangam_exports_is_not_a_plugin() {
    let dir = temp_dir("foreign");
    std::fs::write(dir.join("w.wit"), "package acme:thing;\nworld thing {\n  export run: func() -> u32;\n}\n").unwrap();
    assert_eq!(inspect::inspect(&component_from(&dir, "thing")).unwrap_err(), InspectError::NoRole);
    let _ = std::fs::remove_dir_all(dir);
}

/// A deterministic xorshift generator for the corruption tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn truncated_components_are_errors_never_panics() {
    let bytes = component("1.1.0", Role::Overlay);
    // Top-level section boundaries: a cut exactly there leaves a shorter but well-formed component
    // (say without its custom sections, or without the optional `describe` export).
    let mut boundaries = vec![];
    let mut parser = wasmparser::Parser::new(0);
    let mut pos = 0;
    loop {
        let wasmparser::Chunk::Parsed { consumed, payload } = parser.parse(&bytes[pos..], true).unwrap() else {
            unreachable!("eof is true")
        };
        pos += consumed;
        match payload {
            wasmparser::Payload::End(_) => break,
            wasmparser::Payload::ModuleSection { unchecked_range, .. }
            | wasmparser::Payload::ComponentSection { unchecked_range, .. } => pos = unchecked_range.end,
            _ => {}
        }
        boundaries.push(pos);
    }
    let mut offsets: Vec<usize> = (0..64.min(bytes.len())).collect();
    offsets.extend((0..bytes.len()).step_by((bytes.len() / 500).max(1)));
    offsets.extend(boundaries.iter().flat_map(|b| [b - 1, *b]));
    let mut errors = 0;
    for len in offsets {
        match inspect::inspect(&bytes[..len]) {
            Err(_) => errors += 1,
            Ok(found) => {
                assert!(boundaries.contains(&len), "a cut inside a section, at {len}, was accepted");
                assert_eq!(found.role, Role::Overlay);
            }
        }
        let _ = package::unpack(bytes[..len].to_vec());
    }
    assert!(errors > 500, "{errors}");
}

#[test]
fn corrupted_components_are_errors_never_panics() {
    let bytes = package::pack(&component("1.0.0", Role::Simulation), &manifest(Role::Simulation, "1.0.0")).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut refused = 0;
    for round in 0..400 {
        let mut corrupt = bytes.clone();
        let flips = 1 + (round % 4);
        for _ in 0..flips {
            let at = (rng.next() % corrupt.len() as u64) as usize;
            corrupt[at] ^= 1 << (rng.next() % 8);
        }
        match inspect::inspect(&corrupt) {
            Ok(found) => assert_eq!(found.role, Role::Simulation, "round {round}"),
            Err(_) => refused += 1,
        }
        // Reading the artifact must not panic either; when it succeeds it is still a simulation.
        if let Ok(p) = package::unpack(corrupt) {
            assert_eq!(p.manifest.role, Role::Simulation);
        }
    }
    assert!(refused > 40, "random flips should break many components ({refused} refused)");
}

// ---------------------------------------------------------------------------------------------
// Packing.

#[test]
fn pack_embeds_the_manifest_and_the_result_is_still_a_valid_component() {
    let component = component("1.1.0", Role::Simulation);
    let text = manifest(Role::Simulation, "1.1.0");
    let packed = package::pack(&component, &text).expect("packs");
    assert!(packed.starts_with(&component), "the component is kept byte for byte");
    wasmparser::Validator::new().validate_all(&packed).expect("packed artifact validates");
    assert_eq!(custom_sections(&packed).iter().filter(|n| *n == MANIFEST_SECTION).count(), 1);

    let pkg = package::unpack(packed.clone()).expect("unpacks");
    assert_eq!(pkg.manifest.id, "test.simulation");
    assert_eq!(pkg.manifest_text, text);
    assert_eq!(pkg.inspection.role, Role::Simulation);
    assert!(pkg.signature.is_none());
    assert_eq!(pkg.component_bytes(), &packed[..]);
    assert_eq!(pkg.digest_hex().len(), 64);

    // Packing again (say with an edited manifest) replaces the manifest instead of adding one.
    let edited = text.replace("0.1.0", "0.2.0");
    let repacked = package::pack(&packed, &edited).unwrap();
    assert_eq!(custom_sections(&repacked).iter().filter(|n| *n == MANIFEST_SECTION).count(), 1);
    assert_eq!(package::unpack(repacked).unwrap().manifest.version, "0.2.0");
}

#[test]
fn pack_refuses_a_manifest_that_disagrees_with_the_component() {
    let component = component("1.1.0", Role::Simulation);
    let e = package::pack(&component, &manifest(Role::Overlay, "1.1.0")).unwrap_err().to_string();
    assert!(e.contains("role `overlay`") && e.contains("role `simulation`") && e.contains("fix `role`"), "{e}");
    let e = package::pack(&component, &manifest(Role::Simulation, "1.0.0")).unwrap_err().to_string();
    assert!(e.contains("SDK `1.0.0`") && e.contains("SDK `1.1.0`"), "{e}");
    let e = package::pack(&component, "id = 3\n").unwrap_err().to_string();
    assert!(e.starts_with("plugin.toml:1:6:"), "{e}");
}

#[test]
fn bare_component_has_no_manifest() {
    let e = package::unpack(component("1.0.0", Role::Adapter)).unwrap_err();
    assert!(matches!(e, PackageError::NoManifest));
    assert!(e.to_string().contains("sangam plugin pack"), "{e}");
}

#[test]
fn load_names_the_file_in_errors() {
    let dir = temp_dir("load");
    let path = dir.join("decay.wasm");
    std::fs::write(&path, component("1.0.0", Role::Adapter)).unwrap();
    let e = Package::load(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()) && e.contains("no embedded manifest"), "{e}");

    let broken = package::pack(&component("1.0.0", Role::Adapter), &manifest(Role::Adapter, "1.0.0")).unwrap();
    let text = manifest(Role::Adapter, "1.0.0");
    // Same length, so the section stays well-formed but the manifest does not parse.
    let at = broken.windows(text.len()).position(|w| w == text.as_bytes()).unwrap();
    let mut broken = broken;
    broken[at + 3] = b'!';
    std::fs::write(&path, &broken).unwrap();
    let e = Package::load(&path).unwrap_err().to_string();
    assert!(e.contains("decay.wasm[plugin.toml]:1:"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn duplicate_manifest_sections_are_refused() {
    let text = manifest(Role::Adapter, "1.0.0");
    let packed = package::pack(&component("1.0.0", Role::Adapter), &text).unwrap();
    // Append a second manifest section by hand: id 0, size, name, payload.
    let mut doubled = packed.clone();
    append_custom(&mut doubled, MANIFEST_SECTION, text.as_bytes());
    let e = package::unpack(doubled).unwrap_err();
    assert!(matches!(e, PackageError::Duplicate { section: MANIFEST_SECTION, count: 2 }), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Signing.

fn packed(role: Role) -> Vec<u8> {
    package::pack(&component("1.1.0", role), &manifest(role, "1.1.0")).unwrap()
}

#[test]
fn signed_package_verifies_against_the_trusted_key() {
    let vendor = key(7);
    let signed = signing::sign(&packed(Role::Overlay), &vendor).unwrap();
    wasmparser::Validator::new().validate_all(&signed).expect("signed artifact validates");
    let pkg = package::unpack(signed).unwrap();
    let sig = pkg.signature.clone().expect("signature read");
    assert_eq!(sig.key_id, KeyId::of(&vendor.verifying_key()));
    let trusted = trusting(&[&key(1), &vendor]);
    assert_eq!(
        signing::verify(&pkg, &trusted).unwrap(),
        Verification::Verified { key_id: sig.key_id, key_name: "key1".to_string() }
    );
    assert!(matches!(signing::admit(&pkg, &trusted, false).unwrap(), Admission::Trusted { .. }));
}

#[test]
fn signing_twice_replaces_the_signature() {
    let first = signing::sign(&packed(Role::Adapter), &key(1)).unwrap();
    let second = signing::sign(&first, &key(2)).unwrap();
    assert_eq!(custom_sections(&second).iter().filter(|n| *n == SIGNATURE_SECTION).count(), 1);
    let pkg = package::unpack(second).unwrap();
    assert!(matches!(signing::verify(&pkg, &trusting(&[&key(2)])).unwrap(), Verification::Verified { .. }));
    let e = signing::verify(&pkg, &trusting(&[&key(1)])).unwrap_err();
    assert!(matches!(e, SignatureError::UnknownKey { .. }));
}

#[test]
fn modified_manifest_breaks_the_signature() {
    let signed = signing::sign(&packed(Role::Simulation), &key(3)).unwrap();
    let at = signed.windows(4).position(|w| w == b"AAAA").expect("marker in manifest");
    let mut tampered = signed.clone();
    tampered[at] = b'B';
    let pkg = package::unpack(tampered).expect("still a well-formed package");
    let e = signing::verify(&pkg, &trusting(&[&key(3)])).unwrap_err();
    assert_eq!(
        e,
        SignatureError::BadSignature { plugin: "test.simulation".into(), key_id: KeyId::of(&key(3).verifying_key()) }
    );
    let msg = e.to_string();
    assert!(msg.contains("test.simulation") && msg.contains("modified after signing"), "{msg}");
    // Dev mode does not excuse a bad signature.
    assert!(signing::admit(&pkg, &trusting(&[&key(3)]), true).is_err());
}

#[test]
fn modified_component_breaks_the_signature() {
    let signed = signing::sign(&packed(Role::Simulation), &key(3)).unwrap();
    // Smuggle a section into the component, right after the header: still a valid component with
    // the same manifest and signature, but no longer what was signed.
    let mut extra = Vec::new();
    append_custom(&mut extra, "payload", b"not what the vendor shipped");
    let tampered: Vec<u8> = signed[..8].iter().chain(&extra).chain(&signed[8..]).copied().collect();
    wasmparser::Validator::new().validate_all(&tampered).expect("still a valid component");
    let pkg = package::unpack(tampered).expect("still a well-formed package");
    assert!(matches!(signing::verify(&pkg, &trusting(&[&key(3)])), Err(SignatureError::BadSignature { .. })));
    // And the untouched artifact still verifies.
    let pkg = package::unpack(signed).unwrap();
    assert!(matches!(signing::verify(&pkg, &trusting(&[&key(3)])), Ok(Verification::Verified { .. })));
}

#[test]
fn unknown_key_and_unsigned_follow_the_policy() {
    let unsigned = package::unpack(packed(Role::Adapter)).unwrap();
    let trusted = trusting(&[&key(1)]);
    assert_eq!(signing::verify(&unsigned, &trusted).unwrap(), Verification::Unsigned);
    let e = signing::admit(&unsigned, &trusted, false).unwrap_err();
    assert_eq!(e, SignatureError::Unsigned { plugin: "test.adapter".into() });
    assert!(e.to_string().contains("dev mode"), "{e}");
    assert!(matches!(signing::admit(&unsigned, &trusted, true).unwrap(), Admission::DevMode { .. }));

    let stranger = package::unpack(signing::sign(&packed(Role::Adapter), &key(9)).unwrap()).unwrap();
    let e = signing::verify(&stranger, &trusted).unwrap_err();
    let msg = e.to_string();
    let stranger_id = KeyId::of(&key(9).verifying_key()).to_string();
    let trusted_id = KeyId::of(&key(1).verifying_key()).to_string();
    assert!(msg.contains(&stranger_id) && msg.contains(&trusted_id) && msg.contains("test.adapter"), "{msg}");
    assert!(signing::admit(&stranger, &trusted, false).is_err());
    match signing::admit(&stranger, &trusted, true).unwrap() {
        Admission::DevMode { warning } => assert!(warning.contains(&stranger_id), "{warning}"),
        other => panic!("{other:?}"),
    }
    let e = signing::verify(&stranger, &TrustedKeys::new()).unwrap_err().to_string();
    assert!(e.contains("none configured"), "{e}");
}

#[test]
fn signature_section_format_round_trips_and_rejects_garbage() {
    let sig = Signature {
        key_id: KeyId([1, 2, 3, 4, 5, 6, 7, 8]),
        signature: ed25519_dalek::Signature::from_bytes(&[9; 64]),
    };
    let encoded = sig.encode();
    assert!(String::from_utf8(encoded.clone()).unwrap().starts_with("sangam-signature 1\nkey-id 0102030405060708\n"));
    assert_eq!(Signature::decode(&encoded).unwrap(), sig);
    for bad in [&b""[..], b"sangam-signature 2\n", b"sangam-signature 1\nkey-id 12\ned25519 00\n", &[0xff; 40]] {
        assert!(Signature::decode(bad).is_err());
    }
    let mut trailing = encoded.clone();
    trailing.extend_from_slice(b"more\n");
    assert!(Signature::decode(&trailing).is_err());
}

#[test]
fn key_files_round_trip_and_are_never_overwritten() {
    let dir = temp_dir("keys");
    let base = dir.join("vendor");
    let key = signing::generate_key();
    let (secret, public, id) = signing::write_key_pair(&base, &key).unwrap();
    assert_eq!((secret.clone(), public.clone()), (dir.join("vendor.key"), dir.join("vendor.pub")));
    assert_eq!(id, KeyId::of(&key.verifying_key()));
    assert_eq!(signing::read_signing_key(&secret).unwrap().to_bytes(), key.to_bytes());
    assert_eq!(signing::read_public_key(&public).unwrap(), key.verifying_key());
    assert!(std::fs::read_to_string(&public).unwrap().starts_with('#'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = signing::write_key_pair(&base, &signing::generate_key()).unwrap_err();
    assert!(matches!(again, KeyError::Exists { .. }), "{again}");
    assert_eq!(signing::read_signing_key(&secret).unwrap().to_bytes(), key.to_bytes(), "old key intact");

    // Hex is accepted as well as base64.
    let hex_file = dir.join("hex.pub");
    let hex: String = key.verifying_key().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&hex_file, format!("# a key\n\n{hex}\n")).unwrap();
    assert_eq!(signing::read_public_key(&hex_file).unwrap(), key.verifying_key());

    let mut trusted = TrustedKeys::new();
    trusted.load(&dir).unwrap();
    assert_eq!(trusted.keys().len(), 1, "the same key twice is trusted once");
    assert!(trusted.get(id).is_some());

    for (name, text) in [("empty.pub", "# nothing\n"), ("two.pub", "AAAA\nBBBB\n"), ("short.pub", "AAAA\n")] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let e = signing::read_public_key(&path).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("not a Sangam key file"), "{e}");
    }
    let e = signing::read_public_key(&dir.join("missing.pub")).unwrap_err().to_string();
    assert!(e.contains("missing.pub"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// The repository's own plugins, when `cargo xtask build-plugins` has built them.

#[test]
fn first_plugins_built_by_rustc_inspect_and_pack_with_their_manifests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let release = target.join("wasm32-wasip2/release");
    let plugins = [
        ("csv_adapter", "csv-adapter", Role::Adapter),
        ("decay_simulation", "decay-simulation", Role::Simulation),
        ("threshold_labels", "threshold-labels", Role::Overlay),
    ];
    if !plugins.iter().all(|(wasm, _, _)| release.join(format!("{wasm}.wasm")).is_file()) {
        if std::env::var_os("CI").is_some() {
            panic!("the first plugins are not built under CI (run `cargo xtask build-plugins` first)");
        }
        eprintln!("SKIPPED: the first plugins are not built (cargo xtask build-plugins)");
        return;
    }
    for (wasm, crate_dir, role) in plugins {
        let bytes = std::fs::read(release.join(format!("{wasm}.wasm"))).unwrap();
        let found = inspect::inspect(&bytes).unwrap_or_else(|e| panic!("{wasm}: {e}"));
        assert_eq!(found.role, role, "{wasm}");
        // Rust's std for wasm32-wasip2 imports the CLI and I/O worlds; none of these plugins uses
        // the network.
        assert!(found.network_imports().is_empty(), "{wasm}: {:?}", found.wasi_imports);
        let text = std::fs::read_to_string(root.join("plugins").join(crate_dir).join("plugin.toml")).unwrap();
        let packed = package::pack(&bytes, &text).unwrap_or_else(|e| panic!("{wasm}: {e}"));
        let pkg = package::unpack(packed).unwrap();
        assert_eq!((pkg.manifest.role, pkg.manifest.sdk), (role, found.sdk));
    }
}
