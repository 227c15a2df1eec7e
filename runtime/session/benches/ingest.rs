//! Live-data ingest benchmark (issue 14's goal: >= 0.5 of a bare subscriber, >= 100k updates/s, p99
//! <= 100 ms from publish to the value in the twin, recording on). A real Mosquitto on loopback
//! (`sangam_data::broker`); the same stream of QoS 1 messages, each a JSON array of per-cell KPI
//! reports (invented values: 1,000 cells per message, five values each), is read:
//! - by a bare rumqttc subscriber (QoS 1, acknowledging at once) that parses each message's JSON, the
//!   baseline;
//! - by a session: an MQTT source, the first-party telecom-cells adapter (after its cell list, an
//!   untimed file source), the twin store, the recording on (each message acknowledged only once
//!   recorded).
//!
//! Throughput is values per second from the first publish to the last value seen; latency is from a
//! message's publish to its values being in the baseline's hands or the session's store (the session
//! ticks every millisecond here, so a frame adds nothing to it; a 60 Hz front end adds up to 16.7 ms).
//! The values counted are the five per report; the towers' aggregates the adapter adds are not.
//!
//! `cargo bench -p sangam-session --bench ingest`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs 20 messages, as a smoke test.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{Event, Packet, QoS};
use sangam_data::broker::LocalBroker;
use sangam_data::{Options, SourceState};
use sangam_session::Session;
use sangam_twin::{EntityId, Scene};

/// Cells per message.
const PER_MESSAGE: usize = 1_000;

/// Values per cell report.
const PER_REPORT: usize = 5;

/// The global id of cell `c` (test network MCC 001, MNC 01).
fn cell(c: usize) -> String {
    format!("1-1-1-{}", 256 + c)
}

/// The KPI reports of message `i`: every cell's throughput is `i` Mbit/s.
fn payload(i: usize) -> Vec<u8> {
    let mut text = String::from("[");
    for c in 0..PER_MESSAGE {
        if c > 0 {
            text.push(',');
        }
        let (prb, users) = (c % 100, c % 50);
        text.push_str(&format!(
            r#"{{"cell":"{}","rsrp_dbm":-95.5,"sinr_db":12.25,"prb_util_pct":{prb},"throughput_mbps":{i},"users":{users}}}"#,
            cell(c)
        ));
    }
    text.push(']');
    text.into_bytes()
}

/// The cell list: one site per cell, spread over a 0.1-degree square.
fn cell_list() -> String {
    let mut text = String::from("mcc,mnc,tac,cid,lat,lon\n");
    for c in 0..PER_MESSAGE {
        let (lat, lon) = (28.5 + (c / 40) as f64 * 0.004, 77.1 + (c % 40) as f64 * 0.004);
        text.push_str(&format!("1,1,1,{},{lat:.5},{lon:.5}\n", 256 + c));
    }
    text
}

/// Publishes `n` messages, as fast as the broker takes them or at `rate` messages per second,
/// noting when each went.
fn publish(port: u16, id: &str, topic: &str, n: usize, rate: Option<f64>, sent: Arc<Mutex<Vec<Instant>>>) {
    let id = id.to_string();
    let topic = topic.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut options = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
            options.set_keep_alive(Duration::from_secs(10)).set_inflight(100).set_max_packet_size(1 << 22, 1 << 22);
            let (client, mut events) = rumqttc::AsyncClient::new(options, 256);
            let payloads: Vec<Vec<u8>> = (0..n).map(payload).collect();
            tokio::spawn(async move {
                let start = tokio::time::Instant::now();
                for (i, p) in payloads.into_iter().enumerate() {
                    if let Some(rate) = rate {
                        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
                    }
                    sent.lock().unwrap().push(Instant::now());
                    client.publish(topic.clone(), QoS::AtLeastOnce, false, p).await.unwrap();
                }
            });
            let mut acked = 0;
            while acked < n {
                if let Ok(Event::Incoming(Packet::PubAck(_))) = events.poll().await {
                    acked += 1;
                }
            }
        });
    });
}

fn percentile(latencies: &mut [Duration], p: f64) -> Duration {
    latencies.sort();
    latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]
}

fn baseline(broker: &LocalBroker, n: usize) -> (Duration, Vec<Duration>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let mut options = rumqttc::MqttOptions::new("bare-subscriber", "127.0.0.1", broker.port());
        options.set_keep_alive(Duration::from_secs(10)).set_max_packet_size(1 << 22, 1 << 22);
        let (client, mut events) = rumqttc::AsyncClient::new(options, 256);
        let sub = client.clone();
        tokio::spawn(async move { sub.subscribe("bench/bare", QoS::AtLeastOnce).await.unwrap() });
        loop {
            if let Ok(Event::Incoming(Packet::SubAck(_))) = events.poll().await {
                break;
            }
        }
        publish(broker.port(), "bare-publisher", "bench/bare", n, None, sent.clone());
        let mut latencies = Vec::with_capacity(n);
        let mut first = None;
        while latencies.len() < n {
            if let Ok(Event::Incoming(Packet::Publish(p))) = events.poll().await {
                let now = Instant::now();
                let i = latencies.len();
                // The values are read as any consumer must: the JSON parsed.
                let reports: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
                assert_eq!(reports.as_array().map(Vec::len), Some(PER_MESSAGE));
                let at = sent.lock().unwrap()[i];
                first.get_or_insert(at);
                latencies.push(now - at);
            }
        }
        drop(client);
        (first.unwrap().elapsed(), latencies)
    })
}

