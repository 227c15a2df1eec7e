//! `sangam-twin`: the twin model of a Sangam site.
//!
//! Entities with typed properties and units, their time-series history, the versioned scene file
//! format and geo-referencing (WGS84 geodetic <-> ECEF <-> local ENU, all in `f64`).
//! Pure Rust: no GPU, no WebAssembly, no async.
