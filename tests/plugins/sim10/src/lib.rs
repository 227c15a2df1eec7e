//! A 1.0 simulation fixture: exponential decay of the `level` property towards zero.
//!
//! Parameters: `rate` (number, per second, default 0.5); `mode` (text): `ok` (default), `nan`
//! (first value NaN), `inf` (first value infinite), `oob` (entity index out of range), `mismatch`
//! (fewer values than entities), `returned-error` (step returns an error).

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.0.0", world: "simulation-plugin" });

use std::cell::RefCell;

use exports::sangam::plugin::simulation::Guest;
use sangam::plugin::types::{EntityTable, NumberColumn, ParamValue, Updates};
use sangam::plugin::{log, params, twin};

struct State {
    count: u32,
    rate: f64,
    mode: String,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State { count: 0, rate: 0.5, mode: String::new() }) };
}

struct Plugin;

impl Guest for Plugin {
    fn init(entities: EntityTable) -> Result<(), String> {
        let rate = match params::get("rate") {
            Some(ParamValue::Number(r)) => r,
            Some(_) => return Err("parameter `rate` must be a number".into()),
            None => 0.5,
        };
        let mode = match params::get("mode") {
            Some(ParamValue::Text(m)) => m,
            _ => "ok".into(),
        };
        log::log(log::Level::Info, &format!("decay 1.0 with {} entities", entities.ids.len()));
        STATE.with(|s| *s.borrow_mut() = State { count: entities.ids.len() as u32, rate, mode });
        Ok(())
    }

    fn step(now: i64, dt_us: i64) -> Result<Updates, String> {
        STATE.with(|s| {
            let s = s.borrow();
            let entities: Vec<u32> = (0..s.count).collect();
            let levels = twin::numbers("level", &entities);
            let factor = (-s.rate * dt_us as f64 * 1e-6).exp();
            let mut values: Vec<f64> = levels.iter().map(|v| if v.is_nan() { 0.0 } else { v * factor }).collect();
            let mut entities = entities;
            match s.mode.as_str() {
                "nan" if !values.is_empty() => values[0] = f64::NAN,
                "inf" if !values.is_empty() => values[0] = f64::INFINITY,
                "oob" => {
                    entities.push(s.count + 7);
                    values.push(1.0);
                }
                "mismatch" => {
                    values.pop();
                }
                "returned-error" => return Err("the model diverged".into()),
                _ => {}
            }
            Ok(Updates {
                time: now + dt_us,
                numbers: vec![NumberColumn { property: "level".into(), unit: "m".into(), entities, values }],
                texts: Vec::new(),
            })
        })
    }
}

export!(Plugin);
