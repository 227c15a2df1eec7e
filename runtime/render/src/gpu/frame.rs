//! One frame: culling, camera-relative instance matrices, uniforms, and command encoding for either
//! one multiview pass or one pass per view.

use std::num::NonZeroU32;
use std::ops::Range;
use std::time::Instant;

use bytemuck::{Pod, Zeroable};
use glam::{DMat4, DVec3, DVec4, Mat4, Vec3};

use super::upload::{GpuScene, PipelineClass, relative_matrix};
use super::{DEPTH_FORMAT, FrameStats, Layouts, MAX_VIEWS, PipelineKey, Region, RenderError, RenderTarget, Renderer};
use crate::model::Aabb;
use crate::overlay::{Overlay, OverlayFrame};
use crate::scene::View;

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ViewData {
    view_proj: [f32; 16],
    dir_from_clip: [f32; 16],
    eye: [f32; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct FrameUniform {
    views: [ViewData; MAX_VIEWS],
    sun_dir: [f32; 4],
    sun_radiance: [f32; 4],
    sky: [f32; 4],
    ground: [f32; 4],
    params: [f32; 4],
}

/// Render attachments for one target configuration.
#[derive(Debug)]
struct Attachments {
    key: AttachKey,
    /// MSAA colour: one view (2D, or 2D array for multiview).
    color: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
    /// 2D single-sample texture the per-view MSAA path resolves into before copying to the layer.
    resolve: Option<wgpu::Texture>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AttachKey {
    width: u32,
    height: u32,
    layers: u32,
    samples: u32,
    format: wgpu::TextureFormat,
    resolve_copy: bool,
}

/// Per-frame GPU resources and CPU scratch reused across frames.
#[derive(Debug)]
pub(crate) struct FrameResources {
    frame_uniform: wgpu::Buffer,
    pass_stride: u32,
    bind_group: wgpu::BindGroup,
    instances: Option<wgpu::Buffer>,
    attachments: Option<Attachments>,
    // Scratch.
    visible: Vec<Vec<usize>>,
    matrices: Vec<Mat4>,
}

impl FrameResources {
    pub(crate) fn new(device: &wgpu::Device, layouts: &Layouts) -> FrameResources {
        let frame_uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sangam frame uniform"),
            size: std::mem::size_of::<FrameUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let pass_stride = device.limits().min_uniform_buffer_offset_alignment.max(16);
        let mut pass_data = vec![0u8; pass_stride as usize * MAX_VIEWS];
        for i in 0..MAX_VIEWS {
            let at = i * pass_stride as usize;
            pass_data[at..at + 4].copy_from_slice(&(i as u32).to_ne_bytes());
        }
        let pass_uniform = wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("sangam pass uniform"),
                contents: &pass_data,
                usage: wgpu::BufferUsages::UNIFORM,
            },
        );
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sangam frame bind group"),
            layout: &layouts.frame,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: frame_uniform.as_entire_binding() },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &pass_uniform,
                        offset: 0,
                        size: wgpu::BufferSize::new(16),
                    }),
                },
            ],
        });
        FrameResources {
            frame_uniform,
            pass_stride,
            bind_group,
            instances: None,
            attachments: None,
            visible: Vec::new(),
            matrices: Vec::new(),
        }
    }
}

/// A model's visible placements: a range of the instance buffer.
#[derive(Clone, Debug)]
struct ModelBatch {
    model: usize,
    instances: Range<u32>,
}

/// One blended (mesh, placement) pair, drawn back to front.
#[derive(Clone, Copy, Debug)]
struct BlendItem {
    distance2: f64,
    model: usize,
    draw: usize,
    instance: u32,
}

/// The five planes (left, right, bottom, top, near) of a reverse-Z infinite frustum, as
/// `a x + b y + c z + d >= 0` inside, from a clip-from-world matrix.
fn frustum_planes(clip_from_world: &DMat4) -> [DVec4; 5] {
    let r0 = clip_from_world.row(0);
    let r1 = clip_from_world.row(1);
    let r2 = clip_from_world.row(2);
    let r3 = clip_from_world.row(3);
    [r3 + r0, r3 - r0, r3 + r1, r3 - r1, r3 - r2]
}

