//! A 1.3 simulation fixture: it reads the scene's buildings and roads through the 1.3 `geometry`
//! import and hands maps over with `output.raster`, so the host tests can check what crossed and
//! drive every rule of the two.
//!
//! In `init` it reads both geometry lists (a missing `site-geometry` grant stops it there). Each step
//! writes, to every entity, what it saw: `seen.buildings`, `seen.building-points`, `seen.top-sum`
//! (the buildings' tops summed), `seen.roads`, `seen.road-points`, `seen.lanes-sum`, `seen.oneway`
//! (forward roads count 1, backward -1), `seen.speed-sum` (mapped speeds only), `seen.width-sum`.
//!
//! Parameter `mode` (text) picks the map it hands over each step:
//! - `map` (default): layer `test.index` in `idx` on a `columns` x `rows` grid (parameters, 4 x 3 by
//!   default) at origin (-50, -20, 1.5) with 10 m cells: cell `i` holds `i + step`, cell 1 holds NaN;
//! - `two-layers`: that map and `test.twice` (each value doubled), then `test.index` again with `-1`
//!   everywhere (a later map of a layer in a step replaces the earlier one);
//! - `short`: one value short; `infinite`: `+inf` at cell 2; `zero-cell`: cell size 0;
//! - `huge`: a 5000 x 5000 grid; `empty-layer`: layer name `""`;
//! - `new-layer-each-step`: layer `l{step}`, a new one each step;
//! - `in-init`: hands a map over from `init`, outside a step;
//! - `no-geometry`: reads no geometry (runs without the grant).

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.3.0", world: "simulation-plugin" });

use std::cell::RefCell;

use exports::sangam::plugin::describe::{Guest as Describe, ParameterSpec};
use exports::sangam::plugin::simulation::Guest;
use sangam::plugin::geometry::{self, Oneway};
use sangam::plugin::output::{self, RasterGrid};
use sangam::plugin::params;
use sangam::plugin::types::{EntityTable, ParamValue, Updates};

#[derive(Default)]
struct State {
    entities: usize,
    seen: Vec<(&'static str, f64)>,
    mode: String,
    columns: u32,
    rows: u32,
    steps: u32,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn text(name: &str, default: &str) -> String {
    match params::get(name) {
        Some(ParamValue::Text(v)) => v,
        _ => default.to_string(),
    }
}

fn integer(name: &str, default: i64) -> i64 {
    match params::get(name) {
        Some(ParamValue::Integer(v)) => v,
        _ => default,
    }
}

fn grid(columns: u32, rows: u32) -> RasterGrid {
    RasterGrid { origin: (-50.0, -20.0, 1.5), cell_size: 10.0, columns, rows }
}

fn index_map(columns: u32, rows: u32, step: u32) -> Vec<f32> {
    let mut values: Vec<f32> = (0..columns * rows).map(|i| (i + step) as f32).collect();
    if values.len() > 1 {
        values[1] = f32::NAN;
    }
    values
}

struct Plugin;

impl Guest for Plugin {
    fn init(entities: EntityTable) -> Result<(), String> {
        let mode = text("mode", "map");
        let mut seen = Vec::new();
        if mode != "no-geometry" {
            let b = geometry::buildings();
            seen.push(("seen.buildings", b.ids.len() as f64));
            seen.push(("seen.building-points", (b.points.len() / 2) as f64));
            seen.push(("seen.top-sum", b.tops.iter().sum()));
            if b.ring_starts.len() != b.ids.len() + 1 || b.bases.len() != b.ids.len() {
                return Err("the building lists do not run in parallel".into());
            }
            let r = geometry::roads();
            seen.push(("seen.roads", r.ids.len() as f64));
            seen.push(("seen.road-points", (r.points.len() / 2) as f64));
            seen.push(("seen.lanes-sum", r.lanes.iter().map(|&l| l as f64).sum()));
            let oneway = r.oneway.iter().map(|o| match o {
                Oneway::Forward => 1.0,
                Oneway::Backward => -1.0,
                Oneway::Both => 0.0,
            });
            seen.push(("seen.oneway", oneway.sum()));
            seen.push(("seen.speed-sum", r.max_speeds.iter().filter(|v| v.is_finite()).sum()));
            seen.push(("seen.width-sum", r.widths.iter().sum()));
        }
        let (columns, rows) = (integer("columns", 4) as u32, integer("rows", 3) as u32);
        if mode == "in-init" {
            output::raster("test.index", "idx", grid(columns, rows), &index_map(columns, rows, 0));
        }
        STATE.with(|s| *s.borrow_mut() = State { entities: entities.ids.len(), seen, mode, columns, rows, steps: 0 });
        Ok(())
    }

    fn step(now: i64, dt_us: i64) -> Result<Updates, String> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            let (c, r, k) = (s.columns, s.rows, s.steps);
            let map = index_map(c, r, k);
            match s.mode.as_str() {
                "short" => output::raster("test.index", "idx", grid(c, r), &map[1..]),
                "infinite" => {
                    let mut bad = map.clone();
                    bad[2] = f32::INFINITY;
                    output::raster("test.index", "idx", grid(c, r), &bad);
                }
                "zero-cell" => {
                    output::raster("test.index", "idx", RasterGrid { cell_size: 0.0, ..grid(c, r) }, &map);
                }
                "huge" => output::raster("test.index", "idx", grid(5000, 5000), &[]),
                "empty-layer" => output::raster("", "idx", grid(c, r), &map),
                "new-layer-each-step" => output::raster(&format!("l{k}"), "", grid(c, r), &map),
                "two-layers" => {
                    output::raster("test.index", "idx", grid(c, r), &map);
                    let twice: Vec<f32> = map.iter().map(|v| v * 2.0).collect();
                    output::raster("test.twice", "idx", grid(c, r), &twice);
                    output::raster("test.index", "idx", grid(c, r), &vec![-1.0; map.len()]);
                }
                _ => output::raster("test.index", "idx", grid(c, r), &map),
            }
            s.steps += 1;
            for (property, value) in &s.seen {
                output::full_column(property, "", &vec![*value; s.entities]);
            }
            Ok(Updates { time: now + dt_us, numbers: Vec::new(), texts: Vec::new() })
        })
    }
}

impl Describe for Plugin {
    fn describe_parameters() -> Vec<ParameterSpec> {
        let spec = |name: &str, default: ParamValue| ParameterSpec {
            name: name.into(),
            description: "See the crate docs.".into(),
            default,
            unit: String::new(),
            minimum: None,
            maximum: None,
        };
        vec![
            spec("mode", ParamValue::Text("map".into())),
            spec("columns", ParamValue::Integer(4)),
            spec("rows", ParamValue::Integer(3)),
        ]
    }
}

export!(Plugin);
