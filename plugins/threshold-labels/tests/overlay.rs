//! The overlay through its trait, with the SDK's stand-in runtime playing the twin.

use sangam_sdk::overlay::{Severity, color};
use sangam_sdk::{EntityTable, Overlay, ParamValue, testing};
use threshold_labels::ThresholdLabels;

const MINUTE: i64 = 60_000_000;

fn table() -> EntityTable {
    EntityTable {
        ids: vec!["road/ring-1".into(), "road/ring-2".into()],
        kinds: vec!["road-segment".into(); 2],
        positions: vec![100.0, 50.0, 2.0, -40.0, 10.0, 1.0],
    }
}

fn set(name: &str, value: ParamValue) {
    testing::with_host(|h| h.set_param(name, value));
}

#[test]
fn latest_values_label_the_crossing_road() {
    testing::reset();
    set("unit", ParamValue::Text("veh/h".into()));
    testing::with_host(|h| {
        h.push_number(0, "traffic.flow", 0, 400.0);
        h.push_number(1, "traffic.flow", 0, 1650.0);
    });
    let mut overlay = ThresholdLabels::init(table()).unwrap();
    let frame = overlay.draw(0).unwrap();
    assert_eq!(frame.labels.texts, vec!["1650 veh/h".to_string()]);
    assert_eq!(frame.labels.positions, vec![-40.0, 10.0, 13.0]);
    assert_eq!(frame.labels.colors, color::RED.to_vec());
    assert_eq!(frame.alerts.len(), 1);
    assert_eq!(frame.alerts[0].severity, Severity::Critical);
    assert_eq!(frame.alerts[0].entity, Some(1));
    assert!(frame.alerts[0].message.starts_with("road/ring-2: traffic.flow 1650 veh/h above critical"));
}

#[test]
fn a_window_ignores_a_short_spike() {
    testing::reset();
    set("window-s", ParamValue::Integer(600));
    testing::with_host(|h| {
        // Road 0: 800 veh/h for 9 minutes, then a 1-minute spike to 2000: mean 920, no alert.
        h.push_number(0, "traffic.flow", 0, 800.0);
        h.push_number(0, "traffic.flow", 9 * MINUTE, 2000.0);
        // Road 1: 1200 veh/h for the whole window: a warning.
        h.push_number(1, "traffic.flow", 0, 1200.0);
    });
    let mut overlay = ThresholdLabels::init(table()).unwrap();
    let frame = overlay.draw(10 * MINUTE).unwrap();
    assert_eq!(frame.alerts.len(), 1, "{:?}", frame.alerts);
    assert_eq!(frame.alerts[0].entity, Some(1));
    assert_eq!(frame.alerts[0].severity, Severity::Warning);

    // Without the window the spike alone is critical.
    set("window-s", ParamValue::Number(0.0));
    let mut latest = ThresholdLabels::init(table()).unwrap();
    let frame = latest.draw(10 * MINUTE).unwrap();
    assert_eq!(frame.alerts[0].entity, Some(0));
    assert_eq!(frame.alerts[0].severity, Severity::Critical);
}

#[test]
fn low_values_can_be_the_bad_ones() {
    testing::reset();
    set("property", ParamValue::Text("radio.rsrp".into()));
    set("unit", ParamValue::Text("dBm".into()));
    set("direction", ParamValue::Text("below".into()));
    set("warning", ParamValue::Number(-100.0));
    set("critical", ParamValue::Number(-110.0));
    testing::with_host(|h| {
        h.push_number(0, "radio.rsrp", 0, -104.0);
        h.push_number(1, "radio.rsrp", 0, -85.0);
    });
    let frame = ThresholdLabels::init(table()).unwrap().draw(0).unwrap();
    assert_eq!(frame.labels.texts, vec!["-104 dBm".to_string()]);
    assert_eq!(frame.labels.colors, color::AMBER.to_vec());
}

#[test]
fn bad_parameters_are_refused_at_init() {
    testing::reset();
    set("warning", ParamValue::Number(2000.0));
    assert!(ThresholdLabels::init(table()).err().unwrap().contains("`critical` = 1500"));
    testing::reset();
    set("window-s", ParamValue::Number(-5.0));
    assert!(ThresholdLabels::init(table()).err().unwrap().contains("`window-s`"));
    testing::reset();
    set("direction", ParamValue::Text("up".into()));
    assert!(ThresholdLabels::init(table()).err().unwrap().contains("`direction`"));
}

#[test]
fn parameters_match_the_manifest() {
    let manifest = include_str!("../plugin.toml");
    let specs = threshold_labels::parameters();
    for spec in &specs {
        assert!(manifest.contains(&format!("name = \"{}\"", spec.name)), "{} is not in plugin.toml", spec.name);
    }
    assert_eq!(manifest.matches("[[parameter]]").count(), specs.len());
}
