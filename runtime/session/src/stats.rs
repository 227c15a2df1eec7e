//! What a session says about itself: the `--stats` lines ([`Session::status_lines`]) and the same
//! counters as JSON for tools and dashboards ([`Session::stats_json`], `--stats-json FILE`): the
//! clock, the history store, the recording, governance, the access log, the data sources, each
//! adapter's inbox and each plugin. Cost: one pass over the store for the state hash (call them at
//! the end of a run, or now and then; not per frame).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{Session, plugins, record};

impl Session {
    /// The `--stats` lines: the clock, the history store, then one per plugin.
    pub fn status_lines(&self) -> Vec<String> {
        let clock = self.time.clock();
        let t = &self.totals;
        let held = self.last_held_by.as_ref().map_or_else(String::new, |id| format!("; held back by `{id}`"));
        let store = &self.store;
        let mut lines = vec![format!(
            "clock: {} after {} ticks at {}x{}; {} steps; ran slower than its rate in {} ticks ({:.3} s of simulated \
             time not run{held}); {} values applied, {} refused; {} messages delivered, {} waiting",
            clock.now(),
            t.ticks,
            clock.rate(),
            if clock.is_paused() { " (paused)" } else { "" },
            clock.step_count(),
            t.slowed_ticks,
            clock.slowed().as_secs_f64(),
            t.values_applied,
            t.values_refused,
            t.messages_delivered,
            self.inbox.total_waiting(),
        )];
        lines.push(format!(
            "history: {} series, {:.1} of {:.1} MiB, {} samples each at full resolution, {} folded into buckets, {} \
             events evicted from the log",
            store.series_count(),
            store.memory_bytes() as f64 / f64::from(1 << 20),
            store.budget() as f64 / f64::from(1 << 20),
            store.series_capacity(),
            store.folded(),
            store.events_evicted(),
        ));
        let hash = self.store.state_hash();
        lines.push(format!("state: hash {hash} at progress {:.3} s", self.progress_us() as f64 / 1e6));
        if let Some(r) = &self.recorder {
            let s = r.stats();
            let state = r.stopped().map_or_else(|| "recording".to_string(), |why| format!("STOPPED ({why})"));
            lines.push(format!(
                "recording: {} {state}: {} inputs, {} ticks, {} changes, {} access entries handed to the writer, {} \
                 changes lost to gaps",
                r.path().display(),
                s.inputs,
                s.ticks,
                s.changes,
                s.access,
                s.gap_events
            ));
            lines.push(format!(
                "recording: {} overlay frames handed to the writer, {} drawn between them (one per {} ms of progress \
                 is kept), {} over their overlay's byte allowance{}",
                s.overlay_frames,
                s.overlay_between,
                record::overlays::OVERLAY_PERIOD_US / 1000,
                s.overlay_over_budget,
                if self.redaction.is_some() {
                    " (none in a redacted recording: they draw what other plugins may see)"
                } else {
                    ""
                }
            ));
        }
        if let Some(r) = &self.redaction {
            lines.push(format!(
                "recording: redacted for plugin `{}`: {} changes left out",
                r.plugin, r.withheld_changes
            ));
        }
        if let Some(why) = self.withhold_inputs {
            lines.push(format!("recording: {} raw inputs not written ({why})", self.inputs_withheld));
        }
        let g = self.plugins.governance_stats();
        if g != plugins::GovernanceStats::default() {
            lines.push(format!(
                "governance: {} individual values of aggregate-only properties kept inside their adapters; {} \
                 aggregates written, {} groups under k withheld, {} values from other plugins refused",
                g.individual_values, g.aggregates, g.small_groups, g.refused
            ));
        }
        if let Some((path, summary)) = &self.recorded {
            lines.push(format!(
                "recording: {path} finished: {} messages, {} bytes; {} overlay frames that repeated the last left out; {}",
                summary.messages,
                summary.file_bytes,
                summary.overlay_repeats,
                match summary.snapshot_bytes {
                    0 => "no end snapshot (time travel replays it)".to_string(),
                    n => format!("an end snapshot of the twin of {n} bytes (for time travel)"),
                }
            ));
        }
        if let Some(replay) = &self.replay {
            let info = &replay.recording().info;
            let (applied, refused) = replay.counts();
            lines.push(format!(
                "replay: {} (scene {}, written by {}): {applied} changes applied, {refused} refused; {}",
                info.path.display(),
                info.scene_name,
                info.runtime,
                replay.verdict_for(hash)
            ));
        }
        let log = self.plugins.access_log();
        if log.entries() > 0 {
            let mut last: BTreeMap<&str, &plugins::AccessEntry> = BTreeMap::new();
            for e in log.recent() {
                last.insert(&e.plugin, e);
            }
            let reads: Vec<String> = last
                .values()
                .map(|e| format!("{} read [{}] of {} entities", e.plugin, e.properties.join(", "), e.entities))
                .collect();
            lines.push(format!("access: {} entries logged; last: {}", log.entries(), reads.join("; ")));
        }
        if let Some(sources) = &self.sources {
            lines.extend(sources.statuses().iter().map(ToString::to_string));
            if sources.is_holding() {
                lines.push("sources: a delivery waits for its adapter's inbox (the sources wait with it)".into());
            }
        }
        if let Some(views) = self.plugins.views() {
            lines.push(views.status_line());
        }
        lines.extend(self.plugins.status_lines());
        lines
    }

