//! `sangam-twin`: the twin model of a Sangam site.
//!
//! Entities with typed properties and units, their time-series history, the versioned scene file
//! format and geo-referencing (WGS84 geodetic <-> ECEF <-> local ENU, all in `f64`).
//! Pure Rust: no GPU, no WebAssembly, no async.
//!
//! * [`geo`]: WGS84, [`Geodetic`], ECEF, [`EnuFrame`].
//! * [`scene`]: the TOML scene file, [`Scene::load`], [`SceneError`].
//! * [`geojson`]: building footprints and roads from GeoJSON, [`Layer`].
//! * [`entity`], [`property`]: [`Entity`], [`PropertyValue`], [`Unit`].
//! * [`history`]: [`TwinStore`] (entities, time series down-sampled within a memory budget, a bounded
//!   event log for recording and replay, the state hash a replay is checked against).
//! * [`clock`]: [`SimTime`], [`SimClock`] (fixed-step simulation clock).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod diagnostic;
pub mod entity;
pub mod geo;
pub mod geojson;
pub mod history;
pub mod property;
pub mod scene;

pub use clock::{Advance, ClockEnd, ClockError, SimClock, SimTime};
pub use entity::{Entity, EntityId, EntityLink};
pub use geo::{EnuFrame, GeoError, Geodetic};
pub use geojson::{BuildingFootprint, GeoJsonError, HeightSource, Layer, LayerOptions, Road};
pub use history::{
    Aggregate, Bucket, BudgetError, Series, StateHash, StateHashError, StoreError, TwinEvent, TwinEventKind, TwinStore,
};
pub use property::{PropertyValue, Unit};
pub use scene::{
    AggregateOnly, Asset, Bookmark, BookmarkAim, BrokerAddress, ClockDecl, ColorRamp, ColorRule, DEFAULT_APPLY_BUDGET,
    DEFAULT_CLOCK_STEP, DEFAULT_MAX_CALL_MS, Environment, FileFormat, GovernanceDecl, HeatmapRule, HistoryDecl,
    InstanceGroup, InstanceMember, MAX_SOURCE_MESSAGE_BYTES, ParamLiteral, Placement, PluginDecl, PluginLimitsDecl,
    PluginPolicy, ReadGrant, ReplayPace, ScenarioDecl, ScenarioValue, Scene, SceneError, SourceDecl, SourceKind,
    TlsFiles, UNTIMED_ROWS_PER_MESSAGE, broker_address, is_topic_filter, split_scenario_key, world_from_model,
};
