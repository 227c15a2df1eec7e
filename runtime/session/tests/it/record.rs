//! Record -> replay: a session with a simulation, an adapter fed by a source and an overlay is
//! recorded to MCAP; replayed (at once, twice, and tick by tick) it reaches the recorded state hash.
//! A recording cut short or damaged is read up to the damage with a warning naming the byte; a file
//! that is not a recording, of another version, or of another scene is refused with the reason.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sangam_plugins::{OverlayFrame, Role};
use sangam_session::record::reader::Recording;
use sangam_session::record::travel;
use sangam_session::{Message, RecordingError, Session, Verdict};
use sangam_twin::{EntityId, Scene, SimTime};

use crate::{repo, scene, session, settle};

/// Tanks decaying, counters fed by CSV messages, labels over the tanks.
fn twin_scene(name: &str) -> Scene {
    let decay = repo().join("plugins/decay-simulation/plugin.toml");
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let labels = repo().join("plugins/threshold-labels/plugin.toml");
    let tanks: String = (0..20)
        .map(|i| {
            format!(
                "[[entities]]\nid = \"tank-{i}\"\nkind = \"process.tank\"\n[entities.properties]\nlevel = {}.0\n\n",
                50 + i
            )
        })
        .collect();
    scene(
        name,
        &format!(
            r#"[clock]
step_ms = 10
catch_up_steps = 32

{tanks}[[entities]]
id = "s1"
kind = "traffic.counter"

[[plugins]]
id = "decay"
artifact = "decay_simulation.wasm"
manifest = "{}"
kinds = ["process.tank"]
step_ms = 10
[plugins.params]
property = "level"
decay-rate = 0.5

[[plugins]]
id = "counts"
artifact = "csv_adapter.wasm"
manifest = "{}"

[[plugins]]
id = "labels"
artifact = "threshold_labels.wasm"
manifest = "{}"
kinds = ["process.tank"]
[plugins.params]
property = "level"
warning = 55.0
critical = 65.0
"#,
            decay.display(),
            csv.display(),
            labels.display()
        ),
    )
}

fn out(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-record-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("session.mcap")
}

/// Records 40 frames of `scene` with a message each frame; returns the recorded end hash, the live
/// session and every overlay frame it showed.
fn record(scene: &Scene, path: &Path) -> (String, Session, Vec<Arc<OverlayFrame>>) {
    let mut s = session(scene);
    s.start_recording(scene, path).unwrap_or_else(|e| panic!("{e:#}"));
    let frame = Duration::from_micros(16_667);
    let mut shown = Vec::new();
    for i in 0..40 {
        let message = Message {
            source: "counts.csv".into(),
            content_type: "text/csv".into(),
            received: s.time().clock().now(),
            payload: format!("id,time,flow[veh/h]\ns1,{i},{}\n", 900 + 7 * i).into_bytes(),
        };
        s.offer("counts", message).unwrap();
        s.tick(frame);
        shown.extend(s.overlays().map(|(_, f)| f.clone()));
        std::thread::sleep(frame);
    }
    let flows = |s: &Session| s.store().series(&EntityId::new("s1"), "flow").map_or(0, |x| x.len());
    settle(&mut s, |s| flows(s) == 40 && !s.plugins().supervisor().unwrap().is_busy("decay"));
    let hash = s.state_hash().to_string();
    let summary = s.finish_recording().unwrap().expect("it was recording");
    assert!(summary.messages >= 40 + 10, "40 inputs and the ticks' changes: {summary:?}");
    (hash, s, shown)
}