/// Whether the box `bounds` transformed by `m` may intersect the frustum given by `planes`.
fn box_in_frustum(bounds: &Aabb, m: &DMat4, planes: &[DVec4; 5]) -> bool {
    let c = bounds.center().as_dvec3();
    let e = (bounds.size() * 0.5).as_dvec3();
    let wc = m.transform_point3(c);
    let ax = m.x_axis.truncate().abs();
    let ay = m.y_axis.truncate().abs();
    let az = m.z_axis.truncate().abs();
    let we = ax * e.x + ay * e.y + az * e.z;
    planes.iter().all(|p| {
        let n = p.truncate();
        n.dot(wc) + p.w + n.abs().dot(we) >= 0.0
    })
}

fn projection_f64(view: &View) -> DMat4 {
    crate::scene::reverse_z_infinite_projection(&view.fov, view.near).as_dmat4()
}

impl Renderer {
    /// Renders `views` (one per target layer) of `scene` into `target` and submits the work.
    ///
    /// Uses one multiview pass when the device supports it and `2 <= views.len() <= max`, else one
    /// pass per view. With timestamp queries ([`Renderer::gpu_timing_supported`]) the frame's GPU
    /// time is also queued for an asynchronous readback; this never waits for the GPU, and the
    /// returned [`FrameStats::gpu_time`] is the newest measurement already completed (see there).
    /// Returns an error (never panics) for a view count that does not match the target,
    /// an invalid field of view or position, or a wgpu validation error.
    pub fn render(
        &mut self,
        scene: &GpuScene,
        views: &[View],
        target: &RenderTarget,
    ) -> Result<FrameStats, RenderError> {
        self.render_with_overlay(scene, &Overlay::default(), views, target)
    }

    /// [`Renderer::render`], then `overlay` on top of the scene in the same pass(es): same MSAA colour
    /// target and depth buffer, in both the multiview and the per-view path. See [`crate::overlay`]
    /// for the drawing order, depth rules, colour interpretation and HUD placement. An empty overlay
    /// costs nothing.
    pub fn render_with_overlay(
        &mut self,
        scene: &GpuScene,
        overlay: &Overlay,
        views: &[View],
        target: &RenderTarget,
    ) -> Result<FrameStats, RenderError> {
        self.render_region_with_overlay(scene, overlay, views, target, Region::whole(target))
    }

