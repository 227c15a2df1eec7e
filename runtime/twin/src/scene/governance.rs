//! The scene's `[governance]` table: properties whose individual values never leave the adapter that
//! parsed them (`[[governance.aggregate_only]]`, with the smallest group size `k`, default
//! [`DEFAULT_MIN_GROUP`]). Parsing cost: one pass over the declarations and the scene's entities.

use std::collections::HashSet;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::{Cx, SceneError};
use crate::entity::Entity;

/// The smallest group an aggregate-only property is aggregated over unless the scene says otherwise.
pub const DEFAULT_MIN_GROUP: u64 = 10;

/// A property only aggregates of which may be stored, shown, recorded or exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateOnly {
    /// The property name.
    pub property: String,
    /// The fewest entities an aggregate may be over (`k`).
    pub min_group: u64,
}

/// Data governance the scene declares (`[governance]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GovernanceDecl {
    /// Aggregate-only properties.
    pub aggregate_only: Vec<AggregateOnly>,
}

impl GovernanceDecl {
    /// The declaration of `property` if it is aggregate-only.
    pub fn aggregate_only(&self, property: &str) -> Option<&AggregateOnly> {
        self.aggregate_only.iter().find(|a| a.property == property)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGovernance {
    #[serde(default)]
    aggregate_only: Vec<Spanned<RawAggregateOnly>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAggregateOnly {
    property: Spanned<String>,
    k: Option<Spanned<i64>>,
}

impl Cx<'_> {
    pub(super) fn governance(
        &self,
        raw: Option<&RawGovernance>,
        entities: &[Entity],
    ) -> Result<GovernanceDecl, SceneError> {
        let mut decl = GovernanceDecl::default();
        let Some(raw) = raw else { return Ok(decl) };
        let mut seen = HashSet::new();
        for sp in &raw.aggregate_only {
            let a = sp.get_ref();
            let property = a.property.get_ref().trim().to_string();
            if property.is_empty() || property.chars().any(char::is_control) {
                return Err(self.err(a.property.span(), "governance.aggregate_only: property must name a property"));
            }
            if !seen.insert(property.clone()) {
                return Err(self.err(
                    a.property.span(),
                    format!("governance.aggregate_only: `{property}` is declared twice; keep one"),
                ));
            }
            // The scene file itself must not hold what may only leave as an aggregate.
            if let Some(e) = entities.iter().find(|e| e.properties.contains_key(&property)) {
                return Err(self.err(
                    a.property.span(),
                    format!(
                        "governance.aggregate_only: `{property}` is aggregate-only, but entity `{}` gives it a value \
                         in this file; remove the value (only its adapter may read individual values)",
                        e.id
                    ),
                ));
            }
            let min_group =
                self.bounded(a.k.as_ref(), "governance.aggregate_only", "k", 1_000_000)?.unwrap_or(DEFAULT_MIN_GROUP);
            decl.aggregate_only.push(AggregateOnly { property, min_group });
        }
        Ok(decl)
    }
}
