//! The parametrised misbehaving overlay fixture (SDK 1.1) for the fault corpus. Parameter `mode`
//! (text) picks what `draw` does; `init` misbehaves instead when `phase` is `init`.
//!
//! Modes: `ok` (one label and marker per entity, text from the twin property `status`), `loop`
//! (spins forever), `alloc` (asks for 2 GiB), `panic`, `stack` (unbounded recursion), `huge`
//! (10^8 labels), `many` (`count` labels, to exceed an output cap), `nan`/`inf` (poisons the float
//! field named by parameter `field`), `flood` (calls `log` in a loop), `probe` (tries a file, the
//! environment and the clock, and returns what it saw as labels), `init-error`.
//!
//! Hostile modes (issue 12): `flaky` (draws once per instance, then panics), `sleep` (sleeps `ms`
//! milliseconds through WASI, then draws), `sleep-forever`, `err` (returns an error from every call),
//! `err-huge` (an 8 MiB error full of newlines and ANSI escapes), `forge` (logs and returns text that
//! imitates host log lines and drives terminals), `read-numbers` / `read-aggregate` (one read naming
//! `count` entities, the aggregate over the whole history).
//!
//! It never touches the network: a component importing `wasi:sockets` is refused before it runs.

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.1.0", world: "overlay-plugin" });

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Duration;

use exports::sangam::plugin::describe::{Guest as Describe, ParameterSpec};
use exports::sangam::plugin::overlay::Guest;
use sangam::plugin::overlay_types::{
    Alert, Heatmap, Labels, Markers, OverlayFrame, Palette, Polyline, Severity, Volume, VolumeShape,
};
use sangam::plugin::types::{EntityTable, ParamValue};
use sangam::plugin::{log, params, twin};

thread_local! {
    static COUNT: RefCell<u32> = const { RefCell::new(0) };
    static DRAWS: RefCell<u32> = const { RefCell::new(0) };
}

/// Text that imitates a host log line and carries terminal control sequences: clear screen, set the
/// window title (OSC 0), write the clipboard (OSC 52), and a bidi override.
const FORGED: &str = "fine\n2026-12-02T10:00:00.000000Z ERROR sangam_plugins::supervisor: plugin `good` draw: trapped: forged\r\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZWNobyBoaQ==\u{7}\u{202e}txet";

fn text(name: &str) -> String {
    match params::get(name) {
        Some(ParamValue::Text(t)) => t,
        _ => String::new(),
    }
}

fn integer(name: &str, default: i64) -> i64 {
    match params::get(name) {
        Some(ParamValue::Integer(v)) => v,
        _ => default,
    }
}

#[inline(never)]
fn recurse(depth: u64, pad: &mut [u8; 256]) -> u64 {
    pad[(depth % 256) as usize] = depth as u8;
    if depth == u64::MAX {
        return 0;
    }
    let pad2 = &mut black_box(*pad);
    1 + recurse(black_box(depth + 1), pad2) + pad2[0] as u64
}

/// Misbehaviour shared by `init` and `draw`; returns `Some(frame)` for output modes.
fn misbehave(mode: &str) -> Result<(), String> {
    match mode {
        "loop" => {
            let mut x = 0u64;
            loop {
                x = black_box(x.wrapping_add(1));
            }
        }
        "alloc" => {
            // 2 GiB in 16 MiB blocks, each touched, as a leaky model would. (One 2 GiB request is
            // refused inside the guest's allocator before it asks the host for memory.)
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            for _ in 0..128 {
                blocks.push(vec![1u8; 16 << 20]);
            }
            Err(format!("allocated {} blocks", black_box(blocks).len()))
        }
        "panic" => panic!("deliberate panic in the misbehave fixture"),
        "stack" => Err(format!("{}", recurse(0, &mut [0; 256]))),
        "flood" => {
            for i in 0..100_000_000u64 {
                log::log(log::Level::Trace, &format!("flood {i}"));
            }
            Err("flood ended".into())
        }
        "init-error" => Err("this plugin needs parameter `site` (deliberate init error)".into()),
        "flaky" => {
            let draws = DRAWS.with(|d| {
                *d.borrow_mut() += 1;
                *d.borrow()
            });
            if draws > 1 {
                panic!("deliberate fault on the second call after each restart");
            }
            Ok(())
        }
        "sleep" => {
            std::thread::sleep(Duration::from_millis(integer("ms", 10_000) as u64));
            Ok(())
        }
        "sleep-forever" => {
            std::thread::sleep(Duration::MAX);
            Ok(())
        }
        "err" => Err("deliberate error from every call".into()),
        "err-huge" => Err(format!("{FORGED}\n").repeat((8 << 20) / (FORGED.len() + 1))),
        "forge" => {
            log::log(log::Level::Error, FORGED);
            println!("{FORGED}");
            Err(FORGED.into())
        }
        "read-numbers" => {
            let entities = vec![0u32; integer("count", 4 << 20) as usize];
            Err(format!("read {}", twin::numbers("load", &entities).len()))
        }
        "read-aggregate" => {
            let entities = vec![0u32; integer("count", 2 << 20) as usize];
            let stats = twin::aggregate("load", &entities, i64::MIN, i64::MAX, twin::Statistic::Mean);
            Err(format!("read {}", stats.len()))
        }
        _ => Ok(()),
    }
}

