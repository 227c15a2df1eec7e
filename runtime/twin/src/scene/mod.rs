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

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use glam::{DMat4, DVec3};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_spanned::Spanned;
use thiserror::Error;

use crate::diagnostic::{line_column, toml_diagnostic};
use crate::entity::{Entity, EntityId, EntityLink, is_valid_kind};
use crate::geo::{EnuFrame, Geodetic};
use crate::geojson::{BuildingOptions, GeoJsonError, Layer, LayerOptions, RoadOptions};
use crate::property::{PropertyValue, Unit};

mod clock;
mod history;
pub use clock::{ClockDecl, DEFAULT_CLOCK_STEP};
pub use history::HistoryDecl;

/// Scene format versions this crate reads.
pub const SUPPORTED_FORMATS: &[i64] = &[1];
/// Largest scene file accepted, in bytes (16 MiB).
pub const MAX_SCENE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a scene could not be loaded.
#[derive(Debug, Error)]
pub enum SceneError {
    /// The scene file could not be read.
    #[error("cannot read scene file {path}: {source}; check the path and permissions")]
    Io {
        /// The scene file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The scene file is over [`MAX_SCENE_BYTES`].
    #[error(
        "scene file {path} is {size} bytes, over the limit of {limit} bytes (16 MiB); keep bulk data in \
         GeoJSON layers and glTF assets referenced from the scene"
    )]
    TooLarge {
        /// The scene file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// TOML syntax error, unknown key, wrong type or missing required key.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// `format` is not a supported version.
    #[error(
        "{path}:{line}:{column}: unsupported scene format {found}; this version reads format 1 \
         (supported: {supported}); set `format = 1` or use a newer Sangam",
        supported = SUPPORTED_FORMATS.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )]
    UnsupportedFormat {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The value found.
        found: String,
    },
    /// A value is well-typed but not valid (coordinates, ids, references, ranges).
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// A referenced file or folder does not exist.
    #[error(
        "{path}:{line}:{column}: `{key}` file not found: {resolved} (paths are relative to the scene \
         file's folder); fix the path or add the file"
    )]
    MissingFile {
        /// The scene file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// 1-based column of the key's value.
        column: usize,
        /// The key (`gltf`, `geojson`, or a plugin's `manifest`, `feed`, `data`, `trusted_keys`).
        key: &'static str,
        /// The resolved path that does not exist.
        resolved: PathBuf,
    },
    /// A GeoJSON layer could not be loaded.
    #[error("{path}:{line}:{column}: layer `{layer}`: {source}")]
    Layer {
        /// The scene file.
        path: PathBuf,
        /// 1-based line of the layer's `geojson` key.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The layer id.
        layer: String,
        /// The cause.
        source: Box<GeoJsonError>,
    },
}

impl SceneError {
    /// The 1-based (line, column) in the scene file, when the error has one.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            SceneError::Io { .. } | SceneError::TooLarge { .. } => None,
            SceneError::Syntax { line, column, .. }
            | SceneError::UnsupportedFormat { line, column, .. }
            | SceneError::Invalid { line, column, .. }
            | SceneError::MissingFile { line, column, .. }
            | SceneError::Layer { line, column, .. } => Some((*line, *column)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The resolved model.

/// Lighting and ground, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Sun azimuth, degrees clockwise from north (default 135).
    pub sun_azimuth_deg: f64,
    /// Sun elevation, degrees above the horizon (default 50).
    pub sun_elevation_deg: f64,
    /// Whether to draw a ground plane (default true).
    pub ground: bool,
    /// Ground colour, linear RGB (default [0.42, 0.45, 0.38]).
    pub ground_color: [f32; 3],
    /// Half-size of the ground square, metres (default: the extent of layers and placements + 200 m).
    pub ground_extent_m: f64,
    /// Sky colour, linear RGB (default [0.55, 0.70, 0.90]).
    pub sky_color: [f32; 3],
}

impl Environment {
    /// Unit ENU vector pointing from the ground towards the sun.
    pub fn sun_direction(&self) -> DVec3 {
        let (sa, ca) = self.sun_azimuth_deg.to_radians().sin_cos();
        let (se, ce) = self.sun_elevation_deg.to_radians().sin_cos();
        DVec3::new(sa * ce, ca * ce, se)
    }
}

/// A glTF asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Unique id.
    pub id: String,
    /// Absolute path of the `.gltf` / `.glb` file (checked to exist at load time).
    pub path: PathBuf,
    /// Illustrative, not surveyed data.
    pub illustrative: bool,
    /// Free note.
    pub note: Option<String>,
}

