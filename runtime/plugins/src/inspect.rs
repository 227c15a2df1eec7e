//! Reads what a plugin component needs and offers, before anything is compiled.
//!
//! [`inspect`] walks a component's top-level sections with `wasmparser`, validates it, and reads its
//! import and export names: the `sangam:plugin/...@X.Y.Z` interfaces give the SDK version and the
//! role (which of `adapter`, `simulation`, `overlay` it exports); `wasi:...` imports show what system
//! access it would like. A plugin built for an SDK this runtime does not implement is refused here,
//! with a message that names its version and the supported range, so a wrong plugin never reaches
//! Cranelift.
//!
//! Everything here is bounded by the input size ([`MAX_COMPONENT_BYTES`]) and never panics on
//! truncated or corrupt bytes.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use thiserror::Error;
use wasmparser::{Chunk, Encoding, Parser, Payload, Validator, WasmFeatures};

use crate::contract::{Capabilities, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};

/// Largest component accepted, in bytes (256 MiB).
pub const MAX_COMPONENT_BYTES: usize = 256 << 20;
/// Most import plus export names read from one component.
pub const MAX_NAMES: usize = 10_000;
/// The WIT package every Sangam interface lives in.
pub const SANGAM_PACKAGE: &str = "sangam:plugin";

/// Why a component cannot be a plugin for this runtime.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InspectError {
    /// The input is over [`MAX_COMPONENT_BYTES`].
    #[error("the component is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input does not start with the WebAssembly magic number.
    #[error(
        "not a WebAssembly file (it does not start with `\\0asm`); give the `.wasm` component the plugin build \
         produced"
    )]
    NotWasm,
    /// The input is a core WebAssembly module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component; Sangam plugins are components: build with \
         `cargo build --target wasm32-wasip2` (the sangam-sdk crate does this), or wrap a module with \
         `wasm-tools component new`"
    )]
    CoreModule,
    /// The bytes are truncated or corrupt, or the component does not validate.
    #[error("the component is malformed at byte offset {offset}: {message}; rebuild it or download it again")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
        /// What the parser or validator found.
        message: String,
    },
    /// More names than [`MAX_NAMES`].
    #[error("the component has more than {MAX_NAMES} imports and exports; a plugin has a few dozen")]
    TooManyNames,
    /// The component exports no Sangam role interface.
    #[error(
        "the component exports none of `sangam:plugin/adapter`, `sangam:plugin/simulation` or \
         `sangam:plugin/overlay`, so it is not a Sangam plugin; implement one role with the sangam-sdk crate"
    )]
    NoRole,
    /// The component exports more than one role interface.
    #[error("the component exports several roles ({}); a plugin has exactly one role, split it", join(.0))]
    SeveralRoles(Vec<Role>),
    /// A `sangam:plugin` name without a version or with one that is not `MAJOR.MINOR.PATCH`.
    #[error(
        "`{name}` has no released SDK version (expected `sangam:plugin/NAME@MAJOR.MINOR.PATCH`); build the plugin \
         with a released sangam-sdk"
    )]
    BadVersion {
        /// The import or export name.
        name: String,
    },
    /// Different `sangam:plugin` versions in one component.
    #[error(
        "the component mixes SDK versions {}; a plugin is built against one SDK version, rebuild it with a \
         single sangam-sdk version",
        join(.0)
    )]
    MixedVersions(Vec<SdkVersion>),
    /// The plugin's SDK major version is not implemented here.
    #[error(
        "the plugin was built for SDK {found} (sangam:plugin@{found}), but this runtime supports SDK {range}; \
         {advice}",
        range = supported_range(),
        advice = if found.major > newest().major {
            "use a newer Sangam, or rebuild the plugin against a supported sangam-sdk"
        } else {
            "rebuild the plugin against a supported sangam-sdk"
        }
    )]
    UnsupportedVersion {
        /// The version the plugin uses.
        found: SdkVersion,
    },
    /// A `sangam:plugin` interface that the plugin's SDK version does not define, or that its role may
    /// not use.
    #[error("`{name}` is not part of the SDK {version} {role} world; {advice}")]
    UnknownInterface {
        /// The import or export name.
        name: String,
        /// The plugin's SDK version.
        version: SdkVersion,
        /// The plugin's role.
        role: Role,
        /// What to do.
        advice: &'static str,
    },
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

