//! The scene's plugins, live: loaded before the first tick, fed and read by [`Session::tick`] without
//! waiting.
//!
//! [`LivePlugins::load`] does all the disk and compile work ([`load`]): every `[[plugins]]` entry of
//! the scene is found, admitted by the one verdict `sangam plugin check` also gives, checked, given
//! the manifest's limits lowered by the scene's and handed to the [`Supervisor`], which runs each
//! plugin on its pool of worker threads.
//!
//! [`LivePlugins::tick`] is one tick's plugin work; each submission is a channel send that never
//! blocks, and a plugin still busy waits for the next tick:
//! - **simulations** are stepped in fixed steps from where they left off up to the clock's time, in
//!   catch-up batches of up to the clock's budget ([`Supervisor::submit_steps_with`]): a step shorter
//!   than a frame loses no simulated time. A simulation that cannot keep up holds the clock back
//!   ([`LivePlugins::clock_limit`]) rather than falling behind without a word; one that is restarting
//!   or disabled does not hold it, and the steps it misses are counted;
//! - **adapters** get the inbox's messages, oldest first, while their queue has room;
//! - **overlays** draw at the displayed time (live, or the scrubbed playhead, with the twin as it was);
//! - completed updates are applied to the [`TwinStore`] ([`apply`]) within the tick's budget
//!   (`[clock] apply_budget_us`; a simulation steps again only once all of its outputs are in), and
//!   faults collected for the screen (the supervisor logged each, once, off the frame thread).
//!
//! Every view a simulation or overlay gets is built off the frame thread, by the view keeper on its
//! replica of the store ([`views`], fed by [`handover`]), holds only what the scene's read grant
//! permits (`[plugins.read]`, revoke winning over grant; [`snapshot`]), and is noted in the access log
//! ([`access`]), which a recording keeps.
//!
//! [`Session::tick`]: crate::Session::tick

pub mod access;
mod apply;
mod geometry;
mod handover;
mod load;
mod snapshot;
mod views;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sangam_plugins::signing::TrustedKeys;
use sangam_plugins::{
    EngineOptions, FaultReport, OverlayFrame, PluginEngine, PluginStatus, Raster, RestartPolicy, Role, SourceInfo,
    Submit, Supervisor,
};
use sangam_twin::{EntityId, GovernanceDecl, ReadGrant, Scene as TwinScene, SimTime, TwinStore};

pub use access::{AccessEntry, AccessLog};
pub use apply::{GovernanceStats, aggregate_entity, apply_updates};
pub use load::{PLUGIN_PATH_VAR, component_cache_dir, entity_position, find_plugin_file, scene_limits, spec_for};
pub use snapshot::{SNAPSHOT_HISTORY, SNAPSHOT_SAMPLE_BUDGET, Seen, snapshot_at, snapshot_of};
pub use views::{ChangeBatch, ViewKeeper, change_count};

use handover::Handover;

use crate::inbox::{Inbox, Message};
use load::{open_plugin, start_plugin};

/// Fault reports kept for the screen.
pub const RECENT_FAULTS: usize = 8;

/// One plugin of the scene.
struct LivePlugin {
    /// The scene's id for it (the supervisor's id).
    id: String,
    role: Role,
    /// Granted entities, in the order the plugin indexes them.
    entities: Arc<[EntityId]>,
    /// Simulation step (microseconds).
    step_us: i64,
    /// Simulation time of the next step to submit (microseconds).
    next_step: i64,
    /// Steps not run because the plugin was restarting or disabled.
    missed_steps: u64,
    /// Latest overlay frame.
    overlay: Option<Arc<OverlayFrame>>,
    /// A simulation's newest map of each layer (SDK 1.3 `output.raster`).
    rasters: Vec<Arc<Raster>>,
    /// How it was admitted, for the status lines.
    admission: String,
    /// What of its entities it may read.
    read: Arc<ReadGrant>,
    /// What it last read (the access log's state for it).
    access: access::PluginAccess,
    /// A simulation's outputs not yet applied, oldest first.
    pending: VecDeque<apply::PendingOutput>,
    /// A simulation was idle when its outputs were last taken (this tick).
    idle: bool,
    /// The parameters its manifest declares (what a parameter panel offers).
    parameters: Vec<sangam_plugins::manifest::ParameterSpec>,
    /// An adapter's output being applied (the next ones wait in the supervisor, where they count
    /// against the messages it accepts).
    adapter_output: Option<apply::PendingAdapter>,
}

