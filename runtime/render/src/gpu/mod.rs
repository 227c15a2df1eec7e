//! The wgpu renderer: N views per frame (multiview or one pass per view), MSAA, metallic-roughness
//! PBR, GPU instancing with camera-relative matrices, frustum culling, reverse-Z infinite depth, and
//! offscreen capture.
//!
//! Device creation ([`Renderer::new_headless`]) is separate from everything else
//! ([`Renderer::from_device`]) so an OpenXR session can hand in the device it created.

mod frame;
mod timing;
mod upload;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use upload::GpuScene;

use upload::{Fallback, PipelineClass};

/// The most views one frame can render (the frame uniform holds this many).
pub const MAX_VIEWS: usize = 8;

/// The colour format the renderer writes by default (tone-mapped, sRGB-encoded by the hardware).
pub const OUTPUT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

/// The depth format (reverse-Z: cleared to 0, tested with `GreaterEqual`).
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Errors from the renderer.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No Vulkan adapter was found.
    #[error(
        "no Vulkan adapter found ({details}). Install a GPU driver with Vulkan support, or Mesa's software \
         Vulkan driver (lavapipe): `apt-get install mesa-vulkan-drivers`"
    )]
    NoAdapter {
        /// What wgpu reported.
        details: String,
    },
    /// The adapter refused to create a device.
    #[error("could not create a device on adapter {adapter}: {message}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// What wgpu reported.
        message: String,
    },
    /// wgpu reported a validation or out-of-memory error.
    #[error("wgpu error while {operation}: {message}")]
    Wgpu {
        /// What the renderer was doing.
        operation: &'static str,
        /// The wgpu error text.
        message: String,
    },
    /// The views or target handed to a render call are unusable.
    #[error("invalid render request: {0}")]
    InvalidRequest(String),
    /// A size exceeds what the renderer or device supports.
    #[error("{what} is too large for the GPU")]
    TooLarge {
        /// What overflowed.
        what: String,
    },
    /// Reading the rendered image back failed.
    #[error("reading the rendered image back failed: {0}")]
    Readback(String),
}

/// Renderer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RendererOptions {
    /// MSAA sample count: 1 or 4. Falls back to 1 (logged) when the formats do not support it.
    pub msaa_samples: u32,
    /// When to draw all views in one multiview pass rather than one pass per view.
    pub multiview: MultiviewPolicy,
}

impl Default for RendererOptions {
    fn default() -> Self {
        RendererOptions { msaa_samples: 4, multiview: MultiviewPolicy::Auto }
    }
}

/// When a frame with several views uses one multiview pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MultiviewPolicy {
    /// Multiview when the device supports it and its driver is not known to get it wrong.
    ///
    /// Known wrong: Mesa's llvmpipe (lavapipe, 22.3 measured here) drops the view index of primitives
    /// its clipper splits (anything crossing the near plane, such as a ground plane or the sky's
    /// full-screen triangle), so they land in view 0 and are missing from the other views.
    #[default]
    Auto,
    /// Multiview whenever the device supports it (tests of the multiview path itself).
    Always,
    /// Always one pass per view.
    Never,
}

/// Whether the adapter's driver is known to render multiview wrongly (see [`MultiviewPolicy::Auto`]).
pub fn has_multiview_clipping_bug(info: &wgpu::AdapterInfo) -> bool {
    let llvmpipe = |s: &str| s.to_ascii_lowercase().contains("llvmpipe");
    llvmpipe(&info.name) || llvmpipe(&info.driver)
}

