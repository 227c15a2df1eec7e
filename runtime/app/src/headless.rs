//! The headless front end: render camera bookmarks of a site (or a framed glTF model) to images.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use image::RgbaImage;
use sangam_render::gpu::Renderer;
use sangam_render::scene::{Scene, View};

use crate::{framing, site};

/// Interpupillary distance used for `--stereo`, in metres (a population average).
pub const DEFAULT_IPD_M: f64 = 0.064;

/// Size of one eye's image in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShotSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl ShotSize {
    /// Width over height.
    pub fn aspect(&self) -> f64 {
        f64::from(self.width) / f64::from(self.height)
    }
}

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderRequest {
    /// A scene file (`.toml`) or a glTF model (`.gltf`, `.glb`).
    pub input: PathBuf,
    /// A bookmark name, `all`, or `None` for the first bookmark.
    pub bookmark: Option<String>,
    /// Image size per eye.
    pub size: ShotSize,
    /// Render two eyes side by side.
    pub stereo: bool,
}

/// One rendered image.
pub struct Shot {
    /// The bookmark's name (or the model's file stem).
    pub name: String,
    /// The image: `size`, or twice as wide for stereo.
    pub image: RgbaImage,
}

/// A scene ready to render and the named cameras to render it from.
pub struct Prepared {
    /// The render scene.
    pub scene: Scene,
    /// Named cameras (bookmarks, or the automatic framing of a bare model).
    pub cameras: Vec<(String, View)>,
}

/// Loads the input (scene file or bare glTF) and picks the cameras the request names.
pub fn prepare(request: &RenderRequest) -> Result<Prepared> {
    let ext = request.input.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let aspect = request.size.aspect();
    if ext == "gltf" || ext == "glb" {
        let model = sangam_render::gltf_import::load_gltf(&request.input)?;
        for w in &model.warnings {
            tracing::warn!("{}: {w}", request.input.display());
        }
        let name =
            request.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
        let view = framing::view_for_model(&model, aspect);
        return Ok(Prepared { scene: framing::scene_for_model(model), cameras: vec![(name, view)] });
    }
    let site = site::load(&request.input)?;
    for w in &site.warnings {
        tracing::warn!("{w}");
    }
    let names = site.bookmark_names();
    if names.is_empty() {
        bail!("{} has no [[bookmarks]]; add one (see assets/sites/new-delhi-ina/scene.toml)", request.input.display());
    }
    let chosen: Vec<String> = match request.bookmark.as_deref() {
        None => vec![names[0].clone()],
        Some("all") => names.clone(),
        Some(name) => {
            if !names.iter().any(|n| n == name) {
                bail!("{} has no bookmark named `{name}`; it has: {}", request.input.display(), names.join(", "));
            }
            vec![name.to_string()]
        }
    };
    let cameras = chosen.into_iter().filter_map(|name| site.bookmark_view(&name, aspect).map(|v| (name, v))).collect();
    Ok(Prepared { scene: site.scene, cameras })
}

/// Renders what `request` asks for with a new headless renderer.
pub fn render(request: &RenderRequest) -> Result<Vec<Shot>> {
    let prepared = prepare(request)?;
    let mut renderer = Renderer::new_headless().context("no GPU adapter for headless rendering")?;
    render_prepared(&mut renderer, &prepared, request.size, request.stereo)
}

/// Renders prepared cameras with an existing renderer.
pub fn render_prepared(
    renderer: &mut Renderer,
    prepared: &Prepared,
    size: ShotSize,
    stereo: bool,
) -> Result<Vec<Shot>> {
    let gpu_scene = renderer.upload(&prepared.scene)?;
    let mut shots = Vec::with_capacity(prepared.cameras.len());
    for (name, view) in &prepared.cameras {
        let views = if stereo { View::stereo_pair(view, DEFAULT_IPD_M).to_vec() } else { vec![*view] };
        let images = renderer.render_to_images(&gpu_scene, &views, size.width, size.height)?;
        let image = if stereo {
            side_by_side(&images)
        } else {
            images.into_iter().next().context("renderer returned no image")?
        };
        shots.push(Shot { name: name.clone(), image });
    }
    Ok(shots)
}

/// Places images left to right in one image.
fn side_by_side(images: &[RgbaImage]) -> RgbaImage {
    let width = images.iter().map(|i| i.width()).sum();
    let height = images.iter().map(|i| i.height()).max().unwrap_or(0);
    let mut out = RgbaImage::new(width, height);
    let mut x = 0i64;
    for img in images {
        image::imageops::replace(&mut out, img, x, 0);
        x += i64::from(img.width());
    }
    out
}
