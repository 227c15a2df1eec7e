//! The runtime side: 1.0 and 1.1 plugins side by side, the 1.1 additions (aggregate, describe),
//! the compiled-component cache, hot reload and late ticks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{engine, entities, fixture, misbehave_spec};
use sangam_plugins::{
    CacheOutcome, ColumnEntities, EngineOptions, LoadedPlugin, ParamValue, PluginEngine, PluginSpec, PropertyUpdates,
    RestartPolicy, Role, SdkVersion, Submit, Supervisor, TwinSnapshot, TwinView,
};

fn sim10_spec() -> PluginSpec {
    let mut spec =
        PluginSpec::new("decay-1.0", Role::Simulation, SdkVersion::new(1, 0, 0)).param("rate", ParamValue::Number(0.5));
    spec.entities = entities(2);
    spec
}

fn sim11_spec() -> PluginSpec {
    let mut spec = PluginSpec::new("diffusion-1.1", Role::Simulation, SdkVersion::new(1, 1, 0))
        .param("aggregate", ParamValue::Boolean(true));
    spec.entities = entities(2);
    spec
}

fn twin() -> Arc<dyn TwinView> {
    let mut twin = TwinSnapshot::new();
    twin.set_number(0, "level", 10.0);
    twin.push_sample(0, "level", 0, 1.0);
    twin.push_sample(0, "level", 1_000_000, 3.0);
    Arc::new(twin)
}

fn wait_updates(supervisor: &Supervisor, id: &str) -> Arc<PropertyUpdates> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(updates) = supervisor.drain_updates(id).pop() {
            return updates;
        }
        assert!(Instant::now() < deadline, "no updates from {id}; faults: {:?}", supervisor.drain_faults());
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn plugins_of_1_0_and_1_1_run_side_by_side() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    supervisor.add(sim10_spec(), &fixture("sangam-fixture-sim10")).unwrap();
    supervisor.add(sim11_spec(), &fixture("sangam-fixture-sim11")).unwrap();
    let now = 2_000_000;
    assert_eq!(supervisor.submit_step("decay-1.0", now, 1_000_000, twin()).unwrap(), Submit::Queued);
    assert_eq!(supervisor.submit_step("diffusion-1.1", now, 1_000_000, twin()).unwrap(), Submit::Queued);

    let decay = wait_updates(&supervisor, "decay-1.0");
    assert_eq!(decay.time, now + 1_000_000);
    let level = &decay.numbers[0];
    assert_eq!(level.property, "level");
    assert_eq!(level.entities, ColumnEntities::Listed(vec![0, 1]));
    assert!((level.values[0] - 10.0 * (-0.5f64).exp()).abs() < 1e-12, "{:?}", level.values);
    assert_eq!(level.values[1], 0.0, "entity 1 has no level");

    let diffusion = wait_updates(&supervisor, "diffusion-1.1");
    // twin.aggregate (1.1): the mean of the two samples in the window, only for entity 0.
    let mean = diffusion.numbers.iter().find(|c| c.property == "level.mean").expect("level.mean");
    assert_eq!(mean.entities, ColumnEntities::Listed(vec![0]));
    assert_eq!(mean.values, vec![2.0]);
    let level = diffusion.numbers.iter().find(|c| c.property == "level").expect("level");
    assert_eq!(level.values.len(), 2);
    assert!(supervisor.drain_faults().is_empty());
}

#[test]
fn describe_is_offered_by_1_1_plugins_only() {
    let engine = engine();
    let mut v11 =
        LoadedPlugin::load(&engine, sim11_spec(), &fixture("sangam-fixture-sim11")).unwrap().instantiate().unwrap();
    let params = v11.describe().unwrap().expect("1.1 describes its parameters");
    let names: Vec<_> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alpha", "decay", "aggregate", "emit"]);
    assert_eq!(params[0].default, ParamValue::Number(0.2));
    assert_eq!(params[0].minimum, Some(0.0));
    let mut v10 =
        LoadedPlugin::load(&engine, sim10_spec(), &fixture("sangam-fixture-sim10")).unwrap().instantiate().unwrap();
    assert_eq!(v10.describe().unwrap(), None);
}

