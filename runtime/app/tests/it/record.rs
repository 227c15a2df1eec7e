//! `sangam record`, `replay` and `export` as a user runs them: the replay reaches the state hash the
//! recording printed, a recorder killed with SIGKILL loses at most the last second and its file is
//! still read, a file that is not a recording is refused by name, and exports open in GDAL in place.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{can_render, demo_scene, text};
use sangam_session::Recording;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sangam-app-record-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sangam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XR_RUNTIME_JSON")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("the sangam binary runs")
}

/// The hash of the `stats: state: hash H ...` line.
fn state_hash(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with("stats: state: hash ")).unwrap_or_else(|| panic!("{stdout}"));
    line["stats: state: hash ".len()..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_recorded_session_replays_headless_to_the_same_state_hash() {
    let file = dir("replay").join("demo.mcap");
    let scene = demo_scene();
    let rec = sangam(&["record", scene.to_str().unwrap(), "-o", file.to_str().unwrap(), "--duration", "2", "--stats"]);
    let (stdout, stderr) = (text(&rec.stdout), text(&rec.stderr));
    assert!(rec.status.success(), "{stdout}\n{stderr}");
    let recorded = state_hash(&stdout);
    assert!(stdout.contains("recording: ") && stdout.contains("finished"), "{stdout}");
    if !can_render() {
        return;
    }
    for speed in ["max", "100"] {
        let f = file.to_str().unwrap();
        let out =
            sangam(&["replay", f, "--headless", "--frames", "40", "--size", "96x54", "--speed", speed, "--stats"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("front end: headless"), "{stdout}");
        assert!(
            stdout.contains(&format!("replay matches the recording: state hash {recorded}")),
            "--speed {speed}: {stdout}"
        );
        assert_eq!(state_hash(&stdout), recorded, "--speed {speed}");
    }
}

#[test]
fn a_recorder_killed_with_sigkill_loses_at_most_the_last_second() {
    let file = dir("sigkill").join("killed.mcap");
    let scene = demo_scene();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["record", scene.to_str().unwrap(), "-o", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sangam binary runs");
    // The clock starts once the scene is loaded: the binary says so, then ticks.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("recording "), "{line}");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(3_500));
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is finished.
    let ran = started.elapsed();
    child.wait().unwrap();

    let rec = Recording::open(&file).unwrap_or_else(|e| panic!("a killed recording is recovered: {e}"));
    assert!(rec.end.is_none(), "it was never finished");
    let w = rec.warnings.join("\n");
    assert!(w.contains("killed.mcap") && w.contains("byte"), "{w}");
    // The demo's clock runs at real time: what was recorded reaches within a second of the kill
    // (half a second more for the load-to-first-tick gap and scheduling on a busy machine).
    let last = rec.changes.last().expect("changes were recorded").progress_us as f64 / 1e6;
    let lost = ran.as_secs_f64() - last;
    assert!(
        lost <= 1.5,
        "the recording ends {last:.2} s in, {lost:.2} s before the kill at {:.2} s",
        ran.as_secs_f64()
    );
}

#[test]
fn a_file_that_is_not_a_recording_is_refused_by_name() {
    let bad = dir("bad").join("holiday.mcap");
    std::fs::write(&bad, b"PK\x03\x04 a zip file, not an MCAP").unwrap();
    let out = sangam(&["replay", bad.to_str().unwrap(), "--headless"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("holiday.mcap") && stderr.contains("not a Sangam recording"), "{stderr}");
    let out = sangam(&["replay", "/nonexistent/x.mcap"]);
    assert!(text(&out.stderr).contains("/nonexistent/x.mcap"), "{}", text(&out.stderr));
    let out = sangam(&["record", demo_scene().to_str().unwrap(), "-o", "/x.mcap", "--duration", "soon"]);
    assert!(text(&out.stderr).contains("30s, 5m, 2h"), "{}", text(&out.stderr));
    let out = sangam(&["record", demo_scene().to_str().unwrap(), "-o", bad.to_str().unwrap(), "--redact", "nobody"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`nobody`") && stderr.contains("cell-load"), "the scene's plugins are named: {stderr}");
}

#[test]
fn time_travel_renders_a_recorded_time_the_same_way_every_time_and_refuses_one_outside_it() {
    let d = dir("travel");
    let file = d.join("demo.mcap");
    let scene = demo_scene();
    let (scene_s, file_s) = (scene.to_str().unwrap(), file.to_str().unwrap());
    let rec = sangam(&["record", scene_s, "-o", file_s, "--duration", "2"]);
    assert!(rec.status.success(), "{}", text(&rec.stderr));
    if !can_render() {
        return;
    }
    let shot = |at: &str, name: &str| {
        let png = d.join(name);
        let out = sangam(&[
            "render",
            scene_s,
            "--recording",
            file_s,
            "--at",
            at,
            "--size",
            "160x90",
            "-o",
            png.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "--at {at}: {}", text(&out.stderr));
        image::open(&png).unwrap().to_rgba8()
    };
    let (a, b, c) = (shot("0.5", "a.png"), shot("1.5", "b.png"), shot("1.5", "c.png"));
    assert_eq!(b, c, "the same time of the same recording renders the same image");
    assert_ne!(a, b, "another time renders another image (the HUD's time, the labels' values)");
    let out =
        sangam(&["render", scene_s, "--recording", file_s, "--at", "1h", "-o", d.join("x.png").to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("outside the recording") && stderr.contains("demo.mcap"), "{stderr}");
}

/// `ogrinfo -al -so FILE`: GDAL/OGR's summary of a vector file, as a GIS user checks it.
fn ogrinfo(file: &Path) -> String {
    let out = Command::new("ogrinfo").args(["-al", "-so"]).arg(file).output().unwrap_or_else(|e| {
        panic!("cannot run ogrinfo ({e}): install GDAL's tools (apt-get install gdal-bin; cargo xtask test does)")
    });
    assert!(out.status.success(), "ogrinfo {}: {}", file.display(), text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn export_writes_road_segments_and_cells_that_ogr_opens_in_place_with_their_values() {
    let d = dir("export");
    let scene = demo_scene();
    let scene_arg = scene.to_str().unwrap();
    // The scene's own values: the six mapped road segments as lines on their OSM ways.
    let roads = d.join("roads.geojson");
    let out = sangam(&["export", scene_arg, "--layer", "roads", "-o", roads.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = ogrinfo(&roads);
    assert!(summary.contains("Geometry: Line String") && summary.contains("Feature Count: 6"), "{summary}");
    assert!(summary.contains("count_share: Real") && summary.contains("EPSG\",4326"), "{summary}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&roads).unwrap()).unwrap();
    let osm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(scene.parent().unwrap().join("new_delhi_ina_buildings_roads.geojson")).unwrap(),
    )
    .unwrap();
    let way =
        |id: &str| osm["features"].as_array().unwrap().iter().find(|f| f["properties"]["@id"] == id).unwrap().clone();
    for f in doc["features"].as_array().unwrap() {
        let link = f["properties"]["link"].as_str().unwrap().trim_start_matches("feature ").to_string();
        let (ours, theirs) = (&f["geometry"]["coordinates"], &way(&link)["geometry"]["coordinates"]);
        assert_eq!(ours.as_array().unwrap().len(), theirs.as_array().unwrap().len(), "{link}");
        for (a, b) in ours.as_array().unwrap().iter().zip(theirs.as_array().unwrap()) {
            for k in 0..2 {
                assert!((a[k].as_f64().unwrap() - b[k].as_f64().unwrap()).abs() < 2e-8, "{link}: {a} against OSM {b}");
            }
        }
    }
    // A recording at 1.5 s: the cells the telecom adapter created from cells.csv, as points at the
    // cell list's positions (the feeds' broker is not running here: the cells come from the file).
    let file = d.join("demo.mcap");
    let rec = sangam(&["record", scene_arg, "-o", file.to_str().unwrap(), "--duration", "2"]);
    assert!(rec.status.success(), "{}", text(&rec.stderr));
    let points = d.join("points.geojson");
    let args = ["export", scene_arg, "--layer", "points", "--recording", file.to_str().unwrap(), "--at", "1.5s", "-o"];
    let out = sangam(&[&args[..], &[points.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(ogrinfo(&points).contains("Geometry: Point"));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&points).unwrap()).unwrap();
    let cells: Vec<&serde_json::Value> =
        doc["features"].as_array().unwrap().iter().filter(|f| f["properties"]["kind"] == "telecom.cell").collect();
    let list = std::fs::read_to_string(scene.parent().unwrap().join("cells.csv")).unwrap();
    let rows: Vec<Vec<&str>> =
        list.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').collect()).collect();
    assert_eq!(cells.len(), rows.len(), "every cell of the list");
    let header: Vec<&str> = list.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for row in &rows {
        let (lat, lon) = (row[col("lat")].parse::<f64>().unwrap(), row[col("lon")].parse::<f64>().unwrap());
        let at = cells.iter().any(|c| {
            let p = &c["geometry"]["coordinates"];
            (p[0].as_f64().unwrap() - lon).abs() < 2e-8 && (p[1].as_f64().unwrap() - lat).abs() < 2e-8
        });
        assert!(at, "a cell at {lat}, {lon}");
    }
    assert!(cells.iter().all(|c| c["properties"]["time_s"] == 1.5));
    // What cannot be exported so says why.
    let out = sangam(&["export", scene_arg, "--layer", "roads", "-o", d.join("roads.tif").to_str().unwrap()]);
    assert!(!out.status.success() && text(&out.stderr).contains("name the file .geojson"));
    let out = sangam(&["export", scene_arg, "--layer", "coverage", "-o", d.join("c.geojson").to_str().unwrap()]);
    assert!(!out.status.success() && text(&out.stderr).contains("name the file .tif"));
    let out = sangam(&["export", scene_arg, "--layer", "nobody:radio.rsrp", "-o", d.join("c.tif").to_str().unwrap()]);
    assert!(!out.status.success() && text(&out.stderr).contains("`nobody` is not a plugin of this scene"));
}

/// The value of the first band of `file` at a WGS84 point, as `gdallocationinfo -wgs84` reads it
/// (`None`: no data).
fn gdal_value(file: &Path, lat: f64, lon: f64) -> Option<f64> {
    let out = Command::new("gdallocationinfo")
        .args(["-valonly", "-wgs84"])
        .arg(file)
        .args([lon.to_string(), lat.to_string()])
        .output()
        .expect("gdallocationinfo runs (apt-get install gdal-bin; cargo xtask test does)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: f64 = text(&out.stdout).trim().parse().ok()?;
    (!v.is_nan()).then_some(v)
}

#[test]
fn the_coverage_map_exports_as_a_geotiff_gdal_reads_in_place_and_a_retilt_changes_its_sector_as_the_pattern_says() {
    let d = dir("coverage");
    let scene = demo_scene();
    let scene_arg = scene.to_str().unwrap();
    let (plan, tilted) = (d.join("plan.tif"), d.join("tilt.tif"));
    let out = sangam(&["export", scene_arg, "--layer", "coverage", "-o", plan.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("radio.rsrp of `coverage`") && said.contains("cells of 10 m"), "{said}");
    let args = ["export", scene_arg, "--layer", "coverage", "--scenario", "tilt-plus-2", "-o"];
    let out = sangam(&[&args[..], &[tilted.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let info = Command::new("gdalinfo").arg(&tilted).output().unwrap();
    let info = text(&info.stdout);
    assert!(
        info.contains("Type=Float32") && info.contains("Unit Type: dBm") && info.contains("NoData Value=nan"),
        "{info}"
    );
    assert!(info.contains("Description = radio.rsrp of plugin coverage, scenario tilt-plus-2"), "{info}");
    // Cells of 10 m on multiples of 10 m in the site frame: read at cell centres near the ground site
    // (antennas 25 m up, electrical tilt 6 degrees; the scenario tilts its sector 2, at 165 degrees,
    // to 8). Sectors 1 and 3 are untouched: the same values, bit for bit.
    let twin = sangam_twin::Scene::load(&scene).unwrap();
    let site = twin.placement("tower-ground-1").unwrap().position;
    let centre = |bearing: f64, distance: f64| {
        let (e, n) = (site.x + distance * bearing.to_radians().sin(), site.y + distance * bearing.to_radians().cos());
        glam::DVec3::new((e / 10.0).floor() * 10.0 + 5.0, (n / 10.0).floor() * 10.0 + 5.0, 0.0)
    };
    let read = |file: &Path, p: glam::DVec3| {
        let g = twin.frame.enu_to_geodetic(p);
        gdal_value(file, g.lat_deg, g.lon_deg)
    };
    for bearing in [45.0, 285.0] {
        let p = centre(bearing, 120.0);
        assert_eq!(read(&plan, p), read(&tilted, p), "sector at {bearing} degrees");
        assert!(read(&plan, p).is_some_and(|v| v > -70.0), "120 m from the site is well served");
    }
    // Along sector 2, 100 m out: the change of the vertical cut of the demo's antenna (TR 36.814's macro
    // panel), 12 ((theta - tilt) / 10)^2 dB below boresight, from tilt 6 to 8 degrees (the horizontal
    // cut and the path loss do not change).
    let p = centre(165.0, 100.0);
    let horizontal = ((p.x - site.x).powi(2) + (p.y - site.y).powi(2)).sqrt();
    let theta = (site.z + 25.0 - 1.5).atan2(horizontal).to_degrees();
    let cut = |tilt: f64| (12.0 * ((theta - tilt) / 10.0).powi(2)).min(20.0);
    let expected = cut(6.0) - cut(8.0);
    let (a, b) = (read(&plan, p).unwrap(), read(&tilted, p).unwrap());
    assert!((b - a - expected).abs() < 2e-4, "RSRP {a} -> {b} dBm: {} dB, the pattern gives {expected} dB", b - a);
    // Further out, below the old tilt no longer: weaker.
    let p = centre(165.0, 300.0);
    assert!(read(&tilted, p).unwrap() < read(&plan, p).unwrap(), "beyond the beam's centre a downtilt loses signal");
}
