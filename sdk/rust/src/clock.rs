//! The simulation clock.

use crate::TimeUs;

/// The current simulation time in microseconds.
///
/// ```
/// let now = sangam_sdk::clock::now();
/// # let _ = now;
/// ```
pub fn now() -> TimeUs {
    crate::host::now()
}

/// The scene's fixed simulation step in microseconds.
pub fn step_us() -> i64 {
    crate::host::step_us()
}
