//! Plugin signatures (ed25519), key files, trusted keys and the admission policy.
//!
//! A signed artifact carries one `sangam:signature` custom section whose payload is UTF-8 text:
//!
//! ```text
//! sangam-signature 1
//! key-id 3f9a0c27d1e84b56
//! ed25519 <128 hex digits>
//! ```
//!
//! The signature is over the 32-byte message prefix [`SIGNED_PREFIX`] followed by the SHA-256 of
//! the artifact with its `sangam:signature` section removed (component and manifest alike). The key
//! id is the first 8 bytes of the SHA-256 of the 32-byte public key, in hex.
//!
//! Key files are text: `#` comment lines, then one line with the 32-byte key in base64 (or 64 hex
//! digits). `NAME.key` holds the secret key, `NAME.pub` the public key.
//!
//! Policy ([`admit`]): a plugin signed by a trusted key runs; an unsigned plugin, or one signed by a
//! key the runtime does not trust, is refused unless the scene allows unsigned plugins (dev mode),
//! which logs a warning; a signature that does not match is always refused.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::package::{self, Package, PackageError, SIGNATURE_SECTION};

/// Domain separation for the signed message (so a plugin signature is never valid for anything else).
pub const SIGNED_PREFIX: &[u8; 32] = b"sangam:plugin signature v1\0\0\0\0\0\0";
/// Largest key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;
/// Largest `sangam:signature` payload read, in bytes.
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// Most keys read from a trusted-keys folder.
pub const MAX_TRUSTED_KEYS: usize = 1024;

/// The id of a public key: the first 8 bytes of the SHA-256 of its 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let hash = Sha256::digest(key.as_bytes());
        let mut id = [0; 8];
        id.copy_from_slice(&hash[..8]);
        KeyId(id)
    }

    /// Parses 16 hex digits.
    pub fn parse(text: &str) -> Option<KeyId> {
        let bytes = parse_hex(text)?;
        Some(KeyId(bytes.try_into().ok()?))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&package::hex(&self.0))
    }
}

/// A signature as stored in an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The id of the key that signed.
    pub key_id: KeyId,
    /// The ed25519 signature.
    pub signature: ed25519_dalek::Signature,
}

/// A `sangam:signature` section that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the `{SIGNATURE_SECTION}` section is unreadable: {problem}; sign the plugin again")]
pub struct SignatureFormatError {
    /// What is wrong.
    pub problem: String,
}

impl Signature {
    /// The section payload.
    pub fn encode(&self) -> Vec<u8> {
        format!("sangam-signature 1\nkey-id {}\ned25519 {}\n", self.key_id, package::hex(&self.signature.to_bytes()))
            .into_bytes()
    }

    /// Reads a section payload.
    pub fn decode(payload: &[u8]) -> Result<Signature, SignatureFormatError> {
        let bad = |problem: &str| SignatureFormatError { problem: problem.to_string() };
        if payload.len() > MAX_SIGNATURE_BYTES {
            return Err(bad("over 1024 bytes"));
        }
        let text = std::str::from_utf8(payload).map_err(|_| bad("not UTF-8"))?;
        let mut lines = text.lines();
        if lines.next() != Some("sangam-signature 1") {
            return Err(bad("it does not start with `sangam-signature 1` (a newer signature format?)"));
        }
        let key_id = lines
            .next()
            .and_then(|l| l.strip_prefix("key-id "))
            .and_then(KeyId::parse)
            .ok_or_else(|| bad("second line is not `key-id` and 16 hex digits"))?;
        let signature = lines
            .next()
            .and_then(|l| l.strip_prefix("ed25519 "))
            .and_then(parse_hex)
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or_else(|| bad("third line is not `ed25519` and 128 hex digits"))?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(bad("unexpected text after the signature"));
        }
        Ok(Signature { key_id, signature: ed25519_dalek::Signature::from_bytes(&signature) })
    }
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn message(digest: &[u8; 32]) -> [u8; 64] {
    let mut m = [0; 64];
    m[..32].copy_from_slice(SIGNED_PREFIX);
    m[32..].copy_from_slice(digest);
    m
}

