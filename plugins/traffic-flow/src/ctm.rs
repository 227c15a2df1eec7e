//! One time step of the cell transmission model over a network.
//!
//! 1. Every cell's sending flow `S = min(n v dt / L, Q)` and receiving flow `R = min(Q, w dt / L
//!    (N - n))` ([`Link::sending`], [`Link::receiving`]); a closed link sends and takes nothing, and a
//!    link whose signal is red sends nothing into its node.
//! 2. Within a link, cell `c` passes `min(S_c, R_c+1)` to the next.
//! 3. At each node, a FIFO node model: the flow each incoming link (and the node's origin queue)
//!    wants to send to each next link is `S_i x split_ij`; a next link asked for more than it takes
//!    (`R_j`) gives each the same share of it; each incoming link then sends at the lowest share of
//!    the links it feeds (first in, first out: a vehicle that cannot turn holds those behind it),
//!    divided by its splits. For a diverge this is Daganzo's FIFO diverge; for a merge the
//!    upstream links share the downstream one in proportion to their demand.
//! 4. Origins: each trip's rate is added to its origin's queue every step (a trip with no open route
//!    to its stranded count instead); the queue enters as its first links take it.
//!
//! Vehicles carry no destination: the splits are fractions of all traffic on a link (the usual
//! split-ratio CTM; exact where each path holds one destination's traffic, as in a corridor).
//!
//! Cost: a pass over the cells and one over the nodes' links per step (with a few short vectors per
//! node: fine for city networks; a flat layout is the next step if the 100k-cell benchmark needs it).

use crate::ModelError;
use crate::network::{self, Link, LinkSpec, SignalPlan};
use crate::routing::{self, Next, Splits, Trip};

/// One share of a sender's flow: where it goes, and the fraction.
type Split = (Next, f64);

/// Where the vehicles are: the accounts conservation is checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Vehicles that have arrived at origins (entered the origin queues).
    pub arrived: f64,
    /// Vehicles waiting at origins to enter.
    pub waiting: f64,
    /// Vehicles on links.
    pub on_links: f64,
    /// Vehicles that have left the network.
    pub exited: f64,
    /// Vehicles of trips with no open route, waiting where they are (not in `arrived`).
    pub stranded: f64,
}

/// A link's state, as a planner reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkReport {
    /// Vehicles per km (all lanes).
    pub density_vpkm: f64,
    /// Space-mean speed, km/h (length over travel time).
    pub speed_kmh: f64,
    /// Vehicles per hour leaving its last cell in the last step.
    pub outflow_vph: f64,
    /// Length of its congested cells (density above critical), m.
    pub queue_m: f64,
    /// Time to drive it at its cells' speeds, s (infinite through a jammed cell).
    pub travel_time_s: f64,
}

/// A running cell transmission model.
#[derive(Debug, Clone)]
pub struct Model {
    nodes: usize,
    dt_s: f64,
    time_s: f64,
    links: Vec<Link>,
    signals: Vec<SignalPlan>,
    trips: Vec<Trip>,
    splits: Splits,
    queues: Vec<f64>,
    totals: Totals,
    into: Vec<Vec<usize>>,
    out_of: Vec<Vec<usize>>,
    outflow: Vec<f64>,
    /// Scratch, per link: what its last cell sends into its node this step.
    sent: Vec<f64>,
}

impl Model {
    /// A network of `nodes` nodes and `links`, stepped by `dt_s`, with the signal plans and trips.
    pub fn new(
        nodes: usize,
        links: Vec<LinkSpec>,
        signals: Vec<SignalPlan>,
        trips: Vec<Trip>,
        dt_s: f64,
    ) -> Result<Model, ModelError> {
        let links = network::build(nodes, links, &signals, dt_s)?;
        let mut into = vec![Vec::new(); nodes];
        let mut out_of = vec![Vec::new(); nodes];
        for (i, l) in links.iter().enumerate() {
            into[l.spec.to].push(i);
            out_of[l.spec.from].push(i);
        }
        let n = links.len();
        let mut model = Model {
            nodes,
            dt_s,
            time_s: 0.0,
            links,
            signals,
            trips: Vec::new(),
            splits: Splits::default(),
            queues: vec![0.0; nodes],
            totals: Totals::default(),
            into,
            out_of,
            outflow: vec![0.0; n],
            sent: vec![0.0; n],
        };
        model.set_trips(trips)?;
        Ok(model)
    }

    /// Replaces the origin-destination matrix (live counts at the boundaries change the rates) and
    /// routes it again.
    pub fn set_trips(&mut self, trips: Vec<Trip>) -> Result<(), ModelError> {
        for t in &trips {
            if t.origin >= self.nodes || t.destination >= self.nodes {
                return Err(ModelError::Invalid(format!(
                    "a trip from node {} to {}: the network has {} nodes",
                    t.origin, t.destination, self.nodes
                )));
            }
            if !(t.rate_vph.is_finite() && (0.0..=100_000.0).contains(&t.rate_vph)) {
                return Err(ModelError::Invalid(format!(
                    "a trip from node {} to {} at {} veh/h: rates are 0 to 100000 veh/h",
                    t.origin, t.destination, t.rate_vph
                )));
            }
        }
        self.trips = trips;
        self.reroute();
        Ok(())
    }

    /// Closes or opens link `link` (an incident, works), and routes the trips again.
    pub fn set_closed(&mut self, link: usize, closed: bool) {
        if let Some(l) = self.links.get_mut(link) {
            l.closed = closed;
            self.reroute();
        }
    }

    fn reroute(&mut self) {
        self.splits = routing::splits(self.nodes, &self.links, &self.trips, &self.splits);
    }

