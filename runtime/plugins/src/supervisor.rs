//! The supervisor: runs every plugin instance on its own worker thread, hands the frame loop the
//! newest completed output without ever blocking it, quarantines and restarts faulty instances with
//! exponential backoff, and hot-reloads plugins.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
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

enum Job {
    Step { now: i64, dt_us: i64, twin: Arc<dyn TwinView> },
    Draw { now: i64, twin: Arc<dyn TwinView> },
    Parse { source: SourceInfo, payload: Vec<u8> },
    Replace(Box<LoadedPlugin>),
    Start,
    Shutdown,
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Worker {
    tx: Sender<Job>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    spec: PluginSpec,
    source: Option<(PathBuf, Option<SystemTime>)>,
}

/// Runs plugins on worker threads. All methods but [`Supervisor::add`] and [`Supervisor::reload`]
/// (which compile) return at once: they are safe to call from the frame loop.
pub struct Supervisor {
    engine: PluginEngine,
    policy: RestartPolicy,
    workers: HashMap<String, Worker>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("plugins", &self.workers.keys().collect::<Vec<_>>()).finish()
    }
}

impl Supervisor {
    /// A supervisor over `engine` with `policy`.
    pub fn new(engine: PluginEngine, policy: RestartPolicy) -> Self {
        Supervisor { engine, policy, workers: HashMap::new(), faults: Arc::new(Mutex::new(VecDeque::new())) }
    }

    /// The engine.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Loads `component` for `spec` (compiling on this thread, or loading from the cache) and starts
    /// its worker, which instantiates it.
    pub fn add(&mut self, spec: PluginSpec, component: &[u8]) -> Result<(), PluginError> {
        if self.workers.contains_key(&spec.id) {
            return Err(PluginError::DuplicatePlugin(spec.id));
        }
        let loaded = LoadedPlugin::load(&self.engine, spec.clone(), component)?;
        let shared = Arc::new(Shared {
            busy: AtomicBool::new(false),
            queued_messages: AtomicU64::new(0),
            disabled: AtomicBool::new(false),
            outputs: Mutex::new(Outputs::default()),
            status: Mutex::new(PluginStatus::Starting),
            stats: Mutex::new(PluginStats::default()),
        });
        let (tx, rx) = channel();
        let mut run = WorkerLoop {
            loaded,
            instance: None,
            shared: shared.clone(),
            faults: self.faults.clone(),
            policy: self.policy,
            consecutive: 0,
            restarts: 0,
            next_start: Instant::now(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("plugin:{}", spec.id))
            .spawn(move || run.run(rx))
            .map_err(|e| PluginError::Engine(format!("cannot start a worker thread for plugin `{}`: {e}", spec.id)))?;
        // Instantiate right away (a draw/step would also do it) so faults in init show up early.
        let _ = tx.send(Job::Start);
        self.workers.insert(spec.id.clone(), Worker { tx, shared, thread: Some(thread), spec, source: None });
        Ok(())
    }

    /// Like [`Supervisor::add`], reading the component from `path` and remembering it for
    /// [`Supervisor::poll_reload`] (dev-mode hot reload).
    pub fn add_file(&mut self, spec: PluginSpec, path: impl Into<PathBuf>) -> Result<(), PluginError> {
        let path = path.into();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let bytes = std::fs::read(&path).map_err(|e| PluginError::Compile {
            plugin: spec.id.clone(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        let id = spec.id.clone();
        self.add(spec, &bytes)?;
        if let Some(worker) = self.workers.get_mut(&id) {
            worker.source = Some((path, modified));
        }
        Ok(())
    }

    /// Replaces plugin `id` with `component` (same spec): the new version is compiled here, then the
    /// worker swaps it in between calls. Other plugins are not touched. On error the old version
    /// keeps running.
    pub fn reload(&mut self, id: &str, component: &[u8]) -> Result<(), PluginError> {
        let worker = self.workers.get(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))?;
        let loaded = LoadedPlugin::load(&self.engine, worker.spec.clone(), component)?;
        worker.shared.disabled.store(false, Ordering::Relaxed);
        let _ = worker.tx.send(Job::Replace(Box::new(loaded)));
        tracing::info!(plugin = id, "plugin reloaded");
        Ok(())
    }

    /// Dev mode: reloads every plugin added with [`Supervisor::add_file`] whose file changed since
    /// the last look (by modification time). Returns the ids reloaded; errors are logged and the old
    /// versions keep running.
    pub fn poll_reload(&mut self) -> Vec<String> {
        let mut changed = Vec::new();
        for (id, worker) in &mut self.workers {
            let Some((path, seen)) = &mut worker.source else { continue };
            let modified = std::fs::metadata(&*path).and_then(|m| m.modified()).ok();
            if modified.is_some() && modified != *seen {
                *seen = modified;
                changed.push((id.clone(), path.clone()));
            }
        }
        let mut reloaded = Vec::new();
        for (id, path) in changed {
            match std::fs::read(&path) {
                Ok(bytes) => match self.reload(&id, &bytes) {
                    Ok(()) => reloaded.push(id),
                    Err(error) => {
                        tracing::error!(plugin = %id, %error, "hot reload failed; the old version keeps running")
                    }
                },
                Err(error) => tracing::error!(plugin = %id, path = %path.display(), %error, "hot reload: cannot read"),
            }
        }
        reloaded
    }

    fn worker(&self, id: &str) -> Result<&Worker, PluginError> {
        self.workers.get(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))
    }

    fn submit_exclusive(&self, id: &str, job: Job) -> Result<Submit, PluginError> {
        let worker = self.worker(id)?;
        if worker.shared.disabled.load(Ordering::Relaxed) {
            return Ok(Submit::Disabled);
        }
        if worker.shared.busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            lock(&worker.shared.stats).late += 1;
            return Ok(Submit::Skipped);
        }
        if worker.tx.send(job).is_err() {
            worker.shared.busy.store(false, Ordering::Release);
            return Ok(Submit::Disabled);
        }
        Ok(Submit::Queued)
    }

    /// Submits one simulation tick. Never blocks: if the previous step is still running, the tick is
    /// skipped and counted as late.
    pub fn submit_step(&self, id: &str, now: i64, dt_us: i64, twin: Arc<dyn TwinView>) -> Result<Submit, PluginError> {
        self.submit_exclusive(id, Job::Step { now, dt_us, twin })
    }

    /// Asks an overlay for a new frame. Never blocks: skipped (late) while the previous draw runs.
    pub fn request_draw(&self, id: &str, now: i64, twin: Arc<dyn TwinView>) -> Result<Submit, PluginError> {
        self.submit_exclusive(id, Job::Draw { now, twin })
    }

    /// Queues one message for an adapter. Never blocks: refused (`Skipped`) when
    /// [`MAX_QUEUED_MESSAGES`] are already waiting.
    pub fn submit_message(&self, id: &str, source: SourceInfo, payload: Vec<u8>) -> Result<Submit, PluginError> {
        let worker = self.worker(id)?;
        if worker.shared.disabled.load(Ordering::Relaxed) {
            return Ok(Submit::Disabled);
        }
        if worker.shared.queued_messages.fetch_add(1, Ordering::AcqRel) >= MAX_QUEUED_MESSAGES {
            worker.shared.queued_messages.fetch_sub(1, Ordering::AcqRel);
            lock(&worker.shared.stats).late += 1;
            return Ok(Submit::Skipped);
        }
        if worker.tx.send(Job::Parse { source, payload }).is_err() {
            return Ok(Submit::Disabled);
        }
        Ok(Submit::Queued)
    }

    /// The newest completed overlay frame of `id` (latched: stays until a newer one replaces it, and
    /// is cleared when the plugin faults).
    pub fn latest_overlay(&self, id: &str) -> Option<Arc<OverlayFrame>> {
        self.workers.get(id).and_then(|w| lock(&w.shared.outputs).overlay.clone())
    }

    /// Takes the completed simulation update batches of `id`, oldest first.
    pub fn drain_updates(&self, id: &str) -> Vec<Arc<PropertyUpdates>> {
        self.workers.get(id).map(|w| lock(&w.shared.outputs).updates.drain(..).collect()).unwrap_or_default()
    }

    /// Takes the completed adapter outputs of `id`, oldest first.
    pub fn drain_adapter_outputs(&self, id: &str) -> Vec<Arc<AdapterOutput>> {
        self.workers.get(id).map(|w| lock(&w.shared.outputs).adapter.drain(..).collect()).unwrap_or_default()
    }

    /// Takes the fault reports since the last call, oldest first.
    pub fn drain_faults(&self) -> Vec<FaultReport> {
        lock(&self.faults).drain(..).collect()
    }

    /// The status of `id`.
    pub fn status(&self, id: &str) -> Option<PluginStatus> {
        self.workers.get(id).map(|w| lock(&w.shared.status).clone())
    }

    /// The counters of `id`.
    pub fn stats(&self, id: &str) -> Option<PluginStats> {
        self.workers.get(id).map(|w| *lock(&w.shared.stats))
    }

    /// Whether a call of `id` is running or queued.
    pub fn is_busy(&self, id: &str) -> bool {
        self.workers.get(id).is_some_and(|w| w.shared.busy.load(Ordering::Acquire))
    }

    /// The ids of all supervised plugins.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.workers.keys().map(String::as_str)
    }

