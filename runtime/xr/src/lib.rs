//! Sangam's OpenXR front end: an OpenXR session whose Vulkan device wgpu renders on.
//!
//! - [`probe`]: who is the active runtime, is a headset there (cheap; no session).
//! - [`run`]: a whole session for an [`XrApp`] (the app uploads its scene in [`XrApp::start`],
//!   updates per frame in [`XrApp::update`] from plain-data [`InputState`], and the crate renders
//!   both eyes with `sangam-render` into the runtime's stereo swapchain).
//! - [`XrContext`]: the same in steps, for callers that build the renderer themselves.
//!
//! Interop facts (measured; see DESIGN.md): instance with `XR_KHR_vulkan_enable2`, Vulkan 1.3,
//! wgpu-hal instance/device from the runtime-created raw handles, swapchain images wrapped with a
//! no-op drop callback and external memory (the runtime owns them) and handed back in
//! `COLOR_ATTACHMENT_OPTIMAL`.
//!
//! Coordinates: OpenXR's reference space (Y up) is re-expressed Z up as the *stage* frame
//! ([`convert`]); the app places the stage in the world with `world_from_stage`.

pub mod convert;
mod error;
pub mod input;
mod session;
mod stats;
pub mod testkit;
mod vk;

pub use convert::Pose;
pub use error::{NO_RUNTIME_HELP, XrError, XrResult};
pub use input::{Hand, HandState, HapticPulse, InputState};
pub use session::{
    BlendMode, BlendPreference, EyeImage, FrameControl, RuntimeInfo, SessionEnd, SessionInfo, SessionState, XrApp,
    XrContext, XrFrame, XrGpu, XrOptions, XrRunSummary, probe, run,
};
pub use stats::{FrameTiming, FrameTimingSummary};
