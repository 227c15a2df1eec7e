//! The state hash of a twin store: one SHA-256 over everything a replay must reproduce.
//!
//! Two stores have the same [`StateHash`] when they hold the same entities (id, kind, name, link,
//! current values) and the same history (every full-resolution sample bit for bit, every
//! down-sampled bucket, the folded and dropped counts). The event log is left out: a recorder drains
//! it, so it says nothing about the twin. A recording stores the hash of the twin it started from
//! and ended with, and a replay compares its own against them (`--stats` prints it).
//!
//! Cost: one pass over the store, about 30 bytes hashed per sample (SHA-256 at some hundreds of
//! MB/s): a few milliseconds for a demo site, seconds for millions of samples. It is computed at the
//! start and end of a recording and on request, never per frame.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::TwinStore;
use crate::entity::EntityLink;
use crate::property::PropertyValue;

/// A SHA-256 over a twin's state; printed and parsed as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateHash(pub [u8; 32]);

impl fmt::Display for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateHash({self})")
    }
}

/// A text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a state hash (64 hex digits)")]
pub struct StateHashError(pub String);

impl FromStr for StateHash {
    type Err = StateHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StateHashError(s.chars().take(80).collect());
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(StateHash(out))
    }
}

/// The canonical bytes fed to the hash: every field tagged or length-prefixed, so no two states
/// share an encoding.
pub(crate) struct HashWriter(Sha256);

impl HashWriter {
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.0.update(v.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, v: f64) {
        self.0.update(v.to_bits().to_le_bytes());
    }

    pub(crate) fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }

    pub(crate) fn value(&mut self, v: &PropertyValue) {
        match v {
            PropertyValue::Quantity { value, unit } => {
                self.tag(0);
                self.f64(*value);
                self.str(unit.as_str());
            }
            PropertyValue::Number(x) => {
                self.tag(1);
                self.f64(*x);
            }
            PropertyValue::Integer(i) => {
                self.tag(2);
                self.i64(*i);
            }
            PropertyValue::Bool(b) => {
                self.tag(3);
                self.tag(u8::from(*b));
            }
            PropertyValue::Text(s) => {
                self.tag(4);
                self.str(s);
            }
        }
    }
}

impl TwinStore {
    /// The hash of the twin's state: entities, current values and all history (see the module docs).
    pub fn state_hash(&self) -> StateHash {
        let mut h = HashWriter(Sha256::new());
        // In id order; the same bytes as when entities and their series were two sorted maps.
        let slots = || self.order.iter().filter_map(|id| Some((id, self.slots.get(id)?)));
        h.u64(self.slots.len() as u64);
        for (id, slot) in slots() {
            let e = &slot.entity;
            h.str(id.as_str());
            h.str(&e.kind);
            match &e.name {
                Some(name) => {
                    h.tag(1);
                    h.str(name);
                }
                None => h.tag(0),
            }
            match &e.link {
                None => h.tag(0),
                Some(EntityLink::Placement(p)) => {
                    h.tag(1);
                    h.str(p);
                }
                Some(EntityLink::InstanceMember(g, i)) => {
                    h.tag(2);
                    h.str(g);
                    h.u64(*i as u64);
                }
                Some(EntityLink::Feature(f)) => {
                    h.tag(3);
                    h.str(f);
                }
                Some(EntityLink::Location(g)) => {
                    h.tag(4);
                    for v in [g.lat_deg, g.lon_deg, g.alt_m] {
                        h.u64(v.to_bits());
                    }
                }
            }
            h.u64(e.properties.len() as u64);
            for (name, value) in &e.properties {
                h.str(name);
                h.value(value);
            }
        }
        h.u64(self.slots.values().filter(|s| !s.series.is_empty()).count() as u64);
        for (id, series) in slots().filter(|(_, s)| !s.series.is_empty()).map(|(id, s)| (id, &s.series)) {
            h.str(id.as_str());
            h.u64(series.len() as u64);
            for (name, s) in series {
                h.str(name);
                s.hash_into(&mut h);
            }
        }
        StateHash(h.0.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimTime;
    use crate::entity::{Entity, EntityId};

    fn store() -> TwinStore {
        let mut s = TwinStore::with_capacity(4);
        let mut e = Entity::new("cell-1", "telecom.cell");
        e.properties.insert("load".into(), PropertyValue::Number(0.5));
        s.add_entity(SimTime::ZERO, e).unwrap();
        s
    }

    #[test]
    fn equal_states_hash_equal_and_any_change_shows() {
        let (a, mut b) = (store(), store());
        assert_eq!(a.state_hash(), b.state_hash());
        let id = EntityId::new("cell-1");
        b.record(&id, "load", SimTime::from_secs(1), PropertyValue::Number(0.5)).unwrap();
        assert_ne!(a.state_hash(), b.state_hash(), "a new sample, even of the same value");
        let mut c = store();
        c.record(&id, "load", SimTime::from_secs(1), PropertyValue::Number(0.5 + f64::EPSILON)).unwrap();
        assert_ne!(b.state_hash(), c.state_hash(), "one bit of one value");
        // Folding old samples into buckets changes the state, and the hash.
        let mut d = b.clone();
        for t in 2..10 {
            d.record(&id, "load", SimTime::from_secs(t), PropertyValue::Number(1.0)).unwrap();
        }
        let mut e = d.clone();
        e.record(&id, "load", SimTime::from_secs(10), PropertyValue::Number(1.0)).unwrap();
        assert_ne!(d.state_hash(), e.state_hash());
        // The event log is not part of the state.
        let mut f = b.clone();
        f.take_events();
        assert_eq!(f.state_hash(), b.state_hash());
    }

    #[test]
    fn hashes_print_and_parse_as_hex() {
        let h = store().state_hash();
        let text = h.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<StateHash>(), Ok(h));
        assert!("xyz".parse::<StateHash>().is_err());
        assert!("g".repeat(64).parse::<StateHash>().is_err());
    }
}
