//! A site: a scene file loaded into the twin model, and the render scene made from it.
//!
//! Every glTF asset is imported once and drawn wherever it is placed (placements of one asset are
//! instanced on the GPU); each GeoJSON layer becomes an extruded buildings model and a roads model; the
//! ground is a plane under everything. All placement is in the twin's f64 ENU world frame. The builder
//! records, as it appends them, which placements form which layer ([`Site::layers`]): the one account of
//! the site's structure, which the interaction's layers and picking read.

use std::ops::Range;
use std::path::{Path, PathBuf};

use glam::{DMat4, DVec2, DVec3, Vec3};
use sangam_render::extrude::{self, Footprint, RoadPath};
use sangam_render::gltf_import::{self, ImportError};
use sangam_render::model::Model;
use sangam_render::scene::{Environment, Fov, Placement, Scene, View};
use sangam_twin::scene::{Scene as TwinScene, SceneError};

/// Fraction of light the ground bounces back up into the ambient's lower hemisphere.
const GROUND_BOUNCE: f32 = 0.35;

/// Near plane of bookmark cameras, metres (reverse-Z keeps precision far away).
const BOOKMARK_NEAR_M: f32 = 0.1;

/// Why a site could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The scene file is invalid.
    #[error(transparent)]
    Scene(#[from] Box<SceneError>),
    /// A glTF asset the scene names could not be imported.
    #[error("{scene}: asset `{asset}` ({path}) could not be imported: {source}")]
    Asset {
        /// The scene file.
        scene: PathBuf,
        /// The asset id.
        asset: String,
        /// The glTF file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<ImportError>,
    },
}

/// What a group of render placements was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerSource {
    /// The scene's `[[placements]]`, in file order.
    Placements,
    /// The members of instance group `n` (index into the scene's groups).
    InstanceGroup(usize),
    /// The extruded buildings of GeoJSON layer `n`.
    Buildings(usize),
    /// The road ribbons of GeoJSON layer `n`.
    Roads(usize),
    /// The ground plane.
    Ground,
}

/// A group of render placements shown or hidden together, as [`build`] laid them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerGroup {
    /// What the user sees, e.g. `placed assets`, `street-poles`, `osm buildings`, `ground`.
    pub name: String,
    /// Render placement indices.
    pub placements: Range<usize>,
    /// What they were built from.
    pub source: LayerSource,
}

/// A loaded site: the twin and its render scene.
pub struct Site {
    /// The twin model as loaded from the scene file.
    pub twin: TwinScene,
    /// The render scene made from it.
    pub scene: Scene,
    /// The render placements, grouped in the order they were appended; together they cover every
    /// placement once (the one account of the site's structure: the interaction reads it).
    pub layers: Vec<LayerGroup>,
    /// Non-fatal problems (skipped features, glTF parts), each naming its file and where.
    pub warnings: Vec<String>,
}

/// Loads a scene file and builds its render scene.
pub fn load(path: &Path) -> Result<Site, SiteError> {
    let twin = TwinScene::load(path).map_err(Box::new)?;
    build(twin)
}

