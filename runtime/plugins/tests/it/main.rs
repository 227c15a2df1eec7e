//! The plugin host's integration tests, one binary: the runtime side (1.0 to 1.3 side by side,
//! cache, reload), the fault corpus and hostile plugins, manifests and packages, the frozen WIT
//! folders, synthesized components, the full-column path, 1.3's site geometry and maps, and the
//! diffusion kernel.
//!
//! Needs the fixture plugins: `cargo xtask build-plugins`.

#[allow(dead_code)]
mod common;
mod fault_corpus;
mod full_column;
mod geometry_raster;
mod kernel;
mod manifest;
mod package;
mod runtime;
mod synthesized;
mod wit_frozen;
