//! `plugin.toml` as an author writes it: what a valid manifest gives the runtime, and the messages
//! (file, line, column, what to do) a wrong one produces.

use std::path::Path;
use std::time::Duration;

use sangam_plugins::manifest::{Manifest, ManifestError, ParamType};
use sangam_plugins::{Capabilities, Limits, ParamValue, Role, SdkVersion};

const FULL: &str = r#"id = "sangam.decay"
version = "0.3.1-beta.2+build.7"
sdk = "1.1.0"
role = "simulation"
description = "Exponential decay of a numeric property towards a baseline."

[capabilities]
read-data = true
random = true

[limits]
memory-mb = 32
call-ms = 20
fuel = 5000000
output-mb = 4
host-calls = 500

[[parameter]]
name = "half-life"
type = "number"
default = 3600.0
unit = "s"
min = 1.0
max = 1e9
description = "Time for the excess over the baseline to halve."

[[parameter]]
name = "property"
type = "text"
default = "traffic.flow"

[[parameter]]
name = "steps"
type = "integer"
default = 4
min = 1
max = 100

[[parameter]]
name = "clamp"
type = "boolean"
default = true
"#;

const MINIMAL: &str = r#"id = "acme.traffic-feed"
version = "1.0.0"
sdk = "1.0.0"
role = "adapter"
description = "Turns the ACME feed into flows."
"#;

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(text, Path::new("plugins/decay/plugin.toml"))
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => e.to_string(),
    }
}

/// `MINIMAL` with `line` added at the end (keys after the top-level ones).
fn minimal_with(line: &str) -> String {
    format!("{MINIMAL}{line}\n")
}

#[test]
fn full_manifest_gives_every_field() {
    let m = parse(FULL).expect("valid manifest");
    assert_eq!(m.id, "sangam.decay");
    assert_eq!(m.version, "0.3.1-beta.2+build.7");
    assert_eq!(m.sdk, SdkVersion::new(1, 1, 0));
    assert_eq!(m.role, Role::Simulation);
    assert!(m.description.starts_with("Exponential decay"));
    assert_eq!(m.requested_capabilities(), Capabilities { read_data: true, random: true, ..Capabilities::default() });
    let limits = m.limits();
    assert_eq!(limits.memory_bytes, 32 * 1024 * 1024);
    assert_eq!(limits.call_time, Duration::from_millis(20));
    assert_eq!(limits.fuel_per_call, Some(5_000_000));
    assert_eq!(limits.output_bytes, 4 * 1024 * 1024);
    assert_eq!(limits.host_calls_per_call, 500);
    assert_eq!(
        m.default_params(),
        vec![
            ("half-life".to_string(), ParamValue::Number(3600.0)),
            ("property".to_string(), ParamValue::Text("traffic.flow".to_string())),
            ("steps".to_string(), ParamValue::Integer(4)),
            ("clamp".to_string(), ParamValue::Boolean(true)),
        ]
    );
    let half_life = m.parameter("half-life").expect("declared");
    assert_eq!(half_life.ty, ParamType::Number);
    assert_eq!(half_life.unit, "s");
    assert_eq!((half_life.min, half_life.max), (Some(1.0), Some(1e9)));
}

#[test]
fn minimal_manifest_gets_runtime_defaults_and_no_capabilities() {
    let m = parse(MINIMAL).expect("valid manifest");
    assert_eq!(m.role, Role::Adapter);
    assert_eq!(m.limits(), Limits::default());
    assert_eq!(m.requested_capabilities(), Capabilities::default());
    assert!(m.default_params().is_empty());
}

#[test]
fn integer_default_of_number_parameter_is_widened() {
    let m = parse(&minimal_with("[[parameter]]\nname = \"gain\"\ntype = \"number\"\ndefault = 2")).unwrap();
    assert_eq!(m.default_params(), vec![("gain".to_string(), ParamValue::Number(2.0))]);
}

