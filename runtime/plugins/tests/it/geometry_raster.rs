//! SDK 1.3: the scene's buildings and roads reach a plugin granted `site-geometry` exactly as the
//! scene gave them (and a plugin without the grant is stopped, naming it); maps a step hands over
//! with `output.raster` come back checked, at the step's time, the newest of each layer kept; every
//! misuse stops the plugin with a message naming the call and the rule.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{engine, entities, fixture};
use sangam_plugins::geometry::{Oneway, RoadLine};
use sangam_plugins::{
    FaultCause, LoadedPlugin, ParamValue, PluginEngine, PluginError, PluginInstance, PluginSpec, RestartPolicy, Role,
    SdkVersion, SiteGeometry, Supervisor, TwinSnapshot,
};

const SIM13: &str = "sangam-fixture-sim13";

/// Two buildings and three roads (one of each oneway, one without mapped tags).
fn site() -> SiteGeometry {
    let mut g = SiteGeometry::new();
    g.push_building("building/a", &[[0.0, 0.0], [20.0, 0.0], [20.0, 15.0], [0.0, 15.0]], 0.0, 24.0).unwrap();
    g.push_building("way/7", &[[40.0, 0.0], [55.0, 0.0], [47.0, 12.0]], 3.0, 9.5).unwrap();
    let road = |id, points: &'static [[f64; 2]], oneway, lanes, max_speed_kmh, width_m| RoadLine {
        id,
        points,
        class: "primary",
        oneway,
        lanes,
        max_speed_kmh,
        width_m,
    };
    g.push_road(road(
        "road/ring",
        &[[-100.0, -10.0], [0.0, -10.0], [100.0, -10.0]],
        Oneway::Forward,
        Some(3),
        Some(60.0),
        10.5,
    ))
    .unwrap();
    g.push_road(road("way/9", &[[0.0, -10.0], [0.0, -80.0]], Oneway::Backward, Some(1), None, 4.0)).unwrap();
    g.push_road(road("way/10", &[[0.0, -80.0], [50.0, -80.0]], Oneway::Both, None, Some(30.0), 6.0)).unwrap();
    g
}

fn spec(id: &str, mode: &str, granted: bool) -> PluginSpec {
    let mut spec =
        PluginSpec::new(id, Role::Simulation, SdkVersion::new(1, 3, 0)).param("mode", ParamValue::Text(mode.into()));
    spec.entities = entities(3);
    spec.capabilities.site_geometry = granted;
    spec.geometry = Arc::new(site());
    spec.limits.call_time = Duration::from_secs(5);
    spec
}

fn instance(engine: &PluginEngine, spec: PluginSpec) -> Result<PluginInstance, PluginError> {
    LoadedPlugin::load(engine, spec, &fixture(SIM13)).unwrap().instantiate()
}

fn step(plugin: &mut PluginInstance, k: i64) -> Result<sangam_plugins::PropertyUpdates, PluginError> {
    plugin.step(k * 100_000, 100_000, Arc::new(TwinSnapshot::new()))
}

/// What the plugin wrote it saw (the same for every entity).
fn seen(updates: &sangam_plugins::PropertyUpdates, property: &str) -> f64 {
    let column = updates.numbers.iter().find(|c| c.property == property).unwrap_or_else(|| panic!("no {property}"));
    assert!(column.values.iter().all(|&v| v == column.values[0]));
    column.values[0]
}

#[test]
fn a_granted_plugin_sees_the_scene_s_buildings_and_roads_as_given() {
    let engine = engine();
    let mut plugin = instance(&engine, spec("geo", "map", true)).unwrap();
    let updates = step(&mut plugin, 0).unwrap();
    let expected = [
        ("seen.buildings", 2.0),
        ("seen.building-points", 7.0),
        ("seen.top-sum", 33.5),
        ("seen.roads", 3.0),
        ("seen.road-points", 7.0),
        // Lanes not mapped cross as 0; speeds not mapped as NaN (left out of the sum).
        ("seen.lanes-sum", 4.0),
        ("seen.oneway", 0.0),
        ("seen.speed-sum", 90.0),
        ("seen.width-sum", 20.5),
    ];
    for (property, value) in expected {
        assert_eq!(seen(&updates, property), value, "{property}");
    }
}

#[test]
fn without_the_grant_a_geometry_call_stops_the_plugin_naming_the_grant() {
    let engine = engine();
    let error = instance(&engine, spec("nosy", "map", false)).unwrap_err();
    let PluginError::Fault(fault) = &error else { panic!("not a fault: {error}") };
    assert_eq!(fault.cause, FaultCause::Ungranted { call: "geometry.buildings", capability: "site-geometry" });
    assert!(error.to_string().contains("plugin `nosy` init"), "{error}");
    // The same plugin reading no geometry runs without the grant.
    let mut plugin = instance(&engine, spec("modest", "no-geometry", false)).unwrap();
    step(&mut plugin, 0).unwrap();
}