/// Signs an artifact: checks it is a valid package, replaces any earlier signature and appends
/// a `sangam:signature` section made with `key`.
pub fn sign(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>, PackageError> {
    let mut out = package::strip_sections(bytes, &[SIGNATURE_SECTION])?;
    let unsigned = package::unpack(out.clone())?;
    let signature =
        Signature { key_id: KeyId::of(&key.verifying_key()), signature: key.sign(&message(&unsigned.digest)) };
    package::append_custom_section(&mut out, SIGNATURE_SECTION, &signature.encode());
    Ok(out)
}

/// A public key the runtime trusts, with the name it was configured under (usually its file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Where the key came from, for messages.
    pub name: String,
    /// Its id.
    pub id: KeyId,
    /// The key.
    pub key: VerifyingKey,
}

/// The public keys the runtime trusts (from its configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// No trusted keys.
    pub fn new() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// Adds a key under `name`; a key already present is not added twice.
    pub fn add(&mut self, name: impl Into<String>, key: VerifyingKey) {
        let id = KeyId::of(&key);
        if !self.keys.iter().any(|k| k.key == key) {
            self.keys.push(TrustedKey { name: name.into(), id, key });
        }
    }

    /// Adds a public key file, or every `*.pub` file in a folder (not recursive).
    pub fn load(&mut self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io { path: path.to_path_buf(), source };
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "pub"))
                .take(MAX_TRUSTED_KEYS + 1)
                .collect();
            if files.len() > MAX_TRUSTED_KEYS {
                return Err(KeyError::Invalid {
                    path: path.to_path_buf(),
                    problem: format!("more than {MAX_TRUSTED_KEYS} public keys in the folder"),
                });
            }
            files.sort();
            for file in files {
                self.add(file.display().to_string(), read_public_key(&file)?);
            }
            Ok(())
        } else {
            self.add(path.display().to_string(), read_public_key(path)?);
            Ok(())
        }
    }

    /// The key with id `id`.
    pub fn get(&self, id: KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Every trusted key.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Signed by a trusted key, and the signature matches.
    Verified {
        /// The key's id.
        key_id: KeyId,
        /// The name the key is trusted under.
        key_name: String,
    },
    /// The artifact carries no signature.
    Unsigned,
}

/// A signature that does not check out, or a plugin the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// Signed, but by a key the runtime does not trust.
    #[error(
        "plugin `{plugin}` is signed by key {key_id}, which is not among the runtime's trusted keys ({known}); \
         add the vendor's public key file to the trusted keys if you trust them"
    )]
    UnknownKey {
        /// The plugin id.
        plugin: String,
        /// The signing key's id.
        key_id: KeyId,
        /// The trusted key ids, for the message.
        known: String,
    },
    /// The signature does not match the artifact: it was modified after signing, or forged.
    #[error(
        "plugin `{plugin}`: the signature by key {key_id} does not match the file; it was modified after \
         signing. Do not run it; get the plugin again from its vendor"
    )]
    BadSignature {
        /// The plugin id.
        plugin: String,
        /// The claimed key.
        key_id: KeyId,
    },
    /// Unsigned and the scene does not allow unsigned plugins.
    #[error(
        "plugin `{plugin}` is not signed; the runtime runs unsigned plugins only when the scene allows them \
         (dev mode); sign it (`sangam plugin pack ... --sign KEY`) and trust its public key"
    )]
    Unsigned {
        /// The plugin id.
        plugin: String,
    },
}

/// Checks a package's signature against the trusted keys.
pub fn verify(package: &Package, trusted: &TrustedKeys) -> Result<Verification, SignatureError> {
    let plugin = package.manifest.id.clone();
    let Some(signature) = &package.signature else {
        return Ok(Verification::Unsigned);
    };
    let Some(key) = trusted.get(signature.key_id) else {
        let known = trusted.keys().iter().map(|k| k.id.to_string()).collect::<Vec<_>>();
        let known = if known.is_empty() { "none configured".to_string() } else { known.join(", ") };
        return Err(SignatureError::UnknownKey { plugin, key_id: signature.key_id, known });
    };
    key.key
        .verify(&message(&package.digest), &signature.signature)
        .map_err(|_| SignatureError::BadSignature { plugin, key_id: signature.key_id })?;
    Ok(Verification::Verified { key_id: key.id, key_name: key.name.clone() })
}

/// Why a plugin is allowed to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Signed by a trusted key.
    Trusted {
        /// The key's id.
        key_id: KeyId,
        /// The name the key is trusted under.
        key_name: String,
    },
    /// Unsigned, or signed by an unknown key, and the scene allows unsigned plugins (dev mode).
    DevMode {
        /// The warning that was logged.
        warning: String,
    },
}

