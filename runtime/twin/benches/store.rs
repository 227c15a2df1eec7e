//! History store benchmark (issue 13's goals), each figure against a baseline measured in the same run:
//! - applying scalar updates on one thread (`TwinStore::record`, event log included) against appending
//!   the same (time, value) pairs to a plain `Vec` per entity (goal: >= 5M updates/s, within 3x);
//! - bytes per retained sample (the store's own accounting; goal <= 16);
//! - 1M live properties (100k entities x 10) in the default budget: the store's bytes and the
//!   process's RSS.
//!
//! `cargo bench -p sangam-twin --bench store`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs a tenth of the sizes, as a smoke test.

use std::hint::black_box;
use std::time::Instant;

use sangam_twin::{Entity, EntityId, PropertyValue, SimTime, TwinStore};

fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0.0);
    pages * 4096.0 / f64::from(1 << 20)
}

fn store_with(entities: &[EntityId]) -> TwinStore {
    let mut store = TwinStore::new();
    for id in entities {
        store.add_entity(SimTime::ZERO, Entity::new(id.clone(), "sensor")).expect("new entity");
    }
    store
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full { 1 } else { 10 };

    // Scalar updates: 10k entities x 100 rounds (1M updates), one property.
    let ids: Vec<EntityId> = (0..10_000 / scale).map(|i| EntityId::new(format!("e{i}"))).collect();
    let rounds = 100;
    let updates = ids.len() * rounds;
    let mut store = store_with(&ids);
    let started = Instant::now();
    for r in 0..rounds {
        let t = SimTime::from_secs(r as i64);
        for (i, id) in ids.iter().enumerate() {
            let _ = store.record(id, "load", t, PropertyValue::Number((i + r) as f64));
        }
    }
    let store_s = started.elapsed().as_secs_f64();
    let mut plain: Vec<Vec<(i64, f64)>> = vec![Vec::new(); ids.len()];
    let started = Instant::now();
    for r in 0..rounds {
        for (i, series) in plain.iter_mut().enumerate() {
            series.push((r as i64 * 1_000_000, (i + r) as f64));
        }
    }
    black_box(&plain);
    let plain_s = started.elapsed().as_secs_f64();
    println!(
        "store: {updates} scalar updates in {:.1} ms = {:.2}M/s; plain Vec append {:.2} ms = {:.0}M/s; ratio {:.1}x",
        store_s * 1e3,
        updates as f64 / store_s / 1e6,
        plain_s * 1e3,
        updates as f64 / plain_s / 1e6,
        store_s / plain_s
    );
    let retained: usize =
        ids.iter().filter_map(|id| store.series(id, "load")).map(|s| s.len() + s.buckets().count()).sum();
    let series_bytes = store.memory_bytes() - store.events().len() * sangam_twin::history::EVENT_BYTES;
    println!(
        "store: {:.1} bytes per retained sample ({} samples and buckets in {} bytes of series)",
        series_bytes as f64 / retained as f64,
        retained,
        series_bytes
    );

    // 1M live properties: 100k entities x 10 properties, written 4 times each.
    let rss_before = rss_mib();
    let ids: Vec<EntityId> = (0..100_000 / scale).map(|i| EntityId::new(format!("cell-{i}"))).collect();
    let names: Vec<String> = (0..10).map(|p| format!("kpi.{p}")).collect();
    let mut store = store_with(&ids);
    let started = Instant::now();
    for r in 0..4 {
        let t = SimTime::from_secs(r);
        for id in &ids {
            for name in &names {
                let _ = store.record(id, name, t, PropertyValue::Number(r as f64));
            }
        }
    }
    println!(
        "store: {} live properties in the default budget ({:.0} MiB): store {:.0} MiB, {} samples each at full \
         resolution, RSS +{:.0} MiB ({:.1} s to write {} updates)",
        store.series_count(),
        store.budget() as f64 / f64::from(1 << 20),
        store.memory_bytes() as f64 / f64::from(1 << 20),
        store.series_capacity(),
        rss_mib() - rss_before,
        started.elapsed().as_secs_f64(),
        store.series_count() * 4
    );
    black_box(&store);
}
