//! The twin store: entities, per-property time series and the event log, within a memory budget.
//!
//! Every change goes through [`TwinStore::apply`] as a timestamped [`TwinEvent`] and is appended to
//! the event log, so applying the same events to an empty store replays a session exactly.
//!
//! Memory is bounded by one budget for the whole store ([`TwinStore::with_budget`], default
//! [`DEFAULT_BUDGET_BYTES`]; a scene sets it with `[history] budget_mb`): an eighth goes to the event
//! log, which a recorder drains ([`TwinStore::take_events`]) and which evicts, counted, what nobody
//! drained; the rest is shared by the series. Each (entity, property) series is sorted by time and
//! holds at most its share of samples at full resolution ([`TwinStore::series_capacity`], which
//! shrinks as series are added, down to [`MIN_SERIES_CAPACITY`]); older numbers are folded into
//! min / max / mean buckets ([`series`]) rather than dropped, so a kiosk that runs for days keeps flat
//! memory and still answers "what was it last Tuesday" coarsely.
//!
//! - [`series`]: one property's bounded history, its buckets and aggregates.
//! - [`hash`]: the state hash a replay is checked against ([`TwinStore::state_hash`]).
//! - [`snapshot`]: the whole store as bytes and back ([`TwinStore::snapshot`]), for time travel.

pub mod hash;
pub mod series;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::clock::SimTime;
use crate::entity::{Entity, EntityId};
use crate::property::PropertyValue;

pub use hash::{StateHash, StateHashError};
pub use series::{Aggregate, Bucket, Series};
pub use snapshot::SnapshotError;

/// A change to the twin, at a simulation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinEvent {
    /// When the change happened.
    pub t: SimTime,
    /// What changed.
    pub kind: TwinEventKind,
}

/// The kinds of change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TwinEventKind {
    /// An entity was added (its properties become samples at the event's time).
    EntityAdded(Entity),
    /// An entity and its history were removed.
    EntityRemoved(EntityId),
    /// A property sample was recorded.
    PropertyRecorded {
        /// The entity.
        entity: EntityId,
        /// The property name (shared with the store's series: logging it copies nothing).
        property: Arc<str>,
        /// The value.
        value: PropertyValue,
    },
}

/// A rejected change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// An entity with this id already exists.
    #[error("entity {0} already exists; remove it first or use another id")]
    DuplicateEntity(EntityId),
    /// No entity has this id.
    #[error("no entity {0}; add it before recording its properties")]
    UnknownEntity(EntityId),
}

/// The store's default memory budget (256 MiB).
pub const DEFAULT_BUDGET_BYTES: usize = 256 << 20;

/// Full-resolution samples a series keeps at least, however many series share the budget.
pub const MIN_SERIES_CAPACITY: usize = 8;

/// Bytes a series costs per sample of capacity: the sample, plus its share of the buckets (a
/// series keeps up to an eighth of its capacity in buckets).
pub const BYTES_PER_CAPACITY: usize = series::SAMPLE_BYTES + series::BUCKET_BYTES / 8 + 2;

/// Bytes one logged event is reckoned at (its time, kind, ids and value).
pub const EVENT_BYTES: usize = 128;

/// The budget cannot hold the scene.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "a history budget of {budget} bytes cannot hold {series} series at {MIN_SERIES_CAPACITY} samples each \
     ({needed} bytes at least); raise [history] budget_mb"
)]
pub struct BudgetError {
    /// The budget.
    pub budget: usize,
    /// Series the store would hold.
    pub series: usize,
    /// The least budget that holds them.
    pub needed: usize,
}

/// One entity and its series: a write finds both with one hash lookup.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    pub(crate) entity: Entity,
    pub(crate) series: BTreeMap<Arc<str>, Series>,
}

/// Entities, their property history and the event log.
///
/// Entities live in a hash map keyed by id (one lookup per write, where ordered maps of string keys
/// cost a comparison per tree level); `order` keeps their ids sorted for everything that lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinStore {
    slots: HashMap<EntityId, Slot, ahash::RandomState>,
    order: BTreeSet<EntityId>,
    /// The most samples per series (the per-series cap, whatever the budget allows).
    max_capacity: usize,
    budget: usize,
    series_count: usize,
    /// The capacity series were last all fitted to.
    fitted_capacity: usize,
    events: VecDeque<TwinEvent>,
    event_limit: usize,
    events_evicted: u64,
}