    /// The counters of [`status_lines`](Self::status_lines) as one JSON object: `clock`, `history`,
    /// `state_hash`, `sources` (per source: state, messages, bytes, rate, connections, redeliveries,
    /// resubscriptions, malformed), `inboxes` (per adapter: accepted, refused, delivered, bytes,
    /// waiting), `plugins` (per plugin: role, status, calls, late, faults, restarts) and, when there
    /// is one, `recording`.
    pub fn stats_json(&self) -> Value {
        let clock = self.time.clock();
        let t = &self.totals;
        let store = &self.store;
        let sources: Vec<Value> = self
            .sources
            .iter()
            .flat_map(sangam_data::Sources::statuses)
            .map(|s| {
                json!({
                    "id": s.id, "kind": s.kind, "state": s.state.to_string(),
                    "messages": s.stats.messages, "bytes": s.stats.bytes, "rate_per_s": s.rate,
                    "connections": s.stats.connections, "redelivered": s.stats.redelivered,
                    "resubscribed": s.stats.resubscribed, "malformed": s.stats.malformed,
                    "oversized": s.stats.oversized, "coalesced": s.stats.coalesced,
                    "not_modified": s.stats.not_modified, "errors": s.stats.errors,
                })
            })
            .collect();
        let inboxes: BTreeMap<&str, Value> = self
            .plugins
            .adapter_ids()
            .filter_map(|a| {
                let s = self.inbox.stats(a)?;
                Some((
                    a,
                    json!({
                        "accepted": s.accepted, "refused": s.refused, "delivered": s.delivered, "bytes": s.bytes,
                        "waiting": self.inbox.waiting(a),
                    }),
                ))
            })
            .collect();
        let recording = self.recorder.as_ref().map(|r| {
            let s = r.stats();
            json!({
                "file": r.path().display().to_string(), "recording": r.is_recording(), "stopped": r.stopped(),
                "inputs": s.inputs, "ticks": s.ticks, "changes": s.changes, "gap_events": s.gap_events,
                "access": s.access, "overlay_frames": s.overlay_frames,
            })
        });
        let g = self.plugins.governance_stats();
        json!({
            "clock": {
                "now_s": clock.now().as_micros() as f64 / 1e6, "rate": clock.rate(), "paused": clock.is_paused(),
                "steps": clock.step_count(), "ticks": t.ticks, "slowed_ticks": t.slowed_ticks,
                "slowed_s": clock.slowed().as_secs_f64(), "values_applied": t.values_applied,
                "values_refused": t.values_refused, "messages_delivered": t.messages_delivered,
                "messages_waiting": self.inbox.total_waiting(),
            },
            "history": {
                "entities": store.entities().count(), "series": store.series_count(), "bytes": store.memory_bytes(), "budget_bytes": store.budget(),
                "samples_per_series": store.series_capacity(), "folded": store.folded(),
                "events_evicted": store.events_evicted(),
            },
            "governance": {
                "individual_values": g.individual_values, "aggregates": g.aggregates,
                "small_groups": g.small_groups, "refused": g.refused,
            },
            "state_hash": self.store.state_hash().to_string(),
            "sources": sources,
            "inboxes": inboxes,
            "plugins": self.plugins.stats_json(),
            "recording": recording,
        })
    }
}
