//! Macroscopic traffic flow for what-if planning: Daganzo's cell transmission model (CTM; Daganzo
//! 1994, "The cell transmission model", Transportation Research B 28(4); its network extension,
//! 1995, TR-B 29(2)) on a road network.
//!
//! - [`diagram`]: the triangular fundamental diagram of a road (free speed, capacity and jam density
//!   per lane), with defaults per road class;
//! - [`network`]: links between nodes, cut into cells of at least one free-flow step, with closures
//!   and signal plans;
//! - [`graph`]: the network of a scene's mapped roads (OSM ways): nodes at ends and shared points,
//!   a link per direction, lanes and speeds from the tags or class defaults;
//! - [`routing`]: shortest routes of an origin-destination matrix and the split ratios at each node
//!   they give, made again when a road closes;
//! - [`ctm`]: one time step of the model: sending and receiving flows per cell, a FIFO node model at
//!   merges, diverges and crossings, origin queues, and per-link density, speed, queue length and
//!   travel time;
//! - [`plugin`]: the simulation-role glue (SDK 1.3): the scene's roads in, per-segment results out.
//!
//! Vehicles are conserved to rounding: every step moves flow from a cell, an origin queue or a link
//! end to exactly one place, and [`ctm::Model::totals`] accounts for all of it.
//!
//! Cost per step: linear in cells plus links; routing (Dijkstra per origin) only when the demand or a
//! closure changes.

#![forbid(unsafe_code)]

pub mod ctm;
pub mod diagram;
pub mod graph;
pub mod network;
pub mod plugin;
pub mod routing;

sangam_sdk::export_simulation!(plugin::TrafficFlow);

/// What makes a network or a demand unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A link's parameter outside the range the model takes.
    #[error("link `{link}`: {what}")]
    Link {
        /// The link's id.
        link: String,
        /// What is wrong, with the range.
        what: String,
    },
    /// A node, signal or demand that names something that is not there, or is out of range.
    #[error("{0}")]
    Invalid(String),
}
