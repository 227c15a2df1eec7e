//! WebSocket sources against a real WebSocket server on loopback (tokio-tungstenite): a numbered
//! stream arrives whole and in order across a server that closes mid-stream (the subscribe message
//! sent on each connection); an oversized message is counted and the feed connected again; a closed
//! port is said.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use sangam_data::{Options, SourceState, Sources};
use sangam_twin::{SourceDecl, SourceKind};
use tokio_tungstenite::tungstenite::Message;

use crate::take_until;

/// What the server sends on its `n`th connection (from 0), given the subscribe text it got.
type Script = Arc<dyn Fn(usize) -> Vec<Message> + Send + Sync>;

/// Serves WebSocket connections on a loopback port: each waits for one text message (the
/// subscription, noted in `subscriptions`), sends its script, then closes.
fn serve(script: Script, subscriptions: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    crate::serve_loopback(move |stream, n| {
        let (script, subscriptions) = (script.clone(), subscriptions.clone());
        async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { return };
            if let Some(Ok(Message::Text(t))) = socket.next().await {
                subscriptions.lock().unwrap().push(t.to_string());
            }
            for m in script(n) {
                if socket.send(m).await.is_err() {
                    break;
                }
            }
            let _ = socket.close(None).await;
        }
    })
}

fn source(url: String) -> SourceDecl {
    SourceDecl {
        id: "ws".into(),
        adapter: "kpi".into(),
        kind: SourceKind::WebSocket {
            url,
            subscribe: Some("{\"subscribe\":\"kpi\"}".into()),
            content_type: None,
            tls: Default::default(),
        },
        location: "test".into(),
    }
}

#[test]
fn a_numbered_stream_arrives_whole_in_order_across_a_server_that_closes_mid_stream() {
    let subscriptions = Arc::new(Mutex::new(Vec::new()));
    // 250 messages on the first connection, the other 250 on the second.
    let script: Script =
        Arc::new(|n| (n * 250..(n + 1) * 250).take_while(|&i| i < 500).map(|i| Message::text(i.to_string())).collect());
    let addr = serve(script, subscriptions.clone());
    let mut sources = Sources::start(&[source(format!("ws://{addr}/feed"))], &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 500);
    let numbers: Vec<usize> = got.iter().map(|d| std::str::from_utf8(&d.payload).unwrap().parse().unwrap()).collect();
    assert_eq!(numbers, (0..500).collect::<Vec<_>>(), "every message, in order");
    assert_eq!(got[0].content_type, "text/plain");
    let status = &sources.statuses()[0];
    assert!(status.stats.connections >= 2, "connected again after the close: {status}");
    let subs = subscriptions.lock().unwrap();
    assert!(subs.len() >= 2 && subs.iter().all(|s| s == "{\"subscribe\":\"kpi\"}"), "subscribed each time: {subs:?}");
}

#[test]
fn an_oversized_message_is_counted_the_feed_connected_again_and_a_closed_port_said() {
    let subscriptions = Arc::new(Mutex::new(Vec::new()));
    let script: Script = Arc::new(|n| match n {
        0 => vec![Message::binary(vec![7u8; 5 << 20])],
        _ => vec![Message::binary(vec![1u8, 2, 3])],
    });
    let addr = serve(script, subscriptions);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let decls =
        [source(format!("ws://{addr}/feed")), SourceDecl { id: "nobody".into(), ..source(format!("ws://{closed}/")) }];
    let mut sources = Sources::start(&decls, &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| !g.is_empty());
    assert_eq!(got[0].payload, vec![1, 2, 3], "the 5 MiB message was not handed on; the next one was");
    assert_eq!(got[0].content_type, "application/octet-stream");
    let status = &sources.statuses()[0];
    assert_eq!(status.stats.oversized, 1, "{status}");
    assert!(status.stats.connections >= 2, "{status}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(&sources.statuses()[1].state, SourceState::Reconnecting { error, .. } if error.contains("cannot connect"))
    {
        assert!(Instant::now() < deadline, "{:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
}
