//! Errors of the plugin host. A [`PluginFault`] is something a running plugin did (trap, overrun,
//! malformed output); a [`PluginError`] is anything that stops a plugin from being loaded or run,
//! including faults. Every message names the plugin, the call and the cause.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::contract::{Role, SdkVersion};

/// The plugin call a fault happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// Creating the instance (linking, start functions).
    Instantiate,
    /// `init`.
    Init,
    /// Adapter `parse`.
    Parse,
    /// Simulation `step`.
    Step,
    /// Overlay `draw`.
    Draw,
    /// 1.1 `describe-parameters`.
    Describe,
}

impl Call {
    /// The WIT name of the call.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Instantiate => "instantiate",
            Call::Init => "init",
            Call::Parse => "parse",
            Call::Step => "step",
            Call::Draw => "draw",
            Call::Describe => "describe-parameters",
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a plugin call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultCause {
    /// The plugin trapped (panic, unreachable, out-of-bounds access, stack overflow, invalid UTF-8 in
    /// a lifted string, ...).
    #[error("trapped: {message}{}", backtrace_suffix(.backtrace))]
    Trap {
        /// What wasmtime reported.
        message: String,
        /// The innermost wasm frames (function names), innermost first; empty when unknown.
        backtrace: Vec<String>,
    },
    /// The call ran past its time budget and was interrupted by the epoch deadline.
    #[error("ran past its time budget of {} ms per call and was interrupted (raise `limits.call_time` or make the call cheaper)", .budget.as_millis())]
    DeadlineExceeded {
        /// The budget per call.
        budget: Duration,
    },
    /// The plugin tried to grow its memory past its cap.
    #[error("tried to grow its memory to {requested} bytes, over its limit of {limit} bytes")]
    MemoryLimit {
        /// The cap in bytes.
        limit: u64,
        /// The size it asked for.
        requested: u64,
    },
    /// The call used up its fuel budget (the wasm's instructions plus one unit per entity or sample
    /// the host read for it).
    #[error("ran out of fuel ({fuel} units per call, host reads included)")]
    OutOfFuel {
        /// Fuel per call.
        fuel: u64,
    },
    /// The output was larger than the output cap.
    #[error("returned more than {limit} bytes of output (strings plus 8 bytes per number)")]
    OutputTooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The output broke a rule of the contract.
    #[error("returned malformed output at `{field}`: {problem}")]
    MalformedOutput {
        /// The field, e.g. `labels.colors[7]` or `numbers[0].values[12]`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Too many host calls (log, twin reads) in one plugin call.
    #[error("made more than {limit} host calls in one call (host-call flood)")]
    HostCallFlood {
        /// Host calls allowed per plugin call.
        limit: u32,
    },
    /// Host calls of one plugin call made the host do more work (entities named, samples visited)
    /// than one call may.
    #[error(
        "made the host read more than {limit} entities and samples in one call (read less per call, or ask \
         for aggregates)"
    )]
    HostWorkExceeded {
        /// Work units per call.
        limit: u64,
    },
    /// One read named more entities than a read may.
    #[error("asked `{call}` for {asked} entities in one read; a read names at most {limit} (read in batches)")]
    ReadTooLarge {
        /// The host function.
        call: &'static str,
        /// Entities named.
        asked: usize,
        /// The most a read may name.
        limit: usize,
    },
    /// The plugin used a WASI function that needs a capability the scene did not grant.
    #[error("called `{call}`, which needs the `{capability}` grant; the scene did not grant it")]
    Ungranted {
        /// The WASI function.
        call: &'static str,
        /// The capability it needs.
        capability: &'static str,
    },
    /// A call did not come back within its budget plus the supervisor's grace: its pool thread was
    /// given up and replaced.
    #[error(
        "did not return within its time budget of {} ms plus {} ms (blocked outside WebAssembly); its worker \
         thread was replaced",
        .budget.as_millis(), .grace.as_millis()
    )]
    Blocked {
        /// The budget per call.
        budget: Duration,
        /// The grace the supervisor gave on top.
        grace: Duration,
    },
    /// The plugin went over a cap on what it may make the host keep.
    #[error("is over its cap of {limit} {what}")]
    OverCap {
        /// What is capped, e.g. `entities created`.
        what: &'static str,
        /// The cap.
        limit: u64,
    },
    /// The plugin returned an error from too many calls in the fault window.
    #[error("returned an error from {count} calls within {} s (last: {last})", .window.as_secs())]
    TooManyErrors {
        /// Errors counted.
        count: u32,
        /// The window.
        window: Duration,
        /// The last error, cleaned.
        last: String,
    },
    /// The plugin returned an error from `init`; the plugin is disabled. The text is cleaned
    /// ([`crate::text::clean`]) and cut to [`crate::text::MAX_MESSAGE_BYTES`].
    #[error("failed to initialise: {0}")]
    InitFailed(String),
    /// The plugin returned an error from `parse`, `step` or `draw`; it keeps running (until it does so
    /// too often: [`FaultCause::TooManyErrors`]). The text is cleaned and cut like `InitFailed`'s.
    #[error("returned an error: {0}")]
    Returned(String),
}

