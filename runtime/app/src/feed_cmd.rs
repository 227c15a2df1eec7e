//! `sangam feed SCENE --broker URL [--rate N] [--duration D] [--seed S] [--day D]`: publishes a
//! seeded, ILLUSTRATIVE stream of telecom demand for the scene's sites to an MQTT broker, for the demo
//! and for trying a site live without a real network feed.
//!
//! For every entity of kind `telecom.site` or `telecom.cell` it publishes, `rate` times a second, a
//! CSV message `site,time,load_target[%]` on `<topic>/<entity id>` (the topic: the first MQTT source's
//! first filter without its wildcard, or `--topic`): a daily curve compressed into `--day` (each site
//! with its own base and peak hour), seeded noise, and an outage of one site (its demand at 0) through
//! the fifth eighth of each day. `time` is seconds since the feed started: start the session with it.
//!
//! Cost: one small message per site per period; QoS 1, each batch acknowledged by the broker.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sangam_twin::{Scene as TwinScene, SourceKind};

/// What `feed` publishes and how fast.
#[derive(Clone, Debug)]
pub struct FeedArgs {
    /// The broker (`mqtt://host:port`).
    pub broker: String,
    /// Messages per site per second.
    pub rate: f64,
    /// How long (`None`: until Ctrl-C).
    pub duration: Option<Duration>,
    /// The seed of the noise.
    pub seed: u64,
    /// The length of the compressed day.
    pub day: Duration,
    /// The topic prefix (default: from the scene's first MQTT source).
    pub topic: Option<String>,
}

/// A reproducible stream of numbers in [0, 1): splitmix64, written out because a seeded demo feed
/// needs only these few lines, not a random-number crate.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
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

/// Runs the feed (see the module docs).
pub fn feed(scene: &Path, args: &FeedArgs) -> Result<()> {
    let twin = TwinScene::load(scene)?;
    let sites: Vec<&str> = twin
        .entities
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "telecom.site" | "telecom.cell"))
        .map(|e| e.id.as_str())
        .collect();
    if sites.is_empty() {
        bail!("{} has no entity of kind telecom.site or telecom.cell to publish demand for", scene.display());
    }
    let topic = match &args.topic {
        Some(t) => t.trim_end_matches('/').to_string(),
        None => twin
            .sources
            .iter()
            .find_map(|s| match &s.kind {
                SourceKind::Mqtt { topics, .. } => {
                    topics.first().map(|t| t.trim_end_matches("/#").trim_end_matches("/+").to_string())
                }
                _ => None,
            })
            .with_context(|| format!("{} has no MQTT source to take a topic from; give --topic", scene.display()))?,
    };
    if !(0.1..=100.0).contains(&args.rate) {
        bail!("--rate {} must be 0.1 to 100 messages per site per second", args.rate);
    }
    let mut publisher =
        sangam_data::broker::Publisher::connect(&args.broker, &format!("sangam-feed-{}", std::process::id()))
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.broker))?;
    println!(
        "feed: {} sites of {} on {topic}/<site> at {} Hz to {} (ILLUSTRATIVE: invented demand, seed {})",
        sites.len(),
        twin.name,
        args.rate,
        args.broker,
        args.seed
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
        let t = due.duration_since(started).as_secs_f64();
        let phase = (t / args.day.as_secs_f64()).fract();
        let batch = sites
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let v = (demand(i, sites.len(), phase) + (noise.next() - 0.5) * 4.0).clamp(0.0, 100.0);
                let v = if demand(i, sites.len(), phase) == 0.0 { 0.0 } else { v };
                (format!("{topic}/{id}"), format!("site,time,load_target[%]\n{id},{t:.3},{v:.2}\n").into_bytes())
            })
            .collect();
        publisher.publish(batch).map_err(|e| anyhow::anyhow!("{}: {e}", args.broker))?;
        sent += sites.len() as u64;
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
}
