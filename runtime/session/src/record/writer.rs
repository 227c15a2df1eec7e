//! The recorder's writer thread: turns entries into MCAP messages on disk, off the frame thread.
//!
//! The file is an MCAP with zstd chunks of [`CHUNK_BYTES`] (each with its CRC), the metadata record
//! first and flushed at once, and a chunk closed and flushed to the OS at least every
//! [`FLUSH_PERIOD`]: a recorder killed outright (SIGKILL, power-off of the process) loses at most
//! the last period, and the reader recovers everything before it. A QoS 1 message's broker
//! acknowledgement is sent once its chunk is flushed (within [`ACK_FLUSH_PERIOD`]), so a Sangam
//! that dies before then leaves the message with the broker. Serialising (JSON, base64) and
//! compressing happen here; the frame thread only moves entries into a bounded channel.
//!
//! Cost: JSON at some hundreds of MB/s and zstd level 3 on this thread; none on the frame thread.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mcap::records::MessageHeader;
use serde::Serialize;

use sangam_plugins::OverlayFrame;

use super::wire::{
    ACCESS_TOPIC, CHANGES_TOPIC, INPUT_TOPIC_PREFIX, InputRecord, METADATA_NAME, OVERLAY_TOPIC_PREFIX, PROFILE,
    SESSION_TOPIC, SNAPSHOT_MEDIA_TYPE, SNAPSHOT_NAME, SessionRecord, SnapshotHeader, log_time,
};
use crate::Message;
use crate::plugins::{AccessEntry, ChangeBatch, change_count};

/// Uncompressed bytes per chunk.
pub const CHUNK_BYTES: u64 = 1 << 20;

/// The longest a written message waits in memory before its chunk is closed and flushed.
pub const FLUSH_PERIOD: Duration = Duration::from_secs(1);

/// The longest a broker acknowledgement waits for its message's chunk to be flushed: a broker
/// sends only a window of unacknowledged messages (Mosquitto: 20 by default), so this bounds how
/// fast an acknowledged stream can be recorded (raise the broker's `max_inflight_messages` for more).
pub const ACK_FLUSH_PERIOD: Duration = Duration::from_millis(20);

/// Acknowledgements waiting that flush the chunk at once.
const ACK_BATCH: usize = 256;

/// What the frame thread hands the writer.
pub(crate) enum Entry {
    /// A message a source offered and the session accepted, with the acknowledgement its broker is
    /// owed once it is in the file.
    Input { adapter: String, message: Message, ack: Option<sangam_data::Ack> },
    /// One tick's changes ([`TwinChanges`](super::wire::TwinChanges) on the wire), in the batches they were handed over in.
    Changes { progress_us: i64, now_us: i64, batches: Vec<ChangeBatch> },
    /// A session record.
    Session { now_us: i64, record: SessionRecord },
    /// An access-log entry.
    Access(AccessEntry),
    /// An overlay's frame ([`OverlayRecord`](super::wire::OverlayRecord) on the wire), shared with the session.
    Overlay { plugin: String, progress_us: i64, frame: Arc<OverlayFrame> },
    /// The twin as the recording ended: written as the [`SNAPSHOT_NAME`] attachment (the writer fills
    /// in `first_now_us`).
    Snapshot { header: SnapshotHeader, store: Vec<u8> },
}

impl Entry {
    /// Bytes it holds while it waits (what the channel's byte bound counts).
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Entry::Input { message, .. } => message.payload.len() + 64,
            Entry::Changes { batches, .. } => change_count(batches) * sangam_twin::history::EVENT_BYTES + 32,
            Entry::Session { .. } => 128,
            Entry::Access(a) => 64 + a.properties.iter().map(|p| p.len() + 8).sum::<usize>(),
            Entry::Overlay { frame, .. } => frame.approx_bytes(),
            Entry::Snapshot { store, .. } => store.len(),
        }
    }
}

/// What the writer wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterSummary {
    /// Messages written, over all channels.
    pub messages: u64,
    /// Bytes of the finished file.
    pub file_bytes: u64,
    /// Overlay frames left out because they drew just what the overlay's last recorded frame drew.
    pub overlay_repeats: u64,
    /// Bytes of the end snapshot of the twin (0 without one).
    pub snapshot_bytes: u64,
}

