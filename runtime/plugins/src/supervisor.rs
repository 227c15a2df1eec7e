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

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::engine::PluginEngine;
use crate::error::{Call, FaultCause, PluginError, PluginFault};
use crate::instance::{LoadedPlugin, PluginInstance, PluginSpec, SourceInfo};
use crate::output::{AdapterOutput, OverlayFrame, PropertyUpdates};
use crate::twin::TwinView;

/// How the supervisor restarts faulty plugins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartPolicy {
    /// Wait before the first restart.
    pub initial_backoff: Duration,
    /// Longest wait between restarts (the backoff doubles up to this).
    pub max_backoff: Duration,
    /// After this many faults in a row (no successful call between), the plugin stays disabled.
    pub max_consecutive_faults: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            max_consecutive_faults: 5,
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
    /// The plugin is disabled (init failed, or too many faults in a row) until reloaded.
    Disabled,
    /// The plugin returned an error; the instance keeps running.
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
            FaultAction::KeptRunning => Ok(()),
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

/// Largest number of adapter messages queued per plugin.
pub const MAX_QUEUED_MESSAGES: u64 = 256;
/// Largest number of completed update batches kept for [`Supervisor::drain_updates`] per plugin.
pub const MAX_PENDING_UPDATES: usize = 256;
/// Largest number of fault reports kept.
pub const MAX_FAULT_REPORTS: usize = 256;
/// Jobs one pool thread runs for a plugin before letting other plugins have the thread.
const JOBS_PER_TURN: usize = 8;

