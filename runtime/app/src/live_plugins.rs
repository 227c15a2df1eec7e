//! The scene's plugins, live: loaded before the frame loop, fed and read from it without waiting.
//!
//! [`LivePlugins::load`] does all the disk and compile work: every `[[plugins]]` entry of the scene is
//! found (the scene's folder, then each folder of `SANGAM_PLUGIN_PATH`), read as a packaged artifact (or a
//! bare component with its `plugin.toml`), admitted by the one verdict `sangam plugin check` also gives
//! ([`sangam_plugins::admission::admit`]: imports, then signature policy), checked (role, SDK version,
//! parameters against the manifest, capabilities against what it requested), given the manifest's limits
//! lowered by the scene's (`[plugins.limits]`, `[plugin_policy] max_call_ms`) and handed to the
//! [`Supervisor`], which runs each plugin on its pool of worker threads.
//!
//! [`LivePlugins::tick`] is what the frame loop calls: it submits simulation steps, overlay draws and
//! recorded feeds (each submission is a channel send that never blocks; a plugin still busy skips
//! the tick), applies whatever updates completed since the last frame to the [`TwinStore`], keeps
//! each overlay's latest frame, and collects fault reports for the screen (the supervisor logs each
//! one, once, off the frame thread). A plugin that traps, overruns or returns malformed output is
//! quarantined and restarted by the supervisor; the frame loop never notices beyond the report.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sangam_plugins::admission;
use sangam_plugins::manifest::Manifest;
use sangam_plugins::package::Package;
use sangam_plugins::signing::{Admission, TrustedKeys};
use sangam_plugins::{
    EngineOptions, EntityTable, FaultReport, Limits, OverlayFrame, ParamValue, PluginEngine, PluginSpec, PluginStatus,
    PropertyUpdates, RestartPolicy, Role, SourceInfo, Submit, Supervisor, TwinSnapshot,
};
use sangam_twin::{
    EntityId, EntityLink, ParamLiteral, PluginDecl, PropertyValue, Scene as TwinScene, SimTime, TwinStore, Unit,
};

/// The environment variable listing extra folders (`:`-separated) where plugin files are looked up.
pub const PLUGIN_PATH_VAR: &str = "SANGAM_PLUGIN_PATH";

/// History samples per (entity, property) a plugin sees in its twin snapshot.
pub const SNAPSHOT_HISTORY: usize = 512;

/// History samples one snapshot holds at most, over all its entities and properties (4 MiB of
/// samples): a snapshot is built on the frame thread, and no plugin (nor the property names other
/// plugins wrote on shared entities) may make it grow without bound. Latest values are always there.
pub const SNAPSHOT_SAMPLE_BUDGET: usize = 1 << 18;

/// Fault reports kept for the screen.
pub const RECENT_FAULTS: usize = 8;

/// One plugin of the scene.
struct LivePlugin {
    /// The scene's id for it (the supervisor's id).
    id: String,
    role: Role,
    /// Granted entities, in the order the plugin indexes them.
    entities: Vec<EntityId>,
    /// A recorded feed not yet delivered (adapters).
    feed: Option<(String, Vec<u8>)>,
    /// Simulation step.
    step: Duration,
    /// Simulation time of the next step to submit (microseconds).
    next_step: i64,
    /// Latest overlay frame.
    overlay: Option<Arc<OverlayFrame>>,
    /// How it was admitted, for the status lines.
    admission: String,
}

/// What one tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Property values applied to the twin.
    pub values_applied: usize,
    /// Updates refused by the twin store (unknown entity, bad time), logged.
    pub values_refused: usize,
    /// Submissions queued.
    pub submitted: usize,
    /// Submissions skipped because the plugin was still busy.
    pub skipped: usize,
    /// New faults.
    pub faults: usize,
}

/// The scene's plugins under supervision.
pub struct LivePlugins {
    supervisor: Option<Supervisor>,
    plugins: Vec<LivePlugin>,
    hot_reload: bool,
    last_reload_poll: Instant,
    recent_faults: VecDeque<FaultReport>,
    total_faults: u64,
}

