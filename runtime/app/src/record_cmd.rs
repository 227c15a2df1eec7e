//! `sangam record SCENE -o FILE [--duration D] [--stats]`: runs a scene's session live, without a
//! GPU or a window, and records it to MCAP; and the parsing of `--duration` and `--speed`.
//!
//! The session ticks at 60 Hz of real time (sources and plugins run as in any front end) until the
//! duration has passed, the clock reaches a clamped stop, or Ctrl-C; then the recording is finished
//! with the twin's state hash, which `--stats` prints. A recorder killed outright loses at most the
//! last second; the file stays readable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sangam::frontend::ReplaySpeed;
use sangam_session::Session;
use sangam_twin::Scene as TwinScene;

/// The tick period of a recording without a front end.
const TICK: Duration = Duration::from_micros(16_667);

/// Records `scene` to `output` for `duration` (until Ctrl-C or the clock's stop when `None`), its
/// data sources running (`sources.broker` for every MQTT source, when given), its plugins with
/// `scenario`'s values; with `redact`, only what that plugin of the scene may see.
pub fn record(
    scene: &Path,
    output: &Path,
    duration: Option<Duration>,
    report: &Report,
    redact: Option<&str>,
    sources: &sangam_data::Options,
    scenario: &sangam::scenario::ScenarioChoice,
) -> Result<()> {
    let mut twin = TwinScene::load(scene)?;
    if let Some(chosen) = sangam::scenario::apply(&mut twin, scenario)? {
        println!("{chosen}");
    }
    let mut session = Session::load(&twin)?;
    match redact {
        Some(plugin) => session.start_recording_redacted(&twin, output, plugin)?,
        None => session.start_recording(&twin, output)?,
    }
    session.start_sources(&twin, sources)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Ctrl-C finishes the file properly instead of cutting it.
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot handle Ctrl-C")?;
    println!(
        "recording {} to {} {}",
        scene.display(),
        output.display(),
        duration.map_or_else(|| "until Ctrl-C".to_string(), |d| format!("for {:.1} s", d.as_secs_f64()))
    );
    let started = Instant::now();
    let mut previous = started;
    loop {
        let now = Instant::now();
        let report = session.tick(now - previous);
        previous = now;
        if stop.load(Ordering::Relaxed) || duration.is_some_and(|d| started.elapsed() >= d) || report.at_end {
            break;
        }
        if let Some(why) = session.recorder().and_then(|r| r.stopped()) {
            anyhow::bail!("the recording stopped: {why}");
        }
        let next = now + TICK;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let summary = session.finish_recording()?.unwrap_or_default();
    println!(
        "recorded {:.1} s ({:.1} s of simulated time): {} messages, {} bytes in {}",
        started.elapsed().as_secs_f64(),
        session.progress_us() as f64 / 1e6,
        summary.messages,
        summary.file_bytes,
        output.display()
    );
    if report.stats {
        for line in session.status_lines() {
            println!("stats: {line}");
        }
    }
    if let Some(path) = &report.stats_json {
        sangam::frontend::write_stats_json(&session, path)?;
    }
    Ok(())
}

/// What `record` reports at the end.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Print the `--stats` lines.
    pub stats: bool,
    /// Write the counters as JSON here (`--stats-json`).
    pub stats_json: Option<PathBuf>,
}

/// The scene a replay runs on: the one given, else the one the recording names (relative to the
/// folder it was recorded in is not known, so as written, then relative to the recording's folder).
pub fn recorded_scene(recording: &Path, given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(scene) = given {
        return Ok(scene);
    }
    let info = sangam_session::Recording::info(recording)?;
    let named = PathBuf::from(&info.scene);
    if named.is_file() {
        return Ok(named);
    }
    let beside = recording.parent().unwrap_or(Path::new(".")).join(&named);
    if beside.is_file() {
        return Ok(beside);
    }
    anyhow::bail!(
        "{} was recorded from the scene {}, which is not there; give the scene with --scene",
        recording.display(),
        info.scene
    )
}

/// Parses `--duration`: seconds, or a number with `s`, `m` or `h` (`90`, `90s`, `1.5m`, `2h`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale <= 366.0 * 86_400.0 => Ok(Duration::from_secs_f64(v * scale)),
        _ => Err(format!("`{s}` is not a duration: give seconds or a number with s, m or h (for example 30s, 5m, 2h)")),
    }
}

/// Parses `--at`: like a duration, and 0 is allowed (the recording's start).
pub fn parse_time(s: &str) -> Result<Duration, String> {
    if s.trim().trim_end_matches(['s', 'm', 'h']).trim().parse::<f64>() == Ok(0.0) {
        return Ok(Duration::ZERO);
    }
    parse_duration(s)
}

/// Parses `--speed`: `max`, or times real time from 0.1 to 100.
pub fn parse_speed(s: &str) -> Result<ReplaySpeed, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(ReplaySpeed::Max);
    }
    let t = s.trim().trim_end_matches(['x', 'X']);
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=100.0).contains(&v) => Ok(ReplaySpeed::Times(v)),
        _ => Err(format!("`{s}` is not a replay speed: give `max` or a rate from 0.1 to 100 (for example 10)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_speeds_parse_and_bad_ones_are_explained() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        for bad in ["", "0", "-1", "abc", "nan", "1e12h", "5d"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("30s, 5m, 2h"), "{bad}: {e}");
        }
        assert_eq!(parse_time("0"), Ok(Duration::ZERO));
        assert_eq!(parse_time("2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_time("-2").is_err());
        assert_eq!(parse_speed("max"), Ok(ReplaySpeed::Max));
        assert_eq!(parse_speed("10"), Ok(ReplaySpeed::Times(10.0)));
        assert_eq!(parse_speed("0.5x"), Ok(ReplaySpeed::Times(0.5)));
        for bad in ["0", "101", "fast", "inf"] {
            assert!(parse_speed(bad).unwrap_err().contains("0.1 to 100"), "{bad}");
        }
    }
}
