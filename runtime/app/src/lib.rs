//! `sangam`: wiring of the twin model, the renderer and (later) plugins, data and XR into front ends.
//!
//! - [`site`]: turns a loaded scene file (the twin) into a render scene: glTF assets imported once and
//!   placed (instanced), GeoJSON layers extruded, a ground plane, the sun.
//! - [`framing`]: a bare glTF model with an automatic camera, so anyone can look at a model.
//! - [`headless`]: the headless front end: bookmarks (mono or stereo) to images.

pub mod framing;
pub mod headless;
pub mod site;