impl LivePlugins {
    /// Loads the plugins `twin` declares (none: no engine is started). Every failure names the
    /// plugin, the scene line and the fix.
    pub fn load(twin: &TwinScene) -> Result<LivePlugins> {
        let decls = &twin.plugins;
        if decls.is_empty() {
            return Ok(LivePlugins {
                supervisor: None,
                plugins: Vec::new(),
                hot_reload: false,
                last_reload_poll: Instant::now(),
                recent_faults: VecDeque::new(),
                total_faults: 0,
            });
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
        let limits = || opened.iter().map(|(_, o)| o.package.manifest.limits());
        let engine = PluginEngine::new(EngineOptions {
            max_instances: (decls.len() as u32 * 2).max(4),
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
        for (decl, open) in opened {
            let plugin = start_plugin(&mut supervisor, twin, decl, open)
                .with_context(|| format!("{}: plugin `{}`", decl.location, decl.id))?;
            tracing::info!(plugin = %plugin.id, role = %plugin.role, "{}", plugin.admission);
            plugins.push(plugin);
        }
        Ok(LivePlugins {
            supervisor: Some(supervisor),
            plugins,
            hot_reload: twin.plugin_policy.hot_reload,
            last_reload_poll: Instant::now(),
            recent_faults: VecDeque::new(),
            total_faults: 0,
        })
    }

    /// Number of plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// Whether the scene runs no plugins.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// One frame's plugin work, never waiting on a plugin: deliver feeds, submit due simulation steps
    /// up to `now`, request overlay draws, apply completed updates, collect faults.
    pub fn tick(&mut self, now: SimTime, store: &mut TwinStore) -> TickReport {
        let mut report = TickReport::default();
        let Some(supervisor) = self.supervisor.as_mut() else { return report };
        if self.hot_reload && self.last_reload_poll.elapsed() >= Duration::from_secs(1) {
            self.last_reload_poll = Instant::now();
            for id in supervisor.poll_reload() {
                tracing::info!(plugin = %id, "hot reload: a new build was found; compiling it off the frame thread");
            }
        }
        for plugin in &mut self.plugins {
            let entities = &plugin.entities;
            // Built only when the plugin takes the submission (not for a skipped, late tick).
            let snapshot = || -> Arc<dyn sangam_plugins::TwinView> { Arc::new(snapshot_of(store, entities)) };
            let submitted = match plugin.role {
                Role::Adapter => match plugin.feed.take() {
                    Some((source, bytes)) => {
                        let info = SourceInfo { source, content_type: String::new(), received: now.as_micros() };
                        supervisor.submit_message(&plugin.id, info, bytes).ok()
                    }
                    None => None,
                },
                Role::Simulation => {
                    let step = i64::try_from(plugin.step.as_micros()).unwrap_or(i64::MAX);
                    if plugin.next_step <= now.as_micros() {
                        let s = supervisor.submit_step_with(&plugin.id, plugin.next_step, step, snapshot).ok();
                        if s == Some(Submit::Queued) {
                            // One step per tick at most; a slow plugin falls behind (counted as
                            // late) rather than queueing work.
                            plugin.next_step = plugin.next_step.saturating_add(step).max(now.as_micros() - step);
                        }
                        s
                    } else {
                        None
                    }
                }
                Role::Overlay => supervisor.request_draw_with(&plugin.id, now.as_micros(), snapshot).ok(),
            };
            match submitted {
                Some(Submit::Queued) => report.submitted += 1,
                Some(Submit::Skipped) => report.skipped += 1,
                _ => {}
            }
            // Completed work.
            match plugin.role {
                Role::Simulation => {
                    for updates in supervisor.drain_updates(&plugin.id) {
                        apply(store, &plugin.entities, &updates, &mut report);
                    }
                }
                Role::Adapter => {
                    for out in supervisor.drain_adapter_outputs(&plugin.id) {
                        apply_adapter(store, &out, &mut report);
                    }
                }
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

    /// Each overlay plugin's latest frame, with its id.
    pub fn overlays(&self) -> impl Iterator<Item = (&str, &OverlayFrame)> + '_ {
        self.plugins.iter().filter_map(|p| Some((p.id.as_str(), p.overlay.as_deref()?)))
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
                let status = match supervisor.status(&p.id) {
                    Some(PluginStatus::Running) => "running".to_string(),
                    Some(PluginStatus::Starting) => "starting".to_string(),
                    Some(PluginStatus::Backoff) => "restarting".to_string(),
                    Some(PluginStatus::Disabled(why)) => format!("disabled ({why})"),
                    None => "unknown".to_string(),
                };
                let s = supervisor.stats(&p.id).unwrap_or_default();
                format!(
                    "plugin {} ({}): {status}; {} calls, {} late, {} faults, {} restarts",
                    p.id, p.role, s.completed, s.late, s.faults, s.restarts
                )
            })
            .collect()
    }

    /// The supervisor, when the scene runs plugins (tests and benchmarks).
    pub fn supervisor(&self) -> Option<&Supervisor> {
        self.supervisor.as_ref()
    }
}

/// Finds a plugin file: as given when absolute, else in the scene's folder, then in each folder of
/// `search` (from `SANGAM_PLUGIN_PATH`).
pub fn find_plugin_file(written: &str, base_dir: &Path, search: &[PathBuf]) -> Result<PathBuf> {
    let rel = Path::new(written);
    if rel.is_absolute() {
        return if rel.is_file() { Ok(rel.to_path_buf()) } else { Err(anyhow!("artifact {written} does not exist")) };
    }
    let mut tried = vec![base_dir.join(rel)];
    tried.extend(search.iter().map(|d| d.join(rel)));
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let places: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(anyhow!(
        "artifact \"{written}\" not found (looked in: {}); fix the path, or add the folder holding it to {PLUGIN_PATH_VAR} \
         (plugins built by `cargo xtask build-plugins` are in target/wasm32-wasip2/release)",
        places.join(", ")
    ))
}

/// `SANGAM_PLUGIN_PATH`'s folders, then `plugins/` next to the executable, then the
/// `wasm32-wasip2/release` folder of the cargo target folder the executable was built in (where
/// `cargo xtask build-plugins` puts the repository's plugins).
fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os(PLUGIN_PATH_VAR).map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            dirs.push(dir.join("plugins"));
        }
        // target/debug/sangam or target/debug/deps/<test>: look two levels up.
        for up in exe.ancestors().skip(2).take(2) {
            dirs.push(up.join("wasm32-wasip2").join("release"));
        }
    }
    dirs
}

