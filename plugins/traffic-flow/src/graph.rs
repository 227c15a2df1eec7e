//! The road network of a scene's mapped roads (OpenStreetMap ways as polylines in the site frame):
//! a node wherever a road ends or two roads (or one road twice) share a point, a link per direction
//! between consecutive nodes along a road.
//!
//! - **Which roads**: those cars drive on (OSM `highway` motorway to residential, their `_link`s,
//!   `living_street`, `service`, `unclassified`); footways, steps, paths, cycleways and the like are
//!   left out and listed ([`RoadGraph::skipped`]).
//! - **Direction**: `oneway = yes / true / 1` one way along the drawing, `-1` against it; motorways and
//!   roundabouts one way; the rest both ways.
//! - **Lanes**: OSM's `lanes` counts both directions of a two-way road, so each direction gets half
//!   (rounded up); without a tag, a class default per direction. **Speed**: `maxspeed`, else a class
//!   default of Indian urban roads (labelled defaults, not measurements). Capacities are
//!   [`Diagram::for_class`]'s.
//! - Points closer than `snap_m` are one point (OSM ways share exact nodes; the snap absorbs rounding).
//!
//! Cost: one hash look-up per point.

use std::collections::HashMap;

use crate::ModelError;
use crate::diagram::Diagram;
use crate::network::LinkSpec;

/// The most points read (over all roads).
pub const MAX_POINTS: usize = 2_000_000;

/// Which way a road may be driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oneway {
    /// Both ways.
    No,
    /// Along the drawing only.
    Forward,
    /// Against the drawing only.
    Backward,
}

/// A mapped road.
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    /// Its id (the OSM way, or the twin entity).
    pub id: String,
    /// Its centre line, site frame (metres east, north).
    pub points: Vec<[f64; 2]>,
    /// OSM `highway`.
    pub class: String,
    /// OSM `oneway` (and `junction = roundabout`), as read.
    pub oneway: Oneway,
    /// OSM `lanes` (both directions of a two-way road).
    pub lanes: Option<u32>,
    /// OSM `maxspeed`, km/h.
    pub maxspeed_kmh: Option<f64>,
}

/// The network of a scene's roads.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadGraph {
    /// Node positions, site frame.
    pub nodes: Vec<[f64; 2]>,
    /// The links, ready for [`crate::ctm::Model::new`].
    pub links: Vec<LinkSpec>,
    /// For each link, the index of the road it comes from.
    pub link_roads: Vec<usize>,
    /// Roads left out, and why.
    pub skipped: Vec<(String, String)>,
}

/// Lanes per direction and speed (km/h) of a class when OSM has no tag.
fn class_defaults(class: &str) -> Option<(u32, f64)> {
    let base = class.strip_suffix("_link").unwrap_or(class);
    let link = base.len() != class.len();
    let (lanes, speed): (u32, f64) = match base {
        "motorway" => (3, 80.0),
        "trunk" => (2, 60.0),
        "primary" => (2, 50.0),
        "secondary" => (1, 40.0),
        "tertiary" => (1, 40.0),
        "unclassified" | "residential" => (1, 30.0),
        "living_street" => (1, 15.0),
        "service" => (1, 20.0),
        _ => return None,
    };
    Some(if link { (1, speed.min(40.0)) } else { (lanes, speed) })
}

impl Oneway {
    /// Reads OSM's `oneway`, with the class and `junction` (motorways and roundabouts are one way).
    pub fn from_osm(oneway: Option<&str>, class: &str, junction: Option<&str>) -> Oneway {
        match oneway {
            Some("yes" | "true" | "1") => Oneway::Forward,
            Some("-1" | "reverse") => Oneway::Backward,
            Some("no" | "false" | "0") => Oneway::No,
            _ if class == "motorway" || junction == Some("roundabout") => Oneway::Forward,
            _ => Oneway::No,
        }
    }
}

