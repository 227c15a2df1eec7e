//! sangam-data against real inputs: files replayed by their times, a real Mosquitto broker on
//! loopback (started per test, killed and restarted where the test needs it; `cargo xtask test`
//! installs it), and real HTTP (hyper) and WebSocket (tokio-tungstenite) servers on loopback, plain and TLS (certificates made per run).

mod file;
mod http;
mod mqtt;
mod tls;
mod websocket;

use std::time::{Duration, Instant};

use sangam_data::{Delivery, Sources};

/// Serves every connection to a new loopback port with `serve` (given the stream and its number, from
/// 0), each on a task of a thread of its own, for the test's life.
pub fn serve_loopback<F, Fut>(mut serve: F) -> std::net::SocketAddr
where
    F: FnMut(tokio::net::TcpStream, usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            for n in 0.. {
                let Ok((stream, _)) = listener.accept().await else { return };
                tokio::spawn(serve(stream, n));
            }
        });
    });
    addr
}

/// Takes deliveries until `done` says so, acknowledging the `i`th (from 0) as it comes when
/// `ack(i)`; panics after `limit`. (A broker sends only a window of unacknowledged messages, so a
/// test that took many without acknowledging would wait for ever.)
pub fn take_until(
    sources: &mut Sources,
    limit: Duration,
    mut ack: impl FnMut(usize) -> bool,
    mut done: impl FnMut(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while !done(&got) {
        match sources.try_next() {
            Some(mut d) => {
                if ack(got.len())
                    && let Some(a) = d.ack.take()
                {
                    a.done();
                }
                got.push(d);
            }
            None => {
                assert!(
                    Instant::now() < deadline,
                    "gave up after {limit:?} with {} deliveries: {:?}",
                    got.len(),
                    sources.statuses()
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    got
}
