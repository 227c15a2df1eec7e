//! The scene's sites as sectors: each granted site entity carries its own radio values as properties
//! (the scene's, or live ones an adapter writes), read every step; what a site lacks comes from the
//! parameters.
//!
//! | property | meaning | default |
//! |---|---|---|
//! | `tx_power` | total transmit power per sector, dBm | `tx-power-dbm` |
//! | `height` | mast height above the site's base (its position: the ground, or the roof it stands on), m | `antenna-height-m` |
//! | `sectors` | sectors, evenly spaced in azimuth | 3 |
//! | `azimuth` | bearing of the first sector, degrees clockwise from north | 0 |
//! | `tilt_mech`, `tilt_elec` | downtilts, degrees | `mechanical-tilt-deg`, `electrical-tilt-deg` |
//! | `site.cells_down` | cells out of service (the telecom adapter's live count) | 0 |
//!
//! A site whose cells are all down is off air. Sector `K` of site `S` is `S#K` (1-based), the form
//! `retilt` takes. Cost: one host read per property per step for every site at once.

use crate::antenna::Pointing;
use crate::coverage::Sector;
use crate::plugin::config::Config;

/// Most sectors per site.
pub const MAX_SECTORS_PER_SITE: u32 = 12;

/// The properties read per site, in the order of [`SiteValues::from_columns`].
pub const PROPERTIES: [&str; 7] =
    ["tx_power", "height", "sectors", "azimuth", "tilt_mech", "tilt_elec", "site.cells_down"];

/// One site's values this step (NaN: the site has none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteValues {
    /// `tx_power`.
    pub tx_power_dbm: f64,
    /// `height`.
    pub height_m: f64,
    /// `sectors`.
    pub sectors: f64,
    /// `azimuth`.
    pub azimuth_deg: f64,
    /// `tilt_mech`.
    pub tilt_mech_deg: f64,
    /// `tilt_elec`.
    pub tilt_elec_deg: f64,
    /// `site.cells_down`.
    pub cells_down: f64,
}

impl SiteValues {
    /// Site `i`'s values out of one column per property of [`PROPERTIES`].
    pub fn from_columns(columns: &[Vec<f64>], i: usize) -> SiteValues {
        let v = |p: usize| columns.get(p).and_then(|c| c.get(i)).copied().unwrap_or(f64::NAN);
        SiteValues {
            tx_power_dbm: v(0),
            height_m: v(1),
            sectors: v(2),
            azimuth_deg: v(3),
            tilt_mech_deg: v(4),
            tilt_elec_deg: v(5),
            cells_down: v(6),
        }
    }
}

/// A site as placed in the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Its entity id.
    pub id: String,
    /// Its base in the site frame (metres east, north, up).
    pub position: [f64; 3],
}

/// What the sites give this step: the sectors on air and, per sector, its site's index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OnAir {
    /// The sectors.
    pub sectors: Vec<Sector>,
    /// Sector `k` is on site `site_of[k]`.
    pub site_of: Vec<usize>,
    /// Sites off air (every cell down), by index.
    pub off_air: Vec<usize>,
}

fn or(value: f64, default: f64) -> f64 {
    if value.is_finite() { value } else { default }
}

/// The sectors of `sites` with `values` (one per site) and `config`'s defaults and retilt.
pub fn sectors(sites: &[Site], values: &[SiteValues], config: &Config) -> OnAir {
    let mut out = OnAir::default();
    for (i, (site, v)) in sites.iter().zip(values).enumerate() {
        let n = or(v.sectors, 3.0).round().clamp(1.0, f64::from(MAX_SECTORS_PER_SITE)) as u32;
        if v.cells_down.is_finite() && v.cells_down >= f64::from(n) {
            out.off_air.push(i);
            continue;
        }
        let height = or(v.height_m, config.antenna_height_m).max(0.0);
        for k in 1..=n {
            let mut electrical = or(v.tilt_elec_deg, config.electrical_tilt_deg);
            if config.retilt.iter().any(|r| r.applies(&site.id, k)) {
                electrical += config.retilt_deg;
            }
            let azimuth = (or(v.azimuth_deg, 0.0) + 360.0 * f64::from(k - 1) / f64::from(n)).rem_euclid(360.0);
            out.sectors.push(Sector {
                id: format!("{}#{k}", site.id),
                position: [site.position[0], site.position[1], site.position[2] + height],
                pointing: Pointing {
                    azimuth_deg: azimuth,
                    mechanical_tilt_deg: or(v.tilt_mech_deg, config.mechanical_tilt_deg),
                    electrical_tilt_deg: electrical,
                    pattern: config.antenna,
                },
                tx_power_dbm: or(v.tx_power_dbm, config.tx_power_dbm),
                frequency_mhz: config.frequency_mhz,
                bandwidth_mhz: config.bandwidth_mhz,
            });
            out.site_of.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::config::Retilt;

    fn config() -> Config {
        sangam_sdk::testing::reset();
        crate::plugin::config::from_params().unwrap()
    }

    #[test]
    fn a_site_becomes_evenly_spaced_sectors_on_its_mast_with_defaults_for_what_it_lacks() {
        let sites = [Site { id: "roof".into(), position: [10.0, 20.0, 9.0] }];
        let mut v = SiteValues::from_columns(&[], 0);
        v.height_m = 16.0;
        v.azimuth_deg = 30.0;
        let mut c = config();
        c.retilt = vec![Retilt::Sector("roof".into(), 3)];
        c.retilt_deg = 2.0;
        let on = sectors(&sites, &[v], &c);
        assert_eq!(on.sectors.len(), 3);
        let azimuths: Vec<f64> = on.sectors.iter().map(|s| s.pointing.azimuth_deg).collect();
        assert_eq!(azimuths, [30.0, 150.0, 270.0]);
        assert_eq!(on.sectors[0].position, [10.0, 20.0, 25.0], "the mast stands on the roof");
        assert_eq!(on.sectors[0].tx_power_dbm, 46.0);
        let tilts: Vec<f64> = on.sectors.iter().map(|s| s.pointing.electrical_tilt_deg).collect();
        assert_eq!(tilts, [6.0, 6.0, 8.0], "only sector 3 is retilted");
        assert_eq!(on.sectors[2].id, "roof#3");
        // Every cell down: off air.
        v.cells_down = 3.0;
        let on = sectors(&sites, &[v], &c);
        assert!(on.sectors.is_empty() && on.off_air == [0]);
    }
}
