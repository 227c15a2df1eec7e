//! The pool: the threads that run plugin actors, a fair pick of the next actor, and the watchdog
//! that gives up a thread blocked outside WebAssembly.
//!
//! - **Fair pick.** Each actor's pool time is tracked as a decayed sum (time constant [`USAGE_TAU`]):
//!   about the thread-time it used over the last second. The next actor is the ready one that used
//!   the least. An actor over its share (pool threads / plugins) is *heavy*: heavy actors may hold at
//!   most all threads but one at a time, so one thread always serves the plugins within their share
//!   and a few plugins that use their whole budget every call cannot starve the rest.
//! - **Watchdog.** A thread whose job runs past its budget plus the policy's grace (blocked in a host
//!   call or a WASI wait, where the epoch deadline cannot reach it) is given up: the plugin is
//!   disabled with a report, a new thread takes the given-up one's place, and the old thread exits
//!   when (if ever) its job returns.
//! - **Shutdown** waits at most [`SHUTDOWN_WAIT`] for the threads, then leaves the blocked ones
//!   behind, so the process exits promptly whatever the plugins do.
//!
//! Cost: picking scans the ready actors (a few dozen at most) under the queue lock; the watchdog
//! wakes every [`WATCHDOG_PERIOD`] and reads one slot per thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::worker::WorkerLoop;
use super::{FaultAction, FaultReport, Job, MAX_FAULT_REPORTS, PluginStatus, Shared, lock};
use crate::error::{Call, FaultCause, PluginError};

/// Jobs one pool thread runs for a plugin before letting other plugins have the thread.
const JOBS_PER_TURN: usize = 8;
/// Time constant of the decayed pool-time sum.
pub(crate) const USAGE_TAU: Duration = Duration::from_secs(1);
/// How often the watchdog looks at the threads.
const WATCHDOG_PERIOD: Duration = Duration::from_millis(50);
/// Longest a supervisor's drop waits for its threads.
pub(crate) const SHUTDOWN_WAIT: Duration = Duration::from_millis(500);
/// Budget of a job that compiles (a hot reload), which no plugin call limit covers.
const COMPILE_BUDGET: Duration = Duration::from_secs(60);

/// One plugin as the pool sees it: its mailbox and its instance.
pub(crate) struct Actor {
    /// The plugin id (readable while the state is locked by a running job).
    pub(crate) id: Arc<str>,
    /// The plugin's time budget per call.
    pub(crate) call_time: Duration,
    /// Its budget for `init` (the call budget and time for its entity table).
    init_time: Duration,
    pub(crate) mailbox: Mutex<VecDeque<Job>>,
    /// On the run queue or being run; a sender that flips it from false schedules the actor.
    pub(crate) scheduled: AtomicBool,
    /// Removed from the supervisor: queued jobs are dropped.
    pub(crate) removed: AtomicBool,
    pub(crate) shared: Arc<Shared>,
    /// Pool time used, decayed ([`USAGE_TAU`]): (nanoseconds, as of).
    usage: Mutex<(f64, Instant)>,
    /// The instance and its restart state; held by the pool thread running the actor.
    pub(crate) state: Mutex<WorkerLoop>,
}

impl Actor {
    pub(crate) fn new(
        id: Arc<str>,
        call_time: Duration,
        init_time: Duration,
        shared: Arc<Shared>,
        state: WorkerLoop,
    ) -> Actor {
        Actor {
            init_time,
            id,
            call_time,
            mailbox: Mutex::new(VecDeque::new()),
            scheduled: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            shared,
            usage: Mutex::new((0.0, Instant::now())),
            state: Mutex::new(state),
        }
    }