fn newest() -> SdkVersion {
    SUPPORTED_SDK_VERSIONS[SUPPORTED_SDK_VERSIONS.len() - 1]
}

/// The supported SDK versions as people read them, e.g. `1.0.0 to 1.3.0`.
pub fn supported_range() -> String {
    let oldest = SUPPORTED_SDK_VERSIONS[0];
    let newest = newest();
    if oldest == newest { oldest.to_string() } else { format!("{oldest} to {newest}") }
}

/// The supported SDK version a plugin built for `version` runs as: the one with the same major and
/// minor (patch releases change documentation only). `None` when this runtime cannot run it.
pub fn supported_version(version: SdkVersion) -> Option<SdkVersion> {
    SUPPORTED_SDK_VERSIONS.iter().copied().find(|v| v.major == version.major && v.minor == version.minor)
}

/// The Sangam interfaces a component of `role` built for `version` may import and export, as the
/// frozen WIT in `sdk/wit/vX.Y.Z/` defines them (imports, exports). Types-only interfaces (`types`,
/// `overlay-types`) appear among the imports because exported interfaces use their types.
pub fn world_interfaces(version: SdkVersion, role: Role) -> (&'static [&'static str], &'static [&'static str]) {
    let describe = version >= SdkVersion::new(1, 1, 0);
    let output = version >= SdkVersion::new(1, 2, 0);
    let geometry = version >= SdkVersion::new(1, 3, 0);
    match (role, describe) {
        (Role::Adapter, false) => (&["types", "log", "clock", "params"], &["adapter"]),
        (Role::Adapter, true) => (&["types", "log", "clock", "params"], &["adapter", "describe"]),
        (Role::Simulation, false) => (&["types", "log", "clock", "params", "twin"], &["simulation"]),
        (Role::Simulation, true) if geometry => {
            (&["types", "log", "clock", "params", "twin", "geometry", "output"], &["simulation", "describe"])
        }
        (Role::Simulation, true) if output => {
            (&["types", "log", "clock", "params", "twin", "output"], &["simulation", "describe"])
        }
        (Role::Simulation, true) => (&["types", "log", "clock", "params", "twin"], &["simulation", "describe"]),
        (Role::Overlay, false) => (&["types", "overlay-types", "log", "clock", "params", "twin"], &["overlay"]),
        (Role::Overlay, true) if geometry => {
            (&["types", "overlay-types", "log", "clock", "params", "twin", "geometry"], &["overlay", "describe"])
        }
        (Role::Overlay, true) => {
            (&["types", "overlay-types", "log", "clock", "params", "twin"], &["overlay", "describe"])
        }
    }
}

/// What a plugin component imports and exports, read before compilation.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The SDK version named in the component's `sangam:plugin` imports and exports.
    pub sdk: SdkVersion,
    /// The supported version the runtime will run it as (same major and minor as `sdk`).
    pub runs_as: SdkVersion,
    /// The role, from the role interface it exports.
    pub role: Role,
    /// Whether it exports the optional `describe` interface (SDK 1.1 and later).
    pub exports_describe: bool,
    /// Imported Sangam interfaces, without package and version (`log`, `twin`, ...), sorted.
    pub sangam_imports: Vec<String>,
    /// Exported Sangam interfaces, without package and version, sorted.
    pub sangam_exports: Vec<String>,
    /// Imported WASI interfaces, full names (`wasi:filesystem/types@0.2.3`), sorted.
    pub wasi_imports: Vec<String>,
    /// Any other imports, full names, sorted.
    pub other_imports: Vec<String>,
    /// Any other exports, full names, sorted.
    pub other_exports: Vec<String>,
    /// Size of the inspected bytes.
    pub size: usize,
}

impl Inspection {
    /// The WASI packages imported (`filesystem`, `sockets`, `clocks`, `random`, `cli`, `io`, ...).
    pub fn wasi_packages(&self) -> BTreeSet<&str> {
        self.wasi_imports.iter().filter_map(|n| n.strip_prefix("wasi:")?.split('/').next()).collect()
    }

