use std::sync::atomic::{AtomicUsize, Ordering};

use glam::DVec3;

use super::*;
use crate::entity::EntityLink;
use crate::property::{PropertyValue, Unit};

/// A fresh folder with two models and a small GeoJSON layer.
fn fixture() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sangam-twin-scene-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::create_dir_all(dir.join("geo")).unwrap();
    std::fs::write(dir.join("models/tower.glb"), b"glTF").unwrap();
    std::fs::write(dir.join("models/pole.glb"), b"glTF").unwrap();
    let geo = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"@id":"way/1","building":"yes","height":"20 m"},
       "geometry":{"type":"Polygon","coordinates":[[[77.2090,28.5696],[77.2092,28.5696],[77.2092,28.5698],[77.2090,28.5698],[77.2090,28.5696]]]}},
      {"type":"Feature","properties":{"@id":"way/2","highway":"primary"},
       "geometry":{"type":"LineString","coordinates":[[77.2080,28.5690],[77.2100,28.5690]]}}]}"#;
    std::fs::write(dir.join("geo/site.geojson"), geo).unwrap();
    dir
}

const SCENE: &str = r#"format = 1
name = "Test site"
attribution = ["© OpenStreetMap contributors, ODbL 1.0"]

[origin]
lat = 28.5697
lon = 77.2091
alt = 216.0

[environment]
sun_azimuth = 90.0
sun_elevation = 0.0

[[assets]]
id = "tower"
gltf = "models/tower.glb"
illustrative = true

[[assets]]
id = "pole"
gltf = "models/pole.glb"

[[placements]]
id = "tower-1"
asset = "tower"
enu = [1.0, 2.0, 3.0]
on_roof = "way/1"
heading = 45
scale = [1, 2, 3]

[[placements]]
id = "tower-2"
asset = "tower"
lat = 28.5707
lon = 77.2091

[[instances]]
id = "poles"
asset = "pole"
heading = 10.0
scale = 2.0
points = [
  { lat = 28.5690, lon = 77.2080 },
  { enu = [12.0, -4.0, 0.0], heading = 90.0 },
]

[[layers]]
id = "osm"
geojson = "geo/site.geojson"
attribution = "© OpenStreetMap contributors, ODbL 1.0"

[layers.buildings]
default_height = 9.0
storey_height = 3.2

[layers.roads]
widths = { primary = 20.0 }

[[entities]]
id = "cell-1"
kind = "telecom.cell"
name = "Rooftop cell"
placement = "tower-1"
[entities.properties]
tx_power = { value = 43.0, unit = "dBm" }
odd = { value = 1, unit = "furlong" }
sectors = 3
gain = 17.5
operator = "illustrative"
active = true

[[entities]]
id = "pole-1"
kind = "street.pole"
placement = "poles/1"

[[entities]]
id = "road-1"
kind = "road.segment"
feature = "way/2"

[[bookmarks]]
name = "overview"
eye = { lat = 28.5660, lon = 77.2060, alt = 650.0 }
target = { enu = [0.0, 0.0, 0.0] }

[[bookmarks]]
name = "east"
eye = { enu = [0.0, 0.0, 10.0] }
heading = 90.0
pitch = 0.0
fov_y = 45.0
"#;

fn load(text: &str) -> Result<Scene, SceneError> {
    let dir = fixture();
    Scene::from_str(text, &dir.join("site.toml"), &dir)
}

