//! Coverage maps: the downlink RSRP of every sector at every cell of a grid, the best server, the
//! SINR with the other sectors on the same carrier as interference, and a summary; and the
//! [`difference`] of two maps (a scenario against its plan: RSRP gained and lost, coverage gained
//! and lost per threshold, best servers changed).
//!
//! - **Receivers** stand 1.5 m (by default) above the ground, or above the roof of the building
//!   whose footprint holds the cell's centre (a map of roofs and streets at once).
//! - **RSRP** = reference-signal power per resource element (the sector's total power less
//!   10 log10(12 x resource blocks of its bandwidth), TS 36.101 Table 5.6-1) + antenna gain toward
//!   the receiver ([`crate::antenna`]) - path loss ([`PathLoss`]); UMa links are LOS unless a
//!   building stands between the antennas ([`Buildings::blocks`]).
//! - **SINR** (full load): the best server's RSRP over the sum of the other same-carrier sectors'
//!   RSRP and the noise per resource element (-174 dBm/Hz over 15 kHz plus the UE's noise figure).
//! - A link outside its model's range (too near, too far, a roof too high for UMa) has no value; a
//!   cell with no valid link is no data (NaN) and counted, never extrapolated.
//!
//! Bounded: at most [`MAX_GRID_CELLS`] cells and [`MAX_SECTORS`] sectors.
//!
//! Cost: cells x sectors links, each a path loss, an antenna gain and (UMa) one ray walk; the roofs
//! are rasterised once (each building's bounding box of cells).

use crate::antenna::Pointing;
use crate::buildings::{Buildings, contains};
use crate::cost231::{self, Cost231};
use crate::uma::Uma;
use crate::{OutOfRange, within};

/// The most grid cells of one map (4096 x 4096).
pub const MAX_GRID_CELLS: usize = 1 << 24;
/// The most sectors of one map.
pub const MAX_SECTORS: usize = 4096;
/// Thermal noise density, dBm/Hz.
pub const THERMAL_NOISE_DBM_PER_HZ: f64 = -174.0;
/// The subcarrier spacing of a resource element, Hz (LTE).
pub const SUBCARRIER_HZ: f64 = 15_000.0;

/// The path-loss model of a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathLoss {
    /// COST-231 Hata (no line-of-sight test: an area-median model).
    Cost231(cost231::Area),
    /// 3GPP TR 38.901 UMa, LOS or NLOS by the buildings.
    Uma,
}

/// One cell sector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sector {
    /// Its id (for messages and the best-server legend).
    pub id: String,
    /// The antenna's position (site frame: metres east, north, and height above ground).
    pub position: [f64; 3],
    /// Where it points.
    pub pointing: Pointing,
    /// Total transmit power, dBm (e.g. 46 for 40 W).
    pub tx_power_dbm: f64,
    /// Carrier frequency, MHz.
    pub frequency_mhz: f64,
    /// Channel bandwidth, MHz: 1.4, 3, 5, 10, 15 or 20.
    pub bandwidth_mhz: f64,
}

/// A horizontal grid of receivers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// The south-west corner of cell (0, 0), metres east and north.
    pub origin: [f64; 2],
    /// Cell edge, m.
    pub cell_m: f64,
    /// Cells per row (east).
    pub columns: usize,
    /// Rows (north).
    pub rows: usize,
    /// Receiver height above the ground or roof, m.
    pub receiver_height_m: f64,
}

impl Grid {
    /// The centre of cell (`column`, `row`).
    pub fn centre(&self, column: usize, row: usize) -> [f64; 2] {
        [self.origin[0] + (column as f64 + 0.5) * self.cell_m, self.origin[1] + (row as f64 + 0.5) * self.cell_m]
    }
}

/// How a map is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The path-loss model.
    pub model: PathLoss,
    /// The UE's noise figure, dB (9 dB is 3GPP's usual figure).
    pub noise_figure_db: f64,
    /// RSRP thresholds (dBm) whose area shares the summary gives, e.g. -100 and -110.
    pub thresholds_dbm: Vec<f64>,
}

