//! A stand-in for the runtime, for testing plugins on the build machine (not `wasm32`).
//!
//! On the host, [`params`](crate::params), [`twin`](crate::twin), [`clock`](crate::clock) and
//! [`log`](crate::log) read and write a per-thread [`MockHost`] (each test thread has its own). Fill
//! it, call your plugin's trait methods directly, and check what it returned and logged.
//!
//! ```
//! use sangam_sdk::{ParamValue, params, testing, twin};
//!
//! testing::reset();
//! testing::with_host(|h| {
//!     h.set_param("rate", ParamValue::Number(0.5));
//!     h.push_number(0, "load", 0, 4.0);
//!     h.push_number(0, "load", 1_000_000, 2.0);
//! });
//! assert_eq!(params::number("rate"), Some(0.5));
//! assert_eq!(twin::numbers("load", &[0, 1])[0], 2.0);
//! assert!(twin::numbers("load", &[0, 1])[1].is_nan());
//! ```
//!
//! The aggregates follow the WIT's definitions; the runtime's own implementation is authoritative.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::log::Level;
use crate::twin::{HistoryWindow, MAX_HISTORY_SAMPLES, Statistic};
use crate::{ParamValue, TimeUs};

/// The state of the stand-in runtime.
#[derive(Clone, Debug, Default)]
pub struct MockHost {
    /// What [`clock::now`](crate::clock::now) returns.
    pub now: TimeUs,
    /// What [`clock::step_us`](crate::clock::step_us) returns.
    pub step_us: i64,
    params: BTreeMap<String, ParamValue>,
    /// `(entity, property)` -> samples in ascending time.
    series: BTreeMap<(u32, String), Vec<(TimeUs, f64)>>,
    texts: BTreeMap<(u32, String), String>,
    logs: Vec<(Level, String)>,
    full_columns: Vec<FullColumn>,
    rasters: Vec<TestRaster>,
    buildings: Option<crate::__bindings::simulation::sangam::plugin::geometry::SiteBuildings>,
    roads: Option<crate::__bindings::simulation::sangam::plugin::geometry::SiteRoads>,
}

/// A map a plugin handed over with [`output::raster`](crate::output::raster).
#[derive(Clone, Debug, PartialEq)]
pub struct TestRaster {
    /// The layer.
    pub layer: String,
    /// Its unit.
    pub unit: String,
    /// Its grid.
    pub grid: crate::output::RasterGrid,
    /// One value per cell, row-major.
    pub values: Vec<f32>,
}

/// A column a plugin handed over with [`output::full_column`](crate::output::full_column).
#[derive(Clone, Debug, PartialEq)]
pub struct FullColumn {
    /// The property.
    pub property: String,
    /// Its unit.
    pub unit: String,
    /// One value per entity of the table.
    pub values: Vec<f64>,
}

impl MockHost {
    /// Sets parameter `name` (as the scene would).
    pub fn set_param(&mut self, name: &str, value: ParamValue) {
        self.params.insert(name.to_string(), value);
    }

    /// Records a sample of numeric `property` of `entity` at `time` (kept in time order; a sample at
    /// an existing time replaces it).
    pub fn push_number(&mut self, entity: u32, property: &str, time: TimeUs, value: f64) {
        let samples = self.series.entry((entity, property.to_string())).or_default();
        match samples.binary_search_by_key(&time, |s| s.0) {
            Ok(i) => samples[i].1 = value,
            Err(i) => samples.insert(i, (time, value)),
        }
    }

    /// Sets text `property` of `entity`.
    pub fn set_text(&mut self, entity: u32, property: &str, value: &str) {
        self.texts.insert((entity, property.to_string()), value.to_string());
    }

    /// Everything logged so far, oldest first.
    pub fn logs(&self) -> &[(Level, String)] {
        &self.logs
    }

    /// The full columns handed over since the last call, oldest first (the runtime adds them to the
    /// updates of the step that handed them over).
    pub fn take_full_columns(&mut self) -> Vec<FullColumn> {
        std::mem::take(&mut self.full_columns)
    }

