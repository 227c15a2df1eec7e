//! `xr`: check the OpenXR set-up from the command line.
//!
//! - `xr probe`: name the active runtime and headset.
//! - `xr run [--frames N] [--seconds S] [--stall-limit S] [--see-through] [--focus-marker]`: run a session showing
//!   the parallax check scene (a near tower and a far wall), print frame timing and the parallax
//!   measured on the eye images read back from the swapchain.
//!
//! Exit codes: 0 success, 2 no XR here (no loader, runtime or headset: fall back to the window or
//! headless), 3 the runtime froze (stopped answering for the stall limit), 1 any other failure
//! (message on stderr).

use std::process::ExitCode;
use std::time::Duration;

use sangam_xr::testkit::{CheckApp, measure_parallax};
use sangam_xr::{BlendPreference, XrError, XrOptions};

fn usage() -> ExitCode {
    eprintln!("usage: xr probe | xr run [--frames N] [--seconds S] [--stall-limit S] [--see-through] [--focus-marker]");
    ExitCode::from(64)
}

fn fail(e: &XrError) -> ExitCode {
    eprintln!("xr: {e}");
    if e.is_unavailable() { ExitCode::from(2) } else { ExitCode::from(1) }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,wgpu=warn,naga=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("probe") => match sangam_xr::probe() {
            Ok(info) => {
                println!("runtime: {}", info.runtime);
                println!("headset: {}", info.headset.as_deref().unwrap_or("(none connected)"));
                println!("vulkan (XR_KHR_vulkan_enable2): {}", if info.vulkan_enable2 { "yes" } else { "no" });
                if info.usable() { ExitCode::SUCCESS } else { ExitCode::from(2) }
            }
            Err(e) => fail(&e),
        },
        Some("run") => {
            let mut options = XrOptions { max_frames: Some(120), capture_frame: Some(20), ..XrOptions::default() };
            let mut focus_marker = false;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                let mut num = |what: &str| -> Option<u64> {
                    let v = it.next().and_then(|v| v.parse().ok());
                    if v.is_none() {
                        eprintln!("xr: {what} needs a whole number");
                    }
                    v
                };
                match a.as_str() {
                    "--frames" => match num("--frames") {
                        Some(n) => options.max_frames = Some(n),
                        None => return usage(),
                    },
                    "--seconds" => match num("--seconds") {
                        Some(s) => {
                            options.max_duration = Some(Duration::from_secs(s));
                            options.max_frames = None;
                        }
                        None => return usage(),
                    },
                    "--stall-limit" => match num("--stall-limit") {
                        Some(s) => options.stall_limit = Some(Duration::from_secs(s)),
                        None => return usage(),
                    },
                    "--see-through" => options.blend = BlendPreference::SeeThrough,
                    "--focus-marker" => focus_marker = true,
                    _ => return usage(),
                }
            }
            let mut app = CheckApp::new();
            app.announce_focus = focus_marker;
            match sangam_xr::run(options, &mut app) {
                Ok(summary) => {
                    println!("runtime: {}", summary.info.runtime);
                    println!("states: {:?}", summary.states);
                    println!("timing: {}", summary.timing);
                    println!("controller poses located (left, right): {:?}", app.observed.poses_located);
                    if let (Some(eyes), Some(views)) = (&summary.capture, &app.observed.last_views) {
                        match measure_parallax(eyes, views) {
                            Ok(p) => println!("parallax: {p:?}"),
                            Err(e) => println!("parallax: not measured ({e})"),
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        _ => usage(),
    }
}
