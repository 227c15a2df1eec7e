//! The cell transmission model against textbook traffic flow: a bottleneck's queue grows and
//! discharges at the shock-wave speeds of the triangular fundamental diagram; vehicles are
//! conserved to rounding through merges, diverges, signals and closures; a closed road reroutes
//! traffic or, with no other way, queues it; a FIFO diverge holds both branches to the slower one;
//! a signal passes its green share of capacity.
//!
//! Every road here: 90 km/h, 1800 veh/h per lane, 150 veh/km per lane jam density, so the critical
//! density is 20 veh/km per lane and the backward wave 1800 / 130 = 13.85 km/h. Step 2 s: 50 m cells.

use traffic_flow::ctm::Model;
use traffic_flow::diagram::Diagram;
use traffic_flow::network::{LinkSpec, SignalPlan};
use traffic_flow::routing::Trip;

const ROAD: Diagram = Diagram { free_speed_kmh: 90.0, capacity_vph: 1800.0, jam_density_vpkm: 150.0 };

fn link(id: &str, from: usize, to: usize, length_m: f64, lanes: u32) -> LinkSpec {
    LinkSpec { id: id.into(), from, to, length_m, lanes, diagram: ROAD }
}

fn trip(origin: usize, destination: usize, rate_vph: f64) -> Trip {
    Trip { origin, destination, rate_vph }
}

fn run_until(model: &mut Model, t_s: f64) {
    while model.time_s() < t_s - 1e-9 {
        model.step();
        let t = model.totals();
        let imbalance = t.arrived - t.waiting - t.on_links - t.exited;
        assert!(imbalance.abs() < 1e-6 * t.arrived.max(1.0), "vehicles not conserved at {} s: {t:?}", model.time_s());
    }
}

/// Mean outflow (veh/h) of link `l` over `seconds` from now.
fn mean_outflow(model: &mut Model, l: usize, seconds: f64) -> f64 {
    let (start, mut sum, mut steps) = (model.time_s(), 0.0, 0);
    while model.time_s() < start + seconds - 1e-9 {
        run_until(model, model.time_s() + 2.0);
        sum += model.report(l).outflow_vph;
        steps += 1;
    }
    sum / steps as f64
}

#[test]
fn a_bottleneck_queue_grows_and_discharges_at_the_shock_wave_speeds() {
    // 3 lanes for 5 km, then 2 lanes: 5000 veh/h arrive, 3600 veh/h pass.
    let mut m = Model::new(
        3,
        vec![link("A", 0, 1, 5000.0, 3), link("B", 1, 2, 1000.0, 2)],
        vec![],
        vec![trip(0, 2, 5000.0)],
        2.0,
    )
    .unwrap();
    // The first vehicles reach the bottleneck after 5 km at 90 km/h: 200 s. The queue (3600 veh/h at
    // 450 - 3600 / 13.85 = 190 veh/km) meets the arrivals (5000 veh/h at 55.6 veh/km): its tail moves
    // upstream at (5000 - 3600) / (55.6 - 190) = -10.42 km/h, so at 800 s it is 1.74 km long.
    run_until(&mut m, 800.0);
    let a = m.report(0);
    assert!((a.queue_m - 1737.0).abs() <= 100.0, "queue {} m, want 1737 m (two cells)", a.queue_m);
    let b = m.report(1);
    assert!((b.outflow_vph - 3600.0).abs() <= 36.0, "the bottleneck discharges {} veh/h, want 3600", b.outflow_vph);
    let link_a = &m.links()[0];
    let in_queue = link_a.vehicles[link_a.vehicles.len() - 15] / (link_a.cell_m / 1000.0);
    assert!((in_queue - 190.0).abs() < 2.0, "queue density {in_queue} veh/km, want 190");
    // Demand falls to 2000 veh/h. Its front meets the tail after 117 s, 2.08 km upstream; the tail
    // then moves downstream at (2000 - 3600) / (22.2 - 190) = +9.54 km/h: gone at about 1701 s.
    m.set_trips(vec![trip(0, 2, 2000.0)]).unwrap();
    run_until(&mut m, 1640.0);
    assert!(m.report(0).queue_m > 0.0, "still queued at 1640 s");
    run_until(&mut m, 1760.0);
    assert_eq!(m.report(0).queue_m, 0.0, "the queue is gone by 1760 s");
    assert!(m.report(0).speed_kmh > 89.0, "free flow again: {:?}", m.report(0));
}

