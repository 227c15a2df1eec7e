//! Loading a scene's plugins: finding each file, admitting it (the verdict `sangam plugin check`
//! gives), checking it against the scene (role, parameters, grants, limits) and adding it to the
//! supervisor. All disk and compile work of a session happens here, before the first tick.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use sangam_plugins::admission;
use sangam_plugins::manifest::Manifest;
use sangam_plugins::package::Package;
use sangam_plugins::signing::{Admission, TrustedKeys};
use sangam_plugins::{EntityTable, Limits, ParamValue, PluginSpec, Role, Supervisor};
use sangam_twin::{EntityId, EntityLink, ParamLiteral, PluginDecl, Scene as TwinScene};

use super::LivePlugin;
use crate::inbox::Message;

/// The environment variable listing extra folders (`:`-separated) where plugin files are looked up.
pub const PLUGIN_PATH_VAR: &str = "SANGAM_PLUGIN_PATH";

/// Finds a plugin file: as given when absolute, else in the scene's folder, then in each folder of
/// `search` (from `SANGAM_PLUGIN_PATH`).
pub fn find_plugin_file(written: &str, base_dir: &Path, search: &[PathBuf]) -> Result<PathBuf> {
    let rel = Path::new(written);
    if rel.is_absolute() {
        return if rel.is_file() { Ok(rel.to_path_buf()) } else { Err(anyhow!("artifact {written} does not exist")) };
    }
    let mut tried = vec![base_dir.join(rel)];
    tried.extend(search.iter().map(|d| d.join(rel)));
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let places: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(anyhow!(
        "artifact \"{written}\" not found (looked in: {}); fix the path, or add the folder holding it to {PLUGIN_PATH_VAR} \
         (plugins built by `cargo xtask build-plugins` are in target/wasm32-wasip2/release)",
        places.join(", ")
    ))
}

/// `SANGAM_PLUGIN_PATH`'s folders, then `plugins/` next to the executable, then the
/// `wasm32-wasip2/release` folder of the cargo target folder the executable was built in (where
/// `cargo xtask build-plugins` puts the repository's plugins).
fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os(PLUGIN_PATH_VAR).map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            dirs.push(dir.join("plugins"));
        }
        // target/debug/sangam or target/debug/deps/<test>: look two levels up.
        for up in exe.ancestors().skip(2).take(2) {
            dirs.push(up.join("wasm32-wasip2").join("release"));
        }
    }
    dirs
}

/// A plugin read, admitted and checked, not yet compiled.
pub(super) struct OpenPlugin {
    pub(super) file: PathBuf,
    pub(super) package: Package,
    pub(super) admission: String,
}

/// Where compiled components are cached: `SANGAM_CACHE_DIR`, else `$XDG_CACHE_HOME/sangam/components`,
/// else `~/.cache/sangam/components`; `None` (compile every run) when none can be named.
pub fn component_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("SANGAM_CACHE_DIR") {
        return Some(dir);
    }
    var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).map(|c| c.join("sangam").join("components"))
}

pub(super) fn open_plugin(twin: &TwinScene, decl: &PluginDecl, trusted: &TrustedKeys) -> Result<OpenPlugin> {
    let file = find_plugin_file(&decl.artifact, &twin.base_dir, &search_path())?;
    let package = match &decl.manifest {
        Some(manifest) => Package::load_with_manifest(&file, manifest)?,
        None => Package::load(&file).map_err(|e| {
            anyhow!(
                "{e}; if this is a bare component, pack it (`sangam plugin pack`) or give manifest = \"plugin.toml\""
            )
        })?,
    };
    let verdict = admission::admit(&package, trusted, twin.plugin_policy.allow_unsigned).map_err(|refusals| {
        let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        anyhow!("`{}` cannot run: {}", package.manifest.id, reasons.join("; "))
    })?;
    let admission = match verdict {
        Admission::Trusted { key_id, key_name } => {
            format!("{} {} signed by trusted key {key_id} ({key_name})", package.manifest.id, package.manifest.version)
        }
        Admission::DevMode { warning } => warning,
    };
    Ok(OpenPlugin { file, package, admission })
}

