//! Coverage-map benchmark (issue 15): a 512 x 512 grid of 5 m cells (2.56 km square) for 50 sectors
//! with UMa and line of sight decided by 2,500 extruded blocks (a synthetic Manhattan grid of 40 m
//! blocks, 6-45 m tall), natively; against the same map with no buildings in the same run (the
//! share the ray walks cost): the native grid cells x sectors per second.
//!
//! Then the goal, the plugin within 1.5x of native: the rf-coverage component (built by
//! `cargo xtask build-plugins`) run by the plugin host on the same blocks (as the scene's geometry)
//! and 17 sites of 3 sectors (as site entities with their properties), mapping a 512 x 512 grid, against
//! the same map made by the same code compiled natively in this process (the plugin's own sectors,
//! grid and building index: `plugin::sites::sectors`, `plugin::grid_around`). A plugin step here maps
//! again each time (a site's power alternates), and includes reading the sites and handing three maps
//! over; the medians of alternating runs are compared.
//!
//! `cargo bench -p rf-coverage --bench coverage`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs 64 x 64 grids and one plugin step, as a smoke test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rf_coverage::antenna::{Pattern, Pointing};
use rf_coverage::buildings::{Building, Buildings};
use rf_coverage::coverage::{self, Grid, PathLoss, Sector, Settings};
use rf_coverage::plugin::sites::{self, Site, SiteValues};
use rf_coverage::plugin::{INDEX_CELL_M, THRESHOLDS_DBM, config, grid_around};
use sangam_plugins::{
    EngineOptions, EntityTable, LoadedPlugin, ParamValue, PluginEngine, PluginSpec, Role, SdkVersion, SiteGeometry,
    TwinSnapshot,
};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let side = if full { 512 } else { 64 };
    let cell = 2560.0 / side as f64;
    // 50 x 50 blocks of 40 m with 11.2 m streets, heights from a fixed sequence.
    let mut height = 7u64;
    let mut blocks = Vec::new();
    for by in 0..50 {
        for bx in 0..50 {
            height = height.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let (x, y) = (bx as f64 * 51.2, by as f64 * 51.2);
            blocks.push(Building {
                footprint: vec![[x, y], [x + 40.0, y], [x + 40.0, y + 40.0], [x, y + 40.0]],
                base_m: 0.0,
                top_m: 6.0 + (height >> 33) as f64 % 40.0,
            });
        }
    }
    // 17 sites of 3 sectors (50 sectors), masts at 25 m in the streets.
    let sectors: Vec<Sector> = (0..50)
        .map(|i| {
            let site = i / 3;
            Sector {
                id: format!("s{i}"),
                position: [45.6 + (site % 5) as f64 * 512.0, 45.6 + (site / 5) as f64 * 600.0, 25.0],
                pointing: Pointing {
                    azimuth_deg: (i % 3) as f64 * 120.0,
                    mechanical_tilt_deg: 2.0,
                    electrical_tilt_deg: 4.0,
                    pattern: Pattern::ELEMENT,
                },
                tx_power_dbm: 46.0,
                frequency_mhz: if i % 2 == 0 { 1800.0 } else { 2100.0 },
                bandwidth_mhz: 20.0,
            }
        })
        .collect();
    let grid = Grid { origin: [0.0, 0.0], cell_m: cell, columns: side, rows: side, receiver_height_m: 1.5 };
    let settings = Settings { model: PathLoss::Uma, noise_figure_db: 9.0, thresholds_dbm: vec![-100.0, -110.0] };
    let started = Instant::now();
    let city = Buildings::new(blocks, 16.0).expect("blocks");
    let index_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let with = coverage::compute(&sectors, &grid, &city, &settings).expect("map");
    let with_s = started.elapsed().as_secs_f64();
    let open = Buildings::new(Vec::new(), 16.0).expect("none");
    let started = Instant::now();
    let without = coverage::compute(&sectors, &grid, &open, &settings).expect("map");
    let without_s = started.elapsed().as_secs_f64();
    let links = (side * side * sectors.len()) as f64;
    println!(
        "coverage: {side}x{side} cells x {} sectors = {:.1}M links; with 2,500 buildings {:.2} s = {:.2}M links/s \
         ({} LOS, {} NLOS, {} outside UMa's range: roofs above 21 m); without {:.2} s = {:.2}M links/s; ray walks {:.1}x; index {:.1} ms",
        sectors.len(),
        links / 1e6,
        with_s,
        links / with_s / 1e6,
        with.summary.los_links,
        with.summary.nlos_links,
        with.summary.out_of_range_links,
        without_s,
        links / without_s / 1e6,
        with_s / without_s,
        index_s * 1e3
    );
    println!(
        "coverage: area at >= -100 dBm {:.1} % (with buildings) against {:.1} % (without)",
        with.summary.share_at_least[0].1 * 100.0,
        without.summary.share_at_least[0].1 * 100.0
    );
    plugin_against_native(city.buildings(), full);
}

/// The rf-coverage component, as `cargo xtask build-plugins` leaves it.
fn component() -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("wasm32-wasip2/release/rf_coverage.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{} missing ({e}): run `cargo xtask build-plugins`", path.display()))
}

