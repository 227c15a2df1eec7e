//! The model through its trait, with the SDK's stand-in runtime playing the twin: each step's output
//! is written back as the next sample, as the runtime does.

use decay_simulation::Decay;
use sangam_sdk::{EntityTable, ParamValue, Simulation, Tick, testing};

fn table(n: usize) -> EntityTable {
    EntityTable {
        ids: (0..n).map(|i| format!("road/{i}")).collect(),
        kinds: vec!["road-segment".into(); n],
        positions: vec![0.0; 3 * n],
    }
}

fn set(name: &str, value: ParamValue) {
    testing::with_host(|h| h.set_param(name, value));
}

/// Runs `steps` ticks of `dt_us`, feeding each output back into the stand-in twin.
fn run(model: &mut Decay, property: &str, steps: usize, dt_us: i64) -> i64 {
    let mut now = 0;
    for _ in 0..steps {
        let out = model.step(Tick { now, dt_us }).unwrap();
        assert_eq!(out.time, now + dt_us);
        testing::with_host(|h| {
            for column in out.numbers.iter().filter(|c| c.property == property) {
                for (&e, &v) in column.entities.iter().zip(&column.values) {
                    h.push_number(e, property, out.time, v);
                }
            }
        });
        now = out.time;
    }
    now
}

#[test]
fn surface_temperature_follows_air_temperature() {
    testing::reset();
    set("property", ParamValue::Text("surface.temperature".into()));
    set("unit", ParamValue::Text("degC".into()));
    set("decay-rate", ParamValue::Number(1.0 / 900.0));
    set("target", ParamValue::Number(20.0));
    set("target-property", ParamValue::Text("weather.temperature".into()));
    testing::with_host(|h| {
        // Road 0: 45 degC in 30 degC air; road 1: 10 degC, no air reading (falls back to 20);
        // road 2: no surface reading (left alone).
        h.push_number(0, "surface.temperature", 0, 45.0);
        h.push_number(0, "weather.temperature", 0, 30.0);
        h.push_number(1, "surface.temperature", 0, 10.0);
    });
    let mut model = Decay::init(table(3)).unwrap();
    let end = run(&mut model, "surface.temperature", 360, 5_000_000); // 30 minutes in 5 s steps
    assert_eq!(end, 1_800_000_000);

    let got = sangam_sdk::twin::numbers("surface.temperature", &[0, 1, 2]);
    let t: f64 = 1800.0 / 900.0;
    let expect0 = 30.0 + 15.0 * (-t).exp();
    let expect1 = 20.0 - 10.0 * (-t).exp();
    assert!((got[0] - expect0).abs() < 1e-9, "{} vs {expect0}", got[0]);
    assert!((got[1] - expect1).abs() < 1e-9, "{} vs {expect1}", got[1]);
    assert!(got[2].is_nan(), "an entity without the property gets no value");
}

#[test]
fn step_length_does_not_change_the_result() {
    let mut finals = Vec::new();
    for (steps, dt) in [(1, 600_000_000), (60, 10_000_000), (6000, 100_000)] {
        testing::reset();
        set("property", ParamValue::Text("load".into()));
        set("decay-rate", ParamValue::Number(0.01));
        testing::with_host(|h| h.push_number(0, "load", 0, 1.0));
        let mut model = Decay::init(table(1)).unwrap();
        run(&mut model, "load", steps, dt);
        finals.push(sangam_sdk::twin::numbers("load", &[0])[0]);
    }
    let exact = (-6.0f64).exp();
    for f in finals {
        assert!((f - exact).abs() < 1e-12, "{f} vs {exact}");
    }
}

#[test]
fn bad_parameters_are_refused_at_init() {
    testing::reset();
    set("decay-rate", ParamValue::Number(-1.0));
    assert!(Decay::init(table(1)).err().unwrap().contains("decay-rate"));
    set("decay-rate", ParamValue::Integer(2));
    set("property", ParamValue::Text(" ".into()));
    assert!(Decay::init(table(1)).err().unwrap().contains("property"));
}

#[test]
fn parameters_match_the_manifest() {
    let manifest = include_str!("../plugin.toml");
    let specs = decay_simulation::parameters();
    for spec in &specs {
        assert!(manifest.contains(&format!("name = \"{}\"", spec.name)), "{} is not in plugin.toml", spec.name);
    }
    assert_eq!(manifest.matches("[[parameter]]").count(), specs.len());
}
