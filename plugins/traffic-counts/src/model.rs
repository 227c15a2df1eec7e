//! The traffic maths: from a flow and the open lanes of a segment to its speed, density, occupancy,
//! volume-to-capacity ratio and a state word. Pure Rust, no host calls; a handful of floating-point
//! operations per segment and call (one `powf`), no allocation.
//!
//! Speed comes from the BPR volume-delay function (Bureau of Public Roads, *Traffic Assignment
//! Manual*, 1964):
//!
//! ```text
//! v = vf / (1 + alpha (q / c)^beta)        c = n * lane capacity
//! ```
//!
//! with flow `q` (veh/h), `n` open lanes, free-flow speed `vf` (km/h) and, by default, `alpha = 0.15`
//! and `beta = 4`. BPR is a *planning* volume-delay function: it makes speed fall smoothly as the flow
//! approaches and passes capacity, and it accepts `q > c` (a demand above capacity). It is not a model
//! of the congested branch of the fundamental diagram, where a measured flow *falls* as density rises;
//! a low count on a jammed road therefore reads here as a fast, nearly empty road. Treat the speeds as
//! what a planner's assignment would assume for the counted flow, not as measured speeds.
//!
//! From the speed, density follows the fundamental relation `q = k v`, so `k = q / v` (veh/km), and
//! detector occupancy (the share of time a loop is covered) is `k / n` vehicles per km of lane times the
//! effective vehicle length `L` (vehicle plus loop, metres) over 1000 m, as a percentage, capped at
//! 100 %: `occupancy = min(100, k / n * L / 10)`.
//!
//! A closed segment (no open lane) reports flow 0, speed 0, density 0, occupancy 0, v/c 0 and state
//! `closed`: no vehicle passes its detectors, and a queue standing on it is not something a count can
//! tell.

/// The BPR `alpha` of the 1964 manual.
pub const BPR_ALPHA: f64 = 0.15;
/// The BPR `beta` of the 1964 manual.
pub const BPR_BETA: f64 = 4.0;
/// The default capacity of one lane (veh/h), a common planning value for a freeway or arterial lane.
pub const LANE_CAPACITY: f64 = 1800.0;
/// The default effective vehicle length (m): a car of about 5 m plus a 2 m loop detector.
pub const EFFECTIVE_LENGTH_M: f64 = 7.0;
/// v/c at or past which a segment is `heavy`.
pub const HEAVY_VC: f64 = 0.8;
/// v/c at or past which a segment is `congested`.
pub const CONGESTED_VC: f64 = 1.0;

/// The model's constants, shared by every segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Model {
    /// Capacity of one lane (veh/h).
    pub lane_capacity: f64,
    /// BPR `alpha`.
    pub alpha: f64,
    /// BPR `beta`.
    pub beta: f64,
    /// Effective vehicle length for occupancy (m).
    pub effective_length_m: f64,
}

impl Default for Model {
    fn default() -> Self {
        Model { lane_capacity: LANE_CAPACITY, alpha: BPR_ALPHA, beta: BPR_BETA, effective_length_m: EFFECTIVE_LENGTH_M }
    }
}

/// The state word of a segment (text property `traffic.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// v/c below [`HEAVY_VC`].
    Free,
    /// v/c at least [`HEAVY_VC`], below [`CONGESTED_VC`].
    Heavy,
    /// v/c at least [`CONGESTED_VC`].
    Congested,
    /// No lane open.
    Closed,
}

impl Level {
    /// The word written to `traffic.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Free => "free",
            Level::Heavy => "heavy",
            Level::Congested => "congested",
            Level::Closed => "closed",
        }
    }

    /// The level of an open segment at volume-to-capacity ratio `vc`.
    pub fn of_ratio(vc: f64) -> Self {
        if vc >= CONGESTED_VC {
            Level::Congested
        } else if vc >= HEAVY_VC {
            Level::Heavy
        } else {
            Level::Free
        }
    }
}

/// What the model says about one segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegmentState {
    /// Flow (veh/h).
    pub flow: f64,
    /// Speed (km/h).
    pub speed: f64,
    /// Density (veh/km, all lanes).
    pub density: f64,
    /// Detector occupancy (%).
    pub occupancy: f64,
    /// Volume-to-capacity ratio.
    pub vc_ratio: f64,
    /// The state word.
    pub level: Level,
}

impl Model {
    /// The BPR speed (km/h) at flow `q` (veh/h) for capacity `c` (veh/h, positive) and free-flow speed
    /// `vf` (km/h).
    ///
    /// ```
    /// use traffic_counts::model::Model;
    /// let m = Model::default();
    /// assert_eq!(m.bpr_speed(0.0, 1800.0, 50.0), 50.0);
    /// assert_eq!(m.bpr_speed(1800.0, 1800.0, 50.0), 50.0 / 1.15);
    /// ```
    pub fn bpr_speed(&self, q: f64, c: f64, vf: f64) -> f64 {
        vf / (1.0 + self.alpha * (q / c).powf(self.beta))
    }

