//! Logging into the runtime's log, tagged with the plugin id. The host rate-limits and truncates
//! messages to 4096 bytes, so log what helps an operator, not every entity.
//!
//! ```
//! let skipped = 3;
//! sangam_sdk::log::warn!("skipped {skipped} bad rows");
//! sangam_sdk::info!("ready");
//! ```

pub use crate::__bindings::simulation::sangam::plugin::log::Level;
pub use crate::{debug, error, info, trace, warn};

/// Writes `message` at `level`.
pub fn write(level: Level, message: &str) {
    crate::host::log(level, message);
}

/// Logs a `format!`-style message at [`Level::Trace`].
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)*)) };
}

/// Logs a `format!`-style message at [`Level::Debug`].
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)*)) };
}

/// Logs a `format!`-style message at [`Level::Info`].
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)*)) };
}

/// Logs a `format!`-style message at [`Level::Warn`].
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)*)) };
}

/// Logs a `format!`-style message at [`Level::Error`].
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)*)) };
}

/// How many problems [`Problems`] logs one by one before it logs only every 1000th.
pub const LOGGED_ONE_BY_ONE: u64 = 5;

/// A count of skipped input (bad rows, records, fields), logged sparsely: the first
/// [`LOGGED_ONE_BY_ONE`] one by one, then every 1000th with the count so far, so a flood of bad input
/// neither floods the log nor goes unsaid.
///
/// ```
/// let mut problems = sangam_sdk::log::Problems::default();
/// problems.skipped("counts", "line 7: no count");
/// assert_eq!(problems.count(), 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    count: u64,
}

impl Problems {
    /// Problems so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts one problem of `source` (`what` was skipped), logging it if it is one of those logged.
    pub fn skipped(&mut self, source: &str, what: &str) {
        self.count += 1;
        let nth = self.count;
        if nth <= LOGGED_ONE_BY_ONE || nth.is_multiple_of(1000) {
            write(Level::Warn, &format!("{source}: skipped {what}; {nth} problems so far"));
        }
    }
}
