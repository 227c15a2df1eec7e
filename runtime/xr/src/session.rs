//! The OpenXR session: instance, system, wgpu on the runtime's device, swapchain, reference space,
//! the session state machine and the frame loop.
// The Vulkan / OpenXR boundary (see the workspace lint policy): each block says why it is sound.
#![allow(unsafe_code)]

use std::time::{Duration, Instant};

use glam::DMat4;
use sangam_render::gpu::{GpuScene, RenderTarget, Renderer, RendererOptions};
use sangam_render::overlay::Overlay;
use sangam_render::scene::View;

use crate::convert::view_from_openxr;
use crate::error::{XrError, XrResult, is_loss};
use crate::input::{ActionSpaces, Actions, Hand, HapticPulse, InputState};
use crate::stats::{FrameTiming, FrameTimingSummary};
use crate::vk;

/// The view configuration Sangam renders: two eyes.
const VIEW_CONFIG: openxr::ViewConfigurationType = openxr::ViewConfigurationType::PRIMARY_STEREO;

/// How the rendered image meets the real world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BlendPreference {
    /// Virtual reality: the image replaces the world (`OPAQUE`).
    #[default]
    Opaque,
    /// See-through AR on site: the twin's overlays over the real world (`ALPHA_BLEND`, else
    /// `ADDITIVE`), when the runtime offers it; opaque otherwise (reported in [`SessionInfo`]).
    SeeThrough,
}

/// The environment blend mode in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlendMode {
    /// The image replaces the world.
    Opaque,
    /// The image is alpha-blended over the world (pass-through video or optical).
    AlphaBlend,
    /// The image is added to the world (optical see-through: black is transparent).
    Additive,
}

impl BlendMode {
    /// Whether the real world shows through: the app then hides sky and ground
    /// (`Environment::draw_sky = false`).
    pub fn is_see_through(self) -> bool {
        self != BlendMode::Opaque
    }

    fn to_openxr(self) -> openxr::EnvironmentBlendMode {
        match self {
            BlendMode::Opaque => openxr::EnvironmentBlendMode::OPAQUE,
            BlendMode::AlphaBlend => openxr::EnvironmentBlendMode::ALPHA_BLEND,
            BlendMode::Additive => openxr::EnvironmentBlendMode::ADDITIVE,
        }
    }
}

/// Chooses the blend mode from what the runtime offers.
pub(crate) fn choose_blend_mode(offered: &[openxr::EnvironmentBlendMode], pref: BlendPreference) -> Option<BlendMode> {
    use openxr::EnvironmentBlendMode as E;
    let order: &[(E, BlendMode)] = match pref {
        BlendPreference::Opaque => &[(E::OPAQUE, BlendMode::Opaque)],
        BlendPreference::SeeThrough => &[
            (E::ALPHA_BLEND, BlendMode::AlphaBlend),
            (E::ADDITIVE, BlendMode::Additive),
            (E::OPAQUE, BlendMode::Opaque),
        ],
    };
    order.iter().find(|(e, _)| offered.contains(e)).map(|(_, m)| *m).or_else(|| {
        // A see-through-only device asked for VR still renders (its only mode).
        offered.iter().find_map(|e| match *e {
            E::ALPHA_BLEND => Some(BlendMode::AlphaBlend),
            E::ADDITIVE => Some(BlendMode::Additive),
            E::OPAQUE => Some(BlendMode::Opaque),
            _ => None,
        })
    })
}

/// Settings of an XR session.
#[derive(Clone, Debug)]
pub struct XrOptions {
    /// Application name shown by the runtime.
    pub app_name: String,
    /// VR or see-through AR.
    pub blend: BlendPreference,
    /// Renderer settings (MSAA, multiview policy).
    pub renderer: RendererOptions,
    /// Swapchain size relative to the runtime's recommended size (0.25 to the runtime's maximum):
    /// below 1 trades sharpness for GPU time.
    pub resolution_scale: f32,
    /// Near plane distance in metres (the far plane is at infinity, reverse-Z).
    pub near: f32,
    /// Ask the runtime to end the session after this many submitted frames.
    pub max_frames: Option<u64>,
    /// Ask the runtime to end the session after this long.
    pub max_duration: Option<Duration>,
    /// How long to wait for the runtime to make the session READY, and for each frame call.
    pub start_timeout: Duration,
    /// How long to wait for EXITING after asking the runtime to end the session.
    pub exit_timeout: Duration,
    /// Last resort against a runtime that stops answering without dying (a frozen service blocks
    /// `xrWaitFrame` forever): when the frame loop makes no progress for this long, the process
    /// prints why and exits with status 3. `None` disables it (then a frozen runtime can hang the
    /// caller). A dead runtime is detected without it: its calls fail and [`XrError::RuntimeLost`]
    /// is returned.
    pub stall_limit: Option<Duration>,
    /// Read back both eye images from the swapchain after rendering this frame (0-based index of
    /// rendered frames), into [`XrRunSummary::capture`]. For tests and screenshots.
    pub capture_frame: Option<u64>,
}

impl Default for XrOptions {
    fn default() -> Self {
        XrOptions {
            app_name: "Sangam".into(),
            blend: BlendPreference::Opaque,
            renderer: RendererOptions::default(),
            resolution_scale: 1.0,
            near: View::DEFAULT_NEAR,
            max_frames: None,
            max_duration: None,
            start_timeout: Duration::from_secs(10),
            exit_timeout: Duration::from_secs(5),
            stall_limit: Some(Duration::from_secs(30)),
            capture_frame: None,
        }
    }
}

/// The session states of OpenXR (`XrSessionState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SessionState {
    /// Created, not ready to begin.
    Idle,
    /// Ready: the app begins the session.
    Ready,
    /// Frames are synchronised with the display but not shown.
    Synchronized,
    /// Shown, without input focus.
    Visible,
    /// Shown with input focus.
    Focused,
    /// The runtime asks the app to end the session.
    Stopping,
    /// The session is lost (runtime or device gone).
    LossPending,
    /// The app should end and destroy the session.
    Exiting,
}

