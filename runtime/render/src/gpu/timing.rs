//! GPU time per frame from timestamp queries, read back without ever waiting.
//!
//! Each measured frame writes a timestamp at the beginning of its first render pass and at the end
//! of its last one into a two-entry [`wgpu::QuerySet`], resolves them into a small buffer and copies
//! that into one slot of a ring of `MAP_READ` buffers, which is then mapped asynchronously. The map
//! callback only stores into an atomic. A later frame polls the device without blocking, reads the
//! slots whose mapping has completed and keeps the newest measurement. When every slot is still in
//! flight the frame is not measured. Nothing is allocated per frame apart from what wgpu itself
//! needs to record a `map_async` callback.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// Readback slots: enough for a GPU that runs two frames behind the CPU.
const SLOTS: usize = 3;

/// Bytes of the two resolved timestamps.
const RESOLVED_BYTES: u64 = 2 * wgpu::QUERY_SIZE as u64;

/// Measurements longer than this are discarded as nonsense.
const MAX_PLAUSIBLE_NS: f64 = 10.0e9;

/// A slot's mapping has not completed yet.
const MAP_PENDING: u8 = 0;
/// A slot's mapping completed: its buffer can be read.
const MAP_DONE: u8 = 1;
/// A slot's mapping failed: its buffer is not mapped.
const MAP_FAILED: u8 = 2;

#[derive(Debug)]
struct Slot {
    buffer: wgpu::Buffer,
    /// The frame number whose timestamps are being read back, or `None` while the slot is free.
    frame: Option<u64>,
    /// Written by the `map_async` callback.
    state: Arc<AtomicU8>,
}

/// Timestamp queries and their readback ring (created once per renderer).
#[derive(Debug)]
pub(crate) struct GpuTimer {
    query_set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    slots: Vec<Slot>,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// Frames measured so far (the next frame's number).
    next_frame: u64,
    /// The newest completed measurement and the frame it belongs to.
    latest: Option<(u64, Duration)>,
}

/// Where the frame being encoded writes its timestamps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameQuery {
    slot: usize,
}

impl GpuTimer {
    /// A timer on `device`, or `None` when the device lacks `Features::TIMESTAMP_QUERY`.
    pub(crate) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Option<GpuTimer> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let period_ns = f64::from(queue.get_timestamp_period());
        if !(period_ns.is_finite() && period_ns > 0.0) {
            tracing::info!("timestamp period {period_ns} ns is unusable; GPU frame time is not measured");
            return None;
        }
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("sangam frame timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sangam timestamp resolve"),
            size: RESOLVED_BYTES,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let slots = (0..SLOTS)
            .map(|_| Slot {
                buffer: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("sangam timestamp readback"),
                    size: RESOLVED_BYTES,
                    usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                    mapped_at_creation: false,
                }),
                frame: None,
                state: Arc::new(AtomicU8::new(MAP_PENDING)),
            })
            .collect();
        Some(GpuTimer { query_set, resolve, slots, period_ns, next_frame: 0, latest: None })
    }

    /// Polls the device without blocking, takes in every readback that has completed and returns the
    /// newest completed measurement.
    pub(crate) fn collect(&mut self, device: &wgpu::Device) -> Option<Duration> {
        if self.slots.iter().any(|s| s.frame.is_some()) {
            // Non-blocking: only fires the callbacks of work the GPU has already finished.
            if let Err(e) = device.poll(wgpu::PollType::Poll) {
                tracing::debug!("polling for GPU timestamps: {e}");
            }
        }
        for slot in &mut self.slots {
            let Some(frame) = slot.frame else { continue };
            match slot.state.load(Ordering::Acquire) {
                MAP_DONE => {
                    let ticks = slot.buffer.get_mapped_range(..).ok().map(|data| {
                        let word = |i: usize| {
                            let mut b = [0u8; 8];
                            b.copy_from_slice(&data[i * 8..i * 8 + 8]);
                            u64::from_le_bytes(b)
                        };
                        (word(0), word(1))
                    });
                    slot.buffer.unmap();
                    slot.frame = None;
                    let Some(duration) = ticks.and_then(|(begin, end)| ticks_to_duration(begin, end, self.period_ns))
                    else {
                        continue;
                    };
                    if self.latest.is_none_or(|(f, _)| frame > f) {
                        self.latest = Some((frame, duration));
                    }
                }
                MAP_FAILED => slot.frame = None,
                _ => {}
            }
        }
        self.latest.map(|(_, d)| d)
    }

    /// A free readback slot for the frame about to be encoded, or `None` (frame not measured) when
    /// every slot is still in flight.
    pub(crate) fn begin_frame(&self) -> Option<FrameQuery> {
        self.slots.iter().position(|s| s.frame.is_none()).map(|slot| FrameQuery { slot })
    }

    /// Timestamp writes for render pass `index` of `count` in the frame: the beginning of the first
    /// pass and the end of the last.
    pub(crate) fn pass_writes(&self, index: usize, count: usize) -> wgpu::RenderPassTimestampWrites<'_> {
        wgpu::RenderPassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: (index == 0).then_some(0),
            end_of_pass_write_index: (index + 1 == count).then_some(1),
        }
    }

    /// Records the resolve and the copy into the frame's readback slot (after the last pass).
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder, query: FrameQuery) {
        encoder.resolve_query_set(&self.query_set, 0..2, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.slots[query.slot].buffer, 0, RESOLVED_BYTES);
    }

    /// Starts the asynchronous readback of the frame's slot (after the frame is submitted).
    pub(crate) fn submitted(&mut self, query: FrameQuery) {
        let frame = self.next_frame;
        self.next_frame += 1;
        let slot = &mut self.slots[query.slot];
        slot.frame = Some(frame);
        slot.state.store(MAP_PENDING, Ordering::Release);
        let state = Arc::clone(&slot.state);
        slot.buffer.map_async(wgpu::MapMode::Read, .., move |result| {
            state.store(if result.is_ok() { MAP_DONE } else { MAP_FAILED }, Ordering::Release);
        });
    }
}

/// The time between two timestamps, or `None` when it is nonsense (end before begin, over 10 s, or
/// not finite).
fn ticks_to_duration(begin: u64, end: u64, period_ns: f64) -> Option<Duration> {
    let ticks = end.checked_sub(begin)?;
    let ns = ticks as f64 * period_ns;
    (ns.is_finite() && ns <= MAX_PLAUSIBLE_NS).then(|| Duration::from_nanos(ns.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_conversion_and_nonsense() {
        assert_eq!(ticks_to_duration(100, 1100, 1.0), Some(Duration::from_nanos(1000)));
        assert_eq!(ticks_to_duration(0, 1000, 83.333), Some(Duration::from_nanos(83_333)));
        assert_eq!(ticks_to_duration(5, 5, 1.0), Some(Duration::ZERO));
        assert_eq!(ticks_to_duration(1100, 100, 1.0), None, "end before begin");
        assert_eq!(ticks_to_duration(0, 11_000_000_000, 1.0), None, "over 10 s");
        assert_eq!(ticks_to_duration(0, u64::MAX, 1.0), None, "over 10 s");
        assert!(ticks_to_duration(0, 10_000_000_000, 1.0).is_some(), "exactly 10 s is kept");
    }
}