/// A plugin read, admitted and checked, not yet compiled.
struct OpenPlugin {
    file: PathBuf,
    package: Package,
    admission: String,
}

/// Where compiled components are cached: `SANGAM_CACHE_DIR`, else `$XDG_CACHE_HOME/sangam/components`,
/// else `~/.cache/sangam/components`; `None` (compile every run) when none can be named.
pub fn component_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("SANGAM_CACHE_DIR") {
        return Some(dir);
    }
    var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).map(|c| c.join("sangam").join("components"))
}

fn open_plugin(twin: &TwinScene, decl: &PluginDecl, trusted: &TrustedKeys) -> Result<OpenPlugin> {
    let file = find_plugin_file(&decl.artifact, &twin.base_dir, &search_path())?;
    let package = match &decl.manifest {
        Some(manifest) => Package::load_with_manifest(&file, manifest)?,
        None => Package::load(&file).map_err(|e| {
            anyhow!(
                "{e}; if this is a bare component, pack it (`sangam plugin pack`) or give manifest = \"plugin.toml\""
            )
        })?,
    };
    let verdict = admission::admit(&package, trusted, twin.plugin_policy.allow_unsigned).map_err(|refusals| {
        let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        anyhow!("`{}` cannot run: {}", package.manifest.id, reasons.join("; "))
    })?;
    let admission = match verdict {
        Admission::Trusted { key_id, key_name } => {
            format!("{} {} signed by trusted key {key_id} ({key_name})", package.manifest.id, package.manifest.version)
        }
        Admission::DevMode { warning } => warning,
    };
    Ok(OpenPlugin { file, package, admission })
}

