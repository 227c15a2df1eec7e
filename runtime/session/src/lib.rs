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
//! submissions (a mutex push each), handing the store's change log to the plugin views' keeper and
//! the recorder (channel sends; no view is built here), and applying completed outputs within the
//! tick's budget (`[clock] apply_budget_us`).
//!
//! - [`time`]: the clock and the playhead, and the commands of every front end.
//! - [`plugins`]: the scene's plugins under supervision and their schedule.
//! - [`inbox`]: messages from sources waiting for their adapter, bounded, never dropped.
//! - [`branch`]: what-if branches forked from a session, and their comparison; [`follow`]: a branch
//!   fed the same inputs as the session it was forked from.
//! - [`record`]: recording to MCAP (every accepted message and every tick's changes, off the frame
//!   thread) and reading a recording back; [`replay`]: a session that replays one;
//!   [`Session::time_travel`]: one that shows a recording at one time, from its end snapshot.
//!
//! A recorded session ([`Session::start_recording`]) writes every message it accepts before any
//! plugin sees it, and after each tick what the tick changed; a replayed one ([`Session::replay`])
//! applies those changes at the same points and reaches the same state hash.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod branch;
pub mod follow;
pub mod inbox;
pub mod plugins;
pub mod record;
pub mod replay;
mod stats;
pub mod time;
mod time_travel;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use sangam_plugins::Role;
use sangam_twin::{ClockError, Scene as TwinScene, SimTime, StateHash, TwinStore};

pub use branch::{BranchDiff, ParamOverride, PropertyDiff, compare};
pub use inbox::{Inbox, InboxStats, Message, OfferError};
pub use plugins::{AccessEntry, AccessLog, LivePlugins, PluginTick};
pub use record::{Recorder, Recording, RecordingError};
pub use replay::{Replay, Verdict};
pub use time::{TimeCommand, TimeControl, TimeEvent};

use record::wire::{self, SessionRecord};

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
    /// Where the session is being recorded, when it is.
    recorder: Option<Recorder>,
    /// Events the store had evicted when the recorder last looked.
    evicted_seen: u64,
    /// The recording this session replays, when it is a replay.
    replay: Option<Replay>,
    /// A redacted recording: what it leaves out, and for whom.
    redaction: Option<record::redact::Redaction>,
    /// Why raw inputs are not written to the recording, when they are not: a redacted recording, or
    /// a scene with aggregate-only properties (raw messages hold their individual values).
    withhold_inputs: Option<&'static str>,
    /// Raw inputs not written, for that reason.
    inputs_withheld: u64,
    /// The last recording's end, once finished: (file, messages, bytes).
    recorded: Option<(String, record::WriterSummary)>,
    /// The scene's data sources, once started ([`Session::start_sources`]).
    sources: Option<sangam_data::Sources>,
    /// Copies of the accepted messages for a branch that follows this session ([`follow`]).
    copies: Option<follow::InputCopies>,
}

/// `Err` naming `recording` when `t` is outside it: before the clock's `start` or after its recorded
/// end `end_us` (the bounds of a replay's seek and of time travel).
fn check_within(recording: &Path, start: SimTime, t: SimTime, end_us: i64) -> Result<()> {
    if t < start || t.as_micros() > end_us {
        let secs = |us: i64| (us - start.as_micros()) as f64 / 1e6;
        anyhow::bail!(
            "{}: time {:.3} s is outside the recording, which covers 0 to {:.3} s from the clock's start",
            recording.display(),
            secs(t.as_micros()),
            secs(end_us)
        );
    }
    Ok(())
}

