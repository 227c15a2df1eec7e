//! Data governance: a plugin never sees a property or an entity kind the scene did not grant it
//! (revoke winning over grant), whatever it asks for; the access log says who read what, and a
//! recording keeps it.

use std::time::Duration;

use sangam_session::record::reader::Recording;
use sangam_session::{AccessEntry, Message, Session, Verdict};
use sangam_twin::TwinEventKind;

use crate::{decay_plugin, repo, scene, session, settle};

/// Five tanks and three valves, each with a public `level` and a `secret` reading; four copies of the
/// threshold-label overlay, all asked to label `secret`: one granted everything, one with `secret`
/// revoked, one granted `level` only, one with the valves' kind revoked.
fn governed_scene() -> sangam_twin::Scene {
    scene("governance", &governed_body())
}

/// The body of [`governed_scene`].
fn governed_body() -> String {
    let labels = repo().join("plugins/threshold-labels/plugin.toml");
    let mut body = String::new();
    for (i, kind) in ["process.tank"; 5].iter().chain(["process.valve"; 3].iter()).enumerate() {
        body.push_str(&format!(
            "[[entities]]\nid = \"e{i}\"\nkind = \"{kind}\"\n[entities.properties]\nlevel = {}.0\nsecret = {}.0\n\n",
            40 + i,
            60 + i
        ));
    }
    for (id, read) in [
        ("open", ""),
        ("spy", "[plugins.read]\nrevoke = [\"secret\"]\n"),
        ("narrow", "[plugins.read]\nproperties = [\"level\"]\n"),
        ("tanks-only", "[plugins.read]\nrevoke = [\"kind:process.valve\"]\n"),
    ] {
        body.push_str(&format!(
            "[[plugins]]\nid = \"{id}\"\nartifact = \"threshold_labels.wasm\"\nmanifest = \"{}\"\n[plugins.params]\n\
             property = \"secret\"\nwarning = 55.0\ncritical = 65.0\n{read}\n",
            labels.display()
        ));
    }
    body
}

fn labels(s: &Session, id: &str) -> usize {
    s.plugins().overlays().find(|(p, _)| *p == id).map_or(0, |(_, f)| f.labels.texts.len())
}

fn last_read<'a>(entries: &'a [AccessEntry], plugin: &str) -> &'a AccessEntry {
    entries.iter().rev().find(|e| e.plugin == plugin).unwrap_or_else(|| panic!("no access entry for {plugin}"))
}

