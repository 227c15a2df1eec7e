//! Plugin views off the frame thread. The [`ViewKeeper`] thread holds a replica of the twin store,
//! kept by applying the changes the frame thread's store logs, in order, and builds on it the twin
//! view each simulation step and overlay draw reads ([`super::snapshot`]). The frame thread only
//! hands it the log's batches (a channel send each, the events moved, not copied) and a request per
//! submission; the plugin's pool thread waits for its view before the call's time starts
//! ([`sangam_plugins::TwinView::prepare`]).
//!
//! The view is exact: requests and change batches travel one channel, so a view holds every change
//! the frame thread made before the submission and none after, as a snapshot built then would.
//!
//! Cost: a second copy of the store (the same budget; [`ViewKeeper::memory_bytes`] reports it) and
//! its writes, on the keeper's own thread. Bounded: simulations and overlays wait for their views, so
//! they cannot outrun the keeper; adapters get no new messages while it is behind by more events
//! than the store's own log holds ([`ViewKeeper::is_behind`]; the messages wait in the inbox). When
//! the log evicted changes before they were handed over, the frame thread sends the keeper a copy of
//! the store instead (a resync: counted, logged, and a one-off cost there).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use sangam_plugins::{TwinSnapshot, TwinView};
use sangam_twin::{EntityId, ReadGrant, SimTime, TwinEvent, TwinStore};

use super::snapshot::{Seen, snapshot_at, snapshot_of};

/// Changes the frame thread's store made, in order, shared by the replica and the recorder.
pub type ChangeBatch = Arc<Vec<TwinEvent>>;

/// Changes in `batches`, over all of them.
pub fn change_count(batches: &[ChangeBatch]) -> usize {
    batches.iter().map(|b| b.len()).sum()
}

/// Events the replica may be behind at least, whatever the store's log holds (8 MiB of events):
/// a small budget's log is shorter than what one batch of steps writes.
const MIN_BACKLOG: usize = 1 << 16;

/// How long a pool thread waits for the keeper before it checks that the keeper still runs.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// What the frame thread hands the keeper.
enum Work {
    /// Changes to apply.
    Changes(ChangeBatch),
    /// A copy of the store, replacing the replica.
    Resync(Box<TwinStore>),
    /// A view to build.
    Build(Arc<ViewRequest>),
}

/// One view a plugin is waiting for.
struct ViewRequest {
    /// The plugin's index in the session's plugin list (for the access log).
    plugin: usize,
    entities: Arc<[EntityId]>,
    read: Arc<ReadGrant>,
    /// `None`: the latest values; `Some(t)`: the twin as it was at `t`.
    at: Option<SimTime>,
    /// The time the view is noted at in the access log.
    t_us: i64,
    built: OnceLock<TwinSnapshot>,
    done: Mutex<bool>,
    ready: Condvar,
}

/// One view built, for the access log (the frame thread notes it).
pub(crate) struct AccessNote {
    pub(crate) plugin: usize,
    pub(crate) t_us: i64,
    pub(crate) entities: usize,
    pub(crate) seen: Seen,
}

/// What the keeper and the frame thread share.
struct Shared {
    /// Events sent and not yet applied.
    backlog: AtomicUsize,
    /// Views built, waiting to be noted in the access log.
    notes: Mutex<Vec<AccessNote>>,
    /// Changes the replica refused (the frame thread's store had taken them: a bug, logged).
    refused: AtomicU64,
    /// Views built.
    built: AtomicU64,
    /// The replica's bytes (series and log, as the store counts them).
    memory: AtomicUsize,
    /// The keeper thread runs.
    alive: AtomicBool,
}

/// The replica of the twin that plugin views are built on, and its thread.
pub struct ViewKeeper {
    tx: Option<Sender<Work>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The store's eviction count when its log was last handed over.
    evicted_seen: u64,
    /// The most events the replica may be behind (the store's own log bound, at least [`MIN_BACKLOG`]).
    backlog_limit: usize,
    resyncs: u64,
}

