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