    /// The maps handed over since the last call, oldest first.
    pub fn take_rasters(&mut self) -> Vec<TestRaster> {
        std::mem::take(&mut self.rasters)
    }

    /// Sets the scene's buildings (as the runtime would hand them over with the `site-geometry`
    /// grant).
    pub fn set_buildings(&mut self, buildings: &[crate::geometry::Building]) {
        self.buildings = Some(crate::geometry::flat_buildings(buildings));
    }

    /// Sets the scene's roads.
    pub fn set_roads(&mut self, roads: &[crate::geometry::Road]) {
        self.roads = Some(crate::geometry::flat_roads(roads));
    }

    fn samples(&self, entity: u32, property: &str) -> &[(TimeUs, f64)] {
        self.series.get(&(entity, property.to_string())).map(Vec::as_slice).unwrap_or(&[])
    }

    fn window(&self, entity: u32, property: &str, start: TimeUs, end: TimeUs) -> &[(TimeUs, f64)] {
        let s = self.samples(entity, property);
        let lo = s.partition_point(|x| x.0 < start);
        let hi = s.partition_point(|x| x.0 <= end);
        if lo >= hi { &[] } else { &s[lo..hi] }
    }
}

thread_local! {
    static HOST: RefCell<MockHost> = RefCell::new(MockHost::default());
}

