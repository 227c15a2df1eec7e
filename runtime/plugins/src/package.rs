//! The distributable plugin artifact: one `.wasm` component with its manifest embedded.
//!
//! Layout: the component exactly as the plugin build produced it, followed by custom sections
//! (which the component model allows anywhere at top level, and which wasmtime ignores):
//!
//! - `sangam:manifest`: the `plugin.toml` text (UTF-8), exactly once;
//! - `sangam:signature`: optional, see [`crate::signing`]: an ed25519 signature over the SHA-256 of
//!   the artifact with its `sangam:signature` sections removed (so the manifest is signed too).
//!
//! The artifact is itself a valid component: the runtime loads it as is, and any tool that reads
//! components can read it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::inspect::{self, InspectError, Inspection, MAX_COMPONENT_BYTES, Section};
use crate::manifest::{MAX_MANIFEST_BYTES, Manifest, ManifestError};
use crate::signing::{Signature, SignatureFormatError};

/// Name of the custom section that holds the manifest text.
pub const MANIFEST_SECTION: &str = "sangam:manifest";
/// Name of the custom section that holds the signature.
pub const SIGNATURE_SECTION: &str = "sangam:signature";

/// Why a plugin artifact could not be built or read.
#[derive(Debug, Error)]
pub enum PackageError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}; check the path and permissions")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An error about a named file.
    #[error("{path}: {error}")]
    File {
        /// The artifact or component file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<PackageError>,
    },
    /// The component itself is not a usable plugin.
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// The manifest is not valid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The artifact has no `sangam:manifest` section.
    #[error(
        "no embedded manifest (`{MANIFEST_SECTION}` section): this is a bare component; package it with \
         `sangam plugin pack COMPONENT.wasm --manifest plugin.toml -o PLUGIN.wasm`"
    )]
    NoManifest,
    /// More than one section of a kind that must be unique.
    #[error("{count} `{section}` sections; an artifact has at most one, repack it with `sangam plugin pack`")]
    Duplicate {
        /// The section name.
        section: &'static str,
        /// How many were found.
        count: usize,
    },
    /// The embedded manifest is not UTF-8 or over [`MAX_MANIFEST_BYTES`].
    #[error("the embedded manifest is {problem}; repack the plugin from its plugin.toml")]
    BadManifestSection {
        /// What is wrong.
        problem: String,
    },
    /// The signature section cannot be read.
    #[error(transparent)]
    Signature(#[from] SignatureFormatError),
    /// The manifest and the component disagree.
    #[error(
        "the manifest says {what} `{manifest}` but the component is {what} `{component}`; fix `{key}` in \
         plugin.toml (or rebuild the component) and pack again"
    )]
    Mismatch {
        /// `role` or `SDK`.
        what: &'static str,
        /// The manifest key to fix.
        key: &'static str,
        /// What the manifest says.
        manifest: String,
        /// What the component is.
        component: String,
    },
}

/// A plugin artifact, read and checked: the manifest parses, the component is a supported plugin,
/// and the two agree on role and SDK version. The signature is read but not yet verified (see
/// [`crate::signing::verify`]).
#[derive(Debug, Clone)]
pub struct Package {
    /// The embedded manifest.
    pub manifest: Manifest,
    /// The embedded manifest text.
    pub manifest_text: String,
    /// What the component imports and exports.
    pub inspection: Inspection,
    /// The signature, when the artifact carries one.
    pub signature: Option<Signature>,
    /// SHA-256 of the artifact with its signature section removed: what a signature signs.
    pub digest: [u8; 32],
    /// The whole artifact (a valid component).
    pub bytes: Vec<u8>,
}

