//! What a plugin may read of the twin: a view the host hands to each call, indexed by the plugin's
//! entity table. [`TwinSnapshot`] is a plain implementation the runtime fills from the twin store;
//! a bulk read of one property costs one map lookup plus one array read per entity.

use std::collections::HashMap;
use std::sync::Arc;

use crate::output::PropertyUpdates;

/// Read access to the granted part of the twin, by entity index into the plugin's entity table.
/// Implementations must be cheap to query; they are called from the plugin's worker thread while
/// the plugin runs.
pub trait TwinView: Send + Sync {
    /// Makes the view ready to read; called on the plugin's worker thread before the call's time
    /// starts, so a view built elsewhere (the session builds them off the frame thread) is waited for
    /// there and not inside the plugin's budget. The default has nothing to wait for.
    fn prepare(&self) {}

    /// The latest value of numeric `property` of `entity`, if it has one.
    fn number(&self, entity: u32, property: &str) -> Option<f64>;

    /// The latest text of `property` of `entity`, if it has one.
    fn text(&self, entity: u32, property: &str) -> Option<String>;

    /// Calls `visit(time, value)` for each sample of numeric `property` of `entity` with
    /// `start <= time <= end`, oldest first.
    fn samples(&self, entity: u32, property: &str, start: i64, end: i64, visit: &mut dyn FnMut(i64, f64));

    /// Appends the latest value of numeric `property` of each of `entities` to `out` (NaN for none,
    /// and for indices at or past `count`). The default asks [`TwinView::number`] per entity; an
    /// implementation that stores columns looks the property up once.
    fn numbers(&self, property: &str, entities: &[u32], count: u32, out: &mut Vec<f64>) {
        out.extend(
            entities.iter().map(|&e| if e < count { self.number(e, property).unwrap_or(f64::NAN) } else { f64::NAN }),
        );
    }
}

/// A twin view that has nothing: every read comes back empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyTwin;

impl TwinView for EmptyTwin {
    fn number(&self, _: u32, _: &str) -> Option<f64> {
        None
    }
    fn text(&self, _: u32, _: &str) -> Option<String> {
        None
    }
    fn samples(&self, _: u32, _: &str, _: i64, _: i64, _: &mut dyn FnMut(i64, f64)) {}
}

/// A plain, immutable-once-built snapshot of the granted entities' properties and history.
#[derive(Debug, Clone, Default)]
pub struct TwinSnapshot {
    numbers: HashMap<String, Vec<f64>>,
    texts: HashMap<String, HashMap<u32, String>>,
    history: HashMap<String, HashMap<u32, Vec<(i64, f64)>>>,
}

impl TwinSnapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the latest value of numeric `property` for entities `0..values.len()` at once (NaN means
    /// "no value").
    pub fn set_numbers(&mut self, property: impl Into<String>, values: Vec<f64>) {
        self.numbers.insert(property.into(), values);
    }

    /// Sets the latest value of numeric `property` of one entity.
    pub fn set_number(&mut self, entity: u32, property: &str, value: f64) {
        // Looked up by `&str` first: a name is copied once per column, not once per value.
        if !self.numbers.contains_key(property) {
            self.numbers.insert(property.to_owned(), Vec::new());
        }
        let Some(column) = self.numbers.get_mut(property) else { return };
        let index = entity as usize;
        if column.len() <= index {
            column.resize(index + 1, f64::NAN);
        }
        column[index] = value;
    }

    /// Sets the latest text of `property` of `entity`.
    pub fn set_text(&mut self, entity: u32, property: &str, value: impl Into<String>) {
        if !self.texts.contains_key(property) {
            self.texts.insert(property.to_owned(), HashMap::new());
        }
        if let Some(texts) = self.texts.get_mut(property) {
            texts.insert(entity, value.into());
        }
    }

    /// Sets the whole history of numeric `property` of `entity` at once (`samples` oldest first),
    /// replacing what it had.
    pub fn set_history(&mut self, entity: u32, property: &str, samples: Vec<(i64, f64)>) {
        debug_assert!(samples.windows(2).all(|w| w[0].0 <= w[1].0), "history samples oldest first");
        if !self.history.contains_key(property) {
            self.history.insert(property.to_owned(), HashMap::new());
        }
        if let Some(series) = self.history.get_mut(property) {
            series.insert(entity, samples);
        }
    }

    /// Appends a history sample; samples of one entity and property must be added in time order
    /// (an older sample than the last one is inserted in place).
    pub fn push_sample(&mut self, entity: u32, property: &str, time: i64, value: f64) {
        let series = self.history.entry(property.to_owned()).or_default().entry(entity).or_default();
        match series.last() {
            Some(&(last, _)) if last > time => {
                let at = series.partition_point(|&(t, _)| t <= time);
                series.insert(at, (time, value));
            }
            _ => series.push((time, value)),
        }
    }
}

impl TwinView for TwinSnapshot {
    fn number(&self, entity: u32, property: &str) -> Option<f64> {
        self.numbers.get(property)?.get(entity as usize).copied().filter(|v| !v.is_nan())
    }

