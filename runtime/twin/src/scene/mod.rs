//! The scene file (TOML, `format = 1`): loading, validation and the resolved in-memory model.
//!
//! [`Scene::load`] reads the file, checks the format version, deserializes it with unknown keys
//! rejected, resolves every position into the local ENU frame of the origin, loads the GeoJSON
//! layers, checks every cross-reference and every referenced file, and returns a [`Scene`].
//! Every error is a [`SceneError`] whose message names the scene file, the 1-based line and column
//! and what to do.
//!
//! # Conventions
//!
//! World frame: ENU at the origin, +X east, +Y north, +Z up, metres (`f64`). Model space: +X
//! right, +Y forward, +Z up. The world-from-model transform of a placed model is
//! `T · Rz(-heading) · Rx(pitch) · Ry(roll) · S` (see [`world_from_model`]): heading is clockwise
//! from north seen from above (a model's +Y points north at heading 0 and east at heading 90),
//! positive pitch raises the nose (+Y towards +Z), positive roll lowers the right side (+X towards
//! -Z). glTF assets are Y-up; the renderer's glTF importer already turns them Z-up, so this transform
//! applies to imported models as they are.
//!
//! # Cost
//!
//! Loading parses the text twice with `toml` (the format version first), stats every referenced
//! file once and reads the GeoJSON layers, which dominates; glTF assets are only checked to exist.

use std::path::{Path, PathBuf};

use crate::diagnostic::line_column;
use crate::entity::{Entity, EntityId};
use crate::geo::{EnuFrame, Geodetic};
use crate::geojson::Layer;

// The parts of the load, each in its own file, called by `Cx::resolve` in this order: position
// (the origin), layers, assets, placements (and instance groups), entities, bookmarks, environment,
// plugins (declarations and policy), clock, history. `raw` is the file as written, `values` the
// checks of single values they share, `error` the messages.
mod assets;
mod bookmarks;
mod clock;
mod color_by;
mod entities;
mod environment;
mod error;
mod governance;
mod heatmaps;
mod history;
mod layers;
mod placements;
mod plugins;
mod position;
mod raw;
mod scenarios;
mod sources;
mod values;

pub use assets::Asset;
pub use bookmarks::{Bookmark, BookmarkAim};
pub use clock::{ClockDecl, DEFAULT_APPLY_BUDGET, DEFAULT_CLOCK_STEP};
pub use color_by::{ColorRamp, ColorRule};
pub use environment::Environment;
pub use error::SceneError;
pub use governance::{AggregateOnly, DEFAULT_MIN_GROUP, GovernanceDecl};
pub use heatmaps::HeatmapRule;
pub use history::HistoryDecl;
pub use placements::{InstanceGroup, InstanceMember, Placement, world_from_model};
pub use plugins::{DEFAULT_MAX_CALL_MS, ParamLiteral, PluginDecl, PluginLimitsDecl, PluginPolicy, ReadGrant};
pub use scenarios::{ScenarioDecl, ScenarioValue, split_key as split_scenario_key};
pub use sources::{
    BrokerAddress, FileFormat, MAX_SOURCE_MESSAGE_BYTES, ReplayPace, SourceDecl, SourceKind, TlsFiles,
    UNTIMED_ROWS_PER_MESSAGE, broker_address, is_topic_filter,
};

use raw::{FormatProbe, RawScene};

/// Scene format versions this crate reads.
pub const SUPPORTED_FORMATS: &[i64] = &[1];
/// Largest scene file accepted, in bytes (16 MiB).
pub const MAX_SCENE_BYTES: u64 = 16 * 1024 * 1024;

/// A loaded, validated scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    /// The scene file (as given for messages).
    pub path: PathBuf,
    /// The folder relative paths are resolved against.
    pub base_dir: PathBuf,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Attribution lines to show.
    pub attribution: Vec<String>,
    /// Geodetic origin of the world frame.
    pub origin: Geodetic,
    /// The world frame (ENU at the origin).
    pub frame: EnuFrame,
    /// Lighting and ground.
    pub environment: Environment,
    /// glTF assets.
    pub assets: Vec<Asset>,
    /// Placed assets.
    pub placements: Vec<Placement>,
    /// Instance groups.
    pub instance_groups: Vec<InstanceGroup>,
    /// GeoJSON layers.
    pub layers: Vec<Layer>,
    /// Entities with their initial properties.
    pub entities: Vec<Entity>,
    /// Camera bookmarks.
    pub bookmarks: Vec<Bookmark>,
    /// Plugins to run.
    pub plugins: Vec<PluginDecl>,
    /// Where live data comes from, and the adapter each feeds (`[[sources]]`).
    pub sources: Vec<SourceDecl>,
    /// How plugins are admitted.
    pub plugin_policy: PluginPolicy,
    /// The session clock (`[clock]`).
    pub clock: ClockDecl,
    /// The history store's budget (`[history]`).
    pub history: HistoryDecl,
    /// Data governance (`[governance]`): aggregate-only properties.
    pub governance: GovernanceDecl,
    /// Entities coloured by a live value (`[[color_by]]`).
    pub color_by: Vec<ColorRule>,
    /// Simulations' maps drawn over the site (`[[heatmaps]]`).
    pub heatmaps: Vec<HeatmapRule>,
    /// Named sets of plugin parameter values (`[[scenarios]]`).
    pub scenarios: Vec<ScenarioDecl>,
    /// How labels are sized (`[labels]`).
    pub labels: LabelsDecl,
    /// Non-fatal problems found while loading (`file:line:column: message`). Layer feature
    /// warnings are in each [`Layer::warnings`].
    pub warnings: Vec<String>,
}

