//! The plugins a scene runs (`[[plugins]]`, with `[plugins.limits]`) and how it admits and limits
//! them (`[plugin_policy]`): granted entities, kinds and capabilities, files, step, parameters and
//! limits, checked as declarations (the plugin files themselves are read when the session loads
//! them). Cost: per plugin a linear search of the entities for each grant, and one file-system stat
//! per referenced file.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_spanned::Spanned;

use super::error::list;
use super::raw::{RawPlugin, RawPluginLimits, RawPluginPolicy, RawPluginRead};
use super::{Cx, SceneError};
use crate::entity::{Entity, EntityId};

/// A value given to a plugin parameter in the scene (checked against the plugin's declared type when
/// the plugin is loaded).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamLiteral {
    /// A TOML float.
    Number(f64),
    /// A TOML integer.
    Integer(i64),
    /// A TOML boolean.
    Bool(bool),
    /// A TOML string.
    Text(String),
}

/// A plugin the scene runs (`[[plugins]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginDecl {
    /// This instance's id, unique in the scene (names it in messages and on screen).
    pub id: String,
    /// The plugin file as written: a packaged artifact, or a bare component with `manifest`. A
    /// relative path is looked up in the scene's folder, then in each folder of `SANGAM_PLUGIN_PATH`.
    pub artifact: String,
    /// A `plugin.toml` for a bare component (resolved against the scene's folder).
    pub manifest: Option<PathBuf>,
    /// Entities granted by id (checked to exist).
    pub entities: Vec<EntityId>,
    /// Entities granted by kind. With neither `entities` nor `kinds`, every scene entity is granted.
    pub kinds: Vec<String>,
    /// Capabilities granted (a subset of what the manifest requests), e.g. `read-data`.
    pub grant: Vec<String>,
    /// The folder preopened read-only as `/data` when `read-data` is granted.
    pub data_dir: Option<PathBuf>,
    /// Adapters: a recorded feed (a file) delivered to the adapter once the scene starts.
    pub feed: Option<PathBuf>,
    /// Simulations: the fixed step in milliseconds (default 100).
    pub step_ms: Option<u64>,
    /// Parameter values by name, in file order.
    pub params: Vec<(String, ParamLiteral)>,
    /// Limits the scene sets for this plugin (`[plugins.limits]`): each lowers the manifest's.
    pub limits: PluginLimitsDecl,
    /// What of its entities it may read (`[plugins.read]`); revoke wins over grant.
    pub read: ReadGrant,
    /// Where the `[[plugins]]` table is: `file:line:column`.
    pub location: String,
}

impl PluginDecl {
    /// Whether entity `id` of `kind` is granted to the plugin: named in `entities`, of one of its
    /// `kinds`, or any entity when it names neither; never one of a revoked kind (revoke wins).
    pub fn grants_entity(&self, id: &EntityId, kind: &str) -> bool {
        let all = self.entities.is_empty() && self.kinds.is_empty();
        (all || self.entities.contains(id) || self.kinds.iter().any(|k| k == kind)) && self.read.permits_kind(kind)
    }
}

/// What a plugin may read of the entities it is granted (`[plugins.read]`), as in Eclipse Ditto's
/// policies: a revoke wins over any grant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadGrant {
    /// The properties it may read; `None`: every property of its entities.
    pub properties: Option<Vec<String>>,
    /// Properties it may never read, whatever is granted.
    pub revoked_properties: Vec<String>,
    /// Entity kinds it may never read (`kind:KIND` in `revoke`), whatever `entities` or `kinds` grant.
    pub revoked_kinds: Vec<String>,
}

impl ReadGrant {
    /// Whether property `name` may be read.
    pub fn permits(&self, name: &str) -> bool {
        self.properties.as_ref().is_none_or(|p| p.iter().any(|g| g == name))
            && !self.revoked_properties.iter().any(|r| r == name)
    }

    /// Whether entities of `kind` may be read at all.
    pub fn permits_kind(&self, kind: &str) -> bool {
        !self.revoked_kinds.iter().any(|k| k == kind)
    }
}

/// Limits a scene sets for one plugin (`[plugins.limits]`, the manifest's keys). Each may only lower
/// what the plugin's manifest asks for; `None` keeps the manifest's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PluginLimitsDecl {
    /// `memory-mb`: MiB of linear memory.
    pub memory_mb: Option<u64>,
    /// `call-ms`: milliseconds per call.
    pub call_ms: Option<u64>,
    /// `fuel`: wasmtime fuel per call.
    pub fuel: Option<u64>,
    /// `output-mb`: MiB of output per call.
    pub output_mb: Option<u64>,
    /// `host-calls`: host calls per plugin call.
    pub host_calls: Option<u64>,
}

