//! Entities: the things a twin knows about (a cell site, a road segment, a pump), each with a
//! dotted kind, an optional link to what represents it in the scene, and typed properties.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::property::PropertyValue;

/// The unique id of an entity (as written in the scene file). Shared text: cloning one (every store
/// write logs its entity's id) is a reference-count increment, not a copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(Arc<str>);

impl EntityId {
    /// An id from any string-like value.
    pub fn new(id: impl Into<String>) -> Self {
        Self(Arc::from(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EntityId {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for EntityId {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl Serialize for EntityId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EntityId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(EntityId::from)
    }
}

/// What represents an entity in the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EntityLink {
    /// A placement, by id.
    Placement(String),
    /// A member of an instance group: the group id and the member index.
    InstanceMember(String, usize),
    /// A GeoJSON feature, by feature id (for example `"way/123456"`).
    Feature(String),
    /// A WGS84 position, for an entity no scene object represents (a cell an adapter found in its
    /// cell list). Last of the variants, so stores and recordings written before it read the same.
    Location(crate::geo::Geodetic),
}

impl fmt::Display for EntityLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntityLink::Placement(id) => write!(f, "placement {id}"),
            EntityLink::InstanceMember(group, i) => write!(f, "instance {group}/{i}"),
            EntityLink::Feature(id) => write!(f, "feature {id}"),
            EntityLink::Location(g) => write!(f, "location {:.6}, {:.6}", g.lat_deg, g.lon_deg),
        }
    }
}

/// An entity of the twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Unique id.
    pub id: EntityId,
    /// Dotted kind name, for example `"telecom.cell"`.
    pub kind: String,
    /// Human-readable name.
    pub name: Option<String>,
    /// What represents the entity in the scene, if anything.
    pub link: Option<EntityLink>,
    /// Current property values by name.
    pub properties: BTreeMap<String, PropertyValue>,
}

impl Entity {
    /// An entity with no name, link or properties.
    pub fn new(id: impl Into<EntityId>, kind: impl Into<String>) -> Self {
        Self { id: id.into(), kind: kind.into(), name: None, link: None, properties: BTreeMap::new() }
    }

    /// The display name: the name if any, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }
}

/// Whether `kind` is a valid dotted kind name: one or more non-empty segments of ASCII letters,
/// digits, `_` or `-`, separated by `.`.
pub fn is_valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind
            .split('.')
            .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(is_valid_kind("telecom.cell"));
        assert!(is_valid_kind("pump"));
        assert!(is_valid_kind("road.segment_2-a"));
        assert!(!is_valid_kind(""));
        assert!(!is_valid_kind("telecom..cell"));
        assert!(!is_valid_kind(".cell"));
        assert!(!is_valid_kind("telecom cell"));
    }

    #[test]
    fn display_name_falls_back_to_id() {
        let mut e = Entity::new("cell-1", "telecom.cell");
        assert_eq!(e.display_name(), "cell-1");
        e.name = Some("Rooftop".into());
        assert_eq!(e.display_name(), "Rooftop");
        assert_eq!(EntityLink::InstanceMember("poles".into(), 3).to_string(), "instance poles/3");
    }
}
