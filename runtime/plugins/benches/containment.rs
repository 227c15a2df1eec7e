//! Containment benchmark (issue 12's bar): a 60 Hz frame loop with two well-behaved plugins (an
//! overlay and a simulation) and one hostile plugin, for each hostile behaviour of the fault corpus,
//! against the same loop with no hostile plugin, in the same run.
//!
//! Per case it prints the frame loop's own work per frame (median and 99th percentile: submitting,
//! draining, reading faults), the good plugins' completed calls, the faults reported, and the
//! process's resident memory after the case (Linux `VmRSS`). The ratios against the no-hostile case
//! are what to read: the bar is a frame loop within 1.2x, good plugins at their rate, memory within
//! the plugins' caps.
//!
//! Needs the fixture plugins (`cargo xtask build-plugins`). `cargo bench -p sangam-plugins --bench
//! containment`: 3 s per case, about 40 s. Under `cargo test --all-targets` (no `--bench` argument)
//! each case runs for 0.2 s, as a smoke test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sangam_plugins::{
    EngineOptions, EntityTable, ParamValue, PluginEngine, PluginSpec, RestartPolicy, Role, SdkVersion, Supervisor,
    TwinSnapshot, TwinView,
};

/// How long each case runs (`cargo bench`); a smoke run under `cargo test` takes [`SMOKE_CASE`].
const CASE: Duration = Duration::from_secs(3);
/// How long each case runs as a smoke test.
const SMOKE_CASE: Duration = Duration::from_millis(200);
/// The frame period.
const FRAME: Duration = Duration::from_millis(16);

fn fixture(name: &str) -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("wasm32-wasip2/release").join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {} missing ({e}): run `cargo xtask build-plugins`", path.display()))
}

fn table(n: usize) -> EntityTable {
    let mut table = EntityTable::default();
    for i in 0..n {
        table.push(format!("e/{i}"), "sensor", [i as f64, 0.0, 0.0]);
    }
    table
}

fn overlay(id: &str, mode: &str) -> PluginSpec {
    let mut spec =
        PluginSpec::new(id, Role::Overlay, SdkVersion::new(1, 1, 0)).param("mode", ParamValue::Text(mode.into()));
    spec.entities = table(3);
    spec
}

fn sim(id: &str, mode: &str) -> PluginSpec {
    let mut spec =
        PluginSpec::new(id, Role::Simulation, SdkVersion::new(1, 0, 0)).param("mode", ParamValue::Text(mode.into()));
    spec.entities = table(4);
    spec.limits.call_time = Duration::from_millis(250);
    spec
}

/// Resident memory of this process, in MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Outcome {
    median_us: f64,
    p99_us: f64,
    good_draws: u64,
    good_steps: u64,
    faults: usize,
    rss: f64,
}