#[test]
fn a_replayed_recording_reaches_the_recorded_state_hash_every_time() {
    let scene = twin_scene("record-replay");
    let path = out("replay");
    let (live_hash, live, shown) = record(&scene, &path);

    let rec = Recording::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.inputs.get("counts"), Some(&40), "every accepted message is recorded");
    assert_eq!(rec.end.as_ref().unwrap().state_hash.to_string(), live_hash);
    assert!(rec.changes.len() > 10, "the ticks' changes: {}", rec.changes.len());

    // At max speed, twice: the same twin each time.
    for _ in 0..2 {
        let mut r = Session::replay(&scene, Recording::open(&path).unwrap()).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(r.replay_to_end() > 0);
        let verdict = r.replaying().unwrap().verdict(r.store());
        assert!(matches!(verdict, Verdict::Match(_)), "{verdict}");
        assert_eq!(r.state_hash().to_string(), live_hash);
        // The replay shows the live run's data: the last flow the adapter parsed.
        let flow = r.store().latest(&EntityId::new("s1"), "flow").unwrap().1.as_f64().unwrap();
        assert_eq!(flow, (900 + 7 * 39) as f64);
    }

    // Tick by tick at the recorded pace: the state is reached once the clock reaches the end.
    let mut r = Session::replay(&scene, rec).unwrap();
    let end = r.replaying().unwrap().end_progress();
    let mut ticks = 0;
    while r.progress_us() < end || !r.replaying().unwrap().is_done() {
        let verdict = r.replaying().unwrap().verdict(r.store());
        assert!(matches!(verdict, Verdict::InProgress { .. }), "{verdict}");
        r.tick(Duration::from_micros(16_667));
        ticks += 1;
        assert!(ticks < 10_000, "the replay never reached the end ({} of {end} us)", r.progress_us());
    }
    assert_eq!(r.state_hash().to_string(), live_hash);
    assert!(r.time().is_paused(), "a replay holds still at its end");
    let lines = r.status_lines().join("\n");
    assert!(lines.contains("replay matches the recording"), "{lines}");
    // The overlay is shown as it was recorded; it does not run again.
    assert_eq!(r.plugins().count(Role::Overlay), 0, "a recorded overlay is not run in its replay");
    let (id, last) = r.overlays().next().expect("the recorded overlay is shown");
    assert_eq!(id, "labels");
    assert!(shown.iter().any(|f| f.as_ref() == last.as_ref()), "the replay shows a frame the live session showed");

    // Time travel: the twin as it was halfway, and the overlay drawn for then.
    let start = live.time().clock().start();
    let end = live.time().clock().now();
    let mid = SimTime::from_micros((start.as_micros() + end.as_micros()) / 2);
    let mut t = Session::replay(&scene, Recording::open(&path).unwrap()).unwrap();
    t.replay_seek(mid).unwrap_or_else(|e| panic!("{e:#}"));
    for i in [0, 7, 19] {
        let id = EntityId::new(format!("tank-{i}"));
        let then = live.store().value_at(&id, "level", mid).unwrap();
        assert_eq!(t.store().value_at(&id, "level", t.display_time()).unwrap(), then, "tank-{i} at the middle");
        assert_ne!(live.store().latest(&id, "level").unwrap().1, then, "tank-{i} moved on after the middle");
    }
    // The overlay as it was shown then: the last frame recorded for a time at or before the middle,
    // one the live session showed, drawn at most one recording period (0.1 s) before it.
    let rec = Recording::open(&path).unwrap();
    let recorded = &rec.overlays["labels"];
    assert!(recorded.len() >= 3, "ten frames a simulated second are kept: {}", recorded.len());
    let (_, then) = t.overlays().find(|(id, _)| *id == "labels").expect("the overlay of the middle is shown");
    let expected = recorded.iter().rfind(|f| f.frame.time <= mid.as_micros()).unwrap();
    assert_eq!(then.as_ref(), expected.frame.as_ref());
    let before = mid.as_micros() - then.time;
    assert!((0..=200_000).contains(&before), "drawn {before} us before the middle");
    assert!(shown.iter().any(|f| f.as_ref() == then.as_ref()), "the live session showed it");
    assert!(t.time().is_paused() && t.display_time() == mid);
    // Outside the recording: a clear error naming it.
    let mut u = Session::replay(&scene, Recording::open(&path).unwrap()).unwrap();
    let e = format!("{:#}", u.replay_seek(SimTime::from_micros(end.as_micros() + 60_000_000)).unwrap_err());
    assert!(e.contains("outside the recording") && e.contains("session.mcap"), "{e}");
}

