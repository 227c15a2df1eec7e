//! The `sangam` command line.
//!
//! `sangam render SCENE [--bookmark NAME|all] [--size WxH] [--stereo] -o OUT` renders a site's camera
//! bookmarks (or a bare `.gltf` / `.glb`, framed automatically) headless to PNG.
//!
//! `sangam render SCENE --recording FILE --at TIME -o OUT` renders the site as it was at that time of a
//! recording (time travel: recorded values, the overlays as they were shown).
//!
//! `sangam run SCENE [--xr | --window | --headless] [--stats] [--frames N]` opens the site in a front end:
//! XR when an OpenXR runtime is active, else a window when a display is, else headless; it says which and why.
//!
//! `sangam record SCENE -o FILE [--duration D]` runs a scene live without a GPU and records it to MCAP;
//! `sangam replay FILE [--speed N|max] [--headless --frames N | --window]` replays one (`run --record
//! FILE` records while showing). `--stats` prints the twin's state hash: a replay reaches the recorded one;
//! `--stats-json FILE` writes the session's counters (sources, inboxes, plugins, clock) as JSON.
//! `--broker URL` on `run` and `record` points every MQTT source of the scene at another broker.
//!
//! `sangam feed SCENE --broker URL [--rate N] [--duration D]` publishes seeded live data for the
//! scene's cells (illustrative KPIs) and road segments (real counts, mapped): the live demo's feed.
//!
//! `sangam export SCENE --layer roads|points [--recording FILE --at T] -o FILE.geojson` writes the
//! twin's values (road segments as lines, sites and cells as points) for GIS tools; `--layer coverage
//! [--scenario NAME] -o FILE.tif` a simulation's map (RSRP) as a GeoTIFF.
//!
//! `sangam plugin check|pack|keygen|new ...` checks, packages, signs and scaffolds plugins (see
//! `plugin_cmd`).
//!
//! Exit codes: 0 done (for `plugin check`: the plugin can run); 1 a clear error about the input or the
//! machine (printed), or a plugin this runtime cannot run; a panic is a bug.

mod export_cmd;
mod feed_cmd;
mod plugin_cmd;
mod record_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sangam::frontend::RunArgs;
use sangam::headless::{self, RenderRequest, ShotSize};

/// `--scenario` and `--set`, on `run`, `record` and `export`.
#[derive(clap::Args, Clone, Debug, Default)]
struct ScenarioArgs {
    /// Run the scene's scenario NAME (`[[scenarios]]`): its plugin parameter values replace the
    /// scene's.
    #[arg(long, value_name = "NAME")]
    scenario: Option<String>,
    /// Set one plugin parameter, PLUGIN.PARAMETER=VALUE (after the scenario's; repeatable), e.g.
    /// --set traffic.lane-capacity=1600.
    #[arg(long = "set", value_name = "PLUGIN.PARAMETER=VALUE")]
    set: Vec<String>,
}

impl From<ScenarioArgs> for sangam::scenario::ScenarioChoice {
    fn from(a: ScenarioArgs) -> Self {
        sangam::scenario::ScenarioChoice { scenario: a.scenario, set: a.set }
    }
}

