//! The three plugin roles as Rust traits.

use crate::overlay::OverlayFrame;
use crate::{AdapterOutput, EntityTable, ParameterSpec, SourceInfo, TimeUs, Updates};

/// One simulation step: advance from [`now`](Tick::now) by [`dt_us`](Tick::dt_us) microseconds.
///
/// ```
/// let tick = sangam_sdk::Tick { now: 10_000_000, dt_us: 500_000 };
/// assert_eq!(tick.dt_seconds(), 0.5);
/// assert_eq!(tick.end(), 10_500_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    /// Simulation time at the start of the step, in microseconds.
    pub now: TimeUs,
    /// Step length in microseconds (the scene's fixed simulation step).
    pub dt_us: i64,
}

impl Tick {
    /// The step length in seconds.
    pub fn dt_seconds(&self) -> f64 {
        crate::seconds(self.dt_us)
    }

    /// The time the step's results are valid at: `now + dt_us` (saturating).
    pub fn end(&self) -> TimeUs {
        self.now.saturating_add(self.dt_us)
    }
}

/// A data adapter: turns messages from a host-run source (file replay, MQTT, HTTP, ...) into entities
/// and property updates. Export it with [`export_adapter!`](crate::export_adapter).
///
/// An adapter has no network or file access of its own; the bytes come from the host. It cannot read
/// the twin either (the adapter world does not import `twin`).
///
/// ```
/// use sangam_sdk::{Adapter, AdapterOutput, SourceInfo, Updates};
///
/// /// Reads messages of the form `ID=VALUE` into property `level`.
/// struct Level;
///
/// impl Adapter for Level {
///     fn init() -> Result<Self, String> {
///         Ok(Level)
///     }
///
///     fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String> {
///         let text = std::str::from_utf8(payload).map_err(|e| format!("{}: not UTF-8: {e}", source.source))?;
///         let (id, value) = text.trim().split_once('=').ok_or("expected ID=VALUE")?;
///         let value: f64 = value.parse().map_err(|e| format!("bad value {value:?}: {e}"))?;
///         let updates = Updates::new(source.received).number("level", "m", &[0], &[value]);
///         Ok(AdapterOutput::new(vec![id.to_string()], updates))
///     }
/// }
///
/// sangam_sdk::export_adapter!(Level);
/// # fn main() {}
/// ```
pub trait Adapter: Sized + 'static {
    /// Called once after instantiation; the parameters are readable through
    /// [`params`](crate::params). An error disables the plugin and is shown to the user.
    fn init() -> Result<Self, String>;

    /// Parses one message. An error is reported with the source name; the plugin keeps running.
    fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String>;

    /// The parameters this plugin understands (exported as `describe-parameters`). Keep it in step
    /// with the `[[parameter]]` tables of `plugin.toml`.
    fn parameters() -> Vec<ParameterSpec> {
        Vec::new()
    }
}

/// A simulation model: advances in fixed steps over the entities the scene granted it, reading their
/// properties through [`twin`](crate::twin) and returning new values. Export it with
/// [`export_simulation!`](crate::export_simulation). See the [crate example](crate).
pub trait Simulation: Sized + 'static {
    /// Called once after instantiation with the granted entities; their order fixes the entity
    /// indices used by every later call. An error disables the plugin.
    fn init(entities: EntityTable) -> Result<Self, String>;

    /// Advances the model by one tick. The returned updates should be stamped [`Tick::end`]; they are
    /// applied to the twin after the call. Called once per tick for all entities.
    fn step(&mut self, tick: Tick) -> Result<Updates, String>;

    /// The parameters this plugin understands (exported as `describe-parameters`).
    fn parameters() -> Vec<ParameterSpec> {
        Vec::new()
    }
}

/// An overlay: draws primitives (labels, markers, lines, heatmaps, volumes, alerts) from the twin's
/// state. Export it with [`export_overlay!`](crate::export_overlay).
///
/// ```
/// use sangam_sdk::overlay::{OverlayFrame, color};
/// use sangam_sdk::{EntityTable, Overlay, TimeUs, twin};
///
/// /// Writes every entity's `level` above it.
/// struct Levels {
///     table: EntityTable,
///     all: Vec<u32>,
/// }
///
/// impl Overlay for Levels {
///     fn init(table: EntityTable) -> Result<Self, String> {
///         let all = (0..table.ids.len() as u32).collect();
///         Ok(Levels { table, all })
///     }
///
///     fn draw(&mut self, _now: TimeUs) -> Result<OverlayFrame, String> {
///         let mut frame = OverlayFrame::new();
///         for (&i, level) in self.all.iter().zip(twin::numbers("level", &self.all)) {
///             if let (Some(p), true) = (self.table.position(i), level.is_finite()) {
///                 frame = frame.label([p[0], p[1], p[2] + 5.0], format!("{level:.1} m"), color::WHITE, 2.0);
///             }
///         }
///         Ok(frame)
///     }
/// }
///
/// sangam_sdk::export_overlay!(Levels);
/// # fn main() {}
/// ```
pub trait Overlay: Sized + 'static {
    /// Called once after instantiation with the granted entities. An error disables the plugin.
    fn init(entities: EntityTable) -> Result<Self, String>;

    /// Draws the overlay for simulation time `now`. The frame replaces the previous one.
    fn draw(&mut self, now: TimeUs) -> Result<OverlayFrame, String>;

    /// The parameters this plugin understands (exported as `describe-parameters`).
    fn parameters() -> Vec<ParameterSpec> {
        Vec::new()
    }
}