impl Default for TwinStore {
    fn default() -> Self {
        Self::new()
    }
}

impl TwinStore {
    /// Default most samples kept at full resolution per (entity, property) series.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// An empty store with the default budget.
    pub fn new() -> Self {
        Self::with_budget(DEFAULT_BUDGET_BYTES)
    }

    /// An empty store within `budget` bytes (see the module docs for how it is shared).
    pub fn with_budget(budget: usize) -> Self {
        let mut store = Self {
            slots: HashMap::default(),
            order: BTreeSet::new(),
            max_capacity: Self::DEFAULT_CAPACITY,
            budget,
            series_count: 0,
            fitted_capacity: Self::DEFAULT_CAPACITY,
            events: VecDeque::new(),
            event_limit: (budget / 8 / EVENT_BYTES).max(1),
            events_evicted: 0,
        };
        store.fitted_capacity = store.series_capacity();
        store
    }

    /// An empty store with the default budget, keeping at most `capacity` samples at full resolution
    /// per series (at least 2).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut store = Self::new();
        store.max_capacity = capacity.max(2);
        store.fitted_capacity = store.series_capacity();
        store
    }

    /// Checks that the budget holds `series` series at [`MIN_SERIES_CAPACITY`] (a scene's properties,
    /// before anything runs).
    pub fn check_budget(budget: usize, series: usize) -> Result<(), BudgetError> {
        let needed = series.saturating_mul(MIN_SERIES_CAPACITY * BYTES_PER_CAPACITY).saturating_add(budget / 8);
        if needed > budget {
            let needed = series.saturating_mul(MIN_SERIES_CAPACITY * BYTES_PER_CAPACITY) / 7 * 8;
            return Err(BudgetError { budget, series, needed });
        }
        Ok(())
    }

    /// A store rebuilt by applying `events` in order (a replay).
    pub fn replay(events: impl IntoIterator<Item = TwinEvent>, capacity: usize) -> Result<Self, StoreError> {
        let mut store = Self::with_capacity(capacity);
        for e in events {
            store.apply(e)?;
        }
        Ok(store)
    }

    /// The memory budget, in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The per-series cap on full-resolution samples, whatever the budget allows.
    pub fn capacity(&self) -> usize {
        self.max_capacity
    }

    /// Full-resolution samples each series may hold now: its share of the budget (seven eighths of it
    /// over the series), between [`MIN_SERIES_CAPACITY`] and the per-series cap.
    pub fn series_capacity(&self) -> usize {
        let share = (self.budget / 8 * 7) / (self.series_count.max(1) * BYTES_PER_CAPACITY);
        share.clamp(MIN_SERIES_CAPACITY.min(self.max_capacity), self.max_capacity)
    }

    /// Series held.
    pub fn series_count(&self) -> usize {
        self.series_count
    }

    /// Bytes the series and the event log hold (samples, buckets and events as reckoned above; the
    /// maps' own overhead is not counted).
    pub fn memory_bytes(&self) -> usize {
        let series: usize = self.slots.values().flat_map(|s| s.series.values()).map(Series::bytes).sum();
        series + self.events.len() * EVENT_BYTES
    }

    /// Samples folded into buckets, over all series.
    pub fn folded(&self) -> u64 {
        self.slots.values().flat_map(|s| s.series.values()).map(Series::folded).sum()
    }

    /// Keeps at most `limit` events in the log (at least 1); older ones are evicted and counted.
    pub fn set_event_limit(&mut self, limit: usize) {
        self.event_limit = limit.max(1);
        self.evict_events();
    }

    /// The most events the log holds (an eighth of the budget unless set).
    pub fn event_limit(&self) -> usize {
        self.event_limit
    }

    /// Events evicted from the log because nobody drained them before it was full.
    pub fn events_evicted(&self) -> u64 {
        self.events_evicted
    }

    fn evict_events(&mut self) {
        while self.events.len() > self.event_limit {
            self.events.pop_front();
            self.events_evicted += 1;
        }
    }

    /// Records a sample in `slot`'s series (creating it) within `capacity`; returns the series' name
    /// (shared, for the event log), whether the sample is now its latest, and whether it is new.
    fn insert_into(
        slot: &mut Slot,
        property: &str,
        t: SimTime,
        value: PropertyValue,
        capacity: usize,
    ) -> (Arc<str>, bool, bool) {
        match slot.series.get_key_value(property) {
            Some((key, _)) => {
                let key = key.clone();
                let series = slot.series.get_mut(property).expect("the key was just found");
                (key, series.insert(t, value, capacity), false)
            }
            None => {
                let key: Arc<str> = Arc::from(property);
                slot.series.insert(key.clone(), Series::new(t, value));
                (key, true, true)
            }
        }
    }

    /// Writes one sample of an existing entity: its series, its current value when the sample is the
    /// latest in time (a late, older sample is not), the series count. Returns the series' name.
    fn write_sample(
        &mut self,
        entity: &EntityId,
        property: &str,
        t: SimTime,
        value: &PropertyValue,
    ) -> Result<Arc<str>, StoreError> {
        let capacity = self.series_capacity();
        let Some(slot) = self.slots.get_mut(entity) else {
            return Err(StoreError::UnknownEntity(entity.clone()));
        };
        let (key, newest, created) = Self::insert_into(slot, property, t, value.clone(), capacity);
        if newest {
            set_current(&mut slot.entity, &key, value);
        }
        if created {
            self.series_created();
        }
        Ok(key)
    }

    /// A series was created: count it, and when the share has halved since the series were last
    /// fitted, fit them all now, so no series that is no longer written keeps more than its share
    /// (rare: log2 of growth).
    fn series_created(&mut self) {
        self.series_count += 1;
        let capacity = self.series_capacity();
        if capacity * 2 <= self.fitted_capacity {
            for s in self.slots.values_mut().flat_map(|slot| slot.series.values_mut()) {
                s.fit(capacity);
            }
            self.fitted_capacity = capacity;
        }
    }

    /// Applies one change and appends it to the event log. A rejected change is not logged.
    pub fn apply(&mut self, event: TwinEvent) -> Result<(), StoreError> {
        match &event.kind {
            TwinEventKind::EntityAdded(entity) => {
                if self.slots.contains_key(&entity.id) {
                    return Err(StoreError::DuplicateEntity(entity.id.clone()));
                }
                let mut slot = Slot { entity: entity.clone(), series: BTreeMap::new() };
                for (name, value) in &entity.properties {
                    let capacity = self.series_capacity();
                    let (_, _, created) = Self::insert_into(&mut slot, name, event.t, value.clone(), capacity);
                    if created {
                        // Counted (and fitted) with the slot not yet in the map: it is new and small.
                        self.series_created();
                    }
                }
                self.order.insert(entity.id.clone());
                self.slots.insert(entity.id.clone(), slot);
            }
            TwinEventKind::EntityRemoved(id) => {
                let Some(slot) = self.slots.remove(id) else {
                    return Err(StoreError::UnknownEntity(id.clone()));
                };
                self.order.remove(id);
                self.series_count -= slot.series.len();
            }
            TwinEventKind::PropertyRecorded { entity, property, value } => {
                self.write_sample(entity, property, event.t, value)?;
            }
        }
        self.events.push_back(event);
        self.evict_events();
        Ok(())
    }

    /// Adds an entity at time `t`.
    pub fn add_entity(&mut self, t: SimTime, entity: Entity) -> Result<(), StoreError> {
        self.apply(TwinEvent { t, kind: TwinEventKind::EntityAdded(entity) })
    }

    /// Removes an entity and its history at time `t`.
    pub fn remove_entity(&mut self, t: SimTime, id: &EntityId) -> Result<(), StoreError> {
        self.apply(TwinEvent { t, kind: TwinEventKind::EntityRemoved(id.clone()) })
    }

    /// Records a property sample (the entity must exist). The same as applying a
    /// [`TwinEventKind::PropertyRecorded`], with one hash lookup and no copy of the names.
    pub fn record(
        &mut self,
        entity: &EntityId,
        property: &str,
        t: SimTime,
        value: PropertyValue,
    ) -> Result<(), StoreError> {
        let key = self.write_sample(entity, property, t, &value)?;
        self.events.push_back(TwinEvent {
            t,
            kind: TwinEventKind::PropertyRecorded { entity: entity.clone(), property: key, value },
        });
        self.evict_events();
        Ok(())
    }

    /// An entity by id.
    pub fn entity(&self, id: &EntityId) -> Option<&Entity> {
        self.slots.get(id).map(|s| &s.entity)
    }

    /// How many entities it holds.
    pub fn entity_count(&self) -> usize {
        self.slots.len()
    }

    /// All entities, ordered by id.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> + '_ {
        self.order.iter().filter_map(|id| self.slots.get(id).map(|s| &s.entity))
    }

    /// The series of one property, if any sample was ever kept.
    pub fn series(&self, entity: &EntityId, property: &str) -> Option<&Series> {
        self.slots.get(entity)?.series.get(property)
    }

    /// The latest sample of a property.
    pub fn latest(&self, entity: &EntityId, property: &str) -> Option<(SimTime, PropertyValue)> {
        self.series(entity, property)?.latest()
    }

    /// The value of a property at time `t` (step interpolation: the last sample at or before `t`; in
    /// down-sampled history, the mean of its bucket).
    pub fn value_at(&self, entity: &EntityId, property: &str, t: SimTime) -> Option<PropertyValue> {
        self.series(entity, property)?.value_at(t)
    }

    /// The full-resolution samples of a property with `t0 <= t <= t1`, oldest first (empty if none).
    pub fn window(
        &self,
        entity: &EntityId,
        property: &str,
        t0: SimTime,
        t1: SimTime,
    ) -> impl Iterator<Item = (SimTime, PropertyValue)> + '_ {
        self.series(entity, property).into_iter().flat_map(move |s| s.window(t0, t1))
    }

    /// Min, max, mean and count of numeric `property` over `t0..=t1` and over every entity of
    /// `entities` that has it (down-sampled history included); `None` when none has a sample there.
    pub fn aggregate<'a>(
        &self,
        entities: impl IntoIterator<Item = &'a EntityId>,
        property: &str,
        t0: SimTime,
        t1: SimTime,
    ) -> Option<Aggregate> {
        entities.into_iter().filter_map(|e| self.series(e, property)?.aggregate(t0, t1)).reduce(Aggregate::merge)
    }

    /// Samples of a property dropped (non-numeric values past the series' capacity).
    pub fn dropped(&self, entity: &EntityId, property: &str) -> u64 {
        self.series(entity, property).map_or(0, Series::dropped)
    }

    /// The event log (what was not drained or evicted), in the order changes were applied.
    pub fn events(&self) -> impl ExactSizeIterator<Item = &TwinEvent> + '_ {
        self.events.iter()
    }

    /// Moves the event log out (to the recorder and the plugin views), leaving it empty with room
    /// for as many events as it held (up to its limit), so that a log taken every tick does not grow
    /// (and copy) itself again each time.
    pub fn take_events(&mut self) -> Vec<TwinEvent> {
        let room = self.events.len().min(self.event_limit);
        std::mem::replace(&mut self.events, VecDeque::with_capacity(room)).into()
    }
}

