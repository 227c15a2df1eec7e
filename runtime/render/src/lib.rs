//! `sangam-render`: the Sangam wgpu renderer.
//!
//! - [`model`]: CPU-side meshes, materials, textures, models (what the GPU side uploads).
//! - [`gltf_import`]: glTF 2.0 (.gltf, .glb) into a [`model::Model`], robust against bad files.
//! - [`extrude`]: GeoJSON-derived building footprints and road centre lines into meshes.
//! - [`overlay`]: per-frame overlay primitives (lines, markers, labels, heatmaps, volumes, HUD text)
//!   drawn on top of the scene by [`gpu::Renderer::render_with_overlay`].
//! - [`scene`]: a render scene: models placed in the world in `f64`, lights, and views.
//! - [`baseline`]: a minimal wgpu renderer, the same-run baseline of the frame benchmarks.
//! - [`gpu`]: the wgpu renderer: N views per frame, MSAA, PBR, instancing, culling, capture.

pub mod baseline;
pub mod extrude;
pub mod gltf_import;
pub mod gpu;
pub mod model;
pub mod overlay;
pub mod scene;
