//! Plugin host benchmarks: per-call overhead, instantiation with and without the compiled-component
//! cache, a simulation step over 10k and 100k entities in the plugin against the same Rust kernel
//! compiled natively in this process, and host overhead per tick for 10 idle plugins.
//!
//! The step is measured both ways a simulation can hand its output over: a column returned from
//! `step` with an index list (SDK 1.0/1.1, fixture `sim11`) and a full column handed over from the
//! plugin's memory (SDK 1.2 `output.full-column`, fixture `sim12`). Each is compared with the same
//! Rust code natively: the kernel plus building the column it hands over.
//!
//! Needs the fixture plugins (`cargo xtask build-plugins`). Prints same-run ratios at the end; the native
//! and plugin steps of each ratio are timed in alternating short blocks (`paired_medians`). With
//! `SANGAM_PROFILE_STEP=full` (1.1 returned column), `full-column` (1.2) or `kernel` it only loops the
//! 100k-entity step, for a profiler.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::Criterion;
use sangam_plugins::{
    EngineOptions, EntityTable, LoadedPlugin, PluginEngine, PluginSpec, RestartPolicy, Role, SdkVersion, Supervisor,
    TwinSnapshot, TwinView,
};

#[path = "../../../tests/plugins/kernel/diffusion.rs"]
mod diffusion;

/// Timings per side in each native-against-plugin step comparison (see [`paired_medians`]).
const PAIRED_RUNS: usize = 200;
/// Calls per side in each alternating block of [`paired_medians`].
const PAIR_BLOCK: usize = 10;

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
        table.push(format!("e/{i}"), "cell", [i as f64, 0.0, 0.0]);
    }
    table
}

fn sim_spec(id: &str, sdk: SdkVersion, n: usize) -> PluginSpec {
    let mut spec = PluginSpec::new(id, Role::Simulation, sdk);
    spec.entities = table(n);
    spec.limits.call_time = Duration::from_secs(2);
    spec.limits.memory_bytes = 512 << 20;
    spec.limits.output_bytes = 64 << 20;
    spec
}

