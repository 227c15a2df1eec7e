//! Why a scene could not be loaded ([`SceneError`]) and the wording of every message: a byte span
//! of the scene text turned into `file:line:column`, `toml`'s errors restated, short id lists.
//! Cost: one scan of the text up to the span per message; only errors and warnings pay it.

use std::ops::Range;
use std::path::PathBuf;

use thiserror::Error;

use super::{Cx, SUPPORTED_FORMATS};
use crate::diagnostic::{line_column, toml_diagnostic};
use crate::geojson::GeoJsonError;

/// Why a scene could not be loaded.
#[derive(Debug, Error)]
pub enum SceneError {
    /// The scene file could not be read.
    #[error("cannot read scene file {path}: {source}; check the path and permissions")]
    Io {
        /// The scene file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The scene file is over [`MAX_SCENE_BYTES`](super::MAX_SCENE_BYTES).
    #[error(
        "scene file {path} is {size} bytes, over the limit of {limit} bytes (16 MiB); keep bulk data in \
         GeoJSON layers and glTF assets referenced from the scene"
    )]
    TooLarge {
        /// The scene file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// TOML syntax error, unknown key, wrong type or missing required key.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// `format` is not a supported version.
    #[error(
        "{path}:{line}:{column}: unsupported scene format {found}; this version reads format 1 \
         (supported: {supported}); set `format = 1` or use a newer Sangam",
        supported = SUPPORTED_FORMATS.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )]
    UnsupportedFormat {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The value found.
        found: String,
    },
    /// A value is well-typed but not valid (coordinates, ids, references, ranges).
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// A referenced file or folder does not exist.
    #[error(
        "{path}:{line}:{column}: `{key}` file not found: {resolved} (paths are relative to the scene \
         file's folder); fix the path or add the file"
    )]
    MissingFile {
        /// The scene file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// 1-based column of the key's value.
        column: usize,
        /// The key (`gltf`, `geojson`, or a plugin's `manifest`, `feed`, `data`, `trusted_keys`).
        key: &'static str,
        /// The resolved path that does not exist.
        resolved: PathBuf,
    },
    /// A GeoJSON layer could not be loaded.
    #[error("{path}:{line}:{column}: layer `{layer}`: {source}")]
    Layer {
        /// The scene file.
        path: PathBuf,
        /// 1-based line of the layer's `geojson` key.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The layer id.
        layer: String,
        /// The cause.
        source: Box<GeoJsonError>,
    },
}

impl SceneError {
    /// The 1-based (line, column) in the scene file, when the error has one.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            SceneError::Io { .. } | SceneError::TooLarge { .. } => None,
            SceneError::Syntax { line, column, .. }
            | SceneError::UnsupportedFormat { line, column, .. }
            | SceneError::Invalid { line, column, .. }
            | SceneError::MissingFile { line, column, .. }
            | SceneError::Layer { line, column, .. } => Some((*line, *column)),
        }
    }
}

/// A short list of ids for messages.
pub(super) fn list(ids: impl Iterator<Item = impl AsRef<str>>) -> String {
    let mut v: Vec<String> = ids.take(21).map(|s| format!("`{}`", s.as_ref())).collect();
    if v.is_empty() {
        return "none".to_string();
    }
    if v.len() > 20 {
        v.truncate(20);
        v.push("...".to_string());
    }
    v.join(", ")
}

impl Cx<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> SceneError {
        let (line, column) = line_column(self.text, span.start);
        SceneError::Invalid { path: self.path.to_path_buf(), line, column, message: message.into() }
    }

    pub(super) fn at(&self, span: Range<usize>) -> String {
        let (line, column) = line_column(self.text, span.start);
        format!("{}:{line}:{column}", self.path.display())
    }

    pub(super) fn toml_error(&self, e: &toml::de::Error) -> SceneError {
        let d = toml_diagnostic(self.text, e, "docs/scene-format.md");
        SceneError::Syntax { path: self.path.to_path_buf(), line: d.line, column: d.column, message: d.message }
    }
}
