//! The cells and towers the adapter has seen, and the outputs that create and update them.
//!
//! A cell is on a tower: the one its list row names (`site`: an entity of the scene, not created
//! here), else the first tower within `tower-radius-m` of it, else a new `telecom.tower` at its
//! position. Towers are found across operators, since operators share towers. Each tower gets the
//! mean PRB utilisation of its cells (the property `tower-load-property`), their summed throughput,
//! their alarm count and the number of cells down, written whenever one of its cells reports.
//!
//! Cost: a hash lookup per cell; a tower search looks at the towers in the few 0.01-degree grid
//! squares around the cell. Memory: about 200 bytes per cell, bounded by `max-cells`.

use std::collections::HashMap;

use sangam_sdk::{AdapterOutput, NewEntity, TimeUs, Updates};

use crate::cells::CellRow;
use crate::kpi::KpiReport;

/// The grid square size, degrees.
const GRID_DEG: f64 = 0.01;

/// Metres per degree of latitude (mean, WGS84; good to 0.5 % for the few hundred metres compared).
const METRES_PER_DEG_LAT: f64 = 111_132.0;

/// How the registry names and groups.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Prefix of cell entity ids.
    pub cell_prefix: String,
    /// Cells this close to a tower are on it, metres.
    pub tower_radius_m: f64,
    /// The tower property for the mean PRB utilisation.
    pub tower_load_property: String,
    /// The most cells kept.
    pub max_cells: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cell_prefix: "cell/".into(),
            tower_radius_m: 30.0,
            tower_load_property: "site.prb_util".into(),
            max_cells: 50_000,
        }
    }
}

/// What the registry skipped, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cells listed again (kept as first listed).
    pub repeated: u64,
    /// Cells past `max-cells`.
    pub over_limit: u64,
    /// Reports for cells never listed.
    pub unknown_cells: u64,
}

struct Cell {
    entity: String,
    tower: usize,
    prb: Option<f64>,
    throughput: Option<f64>,
    alarms: usize,
    down: bool,
}

struct Tower {
    id: String,
    lat: f64,
    lon: f64,
    cells: Vec<usize>,
}

/// Cells and towers by id.
pub struct Registry {
    config: Config,
    by_global_id: HashMap<String, usize>,
    cells: Vec<Cell>,
    towers: Vec<Tower>,
    by_site: HashMap<String, usize>,
    grid: HashMap<(i64, i64), Vec<usize>>,
    counts: Counts,
}

/// An output being built: keys by id, each once.
struct Builder {
    keys: Vec<String>,
    index: HashMap<String, u32>,
    out: AdapterOutput,
}

impl Builder {
    fn new(time: TimeUs) -> Self {
        Builder { keys: Vec::new(), index: HashMap::new(), out: AdapterOutput::new(Vec::new(), Updates::new(time)) }
    }

    fn key(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(id.to_string());
        self.index.insert(id.to_string(), i);
        i
    }

    fn number(&mut self, id: &str, property: &str, unit: &str, value: f64) {
        let k = self.key(id);
        self.out.updates.push_number(property, unit, k, value);
    }

    fn text(&mut self, id: &str, property: &str, value: &str) {
        let k = self.key(id);
        self.out.updates.push_text(k, property, value);
    }

