//! Where the bytes come from: the GLB container, `data:` URIs and files beside the model.
//!
//! Everything here is bounded by the size of real input: a GLB chunk can only be as long as the
//! file, a buffer is only accepted when its source really holds `byteLength` bytes, and external
//! files are only read inside the model's folder.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;

/// The chunks of a binary glTF file.
pub(crate) struct Glb<'a> {
    /// The JSON chunk.
    pub json: &'a [u8],
    /// The BIN chunk, if present.
    pub bin: Option<&'a [u8]>,
}

const GLB_MAGIC: &[u8; 4] = b"glTF";
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// Whether `bytes` starts like a GLB file.
pub(crate) fn is_glb(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&GLB_MAGIC[..])
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let b: [u8; 4] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Splits a GLB file into its chunks. Non-fatal oddities (trailing bytes, unknown chunks) are
/// pushed to `warnings`.
pub(crate) fn parse_glb<'a>(bytes: &'a [u8], warnings: &mut Vec<String>) -> Result<Glb<'a>, String> {
    if !is_glb(bytes) {
        return Err("the file does not start with the magic bytes \"glTF\"".into());
    }
    let (Some(version), Some(length)) = (u32_at(bytes, 4), u32_at(bytes, 8)) else {
        return Err(format!("the 12-byte header is truncated (the file has {} bytes)", bytes.len()));
    };
    if version != 2 {
        return Err(format!("header version is {version}; only glTF 2 is supported"));
    }
    let length = usize::try_from(length).map_err(|_| "header length does not fit in memory".to_string())?;
    if length < 12 {
        return Err(format!("header length {length} is smaller than the 12-byte header"));
    }
    if length > bytes.len() {
        return Err(format!(
            "header says the file has {length} bytes but it has {} (truncated download?)",
            bytes.len()
        ));
    }
    if length < bytes.len() {
        warnings.push(format!(
            "GLB header: length {length} is smaller than the file ({} bytes); trailing bytes ignored",
            bytes.len()
        ));
    }
    let data = bytes.get(..length).unwrap_or_default();
    let mut offset = 12usize;
    let mut json = None;
    let mut bin = None;
    let mut index = 0usize;
    while offset < length {
        let (Some(chunk_len), Some(chunk_type)) = (u32_at(data, offset), u32_at(data, offset + 4)) else {
            return Err(format!("chunk {index} header at byte {offset} is truncated"));
        };
        let start = offset + 8;
        let chunk_len = usize::try_from(chunk_len).unwrap_or(usize::MAX);
        let Some(chunk) = start.checked_add(chunk_len).and_then(|end| data.get(start..end)) else {
            return Err(format!(
                "chunk {index} at byte {offset} declares {chunk_len} bytes but only {} remain",
                length.saturating_sub(start)
            ));
        };
        match (index, chunk_type) {
            (0, CHUNK_JSON) => json = Some(chunk),
            (0, other) => {
                return Err(format!("the first chunk must be JSON, found type 0x{other:08X}"));
            }
            (_, CHUNK_JSON) => return Err(format!("chunk {index} is a second JSON chunk")),
            (1, CHUNK_BIN) => bin = Some(chunk),
            (_, CHUNK_BIN) => {
                return Err(format!("chunk {index} is a second BIN chunk; only one is allowed right after JSON"));
            }
            (_, other) => warnings.push(format!("GLB chunk {index}: unknown chunk type 0x{other:08X} ignored")),
        }
        // Chunks are 4-byte aligned; tolerate unpadded ones by not rounding past the end.
        offset = start + chunk_len;
        index += 1;
    }
    let Some(json) = json else {
        return Err("the file has no JSON chunk".into());
    };
    Ok(Glb { json, bin })
}

/// Where external files may be read from.
#[derive(Clone, Copy)]
pub(crate) struct Sandbox<'a> {
    /// The model's folder; `None` refuses every file reference.
    pub base_dir: Option<&'a Path>,
}

