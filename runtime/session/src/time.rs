//! Time of a session: the simulation clock plus a playhead that can look back into history, and the
//! commands every front end sends (play, pause, single step, rate, scrub, go live).
//!
//! The live twin runs on a [`SimClock`]. Scrubbing moves a playhead back (and forward again) within
//! the recorded history without touching the live state; everything drawn (overlays, inspector)
//! shows the twin at [`TimeControl::display_time`]. Playing while scrubbed replays history at the
//! clock's rate, staying the same distance behind live; scrubbing forward to live time (or
//! [`TimeCommand::GoLive`]) leaves the replay. Each call is a few integer operations.

use std::time::Duration;

use sangam_twin::{Advance, ClockError, SimClock, SimTime};

/// What a front end asks of time (keys, XR actions, a script, the CLI).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeCommand {
    /// Play when paused, pause when playing.
    TogglePlay,
    /// Run one fixed step (paused or not).
    StepOnce,
    /// Set the rate, times real time (0.1 to 100).
    SetRate(f64),
    /// Move the playhead by this many seconds (negative = back).
    Scrub(f64),
    /// Jump the playhead back to live time.
    GoLive,
}

/// What a [`TimeCommand`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeEvent {
    /// Play/pause changed.
    PlayPause {
        /// Whether time now runs.
        playing: bool,
    },
    /// One step was run; the live time is now this.
    Stepped(SimTime),
    /// The rate is now this.
    Rate(f64),
    /// The playhead moved (scrub or go-live) to this time.
    Scrubbed(SimTime),
}

/// The simulation clock and the playhead.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeControl {
    clock: SimClock,
    playhead: Option<SimTime>,
    history_start: SimTime,
}

impl TimeControl {
    /// Live at the clock's time, playing unless the clock is paused; history starts at the clock's
    /// start.
    pub fn new(clock: SimClock) -> TimeControl {
        TimeControl { history_start: clock.start(), clock, playhead: None }
    }

    /// The live clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Whether time is stopped.
    pub fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// Whether the playhead is back in history rather than live.
    pub fn is_scrubbed(&self) -> bool {
        self.playhead.is_some()
    }

    /// The time the twin is shown at: the playhead when scrubbed, else live time.
    pub fn display_time(&self) -> SimTime {
        self.playhead.unwrap_or_else(|| self.clock.now())
    }

    /// Sets the earliest time scrubbing may reach (default: the clock's start), e.g. the first sample
    /// of a replayed recording.
    pub fn set_history_start(&mut self, t: SimTime) {
        self.history_start = t;
    }

    /// The earliest time scrubbing may reach.
    pub fn history_start(&self) -> SimTime {
        self.history_start
    }

    /// Carries out a command; `Err` when a rate is out of range (the rate is unchanged).
    pub fn command(&mut self, command: TimeCommand) -> Result<Option<TimeEvent>, ClockError> {
        Ok(match command {
            TimeCommand::TogglePlay => Some(TimeEvent::PlayPause { playing: self.toggle_play() }),
            TimeCommand::StepOnce => Some(TimeEvent::Stepped(self.clock.step_once())),
            TimeCommand::SetRate(rate) => {
                self.clock.set_rate(rate)?;
                Some(TimeEvent::Rate(rate))
            }
            TimeCommand::Scrub(seconds) if seconds.is_finite() && seconds != 0.0 => {
                Some(TimeEvent::Scrubbed(self.scrub(seconds, self.history_start)))
            }
            TimeCommand::Scrub(_) => None,
            TimeCommand::GoLive if self.is_scrubbed() => {
                self.go_live();
                Some(TimeEvent::Scrubbed(self.display_time()))
            }
            TimeCommand::GoLive => None,
        })
    }

    /// Toggles play/pause; returns whether it now plays.
    pub fn toggle_play(&mut self) -> bool {
        if self.clock.is_paused() {
            self.clock.resume();
        } else {
            self.clock.pause();
        }
        !self.clock.is_paused()
    }

    /// Advances by a frame of wall-clock time; returns the number of fixed simulation steps the live
    /// twin should run. See [`advance_within`](Self::advance_within).
    pub fn advance(&mut self, real_dt: Duration) -> u32 {
        self.advance_within(real_dt, SimTime(i64::MAX)).steps
    }

    /// Advances by a frame of wall-clock time, the live clock not past `limit`. A scrubbed playhead
    /// advances at the clock's rate and rejoins live if it reaches live time; a clock that loops
    /// takes the playhead back with it.
    pub fn advance_within(&mut self, real_dt: Duration, limit: SimTime) -> Advance {
        let paused = self.clock.is_paused();
        let advance = self.clock.advance_within(real_dt, limit);
        if advance.wrapped {
            self.playhead = None;
        } else if let Some(t) = self.playhead
            && !paused
        {
            let us = (real_dt.as_secs_f64() * self.clock.rate() * 1e6).round() as i64;
            let next = t.saturating_add_micros(us.max(0));
            self.playhead = (next < self.clock.now()).then_some(next);
        }
        advance
    }

    /// Moves the playhead by `seconds` (negative = back), clamped to `[history_start, live]`; reaching
    /// live time leaves scrubbing. Returns the new display time.
    pub fn scrub(&mut self, seconds: f64, history_start: SimTime) -> SimTime {
        if !seconds.is_finite() || seconds == 0.0 {
            return self.display_time();
        }
        let live = self.clock.now();
        let start = history_start.min(live);
        let us = (seconds * 1e6).round() as i64;
        let t = self.display_time().saturating_add_micros(us).clamp(start, live);
        self.playhead = (t < live).then_some(t);
        self.display_time()
    }