#[test]
fn a_closed_road_reroutes_or_with_no_other_way_queues() {
    // Two ways from 0 to 3: P + R (2 km, the shorter) or Q1 + Q2 (3 km).
    let links = vec![
        link("P", 0, 1, 1000.0, 1),
        link("R", 1, 3, 1000.0, 1),
        link("Q1", 0, 2, 1500.0, 1),
        link("Q2", 2, 3, 1500.0, 1),
    ];
    let mut m = Model::new(4, links, vec![], vec![trip(0, 3, 1000.0)], 2.0).unwrap();
    run_until(&mut m, 600.0);
    assert_eq!(m.routes()[0], Some(vec![0, 1]));
    assert!((m.report(1).outflow_vph - 1000.0).abs() < 10.0 && m.report(3).outflow_vph == 0.0);
    let stuck = m.links()[0].total();
    m.set_closed(0, true);
    assert_eq!(m.routes()[0], Some(vec![2, 3]), "rerouted over Q1 and Q2");
    let q2 = mean_outflow(&mut m, 3, 600.0);
    assert!(q2 > 500.0, "the detour carries the flow once filled: {q2}");
    run_until(&mut m, 2400.0);
    assert!((m.report(3).outflow_vph - 1000.0).abs() < 10.0, "{:?}", m.report(3));
    assert!((m.links()[0].total() - stuck).abs() < 1e-9, "vehicles on the closed road stay there");
    // Close the detour too: no way left. New trips wait at the origin (stranded, counted); those on
    // Q1 queue at its end, filling it from the closure back at jam density.
    m.set_closed(3, true);
    assert_eq!(m.routes()[0], None);
    let before = m.totals().stranded;
    run_until(&mut m, 3000.0);
    assert!((m.totals().stranded - before - 1000.0 * 600.0 / 3600.0).abs() < 1e-6, "{:?}", m.totals());
    let q1 = &m.links()[2];
    let last = q1.vehicles[q1.vehicles.len() - 1] / (q1.cell_m / 1000.0);
    assert!((last - 150.0).abs() < 1.0, "jammed at the closure: {last} veh/km");
    assert_eq!(m.report(2).outflow_vph, 0.0);
    assert!(m.report(2).queue_m > 0.0);
}

#[test]
fn a_fifo_diverge_holds_both_branches_to_the_slower_one() {
    // 3000 veh/h split evenly onto X (1800 veh/h) and Y, a 600 veh/h lane: the vehicles for Y block
    // those behind them, so X gets 600 veh/h too, not 1500 (Daganzo's FIFO diverge).
    let slow = Diagram { capacity_vph: 600.0, jam_density_vpkm: 150.0, free_speed_kmh: 90.0 };
    let links = vec![
        link("U", 0, 1, 2000.0, 2),
        link("X", 1, 2, 1000.0, 1),
        LinkSpec { diagram: slow, ..link("Y", 1, 3, 1000.0, 1) },
    ];
    let mut m = Model::new(4, links, vec![], vec![trip(0, 2, 1500.0), trip(0, 3, 1500.0)], 2.0).unwrap();
    run_until(&mut m, 1200.0);
    let (x, y) = (mean_outflow(&mut m, 1, 300.0), mean_outflow(&mut m, 2, 300.0));
    assert!((y - 600.0).abs() < 12.0 && (x - 600.0).abs() < 12.0, "X {x}, Y {y} veh/h");
    assert!(m.report(0).queue_m > 0.0, "the upstream link queues");
}

#[test]
fn a_merge_shares_capacity_by_demand_and_a_signal_passes_its_green_share() {
    let links = vec![link("L", 0, 2, 1000.0, 1), link("M", 1, 2, 1000.0, 1), link("O", 2, 3, 1000.0, 1)];
    let mut m = Model::new(4, links, vec![], vec![trip(0, 3, 1200.0), trip(1, 3, 1200.0)], 2.0).unwrap();
    run_until(&mut m, 1200.0);
    let (l, mm, o) = (mean_outflow(&mut m, 0, 300.0), mean_outflow(&mut m, 1, 300.0), mean_outflow(&mut m, 2, 300.0));
    assert!((o - 1800.0).abs() < 18.0, "the merge is full: {o}");
    assert!((l - 900.0).abs() < 18.0 && (mm - 900.0).abs() < 18.0, "shared evenly: {l} and {mm}");
    // A fixed-time signal, 30 s green of a 60 s cycle: at most half of 1800 veh/h passes.
    let signal = SignalPlan { node: 1, phases: vec![(vec![0], 30.0), (vec![], 30.0)], offset_s: 0.0 };
    let corridor = vec![link("A", 0, 1, 1000.0, 1), link("B", 1, 2, 1000.0, 1)];
    let mut saturated = Model::new(3, corridor.clone(), vec![signal.clone()], vec![trip(0, 2, 1200.0)], 2.0).unwrap();
    run_until(&mut saturated, 1200.0);
    let passed = mean_outflow(&mut saturated, 1, 1200.0);
    assert!((passed - 900.0).abs() < 18.0, "green share x capacity: {passed}");
    assert!(saturated.report(0).queue_m > 300.0, "the queue grows: {:?}", saturated.report(0));
    let mut light = Model::new(3, corridor, vec![signal], vec![trip(0, 2, 600.0)], 2.0).unwrap();
    run_until(&mut light, 1200.0);
    let passed = mean_outflow(&mut light, 1, 1200.0);
    assert!((passed - 600.0).abs() < 12.0, "all of an unsaturated demand: {passed}");
}

