//! The scene's site geometry as plugins get it (SDK 1.3 `geometry`, with the `site-geometry` grant):
//! every layer's building footprints and road centre lines, in file order, each named by the twin
//! entity linked to its feature where the scene declares one (`feature = "way/123"`), else by the
//! feature id.
//!
//! Built when a plugin granted it is loaded (restarts reuse it). Cost: one pass over the layers'
//! points and one map of linked feature ids; the demo site's 2,400 buildings and 600 roads take a
//! few milliseconds.

use std::collections::HashMap;

use sangam_plugins::SiteGeometry;
use sangam_plugins::geometry::{GeometryError, Oneway, RoadLine};
use sangam_twin::{EntityLink, Scene as TwinScene};
use serde_json::Value;

/// The scene's buildings and roads in the site frame. A site past the geometry's cap of points hands
/// over the first ones and says so in the log.
pub fn site_geometry(twin: &TwinScene) -> SiteGeometry {
    let linked: HashMap<&str, &str> = twin
        .entities
        .iter()
        .filter_map(|e| match &e.link {
            Some(EntityLink::Feature(f)) => Some((f.as_str(), e.id.as_str())),
            _ => None,
        })
        .collect();
    let name = |feature: &str| linked.get(feature).copied().unwrap_or(feature).to_owned();
    let mut geometry = SiteGeometry::new();
    let keep = |result: Result<(), GeometryError>| match result {
        Ok(()) => true,
        Err(GeometryError::TooLarge) => {
            let cap = sangam_plugins::geometry::MAX_GEOMETRY_POINTS;
            tracing::warn!("the scene's geometry is over {cap} points: plugins get the first ones");
            false
        }
        Err(error) => {
            tracing::warn!(%error, "left out of the geometry plugins get");
            true
        }
    };
    'layers: for layer in &twin.layers {
        for b in &layer.buildings {
            let ring: Vec<[f64; 2]> = b.outer.iter().map(|p| [p.x, p.y]).collect();
            let top = b.base_m + b.height_m;
            if !keep(geometry.push_building(&name(&b.feature_id), &ring, b.base_m, top)) {
                break 'layers;
            }
        }
        for r in &layer.roads {
            let points: Vec<[f64; 2]> = r.points.iter().map(|p| [p.x, p.y]).collect();
            let tag = |key: &str| r.properties.get(key).and_then(Value::as_str);
            let road = RoadLine {
                id: &name(&r.feature_id),
                points: &points,
                class: &r.class,
                oneway: Oneway::from_osm(tag("oneway")),
                lanes: tag("lanes").and_then(|l| l.trim().parse().ok()).filter(|&l| l > 0 && l <= 64),
                max_speed_kmh: tag("maxspeed").and_then(max_speed_kmh),
                width_m: r.width_m,
            };
            if !keep(geometry.push_road(road)) {
                break 'layers;
            }
        }
    }
    geometry
}

/// OpenStreetMap `maxspeed` in km/h: a number (km/h) or a number with ` mph`; anything else (`none`,
/// `walk`, zone codes such as `IN:urban`) is not a mapped speed.
fn max_speed_kmh(tag: &str) -> Option<f64> {
    let tag = tag.trim();
    let (number, factor) = match tag.strip_suffix("mph") {
        Some(n) => (n.trim(), 1.609_344),
        None => (tag.strip_suffix("km/h").unwrap_or(tag).trim(), 1.0),
    };
    number.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0 && *v <= 300.0).map(|v| v * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_speeds_are_read_in_km_per_hour() {
        assert_eq!(max_speed_kmh("50"), Some(50.0));
        assert_eq!(max_speed_kmh("40 km/h"), Some(40.0));
        assert!((max_speed_kmh("30 mph").unwrap() - 48.28).abs() < 0.01);
        assert_eq!(max_speed_kmh("IN:urban"), None);
        assert_eq!(max_speed_kmh("none"), None);
        assert_eq!(max_speed_kmh("-5"), None);
    }
}