fn scene(dir: &std::path::Path) -> Scene {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = repo.join("plugins/telecom-cells/plugin.toml");
    std::fs::write(dir.join("cells.csv"), cell_list()).unwrap();
    let text = format!(
        "format = 1\nname = \"ingest bench\"\n\n[origin]\nlat = 28.5697905\nlon = 77.2091030\n\n[plugin_policy]\n\
         allow_unsigned = true\n\n[[plugins]]\nid = \"telecom\"\nartifact = \"telecom_cells.wasm\"\nmanifest = \"{}\"\n\
         grant = [\"create-entities\"]\n[plugins.params]\ntower-radius-m = 0.0\n\n\
         [[sources]]\nid = \"cells\"\nadapter = \"telecom\"\nkind = \"file\"\npath = \"cells.csv\"\nuntimed = true\n\n\
         [[sources]]\nid = \"feed\"\nadapter = \"telecom\"\nkind = \"mqtt\"\nbroker = \"mqtt://127.0.0.1:9\"\n\
         topics = [\"bench/session\"]\nclient_id = \"sangam-ingest\"\n",
        manifest.display()
    );
    let path = dir.join("scene.toml");
    std::fs::write(&path, text).unwrap();
    Scene::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn session_run(broker: &LocalBroker, n: usize, rate: Option<f64>, id: &str) -> (Duration, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene(dir.path());
    let mut s = Session::load(&scene).unwrap_or_else(|e| panic!("{e:#}: run `cargo xtask build-plugins`"));
    s.start_recording(&scene, &dir.path().join("ingest.mcap")).unwrap();
    s.start_sources(&scene, &Options { broker: Some(broker.url()) }).unwrap();
    // The cell list read and every cell in the twin, the broker subscribed to.
    let probe = EntityId::new(format!("cell/{}", cell(PER_MESSAGE - 1)));
    let ready = |s: &Session| {
        let statuses = s.sources().unwrap().statuses();
        statuses.iter().all(|st| matches!(st.state, SourceState::Connected | SourceState::Finished))
            && s.store().entity(&probe).is_some()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready(&s) {
        assert!(Instant::now() < deadline, "the cells and the broker within 60 s: {:?}", s.status_lines());
        s.tick(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(1));
    }
    let sent = Arc::new(Mutex::new(Vec::new()));
    publish(broker.port(), id, "bench/session", n, rate, sent.clone());
    let mut latencies = Vec::with_capacity(n);
    let mut last = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    while latencies.len() < n {
        let now = Instant::now();
        s.tick(now - last);
        last = now;
        // The last report of a message is its last value applied: message i is in when it reads i.
        let seen = s.store().latest(&probe, "kpi.throughput").and_then(|(_, v)| v.as_f64()).map_or(-1.0, |v| v);
        let seen_at = Instant::now();
        while (latencies.len() as f64) <= seen && latencies.len() < n {
            let at = sent.lock().unwrap()[latencies.len()];
            latencies.push(seen_at - at);
        }
        assert!(Instant::now() < deadline, "not all in within 300 s: {:?}", s.status_lines());
        std::thread::sleep(Duration::from_millis(1));
    }
    let first = sent.lock().unwrap()[0];
    let elapsed = first.elapsed();
    s.finish_recording().unwrap();
    (elapsed, latencies)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 2_000 } else { 20 };
    // The goal's rate: 100k values per second.
    let paced = 100_000.0 / (PER_MESSAGE * PER_REPORT) as f64;
    let broker = LocalBroker::start().unwrap_or_else(|e| panic!("{e}"));
    let values = (n * PER_MESSAGE * PER_REPORT) as f64;
    let (bare_time, mut bare) = baseline(&broker, n);
    let (session_time, mut live) = session_run(&broker, n, None, "session-flood");
    let paced_n = if full { (paced * 10.0) as usize } else { 5 };
    let (_, mut steady) = session_run(&broker, paced_n, Some(paced), "session-paced");
    let per_s = |d: Duration| values / d.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "ingest: {n} QoS 1 messages of {PER_MESSAGE} cell reports, {} values ({} bytes each) through mosquitto on loopback",
        PER_MESSAGE * PER_REPORT,
        payload(0).len()
    );
    println!(
        "ingest: bare rumqttc subscriber parsing the JSON, flooded: {:.0} values/s ({:.0} messages/s); latency p50 {:.1} ms, p99 {:.1} ms",
        per_s(bare_time),
        n as f64 / bare_time.as_secs_f64(),
        ms(percentile(&mut bare, 0.5)),
        ms(percentile(&mut bare, 0.99))
    );
    println!(
        "ingest: session (MQTT source, telecom adapter, store, recording on), flooded: {:.0} values/s ({:.0} messages/s), \
         {:.2} of the bare subscriber (goal >= 0.5; >= 100k values/s); publish -> in the twin p50 {:.1} ms, p99 {:.1} ms \
         (queued behind the flood)",
        per_s(session_time),
        n as f64 / session_time.as_secs_f64(),
        bare_time.as_secs_f64() / session_time.as_secs_f64(),
        ms(percentile(&mut live, 0.5)),
        ms(percentile(&mut live, 0.99))
    );
    println!(
        "ingest: session at the goal's 100k values/s ({paced:.0} messages/s for {paced_n} messages): publish -> in the \
         twin p50 {:.1} ms, p99 {:.1} ms (goal <= 100 ms)",
        ms(percentile(&mut steady, 0.5)),
        ms(percentile(&mut steady, 0.99))
    );
}
