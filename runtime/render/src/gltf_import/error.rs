//! The importer's error type.

use std::path::PathBuf;

/// Why a glTF file could not be imported.
///
/// Every variant names the file (`file`: the path given to [`super::load_gltf`], or the `name`
/// given to [`super::load_gltf_from_slice`]). Variants that concern one element also name its JSON
/// location (`meshes[2].primitives[0].attributes.POSITION`, `buffers[1]`, ...). Problems that only
/// spoil part of a model are not errors: the part is skipped and a line is added to
/// [`crate::model::Model::warnings`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file (or a file it references, when that is fatal) could not be read.
    #[error("{file}: cannot read {what}: {source} (check that the file exists and is readable)")]
    Io {
        /// The model file.
        file: String,
        /// What was being read (the model itself or a referenced path).
        what: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The binary glTF (.glb) container is malformed: bad magic, version, lengths or chunks.
    #[error("{file}: not a valid binary glTF (.glb) file: {message}")]
    Glb {
        /// The model file.
        file: String,
        /// What is wrong, with byte offsets.
        message: String,
    },
    /// The JSON is not glTF 2.0: a syntax error, a missing required property, an index that points
    /// nowhere, or an unsupported required extension.
    #[error("{file}: invalid glTF JSON: {message}")]
    Json {
        /// The model file.
        file: String,
        /// The parser's or validator's message, with the JSON path or line and column.
        message: String,
    },
    /// The glTF JSON is well-formed but its data cannot be used: every mesh primitive had to be
    /// skipped because its buffers, accessors or indices are broken.
    #[error("{file}: {location}: {message}")]
    Invalid {
        /// The model file.
        file: String,
        /// JSON path of the first broken element.
        location: String,
        /// What is wrong and, where it helps, what to do.
        message: String,
    },
}

impl ImportError {
    /// The model file the error is about.
    pub fn file(&self) -> &str {
        match self {
            ImportError::Io { file, .. }
            | ImportError::Glb { file, .. }
            | ImportError::Json { file, .. }
            | ImportError::Invalid { file, .. } => file,
        }
    }
}

/// A located, non-fatal problem: becomes a warning, or an [`ImportError::Invalid`] when nothing
/// drawable is left.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    /// JSON path of the element.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { location: location.into(), message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