/// The error for `SCENE` with `from` replaced by `to`.
fn error_for(from: &str, to: &str) -> SceneError {
    assert!(SCENE.contains(from), "fixture lacks {from:?}");
    match load(&SCENE.replacen(from, to, 1)) {
        Ok(_) => panic!("replacing {from:?} by {to:?} should fail"),
        Err(e) => e,
    }
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn full_scene_loads_and_resolves() {
    let s = load(SCENE).unwrap();
    assert_eq!(s.name, "Test site");
    assert_eq!(s.origin, Geodetic::new(28.5697, 77.2091, 216.0).unwrap());
    assert_eq!(s.attribution.len(), 1);
    // Assets: absolute paths that exist.
    assert_eq!(s.assets.len(), 2);
    assert!(s.assets[0].path.is_absolute() && s.assets[0].path.is_file());
    assert!(s.assets[0].illustrative && !s.assets[1].illustrative);
    // Placement on the roof: u = 20 m roof + 3 m offset.
    let p = s.placement("tower-1").unwrap();
    assert_eq!(p.position, DVec3::new(1.0, 2.0, 23.0));
    assert_eq!(p.scale, DVec3::new(1.0, 2.0, 3.0));
    assert_eq!(p.heading_deg, 45.0);
    // Geodetic placement without alt: on the ground plane, ~1.1 km north.
    let p2 = s.placement("tower-2").unwrap();
    assert_eq!(p2.position.z, 0.0);
    assert!((p2.position.y - 110.7).abs() < 0.5 && p2.position.x.abs() < 0.01, "{}", p2.position);
    // Instances: group defaults and per-member overrides.
    let g = &s.instance_groups[0];
    assert_eq!(g.asset, 1);
    assert_eq!(g.members.len(), 2);
    assert_eq!((g.members[0].heading_deg, g.members[0].scale), (10.0, DVec3::splat(2.0)));
    assert_eq!(g.members[1].heading_deg, 90.0);
    assert_eq!(g.members[1].position, DVec3::new(12.0, -4.0, 0.0));
    // Layer options and roads.
    let l = &s.layers[0];
    assert_eq!(l.buildings.len(), 1);
    assert_eq!(l.roads[0].width_m, 20.0);
    assert_eq!(s.roof_height("way/1"), Some(20.0));
    // Entities.
    let cell = s.entity(&EntityId::new("cell-1")).unwrap();
    assert_eq!(cell.link, Some(EntityLink::Placement("tower-1".into())));
    assert_eq!(cell.properties["tx_power"], PropertyValue::Quantity { value: 43.0, unit: Unit::DecibelMilliwatt });
    assert_eq!(cell.properties["sectors"], PropertyValue::Integer(3));
    assert_eq!(cell.properties["gain"], PropertyValue::Number(17.5));
    assert_eq!(cell.properties["active"], PropertyValue::Bool(true));
    assert_eq!(cell.properties["operator"], PropertyValue::Text("illustrative".into()));
    assert_eq!(cell.properties["odd"].unit(), Some(&Unit::Other("furlong".into())));
    assert_eq!(s.entities[1].link, Some(EntityLink::InstanceMember("poles".into(), 1)));
    assert_eq!(s.entities[2].link, Some(EntityLink::Feature("way/2".into())));
    // The unknown unit is a warning with its location.
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let odd_line = line_of(SCENE, "odd = ");
    assert!(
        s.warnings[0].contains(&format!("site.toml:{odd_line}:")) && s.warnings[0].contains("furlong"),
        "{:?}",
        s.warnings
    );
    // Bookmarks.
    let b = &s.bookmarks[0];
    assert!(b.eye.z > 400.0 && b.eye.x < 0.0 && b.eye.y < 0.0, "{}", b.eye);
    assert!((b.forward().length() - 1.0).abs() < 1e-12);
    assert!(b.forward().dot(-b.eye.normalize()) > 0.999_999);
    assert_eq!(b.fov_y_deg, 60.0);
    let e = &s.bookmarks[1];
    assert!((e.forward() - DVec3::X).length() < 1e-12);
    assert_eq!(e.fov_y_deg, 45.0);
    // Environment: given and default values; the sun is due east on the horizon.
    assert!((s.environment.sun_direction() - DVec3::X).length() < 1e-12);
    assert!(s.environment.ground);
    assert_eq!(s.environment.sky_color, [0.55, 0.70, 0.90]);
    // Ground fits the layer (~100 m) and placements (~111 m) plus 200 m.
    assert!(
        s.environment.ground_extent_m > 300.0 && s.environment.ground_extent_m < 330.0,
        "{}",
        s.environment.ground_extent_m
    );
}

#[test]
fn transform_convention() {
    // Heading 90: the model's forward (+Y) points east; then translated.
    let m = world_from_model(DVec3::new(10.0, 20.0, 30.0), 90.0, 0.0, 0.0, DVec3::ONE);
    assert!((m.transform_point3(DVec3::Y) - DVec3::new(11.0, 20.0, 30.0)).length() < 1e-12);
    assert!((m.transform_point3(DVec3::X) - DVec3::new(10.0, 19.0, 30.0)).length() < 1e-12);
    // Pitch raises the nose; roll lowers the right side; scale is applied first.
    let p = world_from_model(DVec3::ZERO, 0.0, 90.0, 0.0, DVec3::ONE);
    assert!((p.transform_vector3(DVec3::Y) - DVec3::Z).length() < 1e-12);
    let r = world_from_model(DVec3::ZERO, 0.0, 0.0, 90.0, DVec3::ONE);
    assert!((r.transform_vector3(DVec3::X) - DVec3::NEG_Z).length() < 1e-12);
    let s = world_from_model(DVec3::ZERO, 90.0, 0.0, 0.0, DVec3::new(1.0, 2.0, 3.0));
    assert!((s.transform_vector3(DVec3::Y) - DVec3::new(2.0, 0.0, 0.0)).length() < 1e-12);
    // The placement helper uses the same convention.
    let scene = load(SCENE).unwrap();
    let pl = scene.placement("tower-1").unwrap();
    let expect = world_from_model(pl.position, 45.0, 0.0, 0.0, pl.scale);
    assert_eq!(pl.world_from_model(), expect);
    assert_eq!(
        scene.instance_groups[0].members[1].world_from_model().transform_point3(DVec3::ZERO),
        DVec3::new(12.0, -4.0, 0.0)
    );
}

#[test]
fn load_from_file_resolves_relative_to_the_scene_folder() {
    let dir = fixture();
    let path = dir.join("site.toml");
    std::fs::write(&path, SCENE).unwrap();
    let s = Scene::load(&path).unwrap();
    assert_eq!(s.assets[0].path, std::path::absolute(dir.join("models/tower.glb")).unwrap());
    let e = Scene::load(dir.join("nope.toml")).unwrap_err();
    assert!(e.to_string().contains("nope.toml"), "{e}");
}

#[test]
fn unknown_key_names_line_column_and_allowed_keys() {
    let e = error_for("illustrative = true", "illustrative = true\ncolour = 1");
    let msg = e.to_string();
    let line = line_of(SCENE, "illustrative = true") + 1;
    assert!(msg.contains(&format!("site.toml:{line}:1:")), "{msg}");
    assert!(msg.contains("unknown key `colour`") && msg.contains("`gltf`") && msg.contains("`note`"), "{msg}");
    assert_eq!(e.location(), Some((line, 1)));
}

#[test]
fn wrong_type_and_missing_key() {
    let e = error_for("heading = 45", "heading = \"north-east\"");
    let msg = e.to_string();
    assert!(msg.contains(&format!(":{}:", line_of(SCENE, "heading = 45"))), "{msg}");
    assert!(msg.contains("invalid type"), "{msg}");
    let e = error_for("name = \"Test site\"\n", "");
    assert!(e.to_string().contains("missing required key `name`"), "{e}");
    let e = error_for("kind = \"street.pole\"\n", "");
    assert!(e.to_string().contains("missing required key `kind`"), "{e}");
    let e = error_for("scale = 2.0", "scale = [1.0, 2.0]");
    assert!(e.to_string().contains("[x, y, z]"), "{e}");
}

#[test]
fn format_version() {
    let e = error_for("format = 1", "format = 2");
    assert!(matches!(e, SceneError::UnsupportedFormat { line: 1, column: 10, .. }), "{e:?}");
    assert!(e.to_string().contains("supported: 1"), "{e}");
    // A newer format with keys unknown to format 1 still reports the version, not the key.
    let e = error_for("format = 1", "format = 2\nnew_key = true");
    assert!(matches!(e, SceneError::UnsupportedFormat { .. }), "{e:?}");
    let e = error_for("format = 1\n", "");
    assert!(e.to_string().contains("add `format = 1`"), "{e}");
    let e = error_for("format = 1", "format = \"1\"");
    assert!(matches!(e, SceneError::UnsupportedFormat { .. }), "{e:?}");
}

#[test]
fn bad_coordinates() {
    let e = error_for("lat = 28.5697\n", "lat = 95.0\n");
    assert!(e.to_string().contains("-90..90") && e.location() == Some((6, 7)), "{e}");
    let e = error_for("lat = 28.5707", "lat = nan");
    assert!(e.to_string().contains("lat = NaN"), "{e}");
    let e = error_for("lon = 77.2091\n\n[[instances]]", "lon = 77.2091\nenu = [0.0, 0.0, 0.0]\n\n[[instances]]");
    assert!(e.to_string().contains("not both"), "{e}");
    let e = error_for("lat = 28.5707\nlon = 77.2091\n", "");
    assert!(e.to_string().contains("placement `tower-2`: no position"), "{e}");
    let e = error_for("lat = 28.5707\n", "");
    assert!(e.to_string().contains("needs both lat and lon"), "{e}");
    let e = error_for("{ enu = [12.0, -4.0, 0.0]", "{ enu = [12.0, -4.0, 0.0], alt = 3.0");
    assert!(e.to_string().contains("alt goes with lat/lon"), "{e}");
    let e = error_for("on_roof = \"way/1\"", "on_roof = \"way/99\"");
    assert!(e.to_string().contains("way/99") && e.to_string().contains("`osm`"), "{e}");
    let e = error_for("lon = 77.2091\nalt = 216.0", "lon = 181.0\nalt = 216.0");
    assert!(e.to_string().contains("-180..180"), "{e}");
}

#[test]
fn duplicate_ids_and_dangling_references() {
    let e = error_for("id = \"tower-2\"", "id = \"tower-1\"");
    assert!(e.to_string().contains("duplicate placement id `tower-1`"), "{e}");
    assert_eq!(e.location().unwrap().0, line_of(SCENE, "id = \"tower-2\""));
    let e = error_for("id = \"road-1\"", "id = \"cell-1\"");
    assert!(e.to_string().contains("duplicate entity id"), "{e}");
    let e = error_for("name = \"east\"", "name = \"overview\"");
    assert!(e.to_string().contains("duplicate bookmark id"), "{e}");
    let e = error_for("asset = \"pole\"", "asset = \"lamp\"");
    assert!(e.to_string().contains("unknown asset `lamp`") && e.to_string().contains("`tower`, `pole`"), "{e}");
    let e = error_for("placement = \"tower-1\"", "placement = \"tower-9\"");
    assert!(e.to_string().contains("tower-9") && e.to_string().contains("`tower-2`"), "{e}");
    let e = error_for("placement = \"poles/1\"", "placement = \"poles/2\"");
    assert!(e.to_string().contains("has 2 member(s)"), "{e}");
    let e = error_for("feature = \"way/2\"", "feature = \"way/3\"");
    assert!(e.to_string().contains("way/3") && e.location().unwrap().0 == line_of(SCENE, "feature = \"way/2\""), "{e}");
    let e = error_for("feature = \"way/2\"", "feature = \"way/2\"\nplacement = \"tower-1\"");
    assert!(e.to_string().contains("at most one"), "{e}");
    let e = error_for("kind = \"road.segment\"", "kind = \"road segment\"");
    assert!(e.to_string().contains("dotted kind"), "{e}");
    let e = error_for("sectors = 3", "sectors = [1, 2]");
    assert!(e.to_string().contains("property `sectors`"), "{e}");
}

#[test]
fn bookmark_needs_an_aim() {
    let e = error_for("target = { enu = [0.0, 0.0, 0.0] }\n", "");
    assert!(e.to_string().contains("bookmark `overview`: needs a target"), "{e}");
    let e = error_for("pitch = 0.0\n", "");
    assert!(e.to_string().contains("needs a target"), "{e}");
    let e = error_for("target = { enu = [0.0, 0.0, 0.0] }", "target = { enu = [0.0, 0.0, 0.0] }\nheading = 3.0");
    assert!(e.to_string().contains("not both"), "{e}");
    let e = error_for("fov_y = 45.0", "fov_y = 180.0");
    assert!(e.to_string().contains("fov_y"), "{e}");
}

#[test]
fn missing_files_name_the_resolved_path_and_line() {
    let e = error_for("models/pole.glb", "models/lamp.glb");
    let msg = e.to_string();
    assert!(matches!(e, SceneError::MissingFile { key: "gltf", .. }), "{e:?}");
    assert!(msg.contains("site.toml:") && msg.contains("models/lamp.glb"), "{msg}");
    assert_eq!(e.location().unwrap().0, line_of(SCENE, "models/pole.glb"));
    if let SceneError::MissingFile { resolved, .. } = &e {
        assert!(resolved.is_absolute());
    }
    let e = error_for("geo/site.geojson", "geo/other.geojson");
    assert!(matches!(e, SceneError::MissingFile { key: "geojson", .. }), "{e:?}");
    let e = error_for("models/pole.glb", "models/pole.obj");
    assert!(e.to_string().contains(".gltf or .glb"), "{e}");
}

#[test]
fn broken_layer_is_reported_with_the_layer_id() {
    let dir = fixture();
    std::fs::write(dir.join("geo/site.geojson"), "{ not json").unwrap();
    let e = Scene::from_str(SCENE, &dir.join("site.toml"), &dir).unwrap_err();
    assert!(matches!(e, SceneError::Layer { .. }), "{e:?}");
    assert!(e.to_string().contains("layer `osm`") && e.to_string().contains("site.geojson:1:"), "{e}");
}

#[test]
fn size_limit_and_syntax_errors() {
    let big = format!("format = 1\n#{}", "x".repeat(MAX_SCENE_BYTES as usize));
    let e = load(&big).unwrap_err();
    assert!(matches!(e, SceneError::TooLarge { .. }) && e.to_string().contains("16 MiB"), "{e}");
    let e = load("format = 1\nname = \"x\nnext = 2").unwrap_err();
    assert!(matches!(e, SceneError::Syntax { line: 2, .. }), "{e:?}");
}

const PLUGINS: &str = r#"
[plugin_policy]
allow_unsigned = true

[[plugins]]
id = "decay"
artifact = "decay.wasm"
kinds = ["telecom.cell"]
step_ms = 250
[plugins.params]
rate = 0.5
steps = 3
name = "x"
on = true

[[plugins]]
id = "labels"
artifact = "/abs/labels.wasm"
entities = ["cell-1", "road-1"]
"#;

#[test]
fn plugins_and_their_policy_load() {
    let scene = load(&format!("{SCENE}{PLUGINS}")).unwrap();
    assert!(scene.plugin_policy.allow_unsigned && !scene.plugin_policy.hot_reload);
    let [decay, labels] = &scene.plugins[..] else { panic!("two plugins: {:?}", scene.plugins) };
    assert_eq!((decay.id.as_str(), decay.artifact.as_str(), decay.step_ms), ("decay", "decay.wasm", Some(250)));
    assert_eq!(decay.kinds, vec!["telecom.cell".to_string()]);
    assert_eq!(
        decay.params,
        vec![
            ("name".into(), ParamLiteral::Text("x".into())),
            ("on".into(), ParamLiteral::Bool(true)),
            ("rate".into(), ParamLiteral::Number(0.5)),
            ("steps".into(), ParamLiteral::Integer(3)),
        ]
    );
    assert!(decay.location.contains("site.toml:"), "{}", decay.location);
    assert_eq!(labels.entities, vec![EntityId::new("cell-1"), EntityId::new("road-1")]);
    // A scene without plugins runs none and refuses unsigned ones.
    let plain = load(SCENE).unwrap();
    assert!(plain.plugins.is_empty() && plain.plugin_policy == PluginPolicy::default());
}

#[test]
fn bad_plugin_declarations_name_the_line_and_the_fix() {
    let text = format!("{SCENE}{PLUGINS}");
    let bad = |from: &str, to: &str| {
        assert!(text.contains(from), "fixture lacks {from:?}");
        let t = text.replacen(from, to, 1);
        let e = load(&t).expect_err(to);
        (e.location().map(|l| l.0), e.to_string(), t)
    };
    let (line, msg, t) = bad("entities = [\"cell-1\", \"road-1\"]", "entities = [\"cell-1\", \"nope\"]");
    assert_eq!(line, Some(line_of(&t, "entities = [\"cell-1\", \"nope\"]")));
    assert!(msg.contains("entity `nope` is not declared") && msg.contains("`cell-1`"), "{msg}");
    let (_, msg, _) = bad("kinds = [\"telecom.cell\"]", "kinds = [\"telecom.tower\"]");
    assert!(msg.contains("no entity of kind `telecom.tower`"), "{msg}");
    let (_, msg, _) = bad("step_ms = 250", "step_ms = 0");
    assert!(msg.contains("step_ms = 0 must be 1 to 3600000"), "{msg}");
    let (_, msg, _) = bad("step_ms = 250", "grant = [\"network\"]");
    assert!(msg.contains("unknown capability `network`"), "{msg}");
    let (_, msg, _) = bad("step_ms = 250", "grant = [\"read-data\"]");
    assert!(msg.contains("grant read-data needs data"), "{msg}");
    let (_, msg, _) = bad("step_ms = 250", "feed = \"missing.csv\"");
    assert!(msg.contains("`feed` file not found") && msg.contains("missing.csv"), "{msg}");
    let (_, msg, _) = bad("on = true", "on = [1]");
    assert!(msg.contains("parameter `on`"), "{msg}");
    let (_, msg, _) = bad("id = \"labels\"", "id = \"decay\"");
    assert!(msg.contains("duplicate plugin id `decay`"), "{msg}");
    let (_, msg, _) = bad("artifact = \"decay.wasm\"", "artifact = \" \"");
    assert!(msg.contains("artifact must name a plugin file"), "{msg}");
    let (_, msg, _) = bad("allow_unsigned = true", "allow_unsigned = true\nsigned_only = 1");
    assert!(msg.contains("unknown key"), "{msg}");
}

#[test]
fn the_apply_budget_is_read_in_microseconds_and_refused_outside_its_range() {
    let s = load(&format!("{SCENE}\n[clock]\napply_budget_us = 500\n")).unwrap();
    assert_eq!(s.clock.apply_budget, std::time::Duration::from_micros(500));
    assert_eq!(load(SCENE).unwrap().clock.apply_budget, crate::DEFAULT_APPLY_BUDGET);
    let text = format!("{SCENE}\n[clock]\napply_budget_us = 50\n");
    let e = load(&text).expect_err("50 us is under the range");
    let shown = e.to_string();
    assert!(shown.contains("apply_budget_us = 50") && shown.contains("100 to 100000"), "{shown}");
    assert!(shown.contains(&format!(":{}:", line_of(&text, "apply_budget_us"))), "names the line: {shown}");
}

const SOURCES: &str = r#"
[[sources]]
id = "kpi"
adapter = "decay"
kind = "mqtt"
broker = "mqtt://127.0.0.1:1884"
topics = ["delhi/+/kpi", "delhi/alarms/#"]

[[sources]]
id = "counts"
adapter = "labels"
kind = "file"
path = "geo/counts.csv"
speed = "max"
loop = true
"#;

#[test]
fn sources_load_with_their_defaults_and_bad_ones_name_the_line_and_the_fix() {
    let dir = fixture();
    std::fs::write(dir.join("geo/counts.csv"), "id,time,flow\n").unwrap();
    let text = format!("{SCENE}{PLUGINS}{SOURCES}");
    let scene = Scene::from_str(&text, &dir.join("site.toml"), &dir).unwrap();
    let [kpi, counts] = &scene.sources[..] else { panic!("two sources: {:?}", scene.sources) };
    assert_eq!(kpi.adapter, "decay");
    assert_eq!(
        kpi.kind,
        SourceKind::Mqtt {
            broker: "mqtt://127.0.0.1:1884".into(),
            topics: vec!["delhi/+/kpi".into(), "delhi/alarms/#".into()],
            qos: 1,
            client_id: "sangam-kpi".into(),
            clean_session: false,
            keep_alive_s: 30,
            username: None,
            password_env: None,
            coalesce: false,
            tls: TlsFiles::default(),
        }
    );
    let SourceKind::File { format, pace, looped, time_column, .. } = &counts.kind else { panic!("{counts:?}") };
    assert_eq!((*format, *pace, *looped, time_column.as_str()), (FileFormat::Csv, ReplayPace::Max, true, "time"));
    assert!(kpi.location.contains("site.toml:"), "{}", kpi.location);

    let bad = |from: &str, to: &str| {
        assert!(text.contains(from), "fixture lacks {from:?}");
        let t = text.replacen(from, to, 1);
        let e = Scene::from_str(&t, &dir.join("site.toml"), &dir).expect_err(to);
        (e.location().map(|l| l.0), e.to_string(), t)
    };
    let (line, msg, t) = bad("adapter = \"decay\"", "adapter = \"nobody\"");
    assert_eq!(line, Some(line_of(&t, "adapter = \"nobody\"")));
    assert!(msg.contains("no plugin `nobody`") && msg.contains("`decay`, `labels`"), "{msg}");
    let (_, msg, _) = bad("\"delhi/alarms/#\"", "\"delhi/#/alarms\"");
    assert!(msg.contains("not an MQTT topic filter"), "{msg}");
    let (_, msg, _) = bad("topics = [", "qos = 2\ntopics = [");
    assert!(msg.contains("qos = 2 must be 0 or 1"), "{msg}");
    let (_, msg, _) = bad("mqtt://127.0.0.1:1884", "mqtt://127.0.0.1:1884\"\nca_file = \"geo/counts.csv");
    assert!(msg.contains("`ca_file` is for TLS, but the address is not mqtts://"), "{msg}");
    let (_, msg, _) = bad("kind = \"mqtt\"", "kind = \"kafka\"");
    assert!(msg.contains("unknown kind `kafka`"), "{msg}");
    let (_, msg, _) = bad("speed = \"max\"", "speed = 0");
    assert!(msg.contains("speed = 0 must be a factor"), "{msg}");
    let (_, msg, _) = bad("speed = \"max\"", "speed = \"max\"\ntopics = [\"x\"]");
    assert!(msg.contains("`topics` is for MQTT sources"), "{msg}");
    let (_, msg, _) = bad("path = \"geo/counts.csv\"", "path = \"geo/missing.csv\"");
    assert!(msg.contains("missing.csv"), "{msg}");
    let (_, msg, _) = bad("id = \"counts\"", "id = \"kpi\"");
    assert!(msg.contains("duplicate source id `kpi`"), "{msg}");
    let (_, msg, _) = bad("topics = [", "password_env = \"KPI_PASSWORD\"\ntopics = [");
    assert!(msg.contains("password_env needs username"), "{msg}");
    let (_, msg, _) = bad("topics = [", "username = \"twin\"\npassword_env = \"hunter2\"\ntopics = [");
    assert!(msg.contains("must name an environment variable") && msg.contains("never goes in the scene"), "{msg}");
    let (_, msg, _) = bad("topics = [", "coalesce = \"latest-per-topic\"\ntopics = [");
    assert!(msg.contains("qos = 1 promises every message; set qos = 0"), "{msg}");
    let (_, msg, _) = bad("topics = [", "coalesce = \"newest\"\ntopics = [");
    assert!(msg.contains("not \"latest-per-topic\""), "{msg}");
    let (_, msg, _) = bad("speed = \"max\"\nloop = true", "untimed = true\nloop = true");
    assert!(msg.contains("an untimed file has no times, so `loop` means nothing"), "{msg}");
    let untimed = text.replacen("speed = \"max\"\nloop = true", "untimed = true", 1);
    let scene = Scene::from_str(&untimed, &dir.join("site.toml"), &dir).unwrap();
    let SourceKind::File { pace, .. } = &scene.sources[1].kind else { panic!("{:?}", scene.sources[1]) };
    assert_eq!(*pace, ReplayPace::Untimed);
}

#[test]
fn http_and_websocket_sources_load_with_their_defaults_and_bad_ones_name_the_line_and_the_fix() {
    let dir = fixture();
    let sources = r#"
[[sources]]
id = "api"
adapter = "decay"
kind = "http"
url = "http://127.0.0.1:8080/kpi.json"

[[sources]]
id = "ws"
adapter = "labels"
kind = "websocket"
url = "ws://127.0.0.1:9000/feed"
subscribe = "{\"op\":\"subscribe\"}"
content_type = "application/json"
"#;
    let text = format!("{SCENE}{PLUGINS}{sources}");
    let scene = Scene::from_str(&text, &dir.join("site.toml"), &dir).unwrap();
    assert_eq!(
        scene.sources[0].kind,
        SourceKind::Http {
            url: "http://127.0.0.1:8080/kpi.json".into(),
            interval: std::time::Duration::from_secs(5),
            timeout: std::time::Duration::from_secs(10),
            max_bytes: crate::MAX_SOURCE_MESSAGE_BYTES,
            content_type: None,
            tls: TlsFiles::default(),
        }
    );
    assert_eq!(
        scene.sources[1].kind,
        SourceKind::WebSocket {
            url: "ws://127.0.0.1:9000/feed".into(),
            subscribe: Some("{\"op\":\"subscribe\"}".into()),
            content_type: Some("application/json".into()),
            tls: TlsFiles::default(),
        }
    );
    let bad = |from: &str, to: &str| {
        assert!(text.contains(from), "fixture lacks {from:?}");
        let t = text.replacen(from, to, 1);
        let e = Scene::from_str(&t, &dir.join("site.toml"), &dir).expect_err(to);
        (e.location().map(|l| l.0), e.to_string(), t)
    };
    // TLS: the files resolve from the scene's folder, a client identity needs both of its files.
    std::fs::write(dir.join("geo/ca.pem"), "").unwrap();
    std::fs::write(dir.join("geo/me.pem"), "").unwrap();
    let tls = text.replacen(
        "url = \"ws://127.0.0.1:9000/feed\"",
        "url = \"wss://127.0.0.1:9000/feed\"\nca_file = \"geo/ca.pem\"\nclient_cert_file = \"geo/me.pem\"\nclient_key_file = \"geo/me.pem\"",
        1,
    );
    let scene = Scene::from_str(&tls, &dir.join("site.toml"), &dir).unwrap();
    let SourceKind::WebSocket { url, tls, .. } = &scene.sources[1].kind else { panic!("{:?}", scene.sources[1]) };
    assert_eq!(url, "wss://127.0.0.1:9000/feed");
    assert_eq!(tls.ca_file.as_deref(), Some(dir.join("geo/ca.pem").as_path()));
    assert_eq!(tls.client_identity, Some((dir.join("geo/me.pem"), dir.join("geo/me.pem"))));
    let (_, msg, _) =
        bad("http://127.0.0.1:8080/kpi.json\"", "https://127.0.0.1:8080/kpi.json\"\nca_file = \"geo/nowhere.pem\"");
    assert!(msg.contains("nowhere.pem"), "{msg}");
    let (_, msg, _) =
        bad("http://127.0.0.1:8080/kpi.json\"", "https://127.0.0.1:8080/kpi.json\"\nclient_cert_file = \"geo/me.pem\"");
    assert!(msg.contains("needs both client_cert_file and client_key_file"), "{msg}");
    let (_, msg, _) = bad("ws://127.0.0.1:9000/feed\"", "ws://127.0.0.1:9000/feed\"\nca_file = \"geo/ca.pem\"");
    assert!(msg.contains("`ca_file` is for TLS, but the address is not wss://; use wss://"), "{msg}");
    let (_, msg, _) = bad("http://127.0.0.1:8080", "ftp://127.0.0.1:8080");
    assert!(msg.contains("is not a http:// or https:// URL"), "{msg}");
    let (line, msg, t) =
        bad("url = \"http://127.0.0.1:8080/kpi.json\"", "url = \"http://127.0.0.1:8080/kpi.json\"\ninterval_s = 0.0");
    assert!(msg.contains("interval_s = 0 must be 0.1 to 86400 seconds"), "{msg}");
    assert_eq!(line, Some(line_of(&t, "interval_s = 0.0")));
    let (_, msg, _) = bad("subscribe = ", "interval_s = 1.0\nsubscribe = ");
    assert!(msg.contains("`interval_s` is for HTTP sources, not WebSocket sources"), "{msg}");
    let (_, msg, _) = bad("kind = \"http\"", "kind = \"http\"\ntopics = [\"a\"]");
    assert!(msg.contains("`topics` is for MQTT sources, not HTTP sources"), "{msg}");
    let (_, msg, _) = bad("url = \"http://127.0.0.1:8080/kpi.json\"", "url = \"http:///kpi.json\"");
    assert!(msg.contains("has no host"), "{msg}");
    let (_, msg, _) = bad("content_type = \"application/json\"", "content_type = \"json\"");
    assert!(msg.contains("is not a media type"), "{msg}");
    let (_, msg, _) =
        bad("kind = \"http\"\nurl = \"http://127.0.0.1:8080/kpi.json\"", "kind = \"http\"\nmax_bytes = 5");
    assert!(msg.contains("needs url = \"http://HOST:PORT/PATH\""), "{msg}");
}

#[test]
fn scenarios_name_their_plugins_values_and_bad_ones_the_line() {
    let dir = fixture();
    let scenarios = r#"
[[scenarios]]
id = "slow-decay"
description = "Loads follow their targets five times slower"
set = { "decay.rate" = 0.1, "decay.steps" = 6, "labels.title" = "slow" }

[[scenarios]]
id = "quiet"
set = { "labels.enabled" = false }
"#;
    let text = format!("{SCENE}{PLUGINS}{scenarios}");
    let scene = Scene::from_str(&text, &dir.join("site.toml"), &dir).unwrap();
    let [slow, quiet] = &scene.scenarios[..] else { panic!("{:?}", scene.scenarios) };
    assert_eq!(slow.id, "slow-decay");
    assert_eq!(slow.description.as_deref(), Some("Loads follow their targets five times slower"));
    let set: Vec<(&str, &str, &ParamLiteral)> =
        slow.set.iter().map(|v| (v.plugin.as_str(), v.parameter.as_str(), &v.value)).collect();
    assert_eq!(
        set,
        [
            ("decay", "rate", &ParamLiteral::Number(0.1)),
            ("decay", "steps", &ParamLiteral::Integer(6)),
            ("labels", "title", &ParamLiteral::Text("slow".into())),
        ]
    );
    assert_eq!(quiet.set[0].value, ParamLiteral::Bool(false));
    assert!(slow.location.contains("site.toml:"), "{}", slow.location);
    let bad = |from: &str, to: &str| {
        assert!(text.contains(from), "fixture lacks {from:?}");
        let t = text.replacen(from, to, 1);
        let e = Scene::from_str(&t, &dir.join("site.toml"), &dir).expect_err(to);
        (e.location().map(|l| l.0), e.to_string(), t)
    };
    let (line, msg, t) = bad("\"labels.enabled\" = false", "\"lights.enabled\" = false");
    assert_eq!(line, Some(line_of(&t, "\"lights.enabled\"")));
    assert!(msg.contains("`lights.enabled` is not PLUGIN.PARAMETER") && msg.contains("`decay`, `labels`"), "{msg}");
    let (_, msg, _) = bad("\"labels.enabled\" = false", "\"labels.\" = false");
    assert!(msg.contains("is not PLUGIN.PARAMETER"), "{msg}");
    let (_, msg, _) = bad("\"labels.enabled\" = false", "\"labels.enabled\" = [1, 2]");
    assert!(msg.contains("scenario `quiet`: `labels.enabled` = [1, 2] must be a finite number"), "{msg}");
    let (_, msg, _) = bad("set = { \"labels.enabled\" = false }", "set = {}");
    assert!(msg.contains("sets nothing"), "{msg}");
    let (_, msg, _) = bad("id = \"quiet\"", "id = \"slow-decay\"");
    assert!(msg.contains("duplicate scenario id `slow-decay`"), "{msg}");
}

#[test]
fn heatmap_rules_name_a_plugin_s_layer_and_bad_ones_the_line() {
    let dir = fixture();
    let heatmaps = r#"
[[heatmaps]]
plugin = "decay"
layer = "radio.rsrp"
range = [-120.0, -60.0]

[[heatmaps]]
plugin = "decay"
layer = "radio.sinr"
range = [-5.0, 25.0]
palette = "diverging"
opacity = 0.8
heights = "surface.height"

[labels]
screen_px = 18.0
"#;
    let text = format!("{SCENE}{PLUGINS}{heatmaps}");
    let scene = Scene::from_str(&text, &dir.join("site.toml"), &dir).unwrap();
    let [rsrp, sinr] = &scene.heatmaps[..] else { panic!("{:?}", scene.heatmaps) };
    assert_eq!((rsrp.plugin.as_str(), rsrp.layer.as_str(), rsrp.min, rsrp.max), ("decay", "radio.rsrp", -120.0, -60.0));
    assert_eq!((rsrp.ramp, rsrp.opacity), (ColorRamp::Viridis, 0.6), "the defaults");
    assert_eq!((sinr.ramp, sinr.opacity), (ColorRamp::Diverging, 0.8));
    assert_eq!((rsrp.heights.as_deref(), sinr.heights.as_deref()), (None, Some("surface.height")));
    assert_eq!(scene.labels.screen_px, Some(18.0));
    assert_eq!(load(SCENE).unwrap().labels.screen_px, None, "labels sized in metres unless asked");
    let bad = |from: &str, to: &str| {
        assert!(text.contains(from), "fixture lacks {from:?}");
        let t = text.replacen(from, to, 1);
        let e = Scene::from_str(&t, &dir.join("site.toml"), &dir).expect_err(to);
        (e.location().map(|l| l.0), e.to_string(), t)
    };
    let (line, msg, t) =
        bad("plugin = \"decay\"\nlayer = \"radio.rsrp\"", "plugin = \"radio\"\nlayer = \"radio.rsrp\"");
    assert_eq!(line, Some(line_of(&t, "plugin = \"radio\"")));
    assert!(msg.contains("`radio` is not a plugin of this scene (its plugins: decay, labels)"), "{msg}");
    let (_, msg, _) = bad("range = [-120.0, -60.0]", "range = [-60.0, -120.0]");
    assert!(msg.contains("range must be [MIN, MAX]"), "{msg}");
    let (_, msg, _) = bad("layer = \"radio.sinr\"", "layer = \"radio.rsrp\"");
    assert!(msg.contains("`decay` layer `radio.rsrp` already has a rule"), "{msg}");
    let (_, msg, _) = bad("palette = \"diverging\"", "palette = \"rainbow\"");
    assert!(msg.contains("palette `rainbow`"), "{msg}");
    let (_, msg, _) = bad("opacity = 0.8", "opacity = 1.5");
    assert!(msg.contains("opacity must be 0 to 1"), "{msg}");
    let (_, msg, _) = bad("heights = \"surface.height\"", "heights = \" \"");
    assert!(msg.contains("heights must name the plugin's layer of surface heights"), "{msg}");
    let (line, msg, t) = bad("screen_px = 18.0", "screen_px = 1000.0");
    assert_eq!(line, Some(line_of(&t, "screen_px = 1000.0")));
    assert!(msg.contains("screen_px is a text height in pixels, 4 to 256"), "{msg}");
}