#[test]
fn unknown_key_names_file_line_column_and_key() {
    let text = MINIMAL.replace("description =", "descripton =");
    let e = err(&text);
    assert!(e.starts_with("plugins/decay/plugin.toml:5:1:"), "{e}");
    assert!(e.contains("descripton"), "{e}");
    assert!(e.contains("fix its spelling"), "{e}");

    let e = err(&minimal_with("[capabilities]\nnetwork = true"));
    assert!(e.contains(":7:1:") && e.contains("network"), "{e}");
    let e = err(&minimal_with("[limits]\nmemory = 3"));
    assert!(e.contains(":7:1:") && e.contains("memory"), "{e}");
}

#[test]
fn missing_key_is_named() {
    let text = MINIMAL.replace("role = \"adapter\"\n", "");
    let e = err(&text);
    assert!(e.contains("missing required key") && e.contains("role"), "{e}");
}

#[test]
fn invalid_ids_are_refused_at_their_line() {
    for bad in ["Sangam.decay", "", "sangam..decay", "sangam.9lives", "sangam.decay-", "sangam/decay", ".a.b"] {
        let e = err(&MINIMAL.replace("acme.traffic-feed", bad));
        assert!(e.starts_with("plugins/decay/plugin.toml:1:6: invalid plugin id"), "{bad}: {e}");
    }
    let long = format!("acme.{}", "x".repeat(70));
    assert!(err(&MINIMAL.replace("acme.traffic-feed", &long)).contains("64"));
    for good in ["a.b", "acme.traffic-feed", "vendor2.model.v3", "flood-model"] {
        assert!(parse(&MINIMAL.replace("acme.traffic-feed", good)).is_ok(), "{good}");
    }
}

#[test]
fn plugin_version_must_be_semver() {
    for bad in ["1.0", "1.0.0.0", "01.0.0", "1.x.0", "1.0.0-", "1.0.0+b@d", ""] {
        let e = err(&MINIMAL.replace("version = \"1.0.0\"", &format!("version = \"{bad}\"")));
        assert!(e.contains(":2:11: invalid plugin version"), "{bad}: {e}");
    }
}

#[test]
fn control_characters_in_manifest_text_are_refused_at_their_line() {
    // ANSI sequences (set title, clear screen) in the description, as TOML escapes.
    let e = err(&MINIMAL.replace("description = \"", "description = \"\\u001b]0;pwned\\u0007\\u001b[2J"));
    assert!(e.contains(":5:15: `description` holds the control character U+001B at byte 0"), "{e}");
    assert!(!e.contains('\u{1b}'), "the message itself is clean: {e:?}");
    // A newline in a parameter's unit or description, or in a text default.
    let param = "[[parameter]]\nname = \"p\"\ntype = \"number\"\ndefault = 1.0\nunit = \"m\\nERROR forged\"\n";
    assert!(err(&minimal_with(param)).contains("`unit` holds the control character U+000A"), "{param}");
    let param = "[[parameter]]\nname = \"p\"\ntype = \"text\"\ndefault = \"a\\u202eb\"\n";
    assert!(err(&minimal_with(param)).contains("`default` holds the control character U+202E"));
}

#[test]
fn sdk_must_be_a_version_and_role_a_known_one() {
    let e = err(&MINIMAL.replace("sdk = \"1.0.0\"", "sdk = \"one\""));
    assert!(e.contains(":3:7:") && e.contains("1.0.0") && e.contains("1.1.0"), "{e}");
    let e = err(&MINIMAL.replace("\"adapter\"", "\"renderer\""));
    assert!(e.contains(":4:8: unknown role `renderer`") && e.contains("simulation"), "{e}");
}