    /// Queues `job`, scheduling the actor when it was idle.
    pub(crate) fn send(self: &Arc<Self>, pool: &Pool, job: Job) {
        lock(&self.mailbox).push_back(job);
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            pool.schedule(self.clone());
        }
    }

    /// Pool nanoseconds used, decayed to `now`.
    fn usage_at(&self, now: Instant) -> f64 {
        let (used, at) = *lock(&self.usage);
        used * (-now.saturating_duration_since(at).as_secs_f64() / USAGE_TAU.as_secs_f64()).exp()
    }

    fn add_usage(&self, spent: Duration) {
        let now = Instant::now();
        let decayed = self.usage_at(now);
        *lock(&self.usage) = (decayed + spent.as_nanos() as f64, now);
    }

    /// How long `job` may take before the watchdog gives its thread up (not counting the grace).
    fn budget(&self, job: &Job) -> (Call, Duration) {
        match job {
            Job::Step { .. } => (Call::Step, self.call_time),
            Job::Draw { .. } => (Call::Draw, self.call_time),
            Job::Parse { .. } => (Call::Parse, self.call_time),
            // Instantiation and `init` run under a budget each; a first call may follow.
            Job::Start | Job::Wake | Job::Reenable | Job::Replace(_) => {
                (Call::Init, self.call_time.saturating_mul(2).saturating_add(self.init_time))
            }
            Job::ReloadFrom(_) => (Call::Instantiate, COMPILE_BUDGET),
        }
    }

    /// Runs up to [`JOBS_PER_TURN`] jobs, each watched through `slot`. Returns whether the actor must
    /// go back on the run queue.
    fn run_turn(self: &Arc<Self>, slot: &ThreadSlot) -> bool {
        let started = Instant::now();
        let mut state = lock(&self.state);
        for _ in 0..JOBS_PER_TURN {
            let Some(job) = lock(&self.mailbox).pop_front() else { break };
            if self.removed.load(Ordering::Acquire) {
                continue;
            }
            let (call, budget) = self.budget(&job);
            // A view built elsewhere is waited for before the call's time starts (not the plugin's).
            job.prepare_view();
            *lock(&slot.running) = Some(Running { actor: self.clone(), call, since: Instant::now(), budget });
            state.handle(job);
            *lock(&slot.running) = None;
            if slot.abandoned.load(Ordering::Acquire) {
                break;
            }
        }
        drop(state);
        self.add_usage(started.elapsed());
        if !lock(&self.mailbox).is_empty() {
            return true; // still scheduled; the caller re-queues it
        }
        self.scheduled.store(false, Ordering::Release);
        // A job pushed between the emptiness check and the store saw `scheduled` set and did not
        // schedule: take the actor back if so (unless its sender already did).
        !lock(&self.mailbox).is_empty() && !self.scheduled.swap(true, Ordering::AcqRel)
    }
}

/// The job a thread is running, for the watchdog.
struct Running {
    actor: Arc<Actor>,
    call: Call,
    since: Instant,
    budget: Duration,
}

/// What one pool thread is doing.
#[derive(Default)]
pub(crate) struct ThreadSlot {
    running: Mutex<Option<Running>>,
    /// Given up by the watchdog: the thread exits when its job returns.
    abandoned: AtomicBool,
}

/// The run queue and the pool threads' bookkeeping.
#[derive(Default)]
struct RunQueue {
    ready: VecDeque<Arc<Actor>>,
    /// Pool threads waiting on the condition variable.
    sleeping: usize,
    /// Wake-ups sent and not yet taken (so a burst of submissions wakes each sleeper once).
    waking: usize,
    /// Live pool threads (not given up).
    threads: usize,
    /// Threads running a heavy actor now.
    running_heavy: usize,
    /// Plugins in the supervisor (for each one's share of the pool).
    plugins: usize,
    shutdown: bool,
}

/// The pool threads and their run queue.
pub(crate) struct Pool {
    queue: Mutex<RunQueue>,
    wake: Condvar,
    slots: Mutex<Vec<Arc<ThreadSlot>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Signalled by each thread as it exits.
    exited: Condvar,
    live: Mutex<usize>,
    faults: Arc<Mutex<VecDeque<FaultReport>>>,
    grace: Duration,
    watchdog: Mutex<Option<JoinHandle<()>>>,
}

