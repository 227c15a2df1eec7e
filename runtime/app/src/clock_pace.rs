//! How fast the twin's clock really runs, for the screen. The clock runs slower than its rate when a
//! simulation cannot keep up (it holds the clock, [`sangam_session::TickReport::held_by`]) or a frame
//! asks more steps than the catch-up budget; the frame rate does not drop, the simulated time does.
//! One tick's report says so only for that tick, which would flicker; this keeps the last second of
//! ticks and says, for [`SLOWED_SHOWN`] after the last slowed one, how fast the clock ran and what
//! held it: `t 12.3 s x10 | clock slowed to x3.2: held by traffic-model`.
//!
//! Cost: a `VecDeque` push and pop per frame.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sangam_session::{Session, TickReport};

/// The real time the pace is measured over.
pub const PACE_WINDOW: Duration = Duration::from_secs(1);

/// How long the slowed clock is said after the last slowed tick.
pub const SLOWED_SHOWN: Duration = Duration::from_secs(2);

/// The clock's pace over the last [`PACE_WINDOW`].
#[derive(Debug, Default)]
pub struct ClockPace {
    /// (real seconds, simulated seconds) per tick, oldest first.
    ticks: VecDeque<(f64, f64)>,
    real_s: f64,
    sim_s: f64,
    slowed_at: Option<Instant>,
    held_by: Option<String>,
}

impl ClockPace {
    /// Takes one tick: `real` time passed, the report, the clock's fixed step.
    pub fn record(&mut self, real: Duration, tick: &TickReport, step: Duration) {
        let sample = (real.as_secs_f64(), step.as_secs_f64() * f64::from(tick.steps));
        self.ticks.push_back(sample);
        self.real_s += sample.0;
        self.sim_s += sample.1;
        while self.real_s - self.ticks.front().map_or(0.0, |t| t.0) >= PACE_WINDOW.as_secs_f64() {
            let Some((r, s)) = self.ticks.pop_front() else { break };
            self.real_s -= r;
            self.sim_s -= s;
        }
        if !tick.slowed.is_zero() {
            self.slowed_at = Some(Instant::now());
            self.held_by = tick.held_by.clone();
        }
    }

    /// Simulated seconds per real second over the window (`None` before any real time passed).
    pub fn rate(&self) -> Option<f64> {
        (self.real_s > 0.0).then(|| (self.sim_s / self.real_s).max(0.0))
    }

    /// Whether the clock ran slower than its rate within [`SLOWED_SHOWN`].
    pub fn slowed(&self) -> bool {
        self.slowed_at.is_some_and(|t| t.elapsed() < SLOWED_SHOWN)
    }

    /// The clock line: displayed time, rate, paused, replaying, and while slowed how fast it ran and
    /// what held it.
    pub fn line(&self, core: &Session) -> String {
        let time = core.time();
        let mut line = format!(
            "t {:.1} s x{}{}{}",
            time.display_time().as_secs_f64(),
            time.clock().rate(),
            if time.is_paused() { " paused" } else { "" },
            if time.is_scrubbed() { " (replay)" } else { "" }
        );
        if self.slowed() {
            let pace = self.rate().map_or_else(String::new, |r| format!(" to x{r:.2}"));
            match &self.held_by {
                Some(id) => line.push_str(&format!(" | clock slowed{pace}: held by {id}")),
                None => line.push_str(&format!(" | clock slowed{pace}: over its catch-up budget")),
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(steps: u32, slowed_ms: u64, held_by: Option<&str>) -> TickReport {
        TickReport {
            steps,
            slowed: Duration::from_millis(slowed_ms),
            held_by: held_by.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_pace_is_the_simulated_time_over_the_last_second_and_a_slowed_clock_stays_said() {
        let mut pace = ClockPace::default();
        let (frame, step) = (Duration::from_millis(20), Duration::from_millis(10));
        // x1 asked (2 steps of 10 ms per 20 ms frame), the simulation lets one step in two frames run.
        for i in 0..100 {
            let steps = u32::from(i % 2 == 0);
            pace.record(frame, &tick(steps, 20 - 10 * u64::from(steps), Some("traffic-model")), step);
        }
        let rate = pace.rate().unwrap();
        assert!((rate - 0.25).abs() < 0.02, "{rate}");
        assert!(pace.slowed() && pace.held_by.as_deref() == Some("traffic-model"));
        // Keeping up again: the rate comes back within the window, the note stays a while.
        for _ in 0..60 {
            pace.record(frame, &tick(2, 0, None), step);
        }
        assert!((pace.rate().unwrap() - 1.0).abs() < 1e-9);
        assert!(pace.slowed(), "said for {SLOWED_SHOWN:?} after the last slowed tick");
        assert!(pace.ticks.len() <= 51, "one second of ticks kept: {}", pace.ticks.len());
    }

    #[test]
    fn a_simulation_that_cannot_keep_up_says_on_screen_how_slow_the_clock_ran_and_why() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::temp_dir().join(format!("sangam-pace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A 1 ms simulation step at 100 times real time: 100,000 steps a second asked of one plugin.
        let scene = format!(
            "format = 1\nname = \"pace\"\n\n[origin]\nlat = 28.5697905\nlon = 77.2091030\n\n[clock]\nstep_ms = 1\nrate \
             = 100.0\ncatch_up_steps = 200\n\n[plugin_policy]\nallow_unsigned = true\n\n[[entities]]\nid = \"tank\"\nkind = \
             \"process.tank\"\n[entities.properties]\nlevel = 100.0\n\n[[plugins]]\nid = \"decay\"\nartifact = \
             \"decay_simulation.wasm\"\nmanifest = \"{}\"\nstep_ms = 1\n[plugins.params]\nproperty = \"level\"\n",
            repo.join("plugins/decay-simulation/plugin.toml").display()
        );
        std::fs::write(dir.join("scene.toml"), scene).unwrap();
        let mut session = crate::frontend::SiteSession::load(&dir.join("scene.toml")).unwrap();
        let frame = crate::interaction::InputFrame { dt: Duration::from_millis(16), ..Default::default() };
        let started = Instant::now();
        let mut frames = 0;
        while !session.pace.slowed() || frames < 30 {
            session.frame(&frame);
            frames += 1;
            assert!(started.elapsed() < Duration::from_secs(30), "the clock never said it was slowed");
            std::thread::sleep(Duration::from_millis(2));
        }
        let line = session.clock_line();
        assert!(line.contains("x100 | clock slowed to x") && line.ends_with("held by decay"), "{line}");
        assert!(session.pace.rate().unwrap() < 100.0, "slower than asked: {line}");
        let hud = format!("pace | {line}");
        let overlay = crate::overlay_compose::compose(&session, Some(&hud));
        assert!(overlay.hud.iter().any(|t| t.text.contains("clock slowed to x")), "on screen");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
