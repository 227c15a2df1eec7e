//! The scene's `[history]` table: the twin store's memory budget. Parsing cost: one comparison.

use serde::Deserialize;
use serde_spanned::Spanned;

use super::{Cx, SceneError};
use crate::history::DEFAULT_BUDGET_BYTES;

/// How much history the session keeps (`[history]`; every key optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryDecl {
    /// The store's memory budget in bytes (`budget_mb`, 1 to 65536 MiB; default 256 MiB): series and
    /// event log together; older samples are down-sampled to stay within it.
    pub budget_bytes: usize,
}

impl Default for HistoryDecl {
    fn default() -> Self {
        HistoryDecl { budget_bytes: DEFAULT_BUDGET_BYTES }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHistory {
    budget_mb: Option<Spanned<i64>>,
}

impl Cx<'_> {
    pub(super) fn history(&self, raw: Option<&RawHistory>) -> Result<HistoryDecl, SceneError> {
        let mut decl = HistoryDecl::default();
        if let Some(mb) = self.bounded(raw.and_then(|r| r.budget_mb.as_ref()), "history", "budget_mb", 65_536)? {
            decl.budget_bytes = usize::try_from(mb).unwrap_or(usize::MAX).saturating_mul(1 << 20);
        }
        Ok(decl)
    }
}
