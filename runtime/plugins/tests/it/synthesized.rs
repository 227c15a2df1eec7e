//! Components synthesized from WIT in the test (no fixture crate needed): a plugin built for an SDK
//! major this runtime does not have, and one that imports an interface the host does not provide.
//! Both are refused at link time with a message naming the import.

use crate::common::engine;
use sangam_plugins::{LoadedPlugin, PluginError, PluginSpec, Role, SdkVersion};

const WIT_1_1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/wit/v1.1.0");

/// Builds a component for `world` from the 1.1 WIT with `edit` applied to each file's text. The
/// component's functions are `unreachable` (wit-component's dummy module): enough to link.
fn synthesize(world: &str, edit: impl Fn(&str, String) -> String) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(WIT_1_1).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(dir.path().join(&name), edit(&name, text)).unwrap();
    }
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(dir.path()).unwrap();
    let world = resolve.select_world(&[package], Some(world)).unwrap();
    let mut module = wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}

#[test]
fn a_2_0_component_is_refused_naming_its_imports() {
    let component = synthesize("overlay-plugin", |_, text| text.replace("sangam:plugin@1.1.0", "sangam:plugin@2.0.0"));
    // Even if a manifest claims 1.1, the component's own imports give it away.
    let spec = PluginSpec::new("from-the-future", Role::Overlay, SdkVersion::new(1, 1, 0));
    let error = LoadedPlugin::load(&engine(), spec, &component).unwrap_err();
    assert!(matches!(error, PluginError::Link { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with("plugin `from-the-future` (overlay, SDK 1.1.0) needs an import this runtime does not provide"),
        "{text}"
    );
    assert!(text.contains("sangam:plugin/") && text.contains("@2.0.0"), "names the 2.0 import: {text}");
}

#[test]
fn an_import_the_host_does_not_provide_is_refused_by_name() {
    let component = synthesize("overlay-plugin", |name, text| {
        if name == "overlay.wit" {
            text.replace("    export overlay;\n", "    import raw-socket;\n    export overlay;\n")
                + "\n/// Not part of the contract.\ninterface raw-socket {\n    /// Opens a socket.\n    open: func(port: u16) -> u32;\n}\n"
        } else {
            text
        }
    });
    let spec = PluginSpec::new("sneaky", Role::Overlay, SdkVersion::new(1, 1, 0));
    let text = LoadedPlugin::load(&engine(), spec, &component).unwrap_err().to_string();
    assert!(text.contains("plugin `sneaky`"), "{text}");
    assert!(text.contains("sangam:plugin/raw-socket@1.1.0"), "names the import: {text}");
}

#[test]
fn a_synthesized_1_1_overlay_links() {
    // The control: the unedited WIT links and instantiates far enough to trap in `init`.
    let component = synthesize("overlay-plugin", |_, text| text);
    let spec = PluginSpec::new("dummy", Role::Overlay, SdkVersion::new(1, 1, 0));
    let loaded = LoadedPlugin::load(&engine(), spec, &component).expect("links");
    let error = loaded.instantiate().unwrap_err().to_string();
    assert!(error.starts_with("plugin `dummy` init: trapped: wasm `unreachable` instruction executed"), "{error}");
}

#[test]
fn invalid_utf8_in_a_lifted_string_is_contained() {
    // A hand-written core module for the 1.0 adapter world whose `init` returns `err(s)` with `s`
    // pointing at the bytes FF FE, which are not UTF-8. wasmtime refuses to lift it.
    let wat = r#"(module
        (memory (export "memory") 1)
        (data (i32.const 16) "\01\00\00\00\40\00\00\00\02\00\00\00")
        (data (i32.const 64) "\ff\fe")
        (func (export "sangam:plugin/adapter@1.0.0#init") (result i32) i32.const 16)
        (func (export "sangam:plugin/adapter@1.0.0#parse")
            (param i32 i32 i32 i32 i64 i32 i32) (result i32) unreachable)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024))"#;
    let mut module = wat::parse_str(wat).unwrap();
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/wit/v1.0.0")).unwrap();
    let world = resolve.select_world(&[package], Some("adapter-plugin")).unwrap();
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8).unwrap();
    let component =
        wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap();

    let spec = PluginSpec::new("garbled", Role::Adapter, SdkVersion::new(1, 0, 0));
    let loaded = LoadedPlugin::load(&engine(), spec, &component).expect("links");
    let error = loaded.instantiate().unwrap_err();
    let text = error.to_string();
    assert!(matches!(&error, PluginError::Fault(f) if f.cause.quarantines()), "{text}");
    assert!(text.starts_with("plugin `garbled` init: trapped:"), "{text}");
    assert!(text.to_lowercase().contains("utf-8"), "{text}");
}
