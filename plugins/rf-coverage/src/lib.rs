//! Radio coverage for what-if planning: downlink RSRP of a site's cell sectors on a grid, with the
//! building geometry deciding line of sight.
//!
//! - [`cost231`]: COST-231 Hata path loss (COST 231 final report, §4.4), 1500-2000 MHz, macro cells;
//! - [`uma`]: 3GPP TR 38.901 Urban Macro path loss (Table 7.4.1-1), LOS and NLOS;
//! - [`antenna`]: the TR 38.901 sector antenna element (Table 7.3-1), turned by the sector's azimuth,
//!   mechanical downtilt (§7.1.3) and electrical tilt;
//! - [`buildings`]: extruded building footprints and the test of whether one blocks a ray;
//! - [`coverage`]: RSRP of every sector on a grid, the best server, SINR with the other sectors as
//!   interference, and the share of the area above RSRP thresholds;
//! - [`plugin`]: the simulation-role glue (SDK 1.3): the scene's sites and buildings in, maps out.
//!
//! Every model checks its validity ranges: a link outside them is an [`OutOfRange`] error naming the
//! parameter, its value and the range, never a silent extrapolation; a map marks such a cell as no
//! data and counts it.
//!
//! Cost: a few logarithms per link; a map is grid cells x sectors links plus one ray walk per link
//! through a uniform grid of building edges.

#![forbid(unsafe_code)]

pub mod antenna;
pub mod buildings;
pub mod cost231;
pub mod coverage;
pub mod plugin;
pub mod uma;

sangam_sdk::export_simulation!(plugin::Coverage);

/// The speed of light in vacuum, m/s (TR 38.901 uses c = 3.0e8 m/s in its breakpoint distance).
pub const SPEED_OF_LIGHT: f64 = 3.0e8;

/// A parameter outside the range a model is valid for.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfRange {
    /// The model, e.g. `COST-231 Hata`.
    pub model: &'static str,
    /// The parameter, e.g. `frequency`.
    pub parameter: &'static str,
    /// Its value.
    pub value: f64,
    /// The smallest value allowed.
    pub min: f64,
    /// The largest value allowed.
    pub max: f64,
    /// The unit of the three numbers.
    pub unit: &'static str,
}

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} = {} {} is outside the model's range {} to {} {}",
            self.model, self.parameter, self.value, self.unit, self.min, self.max, self.unit
        )
    }
}

impl std::error::Error for OutOfRange {}

/// `value` if it is within `min..=max`, else the error naming it.
pub(crate) fn within(
    model: &'static str,
    parameter: &'static str,
    value: f64,
    (min, max): (f64, f64),
    unit: &'static str,
) -> Result<f64, OutOfRange> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(OutOfRange { model, parameter, value, min, max, unit })
    }
}
