//! MQTT sources against a real Mosquitto: a numbered QoS 1 stream arrives whole and in order; a
//! Sangam that stops before acknowledging loses nothing (the broker redelivers); a broker killed
//! with SIGKILL mid-stream and restarted from its persistence loses nothing, every duplicate a counted
//! redelivery; a broker restarted empty is reconnected to, the lost session's subscriptions made
//! again; a QoS 0 source that coalesces keeps each topic's newest message while the session is behind.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sangam_data::{Options, SourceState, Sources};
use sangam_twin::{SourceDecl, SourceKind};

use crate::take_until;
use sangam_data::broker::LocalBroker as Broker;

fn source(client: &str) -> SourceDecl {
    SourceDecl {
        id: "kpi".into(),
        adapter: "cells".into(),
        kind: SourceKind::Mqtt {
            // Overridden by --broker (Options::broker), as `sangam run --broker` does.
            broker: "mqtt://127.0.0.1:9".into(),
            topics: vec!["cells/+/kpi".into()],
            qos: 1,
            client_id: client.into(),
            clean_session: false,
            keep_alive_s: 5,
            username: None,
            password_env: None,
            coalesce: false,
            tls: Default::default(),
        },
        location: "test".into(),
    }
}

fn start(broker: &Broker, client: &str) -> Sources {
    let sources = Sources::start(&[source(client)], &Options { broker: Some(broker.url()) }).unwrap();
    wait_for(&sources, "connected and subscribed", |s| s.state == SourceState::Connected);
    sources
}

