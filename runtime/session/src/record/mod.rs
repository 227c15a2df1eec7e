//! Recording a session to MCAP, and reading a recording back.
//!
//! A [`Recorder`] takes, on the frame thread, every message the session accepts from a source (as it
//! arrives, before any plugin sees it) and what each tick changed in the twin, and hands them to
//! its writer thread ([`writer`]) through a bounded channel: [`QUEUE_ENTRIES`] entries or
//! [`QUEUE_BYTES`] bytes. The frame thread never waits on the disk: if the writer falls that far
//! behind (a disk slower than the twin), the recording stops, the file is finished up to there,
//! and the session says so on screen and in the log; nothing is dropped without a word. Changes the
//! store evicted before the recorder took them are written as a gap.
//!
//! What the overlays drew is recorded too, sampled by [`overlays`], so time travel shows them as they
//! were shown.
//!
//! [`Recording::open`] ([`reader`]) reads a file back, recovering from a cut or damaged end;
//! [`travel`] reads the twin a finished one ended with (its end snapshot) for time travel.
//! [`wire`] is the format; [`redact`] makes a recording that holds only what one plugin may see.
//!
//! Cost on the frame thread: one channel send per accepted message (its payload copied once), per
//! tick that changed the twin (the tick's events moved, not copied) and per overlay frame recorded
//! (shared, not copied).

pub mod overlays;
pub mod reader;
pub mod redact;
pub mod travel;
pub mod wire;
pub mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::thread::JoinHandle;

use anyhow::{Context, Result};

pub use reader::{Recording, RecordingError, RecordingInfo};
pub use wire::{FORMAT_VERSION, InputRecord, OverlayRecord, SessionRecord, TwinChanges};
pub use writer::WriterSummary;

use crate::Message;
use crate::plugins::{ChangeBatch, change_count};
use overlays::{OverlaySampler, Sampled};
use sangam_plugins::OverlayFrame;
use writer::Entry;

/// The most entries waiting for the writer.
pub const QUEUE_ENTRIES: usize = 16_384;

/// The most bytes waiting for the writer (256 MiB).
pub const QUEUE_BYTES: usize = 256 << 20;

/// Counters of a recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Input messages handed to the writer.
    pub inputs: u64,
    /// Ticks whose changes were handed to the writer.
    pub ticks: u64,
    /// Twin changes handed to the writer.
    pub changes: u64,
    /// Changes the store evicted before the recorder took them (written as gaps).
    pub gap_events: u64,
    /// Access-log entries handed to the writer.
    pub access: u64,
    /// Overlay frames handed to the writer.
    pub overlay_frames: u64,
    /// New overlay frames drawn within a period of the last one recorded (not recorded: sampling).
    pub overlay_between: u64,
    /// New overlay frames over their overlay's byte allowance (not recorded).
    pub overlay_over_budget: u64,
}

/// A session being recorded to one file.
pub struct Recorder {
    path: PathBuf,
    tx: Option<SyncSender<Entry>>,
    thread: Option<JoinHandle<Result<WriterSummary>>>,
    pending: Arc<AtomicUsize>,
    stats: RecorderStats,
    overlays: OverlaySampler,
    /// Why the recording stopped early, once it has.
    stopped: Option<String>,
}

