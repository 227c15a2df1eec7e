//! `sangam`: wiring of the twin model, the renderer and (later) plugins, data and XR into front ends.
//!
//! - [`site`]: turns a loaded scene file (the twin) into a render scene: glTF assets imported once and
//!   placed (instanced), GeoJSON layers extruded, a ground plane, the sun.
//! - [`framing`]: a bare glTF model with an automatic camera, so anyone can look at a model.
//! - [`headless`]: the headless front end: bookmarks (mono or stereo) to images.
//! - [`scaffold`]: `sangam plugin new`: writes a new plugin crate from templates.
//! - [`interaction`]: selection, inspector, camera, tabletop, layers and time, shared by every front end.
//! - [`frontend`]: `sangam run`: choosing XR, window or headless, and the headless frame loop.
//! - [`window`]: the desktop window front end (winit).

pub mod framing;
pub mod frontend;
pub mod headless;
pub mod interaction;
pub mod scaffold;
pub mod site;
pub mod window;
