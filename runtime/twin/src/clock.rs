//! Simulation time and the simulation clock.
//!
//! [`SimTime`] is an integer count of microseconds since the session's epoch (totally ordered, no
//! NaN). [`SimClock`] turns real elapsed time into a whole number of fixed simulation steps, with a
//! rate (paused, 1x, Nx) and a cap on steps per advance so a slow frame cannot trigger a spiral of
//! death.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A simulation timestamp: microseconds since the session epoch (may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct SimTime(pub i64);

impl SimTime {
    /// The epoch.
    pub const ZERO: SimTime = SimTime(0);

    /// From whole microseconds.
    pub const fn from_micros(us: i64) -> Self {
        Self(us)
    }

    /// From whole milliseconds (saturating).
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1_000))
    }

    /// From whole seconds (saturating).
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1_000_000))
    }

    /// From seconds, rounded to the nearest microsecond; saturates at the `i64` range and maps NaN
    /// to the epoch.
    pub fn from_secs_f64(s: f64) -> Self {
        // `as` saturates and maps NaN to 0.
        Self((s * 1e6).round() as i64)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-6
    }

    /// This time plus `us` microseconds (saturating).
    pub const fn saturating_add_micros(self, us: i64) -> Self {
        Self(self.0.saturating_add(us))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6} s", self.as_secs_f64())
    }
}

/// An invalid clock setting.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClockError {
    /// The fixed step must be at least one microsecond.
    #[error("the fixed simulation step must be at least 1 µs (got {0:?})")]
    FixedStep(Duration),
    /// The rate must be finite and not negative.
    #[error("the clock rate must be a finite number >= 0 (got {0})")]
    Rate(f64),
    /// The cap on steps per advance must be at least 1.
    #[error("the maximum number of steps per advance must be at least 1")]
    MaxSteps,
}

/// A fixed-step simulation clock.
///
/// Each [`advance`](SimClock::advance) adds `real_dt × rate` to an accumulator and returns how many
/// whole fixed steps to run; the simulation time moves by exactly that many steps. At most
/// `max_steps` steps are returned per call: simulated time beyond that is dropped (and counted in
/// [`dropped`](SimClock::dropped)) so that a slow frame does not cause ever longer frames.
#[derive(Debug, Clone, PartialEq)]
pub struct SimClock {
    start: SimTime,
    now: SimTime,
    fixed_dt_us: i64,
    rate: f64,
    paused: bool,
    max_steps: u32,
    accumulator_us: i64,
    steps: u64,
    dropped_us: i64,
}

impl SimClock {
    /// Default cap on steps per [`advance`](SimClock::advance).
    pub const DEFAULT_MAX_STEPS: u32 = 8;

    /// A clock at `start`, running at 1x, stepping by `fixed_dt` (at least 1 µs, whole microseconds).
    pub fn new(start: SimTime, fixed_dt: Duration) -> Result<Self, ClockError> {
        let us = i64::try_from(fixed_dt.as_micros()).unwrap_or(i64::MAX);
        if us < 1 {
            return Err(ClockError::FixedStep(fixed_dt));
        }
        Ok(Self {
            start,
            now: start,
            fixed_dt_us: us,
            rate: 1.0,
            paused: false,
            max_steps: Self::DEFAULT_MAX_STEPS,
            accumulator_us: 0,
            steps: 0,
            dropped_us: 0,
        })
    }

    /// Sets the cap on steps per advance (at least 1).
    pub fn set_max_steps(&mut self, max_steps: u32) -> Result<(), ClockError> {
        if max_steps == 0 {
            return Err(ClockError::MaxSteps);
        }
        self.max_steps = max_steps;
        Ok(())
    }

    /// Sets the rate: 1.0 is real time, 10.0 ten times faster, 0.0 equivalent to paused.
    pub fn set_rate(&mut self, rate: f64) -> Result<(), ClockError> {
        if !rate.is_finite() || rate < 0.0 {
            return Err(ClockError::Rate(rate));
        }
        self.rate = rate;
        Ok(())
    }

    /// The rate (kept while paused).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Pauses: [`advance`](SimClock::advance) returns 0 until [`resume`](SimClock::resume).
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Resumes at the previous rate.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Whether the clock is paused (or its rate is 0).
    pub fn is_paused(&self) -> bool {
        self.paused || self.rate == 0.0
    }

