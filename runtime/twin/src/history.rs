//! The twin store: entities, per-property time series and the event log.
//!
//! Every change goes through [`TwinStore::apply`] as a timestamped [`TwinEvent`] and is appended to
//! the event log, so applying the same events to an empty store replays a session exactly. The log
//! is bounded ([`TwinStore::DEFAULT_EVENT_LIMIT`] events unless set): a recorder drains it
//! ([`TwinStore::take_events`]); what nobody drained is evicted oldest first and counted
//! ([`TwinStore::events_evicted`]), so a kiosk that runs for days keeps flat memory.
//! Each (entity, property) series is kept sorted by time (out-of-order samples are inserted in
//! place) and bounded: when full, the oldest sample is dropped and counted.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::clock::SimTime;
use crate::entity::{Entity, EntityId};
use crate::property::PropertyValue;

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
        /// The property name.
        property: String,
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

/// One bounded, time-sorted series of samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    samples: VecDeque<(SimTime, PropertyValue)>,
    dropped: u64,
}

impl Series {
    /// Number of samples held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the series holds no sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Samples dropped because the series was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// All samples, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (SimTime, &PropertyValue)> + '_ {
        self.samples.iter().map(|(t, v)| (*t, v))
    }

    /// The sample with the greatest time (the last written among equal times).
    pub fn latest(&self) -> Option<(SimTime, &PropertyValue)> {
        self.samples.back().map(|(t, v)| (*t, v))
    }

    /// Step interpolation: the value of the last sample at or before `t`.
    pub fn value_at(&self, t: SimTime) -> Option<&PropertyValue> {
        let i = self.samples.partition_point(|(st, _)| *st <= t);
        if i == 0 { None } else { Some(&self.samples[i - 1].1) }
    }

    /// Samples with `t0 <= t <= t1`, oldest first.
    pub fn window(&self, t0: SimTime, t1: SimTime) -> impl DoubleEndedIterator<Item = (SimTime, &PropertyValue)> + '_ {
        let start = self.samples.partition_point(|(st, _)| *st < t0);
        let end = self.samples.partition_point(|(st, _)| *st <= t1).max(start);
        self.samples.range(start..end).map(|(t, v)| (*t, v))
    }

    fn insert(&mut self, t: SimTime, value: PropertyValue, capacity: usize) {
        match self.samples.back() {
            Some((last, _)) if *last > t => {
                // After any samples with the same time: the later write wins at that time.
                let i = self.samples.partition_point(|(st, _)| *st <= t);
                self.samples.insert(i, (t, value));
            }
            _ => self.samples.push_back((t, value)),
        }
        while self.samples.len() > capacity {
            self.samples.pop_front();
            self.dropped += 1;
        }
    }
}