fn start_plugin(
    supervisor: &mut Supervisor,
    twin: &TwinScene,
    decl: &PluginDecl,
    open: OpenPlugin,
) -> Result<LivePlugin> {
    let OpenPlugin { file, package, admission } = open;
    let manifest = &package.manifest;
    let spec = spec_for(twin, decl, manifest)?;
    let entities: Vec<EntityId> = spec.entities.ids.iter().map(|id| EntityId::new(id.clone())).collect();
    let role = manifest.role;
    if decl.feed.is_some() && role != Role::Adapter {
        bail!("feed is for adapters; `{}` is a {role} plugin: remove feed", manifest.id);
    }
    let feed = match &decl.feed {
        Some(path) => {
            let bytes = sangam_plugins::package::read_bounded(path)?;
            Some((path.file_name().map_or_else(|| decl.id.clone(), |n| n.to_string_lossy().into_owned()), bytes))
        }
        None => None,
    };
    let step = spec.step;
    if twin.plugin_policy.hot_reload {
        supervisor.add_file(spec, &file)?;
    } else {
        supervisor.add(spec, package.component_bytes())?;
    }
    Ok(LivePlugin { id: decl.id.clone(), role, entities, feed, step, next_step: 0, overlay: None, admission })
}

/// The host-side spec of a declared plugin: limits from the manifest, parameters checked against it,
/// capabilities granted only where requested, granted entities in scene order.
pub fn spec_for(twin: &TwinScene, decl: &PluginDecl, manifest: &Manifest) -> Result<PluginSpec> {
    let mut spec = PluginSpec::new(decl.id.clone(), manifest.role, manifest.sdk);
    spec.limits = scene_limits(twin, decl, manifest)?;
    let scene_params: Vec<(String, ParamValue)> = decl
        .params
        .iter()
        .map(|(name, v)| {
            let value = match v {
                ParamLiteral::Number(x) => ParamValue::Number(*x),
                ParamLiteral::Integer(i) => ParamValue::Integer(*i),
                ParamLiteral::Bool(b) => ParamValue::Boolean(*b),
                ParamLiteral::Text(t) => ParamValue::Text(t.clone()),
            };
            (name.clone(), value)
        })
        .collect();
    spec.params = manifest.resolve_params(&scene_params)?;
    let requested = manifest.requested_capabilities();
    for g in &decl.grant {
        let (asked, slot) = match g.as_str() {
            "read-data" => (requested.read_data, &mut spec.capabilities.read_data),
            "wall-clock" => (requested.wall_clock, &mut spec.capabilities.wall_clock),
            "random" => (requested.random, &mut spec.capabilities.random),
            "create-entities" => (requested.create_entities, &mut spec.capabilities.create_entities),
            other => bail!("unknown capability `{other}`"),
        };
        if !asked {
            bail!(
                "grant = [\"{g}\"] but the plugin's manifest does not request {g}; remove it from grant (a scene \
                 grants only what a plugin asked for)"
            );
        }
        *slot = true;
    }
    spec.data_dir = decl.data_dir.clone();
    if let Some(ms) = decl.step_ms {
        spec.step = Duration::from_millis(ms);
    }
    let all = decl.entities.is_empty() && decl.kinds.is_empty();
    let mut table = EntityTable::default();
    for e in &twin.entities {
        if all || decl.entities.contains(&e.id) || decl.kinds.contains(&e.kind) {
            table.push(e.id.as_str(), e.kind.clone(), entity_position(twin, e.link.as_ref()).to_array());
        }
    }
    if manifest.role == Role::Adapter {
        // An adapter writes only what it was granted: the scene's other entities are off limits.
        let foreign: HashSet<String> = twin
            .entities
            .iter()
            .map(|e| e.id.as_str())
            .filter(|id| !table.ids.iter().any(|g| g == id))
            .map(str::to_owned)
            .collect();
        spec.foreign_ids = Arc::new(foreign);
    }
    spec.entities = table;
    Ok(spec)
}