/// What one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameStats {
    /// CPU time spent culling, building instance data and encoding commands (up to submit).
    pub cpu_encode_time: Duration,
    /// Mesh draw commands recorded, over all passes (the sky's full-screen triangle is not counted).
    pub draw_calls: u32,
    /// Placements drawn this frame (each counted once, however many views).
    pub instances_drawn: u32,
    /// Placements skipped because their bounds are outside every view's frustum.
    pub instances_culled: u32,
    /// Triangles of the drawn placements (counted once, however many views).
    pub triangles: u64,
    /// Whether this frame used one multiview pass (else one pass per view).
    pub multiview: bool,
    /// Overlay primitives drawn (lines, markers, labels, heatmaps, volumes and HUD entries that
    /// produced anything; each counted once, however many views). Not included in `draw_calls`.
    pub overlay_primitives: u32,
    /// GPU time of a recent frame: from the beginning of its first render pass to the end of its
    /// last (the overlay included; the per-view path's final copy into the target layer is not),
    /// measured with timestamp queries.
    ///
    /// The renderer never waits for the GPU to get it, so this is the most recent measurement that
    /// had COMPLETED when this frame was encoded: usually from 1 to 3 frames ago, not this frame's
    /// own. `None` until the first measurement arrives, and always `None` when the device has no
    /// timestamp queries (see [`Renderer::gpu_timing_supported`]).
    pub gpu_time: Option<Duration>,
}

/// A colour target: a 2D texture with one array layer per view.
#[derive(Debug)]
pub struct RenderTarget {
    texture: wgpu::Texture,
    array_view: wgpu::TextureView,
    layer_views: Vec<wgpu::TextureView>,
}

impl RenderTarget {
    /// A new `Rgba8UnormSrgb` target of `layers` layers (one per view), usable for rendering,
    /// copying and sampling.
    pub fn new(renderer: &Renderer, width: u32, height: u32, layers: u32) -> Result<RenderTarget, RenderError> {
        let limits = renderer.device.limits();
        if width == 0 || height == 0 || layers == 0 {
            return Err(RenderError::InvalidRequest(format!(
                "render target size {width}x{height} with {layers} layers: all must be at least 1"
            )));
        }
        if width > limits.max_texture_dimension_2d
            || height > limits.max_texture_dimension_2d
            || layers > limits.max_texture_array_layers
        {
            return Err(RenderError::TooLarge { what: format!("render target {width}x{height}x{layers}") });
        }
        let texture = renderer.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("sangam render target"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: layers },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OUTPUT_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        RenderTarget::from_texture(texture)
    }

    /// Wraps an existing texture (e.g. an OpenXR swapchain image): a single-sampled 2D texture with
    /// `RENDER_ATTACHMENT` usage and one array layer per view. The per-view path with MSAA also
    /// wants `COPY_DST` (see the module notes); without it the resolve goes straight to the layer.
    pub fn from_texture(texture: wgpu::Texture) -> Result<RenderTarget, RenderError> {
        if texture.dimension() != wgpu::TextureDimension::D2
            || texture.sample_count() != 1
            || !texture.usage().contains(wgpu::TextureUsages::RENDER_ATTACHMENT)
        {
            return Err(RenderError::InvalidRequest(format!(
                "render target texture must be a single-sampled 2D texture with RENDER_ATTACHMENT usage \
                 (got {:?}, {} samples, usage {:?})",
                texture.dimension(),
                texture.sample_count(),
                texture.usage()
            )));
        }
        let layers = texture.depth_or_array_layers();
        let array_view = texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some("sangam target (array)"),
            dimension: Some(wgpu::TextureViewDimension::D2Array),
            ..Default::default()
        });
        let layer_views = (0..layers)
            .map(|i| {
                texture.create_view(&wgpu::TextureViewDescriptor {
                    label: Some("sangam target (layer)"),
                    dimension: Some(wgpu::TextureViewDimension::D2),
                    base_array_layer: i,
                    array_layer_count: Some(1),
                    ..Default::default()
                })
            })
            .collect();
        Ok(RenderTarget { texture, array_view, layer_views })
    }

    /// The underlying texture.
    pub fn texture(&self) -> &wgpu::Texture {
        &self.texture
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.texture.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.texture.height()
    }

    /// Number of array layers (views).
    pub fn layers(&self) -> u32 {
        self.texture.depth_or_array_layers()
    }

    /// The colour format.
    pub fn format(&self) -> wgpu::TextureFormat {
        self.texture.format()
    }
}

