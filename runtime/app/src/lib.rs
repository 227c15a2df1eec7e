//! `sangam`: wiring of the twin model, the renderer plugins and data into front ends (headless, window, XR).
//!
//! - [`site`]: turns a loaded scene file (the twin) into a render scene: glTF assets imported once and
//!   placed (instanced), GeoJSON layers extruded, a ground plane, the sun.
//! - [`framing`]: a bare glTF model with an automatic camera, so anyone can look at a model.
//! - [`headless`]: the headless front end: bookmarks (mono or stereo) to images.
//! - [`scaffold`]: `sangam plugin new`: writes a new plugin crate from templates.
//! - [`interaction`]: selection, inspector, camera, tabletop, layers and time, shared by every front end.
//! - [`live_plugins`]: the scene's plugins under supervision, fed and read by the frame loops.
//! - [`overlay_compose`]: the per-frame overlay: plugin frames, the inspector panel, heads-up lines.
//! - [`frontend`]: `sangam run`: choosing XR, window or headless, and the headless frame loop.
//! - [`window`]: the desktop window front end (winit).
//! - [`xr_front`]: the OpenXR front end (the site in a headset session through `sangam-xr`).

pub mod framing;
pub mod frontend;
pub mod headless;
pub mod interaction;
pub mod live_plugins;
pub mod overlay_compose;
pub mod scaffold;
pub mod site;
pub mod window;
pub mod xr_front;
