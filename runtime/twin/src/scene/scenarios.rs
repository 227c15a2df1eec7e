//! The scene's `[[scenarios]]`: named sets of plugin parameter values for what-if planning ("tilt +2
//! deg on sector 3", "Ring Road lane closed", "demand x1.5"), chosen with `--scenario NAME` or run
//! side by side as branches of one session.
//!
//! ```toml
//! [[scenarios]]
//! id = "ring-road-lane-closed"
//! description = "One lane of the Ring Road closed for works"
//! set = { "traffic.segments" = "road/ring-road-1=1.0/1/50", "traffic.lane-capacity" = 1600.0 }
//! ```
//!
//! Each key is `PLUGIN.PARAMETER`, the plugin a `[[plugins]]` id of the scene (checked here, with the
//! line); the parameter and its value are checked against the plugin's manifest when the scenario
//! is applied (names, types, ranges and units are the manifest's).
//!
//! Parsing cost: a few comparisons per value.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_spanned::Spanned;

use super::error::list;
use super::{Cx, ParamLiteral, PluginDecl, SceneError};

/// One scenario of the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDecl {
    /// Its name (`--scenario NAME`).
    pub id: String,
    /// What it changes, for people.
    pub description: Option<String>,
    /// The values it sets, in key order.
    pub set: Vec<ScenarioValue>,
    /// Where it is declared (`file:line:column`).
    pub location: String,
}

/// A parameter value a scenario sets.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioValue {
    /// The plugin's id in the scene.
    pub plugin: String,
    /// The parameter's name (the manifest's).
    pub parameter: String,
    /// The value.
    pub value: ParamLiteral,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    id: Spanned<String>,
    description: Option<String>,
    set: Spanned<BTreeMap<String, Spanned<toml::Value>>>,
}

/// Splits `key` into a plugin of `plugins` and a parameter: the longest plugin id followed by `.`.
pub fn split_key<'k>(key: &'k str, plugins: &[PluginDecl]) -> Option<(&'k str, &'k str)> {
    plugins
        .iter()
        .filter_map(|p| key.strip_prefix(p.id.as_str()).and_then(|rest| rest.strip_prefix('.')).map(|param| (p, param)))
        .max_by_key(|(p, _)| p.id.len())
        .filter(|(_, param)| !param.is_empty())
        .map(|(p, param)| (&key[..p.id.len()], param))
}

impl Cx<'_> {
    pub(super) fn scenarios(
        &self,
        raw: &[Spanned<RawScenario>],
        plugins: &[PluginDecl],
    ) -> Result<Vec<ScenarioDecl>, SceneError> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for rs in raw {
            let r = rs.get_ref();
            self.unique(&mut seen, &r.id, "scenario")?;
            let id = r.id.get_ref();
            if r.set.get_ref().is_empty() {
                return Err(self.err(
                    r.set.span(),
                    format!("scenario `{id}`: set = {{ \"PLUGIN.PARAMETER\" = VALUE, ... }} sets nothing"),
                ));
            }
            let mut set = Vec::new();
            for (key, v) in r.set.get_ref() {
                let Some((plugin, parameter)) = split_key(key, plugins) else {
                    return Err(self.err(
                        v.span(),
                        format!(
                            "scenario `{id}`: `{key}` is not PLUGIN.PARAMETER of a plugin of this scene; its plugins: {}",
                            list(plugins.iter().map(|p| &p.id))
                        ),
                    ));
                };
                let value = self.param_literal(&format!("scenario `{id}`: `{key}`"), v)?;
                set.push(ScenarioValue { plugin: plugin.to_string(), parameter: parameter.to_string(), value });
            }
            out.push(ScenarioDecl {
                id: id.clone(),
                description: r.description.clone(),
                set,
                location: self.at(rs.span()),
            });
        }
        Ok(out)
    }
}
