//! Catch-up stepping and a clock that runs slower, never losing simulated time unsaid.

use std::time::Duration;

use sangam_twin::{EntityId, SimTime};

use crate::{decay_plugin, scene, session, settle};

/// One tank relaxing toward 0 at 2/s (the first-party decay plugin: the exact solution per step).
fn decay_scene(name: &str, clock: &str, step_ms: u32) -> sangam_twin::Scene {
    let tank = "[[entities]]\nid = \"tank\"\nkind = \"process.tank\"\n[entities.properties]\nlevel = 100.0\n\n";
    scene(name, &format!("[clock]\n{clock}\n\n{tank}{}", decay_plugin("decay", "level", 2.0, step_ms)))
}

/// Steps submitted and completed by `id` agree, and nothing waits.
fn caught_up(s: &sangam_session::Session) -> bool {
    let sup = s.plugins().supervisor().expect("plugins run");
    let stats = sup.stats("decay").unwrap_or_default();
    s.plugins().steps_due(s.time().clock().now()) == 0
        && stats.completed >= s.totals().steps_submitted
        && !sup.is_busy("decay")
}

#[test]
fn steps_shorter_than_a_frame_lose_no_simulated_time() {
    // 5 ms steps, 60 frames of 16.7 ms: three or four steps per frame.
    let scene = decay_scene("catch-up", "step_ms = 5\ncatch_up_steps = 16", 5);
    let mut s = session(&scene);
    let frame = Duration::from_micros(16_667);
    for _ in 0..60 {
        s.tick(frame);
        std::thread::sleep(frame);
    }
    settle(&mut s, caught_up);
    let clock = s.time().clock();
    let ran = clock.now().as_micros() - clock.start().as_micros();
    let slowed = i64::try_from(clock.slowed().as_micros()).unwrap();
    // Every microsecond the rate asked for was either run or reported as not run (up to the part of a
    // step still in the accumulator).
    assert!((1_000_020 - 5_000..=1_000_020).contains(&(ran + slowed)), "ran {ran} us, slowed {slowed} us");
    assert!(ran >= 500_000, "the clock ran at least half of the second ({ran} us): the plugin kept up");
    let steps = s.totals().steps_submitted;
    assert_eq!(steps as i64 * 5_000, ran + 5_000, "one step per 5 ms of clock time, from t = 0 to now inclusive");
    // The decay plugin writes the exact solution at each step's end: after n steps of 5 ms the level
    // is 100 e^(-2 * 0.005 n). One step per frame (the old schedule) would have run 60 of them.
    let tank = EntityId::new("tank");
    let (t, level) = s.store().latest(&tank, "level").expect("the plugin wrote the level");
    let level = level.as_f64().unwrap();
    assert_eq!(t, SimTime::from_micros(steps as i64 * 5_000), "the last step ends at now + one step");
    let expected = 100.0 * (-2.0 * t.as_secs_f64()).exp();
    assert!((level - expected).abs() < 1e-9 * expected.max(1.0), "level {level} at {t}, expected {expected}");
    assert!(steps > 120, "{steps} steps: more than one per frame");
    let samples = s.store().series(&tank, "level").unwrap().len();
    assert_eq!(samples as u64, steps + 1, "the initial value and one sample per step");
}

