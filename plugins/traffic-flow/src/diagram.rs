//! The triangular fundamental diagram (flow against density) of one road: free-flow speed `v`,
//! capacity `q` and jam density `k_j` per lane; the critical density is `q / v` and the backward
//! wave speed `w = q / (k_j - q / v)`.
//!
//! The defaults per road class are typical planning values (capacities of the order of the HCM's and
//! IRC:106's per-lane figures, a jam density of one vehicle per 6.7 m of lane), not measurements of a
//! particular road: a scene sets its own where it knows them.
//!
//! Cost: a few divisions.

use crate::ModelError;

/// The fundamental diagram of one lane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagram {
    /// Free-flow speed, km/h (the speed limit).
    pub free_speed_kmh: f64,
    /// Capacity, vehicles per hour per lane.
    pub capacity_vph: f64,
    /// Jam density, vehicles per km per lane.
    pub jam_density_vpkm: f64,
}

/// Road classes (OpenStreetMap's `highway` values) and their default lane capacity (veh/h).
pub const CLASS_CAPACITY_VPH: [(&str, f64); 7] = [
    ("motorway", 2000.0),
    ("trunk", 1800.0),
    ("primary", 1600.0),
    ("secondary", 1400.0),
    ("tertiary", 1200.0),
    ("unclassified", 900.0),
    ("residential", 800.0),
];

/// The default jam density, vehicles per km per lane.
pub const JAM_DENSITY_VPKM: f64 = 150.0;

impl Diagram {
    /// The default diagram of a road of OSM class `class` at `speed_limit_kmh`; unknown classes
    /// take the residential capacity.
    pub fn for_class(class: &str, speed_limit_kmh: f64) -> Diagram {
        let capacity = CLASS_CAPACITY_VPH.iter().find(|(c, _)| *c == class).map_or(800.0, |(_, q)| *q);
        Diagram { free_speed_kmh: speed_limit_kmh, capacity_vph: capacity, jam_density_vpkm: JAM_DENSITY_VPKM }
    }

    /// Density at capacity, veh/km/lane.
    pub fn critical_density(&self) -> f64 {
        self.capacity_vph / self.free_speed_kmh
    }

    /// The speed of backward (congestion) waves, km/h.
    pub fn wave_speed_kmh(&self) -> f64 {
        self.capacity_vph / (self.jam_density_vpkm - self.critical_density())
    }

    /// The stationary speed at density `k` (veh/km/lane), km/h: free-flow up to the critical density,
    /// then the congested branch; 0 at jam density.
    pub fn speed_at(&self, k: f64) -> f64 {
        if k <= self.critical_density() {
            self.free_speed_kmh
        } else if k >= self.jam_density_vpkm {
            0.0
        } else {
            self.wave_speed_kmh() * (self.jam_density_vpkm - k) / k
        }
    }

    /// Checks the three numbers: speed 5-150 km/h, capacity 100-3000 veh/h/lane, jam density
    /// 50-300 veh/km/lane, and a wave no faster than the traffic (`w <= v`, which the CTM's stability
    /// needs).
    pub fn check(&self, link: &str) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::Link { link: link.into(), what });
        let ranges = [
            ("free speed", self.free_speed_kmh, 5.0, 150.0, "km/h"),
            ("capacity", self.capacity_vph, 100.0, 3000.0, "veh/h per lane"),
            ("jam density", self.jam_density_vpkm, 50.0, 300.0, "veh/km per lane"),
        ];
        for (name, v, lo, hi, unit) in ranges {
            if !(v.is_finite() && (lo..=hi).contains(&v)) {
                return bad(format!("{name} = {v} {unit} is outside {lo} to {hi} {unit}"));
            }
        }
        if self.critical_density() >= self.jam_density_vpkm || self.wave_speed_kmh() > self.free_speed_kmh {
            return bad(format!(
                "capacity {} veh/h at {} km/h needs a jam density above {:.0} veh/km (a wave speed no faster than \
                 the free speed)",
                self.capacity_vph,
                self.free_speed_kmh,
                2.0 * self.critical_density()
            ));
        }
        Ok(())
    }
}
