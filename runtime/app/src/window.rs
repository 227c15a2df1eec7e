//! The desktop window front end (winit): the site rendered every frame from the interactive camera,
//! driven by mouse and keyboard through the shared [`Interaction`](crate::interaction::Interaction).
//!
//! The renderer runs on a device created for the window's surface (same Vulkan instance), through
//! [`Renderer::from_device_with`]; nothing in `sangam-render` knows about windows. Surface `Lost` /
//! `Outdated` reconfigure (recreate) the surface and skip the frame; closing the window, Escape, or
//! reaching `--frames` exits cleanly. Frame timing goes to the title twice a second and, with
//! `--stats`, to stdout at exit. Bindings: [`crate::interaction::desktop`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use sangam_render::gpu::{DEPTH_FORMAT, FrameStats, GpuScene, RenderTarget, Renderer, RendererOptions};
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{KeyCode, PhysicalKey};
use winit::platform::run_on_demand::EventLoopExtRunOnDemand;
use winit::window::{Window, WindowId};

use crate::frontend::{FrameTimer, FrameUpdate, RunArgs, SiteSession};
use crate::interaction::desktop::{Button, DesktopInput, Key};
use crate::interaction::{InteractionEvent, TwinMode};

/// How often the title's timing refreshes.
const TITLE_PERIOD: Duration = Duration::from_millis(500);

thread_local! {
    /// The event loop, kept for the next window: winit allows one per process, so a window opened again
    /// (after the XR runtime came back and was lost once more) runs on the same loop.
    static EVENT_LOOP: std::cell::RefCell<Option<EventLoop<()>>> = const { std::cell::RefCell::new(None) };
}

/// Opens a window on the site and runs until it is closed (or `--frames` frames were presented).
pub fn run(session: SiteSession, args: &RunArgs) -> Result<()> {
    run_until(session, args, None).map(drop)
}

/// Like [`run`], also closing the window when `xr_watch` sees the XR runtime return: then the site is
/// handed back (`Some`).
pub fn run_until(
    session: SiteSession,
    args: &RunArgs,
    xr_watch: Option<&crate::frontend::XrWatch>,
) -> Result<Option<SiteSession>> {
    let mut event_loop = match EVENT_LOOP.with(|cell| cell.borrow_mut().take()) {
        Some(event_loop) => event_loop,
        None => EventLoop::new().context("could not connect to the display for a window")?,
    };
    event_loop.set_control_flow(ControlFlow::Poll);
    let layers = session.interaction.layers().count();
    let mut app = WindowApp {
        xr_watch,
        xr_back: false,
        session,
        frames_wanted: args.frames,
        stats: args.stats,
        size: PhysicalSize::new(args.size.width, args.size.height),
        gfx: None,
        input: DesktopInput::new(layers),
        timer: FrameTimer::new(Duration::from_secs_f64(1.0 / 60.0)),
        presented: 0,
        skipped: 0,
        reconfigured: 0,
        last_frame: None,
        last_title: Instant::now(),
        last_stats: FrameStats::default(),
        status: String::new(),
        error: None,
    };
    let result = event_loop.run_app_on_demand(&mut app);
    EVENT_LOOP.with(|cell| *cell.borrow_mut() = Some(event_loop));
    result.context("the window's event loop failed")?;
    let adapter = app.gfx.as_ref().map(|g| g.renderer.adapter_info().name.clone()).unwrap_or_default();
    drop(app.gfx.take());
    if let Some(e) = app.error {
        return Err(e);
    }
    println!(
        "window: presented {} frames on {} ({} skipped, {} surface reconfigurations); frame time {}",
        app.presented,
        if adapter.is_empty() { "no adapter" } else { &adapter },
        app.skipped,
        app.reconfigured,
        app.timer.frame_stats()
    );
    if app.stats {
        println!(
            "stats: cpu encode {}\nstats: gpu {}\nstats: frame {}\nstats: missed frames (over {:.1} ms): {}\nstats: last \
             frame {} draw calls, {} instances drawn, {} culled, {} triangles",
            app.timer.encode_stats(),
            app.timer.gpu_stats().map_or_else(|| "not measured (no timestamp queries)".to_string(), |g| g.to_string()),
            app.timer.frame_stats(),
            app.timer.budget().as_secs_f64() * 1e3 * 1.5,
            app.timer.missed(),
            app.last_stats.draw_calls,
            app.last_stats.instances_drawn,
            app.last_stats.instances_culled,
            app.last_stats.triangles
        );
        for line in app.session.core.status_lines() {
            println!("stats: {line}");
        }
    }
    if let Some(path) = &args.stats_json {
        crate::frontend::write_stats_json(&app.session.core, path)?;
    }
    Ok(app.xr_back.then_some(app.session))
}

