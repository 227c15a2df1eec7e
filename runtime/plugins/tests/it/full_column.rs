//! SDK 1.2's `output.full-column`: a simulation hands a column of every granted entity to the host
//! from its own memory. It must give the same updates as the 1.1 way (a returned column with an
//! index list), mix with returned columns, share the output cap, and every misuse must stop the
//! plugin with a message that names the call and the rule.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{engine, entities, fixture};
use sangam_plugins::{
    ColumnEntities, FaultCause, LoadedPlugin, ParamValue, PluginEngine, PluginError, PluginInstance, PluginSpec,
    RestartPolicy, Role, SdkVersion, Supervisor, TwinSnapshot,
};

const SIM11: &str = "sangam-fixture-sim11";
const SIM12: &str = "sangam-fixture-sim12";

fn spec(id: &str, sdk: SdkVersion, n: usize, mode: &str) -> PluginSpec {
    let mut spec = PluginSpec::new(id, Role::Simulation, sdk).param("mode", ParamValue::Text(mode.into()));
    spec.entities = entities(n);
    // Room for a 10k-entity table on a slow, unoptimised test host.
    spec.limits.call_time = Duration::from_secs(5);
    spec
}

fn instance(engine: &PluginEngine, spec: PluginSpec, fixture_name: &str) -> Result<PluginInstance, PluginError> {
    LoadedPlugin::load(engine, spec, &fixture(fixture_name)).unwrap().instantiate()
}

fn step(instance: &mut PluginInstance) -> Result<sangam_plugins::PropertyUpdates, PluginError> {
    instance.step(1_000_000, 100_000, Arc::new(TwinSnapshot::new()))
}

#[test]
fn a_full_column_gives_the_same_updates_as_a_returned_column() {
    let engine = engine();
    // Sizes around the kernel's chunk of 16, and one large table.
    for n in [1, 2, 17, 33, 10_000] {
        let mut v11 = instance(&engine, spec("diffusion-1.1", SdkVersion::new(1, 1, 0), n, ""), SIM11).unwrap();
        let mut v12 = instance(&engine, spec("diffusion-1.2", SdkVersion::new(1, 2, 0), n, "full"), SIM12).unwrap();
        for _ in 0..3 {
            let listed = step(&mut v11).unwrap();
            let full = step(&mut v12).unwrap();
            assert_eq!(full.time, listed.time);
            assert_eq!(full.numbers.len(), 1, "n = {n}");
            let (a, b) = (&listed.numbers[0], &full.numbers[0]);
            assert_eq!((b.property.as_str(), b.unit.as_str()), ("level", "m"));
            assert_eq!(b.entities, ColumnEntities::All);
            assert_eq!(a.entities, ColumnEntities::Listed((0..n as u32).collect()));
            // The same kernel from the same start: bit for bit the same values, for the same entities.
            assert_eq!(b.values, a.values, "n = {n}");
            assert!(b.entity_indices().eq(a.entity_indices()), "n = {n}");
        }
    }
}

#[test]
fn full_and_returned_columns_mix_in_one_step() {
    let engine = engine();
    let mut plugin = instance(&engine, spec("mixed", SdkVersion::new(1, 2, 0), 5, "full+listed"), SIM12).unwrap();
    let updates = step(&mut plugin).unwrap();
    // Returned columns first, then the full columns in the order of the calls.
    let names: Vec<&str> = updates.numbers.iter().map(|c| c.property.as_str()).collect();
    assert_eq!(names, ["level.first", "level"]);
    assert_eq!(updates.numbers[0].entities, ColumnEntities::Listed(vec![0]));
    assert_eq!(updates.numbers[0].values[0], updates.numbers[1].values[0]);
    assert_eq!(updates.numbers[1].values.len(), 5);
    assert_eq!(updates.value_count(), 6);
}

