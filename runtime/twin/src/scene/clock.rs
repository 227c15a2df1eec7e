//! The scene's `[clock]` table: the session clock's step, rate, bounds, end behaviour and catch-up
//! budget, checked with the line and column of a bad value. Parsing cost: a handful of comparisons.

use std::time::Duration;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::{Cx, SceneError};
use crate::clock::{ClockEnd, ClockError, SimClock, SimTime};

/// The session clock the scene asks for (`[clock]`; every key optional).
#[derive(Debug, Clone, PartialEq)]
pub struct ClockDecl {
    /// The fixed simulation step (`step_ms`, default 10 ms).
    pub step: Duration,
    /// The rate, times real time (`rate`, 0.1 to 100, default 1).
    pub rate: f64,
    /// Simulation time at the start (`start_s`, default 0).
    pub start: SimTime,
    /// Simulation time to stop at (`stop_s`), if any.
    pub stop: Option<SimTime>,
    /// What happens at the stop (`end = "unbounded" | "clamp" | "loop"`; `clamp` when a stop is given
    /// without it).
    pub end: ClockEnd,
    /// Start paused (`paused`, default false).
    pub paused: bool,
    /// Fixed steps one tick may run to catch up, and steps a simulation may fall behind before the
    /// clock waits for it (`catch_up_steps`, 1 to 1000, default [`SimClock::DEFAULT_MAX_STEPS`]).
    pub catch_up_steps: u32,
    /// Frame-thread time one tick may spend applying plugins' outputs to the twin
    /// (`apply_budget_us`, 100 to 100,000 µs, default [`DEFAULT_APPLY_BUDGET`]): a larger output is
    /// applied over several ticks while its simulation waits, holding the clock (which says so).
    pub apply_budget: Duration,
}

/// The default [`ClockDecl::apply_budget`]: an eighth of a 60 Hz frame.
pub const DEFAULT_APPLY_BUDGET: Duration = Duration::from_micros(2_000);

/// The default step of a session clock.
pub const DEFAULT_CLOCK_STEP: Duration = Duration::from_millis(10);

impl Default for ClockDecl {
    fn default() -> Self {
        ClockDecl {
            step: DEFAULT_CLOCK_STEP,
            rate: 1.0,
            start: SimTime::ZERO,
            stop: None,
            end: ClockEnd::Unbounded,
            paused: false,
            catch_up_steps: SimClock::DEFAULT_MAX_STEPS,
            apply_budget: DEFAULT_APPLY_BUDGET,
        }
    }
}

impl ClockDecl {
    /// The clock this declares (paused if asked). A declaration read from a scene is always valid;
    /// one built by hand may not be.
    pub fn build(&self) -> Result<SimClock, ClockError> {
        let mut clock = SimClock::new(self.start, self.step)?;
        clock.set_rate(self.rate)?;
        clock.set_stop(self.stop, self.end)?;
        clock.set_max_steps(self.catch_up_steps)?;
        if self.paused {
            clock.pause();
        }
        Ok(clock)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClock {
    step_ms: Option<Spanned<i64>>,
    rate: Option<Spanned<f64>>,
    start_s: Option<Spanned<f64>>,
    stop_s: Option<Spanned<f64>>,
    end: Option<Spanned<String>>,
    paused: Option<bool>,
    catch_up_steps: Option<Spanned<i64>>,
    apply_budget_us: Option<Spanned<i64>>,
}

impl Cx<'_> {
    pub(super) fn clock(&self, raw: Option<&RawClock>) -> Result<ClockDecl, SceneError> {
        let mut decl = ClockDecl::default();
        let Some(raw) = raw else { return Ok(decl) };
        if let Some(ms) = self.bounded(raw.step_ms.as_ref(), "clock", "step_ms", 60_000)? {
            decl.step = Duration::from_millis(ms);
        }
        if let Some(steps) = self.bounded(raw.catch_up_steps.as_ref(), "clock", "catch_up_steps", 1000)? {
            decl.catch_up_steps = steps as u32;
        }
        if let Some(us) = &raw.apply_budget_us {
            let v = *us.get_ref();
            if !(100..=100_000).contains(&v) {
                return Err(self.err(
                    us.span(),
                    format!("clock: `apply_budget_us = {v}` is out of range; use 100 to 100000 (microseconds)"),
                ));
            }
            decl.apply_budget = Duration::from_micros(v as u64);
        }
        if let Some(rate) = &raw.rate {
            let r = *rate.get_ref();
            if !(SimClock::MIN_RATE..=SimClock::MAX_RATE).contains(&r) {
                return Err(self.err(rate.span(), format!("clock: `rate = {r}` is out of range; use 0.1 to 100")));
            }
            decl.rate = r;
        }
        let seconds = |v: &Spanned<f64>, key: &str| -> Result<SimTime, SceneError> {
            let s = *v.get_ref();
            // About 290,000 years of microseconds fit in an i64; a twin needs far less.
            if !s.is_finite() || s.abs() > 1e12 {
                return Err(self.err(v.span(), format!("clock: `{key} = {s}` is not a time in seconds")));
            }
            Ok(SimTime::from_secs_f64(s))
        };
        if let Some(v) = &raw.start_s {
            decl.start = seconds(v, "start_s")?;
        }
        if let Some(v) = &raw.stop_s {
            let stop = seconds(v, "stop_s")?;
            if stop <= decl.start {
                return Err(self.err(
                    v.span(),
                    format!("clock: `stop_s` ({stop}) must be after `start_s` ({}); raise it or remove it", decl.start),
                ));
            }
            decl.stop = Some(stop);
            decl.end = ClockEnd::Clamp;
        }
        if let Some(end) = &raw.end {
            decl.end = match end.get_ref().as_str() {
                "unbounded" => ClockEnd::Unbounded,
                "clamp" => ClockEnd::Clamp,
                "loop" => ClockEnd::Loop,
                other => {
                    return Err(self.err(
                        end.span(),
                        format!("clock: `end = \"{other}\"` is not known; use \"unbounded\", \"clamp\" or \"loop\""),
                    ));
                }
            };
            match (decl.end, decl.stop) {
                (ClockEnd::Unbounded, Some(_)) => {
                    return Err(
                        self.err(end.span(), "clock: `end = \"unbounded\"` with a `stop_s`; remove one of them")
                    );
                }
                (ClockEnd::Clamp | ClockEnd::Loop, None) => {
                    return Err(self.err(end.span(), format!("clock: `end = \"{}\"` needs a `stop_s`", decl.end)));
                }
                _ => {}
            }
        }
        decl.paused = raw.paused.unwrap_or(false);
        Ok(decl)
    }
}