impl SessionState {
    fn from_openxr(s: openxr::SessionState) -> Option<SessionState> {
        use openxr::SessionState as S;
        Some(match s {
            S::IDLE => SessionState::Idle,
            S::READY => SessionState::Ready,
            S::SYNCHRONIZED => SessionState::Synchronized,
            S::VISIBLE => SessionState::Visible,
            S::FOCUSED => SessionState::Focused,
            S::STOPPING => SessionState::Stopping,
            S::LOSS_PENDING => SessionState::LossPending,
            S::EXITING => SessionState::Exiting,
            _ => return None,
        })
    }
}

/// What the application learns about the session before the first frame.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    /// The runtime's name and version (e.g. "Monado(XRT) by Collabora et al 25.0.0").
    pub runtime: String,
    /// The headset's name.
    pub system: String,
    /// The GPU the runtime chose.
    pub adapter: wgpu::AdapterInfo,
    /// Per-eye swapchain size in pixels.
    pub eye_size: (u32, u32),
    /// Swapchain colour format.
    pub format: wgpu::TextureFormat,
    /// Blend mode in use; when see-through, hide sky and ground.
    pub blend_mode: BlendMode,
    /// True when the app asked for see-through but the runtime only offers opaque.
    pub see_through_unavailable: bool,
    /// Reference space in use: "STAGE" or "LOCAL".
    pub reference_space: &'static str,
    /// Interaction profiles whose bindings the runtime accepted.
    pub profiles: Vec<&'static str>,
}

/// The wgpu device the runtime's Vulkan device became: build the renderer on it.
#[derive(Debug)]
pub struct XrGpu {
    /// The adapter's description.
    pub adapter_info: wgpu::AdapterInfo,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
}

/// One frame as the application sees it.
#[derive(Debug)]
pub struct XrFrame<'a> {
    /// Frame number (0 for the first frame after the session began).
    pub index: u64,
    /// When the frame will be shown, OpenXR time in nanoseconds.
    pub predicted_display_time_ns: i64,
    /// The display's frame period.
    pub display_period: Duration,
    /// Whether the runtime wants this frame rendered (false while e.g. the headset is off).
    pub should_render: bool,
    /// The session state.
    pub state: SessionState,
    /// Controller input (poses in the stage frame, Z up).
    pub input: &'a InputState,
    /// Where the stage is in the world (the last value the app set; identity at first).
    pub world_from_stage: DMat4,
    /// The two eye views in the world, left first, if the runtime located them this frame.
    pub views: Option<[View; 2]>,
    /// CPU time of the previous frame (`xrWaitFrame` returning to `xrEndFrame` returning).
    pub previous_cpu_time: Duration,
    /// Display frames missed so far in the session.
    pub missed_frames: u64,
    /// The latest GPU time of a rendered frame (timestamp queries, a few frames late), when measured.
    pub previous_gpu_time: Option<Duration>,
}

/// What the application wants after a frame's update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameControl {
    /// End the session cleanly (asks the runtime; the loop returns after EXITING).
    pub exit: bool,
    /// Haptic pulses to play now.
    pub haptics: Vec<HapticPulse>,
    /// A new stage placement in the world (teleport, fly, tabletop scale); `None` keeps it.
    pub world_from_stage: Option<DMat4>,
}

/// The application side of an XR session: the app implements this and `sangam-xr` drives it.
pub trait XrApp {
    /// Called once, before the first frame, with the renderer on the runtime's device: upload the
    /// scene here. A see-through [`SessionInfo::blend_mode`] means: hide sky and ground.
    fn start(&mut self, renderer: &mut Renderer, info: &SessionInfo) -> Result<(), String>;

    /// Called every frame before rendering (also when the runtime says not to render).
    fn update(&mut self, renderer: &mut Renderer, frame: &XrFrame<'_>) -> FrameControl;

    /// The scene to draw this frame; `None` submits an empty frame.
    fn scene(&self) -> Option<&GpuScene>;

    /// Labels, markers, panels and heads-up text to draw over the scene this frame (stereo: the
    /// heads-up text sits in head space so it fuses). `None` draws none.
    fn overlay(&self) -> Option<&Overlay> {
        None
    }
}

/// One eye image read back from the swapchain.
#[derive(Clone, PartialEq)]
pub struct EyeImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA8 pixels (sRGB-encoded), top row first.
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for EyeImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EyeImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("rgba", &format_args!("[{} bytes]", self.rgba.len()))
            .finish()
    }
}

/// Why the frame loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The session reached EXITING (the app or the runtime asked to end).
    Exited,
    /// EXITING did not come within [`XrOptions::exit_timeout`] after the app asked to end; the
    /// session was destroyed anyway.
    ExitTimedOut,
}

/// What a session did.
#[derive(Clone, Debug)]
pub struct XrRunSummary {
    /// Session information.
    pub info: SessionInfo,
    /// Every state the session went through, in order.
    pub states: Vec<SessionState>,
    /// Why the loop ended.
    pub end: SessionEnd,
    /// Frame timing.
    pub timing: FrameTimingSummary,
    /// Eye images read back at [`XrOptions::capture_frame`], left then right.
    pub capture: Option<[EyeImage; 2]>,
    /// Interaction profiles the runtime bound, per hand (left, right), as last seen.
    pub bound_profiles: [Option<String>; 2],
    /// wgpu validation errors raised outside error scopes during the session (should be empty).
    pub wgpu_errors: Vec<String>,
}

impl XrRunSummary {
    /// Whether the session reached `state`.
    pub fn reached(&self, state: SessionState) -> bool {
        self.states.contains(&state)
    }
}

/// Cheap facts about the active runtime (see [`probe`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// The runtime's name and version.
    pub runtime: String,
    /// The headset's name, if one is connected.
    pub headset: Option<String>,
    /// Whether the runtime supports Vulkan through `XR_KHR_vulkan_enable2` (Sangam needs it).
    pub vulkan_enable2: bool,
}