/// Everything that lives as long as the window.
struct Gfx {
    // Field order is drop order: the surface goes before the window it draws into.
    surface: wgpu::Surface<'static>,
    instance: wgpu::Instance,
    config: wgpu::SurfaceConfiguration,
    renderer: Renderer,
    scene: GpuScene,
    window: Arc<Window>,
}

struct WindowApp<'w> {
    /// Watching for the XR runtime to return (after a lost XR session).
    xr_watch: Option<&'w crate::frontend::XrWatch>,
    /// The window closed because the XR runtime returned.
    xr_back: bool,
    session: SiteSession,
    frames_wanted: Option<u64>,
    stats: bool,
    size: PhysicalSize<u32>,
    gfx: Option<Gfx>,
    input: DesktopInput,
    timer: FrameTimer,
    presented: u64,
    skipped: u64,
    reconfigured: u64,
    last_frame: Option<Instant>,
    last_title: Instant,
    last_stats: FrameStats,
    status: String,
    error: Option<anyhow::Error>,
}

impl WindowApp<'_> {
    fn fail(&mut self, event_loop: &ActiveEventLoop, e: anyhow::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        event_loop.exit();
    }

    fn create_gfx(&self, event_loop: &ActiveEventLoop) -> Result<Gfx> {
        let title = format!("Sangam — {}", self.session.site.twin.name);
        let attrs = Window::default_attributes().with_title(title).with_inner_size(self.size);
        let window = Arc::new(event_loop.create_window(attrs).context("could not create a window")?);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let surface = instance.create_surface(Arc::clone(&window)).context("could not create a Vulkan surface")?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: Some(&surface),
            apply_limit_buckets: false,
        }))
        .context("no Vulkan adapter can present to this window (install a Vulkan driver, or mesa-vulkan-drivers)")?;
        let info = adapter.get_info();
        let caps = surface.get_capabilities(&adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| matches!(f, wgpu::TextureFormat::Bgra8UnormSrgb | wgpu::TextureFormat::Rgba8UnormSrgb))
            .or_else(|| caps.formats.iter().copied().find(|f| f.is_srgb()))
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| anyhow!("adapter {} offers no format for this window's surface", info.name))?;
        if !format.is_srgb() {
            tracing::warn!("window surface format {format:?} is not sRGB; colours will look too dark");
        }
        let msaa = if [format, DEPTH_FORMAT]
            .iter()
            .all(|f| adapter.get_texture_format_features(*f).flags.sample_count_supported(4))
        {
            4
        } else {
            1
        };
        let wanted = wgpu::Features::MULTIVIEW | wgpu::Features::MULTISAMPLE_ARRAY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("sangam window device"),
            required_features: adapter.features() & wanted,
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .with_context(|| format!("could not create a device on {}", info.name))?;
        let renderer = Renderer::from_device_with(
            info,
            device,
            queue,
            RendererOptions { msaa_samples: msaa, ..Default::default() },
        );
        let mut scene = renderer.upload(&self.session.site.scene)?;
        scene.set_placements(self.session.interaction.placements(&self.session.site.scene.placements));
        let size = window.inner_size();
        let present_mode = if caps.present_modes.contains(&wgpu::PresentMode::Fifo) {
            wgpu::PresentMode::Fifo
        } else {
            caps.present_modes.first().copied().unwrap_or(wgpu::PresentMode::Fifo)
        };
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            color_space: wgpu::SurfaceColorSpace::Auto,
            width: size.width.max(1),
            height: size.height.max(1),
            present_mode,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps.alpha_modes.first().copied().unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
        };
        surface.configure(renderer.device(), &config);
        tracing::info!(
            "window {}x{} on {} ({format:?}, {present_mode:?}, {msaa}x MSAA)",
            config.width,
            config.height,
            renderer.adapter_info().name
        );
        Ok(Gfx { surface, instance, config, renderer, scene, window })
    }

    /// One frame: input -> interaction -> render -> present.
    fn frame(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let Some(gfx) = self.gfx.as_mut() else { return Ok(()) };
        let now = Instant::now();
        let dt = self.last_frame.map_or(Duration::ZERO, |t| now - t);
        let (w, h) = (gfx.config.width, gfx.config.height);
        let split = crate::panes::panes(&self.session).len() > 1;
        let input = self.input.take_frame_split(dt, &self.session.interaction.camera, w, h, split);
        let FrameUpdate { outcome, .. } = self.session.frame(&input);
        if outcome.placements_changed {
            gfx.scene.set_placements(self.session.interaction.placements(&self.session.site.scene.placements));
        }
        for event in &outcome.events {
            report(event, &self.session);
        }
        if self.input.layer_cursor_moved() {
            let i = self.input.current_layer();
            if let Some((layer, shown)) = self.session.interaction.layers().nth(i) {
                println!(
                    "current layer: {} ({}); L shows/hides it",
                    layer.name,
                    if shown { "shown" } else { "hidden" }
                );
            }
        }

        let (texture, suboptimal) = match gfx.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t) => (t, false),
            // Still drawable; reconfigured after presenting.
            wgpu::CurrentSurfaceTexture::Suboptimal(t) => (t, true),
            wgpu::CurrentSurfaceTexture::Timeout | wgpu::CurrentSurfaceTexture::Occluded => {
                self.skipped += 1;
                return Ok(());
            }
            wgpu::CurrentSurfaceTexture::Outdated => {
                gfx.surface.configure(gfx.renderer.device(), &gfx.config);
                self.reconfigured += 1;
                self.skipped += 1;
                return Ok(());
            }
            wgpu::CurrentSurfaceTexture::Lost => {
                gfx.surface = gfx
                    .instance
                    .create_surface(Arc::clone(&gfx.window))
                    .context("the window surface was lost and could not be recreated")?;
                gfx.surface.configure(gfx.renderer.device(), &gfx.config);
                self.reconfigured += 1;
                self.skipped += 1;
                return Ok(());
            }
            wgpu::CurrentSurfaceTexture::Validation => {
                let errors = gfx.renderer.take_uncaptured_errors().join("; ");
                return Err(anyhow!("wgpu rejected acquiring the window's next image: {errors}"));
            }
        };
        let stats = draw(gfx, &self.session, &self.status, texture)?;
        if suboptimal {
            gfx.surface.configure(gfx.renderer.device(), &gfx.config);
            self.reconfigured += 1;
        }
        self.finish_frame(event_loop, now, stats);
        Ok(())
    }

    fn finish_frame(&mut self, event_loop: &ActiveEventLoop, now: Instant, stats: FrameStats) {
        if let Some(prev) = self.last_frame {
            self.timer.record(stats.cpu_encode_time, now - prev);
            self.timer.record_gpu(stats.gpu_time);
        }
        self.last_frame = Some(now);
        self.last_stats = stats;
        self.presented += 1;
        if now - self.last_title >= TITLE_PERIOD {
            self.last_title = now;
            self.update_title();
        }
        if self.frames_wanted.is_some_and(|n| self.presented >= n) {
            event_loop.exit();
        }
    }

    fn update_title(&mut self) {
        let Some(gfx) = self.gfx.as_ref() else { return };
        let ia = &self.session.interaction;
        let f = self.timer.frame_stats();
        let e = self.timer.encode_stats();
        let fps = if f.mean.is_zero() { 0.0 } else { 1.0 / f.mean.as_secs_f64() };
        let clock = self.session.clock_line();
        let mode = match ia.mode() {
            TwinMode::WalkThrough => "1:1",
            TwinMode::Tabletop => "tabletop",
        };
        let selected = ia
            .selection()
            .map(|s| {
                format!(" | selected {}", s.entity.as_ref().map_or_else(|| s.target.to_string(), |e| e.to_string()))
            })
            .unwrap_or_default();
        self.status = format!(
            "Sangam — {} | {fps:.0} fps, frame {:.1} ms, encode {:.2} ms, gpu {}, missed {} | {mode} | {clock}{selected}",
            self.session.site.twin.name,
            f.mean.as_secs_f64() * 1e3,
            e.mean.as_secs_f64() * 1e3,
            self.timer
                .gpu_stats()
                .map_or_else(|| "n/a".to_string(), |g| format!("{:.2} ms", g.mean.as_secs_f64() * 1e3)),
            self.timer.missed(),
        );
        gfx.window.set_title(&self.status);
    }

    fn resize(&mut self, size: PhysicalSize<u32>) {
        let Some(gfx) = self.gfx.as_mut() else { return };
        if size.width == 0 || size.height == 0 {
            return; // minimised: keep the old configuration, frames are skipped as occluded
        }
        gfx.config.width = size.width;
        gfx.config.height = size.height;
        gfx.surface.configure(gfx.renderer.device(), &gfx.config);
        self.reconfigured += 1;
    }
}

