//! Frame timing: CPU time per frame and missed display frames.

use std::time::Duration;

/// How many recent frames the percentile statistics cover.
const WINDOW: usize = 240;

/// Frame timing over a session, fed once per submitted frame.
#[derive(Clone, Debug, Default)]
pub struct FrameTiming {
    frames: u64,
    rendered: u64,
    missed: u64,
    cpu_total: Duration,
    cpu_max: Duration,
    encode_total: Duration,
    recent: Vec<Duration>,
    next: usize,
    last_display_time_ns: Option<i64>,
    last_cpu: Duration,
    gpu_total: Duration,
    gpu_frames: u64,
    last_gpu: Option<Duration>,
}

/// A snapshot of [`FrameTiming`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameTimingSummary {
    /// Frames submitted with `xrEndFrame`.
    pub frames: u64,
    /// Of those, frames with rendered layers (the runtime may ask not to render).
    pub rendered: u64,
    /// Display frames skipped between consecutive predicted display times (each gap longer than
    /// 1.5 display periods counts the periods lost).
    pub missed: u64,
    /// Mean CPU time per frame between `xrWaitFrame` returning and `xrEndFrame` returning.
    pub cpu_mean: Duration,
    /// Largest CPU time per frame.
    pub cpu_max: Duration,
    /// 95th percentile of CPU time over the most recent frames.
    pub cpu_p95: Duration,
    /// Mean renderer encode time (cull, instance data, command encoding) over rendered frames.
    pub encode_mean: Duration,
    /// Mean GPU time of the rendered frames that were measured (timestamp queries), when the device
    /// measures it.
    pub gpu_mean: Option<Duration>,
}

impl FrameTiming {
    /// Records one frame: the CPU time it took, the renderer's encode time (if it rendered), its
    /// predicted display time and the display period.
    pub fn record(&mut self, cpu: Duration, encode: Option<Duration>, display_time_ns: i64, period: Duration) {
        self.frames += 1;
        self.last_cpu = cpu;
        self.cpu_total += cpu;
        self.cpu_max = self.cpu_max.max(cpu);
        if let Some(e) = encode {
            self.rendered += 1;
            self.encode_total += e;
        }
        if self.recent.len() < WINDOW {
            self.recent.push(cpu);
        } else {
            self.recent[self.next] = cpu;
        }
        self.next = (self.next + 1) % WINDOW;
        let period_ns = i64::try_from(period.as_nanos()).unwrap_or(i64::MAX);
        if let Some(last) = self.last_display_time_ns
            && period_ns > 0
        {
            let gap = display_time_ns.saturating_sub(last);
            // A gap of k periods (rounded) means k - 1 frames were not shown.
            if gap * 2 > period_ns * 3 {
                let periods = (gap + period_ns / 2) / period_ns;
                self.missed += u64::try_from(periods - 1).unwrap_or(0);
            }
        }
        self.last_display_time_ns = Some(display_time_ns);
    }

    /// Records a GPU time measurement (from the renderer's timestamp queries, a few frames late).
    pub fn record_gpu(&mut self, gpu: Duration) {
        self.gpu_total += gpu;
        self.gpu_frames += 1;
        self.last_gpu = Some(gpu);
    }

    /// The previous frame's CPU time and the display frames missed so far (cheap: for a heads-up line).
    pub fn last(&self) -> (Duration, u64) {
        (self.last_cpu, self.missed)
    }

    /// The latest GPU time measured, if any.
    pub fn last_gpu(&self) -> Option<Duration> {
        self.last_gpu
    }

    /// The statistics so far.
    pub fn summary(&self) -> FrameTimingSummary {
        let mut recent = self.recent.clone();
        recent.sort_unstable();
        let cpu_p95 = if recent.is_empty() { Duration::ZERO } else { recent[(recent.len() - 1) * 95 / 100] };
        let div = |d: Duration, n: u64| if n == 0 { Duration::ZERO } else { d / u32::try_from(n).unwrap_or(u32::MAX) };
        FrameTimingSummary {
            frames: self.frames,
            rendered: self.rendered,
            missed: self.missed,
            cpu_mean: div(self.cpu_total, self.frames),
            cpu_max: self.cpu_max,
            cpu_p95,
            encode_mean: div(self.encode_total, self.rendered),
            gpu_mean: (self.gpu_frames > 0).then(|| div(self.gpu_total, self.gpu_frames)),
        }
    }
}

impl std::fmt::Display for FrameTimingSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frames ({} rendered, {} missed), CPU per frame mean {:.2} ms, p95 {:.2} ms, max {:.2} ms, \
             renderer encode mean {:.2} ms",
            self.frames,
            self.rendered,
            self.missed,
            self.cpu_mean.as_secs_f64() * 1e3,
            self.cpu_p95.as_secs_f64() * 1e3,
            self.cpu_max.as_secs_f64() * 1e3,
            self.encode_mean.as_secs_f64() * 1e3,
        )?;
        match self.gpu_mean {
            Some(g) => write!(f, ", GPU mean {:.2} ms", g.as_secs_f64() * 1e3),
            None => f.write_str(", GPU time not measured (no timestamp queries)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_nanos(11_111_111);

    #[test]
    fn steady_frames_miss_nothing() {
        let mut t = FrameTiming::default();
        for i in 0..100 {
            t.record(Duration::from_millis(2), Some(Duration::from_millis(1)), i * 11_111_111, PERIOD);
        }
        let s = t.summary();
        assert_eq!((s.frames, s.rendered, s.missed), (100, 100, 0));
        assert_eq!(s.cpu_mean, Duration::from_millis(2));
        assert_eq!(s.encode_mean, Duration::from_millis(1));
    }

    #[test]
    fn gaps_count_the_lost_periods() {
        let mut t = FrameTiming::default();
        t.record(Duration::from_millis(1), None, 0, PERIOD);
        // Next frame three periods later: two frames were not shown.
        t.record(Duration::from_millis(30), Some(Duration::from_millis(3)), 3 * 11_111_111, PERIOD);
        t.record(Duration::from_millis(1), None, 4 * 11_111_111, PERIOD);
        let s = t.summary();
        assert_eq!(s.missed, 2);
        assert_eq!(s.rendered, 1);
        assert_eq!(s.cpu_max, Duration::from_millis(30));
        assert!(s.to_string().contains("2 missed"), "{s}");
    }

    #[test]
    fn p95_uses_recent_window() {
        let mut t = FrameTiming::default();
        for i in 0..1000u64 {
            let ms = if i % 20 == 0 { 10 } else { 1 };
            t.record(Duration::from_millis(ms), None, i as i64 * 11_111_111, PERIOD);
        }
        let s = t.summary();
        assert!(s.cpu_p95 >= Duration::from_millis(1) && s.cpu_p95 <= Duration::from_millis(10));
        assert_eq!(s.cpu_max, Duration::from_millis(10));
    }
}
