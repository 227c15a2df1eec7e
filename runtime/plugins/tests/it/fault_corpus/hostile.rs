//! Plugins written against the WIT by a vendor trying to break the runtime (issue 12): text that
//! forges log lines or drives terminals, errors from every call, restart storms, WASI waits, host
//! reads that never end, pool starvation, blocked host calls, fuel, and network imports. Each test
//! fails without its guard.
//!
//! Time bounds here are generous (seconds where the guard makes it milliseconds), so a loaded
//! 2-core machine cannot make them flake, and far below what the unguarded runtime takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{MISBEHAVE, twin};
use crate::common::{engine, fixture, misbehave_spec};
use sangam_plugins::text::is_unsafe_char;
use sangam_plugins::{
    Call, EngineOptions, FaultAction, FaultCause, FaultReport, LoadedPlugin, ParamValue, PluginEngine, PluginError,
    PluginSpec, PluginStatus, RestartPolicy, Submit, Supervisor, TwinSnapshot, TwinView,
};

/// Runs a 60 Hz frame loop over `ids` for `duration` (or until `done` says so), requesting draws
/// with `twin_for(id)`; returns the fault reports.
fn frames(
    supervisor: &Supervisor,
    ids: &[&str],
    duration: Duration,
    twin_for: impl Fn(&str) -> Arc<dyn TwinView>,
    mut done: impl FnMut(&[FaultReport]) -> bool,
) -> Vec<FaultReport> {
    let start = Instant::now();
    let mut faults = Vec::new();
    while start.elapsed() < duration && !done(&faults) {
        for id in ids {
            let _ = supervisor.request_draw(id, 0, twin_for(id));
        }
        faults.extend(supervisor.drain_faults());
        std::thread::sleep(Duration::from_millis(16));
    }
    faults.extend(supervisor.drain_faults());
    faults
}

fn fast_policy() -> RestartPolicy {
    RestartPolicy {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(80),
        ..RestartPolicy::default()
    }
}

fn draw_error(spec: PluginSpec) -> PluginError {
    let loaded = LoadedPlugin::load(&engine(), spec, &fixture(MISBEHAVE)).expect("load");
    let mut instance = loaded.instantiate().expect("instantiate");
    instance.draw(0, twin()).expect_err("the plugin should fault")
}

// --- Plugin text (class 8) -----------------------------------------------------------------------

#[test]
fn forged_log_lines_and_terminal_sequences_are_escaped_and_attributed() {
    let loaded = LoadedPlugin::load(&engine(), misbehave_spec("bad", "forge"), &fixture(MISBEHAVE)).unwrap();
    let mut instance = loaded.instantiate().unwrap();
    let error = instance.draw(0, twin()).unwrap_err();
    let PluginError::Fault(fault) = &error else { panic!("{error}") };
    assert_eq!(fault.plugin, "bad", "the fault is the forger's");
    let text = error.to_string();
    assert!(text.starts_with("plugin `bad` draw: returned an error: fine\\n2026-12-02"), "{text}");
    assert!(!text.chars().any(is_unsafe_char), "no control character reaches the report: {text:?}");
    // What it logged (one line) and printed (stdout, a line per line, each attributed to it), escaped.
    let logs = loaded.recent_logs();
    assert_eq!(logs.len(), 3, "{logs:?}");
    for line in &logs {
        assert!(!line.message.chars().any(is_unsafe_char), "{line:?}");
    }
    for line in [&logs[0], &logs[2]] {
        assert!(line.message.contains("\\u{1b}]52;c;") && line.message.contains("\\u{202e}"), "{line:?}");
    }
}

#[test]
fn an_8_mib_error_is_cut_to_a_bounded_message() {
    let error = draw_error(misbehave_spec("bad", "err-huge"));
    let text = error.to_string();
    assert!(text.len() < 1200, "the report is bounded: {} bytes", text.len());
    assert!(text.contains("more bytes]"), "the cut is said: {}", &text[text.len() - 60..]);
    assert!(!text.chars().any(is_unsafe_char));
}

