//! What-if branches: a session forked at its current time into a named branch with its own
//! parameter values, and the comparison of two branches.
//!
//! [`Session::fork`] copies the twin (values and all history up to now, so both branches answer
//! "what was it before the fork" alike), the clock and the playhead, and loads the scene's plugins
//! again with the branch's parameter overrides (checked against each plugin's manifest like the
//! scene's own); its simulations step on from the fork time. Branches live side by side in one
//! process and are ticked independently; a branch stepped with the same ticks from the same fork
//! reaches the same state hash. [`compare`] lists, for every numeric property the two twins hold,
//! the latest value in each and the difference, and sums it up.
//!
//! Cost: a fork copies the store (its memory budget at most) and loads the plugins (compiled
//! components come from the engine's cache), so forking is a between-frames action, not a per-frame
//! one; a comparison is one pass over both stores.

use anyhow::{Context, Result};
use sangam_twin::{EntityId, ParamLiteral, Scene as TwinScene, TwinStore};

use crate::{LivePlugins, Session};

/// A parameter value for one plugin of a branch (`plugin`, `parameter`, value).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamOverride {
    /// The plugin's id in the scene.
    pub plugin: String,
    /// The parameter's name (as in `[plugins.params]`).
    pub parameter: String,
    /// Its value in the branch.
    pub value: ParamLiteral,
}

/// One property's values in two branches.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDiff {
    /// The entity.
    pub entity: EntityId,
    /// The property.
    pub property: String,
    /// Its latest value in the first branch, if it has one there.
    pub a: Option<f64>,
    /// Its latest value in the second branch.
    pub b: Option<f64>,
}

impl PropertyDiff {
    /// `b - a` when both have a value.
    pub fn delta(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }
}

/// How two branches differ.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BranchDiff {
    /// Every numeric property either twin holds whose latest value differs (or exists in one only).
    pub differences: Vec<PropertyDiff>,
    /// Numeric properties compared.
    pub compared: usize,
    /// The largest `|b - a|`, and where.
    pub largest: Option<(EntityId, String, f64)>,
}

impl Session {
    /// Forks this session at its current time into a branch of `scene` (the scene it runs) whose
    /// plugins get `overrides`; `Err` names a plugin or parameter the scene does not have, or a value
    /// the plugin's manifest refuses. The branch does not record.
    pub fn fork(&self, scene: &TwinScene, name: &str, overrides: &[ParamOverride]) -> Result<Session> {
        let prepared = BranchPlugins::load(scene, name, overrides)?;
        self.fork_with(prepared)
    }

    /// [`Session::fork`] with the branch's plugins already loaded ([`BranchPlugins::load`], which may
    /// run on another thread: it reads and compiles; this copies the store and the clock).
    pub fn fork_with(&self, prepared: BranchPlugins) -> Result<Session> {
        let BranchPlugins { name, scene: branched, mut plugins } = prepared;
        anyhow::ensure!(self.replaying().is_none(), "branch `{name}`: fork the live session, not a replay");
        // Each simulation steps on from where the session's did: none runs a step twice or skips one.
        plugins.resume_from(self.plugins());
        // The recorded feeds were read when the session started: a branch does not get them again.
        plugins.take_feeds();
        let mut branch = Session::with_plugins(&branched, plugins)?;
        branch.store = self.store.clone();
        branch.plugins.reset_views(&mut branch.store);
        branch.time = self.time.clone();
        branch.evicted_seen = branch.store.events_evicted();
        Ok(branch)
    }
}

/// A branch's plugins, loaded with its parameter values and not yet started on a twin: the part of a
/// fork that reads the disk and compiles, done where it does not hold up a frame.
pub struct BranchPlugins {
    name: String,
    scene: TwinScene,
    plugins: LivePlugins,
}

impl BranchPlugins {
    /// Loads `scene`'s plugins with `overrides` for branch `name`; `Err` names a plugin or parameter
    /// the scene does not have, or a value the plugin's manifest refuses.
    pub fn load(scene: &TwinScene, name: &str, overrides: &[ParamOverride]) -> Result<BranchPlugins> {
        let mut branched = scene.clone();
        apply_overrides(&mut branched, &format!("branch `{name}`"), overrides)?;
        let plugins = LivePlugins::load(&branched).with_context(|| format!("branch `{name}`: loading its plugins"))?;
        Ok(BranchPlugins { name: name.to_string(), scene: branched, plugins })
    }
}