/// The median of `times`.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn plugin_against_native(blocks: &[Building], full: bool) {
    // The blocks span 0 to 2548.8 m: 5 m cells with a 5 m margin make 512 x 512 (64 x 64 of 40 m).
    let (cell, margin) = if full { (5.0, 5.0) } else { (40.0, 5.0) };
    let site_list: Vec<Site> = (0..17)
        .map(|i| Site {
            id: format!("site-{i}"),
            position: [45.6 + (i % 5) as f64 * 512.0, 45.6 + (i / 5) as f64 * 600.0, 0.0],
        })
        .collect();
    // The site properties the plugin reads, one column per property of `sites::PROPERTIES`.
    let columns = |power: f64| -> Vec<Vec<f64>> {
        let n = site_list.len();
        let mut tx = vec![46.0; n];
        tx[0] = power;
        vec![tx, vec![25.0; n], vec![3.0; n], vec![0.0; n], vec![2.0; n], vec![4.0; n], vec![0.0; n]]
    };
    let twin = |power: f64| -> Arc<TwinSnapshot> {
        let mut snapshot = TwinSnapshot::new();
        for (property, values) in sites::PROPERTIES.iter().zip(columns(power)) {
            snapshot.set_numbers(*property, values);
        }
        Arc::new(snapshot)
    };

    // Native: the plugin's own code paths, compiled into this process.
    sangam_sdk::testing::reset();
    sangam_sdk::testing::with_host(|h| {
        h.set_param("cell-size-m", sangam_sdk::ParamValue::Number(cell));
        h.set_param("margin-m", sangam_sdk::ParamValue::Number(margin));
    });
    let settings_config = config::from_params().expect("parameters");
    let mut points: Vec<[f64; 2]> = blocks.iter().flat_map(|b| b.footprint.iter().copied()).collect();
    points.extend(site_list.iter().map(|s| [s.position[0], s.position[1]]));
    let grid = grid_around(&points, margin, cell, 1.5, settings_config.max_cells).expect("grid");
    let index = Buildings::new(blocks.to_vec(), INDEX_CELL_M).expect("index");
    let settings = Settings { model: PathLoss::Uma, noise_figure_db: 9.0, thresholds_dbm: THRESHOLDS_DBM.to_vec() };
    let native_map = |power: f64| {
        let cols = columns(power);
        let values: Vec<SiteValues> = (0..site_list.len()).map(|i| SiteValues::from_columns(&cols, i)).collect();
        let on_air = sites::sectors(&site_list, &values, &settings_config);
        coverage::compute(&on_air.sectors, &grid, &index, &settings).expect("map")
    };

    // The plugin: the same blocks as the scene's geometry, the sites as its entities.
    let mut geometry = SiteGeometry::new();
    for (i, b) in blocks.iter().enumerate() {
        geometry.push_building(&format!("block/{i}"), &b.footprint, b.base_m, b.top_m).expect("block");
    }
    let mut spec = PluginSpec::new("coverage", Role::Simulation, SdkVersion::new(1, 3, 0))
        .param("cell-size-m", ParamValue::Number(cell))
        .param("margin-m", ParamValue::Number(margin));
    spec.capabilities.site_geometry = true;
    spec.geometry = Arc::new(geometry);
    spec.limits.memory_bytes = 512 << 20;
    spec.limits.output_bytes = 64 << 20;
    spec.limits.call_time = Duration::from_secs(120);
    let mut table = EntityTable::default();
    for s in &site_list {
        table.push(s.id.clone(), "telecom.site", s.position);
    }
    spec.entities = table;
    let engine = PluginEngine::new(EngineOptions { max_instances: 2, max_memory_bytes: 1 << 30, ..Default::default() })
        .expect("engine");
    let loaded = LoadedPlugin::load(&engine, spec, &component()).expect("the rf-coverage component loads");
    let mut plugin = loaded.instantiate().expect("init");

    // Alternating runs, each a fresh map (site 0's power changes every time).
    let runs = if full { 5 } else { 1 };
    let (mut native_times, mut plugin_times) = (Vec::new(), Vec::new());
    let mut checked = false;
    for k in 0..runs * 2 {
        let power = if k % 2 == 0 { 46.0 } else { 45.5 };
        let started = Instant::now();
        let native = native_map(power);
        native_times.push(started.elapsed());
        let started = Instant::now();
        plugin.step(k as i64 * 1_000_000, 1_000_000, twin(power)).expect("a plugin step");
        plugin_times.push(started.elapsed());
        let maps = plugin.take_rasters();
        let rsrp = maps.iter().find(|r| r.layer == "radio.rsrp").expect("an RSRP map");
        if !checked {
            // The same map, both ways (wasm and native floating point agree here to f32 rounding).
            let same = rsrp
                .values
                .iter()
                .zip(&native.rsrp_dbm)
                .all(|(a, b)| (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-3);
            assert!(same && rsrp.values.len() == native.rsrp_dbm.len(), "the plugin's map is the native one");
            checked = true;
        }
    }
    let (native, plugin) = (median(native_times), median(plugin_times));
    let links = (grid.columns * grid.rows * 51) as f64;
    println!(
        "coverage plugin: {}x{} cells x 51 sectors = {:.1}M links; native {:.2} s = {:.2}M links/s, plugin {:.2} s = \
         {:.2}M links/s (reading the sites and handing three maps over included): {:.2}x native (goal <= 1.5x); \
         medians of {runs} alternating runs each",
        grid.columns,
        grid.rows,
        links / 1e6,
        native.as_secs_f64(),
        links / native.as_secs_f64() / 1e6,
        plugin.as_secs_f64(),
        links / plugin.as_secs_f64() / 1e6,
        plugin.as_secs_f64() / native.as_secs_f64()
    );
}
