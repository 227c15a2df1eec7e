//! The per-instance store data and the host side of the `sangam:plugin` imports, implemented once
//! and exposed to every SDK version.
//!
//! Host calls are metered: each counts against the call's host-call limit, checks the call's
//! wall-clock deadline (so time spent in the host counts against the plugin's budget, and a read
//! cannot run on after it), and charges its work (entities named, samples visited) against
//! [`MAX_HOST_WORK_PER_CALL`]. A read names at most [`MAX_READ_ENTITIES`] entities. Plugin text (log
//! lines, stdout and stderr) is cleaned ([`crate::text::clean`]) before it reaches the log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, format_err};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{v1_0, v1_1, v1_2, v1_3};
use crate::contract::ParamValue;
use crate::error::FaultCause;
use crate::geometry::SiteGeometry;
use crate::output::{Checker, NumberColumn, Raster, RasterGrid};
use crate::text;
use crate::twin::{EmptyTwin, TwinView};

/// Largest log message, in bytes; longer ones are truncated.
pub const MAX_LOG_BYTES: usize = 4096;
/// Largest history window the host returns, in samples.
pub const MAX_HISTORY_SAMPLES: u32 = 65_536;
/// Log messages a plugin may write in a burst before the rate limit drops messages.
pub const LOG_BURST: f64 = 100.0;
/// Log messages per second a plugin may write in the long run.
pub const LOG_RATE_PER_SEC: f64 = 50.0;
/// Bytes of stdout/stderr kept per call; the rest is dropped.
pub const MAX_STDIO_BYTES_PER_CALL: usize = 16 * 1024;
/// Recent log lines kept per instance for display.
pub const RECENT_LOG_LINES: usize = 64;
/// Most entities one `twin.numbers` or `twin.aggregate` call may name; a plugin reads more in batches.
pub const MAX_READ_ENTITIES: usize = 1 << 20;
/// Work the host does for one plugin call, in units of one entity named or one sample visited, summed
/// over every host call of that plugin call (16.7M: a full read of 100k entities is 100k).
pub const MAX_HOST_WORK_PER_CALL: u64 = 1 << 24;
/// How often (in work units) a long host call looks at the clock.
const DEADLINE_CHECK_EVERY: u64 = 4096;

/// A log line a plugin wrote (through `log` or stdout/stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Severity: `trace`, `debug`, `info`, `warn`, `error`; stdout is `info`, stderr `warn`.
    pub level: &'static str,
    /// The message, cleaned ([`crate::text::clean`]: control characters escaped, cut to
    /// [`MAX_LOG_BYTES`]).
    pub message: String,
}

/// Stdout or stderr of a plugin: kept in memory up to a cap per call, then written to the log.
#[derive(Clone)]
pub(crate) struct CapturedStdio {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CapturedStdio {
    fn new() -> Self {
        CapturedStdio { buffer: Arc::new(Mutex::new(Vec::new())) }
    }

