//! What a plugin sees of the twin: a snapshot of its granted entities, live or as they were at a
//! time T (a scrubbed playhead), with recent numeric history, holding only the properties the
//! scene's read grant permits ([`ReadGrant`]: a property it may not read is not in the view at all,
//! so no host call can reach it). Built by the view keeper ([`super::views`]) when a plugin takes a
//! submission; its cost is bounded by [`SNAPSHOT_SAMPLE_BUDGET`] history samples plus one latest
//! value per (entity, property).

use std::borrow::Cow;
use std::collections::BTreeSet;

use sangam_plugins::TwinSnapshot;
use sangam_twin::{EntityId, PropertyValue, ReadGrant, SimTime, TwinStore};

/// History samples per (entity, property) a plugin sees in its twin snapshot.
pub const SNAPSHOT_HISTORY: usize = 512;

/// History samples one snapshot holds at most, over all its entities and properties (4 MiB of
/// samples): no plugin (nor the property names other
/// plugins wrote on shared entities) may make it grow without bound. Latest values are always there.
pub const SNAPSHOT_SAMPLE_BUDGET: usize = 1 << 18;

/// The properties a view held, for the access log.
pub type Seen = BTreeSet<String>;

/// The granted entities' latest values and recent numeric history ([`SNAPSHOT_HISTORY`] per series,
/// [`SNAPSHOT_SAMPLE_BUDGET`] in all), of the properties `read` permits; their names go into `seen`.
pub fn snapshot_of(store: &TwinStore, entities: &[EntityId], read: &ReadGrant, seen: &mut Seen) -> TwinSnapshot {
    snapshot(store, entities, read, None, seen)
}

/// The granted entities as they were at `t`: each permitted property's value at `t` (the last sample
/// at or before it; none if it had no value yet) and the history up to `t`.
pub fn snapshot_at(
    store: &TwinStore,
    entities: &[EntityId],
    read: &ReadGrant,
    t: SimTime,
    seen: &mut Seen,
) -> TwinSnapshot {
    snapshot(store, entities, read, Some(t), seen)
}

fn snapshot(
    store: &TwinStore,
    entities: &[EntityId],
    read: &ReadGrant,
    at: Option<SimTime>,
    seen: &mut Seen,
) -> TwinSnapshot {
    let mut snap = TwinSnapshot::new();
    let mut budget = SNAPSHOT_SAMPLE_BUDGET;
    let until = at.unwrap_or(SimTime(i64::MAX));
    for (i, id) in entities.iter().enumerate() {
        let Some(entity) = store.entity(id) else { continue };
        let index = i as u32;
        for (name, latest) in &entity.properties {
            if !read.permits(name) {
                continue;
            }
            if !seen.contains(name) {
                seen.insert(name.clone());
            }
            let value = match at {
                None => Some(Cow::Borrowed(latest)),
                Some(t) => store.value_at(id, name, t).map(Cow::Owned),
            };
            let Some(value) = value else { continue };
            match value.as_ref() {
                PropertyValue::Text(t) => snap.set_text(index, name, t.clone()),
                PropertyValue::Bool(b) => snap.set_number(index, name, if *b { 1.0 } else { 0.0 }),
                other => {
                    if let Some(v) = other.as_f64() {
                        snap.set_number(index, name, v);
                    }
                    if let Some(series) = store.series(id, name)
                        && budget > 0
                    {
                        let mut recent: Vec<(i64, f64)> = series
                            .numbers(SimTime(i64::MIN), until)
                            .rev()
                            .take(SNAPSHOT_HISTORY.min(budget))
                            .map(|(t, v)| (t.as_micros(), v))
                            .collect();
                        budget -= recent.len();
                        recent.reverse();
                        snap.set_history(index, name, recent);
                    }
                }
            }
        }
    }
    snap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_holds_at_most_its_sample_budget_and_every_latest_value() {
        // 600 properties of 512 samples on one entity: 307,200 samples, over the budget.
        let mut store = TwinStore::new();
        let id = EntityId::new("tower");
        store.add_entity(SimTime::ZERO, sangam_twin::Entity::new(id.clone(), "telecom.site")).unwrap();
        for p in 0..600 {
            let name = format!("kpi{p}");
            for t in 0..512 {
                store.record(&id, &name, SimTime::from_micros(t), PropertyValue::Number(t as f64)).unwrap();
            }
        }
        let snap = snapshot_of(&store, std::slice::from_ref(&id), &ReadGrant::default(), &mut Seen::new());
        use sangam_plugins::TwinView;
        let mut held = 0;
        for p in 0..600 {
            let name = format!("kpi{p}");
            assert_eq!(snap.number(0, &name), Some(511.0), "the latest value of {name} is always there");
            snap.samples(0, &name, i64::MIN, i64::MAX, &mut |_, _| held += 1);
        }
        assert_eq!(held, SNAPSHOT_SAMPLE_BUDGET);
    }

    #[test]
    fn a_snapshot_at_a_past_time_holds_the_values_and_history_of_then() {
        let mut store = TwinStore::new();
        let id = EntityId::new("cell");
        store.add_entity(SimTime::ZERO, sangam_twin::Entity::new(id.clone(), "telecom.cell")).unwrap();
        for t in 1..=10 {
            store.record(&id, "rsrp", SimTime::from_secs(t), PropertyValue::Number(-100.0 + t as f64)).unwrap();
        }
        store.record(&id, "state", SimTime::from_secs(8), PropertyValue::Text("alarm".into())).unwrap();
        use sangam_plugins::TwinView;
        let all = ReadGrant::default();
        let then = snapshot_at(&store, std::slice::from_ref(&id), &all, SimTime::from_millis(4_500), &mut Seen::new());
        assert_eq!(then.number(0, "rsrp"), Some(-96.0), "the value at 4.5 s is the one of 4 s");
        assert_eq!(then.text(0, "state"), None, "the alarm came later");
        let mut seen = Vec::new();
        then.samples(0, "rsrp", i64::MIN, i64::MAX, &mut |t, _| seen.push(t));
        assert_eq!(seen, (1..=4).map(|s| s * 1_000_000).collect::<Vec<_>>(), "no history after then");
        let live = snapshot_of(&store, std::slice::from_ref(&id), &all, &mut Seen::new());
        assert_eq!((live.number(0, "rsrp"), live.text(0, "state").as_deref()), (Some(-90.0), Some("alarm")));
    }
}