    /// [`Renderer::render_with_overlay`] into `region` of `target` only (one half of a split view):
    /// the draws are confined to it (viewport and scissor), the overlay's heads-up text sits in its
    /// corners, and unless [`Region::clear_target`] what the target holds outside it stays. Draw a
    /// frame's regions one after another, the first with `clear_target`. A region outside the target
    /// is an error. Cost: with multisampling, a region that is not the whole target keeps the
    /// multisampled colour between passes (one more store per pass).
    pub fn render_region_with_overlay(
        &mut self,
        scene: &GpuScene,
        overlay: &Overlay,
        views: &[View],
        target: &RenderTarget,
        region: Region,
    ) -> Result<FrameStats, RenderError> {
        let start = Instant::now();
        let inside = region.width > 0
            && region.height > 0
            && u64::from(region.x) + u64::from(region.width) <= u64::from(target.width())
            && u64::from(region.y) + u64::from(region.height) <= u64::from(target.height());
        if !inside {
            return Err(RenderError::InvalidRequest(format!(
                "region {}x{} at ({}, {}) is not inside the {}x{} target",
                region.width,
                region.height,
                region.x,
                region.y,
                target.width(),
                target.height()
            )));
        }
        let n = views.len();
        if n == 0 || n > MAX_VIEWS {
            return Err(RenderError::InvalidRequest(format!(
                "{n} views given; between 1 and {MAX_VIEWS} are supported"
            )));
        }
        if n as u32 != target.layers() {
            return Err(RenderError::InvalidRequest(format!(
                "{n} views but the render target has {} array layers; give one layer per view",
                target.layers()
            )));
        }
        for (i, v) in views.iter().enumerate() {
            if !v.fov.is_valid()
                || !v.position.is_finite()
                || !v.orientation.is_finite()
                || v.near.is_nan()
                || v.near <= 0.0
            {
                return Err(RenderError::InvalidRequest(format!(
                    "view #{i} is unusable: position {:?}, fov {:?}, near {} (angles must be finite, within ±90°, \
                     left < right and down < up; near > 0)",
                    v.position, v.fov, v.near
                )));
            }
        }
        // GPU time: take in the readbacks that have finished (never waiting for the others).
        let gpu_time = self.gpu_timer.as_mut().and_then(|t| t.collect(&self.device));
        let multiview = self.uses_multiview(n);
        let samples = self.options.msaa_samples;
        let format = target.format();
        let mv_mask = if multiview { NonZeroU32::new((1u32 << n) - 1) } else { None };
        let key = PipelineKey { format, samples, multiview: mv_mask };
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        self.ensure_pipelines(key, &scene.classes);

        // Camera-relative view data, all computed in f64.
        let reference = views.iter().map(|v| v.position).sum::<DVec3>() / n as f64;
        let mut uniform = FrameUniform::zeroed();
        let mut planes = Vec::with_capacity(n);
        for (i, v) in views.iter().enumerate() {
            let proj = projection_f64(v);
            let view_from_rel = v.view_from_relative_world(reference);
            let clip_from_rel = proj * view_from_rel;
            planes.push(frustum_planes(&clip_from_rel));
            let rot_only = Mat4::from_quat(v.orientation.as_quat().inverse());
            let dir_from_clip = (proj.as_mat4() * rot_only).inverse();
            uniform.views[i] = ViewData {
                view_proj: clip_from_rel.as_mat4().to_cols_array(),
                dir_from_clip: dir_from_clip.to_cols_array(),
                eye: (v.position - reference).as_vec3().extend(1.0).to_array(),
            };
        }
        let env = &scene.environment;
        let sun = env.sun_direction.try_normalize().unwrap_or(Vec3::Z);
        uniform.sun_dir = sun.extend(0.0).to_array();
        uniform.sun_radiance = (env.sun_color * env.sun_illuminance.max(0.0)).extend(0.0).to_array();
        uniform.sky = env.sky_color.extend(1.0).to_array();
        uniform.ground = env.ground_color.extend(1.0).to_array();
        uniform.params = [env.exposure.max(0.0), 0.0, 0.0, 0.0];

        // Overlay geometry (nothing at all when empty).
        let mut stats = FrameStats { multiview, gpu_time, ..Default::default() };
        let draw_overlay = !overlay.is_empty();
        if draw_overlay {
            self.overlay.ensure_pipelines(&self.device, key);
            let oframe = OverlayFrame { views, reference, width: region.width, height: region.height };
            stats.overlay_primitives = self.overlay.prepare(&self.device, &self.queue, overlay, &oframe);
        }

        // Culling and instance building.
        let fr = &mut self.frame;
        fr.visible.resize_with(scene.models.len(), Vec::new);
        for v in &mut fr.visible {
            v.clear();
        }
        let mut skipped = 0usize;
        for (pi, p) in scene.placements.iter().enumerate() {
            let Some(model) = scene.models.get(p.model) else {
                skipped += 1;
                continue;
            };
            if model.draws.is_empty() {
                continue;
            }
            if !p.world_from_model.is_finite() {
                skipped += 1;
                continue;
            }
            let mut rel = p.world_from_model;
            rel.w_axis -= reference.extend(0.0);
            if planes.iter().any(|pl| box_in_frustum(&model.bounds, &rel, pl)) {
                fr.visible[p.model].push(pi);
            } else {
                stats.instances_culled += 1;
            }
        }
        if skipped > 0 {
            tracing::debug!("{skipped} placements skipped (unknown model index or non-finite transform)");
        }
        fr.matrices.clear();
        let mut batches = Vec::new();
        let mut blend = Vec::new();
        for (mi, list) in fr.visible.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let model = &scene.models[mi];
            let first = fr.matrices.len() as u32;
            for &pi in list {
                let m = relative_matrix(&scene.placements[pi].world_from_model, reference);
                let instance = fr.matrices.len() as u32;
                fr.matrices.push(m);
                if model.has_blend {
                    let m64 = {
                        let mut r = scene.placements[pi].world_from_model;
                        r.w_axis -= reference.extend(0.0);
                        r
                    };
                    for (di, d) in model.draws.iter().enumerate() {
                        if d.class.blend {
                            let c = m64.transform_point3(d.bounds.center().as_dvec3());
                            blend.push(BlendItem { distance2: c.length_squared(), model: mi, draw: di, instance });
                        }
                    }
                }
            }
            let count = list.len() as u32;
            stats.instances_drawn += count;
            stats.triangles += model.triangles * u64::from(count);
            batches.push(ModelBatch { model: mi, instances: first..first + count });
        }
        blend.sort_by(|a, b| b.distance2.total_cmp(&a.distance2));

