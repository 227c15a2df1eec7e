//! `sangam-data`: the scene's data sources, run by the host (never by a plugin) on a tokio runtime
//! of its own, each message handed to the session as bytes for the adapter plugin the scene binds.
//!
//! - [`file`]: a recorded CSV or JSON Lines file replayed by its time column: every group of rows
//!   with the same time is one message, sent at that time (scaled by `speed`, or as fast as the
//!   session takes them), looped if asked;
//! - [`mqtt`]: an MQTT subscription (rumqttc): QoS 0 and 1, a persistent session, QoS 1 messages
//!   acknowledged only once the session holds them ([`Ack`]), reconnects with backoff, and the
//!   subscriptions made again whenever the broker has lost the session; a QoS 0 source may coalesce
//!   (keep each topic's newest message while the session is behind, counting the ones replaced);
//! - [`http`]: an HTTP document polled at an interval with conditional requests (ETag,
//!   If-Modified-Since), a timeout and a size cap; each new version is one message;
//! - [`websocket`]: a WebSocket feed, each text or binary message one message, reconnected with
//!   backoff;
//! - [`tls`]: TLS for all three network kinds (`mqtts://`, `https://`, `wss://`): the scene's CA
//!   file or the system's roots, an optional client certificate, failures said with their fix.
//!
//! **Nothing is dropped**: the sources hand deliveries to one bounded queue ([`QUEUE_MESSAGES`]
//! messages and [`QUEUE_BYTES`] bytes); when it is full a source waits, so a file replay pauses and
//! an MQTT subscription stops reading (the broker holds what it has not sent: MQTT's flow control).
//! The session takes deliveries with [`Sources::try_next`] without waiting, and hands back one it
//! cannot take yet ([`Sources::hold`]). Each source's state and counters are in [`Sources::statuses`].
//!
//! [`broker`] starts a local Mosquitto for the demo, the tests and the benchmarks.
//!
//! Scale-out: many runtimes (one per headset or video wall) subscribe to one broker or broker cluster
//! (Mosquitto bridges, EMQX); the broker is the distributed engine, and Sangam writes none.
//!
//! Cost on the caller's thread: a channel receive per message; the sources' work (sockets, file
//! reads, parsing the time column) runs on the runtime's one worker thread.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod broker;
pub mod file;
pub mod http;
pub mod mqtt;
pub mod tls;
pub mod websocket;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sangam_twin::{SourceDecl, SourceKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// The most deliveries waiting for the session, over all sources.
pub const QUEUE_MESSAGES: usize = 1024;

/// The most payload bytes waiting for the session, over all sources (64 MiB).
pub const QUEUE_BYTES: usize = 64 << 20;

/// The largest message a source hands on (4 MiB): a larger MQTT message is acknowledged, counted and
/// logged but not handed on (up to [`mqtt::PACKET_LIMIT`], past which the client cannot read it at
/// all), a larger group of file rows is split.
pub const MAX_MESSAGE_BYTES: usize = sangam_twin::MAX_SOURCE_MESSAGE_BYTES;

/// A source that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A source's settings are not usable (a bad broker address given with `--broker`, a TLS file
    /// that cannot be read or used, a password variable that is not set).
    #[error("source `{source_id}` ({location}): {why}")]
    Settings {
        /// The source.
        source_id: String,
        /// Where the scene declares it.
        location: String,
        /// What is wrong.
        why: String,
    },
    /// The runtime's thread could not start.
    #[error("cannot start the data sources' thread: {0}")]
    Thread(std::io::Error),
}

/// One message from a source, for one adapter.
pub struct Delivery {
    /// The source's id.
    pub source: String,
    /// The adapter plugin it goes to.
    pub adapter: String,
    /// Where it came from: the MQTT topic, or `file:line` of its first row.
    pub origin: String,
    /// MIME type.
    pub content_type: String,
    /// The bytes, untouched.
    pub payload: Vec<u8>,
    /// Its number from this source, from 1.
    pub sequence: u64,
    /// A QoS 1 MQTT message: acknowledge it once the session holds it.
    pub ack: Option<Ack>,
    /// Its bytes' share of the queue, given back when the delivery is dropped.
    _permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("source", &self.source)
            .field("adapter", &self.adapter)
            .field("origin", &self.origin)
            .field("bytes", &self.payload.len())
            .field("sequence", &self.sequence)
            .field("ack", &self.ack.is_some())
            .finish()
    }
}

