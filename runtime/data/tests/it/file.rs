//! File sources: rows grouped by time into messages, each sent at its time (scaled by speed), the
//! header kept with every CSV message, looped passes shifted forward, bad rows counted.

use std::time::{Duration, Instant};

use sangam_data::{Options, SourceState, Sources};
use sangam_twin::{FileFormat, ReplayPace, SourceDecl, SourceKind};

use crate::take_until;

fn source(path: &std::path::Path, format: FileFormat, pace: ReplayPace, looped: bool) -> SourceDecl {
    SourceDecl {
        id: "counts".into(),
        adapter: "traffic".into(),
        kind: SourceKind::File { path: path.into(), format, time_column: "time".into(), pace, looped },
        location: "test".into(),
    }
}

fn text(d: &sangam_data::Delivery) -> String {
    String::from_utf8(d.payload.clone()).unwrap()
}

#[test]
fn rows_with_one_time_are_one_message_with_the_header_sent_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counts.csv");
    std::fs::write(&path, "id,time,flow[veh/h]\ns1,0,10\ns2,0,20\ns1,0.3,11\ns1,0.6,12\ns2,0.6,21\n").unwrap();
    let started = Instant::now();
    let mut sources =
        Sources::start(&[source(&path, FileFormat::Csv, ReplayPace::Times(1.0), false)], &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(10), |_| false, |g| g.len() >= 3);
    let elapsed = started.elapsed();
    assert_eq!(text(&got[0]), "id,time,flow[veh/h]\ns1,0,10\ns2,0,20\n");
    assert_eq!(text(&got[1]), "id,time,flow[veh/h]\ns1,0.3,11\n");
    assert_eq!(text(&got[2]), "id,time,flow[veh/h]\ns1,0.6,12\ns2,0.6,21\n");
    assert!(got[2].origin.ends_with("counts.csv:5"), "the first row's line: {}", got[2].origin);
    assert_eq!(got[0].content_type, "text/csv");
    assert!(elapsed >= Duration::from_millis(550), "the last rows wait for their time (0.6 s): {elapsed:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(sources.statuses()[0].state, SourceState::Finished);
    assert!(sources.try_next().is_none(), "nothing more");
}

#[test]
fn a_looped_json_lines_file_goes_on_forward_in_time_as_fast_as_it_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpi.jsonl");
    std::fs::write(
        &path,
        "{\"cell\":\"c1\",\"time\":100,\"rsrp\":-90}\n{\"cell\":\"c1\",\"time\":110,\"rsrp\":-91}\nnot json\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut sources =
        Sources::start(&[source(&path, FileFormat::JsonLines, ReplayPace::Max, true)], &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(10), |_| false, |g| g.len() >= 6);
    assert!(started.elapsed() < Duration::from_secs(5), "at max speed nothing waits for the file's 10 s steps");
    let times: Vec<f64> = got
        .iter()
        .map(|d| {
            let first = text(d).lines().next().unwrap().to_string();
            serde_json::from_str::<serde_json::Value>(&first).unwrap()["time"].as_f64().unwrap()
        })
        .collect();
    // Each pass is shifted by the span (10 s) and the first interval (10 s).
    assert_eq!(times, [100.0, 110.0, 120.0, 130.0, 140.0, 150.0]);
    assert!(text(&got[1]).contains("not json"), "an untimed row goes with the rows before it");
    assert!(sources.statuses()[0].stats.malformed >= 1, "{}", sources.statuses()[0]);
}

#[test]
fn a_file_without_its_time_column_or_with_calendar_times_in_a_loop_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let no_time = dir.path().join("no-time.csv");
    std::fs::write(&no_time, "id,when,flow\ns1,0,1\n").unwrap();
    let calendar = dir.path().join("calendar.csv");
    std::fs::write(&calendar, "id,time,flow\ns1,2024-01-01 00:00:00,1\n").unwrap();
    let sources = Sources::start(
        &[
            source(&no_time, FileFormat::Csv, ReplayPace::Max, false),
            SourceDecl { id: "calendar".into(), ..source(&calendar, FileFormat::Csv, ReplayPace::Max, true) },
        ],
        &Options::default(),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sources.statuses().iter().all(|s| matches!(s.state, SourceState::Failed(_))) {
        assert!(Instant::now() < deadline, "{:?}", sources.statuses());
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = sources.statuses();
    assert!(s[0].to_string().contains("no `time` column") && s[0].to_string().contains("no-time.csv"), "{}", s[0]);
    assert!(
        s[1].to_string().contains("loop needs numeric times") && s[1].to_string().contains("calendar.csv:2"),
        "{}",
        s[1]
    );
}

#[test]
fn an_untimed_csv_list_goes_at_once_in_messages_of_at_most_1000_rows_each_with_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cells.csv");
    let mut csv = String::from("mcc,mnc,tac,cid,lat,lon\n");
    for cid in 0..2500 {
        csv.push_str(&format!("404,10,1201,{cid},28.57,77.21\n"));
    }
    std::fs::write(&path, &csv).unwrap();
    let mut sources =
        Sources::start(&[source(&path, FileFormat::Csv, ReplayPace::Untimed, false)], &Options::default()).unwrap();
    let got = take_until(&mut sources, Duration::from_secs(10), |_| false, |g| g.len() >= 3);
    let rows: Vec<usize> = got.iter().map(|d| text(d).lines().count() - 1).collect();
    assert_eq!(rows, [1000, 1000, 500], "rows per message");
    assert!(got.iter().all(|d| text(d).starts_with("mcc,mnc,tac,cid,lat,lon\n")), "each message has the header");
    let cids: Vec<String> = got
        .iter()
        .flat_map(|d| text(d).lines().skip(1).map(|l| l.split(',').nth(3).unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    assert_eq!(cids, (0..2500).map(|c| c.to_string()).collect::<Vec<_>>(), "every row, in order");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(sources.statuses()[0].state, SourceState::Finished);
    assert_eq!(sources.statuses()[0].stats.malformed, 0, "no time column is no malformed row");
}