    /// The capabilities the imports would need to do anything: `wasi:filesystem` needs `read-data`,
    /// `wasi:clocks/wall-clock` needs `wall-clock`, `wasi:random/random` needs `random`. (Rust's std
    /// imports several of these even when unused; without a grant the host gives inert versions.)
    pub fn wasi_capabilities(&self) -> Capabilities {
        let has = |prefix: &str| self.wasi_imports.iter().any(|n| n.starts_with(prefix));
        Capabilities {
            read_data: has("wasi:filesystem/"),
            wall_clock: has("wasi:clocks/wall-clock"),
            random: has("wasi:random/random"),
            create_entities: false,
            site_geometry: false,
        }
    }

    /// Imports of network interfaces (`wasi:sockets`, `wasi:http`), which no capability grants.
    pub fn network_imports(&self) -> Vec<&str> {
        self.wasi_imports
            .iter()
            .filter(|n| n.starts_with("wasi:sockets/") || n.starts_with("wasi:http/"))
            .map(String::as_str)
            .collect()
    }
}

/// A top-level section of a component or module: its kind and its full byte range (id, size and
/// contents).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    /// Custom section name, or `None` for other sections.
    pub custom_name: Option<String>,
    /// The whole section, header included.
    pub range: Range<usize>,
}

/// The encoding and the top-level sections of `bytes`, plus the import and export names when it is
/// a component. Nested modules and components are skipped, not parsed. Bounded and panic-free.
pub(crate) struct Outline {
    pub encoding: Encoding,
    pub sections: Vec<Section>,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

fn malformed(e: &wasmparser::BinaryReaderError) -> InspectError {
    InspectError::Malformed { offset: e.offset(), message: e.message().to_string() }
}

/// Walks the top-level sections of `bytes`.
pub(crate) fn outline(bytes: &[u8]) -> Result<Outline, InspectError> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(InspectError::TooLarge { size: bytes.len(), limit: MAX_COMPONENT_BYTES });
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(InspectError::NotWasm);
    }
    let mut parser = Parser::new(0);
    let mut pos = 0usize;
    let mut out =
        Outline { encoding: Encoding::Component, sections: Vec::new(), imports: Vec::new(), exports: Vec::new() };
    loop {
        let data = bytes.get(pos..).unwrap_or_default();
        let (consumed, payload) = match parser.parse(data, true).map_err(|e| malformed(&e))? {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => {
                return Err(InspectError::Malformed { offset: pos, message: "unexpected end of data".to_string() });
            }
        };
        let start = pos;
        pos = pos.saturating_add(consumed);
        match payload {
            Payload::Version { encoding, .. } => {
                out.encoding = encoding;
                if encoding == Encoding::Module {
                    return Ok(out);
                }
            }
            Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                if unchecked_range.start != pos || unchecked_range.end > bytes.len() {
                    return Err(InspectError::Malformed {
                        offset: pos,
                        message: "nested module or component runs past the end of the file (truncated?)".to_string(),
                    });
                }
                pos = unchecked_range.end;
                out.sections.push(Section { custom_name: None, range: start..pos });
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(|e| malformed(&e))?;
                    push_name(&mut out.imports, import.name.name, out.exports.len())?;
                }
                out.sections.push(Section { custom_name: None, range: start..pos });
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| malformed(&e))?;
                    push_name(&mut out.exports, export.name.name, out.imports.len())?;
                }
                out.sections.push(Section { custom_name: None, range: start..pos });
            }
            Payload::CustomSection(reader) => {
                out.sections.push(Section { custom_name: Some(reader.name().to_string()), range: start..pos });
            }
            Payload::End(_) => return Ok(out),
            _ => out.sections.push(Section { custom_name: None, range: start..pos }),
        }
        if pos > bytes.len() {
            return Err(InspectError::Malformed {
                offset: bytes.len(),
                message: "section runs past the end".to_string(),
            });
        }
    }
}

fn push_name(names: &mut Vec<String>, name: &str, others: usize) -> Result<(), InspectError> {
    if names.len() + others >= MAX_NAMES {
        return Err(InspectError::TooManyNames);
    }
    names.push(name.to_string());
    Ok(())
}

