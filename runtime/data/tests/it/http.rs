//! HTTP sources against a real HTTP server on loopback (hyper): conditional polls (ETag,
//! If-Modified-Since) hand on each version once; oversized bodies (declared, or streaming without
//! end) are counted and never buffered; errors, timeouts and a closed port are said and recovered.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use sangam_data::{Options, SourceState, SourceStatus, Sources};
use sangam_twin::{SourceDecl, SourceKind};

use crate::take_until;

/// What the test server serves and saw.
#[derive(Default)]
struct Site {
    version: u32,
    requests: u32,
    conditional: u32,
    /// Answer 503 to this many requests first.
    failures: u32,
}

type Body = BoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

async fn handle(req: Request<hyper::body::Incoming>, site: Arc<Mutex<Site>>) -> Result<Response<Body>, Infallible> {
    let mut s = site.lock().unwrap();
    s.requests += 1;
    if s.failures > 0 {
        s.failures -= 1;
        return Ok(Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body(full("busy")).unwrap());
    }
    let etag = format!("\"v{}\"", s.version);
    let modified = format!("Sat, 05 Dec 2026 00:00:{:02} GMT", s.version % 60);
    let conditional = req.headers().get("if-none-match").is_some_and(|v| v.to_str().ok() == Some(etag.as_str()))
        && req.headers().get("if-modified-since").is_some_and(|v| v.to_str().ok() == Some(modified.as_str()));
    match req.uri().path() {
        "/big" => {
            Ok(Response::builder().header("content-length", "10485760").body(full(vec![b'x'; 10 << 20])).unwrap())
        }
        "/endless" => {
            // A chunked body that never ends: the source must stop reading at its cap.
            let chunks = futures_util::stream::repeat_with(|| Ok(Frame::data(Bytes::from(vec![b'y'; 64 << 10]))));
            Ok(Response::new(StreamBody::new(chunks).boxed()))
        }
        _ if conditional => {
            s.conditional += 1;
            Ok(Response::builder().status(StatusCode::NOT_MODIFIED).body(full("")).unwrap())
        }
        _ => Ok(Response::builder()
            .header("etag", etag)
            .header("last-modified", modified)
            .header("content-type", "application/json")
            .body(full(format!("{{\"version\":{}}}", s.version)))
            .unwrap()),
    }
}

/// Serves `site` on a loopback port, for the test's life.
fn serve(site: Arc<Mutex<Site>>) -> SocketAddr {
    crate::serve_loopback(move |stream, _| {
        let site = site.clone();
        async move {
            let service = hyper::service::service_fn(move |req| handle(req, site.clone()));
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        }
    })
}

fn source(url: String, interval_ms: u64, timeout_ms: u64, max_bytes: usize) -> SourceDecl {
    SourceDecl {
        id: "api".into(),
        adapter: "kpi".into(),
        kind: SourceKind::Http {
            url,
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_millis(timeout_ms),
            max_bytes,
            content_type: None,
            tls: Default::default(),
        },
        location: "test".into(),
    }
}

fn wait_for(sources: &Sources, what: &str, ok: impl Fn(&SourceStatus) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok(&sources.statuses()[0]) {
        assert!(Instant::now() < deadline, "not {what} within 20 s: {:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_unchanged_document_is_not_modified_and_each_version_is_handed_on_once() {
    let site = Arc::new(Mutex::new(Site::default()));
    let addr = serve(site.clone());
    let mut sources =
        Sources::start(&[source(format!("http://{addr}/kpi"), 50, 2_000, 1 << 20)], &Options::default()).unwrap();
    let first = take_until(&mut sources, Duration::from_secs(20), |_| true, |g| !g.is_empty());
    assert_eq!(first[0].payload, b"{\"version\":0}");
    assert_eq!(first[0].content_type, "application/json");
    assert!(first[0].origin.ends_with("/kpi"), "{}", first[0].origin);
    wait_for(&sources, "polled while unchanged", |s| s.stats.not_modified >= 3);
    assert!(site.lock().unwrap().conditional >= 3, "the server saw If-None-Match and If-Modified-Since");
    assert!(sources.try_next().is_none(), "an unchanged document is not handed on again");
    site.lock().unwrap().version = 1;
    let second = take_until(&mut sources, Duration::from_secs(20), |_| true, |g| !g.is_empty());
    assert_eq!(second[0].payload, b"{\"version\":1}");
    let n = sources.statuses()[0].stats.not_modified;
    wait_for(&sources, "polled again", |s| s.stats.not_modified >= n + 3);
    assert!(sources.try_next().is_none(), "exactly one delivery per version");
    let status = &sources.statuses()[0];
    assert_eq!((status.stats.messages, status.state.clone()), (2, SourceState::Connected), "{status}");
    assert_eq!(second[0].sequence, 2);
}

#[test]
fn a_body_over_the_cap_is_counted_and_never_buffered_and_polling_goes_on() {
    let site = Arc::new(Mutex::new(Site::default()));
    let addr = serve(site.clone());
    let decls = [
        SourceDecl { id: "big".into(), ..source(format!("http://{addr}/big"), 50, 5_000, 1 << 20) },
        SourceDecl { id: "endless".into(), ..source(format!("http://{addr}/endless"), 50, 5_000, 1 << 20) },
    ];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sources.statuses().iter().all(|s| s.stats.oversized >= 3) {
        assert!(Instant::now() < deadline, "not oversized thrice each: {:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(sources.try_next().is_none(), "nothing over the cap is handed on");
    assert!(sources.statuses().iter().all(|s| s.stats.messages == 0 && s.stats.errors == 0));
}

#[test]
fn errors_timeouts_and_a_closed_port_are_said_and_a_recovered_server_is_read() {
    let site = Arc::new(Mutex::new(Site { failures: 3, ..Site::default() }));
    let addr = serve(site.clone());
    // A port that accepts and never answers, and one where nothing listens.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let decls = [
        source(format!("http://{addr}/kpi"), 50, 2_000, 1 << 20),
        SourceDecl {
            id: "silent".into(),
            ..source(format!("http://{}/kpi", silent.local_addr().unwrap()), 50, 300, 1 << 20)
        },
        SourceDecl { id: "closed".into(), ..source(format!("http://{closed}/kpi"), 50, 300, 1 << 20) },
    ];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| !g.is_empty());
    assert_eq!(got[0].source, "api");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = sources.statuses();
        let said = |i: usize, cause: &str| {
            matches!(&st[i].state, SourceState::Reconnecting { error, .. } if error.contains(cause))
                && st[i].stats.errors >= 2
        };
        if said(1, "no answer within the timeout") && said(2, "cannot connect") {
            break;
        }
        assert!(Instant::now() < deadline, "{st:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let api = &sources.statuses()[0];
    assert_eq!(api.stats.errors, 3, "the three 503s: {api}");
    assert_eq!(api.state, SourceState::Connected, "recovered: {api}");
    assert!(sources.statuses()[1].to_string().contains("reconnecting"), "{}", sources.statuses()[1]);
    drop(silent);
}
