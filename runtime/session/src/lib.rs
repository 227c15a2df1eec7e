//! `sangam-session`: the running twin. A [`Session`] owns the twin store, the clock (with the
//! playhead), the plugin schedule and the sources' inbox, and has one [`Session::tick`] that every
//! front end (headless, window, XR, tests, benchmarks) calls once per frame; none keeps its own copy
//! of the sequence. No GPU, no window, no OpenXR here: a front end draws what the session holds at
//! [`Session::display_time`] (the store's values then, the overlay plugins' frames drawn for then).
//!
//! One tick, in order (docs/architecture.md has the picture):
//! 1. the clock advances by the frame's real time × rate in fixed steps, at most its catch-up budget,
//!    and never more than a running simulation can follow ([`plugins::LivePlugins::clock_limit`]);
//!    time it does not run is reported ([`TickReport::slowed`]) and never lost unsaid;
//! 2. the plugin schedule: inbox messages to adapters, the simulation steps due (in catch-up
//!    batches), overlay draws at the displayed time, completed outputs applied to the store;
//! 3. the report: times, steps, what held the clock, plugin work and faults, messages waiting.
//!
//! A tick never waits on a plugin, the disk or the network. Its cost on the frame thread is the
//! submissions (a mutex push each), the snapshots of plugins that took a submission, and applying
//! completed outputs.
//!
//! - [`time`]: the clock and the playhead, and the commands of every front end.
//! - [`plugins`]: the scene's plugins under supervision and their schedule.
//! - [`inbox`]: messages from sources waiting for their adapter, bounded, never dropped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod inbox;
pub mod plugins;
pub mod time;

use std::time::Duration;

use anyhow::{Context, Result};
use sangam_twin::{ClockError, Scene as TwinScene, SimTime, TwinStore};

pub use inbox::{Inbox, InboxStats, Message, OfferError};
pub use plugins::{LivePlugins, PluginTick};
pub use time::{TimeCommand, TimeControl, TimeEvent};

/// What one [`Session::tick`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TickReport {
    /// Live simulation time after the tick.
    pub sim_time: SimTime,
    /// The time the twin is shown at (the playhead when scrubbed, else live).
    pub display_time: SimTime,
    /// Fixed clock steps run this tick.
    pub steps: u32,
    /// Simulated time the clock did not run this tick (past the catch-up budget, or held back by a
    /// simulation that has not kept up): the clock ran slower than its rate by this much.
    pub slowed: Duration,
    /// The simulation that held the clock back, when one did.
    pub held_by: Option<String>,
    /// The clock looped back to its start.
    pub wrapped: bool,
    /// The clock reached its stop and paused.
    pub at_end: bool,
    /// The plugins' work.
    pub plugins: PluginTick,
    /// Messages waiting in the inbox after the tick.
    pub inbox_waiting: usize,
}

/// Totals over a session's life, for `--stats` and the screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionTotals {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks in which the clock ran slower than its rate.
    pub slowed_ticks: u64,
    /// Simulation steps submitted to plugins.
    pub steps_submitted: u64,
    /// Property values applied to the store.
    pub values_applied: u64,
    /// Property values refused by the store.
    pub values_refused: u64,
    /// Messages handed to adapters.
    pub messages_delivered: u64,
}

/// The running twin: store, time, plugins, inbox.
pub struct Session {
    store: TwinStore,
    time: TimeControl,
    plugins: LivePlugins,
    inbox: Inbox,
    totals: SessionTotals,
    last_held_by: Option<String>,
}

impl Session {
    /// A session of `scene`: its entities in the store at the clock's start, its clock, its plugins
    /// loaded and started (all disk and compile work happens here), recorded feeds in the inbox.
    pub fn load(scene: &TwinScene) -> Result<Session> {
        let plugins = LivePlugins::load(scene)?;
        Session::with_plugins(scene, plugins)
    }

    /// A session of `scene` running `plugins` (already loaded for it).
    pub fn with_plugins(scene: &TwinScene, mut plugins: LivePlugins) -> Result<Session> {
        let clock = scene.clock.build().with_context(|| format!("{}: [clock]", scene.path.display()))?;
        // A budget that cannot hold the scene's own properties is an error now, not an OOM later.
        let series = scene.entities.iter().map(|e| e.properties.len()).sum();
        TwinStore::check_budget(scene.history.budget_bytes, series)
            .with_context(|| format!("{}: [history]", scene.path.display()))?;
        let mut store = TwinStore::with_budget(scene.history.budget_bytes);
        for e in &scene.entities {
            store.add_entity(clock.start(), e.clone()).with_context(|| format!("{}", scene.path.display()))?;
        }
        let mut inbox = Inbox::new(plugins.adapter_ids());
        for (adapter, message) in plugins.take_feeds() {
            // A fresh inbox holds one feed per adapter whatever its size.
            if let Err(e) = inbox.offer(&adapter, message) {
                anyhow::bail!("{}: plugin `{adapter}`: the recorded feed cannot be queued: {e}", scene.path.display());
            }
        }
        Ok(Session {
            store,
            time: TimeControl::new(clock),
            plugins,
            inbox,
            totals: SessionTotals::default(),
            last_held_by: None,
        })
    }