/// The acknowledgement a QoS 1 message owes its broker. [`Ack::done`] sends it (without waiting);
/// one dropped unsent leaves the message unacknowledged, so the broker sends it again after a
/// reconnect: nothing the broker holds is lost when Sangam stops before the message is safe.
pub struct Ack {
    tx: mpsc::UnboundedSender<(u64, rumqttc::Publish)>,
    /// The connection the message came on.
    connection: u64,
    publish: rumqttc::Publish,
    /// Acknowledgements queued and not yet written to the broker ([`Sources`] waits for them when it
    /// stops).
    queued: Arc<AtomicUsize>,
}

impl Ack {
    /// Acknowledges the message to the broker (queued for the source's task; never waits).
    pub fn done(self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
        // The source has stopped when this fails: the broker redelivers on the next connection.
        if self.tx.send((self.connection, self.publish)).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ack({} #{})", self.publish.topic, self.publish.pkid)
    }
}

/// What a source is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceState {
    /// Not connected yet (or the file not opened yet).
    Starting,
    /// Connected to its broker and subscribed.
    Connected,
    /// Lost its broker; trying again.
    Reconnecting {
        /// Since when.
        since: SystemTime,
        /// The last error.
        error: String,
    },
    /// Replaying its file.
    Replaying,
    /// Replayed its whole file (not looped).
    Finished,
    /// Stopped for good (an unreadable file).
    Failed(String),
}

impl SourceState {
    /// Marks the source as reconnecting because of `error` (since now, unless it already was, when
    /// only the error is replaced); true when it was not reconnecting before, so the caller logs the
    /// loss once.
    pub(crate) fn lost(&mut self, error: &str) -> bool {
        match self {
            SourceState::Reconnecting { error: last, .. } => {
                error.clone_into(last);
                false
            }
            state => {
                *state = SourceState::Reconnecting { since: SystemTime::now(), error: error.to_string() };
                true
            }
        }
    }
}

impl std::fmt::Display for SourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceState::Starting => f.write_str("starting"),
            SourceState::Connected => f.write_str("connected"),
            SourceState::Reconnecting { since, error } => {
                let secs = since.elapsed().unwrap_or_default().as_secs();
                write!(f, "reconnecting for {secs} s ({error})")
            }
            SourceState::Replaying => f.write_str("replaying"),
            SourceState::Finished => f.write_str("finished"),
            SourceState::Failed(why) => write!(f, "FAILED: {why}"),
        }
    }
}

/// Counters of one source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Messages handed on.
    pub messages: u64,
    /// Payload bytes handed on.
    pub bytes: u64,
    /// MQTT messages the broker marked as sent again (a redelivery after a reconnect).
    pub redelivered: u64,
    /// Connections made (the first, then each reconnect).
    pub connections: u64,
    /// Times the subscriptions were made again because the broker had lost the session.
    pub resubscribed: u64,
    /// File rows without a readable time (passed on with the rows before them, for the adapter to
    /// judge), and lines too long to read (skipped).
    pub malformed: u64,
    /// MQTT messages larger than [`MAX_MESSAGE_BYTES`]: acknowledged (so the broker does not send them
    /// again and again), logged with their topic and size, and not handed on.
    pub oversized: u64,
    /// QoS 0 messages replaced by a newer one of the same topic before the session could take them
    /// (`coalesce = "latest-per-topic"`).
    pub coalesced: u64,
    /// HTTP polls answered `304 Not Modified` (nothing new, nothing handed on).
    pub not_modified: u64,
    /// HTTP polls that failed: a status other than 2xx / 304, a timeout, no connection.
    pub errors: u64,
}

/// A source's state and counters, as the screen and `--stats` show them.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceStatus {
    /// The source's id.
    pub id: String,
    /// `file`, `mqtt`, `http` or `websocket`.
    pub kind: &'static str,
    /// What it is doing.
    pub state: SourceState,
    /// Its counters.
    pub stats: SourceStats,
    /// Messages per second, over the last second or two ([`Sources::statuses`] measures it).
    pub rate: f64,
}

impl std::fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.stats;
        write!(
            f,
            "source {} ({}): {}; {} messages ({:.0}/s), {} bytes",
            self.id, self.kind, self.state, s.messages, self.rate, s.bytes
        )?;
        if self.kind == "mqtt" {
            write!(
                f,
                ", {} connections, {} redelivered, {} resubscribed",
                s.connections, s.redelivered, s.resubscribed
            )?;
        }
        if s.malformed > 0 {
            write!(f, ", {} malformed", s.malformed)?;
        }
        if s.oversized > 0 {
            write!(f, ", {} over {MAX_MESSAGE_BYTES} bytes (not handed on)", s.oversized)?;
        }
        if self.kind == "http" {
            write!(f, ", {} not modified, {} errors", s.not_modified, s.errors)?;
        }
        if self.kind == "websocket" {
            write!(f, ", {} connections", s.connections)?;
        }
        if s.coalesced > 0 {
            write!(f, ", {} coalesced (a newer one of their topic kept)", s.coalesced)?;
        }
        Ok(())
    }
}