/// One placed asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Unique id.
    pub id: String,
    /// Index into [`Scene::assets`].
    pub asset: usize,
    /// Position, ENU metres.
    pub position: DVec3,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
    /// Pitch, degrees (nose up positive).
    pub pitch_deg: f64,
    /// Roll, degrees (right side down positive).
    pub roll_deg: f64,
    /// Scale per model axis.
    pub scale: DVec3,
    /// The building whose roof the placement sits on, if any.
    pub on_roof: Option<String>,
}

impl Placement {
    /// World-from-model transform; see [`world_from_model`].
    pub fn world_from_model(&self) -> DMat4 {
        world_from_model(self.position, self.heading_deg, self.pitch_deg, self.roll_deg, self.scale)
    }
}

/// One member of an instance group.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceMember {
    /// Position, ENU metres.
    pub position: DVec3,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
    /// Scale per model axis.
    pub scale: DVec3,
}

impl InstanceMember {
    /// World-from-model transform (no pitch or roll); see [`world_from_model`].
    pub fn world_from_model(&self) -> DMat4 {
        world_from_model(self.position, self.heading_deg, 0.0, 0.0, self.scale)
    }
}

/// Many copies of one asset.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceGroup {
    /// Unique id; members are named `<id>/<index>`.
    pub id: String,
    /// Index into [`Scene::assets`].
    pub asset: usize,
    /// The members, in file order.
    pub members: Vec<InstanceMember>,
}

/// Where a bookmark looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BookmarkAim {
    /// Look at this ENU point.
    Target(DVec3),
    /// Look along this unit ENU direction (from `heading` and `pitch`).
    Direction(DVec3),
}

/// A camera bookmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    /// Unique name.
    pub name: String,
    /// Eye position, ENU metres.
    pub eye: DVec3,
    /// Where it looks.
    pub aim: BookmarkAim,
    /// Vertical field of view, degrees (default 60).
    pub fov_y_deg: f64,
}

impl Bookmark {
    /// The unit forward direction.
    pub fn forward(&self) -> DVec3 {
        match self.aim {
            BookmarkAim::Target(t) => (t - self.eye).normalize(),
            BookmarkAim::Direction(d) => d,
        }
    }

    /// A point looked at: the target, or a point 1 m ahead.
    pub fn target(&self) -> DVec3 {
        match self.aim {
            BookmarkAim::Target(t) => t,
            BookmarkAim::Direction(d) => self.eye + d,
        }
    }
}

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
    /// Where the `[[plugins]]` table is: `file:line:column`.
    pub location: String,
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
    /// How plugins are admitted.
    pub plugin_policy: PluginPolicy,
    /// The session clock (`[clock]`).
    pub clock: ClockDecl,
    /// The history store's budget (`[history]`).
    pub history: HistoryDecl,
    /// Non-fatal problems found while loading (`file:line:column: message`). Layer feature
    /// warnings are in each [`Layer::warnings`].
    pub warnings: Vec<String>,
}