impl RuntimeInfo {
    /// Whether Sangam can run a session here (a headset and Vulkan support).
    pub fn usable(&self) -> bool {
        self.headset.is_some() && self.vulkan_enable2
    }
}

fn load_entry() -> XrResult<openxr::Entry> {
    // SAFETY: opens the system OpenXR loader (libopenxr_loader.so.1), a conformant shared library
    // that only runs its initialisers on load.
    unsafe { openxr::Entry::load(&()) }.map_err(|e| XrError::NoRuntime {
        details: format!("the OpenXR loader (libopenxr_loader.so.1) could not be loaded: {e}"),
    })
}

fn no_runtime(step: &str, result: openxr::sys::Result) -> XrError {
    XrError::NoRuntime { details: format!("{step} failed with {result}") }
}

fn create_instance(entry: &openxr::Entry, app_name: &str) -> XrResult<(openxr::Instance, bool)> {
    let available = entry.enumerate_extensions().map_err(|r| no_runtime("listing OpenXR extensions", r))?;
    let mut enabled = openxr::ExtensionSet::default();
    enabled.khr_vulkan_enable2 = available.khr_vulkan_enable2;
    // Hand tracking as input (pinch / aim / grip) where the runtime offers it.
    enabled.ext_hand_interaction = available.ext_hand_interaction;
    let info = openxr::ApplicationInfo {
        application_name: app_name,
        application_version: 1,
        engine_name: "Sangam",
        engine_version: 1,
        api_version: openxr::Version::new(1, 0, 0),
    };
    let instance = entry.create_instance(&info, &enabled, &[], &()).map_err(|r| match r {
        openxr::sys::Result::ERROR_RUNTIME_UNAVAILABLE | openxr::sys::Result::ERROR_RUNTIME_FAILURE => {
            no_runtime("xrCreateInstance", r)
        }
        other => XrError::Call { call: "xrCreateInstance", result: other },
    })?;
    Ok((instance, available.khr_vulkan_enable2))
}

fn runtime_name(instance: &openxr::Instance) -> String {
    instance
        .properties()
        .map(|p| format!("{} {}", p.runtime_name, p.runtime_version))
        .unwrap_or_else(|_| "(unnamed runtime)".into())
}

fn find_system(instance: &openxr::Instance, runtime: &str) -> XrResult<openxr::SystemId> {
    instance.system(openxr::FormFactor::HEAD_MOUNTED_DISPLAY).map_err(|r| match r {
        openxr::sys::Result::ERROR_FORM_FACTOR_UNAVAILABLE | openxr::sys::Result::ERROR_FORM_FACTOR_UNSUPPORTED => {
            XrError::NoHeadset { runtime: runtime.into(), details: r.to_string() }
        }
        other => XrError::Call { call: "xrGetSystem", result: other },
    })
}

/// Asks the active OpenXR runtime who it is and whether a headset is there: loads the loader,
/// creates an instance, reads names, destroys it. Takes milliseconds; starts no session.
pub fn probe() -> XrResult<RuntimeInfo> {
    let entry = load_entry()?;
    let (instance, vulkan_enable2) = create_instance(&entry, "Sangam probe")?;
    let runtime = runtime_name(&instance);
    let headset = match find_system(&instance, &runtime) {
        Ok(system) => Some(instance.system_properties(system).map(|p| p.system_name).unwrap_or_default()),
        Err(XrError::NoHeadset { .. }) => None,
        Err(e) => return Err(e),
    };
    Ok(RuntimeInfo { runtime, headset, vulkan_enable2 })
}

/// The swapchain and its images wrapped as render targets.
struct Stereo {
    /// Render targets on the swapchain images; dropped before the swapchain.
    targets: Vec<RenderTarget>,
    swapchain: openxr::Swapchain<openxr::Vulkan>,
    width: u32,
    height: u32,
}

/// An OpenXR session with wgpu on the runtime's Vulkan device.
///
/// Create it with [`XrContext::new`], build a [`Renderer`] on the returned [`XrGpu`], then drive
/// frames with [`XrContext::run`]. Drop the renderer and scene before the context when you can
/// (the session is destroyed before the Vulkan device either way).
pub struct XrContext {
    // Fields drop in this order: swapchain images and spaces before the session, the session
    // before the wgpu device (which owns the VkDevice), the device before the OpenXR instance.
    stereo: Stereo,
    action_spaces: ActionSpaces,
    space: openxr::Space,
    actions: Actions,
    frame_stream: openxr::FrameStream<openxr::Vulkan>,
    frame_waiter: openxr::FrameWaiter,
    session: openxr::Session<openxr::Vulkan>,
    gpu: vk::VkSetup,
    instance: openxr::Instance,
    options: XrOptions,
    info: SessionInfo,
    blend: BlendMode,
    state: SessionState,
    running: bool,
    states: Vec<SessionState>,
    timing: FrameTiming,
    world_from_stage: DMat4,
    bound_profiles: [Option<String>; 2],
}

impl std::fmt::Debug for XrContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XrContext").field("info", &self.info).field("state", &self.state).finish_non_exhaustive()
    }
}