#[test]
fn limits_out_of_range_are_refused_with_the_range() {
    for (line, needle) in [
        ("memory-mb = 0", "1 to 4096"),
        ("memory-mb = 5000", "1 to 4096"),
        ("call-ms = 60000", "1 to 10000"),
        ("fuel = -1", "fuel"),
        ("output-mb = 2000", "1 to 1024"),
        ("host-calls = 0", "host-calls"),
    ] {
        let e = err(&minimal_with(&format!("[limits]\n{line}")));
        assert!(e.contains(":7:") && e.contains(needle), "{line}: {e}");
    }
    let e = err(&minimal_with("[limits]\nmemory-mb = \"lots\""));
    assert!(e.contains("expected type") || e.contains("invalid type"), "{e}");
}

#[test]
fn parameter_declarations_are_checked() {
    let param = |body: &str| minimal_with(&format!("[[parameter]]\n{body}"));
    let cases = [
        ("name = \"Gain\"\ntype = \"number\"\ndefault = 1.0", "invalid parameter name"),
        ("name = \"gain\"\ntype = \"float\"\ndefault = 1.0", "unknown type `float`"),
        ("name = \"gain\"\ntype = \"integer\"\ndefault = 1.5", "expected an integer"),
        ("name = \"gain\"\ntype = \"number\"\ndefault = 5.0\nmax = 2.0", "above the maximum"),
        ("name = \"gain\"\ntype = \"number\"\ndefault = 1.0\nmin = 3.0\nmax = 2.0", "below `min = 3`"),
        ("name = \"on\"\ntype = \"boolean\"\ndefault = true\nunit = \"s\"", "only numbers have a unit"),
        ("name = \"on\"\ntype = \"boolean\"\ndefault = true\nmin = 0.0", "apply to numbers only"),
        ("name = \"x\"\ntype = \"number\"\ndefault = [1.0]", "not a array"),
        ("name = \"x\"\ntype = \"number\"\ndefault = nan", "not a finite number"),
    ];
    for (body, needle) in cases {
        let e = err(&param(body));
        assert!(e.contains(needle), "{body}: {e}");
        assert!(e.starts_with("plugins/decay/plugin.toml:"), "{e}");
    }
    let twice = minimal_with(
        "[[parameter]]\nname = \"g\"\ntype = \"number\"\ndefault = 1.0\n[[parameter]]\nname = \"g\"\ntype = \"text\"\ndefault = \"\"",
    );
    let e = err(&twice);
    assert!(e.contains(":11:8:") && e.contains("declared twice"), "{e}");
}

#[test]
fn too_many_parameters_are_refused() {
    let mut text = MINIMAL.to_string();
    for i in 0..65 {
        text.push_str(&format!("[[parameter]]\nname = \"p{i}\"\ntype = \"boolean\"\ndefault = false\n"));
    }
    assert!(err(&text).contains("more than 64 parameters"));
}