#[test]
fn a_map_comes_back_checked_at_the_step_s_time_with_no_data_cells() {
    let engine = engine();
    let mut plugin = instance(&engine, spec("map", "map", true)).unwrap();
    for k in 0..3 {
        let updates = step(&mut plugin, k).unwrap();
        let rasters = plugin.take_rasters();
        assert_eq!(rasters.len(), 1);
        let r = &rasters[0];
        assert_eq!((r.layer.as_str(), r.unit.as_str()), ("test.index", "idx"));
        assert_eq!((r.columns, r.rows, r.cell_size, r.origin), (4, 3, 10.0, [-50.0, -20.0, 1.5]));
        assert_eq!(r.time, updates.time);
        assert_eq!(r.values[0], k as f32);
        assert!(r.values[1].is_nan(), "NaN is a cell with no data");
        assert_eq!(r.values[11], (11 + k) as f32);
        // Row-major from the south-west corner: cell (column 1, row 2) holds 2 * 4 + 1 (+ k).
        assert_eq!(r.value_at(-35.0, 5.0), Some((9 + k) as f32));
        assert!(plugin.take_rasters().is_empty(), "taken once");
    }
}

#[test]
fn every_misuse_of_raster_is_malformed_output_naming_the_rule() {
    let engine = engine();
    let cases = [
        ("short", "`raster[0].values`: has 11 entries, expected 12 (columns * rows)"),
        ("infinite", "`raster[0].values[2]`: infinite (use NaN for no data)"),
        ("zero-cell", "`raster[0].grid.cell-size`: 0 is not a length above 0"),
        ("huge", "`raster[0].grid`: 5000 x 5000 cells; a map has 1 to 16777216 cells"),
        ("empty-layer", "`raster[0].layer`: the layer name is empty"),
    ];
    for (mode, expect) in cases {
        let mut plugin = instance(&engine, spec("bad", mode, true)).unwrap();
        let error = step(&mut plugin, 0).unwrap_err();
        let PluginError::Fault(fault) = &error else { panic!("{mode}: not a fault: {error}") };
        assert!(matches!(fault.cause, FaultCause::MalformedOutput { .. }), "{mode}: {:?}", fault.cause);
        assert!(error.to_string().contains(expect), "{mode}: {error}");
        assert!(plugin.take_rasters().is_empty(), "{mode}: a failed step hands over no map");
    }
    let error = instance(&engine, spec("early", "in-init", true)).unwrap_err().to_string();
    assert!(
        error.contains("plugin `early` init") && error.contains("`raster`: called outside `simulation.step`"),
        "{error}"
    );
    // A new layer every step: the 17th is over the cap of layers kept.
    let mut plugin = instance(&engine, spec("sprawl", "new-layer-each-step", true)).unwrap();
    for k in 0..16 {
        step(&mut plugin, k).unwrap();
    }
    let error = step(&mut plugin, 16).unwrap_err();
    let PluginError::Fault(fault) = &error else { panic!("not a fault: {error}") };
    assert_eq!(fault.cause, FaultCause::OverCap { what: "map layers", limit: 16 });
}

#[test]
fn maps_count_against_the_output_cap() {
    let engine = engine();
    let mut capped =
        spec("capped", "map", true).param("columns", ParamValue::Integer(100)).param("rows", ParamValue::Integer(100));
    // 10,000 cells of 4 bytes do not fit in 30,000 bytes.
    capped.limits.output_bytes = 30_000;
    let mut plugin = instance(&engine, capped).unwrap();
    let error = step(&mut plugin, 0).unwrap_err();
    let PluginError::Fault(fault) = &error else { panic!("not a fault: {error}") };
    assert_eq!(fault.cause, FaultCause::OutputTooLarge { limit: 30_000 });
}

#[test]
fn the_supervisor_keeps_the_newest_map_of_each_layer() {
    let mut supervisor = Supervisor::new(engine(), RestartPolicy::default());
    supervisor.add(spec("maps", "two-layers", true), &fixture(SIM13)).unwrap();
    let wait = |supervisor: &Supervisor, time: i64| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let maps = supervisor.latest_rasters("maps");
            if maps.iter().all(|m| m.time == time) && maps.len() == 2 {
                return maps;
            }
            assert!(Instant::now() < deadline, "no maps at {time}: {maps:?}");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    for k in 0..3 {
        supervisor.submit_step("maps", k * 100_000, 100_000, Arc::new(TwinSnapshot::new())).unwrap();
        let maps = wait(&supervisor, (k + 1) * 100_000);
        // Layers in the order they first came; within a step the later map of a layer won.
        assert_eq!((maps[0].layer.as_str(), maps[1].layer.as_str()), ("test.index", "test.twice"));
        assert!(maps[0].values.iter().all(|&v| v == -1.0));
        assert_eq!(maps[1].values[0], 2.0 * k as f32);
        let _ = supervisor.drain_updates("maps");
    }
}