#[test]
fn vehicles_are_conserved_through_a_busy_network_with_closures() {
    // A 4 x 4 grid of two-way links, signals at the inner nodes, trips between the corners; roads
    // close and open while it runs. run_until checks conservation every step.
    let id = |x: usize, y: usize| y * 4 + x;
    let mut links = Vec::new();
    for y in 0..4 {
        for x in 0..4 {
            for (dx, dy) in [(1, 0), (0, 1)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 4 && ny < 4 {
                    let lanes = 1 + ((x + y) % 2) as u32;
                    links.push(link(&format!("{x}{y}>{nx}{ny}"), id(x, y), id(nx, ny), 400.0 + 50.0 * x as f64, lanes));
                    links.push(link(&format!("{nx}{ny}>{x}{y}"), id(nx, ny), id(x, y), 400.0 + 50.0 * y as f64, lanes));
                }
            }
        }
    }
    let into = |node: usize| -> Vec<usize> {
        links.iter().enumerate().filter(|(_, l)| l.to == node).map(|(i, _)| i).collect()
    };
    let signals: Vec<SignalPlan> = [5, 6, 9, 10]
        .iter()
        .map(|&n| {
            let incoming = into(n);
            let (a, b) = incoming.split_at(incoming.len() / 2);
            SignalPlan { node: n, phases: vec![(a.to_vec(), 25.0), (b.to_vec(), 20.0)], offset_s: n as f64 }
        })
        .collect();
    let trips = vec![trip(0, 15, 900.0), trip(15, 0, 700.0), trip(3, 12, 800.0), trip(12, 3, 600.0), trip(0, 3, 400.0)];
    let mut m = Model::new(16, links, signals, trips, 1.0).unwrap();
    for (t, link, closed) in [(300.0, 4, true), (600.0, 17, true), (900.0, 4, false), (1200.0, 30, true)] {
        run_until(&mut m, t);
        m.set_closed(link, closed);
    }
    run_until(&mut m, 1800.0);
    let t = m.totals();
    assert!(t.exited > 1000.0 && t.on_links > 10.0, "traffic flowed: {t:?}");
}

#[test]
fn bad_networks_and_demands_are_refused_with_the_link_and_the_range() {
    let e = Model::new(2, vec![link("A", 0, 5, 100.0, 1)], vec![], vec![], 2.0).unwrap_err().to_string();
    assert!(e.contains("link `A`") && e.contains("the network has 2"), "{e}");
    let fast_wave = Diagram { jam_density_vpkm: 30.0, ..ROAD };
    let e = Model::new(2, vec![LinkSpec { diagram: fast_wave, ..link("W", 0, 1, 100.0, 1) }], vec![], vec![], 2.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("jam density = 30") && e.contains("50 to 300"), "{e}");
    let e = Model::new(2, vec![link("L", 0, 1, 100.0, 20)], vec![], vec![], 2.0).unwrap_err().to_string();
    assert!(e.contains("20 lanes"), "{e}");
    let e = Model::new(2, vec![link("L", 0, 1, 100.0, 1)], vec![], vec![trip(0, 1, f64::NAN)], 2.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rates are 0 to 100000"), "{e}");
    let bad_signal = SignalPlan { node: 0, phases: vec![(vec![0], 30.0)], offset_s: 0.0 };
    let e = Model::new(2, vec![link("L", 0, 1, 100.0, 1)], vec![bad_signal], vec![], 2.0).unwrap_err().to_string();
    assert!(e.contains("does not enter the node"), "{e}");
}

/// The demo site's OSM ways (real data, ODbL), projected onto a local plane around the first point
/// (equirectangular: well under a metre off over the site's 2 km), with their tags.
fn delhi_roads() -> (Vec<traffic_flow::graph::Road>, Vec<serde_json::Value>) {
    use traffic_flow::graph::{Oneway, Road};
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/sites/new-delhi-ina/new_delhi_ina_buildings_roads.geojson");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ways: Vec<serde_json::Value> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "LineString" && f["properties"]["highway"].is_string())
        .cloned()
        .collect();
    let origin = ways[0]["geometry"]["coordinates"][0].clone();
    let (lon0, lat0) = (origin[0].as_f64().unwrap(), origin[1].as_f64().unwrap());
    let r = 6_371_008.8;
    let roads = ways
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let tag = |k: &str| p[k].as_str();
            Road {
                id: tag("@id").unwrap_or("?").to_string(),
                points: f["geometry"]["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                        [r * lat0.to_radians().cos() * (lon - lon0).to_radians(), r * (lat - lat0).to_radians()]
                    })
                    .collect(),
                class: tag("highway").unwrap().to_string(),
                oneway: Oneway::from_osm(tag("oneway"), tag("highway").unwrap(), tag("junction")),
                lanes: tag("lanes").and_then(|l| l.parse().ok()),
                maxspeed_kmh: tag("maxspeed").and_then(|s| s.parse().ok()),
            }
        })
        .collect();
    (roads, ways)
}