#[test]
fn an_error_from_every_call_quarantines_the_plugin() {
    let policy = RestartPolicy { max_errors_in_window: 10, ..fast_policy() };
    let mut supervisor = Supervisor::new(engine(), policy);
    supervisor.add(misbehave_spec("bad", "err"), &fixture(MISBEHAVE)).unwrap();
    let faults = frames(
        &supervisor,
        &["bad"],
        Duration::from_secs(10),
        |_| twin(),
        |f| f.iter().any(|r| matches!(r.cause, FaultCause::TooManyErrors { .. })),
    );
    // The first error is reported, the next ones are only counted, the tenth quarantines it.
    let at = faults.iter().position(|f| matches!(f.cause, FaultCause::TooManyErrors { .. })).expect("quarantined");
    let kept = faults[..at].iter().filter(|f| f.action == FaultAction::KeptRunning).count();
    assert_eq!((at, kept), (1, 1), "{faults:#?}");
    let quarantine = &faults[at];
    assert!(matches!(quarantine.action, FaultAction::Restarting { .. }), "{quarantine}");
    let text = quarantine.to_string();
    assert!(text.contains("returned an error from 10 calls within 60 s (last: deliberate error"), "{text}");
}

// --- Restart storms (class 5) ----------------------------------------------------------------------

#[test]
fn a_plugin_that_behaves_once_after_each_restart_is_still_disabled() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy { max_faults_in_window: 4, ..fast_policy() });
    supervisor.add(misbehave_spec("flaky", "flaky"), &fixture(MISBEHAVE)).unwrap();
    let faults = frames(
        &supervisor,
        &["flaky"],
        Duration::from_secs(10),
        |_| twin(),
        |f| f.iter().any(|r| r.action == FaultAction::Disabled),
    );
    let actions: Vec<FaultAction> = faults.iter().map(|f| f.action.clone()).collect();
    let ms = Duration::from_millis;
    assert_eq!(
        actions,
        vec![
            FaultAction::Restarting { after: ms(10) },
            FaultAction::Restarting { after: ms(20) },
            FaultAction::Restarting { after: ms(40) },
            FaultAction::Disabled,
        ],
        "the backoff grows although each restart drew once"
    );
    let stats = supervisor.stats("flaky").unwrap();
    assert_eq!((stats.restarts, stats.completed), (3, 4), "one good draw per instance");
    assert_eq!(supervisor.request_draw("flaky", 0, twin()).unwrap(), Submit::Disabled);
}

#[test]
fn a_kiosk_policy_re_enables_a_disabled_plugin() {
    let policy =
        RestartPolicy { max_faults_in_window: 2, reenable_after: Some(Duration::from_millis(300)), ..fast_policy() };
    let mut supervisor = Supervisor::new(engine(), policy);
    supervisor.add(misbehave_spec("flaky", "flaky"), &fixture(MISBEHAVE)).unwrap();
    let mut disabled_at = None;
    let faults = frames(
        &supervisor,
        &["flaky"],
        Duration::from_secs(10),
        |_| twin(),
        |f| {
            let disabled = f.iter().filter(|r| r.action == FaultAction::Disabled).count();
            if disabled == 1 && disabled_at.is_none() {
                disabled_at = Some(Instant::now());
            }
            disabled == 2
        },
    );
    let disabled = faults.iter().filter(|f| f.action == FaultAction::Disabled).count();
    assert_eq!(disabled, 2, "disabled, re-enabled with a fresh window, disabled again: {faults:#?}");
    assert!(disabled_at.expect("disabled once").elapsed() >= Duration::from_millis(300));
}

// --- WASI waits (class 4) --------------------------------------------------------------------------

#[test]
fn a_sleep_without_the_wall_clock_grant_is_refused_at_once() {
    let started = Instant::now();
    let error = draw_error(misbehave_spec("sleepy", "sleep"));
    assert!(started.elapsed() < Duration::from_secs(5), "it did not sleep its 10 s: {:?}", started.elapsed());
    let text = error.to_string();
    assert!(
        text.contains("called `wasi:clocks/monotonic-clock.subscribe-duration`, which needs the `wall-clock` grant"),
        "{text}"
    );
}