/// Renders the camera's view of the frame's panes ([`crate::panes`]: one, or a split comparison) with
/// their overlays into the surface image and presents it.
fn draw(gfx: &mut Gfx, session: &SiteSession, status: &str, texture: wgpu::SurfaceTexture) -> Result<FrameStats> {
    let target = RenderTarget::from_texture(texture.texture.clone())?;
    let stats = crate::panes::draw(&mut gfx.renderer, &gfx.scene, session, Some(status), &target)?;
    gfx.window.pre_present_notify();
    gfx.renderer.queue().present(texture);
    let errors = gfx.renderer.take_uncaptured_errors();
    if !errors.is_empty() {
        return Err(anyhow!("wgpu reported errors while drawing the window: {}", errors.join("; ")));
    }
    Ok(stats)
}

/// Tells the user what an interaction event did (stdout: selections and the inspector).
pub(crate) fn report(event: &InteractionEvent, session: &SiteSession) {
    match event {
        InteractionEvent::Selected(s) => {
            let what = s.entity.as_ref().map_or_else(|| s.target.to_string(), |e| format!("{e} ({})", s.target));
            println!("selected: {what}");
            if let Some(ins) = session.interaction.inspector(session.store(), session.core.display_time()) {
                println!("  {} [{}] at {}", ins.name, ins.kind, ins.at);
                for row in &ins.rows {
                    println!("  {}: {}", row.property, row.value);
                }
            }
        }
        InteractionEvent::Deselected => println!("selection cleared"),
        InteractionEvent::Haptic(_) => {}
        InteractionEvent::Teleported(p) => println!("teleported to ({:.1}, {:.1}, {:.1})", p.x, p.y, p.z),
        InteractionEvent::ModeChanged(m) => println!("twin mode: {m:?}"),
        InteractionEvent::LayerToggled { name, visible, .. } => {
            println!("layer {name}: {}", if *visible { "shown" } else { "hidden" })
        }
        InteractionEvent::PlayPause { playing } => println!("{}", if *playing { "playing" } else { "paused" }),
        InteractionEvent::Scrubbed(t) => println!("playhead at {t}"),
        InteractionEvent::Stepped(t) => println!("stepped to {t}"),
        InteractionEvent::Rate(r) => println!("clock rate x{r}"),
        InteractionEvent::Bookmark(name) => println!("bookmark: {name}"),
    }
}

