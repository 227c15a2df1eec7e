//! Read access to the granted part of the twin (simulation and overlay plugins; the adapter world
//! does not import it). Entities are indices into the plugin's [`EntityTable`](crate::EntityTable).
//!
//! Read many entities per call: [`numbers`] and [`aggregate`] take a slice of indices and answer with
//! one value per index, in one host call.
//!
//! ```
//! use sangam_sdk::twin::{self, Statistic};
//! let entities = [0, 1, 2];
//! let flow = twin::numbers("traffic.flow", &entities);
//! let hour_mean = twin::aggregate("traffic.flow", &entities, -3_600_000_000, 0, Statistic::Mean);
//! assert_eq!(flow.len(), 3);
//! assert_eq!(hour_mean.len(), 3);
//! ```

pub use crate::__bindings::simulation::sangam::plugin::twin::{HistoryWindow, Statistic};
use crate::TimeUs;

/// The most samples the host returns from one [`history`] call.
pub const MAX_HISTORY_SAMPLES: u32 = 65_536;

/// The latest value of numeric `property` for each of `entities`; NaN where the entity has no such
/// numeric property or the index is not in the table.
pub fn numbers(property: &str, entities: &[u32]) -> Vec<f64> {
    crate::host::numbers(property, entities)
}

/// The latest text of `property` for `entity`, if any.
pub fn text(entity: u32, property: &str) -> Option<String> {
    crate::host::text(entity, property)
}

/// Samples of numeric `property` of `entity` with `start <= time <= end`: the newest `max_samples`
/// at most (capped at [`MAX_HISTORY_SAMPLES`]), oldest first.
pub fn history(entity: u32, property: &str, start: TimeUs, end: TimeUs, max_samples: u32) -> HistoryWindow {
    crate::host::history(entity, property, start, end, max_samples.min(MAX_HISTORY_SAMPLES))
}

/// `statistic` of numeric `property` over `start <= time <= end` for each of `entities`, computed by
/// the host without copying the samples. NaN where an entity has no sample in the window (`Count`
/// gives 0).
pub fn aggregate(property: &str, entities: &[u32], start: TimeUs, end: TimeUs, statistic: Statistic) -> Vec<f64> {
    crate::host::aggregate(property, entities, start, end, statistic)
}