    /// Stops and removes plugin `id` (waits for its current call, at most its time budget).
    pub fn remove(&mut self, id: &str) -> Result<(), PluginError> {
        let mut worker = self.workers.remove(id).ok_or_else(|| PluginError::UnknownPlugin(id.to_owned()))?;
        stop(&mut worker);
        Ok(())
    }
}

fn stop(worker: &mut Worker) {
    let _ = worker.tx.send(Job::Shutdown);
    if let Some(thread) = worker.thread.take() {
        let _ = thread.join();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for worker in self.workers.values() {
            let _ = worker.tx.send(Job::Shutdown);
        }
        for worker in self.workers.values_mut() {
            stop(worker);
        }
    }
}

struct WorkerLoop {
    loaded: LoadedPlugin,
    instance: Option<PluginInstance>,
    shared: Arc<Shared>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
    policy: RestartPolicy,
    consecutive: u32,
    restarts: u32,
    next_start: Instant,
}

impl WorkerLoop {
    fn run(&mut self, rx: Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            match job {
                Job::Shutdown => break,
                Job::Start => {
                    self.ensure_instance();
                }
                Job::Replace(loaded) => {
                    self.loaded = *loaded;
                    self.instance = None;
                    self.consecutive = 0;
                    self.restarts = 0;
                    self.next_start = Instant::now();
                    self.shared.disabled.store(false, Ordering::Relaxed);
                    *lock(&self.shared.status) = PluginStatus::Starting;
                    self.ensure_instance();
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
