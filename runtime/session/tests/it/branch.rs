//! What-if branches: a session forked into branches with other parameter values runs them side by
//! side from the same past, each as the model says, and the same branch from the same fork reaches
//! the same state.

use std::time::Duration;

use sangam_session::{ParamOverride, Session, compare};
use sangam_twin::{EntityId, ParamLiteral, SimTime};

use crate::{decay_plugin, scene, session, settle};

/// A tank relaxing toward 0 at `decay-rate` per second (the first-party decay plugin: the exact
/// solution per step), 10 ms steps.
fn tank_scene() -> sangam_twin::Scene {
    let body = "[clock]\nstep_ms = 10\ncatch_up_steps = 64\n\n[[entities]]\nid = \"tank\"\nkind = \"process.tank\"\n\
                [entities.properties]\nlevel = 100.0\n\n";
    scene("branch", &format!("{body}{}", decay_plugin("decay", "level", 1.0, 10)))
}

/// Runs `s` for `steps` clock steps of 10 ms, ticking 50 ms at a time and waiting for the plugin.
fn run(s: &mut Session, ticks: usize) {
    for _ in 0..ticks {
        s.tick(Duration::from_millis(50));
        settle(s, |s| {
            let sup = s.plugins().supervisor().unwrap();
            s.plugins().steps_due(s.time().clock().now()) == 0 && !sup.is_busy("decay")
        });
    }
}

fn level(s: &Session) -> f64 {
    s.store().latest(&EntityId::new("tank"), "level").unwrap().1.as_f64().unwrap()
}

fn rate(r: f64) -> ParamOverride {
    ParamOverride { plugin: "decay".into(), parameter: "decay-rate".into(), value: ParamLiteral::Number(r) }
}

#[test]
fn branches_forked_with_other_parameters_run_side_by_side_from_the_same_past() {
    let scene = tank_scene();
    let mut base = session(&scene);
    run(&mut base, 10);
    let fork_time = base.time().clock().now();
    let at_fork = level(&base);
    assert!(at_fork < 100.0 && at_fork > 50.0, "{at_fork}");

    let mut slow = base.fork(&scene, "slow", &[rate(0.5)]).unwrap_or_else(|e| panic!("{e:#}"));
    let mut fast = base.fork(&scene, "fast", &[rate(4.0)]).unwrap_or_else(|e| panic!("{e:#}"));
    run(&mut slow, 10);
    run(&mut fast, 10);
    let ran = (slow.time().clock().now().as_micros() - fork_time.as_micros()) as f64 / 1e6;
    assert_eq!(fast.time().clock().now(), slow.time().clock().now());
    // Each follows its own rate from the common value at the fork: level(t) = level(T) e^(-r t).
    for (branch, r) in [(&slow, 0.5), (&fast, 4.0)] {
        let expected = at_fork * (-r * ran).exp();
        assert!((level(branch) - expected).abs() < 1e-6 * expected, "rate {r}: {} vs {expected}", level(branch));
    }
    // The same past: before the fork both answer as the base does.
    let before = SimTime::from_micros(fork_time.as_micros() - 30_000);
    let id = EntityId::new("tank");
    let then = base.store().value_at(&id, "level", before);
    assert_eq!(slow.store().value_at(&id, "level", before), then);
    assert_eq!(fast.store().value_at(&id, "level", before), then);

    // The comparison: one property, fast below slow.
    let diff = compare(slow.store(), fast.store());
    assert_eq!((diff.compared, diff.differences.len()), (1, 1));
    let d = &diff.differences[0];
    assert_eq!((d.entity.as_str(), d.property.as_str()), ("tank", "level"));
    assert!(d.delta().unwrap() < -10.0, "{d:?}");
    assert_eq!(diff.largest.as_ref().map(|(_, p, _)| p.as_str()), Some("level"));

    // Deterministic: the same branch from the same fork, stepped the same, reaches the same state.
    let mut again = base.fork(&scene, "slow again", &[rate(0.5)]).unwrap();
    run(&mut again, 10);
    assert_eq!(again.state_hash(), slow.state_hash());
    assert_eq!(compare(again.store(), slow.store()).differences.len(), 0);
}

#[test]
fn a_branch_naming_a_plugin_or_value_the_scene_refuses_is_a_clear_error() {
    let scene = tank_scene();
    let base = session(&scene);
    let bad = ParamOverride { plugin: "nope".into(), parameter: "x".into(), value: ParamLiteral::Number(1.0) };
    let e = format!("{:#}", base.fork(&scene, "b", &[bad]).err().unwrap());
    assert!(e.contains("no plugin `nope`") && e.contains("decay"), "{e}");
    let e = format!("{:#}", base.fork(&scene, "b", &[rate(-5.0)]).err().unwrap());
    assert!(e.contains("branch `b`") && e.contains("decay-rate"), "{e}");
}

