//! Live data through the session: an MQTT source on a real Mosquitto feeds the CSV adapter; every
//! message published lands in the twin and in the recording, and is acknowledged to the broker only
//! once recorded (a second subscriber under the same client id gets nothing again).

use std::time::{Duration, Instant};

use sangam_data::broker::{LocalBroker, publish_all};
use sangam_data::{Options, SourceState, Sources};
use sangam_session::record::reader::Recording;
use sangam_twin::EntityId;

use crate::{repo, scene, session};

#[test]
fn every_message_published_lands_in_the_twin_and_the_recording_and_is_acknowledged_after() {
    let broker = LocalBroker::start().unwrap();
    let csv = repo().join("plugins/csv-adapter/plugin.toml");
    let body = format!(
        "[[entities]]\nid = \"s1\"\nkind = \"traffic.counter\"\n\n\
         [[plugins]]\nid = \"counts\"\nartifact = \"csv_adapter.wasm\"\nmanifest = \"{}\"\n\n\
         [[sources]]\nid = \"feed\"\nadapter = \"counts\"\nkind = \"mqtt\"\nbroker = \"mqtt://127.0.0.1:9\"\n\
         topics = [\"counts/#\"]\nclient_id = \"sangam-live-test\"\n",
        csv.display()
    );
    let scene = scene("live-mqtt", &body);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.mcap");
    let mut s = session(&scene);
    s.start_recording(&scene, &path).unwrap();
    s.start_sources(&scene, &Options { broker: Some(broker.url()) }).unwrap_or_else(|e| panic!("{e:#}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.sources().unwrap().statuses()[0].state != SourceState::Connected {
        assert!(Instant::now() < deadline, "{:?}", s.status_lines());
        s.tick(Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(5));
    }
    let n = 300;
    let payloads = (0..n).map(|i| format!("id,time,flow[veh/h]\ns1,{i},{}\n", 1000 + i).into_bytes()).collect();
    publish_all(broker.port(), "counter-box", "counts/s1", payloads).unwrap();
    let flows = |s: &sangam_session::Session| s.store().series(&EntityId::new("s1"), "flow").map_or(0, |x| x.len());
    let deadline = Instant::now() + Duration::from_secs(30);
    while flows(&s) < n {
        assert!(Instant::now() < deadline, "{} of {n} flows in the twin: {:?}", flows(&s), s.status_lines());
        s.tick(Duration::from_millis(16));
        std::thread::sleep(Duration::from_millis(2));
    }
    let lines = s.status_lines().join("\n");
    assert!(lines.contains("source feed (mqtt): connected; 300 messages"), "{lines}");
    let (_, latest) = s.store().latest(&EntityId::new("s1"), "flow").unwrap();
    assert_eq!(latest.as_f64(), Some((1000 + n - 1) as f64), "the last message's value is the latest");
    s.finish_recording().unwrap();
    drop(s);
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.inputs.get("counts"), Some(&(n as u64)), "every message is in the recording");

    // Every message was acknowledged once recorded: the broker has nothing to send again to the
    // same client id.
    let source = scene.sources[0].clone();
    let mut again = Sources::start(&[source], &Options { broker: Some(broker.url()) }).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while again.statuses()[0].state != SourceState::Connected {
        assert!(Instant::now() < deadline, "{:?}", again.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(again.try_next().is_none(), "a message came again: it was not acknowledged: {:?}", again.statuses());
}
