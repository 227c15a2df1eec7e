//! Loading a plugin (compile, link, pre-instantiate) and running one instance of it: the store,
//! its limits, the calls, and turning whatever happens into checked output or a [`PluginFault`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::{Store, Trap, WasmBacktrace};
use wasmtime_wasi::{Deterministic, FsPerms, WasiCtxBuilder};

use crate::bindings::{v1_0, v1_1, v1_2, v1_3};
use crate::cache::CacheOutcome;
use crate::contract::{Capabilities, Limits, ParamValue, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};
use crate::engine::PluginEngine;
use crate::error::{Call, FaultCause, PluginError, PluginFault};
use crate::geometry::SiteGeometry;
use crate::host::{FrozenClock, LogLine, PluginState, StateInit, StepOutput};
use crate::output::{AdapterOutput, AdapterWrites, Checker, OverlayFrame, ParameterSpec, PropertyUpdates, Raster};
use crate::text::{self, MAX_MESSAGE_BYTES};
use crate::twin::{EmptyTwin, TwinView};

/// The entities a scene grants a plugin. Entry `i` of each list describes entity `i`; plugins refer
/// to entities by that index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityTable {
    /// Entity ids.
    pub ids: Vec<String>,
    /// Entity kinds.
    pub kinds: Vec<String>,
    /// Positions in the site frame (metres east, north, up).
    pub positions: Vec<[f64; 3]>,
}

impl EntityTable {
    /// Number of entities.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends an entity.
    pub fn push(&mut self, id: impl Into<String>, kind: impl Into<String>, position: [f64; 3]) {
        self.ids.push(id.into());
        self.kinds.push(kind.into());
        self.positions.push(position);
    }
}

/// Everything the host needs to run a plugin, as plain data (the manifest and the scene fill it).
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// Plugin id (unique in a runtime; names the plugin in every message).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// The SDK version it was built against (picks the bindings).
    pub sdk: SdkVersion,
    /// Its limits.
    pub limits: Limits,
    /// What the scene granted.
    pub capabilities: Capabilities,
    /// The host folder preopened read-only as `/data` when `capabilities.read_data` is granted.
    pub data_dir: Option<PathBuf>,
    /// Parameter values (`params.get`).
    pub params: Vec<(String, ParamValue)>,
    /// Granted entities: what the plugin reads and (adapters) writes.
    pub entities: EntityTable,
    /// Adapters: ids of the entities the scene declares and did not grant; the adapter may neither
    /// write nor create them.
    pub foreign_ids: Arc<HashSet<String>>,
    /// The fixed simulation step (`clock.step-us`).
    pub step: Duration,
    /// The scene's buildings and roads (SDK 1.3 `geometry`), handed over only with the
    /// `site-geometry` grant.
    pub geometry: Arc<SiteGeometry>,
}

impl PluginSpec {
    /// A spec with default limits, nothing granted, no parameters, no entities and a 100 ms step.
    pub fn new(id: impl Into<String>, role: Role, sdk: SdkVersion) -> Self {
        PluginSpec {
            id: id.into(),
            role,
            sdk,
            limits: Limits::default(),
            capabilities: Capabilities::default(),
            data_dir: None,
            params: Vec::new(),
            entities: EntityTable::default(),
            foreign_ids: Arc::default(),
            step: Duration::from_millis(100),
            geometry: Arc::new(SiteGeometry::new()),
        }
    }

    /// Sets a parameter (builder style).
    pub fn param(mut self, name: impl Into<String>, value: ParamValue) -> Self {
        self.params.push((name.into(), value));
        self
    }
}

/// Where a message for an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Source name from the scene file.
    pub source: String,
    /// Media type, or empty.
    pub content_type: String,
    /// Simulation time the host received the message (microseconds).
    pub received: i64,
}