/// Entities, their property history and the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinStore {
    entities: BTreeMap<EntityId, Entity>,
    history: BTreeMap<EntityId, BTreeMap<String, Series>>,
    capacity: usize,
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
    /// Default number of samples kept per (entity, property) series.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// Default number of events the log keeps for a recorder to drain (a few MiB).
    pub const DEFAULT_EVENT_LIMIT: usize = 65_536;

    /// An empty store with the default series capacity.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty store keeping at most `capacity` samples per series (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entities: BTreeMap::new(),
            history: BTreeMap::new(),
            capacity: capacity.max(1),
            events: VecDeque::new(),
            event_limit: Self::DEFAULT_EVENT_LIMIT,
            events_evicted: 0,
        }
    }

    /// Keeps at most `limit` events in the log (at least 1); older ones are evicted and counted.
    pub fn set_event_limit(&mut self, limit: usize) {
        self.event_limit = limit.max(1);
        self.evict_events();
    }

    /// The most events the log holds.
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

    /// A store rebuilt by applying `events` in order (a replay).
    pub fn replay(events: impl IntoIterator<Item = TwinEvent>, capacity: usize) -> Result<Self, StoreError> {
        let mut store = Self::with_capacity(capacity);
        for e in events {
            store.apply(e)?;
        }
        Ok(store)
    }

    /// The per-series capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Applies one change and appends it to the event log. A rejected change is not logged.
    pub fn apply(&mut self, event: TwinEvent) -> Result<(), StoreError> {
        match &event.kind {
            TwinEventKind::EntityAdded(entity) => {
                if self.entities.contains_key(&entity.id) {
                    return Err(StoreError::DuplicateEntity(entity.id.clone()));
                }
                let series = self.history.entry(entity.id.clone()).or_default();
                for (name, value) in &entity.properties {
                    series.entry(name.clone()).or_default().insert(event.t, value.clone(), self.capacity);
                }
                self.entities.insert(entity.id.clone(), entity.clone());
            }
            TwinEventKind::EntityRemoved(id) => {
                if self.entities.remove(id).is_none() {
                    return Err(StoreError::UnknownEntity(id.clone()));
                }
                self.history.remove(id);
            }
            TwinEventKind::PropertyRecorded { entity, property, value } => {
                let Some(e) = self.entities.get_mut(entity) else {
                    return Err(StoreError::UnknownEntity(entity.clone()));
                };
                let series = self.history.entry(entity.clone()).or_default().entry(property.clone()).or_default();
                series.insert(event.t, value.clone(), self.capacity);
                // The entity's current value is the latest sample in time.
                if let Some((_, latest)) = series.latest() {
                    e.properties.insert(property.clone(), latest.clone());
                }
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

    /// Records a property sample (the entity must exist).
    pub fn record(
        &mut self,
        entity: &EntityId,
        property: &str,
        t: SimTime,
        value: PropertyValue,
    ) -> Result<(), StoreError> {
        self.apply(TwinEvent {
            t,
            kind: TwinEventKind::PropertyRecorded { entity: entity.clone(), property: property.to_string(), value },
        })
    }

    /// An entity by id.
    pub fn entity(&self, id: &EntityId) -> Option<&Entity> {
        self.entities.get(id)
    }

    /// All entities, ordered by id.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> + '_ {
        self.entities.values()
    }

    /// The series of one property, if any sample was ever kept.
    pub fn series(&self, entity: &EntityId, property: &str) -> Option<&Series> {
        self.history.get(entity)?.get(property)
    }

    /// The latest sample of a property.
    pub fn latest(&self, entity: &EntityId, property: &str) -> Option<(SimTime, &PropertyValue)> {
        self.series(entity, property)?.latest()
    }

    /// The value of a property at time `t` (step interpolation: the last sample at or before `t`).
    pub fn value_at(&self, entity: &EntityId, property: &str, t: SimTime) -> Option<&PropertyValue> {
        self.series(entity, property)?.value_at(t)
    }

    /// The samples of a property with `t0 <= t <= t1`, oldest first (empty if none).
    pub fn window(
        &self,
        entity: &EntityId,
        property: &str,
        t0: SimTime,
        t1: SimTime,
    ) -> impl Iterator<Item = (SimTime, &PropertyValue)> + '_ {
        self.series(entity, property).into_iter().flat_map(move |s| s.window(t0, t1))
    }

    /// Samples of a property dropped because its series was full.
    pub fn dropped(&self, entity: &EntityId, property: &str) -> u64 {
        self.series(entity, property).map_or(0, Series::dropped)
    }

    /// The event log (what was not drained or evicted), in the order changes were applied.
    pub fn events(&self) -> impl ExactSizeIterator<Item = &TwinEvent> + '_ {
        self.events.iter()
    }

    /// Moves the event log out (for writing a recording), leaving it empty.
    pub fn take_events(&mut self) -> Vec<TwinEvent> {
        std::mem::take(&mut self.events).into()
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
        assert_eq!(s.latest(&id, "tx_power"), Some((SimTime::from_secs(20), &dbm(38.0))));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(-1)), None);
        assert_eq!(s.value_at(&id, "tx_power", SimTime::ZERO), Some(&dbm(43.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(15)), Some(&dbm(40.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(20)), Some(&dbm(38.0)));
        assert_eq!(s.value_at(&id, "tx_power", SimTime::from_secs(99)), Some(&dbm(38.0)));
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
        assert_eq!(s.value_at(&id, "load", SimTime::from_secs(22)), Some(&PropertyValue::Integer(20)));
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
                PropertyValue::Integer(i) => *i,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(v, vec![3, 4, 5, 6]);
        assert_eq!(s.window(&id, "n", SimTime::from_secs(6), SimTime::from_secs(3)).count(), 0);
        assert_eq!(s.window(&id, "missing", SimTime::ZERO, SimTime::from_secs(3)).count(), 0);
    }

    #[test]
    fn capacity_drops_oldest_and_counts() {
        let mut s = TwinStore::with_capacity(3);
        s.add_entity(SimTime::ZERO, Entity::new("p", "pump")).unwrap();
        let id = EntityId::new("p");
        for t in 0..5 {
            s.record(&id, "flow", SimTime::from_secs(t), PropertyValue::Number(t as f64)).unwrap();
        }
        let series = s.series(&id, "flow").unwrap();
        assert_eq!(series.len(), 3);
        assert_eq!(s.dropped(&id, "flow"), 2);
        assert_eq!(series.iter().next().unwrap().0, SimTime::from_secs(2));
        assert_eq!(s.value_at(&id, "flow", SimTime::from_secs(1)), None);
        assert_eq!(TwinStore::new().capacity(), 100_000);
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
        assert_eq!(TwinStore::new().event_limit(), TwinStore::DEFAULT_EVENT_LIMIT);
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
        assert_eq!(r.value_at(&id, "tx_power", SimTime::from_millis(4_500)), Some(&dbm(42.0)));
        assert!(r.entity(&EntityId::new("road-1")).is_none());
    }
}