/// Makes `value` the entity's current value of `property`.
fn set_current(entity: &mut Entity, property: &str, value: &PropertyValue) {
    match entity.properties.get_mut(property) {
        Some(current) => *current = value.clone(),
        None => {
            entity.properties.insert(property.to_string(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::Unit;

    fn dbm(v: f64) -> PropertyValue {
        PropertyValue::Quantity { value: v, unit: Unit::DecibelMilliwatt }
    }

    fn store_with_cell() -> (TwinStore, EntityId) {
        let mut s = TwinStore::new();
        let mut e = Entity::new("cell-1", "telecom.cell");
        e.properties.insert("tx_power".into(), dbm(43.0));
        s.add_entity(SimTime::ZERO, e).unwrap();
        (s, EntityId::new("cell-1"))
    }

    #[test]
    fn record_latest_and_step_interpolation() {
        let (mut s, id) = store_with_cell();
        s.record(&id, "tx_power", SimTime::from_secs(10), dbm(40.0)).unwrap();
        s.record(&id, "tx_power", SimTime::from_secs(20), dbm(38.0)).unwrap();
        assert_eq!(s.latest(&id, "tx_power"), Some((SimTime::from_secs(20), dbm(38.0))));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(-1)), None);
        assert_eq!(s.value_at(&id, "tx_power", SimTime::ZERO), Some(dbm(43.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(15)), Some(dbm(40.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(20)), Some(dbm(38.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(99)), Some(dbm(38.0)));
        assert_eq!(s.entity(&id).unwrap().properties["tx_power"], dbm(38.0));
        assert_eq!(s.value_at(&id, "nope", SimTime::from_secs(5)), None);
    }

    #[test]
    fn out_of_order_samples_are_inserted_in_order() {
        let (mut s, id) = store_with_cell();
        for t in [30, 10, 20, 5, 25] {
            s.record(&id, "load", SimTime::from_secs(t), PropertyValue::Integer(t)).unwrap();
        }
        let times: Vec<i64> =
            s.window(&id, "load", SimTime(i64::MIN), SimTime(i64::MAX)).map(|(t, _)| t.0 / 1_000_000).collect();
        assert_eq!(times, vec![5, 10, 20, 25, 30]);
        // A late-arriving old sample does not become the entity's current value.
        assert_eq!(s.entity(&id).unwrap().properties["load"], PropertyValue::Integer(30));
        assert_eq!(s.value_at(&id, "load", SimTime::from_secs(22)), Some(PropertyValue::Integer(20)));
    }

    #[test]
    fn window_is_inclusive() {
        let (mut s, id) = store_with_cell();
        for t in 0..10 {
            s.record(&id, "n", SimTime::from_secs(t), PropertyValue::Integer(t)).unwrap();
        }
        let v: Vec<i64> = s
            .window(&id, "n", SimTime::from_secs(3), SimTime::from_secs(6))
            .map(|(_, v)| match v {
                PropertyValue::Integer(i) => i,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(v, vec![3, 4, 5, 6]);
        assert_eq!(s.window(&id, "n", SimTime::from_secs(6), SimTime::from_secs(3)).count(), 0);
        assert_eq!(s.window(&id, "missing", SimTime::ZERO, SimTime::from_secs(3)).count(), 0);
    }

    #[test]
    fn a_full_series_folds_its_oldest_numbers_into_buckets() {
        let mut s = TwinStore::with_capacity(3);
        s.add_entity(SimTime::ZERO, Entity::new("p", "pump")).unwrap();
        let id = EntityId::new("p");
        for t in 0..5 {
            s.record(&id, "flow", SimTime::from_secs(t), PropertyValue::Number(t as f64)).unwrap();
        }
        let series = s.series(&id, "flow").unwrap();
        assert_eq!((series.len(), series.folded(), series.dropped()), (3, 2, 0));
        assert_eq!(series.iter().next().unwrap().0, SimTime::from_secs(2));
        let b: Vec<Bucket> = series.buckets().copied().collect();
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].t0, b[0].t1, b[0].min, b[0].max, b[0].mean, b[0].count),
            (SimTime::ZERO, SimTime::from_secs(1), 0.0, 1.0, 0.5, 2)
        );
        // The past is there, coarser: the bucket's mean.
        assert_eq!(s.value_at(&id, "flow", SimTime::from_secs(1)), Some(PropertyValue::Number(0.5)));
        assert_eq!(s.value_at(&id, "flow", SimTime::from_secs(-1)), None);
        let all = s.aggregate([&id], "flow", SimTime(i64::MIN), SimTime(i64::MAX)).unwrap();
        assert_eq!((all.min, all.max, all.mean, all.count), (0.0, 4.0, 2.0, 5), "buckets count with their samples");
        assert_eq!(TwinStore::new().capacity(), 100_000);
    }

    #[test]
    fn buckets_thin_out_evenly_and_aggregates_span_entities() {
        let mut s = TwinStore::with_capacity(64);
        let ids: Vec<EntityId> = (0..3).map(|i| EntityId::new(format!("c{i}"))).collect();
        for id in &ids {
            s.add_entity(SimTime::ZERO, Entity::new(id.clone(), "telecom.cell")).unwrap();
        }
        for t in 0..100_000i64 {
            for (k, id) in ids.iter().enumerate() {
                let v = (t % 100) as f64 + k as f64 * 1000.0;
                s.record(id, "load", SimTime::from_secs(t), PropertyValue::Number(v)).unwrap();
            }
        }
        let series = s.series(&ids[0], "load").unwrap();
        assert_eq!(series.len(), 64);
        assert!(series.buckets().count() <= 8, "at most an eighth of the capacity in buckets");
        assert_eq!(series.folded() + series.len() as u64, 100_000, "every sample is in a bucket or kept");
        // The past is spread over the buckets: none holds more than a quarter of it.
        let counts: Vec<u64> = series.buckets().map(|b| b.count).collect();
        assert!(counts.iter().all(|&c| c * 4 <= series.folded()), "evenly thinned: {counts:?}");
        let spans: Vec<_> = series.buckets().map(|b| (b.t0, b.t1)).collect();
        assert!(spans.windows(2).all(|w| w[0].1 < w[1].0), "buckets in time order, not overlapping: {spans:?}");
        // Over the three cells and all time: loads 0..99, 1000..1099, 2000..2099, evenly.
        let agg = s.aggregate(&ids, "load", SimTime(i64::MIN), SimTime(i64::MAX)).unwrap();
        assert_eq!((agg.min, agg.max, agg.count), (0.0, 2099.0, 300_000));
        assert!((agg.mean - 1049.5).abs() < 1e-6, "{}", agg.mean);
        // A window inside the full-resolution part.
        let w = s.aggregate([&ids[1]], "load", SimTime::from_secs(99_990), SimTime::from_secs(99_999)).unwrap();
        assert_eq!((w.min, w.max, w.count), (1090.0, 1099.0, 10));
    }

    #[test]
    fn memory_stays_within_the_budget_however_long_it_runs() {
        // 1 MiB for 200 series written a million times in all.
        let budget = 1 << 20;
        let mut s = TwinStore::with_budget(budget);
        let ids: Vec<EntityId> = (0..20).map(|i| EntityId::new(format!("e{i}"))).collect();
        for id in &ids {
            s.add_entity(SimTime::ZERO, Entity::new(id.clone(), "sensor")).unwrap();
        }
        let mut peak = 0;
        for t in 0..5_000i64 {
            for id in &ids {
                for p in 0..10 {
                    let name = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"][p];
                    s.record(id, name, SimTime::from_millis(t), PropertyValue::Number(t as f64)).unwrap();
                }
            }
            peak = peak.max(s.memory_bytes());
        }
        assert_eq!(s.series_count(), 200);
        assert!(peak <= budget, "peak {peak} bytes over the {budget}-byte budget");
        assert!(s.series_capacity() >= MIN_SERIES_CAPACITY);
        assert!(s.events_evicted() > 0, "the event log kept to its share");
        assert!(s.folded() > 0, "old samples were folded, not kept");
    }

    #[test]
    fn a_budget_too_small_for_the_scene_is_refused_with_the_key_to_raise() {
        let e = TwinStore::check_budget(1 << 20, 10_000).unwrap_err();
        assert!(e.to_string().contains("[history] budget_mb") && e.needed > 1 << 20, "{e}");
        assert!(TwinStore::check_budget(DEFAULT_BUDGET_BYTES, 10_000).is_ok());
    }

    #[test]
    fn a_numeric_series_that_gets_text_keeps_every_value_as_written() {
        let (mut s, id) = store_with_cell();
        s.record(&id, "tx_power", SimTime::from_secs(1), dbm(40.0)).unwrap();
        s.record(&id, "tx_power", SimTime::from_secs(2), PropertyValue::Text("off air".into())).unwrap();
        let values: Vec<PropertyValue> = s.series(&id, "tx_power").unwrap().iter().map(|(_, v)| v).collect();
        assert_eq!(values, vec![dbm(43.0), dbm(40.0), PropertyValue::Text("off air".into())]);
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_millis(1_500)), Some(dbm(40.0)));
        assert_eq!(
            s.aggregate([&id], "tx_power", SimTime(i64::MIN), SimTime(i64::MAX)),
            None,
            "no numbers to aggregate"
        );
    }

    #[test]
    fn texts_past_the_capacity_are_dropped_and_counted() {
        let mut s = TwinStore::with_capacity(4);
        s.add_entity(SimTime::ZERO, Entity::new("cell", "telecom.cell")).unwrap();
        let id = EntityId::new("cell");
        for t in 0..10 {
            s.record(&id, "state", SimTime::from_secs(t), PropertyValue::Text(format!("s{t}"))).unwrap();
        }
        assert_eq!((s.series(&id, "state").unwrap().len(), s.dropped(&id, "state")), (4, 6));
        assert_eq!(s.latest(&id, "state").unwrap().1, PropertyValue::Text("s9".into()));
    }

    #[test]
    fn errors_are_not_logged() {
        let (mut s, id) = store_with_cell();
        let n = s.events().len();
        assert_eq!(
            s.record(&EntityId::new("ghost"), "x", SimTime::ZERO, PropertyValue::Bool(true)),
            Err(StoreError::UnknownEntity(EntityId::new("ghost")))
        );
        assert!(matches!(s.add_entity(SimTime::ZERO, Entity::new("cell-1", "x")), Err(StoreError::DuplicateEntity(_))));
        assert_eq!(s.events().len(), n);
        s.remove_entity(SimTime::from_secs(1), &id).unwrap();
        assert!(s.entity(&id).is_none());
        assert_eq!(s.latest(&id, "tx_power"), None);
        assert!(s.remove_entity(SimTime::from_secs(1), &id).is_err());
    }

    #[test]
    fn the_event_log_is_bounded_and_counts_what_it_evicts() {
        let (mut s, id) = store_with_cell();
        s.set_event_limit(100);
        for t in 0..1_000 {
            s.record(&id, "load", SimTime::from_secs(t), PropertyValue::Integer(t)).unwrap();
        }
        assert_eq!(s.events().len(), 100);
        assert_eq!(s.events_evicted(), 901, "the entity's addition and 900 samples");
        assert_eq!(s.events().next().unwrap().t, SimTime::from_secs(900), "the newest are kept");
        assert_eq!(s.take_events().len(), 100);
        assert_eq!(s.events().len(), 0);
        assert_eq!(TwinStore::new().event_limit(), DEFAULT_BUDGET_BYTES / 8 / EVENT_BYTES, "an eighth of the budget");
    }

    #[test]
    fn replay_reproduces_the_session() {
        let (mut s, id) = store_with_cell();
        s.add_entity(SimTime::from_secs(1), Entity::new("road-1", "road.segment")).unwrap();
        s.record(&id, "tx_power", SimTime::from_secs(5), dbm(41.0)).unwrap();
        s.record(&EntityId::new("road-1"), "flow", SimTime::from_secs(3), PropertyValue::Number(1200.0)).unwrap();
        s.record(&id, "tx_power", SimTime::from_secs(4), dbm(42.0)).unwrap();
        s.remove_entity(SimTime::from_secs(6), &EntityId::new("road-1")).unwrap();
        // Through JSON, as a recording on disk would be.
        let json = serde_json::to_string(&s.events().collect::<Vec<_>>()).unwrap();
        let events: Vec<TwinEvent> = serde_json::from_str(&json).unwrap();
        let r = TwinStore::replay(events, TwinStore::DEFAULT_CAPACITY).unwrap();
        assert_eq!(r, s);
        assert_eq!(r.value_at(&id, "tx_power", SimTime::from_millis(4_500)), Some(dbm(42.0)));
        assert!(r.entity(&EntityId::new("road-1")).is_none());
    }
}