impl XrContext {
    /// Creates the instance (with `XR_KHR_vulkan_enable2`), finds the headset, creates wgpu on the
    /// runtime's Vulkan device, the session, a stereo swapchain, the reference space and actions.
    ///
    /// Returns [`XrError::NoRuntime`] / [`XrError::NoHeadset`] when there is no XR here (fall back
    /// to the window or headless), and a specific error for everything the runtime refuses.
    pub fn new(options: XrOptions) -> XrResult<(XrContext, XrGpu)> {
        let entry = load_entry()?;
        let (instance, vulkan_enable2) = create_instance(&entry, &options.app_name)?;
        let runtime = runtime_name(&instance);
        if !vulkan_enable2 {
            return Err(XrError::Unsupported {
                runtime,
                details: "it lacks XR_KHR_vulkan_enable2 (Sangam renders with Vulkan)".into(),
            });
        }
        let system = find_system(&instance, &runtime)?;
        let system_name = instance.system_properties(system).map(|p| p.system_name).unwrap_or_default();
        let configs = instance
            .enumerate_view_configurations(system)
            .map_err(|result| XrError::Call { call: "xrEnumerateViewConfigurations", result })?;
        if !configs.contains(&VIEW_CONFIG) {
            return Err(XrError::Unsupported {
                runtime,
                details: format!("headset {system_name} has no stereo view configuration (offers {configs:?})"),
            });
        }
        let views = instance
            .enumerate_view_configuration_views(system, VIEW_CONFIG)
            .map_err(|result| XrError::Call { call: "xrEnumerateViewConfigurationViews", result })?;
        if views.len() != 2 {
            return Err(XrError::Unsupported {
                runtime,
                details: format!("the stereo configuration has {} views, expected 2", views.len()),
            });
        }
        let (width, height) = eye_size(&views, options.resolution_scale);
        let offered_blend = instance
            .enumerate_environment_blend_modes(system, VIEW_CONFIG)
            .map_err(|result| XrError::Call { call: "xrEnumerateEnvironmentBlendModes", result })?;
        let blend = choose_blend_mode(&offered_blend, options.blend).ok_or_else(|| XrError::Unsupported {
            runtime: runtime.clone(),
            details: format!("it offers no known environment blend mode ({offered_blend:?})"),
        })?;
        let see_through_unavailable = options.blend == BlendPreference::SeeThrough && !blend.is_see_through();
        if see_through_unavailable {
            tracing::warn!("see-through AR was asked for but {runtime} only offers opaque; rendering VR");
        }

        let gpu = vk::create(&instance, system, &runtime)?;
        let actions = Actions::new(&instance)?;
        let refused = |during: &'static str, hint: &'static str| {
            let runtime = runtime.clone();
            move |result| XrError::SessionRefused { runtime: runtime.clone(), during, result, hint }
        };
        // SAFETY: the binding names the instance, physical device and device the runtime created
        // for this system (vk::create), which stay alive in `gpu` until after the session is gone.
        let (session, frame_waiter, frame_stream) =
            unsafe { instance.create_session::<openxr::Vulkan>(system, &gpu.binding) }.map_err(refused(
                "creating the session",
                "Another application may hold the headset, or the runtime's compositor failed; check the runtime's log",
            ))?;
        let action_spaces = actions.attach(&session)?;
        let spaces = session
            .enumerate_reference_spaces()
            .map_err(|result| XrError::Call { call: "xrEnumerateReferenceSpaces", result })?;
        let (space_type, space_name) = if spaces.contains(&openxr::ReferenceSpaceType::STAGE) {
            (openxr::ReferenceSpaceType::STAGE, "STAGE")
        } else {
            (openxr::ReferenceSpaceType::LOCAL, "LOCAL")
        };
        let space = session
            .create_reference_space(space_type, openxr::Posef::IDENTITY)
            .map_err(|result| XrError::Call { call: "xrCreateReferenceSpace", result })?;

        let formats = session
            .enumerate_swapchain_formats()
            .map_err(|result| XrError::Call { call: "xrEnumerateSwapchainFormats", result })?;
        let (vk_format, format) = choose_swapchain_format(&formats, &runtime)?;
        let swapchain = session
            .create_swapchain(&openxr::SwapchainCreateInfo {
                create_flags: openxr::SwapchainCreateFlags::EMPTY,
                usage_flags: openxr::SwapchainUsageFlags::COLOR_ATTACHMENT
                    | openxr::SwapchainUsageFlags::TRANSFER_SRC
                    | openxr::SwapchainUsageFlags::TRANSFER_DST,
                format: vk_format,
                sample_count: 1,
                width,
                height,
                face_count: 1,
                array_size: 2,
                mip_count: 1,
            })
            .map_err(|result| XrError::Call { call: "xrCreateSwapchain", result })?;
        let images = swapchain
            .enumerate_images()
            .map_err(|result| XrError::Call { call: "xrEnumerateSwapchainImages", result })?;
        let mut targets = Vec::with_capacity(images.len());
        for image in images {
            // SAFETY: `image` belongs to `swapchain`, created above on this device with exactly this
            // format, size, 2 layers, one mip and sample, and colour/transfer usage; the targets are
            // dropped before the swapchain (field order of `Stereo`).
            let texture = unsafe { vk::wrap_swapchain_image(&gpu.device, image, format, width, height, 2) }?;
            targets.push(RenderTarget::from_texture(texture)?);
        }
        tracing::info!(
            "OpenXR: {runtime}, headset {system_name}, {width}x{height} per eye, {format:?}, {space_name} space, \
             {blend:?} blend, {} swapchain images",
            targets.len()
        );
        let info = SessionInfo {
            runtime,
            system: system_name,
            adapter: gpu.info.clone(),
            eye_size: (width, height),
            format,
            blend_mode: blend,
            see_through_unavailable,
            reference_space: space_name,
            profiles: actions.accepted_profiles.clone(),
        };
        let out = XrGpu { adapter_info: gpu.info.clone(), device: gpu.device.clone(), queue: gpu.queue.clone() };
        let ctx = XrContext {
            stereo: Stereo { targets, swapchain, width, height },
            action_spaces,
            space,
            actions,
            frame_stream,
            frame_waiter,
            session,
            gpu,
            instance,
            options,
            info,
            blend,
            state: SessionState::Idle,
            running: false,
            states: vec![SessionState::Idle],
            timing: FrameTiming::default(),
            world_from_stage: DMat4::IDENTITY,
            bound_profiles: [None, None],
        };
        Ok((ctx, out))
    }

    /// Session information (runtime, headset, eye size, blend mode, ...).
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The session state last reported by the runtime.
    pub fn state(&self) -> SessionState {
        self.state
    }