#[test]
fn the_demo_sites_osm_roads_make_a_drivable_network() {
    use traffic_flow::graph::{self, Oneway};
    let (roads, _) = delhi_roads();
    let g = graph::build(&roads, 0.05).unwrap();
    // Footways, steps and pedestrian ways are left out, each named (counted from the data here).
    let not_for_cars = roads.iter().filter(|r| matches!(r.class.as_str(), "footway" | "steps" | "pedestrian")).count();
    assert_eq!(g.skipped.len(), not_for_cars, "{:?}", g.skipped);
    assert!(not_for_cars > 0 && g.skipped.iter().all(|(_, why)| why.contains("is not a road for cars")));
    let driven: Vec<_> =
        roads.iter().filter(|r| !matches!(r.class.as_str(), "footway" | "steps" | "pedestrian")).collect();
    // Every point two drivable ways share is a junction node.
    let mut seen = std::collections::HashMap::new();
    for r in &driven {
        for p in &r.points {
            *seen.entry(((p[0] / 0.05).round() as i64, (p[1] / 0.05).round() as i64)).or_insert(0) += 1;
        }
    }
    let shared: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).map(|(k, _)| *k).collect();
    assert!(shared.len() > 50, "the site's ways meet at many points: {}", shared.len());
    for k in &shared {
        let at = [k.0 as f64 * 0.05, k.1 as f64 * 0.05];
        assert!(
            g.nodes.iter().any(|n| (n[0] - at[0]).abs() < 0.06 && (n[1] - at[1]).abs() < 0.06),
            "no node at {at:?}"
        );
    }
    // Length is kept: each way's length once per direction it is driven.
    let length = |pts: &[[f64; 2]]| {
        pts.windows(2).map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt()).sum::<f64>()
    };
    let want: f64 = driven.iter().map(|r| length(&r.points) * if r.oneway == Oneway::No { 2.0 } else { 1.0 }).sum();
    let got: f64 = g.links.iter().map(|l| l.length_m).sum();
    assert!((got - want).abs() / want < 0.005, "links {got:.0} m against the ways' {want:.0} m");
    // A one-way road gives one direction; a two-way `lanes = 2` road one lane each way.
    for (l, &road) in g.links.iter().zip(&g.link_roads) {
        let r = &roads[road];
        if r.oneway == Oneway::No && r.lanes == Some(2) {
            assert_eq!(l.lanes, 1, "{}", l.id);
        }
        if r.oneway != Oneway::No {
            assert!(!g.links.iter().any(|o| o.from == l.to && o.to == l.from && o.id.starts_with(&r.id)), "{}", l.id);
        }
    }
    // The model runs on it: trips along the longest trunk road, vehicles conserved.
    let trunk = g
        .links
        .iter()
        .filter(|l| roads[g.link_roads[g.links.iter().position(|x| x.id == l.id).unwrap()]].class == "trunk")
        .max_by(|a, b| a.length_m.total_cmp(&b.length_m))
        .unwrap();
    let nodes = g.nodes.len();
    let trips = vec![trip(trunk.from, trunk.to, 1500.0)];
    let mut m = Model::new(nodes, g.links.clone(), vec![], trips, 1.0).unwrap();
    assert!(m.routes()[0].is_some());
    run_until(&mut m, 600.0);
    assert!(m.totals().exited > 100.0, "{:?}", m.totals());
}