/// The most deliveries taken from the sources in one tick: a burst larger than this waits in the
/// sources' queue for the next ticks (the sources wait meanwhile).
pub const DELIVERIES_PER_TICK: usize = 4096;

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
        // The scene's own start is rebuilt from the scene (by a replay, a branch): its log starts empty.
        store.take_events();
        plugins.start_views(&store)?;
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
            recorder: None,
            evicted_seen: 0,
            replay: None,
            redaction: None,
            withhold_inputs: None,
            inputs_withheld: 0,
            recorded: None,
            sources: None,
            copies: None,
        })
    }

    /// A session that replays `recording` on `scene` (the scene it was recorded from, checked byte
    /// for byte, and the twin it builds checked against the recorded start): only the scene's
    /// overlays run; the recorded changes are applied as the clock reaches them.
    pub fn replay(scene: &TwinScene, recording: Recording) -> Result<Session> {
        recording.check_scene(&scene.path)?;
        // Overlays whose frames were recorded are shown from the recording; the others run.
        let recorded: Vec<&str> = recording.overlays.keys().map(String::as_str).collect();
        let plugins = LivePlugins::load_roles_except(scene, &[Role::Overlay], &recorded)?;
        let mut session = Session::with_plugins(scene, plugins)?;
        let start = session.store.state_hash();
        if start != recording.info.initial_state_hash {
            anyhow::bail!(
                "{}: the twin {} builds (state hash {start}) is not the one the recording started from ({}); a file \
                 the scene reads (GeoJSON, assets) has changed since it was recorded",
                recording.info.path.display(),
                scene.path.display(),
                recording.info.initial_state_hash
            );
        }
        if recording.info.step_us != session.time.clock().fixed_dt().as_micros() as i64 {
            anyhow::bail!(
                "{}: recorded with a clock step of {} us, but the scene's step is {} us",
                recording.info.path.display(),
                recording.info.step_us,
                session.time.clock().fixed_dt().as_micros()
            );
        }
        for w in &recording.warnings {
            tracing::warn!("{w}");
        }
        session.replay = Some(Replay::new(recording));
        Ok(session)
    }

    /// Starts recording this session to `path` (created or replaced). Only before the first tick:
    /// the recording starts from the twin the scene builds, which a replay rebuilds from the scene.
    pub fn start_recording(&mut self, scene: &TwinScene, path: &Path) -> Result<()> {
        self.start_recording_as(scene, path, None)
    }

    /// Starts a recording that holds only what plugin `plugin` of `scene` may see (its entities and
    /// `[plugins.read]`): other changes are left out and raw inputs are not written (counted).
    pub fn start_recording_redacted(&mut self, scene: &TwinScene, path: &Path, plugin: &str) -> Result<()> {
        let redaction = record::redact::Redaction::for_plugin(scene, plugin)?;
        self.start_recording_as(scene, path, Some(redaction))
    }

    fn start_recording_as(
        &mut self,
        scene: &TwinScene,
        path: &Path,
        redaction: Option<record::redact::Redaction>,
    ) -> Result<()> {
        anyhow::ensure!(
            self.totals.ticks == 0,
            "a session is recorded from its start: start recording before the first tick"
        );
        anyhow::ensure!(self.replay.is_none(), "a replay is not recorded again; copy the recording instead");
        anyhow::ensure!(self.recorder.is_none(), "this session is already being recorded");
        let bytes = std::fs::read(&scene.path)
            .with_context(|| format!("cannot read the scene {} to record its hash", scene.path.display()))?;
        let mut metadata = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            metadata.insert(k.to_string(), v);
        };
        put(wire::keys::FORMAT_VERSION, wire::FORMAT_VERSION.into());
        put(wire::keys::RUNTIME, format!("sangam {}", env!("CARGO_PKG_VERSION")));
        put(wire::keys::SCENE, scene.path.display().to_string());
        put(wire::keys::SCENE_NAME, scene.name.clone());
        put(wire::keys::SCENE_SHA256, record::reader::sha256_hex(&bytes));
        put(wire::keys::INITIAL_STATE_HASH, self.store.state_hash().to_string());
        put(wire::keys::STEP_US, self.time.clock().fixed_dt().as_micros().to_string());
        if let Some(r) = &redaction {
            put(wire::keys::REDACTED_FOR, r.plugin.clone());
        }
        let mut recorder = Recorder::create(path, metadata)?;
        // The scene's entities are rebuilt from the scene by a replay; what waits in the inbox (the
        // recorded feeds read at load) is input and is recorded before any adapter sees it. Changes
        // made since load (by a tool) reach the plugin views but not the recording.
        drop(self.plugins.take_changes(&mut self.store));
        self.evicted_seen = self.store.events_evicted();
        self.withhold_inputs = if redaction.is_some() {
            Some("the recording is redacted")
        } else if !scene.governance.aggregate_only.is_empty() {
            Some("the scene has aggregate-only properties, whose individual values raw messages hold")
        } else {
            None
        };
        for (adapter, message) in self.inbox.messages() {
            match self.withhold_inputs {
                Some(_) => self.inputs_withheld += 1,
                None => {
                    // Messages already in the inbox were acknowledged when they were taken.
                    let _ = recorder.input(adapter, message.clone(), None);
                }
            }
        }
        self.recorder = Some(recorder);
        self.redaction = redaction;
        Ok(())
    }

    /// Ends the recording (writes the end with the state hash, finishes the file); `None` when the
    /// session was not being recorded. Waits for the writer thread.
    pub fn finish_recording(&mut self) -> Result<Option<record::WriterSummary>> {
        let Some(recorder) = self.recorder.take() else { return Ok(None) };
        let now = self.time.clock().now().as_micros();
        let path = recorder.path().display().to_string();
        let end = SessionRecord::End {
            progress_us: self.progress_us(),
            now_us: now,
            ticks: self.totals.ticks,
            state_hash: self.store.state_hash().to_string(),
        };
        // The twin as it ended, for time travel to read at once; not in a redacted recording, which
        // holds only what its plugin may see.
        let snapshot = self.redaction.is_none().then(|| self.store.snapshot());
        let summary = recorder.finish_with_snapshot(now, end, snapshot)?;
        self.recorded = Some((path, summary.clone()));
        Ok(Some(summary))
    }

    /// The session's progress: fixed steps run x the step (microseconds). It only grows (a looping
    /// clock goes back in time, not in progress), so recorded changes are replayed at it.
    pub fn progress_us(&self) -> i64 {
        let clock = self.time.clock();
        (clock.step_count() as i64).saturating_mul(clock.fixed_dt().as_micros() as i64)
    }

    /// The twin's state hash (a pass over the store: call it at the end, not per frame).
    pub fn state_hash(&self) -> StateHash {
        self.store.state_hash()
    }

    /// The recording being written, when the session is recorded.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// The replay, when the session is one.
    pub fn replaying(&self) -> Option<&Replay> {
        self.replay.as_ref()
    }

    /// A replay: the twin as it was at `t` (time travel). Applies everything recorded (a sample is
    /// stamped with its own time and may have been applied a tick or more later, so nothing short of
    /// the whole recording is sure to hold every sample up to `t`), then puts the playhead at `t`,
    /// paused: values, overlays and the inspector show `t`, as a scrub of a live session does.
    /// `Err` when `t` is outside the recording.
    pub fn replay_seek(&mut self, t: SimTime) -> Result<usize> {
        let start = self.time.clock().start();
        let Some(replay) = self.replay.as_mut() else { anyhow::bail!("this session is not a replay") };
        let end = replay.recording().time_span().map_or(start.as_micros(), |(_, last)| last);
        check_within(&replay.recording().info.path, start, t, end)?;
        let n = self.replay_to_end();
        self.time.set_playhead(t);
        Ok(n)
    }

    /// A replay: applies everything the recording holds now and moves the clock to its end (the
    /// recorded end, or the last tick of a recording cut short), paused: a replay at `--speed max`.
    /// Returns how many changes were applied.
    pub fn replay_to_end(&mut self) -> usize {
        let Some(replay) = self.replay.as_mut() else { return 0 };
        let n = replay.apply_all(&mut self.store);
        if let Some((_, end)) = replay.recording().time_span()
            && self.time.clock().now().as_micros() < end
        {
            self.time.seek_live(SimTime::from_micros(end));
        }
        self.time.pause();
        n
    }

    /// One tick: advance the clock by `real_dt` (as far as the simulations can follow), run the
    /// plugin schedule, report. Never waits on a plugin.
    pub fn tick(&mut self, real_dt: Duration) -> TickReport {
        self.take_deliveries();
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
        let progress = self.progress_us();
        if let Some(replay) = self.replay.as_mut() {
            // The recorded changes up to this point, before the overlays look at the twin.
            replay.apply_until(progress, &mut self.store);
            if replay.is_done() && progress >= replay.end_progress() && !self.time.is_paused() {
                // The recording is over: the replayed twin holds still at its end.
                self.time.pause();
            }
        }
        let plugins = self.plugins.tick(now, display, budget, &mut self.store, &mut self.inbox);
        // The access log goes into the recording; without one, its recent entries stay for the screen.
        let access = self.plugins.take_access();
        // What the tick changed: handed to the plugin views, and to the recorder.
        let changes = self.plugins.take_changes(&mut self.store);
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.access(access);
            if self.redaction.is_none() {
                // A redacted recording holds no overlay frames: they draw what other plugins may see.
                recorder.overlays(progress, self.plugins.overlays());
            }
            self.record_tick(now, changes);
        }
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

    /// Hands what this tick changed to the recorder (and a gap, if the log evicted some first).
    fn record_tick(&mut self, now: SimTime, changes: Vec<plugins::ChangeBatch>) {
        let progress = self.progress_us();
        let Some(recorder) = self.recorder.as_mut() else { return };
        let evicted = self.store.events_evicted();
        if evicted > self.evicted_seen {
            recorder.gap(progress, now.as_micros(), evicted - self.evicted_seen);
            self.evicted_seen = evicted;
        }
        let changes = match self.redaction.as_mut() {
            Some(r) => vec![std::sync::Arc::new(r.filter(&changes))],
            None => changes,
        };
        recorder.changes(progress, now.as_micros(), changes);
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
        self.offer_acked(adapter, message, None).map_err(|back| back.0)
    }

    /// [`offer`](Self::offer) a message whose broker is owed `ack` once the session holds it: once it
    /// is in the recording when the session is recorded (sent by the recorder's writer), else once it
    /// is in the inbox. A refused offer hands both back.
    pub fn offer_acked(
        &mut self,
        adapter: &str,
        message: Message,
        ack: Option<sangam_data::Ack>,
    ) -> Result<(), Box<(OfferError, Option<sangam_data::Ack>)>> {
        // Recorded once accepted, before any plugin sees it (a refused one is offered again).
        let recording = self.recorder.as_ref().is_some_and(Recorder::is_recording);
        let copy = (recording && self.withhold_inputs.is_none()).then(|| message.clone());
        // A branch that follows this session gets the same message (once the inbox took it).
        let for_branch = self.copies.is_some().then(|| message.clone());
        if let Err(e) = self.inbox.offer(adapter, message) {
            return Err(Box::new((e, ack)));
        }
        if let (Some(copies), Some(message)) = (self.copies.as_mut(), for_branch) {
            copies.push(adapter, message);
        }
        if recording && self.withhold_inputs.is_some() {
            self.inputs_withheld += 1;
        }
        let ack = match (self.recorder.as_mut(), copy) {
            (Some(recorder), Some(message)) => recorder.input(adapter, message, ack),
            _ => ack,
        };
        // Not going into a recording: the session holds it now.
        if let Some(ack) = ack {
            ack.done();
        }
        Ok(())
    }

    /// Starts the scene's data sources (`[[sources]]`), each feeding its adapter from the next tick
    /// on; `options.broker` replaces every MQTT source's broker (`--broker`). Not for a replay, whose
    /// inputs are in its recording. A source bound to a plugin that is not an adapter is an error.
    pub fn start_sources(&mut self, scene: &TwinScene, options: &sangam_data::Options) -> Result<()> {
        anyhow::ensure!(self.replay.is_none(), "a replay takes its inputs from its recording, not from sources");
        if scene.sources.is_empty() {
            return Ok(());
        }
        for s in &scene.sources {
            if !self.plugins.adapter_ids().any(|a| a == s.adapter) {
                anyhow::bail!(
                    "{}: source `{}`: plugin `{}` is not an adapter (its manifest's role); a source feeds an adapter",
                    s.location,
                    s.id,
                    s.adapter
                );
            }
        }
        self.sources = Some(sangam_data::Sources::start(&scene.sources, options)?);
        Ok(())
    }

    /// The data sources, once started.
    pub fn sources(&self) -> Option<&sangam_data::Sources> {
        self.sources.as_ref()
    }

    /// Moves what the sources delivered into the inbox, at most [`DELIVERIES_PER_TICK`], never
    /// waiting: a delivery the inbox cannot take is held by the sources (which wait meanwhile).
    fn take_deliveries(&mut self) {
        let now = self.time.clock().now();
        for _ in 0..DELIVERIES_PER_TICK {
            let Some(mut d) = self.sources.as_mut().and_then(sangam_data::Sources::try_next) else { return };
            let message = Message {
                source: std::mem::take(&mut d.origin),
                content_type: std::mem::take(&mut d.content_type),
                received: now,
                payload: std::mem::take(&mut d.payload),
            };
            let adapter = d.adapter.clone();
            match self.offer_acked(&adapter, message, d.ack.take()).map_err(|back| *back) {
                Ok(()) => {}
                Err((OfferError::Full { message, .. } | OfferError::UnknownAdapter { message, .. }, ack)) => {
                    // Checked at start: only a full inbox refuses. The source waits for it.
                    (d.origin, d.content_type, d.payload) = (message.source, message.content_type, message.payload);
                    d.ack = ack;
                    if let Some(sources) = self.sources.as_mut() {
                        sources.hold(d);
                    }
                    return;
                }
            }
        }
    }

    /// What the overlays show at the displayed time, by plugin: each running overlay's latest frame,
    /// and in a replay the frames recorded for then ([`Replay::overlays_at`]). What front ends draw.
    pub fn overlays(&self) -> impl Iterator<Item = (&str, &std::sync::Arc<sangam_plugins::OverlayFrame>)> + '_ {
        let display = self.time.display_time().as_micros();
        self.plugins.overlays().chain(self.replay.iter().flat_map(move |r| r.overlays_at(display)))
    }

    /// The newest map of each layer of each simulation (SDK 1.3 `output.raster`), by plugin id. A
    /// replay has none: maps are not recorded (a recording holds the twin's values).
    pub fn rasters(&self) -> impl Iterator<Item = (&str, &std::sync::Arc<sangam_plugins::Raster>)> + '_ {
        self.plugins.rasters()
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
}

impl Drop for Session {
    fn drop(&mut self) {
        // A session that ends without finishing its recording (a window closed, an error) still
        // leaves a finished file.
        if let Err(e) = self.finish_recording() {
            tracing::error!("{e:#}");
        }
    }
}
