//! Plugins in a running site, end to end through the `sangam` binary: a scene declares a good
//! overlay and a misbehaving one; the headless front end keeps rendering every frame while the bad
//! plugin is quarantined and reported, and the good one keeps drawing.
//!
//! Needs the plugins built (`cargo xtask build-plugins`, which `cargo xtask test` runs first).

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The folder holding the built plugins; fails with the command to run when they are missing.
fn plugin_dir() -> PathBuf {
    let dir = target_dir().join("wasm32-wasip2/release");
    for wasm in ["threshold_labels.wasm", "sangam_fixture_misbehave.wasm"] {
        assert!(dir.join(wasm).is_file(), "{} is missing: run `cargo xtask build-plugins`", dir.join(wasm).display());
    }
    dir
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const MISBEHAVE_MANIFEST: &str = r#"id = "test.misbehave"
version = "0.1.0"
sdk = "1.1.0"
role = "overlay"
description = "The fault-corpus overlay fixture."

[limits]
memory-mb = 64
call-ms = 40

[[parameter]]
name = "mode"
type = "text"
default = "ok"
description = "What draw does."
"#;

/// A small site: three sensors, a good threshold overlay, and the fixture in `mode`.
fn scene(dir: &Path, mode: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("misbehave.toml"), MISBEHAVE_MANIFEST).unwrap();
    let labels_manifest = repo().join("plugins/threshold-labels/plugin.toml");
    let text = format!(
        r#"format = 1
name = "Plugin fault site"

[origin]
lat = 28.5697905
lon = 77.2091030

[[entities]]
id = "s1"
kind = "traffic.counter"
[entities.properties]
flow = {{ value = 1800.0, unit = "veh/h" }}
status = "ok"

[[entities]]
id = "s2"
kind = "traffic.counter"
[entities.properties]
flow = {{ value = 900.0, unit = "veh/h" }}
status = "ok"

[[entities]]
id = "s3"
kind = "traffic.counter"
[entities.properties]
flow = {{ value = 1200.0, unit = "veh/h" }}
status = "ok"

[[bookmarks]]
name = "view"
eye = {{ enu = [-60.0, -60.0, 40.0] }}
target = {{ enu = [0.0, 0.0, 0.0] }}

[plugin_policy]
allow_unsigned = true

[[plugins]]
id = "good"
artifact = "threshold_labels.wasm"
manifest = "{labels}"
[plugins.params]
property = "flow"

[[plugins]]
id = "bad"
artifact = "sangam_fixture_misbehave.wasm"
manifest = "misbehave.toml"
[plugins.params]
mode = "{mode}"
"#,
        labels = labels_manifest.display()
    );
    let path = dir.join("scene.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(scene: &Path, frames: u32) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", scene.to_str().unwrap(), "--headless", "--frames", &frames.to_string(), "--size", "96x64"])
        .arg("--stats")
        .env("SANGAM_PLUGIN_PATH", plugin_dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("sangam runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn stats_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    let prefix = format!("stats: plugin {id} (overlay): ");
    stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no stats line for {id}: {stdout}"))
}

/// `faults` and `calls` from a stats line.
fn counts(line: &str) -> (u64, u64) {
    let num = |what: &str| {
        line.split(", ")
            .chain(line.split("; "))
            .find_map(|part| part.trim().strip_suffix(what)?.trim().rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no `{what}` in {line}"))
    };
    (num(" faults"), num(" calls"))
}

#[test]
fn a_looping_overlay_is_quarantined_while_frames_and_the_good_plugin_go_on() {
    let dir = std::env::temp_dir().join(format!("sangam-live-loop-{}", std::process::id()));
    let scene = scene(&dir, "loop");
    let (code, stdout, stderr) = run(&scene, 40);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("headless: rendered 40 frames"), "every frame rendered: {stdout}");
    let (bad_faults, _) = counts(stats_line(&stdout, "bad"));
    assert!(bad_faults >= 1, "the loop was caught: {stdout}");
    let (good_faults, good_calls) = counts(stats_line(&stdout, "good"));
    assert_eq!(good_faults, 0, "{stdout}");
    assert!(good_calls >= 1, "the good overlay kept drawing: {stdout}");
    // Reported with the plugin's id and the cause.
    assert!(stderr.contains("plugin `bad`"), "the fault is logged with the plugin id: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_panicking_overlay_is_restarted_and_reported() {
    let dir = std::env::temp_dir().join(format!("sangam-live-panic-{}", std::process::id()));
    let scene = scene(&dir, "panic");
    let (code, stdout, stderr) = run(&scene, 30);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("headless: rendered 30 frames"), "{stdout}");
    let bad = stats_line(&stdout, "bad");
    assert!(counts(bad).0 >= 1, "{bad}");
    assert!(stderr.contains("plugin `bad`") && stderr.contains("draw"), "{stderr}");
    assert_eq!(counts(stats_line(&stdout, "good")).0, 0, "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_plugin_the_scene_cannot_find_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("sangam-live-missing-{}", std::process::id()));
    let scene = scene(&dir, "ok");
    let text = std::fs::read_to_string(&scene).unwrap().replace("sangam_fixture_misbehave.wasm", "nowhere.wasm");
    std::fs::write(&scene, text).unwrap();
    let (code, _, stderr) = run(&scene, 2);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("plugin `bad`") && stderr.contains("nowhere.wasm"), "{stderr}");
    assert!(stderr.contains("SANGAM_PLUGIN_PATH"), "says how to fix it: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_site_plugins_update_the_twin_and_label_it() {
    let scene = repo().join("assets/sites/new-delhi-ina/scene.toml");
    let shot = std::env::temp_dir().join(format!("sangam-live-demo-{}.png", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", scene.to_str().unwrap(), "--headless", "--frames", "40", "--size", "320x180", "--stats"])
        .arg("--screenshot")
        .arg(&shot)
        .env("SANGAM_PLUGIN_PATH", plugin_dir())
        .output()
        .expect("sangam runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    for id in ["cell-load (simulation)", "load-labels (overlay)"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("stats: plugin {id}: running;")))
            .unwrap_or_else(|| panic!("{id} runs: {stdout}"));
        assert!(line.ends_with(" 0 faults, 0 restarts"), "{line}");
        assert!(!line.contains("; 0 calls"), "{id} completed calls: {line}");
    }
    let image = image::open(&shot).expect("the screenshot was written").to_rgba8();
    assert_eq!(image.dimensions(), (320, 180));
    let _ = std::fs::remove_file(shot);
}

/// Runs `sangam ARGS` with the built plugins on the search path; returns (exit code, stdout, stderr).
fn sangam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(args)
        .env("SANGAM_PLUGIN_PATH", plugin_dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("sangam runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// The fault site with the bad plugin's manifest replaced by `manifest` and its `[[plugins]]` entry
/// extended by `extra` (TOML lines for that table, e.g. `grant = [...]`), and `policy` added to
/// `[plugin_policy]`.
fn scene_with(dir: &Path, mode: &str, manifest: &str, extra: &str, policy: &str) -> PathBuf {
    let path = scene(dir, mode);
    std::fs::write(dir.join("misbehave.toml"), manifest).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("allow_unsigned = true\n", &format!("allow_unsigned = true\n{policy}\n"))
        .replace("manifest = \"misbehave.toml\"\n", &format!("manifest = \"misbehave.toml\"\n{extra}\n"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_plugin_sleeping_through_wasi_cannot_hold_the_process_after_its_last_frame() {
    // A vendor's overlay asks for the clock and 10 s per call, and sleeps 20 s in every draw. The
    // scene allows it (max_call_ms = 10000): the sleep is within budget, and still the process exits
    // right after its last frame instead of waiting for the sleeper.
    let dir = std::env::temp_dir().join(format!("sangam-live-sleep-{}", std::process::id()));
    let manifest = MISBEHAVE_MANIFEST
        .replace("call-ms = 40", "call-ms = 10000")
        .replace("[limits]", "[capabilities]\nwall-clock = true\n\n[limits]")
        + "\n[[parameter]]\nname = \"ms\"\ntype = \"integer\"\ndefault = 0\n";
    let scene = scene_with(&dir, "sleep", &manifest, "grant = [\"wall-clock\"]", "max_call_ms = 10000");
    let text = std::fs::read_to_string(&scene).unwrap().replace("mode = \"sleep\"\n", "mode = \"sleep\"\nms = 20000\n");
    std::fs::write(&scene, text).unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run(&scene, 20);
    let took = started.elapsed();
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("headless: rendered 20 frames"), "{stdout}");
    // It was asleep at the end: no fault, no completed draw.
    let bad = stats_line(&stdout, "bad");
    assert_eq!(counts(bad), (0, 0), "{bad}");
    assert!(took < std::time::Duration::from_secs(12), "the process waited for the sleeper: {took:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plugin_check_and_run_refuse_a_network_plugin_with_the_same_reason() {
    let dir = std::env::temp_dir().join(format!("sangam-live-net-{}", std::process::id()));
    let manifest = MISBEHAVE_MANIFEST.replace("test.misbehave", "test.netprobe");
    let scene = scene_with(&dir, "ok", &manifest, "", "");
    let text = std::fs::read_to_string(&scene)
        .unwrap()
        .replace("sangam_fixture_misbehave.wasm", "sangam_fixture_netprobe.wasm");
    std::fs::write(&scene, text).unwrap();
    let component = plugin_dir().join("sangam_fixture_netprobe.wasm");
    let manifest_path = dir.join("misbehave.toml");
    let (code, stdout, _) = sangam(&[
        "plugin",
        "check",
        component.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
        "--allow-unsigned",
    ]);
    assert_eq!(code, 1, "{stdout}");
    let verdict = stdout.lines().find(|l| l.starts_with("can run       no: ")).expect("a verdict");
    let reason = verdict.trim_start_matches("can run       no: ");
    assert!(reason.starts_with("it imports network interfaces (wasi:sockets/"), "{reason}");
    let (code, _, stderr) = run(&scene, 2);
    assert_eq!(code, 1, "run refuses it too: {stderr}");
    assert!(stderr.contains(reason), "run gives the same reason:\n{stderr}\ncheck said: {reason}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_scene_lowers_a_plugins_limits_and_cannot_raise_them() {
    let dir = std::env::temp_dir().join(format!("sangam-live-limits-{}", std::process::id()));
    // Lowering the loop's 40 ms to 5 ms: it is still caught, now at 5 ms.
    let scene = scene_with(&dir, "loop", MISBEHAVE_MANIFEST, "[plugins.limits]\ncall-ms = 5", "");
    let (code, stdout, stderr) = run(&scene, 20);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("ran past its time budget of 5 ms"), "{stderr}");
    // Raising it is an error that says so.
    let scene = scene_with(&dir, "loop", MISBEHAVE_MANIFEST, "[plugins.limits]\ncall-ms = 400", "");
    let (code, _, stderr) = run(&scene, 2);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("call-ms = 400 is above the manifest's 40; a scene may only lower"), "{stderr}");
    // The scene's policy caps what a manifest asks for.
    let greedy = MISBEHAVE_MANIFEST.replace("call-ms = 40", "call-ms = 10000");
    let scene = scene_with(&dir, "loop", &greedy, "", "max_call_ms = 30");
    let (code, _, stderr) = run(&scene, 20);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ran past its time budget of 30 ms"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_adapter_cannot_write_an_entity_it_was_not_granted() {
    // The real CSV adapter, granted sensor s1, fed real counts (Minnesota I-94) for entity s2.
    let dir = std::env::temp_dir().join(format!("sangam-live-grant-{}", std::process::id()));
    let scene = scene(&dir, "ok");
    let rows: Vec<&str> = include_str!("../../../../plugins/csv-adapter/tests/data/i94_traffic_first_2000_rows.csv")
        .lines()
        .take(4)
        .collect();
    std::fs::write(dir.join("counts.csv"), rows.join("\n") + "\n").unwrap();
    let adapter_manifest = repo().join("plugins/csv-adapter/plugin.toml");
    let adapter = format!(
        r#"
[[plugins]]
id = "counts"
artifact = "csv_adapter.wasm"
manifest = "{}"
entities = ["s1"]
feed = "counts.csv"
[plugins.params]
entity = "s2"
time-column = "date_time"
columns = "traffic_volume[veh/h]=flow"
epoch = "2012-10-02 00:00:00"
"#,
        adapter_manifest.display()
    );
    let text = std::fs::read_to_string(&scene).unwrap() + &adapter;
    std::fs::write(&scene, text).unwrap();
    let (code, stdout, stderr) = run(&scene, 20);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("stats: plugin counts (adapter): "))
        .unwrap_or_else(|| panic!("no stats line for the adapter: {stdout}"));
    assert!(line.contains(" 0 calls") && !line.contains(" 0 faults"), "the write was refused as a fault: {line}");
    assert!(
        stderr.contains("plugin `counts` parse: returned malformed output at `keys[0]`: entity `s2` is not granted"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_source_whose_broker_is_down_is_reported_and_the_site_goes_on() {
    let dir = std::env::temp_dir().join(format!("sangam-live-source-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let text = format!(
        "format = 1\nname = \"Broker down\"\n\n[origin]\nlat = 28.5697905\nlon = 77.2091030\n\n\
         [[entities]]\nid = \"s1\"\nkind = \"traffic.counter\"\n\n[plugin_policy]\nallow_unsigned = true\n\n\
         [[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n\n\
         [[sources]]\nid = \"feed\"\nadapter = \"counts\"\nkind = \"mqtt\"\nbroker = \"mqtt://127.0.0.1:{port}\"\n\
         topics = [\"counts/#\"]\n",
        csv.display()
    );
    let scene = dir.join("scene.toml");
    std::fs::write(&scene, text).unwrap();
    let json = dir.join("stats.json");
    let out = run_with_stats_json(&[scene.to_str().unwrap(), "--frames", "90", "--size", "96x64", "--stats"], &json);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the site runs on without its broker: {stderr}");
    let line = stdout.lines().find(|l| l.contains("source feed (mqtt)")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("reconnecting") && line.contains("refused"), "the state and the reason: {line}");
    assert!(stderr.contains("feed") && stderr.contains(&format!("127.0.0.1:{port}")), "the log names it: {stderr}");
    // The same, machine-readable.
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let source = &stats["sources"][0];
    assert_eq!((source["id"].as_str(), source["kind"].as_str()), (Some("feed"), Some("mqtt")), "{stats}");
    assert!(source["state"].as_str().unwrap().contains("reconnecting"), "{stats}");
    assert_eq!(source["messages"].as_u64(), Some(0));
    assert_eq!(stats["plugins"][0]["id"].as_str(), Some("counts"), "{stats}");
    assert_eq!(stats["inboxes"]["counts"]["accepted"].as_u64(), Some(0), "{stats}");
    assert!(stats["clock"]["ticks"].as_u64().unwrap() >= 90, "{stats}");
}

#[test]
fn the_demo_site_runs_live_from_the_feed_through_a_real_broker() {
    let broker = sangam_data::broker::LocalBroker::start().unwrap();
    let scene = repo().join("assets/sites/new-delhi-ina/scene.toml");
    let scene_s = scene.to_str().unwrap();
    let mut feed = Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["feed", scene_s, "--broker", &broker.url(), "--rate", "10", "--duration", "20s", "--day", "4s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sangam feed runs");
    let json = std::env::temp_dir().join(format!("sangam-live-demo-{}.json", std::process::id()));
    let out = run_with_stats_json(&[scene_s, "--frames", "150", "--size", "160x90", "--broker", &broker.url()], &json);
    let _ = feed.kill();
    let _ = feed.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let source = |id: &str| {
        stats["sources"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id}: {stats}"))
    };
    let cells = source("cells");
    assert_eq!(cells["state"].as_str(), Some("finished"), "the cell list was read: {stats}");
    assert_eq!(cells["malformed"].as_u64(), Some(0), "{stats}");
    for feed in ["kpi-feed", "traffic-feed"] {
        let s = source(feed);
        assert!(s["messages"].as_u64().unwrap() >= 10, "{feed}: the feed's messages arrived: {stats}");
        assert_eq!(s["state"].as_str(), Some("connected"), "{stats}");
    }
    assert!(stats["inboxes"]["telecom"]["delivered"].as_u64().unwrap() >= 10, "{stats}");
    assert!(stats["governance"]["aggregates"].as_u64().unwrap() >= 10, "users reach the twin as aggregates: {stats}");
    assert!(stats["inboxes"]["traffic"]["delivered"].as_u64().unwrap() >= 10, "{stats}");
    for id in ["telecom", "traffic"] {
        let p = stats["plugins"].as_array().unwrap().iter().find(|p| p["id"] == id).expect("the adapter");
        assert!(p["calls"].as_u64().unwrap() >= 10 && p["faults"].as_u64() == Some(0), "{p}");
    }
    // The 15 cells of the cell list became entities (their sites are the scene's), plus the one that
    // holds the aggregates of the cells' connected users (aggregate-only); no value the adapters wrote
    // was refused (grants, kinds and governance hold).
    let scene_entities = sangam_twin::Scene::load(&scene).unwrap().entities.len() as u64;
    assert_eq!(stats["history"]["entities"].as_u64(), Some(scene_entities + 15 + 1), "{stats}");
    assert_eq!(stats["clock"]["values_refused"].as_u64(), Some(0), "{stats}");
    assert!(stats["clock"]["values_applied"].as_u64().unwrap() > 200, "{stats}");
    let _ = std::fs::remove_file(json);
}

/// `sangam run --headless ARGS --stats-json JSON` with the built plugins on the search path.
fn run_with_stats_json(args: &[&str], json: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sangam"))
        .args(["run", "--headless"])
        .args(args)
        .arg("--stats-json")
        .arg(json)
        .env("SANGAM_PLUGIN_PATH", plugin_dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("sangam runs")
}

#[test]
fn a_recorder_killed_mid_stream_and_started_again_loses_nothing_the_broker_held() {
    use sangam_session::record::reader::Recording;
    let broker = sangam_data::broker::LocalBroker::start().unwrap();
    let dir = std::env::temp_dir().join(format!("sangam-killed-recorder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let text = format!(
        "format = 1\nname = \"Killed recorder\"\n\n[origin]\nlat = 28.5697905\nlon = 77.2091030\n\n\
         [[entities]]\nid = \"s1\"\nkind = \"traffic.counter\"\n\n[plugin_policy]\nallow_unsigned = true\n\n\
         [[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n\n\
         [[sources]]\nid = \"feed\"\nadapter = \"counts\"\nkind = \"mqtt\"\nbroker = \"mqtt://127.0.0.1:9\"\n\
         topics = [\"counts/#\"]\nclient_id = \"sangam-killed\"\n",
        csv.display()
    );
    let scene = dir.join("scene.toml");
    std::fs::write(&scene, text).unwrap();
    let twin = sangam_twin::Scene::load(&scene).unwrap();
    // The broker keeps messages for a session once it has subscribed: make it, as the recorder will.
    {
        let options = sangam_data::Options { broker: Some(broker.url()) };
        let sources = sangam_data::Sources::start(&twin.sources, &options).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while sources.statuses()[0].state != sangam_data::SourceState::Connected {
            assert!(std::time::Instant::now() < deadline, "{:?}", sources.statuses());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let record = |out: &Path, duration: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sangam"));
        c.args(["record", scene.to_str().unwrap(), "-o", out.to_str().unwrap(), "--broker", &broker.url()])
            .env("SANGAM_PLUGIN_PATH", plugin_dir())
            .env("RUST_LOG", "warn");
        if let Some(d) = duration {
            c.args(["--duration", d]);
        }
        c
    };
    let (first, second) = (dir.join("first.mcap"), dir.join("second.mcap"));
    let mut recorder = record(&first, None).spawn().expect("sangam record runs");
    // 3,000 messages over 3 s, in batches of 100 every 0.1 s.
    let n = 3_000u64;
    let url = broker.url();
    let publisher = std::thread::spawn(move || {
        let mut publisher = sangam_data::broker::Publisher::connect(&url, "counter-box").unwrap();
        for batch in 0..n / 100 {
            let messages = (batch * 100..(batch + 1) * 100)
                .map(|i| ("counts/s1".to_string(), format!("id,time,flow[veh/h]\ns1,{i},{i}\n").into_bytes()))
                .collect();
            publisher.publish(messages).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    // Killed outright while the stream is coming in: once its file holds more than its start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&first).map_or(0, |m| m.len()) < 4096 {
        assert!(std::time::Instant::now() < deadline, "the recorder wrote nothing");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!publisher.is_finished(), "the stream is still coming in when the recorder is killed");
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    publisher.join().unwrap();
    let out = record(&second, Some("4")).output().expect("sangam record runs again");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let numbers = |path: &Path| -> std::collections::BTreeSet<u64> {
        let rec = Recording::open_with_inputs(path).unwrap_or_else(|e| panic!("{e}"));
        rec.input_records
            .iter()
            .map(|r| {
                let text = String::from_utf8(r.payload().unwrap()).unwrap();
                text.lines().nth(1).unwrap().rsplit(',').next().unwrap().parse().unwrap()
            })
            .collect()
    };
    let (before, after) = (numbers(&first), numbers(&second));
    assert!(!before.is_empty(), "the first recorder recorded some before it was killed");
    let all: std::collections::BTreeSet<u64> = before.union(&after).copied().collect();
    let lost: Vec<u64> = (0..n).filter(|i| !all.contains(i)).collect();
    assert!(
        lost.is_empty(),
        "{} lost, e.g. {:?} ({} before the kill, {} after)",
        lost.len(),
        &lost[..lost.len().min(5)],
        before.len(),
        after.len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_demo_sites_scenarios_run_and_bad_choices_are_refused_with_the_fix() {
    let scene = repo().join("assets/sites/new-delhi-ina/scene.toml");
    let scene = scene.to_str().unwrap();
    let headless = ["--headless", "--frames", "10", "--size", "160x90", "--stats"];
    let shot = std::env::temp_dir().join(format!("sangam-scenario-{}.png", std::process::id()));
    let mut args = vec!["run", scene, "--scenario", "ring-road-lane-closed", "--set", "cell-load.decay-rate=0.2"];
    args.extend(headless);
    args.extend(["--screenshot", shot.to_str().unwrap()]);
    let (code, stdout, stderr) = sangam(&args);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("scenario ring-road-lane-closed, --set cell-load.decay-rate=0.2"), "{stdout}");
    assert!(stdout.contains("stats: plugin traffic (adapter): running"), "{stdout}");
    let _ = std::fs::remove_file(shot);
    // An unknown scenario lists the scene's; a value the manifest refuses names plugin, parameter, range.
    let mut args = vec!["run", scene, "--scenario", "flood"];
    args.extend(headless);
    let (code, _, stderr) = sangam(&args);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("no scenario `flood`")
            && stderr.contains("ring-road-lane-closed, ring-road-closed, tilt-plus-2, slow-load-response"),
        "{stderr}"
    );
    let mut args = vec!["run", scene, "--set", "traffic.lane-capacity=5000"];
    args.extend(headless);
    let (code, _, stderr) = sangam(&args);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("traffic") && stderr.contains("lane-capacity") && stderr.contains("at most 3000"),
        "{stderr}"
    );
    let mut args = vec!["run", scene, "--set", "radio.tilt=2"];
    args.extend(headless);
    let (code, _, stderr) = sangam(&args);
    assert_ne!(code, 0);
    assert!(stderr.contains("`radio.tilt` is not PLUGIN.PARAMETER") && stderr.contains("cell-load"), "{stderr}");
}
