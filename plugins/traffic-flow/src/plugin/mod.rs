//! The simulation-role glue (SDK 1.3): the scene's roads (`geometry`, with the `site-geometry` grant)
//! become the network ([`crate::graph`]); the granted road-segment entities are where demand enters
//! and where results are written.
//!
//! - **Demand.** Each counted segment's live flow (`flow-property`, veh/h over both directions, the
//!   traffic adapter's counts) enters the network where the segment starts, half per direction of a
//!   two-way road, and goes to the network's boundary (the ends of roads at the map's edge), spread
//!   evenly over its ends: the counts say how many, not where to (an assumption of this model, said
//!   here; known trips come from `od`). Every rate is multiplied by `demand-scale`. Trips are routed
//!   again when a count changes by more than 1 veh/h.
//! - **Closures.** `closed` roads are shut from the start: trips reroute, or queue where no route is
//!   left.
//! - **Results**, per granted segment every step, over its links in both directions: `flow.density`
//!   (veh/km), `flow.speed` (km/h, its length over its travel time), `flow.queue` (m of congested
//!   cells), `flow.travel_time` (s, the mean of its directions) and `flow.outflow` (veh/h).
//!
//! Cost per step: the CTM's steps (cells plus links each) in `dt-s` steps of the tick; routing
//! (Dijkstra per origin) only when the demand changes.

pub mod config;

use std::collections::HashMap;

use sangam_sdk::{EntityTable, ParameterSpec, Simulation, Tick, Updates, geometry, twin};

use crate::ctm::Model;
use crate::graph::{self, Oneway, Road, RoadGraph};
use crate::routing::Trip;
use config::Config;

/// Points nearer than this are one node, m.
const SNAP_M: f64 = 0.5;
/// The most model steps one plugin step runs (a long catch-up is cut, not run for ever).
const MAX_STEPS_PER_CALL: u32 = 36_000;
/// A count that changes by more than this routes the trips again, veh/h.
const REROUTE_VPH: f64 = 1.0;

/// The model's state.
pub struct TrafficFlow {
    config: Config,
    model: Model,
    graph: RoadGraph,
    /// Per granted entity: its road's links in the model (none: the entity is not a mapped road).
    links_of: Vec<Vec<usize>>,
    /// Per granted entity: its road's (start, end) nodes.
    ends_of: Vec<Option<(usize, usize)>>,
    entities: Vec<u32>,
    /// Nodes at the map's edge (one neighbour): where counted traffic leaves.
    boundary: Vec<usize>,
    /// Known trips, resolved to nodes, veh/h.
    od: Vec<Trip>,
    last_flows: Vec<f64>,
    carry_s: f64,
}

