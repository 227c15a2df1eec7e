//! The rate limit on overlay warnings: each kind is logged at most once per [`WARN_INTERVAL`], with
//! a count of those held back, since an overlay over a cap is usually over it every frame.
//! Cost: a linear search of the few kinds seen so far and a clock read per warning; the message is
//! only formatted when it is logged.

/// How often one kind of overlay warning may be logged: an overlay over a cap is usually over it every
/// frame, and a log line per frame would drown everything else.
pub(super) const WARN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Logs each kind of warning at most once per [`WARN_INTERVAL`], saying how many were held back.
#[derive(Debug, Default)]
pub(super) struct WarnThrottle {
    /// Per kind: when it was last logged, and how many were held back since.
    pub(super) kinds: Vec<(&'static str, std::time::Instant, u64)>,
}

impl WarnThrottle {
    /// Logs `message()` under `kind` unless that kind was logged within [`WARN_INTERVAL`].
    pub(super) fn warn(&mut self, kind: &'static str, message: impl FnOnce() -> String) {
        let now = std::time::Instant::now();
        match self.kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, last, held)) if now.duration_since(*last) < WARN_INTERVAL => *held += 1,
            Some((_, last, held)) => {
                let held_back = std::mem::take(held);
                *last = now;
                let text = message();
                tracing::warn!("{text} ({held_back} more times since the last report)");
            }
            None => {
                self.kinds.push((kind, now, 0));
                let text = message();
                tracing::warn!("{text}");
            }
        }
    }
}