/// Builds the network of `roads`, points within `snap_m` (0.01-5 m) being one.
pub fn build(roads: &[Road], snap_m: f64) -> Result<RoadGraph, ModelError> {
    if !(0.01..=5.0).contains(&snap_m) {
        return Err(ModelError::Invalid(format!("a snap of {snap_m} m is outside 0.01 to 5 m")));
    }
    let total: usize = roads.iter().map(|r| r.points.len()).sum();
    if total > MAX_POINTS {
        return Err(ModelError::Invalid(format!("{total} road points is over the {MAX_POINTS} the model takes")));
    }
    let key = |p: [f64; 2]| ((p[0] / snap_m).round() as i64, (p[1] / snap_m).round() as i64);
    let mut skipped = Vec::new();
    let mut driven = Vec::new();
    for (i, r) in roads.iter().enumerate() {
        if class_defaults(&r.class).is_none() {
            skipped.push((r.id.clone(), format!("`{}` is not a road for cars", r.class)));
        } else if r.points.len() < 2 || !r.points.iter().flatten().all(|v| v.is_finite()) {
            skipped.push((r.id.clone(), "fewer than two points, or a point that is not a number".into()));
        } else {
            driven.push(i);
        }
    }
    // How often each point is used, and which are ends.
    let mut uses: HashMap<(i64, i64), u32> = HashMap::new();
    for &i in &driven {
        let pts = &roads[i].points;
        for (n, &p) in pts.iter().enumerate() {
            let weight = if n == 0 || n == pts.len() - 1 { 2 } else { 1 };
            *uses.entry(key(p)).or_default() += weight;
        }
    }
    // A piece that would leave a node and come back to it (a loop road, a cul-de-sac ring) gets a
    // node at its middle point, so that it becomes two links instead of none.
    for &i in &driven {
        let pts = &roads[i].points;
        let mut last = 0;
        for j in 1..pts.len() {
            if uses.get(&key(pts[j])).copied().unwrap_or(0) < 2 {
                continue;
            }
            if key(pts[j]) == key(pts[last]) && j > last + 1 {
                *uses.entry(key(pts[(last + j) / 2])).or_default() += 2;
            }
            last = j;
        }
    }
    let mut node_of: HashMap<(i64, i64), usize> = HashMap::new();
    let mut nodes = Vec::new();
    let mut node = |p: [f64; 2]| {
        *node_of.entry(key(p)).or_insert_with(|| {
            nodes.push(p);
            nodes.len() - 1
        })
    };
    let (mut links, mut link_roads) = (Vec::new(), Vec::new());
    for &i in &driven {
        let r = &roads[i];
        let (default_lanes, default_speed) = class_defaults(&r.class).unwrap_or((1, 30.0));
        let lanes = match (r.lanes, r.oneway) {
            (Some(l), Oneway::No) => l.div_ceil(2).max(1),
            (Some(l), _) => l.max(1),
            (None, _) => default_lanes,
        }
        .min(12);
        let speed = r.maxspeed_kmh.filter(|s| (5.0..=150.0).contains(s)).unwrap_or(default_speed);
        let base = r.class.strip_suffix("_link").unwrap_or(&r.class);
        let diagram = Diagram::for_class(base, speed);
        let mut start = node(r.points[0]);
        let mut length = 0.0;
        let mut piece = 0;
        for w in r.points.windows(2) {
            length += ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt();
            let k = key(w[1]);
            if uses.get(&k).copied().unwrap_or(0) < 2 {
                continue; // an inner point of this road only
            }
            let end = node(w[1]);
            if end != start {
                // A piece under a metre (two nodes a hair apart) is given the model's shortest link.
                let length_m = length.max(1.0);
                let id = format!("{}#{piece}", r.id);
                if r.oneway != Oneway::Backward {
                    links.push(LinkSpec { id: format!("{id}+"), from: start, to: end, length_m, lanes, diagram });
                    link_roads.push(i);
                }
                if r.oneway != Oneway::Forward {
                    links.push(LinkSpec { id: format!("{id}-"), from: end, to: start, length_m, lanes, diagram });
                    link_roads.push(i);
                }
                piece += 1;
            }
            start = end;
            length = 0.0;
        }
    }
    Ok(RoadGraph { nodes, links, link_roads, skipped })
}