/// How the scene admits and limits plugins (`[plugin_policy]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginPolicy {
    /// Dev mode: run unsigned plugins (with a warning) instead of refusing them.
    pub allow_unsigned: bool,
    /// Public key files (`sangam plugin keygen`) whose signatures are trusted.
    pub trusted_keys: Vec<PathBuf>,
    /// Dev mode: replace a plugin's running instance when its file changes on disk.
    pub hot_reload: bool,
    /// The longest time per call any plugin gets, in milliseconds, whatever its manifest asks
    /// (`max_call_ms`, default [`DEFAULT_MAX_CALL_MS`]).
    pub max_call_ms: u64,
    /// Kiosk mode: re-enable a plugin disabled for its faults after this many seconds
    /// (`reenable_after_s`); `None` keeps it disabled until the scene is reloaded.
    pub reenable_after_s: Option<u64>,
}

/// The scene policy's default longest time per plugin call: a frame-driven twin has no use for a
/// call longer than this, and a longer one holds a pool thread.
pub const DEFAULT_MAX_CALL_MS: u64 = 250;

impl Default for PluginPolicy {
    fn default() -> Self {
        PluginPolicy {
            allow_unsigned: false,
            trusted_keys: Vec::new(),
            hot_reload: false,
            max_call_ms: DEFAULT_MAX_CALL_MS,
            reenable_after_s: None,
        }
    }
}

