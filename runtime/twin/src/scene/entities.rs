//! The `[[entities]]` tables: each entity's kind, its link to a placement, an instance member or a
//! layer's feature, and its initial properties (numbers, integers, booleans, text, quantities with
//! a unit). Cost: per link a linear search of the placements, groups or layers' features; one
//! conversion per property.

use std::collections::{BTreeMap, HashSet};

use serde_spanned::Spanned;

use super::error::list;
use super::placements::{InstanceGroup, Placement};
use super::raw::RawEntity;
use super::{Cx, SceneError};
use crate::entity::{Entity, EntityId, EntityLink, is_valid_kind};
use crate::geojson::Layer;
use crate::property::{PropertyValue, Unit};

impl Cx<'_> {
    /// Every entity, in file order; a property with an unknown unit is kept, with a warning.
    pub(super) fn entities(
        &self,
        raw: &[Spanned<RawEntity>],
        placements: &[Placement],
        instance_groups: &[InstanceGroup],
        layers: &[Layer],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Entity>, SceneError> {
        let mut seen = HashSet::new();
        let mut entities = Vec::new();
        for se in raw {
            let re = se.get_ref();
            self.unique(&mut seen, &re.id, "entity")?;
            let kind = re.kind.get_ref();
            if !is_valid_kind(kind) {
                return Err(self.err(
                    re.kind.span(),
                    format!("kind = \"{kind}\" is not a dotted kind name such as \"telecom.cell\" (letters, digits, _ and - between dots)"),
                ));
            }
            let link = match (&re.placement, &re.feature) {
                (Some(_), Some(f)) => {
                    return Err(
                        self.err(f.span(), "an entity links to at most one of placement and feature; remove one")
                    );
                }
                (Some(p), None) => Some(self.placement_link(p, placements, instance_groups)?),
                (None, Some(f)) => {
                    if !layers.iter().any(|l| l.has_feature(f.get_ref())) {
                        return Err(self.err(
                            f.span(),
                            format!(
                                "feature = \"{}\" is not a building or road of any layer ({}); check the feature id",
                                f.get_ref(),
                                list(layers.iter().map(|l| &l.id))
                            ),
                        ));
                    }
                    Some(EntityLink::Feature(f.get_ref().clone()))
                }
                (None, None) => None,
            };
            let mut properties = BTreeMap::new();
            for (name, v) in re.properties.iter().flatten() {
                properties.insert(name.clone(), self.property(name, v, warnings)?);
            }
            entities.push(Entity {
                id: EntityId::new(re.id.get_ref().clone()),
                kind: kind.clone(),
                name: re.name.clone(),
                link,
                properties,
            });
        }
        Ok(entities)
    }

    fn placement_link(
        &self,
        p: &Spanned<String>,
        placements: &[Placement],
        groups: &[InstanceGroup],
    ) -> Result<EntityLink, SceneError> {
        let id = p.get_ref();
        if placements.iter().any(|pl| &pl.id == id) {
            return Ok(EntityLink::Placement(id.clone()));
        }
        if let Some((g, i)) = id.rsplit_once('/')
            && let Some(group) = groups.iter().find(|ig| ig.id == g)
        {
            return match i.parse::<usize>() {
                Ok(i) if i < group.members.len() => Ok(EntityLink::InstanceMember(g.to_string(), i)),
                _ => Err(self.err(
                    p.span(),
                    format!(
                        "placement = \"{id}\": instance group `{g}` has {} member(s), indices 0..{}",
                        group.members.len(),
                        group.members.len().saturating_sub(1)
                    ),
                )),
            };
        }
        Err(self.err(
            p.span(),
            format!(
                "placement = \"{id}\" names no placement (known: {}) and no instance member \"<group>/<index>\" (groups: {})",
                list(placements.iter().map(|p| &p.id)),
                list(groups.iter().map(|g| &g.id))
            ),
        ))
    }

    fn property(
        &self,
        name: &str,
        v: &Spanned<toml::Value>,
        warnings: &mut Vec<String>,
    ) -> Result<PropertyValue, SceneError> {
        let bad = |why: &str| {
            self.err(
                v.span(),
                format!(
                    "property `{name}`: {why}; a property is a number, an integer, true/false, a string, \
                     or {{ value = <number>, unit = \"<unit>\" }}"
                ),
            )
        };
        match v.get_ref() {
            toml::Value::Integer(i) => Ok(PropertyValue::Integer(*i)),
            toml::Value::Float(f) if f.is_finite() => Ok(PropertyValue::Number(*f)),
            toml::Value::Float(f) => Err(bad(&format!("{f} is not a finite number"))),
            toml::Value::Boolean(b) => Ok(PropertyValue::Bool(*b)),
            toml::Value::String(s) => Ok(PropertyValue::Text(s.clone())),
            toml::Value::Table(t) => {
                if let Some(k) = t.keys().find(|k| *k != "value" && *k != "unit") {
                    return Err(bad(&format!("unknown key `{k}` (allowed: `value`, `unit`)")));
                }
                let value = match t.get("value") {
                    Some(toml::Value::Float(f)) if f.is_finite() => *f,
                    Some(toml::Value::Integer(i)) => *i as f64,
                    Some(other) => return Err(bad(&format!("`value` must be a finite number, not {other}"))),
                    None => return Err(bad("missing `value`")),
                };
                let unit = match t.get("unit") {
                    Some(toml::Value::String(u)) => Unit::parse(u),
                    Some(other) => return Err(bad(&format!("`unit` must be a string, not {other}"))),
                    None => return Err(bad("missing `unit` (use a plain number for dimensionless values)")),
                };
                if !unit.is_known() {
                    warnings.push(format!(
                        "{}: property `{name}`: unit `{unit}` is not a known unit ({}); kept as written",
                        self.at(v.span()),
                        Unit::KNOWN.iter().map(Unit::as_str).collect::<Vec<_>>().join(" ")
                    ));
                }
                Ok(PropertyValue::Quantity { value, unit })
            }
            toml::Value::Array(_) => Err(bad("arrays are not supported")),
            toml::Value::Datetime(_) => Err(bad("dates are not supported")),
        }
    }
}