struct Channels {
    changes: u16,
    session: u16,
    access: u16,
    inputs: BTreeMap<String, u16>,
    overlays: BTreeMap<String, u16>,
}

/// Writes `metadata` and then every entry of `rx` to `file` (created at `path`) until the channel
/// closes; finishes the file (summary, index, footer). `pending` is decreased by each entry's bytes
/// once written.
pub(crate) fn write_file(
    path: &Path,
    file: File,
    metadata: BTreeMap<String, String>,
    rx: Receiver<Entry>,
    pending: Arc<AtomicUsize>,
) -> Result<WriterSummary> {
    let options = mcap::WriteOptions::new()
        .profile(PROFILE)
        .library(format!("sangam {}", env!("CARGO_PKG_VERSION")))
        .compression(Some(mcap::Compression::Zstd))
        .chunk_size(Some(CHUNK_BYTES));
    let mut writer = options.create(BufWriter::new(file)).with_context(|| write_error(path))?;
    writer
        .write_metadata(&mcap::records::Metadata { name: METADATA_NAME.into(), metadata })
        .with_context(|| write_error(path))?;
    writer.flush().with_context(|| write_error(path))?;
    let no_meta = BTreeMap::new();
    let mut channels = Channels {
        changes: writer.add_channel(0, CHANGES_TOPIC, "json", &no_meta).with_context(|| write_error(path))?,
        session: writer.add_channel(0, SESSION_TOPIC, "json", &no_meta).with_context(|| write_error(path))?,
        access: writer.add_channel(0, ACCESS_TOPIC, "json", &no_meta).with_context(|| write_error(path))?,
        inputs: BTreeMap::new(),
        overlays: BTreeMap::new(),
    };
    // Each overlay's last frame written: a frame that draws the same is not written again.
    let mut last_overlay: BTreeMap<String, Arc<OverlayFrame>> = BTreeMap::new();
    let mut first_now_us = None;
    let mut summary = WriterSummary::default();
    let mut sequence = 0u32;
    let mut last_flush = Instant::now();
    let mut unflushed = false;
    let mut buf = Vec::with_capacity(64 << 10);
    // Broker acknowledgements waiting for their messages' chunk to be flushed, and since when.
    let mut acks: Option<(Instant, Vec<sangam_data::Ack>)> = None;
    loop {
        let mut wait = FLUSH_PERIOD.saturating_sub(last_flush.elapsed());
        if let Some((since, _)) = &acks {
            wait = wait.min(ACK_FLUSH_PERIOD.saturating_sub(since.elapsed()));
        }
        let entry = match rx.recv_timeout(if unflushed { wait } else { Duration::from_secs(3600) }) {
            Ok(entry) => Some(entry),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(entry) = entry {
            let bytes = entry.bytes();
            buf.clear();
            let (channel_id, time_us) = match entry {
                Entry::Input { adapter, message, ack } => {
                    if let Some(ack) = ack {
                        acks.get_or_insert_with(|| (Instant::now(), Vec::new())).1.push(ack);
                    }
                    let record = InputRecord::of(&adapter, &message);
                    to_json(&mut buf, &record)?;
                    let channel = channel_of(&mut writer, &mut channels.inputs, INPUT_TOPIC_PREFIX, adapter)
                        .with_context(|| write_error(path))?;
                    (channel, message.received.as_micros())
                }
                Entry::Overlay { plugin, progress_us, frame } => {
                    if last_overlay.get(&plugin).is_some_and(|last| last.same_drawing(&frame)) {
                        pending.fetch_sub(bytes, Ordering::Relaxed);
                        summary.overlay_repeats += 1;
                        continue;
                    }
                    to_json(&mut buf, &OverlayOut { progress_us, frame: &frame })?;
                    let time = frame.time;
                    last_overlay.insert(plugin.clone(), frame);
                    let channel = channel_of(&mut writer, &mut channels.overlays, OVERLAY_TOPIC_PREFIX, plugin)
                        .with_context(|| write_error(path))?;
                    (channel, time)
                }
                Entry::Snapshot { mut header, store } => {
                    header.first_now_us = first_now_us;
                    let json = serde_json::to_vec(&header).context("encoding the snapshot header")?;
                    let time = log_time(header.now_us);
                    let attachment = mcap::records::AttachmentHeader {
                        log_time: time,
                        create_time: time,
                        name: SNAPSHOT_NAME.into(),
                        media_type: SNAPSHOT_MEDIA_TYPE.into(),
                    };
                    // In parts, so the store's bytes are not copied once more.
                    let length = 4 + json.len() + store.len();
                    let attach = |w: &mut mcap::Writer<_>| -> mcap::McapResult<()> {
                        w.start_attachment(length as u64, attachment)?;
                        w.put_attachment_bytes(&(json.len() as u32).to_le_bytes())?;
                        w.put_attachment_bytes(&json)?;
                        w.put_attachment_bytes(&store)?;
                        w.finish_attachment()
                    };
                    attach(&mut writer).with_context(|| write_error(path))?;
                    summary.snapshot_bytes = length as u64;
                    pending.fetch_sub(bytes, Ordering::Relaxed);
                    unflushed = true;
                    continue;
                }
                Entry::Changes { progress_us, now_us, batches } => {
                    first_now_us.get_or_insert(now_us);
                    let events = Concat(&batches);
                    to_json(&mut buf, &ChangesOut { progress_us, now_us, events })?;
                    (channels.changes, now_us)
                }
                Entry::Session { now_us, record } => {
                    to_json(&mut buf, &record)?;
                    (channels.session, now_us)
                }
                Entry::Access(entry) => {
                    to_json(&mut buf, &entry)?;
                    (channels.access, entry.t_us)
                }
            };
            sequence = sequence.wrapping_add(1);
            let header =
                MessageHeader { channel_id, sequence, log_time: log_time(time_us), publish_time: log_time(time_us) };
            writer.write_to_known_channel(&header, &buf).with_context(|| write_error(path))?;
            pending.fetch_sub(bytes, Ordering::Relaxed);
            summary.messages += 1;
            unflushed = true;
        }
        let acks_due =
            acks.as_ref().is_some_and(|(since, a)| a.len() >= ACK_BATCH || since.elapsed() >= ACK_FLUSH_PERIOD);
        if unflushed && (last_flush.elapsed() >= FLUSH_PERIOD || acks_due) {
            // Closes the chunk (with its CRC) and hands it to the OS: a killed process loses no more.
            writer.flush().with_context(|| write_error(path))?;
            last_flush = Instant::now();
            unflushed = false;
            // Now the messages are in the file: their brokers may forget them.
            for ack in acks.take().map(|(_, a)| a).unwrap_or_default() {
                ack.done();
            }
        }
    }
    writer.finish().with_context(|| write_error(path))?;
    for ack in acks.take().map(|(_, a)| a).unwrap_or_default() {
        ack.done();
    }
    let file = writer.into_inner().into_inner().map_err(|e| e.into_error()).with_context(|| write_error(path))?;
    file.sync_all().with_context(|| write_error(path))?;
    summary.file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(summary)
}

/// The channel of `name` under `prefix`, added on first use.
fn channel_of<W: std::io::Write + std::io::Seek>(
    writer: &mut mcap::Writer<W>,
    channels: &mut BTreeMap<String, u16>,
    prefix: &str,
    name: String,
) -> mcap::McapResult<u16> {
    if let Some(&id) = channels.get(&name) {
        return Ok(id);
    }
    let id = writer.add_channel(0, &format!("{prefix}{name}"), "json", &BTreeMap::new())?;
    channels.insert(name, id);
    Ok(id)
}

fn to_json(buf: &mut Vec<u8>, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *buf, value).context("encoding a recording message as JSON")
}

fn write_error(path: &Path) -> String {
    format!("cannot write the recording {} (is the disk full?)", path.display())
}

/// [`TwinChanges`](super::wire::TwinChanges) as written: the same fields, its events the batches' in order (no copy).
#[derive(Serialize)]
struct ChangesOut<'a> {
    progress_us: i64,
    now_us: i64,
    events: Concat<'a>,
}

/// [`OverlayRecord`](super::wire::OverlayRecord) as written: the frame borrowed from the session's `Arc`.
#[derive(Serialize)]
struct OverlayOut<'a> {
    progress_us: i64,
    frame: &'a OverlayFrame,
}

/// Batches of events serialized as one sequence.
struct Concat<'a>(&'a [ChangeBatch]);

impl Serialize for Concat<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|b| b.iter()))
    }
}