impl Cx<'_> {
    pub(super) fn plugins(
        &self,
        raw: &[Spanned<RawPlugin>],
        entities: &[Entity],
    ) -> Result<Vec<PluginDecl>, SceneError> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for sp in raw {
            let rp = sp.get_ref();
            self.unique(&mut seen, &rp.id, "plugin")?;
            let id = rp.id.get_ref();
            if rp.artifact.get_ref().trim().is_empty() {
                return Err(self.err(rp.artifact.span(), format!("plugin `{id}`: artifact must name a plugin file")));
            }
            let mut granted = Vec::new();
            for e in &rp.entities {
                let eid = EntityId::new(e.get_ref().clone());
                if !entities.iter().any(|x| x.id == eid) {
                    return Err(self.err(
                        e.span(),
                        format!(
                            "plugin `{id}`: entity `{}` is not declared in this scene ({}); check the id",
                            e.get_ref(),
                            list(entities.iter().map(|x| x.id.as_str()))
                        ),
                    ));
                }
                granted.push(eid);
            }
            let mut kinds = Vec::new();
            for k in &rp.kinds {
                if !entities.iter().any(|x| &x.kind == k.get_ref()) {
                    return Err(self.err(
                        k.span(),
                        format!("plugin `{id}`: no entity of kind `{}` in this scene; check the kind", k.get_ref()),
                    ));
                }
                kinds.push(k.get_ref().clone());
            }
            let mut grant = Vec::new();
            for g in &rp.grant {
                let known = ["read-data", "wall-clock", "random", "create-entities", "site-geometry"];
                if !known.contains(&g.get_ref().as_str()) {
                    return Err(self.err(
                        g.span(),
                        format!(
                            "plugin `{id}`: unknown capability `{}`; a scene may grant read-data, wall-clock, random, \
                             create-entities or site-geometry",
                            g.get_ref()
                        ),
                    ));
                }
                grant.push(g.get_ref().clone());
            }
            let data_dir = rp.data.as_ref().map(|d| self.existing_file(d, "data", true)).transpose()?;
            if grant.iter().any(|g| g == "read-data") && data_dir.is_none() {
                return Err(self.err(
                    sp.span(),
                    format!("plugin `{id}`: grant read-data needs data = \"FOLDER\" (preopened read-only as /data)"),
                ));
            }
            let feed = rp.feed.as_ref().map(|f| self.existing_file(f, "feed", false)).transpose()?;
            let manifest = rp.manifest.as_ref().map(|m| self.existing_file(m, "manifest", false)).transpose()?;
            let step_ms = match &rp.step_ms {
                Some(v) if (1..=3_600_000).contains(v.get_ref()) => Some(*v.get_ref() as u64),
                Some(v) => {
                    return Err(self.err(
                        v.span(),
                        format!("plugin `{id}`: step_ms = {} must be 1 to 3600000 milliseconds", v.get_ref()),
                    ));
                }
                None => None,
            };
            let mut params = Vec::new();
            for (name, v) in rp.params.iter().flatten() {
                params.push((name.clone(), self.param_literal(&format!("plugin `{id}`: parameter `{name}`"), v)?));
            }
            let limits = match &rp.limits {
                Some(raw) => self.plugin_limits(id, raw)?,
                None => PluginLimitsDecl::default(),
            };
            let read = match &rp.read {
                Some(raw) => self.plugin_read(id, raw, entities)?,
                None => ReadGrant::default(),
            };
            out.push(PluginDecl {
                id: id.clone(),
                artifact: rp.artifact.get_ref().clone(),
                manifest,
                entities: granted,
                kinds,
                grant,
                data_dir,
                feed,
                step_ms,
                params,
                limits,
                read,
                location: self.at(sp.span()),
            });
        }
        Ok(out)
    }

    pub(super) fn plugin_policy(&self, raw: Option<&RawPluginPolicy>) -> Result<PluginPolicy, SceneError> {
        let Some(raw) = raw else { return Ok(PluginPolicy::default()) };
        let trusted_keys =
            raw.trusted_keys.iter().map(|k| self.existing_file(k, "trusted_keys", false)).collect::<Result<_, _>>()?;
        let max_call_ms = self
            .bounded(raw.max_call_ms.as_ref(), "plugin_policy", "max_call_ms", 10_000)?
            .unwrap_or(DEFAULT_MAX_CALL_MS);
        let reenable_after_s =
            self.bounded(raw.reenable_after_s.as_ref(), "plugin_policy", "reenable_after_s", 86_400)?;
        Ok(PluginPolicy {
            allow_unsigned: raw.allow_unsigned.unwrap_or(false),
            trusted_keys,
            hot_reload: raw.hot_reload.unwrap_or(false),
            max_call_ms,
            reenable_after_s,
        })
    }

    fn plugin_read(&self, id: &str, raw: &RawPluginRead, entities: &[Entity]) -> Result<ReadGrant, SceneError> {
        let name_ok = |s: &Spanned<String>| -> Result<String, SceneError> {
            let v = s.get_ref().trim();
            if v.is_empty() || v.chars().any(char::is_control) {
                return Err(self.err(s.span(), format!("plugin `{id}` [plugins.read]: `{v}` is not a property name")));
            }
            Ok(v.to_string())
        };
        let properties = raw.properties.as_ref().map(|p| p.iter().map(name_ok).collect()).transpose()?;
        let mut grant = ReadGrant { properties, ..ReadGrant::default() };
        for r in &raw.revoke {
            match r.get_ref().strip_prefix("kind:") {
                Some(kind) => {
                    if !entities.iter().any(|e| e.kind == kind) {
                        return Err(self.err(
                            r.span(),
                            format!(
                                "plugin `{id}` [plugins.read]: revoke `{}`: no entity of kind `{kind}` in this scene",
                                r.get_ref()
                            ),
                        ));
                    }
                    grant.revoked_kinds.push(kind.to_string());
                }
                None => grant.revoked_properties.push(name_ok(r)?),
            }
        }
        Ok(grant)
    }

    fn plugin_limits(&self, id: &str, raw: &RawPluginLimits) -> Result<PluginLimitsDecl, SceneError> {
        // The manifest's bounds (docs/plugin-format.md); whether a value lowers the manifest's is
        // checked when the plugin is loaded.
        let table = format!("plugin `{id}` [plugins.limits]");
        Ok(PluginLimitsDecl {
            memory_mb: self.bounded(raw.memory_mb.as_ref(), &table, "memory-mb", 4096)?,
            call_ms: self.bounded(raw.call_ms.as_ref(), &table, "call-ms", 10_000)?,
            fuel: self.bounded(raw.fuel.as_ref(), &table, "fuel", 1_000_000_000_000)?,
            output_mb: self.bounded(raw.output_mb.as_ref(), &table, "output-mb", 1024)?,
            host_calls: self.bounded(raw.host_calls.as_ref(), &table, "host-calls", 10_000_000)?,
        })
    }
}

impl Cx<'_> {
    /// A parameter value of the scene (`what` names it in the message): a finite number, an
    /// integer, a boolean or a string.
    pub(super) fn param_literal(&self, what: &str, v: &Spanned<toml::Value>) -> Result<ParamLiteral, SceneError> {
        Ok(match v.get_ref() {
            toml::Value::Float(x) if x.is_finite() => ParamLiteral::Number(*x),
            toml::Value::Integer(i) => ParamLiteral::Integer(*i),
            toml::Value::Boolean(b) => ParamLiteral::Bool(*b),
            toml::Value::String(t) => ParamLiteral::Text(t.clone()),
            other => {
                return Err(self.err(
                    v.span(),
                    format!("{what} = {other} must be a finite number, an integer, true/false or a string"),
                ));
            }
        })
    }
}
