//! Reading a recording back: every tick's changes, the overlays' frames, the inputs counted, the end
//! record, and what the file says about the scene it belongs to.
//!
//! The file is read front to back with the `mcap` crate's sans-io linear reader, in reads of at most
//! [`READ_BYTES`], every chunk's CRC checked before any of its messages is used, and no record larger
//! than [`RECORD_LIMIT`] is allocated. A file cut short (a recorder killed with SIGKILL, a full disk)
//! or damaged past its start is read up to the last intact record, with a warning that names the
//! byte offset; a file that is not a Sangam recording, of another format version, or whose start is
//! damaged, is refused with the file and the reason.
//!
//! Cost: one pass over the file (zstd decompression and JSON parsing, some hundreds of MB/s); the
//! changes and frames are held in memory for the replay (about the size of the decompressed file), at
//! most [`CHANGES_LIMIT_BYTES`].

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcap::records::Record;
use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};
use sangam_plugins::OverlayFrame;
use sangam_twin::StateHash;

use super::wire::{
    ACCESS_TOPIC, CHANGES_TOPIC, FORMAT_VERSION, INPUT_TOPIC_PREFIX, METADATA_NAME, OVERLAY_TOPIC_PREFIX,
    OverlayRecord, PROFILE, SESSION_TOPIC, SessionRecord, TwinChanges, keys,
};

/// The most bytes read from the file at once.
pub const READ_BYTES: usize = 4 << 20;

/// The largest record (a chunk, a message) the reader allocates (256 MiB).
pub const RECORD_LIMIT: usize = 256 << 20;

/// The most memory the changes and overlay frames read from one recording may take (2 GiB, a change
/// reckoned at [`sangam_twin::history::EVENT_BYTES`], a frame at its `approx_bytes`): past it the
/// rest of the file is not read, with a warning that says where, so no recording can make a replay
/// run out of memory.
pub const CHANGES_LIMIT_BYTES: usize = 2 << 30;

/// A recording that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file cannot be read.
    #[error("cannot read the recording {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a Sangam recording.
    #[error("{} is not a Sangam recording: {why}", path.display())]
    NotARecording {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        why: String,
    },
    /// Its start is damaged: nothing can be recovered.
    #[error("the recording {} is damaged at byte {offset}: {why}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Where the damage is (bytes from the start).
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// Written in a format version this runtime does not read.
    #[error(
        "the recording {} is of format version {found}; this runtime reads version {FORMAT_VERSION} (replay it with \
         the Sangam release that wrote it: {runtime})",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: String,
        /// The runtime that wrote it.
        runtime: String,
    },
    /// Recorded from another scene (or another version of the scene file).
    #[error(
        "the recording {} was made from another scene: it names {} (SHA-256 {recorded}), but {} has SHA-256 \
         {actual}; replay it with the scene it was recorded from",
        path.display(),
        recorded_scene,
        scene.display()
    )]
    OtherScene {
        /// The file.
        path: PathBuf,
        /// The scene file given.
        scene: PathBuf,
        /// The scene the recording names.
        recorded_scene: String,
        /// The hash it recorded.
        recorded: String,
        /// The given scene file's hash.
        actual: String,
    },
}

/// What the recording says about itself (its metadata record).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingInfo {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub file_bytes: u64,
    /// The runtime that wrote it.
    pub runtime: String,
    /// The scene file as the recorder was given it.
    pub scene: String,
    /// The scene's name.
    pub scene_name: String,
    /// SHA-256 of the scene file (hex).
    pub scene_sha256: String,
    /// The state hash of the twin when recording started.
    pub initial_state_hash: StateHash,
    /// The clock's fixed step (microseconds).
    pub step_us: i64,
    /// A redacted recording: the plugin whose read grant it follows (it holds only what that plugin
    /// may see, and no raw inputs).
    pub redacted_for: Option<String>,
}

/// How a recording ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEnd {
    /// Progress at the end (microseconds).
    pub progress_us: i64,
    /// Live simulation time at the end (microseconds).
    pub now_us: i64,
    /// Ticks recorded.
    pub ticks: u64,
    /// The state hash the twin ended with.
    pub state_hash: StateHash,
}

/// An overlay frame read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedOverlay {
    /// The session's progress when it was recorded (microseconds).
    pub progress_us: i64,
    /// The frame; its `time` is the simulation time it was drawn for.
    pub frame: Arc<OverlayFrame>,
}