/// Bytes fetched for a URI.
pub(crate) struct Fetched {
    /// The bytes (at most `max_len` when one was given).
    pub bytes: Vec<u8>,
    /// The MIME type of a `data:` URI.
    pub mime: Option<String>,
    /// Bytes read from disk (0 for `data:` URIs), for the import's size budget.
    pub disk_bytes: u64,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes.
pub(crate) fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut it = bytes.iter();
    while let Some(&b) = it.next() {
        if b == b'%' {
            let (Some(&h), Some(&l)) = (it.next(), it.next()) else {
                return Err("has a truncated %-escape".into());
            };
            let (Some(h), Some(l)) = (hex(h), hex(l)) else {
                return Err("has an invalid %-escape".into());
            };
            out.push(h << 4 | l);
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

/// Turns a relative URI reference into a path inside the sandbox, or says why not.
pub(crate) fn resolve_path(uri: &str, sandbox: Sandbox<'_>) -> Result<PathBuf, String> {
    // A scheme is letters, digits, '+', '-', '.' before the first ':' that precedes any '/'.
    let head = uri.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some((scheme, _)) = head.split_once(':') {
        return Err(format!(
            "URI scheme \"{scheme}:\" is not supported: only data: URIs and relative file paths are \
             loaded (nothing is fetched over the network); download the file next to the model"
        ));
    }
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path).map_err(|e| format!("URI {uri:?} {e}"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| format!("URI {uri:?} is not UTF-8 after %-decoding"))?;
    if decoded.contains('\0') {
        return Err(format!("URI {uri:?} contains a NUL byte"));
    }
    if decoded.starts_with('/') || decoded.starts_with('\\') || Path::new(&decoded).has_root() {
        return Err(format!("URI {uri:?} is an absolute path; glTF file references must be relative to the model"));
    }
    let Some(base) = sandbox.base_dir else {
        return Err(format!(
            "URI {uri:?} references a file but no base folder was given (use load_gltf, or pass base_dir)"
        ));
    };
    let mut rel = PathBuf::new();
    for part in decoded.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "URI {uri:?} climbs out of the model's folder with \"..\"; only files inside it are read"
                ));
            }
            p => rel.push(p),
        }
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!("URI {uri:?} is not a plain relative path"));
    }
    if rel.as_os_str().is_empty() {
        return Err(format!("URI {uri:?} names no file"));
    }
    let full = base.join(&rel);
    // Symbolic links must not lead outside the folder either.
    let base_real = base.canonicalize().map_err(|e| format!("model folder {}: {e}", base.display()))?;
    let real = full.canonicalize().map_err(|e| format!("cannot open {} (from URI {uri:?}): {e}", full.display()))?;
    if !real.starts_with(&base_real) {
        return Err(format!("URI {uri:?} resolves to {} outside the model's folder", real.display()));
    }
    Ok(real)
}

/// Fetches a URI: a `data:` URI is decoded, anything else must be a file inside the sandbox.
/// When `max_len` is given, at most that many bytes are kept (buffers).
pub(crate) fn fetch_uri(uri: &str, sandbox: Sandbox<'_>, max_len: Option<u64>) -> Result<Fetched, String> {
    if uri.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:")) {
        let rest = uri.get(5..).unwrap_or_default();
        let Some((header, payload)) = rest.split_once(',') else {
            return Err("data: URI has no ',' before its payload".into());
        };
        let (mime, is_base64) = match header.strip_suffix(";base64") {
            Some(m) => (m, true),
            None => (header, false),
        };
        let mime = mime.split(';').next().filter(|m| !m.is_empty()).map(str::to_string);
        let mut bytes = if is_base64 {
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                    .with_decode_allow_trailing_bits(true),
            );
            engine.decode(payload.trim_end()).map_err(|e| format!("data: URI is not valid base64: {e}"))?
        } else {
            percent_decode(payload).map_err(|e| format!("data: URI {e}"))?
        };
        if let Some(max) = max_len.and_then(|m| usize::try_from(m).ok()) {
            bytes.truncate(max);
        }
        return Ok(Fetched { bytes, mime, disk_bytes: 0 });
    }
    let path = resolve_path(uri, sandbox)?;
    let file = std::fs::File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    let limit = max_len.unwrap_or(u64::MAX);
    file.take(limit).read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let disk_bytes = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok(Fetched { bytes, mime: None, disk_bytes })
}

/// A resolved buffer: exactly `byteLength` bytes, or why it is unusable.
pub(crate) type BufferData<'a> = Result<Cow<'a, [u8]>, String>;

/// Resolves every buffer of the document. A buffer whose source holds fewer bytes than its
/// `byteLength` is refused (so no read can run past real data); longer sources are cut.
pub(crate) fn load_buffers<'a>(
    root: &gltf::json::Root,
    bin: Option<&'a [u8]>,
    sandbox: Sandbox<'_>,
    disk_bytes: &mut u64,
) -> Vec<BufferData<'a>> {
    root.buffers
        .iter()
        .enumerate()
        .map(|(i, buffer)| {
            let declared = buffer.byte_length.0;
            let declared_usize =
                usize::try_from(declared).map_err(|_| format!("byteLength {declared} does not fit in memory"))?;
            match buffer.uri.as_deref() {
                None => {
                    let Some(bin) = bin.filter(|_| i == 0) else {
                        return Err("has no uri and is not the BIN chunk of a .glb file (only buffers[0] of a .glb \
                                    may omit its uri)"
                            .to_string());
                    };
                    bin.get(..declared_usize).map(Cow::Borrowed).ok_or_else(|| {
                        format!(
                            "byteLength {declared} is larger than the GLB BIN chunk ({} bytes); the file is \
                             truncated or its JSON is wrong",
                            bin.len()
                        )
                    })
                }
                Some(uri) => {
                    let fetched = fetch_uri(uri, sandbox, Some(declared))?;
                    *disk_bytes = disk_bytes.saturating_add(fetched.disk_bytes);
                    if fetched.bytes.len() < declared_usize {
                        let what =
                            if fetched.disk_bytes > 0 || !uri.starts_with("data:") { "file" } else { "data: URI" };
                        return Err(format!(
                            "byteLength {declared} is larger than the {what} it references ({} bytes); the data is \
                             truncated or byteLength is wrong",
                            fetched.bytes.len()
                        ));
                    }
                    Ok(Cow::Owned(fetched.bytes))
                }
            }
        })
        .collect()
}
