//! `sangam export SCENE --layer roads|points [--recording FILE --at T] -o FILE.geojson`: the twin's
//! values for GIS tools (QGIS, GDAL/OGR): road segments as lines, sited entities (sites, cells,
//! buildings) as points, each with its numeric properties and units at the time asked for: the
//! scene's own values, or those of a recording at `--at` (time travel, as `render --at`).
//!
//! Raster layers (a coverage map as GeoTIFF, `sangam_export::geotiff`) come with the planning
//! plugins that compute them; asking for one now says so.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sangam_export::geojson::{self, Layer};
use sangam_twin::{Scene as TwinScene, TwinStore};

/// Writes `layer` of `scene` to `output`.
pub fn export(scene: &Path, layer: &str, recording: Option<(&Path, Duration)>, output: &Path) -> Result<()> {
    let layer = match layer {
        "roads" => Layer::Roads,
        "points" => Layer::Points,
        "coverage" => bail!(
            "--layer coverage: no plugin of this build computes a coverage raster yet (the rf-coverage models \
             are a library until the SDK's raster output lands); use --layer roads or points"
        ),
        other => bail!("--layer {other}: use roads (road segments as lines) or points (sites, cells, buildings)"),
    };
    match output.extension().and_then(|e| e.to_str()) {
        Some("geojson" | "json") => {}
        _ => bail!("-o {}: a vector layer is written as GeoJSON; name the file .geojson", output.display()),
    }
    let twin = TwinScene::load(scene)?;
    let start = twin.clock.build()?.start();
    let count;
    let collection = match recording {
        Some((file, at)) => {
            let session = sangam_session::Session::time_travel(&twin, file, at)?;
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