#[test]
fn compiled_components_are_cached_and_damaged_entries_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        || EngineOptions { max_instances: 4, cache_dir: Some(dir.path().to_path_buf()), ..EngineOptions::default() };
    let bytes = fixture("sangam-fixture-sim10");
    let first = PluginEngine::new(options()).unwrap();
    let loaded = LoadedPlugin::load(&first, sim10_spec(), &bytes).unwrap();
    assert_eq!(loaded.cache_outcome(), CacheOutcome::Miss);
    let path = first.cache().unwrap().path_for(&bytes);
    assert!(path.exists());

    // A new engine (a restart of the runtime) loads it from disk and it runs.
    let second = PluginEngine::new(options()).unwrap();
    let loaded = LoadedPlugin::load(&second, sim10_spec(), &bytes).unwrap();
    assert_eq!(loaded.cache_outcome(), CacheOutcome::Hit);
    let updates = loaded.instantiate().unwrap().step(0, 1_000_000, twin()).unwrap();
    assert_eq!(updates.numbers[0].values.len(), 2);

    // A damaged file is detected by its checksum, not deserialized, and rewritten.
    let mut damaged = std::fs::read(&path).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::write(&path, &damaged).unwrap();
    let third = PluginEngine::new(options()).unwrap();
    let loaded = LoadedPlugin::load(&third, sim10_spec(), &bytes).unwrap();
    assert_eq!(loaded.cache_outcome(), CacheOutcome::Miss);
    loaded.instantiate().unwrap().step(0, 1_000_000, twin()).unwrap();
    let truncated = std::fs::read(&path).unwrap();
    std::fs::write(&path, &truncated[..truncated.len() / 3]).unwrap();
    assert_eq!(LoadedPlugin::load(&third, sim10_spec(), &bytes).unwrap().cache_outcome(), CacheOutcome::Miss);
}

#[test]
fn a_compiled_component_planted_in_the_cache_is_never_loaded() {
    // Another cache's valid entry (native code with a correct checksum) copied where this cache would
    // look for the component: without this cache's key its MAC fails, and it is recompiled.
    let bytes = fixture("sangam-fixture-sim10");
    let options = |dir: &std::path::Path| EngineOptions {
        max_instances: 4,
        cache_dir: Some(dir.to_path_buf()),
        ..EngineOptions::default()
    };
    let (theirs, ours) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let planter = PluginEngine::new(options(theirs.path())).unwrap();
    assert_eq!(LoadedPlugin::load(&planter, sim10_spec(), &bytes).unwrap().cache_outcome(), CacheOutcome::Miss);
    let engine = PluginEngine::new(options(ours.path())).unwrap();
    let target = engine.cache().unwrap().path_for(&bytes);
    std::fs::copy(planter.cache().unwrap().path_for(&bytes), &target).unwrap();
    assert_eq!(LoadedPlugin::load(&engine, sim10_spec(), &bytes).unwrap().cache_outcome(), CacheOutcome::Miss);
    // Rewritten under our key, it loads next time.
    let again = PluginEngine::new(options(ours.path())).unwrap();
    assert_eq!(LoadedPlugin::load(&again, sim10_spec(), &bytes).unwrap().cache_outcome(), CacheOutcome::Hit);
}

#[cfg(unix)]
#[test]
fn the_cache_directory_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("components");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let engine = sangam_plugins::PluginEngine::new(EngineOptions {
        max_instances: 2,
        cache_dir: Some(cache.clone()),
        ..EngineOptions::default()
    })
    .unwrap();
    assert!(engine.cache().is_some());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700, "tightened: nobody else may plant files");
    assert_eq!(mode(&cache.join("key")), 0o600);
    // A key file others can read is refused: no cache rather than a forgeable one.
    std::fs::set_permissions(cache.join("key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let engine = PluginEngine::new(EngineOptions {
        max_instances: 2,
        cache_dir: Some(cache.clone()),
        ..EngineOptions::default()
    })
    .unwrap();
    assert!(engine.cache().is_none());
    // A directory owned by another user is refused (checkable where the test may chown: as root, as CI runs).
    std::fs::remove_file(cache.join("key")).unwrap();
    if std::os::unix::fs::chown(&cache, Some(65534), None).is_ok() {
        let engine =
            PluginEngine::new(EngineOptions { max_instances: 2, cache_dir: Some(cache), ..EngineOptions::default() })
                .unwrap();
        assert!(engine.cache().is_none(), "a cache folder owned by uid 65534 must not be used");
    }
}