enum Pre {
    Adapter10(v1_0::adapter::AdapterPluginPre<PluginState>),
    Simulation10(v1_0::simulation::SimulationPluginPre<PluginState>),
    Overlay10(v1_0::overlay::OverlayPluginPre<PluginState>),
    Adapter11(v1_1::adapter::AdapterPluginPre<PluginState>),
    Simulation11(v1_1::simulation::SimulationPluginPre<PluginState>),
    Overlay11(v1_1::overlay::OverlayPluginPre<PluginState>),
    Adapter12(v1_2::adapter::AdapterPluginPre<PluginState>),
    Simulation12(v1_2::simulation::SimulationPluginPre<PluginState>),
    Overlay12(v1_2::overlay::OverlayPluginPre<PluginState>),
    Adapter13(v1_3::adapter::AdapterPluginPre<PluginState>),
    Simulation13(v1_3::simulation::SimulationPluginPre<PluginState>),
    Overlay13(v1_3::overlay::OverlayPluginPre<PluginState>),
}

enum Bound {
    Adapter10(v1_0::adapter::AdapterPlugin),
    Simulation10(v1_0::simulation::SimulationPlugin),
    Overlay10(v1_0::overlay::OverlayPlugin),
    Adapter11(v1_1::adapter::AdapterPlugin),
    Simulation11(v1_1::simulation::SimulationPlugin),
    Overlay11(v1_1::overlay::OverlayPlugin),
    Adapter12(v1_2::adapter::AdapterPlugin),
    Simulation12(v1_2::simulation::SimulationPlugin),
    Overlay12(v1_2::overlay::OverlayPlugin),
    Adapter13(v1_3::adapter::AdapterPlugin),
    Simulation13(v1_3::simulation::SimulationPlugin),
    Overlay13(v1_3::overlay::OverlayPlugin),
}

/// A compiled, linked plugin, ready to instantiate (again and again: restarts reuse it).
pub struct LoadedPlugin {
    engine: PluginEngine,
    spec: Arc<PluginSpec>,
    pre: Pre,
    table: v1_1::types::EntityTable,
    params: Arc<HashMap<String, ParamValue>>,
    cache: CacheOutcome,
    recent: Arc<Mutex<VecDeque<LogLine>>>,
    /// Adapters: the granted entity ids, and the ids the adapter created (kept across restarts).
    writes: Arc<AdapterGrant>,
}

/// What a plugin may write and has written, shared by its instances (so a restart does not reset
/// its caps).
#[derive(Debug, Default)]
struct AdapterGrant {
    /// Adapters: the granted entity ids.
    granted: HashSet<String>,
    /// Adapters: the ids it created.
    created: Mutex<HashSet<String>>,
    /// The property names it wrote ([`crate::output::MAX_PROPERTY_NAMES`] at most).
    properties: Mutex<HashSet<String>>,
    /// The map layers it handed over ([`crate::output::MAX_RASTER_LAYERS`] at most).
    layers: Mutex<HashSet<String>>,
}

impl AdapterGrant {
    fn charge_properties(&self, updates: &PropertyUpdates) -> Result<(), FaultCause> {
        let mut known = self.properties.lock().unwrap_or_else(|p| p.into_inner());
        crate::output::charge_property_names(updates, &mut known)
    }

    /// Refuses maps that would take the plugin past [`crate::output::MAX_RASTER_LAYERS`] layers over
    /// its life: the host keeps the newest map of every layer.
    fn charge_layers(&self, rasters: &[Raster]) -> Result<(), FaultCause> {
        let mut known = self.layers.lock().unwrap_or_else(|p| p.into_inner());
        let new: HashSet<&str> =
            rasters.iter().map(|r| r.layer.as_str()).filter(|layer| !known.contains(*layer)).collect();
        if known.len() + new.len() > crate::output::MAX_RASTER_LAYERS {
            return Err(FaultCause::OverCap { what: "map layers", limit: crate::output::MAX_RASTER_LAYERS as u64 });
        }
        known.extend(new.into_iter().map(str::to_owned));
        Ok(())
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin").field("spec", &self.spec).field("cache", &self.cache).finish_non_exhaustive()
    }
}

/// Checks that this runtime implements `version` (any patch of a supported major.minor).
pub fn check_sdk_version(plugin: &str, version: SdkVersion) -> Result<(), PluginError> {
    if SUPPORTED_SDK_VERSIONS.iter().any(|v| v.major == version.major && v.minor == version.minor) {
        Ok(())
    } else {
        Err(PluginError::UnsupportedSdk {
            plugin: plugin.to_owned(),
            version,
            supported: SUPPORTED_SDK_VERSIONS.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
        })
    }
}

