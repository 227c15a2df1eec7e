//! A 1.2 simulation fixture: the diffusion model of `sim11` (the kernel in
//! `tests/plugins/kernel/diffusion.rs`) handing its `level` column to the host with the 1.2 addition,
//! `output.full-column`, straight from its own state: no index list and no copy in the plugin.
//!
//! Parameter `mode` (text) picks what it does, so the host tests can drive every rule of the call:
//! - `full` (default): one full column `level` per step;
//! - `full+listed`: also returns a listed column `level.first` for entity 0 (the two kinds mix);
//! - `kernel`: the kernel only, no output (the benchmark's split);
//! - `short`: a column one value short;
//! - `nan`: a column with NaN at the last entity;
//! - `in-init`: calls `full-column` from `init`, outside a step.

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.2.0", world: "simulation-plugin" });

#[path = "../../kernel/diffusion.rs"]
#[allow(dead_code)] // `emit` builds the 1.1 index list, which a full column does without.
mod diffusion;

use std::cell::RefCell;

use exports::sangam::plugin::describe::{Guest as Describe, ParameterSpec};
use exports::sangam::plugin::simulation::Guest;
use sangam::plugin::output;
use sangam::plugin::params;
use sangam::plugin::types::{EntityTable, NumberColumn, ParamValue, Updates};

#[derive(Default)]
struct State {
    values: Vec<f64>,
    scratch: Vec<f64>,
    alpha: f64,
    decay: f64,
    mode: String,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn number(name: &str, default: f64) -> f64 {
    match params::get(name) {
        Some(ParamValue::Number(v)) => v,
        Some(ParamValue::Integer(v)) => v as f64,
        _ => default,
    }
}

struct Plugin;

impl Guest for Plugin {
    fn init(entities: EntityTable) -> Result<(), String> {
        let n = entities.ids.len();
        if entities.positions.len() != 3 * n {
            return Err(format!("expected {} positions, got {}", 3 * n, entities.positions.len()));
        }
        let values: Vec<f64> = entities.positions.chunks_exact(3).map(|p| p[0] * 0.01).collect();
        let mode = match params::get("mode") {
            Some(ParamValue::Text(mode)) => mode,
            _ => "full".to_string(),
        };
        if mode == "in-init" {
            output::full_column("level", "m", &values);
        }
        STATE.with(|s| {
            *s.borrow_mut() =
                State { scratch: vec![0.0; n], values, alpha: number("alpha", 0.2), decay: number("decay", 0.05), mode }
        });
        Ok(())
    }

    fn step(now: i64, dt_us: i64) -> Result<Updates, String> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            diffusion::diffusion_step(&mut s.values, &mut s.scratch, s.alpha, s.decay, dt_us as f64 * 1e-6);
            let mut numbers = Vec::new();
            match s.mode.as_str() {
                "kernel" => {}
                "short" => output::full_column("level", "m", &s.values[1..]),
                "nan" => {
                    let mut bad = s.values.clone();
                    if let Some(last) = bad.last_mut() {
                        *last = f64::NAN;
                    }
                    output::full_column("level", "m", &bad);
                }
                mode => {
                    output::full_column("level", "m", &s.values);
                    if mode == "full+listed" {
                        numbers.push(NumberColumn {
                            property: "level.first".into(),
                            unit: "m".into(),
                            entities: vec![0],
                            values: s.values[..1].to_vec(),
                        });
                    }
                }
            }
            Ok(Updates { time: now + dt_us, numbers, texts: Vec::new() })
        })
    }
}

impl Describe for Plugin {
    fn describe_parameters() -> Vec<ParameterSpec> {
        let number = |name: &str, description: &str, default: f64, unit: &str| ParameterSpec {
            name: name.into(),
            description: description.into(),
            default: ParamValue::Number(default),
            unit: unit.into(),
            minimum: Some(0.0),
            maximum: None,
        };
        vec![
            number("alpha", "Diffusion coefficient between neighbouring entities.", 0.2, "1/s"),
            number("decay", "Decay rate towards zero.", 0.05, "1/s"),
            ParameterSpec {
                name: "mode".into(),
                description: "What the fixture hands the host (see the crate docs).".into(),
                default: ParamValue::Text("full".into()),
                unit: String::new(),
                minimum: None,
                maximum: None,
            },
        ]
    }
}

export!(Plugin);
