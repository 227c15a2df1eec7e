//! The on-disk cache of compiled components.
//!
//! A file is named by the SHA-256 of the component bytes and of the engine's
//! `precompile_compatibility_hash` (wasmtime version, target, compiler settings), so a changed
//! component or engine never loads a stale artifact. Each file carries a header with a magic
//! number, the payload length and the payload's SHA-256; the header is checked on the bytes in
//! memory and those same bytes are deserialized, so a truncated, corrupted or swapped file is a
//! cache miss (and is rewritten), never undefined behaviour.

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"SGMCWSM1";
const HEADER_LEN: usize = 8 + 8 + 32;

/// Feeds `Hash` output into SHA-256, so the engine hash is stable across runs.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A directory of compiled components, owned by this runtime.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_hash: String,
}

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache.
    Hit,
    /// Compiled and written to the cache.
    Miss,
    /// Compiled; no cache configured (or writing failed, logged).
    Uncached,
}

impl ComponentCache {
    /// Opens (creating) the cache directory for `engine`.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        let mut hasher = ShaHasher(Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        let engine_hash = hex(&hasher.0.finalize()[..16]);
        Ok(ComponentCache { dir, engine_hash })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a component's compiled form lives in.
    pub fn path_for(&self, component: &[u8]) -> PathBuf {
        let key = hex(&Sha256::digest(component)[..20]);
        self.dir.join(format!("{key}-{}.cwasm", self.engine_hash))
    }

    /// Loads the compiled form of `component` if a valid one is cached.
    pub(crate) fn load(&self, engine: &Engine, component: &[u8]) -> Option<Component> {
        let path = self.path_for(component);
        let file = std::fs::read(&path).ok()?;
        let payload = match check(&file) {
            Some(payload) => payload,
            None => {
                tracing::warn!(path = %path.display(), "compiled-component cache file is damaged; recompiling");
                let _ = std::fs::remove_file(&path);
                return None;
            }
        };
        // SAFETY: `Component::deserialize` requires bytes produced by `Component::serialize` of a
        // compatible engine. These bytes are exactly the ones verified above (no re-read of the file,
        // so nothing can swap them in between): the header's length and SHA-256 match the payload,
        // and the file lives in a cache directory this runtime owns, named by the SHA-256 of the
        // component and of this engine's `precompile_compatibility_hash`, and was written by
        // `store` below from `Component::serialize` on an engine with that same hash.
        match unsafe { Component::deserialize(engine, payload) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot load a cached compiled component; recompiling");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes the compiled form of `component`, atomically (temporary file, then rename).
    pub(crate) fn store(&self, component: &[u8], compiled: &Component) -> std::io::Result<()> {
        let payload = compiled.serialize().map_err(std::io::Error::other)?;
        let path = self.path_for(component);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(&Sha256::digest(&payload))?;
            file.write_all(&payload)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }
}

/// Returns the payload if the header is intact.
fn check(file: &[u8]) -> Option<&[u8]> {
    if file.len() < HEADER_LEN || &file[..8] != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(file[8..16].try_into().ok()?);
    let payload = &file[HEADER_LEN..];
    if payload.len() as u64 != len || Sha256::digest(payload)[..] != file[16..48] {
        return None;
    }
    Some(payload)
}