impl LoadedPlugin {
    /// Compiles (or loads from the cache) and links `component` for `spec`.
    pub fn load(engine: &PluginEngine, spec: PluginSpec, component: &[u8]) -> Result<LoadedPlugin, PluginError> {
        check_sdk_version(&spec.id, spec.sdk)?;
        let linker = engine.linker(spec.sdk, spec.role).ok_or_else(|| PluginError::UnsupportedSdk {
            plugin: spec.id.clone(),
            version: spec.sdk,
            supported: SUPPORTED_SDK_VERSIONS.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
        })?;
        if spec.entities.ids.len() != spec.entities.kinds.len()
            || spec.entities.ids.len() != spec.entities.positions.len()
        {
            return Err(PluginError::Engine(format!(
                "plugin `{}`: the entity table's lists differ in length ({} ids, {} kinds, {} positions)",
                spec.id,
                spec.entities.ids.len(),
                spec.entities.kinds.len(),
                spec.entities.positions.len()
            )));
        }
        crate::admission::check_component_imports(&spec.id, component)?;
        let (component, cache) = engine.compile(&spec.id, component)?;
        let instance_pre = linker.instantiate_pre(&component).map_err(|e| PluginError::Link {
            plugin: spec.id.clone(),
            role: spec.role,
            version: spec.sdk,
            message: format!("{e:#}"),
        })?;
        let exports = |e: wasmtime::Error| PluginError::Exports {
            plugin: spec.id.clone(),
            role: spec.role,
            version: spec.sdk,
            message: format!("{e:#}"),
        };
        let pre = match (spec.sdk.minor, spec.role) {
            (0, Role::Adapter) => Pre::Adapter10(v1_0::adapter::AdapterPluginPre::new(instance_pre).map_err(exports)?),
            (0, Role::Simulation) => {
                Pre::Simulation10(v1_0::simulation::SimulationPluginPre::new(instance_pre).map_err(exports)?)
            }
            (0, Role::Overlay) => Pre::Overlay10(v1_0::overlay::OverlayPluginPre::new(instance_pre).map_err(exports)?),
            (1, Role::Adapter) => Pre::Adapter11(v1_1::adapter::AdapterPluginPre::new(instance_pre).map_err(exports)?),
            (1, Role::Simulation) => {
                Pre::Simulation11(v1_1::simulation::SimulationPluginPre::new(instance_pre).map_err(exports)?)
            }
            (1, Role::Overlay) => Pre::Overlay11(v1_1::overlay::OverlayPluginPre::new(instance_pre).map_err(exports)?),
            (2, Role::Adapter) => Pre::Adapter12(v1_2::adapter::AdapterPluginPre::new(instance_pre).map_err(exports)?),
            (2, Role::Simulation) => {
                Pre::Simulation12(v1_2::simulation::SimulationPluginPre::new(instance_pre).map_err(exports)?)
            }
            (2, Role::Overlay) => Pre::Overlay12(v1_2::overlay::OverlayPluginPre::new(instance_pre).map_err(exports)?),
            // 1.3 (`check_sdk_version` above refused every minor this runtime does not implement).
            (_, Role::Adapter) => Pre::Adapter13(v1_3::adapter::AdapterPluginPre::new(instance_pre).map_err(exports)?),
            (_, Role::Simulation) => {
                Pre::Simulation13(v1_3::simulation::SimulationPluginPre::new(instance_pre).map_err(exports)?)
            }
            (_, Role::Overlay) => Pre::Overlay13(v1_3::overlay::OverlayPluginPre::new(instance_pre).map_err(exports)?),
        };
        let table = v1_1::types::EntityTable {
            ids: spec.entities.ids.clone(),
            kinds: spec.entities.kinds.clone(),
            positions: spec.entities.positions.iter().flatten().copied().collect(),
        };
        let params = Arc::new(spec.params.iter().cloned().collect());
        let writes = Arc::new(AdapterGrant {
            granted: if spec.role == Role::Adapter {
                spec.entities.ids.iter().cloned().collect()
            } else {
                HashSet::new()
            },
            created: Mutex::new(HashSet::new()),
            properties: Mutex::new(HashSet::new()),
            layers: Mutex::new(HashSet::new()),
        });
        Ok(LoadedPlugin {
            engine: engine.clone(),
            spec: Arc::new(spec),
            pre,
            table,
            params,
            cache,
            recent: Arc::new(Mutex::new(VecDeque::new())),
            writes,
        })
    }