impl Recorder {
    /// Starts recording to `path` (created or replaced), the file opening with `metadata`. The file
    /// is created here, so an unwritable path is an error now.
    pub fn create(path: &Path, metadata: BTreeMap<String, String>) -> Result<Recorder> {
        // Created here so the error comes at once, not from the thread.
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the recording {}", path.display()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_ENTRIES);
        let pending = Arc::new(AtomicUsize::new(0));
        let (thread_path, thread_pending) = (path.to_path_buf(), pending.clone());
        let thread = std::thread::Builder::new()
            .name("sangam-recorder".into())
            .spawn(move || writer::write_file(&thread_path, file, metadata, rx, thread_pending))
            .context("cannot start the recorder's writer thread")?;
        Ok(Recorder {
            path: path.to_path_buf(),
            tx: Some(tx),
            thread: Some(thread),
            pending,
            stats: RecorderStats::default(),
            overlays: OverlaySampler::default(),
            stopped: None,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The counters.
    pub fn stats(&self) -> &RecorderStats {
        &self.stats
    }

    /// Why the recording stopped before it was finished, if it did.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    /// Bytes handed to the writer and not yet written (a tool that writes faster than the disk waits
    /// on this; a session never does).
    pub fn pending_bytes(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Whether entries still go to the file.
    pub fn is_recording(&self) -> bool {
        self.tx.is_some()
    }

    /// Records a message accepted for `adapter` (the caller's copy: the adapter gets the original).
    /// Its broker acknowledgement, if any, is sent by the writer once the message is in the file
    /// (its chunk closed and handed to the OS); it comes back when the recording has stopped, for
    /// the caller to send.
    pub fn input(
        &mut self,
        adapter: &str,
        message: Message,
        ack: Option<sangam_data::Ack>,
    ) -> Option<sangam_data::Ack> {
        match self.send(Entry::Input { adapter: adapter.to_string(), message, ack }) {
            Ok(()) => {
                self.stats.inputs += 1;
                None
            }
            Err(entry) => match *entry {
                Entry::Input { ack, .. } => ack,
                _ => None,
            },
        }
    }

    /// Records one tick's changes (nothing when it changed nothing), in the batches the store's log
    /// was handed over in (shared with the replica plugin views are built on: not copied).
    pub fn changes(&mut self, progress_us: i64, now_us: i64, batches: Vec<ChangeBatch>) {
        let n = change_count(&batches);
        if n == 0 {
            return;
        }
        if self.send(Entry::Changes { progress_us, now_us, batches }).is_ok() {
            self.stats.ticks += 1;
            self.stats.changes += n as u64;
        }
    }

    /// Looks at the overlays' current frames at `progress_us` and records the new ones its sampling
    /// keeps ([`overlays`]).
    pub fn overlays<'a>(&mut self, progress_us: i64, frames: impl Iterator<Item = (&'a str, &'a Arc<OverlayFrame>)>) {
        for (plugin, frame) in frames {
            match self.overlays.sample(plugin, frame, progress_us) {
                None => {}
                Some(Sampled::Between) => self.stats.overlay_between += 1,
                Some(Sampled::OverBudget) => self.stats.overlay_over_budget += 1,
                Some(Sampled::Record) => {
                    let entry = Entry::Overlay { plugin: plugin.to_string(), progress_us, frame: frame.clone() };
                    if self.send(entry).is_ok() {
                        self.stats.overlay_frames += 1;
                    }
                }
            }
        }
    }

    /// Records access-log entries.
    pub fn access(&mut self, entries: Vec<crate::plugins::AccessEntry>) {
        for entry in entries {
            if self.send(Entry::Access(entry)).is_ok() {
                self.stats.access += 1;
            }
        }
    }

    /// Records that `events` changes were lost before the recorder took them.
    pub fn gap(&mut self, progress_us: i64, now_us: i64, events: u64) {
        self.stats.gap_events += events;
        tracing::warn!(
            file = %self.path.display(),
            "{events} twin changes were evicted from the store's event log before the recorder took them; \
             the recording has a gap (raise [history] budget_mb)"
        );
        // Not taken: the recording has stopped, and said so.
        let _ = self.send(Entry::Session { now_us, record: SessionRecord::Gap { progress_us, events } });
    }

    /// Hands an entry to the writer without waiting; past the bounds the recording stops (and says
    /// so). The entry comes back when it was not taken (the recording had stopped, or stops now).
    fn send(&mut self, entry: Entry) -> Result<(), Box<Entry>> {
        let Some(tx) = &self.tx else { return Err(Box::new(entry)) };
        let bytes = entry.bytes();
        let (why, entry) = if self.pending.load(Ordering::Relaxed) + bytes > QUEUE_BYTES {
            (format!("the disk fell {QUEUE_BYTES} bytes behind"), entry)
        } else {
            match tx.try_send(entry) {
                Ok(()) => {
                    self.pending.fetch_add(bytes, Ordering::Relaxed);
                    return Ok(());
                }
                Err(TrySendError::Full(entry)) => (format!("the disk fell {QUEUE_ENTRIES} entries behind"), entry),
                Err(TrySendError::Disconnected(entry)) => {
                    ("the writer stopped (see the error below)".to_string(), entry)
                }
            }
        };
        tracing::error!(
            file = %self.path.display(),
            "recording stopped: {why}; the file keeps everything before this point"
        );
        self.stopped = Some(why);
        // Closing the channel lets the writer finish the file.
        self.tx = None;
        Err(Box::new(entry))
    }

    /// Ends the recording: writes `end` (unless it stopped early), finishes the file and says what
    /// was written. Waits for the writer (call it when the session ends, not in a frame).
    pub fn finish(self, now_us: i64, end: SessionRecord) -> Result<WriterSummary> {
        self.finish_with_snapshot(now_us, end, None)
    }

    /// [`finish`](Self::finish), the file ending with `snapshot` ([`sangam_twin::TwinStore::snapshot`]
    /// of the twin as it ended, whose state hash `end` holds) for time travel to read at once.
    pub fn finish_with_snapshot(
        mut self,
        now_us: i64,
        end: SessionRecord,
        snapshot: Option<Vec<u8>>,
    ) -> Result<WriterSummary> {
        let header = match (&end, &snapshot) {
            (SessionRecord::End { progress_us, now_us, ticks, state_hash }, Some(_)) => Some(wire::SnapshotHeader {
                progress_us: *progress_us,
                now_us: *now_us,
                ticks: *ticks,
                state_hash: state_hash.clone(),
                first_now_us: None,
            }),
            _ => None,
        };
        let ended = self.send(Entry::Session { now_us, record: end }).is_ok();
        if let (true, Some(header), Some(store), Some(tx)) = (ended, header, snapshot, &self.tx) {
            // Past the queue's byte bound, as it may be: the session is ending and waits for the
            // writer here anyway.
            let entry = Entry::Snapshot { header, store };
            self.pending.fetch_add(entry.bytes(), Ordering::Relaxed);
            if tx.send(entry).is_err() {
                tracing::warn!(file = %self.path.display(), "the writer stopped before the end snapshot was written");
            }
        }
        self.close()
    }

    fn close(&mut self) -> Result<WriterSummary> {
        self.tx = None;
        let Some(thread) = self.thread.take() else { return Ok(WriterSummary::default()) };
        let summary = match thread.join() {
            Ok(result) => result?,
            Err(_) => anyhow::bail!("the recorder's writer thread panicked; {} may be cut short", self.path.display()),
        };
        if let Some(why) = &self.stopped {
            anyhow::bail!("the recording {} stopped early: {why}", self.path.display());
        }
        Ok(summary)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.thread.is_some()
            && let Err(e) = self.close()
        {
            tracing::error!("{e:#}");
        }
    }
}
