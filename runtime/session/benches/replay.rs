//! Replay benchmark (issue 13's goals: replay at max speed >= 1M messages/s; seek to any time in a
//! one-hour recording <= 100 ms). A synthetic hour is recorded through the real `Recorder` (1,000
//! cells, 10 ticks a second, 100 load values changed per tick: 3.6M changes in 36,000 tick
//! messages; mapped data, not measured), then read back with `Recording::open` and applied with
//! `Replay::apply_all`, each timed; the same run reads the file's bytes with `std::fs::read` (the
//! disk and page cache alone) and writes the same values into a plain `Vec<f64>`, the baselines the
//! ratios are against. A seek is measured both ways: replaying up to the middle (what a recording
//! without its end snapshot costs), and time travel from the end snapshot the recorder writes at
//! finish (`record::travel::open_at`: the summary, the snapshot read and checked).
//!
//! `cargo bench -p sangam-session --bench replay`. Under `cargo test --all-targets` (no `--bench`
//! argument) it records 60 simulated seconds, as a smoke test.

use std::time::{Duration, Instant};

use sangam_session::record::reader::Recording;
use sangam_session::{Recorder, Replay};
use sangam_twin::{Entity, EntityId, PropertyValue, SimTime, TwinEvent, TwinEventKind, TwinStore};

const CELLS: usize = 1_000;
const PER_TICK: usize = 100;
const TICK_US: i64 = 100_000;