    fn lost(&self, during: &'static str, details: impl Into<String>) -> XrError {
        XrError::RuntimeLost { runtime: self.info.runtime.clone(), during, details: details.into() }
    }

    /// Maps a failed call: loss codes become [`XrError::RuntimeLost`].
    fn fail(&self, call: &'static str) -> impl Fn(openxr::sys::Result) -> XrError + '_ {
        move |result| if is_loss(result) { self.lost(call, result.to_string()) } else { XrError::Call { call, result } }
    }

    /// Handles pending runtime events; returns an error when the instance or session is lost.
    fn poll_events(&mut self, buffer: &mut openxr::EventDataBuffer) -> XrResult<()> {
        loop {
            let event = self.instance.poll_event(buffer).map_err(|r| {
                if is_loss(r) {
                    XrError::RuntimeLost {
                        runtime: self.info.runtime.clone(),
                        during: "xrPollEvent",
                        details: r.to_string(),
                    }
                } else {
                    XrError::Call { call: "xrPollEvent", result: r }
                }
            })?;
            let Some(event) = event else { return Ok(()) };
            match event {
                openxr::Event::SessionStateChanged(e) => {
                    let Some(state) = SessionState::from_openxr(e.state()) else {
                        tracing::warn!("OpenXR: unknown session state {:?}", e.state());
                        continue;
                    };
                    tracing::info!("OpenXR session state: {:?} -> {state:?}", self.state);
                    if self.states.last() != Some(&state) {
                        self.states.push(state);
                    }
                    self.state = state;
                    match state {
                        SessionState::Ready => {
                            self.session.begin(VIEW_CONFIG).map_err(|result| XrError::SessionRefused {
                                runtime: self.info.runtime.clone(),
                                during: "beginning the session",
                                result,
                                hint: "The runtime's compositor may have failed; check its log",
                            })?;
                            self.running = true;
                        }
                        SessionState::Stopping => {
                            self.session.end().map_err(self.fail("xrEndSession"))?;
                            self.running = false;
                        }
                        SessionState::LossPending => {
                            self.running = false;
                            return Err(self.lost("the session", "the runtime reported SESSION_LOSS_PENDING"));
                        }
                        _ => {}
                    }
                }
                openxr::Event::InstanceLossPending(_) => {
                    self.running = false;
                    return Err(self.lost("the instance", "the runtime reported INSTANCE_LOSS_PENDING"));
                }
                openxr::Event::EventsLost(e) => tracing::warn!("OpenXR: {} events lost", e.lost_event_count()),
                openxr::Event::InteractionProfileChanged(_) => {
                    for hand in Hand::BOTH {
                        let p = self.actions.current_profile(&self.instance, &self.session, hand);
                        tracing::info!("OpenXR: {hand:?} hand bound to {}", p.as_deref().unwrap_or("nothing"));
                        self.bound_profiles[hand.index()] = p;
                    }
                }
                openxr::Event::ReferenceSpaceChangePending(_) => {
                    tracing::info!("OpenXR: the reference space is about to change (recentre)")
                }
                _ => {}
            }
        }
    }

    /// Runs the session until it ends: handles the state machine, waits for, renders and submits
    /// frames, and reads input. Returns when the session reaches EXITING (after the app asked with
    /// [`FrameControl::exit`], [`XrOptions::max_frames`] / `max_duration` passed, or the runtime
    /// ended it), or with an error when the runtime is lost. Never waits unboundedly on the
    /// runtime outside its own blocking calls (`xrWaitFrame`), which fail when it dies.
    pub fn run(&mut self, renderer: &mut Renderer, app: &mut dyn XrApp) -> XrResult<XrRunSummary> {
        let watchdog = self.options.stall_limit.map(|limit| Watchdog::start(limit, self.info.runtime.clone()));
        let heartbeat = watchdog.as_ref().map(|w| w.beat.clone());
        let result = self.frame_loop(renderer, app, heartbeat.as_deref());
        if let Err(XrError::RuntimeLost { .. }) = &result {
            // Nothing left to end: the runtime is gone.
            self.running = false;
        }
        result
    }

    fn frame_loop(
        &mut self,
        renderer: &mut Renderer,
        app: &mut dyn XrApp,
        heartbeat: Option<&std::sync::atomic::AtomicU64>,
    ) -> XrResult<XrRunSummary> {
        let started = Instant::now();
        let mut buffer = openxr::EventDataBuffer::new();
        let mut exit_requested: Option<Instant> = None;
        let mut frame_index = 0u64;
        let mut rendered = 0u64;
        let mut capture = None;
        let mut input = InputState::default();
        let end = loop {
            if let Some(b) = heartbeat {
                b.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            self.poll_events(&mut buffer)?;
            if self.state == SessionState::Exiting {
                break SessionEnd::Exited;
            }
            let wants_exit = self.options.max_frames.is_some_and(|n| frame_index >= n)
                || self.options.max_duration.is_some_and(|d| started.elapsed() >= d);
            if wants_exit && exit_requested.is_none() {
                self.request_exit(&mut exit_requested)?;
            }
            if let Some(at) = exit_requested
                && at.elapsed() > self.options.exit_timeout
            {
                tracing::warn!(
                    "OpenXR: {} did not end the session within {:?}; closing it anyway",
                    self.info.runtime,
                    self.options.exit_timeout
                );
                break SessionEnd::ExitTimedOut;
            }
            if !self.running {
                if self.states.len() == 1 && started.elapsed() > self.options.start_timeout {
                    return Err(XrError::Timeout {
                        runtime: self.info.runtime.clone(),
                        what: "make the session ready",
                        seconds: self.options.start_timeout.as_secs(),
                    });
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }

            let frame_state = self.frame_waiter.wait().map_err(self.fail("xrWaitFrame"))?;
            let cpu_start = Instant::now();
            self.frame_stream.begin().map_err(self.fail("xrBeginFrame"))?;
            let time = frame_state.predicted_display_time;
            let period =
                Duration::from_nanos(u64::try_from(frame_state.predicted_display_period.as_nanos()).unwrap_or(0));
            input = if self.state == SessionState::Focused {
                self.actions.read(&self.session, &self.action_spaces, &self.space, time)?
            } else {
                InputState { hands: input.hands.map(|_| Default::default()), synced: false }
            };
            let located = if frame_state.should_render {
                let (flags, views) =
                    self.session.locate_views(VIEW_CONFIG, time, &self.space).map_err(self.fail("xrLocateViews"))?;
                let ok = openxr::ViewStateFlags::POSITION_VALID | openxr::ViewStateFlags::ORIENTATION_VALID;
                (flags.contains(ok) && views.len() == 2).then_some(views)
            } else {
                None
            };
            let frame = XrFrame {
                index: frame_index,
                predicted_display_time_ns: time.as_nanos(),
                display_period: period,
                should_render: frame_state.should_render,
                state: self.state,
                input: &input,
                world_from_stage: self.world_from_stage,
                views: located.as_ref().map(|v| self.world_views(v)),
                previous_cpu_time: self.timing.last().0,
                missed_frames: self.timing.last().1,
                previous_gpu_time: self.timing.last_gpu(),
            };
            let control = app.update(renderer, &frame);
            if let Some(m) = control.world_from_stage
                && m.is_finite()
                && m.determinant().abs() > 1e-12
            {
                self.world_from_stage = m;
            }
            for pulse in &control.haptics {
                if self.state == SessionState::Focused
                    && let Err(e) = self.actions.haptic(&self.session, pulse)
                {
                    tracing::warn!("OpenXR haptic pulse failed: {e}");
                }
            }
            let mut encode = None;
            match (&located, app.scene()) {
                (Some(views), Some(scene)) => {
                    let world_views = self.world_views(views);
                    let want_capture = self.options.capture_frame == Some(rendered);
                    let none = Overlay::default(); // empty vectors: no allocation
                    let overlay = app.overlay().unwrap_or(&none);
                    let (stats, eyes) = self.render_frame(renderer, scene, overlay, &world_views, want_capture)?;
                    if eyes.is_some() {
                        capture = eyes;
                    }
                    encode = Some(stats.cpu_encode_time);
                    if let Some(gpu) = stats.gpu_time {
                        self.timing.record_gpu(gpu);
                    }
                    rendered += 1;
                    let rect = openxr::Rect2Di {
                        offset: openxr::Offset2Di { x: 0, y: 0 },
                        extent: openxr::Extent2Di {
                            width: self.stereo.width as i32,
                            height: self.stereo.height as i32,
                        },
                    };
                    let proj_views: Vec<openxr::CompositionLayerProjectionView<'_, openxr::Vulkan>> = views
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            openxr::CompositionLayerProjectionView::new().pose(v.pose).fov(v.fov).sub_image(
                                openxr::SwapchainSubImage::new()
                                    .swapchain(&self.stereo.swapchain)
                                    .image_array_index(i as u32)
                                    .image_rect(rect),
                            )
                        })
                        .collect();
                    let mut flags = openxr::CompositionLayerFlags::EMPTY;
                    if self.blend == BlendMode::AlphaBlend {
                        flags |= openxr::CompositionLayerFlags::BLEND_TEXTURE_SOURCE_ALPHA;
                    }
                    let layer = openxr::CompositionLayerProjection::new()
                        .layer_flags(flags)
                        .space(&self.space)
                        .views(&proj_views);
                    self.frame_stream.end(time, self.blend.to_openxr(), &[&layer]).map_err(self.fail("xrEndFrame"))?;
                }
                _ => {
                    self.frame_stream.end(time, self.blend.to_openxr(), &[]).map_err(self.fail("xrEndFrame"))?;
                }
            }
            self.timing.record(cpu_start.elapsed(), encode, time.as_nanos(), period);
            frame_index += 1;
            if control.exit && exit_requested.is_none() {
                self.request_exit(&mut exit_requested)?;
            }
        };
        let timing = self.timing.summary();
        tracing::info!("OpenXR session ended ({end:?}): {timing}");
        Ok(XrRunSummary {
            info: self.info.clone(),
            states: self.states.clone(),
            end,
            timing,
            capture,
            bound_profiles: self.bound_profiles.clone(),
            wgpu_errors: renderer.take_uncaptured_errors(),
        })
    }

    fn request_exit(&self, at: &mut Option<Instant>) -> XrResult<()> {
        *at = Some(Instant::now());
        match self.session.request_exit() {
            Ok(()) => Ok(()),
            // Not running (e.g. never reached READY): nothing to end.
            Err(openxr::sys::Result::ERROR_SESSION_NOT_RUNNING) => Ok(()),
            Err(r) => Err(self.fail("xrRequestExitSession")(r)),
        }
    }

    fn world_views(&self, views: &[openxr::View]) -> [View; 2] {
        let near = if self.options.near.is_finite() && self.options.near > 0.0 {
            self.options.near
        } else {
            View::DEFAULT_NEAR
        };
        [
            view_from_openxr(&views[0], &self.world_from_stage, near),
            view_from_openxr(&views[1], &self.world_from_stage, near),
        ]
    }

    /// Acquires a swapchain image, renders both eyes into it, leaves it in the layout the runtime
    /// expects, optionally reads it back, and releases it.
    fn render_frame(
        &mut self,
        renderer: &mut Renderer,
        scene: &GpuScene,
        overlay: &Overlay,
        views: &[View; 2],
        capture: bool,
    ) -> XrResult<(sangam_render::gpu::FrameStats, Option<[EyeImage; 2]>)> {
        let index = self.stereo.swapchain.acquire_image().map_err(self.fail("xrAcquireSwapchainImage"))?;
        self.wait_image()?;
        let target = self.stereo.targets.get(index as usize).ok_or(XrError::Call {
            call: "xrAcquireSwapchainImage",
            result: openxr::sys::Result::ERROR_RUNTIME_FAILURE,
        });
        let result = target.and_then(|target| {
            let stats = renderer.render_with_overlay(scene, overlay, views, target)?;
            let eyes = finish_image(&self.gpu.device, &self.gpu.queue, target, capture)?;
            Ok((stats, eyes))
        });
        // Release even when rendering failed, so the swapchain stays usable.
        let released = self.release_image();
        let out = result?;
        released?;
        Ok(out)
    }

    fn wait_image(&self) -> XrResult<()> {
        let deadline = Instant::now() + self.options.start_timeout;
        let info = openxr::sys::SwapchainImageWaitInfo {
            ty: openxr::sys::SwapchainImageWaitInfo::TYPE,
            next: std::ptr::null_mut(),
            timeout: openxr::Duration::from_nanos(100_000_000),
        };
        loop {
            // SAFETY: a valid swapchain handle with an acquired, not yet waited image, and a valid
            // wait info. Called raw because the wrapper cannot report XR_TIMEOUT_EXPIRED.
            let r = unsafe { (self.instance.fp().wait_swapchain_image)(self.stereo.swapchain.as_raw(), &info) };
            match r {
                openxr::sys::Result::SUCCESS => return Ok(()),
                openxr::sys::Result::TIMEOUT_EXPIRED if Instant::now() < deadline => continue,
                openxr::sys::Result::TIMEOUT_EXPIRED => {
                    return Err(XrError::Timeout {
                        runtime: self.info.runtime.clone(),
                        what: "hand over a swapchain image",
                        seconds: self.options.start_timeout.as_secs(),
                    });
                }
                other => return Err(self.fail("xrWaitSwapchainImage")(other)),
            }
        }
    }

    fn release_image(&self) -> XrResult<()> {
        // SAFETY: a valid swapchain handle whose acquired image was waited on (wait_image).
        let r =
            unsafe { (self.instance.fp().release_swapchain_image)(self.stereo.swapchain.as_raw(), std::ptr::null()) };
        if r.into_raw() < 0 { Err(self.fail("xrReleaseSwapchainImage")(r)) } else { Ok(()) }
    }
}

impl Drop for XrContext {
    fn drop(&mut self) {
        // Let the GPU finish with the swapchain images before the runtime frees them.
        let _ = self
            .gpu
            .device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(Duration::from_secs(5)) });
        if self.running {
            let _ = self.session.end();
        }
    }
}