/// A recording read back.
#[derive(Clone, Debug)]
pub struct Recording {
    /// What it says about itself.
    pub info: RecordingInfo,
    /// Each tick's changes, in order.
    pub changes: Vec<TwinChanges>,
    /// Input messages recorded, per adapter.
    pub inputs: BTreeMap<String, u64>,
    /// The input messages themselves, in order, when read with [`Recording::open_with_inputs`].
    pub input_records: Vec<super::wire::InputRecord>,
    /// Changes lost to gaps while recording.
    pub gap_events: u64,
    /// The access log: which plugin read what, when.
    pub access: Vec<crate::plugins::AccessEntry>,
    /// What each overlay plugin drew, by plugin, sorted by the time drawn for (then by progress).
    pub overlays: BTreeMap<String, Vec<RecordedOverlay>>,
    /// The end record; `None` when the recording was cut short.
    pub end: Option<RecordedEnd>,
    /// Messages read, over all channels.
    pub messages: u64,
    /// What was wrong with the file and recovered from (cut short, damaged end).
    pub warnings: Vec<String>,
}

#[derive(Clone)]
enum Topic {
    Changes,
    Session,
    Access,
    Input(String),
    Overlay(String),
    Other,
}

impl Recording {
    /// Reads `path` (see the module docs for what is recovered and what is refused).
    pub fn open(path: &Path) -> Result<Recording, RecordingError> {
        Recording::read(path, false, CHANGES_LIMIT_BYTES)
    }

    /// [`open`](Self::open) keeping at most `limit_bytes` of changes in memory.
    pub fn open_within(path: &Path, limit_bytes: usize) -> Result<Recording, RecordingError> {
        Recording::read(path, false, limit_bytes)
    }

    /// Reads only what the recording says about itself (its first records), e.g. to find its scene.
    pub fn info(path: &Path) -> Result<RecordingInfo, RecordingError> {
        Ok(Recording::read(path, true, CHANGES_LIMIT_BYTES)?.info)
    }

    /// [`open`](Self::open), keeping every recorded input message too ([`Recording::input_records`],
    /// counted against the same memory limit): to audit what a source delivered, or to feed it again.
    pub fn open_with_inputs(path: &Path) -> Result<Recording, RecordingError> {
        Recording::read_as(path, false, CHANGES_LIMIT_BYTES, true)
    }

    fn read(path: &Path, info_only: bool, limit_bytes: usize) -> Result<Recording, RecordingError> {
        Recording::read_as(path, info_only, limit_bytes, false)
    }