        // Upload per-frame data.
        self.queue.write_buffer(&fr.frame_uniform, 0, bytemuck::bytes_of(&uniform));
        let needed = (fr.matrices.len().max(1) * 64) as u64;
        if fr.instances.as_ref().is_none_or(|b| b.size() < needed) {
            fr.instances = Some(self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sangam instances"),
                size: needed.next_power_of_two().max(64 * 256),
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        let instance_buffer = fr.instances.clone().ok_or_else(|| RenderError::InvalidRequest("no buffer".into()))?;
        if !fr.matrices.is_empty() {
            self.queue.write_buffer(&instance_buffer, 0, bytemuck::cast_slice(&fr.matrices));
        }

        // Attachments.
        let resolve_copy = !multiview
            && samples > 1
            && target.layers() > 1
            && target.texture().usage().contains(wgpu::TextureUsages::COPY_DST);
        let akey = AttachKey {
            width: target.width(),
            height: target.height(),
            layers: if multiview { n as u32 } else { 1 },
            samples,
            format,
            resolve_copy,
        };
        if fr.attachments.as_ref().is_none_or(|a| a.key != akey) {
            fr.attachments = Some(create_attachments(&self.device, akey));
        }
        let Some(att) = fr.attachments.as_ref() else {
            return Err(RenderError::InvalidRequest("attachments missing".into()));
        };

        let pipelines =
            self.pipelines.get(&key).ok_or_else(|| RenderError::InvalidRequest("pipelines missing".into()))?;
        let ctx = DrawContext {
            scene,
            pipelines: &pipelines.mesh,
            sky: env.draw_sky.then_some(&pipelines.sky),
            instances: &instance_buffer,
            batches: &batches,
            blend: &blend,
        };
        let clear = if env.draw_sky { wgpu::Color::BLACK } else { wgpu::Color::TRANSPARENT };
        // A readback slot for this frame's timestamps; none free (all in flight): not measured.
        let timer = self.gpu_timer.as_ref();
        let query = timer.and_then(|t| t.begin_frame());
        let timestamps = |index: usize, count: usize| match (timer, query) {
            (Some(t), Some(_)) => Some(t.pass_writes(index, count)),
            _ => None,
        };
        let confine = Confine { region, whole: region.is_whole(target) };
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("sangam frame") });
        if multiview {
            let (view, resolve) = match &att.color {
                Some(msaa) => (msaa, Some(&target.array_view)),
                None => (&target.array_view, None),
            };
            let mut pass =
                begin_pass(&mut encoder, view, resolve, &att.depth, clear, mv_mask, timestamps(0, 1), &confine);
            confine.apply(&mut pass);
            pass.set_bind_group(0, &fr.bind_group, &[0]);
            stats.draw_calls += ctx.record(&mut pass);
            if draw_overlay {
                self.overlay.record(&mut pass, key);
            }
        } else {
            for i in 0..n {
                let layer = &target.layer_views[i];
                let resolve_view;
                let (view, resolve) = match (&att.color, &att.resolve) {
                    (Some(msaa), Some(tex)) => {
                        resolve_view = tex.create_view(&Default::default());
                        (msaa, Some(&resolve_view))
                    }
                    (Some(msaa), None) => (msaa, Some(layer)),
                    (None, _) => (layer, None),
                };
                {
                    let mut pass =
                        begin_pass(&mut encoder, view, resolve, &att.depth, clear, None, timestamps(i, n), &confine);
                    confine.apply(&mut pass);
                    pass.set_bind_group(0, &fr.bind_group, &[i as u32 * fr.pass_stride]);
                    stats.draw_calls += ctx.record(&mut pass);
                    if draw_overlay {
                        self.overlay.record(&mut pass, key);
                    }
                }
                if let (Some(_), Some(tex)) = (&att.color, &att.resolve) {
                    encoder.copy_texture_to_texture(
                        tex.as_image_copy(),
                        wgpu::TexelCopyTextureInfo {
                            texture: target.texture(),
                            mip_level: 0,
                            origin: wgpu::Origin3d { x: 0, y: 0, z: i as u32 },
                            aspect: wgpu::TextureAspect::All,
                        },
                        wgpu::Extent3d { width: target.width(), height: target.height(), depth_or_array_layers: 1 },
                    );
                }
            }
        }
        if let (Some(t), Some(q)) = (timer, query) {
            t.resolve(&mut encoder, q);
        }
        stats.cpu_encode_time = start.elapsed();
        self.queue.submit([encoder.finish()]);
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Wgpu { operation: "rendering a frame", message: err.to_string() });
        }
        // Only a frame submitted without errors has timestamps worth reading back.
        if let (Some(t), Some(q)) = (self.gpu_timer.as_mut(), query) {
            t.submitted(q);
        }
        Ok(stats)
    }
}

