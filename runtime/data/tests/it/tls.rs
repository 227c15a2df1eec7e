//! TLS sources against real TLS servers on loopback, with certificates made for each run (rcgen): a
//! site's private CA, a server certificate for 127.0.0.1 and localhost, one for another name, an
//! expired one, a client certificate, and an impostor CA.
//!
//! - `mqtts://` against Mosquitto's TLS listener (OpenSSL on the other side): a source trusting the
//!   site's CA gets a numbered stream whole; one trusting the system's roots or the impostor is
//!   refused, and its state says why and what to set; a broker that requires client certificates
//!   lets in only the source that has one.
//! - `https://` and `wss://` against hyper and tungstenite behind tokio-rustls: the document and the
//!   messages arrive through the site's CA; a certificate for another name, an expired one and an
//!   untrusted one are said with their fix, and polling goes on.
//! - Unusable TLS files are an error at start naming the source and the file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use sangam_data::broker::{BrokerTls, LocalBroker, Publisher};
use sangam_data::{DataError, Options, SourceState, SourceStatus, Sources};
use sangam_twin::{SourceDecl, SourceKind, TlsFiles};
use tokio_tungstenite::tungstenite::Message;

use crate::take_until;

/// The certificates of one run, as PEM files in a folder of their own.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Trust the site's CA (`ca`), or another file, and optionally present the client certificate.
    fn files(&self, ca: Option<&str>, client: bool) -> TlsFiles {
        TlsFiles {
            ca_file: ca.map(|c| self.file(c)),
            client_identity: client.then(|| (self.file("client.pem"), self.file("client.key"))),
        }
    }
}

