//! An MQTT subscription (rumqttc's async client): the source's topic filters at QoS 0 or 1, under a
//! client id whose session the broker keeps (unless `clean_session`).
//!
//! - **No loss with QoS 1**: acknowledgements are manual. A message is acknowledged once the session
//!   holds it ([`crate::Ack`]: in the recording when one is written, else in the adapter's inbox), so
//!   a Sangam that stops or crashes before that leaves it with the broker, which sends it again
//!   (flagged `dup`, counted as redelivered). The broker sends no more than its in-flight window of
//!   unacknowledged messages, so a slow session slows the stream down instead of losing any of it.
//! - **Reconnects** with a backoff from 100 ms to 5 s, the state on screen meanwhile. When the broker
//!   answers a connection without the session (a clean start, or a broker that lost it), the
//!   subscriptions are made again: rumqttc does not, and a subscriber would go silent.
//! - Two pitfalls of rumqttc are kept away: the task that polls the event loop never sends a request
//!   of its own (subscribing and acknowledging from it can freeze it once the request queue is full),
//!   so both run on tasks beside it; and acknowledgements of a connection that has since dropped are
//!   not sent on the next one (the broker redelivers those messages, whose new deliveries are then
//!   acknowledged).
//!
//! - **Coalescing** (`coalesce = "latest-per-topic"`, QoS 0 only): messages pass through a table of
//!   each topic's newest one, which a task beside the poller hands on as the queue makes room, oldest
//!   topic first. While the session keeps up the table stays empty; while it is behind, a newer
//!   message of a topic replaces the waiting one (counted as coalesced) and the subscription is never
//!   held up. A table of [`MAX_COALESCED_TOPICS`] topics makes a message of a new topic wait as without
//!   coalescing.
//!
//! - **TLS** (`mqtts://`): the source's rustls configuration ([`crate::tls`]); a certificate the
//!   source does not trust is a "reconnecting" state whose cause says the fix.
//!
//! Cost: rumqttc's parsing; a payload copied once into its delivery; with coalescing, a hash look-up
//! per message while the session is behind.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use sangam_twin::{SourceDecl, SourceKind};
use tokio::sync::mpsc;

use crate::{Ack, MAX_MESSAGE_BYTES, Outlet, SharedStatus, SourceState, delivery, update};

/// The longest wait before trying a lost broker again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Requests rumqttc's client may have waiting for the event loop.
const REQUEST_QUEUE: usize = 256;

/// The largest MQTT packet read (64 MiB): a message up to this size that is over
/// [`MAX_MESSAGE_BYTES`] is read, acknowledged and counted (not handed on); a larger one makes
/// rumqttc drop the connection, so set the broker's `message_size_limit` below it.
pub const PACKET_LIMIT: usize = 64 << 20;

/// The most topics whose newest message a coalescing source keeps waiting.
pub const MAX_COALESCED_TOPICS: usize = 100_000;

/// Each topic's newest message, waiting for room in the queue, in the order the topics first waited.
#[derive(Default)]
struct Coalesced {
    order: VecDeque<String>,
    newest: HashMap<String, crate::Delivery>,
}

impl Coalesced {
    /// Whether a message of `topic` can wait here: its topic waits already, or there is room.
    fn has_room_for(&self, topic: &str) -> bool {
        self.newest.contains_key(topic) || self.newest.len() < MAX_COALESCED_TOPICS
    }

    /// Keeps `d` as its topic's newest; true when it replaced an older one.
    fn keep(&mut self, d: crate::Delivery) -> bool {
        if let Some(old) = self.newest.get_mut(&d.origin) {
            *old = d;
            return true;
        }
        self.order.push_back(d.origin.clone());
        self.newest.insert(d.origin.clone(), d);
        false
    }

    /// The oldest topic's message.
    fn take(&mut self) -> Option<crate::Delivery> {
        let topic = self.order.pop_front()?;
        self.newest.remove(&topic)
    }
}