    fn take(&self) -> Vec<u8> {
        match self.buffer.lock() {
            Ok(mut buffer) => std::mem::take(&mut *buffer),
            Err(_) => Vec::new(),
        }
    }
}

impl IsTerminal for CapturedStdio {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedStdio {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASI 0.3 (not linked) writes through this; give it a stream that fails.
        Box::new(wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(0))
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedStdio {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedStdio {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        if let Ok(mut buffer) = self.buffer.lock() {
            let room = MAX_STDIO_BYTES_PER_CALL.saturating_sub(buffer.len());
            buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always accept (and drop what is over the cap): a chatty plugin must not fail on println.
        Ok(64 * 1024)
    }
}

/// Memory limiter that remembers the first refused growth, so a trap that follows (a Rust guest
/// aborts when allocation fails) is reported as "memory limit" rather than "unreachable".
pub(crate) struct MemoryLimiter {
    pub(crate) limit: u64,
    pub(crate) refused: Option<u64>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.refused.get_or_insert(desired as u64);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The output of the `step` call that is running: its checker (output cap, entity count), the full
/// columns (1.2 `output.full-column`) and the maps (1.3 `output.raster`) handed over so far.
pub(crate) struct StepOutput {
    pub(crate) checker: Checker,
    pub(crate) full_columns: Vec<NumberColumn>,
    pub(crate) rasters: Vec<Raster>,
}

/// Token bucket for log messages.
struct LogBudget {
    tokens: f64,
    last: Instant,
    dropped: u64,
}

impl LogBudget {
    fn new() -> Self {
        LogBudget { tokens: LOG_BURST, last: Instant::now(), dropped: 0 }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * LOG_RATE_PER_SEC;
        self.tokens = (self.tokens + refill).min(LOG_BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}

/// Everything a plugin instance's `Store` holds.
pub(crate) struct PluginState {
    pub(crate) plugin: Arc<str>,
    params: Arc<HashMap<String, ParamValue>>,
    entity_count: u32,
    twin: Arc<dyn TwinView>,
    now: i64,
    step_us: i64,
    host_calls: u32,
    host_call_limit: u32,
    /// When the running call's time budget ends.
    deadline: Instant,
    /// The running call's time budget.
    budget: Duration,
    /// Host work charged to the running call (entities named, samples visited).
    work: u64,
    /// The call's fuel budget, when fuel is metered: host work is charged against it too.
    fuel_budget: Option<u64>,
    /// Whether the scene granted `wall-clock` (which lets the plugin wait on WASI timers).
    pub(crate) timers_granted: bool,
    /// The scene's buildings and roads, when the scene granted `site-geometry`.
    geometry: Option<Arc<SiteGeometry>>,
    /// Why a host function stopped the plugin, if one did.
    pub(crate) stopped: Option<FaultCause>,
    /// Set while `simulation.step` runs (the only call that may hand over full columns).
    pub(crate) step_output: Option<StepOutput>,
    pub(crate) limiter: MemoryLimiter,
    log_budget: LogBudget,
    recent: Arc<Mutex<VecDeque<LogLine>>>,
    wasi: WasiCtx,
    table: ResourceTable,
    stdout: CapturedStdio,
    stderr: CapturedStdio,
}

/// What a new [`PluginState`] needs.
pub(crate) struct StateInit {
    pub(crate) plugin: Arc<str>,
    pub(crate) params: Arc<HashMap<String, ParamValue>>,
    pub(crate) entity_count: u32,
    pub(crate) memory_limit: u64,
    pub(crate) host_call_limit: u32,
    pub(crate) call_time: Duration,
    pub(crate) fuel_budget: Option<u64>,
    pub(crate) timers_granted: bool,
    pub(crate) geometry: Option<Arc<SiteGeometry>>,
    pub(crate) step_us: i64,
    pub(crate) recent: Arc<Mutex<VecDeque<LogLine>>>,
}

impl PluginState {
    /// A fresh state. `wasi` is built by the caller from the grant; its stdout/stderr must be
    /// `stdout`/`stderr` made by [`PluginState::stdio`].
    pub(crate) fn new(init: StateInit, wasi: WasiCtx, stdio: (CapturedStdio, CapturedStdio)) -> Self {
        PluginState {
            plugin: init.plugin,
            params: init.params,
            entity_count: init.entity_count,
            twin: Arc::new(EmptyTwin),
            now: 0,
            step_us: init.step_us,
            host_calls: 0,
            host_call_limit: init.host_call_limit,
            deadline: Instant::now(),
            budget: init.call_time,
            work: 0,
            fuel_budget: init.fuel_budget,
            timers_granted: init.timers_granted,
            geometry: init.geometry,
            stopped: None,
            step_output: None,
            limiter: MemoryLimiter { limit: init.memory_limit, refused: None },
            log_budget: LogBudget::new(),
            recent: init.recent,
            wasi,
            table: ResourceTable::new(),
            stdout: stdio.0,
            stderr: stdio.1,
        }
    }

    /// A fresh pair of capture streams for stdout and stderr.
    pub(crate) fn stdio() -> (CapturedStdio, CapturedStdio) {
        (CapturedStdio::new(), CapturedStdio::new())
    }

    /// Prepares for one plugin call.
    pub(crate) fn begin_call(&mut self, now: i64, twin: Arc<dyn TwinView>, budget: Duration) {
        self.now = now;
        self.twin = twin;
        self.host_calls = 0;
        self.work = 0;
        self.budget = budget;
        self.deadline = Instant::now() + budget;
    }

    /// When the running call's time budget ends.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Host work charged to the running call so far.
    pub(crate) fn work(&self) -> u64 {
        self.work
    }

    /// Stops the plugin with `cause` (the host function returns the error this gives).
    pub(crate) fn stop(&mut self, cause: FaultCause) -> wasmtime::Error {
        let message = cause.to_string();
        self.stopped = Some(cause);
        format_err!("{message}")
    }

    /// Charges `units` of host work to the running call; stops the plugin when the call is over its
    /// work budget or its deadline (the clock is read once per [`DEADLINE_CHECK_EVERY`] units).
    fn charge(&mut self, units: u64) -> wasmtime::Result<()> {
        let before = self.work;
        self.work = self.work.saturating_add(units);
        if self.work > MAX_HOST_WORK_PER_CALL {
            return Err(self.stop(FaultCause::HostWorkExceeded { limit: MAX_HOST_WORK_PER_CALL }));
        }
        // With fuel metered, host work is paid in fuel too (one unit per entity or sample): the
        // wasm's own use is added when the call returns.
        if let Some(fuel) = self.fuel_budget
            && self.work > fuel
        {
            return Err(self.stop(FaultCause::OutOfFuel { fuel }));
        }
        if before / DEADLINE_CHECK_EVERY != self.work / DEADLINE_CHECK_EVERY && Instant::now() > self.deadline {
            return Err(self.stop(FaultCause::DeadlineExceeded { budget: self.budget }));
        }
        Ok(())
    }

    /// Refuses a read that names more than [`MAX_READ_ENTITIES`] entities.
    fn read_size(&mut self, call: &'static str, asked: usize) -> wasmtime::Result<()> {
        if asked > MAX_READ_ENTITIES {
            return Err(self.stop(FaultCause::ReadTooLarge { call, asked, limit: MAX_READ_ENTITIES }));
        }
        Ok(())
    }

    /// Ends a plugin call: releases the twin view and writes captured stdout/stderr to the log.
    pub(crate) fn end_call(&mut self) {
        self.twin = Arc::new(EmptyTwin);
        for (stream, level) in [(self.stdout.take(), "info"), (self.stderr.take(), "warn")] {
            if stream.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(&stream).into_owned();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                self.emit(level, line);
            }
        }
    }

    /// Counts one host call; stops the plugin when it floods or its time is up (time spent in the
    /// host counts against the plugin's budget).
    fn count(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.host_calls > self.host_call_limit {
            return Err(self.stop(FaultCause::HostCallFlood { limit: self.host_call_limit }));
        }
        if Instant::now() > self.deadline {
            return Err(self.stop(FaultCause::DeadlineExceeded { budget: self.budget }));
        }
        Ok(())
    }

    /// 1.2 `output.full-column`: checks the column now (so a bad one stops the plugin at the call that
    /// made it) and keeps it for the updates of the running step.
    fn full_column(&mut self, property: String, unit: String, values: Vec<f64>) -> wasmtime::Result<()> {
        self.count()?;
        self.charge(values.len() as u64)?;
        let result = match &mut self.step_output {
            Some(out) => {
                let index = out.full_columns.len();
                out.checker.full_column(index, property, unit, values).map(|column| out.full_columns.push(column))
            }
            None => Err(FaultCause::MalformedOutput {
                field: "full-column".into(),
                problem: "called outside `simulation.step` (full columns belong to a step's updates)".into(),
            }),
        };
        result.map_err(|cause| self.stop(cause))
    }

    /// 1.3 `output.raster`: checks the map now and keeps it for the running step.
    fn raster(&mut self, layer: String, unit: String, grid: RasterGrid, values: Vec<f32>) -> wasmtime::Result<()> {
        self.count()?;
        self.charge(values.len() as u64)?;
        let result = match &mut self.step_output {
            Some(out) => {
                let index = out.rasters.len();
                out.checker.raster(index, layer, unit, grid, values).map(|raster| out.rasters.push(raster))
            }
            None => Err(FaultCause::MalformedOutput {
                field: "raster".into(),
                problem: "called outside `simulation.step` (a map belongs to a step's output)".into(),
            }),
        };
        result.map_err(|cause| self.stop(cause))
    }

    /// The scene's geometry for a 1.3 `geometry` call, charged `units(geometry)` of work (one per
    /// point and id of the list handed over); without the `site-geometry` grant the call stops the
    /// plugin.
    fn geometry(
        &mut self,
        call: &'static str,
        units: fn(&SiteGeometry) -> usize,
    ) -> wasmtime::Result<Arc<SiteGeometry>> {
        self.count()?;
        let Some(geometry) = self.geometry.clone() else {
            return Err(self.stop(FaultCause::Ungranted { call, capability: "site-geometry" }));
        };
        self.charge(units(&geometry) as u64)?;
        Ok(geometry)
    }

    fn emit(&mut self, level: &'static str, message: &str) {
        if !self.log_budget.take() {
            return;
        }
        let dropped = std::mem::take(&mut self.log_budget.dropped);
        let message = text::clean(message, MAX_LOG_BYTES);
        let plugin = &*self.plugin;
        if dropped > 0 {
            tracing::warn!(target: "sangam_plugins::guest", plugin, "{dropped} log messages dropped (rate limit)");
        }
        match level {
            "trace" => tracing::trace!(target: "sangam_plugins::guest", plugin, "{message}"),
            "debug" => tracing::debug!(target: "sangam_plugins::guest", plugin, "{message}"),
            "info" => tracing::info!(target: "sangam_plugins::guest", plugin, "{message}"),
            "warn" => tracing::warn!(target: "sangam_plugins::guest", plugin, "{message}"),
            _ => tracing::error!(target: "sangam_plugins::guest", plugin, "{message}"),
        }
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == RECENT_LOG_LINES {
                recent.pop_front();
            }
            recent.push_back(LogLine { level, message: message.into_owned() });
        }
    }

    fn log(&mut self, level: &'static str, message: String) -> wasmtime::Result<()> {
        self.count()?;
        self.emit(level, &message);
        Ok(())
    }

    fn param(&mut self, name: String) -> wasmtime::Result<Option<v1_1::types::ParamValue>> {
        self.count()?;
        Ok(self.params.get(&name).map(|value| match value {
            ParamValue::Number(v) => v1_1::types::ParamValue::Number(*v),
            ParamValue::Integer(v) => v1_1::types::ParamValue::Integer(*v),
            ParamValue::Boolean(v) => v1_1::types::ParamValue::Boolean(*v),
            ParamValue::Text(v) => v1_1::types::ParamValue::Text(v.clone()),
        }))
    }

    fn numbers(&mut self, property: String, entities: Vec<u32>) -> wasmtime::Result<Vec<f64>> {
        self.count()?;
        self.read_size("twin.numbers", entities.len())?;
        self.charge(entities.len() as u64)?;
        let mut values = Vec::with_capacity(entities.len());
        self.twin.numbers(&property, &entities, self.entity_count, &mut values);
        Ok(values)
    }

    fn text(&mut self, entity: u32, property: String) -> wasmtime::Result<Option<String>> {
        self.count()?;
        if entity >= self.entity_count {
            return Ok(None);
        }
        Ok(self.twin.text(entity, &property))
    }

    fn history(
        &mut self,
        entity: u32,
        property: String,
        start: i64,
        end: i64,
        max: u32,
    ) -> wasmtime::Result<(Vec<i64>, Vec<f64>)> {
        self.count()?;
        let max = max.min(MAX_HISTORY_SAMPLES) as usize;
        if entity >= self.entity_count || max == 0 || start > end {
            return Ok((Vec::new(), Vec::new()));
        }
        // Keep the newest `max` samples without holding more than `max` at a time.
        let mut window: VecDeque<(i64, f64)> = VecDeque::new();
        let mut visited = 0u64;
        self.twin.samples(entity, &property, start, end, &mut |t, v| {
            visited += 1;
            if window.len() == max {
                window.pop_front();
            }
            window.push_back((t, v));
        });
        self.charge(visited)?;
        Ok(window.into_iter().unzip())
    }

    fn aggregate(
        &mut self,
        property: String,
        entities: Vec<u32>,
        start: i64,
        end: i64,
        statistic: Statistic,
    ) -> wasmtime::Result<Vec<f64>> {
        self.count()?;
        self.read_size("twin.aggregate", entities.len())?;
        self.charge(entities.len() as u64)?;
        let count = self.entity_count;
        let twin = self.twin.clone();
        let mut out = Vec::with_capacity(entities.len());
        for &e in &entities {
            if e >= count || start > end {
                out.push(if statistic == Statistic::Count { 0.0 } else { f64::NAN });
                continue;
            }
            let (value, visited) = aggregate(&*twin, e, &property, start, end, statistic);
            out.push(value);
            // Samples visited are work too: a read of many long series stops at the budget.
            self.charge(visited)?;
        }
        Ok(out)
    }
}

/// A statistic of `twin.aggregate` (1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statistic {
    Mean,
    Min,
    Max,
    Sum,
    Count,
    TimeWeightedMean,
}

/// Computes one statistic over a property's samples in `start..=end`, streaming (no copies).
/// Returns the statistic and the number of samples visited.
pub(crate) fn aggregate(
    twin: &dyn TwinView,
    entity: u32,
    property: &str,
    start: i64,
    end: i64,
    statistic: Statistic,
) -> (f64, u64) {
    let mut n = 0u64;
    let mut sum = 0.0f64;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    // Time-weighted: integral of the step function from the first sample to `end`.
    let mut integral = 0.0f64;
    let mut first_t: Option<i64> = None;
    let mut last: Option<(i64, f64)> = None;
    twin.samples(entity, property, start, end, &mut |t, v| {
        n += 1;
        sum += v;
        min = min.min(v);
        max = max.max(v);
        if let Some((lt, lv)) = last {
            integral += lv * (t - lt) as f64;
        }
        first_t.get_or_insert(t);
        last = Some((t, v));
    });
    if statistic == Statistic::Count {
        return (n as f64, n);
    }
    if n == 0 {
        return (f64::NAN, 0);
    }
    let value = match statistic {
        Statistic::Mean => sum / n as f64,
        Statistic::Min => min,
        Statistic::Max => max,
        Statistic::Sum => sum,
        Statistic::Count => n as f64,
        Statistic::TimeWeightedMean => {
            let (lt, lv) = last.unwrap_or((end, f64::NAN));
            integral += lv * (end - lt) as f64;
            let span = (end - first_t.unwrap_or(end)) as f64;
            if span > 0.0 { integral / span } else { lv }
        }
    };
    (value, n)
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Implements the host imports every 1.x version shares (`log`, `clock`, `params`, `twin`) for the
/// bindings module `$v`, all forwarding to the one implementation on [`PluginState`]. The braces hold
/// the functions a minor version added to its `twin` interface. Supporting a new 1.x minor is one
/// more invocation.
macro_rules! impl_host_1x {
    ($v:ident { $($twin_additions:tt)* }) => {
        impl $v::log::Host for PluginState {
            fn log(&mut self, level: $v::log::Level, message: String) -> wasmtime::Result<()> {
                let level = match level {
                    $v::log::Level::Trace => "trace",
                    $v::log::Level::Debug => "debug",
                    $v::log::Level::Info => "info",
                    $v::log::Level::Warn => "warn",
                    $v::log::Level::Error => "error",
                };
                PluginState::log(self, level, message)
            }
        }

        impl $v::clock::Host for PluginState {
            fn now(&mut self) -> wasmtime::Result<i64> {
                self.count()?;
                Ok(self.now)
            }
            fn step_us(&mut self) -> wasmtime::Result<i64> {
                self.count()?;
                Ok(self.step_us)
            }
        }

        impl $v::params::Host for PluginState {
            fn get(&mut self, name: String) -> wasmtime::Result<Option<v1_1::types::ParamValue>> {
                self.param(name)
            }
        }

        impl $v::twin::Host for PluginState {
            fn numbers(&mut self, property: String, entities: Vec<u32>) -> wasmtime::Result<Vec<f64>> {
                PluginState::numbers(self, property, entities)
            }
            fn text(&mut self, entity: u32, property: String) -> wasmtime::Result<Option<String>> {
                PluginState::text(self, entity, property)
            }
            fn history(
                &mut self,
                entity: u32,
                property: String,
                start: i64,
                end: i64,
                max_samples: u32,
            ) -> wasmtime::Result<$v::twin::HistoryWindow> {
                let (times, values) = PluginState::history(self, entity, property, start, end, max_samples)?;
                Ok($v::twin::HistoryWindow { times, values })
            }
            $($twin_additions)*
        }
    };
}

// The data types of every 1.x version are the 1.1 ones (see `bindings`): nothing to implement.
impl v1_1::types::Host for PluginState {}
impl crate::bindings::v1_1::overlay::sangam::plugin::overlay_types::Host for PluginState {}

impl_host_1x!(v1_0 {});

/// `twin.aggregate` (since 1.1) for the bindings module `$v`.
macro_rules! twin_aggregate {
    ($v:ident) => {
        fn aggregate(
            &mut self,
            property: String,
            entities: Vec<u32>,
            start: i64,
            end: i64,
            statistic: $v::twin::Statistic,
        ) -> wasmtime::Result<Vec<f64>> {
            let statistic = match statistic {
                $v::twin::Statistic::Mean => Statistic::Mean,
                $v::twin::Statistic::Min => Statistic::Min,
                $v::twin::Statistic::Max => Statistic::Max,
                $v::twin::Statistic::Sum => Statistic::Sum,
                $v::twin::Statistic::Count => Statistic::Count,
                $v::twin::Statistic::TimeWeightedMean => Statistic::TimeWeightedMean,
            };
            PluginState::aggregate(self, property, entities, start, end, statistic)
        }
    };
}

impl_host_1x!(v1_1 { twin_aggregate!(v1_1); });

impl_host_1x!(v1_2 { twin_aggregate!(v1_2); });

impl v1_2::output::Host for PluginState {
    fn full_column(&mut self, property: String, unit: String, values: Vec<f64>) -> wasmtime::Result<()> {
        PluginState::full_column(self, property, unit, values)
    }
}

impl_host_1x!(v1_3 { twin_aggregate!(v1_3); });

impl v1_3::output::Host for PluginState {
    fn full_column(&mut self, property: String, unit: String, values: Vec<f64>) -> wasmtime::Result<()> {
        PluginState::full_column(self, property, unit, values)
    }

    fn raster(
        &mut self,
        layer: String,
        unit: String,
        grid: v1_3::output::RasterGrid,
        values: Vec<f32>,
    ) -> wasmtime::Result<()> {
        let grid = RasterGrid {
            origin: [grid.origin.0, grid.origin.1, grid.origin.2],
            cell_size: grid.cell_size,
            columns: grid.columns,
            rows: grid.rows,
        };
        PluginState::raster(self, layer, unit, grid, values)
    }
}

impl v1_3::geometry::Host for PluginState {
    fn buildings(&mut self) -> wasmtime::Result<v1_3::geometry::SiteBuildings> {
        let geometry =
            self.geometry("geometry.buildings", |g| g.buildings().points.len() / 2 + g.buildings().ids.len())?;
        let b = geometry.buildings();
        Ok(v1_3::geometry::SiteBuildings {
            ids: b.ids.clone(),
            ring_starts: b.ring_starts.clone(),
            points: b.points.clone(),
            bases: b.bases.clone(),
            tops: b.tops.clone(),
        })
    }

    fn roads(&mut self) -> wasmtime::Result<v1_3::geometry::SiteRoads> {
        use crate::geometry::Oneway;
        let geometry = self.geometry("geometry.roads", |g| g.roads().points.len() / 2 + g.roads().ids.len())?;
        let r = geometry.roads();
        let oneway = r
            .oneway
            .iter()
            .map(|o| match o {
                Oneway::Both => v1_3::geometry::Oneway::Both,
                Oneway::Forward => v1_3::geometry::Oneway::Forward,
                Oneway::Backward => v1_3::geometry::Oneway::Backward,
            })
            .collect();
        Ok(v1_3::geometry::SiteRoads {
            ids: r.ids.clone(),
            line_starts: r.line_starts.clone(),
            points: r.points.clone(),
            classes: r.classes.clone(),
            oneway,
            lanes: r.lanes.clone(),
            max_speeds: r.max_speeds.clone(),
            widths: r.widths.clone(),
        })
    }
}

/// A clock stuck at zero: what a plugin without the wall-clock grant sees (deterministic runs).
pub(crate) struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}