#[test]
fn every_misuse_of_full_column_is_malformed_output_naming_the_rule() {
    let engine = engine();
    let cases = [
        ("short", "`full-column[0].values`: has 3 entries, expected 4 (one value per entity of the table)"),
        ("nan", "`full-column[0].values[3]`: NaN is not a finite number"),
    ];
    for (mode, expect) in cases {
        let mut plugin = instance(&engine, spec("bad", SdkVersion::new(1, 2, 0), 4, mode), SIM12).unwrap();
        let error = step(&mut plugin).unwrap_err();
        let PluginError::Fault(fault) = &error else { panic!("{mode}: not a fault: {error}") };
        assert!(matches!(fault.cause, FaultCause::MalformedOutput { .. }), "{mode}: {:?}", fault.cause);
        let text = error.to_string();
        assert!(text.contains("plugin `bad` step: returned malformed output at"), "{text}");
        assert!(text.contains(expect), "{mode}: {text}");
    }
    // Outside a step (here in `init`) the call has no updates to join.
    let error = instance(&engine, spec("early", SdkVersion::new(1, 2, 0), 4, "in-init"), SIM12).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("plugin `early` init"), "{text}");
    assert!(text.contains("`full-column`: called outside `simulation.step`"), "{text}");
}

#[test]
fn full_columns_count_against_the_output_cap() {
    let engine = engine();
    let n = 1000;
    let mut capped = spec("capped", SdkVersion::new(1, 2, 0), n, "full");
    // Room for the names but not for 1000 values of 8 bytes.
    capped.limits.output_bytes = 4000;
    let mut plugin = instance(&engine, capped, SIM12).unwrap();
    let error = step(&mut plugin).unwrap_err();
    let PluginError::Fault(fault) = &error else { panic!("not a fault: {error}") };
    assert_eq!(fault.cause, FaultCause::OutputTooLarge { limit: 4000 });
    // With room, the same plugin's fresh instance works.
    let mut roomy = spec("capped", SdkVersion::new(1, 2, 0), n, "full");
    roomy.limits.output_bytes = 8 * n as u64 + 64;
    let mut plugin = instance(&engine, roomy, SIM12).unwrap();
    assert_eq!(step(&mut plugin).unwrap().numbers[0].values.len(), n);
}

#[test]
fn a_faulty_1_2_plugin_does_not_disturb_1_0_1_1_and_1_2_plugins_beside_it() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    let v10 = PluginSpec::new("decay-1.0", Role::Simulation, SdkVersion::new(1, 0, 0));
    let mut v10 = v10.param("rate", ParamValue::Number(0.5));
    v10.entities = entities(3);
    supervisor.add(v10, &fixture("sangam-fixture-sim10")).unwrap();
    supervisor.add(spec("diffusion-1.1", SdkVersion::new(1, 1, 0), 3, ""), &fixture(SIM11)).unwrap();
    supervisor.add(spec("diffusion-1.2", SdkVersion::new(1, 2, 0), 3, "full"), &fixture(SIM12)).unwrap();
    supervisor.add(spec("broken-1.2", SdkVersion::new(1, 2, 0), 3, "nan"), &fixture(SIM12)).unwrap();
    let ids = ["decay-1.0", "diffusion-1.1", "diffusion-1.2"];
    for round in 0..3 {
        let now = round * 100_000;
        for id in ids.iter().chain(&["broken-1.2"]) {
            let _ = supervisor.submit_step(id, now, 100_000, Arc::new(TwinSnapshot::new())).unwrap();
        }
        for id in ids {
            let deadline = Instant::now() + Duration::from_secs(10);
            let updates = loop {
                if let Some(updates) = supervisor.drain_updates(id).pop() {
                    break updates;
                }
                assert!(Instant::now() < deadline, "no updates from {id} in round {round}");
                std::thread::sleep(Duration::from_millis(2));
            };
            assert_eq!(updates.time, now + 100_000, "{id}");
            assert_eq!(updates.numbers.last().unwrap().values.len(), 3, "{id}");
        }
    }
    // The NaN plugin's step runs on a pool thread of its own: wait for its report.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut faults = supervisor.drain_faults();
    while faults.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
        faults = supervisor.drain_faults();
    }
    assert!(!faults.is_empty(), "the NaN plugin faults");
    assert!(faults.iter().all(|f| f.plugin_id == "broken-1.2"), "{faults:?}");
    assert!(faults[0].to_string().contains("`full-column[0].values[2]`: NaN"), "{}", faults[0]);
}