/// Hands on a coalescing source's waiting messages, oldest topic first, each as the queue makes room.
async fn hand_on_coalesced(
    table: Arc<std::sync::Mutex<Coalesced>>,
    wake: Arc<tokio::sync::Notify>,
    outlet: Outlet,
    status: SharedStatus,
) {
    loop {
        let next = table.lock().ok().and_then(|mut t| t.take());
        match next {
            Some(d) => {
                let bytes = d.payload.len() as u64;
                if !outlet.send(d).await {
                    return;
                }
                update(&status, |s| {
                    s.stats.messages += 1;
                    s.stats.bytes += bytes;
                });
            }
            None => wake.notified().await,
        }
    }
}

/// Oversized messages logged one by one; after them, every hundredth.
const LOGGED_OVERSIZED: u64 = 3;

/// The broker a source connects to, as the sources' start resolved it.
pub(crate) struct Broker {
    /// Host, port, and whether it is TLS.
    pub(crate) address: sangam_twin::BrokerAddress,
    /// The TLS configuration, for a TLS address.
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// User name and password.
    pub(crate) credentials: Option<(String, String)>,
}

/// Subscribes `decl`'s topics at `broker` and hands every message on, for ever (until the runtime
/// stops).
pub(crate) async fn subscribe(decl: SourceDecl, broker: Broker, outlet: Outlet, status: SharedStatus) {
    let SourceKind::Mqtt { topics, qos, client_id, clean_session, keep_alive_s, .. } = &decl.kind else { return };
    let qos = if *qos == 0 { QoS::AtMostOnce } else { QoS::AtLeastOnce };
    let address = &broker.address;
    let mut options = MqttOptions::new(client_id.clone(), address.host.clone(), address.port);
    options
        .set_keep_alive(Duration::from_secs(*keep_alive_s))
        .set_clean_session(*clean_session)
        .set_manual_acks(true)
        .set_max_packet_size(PACKET_LIMIT, 64 << 10);
    if let Some((user, password)) = broker.credentials {
        options.set_credentials(user, password);
    }
    if let Some(config) = broker.tls {
        options.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config)));
    }
    let (client, mut events) = AsyncClient::new(options, REQUEST_QUEUE);
    // Acknowledgements go through a task of their own, each with the connection its message came on.
    let connection = Arc::new(AtomicU64::new(0));
    let (ack_sender, acks) = mpsc::unbounded_channel::<(u64, rumqttc::Publish)>();
    tokio::spawn(send_acks(client.clone(), acks, connection.clone(), outlet.acks_queued.clone()));
    // The acknowledgement `publish` owes, tied to the connection it came on.
    let ack_of = |publish: rumqttc::Publish| Ack {
        tx: ack_sender.clone(),
        connection: connection.load(Ordering::Acquire),
        publish,
        queued: outlet.acks_queued.clone(),
    };
    let coalesce = matches!(decl.kind, SourceKind::Mqtt { coalesce: true, .. }) && qos == QoS::AtMostOnce;
    let table = Arc::new(std::sync::Mutex::new(Coalesced::default()));
    let wake = Arc::new(tokio::sync::Notify::new());
    if coalesce {
        tokio::spawn(hand_on_coalesced(table.clone(), wake.clone(), outlet.clone(), status.clone()));
    }
    let where_ = format!("{}://{}:{}", if address.tls { "mqtts" } else { "mqtt" }, address.host, address.port);
    let mut backoff = Duration::from_millis(100);
    let mut sequence = 0u64;
    let mut waiting_subacks = 0usize;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                let n = connection.fetch_add(1, Ordering::AcqRel) + 1;
                backoff = Duration::from_millis(100);
                let resubscribe = !ack.session_present;
                // Subscribing again is harmless when the broker kept the session; needed when it did not.
                let subscribe = resubscribe || n == 1;
                // Connected once subscribed: at once when the broker kept the session, else at the
                // last SUBACK.
                waiting_subacks = if subscribe { topics.len() } else { 0 };
                update(&status, |s| {
                    if waiting_subacks == 0 {
                        s.state = SourceState::Connected;
                    }
                    s.stats.connections += 1;
                    if resubscribe && n > 1 {
                        s.stats.resubscribed += 1;
                    }
                });
                if n > 1 {
                    tracing::info!(source = %decl.id, "connected to {where_} again (session kept: {})", ack.session_present);
                }
                if subscribe {
                    let (client, topics, id) = (client.clone(), topics.clone(), decl.id.clone());
                    tokio::spawn(async move {
                        for topic in topics {
                            if let Err(e) = client.subscribe(topic.clone(), qos).await {
                                tracing::warn!(source = %id, "cannot subscribe to `{topic}`: {e}");
                            }
                        }
                    });
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) {
                    tracing::error!(source = %decl.id, "{where_} refused a subscription of {topics:?}: check the broker's ACL");
                }
                waiting_subacks = waiting_subacks.saturating_sub(1);
                if waiting_subacks == 0 {
                    update(&status, |s| s.state = SourceState::Connected);
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) if publish.payload.len() > MAX_MESSAGE_BYTES => {
                let mut count = 0;
                update(&status, |s| {
                    s.stats.oversized += 1;
                    count = s.stats.oversized;
                });
                if count <= LOGGED_OVERSIZED || count.is_multiple_of(100) {
                    tracing::warn!(
                        source = %decl.id,
                        "a message of {} bytes on `{}` is over the {MAX_MESSAGE_BYTES}-byte limit: acknowledged, not \
                         handed on ({count} so far)",
                        publish.payload.len(),
                        publish.topic
                    );
                }
                if publish.qos != QoS::AtMostOnce {
                    ack_of(publish).done();
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                sequence += 1;
                let bytes = publish.payload.len() as u64;
                let mut d = delivery(&decl, publish.topic.clone(), "", publish.payload.to_vec(), sequence);
                let dup = publish.dup;
                if publish.qos != QoS::AtMostOnce {
                    d.ack = Some(ack_of(publish));
                }
                if coalesce
                    && d.ack.is_none()
                    && let Ok(mut waiting) = table.lock()
                    && waiting.has_room_for(&d.origin)
                {
                    let replaced = waiting.keep(d);
                    drop(waiting);
                    wake.notify_one();
                    update(&status, |s| s.stats.coalesced += u64::from(replaced));
                    continue;
                }
                // Waits while the queue is full: the broker's in-flight window holds the rest.
                if !outlet.send(d).await {
                    return;
                }
                update(&status, |s| {
                    s.stats.messages += 1;
                    s.stats.bytes += bytes;
                    s.stats.redelivered += u64::from(dup);
                });
            }
            // An acknowledgement written to the broker: no longer owed ([`Sources`] waits for these
            // when it stops, so the runtime does not end with them still in rumqttc's queue).
            Ok(Event::Outgoing(rumqttc::Outgoing::PubAck(_))) => {
                let _ = outlet.acks_queued.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
            }
            Ok(_) => {}
            Err(e) => {
                let error = crate::tls::explain(&e.to_string());
                let mut first = false;
                update(&status, |s| first = s.state.lost(&error));
                if first {
                    tracing::warn!(source = %decl.id, "lost {where_} ({error}); reconnecting");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sends the acknowledgements of messages that came on the current connection (those of an older
/// one are left: the broker redelivers those messages, and a packet id of an old connection may
/// name another message on this one).
async fn send_acks(
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<(u64, rumqttc::Publish)>,
    connection: Arc<AtomicU64>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
) {
    while let Some((n, publish)) = rx.recv().await {
        if n != connection.load(Ordering::Acquire) {
            // Of an older connection: never sent, so no longer owed.
            queued.fetch_sub(1, Ordering::AcqRel);
            continue;
        }
        // Handed to the client; owed until the poller sees it written (`Outgoing::PubAck`).
        if client.ack(&publish).await.is_err() {
            queued.fetch_sub(1, Ordering::AcqRel);
            return;
        }
    }
}