/// Ends the process when the frame loop stops making progress (see [`XrOptions::stall_limit`]).
struct Watchdog {
    beat: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    fn start(limit: Duration, runtime: String) -> Watchdog {
        use std::sync::atomic::Ordering;
        let beat = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (b, s) = (beat.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut last = b.load(Ordering::Relaxed);
            let mut since = Instant::now();
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = b.load(Ordering::Relaxed);
                if now != last {
                    last = now;
                    since = Instant::now();
                } else if since.elapsed() > limit && !s.load(Ordering::Relaxed) {
                    eprintln!(
                        "sangam-xr: the OpenXR runtime {runtime} has not answered for {} s (frozen?); exiting. \
                         Restart the runtime, or run without `--xr`",
                        limit.as_secs()
                    );
                    std::process::exit(3);
                }
            }
        });
        Watchdog { beat, stop }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The first offered swapchain format the renderer can write (the runtime lists its preferred
/// first), or [`XrError::NoSwapchainFormat`] naming what was offered.
pub(crate) fn choose_swapchain_format(offered: &[u32], runtime: &str) -> XrResult<(u32, wgpu::TextureFormat)> {
    offered.iter().find_map(|f| vk::wgpu_format(*f).map(|w| (*f, w))).ok_or_else(|| XrError::NoSwapchainFormat {
        runtime: runtime.into(),
        offered: if offered.is_empty() {
            "none".into()
        } else {
            offered.iter().map(|f| vk::format_name(*f)).collect::<Vec<_>>().join(", ")
        },
    })
}

/// Per-eye size: the recommended size times `scale`, within 16 px and the runtime's maximum.
pub(crate) fn eye_size(views: &[openxr::ViewConfigurationView], scale: f32) -> (u32, u32) {
    let scale = if scale.is_finite() { scale.clamp(0.25, 4.0) } else { 1.0 };
    let dim = |rec: u32, max: u32| ((rec as f32 * scale).round() as u32).clamp(16, max.max(16));
    let w = views.iter().map(|v| dim(v.recommended_image_rect_width, v.max_image_rect_width)).max().unwrap_or(16);
    let h = views.iter().map(|v| dim(v.recommended_image_rect_height, v.max_image_rect_height)).max().unwrap_or(16);
    (w, h)
}

/// After rendering: optionally copies both layers to a buffer, then runs an empty load/store pass
/// on each layer so the image is in `COLOR_ATTACHMENT_OPTIMAL` when handed back to the runtime
/// (the renderer's last use may have been a copy).
fn finish_image(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    target: &RenderTarget,
    capture: bool,
) -> XrResult<Option<[EyeImage; 2]>> {
    let (w, h) = (target.width(), target.height());
    let row = u64::from(w) * 4;
    let align = u64::from(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let padded = row.div_ceil(align) * align;
    let layer_bytes = padded * u64::from(h);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("xr finish") });
    let buffer = capture.then(|| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("xr eye readback"),
            size: layer_bytes * 2,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        })
    });
    if let Some(buffer) = &buffer {
        for layer in 0..2u32 {
            encoder.copy_texture_to_buffer(
                wgpu::TexelCopyTextureInfo {
                    texture: target.texture(),
                    mip_level: 0,
                    origin: wgpu::Origin3d { x: 0, y: 0, z: layer },
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::TexelCopyBufferInfo {
                    buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: layer_bytes * u64::from(layer),
                        bytes_per_row: Some(padded as u32),
                        rows_per_image: Some(h),
                    },
                },
                wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            );
        }
    }
    for layer in 0..2u32 {
        let view = target.texture().create_view(&wgpu::TextureViewDescriptor {
            label: Some("xr layout pass"),
            dimension: Some(wgpu::TextureViewDimension::D2),
            base_array_layer: layer,
            array_layer_count: Some(1),
            ..Default::default()
        });
        let pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("xr hand-back"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations { load: wgpu::LoadOp::Load, store: wgpu::StoreOp::Store },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        drop(pass);
    }
    queue.submit([encoder.finish()]);
    let Some(buffer) = buffer else { return Ok(None) };
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(Duration::from_secs(10)) })
        .map_err(|e| XrError::App(format!("waiting for the eye read-back: {e}")))?;
    rx.recv_timeout(Duration::from_secs(1))
        .map_err(|e| XrError::App(format!("eye read-back: {e}")))?
        .map_err(|e| XrError::App(format!("eye read-back: {e}")))?;
    let bgra = matches!(target.format(), wgpu::TextureFormat::Bgra8UnormSrgb | wgpu::TextureFormat::Bgra8Unorm);
    let eyes = {
        let data = buffer.get_mapped_range(..).map_err(|e| XrError::App(format!("eye read-back: {e:?}")))?;
        let eye = |layer: usize| {
            let mut rgba = Vec::with_capacity((row * u64::from(h)) as usize);
            for y in 0..h as usize {
                let start = layer * layer_bytes as usize + y * padded as usize;
                rgba.extend_from_slice(&data[start..start + row as usize]);
            }
            if bgra {
                for px in rgba.chunks_exact_mut(4) {
                    px.swap(0, 2);
                }
            }
            EyeImage { width: w, height: h, rgba }
        };
        [eye(0), eye(1)]
    };
    buffer.unmap();
    Ok(Some(eyes))
}