#[test]
fn hot_reload_replaces_one_plugin_and_keeps_the_old_one_on_bad_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("overlay.wasm");
    let bytes = fixture("sangam-fixture-misbehave");
    std::fs::write(&path, &bytes).unwrap();
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    supervisor.add_file(misbehave_spec("watched", "ok"), &path).unwrap();
    supervisor.add(sim10_spec(), &fixture("sangam-fixture-sim10")).unwrap();

    // A broken rebuild: refused on the pool thread, the running version stays.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, &bytes[..100]).unwrap();
    assert_eq!(supervisor.poll_reload(), vec!["watched".to_string()]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while supervisor.stats("watched").unwrap().failed_reloads == 0 {
        assert!(Instant::now() < deadline, "the broken build is refused");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(supervisor.stats("watched").unwrap().reloads, 0);
    assert_eq!(supervisor.request_draw("watched", 0, twin()).unwrap(), Submit::Queued);
    let deadline = Instant::now() + Duration::from_secs(5);
    while supervisor.latest_overlay("watched").is_none() {
        assert!(Instant::now() < deadline, "the old version keeps drawing");
        std::thread::sleep(Duration::from_millis(2));
    }

    // A good rebuild is swapped in; the other plugin is untouched.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(supervisor.poll_reload(), vec!["watched".to_string()]);
    assert!(supervisor.poll_reload().is_empty(), "no change, no reload");
    supervisor.submit_step("decay-1.0", 0, 1_000_000, twin()).unwrap();
    wait_updates(&supervisor, "decay-1.0");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let _ = supervisor.request_draw("watched", 0, twin());
        let stats = supervisor.stats("watched").unwrap();
        if stats.reloads == 1 && stats.completed >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the reloaded version draws");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(supervisor.drain_faults().is_empty());
}

#[test]
fn a_busy_plugin_skips_ticks_instead_of_queueing_them() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    let mut spec = misbehave_spec("spinner", "loop");
    spec.limits.call_time = Duration::from_millis(300);
    supervisor.add(spec, &fixture("sangam-fixture-misbehave")).unwrap();
    assert_eq!(supervisor.request_draw("spinner", 0, twin()).unwrap(), Submit::Queued);
    let started = Instant::now();
    let mut skipped = 0;
    for _ in 0..10 {
        if supervisor.request_draw("spinner", 0, twin()).unwrap() == Submit::Skipped {
            skipped += 1;
        }
    }
    assert!(started.elapsed() < Duration::from_millis(20), "submitting never blocks");
    assert_eq!(skipped, 10);
    assert_eq!(supervisor.stats("spinner").unwrap().late, 10);
}

#[test]
fn a_skipped_tick_does_not_build_its_twin_view() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    let mut spec = misbehave_spec("spinner", "loop");
    spec.limits.call_time = Duration::from_millis(300);
    supervisor.add(spec, &fixture("sangam-fixture-misbehave")).unwrap();
    let mut built = 0;
    assert_eq!(
        supervisor
            .request_draw_with("spinner", 0, || {
                built += 1;
                twin()
            })
            .unwrap(),
        Submit::Queued
    );
    for _ in 0..5 {
        let s = supervisor.request_draw_with("spinner", 0, || {
            built += 1;
            twin()
        });
        assert_eq!(s.unwrap(), Submit::Skipped);
    }
    assert_eq!(built, 1, "only the taken submission builds its view");
    assert_eq!(supervisor.stats("spinner").unwrap().late, 5);
}