    fn text(&self, entity: u32, property: &str) -> Option<String> {
        self.texts.get(property)?.get(&entity).cloned()
    }

    fn numbers(&self, property: &str, entities: &[u32], count: u32, out: &mut Vec<f64>) {
        let column = self.numbers.get(property).map_or(&[][..], Vec::as_slice);
        // NaN already means "no value" in a column; indices past the table or the column read NaN.
        out.extend(
            entities.iter().map(
                |&e| {
                    if e < count { column.get(e as usize).copied().unwrap_or(f64::NAN) } else { f64::NAN }
                },
            ),
        );
    }

    fn samples(&self, entity: u32, property: &str, start: i64, end: i64, visit: &mut dyn FnMut(i64, f64)) {
        let Some(series) = self.history.get(property).and_then(|m| m.get(&entity)) else { return };
        let from = series.partition_point(|&(t, _)| t < start);
        for &(t, v) in &series[from..] {
            if t > end {
                break;
            }
            visit(t, v);
        }
    }
}

/// The twin as the later steps of a catch-up batch see it: the view the batch was submitted with,
/// with the values the batch's earlier steps wrote laid over it. A model that reads its state from
/// the twin (`x(t + dt) = f(x(t))`) thus steps from its own last output, as it would one step per
/// tick. History samples written within the batch appear once the batch is applied, not here.
/// Cost: one column per written numeric property (the entity count of f64) and one map entry per
/// written text, both bounded by what one step may write.
pub struct BatchView {
    base: Arc<dyn TwinView>,
    numbers: HashMap<String, Vec<f64>>,
    texts: HashMap<String, HashMap<u32, String>>,
    count: u32,
}

impl BatchView {
    /// A view over `base` for a plugin with `count` entities, nothing laid over it yet.
    pub fn new(base: Arc<dyn TwinView>, count: u32) -> BatchView {
        BatchView { base, numbers: HashMap::new(), texts: HashMap::new(), count }
    }

    /// Lays a step's checked output over the view (its values become the latest ones).
    pub fn lay(&mut self, updates: &PropertyUpdates) {
        for column in &updates.numbers {
            let slot =
                self.numbers.entry(column.property.clone()).or_insert_with(|| vec![f64::NAN; self.count as usize]);
            for (e, &v) in column.entity_indices().zip(&column.values) {
                if let Some(cell) = slot.get_mut(e as usize) {
                    *cell = v;
                }
            }
        }
        for text in &updates.texts {
            self.texts.entry(text.property.clone()).or_default().insert(text.entity, text.value.clone());
        }
    }
}

impl TwinView for BatchView {
    fn prepare(&self) {
        self.base.prepare();
    }

    fn number(&self, entity: u32, property: &str) -> Option<f64> {
        let laid = self.numbers.get(property).and_then(|c| c.get(entity as usize)).copied().filter(|v| !v.is_nan());
        laid.or_else(|| self.base.number(entity, property))
    }

    fn text(&self, entity: u32, property: &str) -> Option<String> {
        self.texts.get(property).and_then(|m| m.get(&entity)).cloned().or_else(|| self.base.text(entity, property))
    }

    fn samples(&self, entity: u32, property: &str, start: i64, end: i64, visit: &mut dyn FnMut(i64, f64)) {
        self.base.samples(entity, property, start, end, visit);
    }

    fn numbers(&self, property: &str, entities: &[u32], count: u32, out: &mut Vec<f64>) {
        let from = out.len();
        self.base.numbers(property, entities, count, out);
        let Some(column) = self.numbers.get(property) else { return };
        for (slot, &e) in out[from..].iter_mut().zip(entities) {
            if let Some(&v) = column.get(e as usize).filter(|v| !v.is_nan())
                && e < count
            {
                *slot = v;
            }
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use crate::output::NumberColumn;

    #[test]
    fn a_batch_view_shows_the_batch_s_own_values_over_the_base() {
        let mut base = TwinSnapshot::new();
        base.set_numbers("level", vec![10.0, 20.0]);
        base.set_text(0, "state", "ok");
        let mut view = BatchView::new(Arc::new(base), 2);
        assert_eq!(view.number(1, "level"), Some(20.0));
        view.lay(&PropertyUpdates {
            time: 1,
            numbers: vec![NumberColumn::listed("level", "", vec![1], vec![15.0])],
            texts: vec![crate::output::TextValue { entity: 0, property: "state".into(), value: "alarm".into() }],
        });
        assert_eq!((view.number(0, "level"), view.number(1, "level")), (Some(10.0), Some(15.0)));
        let mut out = Vec::new();
        view.numbers("level", &[0, 1, 5], 2, &mut out);
        assert_eq!(out[..2], [10.0, 15.0]);
        assert!(out[2].is_nan(), "an index past the table reads NaN");
        assert_eq!(view.text(0, "state").as_deref(), Some("alarm"));
    }
}
