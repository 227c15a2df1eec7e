//! `telecom-cells`: a telecom network into the twin.
//!
//! Two kinds of message, told apart by their first byte:
//! - a **cell list** (CSV, OpenCellID's schema; see [`cells`]) creates a `telecom.cell` entity per
//!   cell (`<cell-prefix>MCC-MNC-TAC-CID`) with its position, operator and tower, and the towers the
//!   cells are on (see [`registry`]);
//! - **KPI reports** (JSON, starting with `{` or `[`; see [`kpi`]) set the listed cells' RSRP, SINR,
//!   PRB utilisation, throughput, connected users, alarms and state, and their towers' aggregates.
//!
//! Connected users are what a scene should declare aggregate-only (`[[governance.aggregate_only]]
//! property = "kpi.users"`): the host then keeps each cell's count inside this adapter and lets only
//! group aggregates into the twin.
//!
//! Bad rows, reports and fields are skipped, counted and logged (the first few, then every 1000th);
//! they never stop the feed. Cost: see each module; a message is parsed once.

pub mod cells;
pub mod kpi;
pub mod registry;

use sangam_sdk::{Adapter, AdapterOutput, ParameterSpec, SourceInfo, params};

use crate::registry::{Config, Registry};

/// The parameters of this plugin (mirrors `plugin.toml`).
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("cell-prefix", "cell/").description(
            "Prefix of cell entity ids: a cell is `<prefix><mcc>-<mnc>-<tac>-<cid>`; KPI messages name it by `MCC-MNC-TAC-CID`.",
        ),
        ParameterSpec::number("tower-radius-m", 30.0).range(0.0, 500.0).unit("m").description(
            "Cells within this distance of a tower's first cell are on that tower (all operators: towers are shared). 0 puts each position on a tower of its own.",
        ),
        ParameterSpec::text("tower-load-property", "site.prb_util")
            .description("The tower property that gets the mean PRB utilisation (%) of its cells."),
        ParameterSpec::integer("max-cells", 50_000).range(1.0, 50_000.0).description(
            "The most cells kept (1 to 50000: with a tower each, within the host's 100,000 created entities); cells past it are counted and skipped.",
        ),
    ]
}

/// Reads the parameters; an error names the parameter and its range.
pub fn config_from_params() -> Result<Config, String> {
    let defaults = Config::default();
    let radius = params::number("tower-radius-m").unwrap_or(defaults.tower_radius_m);
    if !(0.0..=500.0).contains(&radius) {
        return Err(format!("parameter `tower-radius-m` = {radius} must be 0 to 500 m"));
    }
    let max_cells = params::integer("max-cells").unwrap_or(defaults.max_cells as i64);
    if !(1..=50_000).contains(&max_cells) {
        return Err(format!(
            "parameter `max-cells` = {max_cells} must be 1 to 50000 (cells and their towers stay within the host's \
             100,000 created entities)"
        ));
    }
    let load = params::text("tower-load-property").unwrap_or(defaults.tower_load_property);
    if load.trim().is_empty() {
        return Err("parameter `tower-load-property` must name a property".into());
    }
    Ok(Config {
        cell_prefix: params::text("cell-prefix").unwrap_or(defaults.cell_prefix),
        tower_radius_m: radius,
        tower_load_property: load,
        max_cells: max_cells as usize,
    })
}

/// The adapter: the cells and towers seen so far.
pub struct TelecomCells {
    registry: Registry,
    problems: sangam_sdk::log::Problems,
    reported_counts: registry::Counts,
}

impl TelecomCells {
    /// An adapter with `config` (what `init` makes from the parameters).
    pub fn with_config(config: Config) -> Self {
        TelecomCells {
            registry: Registry::new(config),
            problems: Default::default(),
            reported_counts: Default::default(),
        }
    }

    /// The cells and towers known.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Problems met so far (bad rows, reports and fields).
    pub fn problems(&self) -> u64 {
        self.problems.count()
    }

    /// Logs what the registry newly skipped (repeated, unknown or too many cells).
    fn log_counts(&mut self, source: &str) {
        let now = self.registry.counts().clone();
        let was = std::mem::replace(&mut self.reported_counts, now.clone());
        if now.unknown_cells > was.unknown_cells {
            let n = now.unknown_cells - was.unknown_cells;
            self.problems.skipped(source, &format!("{n} reports for cells not in any cell list (send the list first)"));
        }
        if now.repeated > was.repeated {
            sangam_sdk::info!("{source}: {} cells listed again, kept as first listed", now.repeated - was.repeated);
        }
        if now.over_limit > was.over_limit {
            self.problems.skipped(source, &format!("{} cells past `max-cells`", now.over_limit - was.over_limit));
        }
    }
}

/// Whether a payload is JSON (KPI reports) rather than CSV (a cell list).
fn is_json(payload: &[u8]) -> bool {
    matches!(payload.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

impl Adapter for TelecomCells {
    fn init() -> Result<Self, String> {
        Ok(TelecomCells::with_config(config_from_params()?))
    }

    fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String> {
        let out = if is_json(payload) {
            let reports = kpi::parse(payload).map_err(|e| format!("{}: KPI message {e}", source.source))?;
            for (index, why) in &reports.bad {
                self.problems.skipped(&source.source, &format!("report {index}: {why}"));
            }
            if reports.over_limit > 0 {
                let n = reports.over_limit;
                self.problems.skipped(&source.source, &format!("{n} reports past {} in one message", kpi::MAX_REPORTS));
            }
            self.registry.apply_reports(&reports.reports, source.received)
        } else {
            let list = cells::parse(payload).map_err(|e| format!("{}: cell list: {e}", source.source))?;
            for (line, why) in &list.bad {
                self.problems.skipped(&source.source, &format!("cell list line {line}: {why}"));
            }
            self.registry.add_cells(&list.cells, source.received)
        };
        self.log_counts(&source.source);
        Ok(out)
    }

    fn parameters() -> Vec<ParameterSpec> {
        parameters()
    }
}

sangam_sdk::export_adapter!(TelecomCells);
