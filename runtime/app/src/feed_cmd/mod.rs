//! `sangam feed SCENE --broker URL [--rate N] [--duration D] [--seed S] [--day D]`: publishes
//! seeded, realistic live data for the scene to an MQTT broker, for the demo and for trying a site
//! live without a real network feed:
//! - KPI reports for the cells of the scene's cell lists, all cells in one message on `<topic>/pm` (as
//!   an operations support system exports a reporting period), on the topic of the MQTT source bound
//!   to the `telecom-cells` adapter (ILLUSTRATIVE values; see [`telecom`]);
//! - per-segment counts for the scene's road segments, one message each on `<topic>/<segment id>`, on
//!   the topic of the MQTT source bound to the `traffic-counts` adapter (REAL hourly counts, MAPPED;
//!   see [`traffic`]).
//!
//! The topics are the sources' first filters without their wildcard; `rate` periods a second; a day
//! is compressed into `--day`.
//!
//! Cost: one message of every cell and one per segment per period; QoS 1, each batch acknowledged by
//! the broker.

pub mod telecom;
pub mod traffic;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sangam_twin::{Scene as TwinScene, SourceKind};

/// What `feed` publishes and how fast.
#[derive(Clone, Debug)]
pub struct FeedArgs {
    /// The broker (`mqtt://host:port`, or `mqtts://`).
    pub broker: String,
    /// The CA to trust for an `mqtts://` broker (else the system's roots).
    pub ca_file: Option<std::path::PathBuf>,
    /// Messages per cell or segment per second.
    pub rate: f64,
    /// How long (`None`: until Ctrl-C).
    pub duration: Option<Duration>,
    /// The seed of the noise.
    pub seed: u64,
    /// The length of the compressed day.
    pub day: Duration,
}

/// A reproducible stream of numbers in [0, 1): splitmix64, written out because a seeded demo feed
/// needs only these few lines, not a random-number crate.
pub struct Noise(pub u64);

