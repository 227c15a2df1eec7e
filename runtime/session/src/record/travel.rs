//! Time travel without a replay: the twin a finished recording ended with, read from its end
//! snapshot, and each overlay's frame for the time asked, found through MCAP's indexes.
//!
//! A finished recording ends with the twin store as it ended ([`super::wire::SNAPSHOT_NAME`]), and
//! its summary section indexes that attachment and every chunk (its time range and the channels in
//! it). [`open_at`] reads the summary from the end of the file, the snapshot by its index, and, for
//! each overlay channel, only the chunks that can hold its last frame drawn for a time at or before
//! the one asked (the chunk's CRC checked before any of it is used). What it gives is what a full
//! replay followed by a seek gives ([`crate::Session::replay_seek`]: everything applied, the playhead
//! at the time), without decoding a single recorded change. A recording without a snapshot (cut
//! short, redacted, or written before snapshots) gives `None`, and the caller replays it.
//!
//! Cost: the summary (kilobytes), the snapshot (about 16 bytes per sample of history, read and
//! checked at memory speed) and a chunk (1 MiB) or two per overlay.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use mcap::records::Record;
use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};
use mcap::sans_io::summary_reader::{SummaryReadEvent, SummaryReader, SummaryReaderOptions};
use sangam_twin::TwinStore;

use super::reader::{RECORD_LIMIT, RecordedEnd, RecordedOverlay, Recording, RecordingError, RecordingInfo};
use super::wire::{OVERLAY_TOPIC_PREFIX, OverlayRecord, SNAPSHOT_NAME, SnapshotHeader, log_time};

/// The largest end snapshot read (4 GiB): the store's budget bounds it, this bounds a crafted index.
pub const SNAPSHOT_LIMIT: u64 = 4 << 30;

/// A finished recording's twin as it ended, and its overlays at one time.
pub struct TimeTravel {
    /// What the recording says about itself.
    pub info: RecordingInfo,
    /// How it ended.
    pub end: RecordedEnd,
    /// Simulation time of its first recorded change, if any (microseconds).
    pub first_now_us: Option<i64>,
    /// The twin as the recording ended (all of its history).
    pub store: TwinStore,
    /// Each recorded overlay's last frame drawn for a time at or before the one asked.
    pub overlays: BTreeMap<String, RecordedOverlay>,
}

impl TimeTravel {
    /// A [`Recording`] that holds no changes (they are all in the store) and these overlay frames.
    pub fn recording(&self) -> Recording {
        Recording {
            info: self.info.clone(),
            changes: Vec::new(),
            inputs: BTreeMap::new(),
            input_records: Vec::new(),
            gap_events: 0,
            access: Vec::new(),
            overlays: self.overlays.iter().map(|(plugin, frame)| (plugin.clone(), vec![frame.clone()])).collect(),
            end: Some(self.end.clone()),
            messages: 0,
            warnings: Vec::new(),
        }
    }
}

/// Reads the twin `path` ended with and its overlays at `t_us` (see the module docs); `Ok(None)`
/// when the recording has no end snapshot. A damaged summary or snapshot is an error naming the
/// file and the offset.
pub fn open_at(path: &Path, t_us: i64) -> Result<Option<TimeTravel>, RecordingError> {
    let io = |source| RecordingError::Io { path: path.to_path_buf(), source };
    let damaged = |offset: u64, why: String| RecordingError::Damaged { path: path.to_path_buf(), offset, why };
    let info = Recording::info(path)?;
    let mut file = File::open(path).map_err(io)?;
    let file_bytes = file.metadata().map_err(io)?.len();
    let Some(summary) = read_summary(&mut file, file_bytes).map_err(|e| damaged(file_bytes, e))? else {
        return Ok(None);
    };
    let Some(index) = summary.attachment_indexes.iter().rev().find(|a| a.name == SNAPSHOT_NAME) else {
        return Ok(None);
    };
    if index.length > SNAPSHOT_LIMIT || index.offset.saturating_add(index.length) > file_bytes || index.length < 9 {
        return Err(damaged(
            index.offset,
            format!("its snapshot index names {} bytes the file does not hold", index.length),
        ));
    }
    let record = read_at(&mut file, index.offset, index.length as usize).map_err(io)?;
    let data = match mcap::parse_record(record[0], &record[9..]) {
        Ok(Record::Attachment { data, .. }) => data,
        Ok(_) => return Err(damaged(index.offset, "its snapshot index points at another record".into())),
        Err(e) => return Err(damaged(index.offset, format!("its end snapshot is damaged ({e})"))),
    };
    let (header, store) =
        decode_snapshot(&data).map_err(|why| damaged(index.offset, format!("its end snapshot {why}")))?;
    let state_hash =
        header.state_hash.parse().map_err(|e| damaged(index.offset, format!("its end snapshot's state hash: {e}")))?;
    let end = RecordedEnd { progress_us: header.progress_us, now_us: header.now_us, ticks: header.ticks, state_hash };
    let mut overlays = BTreeMap::new();
    for (&channel, c) in &summary.channels {
        if let Some(plugin) = c.topic.strip_prefix(OVERLAY_TOPIC_PREFIX)
            && let Some(frame) =
                overlay_at(&mut file, file_bytes, &summary, channel, t_us).map_err(|(offset, why)| {
                    damaged(offset, format!("the chunk holding overlay `{plugin}`'s frame: {why}"))
                })?
        {
            overlays.insert(plugin.to_string(), frame);
        }
    }
    Ok(Some(TimeTravel { info, end, first_now_us: header.first_now_us, store, overlays }))
}