fn map_key(code: KeyCode) -> Option<Key> {
    Some(match code {
        KeyCode::KeyW => Key::W,
        KeyCode::KeyA => Key::A,
        KeyCode::KeyS => Key::S,
        KeyCode::KeyD => Key::D,
        KeyCode::KeyQ => Key::Q,
        KeyCode::KeyE => Key::E,
        KeyCode::KeyT => Key::T,
        KeyCode::KeyL => Key::L,
        KeyCode::KeyK => Key::K,
        KeyCode::KeyV => Key::V,
        KeyCode::KeyP => Key::P,
        KeyCode::ArrowUp => Key::Up,
        KeyCode::ArrowDown => Key::Down,
        KeyCode::ArrowLeft => Key::Left,
        KeyCode::ArrowRight => Key::Right,
        KeyCode::Digit1 => Key::Digit(1),
        KeyCode::Digit2 => Key::Digit(2),
        KeyCode::Digit3 => Key::Digit(3),
        KeyCode::Digit4 => Key::Digit(4),
        KeyCode::Digit5 => Key::Digit(5),
        KeyCode::Digit6 => Key::Digit(6),
        KeyCode::Digit7 => Key::Digit(7),
        KeyCode::Digit8 => Key::Digit(8),
        KeyCode::Digit9 => Key::Digit(9),
        KeyCode::Space => Key::Space,
        KeyCode::BracketLeft => Key::BracketLeft,
        KeyCode::BracketRight => Key::BracketRight,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Tab => Key::Tab,
        KeyCode::ShiftLeft | KeyCode::ShiftRight => Key::Shift,
        _ => return None,
    })
}

