//! `cargo xtask`: Sangam's developer tasks.
//!
//! - `cargo xtask demo`: set up what is missing, then render the demo site's bookmarks to `out/`.
//! - `cargo xtask test`: set up what is missing, then `cargo fmt --check`, `cargo clippy -D warnings`
//!   and the whole test suite.
//! - `cargo xtask bench`: the benchmarks recorded in BENCHMARKS.md.
//! - `cargo xtask build-plugins`: build every plugin crate (`[package.metadata.sangam-plugin]`) for
//!   `wasm32-wasip2` and list the components (`test` and `demo` do this first).
//! - `cargo xtask monado`: build (once) the Monado chroot and run the XR tests against a real OpenXR
//!   runtime (also part of `cargo xtask test`).
//! - `cargo xtask gen-assets`: regenerate the procedural (illustrative) tower models in `assets/models/`.
//!
//! Set-up: Mesa's software Vulkan (lavapipe, Debian `mesa-vulkan-drivers`) so rendering works without a
//! GPU, and the `wasm32-wasip2` Rust target for plugins. When running as root they are installed and the
//! task says so; otherwise it prints the exact command to run and stops.

mod monado;
mod plugins;
mod provision;
mod tower;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

/// Sangam's developer tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", about = "Sangam's developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Render the demo site's camera bookmarks (New Delhi, INA / AIIMS) to `out/`.
    Demo {
        /// Image size, WIDTHxHEIGHT.
        #[arg(long, default_value = "1280x720")]
        size: String,
    },
    /// Check formatting and lints, then run every test (what CI runs).
    Test,
    /// Run the benchmarks (frame time, instancing, scene load, glTF import) against same-run baselines.
    Bench,
    /// Build every plugin crate for wasm32-wasip2 (release) and list the components with their sizes.
    BuildPlugins,
    /// Regenerate the procedural tower models in `assets/models/`.
    GenAssets,
    /// Only install / check the set-up (software Vulkan, wasm32-wasip2 target).
    Provision,
    /// Run the XR tests against Monado (simulated headset) in a Debian trixie chroot, building it once.
    Monado,
    /// Benchmark CPU time per XR frame on the demo site against the same site headless (Monado, release).
    BenchXr,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Demo { size } => demo(&size),
        Task::Test => test(),
        Task::Bench => bench(),
        Task::BuildPlugins => provision::ensure_wasm_target().and_then(|_| plugins::build_plugins()).map(|_| ()),
        Task::GenAssets => gen_assets(),
        Task::Provision => provision::ensure_all().map(|_| ()),
        Task::Monado => monado::run_xr_tests(&workspace_root()),
        Task::BenchXr => provision::ensure_all().and_then(|_| monado::bench_xr(&workspace_root())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the folder holding the top-level Cargo.toml).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the workspace root")
        .to_path_buf()
}

/// Runs `cargo ARGS` in the workspace root, failing with the step's name when it fails.
fn cargo(step: &str, args: &[&str]) -> Result<()> {
    cargo_with(step, args, &[])
}

/// Runs cargo with `args` and the environment variables `envs` set for it.
fn cargo_with(step: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: {step}: cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("could not start `{cargo}`"))?;
    if !status.success() {
        bail!("{step} failed (cargo {}: {status})", args.join(" "));
    }
    Ok(())
}

/// Runs the `sangam` binary (built by cargo if needed) with `args`.
fn sangam(step: &str, args: &[&str]) -> Result<()> {
    let mut full = vec!["run", "--quiet", "--package", "sangam", "--"];
    full.extend_from_slice(args);
    cargo(step, &full)
}