    fn finish(mut self) -> AdapterOutput {
        self.out.keys = self.keys;
        self.out
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(config: Config) -> Self {
        Registry {
            config,
            by_global_id: HashMap::new(),
            cells: Vec::new(),
            towers: Vec::new(),
            by_site: HashMap::new(),
            grid: HashMap::new(),
            counts: Counts::default(),
        }
    }

    /// What was skipped so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The number of cells and of towers known.
    pub fn sizes(&self) -> (usize, usize) {
        (self.cells.len(), self.towers.len())
    }

    /// The entity id of the cell with global id `global_id`, if listed.
    pub fn cell_entity(&self, global_id: &str) -> Option<&str> {
        self.by_global_id.get(global_id).map(|&i| self.cells[i].entity.as_str())
    }

    /// The tower entity id a listed cell is on.
    pub fn tower_of(&self, global_id: &str) -> Option<&str> {
        self.by_global_id.get(global_id).map(|&i| self.towers[self.cells[i].tower].id.as_str())
    }

    /// Adds listed cells (and the towers they need) at `time`: the output creates them and sets
    /// their position and list properties.
    pub fn add_cells(&mut self, rows: &[CellRow], time: TimeUs) -> AdapterOutput {
        let mut b = Builder::new(time);
        let mut touched_towers = Vec::new();
        for row in rows {
            let global_id = row.global_id();
            if self.by_global_id.contains_key(&global_id) {
                self.counts.repeated += 1;
                continue;
            }
            if self.cells.len() >= self.config.max_cells {
                self.counts.over_limit += 1;
                continue;
            }
            let (tower, created) = self.tower_for(row);
            if created {
                let t = &self.towers[tower];
                let entity = NewEntity::new(&t.id, "telecom.tower")
                    .name(&format!("Tower at {:.5}, {:.5}", t.lat, t.lon))
                    .at(t.lat, t.lon, 0.0);
                b.out.entities.push(entity);
                let (id, lat, lon) = (t.id.clone(), t.lat, t.lon);
                b.number(&id, "latitude", "deg", lat);
                b.number(&id, "longitude", "deg", lon);
            }
            let entity = format!("{}{global_id}", self.config.cell_prefix);
            let name = match &row.radio {
                Some(radio) => format!("{radio} cell {global_id}"),
                None => format!("Cell {global_id}"),
            };
            b.out.entities.push(NewEntity::new(&entity, "telecom.cell").name(&name).at(row.lat, row.lon, 0.0));
            b.number(&entity, "latitude", "deg", row.lat);
            b.number(&entity, "longitude", "deg", row.lon);
            if let Some(a) = row.azimuth {
                b.number(&entity, "azimuth", "deg", a);
            }
            if let Some(s) = row.sector {
                b.number(&entity, "sector", "", f64::from(s));
            }
            if let Some(radio) = &row.radio {
                b.text(&entity, "cell.radio", radio);
            }
            b.text(&entity, "cell.operator", &format!("{}-{}", row.mcc, row.mnc));
            let tower_id = self.towers[tower].id.clone();
            b.text(&entity, "cell.tower", &tower_id);
            let index = self.cells.len();
            self.cells.push(Cell { entity, tower, prb: None, throughput: None, alarms: 0, down: false });
            self.by_global_id.insert(global_id, index);
            self.towers[tower].cells.push(index);
            if !touched_towers.contains(&tower) {
                touched_towers.push(tower);
            }
        }
        for t in touched_towers {
            let (id, n) = (self.towers[t].id.clone(), self.towers[t].cells.len());
            b.number(&id, "site.cells", "", n as f64);
        }
        b.finish()
    }

    /// Applies KPI reports at `time`: the cells' properties, then their towers' aggregates.
    pub fn apply_reports(&mut self, reports: &[KpiReport], time: TimeUs) -> AdapterOutput {
        let mut b = Builder::new(time);
        let mut touched_towers = Vec::new();
        for r in reports {
            let Some(&index) = self.by_global_id.get(&r.cell) else {
                self.counts.unknown_cells += 1;
                continue;
            };
            let cell = &mut self.cells[index];
            let id = cell.entity.clone();
            let numbers = [
                ("kpi.rsrp", "dBm", r.rsrp_dbm),
                ("kpi.sinr", "dB", r.sinr_db),
                ("kpi.prb_util", "%", r.prb_util_pct),
                ("kpi.throughput", "Mbit/s", r.throughput_mbps),
                ("kpi.users", "", r.users),
            ];
            for (property, unit, value) in numbers {
                if let Some(v) = value {
                    b.number(&id, property, unit, v);
                }
            }
            if r.prb_util_pct.is_some() {
                cell.prb = r.prb_util_pct;
            }
            if r.throughput_mbps.is_some() {
                cell.throughput = r.throughput_mbps;
            }
            if let Some(alarms) = &r.alarms {
                cell.alarms = alarms.len();
                b.number(&id, "kpi.alarm_count", "", alarms.len() as f64);
                b.text(&id, "kpi.alarms", &alarms.join("; "));
            }
            if let Some(up) = r.available {
                cell.down = !up;
                b.text(&id, "kpi.state", if up { "up" } else { "down" });
            }
            if !touched_towers.contains(&cell.tower) {
                touched_towers.push(cell.tower);
            }
        }
        for t in touched_towers {
            let tower = &self.towers[t];
            let cells = tower.cells.iter().map(|&c| &self.cells[c]);
            let prbs: Vec<f64> = cells.clone().filter_map(|c| c.prb).collect();
            let throughput: f64 = cells.clone().filter_map(|c| c.throughput).sum();
            let alarms: usize = cells.clone().map(|c| c.alarms).sum();
            let down = cells.filter(|c| c.down).count();
            let id = tower.id.clone();
            if !prbs.is_empty() {
                let mean = prbs.iter().sum::<f64>() / prbs.len() as f64;
                let property = self.config.tower_load_property.clone();
                b.number(&id, &property, "%", mean);
            }
            b.number(&id, "site.throughput", "Mbit/s", throughput);
            b.number(&id, "site.alarm_count", "", alarms as f64);
            b.number(&id, "site.cells_down", "", down as f64);
        }
        b.finish()
    }

    /// The tower for a new cell, and whether it was created.
    fn tower_for(&mut self, row: &CellRow) -> (usize, bool) {
        if let Some(site) = &row.site {
            if let Some(&t) = self.by_site.get(site) {
                return (t, false);
            }
            let t = self.towers.len();
            self.towers.push(Tower { id: site.clone(), lat: row.lat, lon: row.lon, cells: Vec::new() });
            self.by_site.insert(site.clone(), t);
            return (t, false);
        }
        if let Some(t) = self.nearby_tower(row.lat, row.lon) {
            return (t, false);
        }
        let t = self.towers.len();
        let id = format!("tower/{:.5},{:.5}", row.lat, row.lon);
        self.towers.push(Tower { id, lat: row.lat, lon: row.lon, cells: Vec::new() });
        self.grid.entry(square(row.lat, row.lon)).or_default().push(t);
        (t, true)
    }

    /// The first created tower within the radius of (lat, lon).
    fn nearby_tower(&self, lat: f64, lon: f64) -> Option<usize> {
        let radius = self.config.tower_radius_m;
        if radius <= 0.0 {
            return None;
        }
        let metres_per_deg_lon = METRES_PER_DEG_LAT * lat.to_radians().cos().max(0.01);
        let span_lat = (radius / (GRID_DEG * METRES_PER_DEG_LAT)).ceil() as i64;
        let span_lon = ((radius / (GRID_DEG * metres_per_deg_lon)).ceil() as i64).min(100);
        let (y, x) = square(lat, lon);
        for dy in -span_lat..=span_lat {
            for dx in -span_lon..=span_lon {
                for &t in self.grid.get(&(y + dy, x + dx)).into_iter().flatten() {
                    let tower = &self.towers[t];
                    let north = (tower.lat - lat) * METRES_PER_DEG_LAT;
                    let east = (tower.lon - lon) * metres_per_deg_lon;
                    if north.hypot(east) <= radius {
                        return Some(t);
                    }
                }
            }
        }
        None
    }
}

fn square(lat: f64, lon: f64) -> (i64, i64) {
    ((lat / GRID_DEG).floor() as i64, (lon / GRID_DEG).floor() as i64)
}
