//! `csv-adapter`: CSV rows to twin properties.
//!
//! The header names the columns: an entity id column (parameter `id-column`, or a fixed `entity` for a
//! feed about one thing), a timestamp column (`time-column`; `YYYY-MM-DD HH:MM:SS`, ISO 8601 with `T`
//! and `Z`, or Unix seconds) and value columns, with units in the header (`flow[veh/h]`) or chosen and
//! renamed by parameter `columns` (`traffic_volume[veh/h]=traffic.flow, temp[K]=weather.temperature`).
//! Parameter `epoch` is the calendar time that is simulation time 0.
//!
//! Bad rows are skipped, counted and logged (the first few with their line, then every 1000th); they
//! never stop the feed. See [`csv`] for the rules.

pub mod csv;

use sangam_sdk::{Adapter, AdapterOutput, ParameterSpec, SourceInfo, params};

use crate::csv::{Config, CsvParser, parse_columns, parse_time};

/// How many bad rows are logged one by one before only every 1000th is.
const LOGGED_BAD_ROWS: u64 = 5;

/// The parameters of this plugin (mirrors `plugin.toml`).
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::text("id-column", "id").description("Header name of the entity id column."),
        ParameterSpec::text("entity", "")
            .description("Entity id for every row when the header has no id column (a feed about one thing)."),
        ParameterSpec::text("time-column", "time").description("Header name of the timestamp column."),
        ParameterSpec::text("columns", "").description(
            "Value columns as `column[unit]=property`, comma-separated; empty: every header column written `name[unit]`.",
        ),
        ParameterSpec::text("property-prefix", "")
            .description("Prefix for property names taken from the header (e.g. `traffic.`)."),
        ParameterSpec::text("epoch", "1970-01-01 00:00:00")
            .description("The calendar time (same zone as the data) that is simulation time 0."),
    ]
}

/// Reads the parameters into a parser configuration.
pub fn config_from_params() -> Result<Config, String> {
    let text = |name: &str, default: &str| params::text(name).unwrap_or_else(|| default.to_string());
    let epoch = text("epoch", "1970-01-01 00:00:00");
    let epoch_unix_us =
        parse_time(&epoch).ok_or_else(|| format!("parameter `epoch` = {epoch:?} is not YYYY-MM-DD HH:MM:SS"))?;
    let columns = text("columns", "");
    Ok(Config {
        id_column: text("id-column", "id"),
        entity: text("entity", ""),
        time_column: text("time-column", "time"),
        columns: if columns.trim().is_empty() { None } else { Some(parse_columns(&columns)?) },
        prefix: text("property-prefix", ""),
        epoch_unix_us,
    })
}

/// The adapter: one CSV parser that remembers the header across messages.
pub struct CsvAdapter {
    parser: CsvParser,
}

impl Adapter for CsvAdapter {
    fn init() -> Result<Self, String> {
        Ok(CsvAdapter { parser: CsvParser::new(config_from_params()?) })
    }

    fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String> {
        let before = self.parser.stats().bad_rows;
        let batch = self.parser.feed(payload).map_err(|e| format!("{}: {e}", source.source))?;
        for (i, (line, why)) in batch.bad.iter().enumerate() {
            let nth = before + i as u64 + 1;
            if nth <= LOGGED_BAD_ROWS || nth.is_multiple_of(1000) {
                sangam_sdk::warn!(
                    "{}: skipped row at line {line} of the message ({why}); {nth} bad rows so far",
                    source.source
                );
            }
        }
        let mut updates = batch.updates;
        if updates.is_empty() {
            updates.time = source.received;
        }
        Ok(AdapterOutput::new(batch.keys, updates))
    }

    fn parameters() -> Vec<ParameterSpec> {
        parameters()
    }
}

sangam_sdk::export_adapter!(CsvAdapter);