pub(super) fn start_plugin(
    supervisor: &mut Supervisor,
    twin: &TwinScene,
    decl: &PluginDecl,
    open: OpenPlugin,
) -> Result<(LivePlugin, Option<Message>)> {
    let OpenPlugin { file, package, admission } = open;
    let manifest = &package.manifest;
    let spec = spec_for(twin, decl, manifest)?;
    let entities: Vec<EntityId> = spec.entities.ids.iter().map(|id| EntityId::new(id.clone())).collect();
    let role = manifest.role;
    if decl.feed.is_some() && role != Role::Adapter {
        bail!("feed is for adapters; `{}` is a {role} plugin: remove feed", manifest.id);
    }
    let feed = match &decl.feed {
        Some(path) => {
            let payload = sangam_plugins::package::read_bounded(path)?;
            let source = path.file_name().map_or_else(|| decl.id.clone(), |n| n.to_string_lossy().into_owned());
            Some(Message { source, content_type: String::new(), received: twin.clock.start, payload })
        }
        None => None,
    };
    let step_us = i64::try_from(spec.step.as_micros()).unwrap_or(i64::MAX).max(1);
    if twin.plugin_policy.hot_reload {
        supervisor.add_file(spec, &file)?;
    } else {
        supervisor.add(spec, package.component_bytes())?;
    }
    let plugin = LivePlugin {
        id: decl.id.clone(),
        role,
        entities: entities.into(),
        step_us,
        next_step: twin.clock.start.as_micros(),
        missed_steps: 0,
        overlay: None,
        rasters: Vec::new(),
        admission,
        read: Arc::new(decl.read.clone()),
        access: super::access::PluginAccess::default(),
        pending: Default::default(),
        idle: true,
        adapter_output: None,
        parameters: manifest.parameters.clone(),
    };
    Ok((plugin, feed))
}

/// The host-side spec of a declared plugin: limits from the manifest, parameters checked against it,
/// capabilities granted only where requested, granted entities in scene order.
pub fn spec_for(twin: &TwinScene, decl: &PluginDecl, manifest: &Manifest) -> Result<PluginSpec> {
    let mut spec = PluginSpec::new(decl.id.clone(), manifest.role, manifest.sdk);
    spec.limits = scene_limits(twin, decl, manifest)?;
    let scene_params: Vec<(String, ParamValue)> = decl
        .params
        .iter()
        .map(|(name, v)| {
            let value = match v {
                ParamLiteral::Number(x) => ParamValue::Number(*x),
                ParamLiteral::Integer(i) => ParamValue::Integer(*i),
                ParamLiteral::Bool(b) => ParamValue::Boolean(*b),
                ParamLiteral::Text(t) => ParamValue::Text(t.clone()),
            };
            (name.clone(), value)
        })
        .collect();
    spec.params = manifest.resolve_params(&scene_params)?;
    let requested = manifest.requested_capabilities();
    for g in &decl.grant {
        let (asked, slot) = match g.as_str() {
            "read-data" => (requested.read_data, &mut spec.capabilities.read_data),
            "wall-clock" => (requested.wall_clock, &mut spec.capabilities.wall_clock),
            "random" => (requested.random, &mut spec.capabilities.random),
            "create-entities" => (requested.create_entities, &mut spec.capabilities.create_entities),
            "site-geometry" => (requested.site_geometry, &mut spec.capabilities.site_geometry),
            other => bail!("unknown capability `{other}`"),
        };
        if !asked {
            bail!(
                "grant = [\"{g}\"] but the plugin's manifest does not request {g}; remove it from grant (a scene \
                 grants only what a plugin asked for)"
            );
        }
        *slot = true;
    }
    spec.data_dir = decl.data_dir.clone();
    if let Some(ms) = decl.step_ms {
        spec.step = Duration::from_millis(ms);
    }
    let mut table = EntityTable::default();
    for e in &twin.entities {
        if decl.grants_entity(&e.id, &e.kind) {
            table.push(e.id.as_str(), e.kind.clone(), entity_position(twin, e.link.as_ref()).to_array());
        }
    }
    if manifest.role == Role::Adapter {
        // An adapter writes only what it was granted: the scene's other entities are off limits.
        let foreign: HashSet<String> = twin
            .entities
            .iter()
            .map(|e| e.id.as_str())
            .filter(|id| !table.ids.iter().any(|g| g == id))
            .map(str::to_owned)
            .collect();
        spec.foreign_ids = Arc::new(foreign);
    }
    spec.entities = table;
    if spec.capabilities.site_geometry {
        spec.geometry = Arc::new(super::geometry::site_geometry(twin));
    }
    Ok(spec)
}

