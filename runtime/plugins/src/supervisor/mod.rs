//! The supervisor: runs plugin instances on a small pool of worker threads, hands the frame loop the
//! newest completed output without ever blocking it, quarantines and restarts faulty instances with
//! exponential backoff, and hot-reloads plugins.
//!
//! Each plugin is an actor: a mailbox of jobs and its instance, run by at most one pool thread at a
//! time. Submitting pushes onto the mailbox and, when the plugin was idle, puts it on the pool's run
//! queue; a pool thread is woken only if one is asleep and not already being woken. So a tick that
//! submits to ten plugins costs the frame thread ten short mutex pushes and at most one wake-up per
//! pool thread, not ten thread wake-ups (each a futex syscall of several microseconds). A plugin that
//! runs long holds one pool thread for at most its time budget (the epoch deadline), then faults.
//!
//! - [`pool`]: the threads, the fair pick of the next plugin, the watchdog for blocked threads and a
//!   shutdown that never waits more than half a second.
//! - [`worker`]: one plugin's instance, its restarts and its fault window.

mod pool;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::engine::PluginEngine;
use crate::error::{Call, FaultCause, PluginError};
use crate::instance::{LoadedPlugin, PluginSpec, SourceInfo};
use crate::output::{AdapterOutput, OverlayFrame, PropertyUpdates, Raster};
use crate::twin::TwinView;
use pool::{Actor, Pool};
use worker::WorkerLoop;

/// How the supervisor restarts faulty plugins. Faults are counted over a sliding window, not since
/// the last good call: a plugin that behaves for one call after each restart and then faults still
/// backs off longer each time and is disabled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartPolicy {
    /// Wait before the first restart in a window.
    pub initial_backoff: Duration,
    /// Longest wait between restarts (the backoff doubles with each fault in the window, up to this).
    pub max_backoff: Duration,
    /// The window faults and returned errors are counted over.
    pub fault_window: Duration,
    /// Faults (traps, overruns, malformed output, ...) within `fault_window` at which the plugin is
    /// disabled.
    pub max_faults_in_window: u32,
    /// Errors the plugin returns (`Err` from `parse`, `step` or `draw`) within `fault_window` at
    /// which its instance is thrown away as for a fault ([`FaultCause::TooManyErrors`]).
    pub max_errors_in_window: u32,
    /// Kiosk mode: a plugin disabled for its faults is enabled again (with a fresh window) this long
    /// after; `None` keeps it disabled until it is reloaded.
    pub reenable_after: Option<Duration>,
    /// How long past its time budget a call may stay out of WebAssembly (in a host call or a WASI
    /// wait) before its pool thread is given up, replaced, and the plugin disabled.
    pub blocked_grace: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            fault_window: Duration::from_secs(60),
            max_faults_in_window: 5,
            max_errors_in_window: 20,
            reenable_after: None,
            blocked_grace: Duration::from_secs(1),
        }
    }
}

/// What the supervisor did about a fault.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// The instance was thrown away; a new one starts after `after`.
    Restarting {
        /// The backoff.
        after: Duration,
    },
    /// The plugin is disabled (init failed, or too many faults in the window) until reloaded, or
    /// until the policy's `reenable_after` has passed.
    Disabled,
    /// The plugin returned an error; the instance keeps running. Later errors in the same window are
    /// counted, not reported one by one, until they reach the policy's `max_errors_in_window`.
    KeptRunning,
}

/// One fault, for the on-screen fault list and the log.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultReport {
    /// The plugin id.
    pub plugin_id: String,
    /// The call that failed.
    pub call: Call,
    /// The cause.
    pub cause: FaultCause,
    /// When it happened.
    pub at: SystemTime,
    /// Restarts of this plugin so far (since load or reload).
    pub restarts: u32,
    /// What the supervisor did.
    pub action: FaultAction,
}

