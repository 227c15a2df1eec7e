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
