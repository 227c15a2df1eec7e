//! `sangam run` as a user runs it: which front end it picks and why, the headless timing report, the
//! errors of an insisted-on front end that is not there, and (where Xvfb is installed) a real window.

use std::process::{Command, Output};

use crate::{can_render, demo_scene, text};
use glam::DVec3;
use sangam::interaction::layout::SiteLayout;
use sangam::interaction::pick::{self, Ray};
use sangam_twin::{EntityId, EntityLink};

/// Runs `sangam` with no display and no Wayland socket in its environment.
fn sangam_no_display(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("the sangam binary runs")
}

#[test]
fn without_xr_or_display_run_falls_back_to_headless_and_says_why() {
    if !can_render() {
        return;
    }
    let scene = demo_scene();
    let out = sangam_no_display(&["run", scene.to_str().unwrap(), "--frames", "3", "--size", "160x90", "--stats"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    // No runtime is active on this machine (the XR tests run Monado in a chroot): the reason is named.
    let line = stdout.lines().find(|l| l.starts_with("front end: ")).unwrap_or_default();
    assert!(
        line.starts_with("front end: headless (no OpenXR runtime: ")
            && line.ends_with("; no display: DISPLAY unset -> headless)"),
        "{stdout}"
    );
    assert!(stdout.contains("headless: rendered 3 frames at 160x90 on "), "{stdout}");
    for line in ["stats: cpu encode mean ", "stats: frame (encode + GPU) mean ", "stats: last frame "] {
        assert!(stdout.contains(line), "--stats prints `{line}`: {stdout}");
    }
}

#[test]
fn headless_flag_skips_the_probes() {
    if !can_render() {
        return;
    }
    let scene = demo_scene();
    let out = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", scene.to_str().unwrap(), "--headless", "--frames", "2", "--size", "64x48"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("front end: headless (--headless given -> headless)"), "{stdout}");
    assert!(stdout.contains("rendered 2 frames"), "{stdout}");
    assert!(!stdout.contains("stats:"), "no --stats, no stats lines: {stdout}");
}

#[test]
fn insisting_on_xr_or_a_window_that_is_not_there_is_a_clear_error() {
    let scene = demo_scene();
    let out = sangam_no_display(&["run", scene.to_str().unwrap(), "--xr"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--xr was given but no OpenXR runtime is usable: "), "{stderr}");
    assert!(stderr.contains("OpenXR"), "the reason names what is missing: {stderr}");

    let out = sangam_no_display(&["run", scene.to_str().unwrap(), "--window"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--window was given") && stderr.contains("DISPLAY unset"), "{stderr}");

    // A display that does not answer is named.
    let out = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", scene.to_str().unwrap(), "--window"])
        .env_remove("WAYLAND_DISPLAY")
        .env("DISPLAY", ":64999")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("DISPLAY=:64999 does not answer"), "{stderr}");

    let out = sangam_no_display(&["run", scene.to_str().unwrap(), "--xr", "--window"]);
    assert_eq!(out.status.code(), Some(1), "flags that exclude each other are refused");
}

#[test]
fn missing_scene_is_named() {
    let out = sangam_no_display(&["run", "/nonexistent/site/scene.toml", "--headless"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/site/scene.toml"), "{}", text(&out.stderr));
}

#[test]
fn demo_site_layout_covers_every_placement_and_picks_rooftop_towers() {
    let site = sangam::site::load(&demo_scene()).expect("the demo site loads");
    let layout = SiteLayout::of(&site);
    let names: Vec<&str> = layout.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["placed assets", "street-poles", "osm buildings", "osm roads", "ground"]);
    let covered: usize = layout.layers.iter().map(|l| l.placements.len()).sum();
    assert_eq!(covered, site.scene.placements.len());
    let buildings = site.twin.layers[0].buildings.len();
    assert!(layout.pickables.len() >= 5 + 40 + buildings / 2, "{} pickables", layout.pickables.len());

    // Straight down onto rooftop tower 1 from 200 m: the tower (on top of the roof), not the building.
    let p = site.twin.placement("tower-roof-1").unwrap().position;
    let ray = Ray::new(p + DVec3::new(0.0, 0.0, 200.0), DVec3::NEG_Z).unwrap();
    let hit = pick::pick(&ray, &layout.pickables).expect("the tower is hit");
    let target = &layout.pickables[hit.index].target;
    assert_eq!(target, &EntityLink::Placement("tower-roof-1".into()));
    assert_eq!(layout.entity_of(target), Some(&EntityId::new("site-tower-roof-1")));
    // Just beside the tower, the roof of its building.
    let ray = Ray::new(p + DVec3::new(6.0, 0.0, 200.0), DVec3::NEG_Z).unwrap();
    let hit = pick::pick(&ray, &layout.pickables).expect("the roof is hit");
    assert_eq!(layout.pickables[hit.index].target, EntityLink::Feature("way/1216161073".into()));
}

/// A real window on a virtual X server, when `xvfb-run` is installed (CI installs it: package `xvfb`).
#[test]
fn window_presents_frames_under_xvfb() {
    let have_xvfb = Command::new("sh").args(["-c", "command -v xvfb-run"]).output().is_ok_and(|o| o.status.success());
    if !have_xvfb {
        if std::env::var_os("SANGAM_REQUIRE_XVFB").is_some() {
            panic!("SANGAM_REQUIRE_XVFB is set but xvfb-run is not installed (apt-get install xvfb)");
        }
        eprintln!("SKIPPED: xvfb-run is not installed (apt-get install xvfb)");
        return;
    }
    if !can_render() {
        return;
    }
    let scene = demo_scene();
    let out = Command::new("timeout")
        .args(["120", "xvfb-run", "-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", scene.to_str().unwrap(), "--frames", "30", "--size", "320x240", "--stats"])
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("front end: window (no OpenXR runtime: "), "{stdout}");
    assert!(stdout.contains("window: presented 30 frames on "), "{stdout}");
    assert!(stdout.contains("stats: missed frames"), "{stdout}");
}