/// World-from-model transform `T · Rz(-heading) · Rx(pitch) · Ry(roll) · S`, angles in degrees.
///
/// Heading is clockwise from north about +Z; pitch is about the model's +X (nose up positive),
/// roll about the model's +Y (right side down positive).
pub fn world_from_model(position: DVec3, heading_deg: f64, pitch_deg: f64, roll_deg: f64, scale: DVec3) -> DMat4 {
    DMat4::from_translation(position)
        * DMat4::from_rotation_z(-heading_deg.to_radians())
        * DMat4::from_rotation_x(pitch_deg.to_radians())
        * DMat4::from_rotation_y(roll_deg.to_radians())
        * DMat4::from_scale(scale)
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

// ---------------------------------------------------------------------------------------------
// Raw (file) types.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScene {
    #[allow(dead_code)] // checked by `check_format`
    format: toml::Value,
    name: Spanned<String>,
    description: Option<String>,
    attribution: Option<Vec<String>>,
    origin: Spanned<RawOrigin>,
    environment: Option<RawEnvironment>,
    #[serde(default)]
    assets: Vec<Spanned<RawAsset>>,
    #[serde(default)]
    placements: Vec<Spanned<RawPlacement>>,
    #[serde(default)]
    instances: Vec<Spanned<RawInstances>>,
    #[serde(default)]
    layers: Vec<Spanned<RawLayer>>,
    #[serde(default)]
    entities: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    bookmarks: Vec<Spanned<RawBookmark>>,
    #[serde(default)]
    plugins: Vec<Spanned<RawPlugin>>,
    plugin_policy: Option<RawPluginPolicy>,
    clock: Option<clock::RawClock>,
    history: Option<history::RawHistory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    id: Spanned<String>,
    artifact: Spanned<String>,
    manifest: Option<Spanned<String>>,
    #[serde(default)]
    entities: Vec<Spanned<String>>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    #[serde(default)]
    grant: Vec<Spanned<String>>,
    data: Option<Spanned<String>>,
    feed: Option<Spanned<String>>,
    step_ms: Option<Spanned<i64>>,
    params: Option<BTreeMap<String, Spanned<toml::Value>>>,
    limits: Option<RawPluginLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPluginLimits {
    memory_mb: Option<Spanned<i64>>,
    call_ms: Option<Spanned<i64>>,
    fuel: Option<Spanned<i64>>,
    output_mb: Option<Spanned<i64>>,
    host_calls: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginPolicy {
    allow_unsigned: Option<bool>,
    #[serde(default)]
    trusted_keys: Vec<Spanned<String>>,
    hot_reload: Option<bool>,
    max_call_ms: Option<Spanned<i64>>,
    reenable_after_s: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
struct FormatProbe {
    format: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrigin {
    lat: Spanned<f64>,
    lon: Spanned<f64>,
    alt: Option<Spanned<f64>>,
}

type Color = Spanned<[f64; 3]>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    sun_azimuth: Option<Spanned<f64>>,
    sun_elevation: Option<Spanned<f64>>,
    ground: Option<bool>,
    ground_color: Option<Color>,
    ground_extent: Option<Spanned<f64>>,
    sky_color: Option<Color>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    id: Spanned<String>,
    gltf: Spanned<String>,
    illustrative: Option<bool>,
    note: Option<String>,
}

/// A scale: one number or `[x, y, z]`.
struct Scale3(DVec3);

impl<'de> Deserialize<'de> for Scale3 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scale3;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or an array of three numbers [x, y, z]")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v as f64)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scale3, A::Error> {
                let mut v = [0.0; 3];
                for (i, slot) in v.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<f64>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(Scale3(DVec3::from_array(v)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlacement {
    id: Spanned<String>,
    asset: Spanned<String>,
    lat: Option<Spanned<f64>>,
    lon: Option<Spanned<f64>>,
    alt: Option<Spanned<f64>>,
    enu: Option<Spanned<[f64; 3]>>,
    on_roof: Option<Spanned<String>>,
    heading: Option<Spanned<f64>>,
    pitch: Option<Spanned<f64>>,
    roll: Option<Spanned<f64>>,
    scale: Option<Spanned<Scale3>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstances {
    id: Spanned<String>,
    asset: Spanned<String>,
    heading: Option<Spanned<f64>>,
    scale: Option<Spanned<Scale3>>,
    points: Vec<Spanned<RawPoint>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    lat: Option<Spanned<f64>>,
    lon: Option<Spanned<f64>>,
    alt: Option<Spanned<f64>>,
    enu: Option<Spanned<[f64; 3]>>,
    on_roof: Option<Spanned<String>>,
    heading: Option<Spanned<f64>>,
    scale: Option<Spanned<Scale3>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPos {
    lat: Option<Spanned<f64>>,
    lon: Option<Spanned<f64>>,
    alt: Option<Spanned<f64>>,
    enu: Option<Spanned<[f64; 3]>>,
    on_roof: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    id: Spanned<String>,
    geojson: Spanned<String>,
    attribution: Option<String>,
    buildings: Option<RawBuildings>,
    roads: Option<RawRoads>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuildings {
    default_height: Option<Spanned<f64>>,
    storey_height: Option<Spanned<f64>>,
    color: Option<Color>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoads {
    color: Option<Color>,
    widths: Option<BTreeMap<String, Spanned<f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: Spanned<String>,
    kind: Spanned<String>,
    name: Option<String>,
    placement: Option<Spanned<String>>,
    feature: Option<Spanned<String>>,
    properties: Option<BTreeMap<String, Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBookmark {
    name: Spanned<String>,
    eye: Spanned<RawPos>,
    target: Option<Spanned<RawPos>>,
    heading: Option<Spanned<f64>>,
    pitch: Option<Spanned<f64>>,
    fov_y: Option<Spanned<f64>>,
}

/// The position keys of any table that holds a position.
struct PosKeys<'a> {
    lat: Option<&'a Spanned<f64>>,
    lon: Option<&'a Spanned<f64>>,
    alt: Option<&'a Spanned<f64>>,
    enu: Option<&'a Spanned<[f64; 3]>>,
    on_roof: Option<&'a Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Resolution.

/// Loading context: the file for messages and the folder for relative paths.
struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
    base_dir: &'a Path,
}

/// A short list of ids for messages.
fn list(ids: impl Iterator<Item = impl AsRef<str>>) -> String {
    let mut v: Vec<String> = ids.take(21).map(|s| format!("`{}`", s.as_ref())).collect();
    if v.is_empty() {
        return "none".to_string();
    }
    if v.len() > 20 {
        v.truncate(20);
        v.push("...".to_string());
    }
    v.join(", ")
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> SceneError {
        let (line, column) = line_column(self.text, span.start);
        SceneError::Invalid { path: self.path.to_path_buf(), line, column, message: message.into() }
    }

    fn at(&self, span: Range<usize>) -> String {
        let (line, column) = line_column(self.text, span.start);
        format!("{}:{line}:{column}", self.path.display())
    }

    fn toml_error(&self, e: &toml::de::Error) -> SceneError {
        let d = toml_diagnostic(self.text, e, "docs/scene-format.md");
        SceneError::Syntax { path: self.path.to_path_buf(), line: d.line, column: d.column, message: d.message }
    }

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

    fn resolve_path(&self, rel: &str) -> PathBuf {
        let joined = self.base_dir.join(rel);
        std::path::absolute(&joined).unwrap_or(joined)
    }

    fn finite(&self, v: &Spanned<f64>, what: &str) -> Result<f64, SceneError> {
        let x = *v.get_ref();
        if x.is_finite() { Ok(x) } else { Err(self.err(v.span(), format!("{what} must be a finite number, not {x}"))) }
    }

    fn angle(&self, v: Option<&Spanned<f64>>, what: &str, default: f64) -> Result<f64, SceneError> {
        v.map_or(Ok(default), |v| self.finite(v, what))
    }

    fn color(&self, v: Option<&Color>, what: &str, default: [f32; 3]) -> Result<[f32; 3], SceneError> {
        let Some(v) = v else { return Ok(default) };
        let c = v.get_ref();
        if c.iter().all(|x| x.is_finite() && *x >= 0.0) {
            Ok(c.map(|x| x as f32))
        } else {
            Err(self.err(v.span(), format!("{what} must be three linear RGB numbers >= 0, e.g. [0.8, 0.77, 0.72]")))
        }
    }

    fn positive(&self, v: Option<&Spanned<f64>>, what: &str, default: f64) -> Result<f64, SceneError> {
        let Some(v) = v else { return Ok(default) };
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(self.err(v.span(), format!("{what} must be a number of metres > 0, not {x}")))
        }
    }

    fn scale(&self, v: Option<&Spanned<Scale3>>, default: DVec3) -> Result<DVec3, SceneError> {
        let Some(v) = v else { return Ok(default) };
        let s = v.get_ref().0;
        if s.is_finite() && s.min_element() > 0.0 {
            Ok(s)
        } else {
            Err(self
                .err(v.span(), format!("scale must be positive and finite (got {s}); use 1.0 for the model's size")))
        }
    }

    fn unique(&self, seen: &mut HashSet<String>, id: &Spanned<String>, what: &str) -> Result<(), SceneError> {
        if id.get_ref().is_empty() {
            return Err(self.err(id.span(), format!("{what} id must not be empty")));
        }
        if !seen.insert(id.get_ref().clone()) {
            return Err(self.err(id.span(), format!("duplicate {what} id `{}`; ids must be unique", id.get_ref())));
        }
        Ok(())
    }

    fn geodetic(&self, lat: &Spanned<f64>, lon: &Spanned<f64>, alt: f64) -> Result<Geodetic, SceneError> {
        let (la, lo) = (*lat.get_ref(), *lon.get_ref());
        if !(la.is_finite() && (-90.0..=90.0).contains(&la)) {
            return Err(self.err(lat.span(), format!("lat = {la} is out of range; latitude is degrees in -90..90")));
        }
        if !(lo.is_finite() && (-180.0..=180.0).contains(&lo)) {
            return Err(self.err(lon.span(), format!("lon = {lo} is out of range; longitude is degrees in -180..180")));
        }
        Geodetic::new(la, lo, alt).map_err(|e| self.err(lat.span(), e.to_string()))
    }

    /// Resolves a position (geodetic or ENU, optionally on a roof) to ENU.
    fn position(
        &self,
        what: &str,
        p: PosKeys<'_>,
        span: Range<usize>,
        frame: &EnuFrame,
        layers: &[Layer],
    ) -> Result<DVec3, SceneError> {
        let mut enu = match (p.lat, p.lon, p.enu) {
            (Some(_), _, Some(e)) | (_, Some(_), Some(e)) => {
                return Err(self.err(e.span(), format!("{what}: give either lat/lon or enu = [e, n, u], not both")));
            }
            (Some(lat), Some(lon), None) => {
                let alt = match p.alt {
                    Some(a) => self.finite(a, "alt")?,
                    None => frame.origin().alt_m,
                };
                let g = self.geodetic(lat, lon, alt)?;
                let mut v = frame.geodetic_to_enu(&g);
                if p.alt.is_none() {
                    v.z = 0.0; // on the ground plane
                }
                v
            }
            (Some(l), None, None) | (None, Some(l), None) => {
                return Err(self.err(l.span(), format!("{what}: a geodetic position needs both lat and lon")));
            }
            (None, None, Some(e)) => {
                if let Some(a) = p.alt {
                    return Err(self.err(
                        a.span(),
                        format!("{what}: alt goes with lat/lon; with enu give the height as the third component"),
                    ));
                }
                let v = DVec3::from_array(*e.get_ref());
                if !v.is_finite() {
                    return Err(self.err(e.span(), format!("{what}: enu must be three finite numbers of metres")));
                }
                v
            }
            (None, None, None) => {
                return Err(self.err(
                    span,
                    format!("{what}: no position; give lat = .., lon = .. (optional alt) or enu = [e, n, u]"),
                ));
            }
        };
        if let Some(roof) = p.on_roof {
            if let Some(a) = p.alt {
                return Err(self.err(
                    a.span(),
                    format!("{what}: alt cannot be combined with on_roof; use enu = [e, n, u] with u as the offset"),
                ));
            }
            let Some(h) = layers.iter().find_map(|l| l.roof_height(roof.get_ref())) else {
                return Err(self.err(
                    roof.span(),
                    format!(
                        "{what}: on_roof = \"{}\" names no building in the layers ({}); use a building's feature id such as \"way/123\"",
                        roof.get_ref(),
                        list(layers.iter().map(|l| &l.id))
                    ),
                ));
            };
            enu.z += h;
        }
        Ok(enu)
    }

    fn asset_index(&self, assets: &[Asset], id: &Spanned<String>) -> Result<usize, SceneError> {
        assets.iter().position(|a| &a.id == id.get_ref()).ok_or_else(|| {
            self.err(
                id.span(),
                format!(
                    "unknown asset `{}`; declare it in an [[assets]] table first (known assets: {})",
                    id.get_ref(),
                    list(assets.iter().map(|a| &a.id))
                ),
            )
        })
    }

    fn resolve(&self, raw: RawScene) -> Result<Scene, SceneError> {
        let mut warnings = Vec::new();
        if raw.name.get_ref().trim().is_empty() {
            return Err(self.err(raw.name.span(), "name must not be empty"));
        }
        // Origin and frame.
        let o = raw.origin.get_ref();
        let alt = match &o.alt {
            Some(a) => self.finite(a, "origin alt")?,
            None => 0.0,
        };
        let origin = self.geodetic(&o.lat, &o.lon, alt)?;
        let frame = EnuFrame::new(origin);

        // Layers first: positions may sit on their roofs.
        let mut seen = HashSet::new();
        let mut layers = Vec::new();
        for rl in &raw.layers {
            let rl = rl.get_ref();
            self.unique(&mut seen, &rl.id, "layer")?;
            let defaults = LayerOptions::default();
            let b = rl.buildings.as_ref();
            let r = rl.roads.as_ref();
            let mut widths = BTreeMap::new();
            for (class, w) in r.and_then(|r| r.widths.as_ref()).into_iter().flatten() {
                widths.insert(class.clone(), self.positive(Some(w), &format!("road width for `{class}`"), 1.0)?);
            }
            let options = LayerOptions {
                buildings: BuildingOptions {
                    default_height_m: self.positive(
                        b.and_then(|b| b.default_height.as_ref()),
                        "default_height",
                        defaults.buildings.default_height_m,
                    )?,
                    storey_height_m: self.positive(
                        b.and_then(|b| b.storey_height.as_ref()),
                        "storey_height",
                        defaults.buildings.storey_height_m,
                    )?,
                    color: self.color(b.and_then(|b| b.color.as_ref()), "buildings color", defaults.buildings.color)?,
                },
                roads: RoadOptions {
                    widths,
                    color: self.color(r.and_then(|r| r.color.as_ref()), "roads color", defaults.roads.color)?,
                },
            };
            let file = self.resolve_path(rl.geojson.get_ref());
            let (line, column) = line_column(self.text, rl.geojson.span().start);
            if !file.is_file() {
                return Err(SceneError::MissingFile {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    key: "geojson",
                    resolved: file,
                });
            }
            let mut layer =
                Layer::load(rl.id.get_ref(), &file, &frame, options).map_err(|source| SceneError::Layer {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    layer: rl.id.get_ref().clone(),
                    source: Box::new(source),
                })?;
            layer.attribution = rl.attribution.clone();
            layers.push(layer);
        }

        // Assets.
        let mut seen = HashSet::new();
        let mut assets = Vec::new();
        for ra in &raw.assets {
            let ra = ra.get_ref();
            self.unique(&mut seen, &ra.id, "asset")?;
            let rel = ra.gltf.get_ref();
            let lower = rel.to_ascii_lowercase();
            if !(lower.ends_with(".gltf") || lower.ends_with(".glb")) {
                return Err(self.err(ra.gltf.span(), format!("gltf = \"{rel}\" must name a .gltf or .glb file")));
            }
            let file = self.resolve_path(rel);
            if !file.is_file() {
                let (line, column) = line_column(self.text, ra.gltf.span().start);
                return Err(SceneError::MissingFile {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    key: "gltf",
                    resolved: file,
                });
            }
            assets.push(Asset {
                id: ra.id.get_ref().clone(),
                path: file,
                illustrative: ra.illustrative.unwrap_or(false),
                note: ra.note.clone(),
            });
        }

        // Placements.
        let mut seen = HashSet::new();
        let mut placements = Vec::new();
        for sp in &raw.placements {
            let rp = sp.get_ref();
            self.unique(&mut seen, &rp.id, "placement")?;
            let what = format!("placement `{}`", rp.id.get_ref());
            let keys = PosKeys {
                lat: rp.lat.as_ref(),
                lon: rp.lon.as_ref(),
                alt: rp.alt.as_ref(),
                enu: rp.enu.as_ref(),
                on_roof: rp.on_roof.as_ref(),
            };
            placements.push(Placement {
                id: rp.id.get_ref().clone(),
                asset: self.asset_index(&assets, &rp.asset)?,
                position: self.position(&what, keys, sp.span(), &frame, &layers)?,
                heading_deg: self.angle(rp.heading.as_ref(), "heading", 0.0)?,
                pitch_deg: self.angle(rp.pitch.as_ref(), "pitch", 0.0)?,
                roll_deg: self.angle(rp.roll.as_ref(), "roll", 0.0)?,
                scale: self.scale(rp.scale.as_ref(), DVec3::ONE)?,
                on_roof: rp.on_roof.as_ref().map(|r| r.get_ref().clone()),
            });
        }

        // Instance groups.
        let mut seen = HashSet::new();
        let mut instance_groups = Vec::new();
        for sg in &raw.instances {
            let rg = sg.get_ref();
            self.unique(&mut seen, &rg.id, "instance group")?;
            let asset = self.asset_index(&assets, &rg.asset)?;
            let heading = self.angle(rg.heading.as_ref(), "heading", 0.0)?;
            let scale = self.scale(rg.scale.as_ref(), DVec3::ONE)?;
            if rg.points.is_empty() {
                warnings.push(format!("{}: instance group `{}` has no points", self.at(sg.span()), rg.id.get_ref()));
            }
            let mut members = Vec::with_capacity(rg.points.len());
            for (i, spt) in rg.points.iter().enumerate() {
                let pt = spt.get_ref();
                let what = format!("instance `{}/{i}`", rg.id.get_ref());
                let keys = PosKeys {
                    lat: pt.lat.as_ref(),
                    lon: pt.lon.as_ref(),
                    alt: pt.alt.as_ref(),
                    enu: pt.enu.as_ref(),
                    on_roof: pt.on_roof.as_ref(),
                };
                members.push(InstanceMember {
                    position: self.position(&what, keys, spt.span(), &frame, &layers)?,
                    heading_deg: self.angle(pt.heading.as_ref(), "heading", heading)?,
                    scale: self.scale(pt.scale.as_ref(), scale)?,
                });
            }
            instance_groups.push(InstanceGroup { id: rg.id.get_ref().clone(), asset, members });
        }
        // A placement id that is also an instance member name would make entity links ambiguous.
        for (sp, p) in raw.placements.iter().zip(&placements) {
            if let Some((g, i)) = p.id.rsplit_once('/')
                && instance_groups.iter().any(|ig| ig.id == g && i.parse::<usize>().is_ok_and(|i| i < ig.members.len()))
            {
                return Err(self.err(
                    sp.get_ref().id.span(),
                    format!("placement id `{}` is also the name of an instance member; rename the placement", p.id),
                ));
            }
        }

        // Entities.
        let mut seen = HashSet::new();
        let mut entities = Vec::new();
        for se in &raw.entities {
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
                (Some(p), None) => Some(self.placement_link(p, &placements, &instance_groups)?),
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
                properties.insert(name.clone(), self.property(name, v, &mut warnings)?);
            }
            entities.push(Entity {
                id: EntityId::new(re.id.get_ref().clone()),
                kind: kind.clone(),
                name: re.name.clone(),
                link,
                properties,
            });
        }

        // Bookmarks.
        let mut seen = HashSet::new();
        let mut bookmarks = Vec::new();
        for sb in &raw.bookmarks {
            let rb = sb.get_ref();
            self.unique(&mut seen, &rb.name, "bookmark")?;
            let what = format!("bookmark `{}`", rb.name.get_ref());
            let eye = self.pos(&format!("{what} eye"), &rb.eye, &frame, &layers)?;
            let aim = match (&rb.target, &rb.heading, &rb.pitch) {
                (Some(t), None, None) => {
                    let target = self.pos(&format!("{what} target"), t, &frame, &layers)?;
                    if (target - eye).length() < 1e-6 {
                        return Err(self.err(t.span(), format!("{what}: the target is at the eye; move one of them")));
                    }
                    BookmarkAim::Target(target)
                }
                (None, Some(h), Some(p)) => {
                    let h = self.finite(h, "heading")?.to_radians();
                    let pv = self.finite(p, "pitch")?;
                    if !(-90.0..=90.0).contains(&pv) {
                        return Err(self.err(p.span(), format!("{what}: pitch {pv} must be in -90..90 degrees")));
                    }
                    let pr = pv.to_radians();
                    BookmarkAim::Direction(DVec3::new(h.sin() * pr.cos(), h.cos() * pr.cos(), pr.sin()))
                }
                (Some(t), _, _) => {
                    return Err(self.err(t.span(), format!("{what}: give either target or heading + pitch, not both")));
                }
                (None, _, _) => {
                    return Err(self.err(
                        sb.span(),
                        format!("{what}: needs a target = {{ enu = [e, n, u] }} or both heading and pitch"),
                    ));
                }
            };
            let fov = match &rb.fov_y {
                Some(f) => {
                    let v = *f.get_ref();
                    if !(v.is_finite() && v > 0.0 && v < 180.0) {
                        return Err(
                            self.err(f.span(), format!("{what}: fov_y {v} must be in degrees, between 0 and 180"))
                        );
                    }
                    v
                }
                None => 60.0,
            };
            bookmarks.push(Bookmark { name: rb.name.get_ref().clone(), eye, aim, fov_y_deg: fov });
        }

        // Environment.
        let env = raw.environment.as_ref();
        let sun_elevation = self.angle(env.and_then(|e| e.sun_elevation.as_ref()), "sun_elevation", 50.0)?;
        if !(-90.0..=90.0).contains(&sun_elevation) {
            let s = env.and_then(|e| e.sun_elevation.as_ref()).map_or(0..0, Spanned::span);
            return Err(self.err(s, format!("sun_elevation {sun_elevation} must be in -90..90 degrees")));
        }
        let ground_extent_m = match env.and_then(|e| e.ground_extent.as_ref()) {
            Some(g) => self.positive(Some(g), "ground_extent", 1.0)?,
            None => {
                let mut r: f64 = 0.0;
                for l in &layers {
                    if let Some((lo, hi)) = l.bounds() {
                        r = r.max(lo.abs().max_element()).max(hi.abs().max_element());
                    }
                }
                let positions = placements
                    .iter()
                    .map(|p| p.position)
                    .chain(instance_groups.iter().flat_map(|g| g.members.iter().map(|m| m.position)));
                for p in positions {
                    r = r.max(p.x.abs()).max(p.y.abs());
                }
                r + 200.0
            }
        };
        let environment = Environment {
            sun_azimuth_deg: self.angle(env.and_then(|e| e.sun_azimuth.as_ref()), "sun_azimuth", 135.0)?,
            sun_elevation_deg: sun_elevation,
            ground: env.and_then(|e| e.ground).unwrap_or(true),
            ground_color: self.color(env.and_then(|e| e.ground_color.as_ref()), "ground_color", [0.42, 0.45, 0.38])?,
            ground_extent_m,
            sky_color: self.color(env.and_then(|e| e.sky_color.as_ref()), "sky_color", [0.55, 0.70, 0.90])?,
        };

        let plugins = self.plugins(&raw.plugins, &entities)?;
        let plugin_policy = self.plugin_policy(raw.plugin_policy.as_ref())?;
        let clock = self.clock(raw.clock.as_ref())?;
        let history = self.history(raw.history.as_ref())?;

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
            plugin_policy,
            clock,
            history,
            warnings,
        })
    }

    fn existing_file(&self, v: &Spanned<String>, key: &'static str, want_dir: bool) -> Result<PathBuf, SceneError> {
        let file = self.resolve_path(v.get_ref());
        if (want_dir && file.is_dir()) || (!want_dir && file.is_file()) {
            return Ok(file);
        }
        let (line, column) = line_column(self.text, v.span().start);
        Err(SceneError::MissingFile { path: self.path.to_path_buf(), line, column, key, resolved: file })
    }

    fn plugins(&self, raw: &[Spanned<RawPlugin>], entities: &[Entity]) -> Result<Vec<PluginDecl>, SceneError> {
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
                if !matches!(g.get_ref().as_str(), "read-data" | "wall-clock" | "random" | "create-entities") {
                    return Err(self.err(
                        g.span(),
                        format!(
                            "plugin `{id}`: unknown capability `{}`; a scene may grant read-data, wall-clock, random \
                             or create-entities",
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
                let literal = match v.get_ref() {
                    toml::Value::Float(x) if x.is_finite() => ParamLiteral::Number(*x),
                    toml::Value::Integer(i) => ParamLiteral::Integer(*i),
                    toml::Value::Boolean(b) => ParamLiteral::Bool(*b),
                    toml::Value::String(t) => ParamLiteral::Text(t.clone()),
                    other => {
                        return Err(self.err(
                            v.span(),
                            format!(
                                "plugin `{id}`: parameter `{name}` = {other} must be a finite number, an integer, true/false or a string"
                            ),
                        ));
                    }
                };
                params.push((name.clone(), literal));
            }
            let limits = match &rp.limits {
                Some(raw) => self.plugin_limits(id, raw)?,
                None => PluginLimitsDecl::default(),
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
                location: self.at(sp.span()),
            });
        }
        Ok(out)
    }

    fn plugin_policy(&self, raw: Option<&RawPluginPolicy>) -> Result<PluginPolicy, SceneError> {
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

    /// A positive integer key of table `table`, at most `max`.
    fn bounded(
        &self,
        value: Option<&Spanned<i64>>,
        table: &str,
        key: &str,
        max: u64,
    ) -> Result<Option<u64>, SceneError> {
        let Some(value) = value else { return Ok(None) };
        let v = *value.get_ref();
        if v < 1 || v as u64 > max {
            return Err(self.err(value.span(), format!("{table}: `{key} = {v}` is out of range; use 1 to {max}")));
        }
        Ok(Some(v as u64))
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

    fn pos(&self, what: &str, p: &Spanned<RawPos>, frame: &EnuFrame, layers: &[Layer]) -> Result<DVec3, SceneError> {
        let r = p.get_ref();
        let keys = PosKeys {
            lat: r.lat.as_ref(),
            lon: r.lon.as_ref(),
            alt: r.alt.as_ref(),
            enu: r.enu.as_ref(),
            on_roof: r.on_roof.as_ref(),
        };
        self.position(what, keys, p.span(), frame, layers)
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

#[cfg(test)]
mod tests;