impl ParamOverride {
    /// Reads `PLUGIN.PARAMETER=VALUE` (as `--set` takes it) against `scene`'s plugins: VALUE is an
    /// integer, a number, `true` / `false`, text in double quotes (`"5"` is the text 5), or else text.
    pub fn parse(text: &str, scene: &TwinScene) -> Result<ParamOverride> {
        let (key, value) = text.split_once('=').with_context(|| format!("--set {text}: use PLUGIN.PARAMETER=VALUE"))?;
        let (plugin, parameter) = sangam_twin::split_scenario_key(key.trim(), &scene.plugins).with_context(|| {
            format!(
                "--set {text}: `{key}` is not PLUGIN.PARAMETER of a plugin of {}; its plugins: {}",
                scene.path.display(),
                scene.plugins.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?;
        let v = value.trim();
        let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
        let value = if quoted {
            ParamLiteral::Text(v[1..v.len() - 1].to_string())
        } else if let Ok(i) = v.parse::<i64>() {
            ParamLiteral::Integer(i)
        } else if let Some(x) = v.parse::<f64>().ok().filter(|x| x.is_finite()) {
            ParamLiteral::Number(x)
        } else if let Ok(b) = v.parse::<bool>() {
            ParamLiteral::Bool(b)
        } else {
            ParamLiteral::Text(v.to_string())
        };
        Ok(ParamOverride { plugin: plugin.to_string(), parameter: parameter.to_string(), value })
    }

    /// The values scenario `name` of `scene` sets; `Err` lists the scene's scenarios.
    pub fn of_scenario(name: &str, scene: &TwinScene) -> Result<Vec<ParamOverride>> {
        let Some(s) = scene.scenarios.iter().find(|s| s.id == name) else {
            anyhow::bail!(
                "--scenario {name}: {} has no scenario `{name}`; its scenarios: {}",
                scene.path.display(),
                if scene.scenarios.is_empty() {
                    "none ([[scenarios]] declares them)".to_string()
                } else {
                    scene.scenarios.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
                }
            );
        };
        Ok(s.set
            .iter()
            .map(|v| ParamOverride { plugin: v.plugin.clone(), parameter: v.parameter.clone(), value: v.value.clone() })
            .collect())
    }
}

/// Sets `overrides` in `scene`'s plugin declarations (`label` names the branch or scenario in
/// messages). The plugin must be the scene's; the parameter and value are checked against its
/// manifest when the plugins load, as the scene's own are.
pub fn apply_overrides(scene: &mut TwinScene, label: &str, overrides: &[ParamOverride]) -> Result<()> {
    let ids: Vec<String> = scene.plugins.iter().map(|p| p.id.clone()).collect();
    for o in overrides {
        let Some(decl) = scene.plugins.iter_mut().find(|p| p.id == o.plugin) else {
            anyhow::bail!("{label}: no plugin `{}` in {}; it has: {}", o.plugin, scene.path.display(), ids.join(", "));
        };
        match decl.params.iter_mut().find(|(p, _)| *p == o.parameter) {
            Some((_, v)) => *v = o.value.clone(),
            None => decl.params.push((o.parameter.clone(), o.value.clone())),
        }
    }
    Ok(())
}

/// How branch `b` differs from branch `a`: every numeric property either holds, latest values.
pub fn compare(a: &TwinStore, b: &TwinStore) -> BranchDiff {
    let mut diff = BranchDiff::default();
    let numbers = |s: &TwinStore, e: &EntityId, p: &str| s.latest(e, p).and_then(|(_, v)| v.as_f64());
    let mut seen = std::collections::BTreeSet::new();
    for store in [a, b] {
        for entity in store.entities() {
            for property in entity.properties.keys() {
                if !seen.insert((entity.id.clone(), property.clone())) {
                    continue;
                }
                let (va, vb) = (numbers(a, &entity.id, property), numbers(b, &entity.id, property));
                if va.is_none() && vb.is_none() {
                    continue;
                }
                diff.compared += 1;
                if va == vb {
                    continue;
                }
                let d = PropertyDiff { entity: entity.id.clone(), property: property.clone(), a: va, b: vb };
                if let Some(delta) = d.delta().map(f64::abs)
                    && diff.largest.as_ref().is_none_or(|(_, _, l)| delta > *l)
                {
                    diff.largest = Some((d.entity.clone(), d.property.clone(), delta));
                }
                diff.differences.push(d);
            }
        }
    }
    diff
}

/// A branch's plugins load on a thread of their own (the parameter panel's re-fork).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<BranchPlugins>();
};