impl std::fmt::Display for FaultReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plugin `{}` {}: {}", self.plugin_id, self.call, self.cause)?;
        match &self.action {
            FaultAction::Restarting { after } => {
                write!(f, "; restarting in {} ms (restart {})", after.as_millis(), self.restarts + 1)
            }
            FaultAction::Disabled => write!(f, "; plugin disabled (fix it and reload)"),
            FaultAction::KeptRunning => {
                write!(f, "; it keeps running (further errors in the window are counted, not reported)")
            }
        }
    }
}

/// The state of one supervised plugin.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginStatus {
    /// Not yet instantiated, or waiting for a restart.
    Starting,
    /// Instantiated and initialised.
    Running,
    /// Waiting out a backoff after a fault.
    Backoff,
    /// Disabled, with the reason.
    Disabled(String),
}

/// Counters of one supervised plugin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginStats {
    /// Calls that completed with checked output.
    pub completed: u64,
    /// Ticks or draw requests skipped because the previous call was still running.
    pub late: u64,
    /// Faults.
    pub faults: u64,
    /// Restarts.
    pub restarts: u64,
    /// Hot reloads that swapped a new build in.
    pub reloads: u64,
    /// Hot reloads refused (unreadable or invalid build); the old version kept running.
    pub failed_reloads: u64,
    /// Completed outputs dropped because [`MAX_PENDING_UPDATES`] were already waiting for the frame
    /// loop (the oldest goes; each drop is counted and logged, never silent).
    pub dropped_outputs: u64,
}

/// How a submission went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submit {
    /// Queued to the worker.
    Queued,
    /// Skipped: the previous call is still running (counted as late).
    Skipped,
    /// The plugin is disabled.
    Disabled,
}

/// Why [`Supervisor::queue_message`] did not queue a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotQueued {
    /// [`MAX_QUEUED_MESSAGES`] are already waiting.
    Full,
    /// The plugin is disabled.
    Disabled,
    /// No plugin has this id.
    UnknownPlugin,
}

/// A message [`Supervisor::queue_message`] did not queue, handed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unqueued {
    /// Why.
    pub why: NotQueued,
    /// The message's metadata, as given.
    pub source: SourceInfo,
    /// The message's bytes, as given.
    pub payload: Vec<u8>,
}

/// Largest number of adapter messages queued per plugin.
pub const MAX_QUEUED_MESSAGES: u64 = 256;
/// Largest number of completed update batches kept for [`Supervisor::drain_updates`] per plugin.
pub const MAX_PENDING_UPDATES: usize = 256;

/// The most steps one catch-up batch runs ([`Supervisor::submit_steps_with`]).
pub const MAX_STEPS_PER_BATCH: u32 = 64;
/// Largest number of fault reports kept.
pub const MAX_FAULT_REPORTS: usize = 256;
pub(crate) enum Job {
    /// `count` consecutive steps from `now` (a catch-up batch), all reading `twin`.
    Step {
        now: i64,
        dt_us: i64,
        count: u32,
        twin: Arc<dyn TwinView>,
    },
    Draw {
        now: i64,
        twin: Arc<dyn TwinView>,
    },
    Parse {
        source: SourceInfo,
        payload: Vec<u8>,
    },
    Replace(Box<LoadedPlugin>),
    /// Dev-mode hot reload: read and compile the file on the pool thread, then swap it in.
    ReloadFrom(PathBuf),
    Start,
    /// Start the instance if its backoff has passed (holds the busy flag, like a call).
    Wake,
    /// Kiosk re-enable: a fresh fault window, then start.
    Reenable,
}

impl Job {
    /// Waits until the twin view a step or draw reads is ready ([`TwinView::prepare`]): the pool
    /// calls it before the job's time is watched.
    pub(crate) fn prepare_view(&self) {
        if let Job::Step { twin, .. } | Job::Draw { twin, .. } = self {
            twin.prepare();
        }
    }
}

#[derive(Default)]
pub(crate) struct Outputs {
    overlay: Option<Arc<OverlayFrame>>,
    /// The newest map of each layer (SDK 1.3 `output.raster`), in the order the layers first came.
    rasters: Vec<Arc<Raster>>,
    updates: VecDeque<Arc<PropertyUpdates>>,
    adapter: VecDeque<Arc<AdapterOutput>>,
}

