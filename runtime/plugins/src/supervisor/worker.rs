//! One supervised plugin on the pool: its loaded build, its live instance, and what happens when it
//! faults. Faults and returned errors are counted over the policy's sliding window: the backoff
//! doubles with each fault in the window and the plugin is disabled at the window's limit, however
//! many good calls come between (a plugin that behaves once after each restart cannot restart
//! forever). Cost: a few pushes and pops on two short queues per fault; nothing per good call.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::{
    FaultAction, FaultReport, Job, MAX_FAULT_REPORTS, MAX_PENDING_UPDATES, Outputs, PluginStatus, RestartPolicy,
    Shared, lock, read_component,
};
use crate::engine::PluginEngine;
use crate::error::{Call, FaultCause, PluginError, PluginFault};
use crate::instance::{LoadedPlugin, PluginInstance};
use crate::output::Raster;
use crate::twin::{BatchView, TwinView};

/// A plugin's instance and restart state, run by one pool thread at a time.
pub(crate) struct WorkerLoop {
    loaded: LoadedPlugin,
    engine: PluginEngine,
    instance: Option<PluginInstance>,
    shared: Arc<Shared>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
    policy: RestartPolicy,
    /// When the faults of the current window happened (at most `max_faults_in_window`).
    fault_times: VecDeque<Instant>,
    /// When the returned errors of the current window happened (at most `max_errors_in_window`).
    error_times: VecDeque<Instant>,
    restarts: u32,
    next_start: Instant,
}

/// Records `at` in `times`, forgets entries older than `window`, and returns how many remain.
fn count_in_window(times: &mut VecDeque<Instant>, at: Instant, window: Duration, cap: u32) -> u32 {
    while times.front().is_some_and(|&t| at.duration_since(t) > window) {
        times.pop_front();
    }
    times.push_back(at);
    while times.len() > cap.max(1) as usize {
        times.pop_front();
    }
    times.len() as u32
}

impl WorkerLoop {
    pub(crate) fn new(
        loaded: LoadedPlugin,
        engine: PluginEngine,
        shared: Arc<Shared>,
        faults: Arc<Mutex<VecDeque<FaultReport>>>,
        policy: RestartPolicy,
    ) -> WorkerLoop {
        WorkerLoop {
            loaded,
            engine,
            instance: None,
            shared,
            faults,
            policy,
            fault_times: VecDeque::new(),
            error_times: VecDeque::new(),
            restarts: 0,
            next_start: Instant::now(),
        }
    }

    /// Throws the live instance away (a removed plugin).
    pub(crate) fn drop_instance(&mut self) {
        self.instance = None;
    }