impl LivePlugin {
    /// Steps due up to `now_us` and not yet submitted (a step is due once the clock reaches its start).
    fn due(&self, now_us: i64) -> i64 {
        if self.next_step <= now_us { (now_us - self.next_step) / self.step_us + 1 } else { 0 }
    }
}

/// What one tick's plugin work did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginTick {
    /// Property values applied to the twin.
    pub values_applied: usize,
    /// Updates refused by the twin store (unknown entity, bad time), logged.
    pub values_refused: usize,
    /// Submissions queued (a catch-up batch counts once).
    pub submitted: usize,
    /// Simulation steps submitted (every step of every batch).
    pub steps_submitted: usize,
    /// Submissions skipped because the plugin was still busy.
    pub skipped: usize,
    /// Messages handed from the inbox to adapters.
    pub messages_delivered: usize,
    /// Values of simulation and adapter outputs not applied yet when the tick's budget (`[clock]
    /// apply_budget_us`) ran out (counted whole per output; an adapter's outputs still in the
    /// supervisor are not counted); they are applied in the next ticks, before the simulation steps
    /// again or the adapter's next output.
    pub values_waiting: usize,
    /// Adapters not handed messages this tick because the plugin views' replica is behind (the
    /// messages wait in the inbox).
    pub deliveries_held: usize,
    /// New faults.
    pub faults: usize,
}

impl PluginTick {
    /// Counts an apply's (applied, refused) values.
    fn count(&mut self, (applied, refused): (usize, usize)) {
        self.values_applied += applied;
        self.values_refused += refused;
    }
}

/// The scene's plugins under supervision.
pub struct LivePlugins {
    supervisor: Option<Supervisor>,
    plugins: Vec<LivePlugin>,
    hot_reload: bool,
    last_reload_poll: Instant,
    recent_faults: VecDeque<FaultReport>,
    total_faults: u64,
    /// Recorded feeds read at load, handed to the session's inbox once.
    feeds: Vec<(String, Message)>,
    /// Which plugin read what, when.
    access_log: AccessLog,
    /// The scene's aggregate-only properties.
    governance: GovernanceDecl,
    /// What the aggregate-only rules did.
    governance_stats: GovernanceStats,
    /// Where the store's changes go: the plugin views' replica and the recorder.
    handover: Handover,
    /// The plugin whose outputs are applied first this tick (they take turns).
    apply_turn: usize,
    /// Frame-thread time a tick may spend applying plugins' outputs (`[clock] apply_budget_us`).
    apply_budget: Duration,
}

impl LivePlugins {
    /// Loads the plugins `twin` declares (none: no engine is started). Every failure names the
    /// plugin, the scene line and the fix.
    pub fn load(twin: &TwinScene) -> Result<LivePlugins> {
        LivePlugins::load_roles(twin, &[Role::Adapter, Role::Simulation, Role::Overlay])
    }

    /// Loads only the plugins of `twin` whose role is in `roles` (a replay runs only overlays: the
    /// recording holds what adapters and simulations did). Every plugin is still read and admitted,
    /// so a scene that would not load live does not replay either.
    pub fn load_roles(twin: &TwinScene, roles: &[Role]) -> Result<LivePlugins> {
        LivePlugins::load_roles_except(twin, roles, &[])
    }

