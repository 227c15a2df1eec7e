//! The adapter on real data and hostile data, through its trait methods with the SDK's stand-in
//! runtime: the first 2,000 hourly rows of the I-94 counts (MnDOT ATR 301; CC BY 4.0, John Hogue, UCI
//! Machine Learning Repository; the csv-adapter's test copy) replayed hour by hour as a file source
//! sends them, JSON segment counts with a lane closure and an incident, and malformed messages.

use std::collections::BTreeMap;

use sangam_sdk::{Adapter, ParamValue, SourceInfo, testing};
use traffic_counts::TrafficCounts;

const DATA: &str = include_str!("../../csv-adapter/tests/data/i94_traffic_first_2000_rows.csv");
const SEGMENTS: &str = "road/ring=0.8/3/50, road/aurobindo=0.45/2/40";

fn adapter() -> TrafficCounts {
    testing::reset();
    testing::with_host(|h| h.set_param("segments", ParamValue::Text(SEGMENTS.into())));
    TrafficCounts::init().expect("good parameters")
}

fn source() -> SourceInfo {
    SourceInfo { source: "counts".into(), content_type: String::new(), received: 7_000_000 }
}

/// The file's rows grouped by hour, as a file source sends them: (hour, count, message).
fn hours() -> Vec<(String, f64, String)> {
    let mut lines = DATA.lines();
    let header = lines.next().unwrap();
    let mut groups: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let entry = groups.entry(f[7].to_string()).or_insert_with(|| (0.0, format!("{header}\n")));
        entry.0 = f[8].parse().unwrap();
        entry.1.push_str(line);
        entry.1.push('\n');
    }
    groups.into_iter().map(|(hour, (count, message))| (hour, count, message)).collect()
}

#[test]
fn every_hour_of_the_real_counts_is_mapped_onto_every_segment_by_its_share() {
    let mut a = adapter();
    let hours = hours();
    assert!(hours.len() > 1_500, "{} hours", hours.len());
    let mut speeds = BTreeMap::new();
    for (i, (hour, count, message)) in hours.iter().enumerate() {
        let out = a.parse(&source(), message.as_bytes()).unwrap();
        assert_eq!(out.number_of("road/ring", "traffic.flow"), Some(0.8 * count), "{hour}");
        assert_eq!(out.number_of("road/aurobindo", "traffic.flow"), Some(0.45 * count), "{hour}");
        assert_eq!(out.updates.time, 7_000_000, "at the time received");
        let mapping = out.text_of("road/ring", "traffic.mapping").map(str::to_string);
        assert_eq!(mapping.is_some(), i == 0, "the mapping is said once: {mapping:?}");
        speeds.insert(hour.clone(), out.number_of("road/ring", "traffic.speed").unwrap());
    }
    assert_eq!(a.problems(), 0, "no real row is bad");
    // Wednesday 3 October 2012: the morning peak is slower than the night.
    let (peak, night) = (speeds["2012-10-03 08:00:00"], speeds["2012-10-03 03:00:00"]);
    assert!(peak < night - 2.0, "08:00 {peak} km/h, 03:00 {night} km/h");
    assert!(night > 49.9 && night <= 50.0, "an empty road runs at free flow: {night}");
}

