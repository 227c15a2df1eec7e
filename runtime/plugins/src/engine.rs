//! The wasmtime engine shared by every plugin of a runtime: configuration, the epoch ticker, the
//! compiled-component cache and one linker per SDK version and role.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{v1_0, v1_1, v1_2, v1_3};
use crate::cache::{CacheOutcome, ComponentCache};
use crate::contract::{Role, SdkVersion};
use crate::error::PluginError;
use crate::host::PluginState;

/// How the engine is set up. One engine serves a whole runtime.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How many plugin instances may be alive at once (sizes the pooling allocator).
    pub max_instances: u32,
    /// The largest memory any plugin may be granted, in bytes (sizes the pooling allocator's slots).
    pub max_memory_bytes: u64,
    /// Use the pooling allocator (fast instantiation, pre-reserved address space). If the pool
    /// cannot be reserved the engine falls back to on-demand allocation with a warning.
    pub pooling: bool,
    /// Enable fuel metering, so that [`crate::Limits::fuel_per_call`] can be enforced.
    pub fuel: bool,
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// How often the epoch advances: the granularity of per-call time budgets.
    pub epoch_period: Duration,
    /// Wasm stack per call, in bytes.
    pub max_wasm_stack: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_instances: 64,
            max_memory_bytes: 1 << 30,
            pooling: true,
            fuel: false,
            cache_dir: None,
            epoch_period: Duration::from_millis(1),
            max_wasm_stack: 512 * 1024,
        }
    }
}

/// Advances the engine's epoch on a thread; stops when dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

pub(crate) struct Linkers {
    pub(crate) v1_0: [Linker<PluginState>; 3],
    pub(crate) v1_1: [Linker<PluginState>; 3],
    pub(crate) v1_2: [Linker<PluginState>; 3],
    pub(crate) v1_3: [Linker<PluginState>; 3],
}

pub(crate) struct EngineInner {
    pub(crate) engine: Engine,
    pub(crate) options: EngineOptions,
    pub(crate) cache: Option<ComponentCache>,
    pub(crate) linkers: Linkers,
    pub(crate) pooling: bool,
    _ticker: EpochTicker,
}

/// The plugin engine: cheap to clone (shared).
#[derive(Clone)]
pub struct PluginEngine {
    pub(crate) inner: Arc<EngineInner>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("options", &self.inner.options)
            .field("pooling", &self.inner.pooling)
            .finish()
    }
}

fn config(options: &EngineOptions, pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.concurrency_support(false);
    config.epoch_interruption(true);
    config.consume_fuel(options.fuel);
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(32));
    config.max_wasm_stack(options.max_wasm_stack);
    if pooling {
        let n = options.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(16))
            .total_memories(n.saturating_mul(4))
            .total_tables(n.saturating_mul(8))
            .max_core_instances_per_component(32)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_memory_size(options.max_memory_bytes as usize);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn linker<F>(engine: &Engine, add: F) -> Result<Linker<PluginState>, PluginError>
where
    F: FnOnce(&mut Linker<PluginState>) -> wasmtime::Result<()>,
{
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
    crate::waits::bound_timers(&mut linker).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
    add(&mut linker).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
    Ok(linker)
}

fn linkers(engine: &Engine) -> Result<Linkers, PluginError> {
    type S = HasSelf<PluginState>;
    fn get(state: &mut PluginState) -> &mut PluginState {
        state
    }
    Ok(Linkers {
        v1_0: [
            linker(engine, |l| v1_0::adapter::AdapterPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_0::simulation::SimulationPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_0::overlay::OverlayPlugin::add_to_linker::<_, S>(l, get))?,
        ],
        v1_1: [
            linker(engine, |l| v1_1::adapter::AdapterPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_1::simulation::SimulationPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_1::overlay::OverlayPlugin::add_to_linker::<_, S>(l, get))?,
        ],
        v1_2: [
            linker(engine, |l| v1_2::adapter::AdapterPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_2::simulation::SimulationPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_2::overlay::OverlayPlugin::add_to_linker::<_, S>(l, get))?,
        ],
        v1_3: [
            linker(engine, |l| v1_3::adapter::AdapterPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_3::simulation::SimulationPlugin::add_to_linker::<_, S>(l, get))?,
            linker(engine, |l| v1_3::overlay::OverlayPlugin::add_to_linker::<_, S>(l, get))?,
        ],
    })
}

