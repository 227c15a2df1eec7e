//! Routes of an origin-destination matrix and the split ratios they give the cell transmission model:
//! every trip takes its shortest open route (free-flow travel time, Dijkstra), and at each node the
//! flow arriving on a link divides over the next links (or leaves the network) in the proportion of
//! the trips' rates along them.
//!
//! A link no route uses keeps the split it had (the vehicles on it when a road closed drive on as
//! they meant to, while their next link is open), or else divides evenly over its node's open
//! links; at a node with no links out, vehicles leave the network. A trip with no open route waits
//! at its origin, counted ([`crate::ctm::Totals::stranded`]).
//!
//! Cost: one Dijkstra per origin node with trips (O(E log V)), only when demand or closures change.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::network::Link;

/// Trips from one node to another, vehicles per hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    /// Where they enter the network.
    pub origin: usize,
    /// Where they leave it.
    pub destination: usize,
    /// Vehicles per hour (0 to 100,000).
    pub rate_vph: f64,
}

/// Where flow on a link goes next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Onto this link.
    Link(usize),
    /// Out of the network at the link's end node.
    Exit,
}

/// The split ratios of a network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Splits {
    /// Per link: where its flow goes, with fractions summing to 1 (empty: it waits).
    pub links: Vec<Vec<(Next, f64)>>,
    /// Per node: how the trips entering there divide over its links out (always [`Next::Link`]).
    pub origins: Vec<Vec<(Next, f64)>>,
    /// Per trip: its route (links), or none when no open route joins its origin and destination.
    pub routes: Vec<Option<Vec<usize>>>,
}

/// The shortest open route (free-flow time) from `from` to `to`.
fn shortest(nodes: usize, links: &[Link], out: &[Vec<usize>], from: usize, to: usize) -> Option<Vec<usize>> {
    let mut best = vec![f64::INFINITY; nodes];
    let mut via: Vec<Option<usize>> = vec![None; nodes];
    let mut heap = BinaryHeap::new();
    best[from] = 0.0;
    heap.push(Reverse((0u64, from)));
    while let Some(Reverse((cost_bits, node))) = heap.pop() {
        let cost = f64::from_bits(cost_bits);
        if cost > best[node] {
            continue;
        }
        if node == to {
            break;
        }
        for &l in &out[node] {
            let link = &links[l];
            if link.closed {
                continue;
            }
            let next = cost + link.spec.length_m / (link.spec.diagram.free_speed_kmh / 3.6);
            if next < best[link.spec.to] {
                best[link.spec.to] = next;
                via[link.spec.to] = Some(l);
                // Non-negative floats order as their bits do.
                heap.push(Reverse((next.to_bits(), link.spec.to)));
            }
        }
    }
    if from == to || best[to].is_infinite() {
        return None;
    }
    let mut route = Vec::new();
    let mut node = to;
    while node != from {
        let l = via[node]?;
        route.push(l);
        node = links[l].spec.from;
    }
    route.reverse();
    Some(route)
}

/// The routes and split ratios of `trips` on `links`, keeping `previous` where no route decides.
pub fn splits(nodes: usize, links: &[Link], trips: &[Trip], previous: &Splits) -> Splits {
    let mut out = vec![Vec::new(); nodes];
    for (i, l) in links.iter().enumerate() {
        out[l.spec.from].push(i);
    }
    let routes: Vec<Option<Vec<usize>>> =
        trips.iter().map(|t| shortest(nodes, links, &out, t.origin, t.destination)).collect();
    // Route flow through each (link, next) and out of each origin.
    let mut through: Vec<Vec<(Next, f64)>> = vec![Vec::new(); links.len()];
    let mut origins: Vec<Vec<(Next, f64)>> = vec![Vec::new(); nodes];
    let add = |list: &mut Vec<(Next, f64)>, next: Next, rate: f64| match list.iter_mut().find(|(n, _)| *n == next) {
        Some((_, r)) => *r += rate,
        None => list.push((next, rate)),
    };
    for (trip, route) in trips.iter().zip(&routes) {
        let Some(route) = route else { continue };
        let rate = trip.rate_vph.max(1e-9);
        add(&mut origins[trip.origin], Next::Link(route[0]), rate);
        for pair in route.windows(2) {
            add(&mut through[pair[0]], Next::Link(pair[1]), rate);
        }
        add(&mut through[*route.last().unwrap_or(&route[0])], Next::Exit, rate);
    }
    let normalise = |list: &mut Vec<(Next, f64)>| {
        let total: f64 = list.iter().map(|(_, r)| r).sum();
        list.iter_mut().for_each(|(_, r)| *r /= total);
    };
    let open = |next: &Next| match next {
        Next::Link(l) => !links[*l].closed,
        Next::Exit => true,
    };
    let link_splits = through
        .into_iter()
        .enumerate()
        .map(|(i, mut list)| {
            if !list.is_empty() {
                normalise(&mut list);
                return list;
            }
            if let Some(old) = previous.links.get(i).filter(|o| !o.is_empty() && o.iter().all(|(n, _)| open(n))) {
                return old.clone();
            }
            let end = links[i].spec.to;
            if out[end].is_empty() {
                return vec![(Next::Exit, 1.0)];
            }
            let mut even: Vec<(Next, f64)> =
                out[end].iter().filter(|&&l| !links[l].closed).map(|&l| (Next::Link(l), 1.0)).collect();
            if !even.is_empty() {
                normalise(&mut even);
            }
            even
        })
        .collect();
    origins.iter_mut().filter(|list| !list.is_empty()).for_each(normalise);
    Splits { links: link_splits, origins, routes }
}
