//! The on-disk cache of compiled components: native code, so nothing in it may be trusted because
//! it merely looks right.
//!
//! - **The directory** must be a real directory (not a symlink) owned by the user running Sangam,
//!   with no access for group or others: one the user owns with looser modes is tightened to 0700,
//!   one owned by anyone else is refused (the engine then compiles every time, with a warning).
//! - **The key**: a per-user secret of 32 random bytes in `key` inside the directory (mode 0600,
//!   created once; a key file with other owners or modes is refused).
//! - **An entry** is named by the SHA-256 of the component bytes and of the engine's
//!   `precompile_compatibility_hash` (wasmtime version, target, compiler settings), so a changed
//!   component or engine never loads a stale artifact. It carries a header with a magic number, the
//!   payload length and an HMAC-SHA256 under the key over the engine hash, the component's digest
//!   and the payload. The MAC is checked on the bytes in memory and those same bytes are
//!   deserialized: a truncated, corrupted, swapped or planted file (whoever wrote it without the key)
//!   is a cache miss and is rewritten, never loaded.
//!
//! Cost: one HMAC pass over the compiled bytes per load and per store (about a millisecond for a
//! plugin of a few hundred KiB of native code).
// Deserialising compiled code (see the workspace lint policy): the one block says what is trusted.
#![allow(unsafe_code)]

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"SGMCWSM2";
const HEADER_LEN: usize = 8 + 8 + 32;
/// The key file's name inside the cache directory.
const KEY_FILE: &str = "key";
const KEY_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

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

/// A directory of compiled components, owned by this user and authenticated with this user's key.
#[derive(Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_hash: String,
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for ComponentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ComponentCache").field("dir", &self.dir).field("engine_hash", &self.engine_hash).finish()
    }
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

fn refused(dir: &Path, why: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!("refusing the compiled-component cache {}: {why}", dir.display()),
    )
}

/// Checks (and where it is ours, tightens) the cache directory.
#[cfg(unix)]
fn secure_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.file_type().is_dir() {
        return Err(refused(dir, "it is not a directory (a symlink or a file)".into()));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(refused(
            dir,
            format!("it is owned by uid {}, not by this user (uid {me}); use a cache folder of your own", meta.uid()),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        tracing::info!(dir = %dir.display(), mode = format!("{:o}", meta.mode() & 0o777), "tightening the compiled-component cache to mode 700");
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn secure_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Reads the cache key, or makes one (mode 0600) when there is none.
fn load_or_create_key(dir: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    let path = dir.join(KEY_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            let mut key = [0u8; KEY_LEN];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
            file.write_all(&key)?;
            file.sync_all()?;
            return Ok(key);
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(&path)?;
        let me = rustix::process::getuid().as_raw();
        if !meta.file_type().is_file() || meta.uid() != me || meta.mode() & 0o077 != 0 {
            return Err(refused(
                dir,
                format!(
                    "its key file {} must be a file owned by this user with mode 600; remove it to have a new one made",
                    path.display()
                ),
            ));
        }
    }
    let bytes = std::fs::read(&path)?;
    let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
        refused(
            dir,
            format!("its key file {} is not {KEY_LEN} bytes; remove it to have a new one made", path.display()),
        )
    })?;
    Ok(key)
}

impl ComponentCache {
    /// Opens (creating) the cache directory for `engine`: checks who owns it, tightens its mode, and
    /// reads or makes the key. An error means the cache must not be used.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> std::io::Result<Self> {
        let dir = dir.into();
        {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir)?;
        }
        secure_dir(&dir)?;
        let key = load_or_create_key(&dir)?;
        let mut hasher = ShaHasher(Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        let engine_hash = hex(&hasher.0.finalize()[..16]);
        Ok(ComponentCache { dir, engine_hash, key })
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

    /// The MAC of an entry: the engine, the component and the compiled payload, under the key.
    fn mac(&self, component: &[u8], payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(MAGIC);
        mac.update(self.engine_hash.as_bytes());
        mac.update(&Sha256::digest(component));
        mac.update(payload);
        mac
    }

    /// Loads the compiled form of `component` if an authentic one is cached.
    pub(crate) fn load(&self, engine: &Engine, component: &[u8]) -> Option<Component> {
        let path = self.path_for(component);
        // Only a regular file (not a symlink to somewhere else).
        if !std::fs::symlink_metadata(&path).ok()?.file_type().is_file() {
            return None;
        }
        let file = std::fs::read(&path).ok()?;
        let payload = match self.check(component, &file) {
            Some(payload) => payload,
            None => {
                tracing::warn!(path = %path.display(), "compiled-component cache file is damaged or not authentic; recompiling");
                let _ = std::fs::remove_file(&path);
                return None;
            }
        };
        // SAFETY: `Component::deserialize` runs native code produced by `Component::serialize` on a
        // compatible engine, and trusts it completely. What is trusted here: these bytes, exactly
        // (no re-read of the file, so nothing can swap them in between), whose HMAC-SHA256 under
        // this user's cache key matches. The key is 32 random bytes in a mode-0600 file of a
        // mode-0700 directory owned by this user (checked in `new`); the MAC covers this engine's
        // `precompile_compatibility_hash`, this component's digest and the payload, so only `store`
        // below, run by this user on an engine with that same hash for this same component, wrote
        // them. What is not trusted: the file's name, location or header alone; a file planted by
        // another user or copied from another cache fails the MAC. Not defended: a process running as
        // this same user can read the key and forge an entry, but it could as well replace the
        // Sangam binary itself, so the cache adds no trust of its own.
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
        let tag = self.mac(component, &payload).finalize().into_bytes();
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(&tag)?;
            file.write_all(&payload)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }

    /// The payload, if the header is intact and the MAC authentic.
    fn check<'a>(&self, component: &[u8], file: &'a [u8]) -> Option<&'a [u8]> {
        if file.len() < HEADER_LEN || &file[..8] != MAGIC {
            return None;
        }
        let len = u64::from_le_bytes(file[8..16].try_into().ok()?);
        let payload = &file[HEADER_LEN..];
        if payload.len() as u64 != len {
            return None;
        }
        // Constant-time comparison.
        self.mac(component, payload).verify_slice(&file[16..48]).ok()?;
        Some(payload)
    }
}
