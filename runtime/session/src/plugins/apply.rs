//! Applying plugin output to the twin store: a simulation's checked updates (entity indices into its
//! granted list) and an adapter's discovered entities and updates, each resumable where it stopped,
//! so that the tick applies what fits its budget (`[clock] apply_budget_us`) and the next tick goes
//! on. Refusals are counted and logged once per batch. Cost: one store write per value.
//!
//! Aggregate-only properties (`[[governance.aggregate_only]]`): an adapter's individual values of
//! one never reach the store. Each batch's values are grouped by entity kind, and a group of at least
//! `k` entities is written as its aggregate on the entity `aggregate:<kind>` (`<property>.mean`,
//! `.min`, `.max`, `.count`); a smaller group is withheld. Any other plugin's values of such a property
//! are refused (it cannot have read them). All of it is counted ([`GovernanceStats`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use sangam_plugins::{ColumnEntities, PropertyUpdates};
use sangam_twin::{Entity, EntityId, GovernanceDecl, PropertyValue, SimTime, TwinStore, Unit};

/// What the aggregate-only rules did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GovernanceStats {
    /// Individual values of aggregate-only properties kept out of the store.
    pub individual_values: u64,
    /// Aggregates written (one per group per batch).
    pub aggregates: u64,
    /// Groups smaller than `k`, withheld.
    pub small_groups: u64,
    /// Values of aggregate-only properties from plugins other than adapters, refused.
    pub refused: u64,
}

/// The id of the entity that holds the aggregates of entities of `kind`.
pub fn aggregate_entity(kind: &str) -> EntityId {
    EntityId::new(format!("aggregate:{kind}"))
}

fn value_with_unit(value: f64, unit: &str) -> PropertyValue {
    if unit.is_empty() {
        PropertyValue::Number(value)
    } else {
        PropertyValue::Quantity { value, unit: Unit::parse(unit) }
    }
}

/// Applies checked updates (entity indices into `entities`) to the store; returns (applied, refused).
pub fn apply_updates(store: &mut TwinStore, entities: &[EntityId], updates: &PropertyUpdates) -> (usize, usize) {
    apply(store, entities, updates)
}

/// Applies a simulation's checked updates (entity indices into its granted list) to the store;
/// returns (applied, refused).
pub(super) fn apply(store: &mut TwinStore, entities: &[EntityId], updates: &PropertyUpdates) -> (usize, usize) {
    apply_except(store, entities, updates, &|_| false)
}

/// Applies `updates` but the properties `skip` names.
fn apply_except(
    store: &mut TwinStore,
    entities: &[EntityId],
    updates: &PropertyUpdates,
    skip: &dyn Fn(&str) -> bool,
) -> (usize, usize) {
    let (applied, refused, _) = apply_part(store, entities, updates, skip, &mut Cursor::default(), None);
    (applied, refused)
}

/// Where applying one output has got to.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    column: usize,
    value: usize,
    text: usize,
}

/// Values applied between looks at the clock.
const APPLY_SLICE: usize = 1024;

/// Applies `updates` from `cursor` on, but the properties `skip` names, until done or past
/// `deadline` (looked at every [`APPLY_SLICE`] values); returns (applied, refused, done).
fn apply_part(
    store: &mut TwinStore,
    entities: &[EntityId],
    updates: &PropertyUpdates,
    skip: &dyn Fn(&str) -> bool,
    cursor: &mut Cursor,
    deadline: Option<Instant>,
) -> (usize, usize, bool) {
    let mut applied = 0usize;
    let t = SimTime::from_micros(updates.time);
    // Refusals are counted, and logged once per call with the first reason (an output may hold a
    // million values; a line each would flood the log from the frame thread).
    let mut refused = 0usize;
    let mut first: Option<String> = None;
    let mut refuse = |why: &dyn Fn() -> String| {
        refused += 1;
        if first.is_none() {
            first = Some(why());
        }
    };
    let mut since_look = 0usize;
    let mut out_of_time = || {
        since_look += 1;
        if since_look < APPLY_SLICE {
            return false;
        }
        since_look = 0;
        deadline.is_some_and(|d| Instant::now() >= d)
    };
    let mut done = true;
    'columns: while let Some(column) = updates.numbers.get(cursor.column) {
        if skip(&column.property) {
            cursor.column += 1;
            cursor.value = 0;
            continue;
        }
        // The unit is parsed once per column, not once per value.
        let unit = (!column.unit.is_empty()).then(|| Unit::parse(&column.unit));
        // Resumed by index: a skip over the values already applied would walk them again.
        while let Some(&v) = column.values.get(cursor.value) {
            let e = match &column.entities {
                ColumnEntities::All => cursor.value as u32,
                ColumnEntities::Listed(indices) => indices.get(cursor.value).copied().unwrap_or(u32::MAX),
            };
            cursor.value += 1;
            let value = match &unit {
                Some(unit) => PropertyValue::Quantity { value: v, unit: unit.clone() },
                None => PropertyValue::Number(v),
            };
            match entities.get(e as usize) {
                None => refuse(&|| format!("entity index {e} is not granted")),
                Some(id) => match store.record(id, &column.property, t, value) {
                    Ok(()) => applied += 1,
                    Err(error) => refuse(&|| format!("{id} {}: {error}", column.property)),
                },
            }
            if out_of_time() {
                done = false;
                break 'columns;
            }
        }
        cursor.column += 1;
        cursor.value = 0;
    }
    if done {
        while let Some(text) = updates.texts.get(cursor.text) {
            cursor.text += 1;
            if !skip(&text.property) {
                match entities.get(text.entity as usize) {
                    None => refuse(&|| format!("entity index {} is not granted", text.entity)),
                    Some(id) => match store.record(id, &text.property, t, PropertyValue::Text(text.value.clone())) {
                        Ok(()) => applied += 1,
                        Err(error) => refuse(&|| format!("{id} {}: {error}", text.property)),
                    },
                }
            }
            if out_of_time() {
                done = cursor.text >= updates.texts.len();
                break;
            }
        }
    }
    if let Some(first) = first {
        tracing::warn!("{refused} plugin updates refused by the twin store (first: {first})");
    }
    (applied, refused, done)
}