    pub(crate) fn handle(&mut self, job: Job) {
        match job {
            Job::Start => {
                self.ensure_instance();
            }
            Job::Wake => {
                self.ensure_instance();
                self.shared.busy.store(false, Ordering::Release);
            }
            Job::Reenable => {
                self.fault_times.clear();
                self.error_times.clear();
                self.next_start = Instant::now();
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
            Job::Step { now, dt_us, count, twin } => {
                // Later steps of a batch read the earlier steps' output laid over the batch's view.
                let entity_count = u32::try_from(self.loaded.spec().entities.ids.len()).unwrap_or(u32::MAX);
                let mut view = (count > 1).then(|| Arc::new(BatchView::new(twin.clone(), entity_count)));
                for k in 0..i64::from(count) {
                    if !self.ensure_instance() {
                        break;
                    }
                    let Some(instance) = &mut self.instance else { break };
                    let read: Arc<dyn TwinView> = match &view {
                        Some(v) => v.clone(),
                        None => twin.clone(),
                    };
                    let result = instance.step(now.saturating_add(dt_us.saturating_mul(k)), dt_us, read).map(Arc::new);
                    let rasters = instance.take_rasters();
                    if !rasters.is_empty() {
                        latch_rasters(&mut lock(&self.shared.outputs).rasters, rasters);
                    }
                    let updates = result.as_ref().ok().cloned();
                    let failed = result.is_err();
                    self.finish(Call::Step, result, |outputs, updates| {
                        let full = outputs.updates.len() == MAX_PENDING_UPDATES;
                        if full {
                            outputs.updates.pop_front();
                        }
                        outputs.updates.push_back(updates);
                        full
                    });
                    if failed {
                        break;
                    }
                    // The call released its view, so the batch holds the only reference.
                    match (view.as_mut().map(Arc::get_mut), &updates) {
                        (Some(Some(v)), Some(u)) if k + 1 < i64::from(count) => v.lay(u),
                        (Some(None), _) => break,
                        _ => {}
                    }
                }
                self.shared.busy.store(false, Ordering::Release);
            }
            Job::Draw { now, twin } => {
                if self.ensure_instance()
                    && let Some(instance) = &mut self.instance
                {
                    let result = instance.draw(now, twin);
                    // Latched: a newer frame replaces the last one (nothing queues).
                    self.finish(Call::Draw, result, |outputs, frame| {
                        outputs.overlay = Some(Arc::new(frame));
                        false
                    });
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
                        let full = outputs.adapter.len() == MAX_PENDING_UPDATES;
                        if full {
                            outputs.adapter.pop_front();
                        }
                        outputs.adapter.push_back(Arc::new(out));
                        full
                    });
                }
            }
        }
    }

    fn replace(&mut self, loaded: LoadedPlugin) {
        self.loaded = loaded;
        self.instance = None;
        self.fault_times.clear();
        self.error_times.clear();
        self.restarts = 0;
        self.next_start = Instant::now();
        self.shared.disabled.store(false, Ordering::Relaxed);
        *lock(&self.shared.status) = PluginStatus::Starting;
        self.ensure_instance();
    }

    /// Makes sure an instance exists (unless disabled or backing off). Returns whether one does.
    fn ensure_instance(&mut self) -> bool {
        if self.shared.disabled.load(Ordering::Acquire) {
            // Disabled while the instance was live (the watchdog gave up a blocked call): drop it.
            self.instance = None;
            return false;
        }
        if self.instance.is_some() {
            return true;
        }
        if Instant::now() < self.next_start {
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

    /// Stores a completed call's output with `store` (which says whether it had to drop the oldest
    /// waiting one), or handles its fault.
    fn finish<T>(&mut self, call: Call, result: Result<T, PluginError>, store: impl FnOnce(&mut Outputs, T) -> bool) {
        match result {
            Ok(value) => {
                // A good call does not reset the fault window: a plugin that faults after every
                // restart still backs off and is disabled.
                let dropped = store(&mut lock(&self.shared.outputs), value);
                let mut stats = lock(&self.shared.stats);
                stats.completed += 1;
                if dropped {
                    stats.dropped_outputs += 1;
                    // The first drop and every 100th after: counted always, logged without flooding.
                    if stats.dropped_outputs % 100 == 1 {
                        let (id, n) = (self.loaded.spec().id.clone(), stats.dropped_outputs);
                        tracing::warn!(plugin = %id, dropped = n, "{MAX_PENDING_UPDATES} outputs were waiting for the frame loop: the oldest was dropped");
                    }
                }
            }
            Err(PluginError::Fault(fault)) => self.fault(fault),
            Err(other) => {
                let id = self.loaded.spec().id.clone();
                tracing::error!(plugin = %id, %call, error = %other, "plugin call failed");
            }
        }
    }

    fn fault(&mut self, fault: PluginFault) {
        if self.shared.disabled.load(Ordering::Acquire) {
            // The watchdog disabled the plugin while this call was blocked, and reported it: the
            // late end of that call is not a second fault.
            self.instance = None;
            return;
        }
        lock(&self.shared.stats).faults += 1;
        let PluginFault { plugin, call, mut cause } = fault;
        let now = Instant::now();
        let policy = self.policy;
        if let FaultCause::Returned(message) = &cause {
            let errors = count_in_window(&mut self.error_times, now, policy.fault_window, policy.max_errors_in_window);
            if errors < policy.max_errors_in_window {
                // Only the first error of a window is reported; the rest are counted.
                if errors == 1 {
                    self.report(FaultReport {
                        plugin_id: plugin,
                        call,
                        cause,
                        at: SystemTime::now(),
                        restarts: self.restarts,
                        action: FaultAction::KeptRunning,
                    });
                }
                return;
            }
            self.error_times.clear();
            cause = FaultCause::TooManyErrors { count: errors, window: policy.fault_window, last: message.clone() };
        }
        self.instance = None;
        lock(&self.shared.outputs).overlay = None;
        let faults = count_in_window(&mut self.fault_times, now, policy.fault_window, policy.max_faults_in_window);
        let action = if matches!(cause, FaultCause::InitFailed(_)) || faults >= policy.max_faults_in_window {
            FaultAction::Disabled
        } else {
            let exponent = (faults - 1).min(16);
            let after = policy.initial_backoff.saturating_mul(1 << exponent).min(policy.max_backoff);
            self.next_start = now + after;
            FaultAction::Restarting { after }
        };
        self.report(FaultReport {
            plugin_id: plugin,
            call,
            cause,
            at: SystemTime::now(),
            restarts: self.restarts,
            action,
        });
    }

    /// Logs `report` (once, on this pool thread), acts on it and queues it for the screen.
    fn report(&mut self, report: FaultReport) {
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
                if let Some(after) = self.policy.reenable_after {
                    *lock(&self.shared.reenable_at) = Some(Instant::now() + after);
                }
            }
        }
        let mut faults = lock(&self.faults);
        if faults.len() == MAX_FAULT_REPORTS {
            faults.pop_front();
        }
        faults.push_back(report);
    }
}

/// Keeps the newest map of each layer: a map replaces its layer's earlier one in place, a new layer
/// goes last (at most [`crate::output::MAX_RASTER_LAYERS`], which the instance enforces).
fn latch_rasters(latched: &mut Vec<Arc<Raster>>, rasters: Vec<Raster>) {
    for raster in rasters {
        match latched.iter_mut().find(|r| r.layer == raster.layer) {
            Some(slot) => *slot = Arc::new(raster),
            None => latched.push(Arc::new(raster)),
        }
    }
}
