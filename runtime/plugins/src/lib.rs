//! Sangam's plugin host: sandboxed WebAssembly components for data adapters, simulation models and
//! overlays, run by wasmtime behind the versioned WIT contract in `sdk/wit/`.

pub mod contract;

pub use contract::{Capabilities, Limits, ParamValue, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};