/// A rectangle of a render target that a frame is drawn into, in pixels from its top left: one half
/// of a split view ([`Renderer::render_region_with_overlay`]). The views' aspect should be the
/// region's; the overlay's heads-up text is placed in the region's corners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width, at least 1.
    pub width: u32,
    /// Height, at least 1.
    pub height: u32,
    /// Whether the whole target is cleared first (the first region drawn into a target this frame);
    /// otherwise what earlier regions drew stays outside this one.
    pub clear_target: bool,
}

impl Region {
    /// The whole of `target`, cleared.
    pub fn whole(target: &RenderTarget) -> Region {
        Region { x: 0, y: 0, width: target.width(), height: target.height(), clear_target: true }
    }

    /// The left (`index` 0) or right (1) half of `target`, side by side; the left one clears.
    pub fn half(target: &RenderTarget, index: u32) -> Region {
        let left = target.width() / 2;
        let (x, width) = if index == 0 { (0, left.max(1)) } else { (left, (target.width() - left).max(1)) };
        Region { x, y: 0, width, height: target.height(), clear_target: index == 0 }
    }

    /// Whether it covers all of `target`.
    pub fn is_whole(&self, target: &RenderTarget) -> bool {
        self.x == 0 && self.y == 0 && self.width == target.width() && self.height == target.height()
    }

    /// Width over height.
    pub fn aspect(&self) -> f64 {
        f64::from(self.width) / f64::from(self.height.max(1))
    }
}

/// Bind group layouts shared by pipelines and uploads.
#[derive(Debug)]
pub(crate) struct Layouts {
    pub frame: wgpu::BindGroupLayout,
    pub material: wgpu::BindGroupLayout,
    pub submesh: wgpu::BindGroupLayout,
    pub mesh_pipeline: wgpu::PipelineLayout,
    pub sky_pipeline: wgpu::PipelineLayout,
}

/// Pipelines for one (format, samples, multiview) combination.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pub mesh: HashMap<PipelineClass, wgpu::RenderPipeline>,
    pub sky: wgpu::RenderPipeline,
    /// Shader modules by feature bits.
    pub modules: HashMap<u8, wgpu::ShaderModule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PipelineKey {
    pub format: wgpu::TextureFormat,
    pub samples: u32,
    pub multiview: Option<NonZeroU32>,
}