/// A map's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Grid cells.
    pub cells: usize,
    /// Cells with a value (at least one link within its model's range).
    pub with_value: usize,
    /// Cells without (no data).
    pub no_data: usize,
    /// Per threshold: (threshold dBm, share of all cells with best RSRP >= it).
    pub share_at_least: Vec<(f64, f64)>,
    /// Links in line of sight and blocked by a building (UMa only).
    pub los_links: u64,
    /// See `los_links`.
    pub nlos_links: u64,
    /// Links outside their model's range (left out).
    pub out_of_range_links: u64,
    /// Grid cells on a roof.
    pub roof_cells: usize,
}

/// The maps of one run, row-major from the grid's origin; NaN (or -1) is no data.
#[derive(Debug, Clone, PartialEq)]
pub struct Maps {
    /// The best server's RSRP, dBm.
    pub rsrp_dbm: Vec<f32>,
    /// The index (into the sectors) of the best server, -1 where none.
    pub best_server: Vec<i32>,
    /// SINR of the best server, dB.
    pub sinr_db: Vec<f32>,
    /// The receiver height of each cell above the ground, m (a roof's + the receiver's).
    pub receiver_height_m: Vec<f32>,
    /// Counts and shares.
    pub summary: Summary,
}

/// What stops a map from being made at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    /// A sector's parameter outside its model's range.
    #[error("sector `{sector}`: {range}")]
    Sector {
        /// The sector's id.
        sector: String,
        /// What is out of range.
        range: OutOfRange,
    },
    /// A sector's bandwidth that is not an LTE channel bandwidth.
    #[error("sector `{sector}`: bandwidth {bandwidth_mhz} MHz is not 1.4, 3, 5, 10, 15 or 20 MHz")]
    Bandwidth {
        /// The sector's id.
        sector: String,
        /// Its bandwidth.
        bandwidth_mhz: f64,
    },
    /// A grid or sector list over the limits, or a grid that is not a grid.
    #[error("{0}")]
    Size(String),
}

/// How one map differs from another of the same grid (a scenario against the plan it replaces).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Per cell, `b - a` of the best RSRP, dB (NaN where either has no value).
    pub rsrp_delta_db: Vec<f32>,
    /// Per threshold: (threshold dBm, cells at or above it in `b` only: gained, in `a` only: lost).
    pub coverage: Vec<(f64, usize, usize)>,
    /// Cells whose best server changed.
    pub server_changed: usize,
    /// The mean of `rsrp_delta_db` over cells where both have a value, dB.
    pub mean_delta_db: f64,
}

/// The difference of `b` from `a` (the same grid), for the difference overlay and the two summaries
/// side by side; `None` when the grids differ in size.
pub fn difference(a: &Maps, b: &Maps, thresholds_dbm: &[f64]) -> Option<Difference> {
    if a.rsrp_dbm.len() != b.rsrp_dbm.len() {
        return None;
    }
    let rsrp_delta_db: Vec<f32> = a.rsrp_dbm.iter().zip(&b.rsrp_dbm).map(|(x, y)| y - x).collect();
    let both: Vec<f64> = rsrp_delta_db.iter().filter(|d| d.is_finite()).map(|d| f64::from(*d)).collect();
    let coverage = thresholds_dbm
        .iter()
        .map(|&t| {
            let at = |v: f32| v.is_finite() && f64::from(v) >= t;
            let gained = a.rsrp_dbm.iter().zip(&b.rsrp_dbm).filter(|(x, y)| !at(**x) && at(**y)).count();
            let lost = a.rsrp_dbm.iter().zip(&b.rsrp_dbm).filter(|(x, y)| at(**x) && !at(**y)).count();
            (t, gained, lost)
        })
        .collect();
    Some(Difference {
        server_changed: a.best_server.iter().zip(&b.best_server).filter(|(x, y)| x != y).count(),
        mean_delta_db: if both.is_empty() { f64::NAN } else { both.iter().sum::<f64>() / both.len() as f64 },
        rsrp_delta_db,
        coverage,
    })
}

/// Resource blocks of an LTE channel (TS 36.101 Table 5.6-1).
pub fn resource_blocks(bandwidth_mhz: f64) -> Option<u32> {
    [(1.4, 6), (3.0, 15), (5.0, 25), (10.0, 50), (15.0, 75), (20.0, 100)]
        .iter()
        .find(|(b, _)| (b - bandwidth_mhz).abs() < 1e-9)
        .map(|&(_, n)| n)
}