/// A CA, and what it signs: `server` (127.0.0.1, localhost), `other-name` (broker.example only),
/// `expired` (2020), `client`; and `impostor-ca`, which signs nothing here.
fn make_pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
    let ca_named = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    };
    let ca = ca_named("Sangam test site CA");
    write("ca.pem", ca.pem());
    write("impostor-ca.pem", ca_named("Sangam test impostor CA").pem());
    let leaf = |name: &str, names: &[&str], usage: ExtendedKeyUsagePurpose, expired: bool| {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let key = KeyPair::generate().unwrap();
        write(&format!("{name}.pem"), params.signed_by(&key, &ca).unwrap().pem());
        write(&format!("{name}.key"), key.serialize_pem());
    };
    leaf("server", &["127.0.0.1", "localhost"], ExtendedKeyUsagePurpose::ServerAuth, false);
    leaf("other-name", &["broker.example"], ExtendedKeyUsagePurpose::ServerAuth, false);
    leaf("expired", &["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth, true);
    leaf("client", &["sangam-kpi"], ExtendedKeyUsagePurpose::ClientAuth, false);
    Pki { dir }
}

fn mqtt_source(id: &str, broker: &str, tls: TlsFiles) -> SourceDecl {
    SourceDecl {
        id: id.into(),
        adapter: "cells".into(),
        kind: SourceKind::Mqtt {
            broker: broker.into(),
            topics: vec!["cells/+/kpi".into()],
            qos: 1,
            client_id: format!("sangam-{id}"),
            clean_session: false,
            keep_alive_s: 5,
            username: None,
            password_env: None,
            coalesce: false,
            tls,
        },
        location: "test".into(),
    }
}

/// Waits until source `i` is in a state `ok` accepts.
fn wait_for(sources: &Sources, i: usize, what: &str, ok: impl Fn(&SourceStatus) -> bool) -> SourceStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = sources.statuses()[i].clone();
        if ok(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "source {i} not {what} within 20 s: {:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The error of a source that cannot connect, once it has one.
fn refusal(sources: &Sources, i: usize) -> String {
    let status = wait_for(sources, i, "refused", |s| matches!(s.state, SourceState::Reconnecting { .. }));
    let SourceState::Reconnecting { error, .. } = &status.state else { unreachable!() };
    assert_eq!(status.stats.messages, 0, "{status}");
    format!("{status} | {error}")
}

fn broker_tls(pki: &Pki, require_client_certificate: bool) -> BrokerTls {
    BrokerTls {
        ca_file: pki.file("ca.pem"),
        cert_file: pki.file("server.pem"),
        key_file: pki.file("server.key"),
        require_client_certificate,
    }
}

#[test]
fn an_mqtts_source_trusting_the_sites_ca_gets_every_message_and_an_untrusted_broker_is_said_with_the_fix() {
    let pki = make_pki();
    let broker = LocalBroker::start_with_tls(&broker_tls(&pki, false)).unwrap();
    let url = broker.url();
    assert!(url.starts_with("mqtts://127.0.0.1:"), "{url}");
    let decls = [
        mqtt_source("trusting", &url, pki.files(Some("ca.pem"), false)),
        mqtt_source("system-roots", &url, pki.files(None, false)),
        mqtt_source("impostor", &url, pki.files(Some("impostor-ca.pem"), false)),
    ];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    wait_for(&sources, 0, "connected", |s| s.state == SourceState::Connected);
    let mut publisher = Publisher::connect_with_tls(&url, "tls-publisher", &pki.files(Some("ca.pem"), false)).unwrap();
    publisher.publish((0..300).map(|n| ("cells/c1/kpi".to_string(), n.to_string().into_bytes())).collect()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 300);
    let numbers: Vec<u32> = got.iter().map(|d| std::str::from_utf8(&d.payload).unwrap().parse().unwrap()).collect();
    assert_eq!(numbers, (0..300).collect::<Vec<_>>(), "every message over TLS, in order");
    assert!(got.iter().all(|d| d.source == "trusting"), "only the trusting source got in");
    for (i, who) in [(1, "system-roots"), (2, "impostor")] {
        let why = refusal(&sources, i);
        assert!(why.contains(who), "the state names the source: {why}");
        assert!(why.contains("UnknownIssuer") || why.contains("unknown issuer"), "rustls's cause: {why}");
        assert!(why.contains("set ca_file"), "the fix: {why}");
        assert_eq!(sources.statuses()[i].stats.connections, 0, "never connected: {why}");
    }
    // A plain-MQTT client is not let in on the TLS listener either.
    assert!(
        Publisher::connect(&url.replacen("mqtts", "mqtt", 1), "plain")
            .and_then(|mut p| p.publish(vec![("cells/x/kpi".into(), b"1".to_vec())]))
            .is_err()
    );
}

#[test]
fn a_broker_that_requires_client_certificates_lets_in_only_the_source_with_one() {
    let pki = make_pki();
    let broker = LocalBroker::start_with_tls(&broker_tls(&pki, true)).unwrap();
    let url = broker.url();
    let decls = [
        mqtt_source("with-cert", &url, pki.files(Some("ca.pem"), true)),
        mqtt_source("without-cert", &url, pki.files(Some("ca.pem"), false)),
    ];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    wait_for(&sources, 0, "connected", |s| s.state == SourceState::Connected);
    let mut publisher = Publisher::connect_with_tls(&url, "tls-publisher", &pki.files(Some("ca.pem"), true)).unwrap();
    publisher.publish(vec![("cells/c1/kpi".into(), b"42".to_vec())]).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(20), |_| true, |g| !g.is_empty());
    assert_eq!((got[0].source.as_str(), got[0].payload.as_slice()), ("with-cert", &b"42"[..]));
    let why = refusal(&sources, 1);
    assert_eq!(sources.statuses()[1].stats.connections, 0, "never let in: {why}");
    assert!(why.contains("without-cert"), "{why}");
    // OpenSSL's TLS 1.3 alert, said with the settings that fix it.
    assert!(why.contains("CertificateRequired") && why.contains("set client_cert_file"), "{why}");
}

/// What a TLS test server answers: an HTTP document, or a WebSocket stream of numbers.
#[derive(Clone, Copy)]
enum Serve {
    Document,
    Numbers(usize),
}

/// Serves `what` over TLS with the certificate `name` (`name.pem`, `name.key`) on a loopback port,
/// from a thread of its own, for the test's life.
fn serve_tls(pki: &Pki, name: &str, what: Serve) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(pki.file(&format!("{name}.pem")))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pki.file(&format!("{name}.key"))).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    crate::serve_loopback(move |tcp, _| {
        let acceptor = acceptor.clone();
        async move {
            // A client that does not trust the certificate ends the handshake here.
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            match what {
                Serve::Document => {
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{\"rsrp_dbm\":-91}")))
                                .unwrap(),
                        )
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                }
                Serve::Numbers(n) => {
                    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { return };
                    for i in 0..n {
                        if socket.send(Message::text(i.to_string())).await.is_err() {
                            return;
                        }
                    }
                    // Held open: the source reads on.
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            }
        }
    })
}

