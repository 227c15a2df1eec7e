//! The feed's telecom half: per-cell KPI reports (the `telecom-cells` adapter's JSON) for the cells
//! of the scene's cell lists. ILLUSTRATIVE: a daily load curve per site, seeded noise, and one site's
//! outage (its cells down, with an alarm) through the fifth eighth of each day.
//!
//! Cost: one small JSON object per cell per period.

use std::path::Path;

use anyhow::{Context, Result};
use sangam_twin::{Scene, SourceKind};

use super::{Noise, demand};

/// A cell of a cell list: its global id (`MCC-MNC-TAC-CID`, as the adapter names it) and its site.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedCell {
    /// The global id.
    pub global_id: String,
    /// The site (tower) it is on: the list's `site`, else its position.
    pub site: String,
    /// Its sector number (1 when the list has none).
    pub sector: u32,
}

/// Reads the cells of the scene's cell lists: the untimed file sources bound to `adapter`.
pub fn cells(scene: &Scene, adapter: &str) -> Result<Vec<FeedCell>> {
    let mut out = Vec::new();
    for source in scene.sources.iter().filter(|s| s.adapter == adapter) {
        if let SourceKind::File { path, pace: sangam_twin::ReplayPace::Untimed, .. } = &source.kind {
            out.extend(read_cells(path)?);
        }
    }
    Ok(out)
}

fn read_cells(path: &Path) -> Result<Vec<FeedCell>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read the cell list {}", path.display()))?;
    let header = reader.headers().with_context(|| format!("{}: no header", path.display()))?.clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let need = |name: &str| column(name).with_context(|| format!("{}: no `{name}` column", path.display()));
    let (mcc, mnc, tac, cid) = (need("mcc")?, need("mnc")?, need("tac")?, need("cid")?);
    let (lat, lon) = (need("lat")?, need("lon")?);
    let (site, sector) = (column("site"), column("sector"));
    let mut cells = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.with_context(|| format!("{}:{}", path.display(), i + 2))?;
        let number = |c: usize| -> Result<u64> {
            r.get(c).unwrap_or("").parse().with_context(|| format!("{}:{}: not a cell number", path.display(), i + 2))
        };
        let global_id = format!("{}-{}-{}-{}", number(mcc)?, number(mnc)?, number(tac)?, number(cid)?);
        let site = match site.and_then(|c| r.get(c)).filter(|s| !s.is_empty()) {
            Some(s) => s.to_string(),
            None => format!("{},{}", r.get(lat).unwrap_or(""), r.get(lon).unwrap_or("")),
        };
        let sector = sector.and_then(|c| r.get(c)).and_then(|s| s.parse().ok()).unwrap_or(1);
        cells.push(FeedCell { global_id, site, sector });
    }
    Ok(cells)
}

/// The report of `cell` (site number `site` of `sites`) at `phase` of the day.
pub fn report(cell: &FeedCell, site: usize, sites: usize, phase: f64, noise: &mut Noise) -> String {
    let load = demand(site, sites, phase);
    if load == 0.0 {
        return format!(
            r#"{{"cell":"{}","available":false,"prb_util_pct":0,"throughput_mbps":0,"users":0,"alarms":["S1 link down (illustrative outage)"]}}"#,
            cell.global_id
        );
    }
    // Sectors differ a little; interference (so SINR) rises with load; throughput follows the
    // PRBs in use at a spectral efficiency that falls with SINR.
    let prb = (load + 6.0 * (cell.sector as f64 - 2.0) + (noise.next() - 0.5) * 6.0).clamp(0.0, 100.0);
    let sinr = (20.0 - 0.15 * prb + (noise.next() - 0.5) * 2.0).clamp(-23.0, 40.0);
    let rsrp = (-82.0 - 6.0 * cell.sector as f64 + (noise.next() - 0.5) * 3.0).clamp(-156.0, -31.0);
    let throughput = prb / 100.0 * 150.0 * (0.4 + 0.6 * sinr / 20.0).clamp(0.1, 1.0);
    let users = (prb * 0.6).round();
    format!(
        r#"{{"cell":"{}","available":true,"rsrp_dbm":{rsrp:.1},"sinr_db":{sinr:.1},"prb_util_pct":{prb:.1},"throughput_mbps":{throughput:.1},"users":{users},"alarms":[]}}"#,
        cell.global_id
    )
}