impl ViewKeeper {
    /// A keeper whose replica starts as `store` is now. The store's log is the caller's: the replica
    /// holds what it records, and only later changes are handed over.
    pub fn start(store: &TwinStore) -> std::io::Result<ViewKeeper> {
        let shared = Arc::new(Shared {
            backlog: AtomicUsize::new(0),
            notes: Mutex::new(Vec::new()),
            refused: AtomicU64::new(0),
            built: AtomicU64::new(0),
            memory: AtomicUsize::new(0),
            alive: AtomicBool::new(true),
        });
        let (tx, rx) = mpsc::channel();
        let replica = replica_of(store);
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new().name("sangam-views".into()).spawn(move || keep(rx, &shared, replica))?
        };
        Ok(ViewKeeper {
            tx: Some(tx),
            shared,
            thread: Some(thread),
            evicted_seen: store.events_evicted(),
            backlog_limit: store.event_limit().max(MIN_BACKLOG),
            resyncs: 0,
        })
    }

    /// Hands the store's logged changes to the replica (and to `taken`, for the recorder); a copy of
    /// the store instead when the replica could not follow them. Never waits.
    pub fn flush(&mut self, store: &mut TwinStore, taken: &mut Vec<ChangeBatch>) {
        let evicted = store.events_evicted();
        let events = store.take_events();
        let missed = evicted > self.evicted_seen;
        self.evicted_seen = evicted;
        if events.is_empty() && !missed {
            return;
        }
        let batch = Arc::new(events);
        if missed {
            self.resync(store, "the store's log evicted changes before they were handed over");
        } else {
            self.shared.backlog.fetch_add(batch.len(), Ordering::AcqRel);
            self.send(Work::Changes(batch.clone()));
        }
        if !batch.is_empty() {
            taken.push(batch);
        }
    }

    /// Replaces the replica with a copy of `store` (its log already handed over or not wanted).
    pub fn resync(&mut self, store: &TwinStore, why: &str) {
        self.resyncs += 1;
        self.evicted_seen = store.events_evicted();
        // Handled, and counted on the stats line: nothing is lost (a seek in a replay does this).
        tracing::info!("plugin views: the replica of the twin is replaced by a copy of the store ({why})");
        self.send(Work::Resync(Box::new(replica_of(store))));
    }

    /// A view of `entities` (what `read` permits), built after every change handed over so far.
    pub(crate) fn request(
        &mut self,
        plugin: usize,
        entities: &Arc<[EntityId]>,
        read: &Arc<ReadGrant>,
        at: Option<SimTime>,
        t_us: i64,
    ) -> Arc<dyn TwinView> {
        let request = Arc::new(ViewRequest {
            plugin,
            entities: entities.clone(),
            read: read.clone(),
            at,
            t_us,
            built: OnceLock::new(),
            done: Mutex::new(false),
            ready: Condvar::new(),
        });
        self.send(Work::Build(request.clone()));
        Arc::new(PendingView { request, shared: self.shared.clone() })
    }

    /// Whether the replica is behind by more events than the store's log holds (at least
    /// [`MIN_BACKLOG`]): adapters then get no new messages (they wait in the inbox, nothing is lost)
    /// until it has caught up. Simulations and overlays wait for their views by themselves.
    pub fn is_behind(&self) -> bool {
        self.shared.backlog.load(Ordering::Acquire) > self.backlog_limit
    }

    /// Views built since the last call, for the access log. Never waits: `None` while the keeper
    /// holds the list (they are taken next time).
    pub(crate) fn take_notes(&self) -> Option<Vec<AccessNote>> {
        let mut notes = self.shared.notes.try_lock().ok()?;
        Some(std::mem::take(&mut *notes))
    }

    /// Bytes the replica holds, as the store counts them.
    pub fn memory_bytes(&self) -> usize {
        self.shared.memory.load(Ordering::Relaxed)
    }

    /// The status line: views built, replica size, resyncs, refusals.
    pub fn status_line(&self) -> String {
        let refused = self.shared.refused.load(Ordering::Relaxed);
        format!(
            "views: {} plugin views built off the frame thread on a replica of {:.1} MiB; {} events waiting; {} \
             resyncs{}{}",
            self.shared.built.load(Ordering::Relaxed),
            self.memory_bytes() as f64 / f64::from(1 << 20),
            self.shared.backlog.load(Ordering::Relaxed),
            self.resyncs,
            if refused > 0 { format!("; {refused} changes the replica refused") } else { String::new() },
            if self.shared.alive.load(Ordering::Relaxed) { "" } else { "; STOPPED (see the log)" },
        )
    }

    fn send(&self, work: Work) {
        // A keeper that is gone said so as it stopped; the views it would build come back empty.
        if let Some(tx) = &self.tx {
            let _ = tx.send(work);
        }
    }
}