/// The renderer: a device, its queue, pipelines and per-frame buffers.
pub struct Renderer {
    pub(crate) adapter_info: wgpu::AdapterInfo,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) options: RendererOptions,
    pub(crate) layouts: Layouts,
    pub(crate) fallback: Fallback,
    pub(crate) pipelines: HashMap<PipelineKey, Pipelines>,
    pub(crate) frame: frame::FrameResources,
    pub(crate) uncaptured: Arc<Mutex<Vec<String>>>,
    pub(crate) overlay: crate::overlay::OverlayGpu,
    /// Timestamp queries for [`FrameStats::gpu_time`] (`None` without `Features::TIMESTAMP_QUERY`).
    pub(crate) gpu_timer: Option<timing::GpuTimer>,
    capture: Option<RenderTarget>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("adapter", &self.adapter_info.name)
            .field("backend", &self.adapter_info.backend)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// A renderer on the first Vulkan adapter (a software one such as lavapipe is accepted), with
    /// default options and no window or surface.
    pub fn new_headless() -> Result<Renderer, RenderError> {
        Renderer::new_headless_with(RendererOptions::default())
    }

    /// [`Renderer::new_headless`] with explicit options.
    pub fn new_headless_with(options: RendererOptions) -> Result<Renderer, RenderError> {
        let (info, device, queue, options) = pollster::block_on(Self::create_device(options))?;
        Ok(Renderer::from_device_with(info, device, queue, options))
    }

    async fn create_device(
        mut options: RendererOptions,
    ) -> Result<(wgpu::AdapterInfo, wgpu::Device, wgpu::Queue, RendererOptions), RenderError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| RenderError::NoAdapter { details: e.to_string() })?;
        let info = adapter.get_info();
        tracing::info!(
            "GPU adapter: {} ({:?}, {:?}, driver {} {})",
            info.name,
            info.device_type,
            info.backend,
            info.driver,
            info.driver_info
        );
        if options.msaa_samples > 1 {
            let ok = [OUTPUT_FORMAT, DEPTH_FORMAT]
                .iter()
                .all(|f| adapter.get_texture_format_features(*f).flags.sample_count_supported(options.msaa_samples));
            if !ok {
                tracing::info!(
                    "adapter {} does not support {}x MSAA for {OUTPUT_FORMAT:?}/{DEPTH_FORMAT:?}; using 1 sample",
                    info.name,
                    options.msaa_samples
                );
                options.msaa_samples = 1;
            }
        }
        // Timestamp queries (GPU frame time) only when offered: requesting an absent feature fails.
        let wanted = wgpu::Features::MULTIVIEW | wgpu::Features::MULTISAMPLE_ARRAY | wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("sangam device"),
                required_features: adapter.features() & wanted,
                required_limits: adapter.limits(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| RenderError::RequestDevice { adapter: info.name.clone(), message: e.to_string() })?;
        Ok((info, device, queue, options))
    }

    /// A renderer on an existing device and queue (e.g. created for an OpenXR session), with default
    /// options. Enable `Features::MULTIVIEW` (and `MULTISAMPLE_ARRAY` for MSAA) on the device to get
    /// single-pass stereo.
    pub fn from_device(adapter_info: wgpu::AdapterInfo, device: wgpu::Device, queue: wgpu::Queue) -> Renderer {
        Renderer::from_device_with(adapter_info, device, queue, RendererOptions::default())
    }

    /// [`Renderer::from_device`] with explicit options.
    ///
    /// Installs an uncaptured-error handler on the device that logs wgpu errors and keeps them for
    /// [`Renderer::take_uncaptured_errors`] instead of panicking. GPU frame time
    /// ([`FrameStats::gpu_time`]) is measured only when the device was created with
    /// `Features::TIMESTAMP_QUERY`.
    pub fn from_device_with(
        adapter_info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        mut options: RendererOptions,
    ) -> Renderer {
        // 1 and 4 samples are guaranteed for renderable formats by WebGPU; anything else is not.
        if options.msaa_samples != 1 && options.msaa_samples != 4 {
            tracing::info!("MSAA {}x is not supported by the renderer; using 1 sample", options.msaa_samples);
            options.msaa_samples = 1;
        }
        if options.multiview == MultiviewPolicy::Auto && has_multiview_clipping_bug(&adapter_info) {
            tracing::info!(
                "{}: multiview loses clipped primitives on this driver; rendering one pass per view",
                adapter_info.name
            );
        }
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            tracing::error!("wgpu: {e}");
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let layouts = create_layouts(&device);
        let fallback = Fallback {
            white: upload::create_texture_rgba8(&device, &queue, "white fallback", 1, 1, &[255, 255, 255, 255]),
            normal: upload::create_texture_rgba8(&device, &queue, "flat normal fallback", 1, 1, &[128, 128, 255, 255]),
            sampler: upload::create_sampler(&device, &crate::model::Sampler { mipmaps: true, ..Default::default() }),
        };
        let overlay = crate::overlay::OverlayGpu::new(&device, &queue, &layouts.frame);
        let gpu_timer = timing::GpuTimer::new(&device, &queue);
        tracing::info!(
            "GPU frame time: {}",
            if gpu_timer.is_some() {
                "measured with timestamp queries"
            } else {
                "not available (no timestamp queries)"
            }
        );
        Renderer {
            gpu_timer,
            frame: frame::FrameResources::new(&device, &layouts),
            overlay,
            adapter_info,
            fallback,
            device,
            queue,
            options,
            layouts,
            pipelines: HashMap::new(),
            uncaptured,
            capture: None,
        }
    }

    /// The adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter_info
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The options in effect (after any fallback).
    pub fn options(&self) -> RendererOptions {
        self.options
    }

    /// Whether a frame of `view_count` views would use one multiview pass: the device must have
    /// `Features::MULTIVIEW` (and `MULTISAMPLE_ARRAY` when MSAA is on), and `2 <= view_count <= max`.
    pub fn uses_multiview(&self, view_count: usize) -> bool {
        let features = self.device.features();
        let allowed = match self.options.multiview {
            MultiviewPolicy::Never => false,
            MultiviewPolicy::Always => true,
            MultiviewPolicy::Auto => !has_multiview_clipping_bug(&self.adapter_info),
        };
        allowed
            && features.contains(wgpu::Features::MULTIVIEW)
            && (self.options.msaa_samples == 1 || features.contains(wgpu::Features::MULTISAMPLE_ARRAY))
            && view_count >= 2
            && view_count as u64 <= u64::from(self.device.limits().max_multiview_view_count)
            && view_count <= 32
    }

    /// Whether frames measure their GPU time ([`FrameStats::gpu_time`]): the device has
    /// `Features::TIMESTAMP_QUERY` with a usable timestamp period. When false nothing extra is
    /// encoded and `gpu_time` is always `None`.
    pub fn gpu_timing_supported(&self) -> bool {
        self.gpu_timer.is_some()
    }

    /// wgpu errors that happened outside an error scope since the last call.
    pub fn take_uncaptured_errors(&self) -> Vec<String> {
        self.uncaptured.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }

    /// Renders `views.len()` views into a `RenderTarget` of as many layers, reads them back and
    /// returns one RGBA image per view (top row first).
    pub fn render_to_images(
        &mut self,
        scene: &GpuScene,
        views: &[crate::scene::View],
        width: u32,
        height: u32,
    ) -> Result<Vec<image::RgbaImage>, RenderError> {
        self.render_to_images_with_overlay(scene, &crate::overlay::Overlay::default(), views, width, height)
    }

    /// [`Renderer::render_to_images`] with `overlay` drawn on top of the scene (see
    /// [`Renderer::render_with_overlay`]).
    pub fn render_to_images_with_overlay(
        &mut self,
        scene: &GpuScene,
        overlay: &crate::overlay::Overlay,
        views: &[crate::scene::View],
        width: u32,
        height: u32,
    ) -> Result<Vec<image::RgbaImage>, RenderError> {
        let layers = u32::try_from(views.len()).map_err(|_| RenderError::InvalidRequest("too many views".into()))?;
        let reuse =
            self.capture.as_ref().is_some_and(|t| t.width() == width && t.height() == height && t.layers() == layers);
        if !reuse {
            self.capture = Some(RenderTarget::new(self, width, height, layers.max(1))?);
        }
        let target = self.capture.take().ok_or_else(|| RenderError::Readback("capture target missing".into()))?;
        let result = self.render_with_overlay(scene, overlay, views, &target).and_then(|_| self.read_back(&target));
        self.capture = Some(target);
        result
    }

    /// Reads `target` back: one RGBA image per layer (top row first). Waits for the GPU.
    pub fn read_back(&self, target: &RenderTarget) -> Result<Vec<image::RgbaImage>, RenderError> {
        let (w, h, layers) = (target.width(), target.height(), target.layers());
        let unpadded = u64::from(w) * 4;
        let align = u64::from(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let padded = unpadded.div_ceil(align) * align;
        let layer_size = padded * u64::from(h);
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sangam readback"),
            size: layer_size * u64::from(layers),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        let bytes_per_row = u32::try_from(padded).map_err(|_| RenderError::TooLarge { what: "row".into() })?;
        for layer in 0..layers {
            encoder.copy_texture_to_buffer(
                wgpu::TexelCopyTextureInfo {
                    texture: target.texture(),
                    mip_level: 0,
                    origin: wgpu::Origin3d { x: 0, y: 0, z: layer },
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::TexelCopyBufferInfo {
                    buffer: &buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: layer_size * u64::from(layer),
                        bytes_per_row: Some(bytes_per_row),
                        rows_per_image: Some(h),
                    },
                },
                wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            );
        }
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(format!("waiting for the GPU: {e}")))?;
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Wgpu { operation: "reading back the frame", message: err.to_string() });
        }
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let mut images = Vec::with_capacity(layers as usize);
        {
            let data = buffer.get_mapped_range(..).map_err(|e| RenderError::Readback(format!("{e:?}")))?;
            for layer in 0..layers as usize {
                let mut pixels = Vec::with_capacity((unpadded * u64::from(h)) as usize);
                for row in 0..h as usize {
                    let start = layer * layer_size as usize + row * padded as usize;
                    pixels.extend_from_slice(&data[start..start + unpadded as usize]);
                }
                let img = image::RgbaImage::from_raw(w, h, pixels)
                    .ok_or_else(|| RenderError::Readback("image size mismatch".into()))?;
                images.push(img);
            }
        }
        buffer.unmap();
        Ok(images)
    }

    /// Creates (once) the sky pipeline and the mesh pipelines of `classes` for `key`.
    pub(crate) fn ensure_pipelines(&mut self, key: PipelineKey, classes: &[PipelineClass]) {
        let Renderer { pipelines, device, layouts, .. } = self;
        let entry = pipelines.entry(key).or_insert_with(|| Pipelines {
            mesh: HashMap::new(),
            sky: create_sky_pipeline(device, layouts, key),
            modules: HashMap::new(),
        });
        for class in classes {
            if !entry.mesh.contains_key(class) {
                let module = entry
                    .modules
                    .entry(class.features)
                    .or_insert_with(|| create_module(device, key.multiview.is_some(), class.features));
                let pipeline = create_mesh_pipeline(device, layouts, key, *class, module);
                entry.mesh.insert(*class, pipeline);
            }
        }
    }
}