    /// The spec it was loaded with.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// Whether the compiled form came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// The most recent log lines of this plugin's instances (oldest first).
    pub fn recent_logs(&self) -> Vec<LogLine> {
        self.recent.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    fn wasi(
        &self,
    ) -> Result<(wasmtime_wasi::WasiCtx, (crate::host::CapturedStdio, crate::host::CapturedStdio)), PluginError> {
        let caps = &self.spec.capabilities;
        let stdio = PluginState::stdio();
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(stdio.0.clone())
            .stderr(stdio.1.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if !caps.wall_clock {
            builder.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
        }
        if !caps.random {
            // A fixed sequence per plugin id: deterministic runs, different plugins differ.
            let seed: Vec<u8> = <sha2::Sha256 as sha2::Digest>::digest(self.spec.id.as_bytes()).to_vec();
            builder
                .secure_random(Deterministic::new(seed.clone()))
                .insecure_random(Deterministic::new(seed))
                .insecure_random_seed(0x5a6a_a000);
        }
        if caps.read_data
            && let Some(dir) = &self.spec.data_dir
        {
            builder.preopened_dir(dir, "/data", FsPerms::ReadOnly).map_err(|e| PluginError::DataDir {
                plugin: self.spec.id.clone(),
                path: dir.clone(),
                message: format!("{e:#}"),
            })?;
        }
        Ok((builder.build(), stdio))
    }

    /// Creates a fresh instance and runs its `init`.
    pub fn instantiate(&self) -> Result<PluginInstance, PluginError> {
        let (wasi, stdio) = self.wasi()?;
        let limits = self.spec.limits;
        let init = StateInit {
            plugin: Arc::from(self.spec.id.as_str()),
            params: self.params.clone(),
            entity_count: self.table.ids.len() as u32,
            memory_limit: limits.memory_bytes,
            host_call_limit: limits.host_calls_per_call,
            call_time: limits.call_time,
            fuel_budget: if self.engine.options().fuel { limits.fuel_per_call } else { None },
            timers_granted: self.spec.capabilities.wall_clock,
            geometry: self.spec.capabilities.site_geometry.then(|| self.spec.geometry.clone()),
            step_us: self.spec.step.as_micros().min(i64::MAX as u128) as i64,
            recent: self.recent.clone(),
        };
        let mut store = Store::new(self.engine.engine(), PluginState::new(init, wasi, stdio));
        store.limiter(|state| &mut state.limiter);
        let mut instance = PluginInstance {
            store,
            bound: None,
            writes: self.writes.clone(),
            spec: self.spec.clone(),
            engine: self.engine.clone(),
            entity_count: self.table.ids.len(),
            rasters: Vec::new(),
        };
        let pre = &self.pre;
        let bound = instance.run(Call::Instantiate, 0, Arc::new(EmptyTwin), |store| {
            Ok(match pre {
                Pre::Adapter10(p) => Bound::Adapter10(p.instantiate(store)?),
                Pre::Simulation10(p) => Bound::Simulation10(p.instantiate(store)?),
                Pre::Overlay10(p) => Bound::Overlay10(p.instantiate(store)?),
                Pre::Adapter11(p) => Bound::Adapter11(p.instantiate(store)?),
                Pre::Simulation11(p) => Bound::Simulation11(p.instantiate(store)?),
                Pre::Overlay11(p) => Bound::Overlay11(p.instantiate(store)?),
                Pre::Adapter12(p) => Bound::Adapter12(p.instantiate(store)?),
                Pre::Simulation12(p) => Bound::Simulation12(p.instantiate(store)?),
                Pre::Overlay12(p) => Bound::Overlay12(p.instantiate(store)?),
                Pre::Adapter13(p) => Bound::Adapter13(p.instantiate(store)?),
                Pre::Simulation13(p) => Bound::Simulation13(p.instantiate(store)?),
                Pre::Overlay13(p) => Bound::Overlay13(p.instantiate(store)?),
            })
        })?;
        let table = &self.table;
        let result = instance.run(Call::Init, 0, Arc::new(EmptyTwin), |store| match &bound {
            Bound::Adapter10(b) => b.sangam_plugin_adapter().call_init(store),
            Bound::Simulation10(b) => b.sangam_plugin_simulation().call_init(store, table),
            Bound::Overlay10(b) => b.sangam_plugin_overlay().call_init(store, table),
            Bound::Adapter11(b) => b.sangam_plugin_adapter().call_init(store),
            Bound::Simulation11(b) => b.sangam_plugin_simulation().call_init(store, table),
            Bound::Overlay11(b) => b.sangam_plugin_overlay().call_init(store, table),
            Bound::Adapter12(b) => b.sangam_plugin_adapter().call_init(store),
            Bound::Simulation12(b) => b.sangam_plugin_simulation().call_init(store, table),
            Bound::Overlay12(b) => b.sangam_plugin_overlay().call_init(store, table),
            Bound::Adapter13(b) => b.sangam_plugin_adapter().call_init(store),
            Bound::Simulation13(b) => b.sangam_plugin_simulation().call_init(store, table),
            Bound::Overlay13(b) => b.sangam_plugin_overlay().call_init(store, table),
        })?;
        if let Err(message) = result {
            let message = text::cleaned(&message, MAX_MESSAGE_BYTES);
            return Err(instance.fault(Call::Init, FaultCause::InitFailed(message)).into());
        }
        instance.bound = Some(bound);
        Ok(instance)
    }
}

/// A live plugin instance: its own `Store` (memory, limits, WASI context). Throw it away after a
/// fault; make a new one with [`LoadedPlugin::instantiate`].
pub struct PluginInstance {
    store: Store<PluginState>,
    bound: Option<Bound>,
    writes: Arc<AdapterGrant>,
    spec: Arc<PluginSpec>,
    engine: PluginEngine,
    entity_count: usize,
    /// The maps the last successful step handed over (1.3 `output.raster`), until taken.
    rasters: Vec<Raster>,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance").field("plugin", &self.spec.id).finish_non_exhaustive()
    }
}

fn backtrace(error: &wasmtime::Error) -> Vec<String> {
    let Some(trace) = error.downcast_ref::<WasmBacktrace>() else { return Vec::new() };
    let mut names: Vec<String> = Vec::new();
    for frame in trace.frames() {
        // Function names come from the component's name section: the plugin's text.
        let short = text::cleaned(frame.func_name().unwrap_or("?"), 96);
        if names.last() != Some(&short) {
            names.push(short);
        }
        if names.len() == 4 {
            break;
        }
    }
    names
}

impl PluginInstance {
    /// The plugin id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The plugin's role.
    pub fn role(&self) -> Role {
        self.spec.role
    }