impl Noise {
    /// The next number.
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Site `i`'s demand (%) at `phase` of the day (0..1), before noise; the outage site (the middle
/// one) is at 0 through the fifth eighth of the day (phase 0.5 to 0.625).
pub fn demand(i: usize, sites: usize, phase: f64) -> f64 {
    if i == sites / 2 && (0.5..0.625).contains(&phase) {
        return 0.0;
    }
    let base = 25.0 + 10.0 * (i % 4) as f64;
    let peak = 0.55 + 0.1 * (i % 3) as f64;
    let swing = 45.0 * (-((phase - peak) / 0.18).powi(2)).exp();
    (base + swing).min(100.0)
}

/// The topic prefix of the scene's first MQTT source bound to a plugin whose artifact starts with
/// `artifact`, and that plugin's id.
fn topic_for(twin: &TwinScene, artifact: &str) -> Option<(String, String)> {
    let plugin = twin.plugins.iter().find(|p| p.artifact.starts_with(artifact))?;
    twin.sources.iter().filter(|s| s.adapter == plugin.id).find_map(|s| match &s.kind {
        SourceKind::Mqtt { topics, .. } => {
            topics.first().map(|t| (t.trim_end_matches("/#").trim_end_matches("/+").to_string(), plugin.id.clone()))
        }
        _ => None,
    })
}

/// Runs the feed (see the module docs).
pub fn feed(scene: &Path, args: &FeedArgs) -> Result<()> {
    let twin = TwinScene::load(scene)?;
    if !(0.1..=100.0).contains(&args.rate) {
        bail!("--rate {} must be 0.1 to 100 messages per cell or segment per second", args.rate);
    }
    let (kpi_topic, cells) = match topic_for(&twin, "telecom_cells") {
        Some((topic, adapter)) => (topic, telecom::cells(&twin, &adapter)?),
        None => (String::new(), Vec::new()),
    };
    let (traffic_topic, segments) = match topic_for(&twin, "traffic_counts") {
        Some((topic, _)) => (topic, traffic::segments(&twin)?),
        None => (String::new(), Vec::new()),
    };
    if cells.is_empty() && segments.is_empty() {
        bail!(
            "{} gives the feed nothing to publish: it needs an MQTT source bound to the telecom-cells adapter \
             and a cell list (an untimed file source), or one bound to the traffic-counts adapter and \
             road.segment entities",
            scene.display()
        );
    }
    let mut sites: Vec<&str> = Vec::new();
    for c in &cells {
        if !sites.contains(&c.site.as_str()) {
            sites.push(&c.site);
        }
    }
    let week = traffic::week();
    let mut publisher = sangam_data::broker::Publisher::connect_with_tls(
        &args.broker,
        &format!("sangam-feed-{}", std::process::id()),
        &sangam_twin::TlsFiles { ca_file: args.ca_file.clone(), client_identity: None },
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.broker))?;
    println!(
        "feed: {} cells of {} sites on {kpi_topic}/pm (ILLUSTRATIVE KPIs, seed {}) and {} road segments on \
         {traffic_topic}/<segment> (REAL I-94 station counts, MAPPED) at {} Hz to {}",
        cells.len(),
        sites.len(),
        args.seed,
        segments.len(),
        args.rate,
        args.broker,
    );
    let mut noise = Noise(args.seed);
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let mut sent = 0u64;
    for tick in 0u64.. {
        let due = started + period.mul_f64(tick as f64);
        if args.duration.is_some_and(|d| due.duration_since(started) >= d) {
            break;
        }
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let t = due.duration_since(started).as_secs_f64() / args.day.as_secs_f64();
        let (day, phase) = (t.floor() as u64, t.fract());
        let mut batch = Vec::with_capacity(cells.len() + segments.len());
        if !cells.is_empty() {
            // One performance report per period for every cell, as an OSS exports it.
            let reports: Vec<String> = cells
                .iter()
                .map(|cell| {
                    let site = sites.iter().position(|s| *s == cell.site).unwrap_or(0);
                    telecom::report(cell, site, sites.len(), phase, &mut noise)
                })
                .collect();
            batch.push((format!("{kpi_topic}/pm"), format!("[{}]", reports.join(",")).into_bytes()));
        }
        let flow = traffic::station_flow(&week, day, phase);
        for (i, segment) in segments.iter().enumerate() {
            batch.push((
                format!("{traffic_topic}/{}", segment.id),
                traffic::report(segment, i == 0, phase, flow).into_bytes(),
            ));
        }
        sent += batch.len() as u64;
        publisher.publish(batch).map_err(|e| anyhow::anyhow!("{}: {e}", args.broker))?;
    }
    println!("feed: {sent} messages published and acknowledged in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demand_follows_a_day_with_one_outage_and_the_noise_is_seeded() {
        // Each site peaks near its peak hour and is lowest at night.
        for i in 0..5 {
            let night = demand(i, 5, 0.05);
            let day = (0..100).map(|k| demand(i, 5, k as f64 / 100.0)).fold(0.0, f64::max);
            assert!(day > night + 30.0, "site {i}: {night} at night, {day} at its peak");
        }
        // The middle site is out through the fifth eighth of the day, and only then.
        assert_eq!(demand(2, 5, 0.55), 0.0);
        assert!(demand(2, 5, 0.7) > 0.0 && demand(1, 5, 0.55) > 0.0);
        let a: Vec<f64> = (0..5)
            .map({
                let mut n = Noise(7);
                move |_| n.next()
            })
            .collect();
        let b: Vec<f64> = (0..5)
            .map({
                let mut n = Noise(7);
                move |_| n.next()
            })
            .collect();
        assert_eq!(a, b, "the same seed gives the same stream");
        assert!(a.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn the_feed_reads_the_demo_cells_and_roads_and_publishes_what_the_adapters_take() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        let twin = TwinScene::load(&path).unwrap();
        let (topic, adapter) = topic_for(&twin, "telecom_cells").expect("the demo has a KPI source");
        assert_eq!((topic.as_str(), adapter.as_str()), ("sangam/new-delhi-ina/kpi", "telecom"));
        let cells = telecom::cells(&twin, &adapter).unwrap();
        assert_eq!(cells.len(), 15);
        assert_eq!(cells[0].global_id, "1-1-1-2560257");
        assert_eq!(cells[0].site, "site-tower-roof-1");
        let segments = traffic::segments(&twin).unwrap();
        assert_eq!(segments.len(), 6);
        let week = traffic::week();
        assert_eq!(week.len(), 168, "one count per hour of the week");
        // Monday 24 September 2018, 08:00 and 03:00 at MnDOT 301 (the file's values).
        assert_eq!(traffic::station_flow(&week, 0, 8.0 / 24.0), week[8]);
        assert!(week[8] > 4.0 * week[3], "a morning peak: {} vs {}", week[8], week[3]);
        assert_eq!(traffic::station_flow(&week, 7, 0.0), week[0], "the week repeats");
        let mid = traffic::station_flow(&week, 0, 8.5 / 24.0);
        assert!((mid - (week[8] + week[9]) / 2.0).abs() < 1e-9, "linear between hours");
        let ring = traffic::report(&segments[0], true, 0.35, 1000.0);
        let v: serde_json::Value = serde_json::from_str(&ring).unwrap();
        assert_eq!(v["lanes_open"].as_u64(), Some(u64::from(segments[0].lanes) - 1), "the incident: {ring}");
        assert_eq!(v["count"].as_f64(), Some((1000.0 * segments[0].share).round()));
        let mut noise = Noise(1);
        let up: serde_json::Value = serde_json::from_str(&telecom::report(&cells[0], 0, 5, 0.2, &mut noise)).unwrap();
        assert_eq!(up["available"].as_bool(), Some(true));
        assert!(up["sinr_db"].as_f64().unwrap() <= 40.0 && up["rsrp_dbm"].as_f64().unwrap() <= -31.0);
        let down: serde_json::Value =
            serde_json::from_str(&telecom::report(&cells[0], 2, 5, 0.55, &mut noise)).unwrap();
        assert_eq!(down["available"].as_bool(), Some(false), "the outage site's cells are down");
    }
}