/// Runs `f` on this thread's stand-in runtime.
pub fn with_host<R>(f: impl FnOnce(&mut MockHost) -> R) -> R {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

/// Empties this thread's stand-in runtime (no parameters, samples, texts or logs; time 0).
pub fn reset() {
    with_host(|h| *h = MockHost::default());
}

/// The host functions as seen by [`crate::host`] on non-wasm targets.
pub(crate) mod host {
    use super::*;

    pub(crate) fn now() -> TimeUs {
        with_host(|h| h.now)
    }

    pub(crate) fn step_us() -> i64 {
        with_host(|h| h.step_us)
    }

    pub(crate) fn log(level: Level, message: &str) {
        with_host(|h| h.logs.push((level, message.to_string())));
    }

    pub(crate) fn full_column(property: &str, unit: &str, values: &[f64]) {
        let column = FullColumn { property: property.to_string(), unit: unit.to_string(), values: values.to_vec() };
        with_host(|h| h.full_columns.push(column));
    }

    pub(crate) fn raster(layer: &str, unit: &str, grid: crate::output::RasterGrid, values: &[f32]) {
        let raster = TestRaster { layer: layer.to_string(), unit: unit.to_string(), grid, values: values.to_vec() };
        with_host(|h| h.rasters.push(raster));
    }

    /// The buildings set with [`MockHost::set_buildings`]; none set is a scene without them.
    pub(crate) fn buildings() -> crate::__bindings::simulation::sangam::plugin::geometry::SiteBuildings {
        with_host(|h| h.buildings.clone()).unwrap_or_else(|| crate::geometry::flat_buildings(&[]))
    }

    /// The roads set with [`MockHost::set_roads`].
    pub(crate) fn roads() -> crate::__bindings::simulation::sangam::plugin::geometry::SiteRoads {
        with_host(|h| h.roads.clone()).unwrap_or_else(|| crate::geometry::flat_roads(&[]))
    }

    pub(crate) fn get(name: &str) -> Option<ParamValue> {
        with_host(|h| h.params.get(name).cloned())
    }

    pub(crate) fn numbers(property: &str, entities: &[u32]) -> Vec<f64> {
        with_host(|h| entities.iter().map(|&e| h.samples(e, property).last().map_or(f64::NAN, |s| s.1)).collect())
    }

    pub(crate) fn text(entity: u32, property: &str) -> Option<String> {
        with_host(|h| h.texts.get(&(entity, property.to_string())).cloned())
    }

    pub(crate) fn history(entity: u32, property: &str, start: TimeUs, end: TimeUs, max: u32) -> HistoryWindow {
        with_host(|h| {
            let w = h.window(entity, property, start, end);
            let keep = w.len().min(max.min(MAX_HISTORY_SAMPLES) as usize);
            let w = &w[w.len() - keep..];
            HistoryWindow { times: w.iter().map(|s| s.0).collect(), values: w.iter().map(|s| s.1).collect() }
        })
    }

    pub(crate) fn aggregate(
        property: &str,
        entities: &[u32],
        start: TimeUs,
        end: TimeUs,
        statistic: Statistic,
    ) -> Vec<f64> {
        with_host(|h| {
            entities.iter().map(|&e| aggregate_window(h.window(e, property, start, end), end, statistic)).collect()
        })
    }

    /// One statistic over the samples of a window ending at `end`.
    fn aggregate_window(w: &[(TimeUs, f64)], end: TimeUs, statistic: Statistic) -> f64 {
        if w.is_empty() {
            return if statistic == Statistic::Count { 0.0 } else { f64::NAN };
        }
        let values = w.iter().map(|s| s.1);
        match statistic {
            Statistic::Mean => values.sum::<f64>() / w.len() as f64,
            Statistic::Min => values.fold(f64::INFINITY, f64::min),
            Statistic::Max => values.fold(f64::NEG_INFINITY, f64::max),
            Statistic::Sum => values.sum(),
            Statistic::Count => w.len() as f64,
            Statistic::TimeWeightedMean => {
                // Each sample holds until the next one; the last holds until `end`. The window
                // starts at its first sample.
                let span = (end - w[0].0) as f64;
                if span <= 0.0 {
                    return w[w.len() - 1].1;
                }
                let mut area = 0.0;
                for (i, s) in w.iter().enumerate() {
                    let until = w.get(i + 1).map_or(end, |n| n.0);
                    area += s.1 * (until - s.0) as f64;
                }
                area / span
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock, params, twin};

    fn fill() {
        reset();
        with_host(|h| {
            h.push_number(0, "p", 0, 1.0);
            h.push_number(0, "p", 10, 3.0);
            h.push_number(0, "p", 30, 5.0);
            h.push_number(1, "p", 5, 7.0);
            h.set_param("n", ParamValue::Integer(4));
            h.set_param("s", ParamValue::Text("x".into()));
            h.now = 42;
            h.step_us = 7;
        });
    }

    #[test]
    fn params_convert_only_compatible_types() {
        fill();
        assert_eq!(params::number("n"), Some(4.0));
        assert_eq!(params::integer("n"), Some(4));
        assert_eq!(params::boolean("n"), None);
        assert_eq!(params::text("s").as_deref(), Some("x"));
        assert_eq!(params::number("s"), None);
        assert_eq!(params::get("missing"), None);
        assert_eq!((clock::now(), clock::step_us()), (42, 7));
    }

    #[test]
    fn history_returns_newest_samples_oldest_first() {
        fill();
        let w = twin::history(0, "p", 0, 30, 2);
        assert_eq!(w.times, vec![10, 30]);
        assert_eq!(w.values, vec![3.0, 5.0]);
        assert!(twin::history(0, "p", 11, 29, 10).times.is_empty());
    }

    #[test]
    fn aggregates_match_their_definitions() {
        fill();
        let agg = |s| twin::aggregate("p", &[0, 1, 2], 0, 40, s);
        assert_eq!(agg(Statistic::Mean)[0], 3.0);
        assert_eq!(agg(Statistic::Min)[0], 1.0);
        assert_eq!(agg(Statistic::Max)[0], 5.0);
        assert_eq!(agg(Statistic::Sum)[0], 9.0);
        assert_eq!(agg(Statistic::Count), vec![3.0, 1.0, 0.0]);
        // 1 for 10 us, 3 for 20 us, 5 for 10 us over 40 us.
        assert_eq!(agg(Statistic::TimeWeightedMean)[0], (10.0 + 60.0 + 50.0) / 40.0);
        assert!(agg(Statistic::Mean)[2].is_nan());
    }

    #[test]
    fn log_macros_reach_the_host() {
        reset();
        crate::warn!("skipped {} rows", 3);
        crate::log::info!("ready");
        let logs = with_host(|h| h.logs().to_vec());
        assert_eq!(logs, vec![(Level::Warn, "skipped 3 rows".to_string()), (Level::Info, "ready".to_string())]);
    }
}