enum Job {
    Step {
        now: i64,
        dt_us: i64,
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
}

#[derive(Default)]
struct Outputs {
    overlay: Option<Arc<OverlayFrame>>,
    updates: VecDeque<Arc<PropertyUpdates>>,
    adapter: VecDeque<Arc<AdapterOutput>>,
}

struct Shared {
    busy: AtomicBool,
    queued_messages: AtomicU64,
    disabled: AtomicBool,
    outputs: Mutex<Outputs>,
    status: Mutex<PluginStatus>,
    stats: Mutex<PluginStats>,
}

/// Reads plugin `id`'s component file (for adding it, or for a hot reload).
fn read_component(id: &str, path: &std::path::Path) -> Result<Vec<u8>, PluginError> {
    std::fs::read(path).map_err(|e| PluginError::Compile {
        plugin: id.to_owned(),
        message: format!("cannot read {}: {e}", path.display()),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One plugin as the pool sees it: its mailbox and its instance.
struct Actor {
    mailbox: Mutex<VecDeque<Job>>,
    /// On the run queue or being run; a sender that flips it from false schedules the actor.
    scheduled: AtomicBool,
    /// Removed from the supervisor: queued jobs are dropped.
    removed: AtomicBool,
    shared: Arc<Shared>,
    /// The instance and its restart state; held by the pool thread running the actor.
    state: Mutex<WorkerLoop>,
}

/// The run queue and the pool threads' sleeping bookkeeping.
#[derive(Default)]
struct RunQueue {
    ready: VecDeque<Arc<Actor>>,
    /// Pool threads waiting on the condition variable.
    sleeping: usize,
    /// Wake-ups sent and not yet taken (so a burst of submissions wakes each sleeper once).
    waking: usize,
    shutdown: bool,
}

struct Pool {
    queue: Mutex<RunQueue>,
    wake: Condvar,
}

impl Pool {
    fn schedule(&self, actor: Arc<Actor>) {
        let mut queue = lock(&self.queue);
        queue.ready.push_back(actor);
        if queue.sleeping > queue.waking {
            queue.waking += 1;
            self.wake.notify_one();
        }
    }

    /// The next actor to run, or None at shutdown.
    fn next(&self) -> Option<Arc<Actor>> {
        let mut queue = lock(&self.queue);
        loop {
            if queue.shutdown {
                return None;
            }
            if let Some(actor) = queue.ready.pop_front() {
                return Some(actor);
            }
            queue.sleeping += 1;
            queue = self.wake.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
            queue.sleeping -= 1;
            queue.waking = queue.waking.saturating_sub(1);
        }
    }

    fn run(self: Arc<Self>) {
        while let Some(actor) = self.next() {
            // A panic in host code must not take a pool thread (and every plugin it would run) down:
            // it disables that one plugin instead.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| actor.run_turn())) {
                Ok(true) => self.schedule(actor),
                Ok(false) => {}
                Err(_) => {
                    let reason = "the host panicked while running this plugin (a Sangam bug; see the log)";
                    let id = lock(&actor.state).loaded.spec().id.clone();
                    tracing::error!(plugin = %id, "{reason}");
                    actor.shared.disabled.store(true, Ordering::Relaxed);
                    actor.shared.busy.store(false, Ordering::Release);
                    *lock(&actor.shared.status) = PluginStatus::Disabled(reason.into());
                    lock(&actor.mailbox).clear();
                    actor.scheduled.store(false, Ordering::Release);
                }
            }
        }
    }
}

impl Actor {
    /// Queues `job`, scheduling the actor when it was idle.
    fn send(self: &Arc<Self>, pool: &Pool, job: Job) {
        lock(&self.mailbox).push_back(job);
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            pool.schedule(self.clone());
        }
    }

    /// Runs up to [`JOBS_PER_TURN`] jobs. Returns whether the actor must go back on the run queue.
    fn run_turn(&self) -> bool {
        let mut state = lock(&self.state);
        for _ in 0..JOBS_PER_TURN {
            let Some(job) = lock(&self.mailbox).pop_front() else { break };
            if self.removed.load(Ordering::Acquire) {
                continue;
            }
            state.handle(job);
        }
        drop(state);
        if !lock(&self.mailbox).is_empty() {
            return true; // still scheduled; the caller re-queues it
        }
        self.scheduled.store(false, Ordering::Release);
        // A job pushed between the emptiness check and the store saw `scheduled` set and did not
        // schedule: take the actor back if so (unless its sender already did).
        !lock(&self.mailbox).is_empty() && !self.scheduled.swap(true, Ordering::AcqRel)
    }
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
    threads: Vec<JoinHandle<()>>,
    max_threads: usize,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("plugins", &self.workers.keys().collect::<Vec<_>>())
            .field("threads", &self.threads.len())
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
        Supervisor {
            engine,
            policy,
            workers: HashMap::new(),
            faults: Arc::new(Mutex::new(VecDeque::new())),
            pool: Arc::new(Pool { queue: Mutex::new(RunQueue::default()), wake: Condvar::new() }),
            threads: Vec::new(),
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
        if self.threads.len() < self.max_threads.min(self.workers.len() + 1) {
            let pool = self.pool.clone();
            let thread = std::thread::Builder::new()
                .name(format!("sangam-plugins-{}", self.threads.len()))
                .spawn(move || pool.run())
                .map_err(|e| PluginError::Engine(format!("cannot start a plugin worker thread: {e}")))?;
            self.threads.push(thread);
        }
        let shared = Arc::new(Shared {
            busy: AtomicBool::new(false),
            queued_messages: AtomicU64::new(0),
            disabled: AtomicBool::new(false),
            outputs: Mutex::new(Outputs::default()),
            status: Mutex::new(PluginStatus::Starting),
            stats: Mutex::new(PluginStats::default()),
        });
        let state = WorkerLoop {
            loaded,
            engine: self.engine.clone(),
            instance: None,
            shared: shared.clone(),
            faults: self.faults.clone(),
            policy: self.policy,
            consecutive: 0,
            restarts: 0,
            next_start: Instant::now(),
        };
        let actor = Arc::new(Actor {
            mailbox: Mutex::new(VecDeque::new()),
            scheduled: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            shared,
            state: Mutex::new(state),
        });
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

    fn worker(&self, id: &str) -> Result<&Worker, PluginError> {
        self.workers.get(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))
    }

    /// Queues the job `make` builds, if `id` is enabled and idle. `make` runs only after winning the
    /// plugin's busy flag, so a skipped tick costs nothing but the count.
    fn submit_exclusive(&self, id: &str, make: impl FnOnce() -> Job) -> Result<Submit, PluginError> {
        let worker = self.worker(id)?;
        let shared = worker.shared();
        if shared.disabled.load(Ordering::Relaxed) {
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
        self.submit_exclusive(id, || Job::Step { now, dt_us, twin: twin() })
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

    /// Queues one message for an adapter. Never blocks: refused (`Skipped`) when
    /// [`MAX_QUEUED_MESSAGES`] are already waiting.
    pub fn submit_message(&self, id: &str, source: SourceInfo, payload: Vec<u8>) -> Result<Submit, PluginError> {
        let worker = self.worker(id)?;
        let shared = worker.shared();
        if shared.disabled.load(Ordering::Relaxed) {
            return Ok(Submit::Disabled);
        }
        if shared.queued_messages.fetch_add(1, Ordering::AcqRel) >= MAX_QUEUED_MESSAGES {
            shared.queued_messages.fetch_sub(1, Ordering::AcqRel);
            lock(&shared.stats).late += 1;
            return Ok(Submit::Skipped);
        }
        worker.actor.send(&self.pool, Job::Parse { source, payload });
        Ok(Submit::Queued)
    }

    /// The newest completed overlay frame of `id` (latched: stays until a newer one replaces it, and
    /// is cleared when the plugin faults).
    pub fn latest_overlay(&self, id: &str) -> Option<Arc<OverlayFrame>> {
        self.workers.get(id).and_then(|w| lock(&w.shared().outputs).overlay.clone())
    }

    /// Takes the completed simulation update batches of `id`, oldest first.
    pub fn drain_updates(&self, id: &str) -> Vec<Arc<PropertyUpdates>> {
        self.workers.get(id).map(|w| lock(&w.shared().outputs).updates.drain(..).collect()).unwrap_or_default()
    }

    /// Takes the completed adapter outputs of `id`, oldest first.
    pub fn drain_adapter_outputs(&self, id: &str) -> Vec<Arc<AdapterOutput>> {
        self.workers.get(id).map(|w| lock(&w.shared().outputs).adapter.drain(..).collect()).unwrap_or_default()
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

    /// Whether a step or draw of `id` is running or queued.
    pub fn is_busy(&self, id: &str) -> bool {
        self.workers.get(id).is_some_and(|w| w.shared().busy.load(Ordering::Acquire))
    }

    /// The ids of all supervised plugins.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.workers.keys().map(String::as_str)
    }

    /// Stops and removes plugin `id`: its queued jobs are dropped and its instance is thrown away
    /// (this waits for a call in progress, at most its time budget).
    pub fn remove(&mut self, id: &str) -> Result<(), PluginError> {
        let worker = self.workers.remove(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))?;
        worker.actor.removed.store(true, Ordering::Release);
        lock(&worker.actor.mailbox).clear();
        lock(&worker.actor.state).instance = None;
        Ok(())
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for worker in self.workers.values() {
            worker.actor.removed.store(true, Ordering::Release);
        }
        lock(&self.pool.queue).shutdown = true;
        self.pool.wake.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

struct WorkerLoop {
    loaded: LoadedPlugin,
    engine: PluginEngine,
    instance: Option<PluginInstance>,
    shared: Arc<Shared>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
    policy: RestartPolicy,
    consecutive: u32,
    restarts: u32,
    next_start: Instant,
}

impl WorkerLoop {
    fn handle(&mut self, job: Job) {
        match job {
            Job::Start => {
                self.ensure_instance();
            }
            Job::Replace(loaded) => self.replace(*loaded),
            Job::ReloadFrom(path) => {
                let id = self.loaded.spec().id.clone();
                let loaded = read_component(&id, &path)
                    .and_then(|bytes| LoadedPlugin::load(&self.engine, self.loaded.spec().clone(), &bytes));
                match loaded {
                    Ok(loaded) => {
                        self.replace(loaded);
                        lock(&self.shared.stats).reloads += 1;
                        tracing::info!(plugin = %id, "hot reload: the new build replaced the running instance");
                    }
                    Err(error) => {
                        lock(&self.shared.stats).failed_reloads += 1;
                        tracing::error!(plugin = %id, %error, "hot reload failed; the old version keeps running")
                    }
                }
            }
            Job::Step { now, dt_us, twin } => {
                if self.ensure_instance()
                    && let Some(instance) = &mut self.instance
                {
                    let result = instance.step(now, dt_us, twin);
                    self.finish(Call::Step, result, |outputs, updates| {
                        if outputs.updates.len() == MAX_PENDING_UPDATES {
                            outputs.updates.pop_front();
                        }
                        outputs.updates.push_back(Arc::new(updates));
                    });
                }
                self.shared.busy.store(false, Ordering::Release);
            }
            Job::Draw { now, twin } => {
                if self.ensure_instance()
                    && let Some(instance) = &mut self.instance
                {
                    let result = instance.draw(now, twin);
                    self.finish(Call::Draw, result, |outputs, frame| outputs.overlay = Some(Arc::new(frame)));
                }
                self.shared.busy.store(false, Ordering::Release);
            }
            Job::Parse { source, payload } => {
                self.shared.queued_messages.fetch_sub(1, Ordering::AcqRel);
                if self.ensure_instance()
                    && let Some(instance) = &mut self.instance
                {
                    let result = instance.parse(&source, &payload);
                    self.finish(Call::Parse, result, |outputs, out| {
                        if outputs.adapter.len() == MAX_PENDING_UPDATES {
                            outputs.adapter.pop_front();
                        }
                        outputs.adapter.push_back(Arc::new(out));
                    });
                }
            }
        }
    }

    fn replace(&mut self, loaded: LoadedPlugin) {
        self.loaded = loaded;
        self.instance = None;
        self.consecutive = 0;
        self.restarts = 0;
        self.next_start = Instant::now();
        self.shared.disabled.store(false, Ordering::Relaxed);
        *lock(&self.shared.status) = PluginStatus::Starting;
        self.ensure_instance();
    }

    /// Makes sure an instance exists (unless disabled or backing off). Returns whether one does.
    fn ensure_instance(&mut self) -> bool {
        if self.instance.is_some() {
            return true;
        }
        if self.shared.disabled.load(Ordering::Relaxed) || Instant::now() < self.next_start {
            return false;
        }
        match self.loaded.instantiate() {
            Ok(instance) => {
                self.instance = Some(instance);
                *lock(&self.shared.status) = PluginStatus::Running;
                true
            }
            Err(PluginError::Fault(fault)) => {
                self.fault(fault);
                false
            }
            Err(other) => {
                // Not the plugin's doing (e.g. the data folder vanished): disable with the reason.
                let id = self.loaded.spec().id.clone();
                tracing::error!(plugin = %id, error = %other, "cannot start plugin; disabled");
                self.disable(other.to_string());
                false
            }
        }
    }

    fn disable(&mut self, reason: String) {
        self.shared.disabled.store(true, Ordering::Relaxed);
        *lock(&self.shared.status) = PluginStatus::Disabled(reason);
    }

    fn finish<T>(&mut self, call: Call, result: Result<T, PluginError>, store: impl FnOnce(&mut Outputs, T)) {
        match result {
            Ok(value) => {
                self.consecutive = 0;
                store(&mut lock(&self.shared.outputs), value);
                lock(&self.shared.stats).completed += 1;
            }
            Err(PluginError::Fault(fault)) => self.fault(fault),
            Err(other) => {
                let id = self.loaded.spec().id.clone();
                tracing::error!(plugin = %id, %call, error = %other, "plugin call failed");
            }
        }
    }

    fn fault(&mut self, fault: PluginFault) {
        lock(&self.shared.stats).faults += 1;
        let PluginFault { plugin, call, cause } = fault;
        let action = if !cause.quarantines() {
            FaultAction::KeptRunning
        } else {
            self.instance = None;
            lock(&self.shared.outputs).overlay = None;
            self.consecutive += 1;
            if matches!(cause, FaultCause::InitFailed(_)) || self.consecutive >= self.policy.max_consecutive_faults {
                FaultAction::Disabled
            } else {
                let exponent = (self.consecutive - 1).min(16);
                let after = self.policy.initial_backoff.saturating_mul(1 << exponent).min(self.policy.max_backoff);
                self.next_start = Instant::now() + after;
                FaultAction::Restarting { after }
            }
        };
        let report =
            FaultReport { plugin_id: plugin, call, cause, at: SystemTime::now(), restarts: self.restarts, action };
        match &report.action {
            FaultAction::KeptRunning => tracing::warn!("{report}"),
            FaultAction::Restarting { .. } => {
                tracing::error!("{report}");
                self.restarts += 1;
                lock(&self.shared.stats).restarts += 1;
                *lock(&self.shared.status) = PluginStatus::Backoff;
            }
            FaultAction::Disabled => {
                tracing::error!("{report}");
                self.disable(report.to_string());
            }
        }
        let mut faults = lock(&self.faults);
        if faults.len() == MAX_FAULT_REPORTS {
            faults.pop_front();
        }
        faults.push_back(report);
    }
}