/// Medians of `runs` timings each of `a` and `b`, taken in alternating blocks of [`PAIR_BLOCK`] calls
/// (a × 10, b × 10, a × 10, ...).
///
/// The step comparisons use this rather than one block of `a` and then one of `b`: on a shared machine
/// (a VM whose neighbours come and go) speed drifts over seconds, so two long blocks can be measured in
/// different states, and their ratio then says more about the neighbours than about the plugin.
/// Short alternating blocks put both sides in the same states, and within a block each side still runs
/// with its own data in the caches, as a plugin on its worker thread does from one step to the next.
fn paired_medians(runs: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let mut times = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    while times.0.len() < runs {
        for _ in 0..PAIR_BLOCK {
            let t = Instant::now();
            a();
            times.0.push(t.elapsed());
        }
        for _ in 0..PAIR_BLOCK {
            let t = Instant::now();
            b();
            times.1.push(t.elapsed());
        }
    }
    times.0.sort();
    times.1.sort();
    (times.0[times.0.len() / 2], times.1[times.1.len() / 2])
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let mut c = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(2)).configure_from_args();
    let engine =
        PluginEngine::new(EngineOptions { max_instances: 32, max_memory_bytes: 1 << 30, ..Default::default() })
            .expect("engine");
    let sim10 = fixture("sangam-fixture-sim10");
    let sim11 = fixture("sangam-fixture-sim11");
    let sim12 = fixture("sangam-fixture-sim12");
    let empty: Arc<dyn TwinView> = Arc::new(TwinSnapshot::new());
    let mut report = Vec::new();
    // `SANGAM_PROFILE_STEP=full|kernel`: only run the 100k step in a loop (3001 runs), for a profiler
    // (`perf record`); prints its median. `kernel` runs the fixture with `emit = false`.
    if let Ok(mode) = std::env::var("SANGAM_PROFILE_STEP") {
        let mut plugin = if mode == "full-column" {
            let spec = sim_spec("diffusion", SdkVersion::new(1, 2, 0), 100_000)
                .param("mode", sangam_plugins::ParamValue::Text("full".into()));
            LoadedPlugin::load(&engine, spec, &sim12).unwrap().instantiate().unwrap()
        } else {
            let spec = sim_spec("diffusion", SdkVersion::new(1, 1, 0), 100_000)
                .param("emit", sangam_plugins::ParamValue::Boolean(mode != "kernel"));
            LoadedPlugin::load(&engine, spec, &sim11).unwrap().instantiate().unwrap()
        };
        let t = median(3001, || {
            black_box(plugin.step(0, 100_000, empty.clone()).unwrap());
        });
        println!("step over 100000 entities ({mode}): plugin {:.1} us", t.as_secs_f64() * 1e6);
        return;
    }

    // Per-call overhead: a step over no entities.
    let loaded = LoadedPlugin::load(&engine, sim_spec("idle", SdkVersion::new(1, 0, 0), 0), &sim10).unwrap();
    let mut idle = loaded.instantiate().unwrap();
    c.bench_function("call/step-empty", |b| b.iter(|| idle.step(0, 1000, empty.clone()).unwrap()));
    let per_call = median(2001, || {
        black_box(idle.step(0, 1000, empty.clone()).unwrap());
    });
    report.push(format!("per-call overhead (empty step, 1.0): {:.2} us", per_call.as_secs_f64() * 1e6));

    // Instantiation: compile vs cache vs InstancePre restart.
    let cache_dir = tempfile::tempdir().unwrap();
    let cached_engine = PluginEngine::new(EngineOptions {
        max_instances: 32,
        cache_dir: Some(cache_dir.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    LoadedPlugin::load(&cached_engine, sim_spec("warm", SdkVersion::new(1, 1, 0), 0), &sim11).unwrap();
    let uncached = median(5, || {
        let l = LoadedPlugin::load(&engine, sim_spec("cold", SdkVersion::new(1, 1, 0), 0), &sim11).unwrap();
        black_box(l.instantiate().unwrap());
    });
    let cached = median(21, || {
        let l = LoadedPlugin::load(&cached_engine, sim_spec("warm", SdkVersion::new(1, 1, 0), 0), &sim11).unwrap();
        black_box(l.instantiate().unwrap());
    });
    let warm = LoadedPlugin::load(&engine, sim_spec("pre", SdkVersion::new(1, 1, 0), 0), &sim11).unwrap();
    let restart = median(51, || {
        black_box(warm.instantiate().unwrap());
    });
    c.bench_function("instantiate/cached", |b| {
        b.iter(|| {
            LoadedPlugin::load(&cached_engine, sim_spec("warm", SdkVersion::new(1, 1, 0), 0), &sim11)
                .unwrap()
                .instantiate()
                .unwrap()
        })
    });
    c.bench_function("instantiate/instance-pre", |b| b.iter(|| warm.instantiate().unwrap()));
    report.push(format!(
        "load+instantiate: uncached (compile) {:.1} ms, cached {:.2} ms ({:.0}x faster); restart from InstancePre {:.3} ms",
        uncached.as_secs_f64() * 1e3,
        cached.as_secs_f64() * 1e3,
        uncached.as_secs_f64() / cached.as_secs_f64(),
        restart.as_secs_f64() * 1e3
    ));

    // Simulation step: plugin vs the same kernel natively, in full (kernel + the update column handed
    // to the host, checked) and split: the kernel alone (the plugin's `emit = false`) shows how much of
    // the gap is the compiled code and how much is moving and checking the output. Then the same
    // model on SDK 1.2, handing its state over as a full column; natively that is the kernel plus a
    // copy of the values.
    for n in [10_000usize, 100_000] {
        let loaded = LoadedPlugin::load(&engine, sim_spec("diffusion", SdkVersion::new(1, 1, 0), n), &sim11).unwrap();
        let mut plugin = loaded.instantiate().unwrap();
        let kernel_spec = sim_spec("diffusion-kernel", SdkVersion::new(1, 1, 0), n)
            .param("emit", sangam_plugins::ParamValue::Boolean(false));
        let mut plugin_kernel = LoadedPlugin::load(&engine, kernel_spec, &sim11).unwrap().instantiate().unwrap();
        let full_spec = sim_spec("diffusion-1.2", SdkVersion::new(1, 2, 0), n)
            .param("mode", sangam_plugins::ParamValue::Text("full".into()));
        let mut plugin_full = LoadedPlugin::load(&engine, full_spec, &sim12).unwrap().instantiate().unwrap();
        let mut values: Vec<f64> = (0..n).map(|i| i as f64 * 0.01).collect();
        let mut scratch = vec![0.0; n];
        let (mut entities, mut out) = (Vec::new(), Vec::new());
        let mut native = || {
            diffusion::diffusion_step(&mut values, &mut scratch, 0.2, 0.05, 0.1);
            diffusion::emit(&values, &mut entities, &mut out);
            black_box((&entities, &out));
        };
        c.bench_function(&format!("step/{n}/native"), |b| b.iter(&mut native));
        c.bench_function(&format!("step/{n}/plugin"), |b| b.iter(|| plugin.step(0, 100_000, empty.clone()).unwrap()));
        let (native_t, plugin_t) = paired_medians(PAIRED_RUNS, &mut native, || {
            black_box(plugin.step(0, 100_000, empty.clone()).unwrap());
        });
        let mut kernel_values: Vec<f64> = (0..n).map(|i| i as f64 * 0.01).collect();
        let mut kernel_scratch = vec![0.0; n];
        let (native_kernel_t, plugin_kernel_t) = paired_medians(
            PAIRED_RUNS,
            || {
                diffusion::diffusion_step(&mut kernel_values, &mut kernel_scratch, 0.2, 0.05, 0.1);
                black_box(&kernel_values);
            },
            || {
                black_box(plugin_kernel.step(0, 100_000, empty.clone()).unwrap());
            },
        );
        // 1.2: the host receives a fresh copy of the values each step; natively, the same copy.
        let mut full_values: Vec<f64> = (0..n).map(|i| i as f64 * 0.01).collect();
        let mut full_scratch = vec![0.0; n];
        let mut native_full = || {
            diffusion::diffusion_step(&mut full_values, &mut full_scratch, 0.2, 0.05, 0.1);
            black_box(full_values.clone());
        };
        c.bench_function(&format!("step-full-column/{n}/native"), |b| b.iter(&mut native_full));
        c.bench_function(&format!("step-full-column/{n}/plugin"), |b| {
            b.iter(|| plugin_full.step(0, 100_000, empty.clone()).unwrap())
        });
        let (native_full_t, plugin_full_t) = paired_medians(PAIRED_RUNS, &mut native_full, || {
            black_box(plugin_full.step(0, 100_000, empty.clone()).unwrap());
        });
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        report.push(format!(
            "step over {n} entities, 1.1 returned column: native {:.1} us, plugin {:.1} us, ratio {:.2}x \
             (kernel alone: native {:.1} us, plugin {:.1} us, ratio {:.2}x; output to the host: native {:.1} us, \
             plugin {:.1} us)",
            us(native_t),
            us(plugin_t),
            plugin_t.as_secs_f64() / native_t.as_secs_f64(),
            us(native_kernel_t),
            us(plugin_kernel_t),
            plugin_kernel_t.as_secs_f64() / native_kernel_t.as_secs_f64(),
            us(native_t.saturating_sub(native_kernel_t)),
            us(plugin_t.saturating_sub(plugin_kernel_t)),
        ));
        report.push(format!(
            "step over {n} entities, 1.2 full column: native {:.1} us, plugin {:.1} us, ratio {:.2}x \
             (output to the host: native {:.1} us, plugin {:.1} us; plugin step vs 1.1: {:.2}x)",
            us(native_full_t),
            us(plugin_full_t),
            plugin_full_t.as_secs_f64() / native_full_t.as_secs_f64(),
            us(native_full_t.saturating_sub(native_kernel_t)),
            us(plugin_full_t.saturating_sub(plugin_kernel_t)),
            plugin_full_t.as_secs_f64() / plugin_t.as_secs_f64(),
        ));
    }

    // Host overhead per tick for 10 idle plugins (submit + wait + drain, and the frame-loop side alone).
    let mut supervisor = Supervisor::new(engine.clone(), RestartPolicy::default());
    let ids: Vec<String> = (0..10).map(|i| format!("idle{i}")).collect();
    for id in &ids {
        supervisor.add(sim_spec(id, SdkVersion::new(1, 0, 0), 0), &sim10).unwrap();
    }
    let mut tick = || {
        for id in &ids {
            supervisor.submit_step(id, 0, 1000, empty.clone()).unwrap();
        }
        for id in &ids {
            while supervisor.is_busy(id) {
                std::hint::spin_loop();
            }
            black_box(supervisor.drain_updates(id));
        }
    };
    for _ in 0..50 {
        tick();
    }
    c.bench_function("tick/10-idle-plugins", |b| b.iter(&mut tick));
    let round_trip = median(501, &mut tick);
    let mut frame_side = Duration::ZERO;
    let rounds = 500;
    for _ in 0..rounds {
        let t = Instant::now();
        for id in &ids {
            supervisor.submit_step(id, 0, 1000, empty.clone()).unwrap();
        }
        frame_side += t.elapsed();
        for id in &ids {
            while supervisor.is_busy(id) {
                std::hint::spin_loop();
            }
            let t = Instant::now();
            black_box(supervisor.drain_updates(id));
            frame_side += t.elapsed();
        }
    }
    report.push(format!(
        "10 idle plugins per tick: frame-loop side (submit + drain) {:.1} us, full round trip to all results {:.1} us",
        frame_side.as_secs_f64() * 1e6 / rounds as f64,
        round_trip.as_secs_f64() * 1e6
    ));

    c.final_summary();
    println!("\n== sangam-plugins: same-run results ==");
    for line in report {
        println!("{line}");
    }
}
