//! The renderer's integration tests, one binary: the glTF importer against the Khronos corpus, and
//! rendering, overlays and GPU timing on a real Vulkan adapter (lavapipe in CI; these fail, never
//! skip, when CI is set and no adapter is usable).

mod gltf_corpus;
mod gpu_render;
mod gpu_timing;
mod overlay_render;