#[test]
fn a_wait_that_never_fires_ends_at_the_call_deadline() {
    let mut spec = misbehave_spec("sleepy", "sleep-forever");
    spec.capabilities.wall_clock = true;
    spec.limits.call_time = Duration::from_millis(100);
    let started = Instant::now();
    let error = draw_error(spec);
    assert!(started.elapsed() < Duration::from_secs(3), "bounded by the deadline: {:?}", started.elapsed());
    assert!(error.to_string().contains("ran past its time budget of 100 ms"), "{error}");
}

#[test]
fn a_granted_sleep_within_its_budget_still_lets_the_runtime_exit_at_once() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    let mut spec = misbehave_spec("sleepy", "sleep").param("ms", ParamValue::Integer(8_000));
    spec.capabilities.wall_clock = true;
    spec.limits.call_time = Duration::from_secs(10);
    supervisor.add(spec, &fixture(MISBEHAVE)).unwrap();
    assert_eq!(supervisor.request_draw("sleepy", 0, twin()).unwrap(), Submit::Queued);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !supervisor.is_busy("sleepy") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200)); // well inside the 8 s sleep
    let started = Instant::now();
    drop(supervisor);
    assert!(started.elapsed() < Duration::from_secs(1), "shutdown waited {:?} for the sleeper", started.elapsed());
}

// --- Host-call time (class 2) ----------------------------------------------------------------------

