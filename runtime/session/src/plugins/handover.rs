//! Handing the store's logged changes on: to the plugin views' replica ([`ViewKeeper`]) when
//! simulations or overlays run, and to the tick's list for the recorder. The log is handed over at
//! every view request, whenever a write leaves it half full, and at the end of each tick, so it
//! never evicts a change before it is handed over (unless one plugin output alone is larger than
//! half the log). Cost: a channel send and a vector move per handover.

use std::sync::Arc;

use sangam_plugins::TwinView;
use sangam_twin::{EntityId, ReadGrant, SimTime, TwinStore};

use super::views::{ChangeBatch, ViewKeeper};

/// Where the store's changes go.
#[derive(Default)]
pub(crate) struct Handover {
    /// The replica of the twin that simulations' and overlays' views are built on, off the frame
    /// thread; `None` until started, and for scenes without either.
    pub(crate) views: Option<ViewKeeper>,
    /// Batches handed over this tick, for the recorder.
    taken: Vec<ChangeBatch>,
}

impl Handover {
    /// Starts the views on a replica of `store` as it is now (its log stays the caller's).
    pub(crate) fn start(&mut self, store: &TwinStore) -> std::io::Result<()> {
        self.views = Some(ViewKeeper::start(store)?);
        Ok(())
    }

    /// The store was replaced: what its log holds is dropped, and the views restart from it.
    pub(crate) fn reset(&mut self, store: &mut TwinStore) {
        store.take_events();
        self.taken.clear();
        if let Some(views) = self.views.as_mut() {
            views.resync(store, "the session's store was replaced");
        }
    }

    /// Whether the views' replica is behind ([`ViewKeeper::is_behind`]).
    pub(crate) fn is_behind(&self) -> bool {
        self.views.as_ref().is_some_and(ViewKeeper::is_behind)
    }

    /// Hands the log over.
    pub(crate) fn flush(&mut self, store: &mut TwinStore) {
        match self.views.as_mut() {
            Some(views) => views.flush(store, &mut self.taken),
            None => {
                let events = store.take_events();
                if !events.is_empty() {
                    self.taken.push(Arc::new(events));
                }
            }
        }
    }

    /// Hands the log over once it is half full (called after each write of a plugin output).
    pub(crate) fn flush_if_full(&mut self, store: &mut TwinStore) {
        if store.events().len() >= store.event_limit() / 2 {
            self.flush(store);
        }
    }

    /// Hands the log over and returns every batch handed over since the last call, in order.
    pub(crate) fn take(&mut self, store: &mut TwinStore) -> Vec<ChangeBatch> {
        self.flush(store);
        std::mem::take(&mut self.taken)
    }

    /// The view plugin `index` reads (its `entities`, what `read` permits; the twin at `at`, or the
    /// latest), built by the keeper after every change `store` has made, which is handed over first;
    /// noted in the access log at `t_us`. The keeper is started at load ([`Handover::start`], for
    /// every scene with a simulation or overlay); without one the plugin gets an empty view, said in
    /// the log.
    pub(crate) fn view(
        &mut self,
        store: &mut TwinStore,
        index: usize,
        entities: &Arc<[EntityId]>,
        read: &Arc<ReadGrant>,
        at: Option<SimTime>,
        t_us: i64,
    ) -> Arc<dyn TwinView> {
        self.flush(store);
        match self.views.as_mut() {
            Some(keeper) => keeper.request(index, entities, read, at, t_us),
            None => {
                tracing::error!(
                    "plugin views were not started (LivePlugins::start_views); the plugin reads an empty twin"
                );
                Arc::new(sangam_plugins::EmptyTwin)
            }
        }
    }
}
