//! What a Sangam recording holds, record by record: the topics, the JSON of each message and the
//! metadata that names the scene it belongs to. Written by [`super::writer`], read by
//! [`super::reader`]; a change here that an older reader cannot read raises [`FORMAT_VERSION`].
//!
//! An MCAP file whose header profile is [`PROFILE`], with one metadata record [`METADATA_NAME`]
//! written first (before any message), and these channels, all `json`-encoded:
//! - [`INPUT_TOPIC_PREFIX`]`<adapter>`: every message a source offered and the session accepted, as
//!   it arrived and before any plugin saw it ([`InputRecord`]);
//! - [`CHANGES_TOPIC`]: what one tick changed in the twin, in order ([`TwinChanges`]): plugin
//!   outputs, values applied from adapters, anything a tool wrote;
//! - [`SESSION_TOPIC`]: the session's own records ([`SessionRecord`]): a gap, and the end with the
//!   state hash the twin reached;
//! - [`ACCESS_TOPIC`]: the access log, which plugin read which properties of how many entities, when
//!   ([`crate::plugins::AccessEntry`]);
//! - [`OVERLAY_TOPIC_PREFIX`]`<plugin>`: what an overlay plugin drew, as it was shown ([`OverlayRecord`]):
//!   at most one frame per [`super::overlays::OVERLAY_PERIOD_US`] of progress, none that only repeats
//!   the last, so time travel shows the overlays of the past, not the overlays of today run on them.
//!   An older reader skips these channels.
//!
//! A finished recording (not a redacted one) ends with the attachment [`SNAPSHOT_NAME`]: the twin
//! store as it ended ([`SnapshotHeader`], then [`sangam_twin::TwinStore::snapshot`]), which MCAP's
//! summary indexes, so time travel reads the twin at once instead of replaying every change.
//!
//! Message log times are simulation times in nanoseconds (clamped at 0), so a viewer such as
//! Foxglove shows them on the twin's own time axis.

use base64::Engine as _;
use sangam_twin::TwinEvent;
use serde::{Deserialize, Serialize};

/// The recording format this runtime writes and reads.
pub const FORMAT_VERSION: &str = "1";

/// The MCAP header profile of a Sangam recording.
pub const PROFILE: &str = "sangam";

/// The name of the metadata record that describes the recording.
pub const METADATA_NAME: &str = "sangam.recording";

/// Twin changes, one message per tick that changed anything.
pub const CHANGES_TOPIC: &str = "/sangam/twin/changes";

/// The session's own records.
pub const SESSION_TOPIC: &str = "/sangam/session";

/// The access log.
pub const ACCESS_TOPIC: &str = "/sangam/access";

/// Inputs, one channel per adapter: the prefix of its topic.
pub const INPUT_TOPIC_PREFIX: &str = "/sangam/input/";

/// The attachment that holds the twin as the recording ended.
pub const SNAPSHOT_NAME: &str = "sangam.twin-snapshot";

/// Its media type: a little-endian `u32` length, the [`SnapshotHeader`] JSON of that length, then
/// the store's snapshot bytes.
pub const SNAPSHOT_MEDIA_TYPE: &str = "application/x-sangam-twin-snapshot";

/// What the end snapshot says about the recording it ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The end record's progress (microseconds).
    pub progress_us: i64,
    /// The end record's live simulation time (microseconds).
    pub now_us: i64,
    /// Ticks recorded.
    pub ticks: u64,
    /// The state hash of the twin the snapshot holds (hex): the end record's.
    pub state_hash: String,
    /// Simulation time of the first recorded tick that changed the twin, if any (microseconds).
    pub first_now_us: Option<i64>,
}

/// Overlay output, one channel per overlay plugin: the prefix of its topic.
pub const OVERLAY_TOPIC_PREFIX: &str = "/sangam/overlay/";

/// Keys of the metadata record.
pub mod keys {
    /// [`super::FORMAT_VERSION`] of the writer.
    pub const FORMAT_VERSION: &str = "format_version";
    /// The runtime that wrote it (`sangam 0.x.y`).
    pub const RUNTIME: &str = "runtime";
    /// The scene file's path as given to the recorder.
    pub const SCENE: &str = "scene";
    /// The scene's name.
    pub const SCENE_NAME: &str = "scene_name";
    /// SHA-256 of the scene file's bytes (hex).
    pub const SCENE_SHA256: &str = "scene_sha256";
    /// The state hash of the twin when recording started (hex).
    pub const INITIAL_STATE_HASH: &str = "initial_state_hash";
    /// The clock's fixed step in microseconds.
    pub const STEP_US: &str = "step_us";
    /// Present in a redacted recording: the plugin whose read grant it follows.
    pub const REDACTED_FOR: &str = "redacted_for";
}

/// What one tick changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwinChanges {
    /// The session's progress after the tick (fixed steps run x step, microseconds): it only grows,
    /// even when the clock loops, so a replay applies the changes at the same point.
    pub progress_us: i64,
    /// Live simulation time after the tick (microseconds).
    pub now_us: i64,
    /// The changes, in the order the store applied them.
    pub events: Vec<TwinEvent>,
}

/// One accepted input message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The adapter it was offered to.
    pub adapter: String,
    /// The source's id, file name or topic.
    pub source: String,
    /// MIME type, when the source knew it.
    pub content_type: String,
    /// When it was received (simulation time, microseconds).
    pub received_us: i64,
    /// The bytes as received, base64.
    pub payload_base64: String,
}

impl InputRecord {
    /// The bytes as received (`None` when the base64 is damaged).
    pub fn payload(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(&self.payload_base64).ok()
    }

    /// The record of `message` offered to `adapter`.
    pub fn of(adapter: &str, message: &crate::Message) -> InputRecord {
        InputRecord {
            adapter: adapter.to_string(),
            source: message.source.clone(),
            content_type: message.content_type.clone(),
            received_us: message.received.as_micros(),
            payload_base64: base64::engine::general_purpose::STANDARD.encode(&message.payload),
        }
    }
}

/// One overlay frame as the session showed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlayRecord {
    /// The session's progress when it was recorded (microseconds).
    pub progress_us: i64,
    /// The frame; its `time` is the simulation time it was drawn for.
    pub frame: sangam_plugins::OverlayFrame,
}

/// The session's own records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum SessionRecord {
    /// The store's event log evicted changes before the recorder took them: the recording misses
    /// them, and a replay cannot reach the recorded state (its verdict says so).
    Gap {
        /// Progress when the gap was seen (microseconds).
        progress_us: i64,
        /// Changes lost.
        events: u64,
    },
    /// The recording ended normally.
    End {
        /// Progress at the end (microseconds).
        progress_us: i64,
        /// Live simulation time at the end (microseconds).
        now_us: i64,
        /// Ticks recorded.
        ticks: u64,
        /// The state hash the twin ended with (hex).
        state_hash: String,
    },
}

/// A simulation time (microseconds) as an MCAP log time (nanoseconds, not below 0).
pub fn log_time(us: i64) -> u64 {
    (us.max(0) as u64).saturating_mul(1000)
}
