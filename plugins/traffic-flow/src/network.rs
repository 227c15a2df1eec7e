//! A road network for the cell transmission model: directed links between numbered nodes, each cut
//! into equal cells no shorter than one free-flow step (`v dt`, the CTM's stability condition), with
//! the signal plans of signalised nodes.
//!
//! A link shorter than one step is one cell; its sending flow is capped at what it holds, so a
//! vehicle crosses it in one step (the CTM's stability is kept by that cap).
//!
//! Bounded: at most [`MAX_CELLS`] cells in all.
//!
//! Cost: linear in the links at build time.

use crate::ModelError;
use crate::diagram::Diagram;

/// The most cells of one network.
pub const MAX_CELLS: usize = 5_000_000;

/// One directed road link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// Its id (a road segment's entity id).
    pub id: String,
    /// The node it leaves.
    pub from: usize,
    /// The node it enters.
    pub to: usize,
    /// Length, m.
    pub length_m: f64,
    /// Lanes (1 to 12).
    pub lanes: u32,
    /// Its fundamental diagram per lane.
    pub diagram: Diagram,
}

/// A fixed-time signal plan at a node: the phases run in order, for ever, from `offset_s`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalPlan {
    /// The node.
    pub node: usize,
    /// The phases: the incoming links (indices into the network's links) that have green, and how
    /// long, s.
    pub phases: Vec<(Vec<usize>, f64)>,
    /// The plan's start, s.
    pub offset_s: f64,
}

impl SignalPlan {
    /// The cycle length, s.
    pub fn cycle_s(&self) -> f64 {
        self.phases.iter().map(|(_, d)| d).sum()
    }

    /// Whether incoming link `link` has green at time `t_s`.
    pub fn green(&self, link: usize, t_s: f64) -> bool {
        let mut t = (t_s - self.offset_s).rem_euclid(self.cycle_s());
        for (links, duration) in &self.phases {
            if t < *duration {
                return links.contains(&link);
            }
            t -= duration;
        }
        false
    }
}

/// A link cut into cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// What it is.
    pub spec: LinkSpec,
    /// The length of each of its cells, m.
    pub cell_m: f64,
    /// Vehicles in each cell, upstream first.
    pub vehicles: Vec<f64>,
    /// Whether it is closed (nothing enters or moves).
    pub closed: bool,
}

impl Link {
    /// Most vehicles one cell moves per step (capacity x lanes x dt).
    pub fn capacity_per_step(&self, dt_s: f64) -> f64 {
        self.spec.diagram.capacity_vph * self.spec.lanes as f64 * dt_s / 3600.0
    }

    /// Most vehicles one cell holds.
    pub fn cell_storage(&self) -> f64 {
        self.spec.diagram.jam_density_vpkm * self.spec.lanes as f64 * self.cell_m / 1000.0
    }

    /// What cell `c` can send in a step: `min(n v dt / L, Q)`, at most what it holds.
    pub fn sending(&self, c: usize, dt_s: f64) -> f64 {
        if self.closed {
            return 0.0;
        }
        let reach = (self.spec.diagram.free_speed_kmh / 3.6 * dt_s / self.cell_m).min(1.0);
        (self.vehicles[c] * reach).min(self.capacity_per_step(dt_s))
    }

    /// What cell `c` can take in a step: `min(Q, w dt / L (N - n))`.
    pub fn receiving(&self, c: usize, dt_s: f64) -> f64 {
        if self.closed {
            return 0.0;
        }
        let reach = (self.spec.diagram.wave_speed_kmh() / 3.6 * dt_s / self.cell_m).min(1.0);
        ((self.cell_storage() - self.vehicles[c]).max(0.0) * reach).min(self.capacity_per_step(dt_s))
    }

    /// Vehicles on the link.
    pub fn total(&self) -> f64 {
        self.vehicles.iter().sum()
    }
}

/// Cuts `specs` into cells for a step of `dt_s`, checking every link and signal plan.
pub fn build(nodes: usize, specs: Vec<LinkSpec>, signals: &[SignalPlan], dt_s: f64) -> Result<Vec<Link>, ModelError> {
    if !(dt_s.is_finite() && (0.1..=60.0).contains(&dt_s)) {
        return Err(ModelError::Invalid(format!("a step of {dt_s} s is outside 0.1 to 60 s")));
    }
    let mut cells = 0usize;
    let mut links = Vec::with_capacity(specs.len());
    for spec in specs {
        let bad = |what: String| ModelError::Link { link: spec.id.clone(), what };
        spec.diagram.check(&spec.id)?;
        if spec.from >= nodes || spec.to >= nodes {
            return Err(bad(format!("joins nodes {} and {}, but the network has {nodes}", spec.from, spec.to)));
        }
        if !(spec.length_m.is_finite() && (1.0..=100_000.0).contains(&spec.length_m)) {
            return Err(bad(format!("length {} m is outside 1 to 100000 m", spec.length_m)));
        }
        if !(1..=12).contains(&spec.lanes) {
            return Err(bad(format!("{} lanes is outside 1 to 12", spec.lanes)));
        }
        let step_m = spec.diagram.free_speed_kmh / 3.6 * dt_s;
        let n = ((spec.length_m / step_m).floor() as usize).max(1);
        cells += n;
        if cells > MAX_CELLS {
            return Err(ModelError::Invalid(format!("over {MAX_CELLS} cells: use a longer step")));
        }
        links.push(Link { cell_m: spec.length_m / n as f64, vehicles: vec![0.0; n], closed: false, spec });
    }
    for plan in signals {
        if plan.node >= nodes || plan.phases.is_empty() || !(plan.cycle_s() > 0.0 && plan.cycle_s().is_finite()) {
            return Err(ModelError::Invalid(format!(
                "the signal plan of node {}: needs a node of the network and phases of positive length",
                plan.node
            )));
        }
        for (green, duration) in &plan.phases {
            if !(duration.is_finite() && *duration >= 0.0) {
                return Err(ModelError::Invalid(format!("node {}: a phase of {duration} s", plan.node)));
            }
            if let Some(&l) = green.iter().find(|&&l| l >= links.len() || links[l].spec.to != plan.node) {
                return Err(ModelError::Invalid(format!(
                    "node {}: link {l} of a phase does not enter the node",
                    plan.node
                )));
            }
        }
    }
    Ok(links)
}