    /// [`load_roles`](Self::load_roles) leaving out the plugins named in `except` (a replay's
    /// recorded overlays).
    pub fn load_roles_except(twin: &TwinScene, roles: &[Role], except: &[&str]) -> Result<LivePlugins> {
        let decls = &twin.plugins;
        let none = || LivePlugins {
            supervisor: None,
            plugins: Vec::new(),
            hot_reload: false,
            last_reload_poll: Instant::now(),
            recent_faults: VecDeque::new(),
            total_faults: 0,
            feeds: Vec::new(),
            access_log: AccessLog::default(),
            governance: twin.governance.clone(),
            governance_stats: GovernanceStats::default(),
            handover: Handover::default(),
            apply_turn: 0,
            apply_budget: twin.clock.apply_budget,
        };
        if decls.is_empty() {
            return Ok(none());
        }
        let mut trusted = TrustedKeys::new();
        for key in &twin.plugin_policy.trusted_keys {
            trusted.load(key).with_context(|| format!("{}: trusted_keys", twin.path.display()))?;
        }
        // Read, admit and check every plugin first: the engine is sized from their manifests.
        let mut opened = Vec::with_capacity(decls.len());
        for decl in decls {
            let open = open_plugin(twin, decl, &trusted)
                .with_context(|| format!("{}: plugin `{}`", decl.location, decl.id))?;
            opened.push((decl, open));
        }
        opened
            .retain(|(decl, open)| roles.contains(&open.package.manifest.role) && !except.contains(&decl.id.as_str()));
        if opened.is_empty() {
            return Ok(none());
        }
        let limits = || opened.iter().map(|(_, o)| o.package.manifest.limits());
        let engine = PluginEngine::new(EngineOptions {
            max_instances: (opened.len() as u32 * 2).max(4),
            // Fuel metering costs every plugin some speed: on only when a manifest sets a fuel budget.
            fuel: limits().any(|l| l.fuel_per_call.is_some()),
            max_memory_bytes: limits()
                .map(|l| l.memory_bytes)
                .max()
                .unwrap_or(0)
                .max(EngineOptions::default().max_memory_bytes),
            cache_dir: component_cache_dir(),
            ..EngineOptions::default()
        })
        .context("starting the plugin engine")?;
        let policy = RestartPolicy {
            reenable_after: twin.plugin_policy.reenable_after_s.map(Duration::from_secs),
            ..RestartPolicy::default()
        };
        let mut supervisor = Supervisor::new(engine, policy);
        let mut plugins = Vec::with_capacity(decls.len());
        let mut feeds = Vec::new();
        for (decl, open) in opened {
            let (plugin, feed) = start_plugin(&mut supervisor, twin, decl, open)
                .with_context(|| format!("{}: plugin `{}`", decl.location, decl.id))?;
            tracing::info!(plugin = %plugin.id, role = %plugin.role, "{}", plugin.admission);
            if let Some(message) = feed {
                feeds.push((plugin.id.clone(), message));
            }
            plugins.push(plugin);
        }
        Ok(LivePlugins {
            supervisor: Some(supervisor),
            plugins,
            hot_reload: twin.plugin_policy.hot_reload,
            last_reload_poll: Instant::now(),
            recent_faults: VecDeque::new(),
            total_faults: 0,
            feeds,
            access_log: AccessLog::default(),
            governance: twin.governance.clone(),
            governance_stats: GovernanceStats::default(),
            handover: Handover::default(),
            apply_turn: 0,
            apply_budget: twin.clock.apply_budget,
        })
    }

    /// Starts the thread that builds the views of simulations and overlays, on a replica of `store`
    /// as it is now (none for a scene without either). Changes `store` logs from here on are handed
    /// to it; what its log holds now is left alone.
    pub fn start_views(&mut self, store: &TwinStore) -> Result<()> {
        if self.plugins.iter().any(|p| p.role != Role::Adapter) {
            self.handover.start(store).context("starting the plugin view thread")?;
        }
        Ok(())
    }

    /// The store was replaced (a branch starts from a copy of its session's): the views follow it.
    pub fn reset_views(&mut self, store: &mut TwinStore) {
        self.handover.reset(store);
    }