impl ApplicationHandler for WindowApp<'_> {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_some() || self.error.is_some() {
            return;
        }
        match self.create_gfx(event_loop) {
            Ok(gfx) => {
                gfx.window.request_redraw();
                self.gfx = Some(gfx);
            }
            Err(e) => self.fail(event_loop, e),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested | WindowEvent::Destroyed => event_loop.exit(),
            WindowEvent::Resized(size) => self.resize(size),
            WindowEvent::RedrawRequested => {
                if let Err(e) = self.frame(event_loop) {
                    self.fail(event_loop, e);
                }
            }
            WindowEvent::CursorMoved { position, .. } => self.input.cursor_moved(position.x, position.y),
            WindowEvent::CursorLeft { .. } => self.input.cursor_left(),
            WindowEvent::MouseInput { state, button, .. } => {
                let pressed = state == ElementState::Pressed;
                match button {
                    MouseButton::Left => self.input.button(Button::Left, pressed),
                    MouseButton::Right => self.input.button(Button::Right, pressed),
                    _ => {}
                }
            }
            WindowEvent::MouseWheel { delta, .. } => self.input.wheel(match delta {
                MouseScrollDelta::LineDelta(_, y) => f64::from(y),
                MouseScrollDelta::PixelDelta(p) => p.y / 40.0,
            }),
            WindowEvent::KeyboardInput { event, .. } => {
                if let PhysicalKey::Code(code) = event.physical_key {
                    if code == KeyCode::Escape && event.state == ElementState::Pressed {
                        event_loop.exit();
                    } else if let Some(key) = map_key(code) {
                        self.input.key(key, event.state == ElementState::Pressed, event.repeat);
                    }
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if self.xr_watch.is_some_and(crate::frontend::XrWatch::returned) {
            // Back to the headset: close the window (dropping the surface and window) and hand the
            // site back.
            self.xr_back = true;
            self.gfx = None;
            event_loop.exit();
            return;
        }
        if let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
    }
}