/// A simulation's output being applied, perhaps over several ticks, and where it has got to.
pub(super) struct PendingOutput {
    updates: Arc<PropertyUpdates>,
    cursor: Cursor,
    /// Its aggregate-only values were counted as refused.
    counted: bool,
}

impl PendingOutput {
    /// An output not applied yet.
    pub(super) fn new(updates: Arc<PropertyUpdates>) -> PendingOutput {
        PendingOutput { updates, cursor: Cursor::default(), counted: false }
    }

    /// Values it holds (applied or not).
    pub(super) fn value_count(&self) -> usize {
        self.updates.value_count()
    }
}

/// Applies what is left of a simulation's output (entity indices into its granted list) until done
/// or past `deadline`, refusing (and counting) values of aggregate-only properties; returns
/// (applied, refused, done).
pub(super) fn apply_pending(
    store: &mut TwinStore,
    entities: &[EntityId],
    pending: &mut PendingOutput,
    governance: &GovernanceDecl,
    stats: &mut GovernanceStats,
    deadline: Instant,
) -> (usize, usize, bool) {
    let held = |p: &str| governance.aggregate_only(p).is_some();
    let mut refused = 0;
    if !pending.counted && !governance.aggregate_only.is_empty() {
        pending.counted = true;
        let updates = &pending.updates;
        refused = updates.numbers.iter().filter(|c| held(&c.property)).map(|c| c.values.len()).sum::<usize>()
            + updates.texts.iter().filter(|t| held(&t.property)).count();
        if refused > 0 {
            stats.refused += refused as u64;
            tracing::warn!("{refused} values of aggregate-only properties from a simulation refused");
        }
    }
    let (applied, other, done) =
        apply_part(store, entities, &pending.updates, &held, &mut pending.cursor, Some(deadline));
    (applied, other + refused, done)
}

/// An adapter's output being applied, perhaps over several ticks, and where it has got to: its
/// discovered entities first, then its updates, then (aggregate-only properties) its aggregates.
pub(super) struct PendingAdapter {
    out: Arc<sangam_plugins::AdapterOutput>,
    /// Its keys as entity ids (made once, not once per tick it takes).
    keys: Vec<EntityId>,
    entities_added: usize,
    cursor: Cursor,
    updates_done: bool,
}

impl PendingAdapter {
    /// An output not applied yet.
    pub(super) fn new(out: Arc<sangam_plugins::AdapterOutput>) -> PendingAdapter {
        let keys = out.keys.iter().map(|k| EntityId::new(k.clone())).collect();
        PendingAdapter { out, keys, entities_added: 0, cursor: Cursor::default(), updates_done: false }
    }

    /// Values it holds (applied or not).
    pub(super) fn value_count(&self) -> usize {
        self.out.updates.value_count()
    }
}