/// A source's shared status: the task writes it, the session reads it.
pub(crate) type SharedStatus = Arc<Mutex<SourceStatus>>;

pub(crate) fn update(status: &SharedStatus, f: impl FnOnce(&mut SourceStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

/// Where the tasks put their deliveries.
#[derive(Clone)]
pub(crate) struct Outlet {
    tx: mpsc::Sender<Delivery>,
    bytes: Arc<Semaphore>,
    /// Acknowledgements queued and not yet written to a broker.
    pub(crate) acks_queued: Arc<AtomicUsize>,
}

impl Outlet {
    /// Hands a delivery on, waiting while the queue is full; `false` once the session has gone.
    pub(crate) async fn send(&self, mut delivery: Delivery) -> bool {
        let share = delivery.payload.len().clamp(1, QUEUE_BYTES) as u32;
        match self.bytes.clone().acquire_many_owned(share).await {
            Ok(permit) => delivery._permit = Some(permit),
            Err(_) => return false,
        }
        self.tx.send(delivery).await.is_ok()
    }
}

/// A delivery without its queue share yet (a task fills the fields it knows).
pub(crate) fn delivery(
    decl: &SourceDecl,
    origin: String,
    content_type: &str,
    payload: Vec<u8>,
    sequence: u64,
) -> Delivery {
    Delivery {
        source: decl.id.clone(),
        adapter: decl.adapter.clone(),
        origin,
        content_type: content_type.to_string(),
        payload,
        sequence,
        ack: None,
        _permit: None,
    }
}

/// Runs a source's task, and marks the source failed (with the log saying so) should the task panic:
/// a panic in a library under it must not leave the source "starting" for ever, unsaid.
fn spawn_watched(
    runtime: &tokio::runtime::Runtime,
    decl: &SourceDecl,
    status: SharedStatus,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let handle = runtime.spawn(task);
    let id = decl.id.clone();
    runtime.spawn(async move {
        if let Err(e) = handle.await
            && e.is_panic()
        {
            tracing::error!(source = %id, "the source's task panicked (a bug: please report it); the source is stopped");
            update(&status, |s| s.state = SourceState::Failed("stopped by an internal error (see the log)".into()));
        }
    });
}

/// How the sources are started.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The broker every MQTT source uses instead of the scene's (`--broker`).
    pub broker: Option<String>,
}

/// The scene's sources, running.
pub struct Sources {
    runtime: Option<tokio::runtime::Runtime>,
    rx: mpsc::Receiver<Delivery>,
    held: Option<Delivery>,
    statuses: Vec<SharedStatus>,
    /// Per source: when its rate was last measured, its message count then, and the rate.
    rates: Mutex<Vec<(Instant, u64, f64)>>,
    acks_queued: Arc<AtomicUsize>,
}

/// How long stopping waits for queued acknowledgements to reach the broker.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// How long a rate is measured over, at least.
const RATE_WINDOW: Duration = Duration::from_secs(1);

impl Sources {
    /// Starts every source of `decls` on a runtime thread of its own. A source that cannot reach
    /// its broker or read its file does not fail this: it says so in its status and the log (and an
    /// MQTT source keeps trying); only settings that can never work are an error.
    pub fn start(decls: &[SourceDecl], options: &Options) -> Result<Sources, DataError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sangam-sources")
            .enable_all()
            .build()
            .map_err(DataError::Thread)?;
        let (tx, rx) = mpsc::channel(QUEUE_MESSAGES);
        let acks_queued = Arc::new(AtomicUsize::new(0));
        let outlet = Outlet { tx, bytes: Arc::new(Semaphore::new(QUEUE_BYTES)), acks_queued: acks_queued.clone() };
        let mut statuses = Vec::new();
        for decl in decls {
            let kind = match decl.kind {
                SourceKind::File { .. } => "file",
                SourceKind::Mqtt { .. } => "mqtt",
                SourceKind::Http { .. } => "http",
                SourceKind::WebSocket { .. } => "websocket",
            };
            let status = Arc::new(Mutex::new(SourceStatus {
                id: decl.id.clone(),
                kind,
                state: SourceState::Starting,
                stats: SourceStats::default(),
                rate: 0.0,
            }));
            statuses.push(status.clone());
            let settings =
                |why: String| DataError::Settings { source_id: decl.id.clone(), location: decl.location.clone(), why };
            // The TLS configuration of a source whose address is a TLS one.
            let tls_for = |secure: bool, files: &sangam_twin::TlsFiles| {
                secure.then(|| tls::client_config(files)).transpose().map_err(settings)
            };
            match &decl.kind {
                SourceKind::Http { url, tls, .. } => {
                    let config = tls_for(url.starts_with("https://"), tls)?;
                    spawn_watched(
                        &runtime,
                        decl,
                        status.clone(),
                        http::poll(decl.clone(), config, outlet.clone(), status),
                    );
                }
                SourceKind::WebSocket { url, tls, .. } => {
                    let config = tls_for(url.starts_with("wss://"), tls)?;
                    spawn_watched(
                        &runtime,
                        decl,
                        status.clone(),
                        websocket::read(decl.clone(), config, outlet.clone(), status),
                    );
                }
                SourceKind::File { .. } => {
                    spawn_watched(&runtime, decl, status.clone(), file::replay(decl.clone(), outlet.clone(), status));
                }
                SourceKind::Mqtt { broker, username, password_env, tls, .. } => {
                    let url = options.broker.as_deref().unwrap_or(broker);
                    let address = sangam_twin::broker_address(url).map_err(settings)?;
                    if !address.tls && !tls.is_empty() {
                        tracing::warn!(source = %decl.id, "{url} is not mqtts://: its TLS files are not used");
                    }
                    let config = tls_for(address.tls, tls)?;
                    let credentials = match (username, password_env) {
                        (Some(user), Some(env)) => {
                            let password = std::env::var(env).map_err(|_| {
                                settings(format!(
                                    "the environment variable {env} is not set; it holds the password of user `{user}`"
                                ))
                            })?;
                            Some((user.clone(), password))
                        }
                        (Some(user), None) => Some((user.clone(), String::new())),
                        _ => None,
                    };
                    let broker = mqtt::Broker { address, tls: config, credentials };
                    spawn_watched(
                        &runtime,
                        decl,
                        status.clone(),
                        mqtt::subscribe(decl.clone(), broker, outlet.clone(), status),
                    );
                }
            }
        }
        let rates = Mutex::new(vec![(Instant::now(), 0, 0.0); statuses.len()]);
        Ok(Sources { runtime: Some(runtime), rx, held: None, statuses, rates, acks_queued })
    }

    /// The next delivery, if one is waiting (never waits): one handed back with [`Sources::hold`]
    /// first, then the queue's, in the order the sources sent them.
    pub fn try_next(&mut self) -> Option<Delivery> {
        self.held.take().or_else(|| self.rx.try_recv().ok())
    }

    /// Hands back a delivery the session could not take yet: it comes first next time, and nothing
    /// more is taken from the queue meanwhile (so the sources wait).
    pub fn hold(&mut self, delivery: Delivery) {
        self.held = Some(delivery);
    }

    /// Whether a delivery is held back.
    pub fn is_holding(&self) -> bool {
        self.held.is_some()
    }

    /// Every source's state, counters and rate, in the scene's order.
    pub fn statuses(&self) -> Vec<SourceStatus> {
        let mut out: Vec<SourceStatus> =
            self.statuses.iter().filter_map(|s| s.lock().ok().map(|s| s.clone())).collect();
        if let Ok(mut rates) = self.rates.lock() {
            let now = Instant::now();
            for (status, (at, count, rate)) in out.iter_mut().zip(rates.iter_mut()) {
                let waited = now.duration_since(*at);
                if waited >= RATE_WINDOW {
                    *rate = status.stats.messages.saturating_sub(*count) as f64 / waited.as_secs_f64();
                    (*at, *count) = (now, status.stats.messages);
                }
                status.rate = *rate;
            }
        }
        out
    }
}

impl Drop for Sources {
    fn drop(&mut self) {
        // Acknowledgements already made go out first (waiting at most STOP_WAIT), so a clean stop
        // does not make the broker send them again; whatever is still unacknowledged stays with it.
        let deadline = Instant::now() + STOP_WAIT;
        let had = self.acks_queued.load(Ordering::Acquire) > 0;
        while self.acks_queued.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        if had {
            // The client reported each one written; a moment for the socket to flush.
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(200));
        }
    }
}