fn create_layouts(device: &wgpu::Device) -> Layouts {
    let uniform = |binding, dynamic: bool, vis| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: vis,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: dynamic,
            min_binding_size: None,
        },
        count: None,
    };
    let vf = wgpu::ShaderStages::VERTEX_FRAGMENT;
    let frame = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("sangam frame layout"),
        entries: &[uniform(0, false, vf), uniform(1, true, vf)],
    });
    let mut material_entries = vec![uniform(0, false, wgpu::ShaderStages::FRAGMENT)];
    for i in 0..5 {
        material_entries.push(wgpu::BindGroupLayoutEntry {
            binding: 1 + 2 * i,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        });
        material_entries.push(wgpu::BindGroupLayoutEntry {
            binding: 2 + 2 * i,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            count: None,
        });
    }
    let material = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("sangam material layout"),
        entries: &material_entries,
    });
    let submesh = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("sangam sub-mesh layout"),
        entries: &[uniform(0, true, wgpu::ShaderStages::VERTEX)],
    });
    let mesh_pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("sangam mesh pipeline layout"),
        bind_group_layouts: &[Some(&frame), Some(&material), Some(&submesh)],
        immediate_size: 0,
    });
    let sky_pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("sangam sky pipeline layout"),
        bind_group_layouts: &[Some(&frame)],
        immediate_size: 0,
    });
    Layouts { frame, material, submesh, mesh_pipeline, sky_pipeline }
}

