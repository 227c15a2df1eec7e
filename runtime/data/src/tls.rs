//! TLS of the sources (`mqtts://`, `https://`, `wss://`): one rustls client configuration per source,
//! with rustls's default provider (aws-lc-rs: post-quantum key exchange first), made when the sources
//! start.
//!
//! - **Trust**: the certificates of the scene's `ca_file` and only those (a private CA: a site's
//!   broker is rarely signed by a public one, and trusting the system's roots beside it would let
//!   any public CA vouch for it), or else the system's root store (`/etc/ssl/certs`).
//! - **Client certificate** (mutual TLS, as many IoT brokers want): `client_cert_file` (PEM chain)
//!   and `client_key_file` (PEM PKCS#8, PKCS#1 or SEC1 key).
//! - **Bounded**: a PEM file over [`MAX_PEM_BYTES`] is refused before it is read whole; a file that
//!   holds no certificate or key, or one rustls cannot use, is an error at start naming the file.
//! - **Faults are said with the fix** ([`explain`]): an untrusted issuer, a certificate for another
//!   name, an expired one, or a server that wants a client certificate.
//!
//! Cost: reading the PEM files (or the system's roots, some hundred certificates) once per source at
//! start; rustls's handshake per connection.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sangam_twin::TlsFiles;

/// The largest PEM file read (1 MiB: a CA bundle of a few hundred certificates is about 200 KiB).
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// The client configuration for `files`: whom to trust and, if named, the client certificate.
pub fn client_config(files: &TlsFiles) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match &files.ca_file {
        Some(file) => {
            for cert in certificates(file)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: a certificate in it is not usable as a CA: {e}", file.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
                return Err(format!(
                    "no system root certificates found{why}: install ca-certificates, or set ca_file to the server's CA"
                ));
            }
        }
    }
    let builder = builder()?.with_root_certificates(roots);
    let config = match &files.client_identity {
        None => builder.with_no_client_auth(),
        Some((cert_file, key_file)) => {
            let chain = certificates(cert_file)?;
            let key = PrivateKeyDer::from_pem_slice(&read_pem(key_file)?).map_err(|e| {
                format!(
                    "{}: no PEM private key in it ({e}); client_key_file must be the client certificate's key",
                    key_file.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                format!("{} and {}: not a certificate and its key ({e})", cert_file.display(), key_file.display())
            })?
        }
    };
    Ok(Arc::new(config))
}

/// A configuration that trusts no one, for a client that must be given one but never makes a TLS
/// connection (reqwest builds one of its own otherwise, from a process-wide provider Sangam does not
/// install, and panics without it).
pub fn trusting_no_one() -> Result<Arc<rustls::ClientConfig>, String> {
    Ok(Arc::new(builder()?.with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth()))
}

/// A client configuration's start: aws-lc-rs, rustls's safe protocol versions.
fn builder() -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>, String> {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))
}

/// The PEM certificates of `file`, at least one.
fn certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read_pem(file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate file ({e})", file.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", file.display()));
    }
    Ok(certs)
}

/// Reads a PEM file of at most [`MAX_PEM_BYTES`].
fn read_pem(file: &Path) -> Result<Vec<u8>, String> {
    let opened = std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(format!(
            "{}: over {MAX_PEM_BYTES} bytes, too large for a PEM certificate or key file",
            file.display()
        ));
    }
    Ok(bytes)
}

/// A connection error with the fix, when it is a TLS one whose cause is known (rustls's words for
/// it are kept in front).
pub fn explain(error: &str) -> String {
    let hints: [(&[&str], &str); 4] = [
        (
            &["UnknownIssuer", "unknown issuer"],
            "the server's certificate is not signed by a CA this source trusts; set ca_file to the PEM file of its CA",
        ),
        (
            &["NotValidForName", "not valid for name"],
            "the server's certificate is not for this host name; use a host name (or IP address) the certificate names",
        ),
        (&["Expired", "expired"], "the server's certificate has expired, or this machine's clock is wrong"),
        (
            &["CertificateRequired", "certificate required"],
            "the server wants a client certificate; set client_cert_file and client_key_file",
        ),
    ];
    match hints.iter().find(|(marks, _)| marks.iter().any(|m| error.contains(m))) {
        Some((_, hint)) => format!("{error}: {hint}"),
        None => error.to_string(),
    }
}