    /// The state of a segment with flow `flow` (veh/h, finite, not negative), `open_lanes` open lanes
    /// and free-flow speed `free_flow_kmh`. Every number of the result is finite for finite inputs
    /// within the parameter ranges.
    pub fn evaluate(&self, flow: f64, open_lanes: u32, free_flow_kmh: f64) -> SegmentState {
        if open_lanes == 0 {
            return SegmentState {
                flow: 0.0,
                speed: 0.0,
                density: 0.0,
                occupancy: 0.0,
                vc_ratio: 0.0,
                level: Level::Closed,
            };
        }
        let lanes = f64::from(open_lanes);
        let capacity = lanes * self.lane_capacity;
        let vc_ratio = flow / capacity;
        let speed = self.bpr_speed(flow, capacity, free_flow_kmh);
        // speed > 0: vf >= 5 and the denominator is finite for the bounded flows the parser lets in.
        let density = if flow > 0.0 && speed > 0.0 { flow / speed } else { 0.0 };
        let occupancy = (density / lanes * self.effective_length_m / 10.0).min(100.0);
        SegmentState { flow, speed, density, occupancy, vc_ratio, level: Level::of_ratio(vc_ratio) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn at_capacity_speed_is_free_flow_over_1_15() {
        let m = Model::default();
        // 3 lanes of 1800 veh/h: c = 5400 veh/h; vf = 50 km/h.
        let s = m.evaluate(5400.0, 3, 50.0);
        assert_eq!(s.speed, 50.0 / 1.15);
        assert!(close(s.speed, 43.478_260_869_565_22), "{}", s.speed);
        // k = q / v = 5400 * 1.15 / 50 = 124.2 veh/km; occupancy = 124.2 / 3 * 7 / 10 = 28.98 %.
        assert!(close(s.density, 124.2), "{}", s.density);
        assert!(close(s.occupancy, 28.98), "{}", s.occupancy);
        assert_eq!(s.vc_ratio, 1.0);
        assert_eq!(s.level, Level::Congested);
    }

    #[test]
    fn at_half_capacity_the_delay_is_alpha_over_16() {
        let m = Model::default();
        let s = m.evaluate(2700.0, 3, 50.0);
        assert_eq!(s.speed, 50.0 / (1.0 + 0.15 / 16.0));
        // 50 / 1.009375 = 49.535603715170...; k = 2700 * 1.009375 / 50 = 54.50625 veh/km;
        // occupancy = 54.50625 / 3 * 0.7 = 12.718125 %.
        assert!(close(s.speed, 49.535_603_715_170_28), "{}", s.speed);
        assert!(close(s.density, 54.506_25), "{}", s.density);
        assert!(close(s.occupancy, 12.718_125), "{}", s.occupancy);
        assert_eq!((s.vc_ratio, s.level), (0.5, Level::Free));
    }

    #[test]
    fn states_follow_the_ratio() {
        let m = Model::default();
        assert_eq!(m.evaluate(0.0, 2, 40.0).level, Level::Free);
        assert_eq!(m.evaluate(0.79 * 3600.0, 2, 40.0).level, Level::Free);
        assert_eq!(m.evaluate(0.8 * 3600.0, 2, 40.0).level, Level::Heavy);
        assert_eq!(m.evaluate(3600.0, 2, 40.0).level, Level::Congested);
        assert_eq!(m.evaluate(9000.0, 2, 40.0).level, Level::Congested);
        let closed = m.evaluate(900.0, 0, 40.0);
        assert_eq!(closed.level, Level::Closed);
        assert_eq!((closed.flow, closed.speed, closed.density, closed.occupancy), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(Level::Closed.as_str(), "closed");
    }

    #[test]
    fn an_empty_road_runs_at_free_flow() {
        let s = Model::default().evaluate(0.0, 3, 50.0);
        assert_eq!((s.speed, s.density, s.occupancy, s.vc_ratio), (50.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn extreme_flows_stay_finite_and_occupancy_is_capped() {
        // The largest inputs the parameters and the parser allow: 1e6 veh/h on one lane of 300 veh/h,
        // beta 10, alpha 5, vf 5 km/h, L 30 m.
        let m = Model { lane_capacity: 300.0, alpha: 5.0, beta: 10.0, effective_length_m: 30.0 };
        let s = m.evaluate(1e6, 1, 5.0);
        for v in [s.speed, s.density, s.occupancy, s.vc_ratio] {
            assert!(v.is_finite(), "{s:?}");
        }
        assert!(s.speed > 0.0);
        assert_eq!(s.occupancy, 100.0);
    }

    #[test]
    fn speed_falls_as_flow_rises() {
        let m = Model::default();
        let speeds: Vec<f64> = (0..=40).map(|i| m.evaluate(f64::from(i) * 200.0, 2, 60.0).speed).collect();
        assert!(speeds.windows(2).all(|w| w[1] < w[0]), "{speeds:?}");
    }
}
