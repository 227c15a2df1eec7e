//! A 1.1 simulation fixture: 1-D diffusion with decay over the granted entities (the kernel in
//! `tests/plugins/kernel/diffusion.rs`, shared with the native benchmark baseline). Uses the 1.1
//! additions: `twin.aggregate` (when parameter `aggregate` is true it also returns `level.mean`, the
//! mean of `level` over the last `window-us` microseconds) and the `describe` export.

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.1.0", world: "simulation-plugin" });

#[path = "../../kernel/diffusion.rs"]
mod diffusion;

use std::cell::RefCell;

use exports::sangam::plugin::describe::{Guest as Describe, ParameterSpec};
use exports::sangam::plugin::simulation::Guest;
use sangam::plugin::types::{EntityTable, NumberColumn, ParamValue, Updates};
use sangam::plugin::{params, twin};

#[derive(Default)]
struct State {
    values: Vec<f64>,
    scratch: Vec<f64>,
    alpha: f64,
    decay: f64,
    aggregate: bool,
    /// Return the `level` column (default); false runs the kernel only (the benchmark's split).
    emit: bool,
    window_us: i64,
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
        let aggregate = matches!(params::get("aggregate"), Some(ParamValue::Boolean(true)));
        let emit = !matches!(params::get("emit"), Some(ParamValue::Boolean(false)));
        STATE.with(|s| {
            *s.borrow_mut() = State {
                scratch: vec![0.0; n],
                values,
                alpha: number("alpha", 0.2),
                decay: number("decay", 0.05),
                aggregate,
                emit,
                window_us: number("window-us", 10_000_000.0) as i64,
            }
        });
        Ok(())
    }

    fn step(now: i64, dt_us: i64) -> Result<Updates, String> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            diffusion::diffusion_step(&mut s.values, &mut s.scratch, s.alpha, s.decay, dt_us as f64 * 1e-6);
            if !s.emit {
                return Ok(Updates { time: now + dt_us, numbers: Vec::new(), texts: Vec::new() });
            }
            let mut entities = Vec::new();
            let mut values = Vec::new();
            diffusion::emit(&s.values, &mut entities, &mut values);
            let mut numbers = Vec::with_capacity(2);
            if s.aggregate {
                let means = twin::aggregate("level", &entities, now - s.window_us, now, twin::Statistic::Mean);
                let (idx, means): (Vec<u32>, Vec<f64>) =
                    entities.iter().zip(means).filter(|(_, m)| !m.is_nan()).map(|(e, m)| (*e, m)).unzip();
                numbers.push(NumberColumn {
                    property: "level.mean".into(),
                    unit: "m".into(),
                    entities: idx,
                    values: means,
                });
            }
            numbers.push(NumberColumn { property: "level".into(), unit: "m".into(), entities, values });
            Ok(Updates { time: now + dt_us, numbers, texts: Vec::new() })
        })
    }
}

impl Describe for Plugin {
    fn describe_parameters() -> Vec<ParameterSpec> {
        vec![
            ParameterSpec {
                name: "alpha".into(),
                description: "Diffusion coefficient between neighbouring entities.".into(),
                default: ParamValue::Number(0.2),
                unit: "1/s".into(),
                minimum: Some(0.0),
                maximum: Some(10.0),
            },
            ParameterSpec {
                name: "decay".into(),
                description: "Decay rate towards zero.".into(),
                default: ParamValue::Number(0.05),
                unit: "1/s".into(),
                minimum: Some(0.0),
                maximum: None,
            },
            ParameterSpec {
                name: "aggregate".into(),
                description: "Also report the windowed mean of `level` (uses twin.aggregate).".into(),
                default: ParamValue::Boolean(false),
                unit: String::new(),
                minimum: None,
                maximum: None,
            },
            ParameterSpec {
                name: "emit".into(),
                description: "Return the `level` column; false runs the kernel only (benchmarks).".into(),
                default: ParamValue::Boolean(true),
                unit: String::new(),
                minimum: None,
                maximum: None,
            },
        ]
    }
}

export!(Plugin);