/// Runs an XR session for `app`: creates the context, builds the renderer on the runtime's device,
/// calls [`XrApp::start`], and drives frames until the session ends.
///
/// On machines without XR this returns [`XrError::NoRuntime`] or [`XrError::NoHeadset`] quickly
/// ([`XrError::is_unavailable`]): fall back to the window or headless output.
pub fn run(options: XrOptions, app: &mut dyn XrApp) -> XrResult<XrRunSummary> {
    let renderer_options = options.renderer;
    let (mut ctx, gpu) = XrContext::new(options)?;
    let mut renderer = Renderer::from_device_with(gpu.adapter_info, gpu.device, gpu.queue, renderer_options);
    app.start(&mut renderer, ctx.info()).map_err(XrError::App)?;
    let result = ctx.run(&mut renderer, app);
    if let Ok(summary) = &result {
        for e in &summary.wgpu_errors {
            tracing::error!("wgpu error during the XR session: {e}");
        }
    }
    drop(renderer);
    drop(ctx);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use openxr::EnvironmentBlendMode as E;

    #[test]
    fn blend_mode_choice() {
        assert_eq!(choose_blend_mode(&[E::OPAQUE], BlendPreference::Opaque), Some(BlendMode::Opaque));
        assert_eq!(choose_blend_mode(&[E::OPAQUE], BlendPreference::SeeThrough), Some(BlendMode::Opaque));
        assert_eq!(
            choose_blend_mode(&[E::OPAQUE, E::ADDITIVE], BlendPreference::SeeThrough),
            Some(BlendMode::Additive)
        );
        assert_eq!(
            choose_blend_mode(&[E::ADDITIVE, E::ALPHA_BLEND, E::OPAQUE], BlendPreference::SeeThrough),
            Some(BlendMode::AlphaBlend)
        );
        // An optical see-through headset asked for VR renders in its only mode.
        assert_eq!(choose_blend_mode(&[E::ADDITIVE], BlendPreference::Opaque), Some(BlendMode::Additive));
        assert_eq!(choose_blend_mode(&[], BlendPreference::Opaque), None);
        assert!(BlendMode::Additive.is_see_through() && !BlendMode::Opaque.is_see_through());
    }

    #[test]
    fn swapchain_format_prefers_the_runtime_order_and_reports_when_none_fits() {
        use ash::vk::Format as F;
        let raw = |f: F| f.as_raw() as u32;
        let (f, w) =
            choose_swapchain_format(&[raw(F::R16G16B16A16_SFLOAT), raw(F::B8G8R8A8_SRGB), raw(F::R8G8B8A8_SRGB)], "rt")
                .expect("a usable format");
        assert_eq!((f, w), (raw(F::B8G8R8A8_SRGB), wgpu::TextureFormat::Bgra8UnormSrgb));
        let err =
            choose_swapchain_format(&[raw(F::R8G8B8A8_UNORM), raw(F::D32_SFLOAT)], "Test Runtime 1.0").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, XrError::NoSwapchainFormat { .. }));
        assert!(msg.contains("Test Runtime 1.0") && msg.contains("R8G8B8A8_UNORM, D32_SFLOAT"), "{msg}");
        assert!(msg.contains("R8G8B8A8_SRGB"), "{msg}");
        assert!(choose_swapchain_format(&[], "rt").unwrap_err().to_string().contains("offered: none"));
    }

    #[test]
    fn eye_size_scales_within_limits() {
        let v = openxr::ViewConfigurationView {
            recommended_image_rect_width: 2064,
            max_image_rect_width: 4096,
            recommended_image_rect_height: 2208,
            max_image_rect_height: 4096,
            recommended_swapchain_sample_count: 1,
            max_swapchain_sample_count: 4,
        };
        assert_eq!(eye_size(&[v, v], 1.0), (2064, 2208));
        assert_eq!(eye_size(&[v, v], 0.5), (1032, 1104));
        assert_eq!(eye_size(&[v, v], 3.0), (4096, 4096));
        assert_eq!(eye_size(&[v, v], f32::NAN), (2064, 2208));
        assert_eq!(eye_size(&[v, v], 0.0), (516, 552));
    }
}
