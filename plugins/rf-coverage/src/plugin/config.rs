//! The plugin's parameters (mirrors `plugin.toml`), read once at `init` and checked: a value outside
//! its range is an error naming the parameter, its value and the range.

use sangam_sdk::{ParameterSpec, params};

use crate::antenna::Pattern;
use crate::cost231::Area;
use crate::coverage::PathLoss;

const ANTENNA: &str = "Sector antenna pattern: `element` (3GPP TR 38.901 Table 7.3-1: 65 deg both cuts, 8 dBi; \
                       a tilt changes little) or `macro` (3GPP TR 36.814 Table A.2.1.1-2 panel: 10 deg vertical, 70 \
                       deg horizontal, 14 dBi).";

/// The parameters of this plugin.
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("model", "uma").description(
            "Path loss: `uma` (3GPP TR 38.901 Urban Macro, LOS or NLOS by the buildings; antennas at 25 m), \
             `cost231-metropolitan` or `cost231-suburban` (COST-231 Hata: 1500-2000 MHz, antennas 30-200 m, 1-20 km).",
        ),
        ParameterSpec::text("antenna", "element").description(ANTENNA),
        ParameterSpec::number("frequency-mhz", 1800.0).unit("MHz").range(500.0, 100_000.0).description(
            "Carrier frequency of every sector (the model checks its own range: COST-231 1500-2000 MHz, UMa 0.5-100 GHz).",
        ),
        ParameterSpec::number("bandwidth-mhz", 10.0)
            .unit("MHz")
            .range(1.4, 20.0)
            .description("LTE channel bandwidth: 1.4, 3, 5, 10, 15 or 20 MHz."),
        ParameterSpec::number("tx-power-dbm", 46.0)
            .unit("dBm")
            .range(-30.0, 80.0)
            .description("Total transmit power of a sector whose site has no `tx_power` property."),
        ParameterSpec::number("antenna-height-m", 25.0)
            .unit("m")
            .range(0.0, 300.0)
            .description("Mast height above the site's base where the site has no `height` property."),
        ParameterSpec::number("mechanical-tilt-deg", 0.0)
            .unit("deg")
            .range(-20.0, 30.0)
            .description("Mechanical downtilt where the site has no `tilt_mech` property."),
        ParameterSpec::number("electrical-tilt-deg", 6.0)
            .unit("deg")
            .range(-20.0, 30.0)
            .description("Electrical downtilt where the site has no `tilt_elec` property."),
        ParameterSpec::text("retilt", "").description(
            "Sectors whose electrical tilt changes by `retilt-deg`: `SITE` (its sectors), `SITE#K` (its K-th \
             sector), several separated by commas; `*` for every sector; empty for none.",
        ),
        ParameterSpec::number("retilt-deg", 0.0)
            .unit("deg")
            .range(-15.0, 15.0)
            .description("Added to the electrical tilt of the `retilt` sectors (positive: further down)."),
        ParameterSpec::number("cell-size-m", 10.0)
            .unit("m")
            .range(1.0, 500.0)
            .description("Edge of a map cell."),
        ParameterSpec::number("margin-m", 100.0)
            .unit("m")
            .range(0.0, 10_000.0)
            .description("The map covers the buildings and the sites, and this much around them."),
        ParameterSpec::number("receiver-height-m", 1.5)
            .unit("m")
            .range(1.0, 10.0)
            .description("Receiver height above the ground or the roof it stands on."),
        ParameterSpec::number("noise-figure-db", 9.0)
            .unit("dB")
            .range(0.0, 20.0)
            .description("The receiver's noise figure (SINR)."),
        ParameterSpec::integer("max-cells", 1_000_000)
            .range(1.0, 16_777_216.0)
            .description("The most map cells; a larger site is refused at init with the size it needs."),
    ]
}

/// The parameters, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Path loss.
    pub model: PathLoss,
    /// The sectors' antenna pattern.
    pub antenna: Pattern,
    /// Carrier, MHz.
    pub frequency_mhz: f64,
    /// Channel bandwidth, MHz.
    pub bandwidth_mhz: f64,
    /// Default transmit power, dBm.
    pub tx_power_dbm: f64,
    /// Default mast height, m.
    pub antenna_height_m: f64,
    /// Default mechanical downtilt, degrees.
    pub mechanical_tilt_deg: f64,
    /// Default electrical downtilt, degrees.
    pub electrical_tilt_deg: f64,
    /// Which sectors are retilted.
    pub retilt: Vec<Retilt>,
    /// By how much, degrees.
    pub retilt_deg: f64,
    /// Map cell edge, m.
    pub cell_size_m: f64,
    /// Margin around the buildings and sites, m.
    pub margin_m: f64,
    /// Receiver height, m.
    pub receiver_height_m: f64,
    /// Noise figure, dB.
    pub noise_figure_db: f64,
    /// The most map cells.
    pub max_cells: usize,
}

/// One entry of `retilt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retilt {
    /// Every sector.
    All,
    /// Every sector of a site.
    Site(String),
    /// One sector of a site (1-based).
    Sector(String, u32),
}

impl Retilt {
    /// Whether sector `k` (1-based) of `site` is retilted.
    pub fn applies(&self, site: &str, k: u32) -> bool {
        match self {
            Retilt::All => true,
            Retilt::Site(s) => s == site,
            Retilt::Sector(s, n) => s == site && *n == k,
        }
    }
}