#[test]
fn a_lane_closure_and_an_incident_slow_the_segment_and_a_closed_road_says_so() {
    let mut a = adapter();
    let open = a.parse(&source(), br#"{"segment":"road/ring","count":450,"interval_s":300}"#).unwrap();
    let blocked = a
        .parse(
            &source(),
            br#"{"segment":"road/ring","count":450,"interval_s":300,"lanes_open":1,"incident":"breakdown in lane 2"}"#,
        )
        .unwrap();
    let flow = 450.0 * 12.0;
    assert_eq!(open.number_of("road/ring", "traffic.flow"), Some(flow));
    let (vc_open, vc_blocked) = (
        open.number_of("road/ring", "traffic.vc_ratio").unwrap(),
        blocked.number_of("road/ring", "traffic.vc_ratio").unwrap(),
    );
    assert!((vc_blocked / vc_open - 3.0).abs() < 1e-12, "one lane of three: v/c x3 ({vc_open} -> {vc_blocked})");
    let (v_open, v_blocked) = (
        open.number_of("road/ring", "traffic.speed").unwrap(),
        blocked.number_of("road/ring", "traffic.speed").unwrap(),
    );
    // BPR by hand: c = 5400 and 1800 veh/h; v = 50 / (1 + 0.15 (q/c)^4).
    assert!((v_open - 50.0 / (1.0 + 0.15 * (flow / 5400.0f64).powi(4))).abs() < 1e-9, "{v_open}");
    assert!((v_blocked - 50.0 / (1.0 + 0.15 * (flow / 1800.0f64).powi(4))).abs() < 1e-9, "{v_blocked}");
    assert_eq!(blocked.text_of("road/ring", "traffic.incident"), Some("breakdown in lane 2"));
    assert_eq!(blocked.text_of("road/ring", "traffic.state"), Some("congested"));
    assert_eq!(open.text_of("road/ring", "traffic.incident").map(str::to_string), None, "no incident field, no change");

    let closed = a.parse(&source(), br#"[{"segment":"road/ring","count":0,"lanes_open":0,"incident":""}]"#).unwrap();
    assert_eq!(closed.text_of("road/ring", "traffic.state"), Some("closed"));
    assert_eq!(closed.text_of("road/ring", "traffic.incident"), Some(""), "cleared");
    assert_eq!(closed.number_of("road/ring", "traffic.flow"), Some(0.0));
    assert_eq!(a.problems(), 0);
}

#[test]
fn hostile_messages_are_refused_or_counted_and_the_adapter_goes_on() {
    let mut a = adapter();
    assert!(a.parse(&source(), b"\xff\xfe,\x00\n1,2\n").is_err(), "no readable header");
    assert!(a.parse(&source(), b"date_time,flow\n2012-10-02 09:00:00,5\n").is_err(), "no count column");
    assert!(a.parse(&source(), b"[{\"segment\":").is_err(), "cut JSON");
    let bad_counts = "date_time,traffic_volume\nx,NaN\nx,-4\nx,1e300\nx,\n";
    let out = a.parse(&source(), bad_counts.as_bytes()).unwrap();
    assert!(out.updates.numbers.is_empty(), "no count, no value");
    assert_eq!(a.problems(), 4);
    let many = format!("[{}]", vec![r#"{"segment":"road/elsewhere","count":5}"#; 100_000].join(","));
    let out = a.parse(&source(), many.as_bytes()).unwrap();
    assert!(out.updates.numbers.is_empty());
    assert_eq!(a.problems(), 100_004, "each unknown segment counted");
    let out = a.parse(&source(), br#"{"segment":"road/aurobindo","count":10,"lanes_open":3}"#).unwrap();
    assert!(out.updates.numbers.is_empty(), "3 lanes open of 2 is refused");
    let out = a.parse(&source(), br#"{"segment":"road/aurobindo","count":10}"#).unwrap();
    assert_eq!(out.number_of("road/aurobindo", "traffic.flow"), Some(10.0), "and it goes on");
}

#[test]
fn bad_parameters_name_the_parameter_and_the_fix() {
    testing::reset();
    let e = TrafficCounts::init().err().expect("no segments");
    assert!(e.contains("parameter `segments` is empty"), "{e}");
    testing::with_host(|h| {
        h.set_param("segments", ParamValue::Text(SEGMENTS.into()));
        h.set_param("lane-capacity", ParamValue::Number(90_000.0));
    });
    let e = TrafficCounts::init().err().expect("capacity out of range");
    assert!(e.contains("`lane-capacity` = 90000 is outside 300..=3000"), "{e}");
}