#[test]
fn time_travel_reads_the_end_snapshot_and_shows_what_a_full_replay_shows() {
    let scene = twin_scene("record-travel");
    let path = out("travel");
    let (live_hash, live, _) = record(&scene, &path);
    let start = live.time().clock().start();
    let at = Duration::from_micros(((live.time().clock().now().as_micros() - start.as_micros()) / 2) as u64);
    let mid = start.saturating_add_micros(at.as_micros() as i64);

    // The end snapshot holds the twin as it ended, found through the summary without reading a change.
    let travel = travel::open_at(&path, mid.as_micros()).unwrap().expect("a finished recording has an end snapshot");
    assert_eq!(travel.store.state_hash().to_string(), live_hash);
    assert_eq!(travel.end.state_hash.to_string(), live_hash);

    // From it, time travel shows what the whole recording replayed and a seek show.
    let fast = Session::time_travel(&scene, &path, at).unwrap_or_else(|e| panic!("{e:#}"));
    let mut slow = Session::replay(&scene, Recording::open(&path).unwrap()).unwrap();
    slow.replay_seek(mid).unwrap();
    assert_eq!(fast.state_hash(), slow.state_hash());
    assert_eq!((fast.display_time(), slow.display_time()), (mid, mid));
    assert!(fast.time().is_paused());
    for i in 0..20 {
        let id = EntityId::new(format!("tank-{i}"));
        assert_eq!(fast.store().value_at(&id, "level", mid), slow.store().value_at(&id, "level", mid), "tank-{i}");
    }
    let frames = |s: &Session| s.overlays().map(|(id, f)| (id.to_string(), f.clone())).collect::<Vec<_>>();
    assert!(!frames(&fast).is_empty(), "the overlay of the middle is shown");
    assert_eq!(frames(&fast), frames(&slow), "the same overlay frame as the full replay picks");
    assert!(matches!(fast.replaying().unwrap().verdict(fast.store()), Verdict::Match(_)));
    // Outside the recording: the same clear error.
    let e = format!("{:#}", Session::time_travel(&scene, &path, Duration::from_secs(3600)).err().unwrap());
    assert!(e.contains("outside the recording") && e.contains("session.mcap"), "{e}");

    // A snapshot damaged on disk is caught by its CRC; time travel then replays, to the same twin.
    let bytes = std::fs::read(&path).unwrap();
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary");
    let snapshot = summary.attachment_indexes.iter().find(|a| a.name == "sangam.twin-snapshot").unwrap();
    let mut flipped = bytes.clone();
    flipped[(snapshot.offset + snapshot.length / 2) as usize] ^= 0x40;
    let damaged = path.with_file_name("damaged-snapshot.mcap");
    std::fs::write(&damaged, &flipped).unwrap();
    let e = travel::open_at(&damaged, mid.as_micros()).err().expect("the damage is found");
    assert!(e.to_string().contains("damaged-snapshot.mcap") && e.to_string().contains("byte"), "{e}");
    let recovered = Session::time_travel(&scene, &damaged, at).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(recovered.state_hash(), slow.state_hash());
    // A recording cut short has no summary, so no snapshot: it is replayed.
    let cut = path.with_file_name("cut-travel.mcap");
    std::fs::write(&cut, &bytes[..snapshot.offset as usize]).unwrap();
    assert!(travel::open_at(&cut, mid.as_micros()).unwrap().is_none());
    let replayed = Session::time_travel(&scene, &cut, at).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(replayed.state_hash(), slow.state_hash(), "everything before the snapshot is there");
}

