//! Which overlay frames go into a recording.
//!
//! An overlay draws every frame (60 times a second and more), most of them like the last; a
//! recording that kept them all would grow by the frame rate times the overlay's size. So each
//! overlay plugin's frames are sampled by the session's progress (simulated time run): the first
//! frame, then a new one once [`OVERLAY_PERIOD_US`] has run since the last one recorded, within a
//! byte allowance of [`OVERLAY_BYTES_PER_S`] per simulated second (a bucket that holds at most
//! [`OVERLAY_BURST_BYTES`]). Time travel to T shows the last frame recorded for a time at or before
//! T, so what it shows is at most one period older than what was on screen. Frames between are
//! counted, not recorded; a frame over the allowance waits for the next that fits (counted and
//! warned once per plugin); the writer leaves out a frame that only repeats the last one.
//!
//! Cost on the frame thread: a pointer compare per overlay per tick, and an `Arc` clone per frame
//! recorded (the writer thread serializes it).

use std::collections::BTreeMap;
use std::sync::Arc;

use sangam_plugins::OverlayFrame;

/// Progress between two recorded frames of one overlay (microseconds): ten a simulated second.
pub const OVERLAY_PERIOD_US: i64 = 100_000;

/// Bytes of frames an overlay may record per simulated second.
pub const OVERLAY_BYTES_PER_S: usize = 4 << 20;

/// The most bytes of frames an overlay may record at once (what its allowance saves up to).
pub const OVERLAY_BURST_BYTES: usize = 16 << 20;

/// What became of a new frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampled {
    /// Record it.
    Record,
    /// Drawn within a period of the last one recorded: not recorded (the next one after the period is).
    Between,
    /// Over the overlay's byte allowance now: not recorded.
    OverBudget,
}

#[derive(Default)]
struct Overlay {
    /// The last frame seen (a new frame is a new `Arc`).
    seen: Option<Arc<OverlayFrame>>,
    /// Progress when a frame was last recorded.
    recorded_at: Option<i64>,
    /// Bytes it may record now, and the progress they were counted at.
    allowance: usize,
    allowance_at: i64,
    warned: bool,
}

/// Per-overlay sampling state of one recording.
#[derive(Default)]
pub struct OverlaySampler {
    overlays: BTreeMap<String, Overlay>,
}

impl OverlaySampler {
    /// Looks at `plugin`'s current frame at `progress_us`: `None` when it is the one seen last time.
    pub fn sample(&mut self, plugin: &str, frame: &Arc<OverlayFrame>, progress_us: i64) -> Option<Sampled> {
        let o = match self.overlays.get_mut(plugin) {
            Some(o) => o,
            None => self.overlays.entry(plugin.to_string()).or_insert_with(|| Overlay {
                allowance: OVERLAY_BURST_BYTES,
                allowance_at: progress_us,
                ..Overlay::default()
            }),
        };
        if o.seen.as_ref().is_some_and(|seen| Arc::ptr_eq(seen, frame)) {
            return None;
        }
        o.seen = Some(frame.clone());
        if o.recorded_at.is_some_and(|at| progress_us - at < OVERLAY_PERIOD_US) {
            return Some(Sampled::Between);
        }
        let ran = u64::try_from(progress_us - o.allowance_at).unwrap_or(0);
        let earned = ran.saturating_mul(OVERLAY_BYTES_PER_S as u64) / 1_000_000;
        o.allowance = (o.allowance as u64).saturating_add(earned).min(OVERLAY_BURST_BYTES as u64) as usize;
        o.allowance_at = progress_us;
        let bytes = frame.approx_bytes();
        if bytes > o.allowance {
            if !o.warned {
                o.warned = true;
                tracing::warn!(
                    plugin,
                    "overlay frames of {bytes} bytes are more than a recording keeps of one overlay \
                     ({OVERLAY_BYTES_PER_S} bytes per simulated second, {OVERLAY_BURST_BYTES} at once): some are \
                     not recorded (counted on the recording's stats line); time travel shows the last one that was"
                );
            }
            return Some(Sampled::OverBudget);
        }
        o.allowance -= bytes;
        o.recorded_at = Some(progress_us);
        Some(Sampled::Record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(labels: usize) -> Arc<OverlayFrame> {
        let mut f = OverlayFrame::default();
        f.labels.texts = vec!["x".repeat(200); labels];
        Arc::new(f)
    }

    #[test]
    fn frames_are_sampled_by_progress_and_a_repeat_of_the_same_frame_is_not_new() {
        let mut s = OverlaySampler::default();
        let a = frame(1);
        assert_eq!(s.sample("o", &a, 0), Some(Sampled::Record));
        assert_eq!(s.sample("o", &a, 50_000), None, "the same Arc is no new frame");
        assert_eq!(s.sample("o", &frame(1), 50_000), Some(Sampled::Between));
        assert_eq!(s.sample("o", &frame(1), OVERLAY_PERIOD_US), Some(Sampled::Record));
        // Another overlay has its own period.
        assert_eq!(s.sample("p", &frame(1), OVERLAY_PERIOD_US + 1), Some(Sampled::Record));
    }

    #[test]
    fn an_overlay_over_its_byte_allowance_records_only_what_the_allowance_earns() {
        let mut s = OverlaySampler::default();
        // About 1 MiB a frame: the burst holds 16, then 4 MiB a simulated second earns about 4 a second.
        let big = || frame(4_300);
        let bytes = big().approx_bytes();
        assert!((1 << 20..(1 << 20) + (64 << 10)).contains(&bytes), "{bytes}");
        let mut recorded = 0;
        for tick in 0..100 {
            // One frame per period over 10 simulated seconds.
            if s.sample("o", &big(), tick * OVERLAY_PERIOD_US) == Some(Sampled::Record) {
                recorded += 1;
            }
        }
        let allowed = (OVERLAY_BURST_BYTES + 10 * OVERLAY_BYTES_PER_S) / bytes;
        assert!(recorded <= allowed && recorded + 2 >= allowed, "{recorded} recorded, the allowance is {allowed}");
    }
}
