//! A shortened soak: a simulation at 100x writing far more history than the budget holds; the store
//! stays within its budget at every tick and the process's memory stays flat.

use std::time::Duration;

use crate::{decay_plugin, scene, session};

/// Resident set size of this process, from /proc (Linux), in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

#[test]
fn a_long_run_at_100x_keeps_the_store_within_its_budget_and_memory_flat() {
    let entities: String = (0..50)
        .map(|i| {
            format!(
                "[[entities]]\nid = \"tank{i}\"\nkind = \"process.tank\"\n[entities.properties]\nlevel = {}.0\n\n",
                100 + i
            )
        })
        .collect();
    let clock = "[clock]\nstep_ms = 10\nrate = 100.0\ncatch_up_steps = 1000\n\n[history]\nbudget_mb = 2\n\n";
    let scene = scene("soak", &format!("{clock}{entities}{}", decay_plugin("decay", "level", 0.0001, 10)));
    let mut s = session(&scene);
    let budget = 2 << 20;
    let (mut rss_warm, mut peak_store) = (0, 0);
    for tick in 0..900 {
        s.tick(Duration::from_micros(16_667));
        std::thread::sleep(Duration::from_millis(1));
        peak_store = peak_store.max(s.store().memory_bytes());
        if tick == 300 {
            rss_warm = rss();
        }
    }
    let rss_end = rss();
    let samples = s.totals().values_applied;
    println!(
        "soak: {samples} values over {:.0} s simulated; store peak {peak_store} of {budget} bytes; RSS {:.1} MiB after \
         warm-up, {:.1} MiB at the end",
        s.time().clock().now().as_secs_f64(),
        rss_warm as f64 / f64::from(1 << 20),
        rss_end as f64 / f64::from(1 << 20)
    );
    assert!(samples > 400_000, "the run wrote far more than the budget holds at full resolution ({samples} values)");
    assert!(peak_store <= budget, "the store peaked at {peak_store} bytes, over its {budget}-byte budget");
    assert!(s.store().folded() > 0, "old samples were folded into buckets");
    // Other tests run in this process too; a leak of 16 bytes per value would show as 6+ MiB here.
    assert!(rss_end < rss_warm + (32 << 20), "RSS grew from {rss_warm} to {rss_end} bytes");
}