/// Runs the frame loop with the good plugins and, when given, the hostile one.
fn case(hostile: Option<(PluginSpec, &[u8])>, length: Duration) -> Outcome {
    let engine =
        PluginEngine::new(EngineOptions { max_instances: 16, max_memory_bytes: 256 << 20, ..Default::default() })
            .expect("engine");
    // Two pool threads, as on the project's 2-core machines.
    let mut supervisor = Supervisor::with_threads(engine, RestartPolicy::default(), 2);
    let misbehave = fixture("sangam-fixture-misbehave");
    supervisor.add(overlay("good-overlay", "ok"), &misbehave).expect("good overlay");
    supervisor.add(sim("good-sim", "ok"), &fixture("sangam-fixture-sim10")).expect("good simulation");
    let mut bad = None;
    if let Some((spec, bytes)) = hostile {
        bad = Some((spec.id.clone(), spec.role));
        supervisor.add(spec, bytes).expect("hostile plugin loads");
    }
    let mut twin = TwinSnapshot::new();
    for t in 0..512 {
        twin.push_sample(0, "load", t, 1.0);
    }
    let twin: Arc<dyn TwinView> = Arc::new(twin);
    let mut work = Vec::new();
    let mut faults = 0;
    let mut now = 0i64;
    let start = Instant::now();
    while start.elapsed() < length {
        let frame = Instant::now();
        let _ = supervisor.request_draw("good-overlay", now, twin.clone());
        let _ = supervisor.submit_step("good-sim", now, 16_000, twin.clone());
        if let Some((id, role)) = &bad {
            let _ = match role {
                Role::Overlay => supervisor.request_draw(id, now, twin.clone()),
                _ => supervisor.submit_step(id, now, 16_000, twin.clone()),
            };
            let _ = supervisor.drain_updates(id);
        }
        let _ = supervisor.latest_overlay("good-overlay");
        let _ = supervisor.drain_updates("good-sim");
        faults += supervisor.drain_faults().len();
        work.push(frame.elapsed());
        now += 16_000;
        std::thread::sleep(FRAME.saturating_sub(frame.elapsed()));
    }
    let good_draws = supervisor.stats("good-overlay").map_or(0, |s| s.completed);
    let good_steps = supervisor.stats("good-sim").map_or(0, |s| s.completed);
    drop(supervisor);
    work.sort();
    let at = |p: f64| work[((work.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    Outcome { median_us: at(0.5), p99_us: at(0.99), good_draws, good_steps, faults, rss: rss_mib() }
}

fn main() {
    let misbehave = fixture("sangam-fixture-misbehave");
    let sim10 = fixture("sangam-fixture-sim10");
    let granted = |mut spec: PluginSpec| {
        spec.capabilities.wall_clock = true;
        spec
    };
    let with = |spec: PluginSpec, name: &str, value: i64| spec.param(name, ParamValue::Integer(value));
    let budget = |mut spec: PluginSpec, ms: u64| {
        spec.limits.call_time = Duration::from_millis(ms);
        spec
    };
    let cases: Vec<(&str, PluginSpec, &[u8])> = vec![
        ("loop (spins past its 50 ms)", overlay("bad", "loop"), &misbehave),
        ("flaky (one good call per restart)", overlay("bad", "flaky"), &misbehave),
        (
            "sleep 240 ms of 250 ms, wall-clock granted",
            budget(granted(with(overlay("bad", "sleep"), "ms", 240)), 250),
            &misbehave,
        ),
        ("sleep forever, wall-clock granted", granted(overlay("bad", "sleep-forever")), &misbehave),
        ("err from every call", overlay("bad", "err"), &misbehave),
        ("8 MiB error with escapes", overlay("bad", "err-huge"), &misbehave),
        ("forged log lines", overlay("bad", "forge"), &misbehave),
        ("read 4M entities", overlay("bad", "read-numbers"), &misbehave),
        ("aggregate 1M entities x 512 samples", with(overlay("bad", "read-aggregate"), "count", 1 << 20), &misbehave),
        ("1.3M values per step", with(sim("bad", "repeat"), "count", 1_300_000), &sim10),
        ("100 new property names per step", with(sim("bad", "names"), "count", 100), &sim10),
        ("alloc 2 GiB", overlay("bad", "alloc"), &misbehave),
    ];
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this briefly as a smoke test.
    let length = if std::env::args().any(|a| a == "--bench") { CASE } else { SMOKE_CASE };
    let base = case(None, length);
    println!(
        "\n== sangam-plugins containment: same-run results ({} ms per case, 60 Hz, 2 pool threads) ==",
        length.as_millis()
    );
    println!(
        "no hostile plugin: frame-loop work median {:.1} us, p99 {:.1} us; good overlay {} draws, good simulation {} steps; RSS {:.0} MiB",
        base.median_us, base.p99_us, base.good_draws, base.good_steps, base.rss
    );
    for (name, spec, bytes) in cases {
        let r = case(Some((spec, bytes)), length);
        println!(
            "{name}: frame-loop work median {:.1} us ({:.2}x), p99 {:.1} us ({:.2}x); good overlay {} draws ({:.2}x), good simulation {} steps ({:.2}x); {} faults; RSS {:.0} MiB ({:+.0})",
            r.median_us,
            r.median_us / base.median_us,
            r.p99_us,
            r.p99_us / base.p99_us,
            r.good_draws,
            r.good_draws as f64 / base.good_draws.max(1) as f64,
            r.good_steps,
            r.good_steps as f64 / base.good_steps.max(1) as f64,
            r.faults,
            r.rss,
            r.rss - base.rss,
        );
    }
}