impl Pool {
    pub(crate) fn new(faults: Arc<Mutex<VecDeque<FaultReport>>>, grace: Duration) -> Pool {
        Pool {
            queue: Mutex::new(RunQueue::default()),
            wake: Condvar::new(),
            slots: Mutex::new(Vec::new()),
            handles: Mutex::new(Vec::new()),
            exited: Condvar::new(),
            live: Mutex::new(0),
            faults,
            grace,
            watchdog: Mutex::new(None),
        }
    }

    /// Live pool threads.
    pub(crate) fn threads(&self) -> usize {
        lock(&self.queue).threads
    }

    /// Counts a plugin in (`+1`) or out (`-1`) of the shares.
    pub(crate) fn count_plugin(&self, delta: isize) {
        let mut queue = lock(&self.queue);
        queue.plugins = queue.plugins.saturating_add_signed(delta);
    }

    /// Starts one more pool thread (and the watchdog with the first).
    pub(crate) fn spawn_thread(self: &Arc<Self>) -> Result<(), PluginError> {
        let slot = Arc::new(ThreadSlot::default());
        let index = lock(&self.slots).len();
        let pool = self.clone();
        let thread_slot = slot.clone();
        let handle = std::thread::Builder::new()
            .name(format!("sangam-plugins-{index}"))
            .spawn(move || pool.run(&thread_slot))
            .map_err(|e| PluginError::Engine(format!("cannot start a plugin worker thread: {e}")))?;
        lock(&self.slots).push(slot);
        lock(&self.handles).push(handle);
        *lock(&self.live) += 1;
        lock(&self.queue).threads += 1;
        let mut watchdog = lock(&self.watchdog);
        if watchdog.is_none() {
            let weak = Arc::downgrade(self);
            let handle = std::thread::Builder::new()
                .name("sangam-plugins-watchdog".into())
                .spawn(move || {
                    while let Some(pool) = weak.upgrade() {
                        if lock(&pool.queue).shutdown {
                            break;
                        }
                        pool.watch();
                        drop(pool);
                        std::thread::park_timeout(WATCHDOG_PERIOD);
                    }
                })
                .map_err(|e| PluginError::Engine(format!("cannot start the plugin watchdog thread: {e}")))?;
            *watchdog = Some(handle);
        }
        Ok(())
    }

    pub(crate) fn schedule(&self, actor: Arc<Actor>) {
        let mut queue = lock(&self.queue);
        queue.ready.push_back(actor);
        if queue.sleeping > queue.waking {
            queue.waking += 1;
            self.wake.notify_one();
        }
    }