/// The manifest's limits, lowered by the scene: `[plugins.limits]` may only lower each (a higher
/// value is an error naming both), and `[plugin_policy] max_call_ms` caps every plugin's time per
/// call (a lowered budget is logged).
pub fn scene_limits(twin: &TwinScene, decl: &PluginDecl, manifest: &Manifest) -> Result<Limits> {
    let mut limits = manifest.limits();
    let asked = &decl.limits;
    let lower = |key: &str, scene: Option<u64>, manifest: u64| -> Result<u64> {
        match scene {
            Some(v) if v > manifest => bail!(
                "[plugins.limits] {key} = {v} is above the manifest's {manifest}; a scene may only lower a plugin's limits"
            ),
            Some(v) => Ok(v),
            None => Ok(manifest),
        }
    };
    limits.memory_bytes = lower("memory-mb", asked.memory_mb, limits.memory_bytes >> 20)? << 20;
    limits.output_bytes = lower("output-mb", asked.output_mb, limits.output_bytes >> 20)? << 20;
    limits.host_calls_per_call =
        lower("host-calls", asked.host_calls, u64::from(limits.host_calls_per_call))?.try_into().unwrap_or(u32::MAX);
    let call_ms = lower("call-ms", asked.call_ms, limits.call_time.as_millis().try_into().unwrap_or(u64::MAX))?;
    let max = twin.plugin_policy.max_call_ms;
    if call_ms > max {
        tracing::info!(
            plugin = %decl.id,
            "the manifest asks for {call_ms} ms per call; the scene's policy allows {max} ms (plugin_policy.max_call_ms)"
        );
    }
    limits.call_time = Duration::from_millis(call_ms.min(max));
    limits.fuel_per_call = match (asked.fuel, limits.fuel_per_call) {
        (Some(v), Some(m)) => Some(lower("fuel", Some(v), m)?),
        (Some(v), None) => Some(v),
        (None, m) => m,
    };
    Ok(limits)
}

/// Where an entity is in the site frame: its placement, instance member, or the centroid of its
/// feature's footprint at roof height (the origin when it links to nothing).
pub fn entity_position(twin: &TwinScene, link: Option<&EntityLink>) -> glam::DVec3 {
    match link {
        Some(EntityLink::Placement(id)) => twin.placement(id).map_or(glam::DVec3::ZERO, |p| p.position),
        Some(EntityLink::InstanceMember(group, i)) => twin
            .instance_groups
            .iter()
            .find(|g| &g.id == group)
            .and_then(|g| g.members.get(*i))
            .map_or(glam::DVec3::ZERO, |m| m.position),
        Some(EntityLink::Feature(f)) => {
            twin.layers.iter().find_map(|l| l.buildings_with_id(f).next()).map_or(glam::DVec3::ZERO, |b| {
                let n = b.outer.len().max(1) as f64;
                let c = b.outer.iter().fold(glam::DVec2::ZERO, |a, p| a + *p) / n;
                glam::DVec3::new(c.x, c.y, b.base_m + b.height_m)
            })
        }
        None => glam::DVec3::ZERO,
    }
}

