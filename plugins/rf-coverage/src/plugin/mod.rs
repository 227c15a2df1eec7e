//! The simulation-role glue (SDK 1.3): the scene's buildings (`geometry`, with the `site-geometry`
//! grant) and its granted site entities ([`sites`]) in, coverage maps and per-site results out.
//!
//! - **At `init`**: the parameters ([`config`]), the buildings indexed for line of sight, and the map's
//!   grid: the buildings and the sites with `margin-m` around them, in cells of `cell-size-m`
//!   (refused with the size it needs above `max-cells`).
//! - **Each step**: the sites' radio properties are read (live values included); when the sectors on
//!   air differ from those of the last map (a first step, a retilt, a site's power or cells down
//!   changed), the maps are made again and handed over as three layers: `radio.rsrp` (dBm),
//!   `radio.sinr` (dB) and `radio.best_site` (the best server's site, as its index in the entity
//!   table), and with the first map `surface.height` (m: the ground or roof each receiver stands on,
//!   for draping the maps on roofs); with them, per site, `coverage.best_share` (% of the mapped area it serves best) and
//!   `coverage.sectors` (sectors mapped), and to every site the map's summary,
//!   `coverage.area_at_least_-100dBm` and `coverage.area_at_least_-110dBm` (% of the map).
//! - A sector outside its model's range (UMa takes antennas at 25 m only; COST-231 at 30 to 200 m) is
//!   left out of the map and said in the log once per map, with the range; the rest are mapped.
//!
//! Cost: a map is cells x sectors links with a ray walk each; a step without a change is seven
//! host reads.

pub mod config;
pub mod sites;

use sangam_sdk::output::{self, RasterGrid};
use sangam_sdk::{EntityTable, ParameterSpec, Simulation, Tick, Updates, geometry, twin};

use crate::buildings::{Building, Buildings};
use crate::coverage::{self, Grid, Maps, Settings, check_sector};
use config::Config;
use sites::{OnAir, Site, SiteValues};

/// The edge of a cell of the line-of-sight index, m.
pub const INDEX_CELL_M: f64 = 25.0;
/// The summary's thresholds, dBm.
pub const THRESHOLDS_DBM: [f64; 2] = [-100.0, -110.0];

/// The model's state.
pub struct Coverage {
    config: Config,
    sites: Vec<Site>,
    all: Vec<u32>,
    buildings: Buildings,
    grid: Grid,
    /// The sectors of the last map made (none yet: `None`).
    mapped: Option<OnAir>,
}

/// The grid over `points` (x, y) with `margin` around, in cells of `cell`, at most `max_cells`.
pub fn grid_around(
    points: &[[f64; 2]],
    margin: f64,
    cell: f64,
    receiver_height_m: f64,
    max_cells: usize,
) -> Result<Grid, String> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    if !(lo[0].is_finite() && hi[0].is_finite()) {
        return Err("no buildings and no sites: nothing to map".into());
    }
    // Cell edges on multiples of the cell size, so two maps of one site share a grid.
    let origin = [((lo[0] - margin) / cell).floor() * cell, ((lo[1] - margin) / cell).floor() * cell];
    let columns = (((hi[0] + margin - origin[0]) / cell).ceil() as usize).max(1);
    let rows = (((hi[1] + margin - origin[1]) / cell).ceil() as usize).max(1);
    if columns.saturating_mul(rows) > max_cells {
        return Err(format!(
            "the map would be {columns} x {rows} = {} cells of {cell} m, over `max-cells` = {max_cells}: raise \
             `cell-size-m` or `max-cells`, or lower `margin-m`",
            columns.saturating_mul(rows)
        ));
    }
    Ok(Grid { origin, cell_m: cell, columns, rows, receiver_height_m })
}