fn backtrace_suffix(frames: &[String]) -> String {
    if frames.is_empty() { String::new() } else { format!(" (wasm backtrace: {})", frames.join(" <- ")) }
}

impl FaultCause {
    /// Whether this cause throws the instance away (everything except an error the plugin returned
    /// from `parse`/`step`/`draw`).
    pub fn quarantines(&self) -> bool {
        !matches!(self, FaultCause::Returned(_))
    }
}

/// Something a running plugin did wrong, with the plugin id and the call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plugin `{plugin}` {call}: {cause}")]
pub struct PluginFault {
    /// The plugin id.
    pub plugin: String,
    /// The call.
    pub call: Call,
    /// What went wrong.
    pub cause: FaultCause,
}

/// Why a plugin could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin targets an SDK version this runtime does not implement.
    #[error(
        "plugin `{plugin}` is built for SDK {version}, which this runtime does not support (supported: {supported}); rebuild it against a supported sangam-sdk"
    )]
    UnsupportedSdk {
        /// The plugin id.
        plugin: String,
        /// Its SDK version.
        version: SdkVersion,
        /// The supported versions, e.g. `1.0.0, 1.1.0, 1.2.0`.
        supported: String,
    },
    /// The bytes are not a valid WebAssembly component (truncated, corrupt, a core module, ...).
    #[error(
        "plugin `{plugin}`: the component could not be compiled: {message}; rebuild it with `cargo build --target wasm32-wasip2`"
    )]
    Compile {
        /// The plugin id.
        plugin: String,
        /// wasmtime's reason.
        message: String,
    },
    /// The component imports something the host does not provide (or with another type).
    #[error(
        "plugin `{plugin}` ({role}, SDK {version}) needs an import this runtime does not provide: {message}; plugins may only import the `sangam:plugin` interfaces of their world and WASI"
    )]
    Link {
        /// The plugin id.
        plugin: String,
        /// Its role.
        role: Role,
        /// Its SDK version.
        version: SdkVersion,
        /// wasmtime's reason, which names the import.
        message: String,
    },
    /// The component does not export what its role requires.
    #[error("plugin `{plugin}` does not export the {role} interface of SDK {version}: {message}")]
    Exports {
        /// The plugin id.
        plugin: String,
        /// Its role.
        role: Role,
        /// Its SDK version.
        version: SdkVersion,
        /// wasmtime's reason.
        message: String,
    },
    /// A call was made that the plugin's role does not have (e.g. `draw` on a simulation).
    #[error("plugin `{plugin}` is a {role} plugin and has no `{call}` call")]
    WrongRole {
        /// The plugin id.
        plugin: String,
        /// Its role.
        role: Role,
        /// The call asked for.
        call: Call,
    },
    /// The granted data folder could not be opened.
    #[error("plugin `{plugin}`: cannot open its data folder {}: {message}", .path.display())]
    DataDir {
        /// The plugin id.
        plugin: String,
        /// The folder.
        path: PathBuf,
        /// The reason.
        message: String,
    },
    /// The component may not run in this runtime ([`crate::admission`]).
    #[error("plugin `{plugin}` cannot run: {reason}")]
    Refused {
        /// The plugin id.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// No plugin with this id is loaded.
    #[error("no plugin `{0}` is loaded")]
    UnknownPlugin(String),
    /// A plugin with this id is already loaded.
    #[error("a plugin `{0}` is already loaded; ids must be unique")]
    DuplicatePlugin(String),
    /// The engine could not be created.
    #[error("cannot create the plugin engine: {0}")]
    Engine(String),
    /// A running plugin faulted.
    #[error(transparent)]
    Fault(#[from] PluginFault),
}