    fn fault(&self, call: Call, cause: FaultCause) -> PluginFault {
        PluginFault { plugin: self.spec.id.clone(), call, cause }
    }

    fn classify(&self, call: Call, error: wasmtime::Error) -> PluginFault {
        let state = self.store.data();
        let limits = &self.spec.limits;
        let cause = if let Some(cause) = &state.stopped {
            cause.clone()
        } else if let Some(requested) = state.limiter.refused {
            FaultCause::MemoryLimit { limit: limits.memory_bytes, requested }
        } else {
            match error.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => FaultCause::DeadlineExceeded { budget: self.time_budget(call) },
                Some(Trap::OutOfFuel) => FaultCause::OutOfFuel { fuel: limits.fuel_per_call.unwrap_or(0) },
                Some(trap) => FaultCause::Trap {
                    message: trap.to_string().trim_start_matches("wasm trap: ").to_owned(),
                    backtrace: backtrace(&error),
                },
                // Other errors can carry text the plugin chose (an exit code, a WASI error): clean it.
                None => FaultCause::Trap {
                    message: text::cleaned(&format!("{error:#}"), MAX_MESSAGE_BYTES),
                    backtrace: backtrace(&error),
                },
            }
        };
        self.fault(call, cause)
    }

    /// The wall-clock budget of `call`: the call budget, and for `init` time for its entity table.
    fn time_budget(&self, call: Call) -> Duration {
        let limits = &self.spec.limits;
        if call == Call::Init { limits.init_time(self.entity_count) } else { limits.call_time }
    }