#[test]
fn more_plugins_than_pool_threads_all_run_and_a_looping_one_only_delays_them() {
    // One pool thread for three plugins: the looping overlay holds it for its time budget, then
    // faults; the simulation and the good overlay still complete, and nothing is lost.
    let mut supervisor = Supervisor::with_threads(engine(), RestartPolicy::default(), 1);
    let mut spinner = misbehave_spec("spinner", "loop");
    spinner.limits.call_time = Duration::from_millis(200);
    supervisor.add(spinner, &fixture("sangam-fixture-misbehave")).unwrap();
    supervisor.add(misbehave_spec("good", "ok"), &fixture("sangam-fixture-misbehave")).unwrap();
    supervisor.add(sim10_spec(), &fixture("sangam-fixture-sim10")).unwrap();
    assert_eq!(supervisor.request_draw("spinner", 0, twin()).unwrap(), Submit::Queued);
    assert_eq!(supervisor.request_draw("good", 0, twin()).unwrap(), Submit::Queued);
    assert_eq!(supervisor.submit_step("decay-1.0", 0, 1_000_000, twin()).unwrap(), Submit::Queued);
    let updates = wait_updates(&supervisor, "decay-1.0");
    assert_eq!(updates.numbers[0].values.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while supervisor.latest_overlay("good").is_none() {
        assert!(Instant::now() < deadline, "the good overlay draws");
        std::thread::sleep(Duration::from_millis(2));
    }
    // The spinner faults at its deadline (the fair pick may have run the others before it).
    let mut faults = supervisor.drain_faults();
    while faults.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        faults = supervisor.drain_faults();
    }
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].plugin_id, "spinner");
    assert!(faults.iter().all(|f| f.plugin_id == "spinner"));
    assert_eq!(supervisor.stats("good").unwrap().faults, 0);
}

#[test]
fn outputs_the_frame_loop_never_drains_are_dropped_oldest_first_and_counted() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    supervisor.add(sim10_spec(), &fixture("sangam-fixture-sim10")).unwrap();
    let steps = sangam_plugins::supervisor::MAX_PENDING_UPDATES as u64 + 44;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut t = 0;
    while supervisor.stats("decay-1.0").unwrap().completed < steps {
        assert!(Instant::now() < deadline, "{:?}", supervisor.stats("decay-1.0"));
        if supervisor.submit_step("decay-1.0", t, 1_000, twin()).unwrap() == Submit::Queued {
            t += 1_000;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(supervisor.stats("decay-1.0").unwrap().dropped_outputs, 44);
    let kept = supervisor.drain_updates("decay-1.0");
    assert_eq!(kept.len(), sangam_plugins::supervisor::MAX_PENDING_UPDATES);
    assert_eq!(kept[0].time, 45 * 1_000, "the oldest 44 went");
}

#[test]
fn a_simulation_granted_100k_entities_starts_within_its_own_call_budget() {
    // The first-party decay plugin asks for 20 ms per call; taking in a 100k-entity table costs more
    // than that (about 120 ms here), which `init` has on top of its call budget.
    let mut spec = PluginSpec::new("decay", Role::Simulation, SdkVersion::new(1, 2, 0))
        .param("property", ParamValue::Text("level".into()));
    spec.entities = entities(100_000);
    spec.limits.call_time = Duration::from_millis(20);
    spec.limits.memory_bytes = 256 << 20;
    assert!(spec.limits.init_time(100_000) >= Duration::from_millis(500));
    let engine = engine();
    let loaded = LoadedPlugin::load(&engine, spec, &fixture("decay-simulation")).unwrap();
    let mut instance = loaded.instantiate().unwrap_or_else(|e| panic!("init within its budget: {e}"));
    let mut twin = TwinSnapshot::new();
    twin.set_numbers("level", vec![100.0; 100_000]);
    let updates = instance.step(0, 10_000, Arc::new(twin)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(updates.value_count(), 100_000, "every entity stepped");
}
