//! The `[[assets]]` tables: glTF files by id, checked to exist, and the look-up that turns an asset
//! id into its index. Cost: one file-system stat per asset (the files themselves are read by the
//! renderer, not here) and a linear search of the assets per reference.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_spanned::Spanned;

use super::error::list;
use super::raw::RawAsset;
use super::{Cx, SceneError};
use crate::diagnostic::line_column;

/// A glTF asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Unique id.
    pub id: String,
    /// Absolute path of the `.gltf` / `.glb` file (checked to exist at load time).
    pub path: PathBuf,
    /// Illustrative, not surveyed data.
    pub illustrative: bool,
    /// Free note.
    pub note: Option<String>,
}

impl Cx<'_> {
    /// Every asset, in file order.
    pub(super) fn assets(&self, raw: &[Spanned<RawAsset>]) -> Result<Vec<Asset>, SceneError> {
        let mut seen = HashSet::new();
        let mut assets = Vec::new();
        for ra in raw {
            let ra = ra.get_ref();
            self.unique(&mut seen, &ra.id, "asset")?;
            let rel = ra.gltf.get_ref();
            let lower = rel.to_ascii_lowercase();
            if !(lower.ends_with(".gltf") || lower.ends_with(".glb")) {
                return Err(self.err(ra.gltf.span(), format!("gltf = \"{rel}\" must name a .gltf or .glb file")));
            }
            let file = self.resolve_path(rel);
            if !file.is_file() {
                let (line, column) = line_column(self.text, ra.gltf.span().start);
                return Err(SceneError::MissingFile {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    key: "gltf",
                    resolved: file,
                });
            }
            assets.push(Asset {
                id: ra.id.get_ref().clone(),
                path: file,
                illustrative: ra.illustrative.unwrap_or(false),
                note: ra.note.clone(),
            });
        }
        Ok(assets)
    }

    pub(super) fn asset_index(&self, assets: &[Asset], id: &Spanned<String>) -> Result<usize, SceneError> {
        assets.iter().position(|a| &a.id == id.get_ref()).ok_or_else(|| {
            self.err(
                id.span(),
                format!(
                    "unknown asset `{}`; declare it in an [[assets]] table first (known assets: {})",
                    id.get_ref(),
                    list(assets.iter().map(|a| &a.id))
                ),
            )
        })
    }
}
