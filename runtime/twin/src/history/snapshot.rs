//! A whole twin store as bytes, and back: what a recording keeps of the twin at its end, so that
//! time travel reads the twin in one go instead of applying every change recorded.
//!
//! The snapshot holds everything [`TwinStore`] holds (entities, every series' samples and buckets,
//! the budget and the capacities series were fitted to, the event log), so the store read back is
//! equal to the one written and has its state hash, and goes on exactly as it would have. It is
//! [`postcard`] (a compact serde binary format) after a format number, with numeric samples in one
//! block per series ([`super::series`]). Reading checks what the store relies on (ids unique,
//! samples in time order, buckets whole, capacities in range) and recomputes what can be derived, so a
//! damaged or crafted snapshot is refused with what is wrong, never trusted; no allocation is larger
//! than the input (serde's preallocation is capped, and a sample block is borrowed from it).
//!
//! Cost: about 16 bytes per numeric sample both ways, written and read at memory speed (tens of
//! milliseconds for millions of samples).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::series::{Series, SeriesWire};
use super::{Slot, TwinEvent, TwinStore};
use crate::entity::Entity;

/// The snapshot format this runtime writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// A snapshot that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the twin snapshot cannot be read: {0}")]
pub struct SnapshotError(pub String);

#[derive(Serialize)]
struct StoreOut<'a> {
    max_capacity: u64,
    budget: u64,
    fitted_capacity: u64,
    event_limit: u64,
    events_evicted: u64,
    slots: Vec<SlotOut<'a>>,
    events: Vec<&'a TwinEvent>,
}

#[derive(Serialize)]
struct SlotOut<'a> {
    entity: &'a Entity,
    series: Vec<(&'a str, SeriesWire<'static>)>,
}

#[derive(Deserialize)]
struct StoreIn<'a> {
    max_capacity: u64,
    budget: u64,
    fitted_capacity: u64,
    event_limit: u64,
    events_evicted: u64,
    #[serde(borrow)]
    slots: Vec<SlotIn<'a>>,
    events: Vec<TwinEvent>,
}

#[derive(Deserialize)]
struct SlotIn<'a> {
    entity: Entity,
    #[serde(borrow)]
    series: Vec<(String, SeriesWire<'a>)>,
}

impl TwinStore {
    /// The whole store as bytes ([`TwinStore::from_snapshot`] reads them back).
    pub fn snapshot(&self) -> Vec<u8> {
        let slots = self
            .order
            .iter()
            .filter_map(|id| self.slots.get(id))
            .map(|slot| SlotOut {
                entity: &slot.entity,
                series: slot.series.iter().map(|(name, s)| (&**name, s.to_wire())).collect(),
            })
            .collect();
        let out = StoreOut {
            max_capacity: self.max_capacity as u64,
            budget: self.budget as u64,
            fitted_capacity: self.fitted_capacity as u64,
            event_limit: self.event_limit as u64,
            events_evicted: self.events_evicted,
            slots,
            events: self.events.iter().collect(),
        };
        // Sized once: the snapshot is about the store's own size (a copy of millions of samples
        // grown by doubling would copy them again and again).
        let mut bytes = Vec::with_capacity(self.memory_bytes() + 64 * self.slots.len() + 64);
        // Serializing into a Vec fails only on a type postcard cannot write, none of which is here.
        postcard::to_io(&SNAPSHOT_FORMAT, &mut bytes).expect("a number serializes");
        postcard::to_io(&out, &mut bytes).expect("a twin store serializes");
        bytes
    }