    /// The next actor to run and whether it is heavy, or None at shutdown (or when this thread was
    /// given up).
    fn next(&self, slot: &ThreadSlot) -> Option<(Arc<Actor>, bool)> {
        let mut queue = lock(&self.queue);
        loop {
            if queue.shutdown || slot.abandoned.load(Ordering::Acquire) {
                return None;
            }
            let mut deferred = false;
            if !queue.ready.is_empty() {
                let now = Instant::now();
                // Each plugin's share of the pool, as decayed thread-nanoseconds.
                let share = queue.threads.max(1) as f64 / queue.plugins.max(1) as f64 * USAGE_TAU.as_nanos() as f64;
                let (mut best, mut best_usage) = (0, f64::INFINITY);
                for (i, actor) in queue.ready.iter().enumerate() {
                    let usage = actor.usage_at(now);
                    if usage < best_usage {
                        (best, best_usage) = (i, usage);
                    }
                }
                let heavy = best_usage > share;
                // Heavy actors never take the last thread: it stays for the plugins within share.
                if !heavy || queue.threads <= 1 || queue.running_heavy + 1 < queue.threads {
                    let actor = queue.ready.remove(best)?;
                    if heavy {
                        queue.running_heavy += 1;
                    }
                    return Some((actor, heavy));
                }
                deferred = true;
            }
            queue.sleeping += 1;
            queue = if deferred {
                // Usage decays: look again soon, or when something new is scheduled.
                self.wake.wait_timeout(queue, Duration::from_millis(5)).map_or_else(|p| p.into_inner().0, |r| r.0)
            } else {
                self.wake.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner())
            };
            queue.sleeping -= 1;
            queue.waking = queue.waking.saturating_sub(1);
        }
    }

    fn run(self: Arc<Self>, slot: &ThreadSlot) {
        while let Some((actor, heavy)) = self.next(slot) {
            // A panic in host code must not take a pool thread (and every plugin it would run) down:
            // it disables that one plugin instead.
            let again = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| actor.run_turn(slot))) {
                Ok(again) => again,
                Err(_) => {
                    *lock(&slot.running) = None;
                    let reason = "the host panicked while running this plugin (a Sangam bug; see the log)";
                    tracing::error!(plugin = %actor.id, "{reason}");
                    actor.shared.disabled.store(true, Ordering::Relaxed);
                    actor.shared.busy.store(false, Ordering::Release);
                    *lock(&actor.shared.status) = PluginStatus::Disabled(reason.into());
                    lock(&actor.mailbox).clear();
                    actor.scheduled.store(false, Ordering::Release);
                    false
                }
            };
            if heavy {
                let mut queue = lock(&self.queue);
                queue.running_heavy = queue.running_heavy.saturating_sub(1);
            }
            if again {
                self.schedule(actor);
            }
        }
        *lock(&self.live) -= 1;
        self.exited.notify_all();
    }

    /// The watchdog's look: gives up every thread whose job is past its budget plus the grace.
    fn watch(self: &Arc<Self>) {
        let slots: Vec<Arc<ThreadSlot>> = lock(&self.slots).clone();
        for slot in slots {
            let blocked = {
                let running = lock(&slot.running);
                match &*running {
                    Some(job) if job.since.elapsed() > job.budget + self.grace => {
                        Some((job.actor.clone(), job.call, job.budget))
                    }
                    _ => None,
                }
            };
            let Some((actor, call, budget)) = blocked else { continue };
            if slot.abandoned.swap(true, Ordering::AcqRel) {
                continue;
            }
            lock(&self.queue).threads -= 1;
            let cause = FaultCause::Blocked { budget, grace: self.grace };
            let report = FaultReport {
                plugin_id: actor.id.to_string(),
                call,
                cause,
                at: SystemTime::now(),
                restarts: 0,
                action: FaultAction::Disabled,
            };
            tracing::error!("{report}");
            actor.shared.disabled.store(true, Ordering::Release);
            *lock(&actor.shared.status) = PluginStatus::Disabled(report.to_string());
            lock(&actor.mailbox).clear();
            {
                let mut faults = lock(&self.faults);
                if faults.len() == MAX_FAULT_REPORTS {
                    faults.pop_front();
                }
                faults.push_back(report);
            }
            lock(&actor.shared.stats).faults += 1;
            if let Err(error) = self.spawn_thread() {
                tracing::error!(%error, "cannot replace a blocked plugin worker thread");
            }
        }
    }

    /// Stops the threads: waits up to [`SHUTDOWN_WAIT`] for them to finish their jobs, then leaves
    /// the ones still blocked behind (they end with the process).
    pub(crate) fn shutdown(&self) {
        lock(&self.queue).shutdown = true;
        self.wake.notify_all();
        let watchdog = lock(&self.watchdog).take();
        if let Some(watchdog) = watchdog {
            watchdog.thread().unpark();
            let _ = watchdog.join();
        }
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        let mut live = lock(&self.live);
        while *live > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    threads = *live,
                    "plugin worker threads still busy at shutdown; leaving them (they end with the process)"
                );
                break;
            }
            live = self.exited.wait_timeout(live, left).map_or_else(|p| p.into_inner().0, |r| r.0);
        }
        let finished = *live == 0;
        drop(live);
        let handles: Vec<JoinHandle<()>> = lock(&self.handles).drain(..).collect();
        for handle in handles {
            if finished || handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}