/// Where in the target a pass draws: the whole of it, or a region (viewport and scissor).
struct Confine {
    region: Region,
    whole: bool,
}

impl Confine {
    fn apply(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.whole {
            return;
        }
        let r = self.region;
        pass.set_viewport(r.x as f32, r.y as f32, r.width as f32, r.height as f32, 0.0, 1.0);
        pass.set_scissor_rect(r.x, r.y, r.width, r.height);
    }
}

#[allow(clippy::too_many_arguments)] // one pass's attachments and options, each different
fn begin_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    resolve: Option<&wgpu::TextureView>,
    depth: &wgpu::TextureView,
    clear: wgpu::Color,
    multiview_mask: Option<NonZeroU32>,
    timestamp_writes: Option<wgpu::RenderPassTimestampWrites<'_>>,
    confine: &Confine,
) -> wgpu::RenderPass<'e> {
    // A region keeps what the target holds outside it: loaded, and a multisampled colour kept for the
    // next region's pass (its resolve writes the whole target).
    let load = if confine.region.clear_target { wgpu::LoadOp::Clear(clear) } else { wgpu::LoadOp::Load };
    let keep = resolve.is_none() || !confine.whole;
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("sangam main pass"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: resolve,
            ops: wgpu::Operations { load, store: if keep { wgpu::StoreOp::Store } else { wgpu::StoreOp::Discard } },
        })],
        depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
            view: depth,
            depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(0.0), store: wgpu::StoreOp::Discard }),
            stencil_ops: None,
        }),
        timestamp_writes,
        occlusion_query_set: None,
        multiview_mask,
    })
}

fn create_attachments(device: &wgpu::Device, key: AttachKey) -> Attachments {
    let size = wgpu::Extent3d { width: key.width, height: key.height, depth_or_array_layers: key.layers };
    let dim = if key.layers > 1 { wgpu::TextureViewDimension::D2Array } else { wgpu::TextureViewDimension::D2 };
    let make = |label, format, samples, layers: u32| {
        device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d { depth_or_array_layers: layers, ..size },
            mip_level_count: 1,
            sample_count: samples,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        })
    };
    let view =
        |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor { dimension: Some(dim), ..Default::default() });
    let color = (key.samples > 1).then(|| view(&make("sangam msaa colour", key.format, key.samples, key.layers)));
    let depth = view(&make("sangam depth", DEPTH_FORMAT, key.samples, key.layers));
    let resolve = key.resolve_copy.then(|| make("sangam resolve", key.format, 1, 1));
    Attachments { key, color, depth, resolve }
}