#[test]
fn a_cut_or_damaged_recording_is_read_up_to_the_damage_with_a_warning() {
    let scene = twin_scene("record-cut");
    let path = out("cut");
    record(&scene, &path);
    let bytes = std::fs::read(&path).unwrap();
    let whole = Recording::open(&path).unwrap();
    // The messages end where the end snapshot starts (time travel's test damages that).
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary");
    let data_end = summary.attachment_indexes[0].offset as usize;

    // Cut in the middle (a recorder killed while writing).
    let cut = path.with_file_name("cut.mcap");
    std::fs::write(&cut, &bytes[..data_end * 2 / 3]).unwrap();
    let rec = Recording::open(&cut).unwrap_or_else(|e| panic!("a cut recording is recovered, not refused: {e}"));
    assert!(rec.end.is_none());
    assert!(rec.changes.len() <= whole.changes.len());
    assert_eq!(&whole.changes[..rec.changes.len()], &rec.changes[..], "what was recovered is what was written");
    let w = rec.warnings.join("\n");
    assert!(w.contains("cut.mcap") && w.contains("byte"), "the warning names the file and the byte: {w}");
    // Replayed, it applies what it holds and says there is no end to compare with.
    let mut r = Session::replay(&scene, rec).unwrap();
    r.replay_to_end();
    assert!(matches!(r.replaying().unwrap().verdict(r.store()), Verdict::NoEnd(_)));

    // One byte flipped in the middle of the data: that chunk's CRC fails; what is before it is kept.
    let flipped = path.with_file_name("flipped.mcap");
    let mut damaged = bytes.clone();
    let at = data_end / 2;
    damaged[at] ^= 0x55;
    std::fs::write(&flipped, &damaged).unwrap();
    match Recording::open(&flipped) {
        Ok(rec) => {
            assert!(!rec.warnings.is_empty(), "damage is never silent");
            assert_eq!(&whole.changes[..rec.changes.len()], &rec.changes[..]);
        }
        Err(e) => assert!(e.to_string().contains("flipped.mcap") && e.to_string().contains("byte"), "{e}"),
    }

    // A recording larger than a replay keeps in memory: read up to the limit, with a warning.
    let limited = Recording::open_within(&path, 4096).unwrap();
    assert!(limited.changes.len() < whole.changes.len(), "{} of {}", limited.changes.len(), whole.changes.len());
    assert_eq!(&whole.changes[..limited.changes.len()], &limited.changes[..]);
    assert!(
        limited.warnings.iter().any(|w| w.contains("keeps in memory") && w.contains("byte")),
        "{:?}",
        limited.warnings
    );

    // Every cut length: never a panic, always a recovery or a clear refusal.
    for len in (0..bytes.len()).step_by((bytes.len() / 97).max(1)) {
        let p = path.with_file_name("short.mcap");
        std::fs::write(&p, &bytes[..len]).unwrap();
        match Recording::open(&p) {
            // A cut past the end record loses only the end snapshot and the indexes: nothing to warn
            // of for a replay (time travel, which reads them, replays instead: tested above).
            Ok(rec) if rec.end.is_some() => assert!(rec.changes == whole.changes, "cut at {len}: all changes"),
            Ok(rec) => assert!(!rec.warnings.is_empty(), "cut at {len}: a warning"),
            Err(e) => assert!(e.to_string().contains("short.mcap"), "cut at {len}: {e}"),
        }
    }
}

#[test]
fn foreign_other_version_and_other_scene_recordings_are_refused_with_the_reason() {
    let scene = twin_scene("record-refuse");
    let path = out("refuse");
    record(&scene, &path);

    // Not MCAP at all.
    let text = path.with_file_name("notes.mcap");
    std::fs::write(&text, b"these are not the bytes you are looking for").unwrap();
    let e = Recording::open(&text).unwrap_err();
    assert!(matches!(e, RecordingError::NotARecording { .. }) && e.to_string().contains("notes.mcap"), "{e}");

    // An MCAP file of another profile (a ROS bag, say).
    let foreign = path.with_file_name("ros.mcap");
    {
        let mut w = mcap::WriteOptions::new().profile("ros2").create(std::fs::File::create(&foreign).unwrap()).unwrap();
        w.finish().unwrap();
    }
    let e = Recording::open(&foreign).unwrap_err();
    assert!(e.to_string().contains("ros2") && e.to_string().contains("ros.mcap"), "{e}");

    // Another format version.
    let future = path.with_file_name("future.mcap");
    {
        let mut w =
            mcap::WriteOptions::new().profile("sangam").create(std::fs::File::create(&future).unwrap()).unwrap();
        let metadata = [("format_version".to_string(), "99".to_string()), ("runtime".into(), "sangam 9.0.0".into())];
        w.write_metadata(&mcap::records::Metadata { name: "sangam.recording".into(), metadata: metadata.into() })
            .unwrap();
        w.finish().unwrap();
    }
    let e = Recording::open(&future).unwrap_err();
    assert!(matches!(e, RecordingError::Version { .. }) && e.to_string().contains("sangam 9.0.0"), "{e}");

    // Another scene (the same scene file with one value changed).
    let text = std::fs::read_to_string(&scene.path).unwrap().replace("level = 50.0", "level = 51.0");
    let other_path = scene.path.with_file_name("other.toml");
    std::fs::write(&other_path, text).unwrap();
    let other = Scene::load(&other_path).unwrap();
    let e = Session::replay(&other, Recording::open(&path).unwrap()).err().expect("refused");
    let e = format!("{e:#}");
    assert!(e.contains("another scene") && e.contains("other.toml"), "{e}");
}