/// Validates `bytes` as a component with wasmparser (every proposal enabled: wasmtime applies its
/// own, narrower, feature set when it compiles).
pub fn validate(bytes: &[u8]) -> Result<(), InspectError> {
    Validator::new_with_features(WasmFeatures::all()).validate_all(bytes).map(drop).map_err(|e| malformed(&e))
}

/// A `sangam:plugin/NAME@VERSION` name split into NAME and VERSION; `None` for other packages.
fn sangam_name(full: &str) -> Option<Result<(&str, SdkVersion), InspectError>> {
    let rest = full.strip_prefix(SANGAM_PACKAGE)?.strip_prefix('/')?;
    let bad = || InspectError::BadVersion { name: full.to_string() };
    Some(match rest.split_once('@') {
        Some((name, version)) => SdkVersion::parse(version).map(|v| (name, v)).ok_or_else(bad),
        None => Err(bad()),
    })
}

/// Reads and checks a plugin component: it must be a valid component, use one supported SDK version
/// and export exactly one role. Nothing is compiled.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, InspectError> {
    let outline = outline(bytes)?;
    if outline.encoding == Encoding::Module {
        return Err(InspectError::CoreModule);
    }
    validate(bytes)?;

    let mut versions: BTreeSet<SdkVersion> = BTreeSet::new();
    let mut sangam_imports = BTreeSet::new();
    let mut sangam_exports = BTreeSet::new();
    let mut wasi_imports = BTreeSet::new();
    let mut other_imports = BTreeSet::new();
    let mut other_exports = BTreeSet::new();
    for name in &outline.imports {
        match sangam_name(name) {
            Some(parsed) => {
                let (iface, version) = parsed?;
                versions.insert(version);
                sangam_imports.insert((iface.to_string(), name.clone()));
            }
            None if name.starts_with("wasi:") => {
                wasi_imports.insert(name.clone());
            }
            None => {
                other_imports.insert(name.clone());
            }
        }
    }
    for name in &outline.exports {
        match sangam_name(name) {
            Some(parsed) => {
                let (iface, version) = parsed?;
                versions.insert(version);
                sangam_exports.insert((iface.to_string(), name.clone()));
            }
            None => {
                other_exports.insert(name.clone());
            }
        }
    }
    let roles: Vec<Role> =
        Role::ALL.into_iter().filter(|r| sangam_exports.iter().any(|(i, _)| i == r.export_interface())).collect();
    // The version comes first: a plugin for another major may well have other interface names.
    let sdk = match versions.len() {
        0 => return Err(InspectError::NoRole),
        1 => versions.first().copied().unwrap_or(SUPPORTED_SDK_VERSIONS[0]),
        _ => return Err(InspectError::MixedVersions(versions.into_iter().collect())),
    };
    let Some(runs_as) = supported_version(sdk) else {
        return Err(InspectError::UnsupportedVersion { found: sdk });
    };
    let role = match roles.as_slice() {
        [] => return Err(InspectError::NoRole),
        [role] => *role,
        _ => return Err(InspectError::SeveralRoles(roles)),
    };
    let (allowed_imports, allowed_exports) = world_interfaces(runs_as, role);
    for (iface, full) in &sangam_imports {
        if !allowed_imports.contains(&iface.as_str()) {
            return Err(InspectError::UnknownInterface {
                name: full.clone(),
                version: sdk,
                role,
                advice: "the host does not provide it to this role; remove the import or rebuild with a supported \
                         sangam-sdk",
            });
        }
    }
    for (iface, full) in &sangam_exports {
        if !allowed_exports.contains(&iface.as_str()) {
            return Err(InspectError::UnknownInterface {
                name: full.clone(),
                version: sdk,
                role,
                advice: "the host would never call it; remove the export",
            });
        }
    }
    Ok(Inspection {
        sdk,
        runs_as,
        role,
        exports_describe: sangam_exports.iter().any(|(i, _)| i == "describe"),
        sangam_imports: sangam_imports.into_iter().map(|(i, _)| i).collect(),
        sangam_exports: sangam_exports.into_iter().map(|(i, _)| i).collect(),
        wasi_imports: wasi_imports.into_iter().collect(),
        other_imports: other_imports.into_iter().collect(),
        other_exports: other_exports.into_iter().collect(),
        size: bytes.len(),
    })
}