/// A sector made ready: its checked model and reference-signal power.
struct Prepared {
    loss: SectorModel,
    rs_epre_dbm: f64,
}

enum SectorModel {
    Cost231(Cost231),
    Uma(Uma),
}

/// Makes the maps of `sectors` over `grid`, with `buildings` for roofs and line of sight.
pub fn compute(
    sectors: &[Sector],
    grid: &Grid,
    buildings: &Buildings,
    settings: &Settings,
) -> Result<Maps, CoverageError> {
    let cells = grid.columns.saturating_mul(grid.rows);
    if cells == 0 || cells > MAX_GRID_CELLS || !(grid.cell_m.is_finite() && grid.cell_m > 0.0) {
        return Err(CoverageError::Size(format!(
            "a grid of {} x {} cells of {} m: it needs 1 to {MAX_GRID_CELLS} cells of a positive size",
            grid.columns, grid.rows, grid.cell_m
        )));
    }
    if sectors.len() > MAX_SECTORS {
        return Err(CoverageError::Size(format!("{} sectors is over the {MAX_SECTORS} one map takes", sectors.len())));
    }
    let prepared = sectors.iter().map(|s| prepare(s, settings.model)).collect::<Result<Vec<_>, _>>()?;
    let frames: Vec<_> = sectors.iter().map(|s| s.pointing.frame()).collect();
    let roofs = roof_heights(grid, buildings);
    let noise_mw =
        10f64.powf((THERMAL_NOISE_DBM_PER_HZ + 10.0 * SUBCARRIER_HZ.log10() + settings.noise_figure_db) / 10.0);
    let mut maps = Maps {
        rsrp_dbm: vec![f32::NAN; cells],
        best_server: vec![-1; cells],
        sinr_db: vec![f32::NAN; cells],
        receiver_height_m: vec![0.0; cells],
        summary: Summary {
            cells,
            with_value: 0,
            no_data: 0,
            share_at_least: Vec::new(),
            los_links: 0,
            nlos_links: 0,
            out_of_range_links: 0,
            roof_cells: roofs.iter().filter(|r| **r > 0.0).count(),
        },
    };
    let mut rsrp = vec![f64::NAN; sectors.len()];
    let mut above = vec![0usize; settings.thresholds_dbm.len()];
    for row in 0..grid.rows {
        for column in 0..grid.columns {
            let i = row * grid.columns + column;
            let [x, y] = grid.centre(column, row);
            let h_rx = roofs[i] + grid.receiver_height_m;
            maps.receiver_height_m[i] = h_rx as f32;
            let receiver = [x, y, h_rx];
            for (k, ((sector, p), frame)) in sectors.iter().zip(&prepared).zip(&frames).enumerate() {
                rsrp[k] = match link_loss(sector, p, receiver, buildings, &mut maps.summary) {
                    Some(loss) => {
                        let direction = [x - sector.position[0], y - sector.position[1], h_rx - sector.position[2]];
                        p.rs_epre_dbm + frame.gain_dbi(direction) - loss
                    }
                    None => f64::NAN,
                };
            }
            let best = rsrp.iter().enumerate().filter(|(_, v)| v.is_finite()).max_by(|a, b| a.1.total_cmp(b.1));
            let Some((b, &best_rsrp)) = best else {
                maps.summary.no_data += 1;
                continue;
            };
            maps.summary.with_value += 1;
            maps.rsrp_dbm[i] = best_rsrp as f32;
            maps.best_server[i] = b as i32;
            let interference: f64 = rsrp
                .iter()
                .enumerate()
                .filter(|&(k, v)| k != b && v.is_finite() && sectors[k].frequency_mhz == sectors[b].frequency_mhz)
                // 10^(v/10) as an exponential (cheaper than a power where libm is software, as in wasm).
                .map(|(_, v)| (v * (std::f64::consts::LN_10 / 10.0)).exp())
                .sum();
            maps.sinr_db[i] = (best_rsrp - 10.0 * (interference + noise_mw).log10()) as f32;
            for (n, t) in settings.thresholds_dbm.iter().enumerate() {
                above[n] += usize::from(best_rsrp >= *t);
            }
        }
    }
    maps.summary.share_at_least =
        settings.thresholds_dbm.iter().zip(above).map(|(t, n)| (*t, n as f64 / cells as f64)).collect();
    Ok(maps)
}