#[test]
fn scene_values_are_checked_against_declarations() {
    let m = parse(FULL).unwrap();
    let set = |pairs: &[(&str, ParamValue)]| {
        m.resolve_params(&pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect::<Vec<_>>())
    };
    let resolved = set(&[("half-life", ParamValue::Integer(60)), ("clamp", ParamValue::Boolean(false))]).unwrap();
    assert_eq!(
        resolved,
        vec![
            ("half-life".to_string(), ParamValue::Number(60.0)),
            ("property".to_string(), ParamValue::Text("traffic.flow".to_string())),
            ("steps".to_string(), ParamValue::Integer(4)),
            ("clamp".to_string(), ParamValue::Boolean(false)),
        ]
    );

    let e = set(&[("half_life", ParamValue::Number(1.0))]).unwrap_err().to_string();
    assert!(e.contains("sangam.decay") && e.contains("`half_life`") && e.contains("`half-life`"), "{e}");
    let e = set(&[("steps", ParamValue::Number(2.5))]).unwrap_err().to_string();
    assert!(e.contains("expected an integer, found the number 2.5"), "{e}");
    let e = set(&[("steps", ParamValue::Integer(101))]).unwrap_err().to_string();
    assert!(e.contains("above the maximum 100"), "{e}");
    let e = set(&[("half-life", ParamValue::Number(0.5))]).unwrap_err().to_string();
    assert!(e.contains("0.5 s is below the minimum 1 s"), "{e}");
    let e = set(&[("half-life", ParamValue::Number(f64::INFINITY))]).unwrap_err().to_string();
    assert!(e.contains("not a finite number"), "{e}");
    let e = set(&[("clamp", ParamValue::Text("yes".into()))]).unwrap_err().to_string();
    assert!(e.contains("expected a boolean, found a text"), "{e}");
    let e = set(&[("property", ParamValue::Text("x".repeat(5000)))]).unwrap_err().to_string();
    assert!(e.contains("over the limit of 4096"), "{e}");
    let e = set(&[("clamp", ParamValue::Boolean(true)), ("clamp", ParamValue::Boolean(false))]).unwrap_err();
    assert!(e.to_string().contains("set twice"), "{e}");
    // A number with its unit (as `--set half-life=90s` gives it): the parameter's unit is taken, any
    // other is refused naming the one it wants; the range still holds.
    let text = |t: &str| ParamValue::Text(t.into());
    assert_eq!(set(&[("half-life", text("90 s"))]).unwrap()[0].1, ParamValue::Number(90.0));
    assert_eq!(set(&[("half-life", text("2.5e2s"))]).unwrap()[0].1, ParamValue::Number(250.0));
    let e = set(&[("half-life", text("2 min"))]).unwrap_err().to_string();
    assert!(e.contains("sangam.decay") && e.contains("`half-life`"), "{e}");
    assert!(e.contains("`2 min` is in min, but the parameter is in s; give it in s"), "{e}");
    let e = set(&[("half-life", text("0.5 s"))]).unwrap_err().to_string();
    assert!(e.contains("0.5 s is below the minimum 1 s"), "{e}");
    let e = set(&[("steps", text("4 m"))]).unwrap_err().to_string();
    assert!(e.contains("has a unit but the parameter has none"), "{e}");
    assert!(set(&[("steps", text("4"))]).unwrap_err().to_string().contains("found a text"));
}

#[test]
fn load_names_missing_and_oversized_files() {
    let e = Manifest::load("/nonexistent/plugin.toml").unwrap_err().to_string();
    assert!(e.contains("/nonexistent/plugin.toml"), "{e}");
    let dir = std::env::temp_dir().join(format!("sangam-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("plugin.toml");
    std::fs::write(&big, format!("{MINIMAL}# {}\n", "x".repeat(70 * 1024))).unwrap();
    let e = Manifest::load(&big).unwrap_err();
    assert!(matches!(e, ManifestError::TooLarge { .. }), "{e}");
    let good = dir.join("good.toml");
    std::fs::write(&good, FULL).unwrap();
    assert_eq!(Manifest::load(&good).unwrap().id, "sangam.decay");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_report_their_location() {
    let e = parse(&MINIMAL.replace("\"adapter\"", "\"x\"")).unwrap_err();
    assert_eq!(e.location(), Some((4, 8)));
}

#[test]
fn repository_manifests_and_the_scaffold_template_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = 0;
    for dir in ["plugins", "tests/plugins"] {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
            let path = entry.path().join("plugin.toml");
            if path.is_file() {
                let m = Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(!m.id.is_empty(), "{}", path.display());
                found += 1;
            }
        }
    }
    assert!(found >= 3, "the first plugins (one per role) have manifests; found {found}");
    let template = root.join("runtime/app/templates/plugin/plugin.toml.in");
    if let Ok(text) = std::fs::read_to_string(&template) {
        for role in ["adapter", "simulation", "overlay"] {
            let filled = text
                .replace("{{name}}", "flood-model")
                .replace("{{role}}", role)
                .replace("{{description}}", "A scaffolded plugin.")
                .replace("{{parameters}}", "");
            let m = Manifest::parse(&filled, &template).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(m.role.as_str(), role);
        }
    }
}
