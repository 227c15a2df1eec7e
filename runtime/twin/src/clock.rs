//! Simulation time and the simulation clock.
//!
//! [`SimTime`] is an integer count of microseconds since the session's epoch (totally ordered, no
//! NaN). [`SimClock`] turns real elapsed time into a whole number of fixed simulation steps, with
//! start and stop bounds, play / pause / single step, a rate from 0.1x to 100x, an end behaviour
//! (unbounded, clamp, loop: CesiumJS's clock ranges) and a cap on steps per advance so a slow frame
//! cannot trigger a spiral of death; time it could not run is counted, never lost unsaid. Each
//! advance is a few integer operations.

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
    /// The rate must lie in [`SimClock::MIN_RATE`]..=[`SimClock::MAX_RATE`].
    #[error("the clock rate must be a number from 0.1 to 100 (times real time); got {0}")]
    Rate(f64),
    /// The cap on steps per advance must be at least 1.
    #[error("the maximum number of steps per advance must be at least 1")]
    MaxSteps,
    /// The stop time must lie after the start time.
    #[error("the clock's stop time ({stop}) must be after its start time ({start})")]
    Bounds {
        /// The start.
        start: SimTime,
        /// The stop asked for.
        stop: SimTime,
    },
    /// `clamp` and `loop` need a stop time.
    #[error("the clock's end behaviour `{0}` needs a stop time; give one or use `unbounded`")]
    EndWithoutStop(ClockEnd),
}

/// What the clock does when it reaches its stop time (CesiumJS's `ClockRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClockEnd {
    /// No stop: time runs on.
    #[default]
    Unbounded,
    /// Stop at the stop time and pause there.
    Clamp,
    /// Jump back to the start time and go on.
    Loop,
}

impl fmt::Display for ClockEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClockEnd::Unbounded => "unbounded",
            ClockEnd::Clamp => "clamp",
            ClockEnd::Loop => "loop",
        })
    }
}

/// What one [`SimClock::advance_within`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Advance {
    /// Fixed steps run (the clock moved by exactly this many steps, before any wrap).
    pub steps: u32,
    /// Simulated time this call did not run: past the step budget, or held back by the caller's
    /// limit. The clock ran slower than its rate by this much; nothing was stepped for it.
    pub slowed: Duration,
    /// The clock reached its stop and jumped back to its start ([`ClockEnd::Loop`]).
    pub wrapped: bool,
    /// The clock reached its stop and paused there ([`ClockEnd::Clamp`]).
    pub at_end: bool,
}

/// A fixed-step simulation clock with bounds, a rate and an end behaviour.
///
/// Each [`advance`](SimClock::advance) adds `real_dt × rate` to an accumulator and returns how many
/// whole fixed steps to run; the simulation time moves by exactly that many steps. At most
/// `max_steps` steps run per call (the catch-up budget): simulated time beyond that is not run and
/// is counted in [`slowed`](SimClock::slowed), so a slow frame cannot cause ever longer frames and
/// the clock says that it ran slower. The clock stays within `start..=stop` when it has a stop.
#[derive(Debug, Clone, PartialEq)]
pub struct SimClock {
    start: SimTime,
    stop: Option<SimTime>,
    end: ClockEnd,
    now: SimTime,
    fixed_dt_us: i64,
    rate: f64,
    paused: bool,
    max_steps: u32,
    accumulator_us: i64,
    steps: u64,
    slowed_us: i64,
    loops: u64,
}

impl SimClock {
    /// Default cap on steps per [`advance`](SimClock::advance).
    pub const DEFAULT_MAX_STEPS: u32 = 8;
    /// The slowest rate (a tenth of real time).
    pub const MIN_RATE: f64 = 0.1;
    /// The fastest rate (a hundred times real time).
    pub const MAX_RATE: f64 = 100.0;

    /// A clock at `start`, running at 1x, stepping by `fixed_dt` (at least 1 µs, whole microseconds),
    /// unbounded.
    pub fn new(start: SimTime, fixed_dt: Duration) -> Result<Self, ClockError> {
        let us = i64::try_from(fixed_dt.as_micros()).unwrap_or(i64::MAX);
        if us < 1 {
            return Err(ClockError::FixedStep(fixed_dt));
        }
        Ok(Self {
            start,
            stop: None,
            end: ClockEnd::Unbounded,
            now: start,
            fixed_dt_us: us,
            rate: 1.0,
            paused: false,
            max_steps: Self::DEFAULT_MAX_STEPS,
            accumulator_us: 0,
            steps: 0,
            slowed_us: 0,
            loops: 0,
        })
    }

