//! A 1.0 simulation fixture: exponential decay of the `level` property towards zero.
//!
//! Parameters: `rate` (number, per second, default 0.5); `mode` (text): `ok` (default), `nan`
//! (first value NaN), `inf` (first value infinite), `oob` (entity index out of range), `mismatch`
//! (fewer values than entities), `returned-error` (step returns an error). Hostile modes (issue 12):
//! `repeat` (`count` values, all for entity 0), `names` (`count` new property names every step),
//! `past` (values dated 10 s before the step, inside the existing series).

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.0.0", world: "simulation-plugin" });

use std::cell::RefCell;

use exports::sangam::plugin::simulation::Guest;
use sangam::plugin::types::{EntityTable, NumberColumn, ParamValue, Updates};
use sangam::plugin::{log, params, twin};

struct State {
    count: u32,
    rate: f64,
    mode: String,
    /// `count` parameter of the hostile modes.
    many: u32,
    steps: u32,
}

thread_local! {
    static STATE: RefCell<State> =
        const { RefCell::new(State { count: 0, rate: 0.5, mode: String::new(), many: 0, steps: 0 }) };
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
        let many = match params::get("count") {
            Some(ParamValue::Integer(n)) => n.clamp(0, u32::MAX as i64) as u32,
            _ => 1_300_000,
        };
        STATE.with(|s| *s.borrow_mut() = State { count: entities.ids.len() as u32, rate, mode, many, steps: 0 });
        Ok(())
    }

    fn step(now: i64, dt_us: i64) -> Result<Updates, String> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.steps += 1;
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
                "repeat" => {
                    entities = vec![0; s.many as usize];
                    values = vec![1.0; s.many as usize];
                }
                "names" => {
                    let numbers = (0..s.many)
                        .map(|i| NumberColumn {
                            property: format!("p{}-{i}", s.steps),
                            unit: String::new(),
                            entities: vec![0],
                            values: vec![1.0],
                        })
                        .collect();
                    return Ok(Updates { time: now + dt_us, numbers, texts: Vec::new() });
                }
                _ => {}
            }
            let time = if s.mode == "past" { now - 10_000_000 } else { now + dt_us };
            Ok(Updates {
                time,
                numbers: vec![NumberColumn { property: "level".into(), unit: "m".into(), entities, values }],
                texts: Vec::new(),
            })
        })
    }
}

export!(Plugin);