/// Reads `retilt`: `SITE`, `SITE#K` or `*`, comma-separated.
pub fn parse_retilt(text: &str) -> Result<Vec<Retilt>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(match item.split_once('#') {
            _ if item == "*" => Retilt::All,
            Some((site, k)) => match k.parse::<u32>() {
                Ok(k) if k >= 1 && !site.is_empty() => Retilt::Sector(site.to_string(), k),
                _ => return Err(format!("parameter `retilt`: `{item}` is not SITE#K with K a sector number from 1")),
            },
            None => Retilt::Site(item.to_string()),
        });
    }
    Ok(out)
}

/// Reads and checks the parameters.
pub fn from_params() -> Result<Config, String> {
    let model = match params::text("model").as_deref().unwrap_or("uma") {
        "uma" => PathLoss::Uma,
        "cost231-metropolitan" => PathLoss::Cost231(Area::Metropolitan),
        "cost231-suburban" => PathLoss::Cost231(Area::Suburban),
        other => {
            return Err(format!(
                "parameter `model` = `{other}` is not `uma`, `cost231-metropolitan` or `cost231-suburban`"
            ));
        }
    };
    let antenna = match params::text("antenna").as_deref().unwrap_or("element") {
        "element" => Pattern::ELEMENT,
        "macro" => Pattern::MACRO,
        other => return Err(format!("parameter `antenna` = `{other}` is not `element` or `macro`")),
    };
    let bandwidth_mhz = params::number_within("bandwidth-mhz", 10.0, (1.4, 20.0), "MHz")?;
    if crate::coverage::resource_blocks(bandwidth_mhz).is_none() {
        return Err(format!("parameter `bandwidth-mhz` = {bandwidth_mhz} MHz is not 1.4, 3, 5, 10, 15 or 20 MHz"));
    }
    let max_cells = params::integer("max-cells").unwrap_or(1_000_000);
    if !(1..=16_777_216).contains(&max_cells) {
        return Err(format!("parameter `max-cells` = {max_cells} is outside 1 to 16777216"));
    }
    Ok(Config {
        model,
        antenna,
        frequency_mhz: params::number_within("frequency-mhz", 1800.0, (500.0, 100_000.0), "MHz")?,
        bandwidth_mhz,
        tx_power_dbm: params::number_within("tx-power-dbm", 46.0, (-30.0, 80.0), "dBm")?,
        antenna_height_m: params::number_within("antenna-height-m", 25.0, (0.0, 300.0), "m")?,
        mechanical_tilt_deg: params::number_within("mechanical-tilt-deg", 0.0, (-20.0, 30.0), "deg")?,
        electrical_tilt_deg: params::number_within("electrical-tilt-deg", 6.0, (-20.0, 30.0), "deg")?,
        retilt: parse_retilt(&params::text("retilt").unwrap_or_default())?,
        retilt_deg: params::number_within("retilt-deg", 0.0, (-15.0, 15.0), "deg")?,
        cell_size_m: params::number_within("cell-size-m", 10.0, (1.0, 500.0), "m")?,
        margin_m: params::number_within("margin-m", 100.0, (0.0, 10_000.0), "m")?,
        receiver_height_m: params::number_within("receiver-height-m", 1.5, (1.0, 10.0), "m")?,
        noise_figure_db: params::number_within("noise-figure-db", 9.0, (0.0, 20.0), "dB")?,
        max_cells: max_cells as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retilt_names_sites_sectors_or_every_sector() {
        let r = parse_retilt("site-a, site-b#3 ,*").unwrap();
        assert_eq!(r, vec![Retilt::Site("site-a".into()), Retilt::Sector("site-b".into(), 3), Retilt::All]);
        assert!(r[1].applies("site-b", 3) && !r[1].applies("site-b", 2) && !r[0].applies("site-b", 1));
        assert!(parse_retilt("").unwrap().is_empty());
        let e = parse_retilt("site-a#0").unwrap_err();
        assert!(e.contains("`site-a#0`") && e.contains("SITE#K"), "{e}");
    }

    #[test]
    fn out_of_range_parameters_are_refused_naming_them() {
        sangam_sdk::testing::reset();
        sangam_sdk::testing::with_host(|h| h.set_param("cell-size-m", sangam_sdk::ParamValue::Number(0.2)));
        let e = from_params().unwrap_err();
        assert_eq!(e, "parameter `cell-size-m` = 0.2 m is outside 1 to 500 m");
        sangam_sdk::testing::reset();
        sangam_sdk::testing::with_host(|h| h.set_param("bandwidth-mhz", sangam_sdk::ParamValue::Number(7.0)));
        assert!(from_params().unwrap_err().contains("not 1.4, 3, 5, 10, 15 or 20 MHz"));
        sangam_sdk::testing::reset();
        sangam_sdk::testing::with_host(|h| h.set_param("model", sangam_sdk::ParamValue::Text("okumura".into())));
        assert!(from_params().unwrap_err().contains("`okumura`"));
        sangam_sdk::testing::reset();
        assert_eq!(from_params().unwrap().model, PathLoss::Uma);
        assert_eq!(from_params().unwrap().antenna, Pattern::ELEMENT);
        sangam_sdk::testing::with_host(|h| h.set_param("antenna", sangam_sdk::ParamValue::Text("yagi".into())));
        assert_eq!(from_params().unwrap_err(), "parameter `antenna` = `yagi` is not `element` or `macro`");
    }
}