impl Coverage {
    /// Makes the maps of the sectors on air and hands them over with the per-site results.
    fn map(&mut self, on_air: OnAir, end: i64) -> Result<Updates, String> {
        let settings = Settings {
            model: self.config.model,
            noise_figure_db: self.config.noise_figure_db,
            thresholds_dbm: THRESHOLDS_DBM.to_vec(),
        };
        // Sectors the model cannot map are left out, and said.
        let mut mapped = OnAir { off_air: on_air.off_air.clone(), ..OnAir::default() };
        for (sector, &site) in on_air.sectors.iter().zip(&on_air.site_of) {
            match check_sector(sector, self.config.model) {
                Ok(()) => {
                    mapped.sectors.push(sector.clone());
                    mapped.site_of.push(site);
                }
                Err(e) => sangam_sdk::warn!("left out of the map: {e}"),
            }
        }
        for &i in &on_air.off_air {
            sangam_sdk::info!("site `{}` is off air (every cell down)", self.sites[i].id);
        }
        let maps =
            coverage::compute(&mapped.sectors, &self.grid, &self.buildings, &settings).map_err(|e| e.to_string())?;
        self.hand_over(&maps, &mapped);
        let n = self.sites.len();
        let mut best = vec![0usize; n];
        let mut sectors = vec![0.0; n];
        for &site in &mapped.site_of {
            sectors[site] += 1.0;
        }
        for &b in &maps.best_server {
            if let Some(&site) = usize::try_from(b).ok().and_then(|b| mapped.site_of.get(b)) {
                best[site] += 1;
            }
        }
        let with_value = maps.summary.with_value.max(1) as f64;
        let share: Vec<f64> = best.iter().map(|&c| 100.0 * c as f64 / with_value).collect();
        output::full_column("coverage.best_share", "%", &share);
        output::full_column("coverage.sectors", "", &sectors);
        for &(threshold, area) in &maps.summary.share_at_least {
            output::full_column(&format!("coverage.area_at_least_{threshold}dBm"), "%", &vec![100.0 * area; n]);
        }
        self.mapped = Some(on_air);
        Ok(Updates::new(end))
    }

    fn hand_over(&self, maps: &Maps, mapped: &OnAir) {
        let g = &self.grid;
        let grid = || RasterGrid {
            origin: (g.origin[0], g.origin[1], g.receiver_height_m),
            cell_size: g.cell_m,
            columns: g.columns as u32,
            rows: g.rows as u32,
        };
        output::raster("radio.rsrp", "dBm", grid(), &maps.rsrp_dbm);
        output::raster("radio.sinr", "dB", grid(), &maps.sinr_db);
        let best_site: Vec<f32> = maps
            .best_server
            .iter()
            .map(|&b| usize::try_from(b).ok().and_then(|b| mapped.site_of.get(b)).map_or(f32::NAN, |&s| s as f32))
            .collect();
        output::raster("radio.best_site", "", grid(), &best_site);
        if self.mapped.is_none() {
            // The surface each receiver stands on (the ground, or a roof): the same for every map, so
            // handed over with the first; a scene drapes the maps on it (`[[heatmaps]] heights`).
            let surface: Vec<f32> = maps.receiver_height_m.iter().map(|h| h - g.receiver_height_m as f32).collect();
            output::raster("surface.height", "m", grid(), &surface);
        }
    }
}

impl Simulation for Coverage {
    fn init(entities: EntityTable) -> Result<Self, String> {
        let config = config::from_params()?;
        let sites: Vec<Site> = entities
            .ids
            .iter()
            .zip(entities.positions.chunks_exact(3))
            .map(|(id, p)| Site { id: id.clone(), position: [p[0], p[1], p[2]] })
            .collect();
        let footprints = geometry::buildings();
        let mut points: Vec<[f64; 2]> = footprints.iter().flat_map(|b| b.ring.iter().copied()).collect();
        points.extend(sites.iter().map(|s| [s.position[0], s.position[1]]));
        let grid =
            grid_around(&points, config.margin_m, config.cell_size_m, config.receiver_height_m, config.max_cells)?;
        let buildings: Vec<Building> = footprints
            .into_iter()
            .filter(|b| b.top_m > b.base_m)
            .map(|b| Building { footprint: b.ring, base_m: b.base_m, top_m: b.top_m })
            .collect();
        let buildings = Buildings::new(buildings, INDEX_CELL_M).map_err(|e| format!("the scene's buildings: {e}"))?;
        sangam_sdk::info!(
            "coverage of {} sites on {} x {} cells of {} m, {} buildings",
            sites.len(),
            grid.columns,
            grid.rows,
            grid.cell_m,
            buildings.buildings().len()
        );
        Ok(Coverage { all: entities.indices(), config, sites, buildings, grid, mapped: None })
    }

    fn step(&mut self, tick: Tick) -> Result<Updates, String> {
        let columns: Vec<Vec<f64>> = sites::PROPERTIES.iter().map(|p| twin::numbers(p, &self.all)).collect();
        let values: Vec<SiteValues> = (0..self.sites.len()).map(|i| SiteValues::from_columns(&columns, i)).collect();
        let on_air = sites::sectors(&self.sites, &values, &self.config);
        if self.mapped.as_ref() == Some(&on_air) {
            return Ok(Updates::new(tick.end()));
        }
        self.map(on_air, tick.end())
    }

    fn parameters() -> Vec<ParameterSpec> {
        config::parameters()
    }
}