    /// Hands the store's logged changes to the views (when they run) and returns every batch handed
    /// over since the last call, in order: what the tick changed, for the recorder.
    pub fn take_changes(&mut self, store: &mut TwinStore) -> Vec<ChangeBatch> {
        self.handover.take(store)
    }

    /// The plugin views' replica, when it runs.
    pub fn views(&self) -> Option<&ViewKeeper> {
        self.handover.views.as_ref()
    }

    /// Number of plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// Whether the scene runs no plugins.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// How many of the plugins have `role`.
    pub fn count(&self, role: Role) -> usize {
        self.plugins.iter().filter(|p| p.role == role).count()
    }

    /// The adapters' ids (each has an inbox).
    pub fn adapter_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.plugins.iter().filter(|p| p.role == Role::Adapter).map(|p| p.id.as_str())
    }

    /// Each plugin's id and the parameters its manifest declares (name, type, unit, range, default), in
    /// scene order.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &[sangam_plugins::manifest::ParameterSpec])> + '_ {
        self.plugins.iter().map(|p| (p.id.as_str(), p.parameters.as_slice()))
    }

    /// The recorded feeds read at load, each for its adapter (taken once, by the session).
    pub fn take_feeds(&mut self) -> Vec<(String, Message)> {
        std::mem::take(&mut self.feeds)
    }

    /// How far the clock may run: no simulation that is running may fall more than `budget` of its
    /// steps behind. `None` when none holds it; else the limit and the plugin that sets it.
    pub fn clock_limit(&self, budget: u32) -> Option<(SimTime, &str)> {
        let supervisor = self.supervisor.as_ref()?;
        self.plugins
            .iter()
            .filter(|p| p.role == Role::Simulation && holds_clock(supervisor.status(&p.id).as_ref()))
            .map(|p| (p.next_step.saturating_add(p.step_us.saturating_mul(i64::from(budget))), p.id.as_str()))
            .min_by_key(|(limit, _)| *limit)
            .map(|(limit, id)| (SimTime::from_micros(limit), id))
    }

    /// Simulation steps due up to `now` and not yet submitted, over all simulations.
    pub fn steps_due(&self, now: SimTime) -> u64 {
        self.plugins.iter().filter(|p| p.role == Role::Simulation).map(|p| p.due(now.as_micros()) as u64).sum()
    }

    /// The clock jumped (a loop back to the start, a seek): every simulation goes on from `now`.
    pub fn rewind(&mut self, now: SimTime) {
        for p in &mut self.plugins {
            p.next_step = now.as_micros();
        }
    }

    /// Each plugin goes on where the plugin of the same id in `other` is (a branch forked from it):
    /// its next step is the one `other`'s would take, so no step is run twice or skipped.
    pub fn resume_from(&mut self, other: &LivePlugins) {
        for p in &mut self.plugins {
            if let Some(o) = other.plugins.iter().find(|o| o.id == p.id) {
                p.next_step = o.next_step;
            }
        }
    }

    /// One tick's plugin work, never waiting on a plugin: simulation steps due up to `now` (in
    /// batches of at most `budget`), inbox messages to adapters, overlay draws at `display`,
    /// completed updates applied to `store`, faults collected.
    pub fn tick(
        &mut self,
        now: SimTime,
        display: SimTime,
        budget: u32,
        store: &mut TwinStore,
        inbox: &mut Inbox,
    ) -> PluginTick {
        let mut report = PluginTick::default();
        if self.supervisor.is_none() {
            return report;
        }
        self.note_views();
        let Some(supervisor) = self.supervisor.as_mut() else { return report };
        if self.hot_reload && self.last_reload_poll.elapsed() >= Duration::from_secs(1) {
            self.last_reload_poll = Instant::now();
            for id in supervisor.poll_reload() {
                tracing::info!(plugin = %id, "hot reload: a new build was found; compiling it off the frame thread");
            }
        }
        let now_us = now.as_micros();
        let scrubbed = display < now;
        let (governance, gstats) = (&self.governance, &mut self.governance_stats);
        let handover = &mut self.handover;
        // Completed outputs first, within the tick's budget; the plugin that starts takes turns.
        let deadline = Instant::now() + self.apply_budget;
        let count = self.plugins.len();
        self.apply_turn = (self.apply_turn + 1) % count.max(1);
        let mut applying = Applying {
            store: &mut *store,
            handover: &mut *handover,
            report: &mut report,
            governance,
            stats: gstats,
            deadline,
        };
        for k in 0..count {
            let plugin = &mut self.plugins[(self.apply_turn + k) % count];
            match plugin.role {
                Role::Simulation => {
                    // Idle before its outputs are taken: then every output of its last batch is in them.
                    plugin.idle = !supervisor.is_busy(&plugin.id);
                    applying.simulation_outputs(supervisor, plugin);
                }
                Role::Adapter => applying.adapter_outputs(supervisor, plugin),
                Role::Overlay => {}
            }
        }
        for (index, plugin) in self.plugins.iter_mut().enumerate() {
            let entities = &plugin.entities;
            let submitted = match plugin.role {
                Role::Adapter if handover.is_behind() => {
                    // The views' replica is behind: the messages wait in the inbox until it catches up.
                    report.deliveries_held += 1;
                    None
                }
                Role::Adapter => {
                    let id = plugin.id.as_str();
                    let sup = &*supervisor;
                    let delivered = inbox.deliver(id, |m| {
                        let received = m.received;
                        let info = SourceInfo {
                            source: m.source,
                            content_type: m.content_type,
                            received: received.as_micros(),
                        };
                        // Not queued (queue full, disabled): the message comes back and waits.
                        sup.queue_message(id, info, m.payload).map_err(|back| Message {
                            source: back.source.source,
                            content_type: back.source.content_type,
                            received,
                            payload: back.payload,
                        })
                    });
                    report.messages_delivered += delivered;
                    None
                }
                Role::Simulation => {
                    let step = plugin.step_us;
                    let due = plugin.due(now_us);
                    let status = supervisor.status(&plugin.id);
                    if due == 0 {
                        None
                    } else if !holds_clock(status.as_ref()) {
                        // Restarting or disabled: it does not hold the twin's time, and what it misses
                        // is counted; it goes on from now when it is back. A restarting one is woken
                        // (no call, no twin view built) so that it starts once its backoff has passed.
                        plugin.missed_steps += due as u64;
                        plugin.next_step = plugin.next_step.saturating_add(due.saturating_mul(step));
                        if matches!(status, Some(PluginStatus::Backoff)) {
                            let _ = supervisor.wake(&plugin.id);
                        }
                        None
                    } else if !plugin.idle {
                        // Still running its last batch (when its outputs were taken above): late.
                        supervisor.count_late(&plugin.id);
                        Some(Submit::Skipped)
                    } else if !plugin.pending.is_empty() {
                        // Its last outputs are not all in the twin yet: the next batch steps from them,
                        // so it waits (and holds the clock) until they are.
                        None
                    } else {
                        let count = due.min(i64::from(budget.clamp(1, sangam_plugins::MAX_STEPS_PER_BATCH))) as u32;
                        // Called once the previous batch has let go of the plugin; its outputs were all
                        // applied above, so this batch steps from them.
                        let snapshot = || -> Arc<dyn sangam_plugins::TwinView> {
                            handover.view(store, index, entities, &plugin.read, None, now_us)
                        };
                        let s = supervisor.submit_steps_with(&plugin.id, plugin.next_step, step, count, snapshot).ok();
                        if s == Some(Submit::Queued) {
                            plugin.next_step = plugin.next_step.saturating_add(step.saturating_mul(i64::from(count)));
                            report.steps_submitted += count as usize;
                        }
                        s
                    }
                }
                Role::Overlay => {
                    // Scrubbed: the overlay draws the twin as it was at the playhead.
                    let snapshot = || -> Arc<dyn sangam_plugins::TwinView> {
                        let at = scrubbed.then_some(display);
                        handover.view(store, index, entities, &plugin.read, at, display.as_micros())
                    };
                    supervisor.request_draw_with(&plugin.id, display.as_micros(), snapshot).ok()
                }
            };
            match submitted {
                Some(Submit::Queued) => report.submitted += 1,
                Some(Submit::Skipped) => report.skipped += 1,
                _ => {}
            }
            // Completed work.
            match plugin.role {
                Role::Simulation => {
                    plugin.rasters = supervisor.latest_rasters(&plugin.id);
                    let stats = &mut *gstats;
                    Applying { store, handover, report: &mut report, governance, stats, deadline }
                        .simulation_outputs(supervisor, plugin);
                }
                Role::Adapter => {}
                Role::Overlay => {
                    if let Some(frame) = supervisor.latest_overlay(&plugin.id) {
                        plugin.overlay = Some(frame);
                    }
                }
            }
        }
        // Each report was logged once by the supervisor, on its pool thread: none here.
        for fault in supervisor.drain_faults() {
            report.faults += 1;
            self.total_faults += 1;
            if self.recent_faults.len() == RECENT_FAULTS {
                self.recent_faults.pop_front();
            }
            self.recent_faults.push_back(fault);
        }
        report
    }

    /// What the aggregate-only rules did.
    pub fn governance_stats(&self) -> GovernanceStats {
        self.governance_stats
    }

    /// The access log: which plugin read what, when.
    pub fn access_log(&self) -> &AccessLog {
        &self.access_log
    }

    /// Takes the access entries not yet taken (the session hands them to its recorder).
    pub fn take_access(&mut self) -> Vec<AccessEntry> {
        self.note_views();
        self.access_log.take()
    }

    /// Notes the views the keeper built since the last look in the access log.
    fn note_views(&mut self) {
        let Some(notes) = self.handover.views.as_ref().and_then(ViewKeeper::take_notes) else { return };
        for note in notes {
            if let Some(p) = self.plugins.get_mut(note.plugin) {
                self.access_log.note(&p.id, &mut p.access, note.t_us, note.entities, note.seen);
            }
        }
    }

    /// Each overlay plugin's latest frame, with its id (shared: a new frame is a new `Arc`).
    pub fn overlays(&self) -> impl Iterator<Item = (&str, &Arc<OverlayFrame>)> + '_ {
        self.plugins.iter().filter_map(|p| Some((p.id.as_str(), p.overlay.as_ref()?)))
    }

    /// Each simulation's newest map of each layer (SDK 1.3 `output.raster`), with the plugin's id
    /// (shared: a new map is a new `Arc`).
    pub fn rasters(&self) -> impl Iterator<Item = (&str, &Arc<Raster>)> + '_ {
        self.plugins.iter().flat_map(|p| p.rasters.iter().map(move |r| (p.id.as_str(), r)))
    }

    /// The most recent fault reports, oldest first.
    pub fn recent_faults(&self) -> impl Iterator<Item = &FaultReport> + '_ {
        self.recent_faults.iter()
    }

    /// Faults since loading.
    pub fn total_faults(&self) -> u64 {
        self.total_faults
    }

    /// One status line per plugin: id, role, state, completed calls, late ticks, faults.
    pub fn status_lines(&self) -> Vec<String> {
        let Some(supervisor) = self.supervisor.as_ref() else { return Vec::new() };
        self.plugins
            .iter()
            .map(|p| {
                let status = status_text(supervisor.status(&p.id));
                let s = supervisor.stats(&p.id).unwrap_or_default();
                let missed =
                    if p.missed_steps > 0 { format!(", {} steps missed", p.missed_steps) } else { String::new() };
                format!(
                    "plugin {} ({}): {status}; {} calls, {} late, {} faults, {} restarts{missed}",
                    p.id, p.role, s.completed, s.late, s.faults, s.restarts
                )
            })
            .collect()
    }

    /// Each plugin's id, role, status and counters, as JSON objects (`--stats-json`).
    pub fn stats_json(&self) -> Vec<serde_json::Value> {
        let Some(supervisor) = self.supervisor.as_ref() else { return Vec::new() };
        self.plugins
            .iter()
            .map(|p| {
                let s = supervisor.stats(&p.id).unwrap_or_default();
                serde_json::json!({
                    "id": p.id, "role": p.role.to_string(), "status": status_text(supervisor.status(&p.id)),
                    "calls": s.completed, "late": s.late, "faults": s.faults, "restarts": s.restarts,
                    "missed_steps": p.missed_steps,
                })
            })
            .collect()
    }

    /// The supervisor, when the scene runs plugins (tests and benchmarks).
    pub fn supervisor(&self) -> Option<&Supervisor> {
        self.supervisor.as_ref()
    }
}