/// Applies what is left of an adapter's output until done or past `deadline` (looked at every
/// [`APPLY_SLICE`] entities or values): entities it discovered (kept out when the id exists), then its
/// updates (entity indices into its own keys), then the aggregates of aggregate-only properties
/// (computed in one go, from the whole output); returns (applied, refused, done).
pub(super) fn apply_adapter_part(
    store: &mut TwinStore,
    pending: &mut PendingAdapter,
    governance: &GovernanceDecl,
    stats: &mut GovernanceStats,
    deadline: Option<Instant>,
) -> (usize, usize, bool) {
    let out = &*pending.out;
    let t = SimTime::from_micros(out.updates.time);
    let out_of_time = || deadline.is_some_and(|d| Instant::now() >= d);
    while let Some(e) = out.entities.get(pending.entities_added) {
        pending.entities_added += 1;
        let id = EntityId::new(e.id.clone());
        if store.entity(&id).is_none() {
            let mut entity = sangam_twin::Entity::new(id, e.kind.clone());
            if !e.name.is_empty() {
                entity.name = Some(e.name.clone());
            }
            // The host checked the position's ranges; where it found it, the entity is drawn.
            if let Ok(at) = sangam_twin::Geodetic::new(e.latitude, e.longitude, e.altitude) {
                entity.link = Some(sangam_twin::EntityLink::Location(at));
            }
            if let Err(error) = store.add_entity(t, entity) {
                tracing::warn!(entity = %e.id, %error, "adapter entity refused");
            }
        }
        if pending.entities_added.is_multiple_of(APPLY_SLICE) && out_of_time() {
            return (0, 0, false);
        }
    }
    // The host checked every key against the adapter's grant (granted, or created by it): a key the
    // store does not have is refused and counted, never created here.
    let held = |p: &str| governance.aggregate_only(p).is_some();
    let (mut applied, refused, done) = if pending.updates_done {
        (0, 0, true)
    } else {
        apply_part(store, &pending.keys, &out.updates, &held, &mut pending.cursor, deadline)
    };
    if !done {
        return (applied, refused, false);
    }
    pending.updates_done = true;
    if !governance.aggregate_only.is_empty() {
        applied += apply_aggregates(store, &pending.keys, out, governance, stats);
    }
    (applied, refused, true)
}

/// Aggregate-only: an adapter's individual values stop here; groups by kind of at least k leave as
/// aggregates. Returns the values written.
fn apply_aggregates(
    store: &mut TwinStore,
    keys: &[EntityId],
    out: &sangam_plugins::AdapterOutput,
    governance: &GovernanceDecl,
    stats: &mut GovernanceStats,
) -> usize {
    let t = SimTime::from_micros(out.updates.time);
    let held = |p: &str| governance.aggregate_only(p).is_some();
    let mut applied = 0;
    stats.individual_values += out.updates.texts.iter().filter(|t| held(&t.property)).count() as u64;
    for column in out.updates.numbers.iter().filter(|c| held(&c.property)) {
        let k = governance.aggregate_only(&column.property).map_or(u64::MAX, |a| a.min_group);
        let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (e, &v) in column.entity_indices().zip(&column.values) {
            stats.individual_values += 1;
            if let Some(entity) = keys.get(e as usize).and_then(|id| store.entity(id)) {
                groups.entry(entity.kind.clone()).or_default().push(v);
            }
        }
        for (kind, values) in groups {
            if (values.len() as u64) < k {
                stats.small_groups += 1;
                continue;
            }
            let id = aggregate_entity(&kind);
            if store.entity(&id).is_none() {
                let mut entity = Entity::new(id.clone(), "sangam.aggregate");
                entity.name = Some(format!("{kind} (aggregate)"));
                let _ = store.add_entity(t, entity);
            }
            let n = values.len() as f64;
            let (min, max) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let mean = values.iter().sum::<f64>() / n;
            let p = &column.property;
            for (suffix, v) in [("mean", mean), ("min", min), ("max", max)] {
                if store.record(&id, &format!("{p}.{suffix}"), t, value_with_unit(v, &column.unit)).is_ok() {
                    applied += 1;
                }
            }
            if store.record(&id, &format!("{p}.count"), t, PropertyValue::Integer(values.len() as i64)).is_ok() {
                applied += 1;
            }
            stats.aggregates += 1;
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::snapshot_of;

    #[test]
    fn updates_land_in_the_store_and_bad_indices_are_refused() {
        let mut store = TwinStore::new();
        let ids = vec![EntityId::new("a"), EntityId::new("b")];
        for id in &ids {
            store.add_entity(SimTime::ZERO, sangam_twin::Entity::new(id.clone(), "sensor")).unwrap();
        }
        let updates = PropertyUpdates {
            time: 1_000_000,
            numbers: vec![
                sangam_plugins::NumberColumn::listed("load", "%", vec![0, 1, 7], vec![10.0, 20.0, 30.0]),
                // A full column (SDK 1.2): one value per granted entity, in order.
                sangam_plugins::NumberColumn {
                    property: "temperature".into(),
                    unit: String::new(),
                    entities: sangam_plugins::ColumnEntities::All,
                    values: vec![31.5, 29.0],
                },
            ],
            texts: vec![],
        };
        assert_eq!(apply(&mut store, &ids, &updates), (4, 1));
        let (_, full) = store.latest(&ids[1], "temperature").unwrap();
        assert_eq!(full.as_f64(), Some(29.0));
        let (t, v) = store.latest(&ids[1], "load").unwrap();
        assert_eq!((t, v.as_f64()), (SimTime::from_secs(1), Some(20.0)));
        // The snapshot a plugin sees next has the value and its history.
        let snap = snapshot_of(&store, &ids, &sangam_twin::ReadGrant::default(), &mut Default::default());
        use sangam_plugins::TwinView;
        assert_eq!(snap.number(1, "load"), Some(20.0));
        let mut seen = Vec::new();
        snap.samples(0, "load", 0, i64::MAX, &mut |t, v| seen.push((t, v)));
        assert_eq!(seen, vec![(1_000_000, 10.0)]);
    }
}