#[test]
fn a_scenario_and_set_values_run_the_plugins_with_their_parameters() {
    use sangam_session::branch::apply_overrides;
    let body = "[clock]\nstep_ms = 10\ncatch_up_steps = 64\n\n[[entities]]\nid = \"tank\"\nkind = \"process.tank\"\n\
                [entities.properties]\nlevel = 100.0\n\n";
    let scenarios =
        "\n[[scenarios]]\nid = \"slow\"\ndescription = \"half the rate\"\nset = { \"decay.decay-rate\" = 0.5 }\n";
    let scene = scene("scenario", &format!("{body}{}{scenarios}", decay_plugin("decay", "level", 1.0, 10)));
    let runs = |overrides: &[ParamOverride]| {
        let mut twin = scene.clone();
        apply_overrides(&mut twin, "scenario `slow`", overrides).unwrap();
        let mut s = session(&twin);
        run(&mut s, 10);
        // The time the latest value is valid at (a step's values are for its end).
        let (at, _) = s.store().latest(&EntityId::new("tank"), "level").unwrap();
        (level(&s), (at.as_micros() - twin.clock.start.as_micros()) as f64 / 1e6)
    };
    // The scenario's rate, and the exact solution of the model: 100 e^(-r t).
    let slow = ParamOverride::of_scenario("slow", &scene).unwrap();
    let (got, t) = runs(&slow);
    assert!((got - 100.0 * (-0.5 * t).exp()).abs() < 1e-6 * got, "{got} after {t} s at 0.5/s");
    // A --set after the scenario wins (an integer is taken for a number parameter).
    let mut both = slow.clone();
    both.push(ParamOverride::parse("decay.decay-rate=4", &scene).unwrap());
    let (got, t) = runs(&both);
    assert!((got - 100.0 * (-4.0 * t).exp()).abs() < 1e-6 * got.max(1e-3), "{got} after {t} s at 4/s");
    // Values are typed as a command line gives them.
    let value = |text: &str| ParamOverride::parse(text, &scene).unwrap().value;
    assert_eq!(value("decay.x=2.5"), ParamLiteral::Number(2.5));
    assert_eq!(value("decay.x=true"), ParamLiteral::Bool(true));
    assert_eq!(value("decay.x=\"5\""), ParamLiteral::Text("5".into()));
    assert_eq!(value("decay.x=a=b"), ParamLiteral::Text("a=b".into()));
    // Clear errors: an unknown scenario lists the scene's; a key names the plugins; no `=`; and a
    // value the manifest refuses names the plugin, the parameter and the range when it loads.
    let e = format!("{:#}", ParamOverride::of_scenario("fast", &scene).unwrap_err());
    assert!(e.contains("no scenario `fast`") && e.contains("its scenarios: slow"), "{e}");
    let e = format!("{:#}", ParamOverride::parse("pump.rate=1", &scene).unwrap_err());
    assert!(e.contains("`pump.rate` is not PLUGIN.PARAMETER") && e.contains("its plugins: decay"), "{e}");
    assert!(
        format!("{:#}", ParamOverride::parse("decay.decay-rate", &scene).unwrap_err())
            .contains("PLUGIN.PARAMETER=VALUE")
    );
    let mut twin = scene.clone();
    apply_overrides(&mut twin, "--set", &[ParamOverride::parse("decay.decay-rate=-1", &scene).unwrap()]).unwrap();
    let e = format!("{:#}", Session::load(&twin).err().expect("refused"));
    assert!(e.contains("decay") && e.contains("decay-rate") && e.contains("below the minimum 0"), "{e}");
}

/// A counter fed by the first-party CSV adapter (`flow` per message).
fn counter_scene() -> sangam_twin::Scene {
    let manifest = crate::repo().join("plugins/csv-adapter/plugin.toml");
    let body = format!(
        "[[entities]]\nid = \"s1\"\nkind = \"traffic.counter\"\n\n[[plugins]]\nid = \"counts\"\nartifact = \
         \"csv_adapter.wasm\"\nmanifest = \"{}\"\n",
        manifest.display()
    );
    scene("follow", &body)
}

fn count(i: i64) -> sangam_session::Message {
    sangam_session::Message {
        source: "counts.csv".into(),
        content_type: "text/csv".into(),
        received: SimTime::from_secs(i),
        payload: format!("id,time,flow[veh/h]\ns1,{i},{}\n", 1000 + i).into_bytes(),
    }
}

fn flows(s: &Session) -> Vec<f64> {
    let id = EntityId::new("s1");
    s.store().series(&id, "flow").map(|v| v.iter().map(|(_, x)| x.as_f64().unwrap()).collect()).unwrap_or_default()
}

#[test]
fn a_branch_that_follows_gets_every_input_the_session_accepts_including_those_waiting_at_the_fork() {
    let scene = counter_scene();
    let mut plan = session(&scene);
    // Accepted before the fork, still waiting in the inbox (no tick yet): not in the twin it copies.
    for i in 0..3 {
        plan.offer("counts", count(i)).unwrap();
    }
    let mut branch = plan.fork(&scene, "follower", &[]).unwrap();
    let mut alone = plan.fork(&scene, "alone", &[]).unwrap();
    plan.copy_inputs();
    for i in 3..8 {
        plan.offer("counts", count(i)).unwrap();
    }
    let expected: Vec<f64> = (0..8).map(|i| f64::from(1000 + i)).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while flows(&plan) != expected || flows(&branch) != expected {
        assert!(std::time::Instant::now() < deadline, "plan {:?}, branch {:?}", flows(&plan), flows(&branch));
        plan.tick(Duration::ZERO);
        let followed = branch.follow(&mut plan);
        assert_eq!(followed.waiting, 0, "an inbox of room takes every copy");
        branch.tick(Duration::ZERO);
        alone.tick(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(flows(&branch), expected, "every input, in order, in the branch's twin too");
    assert!(flows(&alone).is_empty(), "a branch that does not follow gets none: {:?}", flows(&alone));
    assert_eq!(branch.inbox().stats("counts").unwrap().accepted, 8);
    assert_eq!((plan.input_copies_made(), plan.input_copies_dropped()), (8, 0));
    assert_eq!(plan.inbox().stats("counts").unwrap().delivered, 8, "the plan's own inputs are untouched");
}
