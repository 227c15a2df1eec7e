//! The adapter on real data: 49 Indian cells from OpenCellID (assets/data/telecom, CC BY-SA 4.0),
//! then KPI reports for them, through the adapter's trait methods with the SDK's stand-in runtime.

use std::collections::{HashMap, HashSet};

use sangam_sdk::{Adapter, ParamValue, SourceInfo, testing};
use telecom_cells::TelecomCells;

const CELLS: &str = include_str!("../../../assets/data/telecom/india_cell_towers_opencellid_subset_50.csv");

fn adapter(radius: f64) -> TelecomCells {
    testing::reset();
    testing::with_host(|h| h.set_param("tower-radius-m", ParamValue::Number(radius)));
    TelecomCells::init().expect("good parameters")
}

fn source(received: i64) -> SourceInfo {
    SourceInfo { source: "cells".into(), content_type: String::new(), received }
}

/// (mcc-mnc-tac-cid, lat, lon) of each data row, read naively (the file has no quoting).
fn rows() -> Vec<(String, f64, f64)> {
    CELLS
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (format!("{}-{}-{}-{}", f[0], f[1], f[2], f[3]), f[4].parse().unwrap(), f[5].parse().unwrap())
        })
        .collect()
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let north = (a.0 - b.0) * 111_132.0;
    let east = (a.1 - b.1) * 111_132.0 * a.0.to_radians().cos();
    north.hypot(east)
}

#[test]
fn the_49_real_cells_are_on_46_towers_each_cell_near_its_tower_and_a_second_listing_adds_none() {
    let mut a = adapter(30.0);
    let out = a.parse(&source(0), CELLS.as_bytes()).unwrap();
    let rows = rows();
    let unique: HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    // The data's notes say 50 rows; the file has 49 (and its header), all distinct cells.
    assert_eq!((rows.len(), unique.len()), (49, 49));

    let cells: Vec<_> = out.entities.iter().filter(|e| e.kind == "telecom.cell").collect();
    let towers: Vec<_> = out.entities.iter().filter(|e| e.kind == "telecom.tower").collect();
    assert_eq!(cells.len(), 49, "one entity per distinct cell");
    assert_eq!(a.problems(), 0, "every row of the real file is a good cell");

    // Towers: three pairs of cells share a position in the file (sectors of one site), so 46 towers.
    assert_eq!(towers.len(), 46);
    let tower_at: HashMap<&str, (f64, f64)> =
        towers.iter().map(|t| (t.id.as_str(), (t.latitude, t.longitude))).collect();
    for (gid, lat, lon) in &rows {
        let entity = format!("cell/{gid}");
        assert_eq!(out.number_of(&entity, "latitude"), Some(*lat), "{entity}");
        let tower = out.text_of(&entity, "cell.tower").map(str::to_string).expect("each cell names its tower");
        let at = tower_at[tower.as_str()];
        assert!(metres((*lat, *lon), at) <= 30.0, "{entity} is {} m from {tower}", metres((*lat, *lon), at));
        assert_eq!(
            out.text_of(&entity, "cell.operator").map(str::to_string).unwrap(),
            gid.split('-').take(2).collect::<Vec<_>>().join("-")
        );
    }
    for (i, a) in towers.iter().enumerate() {
        for b in &towers[i + 1..] {
            let d = metres((a.latitude, a.longitude), (b.latitude, b.longitude));
            assert!(d > 30.0, "{} and {} are {d} m apart: one tower", a.id, b.id);
        }
    }
    let sectors: f64 = towers.iter().map(|t| out.number_of(&t.id, "site.cells").unwrap()).sum();
    assert_eq!(sectors, 49.0, "every cell is counted on one tower");
    let again = a.parse(&source(1), CELLS.as_bytes()).unwrap();
    assert!(again.entities.is_empty(), "a cell listed again is not created again");
    assert_eq!(a.registry().counts().repeated, 49, "and is counted");

    // A wider radius merges the two pairs of towers 327 m and 361 m apart.
    let mut wide = adapter(400.0);
    let out = wide.parse(&source(0), CELLS.as_bytes()).unwrap();
    assert_eq!(out.entities.iter().filter(|e| e.kind == "telecom.tower").count(), 44);
}

