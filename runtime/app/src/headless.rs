//! The headless front end: render camera bookmarks of a site (or a framed glTF model) to images, and
//! the site as it was at a time of a recording (time travel: the recorded values and the overlays
//! drawn for then).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use image::RgbaImage;
use sangam_render::gpu::{GpuScene, Renderer};
use sangam_render::overlay::Overlay;
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
    let cameras = bookmark_cameras(&site, request)?;
    Ok(Prepared { scene: site.scene, cameras })
}

/// The bookmarks `request` names, as views.
fn bookmark_cameras(site: &site::Site, request: &RenderRequest) -> Result<Vec<(String, View)>> {
    let aspect = request.size.aspect();
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
    Ok(chosen.into_iter().filter_map(|name| site.bookmark_view(&name, aspect).map(|v| (name, v))).collect())
}

/// How long time travel waits for the overlay plugins to draw the chosen time.
pub const OVERLAY_WAIT: Duration = Duration::from_secs(10);

/// Renders the site of `request` as it was `at` after its clock's start in `recording`: the
/// recorded changes applied, and each overlay as the recording holds it for then (its last frame
/// drawn for a time at or before it). An overlay the recording holds no frames of runs and draws the
/// replayed twin for then (waiting at most [`OVERLAY_WAIT`] for it; one that does not draw is named
/// and left out).
pub fn render_recording(request: &RenderRequest, recording: &Path, at: Duration) -> Result<Vec<Shot>> {
    let site = site::load(&request.input)?;
    for w in &site.warnings {
        tracing::warn!("{w}");
    }
    let cameras = bookmark_cameras(&site, request)?;
    let core = sangam_session::Session::time_travel(&site.twin, recording, at)?;
    let mut session = crate::frontend::SiteSession::with_core(site, core)?;
    let t = session.core.display_time();
    let overlays = session.core.plugins().count(sangam_plugins::Role::Overlay);
    let deadline = Instant::now() + OVERLAY_WAIT;
    loop {
        session.core.tick(Duration::ZERO);
        let drawn: Vec<&str> =
            session.core.plugins().overlays().filter(|(_, f)| f.time == t.as_micros()).map(|(id, _)| id).collect();
        if drawn.len() >= overlays {
            break;
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                "only {} of {overlays} overlay plugins drew {:.3} s within {} s ({}); rendering without the others",
                drawn.len(),
                at.as_secs_f64(),
                OVERLAY_WAIT.as_secs(),
                if drawn.is_empty() { "none".to_string() } else { drawn.join(", ") }
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let hud = format!("{} | t {:.1} s of {}", session.site.twin.name, at.as_secs_f64(), recording.display());
    let overlay = crate::overlay_compose::compose(&session, Some(&hud));
    let mut renderer = Renderer::new_headless().context("no GPU adapter for headless rendering")?;
    let gpu = renderer.upload(&session.site.scene)?;
    render_cameras(&mut renderer, &gpu, &cameras, request.size, request.stereo, &overlay)
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
    render_cameras(renderer, &gpu_scene, &prepared.cameras, size, stereo, &Overlay::default())
}

/// Renders each named camera (both eyes side by side when `stereo`) with `overlay` on top.
fn render_cameras(
    renderer: &mut Renderer,
    gpu_scene: &GpuScene,
    cameras: &[(String, View)],
    size: ShotSize,
    stereo: bool,
    overlay: &Overlay,
) -> Result<Vec<Shot>> {
    let mut shots = Vec::with_capacity(cameras.len());
    for (name, view) in cameras {
        let views = if stereo { View::stereo_pair(view, DEFAULT_IPD_M).to_vec() } else { vec![*view] };
        let images = renderer.render_to_images_with_overlay(gpu_scene, overlay, &views, size.width, size.height)?;
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