#[test]
fn a_simulation_that_cannot_keep_up_holds_the_clock_and_it_says_so() {
    // 100x with 1 ms steps asks for 1,667 steps per 16.7 ms frame; the plugin gets at most 64 per
    // batch and may fall 200 behind: the clock waits for it.
    let scene = decay_scene("held", "step_ms = 1\nrate = 100.0\ncatch_up_steps = 200", 1);
    let mut s = session(&scene);
    let mut held = 0;
    let mut slowed = Duration::ZERO;
    for _ in 0..30 {
        let report = s.tick(Duration::from_micros(16_667));
        slowed += report.slowed;
        held += usize::from(report.held_by.as_deref() == Some("decay"));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(held > 0, "the decay plugin held the clock back in some tick");
    let clock = s.time().clock();
    let ran = Duration::from_micros((clock.now().as_micros() - clock.start().as_micros()) as u64);
    assert!(ran + slowed >= Duration::from_millis(49_000), "asked 50 s: ran {ran:?} + slowed {slowed:?}");
    assert!(ran < Duration::from_secs(40), "it could not have run 50 s of 1 ms steps in half a second: {ran:?}");
    assert_eq!(clock.slowed(), slowed, "the clock's own count agrees with the reports");
    let line = &s.status_lines()[0];
    assert!(line.contains("ran slower than its rate") && line.contains("held back by `decay`"), "{line}");
    // The plugin is not lagging by more than its allowance: the clock waited for it.
    settle(&mut s, caught_up);
    let (t, _) = s.store().latest(&EntityId::new("tank"), "level").unwrap();
    assert!(t >= s.time().clock().now(), "after settling, the simulation reached the clock ({t})");
}

#[test]
fn a_clamped_clock_stops_at_its_end_and_the_simulation_stops_with_it() {
    let scene = decay_scene("clamp", "step_ms = 10\nstop_s = 0.2\nend = \"clamp\"", 10);
    let mut s = session(&scene);
    let mut ended = false;
    for _ in 0..40 {
        ended |= s.tick(Duration::from_millis(20)).at_end;
        std::thread::sleep(Duration::from_millis(5));
    }
    settle(&mut s, caught_up);
    assert!(ended, "a tick reported the end");
    assert_eq!(s.time().clock().now(), SimTime::from_millis(200));
    assert!(s.time().is_paused());
    let (t, _) = s.store().latest(&EntityId::new("tank"), "level").unwrap();
    assert_eq!(t, SimTime::from_millis(210), "the last step started at the stop");
}

#[test]
fn an_output_larger_than_the_tick_s_budget_is_applied_over_several_ticks_and_the_simulation_waits_for_it() {
    // 5,000 tanks and the smallest apply budget: one step's output takes several ticks to apply.
    let tanks: String = (0..5_000)
        .map(|i| {
            format!("[[entities]]\nid = \"tank{i}\"\nkind = \"process.tank\"\n[entities.properties]\nlevel = 100.0\n\n")
        })
        .collect();
    let clock = "[clock]\nstep_ms = 100\napply_budget_us = 100\n\n";
    let scene = scene("apply-budget", &format!("{clock}{tanks}{}", decay_plugin("decay", "level", 2.0, 100)));
    let mut s = session(&scene);
    let frame = Duration::from_micros(16_667);
    let mut split = 0;
    for _ in 0..60 {
        let report = s.tick(frame);
        split += usize::from(report.plugins.values_waiting > 0);
        std::thread::sleep(frame);
    }
    // Let it finish what it was given, and apply all of it.
    s.command(sangam_session::TimeCommand::TogglePlay).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let report = s.tick(Duration::ZERO);
        let sup = s.plugins().supervisor().unwrap();
        let done = sup.stats("decay").unwrap_or_default().completed >= s.totals().steps_submitted
            && s.plugins().steps_due(s.time().clock().now()) == 0;
        if done && !sup.is_busy("decay") && report.plugins.values_waiting == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not applied within 30 s: {:?}", s.status_lines());
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(split > 0, "no output was split over ticks: the budget was never reached: {:?}", s.status_lines());
    let steps = s.totals().steps_submitted;
    assert!(steps >= 2, "{steps} steps");
    assert_eq!(s.totals().values_applied, steps * 5_000, "every value of every step applied, none twice");
    // Each step read the whole of the previous one (the exact solution, at the same time for every
    // tank): a step that read a half-applied output would leave some tanks a step behind.
    let (t, _) = s.store().latest(&EntityId::new("tank0"), "level").unwrap();
    let expected = 100.0 * (-2.0 * t.as_secs_f64()).exp();
    for i in (0..5_000).step_by(97) {
        let (ti, level) = s.store().latest(&EntityId::new(format!("tank{i}")), "level").unwrap();
        let level = level.as_f64().unwrap();
        assert_eq!(ti, t, "tank{i} was last written at {ti}, tank0 at {t}");
        assert!((level - expected).abs() < 1e-9 * expected, "tank{i}: {level}, expected {expected} at {t}");
    }
}

#[test]
fn an_adapter_output_larger_than_the_tick_s_budget_is_applied_over_several_ticks_in_order() {
    // 20,000 counters, two messages of a row each for every counter, and the smallest apply budget.
    let n = 20_000;
    let counters: String =
        (0..n).map(|i| format!("[[entities]]\nid = \"c{i}\"\nkind = \"traffic.counter\"\n\n")).collect();
    let csv = crate::repo().join("plugins/csv-adapter/plugin.toml");
    let adapter =
        format!("[[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n", csv.display());
    let scene = scene("adapter-budget", &format!("[clock]\napply_budget_us = 100\n\n{counters}{adapter}"));
    let mut s = session(&scene);
    for (second, offset) in [(0, 0), (1, 100_000)] {
        let rows: String = (0..n).map(|i| format!("c{i},{second},{}\n", i + offset)).collect();
        let message = sangam_session::Message {
            source: "counts.csv".into(),
            content_type: "text/csv".into(),
            received: s.time().clock().now(),
            payload: format!("id,time,flow[veh/h]\n{rows}").into_bytes(),
        };
        s.offer("counts", message).unwrap_or_else(|e| panic!("{e}"));
    }
    let frame = Duration::from_micros(16_667);
    let (mut split, mut most) = (0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while s.totals().values_applied < 2 * n as u64 {
        let report = s.tick(frame);
        split += usize::from(report.plugins.values_waiting > 0);
        most = most.max(report.plugins.values_applied);
        assert!(std::time::Instant::now() < deadline, "not applied within 60 s: {:?}", s.status_lines());
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(split > 0 && most < n, "an output was applied in one tick ({most} values): the budget was not kept");
    assert_eq!(s.totals().values_applied, 2 * n as u64, "every value once");
    // In order: the second message's values are the latest, the first's are the history before them.
    for i in (0..n).step_by(991) {
        let id = EntityId::new(format!("c{i}"));
        let flows: Vec<f64> = s
            .store()
            .window(&id, "flow", SimTime(i64::MIN), SimTime(i64::MAX))
            .map(|(_, v)| v.as_f64().unwrap())
            .collect();
        assert_eq!(flows, [i as f64, (i + 100_000) as f64], "c{i}");
    }
}
