//! An HTTP document polled at an interval (reqwest; HTTP/1, plain or TLS): each new version of it is one
//! message. Conditional requests (`If-None-Match` with the last `ETag`, `If-Modified-Since` with the
//! last `Last-Modified`) make an unchanged document a `304 Not Modified`, counted and not handed on.
//!
//! - **Bounded**: a body over `max_bytes` (by its `Content-Length`, or while it streams: reading
//!   stops at the cap) is counted as oversized, logged and not handed on; every request has a
//!   timeout, so a server that accepts and never answers cannot hold the source.
//! - **Faults are said**: a status other than 2xx / 304, a timeout or a refused connection is
//!   counted (`errors`), the state is "reconnecting" with the cause, and polling goes on (at the
//!   interval, or after a backoff of up to 5 s that is never shorter than it).
//! - **Back-pressure**: the next poll waits until the last version is in the session's queue.
//!
//! - **TLS** (`https://`): the source's rustls configuration ([`crate::tls`]), and HTTPS only (a
//!   redirect to plain `http://` is refused, not followed).
//!
//! Cost: one request per interval on the sources' runtime; a body read once into its delivery.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use sangam_twin::{SourceDecl, SourceKind};

use crate::{Outlet, SharedStatus, SourceState, delivery, update};

/// The longest wait after a failed poll.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one poll gave.
enum Polled {
    /// A new version: its body and content type.
    New(Vec<u8>, String),
    /// Unchanged since the last version.
    NotModified,
    /// Over the size cap (the bytes it had, or said it had).
    Oversized(u64),
}

/// Polls `decl`'s URL for ever (until the runtime stops).
pub(crate) async fn poll(
    decl: SourceDecl,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    outlet: Outlet,
    status: SharedStatus,
) {
    let SourceKind::Http { url, interval, timeout, max_bytes, content_type, .. } = &decl.kind else { return };
    let secure = tls.is_some();
    // Always Sangam's TLS configuration: a plain-HTTP source gets one that trusts no one.
    let client = tls.map_or_else(crate::tls::trusting_no_one, Ok).and_then(|config| {
        reqwest::Client::builder()
            .timeout(*timeout)
            .use_preconfigured_tls(rustls::ClientConfig::clone(&config))
            .https_only(secure)
            .build()
            .map_err(|e| e.to_string())
    });
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            update(&status, |s| s.state = SourceState::Failed(format!("cannot make an HTTP client: {e}")));
            return;
        }
    };
    let mut etag: Option<reqwest::header::HeaderValue> = None;
    let mut last_modified: Option<reqwest::header::HeaderValue> = None;
    let mut sequence = 0u64;
    let mut backoff = *interval;
    loop {
        let mut request = client.get(url.as_str());
        if let Some(tag) = &etag {
            request = request.header(IF_NONE_MATCH, tag.clone());
        }
        if let Some(when) = &last_modified {
            request = request.header(IF_MODIFIED_SINCE, when.clone());
        }
        let outcome = fetch(request, *max_bytes, &mut etag, &mut last_modified).await;
        let wait = match outcome {
            Ok(Polled::New(body, header_type)) => {
                sequence += 1;
                let bytes = body.len() as u64;
                let kind = content_type.clone().unwrap_or(header_type);
                if !outlet.send(delivery(&decl, url.clone(), &kind, body, sequence)).await {
                    return;
                }
                update(&status, |s| {
                    s.state = SourceState::Connected;
                    s.stats.messages += 1;
                    s.stats.bytes += bytes;
                    s.stats.connections += u64::from(s.stats.connections == 0);
                });
                *interval
            }
            Ok(Polled::NotModified) => {
                update(&status, |s| {
                    s.state = SourceState::Connected;
                    s.stats.not_modified += 1;
                });
                *interval
            }
            Ok(Polled::Oversized(size)) => {
                let mut n = 0;
                update(&status, |s| {
                    s.state = SourceState::Connected;
                    s.stats.oversized += 1;
                    n = s.stats.oversized;
                });
                if n <= 3 || n.is_multiple_of(100) {
                    tracing::warn!(source = %decl.id, "{url}: a body of at least {size} bytes is over the {max_bytes}-byte cap: not handed on ({n} so far)");
                }
                *interval
            }
            Err(error) => {
                let mut first = false;
                update(&status, |s| {
                    s.stats.errors += 1;
                    first = s.state.lost(&error);
                });
                if first {
                    tracing::warn!(source = %decl.id, "{url}: {error}; polling on");
                }
                backoff = (backoff * 2).clamp(*interval, MAX_BACKOFF.max(*interval));
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        backoff = *interval;
        tokio::time::sleep(wait).await;
    }
}

/// One conditional GET: the new version, "not modified", "oversized", or why it failed.
async fn fetch(
    request: reqwest::RequestBuilder,
    max_bytes: usize,
    etag: &mut Option<reqwest::header::HeaderValue>,
    last_modified: &mut Option<reqwest::header::HeaderValue>,
) -> Result<Polled, String> {
    let mut response = request.send().await.map_err(describe)?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Polled::NotModified);
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let declared =
        response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > max_bytes as u64) {
        return Ok(Polled::Oversized(n));
    }
    let header_type =
        response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (new_etag, new_modified) =
        (response.headers().get(ETAG).cloned(), response.headers().get(LAST_MODIFIED).cloned());
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(max_bytes as u64) as usize);
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > max_bytes {
            // Stop reading: the rest of the body is never buffered.
            return Ok(Polled::Oversized((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
    // Only a version read whole moves the validators on.
    *etag = new_etag;
    *last_modified = new_modified;
    Ok(Polled::New(body, header_type))
}

/// A request error as the state shows it: a timeout, a refused connection (a failed TLS handshake
/// among them, with its fix), or reqwest's words.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within the timeout".into()
    } else if e.is_connect() {
        format!("cannot connect ({})", crate::tls::explain(&root_cause(&e)))
    } else {
        root_cause(&e)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