    fn read_as(
        path: &Path,
        info_only: bool,
        limit_bytes: usize,
        keep_inputs: bool,
    ) -> Result<Recording, RecordingError> {
        let io = |source| RecordingError::Io { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io)?;
        let file_bytes = file.metadata().map_err(io)?.len();
        let mut reader = LinearReader::new_with_options(
            LinearReaderOptions::default()
                .with_prevalidate_chunk_crcs(true)
                .with_validate_data_section_crc(true)
                .with_validate_summary_section_crc(true)
                .with_record_length_limit(RECORD_LIMIT),
        );
        let mut state =
            ReadState { path: path.to_path_buf(), file_bytes, limit_bytes, keep_inputs, ..ReadState::default() };
        // Bytes handed to the reader, and where the last intact record ended.
        let mut fed = 0u64;
        loop {
            let request = match reader.next_event() {
                None => break,
                Some(Ok(LinearReadEvent::ReadRequest(n))) => n,
                Some(Ok(LinearReadEvent::Record { data, opcode })) => {
                    let record = match mcap::parse_record(opcode, data) {
                        Ok(r) => r,
                        Err(e) => {
                            state.damage(fed, &format!("a record does not parse ({e})"))?;
                            break;
                        }
                    };
                    match state.record(record) {
                        Ok(true) if info_only && state.info.is_some() => break,
                        // Past the end record come only the end snapshot and the indexes, which a
                        // replay does not need (time travel reads them by their index: `travel`).
                        Ok(true) if state.end.is_some() => {
                            state.good_end = fed;
                            break;
                        }
                        Ok(true) => {
                            state.good_end = fed;
                            continue;
                        }
                        Ok(false) => {
                            // A message that does not decode: the rest cannot be trusted.
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Some(Err(mcap::McapError::BadMagic)) if fed <= 8 => {
                    return Err(RecordingError::NotARecording {
                        path: path.to_path_buf(),
                        why: "it does not start with the MCAP magic bytes".into(),
                    });
                }
                Some(Err(e)) => {
                    let why = match e {
                        mcap::McapError::UnexpectedEof => "the file is cut short (the recorder was stopped before \
                                                          it finished)"
                            .to_string(),
                        other => other.to_string(),
                    };
                    state.damage(fed, &why)?;
                    break;
                }
            };
            let buf = reader.insert(request.clamp(1, READ_BYTES));
            let got = read_some(&mut file, buf).map_err(io)?;
            reader.notify_read(got);
            fed += got as u64;
        }
        state.finish()
    }

    /// Refuses the recording unless `scene` (the file given for the replay) is the one it was
    /// recorded from, byte for byte.
    pub fn check_scene(&self, scene: &Path) -> Result<(), RecordingError> {
        let bytes = std::fs::read(scene).map_err(|source| RecordingError::Io { path: scene.to_path_buf(), source })?;
        let actual = sha256_hex(&bytes);
        if actual != self.info.scene_sha256 {
            return Err(RecordingError::OtherScene {
                path: self.info.path.clone(),
                scene: scene.to_path_buf(),
                recorded_scene: self.info.scene.clone(),
                recorded: self.info.scene_sha256.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// The simulation time span of the recorded changes (microseconds), when it has any.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let first = self.changes.first()?.now_us;
        let last = self.end.as_ref().map_or(self.changes.last()?.now_us, |e| e.now_us);
        Some((first, last))
    }
}

/// SHA-256 of `bytes`, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads what is there into `buf` (fewer bytes at the end of the file; 0 at its end).
fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[derive(Default)]
struct ReadState {
    path: PathBuf,
    file_bytes: u64,
    good_end: u64,
    header_seen: bool,
    info: Option<RecordingInfo>,
    channels: HashMap<u16, Topic>,
    changes: Vec<TwinChanges>,
    inputs: BTreeMap<String, u64>,
    gap_events: u64,
    access: Vec<crate::plugins::AccessEntry>,
    overlays: BTreeMap<String, Vec<RecordedOverlay>>,
    /// Whether input messages are kept ([`Recording::open_with_inputs`]), and those kept.
    keep_inputs: bool,
    input_records: Vec<super::wire::InputRecord>,
    /// Memory the changes and overlay frames read so far take (reckoned), and the most they may.
    held_bytes: usize,
    limit_bytes: usize,
    end: Option<RecordedEnd>,
    messages: u64,
    warnings: Vec<String>,
}

impl ReadState {
    fn not_ours(&self, why: impl Into<String>) -> RecordingError {
        RecordingError::NotARecording { path: self.path.clone(), why: why.into() }
    }

    /// Damage at `fed` bytes: a warning when something was read already, else an error.
    fn damage(&mut self, fed: u64, why: &str) -> Result<(), RecordingError> {
        if self.info.is_none() {
            return Err(RecordingError::Damaged { path: self.path.clone(), offset: self.good_end, why: why.into() });
        }
        self.warnings.push(format!(
            "{}: {why}; everything up to byte {} of {} was read ({} messages), the rest (from at most byte {fed}) is lost",
            self.path.display(),
            self.good_end,
            self.file_bytes,
            self.messages,
        ));
        Ok(())
    }

    /// Takes one record: `Ok(false)` when a message does not decode (warned).
    fn record(&mut self, record: Record<'_>) -> Result<bool, RecordingError> {
        match record {
            Record::Header(h) => {
                if h.profile != PROFILE {
                    return Err(self.not_ours(format!(
                        "it is an MCAP file of profile `{}` (a Sangam recording has profile `{PROFILE}`)",
                        h.profile
                    )));
                }
                self.header_seen = true;
            }
            Record::Metadata(m) if m.name == METADATA_NAME => {
                self.info = Some(self.info_of(&m.metadata)?);
            }
            Record::Channel(c) => {
                let topic = if c.topic == CHANGES_TOPIC {
                    Topic::Changes
                } else if c.topic == SESSION_TOPIC {
                    Topic::Session
                } else if c.topic == ACCESS_TOPIC {
                    Topic::Access
                } else if let Some(adapter) = c.topic.strip_prefix(INPUT_TOPIC_PREFIX) {
                    Topic::Input(adapter.to_string())
                } else if let Some(plugin) = c.topic.strip_prefix(OVERLAY_TOPIC_PREFIX) {
                    Topic::Overlay(plugin.to_string())
                } else {
                    Topic::Other
                };
                self.channels.insert(c.id, topic);
            }
            Record::Message { header, data } => {
                if self.info.is_none() {
                    return Err(self.not_ours(format!("its first message comes before the `{METADATA_NAME}` metadata")));
                }
                self.messages += 1;
                let decoded = match self.channels.get(&header.channel_id).cloned() {
                    Some(Topic::Changes) => match serde_json::from_slice::<TwinChanges>(&data) {
                        Ok(c) => {
                            if !self.hold(c.events.len() * sangam_twin::history::EVENT_BYTES + 64) {
                                return Ok(false);
                            }
                            self.changes.push(c);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    Some(Topic::Overlay(plugin)) => match serde_json::from_slice::<OverlayRecord>(&data) {
                        Ok(r) => {
                            if !self.hold(r.frame.approx_bytes()) {
                                return Ok(false);
                            }
                            let frame = Arc::new(r.frame);
                            self.overlays
                                .entry(plugin)
                                .or_default()
                                .push(RecordedOverlay { progress_us: r.progress_us, frame });
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    Some(Topic::Session) => serde_json::from_slice::<SessionRecord>(&data).map(|r| self.session(r)),
                    Some(Topic::Access) => serde_json::from_slice(&data).map(|a| self.access.push(a)),
                    Some(Topic::Input(adapter)) => {
                        *self.inputs.entry(adapter).or_default() += 1;
                        if self.keep_inputs {
                            match serde_json::from_slice::<super::wire::InputRecord>(&data) {
                                Ok(r) => {
                                    if !self.hold(r.payload_base64.len() + 128) {
                                        return Ok(false);
                                    }
                                    self.input_records.push(r);
                                    Ok(())
                                }
                                Err(e) => Err(e),
                            }
                        } else {
                            Ok(())
                        }
                    }
                    Some(Topic::Other) => Ok(()),
                    None => {
                        let why = format!(
                            "message {} names channel {} that was never declared",
                            header.sequence, header.channel_id
                        );
                        self.damage(self.good_end, &why)?;
                        return Ok(false);
                    }
                };
                if let Err(e) = decoded {
                    let why = format!("message {} does not decode ({e})", header.sequence);
                    self.damage(self.good_end, &why)?;
                    return Ok(false);
                }
            }
            _ => {}
        }
        Ok(true)
    }

    /// Counts `bytes` more held in memory; past the limit, warns (the rest of the file is not read).
    fn hold(&mut self, bytes: usize) -> bool {
        self.held_bytes += bytes;
        if self.held_bytes > self.limit_bytes {
            self.warnings.push(format!(
                "{}: the recording holds more changes than a replay keeps in memory ({} MiB); replaying what comes \
                 before byte {} ({} ticks), the rest is not read",
                self.path.display(),
                self.limit_bytes >> 20,
                self.good_end,
                self.changes.len()
            ));
            return false;
        }
        true
    }

    fn session(&mut self, record: SessionRecord) {
        match record {
            SessionRecord::Gap { events, .. } => self.gap_events += events,
            SessionRecord::End { progress_us, now_us, ticks, state_hash } => match state_hash.parse() {
                Ok(state_hash) => self.end = Some(RecordedEnd { progress_us, now_us, ticks, state_hash }),
                Err(e) => self.warnings.push(format!("{}: the end record's {e}", self.path.display())),
            },
        }
    }

    fn info_of(&self, m: &BTreeMap<String, String>) -> Result<RecordingInfo, RecordingError> {
        let get = |key: &str| {
            m.get(key).cloned().ok_or_else(|| self.not_ours(format!("its `{METADATA_NAME}` metadata has no `{key}`")))
        };
        let version = get(keys::FORMAT_VERSION)?;
        let runtime = m.get(keys::RUNTIME).cloned().unwrap_or_else(|| "unknown".into());
        if version != FORMAT_VERSION {
            return Err(RecordingError::Version { path: self.path.clone(), found: version, runtime });
        }
        let initial = get(keys::INITIAL_STATE_HASH)?;
        let initial_state_hash = initial.parse().map_err(|e| self.not_ours(format!("its metadata's {e}")))?;
        let step = get(keys::STEP_US)?;
        let step_us = step
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| self.not_ours(format!("its metadata's step `{step}` is not a positive number")))?;
        Ok(RecordingInfo {
            path: self.path.clone(),
            file_bytes: self.file_bytes,
            runtime,
            scene: get(keys::SCENE)?,
            scene_name: m.get(keys::SCENE_NAME).cloned().unwrap_or_default(),
            scene_sha256: get(keys::SCENE_SHA256)?,
            initial_state_hash,
            step_us,
            redacted_for: m.get(keys::REDACTED_FOR).cloned(),
        })
    }

    fn finish(self) -> Result<Recording, RecordingError> {
        if !self.header_seen {
            return Err(self.not_ours("it has no MCAP header"));
        }
        let Some(info) = self.info else {
            return Err(self.not_ours(format!("it has no `{METADATA_NAME}` metadata record")));
        };
        let mut warnings = self.warnings;
        if self.end.is_none() && warnings.is_empty() {
            warnings.push(format!("{}: the recording has no end record (it was not finished)", info.path.display()));
        }
        let mut overlays = self.overlays;
        for frames in overlays.values_mut() {
            // Stable: frames drawn for the same time stay in the order they were recorded.
            frames.sort_by_key(|f| f.frame.time);
        }
        Ok(Recording {
            info,
            changes: self.changes,
            input_records: self.input_records,
            overlays,
            inputs: self.inputs,
            gap_events: self.gap_events,
            access: self.access,
            end: self.end,
            messages: self.messages,
            warnings,
        })
    }
}