/// The manifest's limits, lowered by the scene: `[plugins.limits]` may only lower each (a higher
/// value is an error naming both), and `[plugin_policy] max_call_ms` caps every plugin's time per
/// call (a lowered budget is logged).
pub fn scene_limits(twin: &TwinScene, decl: &PluginDecl, manifest: &Manifest) -> Result<Limits> {
    let mut limits = manifest.limits();
    let asked = &decl.limits;
    let lower = |key: &str, scene: Option<u64>, manifest: u64| -> Result<u64> {
        match scene {
            Some(v) if v > manifest => bail!(
                "[plugins.limits] {key} = {v} is above the manifest's {manifest}; a scene may only lower a plugin's limits"
            ),
            Some(v) => Ok(v),
            None => Ok(manifest),
        }
    };
    limits.memory_bytes = lower("memory-mb", asked.memory_mb, limits.memory_bytes >> 20)? << 20;
    limits.output_bytes = lower("output-mb", asked.output_mb, limits.output_bytes >> 20)? << 20;
    limits.host_calls_per_call =
        lower("host-calls", asked.host_calls, u64::from(limits.host_calls_per_call))?.try_into().unwrap_or(u32::MAX);
    let call_ms = lower("call-ms", asked.call_ms, limits.call_time.as_millis().try_into().unwrap_or(u64::MAX))?;
    let max = twin.plugin_policy.max_call_ms;
    if call_ms > max {
        tracing::info!(
            plugin = %decl.id,
            "the manifest asks for {call_ms} ms per call; the scene's policy allows {max} ms (plugin_policy.max_call_ms)"
        );
    }
    limits.call_time = Duration::from_millis(call_ms.min(max));
    limits.fuel_per_call = match (asked.fuel, limits.fuel_per_call) {
        (Some(v), Some(m)) => Some(lower("fuel", Some(v), m)?),
        (Some(v), None) => Some(v),
        (None, m) => m,
    };
    Ok(limits)
}

/// Where an entity is in the site frame: its placement, instance member, the centroid of its
/// feature's footprint at roof height, or its WGS84 location (the origin when it links to nothing).
pub fn entity_position(twin: &TwinScene, link: Option<&EntityLink>) -> glam::DVec3 {
    match link {
        Some(EntityLink::Placement(id)) => twin.placement(id).map_or(glam::DVec3::ZERO, |p| p.position),
        Some(EntityLink::InstanceMember(group, i)) => twin
            .instance_groups
            .iter()
            .find(|g| &g.id == group)
            .and_then(|g| g.members.get(*i))
            .map_or(glam::DVec3::ZERO, |m| m.position),
        Some(EntityLink::Feature(f)) => {
            twin.layers.iter().find_map(|l| l.buildings_with_id(f).next()).map_or(glam::DVec3::ZERO, |b| {
                let c = b.centroid();
                glam::DVec3::new(c.x, c.y, b.base_m + b.height_m)
            })
        }
        Some(EntityLink::Location(g)) => twin.frame.geodetic_to_enu(g),
        None => glam::DVec3::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_files_are_found_in_the_scene_folder_then_the_search_path() {
        let dir = std::env::temp_dir().join(format!("sangam-find-{}", std::process::id()));
        let (scene_dir, extra) = (dir.join("scene"), dir.join("extra"));
        std::fs::create_dir_all(&scene_dir).unwrap();
        std::fs::create_dir_all(&extra).unwrap();
        std::fs::write(extra.join("p.wasm"), b"x").unwrap();
        assert_eq!(find_plugin_file("p.wasm", &scene_dir, std::slice::from_ref(&extra)).unwrap(), extra.join("p.wasm"));
        std::fs::write(scene_dir.join("p.wasm"), b"y").unwrap();
        assert_eq!(
            find_plugin_file("p.wasm", &scene_dir, std::slice::from_ref(&extra)).unwrap(),
            scene_dir.join("p.wasm")
        );
        let e = find_plugin_file("missing.wasm", &scene_dir, &[extra]).unwrap_err().to_string();
        assert!(e.contains("missing.wasm") && e.contains(PLUGIN_PATH_VAR) && e.contains("looked in"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
