//! Types shared by the manifest, the loader and the runtime: roles, SDK versions, limits, parameters
//! and capabilities. Plain data, no wasmtime.

use std::fmt;
use std::time::Duration;

/// What a plugin does; one WIT world per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Parses raw messages from host-run sources into entities and property updates (`adapter-plugin`).
    Adapter,
    /// Advances a model in fixed steps over granted entities (`simulation-plugin`).
    Simulation,
    /// Turns a twin snapshot into overlay primitives (`overlay-plugin`).
    Overlay,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Adapter, Role::Simulation, Role::Overlay];

    /// The name used in manifests and on the command line (`adapter`, `simulation`, `overlay`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Adapter => "adapter",
            Role::Simulation => "simulation",
            Role::Overlay => "overlay",
        }
    }

    /// The WIT interface a plugin of this role exports (`adapter`, `simulation`, `overlay`).
    pub fn export_interface(self) -> &'static str {
        self.as_str()
    }

    /// The WIT world of this role (`adapter-plugin`, ...).
    pub fn world(self) -> &'static str {
        match self {
            Role::Adapter => "adapter-plugin",
            Role::Simulation => "simulation-plugin",
            Role::Overlay => "overlay-plugin",
        }
    }

    /// Parses a role name.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version of the `sangam:plugin` WIT package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SdkVersion {
    /// Major: a change here breaks plugins.
    pub major: u32,
    /// Minor: adds host functions and optional plugin interfaces.
    pub minor: u32,
    /// Patch: documentation and fixes only.
    pub patch: u32,
}

impl SdkVersion {
    /// Makes a version.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        SdkVersion { major, minor, patch }
    }

    /// Parses `MAJOR.MINOR.PATCH`.
    pub fn parse(text: &str) -> Option<SdkVersion> {
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(SdkVersion { major, minor, patch })
    }
}

impl fmt::Display for SdkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The released SDK versions this runtime implements, oldest first. Each has a frozen folder in
/// `sdk/wit/vX.Y.Z/`.
pub const SUPPORTED_SDK_VERSIONS: [SdkVersion; 4] =
    [SdkVersion::new(1, 0, 0), SdkVersion::new(1, 1, 0), SdkVersion::new(1, 2, 0), SdkVersion::new(1, 3, 0)];

/// Resource limits for one plugin instance. The manifest gives defaults; the scene may lower them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock budget for one call (init, parse, step or draw), enforced by epoch interruption.
    /// `init` gets more, for its entity table ([`Limits::init_time`]).
    pub call_time: Duration,
    /// Optional deterministic budget per call in wasmtime fuel units.
    pub fuel_per_call: Option<u64>,
    /// Largest output of one call, in bytes as the host counts them (strings + 8 bytes per number).
    pub output_bytes: u64,
    /// Most host calls (log, twin reads) per plugin call.
    pub host_calls_per_call: u32,
}

/// `init`'s extra time per entity of the plugin's table: handing over a table costs the host and
/// the plugin about 1.2 µs per entity (an id and a kind crossing into the plugin's memory; measured
/// on the 2-core test machine), which a scene of 100k entities must not turn into a fault.
pub const INIT_TIME_PER_ENTITY: Duration = Duration::from_micros(5);

impl Limits {
    /// The budget of `init` for a table of `entities`: the call budget plus [`INIT_TIME_PER_ENTITY`]
    /// per entity. The table's size is the scene's grant, not the plugin's choice.
    pub fn init_time(&self, entities: usize) -> Duration {
        let extra = INIT_TIME_PER_ENTITY.saturating_mul(u32::try_from(entities).unwrap_or(u32::MAX));
        self.call_time.saturating_add(extra)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            call_time: Duration::from_millis(50),
            fuel_per_call: None,
            output_bytes: 16 << 20,
            host_calls_per_call: 10_000,
        }
    }
}

/// A parameter value (mirrors the WIT `param-value`).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A real number.
    Number(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Boolean(bool),
    /// A text.
    Text(String),
}

/// Capabilities a manifest may request and a scene may grant. Nothing is granted by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Read-only access to a data folder, preopened as `/data` (the scene names the host folder).
    pub read_data: bool,
    /// Wall clock (`wasi:clocks/wall-clock`) and timers; without it the plugin sees a clock frozen
    /// at 0 and may not sleep or wait on timers.
    pub wall_clock: bool,
    /// Random numbers (`wasi:random`); without it the plugin gets a fixed, seeded sequence.
    pub random: bool,
    /// Adapters: create entities the scene does not declare (without it an adapter writes only the
    /// entities granted to it).
    pub create_entities: bool,
    /// Simulations and overlays of SDK 1.3: the scene's buildings and roads (`geometry`); without it a
    /// `geometry` call stops the plugin, naming the grant.
    pub site_geometry: bool,
}
