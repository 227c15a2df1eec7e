//! Sangam's plugin host: sandboxed WebAssembly components for data adapters, simulation models and
//! overlays, run by wasmtime behind the versioned WIT contract in `sdk/wit/`.
//!
//! - [`manifest`]: `plugin.toml`, the plugin's identity, role, SDK version, capabilities, limits and
//!   parameters.
//! - [`inspect`]: reads a component's imports and exports before compilation (SDK version, role, WASI).
//! - [`package`]: the distributable artifact, a component with its manifest embedded.
//! - [`signing`]: ed25519 signatures, key files, trusted keys and the admission policy.

pub mod contract;
pub mod inspect;
pub mod manifest;
pub mod package;
pub mod signing;

pub use contract::{Capabilities, Limits, ParamValue, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};