#[test]
fn a_plugin_never_sees_what_it_was_not_granted_and_the_access_log_says_who_read_what() {
    let scene = governed_scene();
    let mut s = session(&scene);
    let dir = std::env::temp_dir().join(format!("sangam-governance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("governed.mcap");
    s.start_recording(&scene, &path).unwrap();
    let ids = ["open", "spy", "narrow", "tanks-only"];
    settle(&mut s, |s| ids.iter().all(|id| s.plugins().overlays().any(|(p, _)| p == *id)));
    s.tick(Duration::from_millis(20));
    settle(&mut s, |s| ids.iter().all(|id| s.plugins().overlays().any(|(p, _)| p == *id)));

    // Every secret is above the warning threshold: the plugin that may read them labels all eight;
    // the ones that may not see nothing to label, though they asked for exactly that property.
    assert_eq!(labels(&s, "open"), 8);
    assert_eq!(labels(&s, "spy"), 0, "revoked: the property is not in its view");
    assert_eq!(labels(&s, "narrow"), 0, "not granted: only `level` is in its view");
    assert_eq!(labels(&s, "tanks-only"), 5, "the valves' kind is revoked: it knows only the five tanks");

    let recent: Vec<AccessEntry> = s.plugins().access_log().recent().cloned().collect();
    assert_eq!(last_read(&recent, "open").properties, ["level", "secret"]);
    assert_eq!(last_read(&recent, "spy").properties, ["level"]);
    assert_eq!(last_read(&recent, "narrow").properties, ["level"]);
    let tanks = last_read(&recent, "tanks-only");
    assert_eq!(
        (tanks.entities, tanks.properties.as_slice()),
        (5, ["level".to_string(), "secret".to_string()].as_slice())
    );
    let lines = s.status_lines().join("\n");
    assert!(lines.contains("spy read [level] of 8 entities"), "{lines}");

    // The recording keeps the access log.
    s.finish_recording().unwrap();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(last_read(&rec.access, "spy").properties, ["level"]);
    assert_eq!(last_read(&rec.access, "open").properties, ["level", "secret"]);
}

#[test]
fn read_grants_that_name_nothing_real_are_refused_at_load_with_the_line() {
    let dir = std::env::temp_dir().join(format!("sangam-governance-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scene.toml");
    let text = "format = 1\nname = \"x\"\n\n[origin]\nlat = 28.5\nlon = 77.2\n\n[[entities]]\nid = \"a\"\nkind = \"k\"\n\n\
                [[plugins]]\nid = \"p\"\nartifact = \"x.wasm\"\n[plugins.read]\nrevoke = [\"kind:nope\"]\n";
    std::fs::write(&path, text).unwrap();
    let e = sangam_twin::Scene::load(&path).unwrap_err().to_string();
    assert!(e.contains("kind `nope`") && e.contains("scene.toml:"), "{e}");
    std::fs::write(&path, text.replace("revoke = [\"kind:nope\"]", "revoke = [\"\"]")).unwrap();
    let e = sangam_twin::Scene::load(&path).unwrap_err().to_string();
    assert!(e.contains("not a property name"), "{e}");
    std::fs::write(&path, text.replace("revoke = [\"kind:nope\"]", "grant = [\"x\"]")).unwrap();
    let e = sangam_twin::Scene::load(&path).unwrap_err().to_string();
    assert!(e.contains("grant"), "an unknown key is named: {e}");
}

/// The governed scene with two decay simulations moving `level` and `secret`, and a CSV adapter.
fn moving_scene() -> sangam_twin::Scene {
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let mut body = governed_body();
    for property in ["level", "secret"] {
        body.push_str(&decay_plugin(&format!("decay-{property}"), property, 1.0, 10));
    }
    body.push_str(&format!(
        "[[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n",
        csv.display()
    ));
    scene("governance-moving", &body)
}

/// Records 30 frames of `scene`, redacted for `plugin` or not, with one input message.
fn record_moving(scene: &sangam_twin::Scene, name: &str, redact: Option<&str>) -> Recording {
    let mut s = session(scene);
    let dir = std::env::temp_dir().join(format!("sangam-governance-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    match redact {
        Some(plugin) => s.start_recording_redacted(scene, &path, plugin).unwrap(),
        None => s.start_recording(scene, &path).unwrap(),
    }
    let message = Message {
        source: "counts.csv".into(),
        content_type: "text/csv".into(),
        received: s.time().clock().now(),
        payload: b"id,time,secret[1]\ne0,0,99\n".to_vec(),
    };
    s.offer("counts", message).unwrap();
    for _ in 0..30 {
        s.tick(Duration::from_millis(17));
        std::thread::sleep(Duration::from_millis(17));
    }
    settle(&mut s, |s| {
        let sup = s.plugins().supervisor().unwrap();
        !sup.is_busy("decay-level") && !sup.is_busy("decay-secret")
    });
    s.finish_recording().unwrap();
    Recording::open(&path).unwrap()
}

fn properties_recorded(rec: &Recording) -> std::collections::BTreeSet<String> {
    rec.changes
        .iter()
        .flat_map(|c| &c.events)
        .filter_map(|e| match &e.kind {
            TwinEventKind::PropertyRecorded { property, .. } => Some(property.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_recording_redacted_for_a_plugin_holds_only_what_that_plugin_may_see() {
    let scene = moving_scene();
    let full = record_moving(&scene, "full.mcap", None);
    assert_eq!(properties_recorded(&full), ["level", "secret"].map(String::from).into());
    assert_eq!(full.inputs.get("counts"), Some(&1));

    let redacted = record_moving(&scene, "for-spy.mcap", Some("spy"));
    assert_eq!(redacted.info.redacted_for.as_deref(), Some("spy"));
    assert_eq!(properties_recorded(&redacted), ["level"].map(String::from).into(), "no `secret` for spy");
    assert!(redacted.inputs.is_empty(), "raw inputs may hold anything: none is written");
    assert!(full.overlays.contains_key("open"), "the overlays' frames are recorded: {:?}", full.overlays.keys());
    assert!(redacted.overlays.is_empty(), "overlay frames draw what others may see: none is written");
    let no_snapshot = sangam_session::record::travel::open_at(&redacted.info.path, 0).unwrap();
    assert!(no_snapshot.is_none(), "a redacted recording holds no snapshot of the whole twin");
    assert!(sangam_session::record::travel::open_at(&full.info.path, 0).unwrap().is_some());

    // For the plugin whose grant revokes the valves' kind: only the five tanks' changes.
    let tanks = record_moving(&scene, "for-tanks.mcap", Some("tanks-only"));
    let entities: std::collections::BTreeSet<String> = tanks
        .changes
        .iter()
        .flat_map(|c| &c.events)
        .filter_map(|e| match &e.kind {
            TwinEventKind::PropertyRecorded { entity, .. } => Some(entity.as_str().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(entities, (0..5).map(|i| format!("e{i}")).collect());

    // Replayed, it says what it is rather than claiming the recorded twin.
    let mut r = Session::replay(&scene, redacted).unwrap();
    r.replay_to_end();
    assert!(matches!(r.replaying().unwrap().verdict(r.store()), Verdict::Redacted { .. }));
    // A plugin the scene does not have is named with the ones it has.
    let mut s = session(&scene);
    let e = format!(
        "{:#}",
        s.start_recording_redacted(&scene, &std::env::temp_dir().join("x.mcap"), "nobody").unwrap_err()
    );
    assert!(e.contains("`nobody`") && e.contains("spy"), "{e}");
}

/// Twelve cells and three core sites, a CSV adapter that reads their subscriber counts (declared
/// aggregate-only, k = 10), and an overlay that asks to label them.
fn aggregate_scene() -> sangam_twin::Scene {
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let labels = repo().join("plugins/threshold-labels/plugin.toml");
    let mut body = String::from("[[governance.aggregate_only]]\nproperty = \"subscribers\"\nk = 10\n\n");
    for i in 0..15 {
        let kind = if i < 12 { "telecom.cell" } else { "telecom.core" };
        body.push_str(&format!("[[entities]]\nid = \"c{i}\"\nkind = \"{kind}\"\n\n"));
    }
    body.push_str(&format!(
        "[[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n\n\
         [[plugins]]\nid = \"labels\"\nartifact = \"threshold_labels.wasm\"\nmanifest = \"{}\"\n\
         [plugins.params]\nproperty = \"subscribers\"\nwarning = 1.0\ncritical = 2.0\n",
        csv.display(),
        labels.display()
    ));
    scene("governance-aggregate", &body)
}

#[test]
fn aggregate_only_values_leave_their_adapter_only_as_aggregates_over_at_least_k_entities() {
    let scene = aggregate_scene();
    let mut s = session(&scene);
    let dir = std::env::temp_dir().join(format!("sangam-governance-agg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("aggregate.mcap");
    s.start_recording(&scene, &path).unwrap();
    let mut csv = String::from("id,time,subscribers[1]\n");
    for i in 0..15 {
        csv.push_str(&format!("c{i},0,{}\n", 100 + 10 * i));
    }
    let message = Message {
        source: "counts.csv".into(),
        content_type: "text/csv".into(),
        received: s.time().clock().now(),
        payload: csv.into_bytes(),
    };
    s.offer("counts", message).unwrap();
    let cells = sangam_session::plugins::aggregate_entity("telecom.cell");
    settle(&mut s, |s| s.store().entity(&cells).is_some());
    s.tick(Duration::from_millis(20));
    settle(&mut s, |s| s.plugins().overlays().next().is_some());

    // No individual value is anywhere in the twin; the cells' group (12 >= k) is there as aggregates.
    for i in 0..15 {
        let id = sangam_twin::EntityId::new(format!("c{i}"));
        assert!(s.store().series(&id, "subscribers").is_none(), "c{i} holds no individual value");
    }
    let value = |p: &str| s.store().latest(&cells, p).map(|(_, v)| v.as_f64().unwrap());
    assert_eq!(value("subscribers.count"), Some(12.0));
    assert_eq!(value("subscribers.mean"), Some((0..12).map(|i| 100.0 + 10.0 * i as f64).sum::<f64>() / 12.0));
    assert_eq!((value("subscribers.min"), value("subscribers.max")), (Some(100.0), Some(210.0)));
    // The three core sites are fewer than k: no aggregate of them either.
    assert!(s.store().entity(&sangam_session::plugins::aggregate_entity("telecom.core")).is_none());
    let g = s.plugins().governance_stats();
    assert_eq!((g.individual_values, g.aggregates, g.small_groups), (15, 1, 1));
    // The overlay that asked for the individual counts has nothing to label.
    let labels = s.plugins().overlays().find(|(p, _)| *p == "labels").map_or(0, |(_, f)| f.labels.texts.len());
    assert_eq!(labels, 0);

    // The recording holds neither the raw message nor any individual value.
    s.finish_recording().unwrap();
    let rec = Recording::open(&path).unwrap();
    assert!(rec.inputs.is_empty(), "raw messages hold individual values: none is written");
    let props = properties_recorded(&rec);
    assert!(props.contains("subscribers.mean") && !props.contains("subscribers"), "{props:?}");
}

#[test]
fn a_scene_that_gives_an_aggregate_only_property_per_entity_is_refused() {
    let dir = std::env::temp_dir().join(format!("sangam-governance-agg-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scene.toml");
    let text = "format = 1\nname = \"x\"\n\n[origin]\nlat = 28.5\nlon = 77.2\n\n[[governance.aggregate_only]]\n\
                property = \"subscribers\"\n\n[[entities]]\nid = \"a\"\nkind = \"k\"\n[entities.properties]\n\
                subscribers = 12\n";
    std::fs::write(&path, text).unwrap();
    let e = sangam_twin::Scene::load(&path).unwrap_err().to_string();
    assert!(e.contains("aggregate-only") && e.contains("`a`") && e.contains("scene.toml:"), "{e}");
}