    /// Jumps back to live time.
    pub fn go_live(&mut self) {
        self.playhead = None;
    }

    /// Puts the playhead at `t`, clamped to `[history start, live]`; at live time it leaves scrubbing.
    pub fn set_playhead(&mut self, t: SimTime) -> SimTime {
        let live = self.clock.now();
        let t = t.clamp(self.history_start.min(live), live);
        self.playhead = (t < live).then_some(t);
        self.display_time()
    }

    /// Stops time (no toggle: stays paused when already).
    pub fn pause(&mut self) {
        self.clock.pause();
    }

    /// Moves the live clock to `t` (within its bounds) and leaves scrubbing; the history start is
    /// kept. A replay jumping to its end does this.
    pub fn seek_live(&mut self, t: SimTime) -> SimTime {
        self.playhead = None;
        self.clock.seek(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> TimeControl {
        TimeControl::new(SimClock::new(SimTime::ZERO, Duration::from_millis(100)).unwrap())
    }

    #[test]
    fn scrub_clamps_to_history_and_rejoins_live() {
        let mut tc = control();
        tc.advance(Duration::from_millis(500));
        tc.advance(Duration::from_millis(500));
        let live = tc.clock().now();
        assert_eq!(live, SimTime::from_secs(1));
        assert_eq!(tc.scrub(-0.3, SimTime::ZERO), SimTime::from_millis(700));
        assert!(tc.is_scrubbed());
        // Way past the start: clamped to the first recorded time.
        assert_eq!(tc.scrub(-100.0, SimTime::from_millis(200)), SimTime::from_millis(200));
        // Way forward: clamped to live, and no longer scrubbed.
        assert_eq!(tc.scrub(50.0, SimTime::ZERO), live);
        assert!(!tc.is_scrubbed());
        assert_eq!(tc.scrub(f64::NAN, SimTime::ZERO), live);
    }

    #[test]
    fn pause_stops_both_clock_and_playhead() {
        let mut tc = control();
        tc.advance(Duration::from_millis(500));
        tc.advance(Duration::from_millis(500));
        assert!(!tc.toggle_play(), "now paused");
        assert_eq!(tc.advance(Duration::from_secs(1)), 0);
        assert_eq!(tc.display_time(), SimTime::from_secs(1));
        tc.scrub(-0.5, SimTime::ZERO);
        tc.advance(Duration::from_secs(1));
        assert_eq!(tc.display_time(), SimTime::from_millis(500), "a paused playhead holds still");
        assert!(tc.toggle_play(), "playing again");
    }

    #[test]
    fn commands_drive_the_clock_and_the_playhead() {
        let mut tc = control();
        assert_eq!(tc.advance(Duration::from_millis(1000)), 8, "capped at SimClock::DEFAULT_MAX_STEPS");
        let live = tc.clock().now();
        assert_eq!(tc.command(TimeCommand::TogglePlay), Ok(Some(TimeEvent::PlayPause { playing: false })));
        assert_eq!(tc.advance(Duration::from_millis(500)), 0);
        assert_eq!(tc.command(TimeCommand::Scrub(-100.0)), Ok(Some(TimeEvent::Scrubbed(SimTime::ZERO))));
        tc.set_history_start(SimTime::from_millis(300));
        assert_eq!(tc.command(TimeCommand::Scrub(-1.0)), Ok(Some(TimeEvent::Scrubbed(SimTime::from_millis(300)))));
        assert_eq!(tc.command(TimeCommand::GoLive), Ok(Some(TimeEvent::Scrubbed(live))));
        assert_eq!(tc.command(TimeCommand::GoLive), Ok(None), "already live");
        let stepped = live.saturating_add_micros(100_000);
        assert_eq!(tc.command(TimeCommand::StepOnce), Ok(Some(TimeEvent::Stepped(stepped))), "a step while paused");
        assert!(tc.command(TimeCommand::SetRate(500.0)).is_err());
        assert_eq!(tc.command(TimeCommand::SetRate(10.0)), Ok(Some(TimeEvent::Rate(10.0))));
        assert_eq!(tc.command(TimeCommand::TogglePlay), Ok(Some(TimeEvent::PlayPause { playing: true })));
        assert_eq!(tc.advance(Duration::from_millis(20)), 2, "at 10x, 20 ms of real time is two 100 ms steps");
    }

    #[test]
    fn playing_while_scrubbed_replays_then_goes_live() {
        let mut tc = control();
        tc.advance(Duration::from_millis(800));
        tc.scrub(-0.6, SimTime::ZERO);
        assert_eq!(tc.display_time(), SimTime::from_millis(200));
        // 100 ms later the live clock is at 900 ms and the playhead at 300 ms.
        assert_eq!(tc.advance(Duration::from_millis(100)), 1);
        assert_eq!(tc.display_time(), SimTime::from_millis(300));
        // Replay keeps the same distance behind live (600 ms) until the user scrubs forward or goes live.
        tc.advance(Duration::from_millis(700));
        assert_eq!(tc.display_time(), SimTime::from_millis(1000));
        tc.go_live();
        assert_eq!(tc.display_time(), tc.clock().now());
    }
}