#[test]
fn a_read_of_4m_entities_is_refused_naming_the_limit() {
    let mut spec = misbehave_spec("reader", "read-numbers");
    // Time for the guest to build and hand over 16 MiB of indices (a debug-built host copies them).
    spec.limits.call_time = Duration::from_secs(3);
    let started = Instant::now();
    let error = draw_error(spec);
    let text = error.to_string();
    assert!(
        text.contains("asked `twin.numbers` for 4194304 entities in one read; a read names at most 1048576"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_aggregate_over_long_histories_stops_at_the_budget() {
    // 2^20 entities (the most one read may name) x 512 samples each: half a billion samples, which
    // took the unmetered host 24 s. Metered, the read stops at its work budget or its deadline.
    let mut history = TwinSnapshot::new();
    for t in 0..512 {
        history.push_sample(0, "load", t, t as f64);
    }
    let history: Arc<dyn TwinView> = Arc::new(history);
    let spec = misbehave_spec("reader", "read-aggregate").param("count", ParamValue::Integer(1 << 20));
    let loaded = LoadedPlugin::load(&engine(), spec, &fixture(MISBEHAVE)).unwrap();
    let mut instance = loaded.instantiate().unwrap();
    let started = Instant::now();
    let error = instance.draw(0, history).unwrap_err();
    let took = started.elapsed();
    let PluginError::Fault(fault) = &error else { panic!("{error}") };
    assert!(
        matches!(fault.cause, FaultCause::HostWorkExceeded { .. } | FaultCause::DeadlineExceeded { .. }),
        "{error}"
    );
    assert!(took < Duration::from_secs(2), "the host call stopped at the budget: {took:?}");
}

// --- The pool (class 3) ----------------------------------------------------------------------------

#[test]
fn plugins_that_hold_their_whole_budget_cannot_starve_the_others() {
    // As many sleepers as pool threads, each using 400 ms of its 1 s budget on every call.
    let mut supervisor = Supervisor::with_threads(engine(), RestartPolicy::default(), 2);
    let bytes = fixture(MISBEHAVE);
    supervisor.add(misbehave_spec("good", "ok"), &bytes).unwrap();
    for id in ["hog-1", "hog-2"] {
        let mut spec = misbehave_spec(id, "sleep").param("ms", ParamValue::Integer(400));
        spec.capabilities.wall_clock = true;
        spec.limits.call_time = Duration::from_secs(1);
        supervisor.add(spec, &bytes).unwrap();
    }
    let faults = frames(&supervisor, &["good", "hog-1", "hog-2"], Duration::from_secs(4), |_| twin(), |_| false);
    assert!(faults.is_empty(), "nobody faulted: {faults:#?}");
    let good = supervisor.stats("good").unwrap();
    // About 240 frames; unguarded, the good plugin got a turn only when a sleeper let go (~15).
    assert!(good.completed >= 100, "the good plugin kept its rate: {good:?}");
    for hog in ["hog-1", "hog-2"] {
        let stats = supervisor.stats(hog).unwrap();
        assert!(stats.completed >= 2, "{hog} still runs, within its share: {stats:?}");
    }
}

/// A twin view whose reads block for `delay` (a stalled store): the host side of a plugin call that
/// the epoch deadline cannot interrupt.
struct StalledTwin(Duration);

impl TwinView for StalledTwin {
    fn number(&self, _: u32, _: &str) -> Option<f64> {
        None
    }
    fn text(&self, _: u32, _: &str) -> Option<String> {
        std::thread::sleep(self.0);
        None
    }
    fn samples(&self, _: u32, _: &str, _: i64, _: i64, _: &mut dyn FnMut(i64, f64)) {}
}

#[test]
fn a_call_blocked_outside_wasm_is_reported_and_its_thread_replaced() {
    let policy = RestartPolicy { blocked_grace: Duration::from_millis(200), ..RestartPolicy::default() };
    let mut supervisor = Supervisor::with_threads(engine(), policy, 1);
    let bytes = fixture(MISBEHAVE);
    supervisor.add(misbehave_spec("good", "ok"), &bytes).unwrap();
    supervisor.add(misbehave_spec("stuck", "ok"), &bytes).unwrap();
    let stalled: Arc<dyn TwinView> = Arc::new(StalledTwin(Duration::from_secs(3)));
    let before = Instant::now();
    let mut good_before = 0;
    let faults = frames(
        &supervisor,
        &["good", "stuck"],
        Duration::from_secs(3),
        |id| if id == "stuck" { stalled.clone() } else { twin() },
        |f| {
            if f.is_empty() {
                good_before = supervisor.stats("good").unwrap().completed;
            }
            f.iter().any(|r| r.plugin_id == "stuck") && supervisor.stats("good").unwrap().completed >= good_before + 10
        },
    );
    let report = faults.iter().find(|f| f.plugin_id == "stuck").expect("the blocked plugin is reported");
    assert_eq!(report.action, FaultAction::Disabled);
    assert_eq!(report.call, Call::Draw);
    assert!(report.to_string().contains("did not return within its time budget of 50 ms plus 200 ms"), "{report}");
    assert!(matches!(supervisor.status("stuck"), Some(PluginStatus::Disabled(_))));
    assert!(
        supervisor.stats("good").unwrap().completed >= good_before + 10,
        "the good plugin drew on the replacement thread while the stuck call was still blocked"
    );
    assert!(before.elapsed() < Duration::from_secs(3), "{:?}", before.elapsed());
}

// --- Fuel (class 9) --------------------------------------------------------------------------------

#[test]
fn a_plugin_runs_out_of_fuel() {
    let engine = PluginEngine::new(EngineOptions { max_instances: 4, fuel: true, ..EngineOptions::default() }).unwrap();
    let mut spec = misbehave_spec("greedy", "loop");
    spec.limits.fuel_per_call = Some(20_000_000);
    spec.limits.call_time = Duration::from_secs(30);
    let loaded = LoadedPlugin::load(&engine, spec, &fixture(MISBEHAVE)).unwrap();
    let mut instance = loaded.instantiate().unwrap();
    let started = Instant::now();
    let error = instance.draw(0, twin()).unwrap_err();
    assert!(
        matches!(&error, PluginError::Fault(f) if f.cause == FaultCause::OutOfFuel { fuel: 20_000_000 }),
        "{error}"
    );
    assert!(error.to_string().contains("ran out of fuel (20000000 units per call"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "fuel, not the 30 s deadline, stopped it");
}

#[test]
fn host_reads_are_paid_in_fuel() {
    // One aggregate over one entity with a million samples: a few thousand instructions of wasm, a
    // million units of host work.
    let mut history = TwinSnapshot::new();
    for t in 0..1_000_000 {
        history.push_sample(0, "load", t, 1.0);
    }
    let history: Arc<dyn TwinView> = Arc::new(history);
    let engine = PluginEngine::new(EngineOptions { max_instances: 4, fuel: true, ..EngineOptions::default() }).unwrap();
    let draw = |fuel: u64| {
        let mut spec = misbehave_spec("reader", "read-aggregate").param("count", ParamValue::Integer(1));
        spec.limits.fuel_per_call = Some(fuel);
        spec.limits.call_time = Duration::from_secs(5);
        let mut instance = LoadedPlugin::load(&engine, spec, &fixture(MISBEHAVE)).unwrap().instantiate().unwrap();
        instance.draw(0, history.clone()).unwrap_err()
    };
    // With 5M units the read completes (the fixture then returns an error saying what it read).
    let done = draw(5_000_000);
    assert!(done.to_string().contains("returned an error: read 1"), "{done}");
    // With 500k, the wasm's share fits but the host's million samples do not.
    let error = draw(500_000);
    assert!(matches!(&error, PluginError::Fault(f) if f.cause == FaultCause::OutOfFuel { fuel: 500_000 }), "{error}");
}

// --- Admission (class 7) ---------------------------------------------------------------------------

#[test]
fn a_component_importing_sockets_is_refused_before_it_runs() {
    let bytes = fixture("sangam-fixture-netprobe");
    let spec = misbehave_spec("netprobe", "ok");
    let error = LoadedPlugin::load(&engine(), spec, &bytes).unwrap_err();
    assert!(matches!(error, PluginError::Refused { .. }), "{error}");
    let text = error.to_string();
    assert!(text.starts_with("plugin `netprobe` cannot run: it imports network interfaces (wasi:sockets/"), "{text}");
    // `plugin check` gives the same reason, from the same function.
    let inspection = sangam_plugins::inspect::inspect(&bytes).unwrap();
    let reason = sangam_plugins::admission::refused_imports(inspection.wasi_imports.iter().map(String::as_str));
    assert_eq!(text, format!("plugin `netprobe` cannot run: {}", reason.expect("refused")));
}

// --- Host memory (class 1) -------------------------------------------------------------------------

fn sim10(mode: &str, count: i64) -> sangam_plugins::PluginInstance {
    let mut spec = PluginSpec::new("hog", sangam_plugins::Role::Simulation, sangam_plugins::SdkVersion::new(1, 0, 0))
        .param("mode", ParamValue::Text(mode.into()))
        .param("count", ParamValue::Integer(count));
    spec.entities = crate::common::entities(4);
    // Time to build and hand over 1.3M values in a debug-built host.
    spec.limits.call_time = Duration::from_secs(5);
    LoadedPlugin::load(&engine(), spec, &fixture("sangam-fixture-sim10")).unwrap().instantiate().unwrap()
}

#[test]
fn a_step_of_1_3m_values_for_four_entities_is_refused() {
    // Inside the 16 MiB output cap, and each value would have become a sample in the store.
    let mut instance = sim10("repeat", 1_300_000);
    let error = instance.step(0, 100_000, Arc::new(TwinSnapshot::new())).unwrap_err().to_string();
    assert!(
        error.contains("the batch holds 1300000 values for 4 entities and 1 properties; a batch has at most one value"),
        "{error}"
    );
}

#[test]
fn new_property_names_are_capped_per_plugin() {
    let mut instance = sim10("names", 100);
    let twin: Arc<dyn TwinView> = Arc::new(TwinSnapshot::new());
    for step in 0..2 {
        instance.step(step * 100_000, 100_000, twin.clone()).expect("200 names fit in the cap of 256");
    }
    let error = instance.step(200_000, 100_000, twin).unwrap_err();
    assert!(
        matches!(&error, PluginError::Fault(f) if f.cause == FaultCause::OverCap { what: "property names", limit: 256 }),
        "{error}"
    );
    assert!(error.to_string().contains("is over its cap of 256 property names"), "{error}");
}

#[test]
fn a_step_writing_into_the_past_is_refused() {
    let mut instance = sim10("past", 0);
    let error = instance.step(20_000_000, 100_000, Arc::new(TwinSnapshot::new())).unwrap_err().to_string();
    assert!(
        error.contains(
            "`time`: 10000000 is outside this step (20000000 to 20100000); a step's updates are valid at now + dt-us"
        ),
        "{error}"
    );
}