/// The road's start and end nodes in `graph`: the nodes nearest its first and last points.
fn ends(graph: &RoadGraph, road: &Road) -> Option<(usize, usize)> {
    let nearest = |p: [f64; 2]| {
        graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (i, (n[0] - p[0]).powi(2) + (n[1] - p[1]).powi(2)))
            .filter(|(_, d)| *d <= SNAP_M * SNAP_M * 4.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    Some((nearest(*road.points.first()?)?, nearest(*road.points.last()?)?))
}

/// The nodes with one neighbour.
fn boundary_nodes(graph: &RoadGraph) -> Vec<usize> {
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for l in &graph.links {
        for (a, b) in [(l.from, l.to), (l.to, l.from)] {
            if !neighbours[a].contains(&b) {
                neighbours[a].push(b);
            }
        }
    }
    (0..graph.nodes.len()).filter(|&n| neighbours[n].len() == 1).collect()
}

impl TrafficFlow {
    /// The trips of the counts `flows` (one per granted entity) and the known ones.
    fn trips(&self, flows: &[f64]) -> Vec<Trip> {
        let scale = self.config.demand_scale;
        let mut trips: Vec<Trip> = self.od.iter().map(|t| Trip { rate_vph: t.rate_vph * scale, ..t.clone() }).collect();
        for (e, &q) in flows.iter().enumerate() {
            let Some((start, end)) = self.ends_of[e] else { continue };
            if !(q.is_finite() && q > 0.0) {
                continue;
            }
            let links = &self.links_of[e];
            let forward = links.iter().any(|&l| self.graph.links[l].id.ends_with('+'));
            let backward = links.iter().any(|&l| self.graph.links[l].id.ends_with('-'));
            let origins: Vec<usize> = [(forward, start), (backward, end)].iter().filter(|d| d.0).map(|d| d.1).collect();
            for &origin in &origins {
                let to: Vec<usize> = self.boundary.iter().copied().filter(|&b| b != origin).collect();
                let each = (q * scale / origins.len() as f64 / to.len().max(1) as f64).min(100_000.0);
                trips.extend(to.into_iter().map(|destination| Trip { origin, destination, rate_vph: each }));
            }
        }
        trips
    }
}

impl Simulation for TrafficFlow {
    fn init(entities: EntityTable) -> Result<Self, String> {
        let config = config::from_params()?;
        let roads: Vec<Road> = geometry::roads()
            .into_iter()
            .map(|r| Road {
                oneway: match r.oneway {
                    geometry::Oneway::Forward => Oneway::Forward,
                    geometry::Oneway::Backward => Oneway::Backward,
                    geometry::Oneway::Both => Oneway::from_osm(None, &r.class, None),
                },
                id: r.id,
                points: r.points,
                class: r.class,
                lanes: r.lanes,
                maxspeed_kmh: r.max_speed_kmh,
            })
            .collect();
        let graph = graph::build(&roads, SNAP_M).map_err(|e| format!("the scene's roads: {e}"))?;
        let index: HashMap<&str, usize> = roads.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
        // Each road's links, in one pass over the links.
        let mut road_links: Vec<Vec<usize>> = vec![Vec::new(); roads.len()];
        for (l, &r) in graph.link_roads.iter().enumerate() {
            road_links[r].push(l);
        }
        let mut model = Model::new(graph.nodes.len(), graph.links.clone(), Vec::new(), Vec::new(), config.dt_s)
            .map_err(|e| format!("the road network: {e}"))?;
        let known = |id: &str| -> Result<usize, String> {
            index.get(id).copied().filter(|&r| !road_links[r].is_empty()).ok_or_else(|| {
                format!("`{id}` is not a road cars drive on in this scene (a road segment's entity id, or an OSM way)")
            })
        };
        for id in &config.closed {
            for &l in &road_links[known(id).map_err(|e| format!("parameter `closed`: {e}"))?] {
                model.set_closed(l, true);
            }
        }
        let mut od = Vec::new();
        for (from, to, rate) in &config.od {
            let (f, t) = (known(from), known(to));
            let (f, t) =
                (f.map_err(|e| format!("parameter `od`: {e}"))?, t.map_err(|e| format!("parameter `od`: {e}"))?);
            let (Some((origin, _)), Some((_, destination))) = (ends(&graph, &roads[f]), ends(&graph, &roads[t])) else {
                return Err(format!("parameter `od`: `{from}>{to}`: a road's end is not a node of the network"));
            };
            od.push(Trip { origin, destination, rate_vph: *rate });
        }
        let links_of: Vec<Vec<usize>> = entities
            .ids
            .iter()
            .map(|id| index.get(id.as_str()).map(|&r| road_links[r].clone()).unwrap_or_default())
            .collect();
        let ends_of = entities
            .ids
            .iter()
            .map(|id| {
                index.get(id.as_str()).filter(|&&r| !road_links[r].is_empty()).and_then(|&r| ends(&graph, &roads[r]))
            })
            .collect();
        let unmapped: Vec<&str> =
            entities.ids.iter().zip(&links_of).filter(|(_, l)| l.is_empty()).map(|(id, _)| id.as_str()).collect();
        if !unmapped.is_empty() {
            sangam_sdk::warn!("not roads of the network, left without results: {}", unmapped.join(", "));
        }
        let boundary = boundary_nodes(&graph);
        sangam_sdk::info!(
            "road network of {} roads: {} nodes, {} links, {} ends at the boundary; {} left out (not for cars)",
            roads.len() - graph.skipped.len(),
            graph.nodes.len(),
            graph.links.len(),
            boundary.len(),
            graph.skipped.len()
        );
        let n = entities.ids.len();
        let mut state = TrafficFlow {
            config,
            model,
            graph,
            links_of,
            ends_of,
            entities: entities.indices(),
            boundary,
            od,
            last_flows: vec![f64::NAN; n],
            carry_s: 0.0,
        };
        let trips = state.trips(&vec![0.0; n]);
        state.model.set_trips(trips).map_err(|e| e.to_string())?;
        Ok(state)
    }

    fn step(&mut self, tick: Tick) -> Result<Updates, String> {
        let flows = twin::numbers(&self.config.flow_property, &self.entities);
        let changed = flows.iter().zip(&self.last_flows).any(|(a, b)| match (a.is_finite(), b.is_finite()) {
            (true, true) => (a - b).abs() > REROUTE_VPH,
            (x, y) => x != y,
        });
        if changed {
            let trips = self.trips(&flows);
            self.model.set_trips(trips).map_err(|e| e.to_string())?;
            self.last_flows = flows;
        }
        self.carry_s += tick.dt_seconds().max(0.0);
        let dt = self.config.dt_s;
        let mut steps = 0;
        while self.carry_s >= dt * (1.0 - 1e-9) && steps < MAX_STEPS_PER_CALL {
            self.model.step();
            self.carry_s -= dt;
            steps += 1;
        }
        if steps == MAX_STEPS_PER_CALL {
            self.carry_s = 0.0;
        }
        let mut updates = Updates::new(tick.end());
        for (e, links) in self.links_of.iter().enumerate() {
            if links.is_empty() {
                continue;
            }
            let (mut vehicles, mut km, mut queue, mut outflow) = (0.0, 0.0, 0.0, 0.0);
            let mut per_direction: [(f64, f64); 2] = [(0.0, 0.0); 2];
            for &l in links {
                let spec = &self.graph.links[l];
                let r = self.model.report(l);
                let length_km = spec.length_m / 1000.0;
                vehicles += r.density_vpkm * length_km;
                km += length_km;
                queue += r.queue_m;
                let d = usize::from(spec.id.ends_with('-'));
                per_direction[d].0 += r.travel_time_s;
                per_direction[d].1 += spec.length_m;
                outflow += r.outflow_vph;
            }
            let driven: Vec<&(f64, f64)> = per_direction.iter().filter(|d| d.1 > 0.0).collect();
            let travel_time = driven.iter().map(|d| d.0).sum::<f64>() / driven.len() as f64;
            let length = driven.iter().map(|d| d.1).sum::<f64>() / driven.len() as f64;
            let speed = if travel_time.is_finite() && travel_time > 0.0 { length / travel_time * 3.6 } else { 0.0 };
            let e = e as u32;
            updates.push_number("flow.density", "veh/km", e, vehicles / km);
            updates.push_number("flow.speed", "km/h", e, speed);
            updates.push_number("flow.queue", "m", e, queue);
            // A jammed cell has no finite travel time: written as the time at a crawl of 1 km/h.
            let crawl = length / (1.0 / 3.6);
            updates.push_number("flow.travel_time", "s", e, if travel_time.is_finite() { travel_time } else { crawl });
            updates.push_number("flow.outflow", "veh/h", e, outflow);
        }
        Ok(updates)
    }

    fn parameters() -> Vec<ParameterSpec> {
        config::parameters()
    }
}
