//! A WebSocket feed (tokio-tungstenite; `ws://`, or `wss://` with the source's rustls configuration
//! from [`crate::tls`]): every text or binary message is one message
//! for the adapter. Pings are answered by tungstenite; an optional `subscribe` text is sent after
//! each connect (many feeds want one).
//!
//! - **Bounded**: a message over [`MAX_MESSAGE_BYTES`] is refused by tungstenite while it is read
//!   (never buffered whole); it is counted as oversized and logged, and the connection is made
//!   again.
//! - **Reconnects** with a backoff from 100 ms to 5 s when the server closes or the connection
//!   fails, the state "reconnecting" with the cause meanwhile; connections are counted.
//! - **Back-pressure**: the next message is read only once the last is in the session's queue (TCP
//!   flow control slows the server).
//!
//! Cost: tungstenite's framing; a payload moved (not copied) into its delivery.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sangam_twin::{SourceDecl, SourceKind};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::{MAX_MESSAGE_BYTES, Outlet, SharedStatus, SourceState, delivery, update};

/// The longest wait before connecting again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Reads `decl`'s feed for ever (until the runtime stops).
pub(crate) async fn read(
    decl: SourceDecl,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    outlet: Outlet,
    status: SharedStatus,
) {
    let SourceKind::WebSocket { url, subscribe, content_type, .. } = &decl.kind else { return };
    let config = WebSocketConfig {
        max_message_size: Some(MAX_MESSAGE_BYTES),
        max_frame_size: Some(MAX_MESSAGE_BYTES),
        ..WebSocketConfig::default()
    };
    let mut backoff = Duration::from_millis(100);
    let mut sequence = 0u64;
    loop {
        let connector = tls.clone().map(tokio_tungstenite::Connector::Rustls);
        let connecting = tokio_tungstenite::connect_async_tls_with_config(url.as_str(), Some(config), false, connector);
        let why = match connecting.await {
            Err(e) => format!("cannot connect: {}", crate::tls::explain(&e.to_string())),
            Ok((mut socket, _)) => {
                update(&status, |s| {
                    s.state = SourceState::Connected;
                    s.stats.connections += 1;
                });
                backoff = Duration::from_millis(100);
                let mut why = match subscribe {
                    Some(text) => match socket.send(Message::text(text.clone())).await {
                        Ok(()) => None,
                        Err(e) => Some(format!("cannot send the subscribe message: {e}")),
                    },
                    None => None,
                };
                while why.is_none() {
                    let (payload, kind) = match socket.next().await {
                        None => {
                            why = Some("the server closed the connection".to_string());
                            break;
                        }
                        Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                            let mut n = 0;
                            update(&status, |s| {
                                s.stats.oversized += 1;
                                n = s.stats.oversized;
                            });
                            tracing::warn!(source = %decl.id, "{url}: a message over the {MAX_MESSAGE_BYTES}-byte limit ({e}): not handed on, connecting again ({n} so far)");
                            why = Some(format!("a message over {MAX_MESSAGE_BYTES} bytes"));
                            break;
                        }
                        Some(Err(e)) => {
                            why = Some(e.to_string());
                            break;
                        }
                        Some(Ok(Message::Text(t))) => (t.as_bytes().to_vec(), "text/plain"),
                        Some(Ok(Message::Binary(b))) => (b.to_vec(), "application/octet-stream"),
                        Some(Ok(Message::Close(_))) => {
                            why = Some("the server closed the connection".to_string());
                            break;
                        }
                        Some(Ok(_)) => continue,
                    };
                    sequence += 1;
                    let bytes = payload.len() as u64;
                    let kind = content_type.as_deref().unwrap_or(kind);
                    if !outlet.send(delivery(&decl, url.clone(), kind, payload, sequence)).await {
                        return;
                    }
                    update(&status, |s| {
                        s.stats.messages += 1;
                        s.stats.bytes += bytes;
                    });
                }
                why.unwrap_or_default()
            }
        };
        let mut first = false;
        update(&status, |s| first = s.state.lost(&why));
        if first {
            tracing::warn!(source = %decl.id, "{url}: {why}; connecting again");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
