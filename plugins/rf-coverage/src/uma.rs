//! 3GPP TR 38.901 (V17.0.0) Urban Macro path loss, Table 7.4.1-1, without shadow fading:
//!
//! - LOS: `PL1 = 28.0 + 22 log10(d3D) + 20 log10(fc)` up to the breakpoint `d'BP`, beyond it
//!   `PL2 = 28.0 + 40 log10(d3D) + 20 log10(fc) - 9 log10(d'BP^2 + (hBS - hUT)^2)`, with
//!   `d'BP = 4 h'BS h'UT fc / c`, `h' = h - hE`;
//! - NLOS: `max(PL_LOS, 13.54 + 39.08 log10(d3D) + 20 log10(fc) - 0.6 (hUT - 1.5))`;
//!
//! d in m, fc in GHz (Hz in `d'BP`), c = 3.0e8 m/s. Whether a link is LOS is the caller's: the
//! coverage map decides it by the buildings between the antennas, not by the LOS probability.
//!
//! The effective environment height `hE` (Note 1) is 1 m for a UT below 13 m. Above, the note draws
//! it at random (1 m with probability 1 / (1 + C(d2D, hUT)), else uniformly from 12, 15, ...,
//! hUT - 1.5 m); a deterministic map uses the breakpoint distance averaged over that distribution.
//!
//! Valid (Table 7.4.1-1 and its notes): hBS = 25 m, hUT 1.5-22.5 m, d2D 10 m-5 km, fc 0.5-100 GHz.
//! [`Uma::loss_db`] refuses anything outside them.
//!
//! Cost: four logarithms per link (a few more for a UT above 13 m).

use crate::{OutOfRange, SPEED_OF_LIGHT, within};

/// The model's name in messages.
const MODEL: &str = "3GPP TR 38.901 UMa";

/// The base-station height of the scenario, m.
pub const BS_HEIGHT_M: f64 = 25.0;
/// UT heights, m.
pub const UE_HEIGHT_M: (f64, f64) = (1.5, 22.5);
/// 2D distances, m.
pub const DISTANCE_M: (f64, f64) = (10.0, 5000.0);
/// Carrier frequencies, GHz.
pub const FREQUENCY_GHZ: (f64, f64) = (0.5, 100.0);

/// UMa at one carrier frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uma {
    frequency_ghz: f64,
    /// `20 log10(fc)`, the same for every link.
    log_fc_db: f64,
}

impl Uma {
    /// The model at `frequency_ghz` (0.5-100 GHz).
    pub fn new(frequency_ghz: f64) -> Result<Uma, OutOfRange> {
        within(MODEL, "frequency", frequency_ghz, FREQUENCY_GHZ, "GHz")?;
        Ok(Uma { frequency_ghz, log_fc_db: 20.0 * frequency_ghz.log10() })
    }

    /// Checks the base station's antenna height (m) once for a sector: the scenario's 25 m.
    pub fn check_bs_height(h_bs_m: f64) -> Result<f64, OutOfRange> {
        within(MODEL, "base-station antenna height", h_bs_m, (BS_HEIGHT_M, BS_HEIGHT_M), "m")
    }

    /// The path loss (dB) over `distance_2d_m` from a base station `h_bs_m` to a UT `h_ue_m` above
    /// ground, in line of sight or not.
    pub fn loss_db(&self, distance_2d_m: f64, h_bs_m: f64, h_ue_m: f64, los: bool) -> Result<f64, OutOfRange> {
        Uma::check_link(distance_2d_m, h_bs_m, h_ue_m)?;
        Ok(self.formula_db(distance_2d_m, h_bs_m, h_ue_m, los))
    }

    /// Whether a link is within the model's ranges (what [`Uma::loss_db`] checks), before its line of
    /// sight is known.
    pub fn check_link(distance_2d_m: f64, h_bs_m: f64, h_ue_m: f64) -> Result<(), OutOfRange> {
        Uma::check_bs_height(h_bs_m)?;
        within(MODEL, "UT height", h_ue_m, UE_HEIGHT_M, "m")?;
        within(MODEL, "2D distance", distance_2d_m, DISTANCE_M, "m")?;
        Ok(())
    }

    /// The formulas without their range checks.
    pub fn formula_db(&self, d2d: f64, h_bs: f64, h_ue: f64, los: bool) -> f64 {
        // One logarithm of the distance per link: a map takes millions.
        let log_d3d = (d2d * d2d + (h_bs - h_ue).powi(2)).log10() * 0.5;
        let log_fc = self.log_fc_db;
        let d_bp = self.breakpoint_m(d2d, h_bs, h_ue);
        let pl_los = if d2d <= d_bp {
            28.0 + 22.0 * log_d3d + log_fc
        } else {
            28.0 + 40.0 * log_d3d + log_fc - 9.0 * (d_bp * d_bp + (h_bs - h_ue).powi(2)).log10()
        };
        if los {
            return pl_los;
        }
        let pl_nlos = 13.54 + 39.08 * log_d3d + log_fc - 0.6 * (h_ue - 1.5);
        pl_los.max(pl_nlos)
    }

    /// `d'BP` (m): exact for a UT below 13 m (hE = 1 m), else its mean over Note 1's distribution.
    pub fn breakpoint_m(&self, d2d: f64, h_bs: f64, h_ue: f64) -> f64 {
        let fc_hz = self.frequency_ghz * 1e9;
        let at = |h_e: f64| 4.0 * (h_bs - h_e) * (h_ue - h_e) * fc_hz / SPEED_OF_LIGHT;
        if h_ue < 13.0 {
            return at(1.0);
        }
        let g = if d2d <= 18.0 { 0.0 } else { 1.25 * (d2d / 100.0).powi(3) * (-d2d / 150.0).exp() };
        let c = ((h_ue - 13.0) / 10.0).powf(1.5) * g;
        let p_one = 1.0 / (1.0 + c);
        // 12, 15, ..., hUT - 1.5: none below hUT = 13.5 m, where hE is 1 m.
        let (mut sum, mut n) = (0.0, 0u32);
        let mut h = 12.0;
        while h <= h_ue - 1.5 {
            sum += at(h);
            n += 1;
            h += 3.0;
        }
        if n == 0 {
            return at(1.0);
        }
        p_one * at(1.0) + (1.0 - p_one) * sum / f64::from(n)
    }
}