    /// Runs `f` under this call's limits: epoch deadline, fuel, host-call count.
    fn run<R>(
        &mut self,
        call: Call,
        now: i64,
        twin: Arc<dyn TwinView>,
        f: impl FnOnce(&mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginFault> {
        let limits = self.spec.limits;
        let time = self.time_budget(call);
        {
            let state = self.store.data_mut();
            state.begin_call(now, twin, time);
            state.stopped = None;
            state.limiter.refused = None;
        }
        self.store.set_epoch_deadline(self.engine.ticks_for(time));
        if self.engine.options().fuel {
            let fuel = limits.fuel_per_call.unwrap_or(u64::MAX);
            if let Err(error) = self.store.set_fuel(fuel) {
                tracing::warn!(plugin = %self.spec.id, %error, "cannot set fuel");
            }
        }
        let result = f(&mut self.store);
        self.store.data_mut().end_call();
        let result = result.map_err(|error| self.classify(call, error))?;
        // Fuel pays for the wasm's instructions and for the host's work on its behalf.
        if self.engine.options().fuel
            && let Some(fuel) = limits.fuel_per_call
        {
            let used = fuel.saturating_sub(self.store.get_fuel().unwrap_or(0));
            if used.saturating_add(self.store.data().work()) > fuel {
                return Err(self.fault(call, FaultCause::OutOfFuel { fuel }));
            }
        }
        Ok(result)
    }

    fn wrong_role(&self, call: Call) -> PluginError {
        PluginError::WrongRole { plugin: self.spec.id.clone(), role: self.spec.role, call }
    }

    fn returned(&self, call: Call, result: Result<PluginOutputRaw, String>) -> Result<PluginOutputRaw, PluginError> {
        result.map_err(|message| {
            self.fault(call, FaultCause::Returned(text::cleaned(&message, MAX_MESSAGE_BYTES))).into()
        })
    }

    /// Simulation: advances the model from `now` by `dt_us`, reading the twin through `twin`.
    pub fn step(&mut self, now: i64, dt_us: i64, twin: Arc<dyn TwinView>) -> Result<PropertyUpdates, PluginError> {
        let Some(bound) = self.bound.take() else { return Err(self.wrong_role(Call::Step)) };
        let (output_limit, entity_count) = (self.spec.limits.output_bytes, self.entity_count);
        let fresh = move || StepOutput {
            checker: Checker::new(output_limit, entity_count),
            full_columns: Vec::new(),
            rasters: Vec::new(),
        };
        self.store.data_mut().step_output = Some(fresh());
        let result = self.run(Call::Step, now, twin, |store| match &bound {
            Bound::Simulation10(b) => b.sangam_plugin_simulation().call_step(store, now, dt_us).map(Some),
            Bound::Simulation11(b) => b.sangam_plugin_simulation().call_step(store, now, dt_us).map(Some),
            Bound::Simulation12(b) => b.sangam_plugin_simulation().call_step(store, now, dt_us).map(Some),
            Bound::Simulation13(b) => b.sangam_plugin_simulation().call_step(store, now, dt_us).map(Some),
            _ => Ok(None),
        });
        self.bound = Some(bound);
        let output = self.store.data_mut().step_output.take();
        let raw = match result? {
            Some(raw) => self.returned(Call::Step, raw.map(PluginOutputRaw::Updates))?,
            None => return Err(self.wrong_role(Call::Step)),
        };
        let PluginOutputRaw::Updates(raw) = raw else { return Err(self.wrong_role(Call::Step)) };
        // The step's own columns and the full columns it handed over share one output cap.
        // (`step_output` was set above; a fresh one stands in should it ever be missing.)
        let StepOutput { mut checker, full_columns, mut rasters } = output.unwrap_or_else(fresh);
        let mut updates = checker.updates("", raw).map_err(|cause| self.fault(Call::Step, cause))?;
        updates.numbers.extend(full_columns);
        // A step's output lies in its step: values at other times would be inserted into the middle
        // of existing series (each insert a copy of the series' tail).
        let end = now.saturating_add(dt_us.max(0));
        if !(now..=end).contains(&updates.time) {
            let cause = FaultCause::MalformedOutput {
                field: "time".into(),
                problem: format!(
                    "{} is outside this step ({now} to {end}); a step's updates are valid at now + dt-us",
                    updates.time
                ),
            };
            return Err(self.fault(Call::Step, cause).into());
        }
        crate::output::check_value_count(&updates, entity_count)
            .and_then(|()| self.writes.charge_properties(&updates))
            .and_then(|()| self.writes.charge_layers(&rasters))
            .map_err(|cause| self.fault(Call::Step, cause))?;
        // A map holds at the time of the step's updates; a later map of a layer in the same step wins.
        for raster in &mut rasters {
            raster.time = updates.time;
        }
        self.rasters = rasters;
        Ok(updates)
    }

    /// The maps the last successful step handed over (SDK 1.3 `output.raster`), oldest first; taking
    /// them leaves none until the next step.
    pub fn take_rasters(&mut self) -> Vec<Raster> {
        std::mem::take(&mut self.rasters)
    }

    /// Overlay: draws the frame for `now`, reading the twin through `twin`.
    pub fn draw(&mut self, now: i64, twin: Arc<dyn TwinView>) -> Result<OverlayFrame, PluginError> {
        let Some(bound) = self.bound.take() else { return Err(self.wrong_role(Call::Draw)) };
        let result = self.run(Call::Draw, now, twin, |store| match &bound {
            Bound::Overlay10(b) => b.sangam_plugin_overlay().call_draw(store, now).map(Some),
            Bound::Overlay11(b) => b.sangam_plugin_overlay().call_draw(store, now).map(Some),
            Bound::Overlay12(b) => b.sangam_plugin_overlay().call_draw(store, now).map(Some),
            Bound::Overlay13(b) => b.sangam_plugin_overlay().call_draw(store, now).map(Some),
            _ => Ok(None),
        });
        self.bound = Some(bound);
        let raw = match result? {
            Some(raw) => self.returned(Call::Draw, raw.map(PluginOutputRaw::Overlay))?,
            None => return Err(self.wrong_role(Call::Draw)),
        };
        let PluginOutputRaw::Overlay(raw) = raw else { return Err(self.wrong_role(Call::Draw)) };
        Checker::new(self.spec.limits.output_bytes, self.entity_count)
            .overlay(now, raw)
            .map_err(|cause| self.fault(Call::Draw, cause).into())
    }

    /// Adapter: parses one message.
    pub fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, PluginError> {
        let Some(bound) = self.bound.take() else { return Err(self.wrong_role(Call::Parse)) };
        // The same call for every version: only the bindings module differs.
        macro_rules! parse {
            ($v:ident, $b:expr, $store:expr) => {{
                let info = $v::adapter::exports::sangam::plugin::adapter::SourceInfo {
                    source: source.source.clone(),
                    content_type: source.content_type.clone(),
                    received: source.received,
                };
                Ok(Some($b.sangam_plugin_adapter().call_parse($store, &info, payload)?.map(|o| {
                    RawAdapter {
                        keys: o.keys,
                        entities: o
                            .entities
                            .into_iter()
                            .map(|e| (e.id, e.kind, e.name, e.latitude, e.longitude, e.altitude))
                            .collect(),
                        updates: o.updates,
                    }
                })))
            }};
        }
        let result = self.run(Call::Parse, source.received, Arc::new(EmptyTwin), |store| match &bound {
            Bound::Adapter10(b) => parse!(v1_0, b, store),
            Bound::Adapter11(b) => parse!(v1_1, b, store),
            Bound::Adapter12(b) => parse!(v1_2, b, store),
            Bound::Adapter13(b) => parse!(v1_3, b, store),
            _ => Ok(None),
        });
        self.bound = Some(bound);
        let raw = match result? {
            Some(raw) => self.returned(Call::Parse, raw.map(PluginOutputRaw::Adapter))?,
            None => return Err(self.wrong_role(Call::Parse)),
        };
        let PluginOutputRaw::Adapter(raw) = raw else { return Err(self.wrong_role(Call::Parse)) };
        let mut checker = Checker::new(self.spec.limits.output_bytes, 0);
        let mut created = self.writes.created.lock().unwrap_or_else(|p| p.into_inner());
        let writes = AdapterWrites {
            granted: &self.writes.granted,
            foreign: &self.spec.foreign_ids,
            created: &mut created,
            may_create: self.spec.capabilities.create_entities,
        };
        let entities =
            checker.adapter_parts(&raw.keys, raw.entities, writes).map_err(|c| self.fault(Call::Parse, c))?;
        drop(created);
        let updates = checker.updates("updates.", raw.updates).map_err(|c| self.fault(Call::Parse, c))?;
        crate::output::check_value_count(&updates, raw.keys.len())
            .and_then(|()| self.writes.charge_properties(&updates))
            .map_err(|c| self.fault(Call::Parse, c))?;
        Ok(AdapterOutput { keys: raw.keys, entities, updates })
    }

    /// 1.1: the parameters the plugin describes; `None` for 1.0 plugins (no `describe`).
    pub fn describe(&mut self) -> Result<Option<Vec<ParameterSpec>>, PluginError> {
        let Some(bound) = self.bound.take() else { return Ok(None) };
        type Spec = (String, String, v1_1::types::ParamValue, String, Option<f64>, Option<f64>);
        macro_rules! specs {
            ($list:expr) => {
                $list.into_iter().map(|s| (s.name, s.description, s.default, s.unit, s.minimum, s.maximum)).collect()
            };
        }
        let result = self.run(Call::Describe, 0, Arc::new(EmptyTwin), |store| -> wasmtime::Result<Option<Vec<Spec>>> {
            Ok(match &bound {
                Bound::Adapter11(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Simulation11(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Overlay11(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Adapter12(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Simulation12(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Overlay12(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Adapter13(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Simulation13(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                Bound::Overlay13(b) => Some(specs!(b.sangam_plugin_describe().call_describe_parameters(store)?)),
                _ => None,
            })
        });
        self.bound = Some(bound);
        let Some(specs) = result? else { return Ok(None) };
        let mut checker = Checker::new(self.spec.limits.output_bytes, 0);
        let mut out = Vec::with_capacity(specs.len().min(1024));
        for (i, (name, description, default, unit, minimum, maximum)) in specs.into_iter().enumerate() {
            checker.parameter(i, &name, &description, &unit).map_err(|c| self.fault(Call::Describe, c))?;
            let default = match default {
                v1_1::types::ParamValue::Number(v) => ParamValue::Number(v),
                v1_1::types::ParamValue::Integer(v) => ParamValue::Integer(v),
                v1_1::types::ParamValue::Boolean(v) => ParamValue::Boolean(v),
                v1_1::types::ParamValue::Text(v) => ParamValue::Text(v),
            };
            for (what, bound) in [("minimum", minimum), ("maximum", maximum)] {
                if let Some(v) = bound
                    && !v.is_finite()
                {
                    let cause = FaultCause::MalformedOutput {
                        field: format!("parameters[{i}].{what}"),
                        problem: format!("{v} is not a finite number"),
                    };
                    return Err(self.fault(Call::Describe, cause).into());
                }
            }
            // Checked for length above; escaping keeps every character.
            let description = text::cleaned(&description, usize::MAX);
            out.push(ParameterSpec { name, description, default, unit, minimum, maximum });
        }
        Ok(Some(out))
    }
}

struct RawAdapter {
    keys: Vec<String>,
    entities: Vec<(String, String, String, f64, f64, f64)>,
    updates: v1_1::types::Updates,
}

enum PluginOutputRaw {
    Updates(v1_1::types::Updates),
    Overlay(crate::bindings::v1_1::overlay::sangam::plugin::overlay_types::OverlayFrame),
    Adapter(RawAdapter),
}