fn http_source(id: &str, url: String, tls: TlsFiles) -> SourceDecl {
    SourceDecl {
        id: id.into(),
        adapter: "kpi".into(),
        kind: SourceKind::Http {
            url,
            interval: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
            max_bytes: 1 << 20,
            content_type: None,
            tls,
        },
        location: "test".into(),
    }
}

fn websocket_source(id: &str, url: String, tls: TlsFiles) -> SourceDecl {
    SourceDecl {
        id: id.into(),
        adapter: "kpi".into(),
        kind: SourceKind::WebSocket { url, subscribe: None, content_type: None, tls },
        location: "test".into(),
    }
}

#[test]
fn https_and_wss_sources_trust_the_sites_ca_and_say_an_untrusted_a_misnamed_or_an_expired_certificate() {
    let pki = make_pki();
    let document = serve_tls(&pki, "server", Serve::Document);
    let misnamed = serve_tls(&pki, "other-name", Serve::Document);
    let numbers = serve_tls(&pki, "server", Serve::Numbers(200));
    let expired = serve_tls(&pki, "expired", Serve::Numbers(1));
    let ca = || pki.files(Some("ca.pem"), false);
    let decls = [
        http_source("https", format!("https://{document}/kpi"), ca()),
        websocket_source("wss", format!("wss://{numbers}/feed"), ca()),
        http_source("https-system-roots", format!("https://{document}/kpi"), pki.files(None, false)),
        http_source("https-misnamed", format!("https://{misnamed}/kpi"), ca()),
        websocket_source("wss-expired", format!("wss://{expired}/feed"), ca()),
    ];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    let got = take_until(
        &mut sources,
        Duration::from_secs(30),
        |_| true,
        |g| g.iter().any(|d| d.source == "https") && g.iter().filter(|d| d.source == "wss").count() >= 200,
    );
    let doc = got.iter().find(|d| d.source == "https").unwrap();
    assert_eq!((doc.payload.as_slice(), doc.content_type.as_str()), (&b"{\"rsrp_dbm\":-91}"[..], "application/json"));
    let streamed: Vec<usize> = got
        .iter()
        .filter(|d| d.source == "wss")
        .map(|d| std::str::from_utf8(&d.payload).unwrap().parse().unwrap())
        .collect();
    assert_eq!(streamed, (0..200).collect::<Vec<_>>(), "every WebSocket message over TLS, in order");

    let why = refusal(&sources, 2);
    assert!(why.contains("UnknownIssuer") && why.contains("set ca_file"), "{why}");
    let why = refusal(&sources, 3);
    assert!(why.contains("NotValidForName") || why.contains("not valid for name"), "{why}");
    assert!(why.contains("not for this host name"), "the fix: {why}");
    let why = refusal(&sources, 4);
    assert!(why.contains("Expired") || why.contains("expired"), "{why}");
    assert!(why.contains("clock"), "the fix: {why}");
    // Polling goes on, each failure counted.
    let polled = wait_for(&sources, 3, "failing again", |s| s.stats.errors >= 3);
    assert_eq!(polled.stats.messages, 0, "{polled}");
}

#[test]
fn unusable_tls_files_are_an_error_at_start_naming_the_source_and_the_file() {
    let pki = make_pki();
    std::fs::write(pki.file("notes.txt"), "not a certificate\n").unwrap();
    let bad = |files: TlsFiles| {
        let decl = http_source("api", "https://127.0.0.1:9/kpi".into(), files);
        match Sources::start(&[decl], &Options::default()) {
            Err(e @ DataError::Settings { .. }) => e.to_string(),
            Err(e) => panic!("not a settings error: {e}"),
            Ok(_) => panic!("started with unusable TLS files"),
        }
    };
    let msg = bad(pki.files(Some("notes.txt"), false));
    assert!(
        msg.contains("source `api`") && msg.contains("notes.txt") && msg.contains("holds no PEM certificate"),
        "{msg}"
    );
    let msg = bad(pki.files(Some("missing.pem"), false));
    assert!(msg.contains("cannot read") && msg.contains("missing.pem"), "{msg}");
    let msg = bad(TlsFiles { ca_file: None, client_identity: Some((pki.file("client.pem"), pki.file("ca.pem"))) });
    assert!(msg.contains("ca.pem") && msg.contains("no PEM private key"), "{msg}");
    // A huge file is refused before it is read whole.
    std::fs::write(pki.file("huge.pem"), vec![b'A'; 2 << 20]).unwrap();
    let msg = bad(pki.files(Some("huge.pem"), false));
    assert!(msg.contains("too large"), "{msg}");
}