#[test]
fn kpi_reports_set_cell_properties_and_tower_aggregates_and_bad_fields_are_counted() {
    let mut a = adapter(30.0);
    a.parse(&source(0), CELLS.as_bytes()).unwrap();
    let rows = rows();
    // Two distinct cells at one position: one tower, two sectors.
    let (first, second) = rows
        .iter()
        .enumerate()
        .find_map(|(i, x)| rows[i + 1..].iter().find(|y| y.0 != x.0 && y.1 == x.1 && y.2 == x.2).map(|y| (x, y)))
        .expect("the file has co-located cells");
    let tower = a.registry().tower_of(&first.0).unwrap().to_string();
    assert_eq!(a.registry().tower_of(&second.0), Some(tower.as_str()));

    let message = format!(
        r#"[{{"cell":"{}","rsrp_dbm":-97.5,"sinr_db":8.25,"prb_util_pct":80,"throughput_mbps":55.5,"users":31,
             "alarms":["S1 link flapping"],"available":true}},
            {{"cell":"{}","prb_util_pct":40,"throughput_mbps":20,"available":false,"sinr_db":99}},
            {{"cell":"404-99-1-1","prb_util_pct":10}}]"#,
        first.0, second.0
    );
    let out = a.parse(&source(5_000_000), message.as_bytes()).unwrap();
    assert_eq!(out.updates.time, 5_000_000, "values at the time the host received the message");
    let c1 = format!("cell/{}", first.0);
    let c2 = format!("cell/{}", second.0);
    assert_eq!(out.number_of(&c1, "kpi.rsrp"), Some(-97.5));
    assert_eq!(out.number_of(&c1, "kpi.sinr"), Some(8.25));
    assert_eq!(out.number_of(&c1, "kpi.users"), Some(31.0));
    assert_eq!(out.text_of(&c1, "kpi.alarms"), Some("S1 link flapping"));
    assert_eq!(out.text_of(&c2, "kpi.state"), Some("down"));
    assert_eq!(out.number_of(&c2, "kpi.sinr"), None, "99 dB is out of range: skipped");
    assert_eq!(out.number_of(&c2, "kpi.prb_util"), Some(40.0), "the report's other fields are kept");
    assert_eq!(out.number_of(&tower, "site.prb_util"), Some(60.0), "mean PRB of the tower's two cells");
    assert_eq!(out.number_of(&tower, "site.throughput"), Some(75.5));
    assert_eq!(out.number_of(&tower, "site.cells_down"), Some(1.0));
    assert_eq!(out.number_of(&tower, "site.alarm_count"), Some(1.0));
    assert_eq!(a.registry().counts().unknown_cells, 1, "a report for a cell never listed is counted");
    assert_eq!(a.problems(), 2, "the bad SINR and the unknown cell");

    // A later report of one cell keeps the other's last PRB in the tower's mean.
    let later = format!(r#"{{"cell":"{}","prb_util_pct":100}}"#, second.0);
    let out = a.parse(&source(6_000_000), later.as_bytes()).unwrap();
    assert_eq!(out.number_of(&tower, "site.prb_util"), Some(90.0));
}

#[test]
fn hostile_messages_are_refused_or_counted_and_the_adapter_goes_on() {
    let mut a = adapter(30.0);
    assert!(a.parse(&source(0), b"\xff\xfe\x00garbage").is_err(), "no cell-list header");
    assert!(a.parse(&source(0), b"{\"cell\":").is_err(), "cut JSON");
    let huge = format!("mcc,mnc,tac,cid,lat,lon\n{}", "404,1,1,99999999999999999999,28,77\n".repeat(1000));
    let out = a.parse(&source(0), huge.as_bytes()).unwrap();
    assert!(out.entities.is_empty());
    assert_eq!(a.problems(), 1000);
    let out = a.parse(&source(0), CELLS.as_bytes()).unwrap();
    assert_eq!(out.entities.iter().filter(|e| e.kind == "telecom.cell").count(), 49, "still works");
}
