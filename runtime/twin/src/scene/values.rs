//! Checks of single values that every table shares: finite numbers, angles, colours, lengths,
//! scales, bounded integers, unique ids, and paths resolved against the scene's folder.
//! Cost: a few comparisons per value, one id hashed per `unique`, one file-system stat per path.

use std::collections::HashSet;
use std::path::PathBuf;

use glam::DVec3;
use serde_spanned::Spanned;

use super::raw::{Color, Scale3};
use super::{Cx, SceneError};
use crate::diagnostic::line_column;

impl Cx<'_> {
    pub(super) fn resolve_path(&self, rel: &str) -> PathBuf {
        let joined = self.base_dir.join(rel);
        std::path::absolute(&joined).unwrap_or(joined)
    }

    pub(super) fn existing_file(
        &self,
        v: &Spanned<String>,
        key: &'static str,
        want_dir: bool,
    ) -> Result<PathBuf, SceneError> {
        let file = self.resolve_path(v.get_ref());
        if (want_dir && file.is_dir()) || (!want_dir && file.is_file()) {
            return Ok(file);
        }
        let (line, column) = line_column(self.text, v.span().start);
        Err(SceneError::MissingFile { path: self.path.to_path_buf(), line, column, key, resolved: file })
    }

    pub(super) fn finite(&self, v: &Spanned<f64>, what: &str) -> Result<f64, SceneError> {
        let x = *v.get_ref();
        if x.is_finite() { Ok(x) } else { Err(self.err(v.span(), format!("{what} must be a finite number, not {x}"))) }
    }

    pub(super) fn angle(&self, v: Option<&Spanned<f64>>, what: &str, default: f64) -> Result<f64, SceneError> {
        v.map_or(Ok(default), |v| self.finite(v, what))
    }

    pub(super) fn color(&self, v: Option<&Color>, what: &str, default: [f32; 3]) -> Result<[f32; 3], SceneError> {
        let Some(v) = v else { return Ok(default) };
        let c = v.get_ref();
        if c.iter().all(|x| x.is_finite() && *x >= 0.0) {
            Ok(c.map(|x| x as f32))
        } else {
            Err(self.err(v.span(), format!("{what} must be three linear RGB numbers >= 0, e.g. [0.8, 0.77, 0.72]")))
        }
    }

    pub(super) fn positive(&self, v: Option<&Spanned<f64>>, what: &str, default: f64) -> Result<f64, SceneError> {
        let Some(v) = v else { return Ok(default) };
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(self.err(v.span(), format!("{what} must be a number of metres > 0, not {x}")))
        }
    }

    pub(super) fn scale(&self, v: Option<&Spanned<Scale3>>, default: DVec3) -> Result<DVec3, SceneError> {
        let Some(v) = v else { return Ok(default) };
        let s = v.get_ref().0;
        if s.is_finite() && s.min_element() > 0.0 {
            Ok(s)
        } else {
            Err(self
                .err(v.span(), format!("scale must be positive and finite (got {s}); use 1.0 for the model's size")))
        }
    }

    /// A positive integer key of table `table`, at most `max`.
    pub(super) fn bounded(
        &self,
        value: Option<&Spanned<i64>>,
        table: &str,
        key: &str,
        max: u64,
    ) -> Result<Option<u64>, SceneError> {
        let Some(value) = value else { return Ok(None) };
        let v = *value.get_ref();
        if v < 1 || v as u64 > max {
            return Err(self.err(value.span(), format!("{table}: `{key} = {v}` is out of range; use 1 to {max}")));
        }
        Ok(Some(v as u64))
    }

    pub(super) fn unique(
        &self,
        seen: &mut HashSet<String>,
        id: &Spanned<String>,
        what: &str,
    ) -> Result<(), SceneError> {
        if id.get_ref().is_empty() {
            return Err(self.err(id.span(), format!("{what} id must not be empty")));
        }
        if !seen.insert(id.get_ref().clone()) {
            return Err(self.err(id.span(), format!("duplicate {what} id `{}`; ids must be unique", id.get_ref())));
        }
        Ok(())
    }
}
