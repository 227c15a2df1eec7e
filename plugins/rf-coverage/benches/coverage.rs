//! Coverage-map benchmark (issue 15): a 512 x 512 grid of 5 m cells (2.56 km square) for 50 sectors
//! with UMa and line of sight decided by 2,500 extruded blocks (a synthetic Manhattan grid of 40 m
//! blocks, 6-45 m tall), natively; against the same map with no buildings in the same run (the
//! share the ray walks cost). The goal of the issue (the plugin within 1.5x of this native run) is
//! measured once the plugin exists; this gives the native grid cells x sectors per second.
//!
//! `cargo bench -p rf-coverage --bench coverage`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs a 64 x 64 grid, as a smoke test.

use std::time::Instant;

use rf_coverage::antenna::Pointing;
use rf_coverage::buildings::{Building, Buildings};
use rf_coverage::coverage::{self, Grid, PathLoss, Sector, Settings};

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
}
