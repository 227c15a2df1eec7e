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