/// What a plugin sees of the twin: the granted entities' latest values and recent numeric history
/// ([`SNAPSHOT_HISTORY`] per series, [`SNAPSHOT_SAMPLE_BUDGET`] in all).
pub fn snapshot_of(store: &TwinStore, entities: &[EntityId]) -> TwinSnapshot {
    let mut snap = TwinSnapshot::new();
    let mut budget = SNAPSHOT_SAMPLE_BUDGET;
    for (i, id) in entities.iter().enumerate() {
        let Some(entity) = store.entity(id) else { continue };
        let index = i as u32;
        for (name, value) in &entity.properties {
            match value {
                PropertyValue::Text(t) => snap.set_text(index, name, t.clone()),
                PropertyValue::Bool(b) => snap.set_number(index, name, if *b { 1.0 } else { 0.0 }),
                other => {
                    if let Some(v) = other.as_f64() {
                        snap.set_number(index, name, v);
                    }
                    if let Some(series) = store.series(id, name)
                        && budget > 0
                    {
                        let take = SNAPSHOT_HISTORY.min(budget).min(series.len());
                        budget -= take;
                        let recent: Vec<(SimTime, f64)> =
                            series.iter().rev().take(take).filter_map(|(t, v)| Some((t, v.as_f64()?))).collect();
                        for (t, v) in recent.into_iter().rev() {
                            snap.push_sample(index, name, t.as_micros(), v);
                        }
                    }
                }
            }
        }
    }
    snap
}

fn value_with_unit(value: f64, unit: &str) -> PropertyValue {
    if unit.is_empty() {
        PropertyValue::Number(value)
    } else {
        PropertyValue::Quantity { value, unit: Unit::parse(unit) }
    }
}

/// Applies a simulation's checked updates (entity indices into its granted list) to the store.
fn apply(store: &mut TwinStore, entities: &[EntityId], updates: &PropertyUpdates, report: &mut TickReport) {
    let t = SimTime::from_micros(updates.time);
    // Refusals are counted, and logged once per batch with the first reason (a batch may hold a
    // million values; a line each would flood the log from the frame thread).
    let mut refused = 0usize;
    let mut first: Option<String> = None;
    let mut refuse = |why: &dyn Fn() -> String| {
        refused += 1;
        if first.is_none() {
            first = Some(why());
        }
    };
    for column in &updates.numbers {
        for (e, &v) in column.entity_indices().zip(&column.values) {
            let Some(id) = entities.get(e as usize) else {
                refuse(&|| format!("entity index {e} is not granted"));
                continue;
            };
            match store.record(id, &column.property, t, value_with_unit(v, &column.unit)) {
                Ok(()) => report.values_applied += 1,
                Err(error) => refuse(&|| format!("{id} {}: {error}", column.property)),
            }
        }
    }
    for text in &updates.texts {
        let Some(id) = entities.get(text.entity as usize) else {
            refuse(&|| format!("entity index {} is not granted", text.entity));
            continue;
        };
        match store.record(id, &text.property, t, PropertyValue::Text(text.value.clone())) {
            Ok(()) => report.values_applied += 1,
            Err(error) => refuse(&|| format!("{id} {}: {error}", text.property)),
        }
    }
    report.values_refused += refused;
    if let Some(first) = first {
        tracing::warn!("{refused} plugin updates refused by the twin store (first: {first})");
    }
}

