//! `traffic-counts`: road sensor counts into the flow, speed, density, occupancy and state of road
//! segments (entities of kind `road.segment` the scene declares; the adapter creates none).
//!
//! Counts come as CSV station series, MAPPED onto the configured segments by their shares (the demo
//! maps the real hourly I-94 counts of MnDOT station 301 onto New Delhi roads: an invented mapping,
//! written on each segment as `traffic.mapping`), or as JSON counts per segment with lane closures
//! and incidents ([`parse`]). The [`model`] turns a flow and the open lanes into speed (the BPR
//! volume-delay function), density, occupancy and a state word.
//!
//! Properties written: `traffic.flow` [veh/h], `traffic.speed` [km/h], `traffic.density` [veh/km],
//! `traffic.occupancy` [%], `traffic.vc_ratio`, `traffic.lanes_open`, text `traffic.state` (`free`,
//! `heavy`, `congested`, `closed`), `traffic.incident` (when a message says), `traffic.mapping` (once).
//!
//! Bad rows and records are skipped, counted and logged (the first few, then every 1000th); they
//! never stop the feed. Cost: one parse of the message, a few floating-point operations per segment.

pub mod config;
pub mod model;
pub mod parse;

use sangam_sdk::{Adapter, AdapterOutput, ParameterSpec, SourceInfo, Updates};

use crate::config::{Config, Timestamps};

/// The adapter: its configuration, and which segments have been told their mapping.
pub struct TrafficCounts {
    config: Config,
    mapping_written: Vec<bool>,
    problems: sangam_sdk::log::Problems,
}

impl TrafficCounts {
    /// An adapter with `config` (what `init` makes from the parameters).
    pub fn with_config(config: Config) -> Self {
        let n = config.segments.len();
        TrafficCounts { config, mapping_written: vec![false; n], problems: Default::default() }
    }

    /// Problems met so far (bad rows, records, unknown segments).
    pub fn problems(&self) -> u64 {
        self.problems.count()
    }
}

impl Adapter for TrafficCounts {
    fn init() -> Result<Self, String> {
        Ok(TrafficCounts::with_config(Config::from_params()?))
    }

    fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String> {
        let parsed = parse::parse(payload, &self.config).map_err(|e| format!("{}: {e}", source.source))?;
        for (at, why) in &parsed.bad {
            self.problems.skipped(&source.source, &format!("{at}: {why}"));
        }
        if parsed.over_limit > 0 {
            let n = parsed.over_limit;
            self.problems.skipped(&source.source, &format!("{n} records past {} in one message", parse::MAX_RECORDS));
        }
        // One time per output: the message's latest, or the time it was received.
        let time = match self.config.timestamps {
            Timestamps::Message => parsed.counts.iter().filter_map(|c| c.time_us).max().unwrap_or(source.received),
            Timestamps::Received => source.received,
        };
        let keys: Vec<String> = self.config.segments.iter().map(|s| s.id.clone()).collect();
        let mut updates = Updates::new(time);
        for c in &parsed.counts {
            let segment = &self.config.segments[c.segment];
            let state = self.config.model.evaluate(c.flow, c.lanes_open, segment.free_flow_kmh);
            let k = c.segment as u32;
            updates.push_number("traffic.flow", "veh/h", k, state.flow);
            updates.push_number("traffic.speed", "km/h", k, state.speed);
            updates.push_number("traffic.density", "veh/km", k, state.density);
            updates.push_number("traffic.occupancy", "%", k, state.occupancy);
            updates.push_number("traffic.vc_ratio", "", k, state.vc_ratio);
            updates.push_number("traffic.lanes_open", "", k, f64::from(c.lanes_open));
            updates.push_text(k, "traffic.state", state.level.as_str());
            if let Some(incident) = &c.incident {
                updates.push_text(k, "traffic.incident", incident);
            }
            if c.mapped && !self.mapping_written[c.segment] {
                self.mapping_written[c.segment] = true;
                let note = format!(
                    "mapped: share {} of the station's counts (the demo maps MnDOT ATR 301, I-94 westbound, \
                     hourly counts; not measured on this road)",
                    segment.share
                );
                updates.push_text(k, "traffic.mapping", &note);
            }
        }
        Ok(AdapterOutput::new(keys, updates))
    }

    fn parameters() -> Vec<ParameterSpec> {
        config::parameters()
    }
}

sangam_sdk::export_adapter!(TrafficCounts);