/// Builds the render scene of an already loaded twin scene.
pub fn build(twin: TwinScene) -> Result<Site, SiteError> {
    let mut warnings = twin.warnings.clone();
    let mut models = Vec::new();
    let mut placements = Vec::new();

    // glTF assets: imported once each, in asset order.
    let mut asset_model = Vec::with_capacity(twin.assets.len());
    for asset in &twin.assets {
        let model = gltf_import::load_gltf(&asset.path).map_err(|source| SiteError::Asset {
            scene: twin.path.clone(),
            asset: asset.id.clone(),
            path: asset.path.clone(),
            source: Box::new(source),
        })?;
        warnings.extend(model.warnings.iter().map(|w| format!("{}: {w}", asset.path.display())));
        asset_model.push(models.len());
        models.push(model);
    }
    let mut layers = Vec::new();
    let mut layer = |name: String, source: LayerSource, placements: &Vec<Placement>, start: usize| {
        if placements.len() > start {
            layers.push(LayerGroup { name, placements: start..placements.len(), source });
        }
    };
    let start = placements.len();
    for p in &twin.placements {
        placements.push(Placement { model: asset_model[p.asset], world_from_model: p.world_from_model() });
    }
    layer("placed assets".into(), LayerSource::Placements, &placements, start);
    for (g, group) in twin.instance_groups.iter().enumerate() {
        let model = asset_model[group.asset];
        let start = placements.len();
        placements.extend(group.members.iter().map(|m| Placement { model, world_from_model: m.world_from_model() }));
        layer(group.id.clone(), LayerSource::InstanceGroup(g), &placements, start);
    }

    // GeoJSON layers: extruded buildings and road ribbons, in ENU metres around the origin.
    for (l, geo) in twin.layers.iter().enumerate() {
        let layer_id = &geo.id;
        warnings.extend(geo.warnings.iter().map(|w| format!("{}: {w}", geo.path.display())));
        let footprints: Vec<Footprint> = geo
            .buildings
            .iter()
            .map(|b| Footprint { outer: b.outer.clone(), holes: b.holes.clone(), base: b.base_m, height: b.height_m })
            .collect();
        if !footprints.is_empty() {
            let name = format!("{layer_id} buildings");
            let (model, w) = extrude::buildings_model(&name, &footprints, DVec2::ZERO, geo.options.buildings.color);
            warnings.extend(w.into_iter().map(|w| format!("{}: {w}", geo.path.display())));
            let start = placements.len();
            place_at_origin(&mut models, &mut placements, model);
            layer(name, LayerSource::Buildings(l), &placements, start);
        }
        let roads: Vec<RoadPath> =
            geo.roads.iter().map(|r| RoadPath { points: r.points.clone(), width: r.width_m }).collect();
        if !roads.is_empty() {
            let name = format!("{layer_id} roads");
            let (model, w) =
                extrude::roads_model(&name, &roads, DVec2::ZERO, geo.options.roads.color, extrude::DEFAULT_ROAD_LIFT);
            warnings.extend(w.into_iter().map(|w| format!("{}: {w}", geo.path.display())));
            let start = placements.len();
            place_at_origin(&mut models, &mut placements, model);
            layer(name, LayerSource::Roads(l), &placements, start);
        }
    }

    let env = &twin.environment;
    if env.ground {
        let model = extrude::ground_model("ground", DVec2::ZERO, env.ground_extent_m, env.ground_color);
        let start = placements.len();
        place_at_origin(&mut models, &mut placements, model);
        layer("ground".into(), LayerSource::Ground, &placements, start);
    }
    let environment = Environment {
        sun_direction: env.sun_direction().as_vec3(),
        sky_color: Vec3::from_array(env.sky_color),
        // The lower hemisphere of the ambient is light bounced off the ground: its colour times an albedo.
        ground_color: Vec3::from_array(env.ground_color) * GROUND_BOUNCE,
        ..Environment::default()
    };
    Ok(Site { twin, scene: Scene { models, placements, environment }, layers, warnings })
}

/// Adds a model whose vertices are already in world (ENU) metres, placed once at the origin.
fn place_at_origin(models: &mut Vec<Model>, placements: &mut Vec<Placement>, model: Model) {
    placements.push(Placement { model: models.len(), world_from_model: DMat4::IDENTITY });
    models.push(model);
}

impl Site {
    /// The bookmark names, in file order.
    pub fn bookmark_names(&self) -> Vec<String> {
        self.twin.bookmarks.iter().map(|b| b.name.clone()).collect()
    }

    /// The camera of bookmark `name` for an image of the given aspect ratio (width / height).
    pub fn bookmark_view(&self, name: &str, aspect: f64) -> Option<View> {
        let b = self.twin.bookmarks.iter().find(|b| b.name == name)?;
        let fov = Fov::symmetric(b.fov_y_deg.to_radians() as f32, aspect as f32);
        // Looking straight up or down makes +Z a degenerate up vector; use north then.
        let up = if b.forward().cross(DVec3::Z).length_squared() < 1e-9 { DVec3::Y } else { DVec3::Z };
        let mut view = View::look_at(b.eye, b.target(), up, fov);
        view.near = BOOKMARK_NEAR_M;
        Some(view)
    }
}