/// Everything needed to record the draws of one pass.
struct DrawContext<'a> {
    scene: &'a GpuScene,
    pipelines: &'a std::collections::HashMap<PipelineClass, wgpu::RenderPipeline>,
    sky: Option<&'a wgpu::RenderPipeline>,
    instances: &'a wgpu::Buffer,
    batches: &'a [ModelBatch],
    blend: &'a [BlendItem],
}

impl DrawContext<'_> {
    /// Records opaque batches, the sky, then blended items; returns the number of mesh draws.
    fn record(&self, pass: &mut wgpu::RenderPass<'_>) -> u32 {
        let mut draws = 0;
        let mut current_pipeline: Option<PipelineClass> = None;
        let mut current_material: Option<(usize, usize)> = None;
        pass.set_vertex_buffer(1, self.instances.slice(..));
        for batch in self.batches {
            let model = &self.scene.models[batch.model];
            let (Some(vb), Some(ib)) = (&model.vertex_buffer, &model.index_buffer) else { continue };
            pass.set_vertex_buffer(0, vb.slice(..));
            pass.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
            for d in &model.draws {
                let material = &model.materials[d.material];
                if d.class.blend {
                    continue;
                }
                if current_pipeline != Some(d.class) {
                    let Some(p) = self.pipelines.get(&d.class) else { continue };
                    pass.set_pipeline(p);
                    current_pipeline = Some(d.class);
                }
                if current_material != Some((batch.model, d.material)) {
                    pass.set_bind_group(1, &material.bind_group, &[]);
                    current_material = Some((batch.model, d.material));
                }
                pass.set_bind_group(2, &self.scene.submesh_bind_group, &[d.submesh_offset]);
                pass.draw_indexed(d.indices.clone(), d.base_vertex, batch.instances.clone());
                draws += 1;
            }
        }
        if let Some(sky) = self.sky {
            pass.set_pipeline(sky);
            pass.draw(0..3, 0..1);
            current_pipeline = None;
        }
        let mut current_model = None;
        for item in self.blend {
            let model = &self.scene.models[item.model];
            let (Some(vb), Some(ib)) = (&model.vertex_buffer, &model.index_buffer) else { continue };
            if current_model != Some(item.model) {
                pass.set_vertex_buffer(0, vb.slice(..));
                pass.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
                current_model = Some(item.model);
            }
            let d = &model.draws[item.draw];
            let material = &model.materials[d.material];
            if current_pipeline != Some(d.class) {
                let Some(p) = self.pipelines.get(&d.class) else { continue };
                pass.set_pipeline(p);
                current_pipeline = Some(d.class);
            }
            if current_material != Some((item.model, d.material)) {
                pass.set_bind_group(1, &material.bind_group, &[]);
                current_material = Some((item.model, d.material));
            }
            pass.set_bind_group(2, &self.scene.submesh_bind_group, &[d.submesh_offset]);
            pass.draw_indexed(d.indices.clone(), d.base_vertex, item.instance..item.instance + 1);
            draws += 1;
        }
        draws
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Fov;

    #[test]
    fn culling_keeps_front_and_drops_behind() {
        let v = View::look_at(DVec3::ZERO, DVec3::Y, DVec3::Z, Fov::symmetric(1.0, 1.0));
        let planes = frustum_planes(&(projection_f64(&v) * v.view_from_relative_world(DVec3::ZERO)));
        let unit = Aabb { min: Vec3::splat(-0.5), max: Vec3::splat(0.5) };
        let at = |p: DVec3| DMat4::from_translation(p);
        assert!(box_in_frustum(&unit, &at(DVec3::new(0.0, 10.0, 0.0)), &planes));
        assert!(!box_in_frustum(&unit, &at(DVec3::new(0.0, -10.0, 0.0)), &planes));
        assert!(!box_in_frustum(&unit, &at(DVec3::new(100.0, 10.0, 0.0)), &planes));
        // Very far away but straight ahead: the far plane is at infinity.
        assert!(box_in_frustum(&unit, &at(DVec3::new(0.0, 1.0e7, 0.0)), &planes));
        // Straddling the near plane counts as visible.
        assert!(box_in_frustum(&unit, &at(DVec3::ZERO), &planes));
    }
}