fn test() -> Result<()> {
    provision::ensure_all()?;
    plugins::build_plugins()?;
    cargo("format check", &["fmt", "--all", "--check"])?;
    cargo("lints", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // CI=true for the tests whatever the caller's environment: a test that finds no GPU adapter, or a
    // golden image that is missing, fails instead of skipping or blessing, locally as in CI.
    let ci = [("CI", "true")];
    cargo_with("tests", &["test", "--workspace", "--all-targets"], &ci)?;
    // Doc tests are not part of --all-targets.
    cargo_with("doc tests", &["test", "--workspace", "--doc"], &ci)?;
    // The OpenXR tests need a real runtime: Monado in a chroot (built once, cached outside the clone).
    if std::env::var("SANGAM_XR_TESTS").is_ok_and(|v| v == "skip") {
        eprintln!("xtask: WARNING: SANGAM_XR_TESTS=skip: the OpenXR runtime tests were NOT run");
    } else {
        monado::ensure_chroot()?;
        monado::run_xr_tests(&workspace_root())?;
    }
    eprintln!("xtask: all checks and tests passed");
    Ok(())
}

fn demo(size: &str) -> Result<()> {
    provision::ensure_all()?;
    plugins::build_plugins()?;
    let root = workspace_root();
    let scene = root.join("assets/sites/new-delhi-ina/scene.toml");
    let out = root.join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("could not create {}", out.display()))?;
    let scene_arg = scene.to_string_lossy().into_owned();
    let out_arg = out.to_string_lossy().into_owned();
    sangam("demo", &["render", &scene_arg, "--bookmark", "all", "--size", size, "-o", &out_arg])?;
    let stereo = out.join("tower-stereo.png");
    let stereo_arg = stereo.to_string_lossy().into_owned();
    sangam(
        "demo (stereo)",
        &["render", &scene_arg, "--bookmark", "tower", "--stereo", "--size", "640x720", "-o", &stereo_arg],
    )?;
    // The live site: a local Mosquitto, `sangam feed` publishing per-cell KPIs and road counts to it,
    // and the site run against it with its plugins (the telecom and traffic adapters, the simulation,
    // the overlay) while the camera orbits; the last frame, with roads and sites coloured by their live
    // values, the labels and the alerts, is saved, and the session recorded.
    let broker = sangam_data::broker::LocalBroker::start().map_err(|e| anyhow::anyhow!("demo broker: {e}"))?;
    eprintln!("xtask: demo broker (mosquitto) on {}", broker.url());
    let mut feed = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--package", "sangam", "--", "feed", &scene_arg, "--broker", &broker.url()])
        // A 60 s day: the last frame (about 20 s in) falls in the morning peak, during the incident.
        .args(["--rate", "4", "--day", "60s", "--duration", "60s"])
        .current_dir(&root)
        .spawn()
        .context("could not start `sangam feed`")?;
    let live = out.join("live.png");
    let live_arg = live.to_string_lossy().into_owned();
    let recording = out.join("live.mcap").to_string_lossy().into_owned();
    let stats = out.join("live-stats.json").to_string_lossy().into_owned();
    let run = sangam(
        "demo (live data and plugins, recorded)",
        &[
            "run",
            &scene_arg,
            "--headless",
            "--frames",
            "240",
            "--size",
            size,
            "--stats",
            "--stats-json",
            &stats,
            "--screenshot",
            &live_arg,
            "--record",
            &recording,
            "--broker",
            &broker.url(),
        ],
    );
    let _ = feed.kill();
    let _ = feed.wait();
    run?;
    drop(broker);
    // The recording replayed at once (its state hash checked), and the site as it was 1 s in.
    sangam("demo (replay)", &["replay", &recording, "--speed", "max", "--headless", "--frames", "1", "--stats"])?;
    let then = out.join("then.png").to_string_lossy().into_owned();
    sangam(
        "demo (time travel)",
        &["render", &scene_arg, "--recording", &recording, "--at", "1", "--size", size, "-o", &then],
    )?;
    eprintln!("xtask: demo images are in {}", out.display());
    Ok(())
}

fn bench() -> Result<()> {
    provision::ensure_software_vulkan()?;
    cargo("benchmarks (renderer, glTF import)", &["bench", "--package", "sangam-render"])?;
    cargo("benchmarks (demo site)", &["bench", "--package", "sangam"])?;
    plugins::build_plugins()?;
    cargo("benchmarks (plugin host)", &["bench", "--package", "sangam-plugins"])?;
    cargo("benchmarks (history store)", &["bench", "--package", "sangam-twin"])?;
    cargo("benchmarks (radio coverage model)", &["bench", "--package", "rf-coverage"])?;
    cargo("benchmarks (traffic flow model)", &["bench", "--package", "traffic-flow"])?;
    // The ingest benchmark runs a real broker.
    provision::ensure_mosquitto()?;
    cargo("benchmarks (session tick, replay, ingest)", &["bench", "--package", "sangam-session"])?;
    eprintln!("xtask: record the ratios printed above in BENCHMARKS.md");
    Ok(())
}

fn gen_assets() -> Result<()> {
    let models = workspace_root().join("assets/models");
    std::fs::create_dir_all(&models).with_context(|| format!("could not create {}", models.display()))?;
    let tower = models.join("lattice_tower.glb");
    tower::write_lattice_tower_glb(&tower)?;
    eprintln!("xtask: wrote {}", tower.display());
    let pole = models.join("monopole.glb");
    tower::write_monopole_glb(&pole)?;
    eprintln!("xtask: wrote {}", pole.display());
    Ok(())
}