pub(crate) struct Shared {
    busy: AtomicBool,
    queued_messages: AtomicU64,
    disabled: AtomicBool,
    /// When a plugin disabled for its faults is enabled again (the policy's `reenable_after`).
    reenable_at: Mutex<Option<Instant>>,
    outputs: Mutex<Outputs>,
    status: Mutex<PluginStatus>,
    stats: Mutex<PluginStats>,
}

/// Reads plugin `id`'s component file (for adding it, or for a hot reload).
pub(crate) fn read_component(id: &str, path: &std::path::Path) -> Result<Vec<u8>, PluginError> {
    std::fs::read(path).map_err(|e| PluginError::Compile {
        plugin: id.to_owned(),
        message: format!("cannot read {}: {e}", path.display()),
    })
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Worker {
    actor: Arc<Actor>,
    spec: PluginSpec,
    source: Option<(PathBuf, Option<SystemTime>)>,
}

impl Worker {
    fn shared(&self) -> &Shared {
        &self.actor.shared
    }
}

/// Runs plugins on a pool of worker threads. All methods but [`Supervisor::add`],
/// [`Supervisor::reload`] (which compile) and [`Supervisor::remove`] return at once: they are safe to
/// call from the frame loop.
pub struct Supervisor {
    engine: PluginEngine,
    policy: RestartPolicy,
    workers: HashMap<String, Worker>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
    pool: Arc<Pool>,
    max_threads: usize,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("plugins", &self.workers.keys().collect::<Vec<_>>())
            .field("threads", &self.pool.threads())
            .finish()
    }
}