/// `[labels]`: how the site's labels (plugins' and live values') are sized on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LabelsDecl {
    /// Every such label one line this many pixels tall at any distance (4 to 256); `None`: each its
    /// own height in metres, smaller with distance.
    pub screen_px: Option<f32>,
}

impl Scene {
    /// Reads and validates a scene file (at most [`MAX_SCENE_BYTES`]); relative paths are resolved
    /// against its folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Scene, SceneError> {
        let path = path.as_ref();
        let io = |source| SceneError::Io { path: path.to_path_buf(), source };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_SCENE_BYTES {
            return Err(SceneError::TooLarge { path: path.to_path_buf(), size, limit: MAX_SCENE_BYTES });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        Scene::from_str(&text, path, &base)
    }

    /// Parses and validates scene text. `path` names the file in messages; relative paths in the
    /// scene are resolved against `base_dir`.
    pub fn from_str(text: &str, path: &Path, base_dir: &Path) -> Result<Scene, SceneError> {
        if text.len() as u64 > MAX_SCENE_BYTES {
            return Err(SceneError::TooLarge {
                path: path.to_path_buf(),
                size: text.len() as u64,
                limit: MAX_SCENE_BYTES,
            });
        }
        let cx = Cx { path, text, base_dir };
        cx.check_format()?;
        let raw: RawScene = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;
        cx.resolve(raw)
    }

    /// An asset by id.
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    /// A placement by id.
    pub fn placement(&self, id: &str) -> Option<&Placement> {
        self.placements.iter().find(|p| p.id == id)
    }

    /// An entity by id.
    pub fn entity(&self, id: &EntityId) -> Option<&Entity> {
        self.entities.iter().find(|e| &e.id == id)
    }

    /// The roof height of a building feature in any layer.
    pub fn roof_height(&self, feature_id: &str) -> Option<f64> {
        self.layers.iter().find_map(|l| l.roof_height(feature_id))
    }
}

/// Loading context: the file for messages and the folder for relative paths.
struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
    base_dir: &'a Path,
}

impl Cx<'_> {
    fn check_format(&self) -> Result<(), SceneError> {
        let probe: FormatProbe = toml::from_str(self.text).map_err(|e| self.toml_error(&e))?;
        let Some(format) = probe.format else {
            return Err(self.err(0..0, "missing required key `format`; add `format = 1` at the top of the file"));
        };
        if format.get_ref().as_integer() == Some(1) {
            return Ok(());
        }
        let (line, column) = line_column(self.text, format.span().start);
        Err(SceneError::UnsupportedFormat {
            path: self.path.to_path_buf(),
            line,
            column,
            found: format.get_ref().to_string(),
        })
    }

    /// The whole load after parsing, one part at a time, in the order the parts depend on each other.
    fn resolve(&self, raw: RawScene) -> Result<Scene, SceneError> {
        let mut warnings = Vec::new();
        if raw.name.get_ref().trim().is_empty() {
            return Err(self.err(raw.name.span(), "name must not be empty"));
        }
        let origin = self.origin(raw.origin.get_ref())?;
        let frame = EnuFrame::new(origin);
        // Layers first: positions may sit on their roofs.
        let layers = self.layers(&raw.layers, &frame)?;
        let assets = self.assets(&raw.assets)?;
        let placements = self.placements(&raw.placements, &assets, &frame, &layers)?;
        let instance_groups = self.instance_groups(&raw.instances, &assets, &frame, &layers, &mut warnings)?;
        self.check_member_names(&raw.placements, &placements, &instance_groups)?;
        let entities = self.entities(&raw.entities, &placements, &instance_groups, &layers, &mut warnings)?;
        let bookmarks = self.bookmarks(&raw.bookmarks, &frame, &layers)?;
        let environment = self.environment(raw.environment.as_ref(), &layers, &placements, &instance_groups)?;
        let plugins = self.plugins(&raw.plugins, &entities)?;
        let sources = self.sources(&raw.sources, &plugins)?;
        let plugin_policy = self.plugin_policy(raw.plugin_policy.as_ref())?;
        let clock = self.clock(raw.clock.as_ref())?;
        let history = self.history(raw.history.as_ref())?;
        let governance = self.governance(raw.governance.as_ref(), &entities)?;
        let color_by = self.color_rules(&raw.color_by)?;
        let labels = match raw.labels.as_ref().and_then(|l| l.screen_px.as_ref()) {
            None => LabelsDecl::default(),
            Some(px) if (4.0..=256.0).contains(px.get_ref()) => LabelsDecl { screen_px: Some(*px.get_ref() as f32) },
            Some(px) => {
                return Err(self.err(px.span(), "labels: screen_px is a text height in pixels, 4 to 256 (e.g. 16)"));
            }
        };
        let heatmaps = self.heatmap_rules(&raw.heatmaps, &plugins)?;
        let scenarios = self.scenarios(&raw.scenarios, &plugins)?;

        Ok(Scene {
            path: self.path.to_path_buf(),
            base_dir: self.base_dir.to_path_buf(),
            name: raw.name.into_inner(),
            description: raw.description,
            attribution: raw.attribution.unwrap_or_default(),
            origin,
            frame,
            environment,
            assets,
            placements,
            instance_groups,
            layers,
            entities,
            bookmarks,
            plugins,
            sources,
            plugin_policy,
            clock,
            history,
            governance,
            color_by,
            heatmaps,
            labels,
            scenarios,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests;