    /// The store `bytes` hold (written by [`TwinStore::snapshot`]), checked.
    pub fn from_snapshot(bytes: &[u8]) -> Result<TwinStore, SnapshotError> {
        let bad = |why: String| SnapshotError(why);
        let (format, rest) =
            postcard::take_from_bytes::<u32>(bytes).map_err(|e| bad(format!("no format number ({e})")))?;
        if format != SNAPSHOT_FORMAT {
            return Err(bad(format!("it is of format {format}; this runtime reads format {SNAPSHOT_FORMAT}")));
        }
        let input: StoreIn<'_> = postcard::from_bytes(rest).map_err(|e| bad(format!("it does not decode ({e})")))?;
        let size = |n: u64, what: &str| usize::try_from(n).map_err(|_| bad(format!("{what} {n} is out of range")));
        let max_capacity = size(input.max_capacity, "the series capacity")?;
        let fitted_capacity = size(input.fitted_capacity, "the fitted capacity")?;
        let event_limit = size(input.event_limit, "the event log's limit")?;
        let budget = size(input.budget, "the budget")?;
        if max_capacity < 2 || fitted_capacity == 0 || event_limit == 0 || budget == 0 {
            return Err(bad("a capacity, the event log's limit or the budget is zero".into()));
        }
        let mut slots = HashMap::with_capacity_and_hasher(input.slots.len(), ahash::RandomState::new());
        let mut order = BTreeSet::new();
        let mut series_count = 0;
        for slot in input.slots {
            let id = slot.entity.id.clone();
            let mut series = BTreeMap::new();
            for (name, wire) in slot.series {
                let s =
                    Series::from_wire(wire).map_err(|why| bad(format!("entity `{id}`, property `{name}`: {why}")))?;
                series.insert(Arc::<str>::from(name), s);
            }
            series_count += series.len();
            if !order.insert(id.clone()) {
                return Err(bad(format!("entity `{id}` is in it twice")));
            }
            slots.insert(id, Slot { entity: slot.entity, series });
        }
        Ok(TwinStore {
            slots,
            order,
            max_capacity,
            budget,
            series_count,
            fitted_capacity,
            events: VecDeque::from(input.events),
            event_limit,
            events_evicted: input.events_evicted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimTime;
    use crate::entity::{EntityId, EntityLink};
    use crate::property::{PropertyValue, Unit};

    /// Numbers, quantities, texts, folded history, an out-of-order sample, a removed entity.
    fn busy_store() -> TwinStore {
        let mut s = TwinStore::with_capacity(16);
        for i in 0..5 {
            let mut e = Entity::new(format!("cell-{i}"), "telecom.cell");
            e.name = Some(format!("Cell {i}"));
            e.link = Some(EntityLink::InstanceMember("towers".into(), i));
            e.properties
                .insert("tx_power".into(), PropertyValue::Quantity { value: 43.0, unit: Unit::DecibelMilliwatt });
            s.add_entity(SimTime::ZERO, e).unwrap();
        }
        for t in 0..100 {
            for i in 0..5 {
                let id = EntityId::new(format!("cell-{i}"));
                let v = (t as f64 * 0.37 + i as f64).sin() * 20.0 + 40.0;
                s.record(&id, "load", SimTime::from_millis(t * 100), PropertyValue::Number(v)).unwrap();
            }
        }
        let id = EntityId::new("cell-1");
        s.record(&id, "load", SimTime::from_millis(50), PropertyValue::Number(-1.0)).unwrap();
        s.record(&id, "state", SimTime::from_secs(3), PropertyValue::Text("degraded".into())).unwrap();
        s.record(&id, "users", SimTime::from_secs(4), PropertyValue::Integer(17)).unwrap();
        s.remove_entity(SimTime::from_secs(5), &EntityId::new("cell-4")).unwrap();
        s
    }

    #[test]
    fn a_store_read_back_from_its_snapshot_is_the_same_store_and_goes_on_the_same() {
        let mut live = busy_store();
        assert!(live.folded() > 0, "the store has down-sampled history");
        let bytes = live.snapshot();
        let mut back = TwinStore::from_snapshot(&bytes).unwrap();
        assert_eq!(back, live);
        assert_eq!(back.state_hash(), live.state_hash());
        assert_eq!(back.series_count(), live.series_count());
        // Both go on the same way: more samples fold the same, a new series fits the others the same.
        for store in [&mut live, &mut back] {
            for t in 100..140 {
                store
                    .record(&EntityId::new("cell-2"), "load", SimTime::from_millis(t * 100), PropertyValue::Number(1.5))
                    .unwrap();
            }
            store.add_entity(SimTime::from_secs(20), Entity::new("road-1", "road.segment")).unwrap();
        }
        assert_eq!(back.state_hash(), live.state_hash());
        assert!(bytes.len() < live.memory_bytes() * 2 + 4096, "{} bytes for {} held", bytes.len(), live.memory_bytes());
    }

    #[test]
    fn a_damaged_or_crafted_snapshot_is_refused_with_what_is_wrong() {
        let bytes = busy_store().snapshot();
        // Cut short, anywhere.
        for cut in [0, 1, bytes.len() / 3, bytes.len() - 1] {
            let e = TwinStore::from_snapshot(&bytes[..cut]).unwrap_err();
            assert!(e.0.contains("decode") || e.0.contains("format number"), "cut at {cut}: {e}");
        }
        // Another format.
        let mut other = postcard::to_stdvec(&7u32).unwrap();
        other.extend_from_slice(&bytes[1..]);
        assert!(TwinStore::from_snapshot(&other).unwrap_err().0.contains("format 7"));
        // Samples out of time order, crafted through the wire form itself.
        let mut s = TwinStore::with_capacity(16);
        s.add_entity(SimTime::ZERO, Entity::new("p", "pump")).unwrap();
        for t in [1, 2, 3] {
            s.record(&EntityId::new("p"), "flow", SimTime::from_secs(t), PropertyValue::Number(t as f64)).unwrap();
        }
        s.take_events();
        let good = s.snapshot();
        let mut crafted = good.clone();
        // The last sample's time (the block's last 16 bytes, time first) set to before the others.
        let block_end = find(&good, &3f64.to_le_bytes()).expect("the last value is in the block") + 8;
        crafted[block_end - 16..block_end - 8].copy_from_slice(&0i64.to_le_bytes());
        let e = TwinStore::from_snapshot(&crafted).unwrap_err();
        assert!(e.0.contains("`p`") && e.0.contains("`flow`") && e.0.contains("out of time order"), "{e}");
        // Every single flipped byte is refused or read as a store that checks out: never a panic.
        for i in 0..good.len() {
            let mut flipped = good.clone();
            flipped[i] ^= 0xA5;
            let _ = TwinStore::from_snapshot(&flipped);
        }
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).rposition(|w| w == needle)
    }
}
