//! The access log: which plugin read what of the twin, and when.
//!
//! Every twin view handed to a plugin is noted with the properties it actually held (after the
//! scene's read grants). An entry is logged when what a plugin reads changes (other properties, more
//! or fewer entities) and at least once per simulated second while it keeps reading, so the log
//! says who saw what over time without one entry per frame. Entries wait for the recorder (at most
//! [`PENDING_ENTRIES`]; past that the oldest are dropped and counted) and the last [`RECENT_ENTRIES`]
//! stay for the screen. Cost: one comparison of a few names per view.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

/// Entries waiting for the recorder at most.
pub const PENDING_ENTRIES: usize = 4096;

/// Entries kept for the screen and `--stats`.
pub const RECENT_ENTRIES: usize = 64;

/// The longest a plugin reads the same thing before it is logged again (simulated microseconds).
pub const RELOG_US: i64 = 1_000_000;

/// One logged read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// The plugin.
    pub plugin: String,
    /// The simulation time of the view (microseconds).
    pub t_us: i64,
    /// Entities in the view.
    pub entities: usize,
    /// The properties the view held, sorted.
    pub properties: Vec<String>,
    /// Views handed to this plugin since its previous entry.
    pub views: u64,
}

/// What one plugin last read.
#[derive(Clone, Debug, Default)]
pub(crate) struct PluginAccess {
    last: Option<(Vec<String>, usize, i64)>,
    views_since: u64,
    /// Views handed over in all.
    pub(crate) views: u64,
}

/// The access log of a session's plugins.
#[derive(Clone, Debug, Default)]
pub struct AccessLog {
    pending: VecDeque<AccessEntry>,
    recent: VecDeque<AccessEntry>,
    dropped: u64,
    entries: u64,
}

impl AccessLog {
    /// Notes a view of `entities` entities holding `properties` handed to `plugin` at `t_us`.
    pub(crate) fn note(
        &mut self,
        plugin: &str,
        state: &mut PluginAccess,
        t_us: i64,
        entities: usize,
        properties: BTreeSet<String>,
    ) {
        state.views += 1;
        state.views_since += 1;
        let properties: Vec<String> = properties.into_iter().collect();
        let same = state
            .last
            .as_ref()
            .is_some_and(|(p, e, t)| *p == properties && *e == entities && (t_us - *t).abs() < RELOG_US);
        if same {
            return;
        }
        let entry = AccessEntry {
            plugin: plugin.to_string(),
            t_us,
            entities,
            properties: properties.clone(),
            views: state.views_since,
        };
        state.last = Some((properties, entities, t_us));
        state.views_since = 0;
        self.entries += 1;
        if self.pending.len() == PENDING_ENTRIES {
            self.pending.pop_front();
            self.dropped += 1;
        }
        self.pending.push_back(entry.clone());
        if self.recent.len() == RECENT_ENTRIES {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
    }

    /// Takes the entries not yet taken (for the recorder).
    pub fn take(&mut self) -> Vec<AccessEntry> {
        self.pending.drain(..).collect()
    }

    /// The most recent entries, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &AccessEntry> + '_ {
        self.recent.iter()
    }

    /// Entries logged in all.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Entries dropped before anyone took them (nobody records; the screen keeps the recent ones).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