impl Package {
    /// Reads and checks an artifact file; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Package, PackageError> {
        let path = path.as_ref();
        let bytes = read_bounded(path)?;
        let label = PathBuf::from(format!("{}[plugin.toml]", path.display()));
        unpack_labelled(bytes, &label)
            .map_err(|source| PackageError::File { path: path.to_path_buf(), error: Box::new(source) })
    }

    /// Reads a bare component and its `plugin.toml`, packs them in memory and checks the result the
    /// same way as an artifact (unsigned). Errors name the file they are about.
    pub fn load_with_manifest(
        component: impl AsRef<Path>,
        manifest: impl AsRef<Path>,
    ) -> Result<Package, PackageError> {
        let (file, manifest_path) = (component.as_ref(), manifest.as_ref());
        let in_file = |e: PackageError| match e {
            PackageError::File { .. } | PackageError::Io { .. } | PackageError::Manifest(_) => e,
            other => PackageError::File { path: file.to_path_buf(), error: Box::new(other) },
        };
        let bytes = read_bounded(file)?;
        let text = std::fs::read_to_string(manifest_path)
            .map_err(|source| PackageError::Io { path: manifest_path.to_path_buf(), source })?;
        Manifest::parse(&text, manifest_path)?;
        let packed = pack(&bytes, &text).map_err(in_file)?;
        unpack(packed).map_err(in_file)
    }

    /// The bytes to give the engine: the whole artifact, which is a valid component (custom sections
    /// are ignored by wasmtime).
    pub fn component_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 digest as lowercase hex.
    pub fn digest_hex(&self) -> String {
        hex(&self.digest)
    }
}

/// Reads a file of at most [`MAX_COMPONENT_BYTES`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, PackageError> {
    let io = |source| PackageError::Io { path: path.to_path_buf(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_COMPONENT_BYTES as u64 {
        return Err(PackageError::File {
            path: path.to_path_buf(),
            error: Box::new(PackageError::Inspect(InspectError::TooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: MAX_COMPONENT_BYTES,
            })),
        });
    }
    std::fs::read(path).map_err(io)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds an artifact from a component and its manifest text. Checks the manifest, inspects the
/// component, checks they agree, drops any earlier `sangam:manifest` / `sangam:signature` sections
/// and appends the manifest. The result is unsigned; see [`crate::signing::sign`].
pub fn pack(component: &[u8], manifest_text: &str) -> Result<Vec<u8>, PackageError> {
    let manifest = Manifest::parse(manifest_text, Path::new("plugin.toml"))?;
    let inspection = inspect::inspect(component)?;
    check_agreement(&manifest, &inspection)?;
    let mut out = strip_sections(component, &[MANIFEST_SECTION, SIGNATURE_SECTION])?;
    append_custom_section(&mut out, MANIFEST_SECTION, manifest_text.as_bytes());
    Ok(out)
}

/// Reads and checks an artifact; see [`Package`].
pub fn unpack(bytes: Vec<u8>) -> Result<Package, PackageError> {
    unpack_labelled(bytes, Path::new("plugin.toml"))
}

fn unpack_labelled(bytes: Vec<u8>, label: &Path) -> Result<Package, PackageError> {
    let outline = inspect::outline(&bytes)?;
    let manifest_sections = named(&outline.sections, MANIFEST_SECTION);
    let signature_sections = named(&outline.sections, SIGNATURE_SECTION);
    if manifest_sections.len() > 1 {
        return Err(PackageError::Duplicate { section: MANIFEST_SECTION, count: manifest_sections.len() });
    }
    if signature_sections.len() > 1 {
        return Err(PackageError::Duplicate { section: SIGNATURE_SECTION, count: signature_sections.len() });
    }
    // The component comes first: a core module or a foreign plugin gets that message, not "no manifest".
    let inspection = inspect::inspect(&bytes)?;
    let Some(manifest_section) = manifest_sections.first() else {
        return Err(PackageError::NoManifest);
    };
    let payload = custom_payload(&bytes, &manifest_section.range)?;
    if payload.len() > MAX_MANIFEST_BYTES {
        return Err(PackageError::BadManifestSection {
            problem: format!("{} bytes, over the limit of {MAX_MANIFEST_BYTES}", payload.len()),
        });
    }
    let manifest_text = std::str::from_utf8(payload)
        .map_err(|e| PackageError::BadManifestSection { problem: format!("not UTF-8 ({e})") })?
        .to_string();
    let manifest = Manifest::parse(&manifest_text, label)?;
    check_agreement(&manifest, &inspection)?;
    let signature = match signature_sections.first() {
        Some(section) => Some(Signature::decode(custom_payload(&bytes, &section.range)?)?),
        None => None,
    };
    let digest = digest_without_signature(&bytes, &outline.sections);
    Ok(Package { manifest, manifest_text, inspection, signature, digest, bytes })
}

/// Checks that the manifest's role and SDK version are what the component is.
pub fn check_agreement(manifest: &Manifest, inspection: &Inspection) -> Result<(), PackageError> {
    if manifest.role != inspection.role {
        return Err(PackageError::Mismatch {
            what: "role",
            key: "role",
            manifest: manifest.role.to_string(),
            component: inspection.role.to_string(),
        });
    }
    if manifest.sdk != inspection.sdk {
        return Err(PackageError::Mismatch {
            what: "SDK",
            key: "sdk",
            manifest: manifest.sdk.to_string(),
            component: inspection.sdk.to_string(),
        });
    }
    Ok(())
}

fn named<'a>(sections: &'a [Section], name: &str) -> Vec<&'a Section> {
    sections.iter().filter(|s| s.custom_name.as_deref() == Some(name)).collect()
}