/// The admission policy: trusted signatures run; unsigned plugins (and plugins signed by unknown
/// keys) run only when `allow_unsigned` (the scene's dev-mode switch), with a logged warning; bad
/// signatures never run.
pub fn admit(package: &Package, trusted: &TrustedKeys, allow_unsigned: bool) -> Result<Admission, SignatureError> {
    let plugin = &package.manifest.id;
    let warning = match verify(package, trusted) {
        Ok(Verification::Verified { key_id, key_name }) => return Ok(Admission::Trusted { key_id, key_name }),
        Ok(Verification::Unsigned) if allow_unsigned => {
            format!("plugin `{plugin}` is not signed; running it because the scene allows unsigned plugins (dev mode)")
        }
        Ok(Verification::Unsigned) => return Err(SignatureError::Unsigned { plugin: plugin.clone() }),
        Err(SignatureError::UnknownKey { key_id, .. }) if allow_unsigned => format!(
            "plugin `{plugin}` is signed by untrusted key {key_id}; running it because the scene allows unsigned \
             plugins (dev mode)"
        ),
        Err(e) => return Err(e),
    };
    tracing::warn!(plugin = %plugin, "{warning}");
    Ok(Admission::DevMode { warning })
}

/// A key file that cannot be read or written.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("cannot access key file {path}: {source}; check the path and permissions")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file would overwrite an existing key.
    #[error("{path} already exists; choose another name or move the old key away (keys are never overwritten)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The content is not a key.
    #[error("{path}: not a Sangam key file: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// Makes a new signing key from the operating system's random source.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// Writes `BASE.key` (secret, readable by the owner only on Unix) and `BASE.pub`; refuses to overwrite
/// either. Returns both paths and the key id.
pub fn write_key_pair(base: &Path, key: &SigningKey) -> Result<(PathBuf, PathBuf, KeyId), KeyError> {
    let with_ext = |ext: &str| {
        let mut name = base.as_os_str().to_owned();
        name.push(ext);
        PathBuf::from(name)
    };
    let (secret_path, public_path) = (with_ext(".key"), with_ext(".pub"));
    for path in [&secret_path, &public_path] {
        if path.exists() {
            return Err(KeyError::Exists { path: path.clone() });
        }
    }
    let id = KeyId::of(&key.verifying_key());
    let secret = format!(
        "# Sangam plugin signing key (ed25519 secret key, base64), key id {id}.\n# Keep this file private; give \
         people the .pub file.\n{}\n",
        BASE64.encode(key.to_bytes())
    );
    let public = format!(
        "# Sangam plugin public key (ed25519, base64), key id {id}.\n# Add it to a runtime's trusted keys to run \
         plugins signed with the matching .key file.\n{}\n",
        BASE64.encode(key.verifying_key().as_bytes())
    );
    write_new(&secret_path, secret.as_bytes(), true)?;
    write_new(&public_path, public.as_bytes(), false)?;
    Ok((secret_path, public_path, id))
}

fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists { path: path.to_path_buf() }
        } else {
            io(e)
        }
    })?;
    file.write_all(contents).map_err(io)
}

/// Reads the 32 key bytes of a key file.
fn read_key_bytes(path: &Path) -> Result<[u8; 32], KeyError> {
    let io = |source| KeyError::Io { path: path.to_path_buf(), source };
    let invalid = |problem: String| KeyError::Invalid { path: path.to_path_buf(), problem };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_KEY_FILE_BYTES {
        return Err(invalid(format!("{size} bytes; a key file is a few lines")));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut data = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = data.next().ok_or_else(|| invalid("no key line (only comments or blank lines)".to_string()))?;
    if data.next().is_some() {
        return Err(invalid("more than one key line; a key file holds one key after `#` comment lines".to_string()));
    }
    let bytes = if line.len() == 64 { parse_hex(line) } else { BASE64.decode(line).ok() }
        .ok_or_else(|| invalid("the key line is neither base64 nor 64 hex digits".to_string()))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| invalid(format!("the key is {} bytes; an ed25519 key is 32 bytes", bytes.len())))
}

/// Reads a secret key file (`NAME.key`).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&read_key_bytes(path)?))
}

/// Reads a public key file (`NAME.pub`).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_bytes(&read_key_bytes(path)?).map_err(|_| KeyError::Invalid {
        path: path.to_path_buf(),
        problem: "the 32 bytes are not a valid ed25519 public key".to_string(),
    })
}
