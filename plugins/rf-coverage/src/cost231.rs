//! COST-231 Hata path loss, from the COST 231 final report ("Digital mobile radio towards future
//! generation systems", 1999), §4.4.1, eq. (4.4.3):
//!
//! `L = 46.3 + 33.9 log f - 13.82 log hb - a(hm) + (44.9 - 6.55 log hb) log d + Cm`
//!
//! with f in MHz, hb and hm in m, d in km, the mobile-antenna correction of Hata's medium-small city
//! `a(hm) = (1.1 log f - 0.7) hm - (1.56 log f - 0.8)`, and `Cm` = 0 dB for medium-sized cities and
//! suburban centres, 3 dB for metropolitan centres.
//!
//! Valid (the report's ranges): f 1500-2000 MHz, hb 30-200 m, hm 1-10 m, d 1-20 km; hb above the
//! roofs around it. [`Cost231::loss_db`] refuses anything outside them; [`formula_db`] is the bare
//! formula, for comparisons only.
//!
//! Cost: three logarithms per link.

use crate::{OutOfRange, within};

/// The model's name in messages.
const MODEL: &str = "COST-231 Hata";

/// Carrier frequencies the model is valid for, MHz.
pub const FREQUENCY_MHZ: (f64, f64) = (1500.0, 2000.0);
/// Base-station antenna heights, m.
pub const BS_HEIGHT_M: (f64, f64) = (30.0, 200.0);
/// Mobile antenna heights, m.
pub const UE_HEIGHT_M: (f64, f64) = (1.0, 10.0);
/// Link distances, km.
pub const DISTANCE_KM: (f64, f64) = (1.0, 20.0);

/// The kind of area, which sets `Cm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Medium-sized city or suburban centre with medium tree density: `Cm` = 0 dB.
    Suburban,
    /// Metropolitan centre: `Cm` = 3 dB.
    Metropolitan,
}

impl Area {
    /// `Cm`, dB.
    pub fn correction_db(self) -> f64 {
        match self {
            Area::Suburban => 0.0,
            Area::Metropolitan => 3.0,
        }
    }
}

/// COST-231 Hata at one carrier frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost231 {
    frequency_mhz: f64,
    area: Area,
}

impl Cost231 {
    /// The model at `frequency_mhz` (1500-2000 MHz) for `area`.
    pub fn new(frequency_mhz: f64, area: Area) -> Result<Cost231, OutOfRange> {
        within(MODEL, "frequency", frequency_mhz, FREQUENCY_MHZ, "MHz")?;
        Ok(Cost231 { frequency_mhz, area })
    }

    /// Checks the base station's antenna height (m) once for a sector.
    pub fn check_bs_height(h_bs_m: f64) -> Result<f64, OutOfRange> {
        within(MODEL, "base-station antenna height", h_bs_m, BS_HEIGHT_M, "m")
    }

    /// The median path loss (dB) over `distance_2d_m` between antennas `h_bs_m` and `h_ue_m` above
    /// ground.
    pub fn loss_db(&self, distance_2d_m: f64, h_bs_m: f64, h_ue_m: f64) -> Result<f64, OutOfRange> {
        Cost231::check_bs_height(h_bs_m)?;
        within(MODEL, "mobile antenna height", h_ue_m, UE_HEIGHT_M, "m")?;
        let d_km = within(MODEL, "distance", distance_2d_m / 1000.0, DISTANCE_KM, "km")?;
        Ok(formula_db(self.frequency_mhz, h_bs_m, h_ue_m, d_km, self.area))
    }
}

/// The formula without its range checks (f in MHz, heights in m, d in km).
pub fn formula_db(f_mhz: f64, h_bs_m: f64, h_ue_m: f64, d_km: f64, area: Area) -> f64 {
    let log_f = f_mhz.log10();
    let a_hm = (1.1 * log_f - 0.7) * h_ue_m - (1.56 * log_f - 0.8);
    46.3 + 33.9 * log_f - 13.82 * h_bs_m.log10() - a_hm
        + (44.9 - 6.55 * h_bs_m.log10()) * d_km.log10()
        + area.correction_db()
}