    /// Sets the stop time and what happens there. `None` with [`ClockEnd::Unbounded`] removes the
    /// stop; `clamp` and `loop` need a stop after the start.
    pub fn set_stop(&mut self, stop: Option<SimTime>, end: ClockEnd) -> Result<(), ClockError> {
        match stop {
            Some(stop) if stop <= self.start => return Err(ClockError::Bounds { start: self.start, stop }),
            None if end != ClockEnd::Unbounded => return Err(ClockError::EndWithoutStop(end)),
            _ => {}
        }
        self.stop = stop;
        self.end = if stop.is_some() && end == ClockEnd::Unbounded { ClockEnd::Clamp } else { end };
        if let Some(stop) = self.stop
            && self.now > stop
        {
            self.now = stop;
        }
        Ok(())
    }

    /// The stop time, if any.
    pub fn stop(&self) -> Option<SimTime> {
        self.stop
    }

    /// What the clock does at its stop.
    pub fn end(&self) -> ClockEnd {
        self.end
    }

    /// Sets the cap on steps per advance (at least 1).
    pub fn set_max_steps(&mut self, max_steps: u32) -> Result<(), ClockError> {
        if max_steps == 0 {
            return Err(ClockError::MaxSteps);
        }
        self.max_steps = max_steps;
        Ok(())
    }

