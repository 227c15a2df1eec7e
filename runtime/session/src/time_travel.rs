//! Time travel: a session showing the twin of a recording as it was at one time.
//!
//! [`Session::time_travel`] gives what a replay of the whole recording followed by
//! [`Session::replay_seek`] gives (the twin with everything recorded in it, the playhead at the
//! time, paused; each recorded overlay's frame for then), and reads it from the recording's end
//! snapshot ([`crate::record::travel`]) when the recording has one, so its cost does not grow with
//! the recording's length. A recording without one (cut short, redacted), or whose snapshot is
//! damaged, is replayed, as before, and the log says why it takes longer.

use std::path::Path;

use anyhow::Result;
use sangam_twin::{Scene as TwinScene, SimTime};

use crate::record::travel;
use crate::{Recording, Session};

impl Session {
    /// A session of `scene` showing `recording` as it was at `at` after the clock's start. `Err`
    /// when the recording cannot be read, is of another scene, or does not reach `at`.
    pub fn time_travel(scene: &TwinScene, recording: &Path, at: std::time::Duration) -> Result<Session> {
        let start = scene.clock.build()?.start();
        let t = start.saturating_add_micros(i64::try_from(at.as_micros()).unwrap_or(i64::MAX));
        let travel = match travel::open_at(recording, t.as_micros()) {
            Ok(Some(travel)) => travel,
            Ok(None) => {
                tracing::info!(
                    "{} has no end snapshot (it was cut short, or is redacted): time travel replays all of it",
                    recording.display()
                );
                return Session::replay_to(scene, recording, t);
            }
            Err(e) => {
                // The changes may well be intact: the replay reads them (and says what it cannot).
                tracing::warn!("{e}; time travel replays the whole recording instead");
                return Session::replay_to(scene, recording, t);
            }
        };
        // The same bounds as a replay's seek: the clock's start to the recorded end.
        let end = travel.end.now_us;
        crate::check_within(recording, start, t, end)?;
        let mut session = Session::replay(scene, travel.recording())?;
        session.store = travel.store;
        session.plugins.reset_views(&mut session.store);
        if let Some(replay) = session.replay.as_mut() {
            // Nothing is left to apply: the snapshot holds it all (this marks the replay done).
            replay.apply_all(&mut session.store);
        }
        session.time.seek_live(SimTime::from_micros(end));
        session.time.pause();
        session.time.set_playhead(t);
        Ok(session)
    }

    /// Time travel the long way: the whole recording replayed, then a seek to `t`.
    fn replay_to(scene: &TwinScene, recording: &Path, t: SimTime) -> Result<Session> {
        let rec = Recording::open(recording)?;
        for w in &rec.warnings {
            tracing::warn!("{w}");
        }
        let mut session = Session::replay(scene, rec)?;
        session.replay_seek(t)?;
        Ok(session)
    }
}