/// SHA-256 of `bytes` without its `sangam:signature` sections.
pub(crate) fn digest_without_signature(bytes: &[u8], sections: &[Section]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut pos = 0;
    for section in named(sections, SIGNATURE_SECTION) {
        hasher.update(&bytes[pos..section.range.start]);
        pos = section.range.end;
    }
    hasher.update(&bytes[pos..]);
    hasher.finalize().into()
}

/// The payload of the custom section spanning `range` (after its id, size and name).
fn custom_payload<'a>(bytes: &'a [u8], range: &std::ops::Range<usize>) -> Result<&'a [u8], PackageError> {
    let section = bytes.get(range.clone()).ok_or(PackageError::Inspect(InspectError::Malformed {
        offset: range.start,
        message: "custom section out of bounds".to_string(),
    }))?;
    let mut reader = wasmparser::BinaryReader::new(section, range.start);
    let parsed = (|| -> wasmparser::Result<&[u8]> {
        reader.read_u8()?;
        reader.read_var_u32()?;
        reader.read_string()?;
        reader.read_bytes(reader.bytes_remaining())
    })();
    parsed.map_err(|e| {
        PackageError::Inspect(InspectError::Malformed { offset: e.offset(), message: e.message().to_string() })
    })
}

/// `bytes` without the custom sections named in `names`.
pub(crate) fn strip_sections(bytes: &[u8], names: &[&str]) -> Result<Vec<u8>, PackageError> {
    let outline = inspect::outline(bytes)?;
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0;
    for section in &outline.sections {
        if section.custom_name.as_deref().is_some_and(|n| names.contains(&n)) {
            out.extend_from_slice(&bytes[pos..section.range.start]);
            pos = section.range.end;
        }
    }
    out.extend_from_slice(&bytes[pos..]);
    Ok(out)
}

/// Appends a custom section (id 0, size, name, payload) to a component or module.
pub(crate) fn append_custom_section(out: &mut Vec<u8>, name: &str, payload: &[u8]) {
    let mut body = Vec::with_capacity(name.len() + payload.len() + 5);
    write_leb_u32(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    out.push(0);
    write_leb_u32(out, body.len());
    out.extend_from_slice(&body);
}

/// Unsigned LEB128. Callers keep `value` far below 4 GiB (manifests and signatures are small).
fn write_leb_u32(out: &mut Vec<u8>, value: usize) {
    let mut value = value as u64;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