    /// The cap on steps per advance (the catch-up budget).
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// Sets the rate: 1.0 is real time, 10.0 ten times faster; from [`MIN_RATE`](Self::MIN_RATE) to
    /// [`MAX_RATE`](Self::MAX_RATE). Stopping time is [`pause`](Self::pause), not a rate of 0.
    pub fn set_rate(&mut self, rate: f64) -> Result<(), ClockError> {
        if !(Self::MIN_RATE..=Self::MAX_RATE).contains(&rate) {
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

    /// Resumes at the previous rate. A clamped clock at its stop stays there.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Advances by `real_dt` of wall-clock time; returns the number of fixed steps to run now.
    pub fn advance(&mut self, real_dt: Duration) -> u32 {
        self.advance_within(real_dt, SimTime(i64::MAX)).steps
    }

    /// Advances by `real_dt` of wall-clock time, but not past `limit` (a simulation that has not kept
    /// up holds the clock back): runs at most [`max_steps`](Self::max_steps) steps and says how much
    /// simulated time it did not run. At the stop time, clamps (and pauses) or loops to the start.
    pub fn advance_within(&mut self, real_dt: Duration, limit: SimTime) -> Advance {
        let mut out = Advance::default();
        if self.paused {
            return out;
        }
        let sim_us = (real_dt.as_secs_f64() * self.rate * 1e6).round();
        // `as` saturates; keep the accumulator far from overflow.
        let sim_us = (sim_us as i64).min(i64::MAX / 4);
        self.accumulator_us = self.accumulator_us.saturating_add(sim_us);
        let wanted = self.accumulator_us / self.fixed_dt_us;
        let room = |to: SimTime| (to.0.saturating_sub(self.now.0) / self.fixed_dt_us).max(0);
        let mut steps = wanted.min(i64::from(self.max_steps)).min(room(limit));
        let mut reached_stop = false;
        if let Some(stop) = self.stop
            && steps >= room(stop)
        {
            steps = room(stop);
            reached_stop = true;
        }
        self.accumulator_us -= steps * self.fixed_dt_us;
        if reached_stop {
            // Whatever was left of this frame ends at the stop: not slowed, simply over.
            self.accumulator_us = 0;
        } else if wanted > steps {
            // Whole steps not run this call; the fractional remainder is kept.
            let excess = self.accumulator_us - self.accumulator_us % self.fixed_dt_us;
            self.accumulator_us -= excess;
            self.slowed_us = self.slowed_us.saturating_add(excess);
            out.slowed = Duration::from_micros(excess.max(0) as u64);
        }
        self.commit_steps(steps);
        out.steps = steps as u32;
        if reached_stop {
            match self.end {
                ClockEnd::Loop => {
                    self.now = self.start;
                    self.loops += 1;
                    out.wrapped = true;
                }
                _ => {
                    if let Some(stop) = self.stop {
                        self.now = stop;
                    }
                    self.paused = true;
                    out.at_end = true;
                }
            }
        }
        out
    }

    /// Runs exactly one step, even while paused (single-stepping); returns the new time. At the stop,
    /// a clamped clock stays and a looping one goes back to its start.
    pub fn step_once(&mut self) -> SimTime {
        match self.stop {
            Some(stop) if self.now.saturating_add_micros(self.fixed_dt_us) > stop => {
                if self.end == ClockEnd::Loop {
                    self.now = self.start;
                    self.loops += 1;
                }
            }
            _ => self.commit_steps(1),
        }
        self.now
    }

    /// Sets the time (a seek), within the bounds; the accumulated fraction is dropped.
    pub fn seek(&mut self, t: SimTime) -> SimTime {
        let t = t.max(self.start);
        self.now = self.stop.map_or(t, |stop| t.min(stop));
        self.accumulator_us = 0;
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

    /// Simulated time elapsed since the start (of this loop).
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

    /// Times the clock looped back to its start.
    pub fn loops(&self) -> u64 {
        self.loops
    }

    /// Fraction (0..1) of a step accumulated but not yet run: the interpolation factor between
    /// the last two simulation states for rendering.
    pub fn alpha(&self) -> f64 {
        self.accumulator_us as f64 / self.fixed_dt_us as f64
    }

    /// Simulated time not run, in all: past the step budget or held back by a simulation (the clock
    /// ran slower than its rate by this much).
    pub fn slowed(&self) -> Duration {
        Duration::from_micros(self.slowed_us.max(0) as u64)
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
        assert_eq!(c.set_rate(0.0), Err(ClockError::Rate(0.0)), "a stopped clock is paused, not at rate 0");
        assert!(c.set_rate(100.5).is_err());
        c.set_rate(SimClock::MIN_RATE).unwrap();
        c.set_rate(SimClock::MAX_RATE).unwrap();
    }

    #[test]
    fn clamp_stops_and_pauses_at_the_stop() {
        let mut c = SimClock::new(SimTime::ZERO, ms(100)).unwrap();
        c.set_stop(Some(SimTime::from_millis(450)), ClockEnd::Clamp).unwrap();
        assert_eq!(c.advance(ms(300)), 3);
        let a = c.advance_within(ms(300), SimTime(i64::MAX));
        assert_eq!((a.steps, a.at_end, a.slowed), (1, true, Duration::ZERO), "it ends, it is not slowed");
        assert_eq!(c.now(), SimTime::from_millis(450));
        assert!(c.is_paused());
        assert_eq!(c.step_once(), SimTime::from_millis(450), "no step past the stop");
        assert_eq!(c.seek(SimTime::from_secs(9)), SimTime::from_millis(450));
        assert_eq!(c.seek(SimTime::from_secs(-9)), SimTime::ZERO);
    }

    #[test]
    fn loop_goes_back_to_the_start() {
        let mut c = SimClock::new(SimTime::from_secs(10), ms(100)).unwrap();
        c.set_stop(Some(SimTime::from_secs(11)), ClockEnd::Loop).unwrap();
        c.set_max_steps(100).unwrap();
        assert_eq!(c.advance(ms(900)), 9);
        let a = c.advance_within(ms(500), SimTime(i64::MAX));
        assert_eq!((a.steps, a.wrapped), (1, true));
        assert_eq!((c.now(), c.loops()), (SimTime::from_secs(10), 1));
        assert!(!c.is_paused());
        assert_eq!(c.advance(ms(200)), 2, "and runs on from the start");
        assert_eq!(
            c.set_stop(Some(SimTime::from_secs(5)), ClockEnd::Loop),
            Err(ClockError::Bounds { start: SimTime::from_secs(10), stop: SimTime::from_secs(5) })
        );
        assert_eq!(c.set_stop(None, ClockEnd::Loop), Err(ClockError::EndWithoutStop(ClockEnd::Loop)));
    }

    #[test]
    fn a_limit_holds_the_clock_and_says_by_how_much() {
        let mut c = SimClock::new(SimTime::ZERO, ms(10)).unwrap();
        let a = c.advance_within(ms(50), SimTime::from_millis(20));
        assert_eq!((a.steps, a.slowed), (2, ms(30)));
        assert_eq!(c.now(), SimTime::from_millis(20));
        assert_eq!(c.slowed(), ms(30));
        // No time is run twice or lost unsaid: steps run plus time slowed is what the rate asked.
        let a = c.advance_within(ms(25), SimTime(i64::MAX));
        assert_eq!((a.steps, a.slowed), (2, Duration::ZERO));
        assert!((c.alpha() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn spiral_of_death_is_capped() {
        let mut c = SimClock::new(SimTime::ZERO, ms(10)).unwrap();
        c.set_max_steps(5).unwrap();
        assert_eq!(c.advance(Duration::from_secs(10)), 5);
        assert_eq!(c.now(), SimTime::from_millis(50));
        assert_eq!(c.slowed(), ms(9_950));
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
