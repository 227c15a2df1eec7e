//! The adapter on real data: the first 2,000 hourly rows of the I-94 traffic counts (tests/data,
//! CC BY 4.0), replayed the way a file source sends them, through the adapter's trait methods with the
//! SDK's stand-in runtime.

use csv_adapter::CsvAdapter;
use sangam_sdk::log::Level;
use sangam_sdk::{Adapter, ParamValue, SourceInfo, testing};

const DATA: &str = include_str!("data/i94_traffic_first_2000_rows.csv");
const HOUR_US: i64 = 3_600_000_000;

fn adapter() -> CsvAdapter {
    testing::reset();
    testing::with_host(|h| {
        let text = |s: &str| ParamValue::Text(s.into());
        h.set_param("entity", text("i94/atr-301"));
        h.set_param("time-column", text("date_time"));
        h.set_param("columns", text("traffic_volume[veh/h]=traffic.flow, temp[K]=weather.temperature"));
        h.set_param("epoch", text("2012-10-02 00:00:00"));
    });
    CsvAdapter::init().expect("init with good parameters")
}

fn source() -> SourceInfo {
    SourceInfo { source: "i94-counts".into(), content_type: "text/csv".into(), received: -1 }
}

/// The data rows, split naively (the file has no quoted fields): (date_time, traffic_volume).
fn rows() -> Vec<(String, f64)> {
    DATA.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[7].to_string(), f[8].parse().unwrap())
        })
        .collect()
}

#[test]
fn line_by_line_replay_keeps_every_count() {
    let mut a = adapter();
    let mut lines = DATA.lines();
    let header = a.parse(&source(), lines.next().unwrap().as_bytes()).unwrap();
    assert!(header.keys.is_empty() && header.updates.is_empty());
    assert_eq!(header.updates.time, -1, "an empty output is stamped with the receive time");

    let expected = rows();
    let mut times = Vec::new();
    let mut flow_sum = 0.0;
    for (line, (_, volume)) in lines.zip(&expected) {
        let out = a.parse(&source(), line.as_bytes()).unwrap();
        assert_eq!(out.keys, vec!["i94/atr-301".to_string()]);
        let flow = out.updates.numbers.iter().find(|c| c.property == "traffic.flow").unwrap();
        assert_eq!(flow.unit, "veh/h");
        assert_eq!(flow.values, vec![*volume]);
        let temp = out.updates.numbers.iter().find(|c| c.property == "weather.temperature").unwrap();
        assert_eq!(temp.unit, "K");
        assert!(temp.values[0] > 240.0 && temp.values[0] < 320.0, "a Minnesota temperature in K");
        flow_sum += flow.values[0];
        times.push(out.updates.time);
    }
    assert_eq!(times.len(), 2000);
    // The first row is 2012-10-02 09:00, nine hours after the epoch; every time is a whole hour and
    // the series never goes back.
    assert_eq!(times[0], 9 * HOUR_US);
    assert!(times.iter().all(|t| t % HOUR_US == 0));
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let mut distinct = times.clone();
    distinct.dedup();
    let expected_distinct = {
        let mut d: Vec<&String> = expected.iter().map(|r| &r.0).collect();
        d.dedup();
        d.len()
    };
    assert_eq!(distinct.len(), expected_distinct);
    assert_eq!(flow_sum, expected.iter().map(|r| r.1).sum::<f64>());
    assert!(testing::with_host(|h| h.logs().is_empty()), "no bad row in the real data");
}

#[test]
fn whole_file_in_one_message_gives_the_newest_hour() {
    let mut a = adapter();
    let out = a.parse(&source(), DATA.as_bytes()).unwrap();
    // The last row is 2012-12-14 14:00: 73 days and 14 hours after 2012-10-02 00:00.
    assert_eq!(out.updates.time, (73 * 24 + 14) * HOUR_US);
    let expected = rows();
    let last = &expected.last().unwrap().0;
    let at_last: Vec<f64> = expected.iter().filter(|r| &r.0 == last).map(|r| r.1).collect();
    let flow = out.updates.numbers.iter().find(|c| c.property == "traffic.flow").unwrap();
    assert_eq!(flow.values, at_last);
    assert_eq!(flow.values, vec![5519.0]);
}

#[test]
fn corrupted_rows_are_skipped_counted_and_logged() {
    let mut a = adapter();
    let mut lines = DATA.lines();
    a.parse(&source(), lines.next().unwrap().as_bytes()).unwrap();
    let mut good = 0;
    for (i, line) in lines.enumerate() {
        // Every 100th row loses its tail (and with it the time and volume fields).
        let damaged = if i % 100 == 0 { &line[..line.len() / 2] } else { line };
        let out = a.parse(&source(), damaged.as_bytes()).expect("a bad row is not an error of the call");
        good += usize::from(!out.keys.is_empty());
    }
    assert_eq!(good, 2000 - 20);
    let warnings: Vec<String> =
        testing::with_host(|h| h.logs().iter().filter(|(l, _)| *l == Level::Warn).map(|(_, m)| m.clone()).collect());
    assert_eq!(warnings.len(), 5, "the first five bad rows are logged one by one: {warnings:?}");
    assert!(warnings[0].starts_with("i94-counts: skipped row at line 1 of the message ("), "{}", warnings[0]);
    assert!(warnings[0].contains("fields, the header has 9"), "{}", warnings[0]);
    assert!(warnings[4].ends_with("5 bad rows so far"));
}

#[test]
fn bad_parameters_fail_init_with_the_parameter_name() {
    testing::reset();
    testing::with_host(|h| h.set_param("epoch", ParamValue::Text("last tuesday".into())));
    let e = CsvAdapter::init().err().unwrap();
    assert!(e.contains("parameter `epoch`"), "{e}");
    testing::with_host(|h| {
        h.set_param("epoch", ParamValue::Text("2012-10-02 00:00:00".into()));
        h.set_param("columns", ParamValue::Text("[veh/h]".into()));
    });
    let e = CsvAdapter::init().err().unwrap();
    assert!(e.contains("parameter `columns`"), "{e}");
}

#[test]
fn parameters_match_the_manifest() {
    let manifest = include_str!("../plugin.toml");
    let specs = csv_adapter::parameters();
    assert_eq!(specs, <CsvAdapter as Adapter>::parameters());
    for spec in &specs {
        assert!(manifest.contains(&format!("name = \"{}\"", spec.name)), "{} is not in plugin.toml", spec.name);
    }
    assert_eq!(manifest.matches("[[parameter]]").count(), specs.len());
}