// ---------------------------------------------------------------------------------------------
// The plugin glue, on the SDK's stand-in runtime: roads from the scene's geometry, counts in,
// per-segment results out.

mod plugin {
    use sangam_sdk::geometry::{Oneway, Road};
    use sangam_sdk::{EntityTable, ParamValue, Simulation, Tick, testing};
    use traffic_flow::plugin::TrafficFlow;

    fn road(id: &str, points: &[[f64; 2]]) -> Road {
        Road {
            id: id.into(),
            points: points.to_vec(),
            class: "primary".into(),
            oneway: Oneway::Forward,
            lanes: Some(1),
            max_speed_kmh: Some(50.0),
            width_m: 7.0,
        }
    }

    /// A counted entry road, a direct road and a longer detour side by side, and an exit: one way.
    fn site(closed: &str) -> TrafficFlow {
        testing::reset();
        let roads = [
            road("road/entry", &[[0.0, 0.0], [200.0, 0.0]]),
            road("road/direct", &[[200.0, 0.0], [1000.0, 0.0]]),
            road("road/detour", &[[200.0, 0.0], [200.0, 300.0], [1000.0, 300.0], [1000.0, 0.0]]),
            road("road/exit", &[[1000.0, 0.0], [1200.0, 0.0]]),
        ];
        testing::with_host(|h| {
            h.set_roads(&roads);
            h.set_param("closed", ParamValue::Text(closed.into()));
            // 600 veh/h counted on the entry road.
            h.push_number(0, "traffic.flow", 0, 600.0);
        });
        let ids = ["road/entry", "road/direct", "road/detour"];
        let table = EntityTable {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            kinds: vec!["road.segment".into(); 3],
            positions: vec![0.0; 9],
        };
        TrafficFlow::init(table).unwrap()
    }

    /// Runs `minutes` of 1 s ticks; the last step's value of `property` per entity.
    fn run(model: &mut TrafficFlow, minutes: i64, property: &str) -> Vec<f64> {
        let mut last = Vec::new();
        for s in 0..minutes * 60 {
            let updates = model.step(Tick { now: s * 1_000_000, dt_us: 1_000_000 }).unwrap();
            last = (0..3u32)
                .map(|e| {
                    let c = updates.numbers.iter().find(|c| c.property == property).unwrap();
                    c.entities.iter().position(|&x| x == e).map_or(f64::NAN, |i| c.values[i])
                })
                .collect();
        }
        last
    }

    #[test]
    fn counted_traffic_takes_the_direct_road_and_reroutes_onto_the_detour_when_it_closes() {
        let mut open = site("");
        let out = run(&mut open, 20, "flow.outflow");
        assert!((out[1] - 600.0).abs() < 1.0, "the direct road carries the count: {out:?}");
        assert!(out[2].abs() < 1e-9, "nothing on the longer detour: {out:?}");
        let speed = run(&mut open, 1, "flow.speed");
        assert!((speed[1] - 50.0).abs() < 1e-6, "600 veh/h on a 1600 veh/h lane flows freely: {speed:?}");

        let mut closed = site("road/direct");
        let out = run(&mut closed, 20, "flow.outflow");
        assert!(out[1].abs() < 1e-9, "the closed road carries nothing: {out:?}");
        assert!((out[2] - 600.0).abs() < 1.0, "its traffic takes the detour: {out:?}");
        // With both closed there is no route: the counted traffic has nowhere to go and the entry
        // road, open, waits empty (the CTM strands trips with no route; none enter).
        let mut shut = site("road/direct, road/detour");
        let out = run(&mut shut, 5, "flow.outflow");
        assert!(out.iter().all(|v| v.abs() < 1e-9), "{out:?}");
    }

    #[test]
    fn a_road_the_network_does_not_have_is_refused_by_name() {
        testing::reset();
        testing::with_host(|h| {
            h.set_roads(&[road("road/a", &[[0.0, 0.0], [100.0, 0.0]])]);
            h.set_param("closed", ParamValue::Text("road/nowhere".into()));
        });
        let table =
            EntityTable { ids: vec!["road/a".into()], kinds: vec!["road.segment".into()], positions: vec![0.0; 3] };
        let e = TrafficFlow::init(table).err().unwrap();
        assert!(e.contains("parameter `closed`: `road/nowhere` is not a road cars drive on"), "{e}");
    }
}