/// A plugin's status in words.
fn status_text(status: Option<PluginStatus>) -> String {
    match status {
        Some(PluginStatus::Running) => "running".to_string(),
        Some(PluginStatus::Starting) => "starting".to_string(),
        Some(PluginStatus::Backoff) => "restarting".to_string(),
        Some(PluginStatus::Disabled(why)) => format!("disabled ({why})"),
        None => "unknown".to_string(),
    }
}

/// What applying plugins' outputs works with in one tick.
struct Applying<'a> {
    store: &'a mut TwinStore,
    handover: &'a mut Handover,
    report: &'a mut PluginTick,
    governance: &'a GovernanceDecl,
    stats: &'a mut GovernanceStats,
    /// When the tick's apply budget runs out.
    deadline: Instant,
}

impl Applying<'_> {
    /// Takes simulation `plugin`'s completed outputs and applies what waits of them (indices into
    /// its entities) until done or past the deadline; the rest waits for the next tick.
    fn simulation_outputs(&mut self, supervisor: &Supervisor, plugin: &mut LivePlugin) {
        plugin.pending.extend(supervisor.drain_updates(&plugin.id).into_iter().map(apply::PendingOutput::new));
        while let Some(pending) = plugin.pending.front_mut() {
            if Instant::now() >= self.deadline {
                break;
            }
            let (store, governance, deadline) = (&mut *self.store, self.governance, self.deadline);
            let out = apply::apply_pending(store, &plugin.entities, pending, governance, self.stats, deadline);
            if !self.count(out) {
                break;
            }
            plugin.pending.pop_front();
        }
        self.report.values_waiting += plugin.pending.iter().map(apply::PendingOutput::value_count).sum::<usize>();
    }

    /// Applies an adapter's completed outputs, oldest first, one at a time, until the deadline: one
    /// that does not fit is resumed where it stopped in the next tick, and the rest wait in the
    /// supervisor (which then accepts fewer messages from the inbox, so the source waits: nothing is
    /// dropped).
    fn adapter_outputs(&mut self, supervisor: &Supervisor, plugin: &mut LivePlugin) {
        while Instant::now() < self.deadline {
            if plugin.adapter_output.is_none() {
                plugin.adapter_output = supervisor.take_adapter_output(&plugin.id).map(apply::PendingAdapter::new);
            }
            let Some(pending) = plugin.adapter_output.as_mut() else { break };
            let (store, governance, deadline) = (&mut *self.store, self.governance, Some(self.deadline));
            let out = apply::apply_adapter_part(store, pending, governance, self.stats, deadline);
            if !self.count(out) {
                break;
            }
            plugin.adapter_output = None;
        }
        self.report.values_waiting += plugin.adapter_output.as_ref().map_or(0, apply::PendingAdapter::value_count);
    }

    /// Counts one part applied and hands the log over if it is half full; whether the output is done.
    fn count(&mut self, (applied, refused, done): (usize, usize, bool)) -> bool {
        self.report.count((applied, refused));
        self.handover.flush_if_full(self.store);
        done
    }
}

/// Whether a simulation in this state holds the clock: one that is running or starting does; one
/// that is restarting after a fault, or disabled, does not.
fn holds_clock(status: Option<&PluginStatus>) -> bool {
    matches!(status, Some(PluginStatus::Running | PluginStatus::Starting))
}
