//! Replaying a recording: the twin's recorded changes applied to the store at the point of the
//! session they were recorded at, and a verdict on whether the replay reached the recorded state.
//!
//! Replay is deterministic by construction: it applies the changes the live session applied, in
//! the same order, to a store rebuilt from the same scene (checked by the initial state hash), so it
//! does not depend on plugin timing, thread scheduling or the machine. Adapters and simulations do
//! not run in a replay (their effects are the changes). An overlay whose frames are in the recording
//! does not run either: the replay shows, for the displayed time, the last frame recorded for a time
//! at or before it ([`Replay::overlays_at`]); one without recorded frames (a redacted recording, a
//! plugin added since) runs on the replayed twin.
//!
//! Cost: applying a change is one store write; the changes and frames are held in memory
//! ([`Recording`]); finding an overlay's frame is a binary search.

use std::sync::Arc;

use sangam_plugins::OverlayFrame;
use sangam_twin::{StateHash, TwinStore};

use crate::record::Recording;

/// Most recorded frames of an overlay [`Replay::overlays_at`] looks past for one the replay has reached.
pub const OVERLAY_LOOKBACK: usize = 256;

/// A recording being replayed.
pub struct Replay {
    recording: Recording,
    /// Index of the next tick's changes to apply.
    next: usize,
    /// The progress everything recorded up to has been applied (what has happened, so far, in the replay).
    applied_to: i64,
    applied: u64,
    refused: u64,
}

/// Whether a replay reached the recorded end state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not all recorded changes are applied yet.
    InProgress {
        /// Ticks applied so far.
        applied_ticks: usize,
        /// Ticks recorded.
        recorded_ticks: usize,
    },
    /// All applied and the twin's state hash is the recorded one.
    Match(StateHash),
    /// All applied but the state differs from the recorded end.
    Mismatch {
        /// The hash the recording ended with.
        recorded: StateHash,
        /// The replayed twin's hash.
        replayed: StateHash,
    },
    /// All applied; the recording is redacted for a plugin, so its twin is not the recorded one.
    Redacted {
        /// The plugin whose read grant it follows.
        plugin: String,
        /// The replayed twin's hash.
        replayed: StateHash,
    },
    /// All applied; the recording has no end record (it was cut short), so there is nothing to compare.
    NoEnd(StateHash),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::InProgress { applied_ticks, recorded_ticks } => {
                write!(f, "replaying: {applied_ticks} of {recorded_ticks} recorded ticks applied")
            }
            Verdict::Match(h) => write!(f, "replay matches the recording: state hash {h}"),
            Verdict::Mismatch { recorded, replayed } => {
                write!(f, "replay DIFFERS from the recording: state hash {replayed}, recorded {recorded}")
            }
            Verdict::Redacted { plugin, replayed } => write!(
                f,
                "replay of a recording redacted for plugin `{plugin}` (state hash {replayed}): it holds only what \
                 that plugin may see, so it is not compared with the recorded twin"
            ),
            Verdict::NoEnd(h) => write!(
                f,
                "replay applied everything the recording holds (state hash {h}); the recording was cut short, so \
                 there is no end state to compare"
            ),
        }
    }
}

impl Replay {
    /// Replays `recording` from its first tick.
    pub fn new(recording: Recording) -> Replay {
        Replay { recording, next: 0, applied_to: i64::MIN, applied: 0, refused: 0 }
    }

    /// The recording (the ticks already applied keep their times, their changes are moved out).
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// Applies, in order, the changes of every recorded tick up to session progress `progress_us`;
    /// returns how many changes were applied.
    pub fn apply_until(&mut self, progress_us: i64, store: &mut TwinStore) -> usize {
        let mut n = 0;
        while let Some(tick) = self.recording.changes.get_mut(self.next) {
            if tick.progress_us > progress_us {
                break;
            }
            // Moved out, not copied: a replay applies each recorded change once.
            for event in std::mem::take(&mut tick.events) {
                match store.apply(event) {
                    Ok(()) => self.applied += 1,
                    Err(e) => {
                        // Only a recording of another twin does this; the verdict will show it.
                        self.refused += 1;
                        if self.refused <= 3 {
                            tracing::warn!("replay: a recorded change does not apply: {e}");
                        }
                    }
                }
                n += 1;
            }
            self.next += 1;
        }
        self.applied_to = self.applied_to.max(progress_us);
        n
    }

    /// What each recorded overlay showed at simulation time `t_us`: its last frame drawn for a time
    /// at or before `t_us` and recorded no later than the replay has reached (a looping recording
    /// draws the same time again on a later pass, which a replay shows once it gets there). Looks
    /// past at most [`OVERLAY_LOOKBACK`] frames of later passes.
    pub fn overlays_at(&self, t_us: i64) -> impl Iterator<Item = (&str, &Arc<OverlayFrame>)> + '_ {
        self.recording.overlays.iter().filter_map(move |(plugin, frames)| {
            let end = frames.partition_point(|f| f.frame.time <= t_us);
            let shown = frames[..end].iter().rev().take(OVERLAY_LOOKBACK).find(|f| f.progress_us <= self.applied_to)?;
            Some((plugin.as_str(), &shown.frame))
        })
    }

    /// Applies everything left; returns how many changes were applied.
    pub fn apply_all(&mut self, store: &mut TwinStore) -> usize {
        self.apply_until(i64::MAX, store)
    }

    /// Whether every recorded tick is applied.
    pub fn is_done(&self) -> bool {
        self.next >= self.recording.changes.len()
    }

    /// The progress of the recording's end (or of its last tick when it was cut short).
    pub fn end_progress(&self) -> i64 {
        self.recording
            .end
            .as_ref()
            .map(|e| e.progress_us)
            .or_else(|| self.recording.changes.last().map(|c| c.progress_us))
            .unwrap_or(0)
    }

    /// `InProgress` while recorded ticks are left to apply.
    fn in_progress(&self) -> Option<Verdict> {
        (!self.is_done())
            .then_some(Verdict::InProgress { applied_ticks: self.next, recorded_ticks: self.recording.changes.len() })
    }

    /// Changes applied and refused so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.applied, self.refused)
    }

    /// The verdict for `store` (hashes it once everything is applied).
    pub fn verdict(&self, store: &TwinStore) -> Verdict {
        self.in_progress().unwrap_or_else(|| self.verdict_for(store.state_hash()))
    }

    /// The verdict for a replayed twin whose state hash is `replayed` (already computed).
    pub fn verdict_for(&self, replayed: StateHash) -> Verdict {
        if let Some(v) = self.in_progress() {
            return v;
        }
        if let Some(plugin) = &self.recording.info.redacted_for {
            return Verdict::Redacted { plugin: plugin.clone(), replayed };
        }
        match &self.recording.end {
            Some(end) if end.state_hash == replayed => Verdict::Match(replayed),
            Some(end) => Verdict::Mismatch { recorded: end.state_hash, replayed },
            None => Verdict::NoEnd(replayed),
        }
    }
}