fn store(ids: &[EntityId]) -> TwinStore {
    let mut s = TwinStore::new();
    for id in ids {
        s.add_entity(SimTime::ZERO, Entity::new(id.clone(), "telecom.cell")).expect("entity");
    }
    s.take_events();
    s
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let ticks: i64 = if full { 36_000 } else { 600 };
    let dir = std::env::temp_dir().join(format!("sangam-replay-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("hour.mcap");
    let ids: Vec<EntityId> = (0..CELLS).map(|i| EntityId::new(format!("cell-{i}"))).collect();
    let initial = store(&ids).state_hash();
    let metadata = [
        ("format_version", "1".to_string()),
        ("runtime", format!("sangam {}", env!("CARGO_PKG_VERSION"))),
        ("scene", "bench".into()),
        ("scene_sha256", "0".repeat(64)),
        ("initial_state_hash", initial.to_string()),
        ("step_us", TICK_US.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    // Record: the frame thread's side (channel sends) and the file finished.
    let started = Instant::now();
    let mut recorder = Recorder::create(&path, metadata).expect("recorder");
    let mut values = Vec::with_capacity(ticks as usize * PER_TICK);
    // The live twin the changes come from, for the end snapshot a session writes at finish.
    let mut live = store(&ids);
    for tick in 0..ticks {
        let t = SimTime::from_micros(tick * TICK_US);
        let events: Vec<TwinEvent> = (0..PER_TICK)
            .map(|k| {
                let cell = (tick as usize * PER_TICK + k * 7) % CELLS;
                let v = 20.0 + ((tick as f64 * 0.01 + cell as f64).sin() * 30.0);
                values.push(v);
                TwinEvent {
                    t,
                    kind: TwinEventKind::PropertyRecorded {
                        entity: ids[cell].clone(),
                        property: "load".into(),
                        value: PropertyValue::Number(v),
                    },
                }
            })
            .collect();
        for e in &events {
            live.apply(e.clone()).expect("a known entity");
        }
        live.take_events();
        recorder.changes((tick + 1) * TICK_US, t.as_micros(), vec![std::sync::Arc::new(events)]);
        // Faster than any disk: a burst this long would stop a live recording (by design), so the
        // bench waits for the writer instead.
        while recorder.pending_bytes() > 32 << 20 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let sent = started.elapsed();
    let end = sangam_session::record::SessionRecord::End {
        progress_us: ticks * TICK_US,
        now_us: (ticks - 1) * TICK_US,
        ticks: ticks as u64,
        state_hash: live.state_hash().to_string(),
    };
    let snapshot_started = Instant::now();
    let snapshot = live.snapshot();
    let snapshot_time = snapshot_started.elapsed();
    let snapshot_bytes = snapshot.len();
    let written = recorder.finish_with_snapshot((ticks - 1) * TICK_US, end, Some(snapshot)).expect("finished");
    let record_time = started.elapsed();
    let changes = values.len() as f64;

    // Baselines: the file's bytes, and the same values written into a plain Vec<f64>.
    let started = Instant::now();
    let bytes = std::fs::read(&path).expect("read");
    let read_time = started.elapsed();
    let started = Instant::now();
    let mut plain = Vec::with_capacity(values.len());
    for v in &values {
        plain.push(std::hint::black_box(*v));
    }
    let plain_time = started.elapsed();
    std::hint::black_box(&plain);

    // Replay at max speed: open (read, CRC, decompress, JSON) and apply.
    let started = Instant::now();
    let rec = Recording::open(&path).expect("open");
    let open_time = started.elapsed();
    assert_eq!(rec.changes.len() as i64, ticks);
    let mut s = store(&ids);
    let mut replay = Replay::new(rec.clone());
    let started = Instant::now();
    let applied = replay.apply_all(&mut s);
    let apply_time = started.elapsed();
    assert_eq!(applied as f64, changes);

    // A seek to the middle: open, then apply up to half an hour in.
    let started = Instant::now();
    let rec = Recording::open(&path).expect("open");
    let mut s = store(&ids);
    let mut replay = Replay::new(rec);
    replay.apply_until(ticks / 2 * TICK_US, &mut s);
    let seek_time = started.elapsed();

    // Time travel to the middle from the end snapshot: the summary, the snapshot read and checked.
    let mid_us = ticks / 2 * TICK_US;
    let mut travel_times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let travel = sangam_session::record::travel::open_at(&path, mid_us).expect("readable").expect("a snapshot");
        travel_times.push(started.elapsed());
        assert_eq!(travel.store, live, "the snapshot is the live twin");
    }
    travel_times.sort();
    let travel_time = travel_times[travel_times.len() / 2];
    let started = Instant::now();
    let hash = live.state_hash();
    let hash_time = started.elapsed();
    std::hint::black_box(hash);

    let per_s = |n: f64, d: Duration| n / d.as_secs_f64().max(1e-9);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "replay: {:.0} s recorded: {} ticks, {changes} changes, {} messages, {} bytes ({:.1} bytes per change); \
         recorder: {:.1} ms of sends (and waits for the writer), {:.0} ms until the file was finished",
        ticks as f64 * TICK_US as f64 / 1e6,
        ticks,
        written.messages,
        written.file_bytes,
        written.file_bytes as f64 / changes,
        ms(sent),
        ms(record_time)
    );
    println!(
        "replay: open {:.0} ms ({:.2}M changes/s, {:.0} tick messages/s); apply {:.0} ms ({:.2}M changes/s); \
         together {:.2}M changes/s",
        ms(open_time),
        per_s(changes, open_time) / 1e6,
        per_s(ticks as f64, open_time),
        ms(apply_time),
        per_s(changes, apply_time) / 1e6,
        per_s(changes, open_time + apply_time) / 1e6
    );
    println!(
        "replay: baselines in the same run: reading the file's {} bytes {:.2} ms (open is {:.0}x that); the same \
         values into a plain Vec<f64> {:.2} ms (apply is {:.0}x that)",
        bytes.len(),
        ms(read_time),
        open_time.as_secs_f64() / read_time.as_secs_f64().max(1e-9),
        ms(plain_time),
        apply_time.as_secs_f64() / plain_time.as_secs_f64().max(1e-9)
    );
    println!(
        "replay: seek to the middle by replaying (open + apply up to it, a recording without its end snapshot): {:.0} ms",
        ms(seek_time)
    );
    println!(
        "replay: time travel to the middle from the end snapshot ({snapshot_bytes} bytes, {:.1} per change, written in \
         {:.0} ms): median of 5 {:.1} ms (goal <= 100 ms), {:.0}x faster than replaying; {:.1}x reading the file's \
         bytes; hashing the same twin takes {:.0} ms",
        snapshot_bytes as f64 / changes,
        ms(snapshot_time),
        ms(travel_time),
        seek_time.as_secs_f64() / travel_time.as_secs_f64().max(1e-9),
        travel_time.as_secs_f64() / read_time.as_secs_f64().max(1e-9),
        ms(hash_time)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