pub(crate) fn role_index(role: Role) -> usize {
    match role {
        Role::Adapter => 0,
        Role::Simulation => 1,
        Role::Overlay => 2,
    }
}

impl PluginEngine {
    /// Creates the engine, its epoch ticker thread and (if configured) its component cache.
    pub fn new(options: EngineOptions) -> Result<PluginEngine, PluginError> {
        let (engine, pooling) = match Engine::new(&config(&options, options.pooling)) {
            Ok(engine) => (engine, options.pooling),
            Err(error) if options.pooling => {
                tracing::warn!(%error, "cannot reserve the plugin instance pool; using on-demand allocation");
                let engine =
                    Engine::new(&config(&options, false)).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
                (engine, false)
            }
            Err(error) => return Err(PluginError::Engine(format!("{error:#}"))),
        };
        let cache = match &options.cache_dir {
            Some(dir) => match ComponentCache::new(dir, &engine) {
                Ok(cache) => Some(cache),
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "cannot use the compiled-component cache; compiling every time");
                    None
                }
            },
            None => None,
        };
        let linkers = linkers(&engine)?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.weak();
        let ticker_stop = stop.clone();
        let period = options.epoch_period.max(Duration::from_micros(100));
        let thread = std::thread::Builder::new()
            .name("sangam-plugin-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(period);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| PluginError::Engine(format!("cannot start the epoch ticker thread: {e}")))?;
        let ticker = EpochTicker { stop, thread: Some(thread) };
        Ok(PluginEngine { inner: Arc::new(EngineInner { engine, options, cache, linkers, pooling, _ticker: ticker }) })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether the pooling allocator is in use.
    pub fn is_pooling(&self) -> bool {
        self.inner.pooling
    }

    /// The compiled-component cache, if any.
    pub fn cache(&self) -> Option<&ComponentCache> {
        self.inner.cache.as_ref()
    }

    /// The options the engine was made with.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// Epoch ticks that make up `budget` (at least 1, rounded up).
    pub(crate) fn ticks_for(&self, budget: Duration) -> u64 {
        let period = self.inner.options.epoch_period.max(Duration::from_micros(100)).as_nanos();
        (budget.as_nanos().div_ceil(period) as u64).max(1)
    }

    /// Compiles `bytes` (or loads the cached compiled form).
    pub fn compile(&self, plugin: &str, bytes: &[u8]) -> Result<(Component, CacheOutcome), PluginError> {
        let started = Instant::now();
        if let Some(cache) = &self.inner.cache
            && let Some(component) = cache.load(&self.inner.engine, bytes)
        {
            tracing::debug!(plugin, elapsed = ?started.elapsed(), "loaded compiled plugin from cache");
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(&self.inner.engine, bytes)
            .map_err(|e| PluginError::Compile { plugin: plugin.to_owned(), message: format!("{e:#}") })?;
        tracing::debug!(plugin, elapsed = ?started.elapsed(), "compiled plugin");
        let outcome = match &self.inner.cache {
            Some(cache) => match cache.store(bytes, &component) {
                Ok(()) => CacheOutcome::Miss,
                Err(error) => {
                    tracing::warn!(plugin, %error, "cannot write the compiled-component cache");
                    CacheOutcome::Uncached
                }
            },
            None => CacheOutcome::Uncached,
        };
        Ok((component, outcome))
    }

    pub(crate) fn linker(&self, version: SdkVersion, role: Role) -> Option<&Linker<PluginState>> {
        let set = match (version.major, version.minor) {
            (1, 0) => &self.inner.linkers.v1_0,
            (1, 1) => &self.inner.linkers.v1_1,
            (1, 2) => &self.inner.linkers.v1_2,
            (1, 3) => &self.inner.linkers.v1_3,
            _ => return None,
        };
        Some(&set[role_index(role)])
    }
}