/// Whether `sector` can be mapped with `model` (its bandwidth, power and antenna height within the
/// model's ranges): the error [`compute`] would give for it.
pub fn check_sector(sector: &Sector, model: PathLoss) -> Result<(), CoverageError> {
    prepare(sector, model).map(|_| ())
}

/// Checks a sector against its model and works out its reference-signal power.
fn prepare(s: &Sector, model: PathLoss) -> Result<Prepared, CoverageError> {
    let in_range = |range: OutOfRange| CoverageError::Sector { sector: s.id.clone(), range };
    let blocks = resource_blocks(s.bandwidth_mhz)
        .ok_or_else(|| CoverageError::Bandwidth { sector: s.id.clone(), bandwidth_mhz: s.bandwidth_mhz })?;
    within("sector", "transmit power", s.tx_power_dbm, (-30.0, 80.0), "dBm").map_err(in_range)?;
    let loss = match model {
        PathLoss::Cost231(area) => {
            Cost231::check_bs_height(s.position[2]).map_err(in_range)?;
            SectorModel::Cost231(Cost231::new(s.frequency_mhz, area).map_err(in_range)?)
        }
        PathLoss::Uma => {
            Uma::check_bs_height(s.position[2]).map_err(in_range)?;
            SectorModel::Uma(Uma::new(s.frequency_mhz / 1000.0).map_err(in_range)?)
        }
    };
    Ok(Prepared { loss, rs_epre_dbm: s.tx_power_dbm - 10.0 * (12.0 * blocks as f64).log10() })
}

/// The path loss of one link, or none when it is outside the model's range.
fn link_loss(s: &Sector, p: &Prepared, rx: [f64; 3], buildings: &Buildings, summary: &mut Summary) -> Option<f64> {
    let d2d = ((rx[0] - s.position[0]).powi(2) + (rx[1] - s.position[1]).powi(2)).sqrt();
    let loss = match &p.loss {
        SectorModel::Cost231(m) => m.loss_db(d2d, s.position[2], rx[2]),
        // A link outside the model's range (a receiver on a roof above its UT heights) is no data:
        // known before its line of sight is walked.
        SectorModel::Uma(m) => Uma::check_link(d2d, s.position[2], rx[2]).map(|()| {
            let los = !buildings.blocks(s.position, rx);
            if los {
                summary.los_links += 1;
            } else {
                summary.nlos_links += 1;
            }
            m.formula_db(d2d, s.position[2], rx[2], los)
        }),
    };
    match loss {
        Ok(l) => Some(l),
        Err(_) => {
            summary.out_of_range_links += 1;
            None
        }
    }
}

/// The roof height under each grid cell's centre (0 where no building stands).
fn roof_heights(grid: &Grid, buildings: &Buildings) -> Vec<f64> {
    let mut roofs = vec![0.0f64; grid.columns * grid.rows];
    for b in buildings.buildings() {
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for p in &b.footprint {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let index = |v: f64, o: f64, n: usize| ((v - o) / grid.cell_m - 0.5).clamp(-1.0, n as f64);
        let (c0, c1) =
            (index(lo[0], grid.origin[0], grid.columns).ceil(), index(hi[0], grid.origin[0], grid.columns).floor());
        let (r0, r1) =
            (index(lo[1], grid.origin[1], grid.rows).ceil(), index(hi[1], grid.origin[1], grid.rows).floor());
        let clamp = |v: f64, n: usize| (v.max(0.0) as usize).min(n);
        for row in clamp(r0, grid.rows)..clamp(r1 + 1.0, grid.rows) {
            for column in clamp(c0, grid.columns)..clamp(c1 + 1.0, grid.columns) {
                if contains(&b.footprint, grid.centre(column, row)) {
                    let roof = &mut roofs[row * grid.columns + column];
                    *roof = roof.max(b.top_m);
                }
            }
        }
    }
    roofs
}
