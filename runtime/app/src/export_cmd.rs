//! `sangam export SCENE --layer LAYER -o FILE`: the twin for GIS tools (QGIS, GDAL/OGR).
//!
//! - **Vector layers** (`roads`, `points`; GeoJSON): road segments as lines, sited entities (sites,
//!   cells, buildings) as points, each with its numeric properties and units at the time asked for:
//!   the scene's own values, or those of a recording at `--at` (time travel, as `render --at`).
//! - **Map layers** (GeoTIFF, [`sangam_export::geotiff`]): a simulation's map of the site (SDK 1.3
//!   `output.raster`), computed by running the scene's plugins headless (with `--scenario` / `--set`)
//!   until the map comes: `coverage` (the first plugin's `radio.rsrp`, dBm), `sinr` (`radio.sinr`),
//!   `best-site` (`radio.best_site`), or any map as `PLUGIN:LAYER`. Its data sources are not started:
//!   the map is of the scene as written (and the scenario).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sangam_export::geojson::{self, Layer};
use sangam_session::Session;
use sangam_twin::{Scene as TwinScene, TwinStore};

/// How long a map export waits for the plugins' map, wall time.
pub const MAP_WAIT: Duration = Duration::from_secs(120);
/// The tick period of the headless run.
const TICK: Duration = Duration::from_millis(10);

/// Which map a map layer names: `(plugin, layer)`, the plugin `None` for the first that has it.
fn map_layer(layer: &str) -> Option<(Option<&str>, &str)> {
    match layer {
        "coverage" => Some((None, "radio.rsrp")),
        "sinr" => Some((None, "radio.sinr")),
        "best-site" => Some((None, "radio.best_site")),
        other => other.split_once(':').filter(|(p, l)| !p.is_empty() && !l.is_empty()).map(|(p, l)| (Some(p), l)),
    }
}

/// Writes `layer` of `scene` to `output`.
pub fn export(
    scene: &Path,
    layer: &str,
    recording: Option<(&Path, Duration)>,
    scenario: &sangam::scenario::ScenarioChoice,
    output: &Path,
) -> Result<()> {
    if let Some((plugin, map)) = map_layer(layer) {
        if recording.is_some() {
            bail!("--layer {layer}: maps are not recorded (a recording holds the twin's values); drop --recording");
        }
        return export_map(scene, plugin, map, scenario, output);
    }
    let layer = match layer {
        "roads" => Layer::Roads,
        "points" => Layer::Points,
        other => bail!(
            "--layer {other}: use roads or points (GeoJSON), coverage, sinr, best-site or PLUGIN:LAYER (a \
             simulation's map, GeoTIFF)"
        ),
    };
    if !scenario.is_empty() {
        bail!(
            "--scenario and --set change plugins' parameters: they apply to map layers, not to --layer roads or points"
        );
    }
    match output.extension().and_then(|e| e.to_str()) {
        Some("geojson" | "json") => {}
        _ => bail!("-o {}: a vector layer is written as GeoJSON; name the file .geojson", output.display()),
    }
    let twin = TwinScene::load(scene)?;
    let start = twin.clock.build()?.start();
    let count;
    let collection = match recording {
        Some((file, at)) => {
            let session = Session::time_travel(&twin, file, at)?;
            let value = geojson::collection(&twin, session.store(), layer, session.display_time(), start);
            count = value["features"].as_array().map_or(0, Vec::len);
            value
        }
        None => {
            let mut store = TwinStore::new();
            for e in &twin.entities {
                store.add_entity(start, e.clone()).with_context(|| format!("entity `{}`", e.id))?;
            }
            let value = geojson::collection(&twin, &store, layer, start, start);
            count = value["features"].as_array().map_or(0, Vec::len);
            value
        }
    };
    let text = serde_json::to_string_pretty(&collection)?;
    std::fs::write(output, text).with_context(|| format!("cannot write {}", output.display()))?;
    println!("export: {count} features to {}", output.display());
    Ok(())
}

/// Runs the scene's plugins until `map` of `plugin` (the first plugin with it when `None`) comes,
/// then writes it as a GeoTIFF.
fn export_map(
    scene: &Path,
    plugin: Option<&str>,
    map: &str,
    scenario: &sangam::scenario::ScenarioChoice,
    output: &Path,
) -> Result<()> {
    match output.extension().and_then(|e| e.to_str()) {
        Some("tif" | "tiff") => {}
        _ => bail!("-o {}: a map is written as GeoTIFF; name the file .tif", output.display()),
    }
    let mut twin = TwinScene::load(scene)?;
    let chosen = sangam::scenario::apply(&mut twin, scenario)?;
    if let Some(p) = plugin
        && !twin.plugins.iter().any(|d| d.id == p)
    {
        let known: Vec<&str> = twin.plugins.iter().map(|d| d.id.as_str()).collect();
        bail!("--layer {p}:{map}: `{p}` is not a plugin of this scene (its plugins: {})", known.join(", "));
    }
    let mut session = Session::load(&twin)?;
    let started = Instant::now();
    let mut previous = started;
    let (id, r) = loop {
        let now = Instant::now();
        session.tick(now - previous);
        previous = now;
        let found = session
            .rasters()
            .find(|(id, r)| plugin.is_none_or(|p| p == *id) && r.layer == map)
            .map(|(id, r)| (id.to_string(), Arc::clone(r)));
        if let Some(found) = found {
            break found;
        }
        if let Some(fault) = session.plugins().recent_faults().last() {
            bail!("no map `{map}`: {fault}");
        }
        if started.elapsed() > MAP_WAIT {
            bail!(
                "no plugin of this scene handed over a map `{map}` within {} s (a simulation with `output.raster`, SDK \
                 1.3, makes it; `sangam plugin check` shows a plugin's SDK)",
                MAP_WAIT.as_secs()
            );
        }
        std::thread::sleep(TICK);
    };
    let description = match &chosen {
        Some(c) => format!("{map} of plugin {id}, {c}"),
        None => format!("{map} of plugin {id}, the scene as written"),
    };
    let tif = sangam_export::geotiff::Raster {
        origin_m: [r.origin[0], r.origin[1]],
        cell_m: r.cell_size,
        columns: r.columns,
        rows: r.rows,
        values: &r.values,
        unit: &r.unit,
        description: &description,
    };
    sangam_export::geotiff::write(output, &tif, &twin.origin)?;
    let with_data = r.values.iter().filter(|v| !v.is_nan()).count();
    println!(
        "export: {map} of `{id}`, {} x {} cells of {} m ({with_data} with data), {} to {}",
        r.columns,
        r.rows,
        r.cell_size,
        r.unit,
        output.display()
    );
    Ok(())
}
