//! Sangam's plugin host: sandboxed WebAssembly components for data adapters, simulation models and
//! overlays, run by wasmtime behind the versioned WIT contract in `sdk/wit/`.
//!
//! Layers, each with one job:
//! - [`engine`]: one wasmtime engine per runtime (component model, epoch interruption, optional
//!   fuel, pooling allocator), the epoch ticker thread, linkers per SDK version and role, and the
//!   on-disk [`cache`] of compiled components.
//! - [`bindings`]: typed bindings for every supported SDK version; [`host`] implements the host
//!   interfaces once for all of them.
//! - [`instance`]: a loaded plugin ([`LoadedPlugin`], reusable for restarts) and a live instance
//!   ([`PluginInstance`]) with its limits; every call returns checked [`output`] or a
//!   [`PluginFault`] naming the plugin, the call and the cause.
//! - [`supervisor`]: worker threads, latched outputs the frame loop reads without blocking,
//!   quarantine, restart with backoff, hot reload.
//! - [`manifest`]: `plugin.toml`, the plugin's identity, role, SDK version, capabilities, limits and
//!   parameters.
//! - [`inspect`]: reads a component's imports and exports before compilation (SDK version, role, WASI).
//! - [`package`]: the distributable artifact, a component with its manifest embedded.
//! - [`signing`]: ed25519 signatures, key files, trusted keys and the signature policy.
//! - [`admission`]: the one verdict on whether a plugin may run, shared by `plugin check` and every
//!   front end.
//! - [`geometry`]: the scene's buildings and roads as plugins get them (SDK 1.3).
//! - [`text`]: plugin text made safe for logs, terminals and the screen.

pub mod admission;
pub mod bindings;
pub mod cache;
pub mod contract;
pub mod engine;
pub mod error;
pub mod geometry;
pub mod host;
pub mod inspect;
pub mod instance;
pub mod manifest;
pub mod output;
pub mod package;
pub mod signing;
pub mod supervisor;
pub mod text;
pub mod twin;
mod waits;

pub use cache::{CacheOutcome, ComponentCache};
pub use contract::{Capabilities, Limits, ParamValue, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};
pub use engine::{EngineOptions, PluginEngine};
pub use error::{Call, FaultCause, PluginError, PluginFault};
pub use geometry::SiteGeometry;
pub use host::LogLine;
pub use instance::{EntityTable, LoadedPlugin, PluginInstance, PluginSpec, SourceInfo, check_sdk_version};
pub use output::{
    AdapterOutput, Alert, ColumnEntities, Heatmap, Labels, Markers, NewEntity, NumberColumn, OverlayFrame, Palette,
    ParameterSpec, Polyline, PropertyUpdates, Raster, Severity, TextValue, Volume, VolumeShape,
};
pub use supervisor::{
    FaultAction, FaultReport, MAX_STEPS_PER_BATCH, NotQueued, PluginStats, PluginStatus, RestartPolicy, Submit,
    Supervisor, Unqueued,
};
pub use twin::{BatchView, EmptyTwin, TwinSnapshot, TwinView};