    /// Advances the model by one step.
    pub fn step(&mut self) {
        let dt = self.dt_s;
        // Arrivals at the origins.
        for (trip, route) in self.trips.iter().zip(&self.splits.routes) {
            let n = trip.rate_vph * dt / 3600.0;
            if route.is_some() {
                self.queues[trip.origin] += n;
                self.totals.arrived += n;
            } else {
                self.totals.stranded += n;
            }
        }
        // What each link's last cell would send into its node (red: nothing).
        for (i, link) in self.links.iter().enumerate() {
            let last = link.vehicles.len() - 1;
            let node = link.spec.to;
            let red = self.signals.iter().any(|p| p.node == node && !p.green(i, self.time_s));
            self.sent[i] = if red { 0.0 } else { link.sending(last, dt) };
        }
        // Node flows, computed from the cells' state before any moves.
        let mut moves: Vec<(usize, f64)> = Vec::new(); // (link entered, vehicles)
        let mut leaving = vec![0.0; self.links.len()];
        let mut from_origin = vec![0.0; self.nodes];
        let mut exited = self.totals.exited;
        for node in 0..self.nodes {
            self.node_flows(node, &mut moves, &mut leaving, &mut from_origin, &mut exited);
        }
        self.totals.exited = exited;
        // Within links, then the node moves.
        for (i, link) in self.links.iter_mut().enumerate() {
            let cells = link.vehicles.len();
            let mut inner = vec![0.0; cells.saturating_sub(1)];
            for (c, flow) in inner.iter_mut().enumerate() {
                *flow = link.sending(c, dt).min(link.receiving(c + 1, dt));
            }
            for (c, flow) in inner.iter().enumerate() {
                link.vehicles[c] -= flow;
                link.vehicles[c + 1] += flow;
            }
            link.vehicles[cells - 1] -= leaving[i];
            self.outflow[i] = leaving[i] * 3600.0 / dt;
        }
        for (l, n) in moves {
            self.links[l].vehicles[0] += n;
        }
        for (node, n) in from_origin.iter().enumerate() {
            self.queues[node] -= n;
        }
        self.time_s += dt;
        self.totals.waiting = self.queues.iter().sum();
        self.totals.on_links = self.links.iter().map(Link::total).sum();
    }

    /// The FIFO node model at `node`: fills `moves` (link entered, vehicles), `leaving` (per
    /// incoming link) and `from_origin`, and adds what leaves the network to `exited`.
    fn node_flows(
        &self,
        node: usize,
        moves: &mut Vec<(usize, f64)>,
        leaving: &mut [f64],
        from_origin: &mut [f64],
        exited: &mut f64,
    ) {
        let dt = self.dt_s;
        // The senders: incoming links, then the origin queue (as sender usize::MAX), each with its
        // split ratios.
        let origin = (usize::MAX, self.queues[node], self.splits.origins[node].as_slice());
        let senders: Vec<(usize, f64, &[Split])> = self.into[node]
            .iter()
            .map(|&i| (i, self.sent[i], self.splits.links[i].as_slice()))
            .chain(std::iter::once(origin))
            .filter(|(_, s, _)| *s > 0.0)
            .collect();
        // Demand on each link out.
        let outs = &self.out_of[node];
        let mut asked = vec![0.0; outs.len()];
        for &(_, s, split) in &senders {
            for (next, f) in split {
                if let Next::Link(l) = next
                    && let Some(k) = outs.iter().position(|o| o == l)
                {
                    asked[k] += s * f;
                }
            }
        }
        let share: Vec<f64> = outs
            .iter()
            .zip(&asked)
            .map(|(&l, &a)| {
                let r = self.links[l].receiving(0, dt);
                if a > r { r / a } else { 1.0 }
            })
            .collect();
        for (i, s, split) in senders {
            if split.is_empty() {
                continue; // nowhere open to go: it waits
            }
            let lowest = split
                .iter()
                .map(|(next, _)| match next {
                    Next::Link(l) => outs.iter().position(|o| o == l).map_or(0.0, |k| share[k]),
                    Next::Exit => 1.0,
                })
                .fold(1.0f64, f64::min);
            let flow = s * lowest;
            if flow <= 0.0 {
                continue;
            }
            for (next, f) in split {
                match next {
                    Next::Link(l) => moves.push((*l, flow * f)),
                    Next::Exit => *exited += flow * f,
                }
            }
            if i == usize::MAX {
                from_origin[node] += flow;
            } else {
                leaving[i] += flow;
            }
        }
    }

    /// The model's clock, s since it started.
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// The accounts.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The links, as built.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The current routes of the trips.
    pub fn routes(&self) -> &[Option<Vec<usize>>] {
        &self.splits.routes
    }

    /// Density, speed, outflow, queue and travel time of link `i`.
    pub fn report(&self, i: usize) -> LinkReport {
        let link = &self.links[i];
        let lanes = link.spec.lanes as f64;
        let km = link.cell_m / 1000.0;
        let mut travel_time_s = 0.0;
        let mut queue_m = 0.0;
        for &n in &link.vehicles {
            let k = n / km / lanes;
            if k > link.spec.diagram.critical_density() * (1.0 + 1e-6) {
                queue_m += link.cell_m;
            }
            let v = link.spec.diagram.speed_at(k);
            travel_time_s += if v > 0.0 { link.cell_m / (v / 3.6) } else { f64::INFINITY };
        }
        LinkReport {
            density_vpkm: link.total() / (link.spec.length_m / 1000.0),
            speed_kmh: if travel_time_s.is_finite() { link.spec.length_m / travel_time_s * 3.6 } else { 0.0 },
            outflow_vph: self.outflow[i],
            queue_m,
            travel_time_s,
        }
    }
}
