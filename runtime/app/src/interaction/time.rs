//! Play, pause and scrub: the simulation clock plus a playhead that can look back into history.
//!
//! The live simulation runs on a [`SimClock`]. Scrubbing moves a playhead back (and forward again)
//! within the recorded history without touching the live state; the inspector and overlays show the
//! twin at [`TimeControl::display_time`]. Playing while scrubbed replays history at the clock's rate,
//! staying the same distance behind live; scrubbing forward to live time (or [`TimeControl::go_live`])
//! leaves the replay.

use std::time::Duration;

use sangam_twin::{SimClock, SimTime};

/// The simulation clock and the playhead.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeControl {
    clock: SimClock,
    playhead: Option<SimTime>,
}

impl TimeControl {
    /// Live at the clock's time, playing unless the clock is paused.
    pub fn new(clock: SimClock) -> TimeControl {
        TimeControl { clock, playhead: None }
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
    /// twin should run. A scrubbed playhead advances at the clock's rate and rejoins live if it reaches
    /// live time (when the live clock dropped steps).
    pub fn advance(&mut self, real_dt: Duration) -> u32 {
        let steps = self.clock.advance(real_dt);
        if let Some(t) = self.playhead
            && !self.clock.is_paused()
        {
            let us = (real_dt.as_secs_f64() * self.clock.rate() * 1e6).round() as i64;
            let next = t.saturating_add_micros(us.max(0));
            self.playhead = (next < self.clock.now()).then_some(next);
        }
        steps
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
