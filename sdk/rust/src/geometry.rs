//! The scene's mapped site geometry (since SDK 1.3): building footprints and road centre lines in the
//! site frame (metres east and north of the scene origin), for models that need the site itself (line
//! of sight through buildings, a road graph).
//!
//! Both calls copy the whole geometry into the plugin (one host call, one unit of host work per
//! point): call them once, in `init`, and keep what you need. They need the `site-geometry` grant
//! (`[capabilities] site-geometry = true` in `plugin.toml`, `grant = ["site-geometry"]` in the scene);
//! without it the runtime stops the plugin and says which grant is missing.
//!
//! ```
//! use sangam_sdk::geometry::{self, Building};
//! use sangam_sdk::testing;
//!
//! testing::reset();
//! testing::with_host(|h| h.set_buildings(&[Building {
//!     id: "way/1".into(),
//!     ring: vec![[0.0, 0.0], [20.0, 0.0], [20.0, 10.0], [0.0, 10.0]],
//!     base_m: 0.0,
//!     top_m: 24.0,
//! }]));
//! let buildings = geometry::buildings();
//! assert_eq!(buildings[0].ring.len(), 4);
//! assert_eq!(buildings[0].top_m, 24.0);
//! ```

use crate::__bindings::simulation::sangam::plugin::geometry as wit;

pub use wit::Oneway;

/// A building footprint extruded between two heights.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// The twin entity's id where the scene declares one, else the GeoJSON feature id.
    pub id: String,
    /// The outer ring, counter-clockwise seen from above, not closed, at least 3 points.
    pub ring: Vec<[f64; 2]>,
    /// Bottom of the extrusion, metres above the ground plane.
    pub base_m: f64,
    /// Top (the roof), metres above the ground plane.
    pub top_m: f64,
}

/// A road centre line with its mapped tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    /// The twin entity's id where the scene declares one, else the GeoJSON feature id.
    pub id: String,
    /// The centre line, at least 2 distinct points.
    pub points: Vec<[f64; 2]>,
    /// OpenStreetMap `highway`, e.g. `primary`.
    pub class: String,
    /// The mapped `oneway` (a motorway or roundabout without a tag is `Both`: decide what the class
    /// implies in the model).
    pub oneway: Oneway,
    /// OpenStreetMap `lanes` (both directions), if mapped.
    pub lanes: Option<u32>,
    /// OpenStreetMap `maxspeed` in km/h, if mapped.
    pub max_speed_kmh: Option<f64>,
    /// Carriageway width, metres.
    pub width_m: f64,
}

/// Splits flat `x, y` pairs at `starts` (offsets in points, `n + 1` of them); a range the list does
/// not hold gives an empty line rather than a panic.
fn lines(points: &[f64], starts: &[u32]) -> Vec<Vec<[f64; 2]>> {
    starts
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0] as usize * 2, w[1] as usize * 2);
            points.get(a..b).map_or_else(Vec::new, |xy| xy.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
        })
        .collect()
}

/// The scene's buildings, in scene order.
pub fn buildings() -> Vec<Building> {
    let raw = crate::host::buildings();
    let rings = lines(&raw.points, &raw.ring_starts);
    raw.ids
        .into_iter()
        .zip(rings)
        .zip(raw.bases.iter().zip(&raw.tops))
        .map(|((id, ring), (&base_m, &top_m))| Building { id, ring, base_m, top_m })
        .collect()
}

/// The scene's roads, in scene order.
pub fn roads() -> Vec<Road> {
    let raw = crate::host::roads();
    let centre_lines = lines(&raw.points, &raw.line_starts);
    let (classes, oneway, lanes, speeds, widths) = (raw.classes, raw.oneway, raw.lanes, raw.max_speeds, raw.widths);
    raw.ids
        .into_iter()
        .zip(centre_lines)
        .zip(classes)
        .enumerate()
        .map(|(i, ((id, points), class))| Road {
            id,
            points,
            class,
            oneway: oneway.get(i).copied().unwrap_or(Oneway::Both),
            lanes: lanes.get(i).copied().filter(|&l| l > 0),
            max_speed_kmh: speeds.get(i).copied().filter(|v| v.is_finite()),
            width_m: widths.get(i).copied().unwrap_or(0.0),
        })
        .collect()
}

/// The flat form the host hands over, built from `buildings` (for the stand-in runtime).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn flat_buildings(buildings: &[Building]) -> wit::SiteBuildings {
    let mut out = wit::SiteBuildings { ids: vec![], ring_starts: vec![0], points: vec![], bases: vec![], tops: vec![] };
    for b in buildings {
        out.ids.push(b.id.clone());
        out.points.extend(b.ring.iter().flatten());
        out.ring_starts.push((out.points.len() / 2) as u32);
        out.bases.push(b.base_m);
        out.tops.push(b.top_m);
    }
    out
}

/// The flat form the host hands over, built from `roads` (for the stand-in runtime).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn flat_roads(roads: &[Road]) -> wit::SiteRoads {
    let mut out = wit::SiteRoads {
        ids: vec![],
        line_starts: vec![0],
        points: vec![],
        classes: vec![],
        oneway: vec![],
        lanes: vec![],
        max_speeds: vec![],
        widths: vec![],
    };
    for r in roads {
        out.ids.push(r.id.clone());
        out.points.extend(r.points.iter().flatten());
        out.line_starts.push((out.points.len() / 2) as u32);
        out.classes.push(r.class.clone());
        out.oneway.push(r.oneway);
        out.lanes.push(r.lanes.unwrap_or(0));
        out.max_speeds.push(r.max_speed_kmh.unwrap_or(f64::NAN));
        out.widths.push(r.width_m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roads_round_trip_through_the_flat_lists_with_unmapped_tags_as_none() {
        crate::testing::reset();
        let roads = vec![
            Road {
                id: "way/1".into(),
                points: vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]],
                class: "primary".into(),
                oneway: Oneway::Forward,
                lanes: Some(3),
                max_speed_kmh: Some(50.0),
                width_m: 10.0,
            },
            Road {
                id: "way/2".into(),
                points: vec![[0.0, 0.0], [0.0, -40.0]],
                class: "residential".into(),
                oneway: Oneway::Both,
                lanes: None,
                max_speed_kmh: None,
                width_m: 6.0,
            },
        ];
        crate::testing::with_host(|h| h.set_roads(&roads));
        assert_eq!(super::roads(), roads);
    }

    #[test]
    fn an_offset_past_the_points_gives_an_empty_line_not_a_panic() {
        assert_eq!(lines(&[0.0, 0.0, 1.0, 1.0], &[0, 2, 5]), vec![vec![[0.0, 0.0], [1.0, 1.0]], vec![]]);
    }
}