/// `pass_source` behind the shared frame prelude (`frame_prelude.wgsl`: the frame uniforms of bind
/// group 0), with the view-index markers substituted for a multiview or a per-view pipeline.
pub(crate) fn shader_with_prelude(pass_source: &str, multiview: bool) -> String {
    let src = format!("{}\n{pass_source}", include_str!("frame_prelude.wgsl"));
    if multiview {
        src.replace("VIEW_INDEX_PARAM", ", @builtin(view_index) view_index: u32")
            .replace("VIEW_INDEX_EXPR", "view_index")
    } else {
        src.replace("VIEW_INDEX_PARAM", "").replace("VIEW_INDEX_EXPR", "pass_data.view_index")
    }
}

/// WGSL source with the view-index markers substituted and `//#if FEATURE` / `//#else` /
/// `//#endif` blocks resolved for the [`upload::features`] bits.
pub(crate) fn shader_source(multiview: bool, feature_bits: u8) -> String {
    let src = shader_with_prelude(include_str!("pbr.wgsl"), multiview);
    // A normal map needs the UVs.
    let feature_bits = if feature_bits & upload::features::NORMAL_MAP != 0 {
        feature_bits | upload::features::TEXTURED
    } else {
        feature_bits
    };
    let enabled = |name: &str| upload::features::NAMES.iter().any(|(bit, n)| *n == name && feature_bits & bit != 0);
    let mut out = String::with_capacity(src.len());
    // Stack of (this block's condition, whether the enclosing blocks are active).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut active = true;
    for line in src.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("//#if ") {
            let cond = enabled(name.trim());
            stack.push((cond, active));
            active = active && cond;
        } else if t == "//#else" {
            if let Some(&(cond, outer)) = stack.last() {
                active = outer && !cond;
            }
        } else if t == "//#endif" {
            if let Some((_, outer)) = stack.pop() {
                active = outer;
            }
        } else if active {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn create_module(device: &wgpu::Device, multiview: bool, feature_bits: u8) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("sangam pbr.wgsl"),
        source: wgpu::ShaderSource::Wgsl(shader_source(multiview, feature_bits).into()),
    })
}