/// Applies an adapter's output: entities it discovered (kept out when the id exists), then its
/// updates (entity indices into its own keys).
fn apply_adapter(store: &mut TwinStore, out: &sangam_plugins::AdapterOutput, report: &mut TickReport) {
    let t = SimTime::from_micros(out.updates.time);
    for e in &out.entities {
        let id = EntityId::new(e.id.clone());
        if store.entity(&id).is_none() {
            let mut entity = sangam_twin::Entity::new(id, e.kind.clone());
            if !e.name.is_empty() {
                entity.name = Some(e.name.clone());
            }
            if let Err(error) = store.add_entity(t, entity) {
                tracing::warn!(entity = %e.id, %error, "adapter entity refused");
            }
        }
    }
    // The host checked every key against the adapter's grant (granted, or created by it): a key the
    // store does not have is refused and counted, never created here.
    let keys: Vec<EntityId> = out.keys.iter().map(|k| EntityId::new(k.clone())).collect();
    apply(store, &keys, &out.updates, report);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_files_are_found_in_the_scene_folder_then_the_search_path() {
        let dir = std::env::temp_dir().join(format!("sangam-find-{}", std::process::id()));
        let (scene_dir, extra) = (dir.join("scene"), dir.join("extra"));
        std::fs::create_dir_all(&scene_dir).unwrap();
        std::fs::create_dir_all(&extra).unwrap();
        std::fs::write(extra.join("p.wasm"), b"x").unwrap();
        assert_eq!(find_plugin_file("p.wasm", &scene_dir, std::slice::from_ref(&extra)).unwrap(), extra.join("p.wasm"));
        std::fs::write(scene_dir.join("p.wasm"), b"y").unwrap();
        assert_eq!(
            find_plugin_file("p.wasm", &scene_dir, std::slice::from_ref(&extra)).unwrap(),
            scene_dir.join("p.wasm")
        );
        let e = find_plugin_file("missing.wasm", &scene_dir, &[extra]).unwrap_err().to_string();
        assert!(e.contains("missing.wasm") && e.contains(PLUGIN_PATH_VAR) && e.contains("looked in"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_snapshot_holds_at_most_its_sample_budget_and_every_latest_value() {
        // 600 properties of 512 samples on one entity: 307,200 samples, over the budget.
        let mut store = TwinStore::new();
        let id = EntityId::new("tower");
        store.add_entity(SimTime::ZERO, sangam_twin::Entity::new(id.clone(), "telecom.site")).unwrap();
        for p in 0..600 {
            let name = format!("kpi{p}");
            for t in 0..512 {
                store.record(&id, &name, SimTime::from_micros(t), PropertyValue::Number(t as f64)).unwrap();
            }
        }
        let snap = snapshot_of(&store, std::slice::from_ref(&id));
        use sangam_plugins::TwinView;
        let mut held = 0;
        for p in 0..600 {
            let name = format!("kpi{p}");
            assert_eq!(snap.number(0, &name), Some(511.0), "the latest value of {name} is always there");
            snap.samples(0, &name, i64::MIN, i64::MAX, &mut |_, _| held += 1);
        }
        assert_eq!(held, SNAPSHOT_SAMPLE_BUDGET);
    }

    #[test]
    fn updates_land_in_the_store_and_bad_indices_are_refused() {
        let mut store = TwinStore::new();
        let ids = vec![EntityId::new("a"), EntityId::new("b")];
        for id in &ids {
            store.add_entity(SimTime::ZERO, sangam_twin::Entity::new(id.clone(), "sensor")).unwrap();
        }
        let updates = PropertyUpdates {
            time: 1_000_000,
            numbers: vec![
                sangam_plugins::NumberColumn::listed("load", "%", vec![0, 1, 7], vec![10.0, 20.0, 30.0]),
                // A full column (SDK 1.2): one value per granted entity, in order.
                sangam_plugins::NumberColumn {
                    property: "temperature".into(),
                    unit: String::new(),
                    entities: sangam_plugins::ColumnEntities::All,
                    values: vec![31.5, 29.0],
                },
            ],
            texts: vec![],
        };
        let mut report = TickReport::default();
        apply(&mut store, &ids, &updates, &mut report);
        assert_eq!((report.values_applied, report.values_refused), (4, 1));
        let (_, full) = store.latest(&ids[1], "temperature").unwrap();
        assert_eq!(full.as_f64(), Some(29.0));
        let (t, v) = store.latest(&ids[1], "load").unwrap();
        assert_eq!((t, v.as_f64()), (SimTime::from_secs(1), Some(20.0)));
        // The snapshot a plugin sees next has the value and its history.
        let snap = snapshot_of(&store, &ids);
        use sangam_plugins::TwinView;
        assert_eq!(snap.number(1, "load"), Some(20.0));
        let mut seen = Vec::new();
        snap.samples(0, "load", 0, i64::MAX, &mut |t, v| seen.push((t, v)));
        assert_eq!(seen, vec![(1_000_000, 10.0)]);
    }
}