impl Drop for ViewKeeper {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A copy of `store` to keep as the replica: its log holds nothing, and keeps only the latest change.
fn replica_of(store: &TwinStore) -> TwinStore {
    let mut replica = store.clone();
    replica.take_events();
    replica.set_event_limit(1);
    replica
}

/// The keeper's loop: changes, resyncs and builds, in the order they were sent.
fn keep(rx: Receiver<Work>, shared: &Shared, mut replica: TwinStore) {
    struct Stopped<'a>(&'a Shared);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            self.0.alive.store(false, Ordering::Release);
            if std::thread::panicking() {
                tracing::error!("plugin views: the keeper thread stopped; plugins get empty views");
            }
        }
    }
    let _stopped = Stopped(shared);
    shared.memory.store(replica.memory_bytes(), Ordering::Relaxed);
    for work in rx {
        match work {
            Work::Changes(batch) => {
                let n = batch.len();
                // The recorder may hold the batch too: then the events are copied.
                let events = Arc::unwrap_or_clone(batch);
                let mut refused = 0u64;
                for event in events {
                    refused += u64::from(replica.apply(event).is_err());
                }
                if refused > 0 {
                    shared.refused.fetch_add(refused, Ordering::Relaxed);
                    tracing::error!("plugin views: the replica refused {refused} changes the store took");
                }
                shared.backlog.fetch_sub(n, Ordering::AcqRel);
                shared.memory.store(replica.memory_bytes(), Ordering::Relaxed);
            }
            Work::Resync(store) => {
                replica = *store;
                shared.memory.store(replica.memory_bytes(), Ordering::Relaxed);
            }
            Work::Build(request) => {
                // Nobody waits for it any more (the call was dropped): not built.
                if Arc::strong_count(&request) > 1 {
                    build(&replica, &request, shared);
                }
            }
        }
    }
}

fn build(replica: &TwinStore, request: &ViewRequest, shared: &Shared) {
    let mut seen = Seen::new();
    let view = match request.at {
        None => snapshot_of(replica, &request.entities, &request.read, &mut seen),
        Some(t) => snapshot_at(replica, &request.entities, &request.read, t, &mut seen),
    };
    let _ = request.built.set(view);
    shared.built.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut notes) = shared.notes.lock() {
        notes.push(AccessNote { plugin: request.plugin, t_us: request.t_us, entities: request.entities.len(), seen });
    }
    if let Ok(mut done) = request.done.lock() {
        *done = true;
    }
    request.ready.notify_all();
}

/// The view a plugin call reads: the keeper's snapshot, waited for on the pool thread.
struct PendingView {
    request: Arc<ViewRequest>,
    shared: Arc<Shared>,
}

impl PendingView {
    /// The built view; an empty one if the keeper stopped before building it.
    fn view(&self) -> &TwinSnapshot {
        static EMPTY: OnceLock<TwinSnapshot> = OnceLock::new();
        if let Some(view) = self.request.built.get() {
            return view;
        }
        let Ok(mut done) = self.request.done.lock() else { return EMPTY.get_or_init(TwinSnapshot::new) };
        while !*done && self.shared.alive.load(Ordering::Acquire) {
            match self.request.ready.wait_timeout(done, WAIT_SLICE) {
                Ok((guard, _)) => done = guard,
                Err(_) => return EMPTY.get_or_init(TwinSnapshot::new),
            }
        }
        drop(done);
        self.request.built.get().unwrap_or_else(|| EMPTY.get_or_init(TwinSnapshot::new))
    }
}