    /// Advances by `real_dt` of wall-clock time; returns the number of fixed steps to run now.
    pub fn advance(&mut self, real_dt: Duration) -> u32 {
        if self.is_paused() {
            return 0;
        }
        let sim_us = (real_dt.as_secs_f64() * self.rate * 1e6).round();
        // `as` saturates; keep the accumulator far from overflow.
        let sim_us = (sim_us as i64).min(i64::MAX / 4);
        self.accumulator_us = self.accumulator_us.saturating_add(sim_us);
        let wanted = self.accumulator_us / self.fixed_dt_us;
        let steps = wanted.min(i64::from(self.max_steps));
        self.accumulator_us -= steps * self.fixed_dt_us;
        if wanted > steps {
            // Drop whole steps we cannot afford; keep the fractional remainder.
            let excess = self.accumulator_us - self.accumulator_us % self.fixed_dt_us;
            self.accumulator_us -= excess;
            self.dropped_us = self.dropped_us.saturating_add(excess);
        }
        self.commit_steps(steps);
        steps as u32
    }

    /// Runs exactly one step, even while paused (single-stepping); returns the new time.
    pub fn step_once(&mut self) -> SimTime {
        self.commit_steps(1);
        self.now
    }

    fn commit_steps(&mut self, steps: i64) {
        self.now = self.now.saturating_add_micros(steps.saturating_mul(self.fixed_dt_us));
        self.steps = self.steps.saturating_add(steps as u64);
    }

    /// The current simulation time (advances in whole fixed steps).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The start time.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// Simulated time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(self.now.0.saturating_sub(self.start.0).max(0) as u64)
    }

    /// The fixed step.
    pub fn fixed_dt(&self) -> Duration {
        Duration::from_micros(self.fixed_dt_us as u64)
    }

    /// Steps run since the start.
    pub fn step_count(&self) -> u64 {
        self.steps
    }

    /// Fraction (0..1) of a step accumulated but not yet run: the interpolation factor between
    /// the last two simulation states for rendering.
    pub fn alpha(&self) -> f64 {
        self.accumulator_us as f64 / self.fixed_dt_us as f64
    }

    /// Simulated time dropped by the step cap.
    pub fn dropped(&self) -> Duration {
        Duration::from_micros(self.dropped_us.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn sim_time_conversions() {
        assert_eq!(SimTime::from_secs(2), SimTime::from_millis(2_000));
        assert_eq!(SimTime::from_secs_f64(1.5).as_micros(), 1_500_000);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e300).as_micros(), i64::MAX);
        assert!(SimTime::from_secs(-1) < SimTime::ZERO);
        assert_eq!(SimTime::from_millis(1500).to_string(), "1.500000 s");
    }

    #[test]
    fn fixed_steps_accumulate_fractions() {
        let mut c = SimClock::new(SimTime::ZERO, ms(10)).unwrap();
        assert_eq!(c.advance(ms(4)), 0);
        assert_eq!(c.advance(ms(4)), 0);
        assert_eq!(c.advance(ms(4)), 1); // 12 ms accumulated
        assert_eq!(c.now(), SimTime::from_millis(10));
        assert!((c.alpha() - 0.2).abs() < 1e-9);
        assert_eq!(c.advance(ms(38)), 4); // 2 + 38 = 40 ms
        assert_eq!(c.now(), SimTime::from_millis(50));
        assert_eq!(c.step_count(), 5);
    }

    #[test]
    fn rate_and_pause() {
        let mut c = SimClock::new(SimTime::from_secs(100), ms(10)).unwrap();
        c.set_rate(3.0).unwrap();
        assert_eq!(c.advance(ms(20)), 6);
        c.pause();
        assert!(c.is_paused());
        assert_eq!(c.advance(ms(1000)), 0);
        assert_eq!(c.step_once(), SimTime::from_secs(100).saturating_add_micros(70_000));
        c.resume();
        assert_eq!(c.rate(), 3.0);
        assert_eq!(c.advance(ms(10)), 3);
        assert_eq!(c.elapsed(), ms(100));
        assert!(c.set_rate(-1.0).is_err());
        assert!(c.set_rate(f64::NAN).is_err());
        c.set_rate(0.0).unwrap();
        assert!(c.is_paused());
    }

    #[test]
    fn spiral_of_death_is_capped() {
        let mut c = SimClock::new(SimTime::ZERO, ms(10)).unwrap();
        c.set_max_steps(5).unwrap();
        assert_eq!(c.advance(Duration::from_secs(10)), 5);
        assert_eq!(c.now(), SimTime::from_millis(50));
        assert_eq!(c.dropped(), ms(9_950));
        // The next ordinary frame is ordinary again.
        assert_eq!(c.advance(ms(16)), 1);
        assert_eq!(c.advance(Duration::MAX), 5);
    }

    #[test]
    fn invalid_settings() {
        assert!(SimClock::new(SimTime::ZERO, Duration::ZERO).is_err());
        assert!(SimClock::new(SimTime::ZERO, Duration::from_nanos(500)).is_err());
        let mut c = SimClock::new(SimTime::ZERO, ms(1)).unwrap();
        assert_eq!(c.set_max_steps(0), Err(ClockError::MaxSteps));
    }
}
