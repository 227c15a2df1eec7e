//! Errors of the OpenXR front end.

use sangam_render::gpu::RenderError;

/// What to do when no OpenXR runtime is usable; part of [`XrError::NoRuntime`]'s message.
pub const NO_RUNTIME_HELP: &str = "Install and start an OpenXR runtime with a headset: on Debian/Ubuntu \
     `apt-get install libopenxr-loader1 libopenxr1-monado monado-service` then run `monado-service` (or make \
     SteamVR / your vendor's runtime the active one), or run Sangam without `--xr` to use the desktop \
     window or `--headless`";

/// Errors from the OpenXR front end. Every message says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum XrError {
    /// No OpenXR loader or no active runtime.
    #[error("no OpenXR runtime is available: {details}. {NO_RUNTIME_HELP}")]
    NoRuntime {
        /// What failed (loader missing, `XR_ERROR_RUNTIME_UNAVAILABLE`, ...).
        details: String,
    },
    /// The runtime works but no headset is connected (`XR_ERROR_FORM_FACTOR_UNAVAILABLE`).
    #[error(
        "the OpenXR runtime {runtime} reports no headset ({details}). Connect and switch on the headset, or run \
         Sangam without `--xr` (desktop window or `--headless`)"
    )]
    NoHeadset {
        /// The runtime's name.
        runtime: String,
        /// The runtime's answer.
        details: String,
    },
    /// The runtime lacks something Sangam needs (an extension, a view configuration, a Vulkan version).
    #[error("the OpenXR runtime {runtime} cannot be used: {details}")]
    Unsupported {
        /// The runtime's name.
        runtime: String,
        /// What is missing.
        details: String,
    },
    /// None of the swapchain formats the runtime offers is an sRGB colour format the renderer writes.
    #[error(
        "the OpenXR runtime {runtime} offers no usable swapchain colour format (offered: {offered}); Sangam needs \
         R8G8B8A8_SRGB or B8G8R8A8_SRGB. Update the runtime or its GPU driver"
    )]
    NoSwapchainFormat {
        /// The runtime's name.
        runtime: String,
        /// The offered Vulkan formats, by name.
        offered: String,
    },
    /// The runtime refused to create or start the session.
    #[error("the OpenXR runtime {runtime} refused the session while {during}: {result}. {hint}")]
    SessionRefused {
        /// The runtime's name.
        runtime: String,
        /// The step that failed.
        during: &'static str,
        /// The OpenXR result code.
        result: openxr::sys::Result,
        /// What to try.
        hint: &'static str,
    },
    /// The runtime went away or failed during the session (service killed, headset unplugged).
    #[error(
        "lost the OpenXR runtime {runtime} during the session ({during}: {details}). The session was closed; \
         start the runtime again (e.g. `monado-service`): `sangam run` goes back to XR once it answers"
    )]
    RuntimeLost {
        /// The runtime's name.
        runtime: String,
        /// The call that failed.
        during: &'static str,
        /// What the runtime said.
        details: String,
    },
    /// Some other OpenXR call failed.
    #[error("OpenXR call {call} failed: {result}")]
    Call {
        /// The call (e.g. `xrCreateSwapchain`).
        call: &'static str,
        /// The OpenXR result code.
        result: openxr::sys::Result,
    },
    /// Vulkan set-up for the runtime's device failed.
    #[error("Vulkan set-up for OpenXR failed while {during}: {details}")]
    Vulkan {
        /// The step that failed.
        during: &'static str,
        /// What failed.
        details: String,
    },
    /// The runtime did not answer in time (the process never waits forever).
    #[error("the OpenXR runtime {runtime} did not {what} within {seconds} s; giving up. Restart the runtime")]
    Timeout {
        /// The runtime's name.
        runtime: String,
        /// What was awaited.
        what: &'static str,
        /// How long was waited.
        seconds: u64,
    },
    /// The renderer failed on the runtime's device.
    #[error("rendering the XR frame failed: {0}")]
    Render(#[from] RenderError),
    /// The application's per-frame code reported an error.
    #[error("the XR application failed: {0}")]
    App(String),
}

impl XrError {
    /// Whether this error means "no XR here" (no loader, runtime or headset), for which a caller
    /// falls back to the desktop window or headless output rather than reporting a failure.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, XrError::NoRuntime { .. } | XrError::NoHeadset { .. })
    }
}

/// Results whose error is an [`XrError`].
pub type XrResult<T> = Result<T, XrError>;

/// Results that mean the runtime itself is gone (used to tell "lost" from other failures).
pub(crate) fn is_loss(result: openxr::sys::Result) -> bool {
    use openxr::sys::Result as R;
    matches!(
        result,
        R::ERROR_INSTANCE_LOST | R::ERROR_SESSION_LOST | R::ERROR_RUNTIME_FAILURE | R::ERROR_RUNTIME_UNAVAILABLE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runtime_message_says_what_to_install_and_how_to_fall_back() {
        let msg = XrError::NoRuntime { details: "libopenxr_loader.so.1 not found".into() }.to_string();
        assert!(msg.contains("libopenxr_loader.so.1 not found"), "{msg}");
        assert!(msg.contains("monado-service"), "{msg}");
        assert!(msg.contains("--headless"), "{msg}");
        assert!(XrError::NoRuntime { details: String::new() }.is_unavailable());
        assert!(
            !XrError::Call { call: "xrEndFrame", result: openxr::sys::Result::ERROR_VALIDATION_FAILURE }
                .is_unavailable()
        );
    }

    #[test]
    fn loss_codes() {
        assert!(is_loss(openxr::sys::Result::ERROR_INSTANCE_LOST));
        assert!(is_loss(openxr::sys::Result::ERROR_SESSION_LOST));
        assert!(!is_loss(openxr::sys::Result::ERROR_VALIDATION_FAILURE));
    }
}