/// Sangam: an immersive digital-twin runtime for infrastructure.
#[derive(Parser)]
#[command(name = "sangam", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a scene's camera bookmarks (or a bare glTF model, framed automatically) to PNG files.
    Render {
        /// A scene file (`scene.toml`) or a glTF model (`.gltf`, `.glb`).
        scene: PathBuf,
        /// The camera bookmark to render, or `all` (then `-o` is a folder). Default: the first bookmark.
        #[arg(long)]
        bookmark: Option<String>,
        /// Image size per eye, WIDTHxHEIGHT.
        #[arg(long, default_value = "1280x720", value_parser = parse_size)]
        size: ShotSize,
        /// Render both eyes (64 mm apart) and write them side by side (the image is twice as wide).
        #[arg(long)]
        stereo: bool,
        /// Output PNG file, or folder when rendering several bookmarks.
        #[arg(short, long)]
        output: PathBuf,
        /// Render the site as it was in this recording (MCAP) at `--at`: recorded values and overlays.
        #[arg(long, requires = "at")]
        recording: Option<PathBuf>,
        /// With `--recording`: the time, from the clock's start (seconds, or 30s, 5m, 2h).
        #[arg(long, requires = "recording", value_parser = record_cmd::parse_time)]
        at: Option<std::time::Duration>,
    },
    /// Open a scene in a front end: XR when a runtime is active, else a window, else headless.
    Run {
        /// A scene file (`scene.toml`).
        scene: PathBuf,
        #[command(flatten)]
        front: FrontEndArgs,
        /// XR: eye image size relative to the runtime's recommended size (0.25 up to the runtime's
        /// maximum); below 1 trades sharpness for GPU time.
        #[arg(long, default_value_t = 1.0, value_parser = parse_resolution_scale)]
        resolution_scale: f32,
        /// Record the session to this MCAP file while it runs.
        #[arg(long)]
        record: Option<PathBuf>,
        /// The MQTT broker every MQTT source uses instead of the scene's (mqtt://HOST:PORT).
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Run the scene's scenario NAME beside it, as a branch of the session: each drawn map becomes
        /// the difference NAME minus plan, with the two summaries on screen.
        #[arg(long, value_name = "NAME")]
        compare: Option<String>,
    },
    /// Run a scene live without a GPU or window and record it to an MCAP file.
    Record {
        /// A scene file (`scene.toml`).
        scene: PathBuf,
        /// The recording to write (MCAP; replaced if it exists).
        #[arg(short, long)]
        output: PathBuf,
        /// How long to record (seconds, or 30s, 5m, 2h). Default: until Ctrl-C or the clock's stop.
        #[arg(long, value_parser = record_cmd::parse_duration)]
        duration: Option<std::time::Duration>,
        /// Print the session's state (hash, plugins) at the end.
        #[arg(long)]
        stats: bool,
        /// Write the session's counters (clock, history, sources, inboxes, plugins) to this file as
        /// JSON at the end.
        #[arg(long, value_name = "FILE")]
        stats_json: Option<PathBuf>,
        /// Write only what this plugin of the scene may see (its entities and `[plugins.read]`); raw
        /// inputs are left out.
        #[arg(long, value_name = "PLUGIN")]
        redact: Option<String>,
        /// The MQTT broker every MQTT source uses instead of the scene's (mqtt://HOST:PORT).
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// Publish seeded live data for a scene to an MQTT broker (the demo's live feed): ILLUSTRATIVE
    /// per-cell KPIs and REAL hourly road counts MAPPED onto its road segments.
    Feed {
        /// A scene file (`scene.toml`): its cell lists and road segments, and the topics of the MQTT
        /// sources bound to the telecom-cells and traffic-counts adapters.
        scene: PathBuf,
        /// The broker (mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS).
        #[arg(long, value_name = "URL")]
        broker: String,
        /// With an mqtts:// broker: the PEM file of the CA to trust instead of the system's roots.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Reporting periods per second (0.1 to 100): each one message of every cell's KPIs and one per
        /// road segment.
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        /// How long to publish (seconds, or 30s, 5m, 2h). Default: until stopped.
        #[arg(long, value_parser = record_cmd::parse_duration)]
        duration: Option<std::time::Duration>,
        /// The seed of the noise: the same seed gives the same stream.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The length of one compressed day of demand (seconds, or 30s, 5m, 2h).
        #[arg(long, default_value = "120s", value_parser = record_cmd::parse_duration)]
        day: std::time::Duration,
    },
    /// Export the twin for GIS tools (QGIS, GDAL): road segments as lines or sited entities as points,
    /// with their numeric properties and units, as GeoJSON; or a simulation's map as a GeoTIFF.
    Export {
        /// A scene file (`scene.toml`).
        scene: PathBuf,
        /// `roads` (road segments, as lines) or `points` (sites, cells, buildings), GeoJSON; `coverage`
        /// (RSRP), `sinr`, `best-site` or `PLUGIN:LAYER`, a simulation's map as GeoTIFF.
        #[arg(long)]
        layer: String,
        /// The values as they were in this recording (MCAP) at `--at`; else the scene's own.
        #[arg(long, requires = "at")]
        recording: Option<PathBuf>,
        /// With `--recording`: the time, from the clock's start (seconds, or 30s, 5m, 2h).
        #[arg(long, requires = "recording", value_parser = record_cmd::parse_time)]
        at: Option<std::time::Duration>,
        /// The file to write: GeoJSON for roads and points, GeoTIFF (.tif) for a map.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// Replay a recording in a front end (headless, a window or XR), checked against its state hash.
    Replay {
        /// The recording (MCAP).
        recording: PathBuf,
        /// The scene it was recorded from (default: the one the recording names).
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Times real time (0.1 to 100), or `max`: everything applied before the first frame.
        #[arg(long, default_value = "1", value_parser = record_cmd::parse_speed)]
        speed: sangam::frontend::ReplaySpeed,
        #[command(flatten)]
        front: FrontEndArgs,
    },
    /// Check, package, sign and scaffold plugins.
    Plugin {
        #[command(subcommand)]
        command: plugin_cmd::PluginCommand,
    },
}

/// The front-end flags `run` and `replay` share.
#[derive(clap::Args)]
struct FrontEndArgs {
    /// Insist on OpenXR (an error if no runtime is usable).
    #[arg(long, conflicts_with_all = ["window", "headless"])]
    xr: bool,
    /// Insist on a desktop window (an error if no display is usable).
    #[arg(long, conflicts_with = "headless")]
    window: bool,
    /// Render offscreen and report timing.
    #[arg(long)]
    headless: bool,
    /// Print frame timing and the session's state (clock, state hash, recording or replay, plugins) at the end.
    #[arg(long)]
    stats: bool,
    /// Write the session's counters (clock, history, sources, inboxes, plugins, recording) to this
    /// file as JSON at the end.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// Stop after this many frames (headless default: 60; a window otherwise runs until closed).
    #[arg(long)]
    frames: Option<u64>,
    /// Headless image size / initial window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    size: ShotSize,
    /// Headless: save the last frame (scene and overlays) as a PNG.
    #[arg(long)]
    screenshot: Option<PathBuf>,
}

impl FrontEndArgs {
    /// The run arguments for `scene` in `mode`.
    fn run_args(self, scene: PathBuf, resolution_scale: f32, mode: sangam::frontend::SessionMode) -> RunArgs {
        use sangam::frontend::Requested;
        let requested = match (self.xr, self.window, self.headless) {
            (true, _, _) => Requested::Xr,
            (_, true, _) => Requested::Window,
            (_, _, true) => Requested::Headless,
            _ => Requested::Auto,
        };
        let FrontEndArgs { stats, stats_json, frames, size, screenshot, .. } = self;
        RunArgs {
            scene,
            requested,
            stats,
            frames,
            size,
            resolution_scale,
            screenshot,
            mode,
            broker: None,
            stats_json,
            scenario: Default::default(),
            compare: None,
        }
    }
}

fn xr_hooks() -> sangam::frontend::XrHooks {
    sangam::frontend::XrHooks { probe: sangam::xr_front::probe, run: Some(sangam::xr_front::run) }
}

fn parse_resolution_scale(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() && (0.25..=4.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a resolution scale between 0.25 and 4 (for example 0.75)")),
    }
}

fn parse_size(s: &str) -> Result<ShotSize, String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT (for example 1280x720)"))?;
    let parse = |v: &str, what: &str| -> Result<u32, String> {
        let n: u32 = v.trim().parse().map_err(|_| format!("{what} `{v}` in `{s}` is not a whole number"))?;
        if n == 0 || n > 8192 {
            return Err(format!("{what} {n} in `{s}` is out of range: use 1 to 8192 pixels"));
        }
        Ok(n)
    };
    Ok(ShotSize { width: parse(w, "width")?, height: parse(h, "height")? })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let informational =
                matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion);
            let _ = e.print();
            return if informational { ExitCode::SUCCESS } else { ExitCode::FAILURE };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sangam=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Plugin { command } => plugin_cmd::run(command),
        Command::Run { scene, front, resolution_scale, record, broker, scenario, compare } => {
            use sangam::frontend::{self, SessionMode};
            let mode = record.map_or(SessionMode::Live, SessionMode::Record);
            let args = sangam::frontend::RunArgs {
                broker,
                scenario: scenario.into(),
                compare,
                ..front.run_args(scene, resolution_scale, mode)
            };
            frontend::run(&args, &xr_hooks())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Record { scene, output, duration, stats, stats_json, redact, broker, scenario } => {
            let sources = sangam_data::Options { broker };
            let report = record_cmd::Report { stats, stats_json };
            record_cmd::record(&scene, &output, duration, &report, redact.as_deref(), &sources, &scenario.into())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Feed { scene, broker, ca_file, rate, duration, seed, day } => {
            feed_cmd::feed(&scene, &feed_cmd::FeedArgs { broker, ca_file, rate, duration, seed, day })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { recording, scene, speed, front } => {
            use sangam::frontend::{self, SessionMode};
            let scene = record_cmd::recorded_scene(&recording, scene)?;
            let mode = SessionMode::Replay { recording, speed };
            frontend::run(&front.run_args(scene, 1.0, mode), &xr_hooks())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { scene, layer, recording, at, output, scenario } => {
            let recorded = recording.as_deref().zip(at);
            export_cmd::export(&scene, &layer, recorded, &scenario.into(), &output)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Render { scene, bookmark, size, stereo, output, recording, at } => {
            let request = RenderRequest { input: scene, bookmark, size, stereo };
            let shots = match (recording, at) {
                (Some(recording), Some(at)) => headless::render_recording(&request, &recording, at)?,
                _ => headless::render(&request)?,
            };
            if shots.len() > 1 || request.bookmark.as_deref() == Some("all") {
                if output.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
                    bail!(
                        "{} bookmarks were rendered but `-o {}` names one PNG file; give a folder instead",
                        shots.len(),
                        output.display()
                    );
                }
                std::fs::create_dir_all(&output).with_context(|| format!("could not create {}", output.display()))?;
                for shot in &shots {
                    let path = output.join(format!("{}.png", shot.name));
                    shot.image.save(&path).with_context(|| format!("could not write {}", path.display()))?;
                    println!("{}", path.display());
                }
            } else if let Some(shot) = shots.first() {
                if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("could not create {}", parent.display()))?;
                }
                shot.image.save(&output).with_context(|| {
                    format!("could not write {} (the file name must end in .png)", output.display())
                })?;
                println!("{}", output.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