impl TwinView for PendingView {
    fn prepare(&self) {
        self.view();
    }

    fn number(&self, entity: u32, property: &str) -> Option<f64> {
        self.view().number(entity, property)
    }

    fn text(&self, entity: u32, property: &str) -> Option<String> {
        self.view().text(entity, property)
    }

    fn samples(&self, entity: u32, property: &str, start: i64, end: i64, visit: &mut dyn FnMut(i64, f64)) {
        self.view().samples(entity, property, start, end, visit);
    }

    fn numbers(&self, property: &str, entities: &[u32], count: u32, out: &mut Vec<f64>) {
        self.view().numbers(property, entities, count, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_twin::{Entity, PropertyValue};

    fn store() -> TwinStore {
        let mut store = TwinStore::new();
        for i in 0..3 {
            let mut e = Entity::new(EntityId::new(format!("cell-{i}")), "telecom.cell");
            e.properties.insert("load".into(), PropertyValue::Number(i as f64));
            store.add_entity(SimTime::ZERO, e).unwrap();
        }
        store
    }

    fn ids() -> Arc<[EntityId]> {
        (0..3).map(|i| EntityId::new(format!("cell-{i}"))).collect()
    }

    #[test]
    fn a_view_holds_every_change_made_before_it_was_asked_for_and_none_after() {
        let mut store = store();
        store.take_events();
        let mut keeper = ViewKeeper::start(&store).unwrap();
        let read = Arc::new(ReadGrant::default());
        let mut taken = Vec::new();
        let mut views = Vec::new();
        for round in 1..=50 {
            store
                .record(
                    &EntityId::new("cell-1"),
                    "load",
                    SimTime::from_secs(round),
                    PropertyValue::Number(round as f64),
                )
                .unwrap();
            keeper.flush(&mut store, &mut taken);
            views.push((round, keeper.request(0, &ids(), &read, None, 0)));
        }
        for (round, view) in views {
            view.prepare();
            assert_eq!(view.number(1, "load"), Some(round as f64), "the view asked for after round {round}");
            assert_eq!(view.number(2, "load"), Some(2.0));
        }
        assert_eq!(taken.iter().map(|b| b.len()).sum::<usize>(), 50, "every change handed to the recorder too");
        let notes = keeper.take_notes().unwrap();
        assert_eq!(notes.len(), 50);
        assert!(notes[0].seen.contains("load"));
    }

    #[test]
    fn a_replica_that_missed_changes_is_replaced_by_a_copy_and_views_stay_right() {
        let mut store = store();
        store.set_event_limit(4);
        store.take_events();
        let mut keeper = ViewKeeper::start(&store).unwrap();
        // Ten changes between handovers: the log keeps four, so the replica would miss six.
        for t in 1..=10 {
            store
                .record(&EntityId::new("cell-0"), "load", SimTime::from_secs(t), PropertyValue::Number(t as f64))
                .unwrap();
        }
        keeper.flush(&mut store, &mut Vec::new());
        let view = keeper.request(0, &ids(), &Arc::new(ReadGrant::default()), None, 0);
        assert_eq!(view.number(0, "load"), Some(10.0));
        let mut history = Vec::new();
        view.samples(0, "load", i64::MIN, i64::MAX, &mut |t, _| history.push(t));
        assert_eq!(history.len(), 11, "the whole history, from the copy");
        assert!(keeper.status_line().contains("1 resyncs"), "{}", keeper.status_line());
    }

    #[test]
    fn a_view_of_the_past_holds_the_values_of_then() {
        let mut store = store();
        store.take_events();
        let mut keeper = ViewKeeper::start(&store).unwrap();
        for t in 1..=5 {
            store
                .record(&EntityId::new("cell-0"), "load", SimTime::from_secs(t), PropertyValue::Number(t as f64 * 10.0))
                .unwrap();
        }
        keeper.flush(&mut store, &mut Vec::new());
        let then = keeper.request(0, &ids(), &Arc::new(ReadGrant::default()), Some(SimTime::from_secs(2)), 0);
        assert_eq!(then.number(0, "load"), Some(20.0));
    }
}