fn create_mesh_pipeline(
    device: &wgpu::Device,
    layouts: &Layouts,
    key: PipelineKey,
    class: PipelineClass,
    module: &wgpu::ShaderModule,
) -> wgpu::RenderPipeline {
    let vertex_attrs = wgpu::vertex_attr_array![
        0 => Float32x3, 1 => Float32x3, 2 => Float32x4, 3 => Float32x2, 4 => Float32x2, 5 => Float32x4
    ];
    let instance_attrs = wgpu::vertex_attr_array![6 => Float32x4, 7 => Float32x4, 8 => Float32x4, 9 => Float32x4];
    let buffers = [
        Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<upload::GpuVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &vertex_attrs,
        }),
        Some(wgpu::VertexBufferLayout {
            array_stride: 64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &instance_attrs,
        }),
    ];
    let blend = class.blend;
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(if blend { "sangam blend pipeline" } else { "sangam opaque pipeline" }),
        layout: Some(&layouts.mesh_pipeline),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &buffers,
        },
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleList,
            front_face: wgpu::FrontFace::Ccw,
            cull_mode: if class.double_sided { None } else { Some(wgpu::Face::Back) },
            ..Default::default()
        },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(!blend),
            depth_compare: Some(wgpu::CompareFunction::GreaterEqual),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: wgpu::MultisampleState { count: key.samples, mask: !0, alpha_to_coverage_enabled: false },
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: key.format,
                blend: blend.then_some(wgpu::BlendState::ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: key.multiview,
        cache: None,
    })
}

fn create_sky_pipeline(device: &wgpu::Device, layouts: &Layouts, key: PipelineKey) -> wgpu::RenderPipeline {
    let module = create_module(device, key.multiview.is_some(), 0);
    let multisample = wgpu::MultisampleState { count: key.samples, mask: !0, alpha_to_coverage_enabled: false };
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("sangam sky pipeline"),
        layout: Some(&layouts.sky_pipeline),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_sky"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(false),
            depth_compare: Some(wgpu::CompareFunction::GreaterEqual),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample,
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_sky"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: key.format,
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: key.multiview,
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every feature combination, with and without multiview, is valid WGSL.
    #[test]
    fn every_shader_variant_validates() {
        for multiview in [false, true] {
            for bits in 0..8u8 {
                let src = shader_source(multiview, bits);
                let module = wgpu::naga::front::wgsl::parse_str(&src)
                    .unwrap_or_else(|e| panic!("features {bits}, multiview {multiview}: {}", e.emit_to_string(&src)));
                let caps = wgpu::naga::valid::Capabilities::all();
                wgpu::naga::valid::Validator::new(wgpu::naga::valid::ValidationFlags::all(), caps)
                    .validate(&module)
                    .unwrap_or_else(|e| panic!("features {bits}, multiview {multiview}: {e:?}"));
                assert!(!src.lines().any(|l| l.trim().starts_with("//#")), "preprocessor directives left");
            }
        }
    }
}