impl Supervisor {
    /// A supervisor over `engine` with `policy`, running plugins on up to one thread per CPU core
    /// (at least 2, at most 8; never more threads than plugins).
    pub fn new(engine: PluginEngine, policy: RestartPolicy) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_threads(engine, policy, cores.clamp(2, 8))
    }

    /// Like [`Supervisor::new`] with at most `max_threads` pool threads (at least 1). More threads
    /// keep a slow plugin from delaying the others; fewer leave more cores to rendering.
    pub fn with_threads(engine: PluginEngine, policy: RestartPolicy, max_threads: usize) -> Self {
        let faults = Arc::new(Mutex::new(VecDeque::new()));
        Supervisor {
            engine,
            policy,
            workers: HashMap::new(),
            pool: Arc::new(Pool::new(faults.clone(), policy.blocked_grace)),
            faults,
            max_threads: max_threads.max(1),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Loads `component` for `spec` (compiling on this thread, or loading from the cache) and
    /// queues its instantiation on the pool.
    pub fn add(&mut self, spec: PluginSpec, component: &[u8]) -> Result<(), PluginError> {
        if self.workers.contains_key(&spec.id) {
            return Err(PluginError::DuplicatePlugin(spec.id));
        }
        let loaded = LoadedPlugin::load(&self.engine, spec.clone(), component)?;
        if self.pool.threads() < self.max_threads.min(self.workers.len() + 1) {
            self.pool.spawn_thread()?;
        }
        let shared = Arc::new(Shared {
            busy: AtomicBool::new(false),
            queued_messages: AtomicU64::new(0),
            disabled: AtomicBool::new(false),
            reenable_at: Mutex::new(None),
            outputs: Mutex::new(Outputs::default()),
            status: Mutex::new(PluginStatus::Starting),
            stats: Mutex::new(PluginStats::default()),
        });
        let state = WorkerLoop::new(loaded, self.engine.clone(), shared.clone(), self.faults.clone(), self.policy);
        let init_time = spec.limits.init_time(spec.entities.ids.len());
        let actor = Arc::new(Actor::new(Arc::from(spec.id.as_str()), spec.limits.call_time, init_time, shared, state));
        self.pool.count_plugin(1);
        // Instantiate right away (a draw/step would also do it) so faults in init show up early.
        actor.send(&self.pool, Job::Start);
        self.workers.insert(spec.id.clone(), Worker { actor, spec, source: None });
        Ok(())
    }

    /// Like [`Supervisor::add`], reading the component from `path` and remembering it for
    /// [`Supervisor::poll_reload`] (dev-mode hot reload).
    pub fn add_file(&mut self, spec: PluginSpec, path: impl Into<PathBuf>) -> Result<(), PluginError> {
        let path = path.into();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let bytes = read_component(&spec.id, &path)?;
        let id = spec.id.clone();
        self.add(spec, &bytes)?;
        if let Some(worker) = self.workers.get_mut(&id) {
            worker.source = Some((path, modified));
        }
        Ok(())
    }

    /// Replaces plugin `id` with `component` (same spec): the new version is compiled here, then the
    /// pool swaps it in between calls. Other plugins are not touched. On error the old version
    /// keeps running.
    pub fn reload(&mut self, id: &str, component: &[u8]) -> Result<(), PluginError> {
        let worker = self.workers.get(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))?;
        let loaded = LoadedPlugin::load(&self.engine, worker.spec.clone(), component)?;
        worker.shared().disabled.store(false, Ordering::Relaxed);
        worker.actor.send(&self.pool, Job::Replace(Box::new(loaded)));
        tracing::info!(plugin = id, "plugin reloaded");
        Ok(())
    }

    /// Dev mode: reloads every plugin added with [`Supervisor::add_file`] whose file changed since
    /// the last look (by modification time). Only the modification times are read here; reading and
    /// compiling the new build happen on the plugin's pool thread, which swaps it in between calls.
    /// Returns the ids whose reload was queued; a failed reload is logged and the old version keeps
    /// running.
    pub fn poll_reload(&mut self) -> Vec<String> {
        let mut queued = Vec::new();
        for (id, worker) in &mut self.workers {
            let Some((path, seen)) = &mut worker.source else { continue };
            let modified = std::fs::metadata(&*path).and_then(|m| m.modified()).ok();
            if modified.is_some() && modified != *seen {
                *seen = modified;
                worker.actor.send(&self.pool, Job::ReloadFrom(path.clone()));
                queued.push(id.clone());
            }
        }
        queued
    }

    /// Kiosk mode: enables a plugin disabled for its faults again once the policy's
    /// `reenable_after` has passed. Returns whether it is enabled now.
    fn reenable_if_due(&self, worker: &Worker) -> bool {
        let shared = worker.shared();
        let mut due = lock(&shared.reenable_at);
        if !due.is_some_and(|at| Instant::now() >= at) {
            return false;
        }
        *due = None;
        drop(due);
        tracing::warn!(plugin = %worker.spec.id, "re-enabling the plugin (the scene's policy re-enables disabled plugins)");
        *lock(&shared.status) = PluginStatus::Starting;
        shared.disabled.store(false, Ordering::Release);
        worker.actor.send(&self.pool, Job::Reenable);
        true
    }

    fn worker(&self, id: &str) -> Result<&Worker, PluginError> {
        self.workers.get(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))
    }

    /// Queues the job `make` builds, if `id` is enabled and idle. `make` runs only after winning the
    /// plugin's busy flag, so a skipped tick costs nothing but the count.
    fn submit_exclusive(&self, id: &str, make: impl FnOnce() -> Job) -> Result<Submit, PluginError> {
        let worker = self.worker(id)?;
        let shared = worker.shared();
        if shared.disabled.load(Ordering::Relaxed) && !self.reenable_if_due(worker) {
            return Ok(Submit::Disabled);
        }
        if shared.busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            lock(&shared.stats).late += 1;
            return Ok(Submit::Skipped);
        }
        worker.actor.send(&self.pool, make());
        Ok(Submit::Queued)
    }

    /// Submits one simulation tick. Never blocks: if the previous step is still running, the tick is
    /// skipped and counted as late.
    pub fn submit_step(&self, id: &str, now: i64, dt_us: i64, twin: Arc<dyn TwinView>) -> Result<Submit, PluginError> {
        self.submit_step_with(id, now, dt_us, || twin)
    }

    /// Like [`Supervisor::submit_step`], building the twin view only when the step is taken (a
    /// snapshot of many entities is not worth building for a tick that is skipped).
    pub fn submit_step_with(
        &self,
        id: &str,
        now: i64,
        dt_us: i64,
        twin: impl FnOnce() -> Arc<dyn TwinView>,
    ) -> Result<Submit, PluginError> {
        self.submit_steps_with(id, now, dt_us, 1, twin)
    }

    /// Submits `count` consecutive simulation steps (`now`, `now + dt`, ...) as one batch: a clock
    /// that ran several fixed steps in one frame catches up without losing simulated time. The steps
    /// run one after the other on one pool thread, each a call with its own time budget, all reading
    /// the twin as `twin` was built (the plugin's own state carries from step to step); the batch stops
    /// at the first step that fails. At most [`MAX_STEPS_PER_BATCH`]. Never blocks: skipped (late)
    /// while the previous batch runs.
    pub fn submit_steps_with(
        &self,
        id: &str,
        now: i64,
        dt_us: i64,
        count: u32,
        twin: impl FnOnce() -> Arc<dyn TwinView>,
    ) -> Result<Submit, PluginError> {
        let count = count.clamp(1, MAX_STEPS_PER_BATCH);
        self.submit_exclusive(id, || Job::Step { now, dt_us, count, twin: twin() })
    }

    /// Lets a plugin that is backing off after a fault start its new instance once the backoff has
    /// passed, without a call (a caller that does not step a restarting plugin calls this instead, so
    /// that no twin view is built for a call that would be dropped). Never blocks.
    pub fn wake(&self, id: &str) -> Result<Submit, PluginError> {
        self.submit_exclusive(id, || Job::Wake)
    }

    /// Asks an overlay for a new frame. Never blocks: skipped (late) while the previous draw runs.
    pub fn request_draw(&self, id: &str, now: i64, twin: Arc<dyn TwinView>) -> Result<Submit, PluginError> {
        self.request_draw_with(id, now, || twin)
    }

    /// Like [`Supervisor::request_draw`], building the twin view only when the draw is taken.
    pub fn request_draw_with(
        &self,
        id: &str,
        now: i64,
        twin: impl FnOnce() -> Arc<dyn TwinView>,
    ) -> Result<Submit, PluginError> {
        self.submit_exclusive(id, || Job::Draw { now, twin: twin() })
    }

    /// Queues one message for an adapter. Never blocks: refused (`Skipped`, counted as late) when
    /// [`MAX_QUEUED_MESSAGES`] are already waiting.
    pub fn submit_message(&self, id: &str, source: SourceInfo, payload: Vec<u8>) -> Result<Submit, PluginError> {
        match self.queue_message(id, source, payload) {
            Ok(()) => Ok(Submit::Queued),
            Err(Unqueued { why: NotQueued::Full, .. }) => {
                lock(&self.worker(id)?.shared().stats).late += 1;
                Ok(Submit::Skipped)
            }
            Err(Unqueued { why: NotQueued::Disabled, .. }) => Ok(Submit::Disabled),
            Err(Unqueued { why: NotQueued::UnknownPlugin, .. }) => Err(PluginError::UnknownPlugin(id.to_owned())),
        }
    }

    /// Like [`Supervisor::submit_message`], but a message that is not queued comes back with the
    /// reason and is not counted as late: a caller that holds messages keeps it for later and loses
    /// none. Never blocks.
    pub fn queue_message(&self, id: &str, source: SourceInfo, payload: Vec<u8>) -> Result<(), Unqueued> {
        let Ok(worker) = self.worker(id) else {
            return Err(Unqueued { why: NotQueued::UnknownPlugin, source, payload });
        };
        let shared = worker.shared();
        if shared.disabled.load(Ordering::Relaxed) && !self.reenable_if_due(worker) {
            return Err(Unqueued { why: NotQueued::Disabled, source, payload });
        }
        // Every message queued (and the one being parsed) may complete into an output before the
        // caller drains them: refused while they could overflow the outputs kept, so that none is
        // ever dropped from there.
        let waiting_outputs = lock(&shared.outputs).adapter.len() as u64;
        let queued = shared.queued_messages.fetch_add(1, Ordering::AcqRel);
        if queued >= MAX_QUEUED_MESSAGES || waiting_outputs + queued + 2 > MAX_PENDING_UPDATES as u64 {
            shared.queued_messages.fetch_sub(1, Ordering::AcqRel);
            return Err(Unqueued { why: NotQueued::Full, source, payload });
        }
        worker.actor.send(&self.pool, Job::Parse { source, payload });
        Ok(())
    }

    /// The newest completed overlay frame of `id` (latched: stays until a newer one replaces it, and
    /// is cleared when the plugin faults).
    pub fn latest_overlay(&self, id: &str) -> Option<Arc<OverlayFrame>> {
        self.workers.get(id).and_then(|w| lock(&w.shared().outputs).overlay.clone())
    }

    /// The newest map of each layer simulation `id` handed over (SDK 1.3 `output.raster`), in the
    /// order the layers first came; a map is replaced, not queued, when a newer one of its layer comes.
    pub fn latest_rasters(&self, id: &str) -> Vec<Arc<Raster>> {
        self.workers.get(id).map(|w| lock(&w.shared().outputs).rasters.clone()).unwrap_or_default()
    }

    /// Takes the completed simulation update batches of `id`, oldest first.
    pub fn drain_updates(&self, id: &str) -> Vec<Arc<PropertyUpdates>> {
        self.workers.get(id).map(|w| lock(&w.shared().outputs).updates.drain(..).collect()).unwrap_or_default()
    }

    /// Takes the oldest completed adapter output of `id`, if any (the rest stay, and keep counting
    /// against the messages it accepts).
    pub fn take_adapter_output(&self, id: &str) -> Option<Arc<AdapterOutput>> {
        self.workers.get(id).and_then(|w| lock(&w.shared().outputs).adapter.pop_front())
    }

    /// Takes the fault reports since the last call, oldest first.
    pub fn drain_faults(&self) -> Vec<FaultReport> {
        lock(&self.faults).drain(..).collect()
    }

    /// The status of `id`.
    pub fn status(&self, id: &str) -> Option<PluginStatus> {
        self.workers.get(id).map(|w| lock(&w.shared().status).clone())
    }

    /// The counters of `id`.
    pub fn stats(&self, id: &str) -> Option<PluginStats> {
        self.workers.get(id).map(|w| *lock(&w.shared().stats))
    }

    /// Counts a call the caller did not submit because the plugin was still busy (late), as a
    /// submission that found it busy would.
    pub fn count_late(&self, id: &str) {
        if let Some(w) = self.workers.get(id) {
            lock(&w.shared().stats).late += 1;
        }
    }

    /// Whether a step or draw of `id` is running or queued.
    pub fn is_busy(&self, id: &str) -> bool {
        self.workers.get(id).is_some_and(|w| w.shared().busy.load(Ordering::Acquire))
    }

    /// The ids of all supervised plugins.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.workers.keys().map(String::as_str)
    }

    /// Stops and removes plugin `id`: its queued jobs are dropped and its instance is thrown away
    /// (now when idle, else as soon as the call in progress returns; this never waits for it).
    pub fn remove(&mut self, id: &str) -> Result<(), PluginError> {
        let worker = self.workers.remove(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))?;
        worker.actor.removed.store(true, Ordering::Release);
        lock(&worker.actor.mailbox).clear();
        if let Ok(mut state) = worker.actor.state.try_lock() {
            state.drop_instance();
        }
        self.pool.count_plugin(-1);
        Ok(())
    }
}

impl Drop for Supervisor {
    /// Stops the pool. Waits at most half a second for calls in progress; a thread still blocked
    /// then is left behind (it ends with the process), so a runtime always exits promptly.
    fn drop(&mut self) {
        for worker in self.workers.values() {
            worker.actor.removed.store(true, Ordering::Release);
        }
        self.pool.shutdown();
    }
}