    /// One tick: advance the clock by `real_dt` (as far as the simulations can follow), run the
    /// plugin schedule, report. Never waits on a plugin.
    pub fn tick(&mut self, real_dt: Duration) -> TickReport {
        let budget = self.time.clock().max_steps();
        let (limit, held_by) = match self.plugins.clock_limit(budget) {
            Some((limit, id)) => (limit, Some(id.to_string())),
            None => (SimTime(i64::MAX), None),
        };
        let advance = self.time.advance_within(real_dt, limit);
        let now = self.time.clock().now();
        if advance.wrapped {
            self.plugins.rewind(now);
        }
        let display = self.time.display_time();
        let plugins = self.plugins.tick(now, display, budget, &mut self.store, &mut self.inbox);
        // The limit held the clock only when it stopped it short of what the rate asked.
        let held = !advance.slowed.is_zero() && now >= limit;
        let report = TickReport {
            sim_time: now,
            display_time: display,
            steps: advance.steps,
            slowed: advance.slowed,
            held_by: if held { held_by } else { None },
            wrapped: advance.wrapped,
            at_end: advance.at_end,
            inbox_waiting: self.inbox.total_waiting(),
            plugins,
        };
        let t = &mut self.totals;
        t.ticks += 1;
        t.slowed_ticks += u64::from(!report.slowed.is_zero());
        t.steps_submitted += report.plugins.steps_submitted as u64;
        t.values_applied += report.plugins.values_applied as u64;
        t.values_refused += report.plugins.values_refused as u64;
        t.messages_delivered += report.plugins.messages_delivered as u64;
        if !report.slowed.is_zero() {
            // The latest reason the clock ran slower, for the stats line.
            self.last_held_by = report.held_by.clone();
        }
        report
    }

    /// Carries out a time command from a front end; `Err` when a rate is out of range.
    pub fn command(&mut self, command: TimeCommand) -> Result<Option<TimeEvent>, ClockError> {
        let before = self.time.clock().now();
        let event = self.time.command(command)?;
        if self.time.clock().now() < before {
            // A single step that looped back to the start.
            self.plugins.rewind(self.time.clock().now());
        }
        Ok(event)
    }

    /// Offers a message from a source to `adapter`'s inbox; a full inbox hands it back (the source
    /// waits and offers it again).
    pub fn offer(&mut self, adapter: &str, message: Message) -> Result<(), OfferError> {
        self.inbox.offer(adapter, message)
    }

    /// The live twin.
    pub fn store(&self) -> &TwinStore {
        &self.store
    }

    /// The live twin, to change it from outside the plugins (tests, tools).
    pub fn store_mut(&mut self) -> &mut TwinStore {
        &mut self.store
    }

    /// The clock and the playhead.
    pub fn time(&self) -> &TimeControl {
        &self.time
    }

    /// Sets the earliest time scrubbing may reach.
    pub fn set_history_start(&mut self, t: SimTime) {
        self.time.set_history_start(t);
    }

    /// The time the twin is shown at.
    pub fn display_time(&self) -> SimTime {
        self.time.display_time()
    }

    /// The scene's plugins.
    pub fn plugins(&self) -> &LivePlugins {
        &self.plugins
    }

    /// The sources' inbox.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// Totals since the session started.
    pub fn totals(&self) -> &SessionTotals {
        &self.totals
    }

    /// The `--stats` lines: the clock, the history store, then one per plugin.
    pub fn status_lines(&self) -> Vec<String> {
        let clock = self.time.clock();
        let t = &self.totals;
        let held = self.last_held_by.as_ref().map_or_else(String::new, |id| format!("; held back by `{id}`"));
        let store = &self.store;
        let mut lines = vec![format!(
            "clock: {} after {} ticks at {}x{}; {} steps; ran slower than its rate in {} ticks ({:.3} s of simulated \
             time not run{held}); {} values applied, {} refused; {} messages delivered, {} waiting",
            clock.now(),
            t.ticks,
            clock.rate(),
            if clock.is_paused() { " (paused)" } else { "" },
            clock.step_count(),
            t.slowed_ticks,
            clock.slowed().as_secs_f64(),
            t.values_applied,
            t.values_refused,
            t.messages_delivered,
            self.inbox.total_waiting(),
        )];
        lines.push(format!(
            "history: {} series, {:.1} of {:.1} MiB, {} samples each at full resolution, {} folded into buckets, {} \
             events evicted from the log",
            store.series_count(),
            store.memory_bytes() as f64 / f64::from(1 << 20),
            store.budget() as f64 / f64::from(1 << 20),
            store.series_capacity(),
            store.folded(),
            store.events_evicted(),
        ));
        lines.extend(self.plugins.status_lines());
        lines
    }
}