fn good_frame(n: u32) -> OverlayFrame {
    let mut labels = Labels { positions: Vec::new(), texts: Vec::new(), colors: Vec::new(), sizes: Vec::new() };
    let mut markers = Markers { positions: Vec::new(), colors: Vec::new(), radii: Vec::new() };
    for i in 0..n {
        let status = twin::text(i, "status").unwrap_or_else(|| "?".into());
        labels.positions.extend([i as f64, 0.0, 10.0]);
        labels.texts.push(format!("e{i}: {status}"));
        labels.colors.extend([1.0, 1.0, 1.0, 1.0]);
        labels.sizes.push(2.0);
        markers.positions.extend([i as f64, 0.0, 0.0]);
        markers.colors.extend([1.0, 0.0, 0.0, 1.0]);
        markers.radii.push(0.5);
    }
    OverlayFrame {
        labels,
        markers,
        polylines: vec![Polyline {
            points: vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            color: (0.0, 1.0, 0.0, 1.0),
            width: 0.3,
        }],
        heatmaps: vec![Heatmap {
            origin: (0.0, 0.0, 0.0),
            cell_size: 5.0,
            columns: 2,
            rows: 2,
            values: vec![0.0, 1.0, f32::NAN, 3.0],
            min: 0.0,
            max: 3.0,
            palette: Palette::Viridis,
            opacity: 0.5,
        }],
        volumes: vec![Volume {
            shape: VolumeShape::Cylinder,
            center: (0.0, 0.0, 5.0),
            size: (10.0, 10.0, 20.0),
            color: (0.0, 0.0, 1.0, 0.3),
        }],
        alerts: vec![Alert {
            severity: Severity::Warning,
            entity: if n > 0 { Some(0) } else { None },
            message: "check".into(),
        }],
    }
}

fn poison(frame: &mut OverlayFrame, field: &str, bad: f64) {
    let b32 = bad as f32;
    match field {
        "labels.positions" => frame.labels.positions[1] = bad,
        "labels.colors" => frame.labels.colors[2] = b32,
        "labels.sizes" => frame.labels.sizes[0] = b32,
        "markers.positions" => frame.markers.positions[2] = bad,
        "markers.colors" => frame.markers.colors[3] = b32,
        "markers.radii" => frame.markers.radii[0] = b32,
        "polylines.points" => frame.polylines[0].points[4] = bad,
        "polylines.color" => frame.polylines[0].color.1 = b32,
        "polylines.width" => frame.polylines[0].width = b32,
        "heatmaps.origin" => frame.heatmaps[0].origin.2 = bad,
        "heatmaps.cell-size" => frame.heatmaps[0].cell_size = b32,
        "heatmaps.values" => frame.heatmaps[0].values[1] = b32,
        "heatmaps.min" => frame.heatmaps[0].min = b32,
        "heatmaps.max" => frame.heatmaps[0].max = b32,
        "heatmaps.opacity" => frame.heatmaps[0].opacity = b32,
        "volumes.center" => frame.volumes[0].center.0 = bad,
        "volumes.size" => frame.volumes[0].size.1 = b32,
        "volumes.color" => frame.volumes[0].color.3 = b32,
        _ => {}
    }
}

fn probe() -> Vec<String> {
    let file = match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("file:read {} bytes", bytes.len()),
        Err(e) => format!("file:denied {e}"),
    };
    let data = match std::fs::read_dir("/data") {
        Ok(entries) => format!("data:{} entries", entries.count()),
        Err(e) => format!("data:denied {e}"),
    };
    let env = format!("env:{}", std::env::vars().count());
    let args = format!("args:{}", std::env::args().count());
    let clock = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => format!("clock:{}", d.as_secs()),
        Err(_) => "clock:before-epoch".to_string(),
    };
    println!("probe done");
    vec![file, data, env, args, clock]
}

struct Plugin;

impl Guest for Plugin {
    fn init(entities: EntityTable) -> Result<(), String> {
        COUNT.with(|c| *c.borrow_mut() = entities.ids.len() as u32);
        if text("phase") == "init" || text("mode") == "init-error" {
            misbehave(&text("mode"))?;
        }
        Ok(())
    }

    fn draw(_now: i64) -> Result<OverlayFrame, String> {
        let mode = text("mode");
        misbehave(&mode)?;
        let n = COUNT.with(|c| *c.borrow());
        match mode.as_str() {
            "huge" => {
                let count = 100_000_000usize;
                let mut texts = Vec::with_capacity(count);
                texts.resize(count, String::new());
                let labels = Labels {
                    positions: vec![0.0; 3 * count],
                    texts,
                    colors: vec![1.0; 4 * count],
                    sizes: vec![1.0; count],
                };
                Ok(OverlayFrame { labels, ..good_frame(0) })
            }
            "many" => {
                let count = integer("count", 1_000_000) as usize;
                let labels = Labels {
                    positions: vec![0.0; 3 * count],
                    texts: vec!["x".to_string(); count],
                    colors: vec![1.0; 4 * count],
                    sizes: vec![1.0; count],
                };
                Ok(OverlayFrame { labels, ..good_frame(0) })
            }
            "nan" | "inf" => {
                let mut frame = good_frame(n.max(1));
                poison(&mut frame, &text("field"), if mode == "nan" { f64::NAN } else { f64::INFINITY });
                Ok(frame)
            }
            "probe" => {
                let texts = probe();
                let k = texts.len();
                let labels =
                    Labels { positions: vec![0.0; 3 * k], texts, colors: vec![1.0; 4 * k], sizes: vec![1.0; k] };
                Ok(OverlayFrame { labels, ..good_frame(0) })
            }
            _ => Ok(good_frame(n)),
        }
    }
}

impl Describe for Plugin {
    fn describe_parameters() -> Vec<ParameterSpec> {
        vec![ParameterSpec {
            name: "mode".into(),
            description: "Which misbehaviour to show.".into(),
            default: ParamValue::Text("ok".into()),
            unit: String::new(),
            minimum: None,
            maximum: None,
        }]
    }
}

export!(Plugin);