/// The summary section, read from the end of the file; `None` when the file has none (cut short).
fn read_summary(file: &mut File, file_bytes: u64) -> Result<Option<mcap::Summary>, String> {
    let mut reader = SummaryReader::new_with_options(SummaryReaderOptions {
        file_size: Some(file_bytes),
        record_length_limit: Some(RECORD_LIMIT),
    });
    while let Some(event) = reader.next_event() {
        match event {
            Ok(SummaryReadEvent::ReadRequest(need)) => {
                let buf = reader.insert(need.min(RECORD_LIMIT));
                let got = file.read(buf).map_err(|e| e.to_string())?;
                reader.notify_read(got);
            }
            Ok(SummaryReadEvent::SeekRequest(to)) => {
                let at = file.seek(to).map_err(|e| e.to_string())?;
                reader.notify_seeked(at);
            }
            // A file cut short has no footer: no summary, not damage.
            Err(mcap::McapError::BadMagic | mcap::McapError::UnexpectedEof) => return Ok(None),
            Err(e) => return Err(format!("its summary section does not read ({e})")),
        }
    }
    Ok(reader.finish())
}

fn read_at(file: &mut File, offset: u64, length: usize) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; length];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// The snapshot's header and store.
fn decode_snapshot(data: &[u8]) -> Result<(SnapshotHeader, TwinStore), String> {
    let Some((len, rest)) = data.split_first_chunk::<4>() else { return Err("is cut short".into()) };
    let len = u32::from_le_bytes(*len) as usize;
    if len > rest.len() {
        return Err("is cut short".into());
    }
    let (json, store) = rest.split_at(len);
    let header: SnapshotHeader = serde_json::from_slice(json).map_err(|e| format!("has a bad header ({e})"))?;
    let store = TwinStore::from_snapshot(store).map_err(|e| e.to_string())?;
    Ok((header, store))
}

/// The last frame of `channel` drawn for a time at or before `t_us`, latest in the file among
/// frames drawn for the same time, as [`crate::Replay::overlays_at`] picks it. Reads chunks from the
/// one reaching nearest to `t_us` back, while a chunk can still hold a better frame.
fn overlay_at(
    file: &mut File,
    file_bytes: u64,
    summary: &mcap::Summary,
    channel: u16,
    t_us: i64,
) -> Result<Option<RecordedOverlay>, (u64, String)> {
    let t_ns = log_time(t_us);
    // Chunks holding the channel and starting at or before the time, by how near to it they reach.
    let mut chunks: Vec<&mcap::records::ChunkIndex> = summary
        .chunk_indexes
        .iter()
        .filter(|c| c.message_index_offsets.contains_key(&channel) && c.message_start_time <= t_ns)
        .collect();
    chunks.sort_by_key(|c| std::cmp::Reverse((c.message_end_time.min(t_ns), c.chunk_start_offset)));
    // The best so far: (log time, chunk offset, index in chunk) and its bytes.
    let mut best: Option<((u64, u64, usize), Vec<u8>)> = None;
    for chunk in chunks {
        if best.as_ref().is_some_and(|((time, _, _), _)| chunk.message_end_time.min(t_ns) < *time) {
            break;
        }
        let offset = chunk.chunk_start_offset;
        if chunk.chunk_length > RECORD_LIMIT as u64 || offset.saturating_add(chunk.chunk_length) > file_bytes {
            return Err((offset, "its index names bytes the file does not hold".into()));
        }
        let bytes = read_at(file, offset, chunk.chunk_length as usize).map_err(|e| (offset, e.to_string()))?;
        for_each_message(&bytes, |i, header, data| {
            let key = (header.log_time, offset, i);
            if header.channel_id == channel && header.log_time <= t_ns && best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, data.to_vec()));
            }
        })
        .map_err(|why| (offset, why))?;
    }
    let Some(((_, offset, _), data)) = best else { return Ok(None) };
    let record: OverlayRecord =
        serde_json::from_slice(&data).map_err(|e| (offset, format!("the frame does not decode ({e})")))?;
    Ok(Some(RecordedOverlay { progress_us: record.progress_us, frame: Arc::new(record.frame) }))
}

/// Calls `f` with each message of one chunk record (`bytes`), its CRC checked first.
fn for_each_message(
    bytes: &[u8],
    mut f: impl FnMut(usize, &mcap::records::MessageHeader, &[u8]),
) -> Result<(), String> {
    let mut reader = LinearReader::new_with_options(
        LinearReaderOptions::default()
            .with_skip_start_magic(true)
            .with_skip_end_magic(true)
            .with_prevalidate_chunk_crcs(true)
            .with_record_length_limit(RECORD_LIMIT),
    );
    let mut rest = bytes;
    let mut i = 0;
    while let Some(event) = reader.next_event() {
        match event.map_err(|e| e.to_string())? {
            LinearReadEvent::ReadRequest(need) => {
                let n = need.min(rest.len());
                reader.insert(n).copy_from_slice(&rest[..n]);
                reader.notify_read(n);
                rest = &rest[n..];
            }
            LinearReadEvent::Record { data, opcode } => {
                if let Record::Message { header, data } = mcap::parse_record(opcode, data).map_err(|e| e.to_string())? {
                    f(i, &header, &data);
                    i += 1;
                }
            }
        }
    }
    Ok(())
}