fn wait_for(sources: &Sources, what: &str, ok: impl Fn(&sangam_data::SourceStatus) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok(&sources.statuses()[0]) {
        assert!(Instant::now() < deadline, "not {what} within 20 s: {:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Publishes the numbers of `range` at QoS 1 to `topic` as client `id`, and waits for every PUBACK.
fn publish(port: u16, id: &str, topic: &str, range: std::ops::Range<u64>) {
    let payloads = range.map(|n| n.to_string().into_bytes()).collect();
    sangam_data::broker::publish_all(port, id, topic, payloads).unwrap();
}

fn number(d: &sangam_data::Delivery) -> u64 {
    std::str::from_utf8(&d.payload).unwrap().parse().unwrap()
}

#[test]
fn a_numbered_qos1_stream_arrives_whole_in_order_and_acknowledged() {
    let broker = Broker::start().unwrap();
    let mut sources = start(&broker, "sangam-order");
    publish(broker.port(), "pub-order", "cells/c1/kpi", 0..2_000);
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 2_000);
    let numbers: Vec<u64> = got.iter().map(number).collect();
    assert_eq!(numbers, (0..2_000).collect::<Vec<_>>(), "every message, in order");
    assert!(got.iter().all(|d| d.origin == "cells/c1/kpi" && d.adapter == "cells"));
    assert_eq!(got.last().unwrap().sequence, 2_000);
    let status = &sources.statuses()[0];
    assert_eq!((status.stats.messages, status.stats.connections, status.stats.redelivered), (2_000, 1, 0), "{status}");
}

#[test]
fn a_sangam_that_stops_before_acknowledging_loses_nothing_the_broker_held() {
    let broker = Broker::start().unwrap();
    let mut first = start(&broker, "sangam-crash");
    publish(broker.port(), "pub-crash-1", "cells/c1/kpi", 0..500);
    // It acknowledges the first 100 it takes and no more, takes a few past them (the broker's
    // in-flight window), then stops as a crash would.
    let got = take_until(&mut first, Duration::from_secs(30), |i| i < 100, |g| g.len() >= 110);
    let unacknowledged: BTreeSet<u64> = got[100..].iter().map(number).collect();
    let mut seen: BTreeSet<u64> = got.iter().map(number).collect();
    std::thread::sleep(Duration::from_millis(200));
    drop(got);
    drop(first);
    // More is published while it is away; the broker keeps it for the persistent session.
    publish(broker.port(), "pub-crash-2", "cells/c1/kpi", 500..800);
    let mut second = start(&broker, "sangam-crash");
    let before = seen.clone();
    let got = take_until(
        &mut second,
        Duration::from_secs(30),
        |_| true,
        |g| g.iter().map(number).chain(before.iter().copied()).collect::<BTreeSet<_>>().len() >= 800,
    );
    let again: BTreeSet<u64> = got.iter().map(number).filter(|n| before.contains(n)).collect();
    seen.extend(got.iter().map(number));
    assert_eq!(seen, (0..800).collect(), "zero lost");
    assert!(
        unacknowledged.is_subset(&again),
        "taken but not acknowledged, so sent again: {unacknowledged:?}, again {again:?}"
    );
    assert!(again.iter().all(|&n| n >= 100), "no acknowledged message came again: {again:?}");
    assert!(second.statuses()[0].stats.redelivered > 0, "redeliveries are counted: {}", second.statuses()[0]);
}

#[test]
fn a_broker_killed_with_sigkill_mid_stream_and_restarted_from_its_persistence_loses_nothing() {
    let mut broker = Broker::start().unwrap();
    let mut sources = start(&broker, "sangam-inflight");
    // 2,000 numbered messages, each acknowledged to the publisher by the broker.
    publish(broker.port(), "pub-inflight", "cells/c3/kpi", 0..2_000);
    // Sangam takes 600, acknowledging each; the rest are in flight to it (its queue) or queued at the
    // broker. Past the broker's autosave (1 s) all of that is on its disk.
    let first = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 600);
    // Wait for a save made a second after the acknowledgements went (the broker saves every second).
    let acked_at = std::time::SystemTime::now();
    let db = broker.folder().join("mosquitto.db");
    let saved_after = |t: std::time::SystemTime| {
        std::fs::metadata(&db).and_then(|m| m.modified()).is_ok_and(|m| m >= t + Duration::from_millis(1_100))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !saved_after(acked_at) {
        assert!(Instant::now() < deadline, "the broker saved no state in 20 s (can it write its folder?)");
        std::thread::sleep(Duration::from_millis(20));
    }
    broker.kill();
    // The session goes on taking what its queue holds (from the dead connection: their
    // acknowledgements are not sent); the source, with room again, finds the broker gone.
    let lost = |s: &Sources| matches!(s.statuses()[0].state, SourceState::Reconnecting { .. });
    let mut seen: BTreeSet<u64> = first.iter().map(number).collect();
    let mut received = first.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lost(&sources) {
        assert!(Instant::now() < deadline, "not reconnecting within 20 s: {:?}", sources.statuses());
        match sources.try_next() {
            Some(mut d) => {
                if let Some(a) = d.ack.take() {
                    a.done();
                }
                received += 1;
                seen.insert(number(&d));
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    assert!(sources.statuses()[0].to_string().contains("reconnecting"), "the state says so");
    broker.restart().unwrap();
    let rest = take_until(
        &mut sources,
        Duration::from_secs(60),
        |_| true,
        |g| g.iter().map(number).chain(seen.iter().copied()).collect::<BTreeSet<_>>().len() >= 2_000,
    );
    assert!(sources.statuses()[0].stats.connections >= 2, "connected again: {:?}", sources.statuses());
    received += rest.len() as u64;
    seen.extend(rest.iter().map(number));
    assert_eq!(seen, (0..2_000).collect(), "zero lost");
    let status = &sources.statuses()[0];
    let duplicates = received - 2_000;
    assert!(duplicates > 0, "messages in flight at the kill come again: {status}");
    assert!(
        duplicates <= status.stats.redelivered,
        "every duplicate is a counted redelivery: {duplicates} duplicates, {status}"
    );
    assert!(first.iter().all(|d| d.sequence <= 600), "{status}");
}

#[test]
fn a_broker_killed_and_restarted_is_reconnected_to_and_the_lost_session_subscribed_again() {
    let mut broker = Broker::start().unwrap();
    let mut sources = start(&broker, "sangam-restart");
    publish(broker.port(), "pub-restart-1", "cells/c2/kpi", 0..300);
    take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 300);
    // SIGKILL, and the broker comes back without what it had saved: the session and its
    // subscription are gone, and only a subscriber that subscribes again hears anything.
    broker.kill();
    wait_for(&sources, "reconnecting", |s| matches!(s.state, SourceState::Reconnecting { .. }));
    assert!(sources.statuses()[0].to_string().contains("reconnecting"), "the state says so");
    broker.restart_empty().unwrap();
    wait_for(&sources, "connected again", |s| s.state == SourceState::Connected && s.stats.connections >= 2);
    publish(broker.port(), "pub-restart-2", "cells/c2/kpi", 300..600);
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 300);
    let numbers: BTreeSet<u64> = got.iter().map(number).collect();
    assert_eq!(numbers, (300..600).collect(), "everything published after the restart arrives");
    let status = &sources.statuses()[0];
    assert!(status.stats.connections >= 2 && status.stats.resubscribed >= 1, "{status}");
}

#[test]
fn a_huge_message_is_counted_and_skipped_and_the_stream_goes_on() {
    let broker = Broker::start().unwrap();
    let mut sources = start(&broker, "sangam-huge");
    let huge = vec![b'x'; sangam_data::MAX_MESSAGE_BYTES + 1];
    let payloads = vec![b"1".to_vec(), huge, b"2".to_vec(), vec![0xff, 0xfe, 0x00], b"3".to_vec()];
    sangam_data::broker::publish_all(broker.port(), "pub-huge", "cells/c3/kpi", payloads).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() >= 4);
    let payloads: Vec<&[u8]> = got.iter().map(|d| d.payload.as_slice()).collect();
    // Bytes are handed on as they came (invalid UTF-8 is the adapter's to judge); the huge one is not.
    assert_eq!(payloads, [&b"1"[..], b"2", &[0xff, 0xfe, 0x00], b"3"]);
    let status = &sources.statuses()[0];
    assert_eq!(status.stats.oversized, 1, "{status}");
    assert!(status.to_string().contains("1 over"), "{status}");
    drop(got);
    drop(sources);
    // It was acknowledged: the persistent session does not get it again.
    let mut again = start(&broker, "sangam-huge");
    std::thread::sleep(Duration::from_millis(500));
    assert!(again.try_next().is_none(), "{:?}", again.statuses());
    assert_eq!(again.statuses()[0].stats.oversized, 0);
}

#[test]
fn a_broker_that_asks_for_a_login_gets_the_one_in_the_environment_and_refuses_a_wrong_one() {
    // Passwords come from the environment; this test uses variables the process already has
    // (setting one would need `unsafe`): the broker's password is HOME's value, PATH's is wrong.
    let password = std::env::var("HOME").expect("HOME is set");
    let broker = Broker::start_with_login("twin", &password).unwrap();
    let with = |env: &str| {
        let mut decl = source("sangam-login");
        if let SourceKind::Mqtt { username, password_env, .. } = &mut decl.kind {
            *username = Some("twin".into());
            *password_env = Some(env.into());
        }
        decl
    };
    let good = Sources::start(&[with("HOME")], &Options { broker: Some(broker.url()) }).unwrap();
    wait_for(&good, "connected with the password", |s| s.state == SourceState::Connected);
    let bad = Sources::start(&[with("PATH")], &Options { broker: Some(broker.url()) }).unwrap();
    wait_for(&bad, "refused", |s| matches!(s.state, SourceState::Reconnecting { .. }));
    let refused = bad.statuses()[0].state.to_string();
    assert!(refused.contains("reconnecting"), "{refused}");
    let e =
        Sources::start(&[with("SANGAM_TEST_NO_SUCH_PASSWORD")], &Options::default()).err().expect("a missing variable");
    let e = e.to_string();
    assert!(e.contains("SANGAM_TEST_NO_SUCH_PASSWORD") && e.contains("`twin`") && e.contains("kpi"), "{e}");
}

#[test]
fn a_coalescing_qos0_source_keeps_each_topic_s_newest_message_while_the_session_is_behind() {
    let broker = Broker::start().unwrap();
    let mut decl = source("sangam-coalesce");
    if let SourceKind::Mqtt { qos, coalesce, .. } = &mut decl.kind {
        (*qos, *coalesce) = (0, true);
    }
    let mut sources = Sources::start(&[decl], &Options { broker: Some(broker.url()) }).unwrap();
    wait_for(&sources, "connected and subscribed", |s| s.state == SourceState::Connected);
    // 10 cells x 500 readings, published while the session takes nothing: its queue fills (1,024),
    // and the rest waits as each cell's newest reading.
    let messages: Vec<(String, Vec<u8>)> =
        (0..5_000u64).map(|n| (format!("cells/c{}/kpi", n % 10), n.to_string().into_bytes())).collect();
    let mut publisher = sangam_data::broker::Publisher::connect(&broker.url(), "pub-coalesce").unwrap();
    publisher.publish(messages).unwrap();
    // At most 11 wait uncounted: one per cell in the table, and the one being handed on.
    wait_for(&sources, "all 5,000 seen", |s| s.stats.messages + s.stats.coalesced + 11 >= 5_000);
    std::thread::sleep(Duration::from_millis(200));
    let got =
        take_until(&mut sources, Duration::from_secs(30), |_| true, |g| g.len() as u64 >= 1_024 && sources_idle(g));
    let status = sources.statuses()[0].clone();
    let mut last = std::collections::BTreeMap::new();
    for d in &got {
        let n = number(d);
        let cell = d.origin.clone();
        let before = last.insert(cell.clone(), n);
        assert!(before.is_none_or(|b| b < n), "{cell}: {n} after {before:?}: each topic in order");
    }
    for c in 0..10u64 {
        assert_eq!(last[&format!("cells/c{c}/kpi")], 4_990 + c, "cell {c}'s newest reading arrives");
    }
    assert!(status.stats.coalesced > 3_000, "{status}");
    assert_eq!(status.stats.messages + status.stats.coalesced, 5_000, "each one handed on or counted: {status}");
    assert_eq!(got.len() as u64, status.stats.messages, "{status}");
    assert!(status.to_string().contains("coalesced"), "{status}");
}

/// Whether the deliveries so far end with every cell's last reading (4,990 to 4,999).
fn sources_idle(got: &[sangam_data::Delivery]) -> bool {
    let newest: BTreeSet<u64> = got.iter().map(number).filter(|&n| n >= 4_990).collect();
    newest.len() == 10
}
