//! Traffic benchmark (issue 15): wall time per simulated hour of a synthetic 100k-cell network (a
//! 35 x 35 grid of two-way 2-lane streets, 600 m, 50 km/h; 4,760 links of 21 cells at a 2 s step;
//! 400 trips between random nodes, fixed-time signals at every inner node), as a multiple of real
//! time (goal >= 360x, the issue's).
//!
//! `cargo bench -p traffic-flow --bench network`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs a 6 x 6 grid for 5 simulated minutes, as a smoke test.

use std::time::Instant;

use traffic_flow::ctm::Model;
use traffic_flow::diagram::Diagram;
use traffic_flow::network::{LinkSpec, SignalPlan};
use traffic_flow::routing::Trip;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (side, hours) = if full { (35, 1.0) } else { (6, 1.0 / 12.0) };
    let road = Diagram::for_class("secondary", 50.0);
    let node = |x: usize, y: usize| y * side + x;
    let mut links = Vec::new();
    for y in 0..side {
        for x in 0..side {
            for (nx, ny) in [(x + 1, y), (x, y + 1)] {
                if nx < side && ny < side {
                    for (a, b) in [(node(x, y), node(nx, ny)), (node(nx, ny), node(x, y))] {
                        links.push(LinkSpec {
                            id: format!("{a}-{b}"),
                            from: a,
                            to: b,
                            length_m: 600.0,
                            lanes: 2,
                            diagram: road,
                        });
                    }
                }
            }
        }
    }
    let signals: Vec<SignalPlan> = (0..side * side)
        .filter(|&n| {
            let (x, y) = (n % side, n / side);
            x > 0 && y > 0 && x < side - 1 && y < side - 1
        })
        .map(|n| {
            let ew: Vec<usize> = links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.to == n && l.from / side == n / side)
                .map(|(i, _)| i)
                .collect();
            let ns: Vec<usize> = links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.to == n && l.from / side != n / side)
                .map(|(i, _)| i)
                .collect();
            SignalPlan { node: n, phases: vec![(ew, 30.0), (ns, 30.0)], offset_s: (n % 7) as f64 * 5.0 }
        })
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((seed >> 33) as usize) % n
    };
    let trips: Vec<Trip> = (0..400)
        .map(|_| Trip { origin: next(side * side), destination: next(side * side), rate_vph: 60.0 + next(240) as f64 })
        .collect();
    let signal_count = signals.len();
    let built = Instant::now();
    let mut model = Model::new(side * side, links, signals, trips, 2.0).expect("network");
    let build_s = built.elapsed().as_secs_f64();
    let cells: usize = model.links().iter().map(|l| l.vehicles.len()).sum();
    let steps = (hours * 3600.0 / 2.0) as usize;
    let started = Instant::now();
    for _ in 0..steps {
        model.step();
    }
    let wall = started.elapsed().as_secs_f64();
    let simulated = steps as f64 * 2.0;
    let t = model.totals();
    println!(
        "traffic: {} links, {cells} cells, {} signals; {simulated:.0} s simulated in {wall:.2} s = {:.0}x real time \
         (goal >= 360x); {:.0} us per step; built and routed in {:.0} ms; {:.0} vehicles exited, {:.0} on the roads",
        model.links().len(),
        signal_count,
        simulated / wall,
        wall / steps as f64 * 1e6,
        build_s * 1e3,
        t.exited,
        t.on_links
    );
}
