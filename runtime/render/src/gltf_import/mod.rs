//! glTF 2.0 import (.gltf with embedded or external data, .glb) into a [`Model`].
//!
//! # Robustness
//!
//! The importer is written for untrusted files. The JSON is parsed and validated by the `gltf`
//! crate (its JSON model and validator, as [`gltf::Gltf::from_slice`] does, after a pre-check that
//! avoids a panic in that validator); everything else is done here, by hand, with hard limits:
//!
//! - **Containers**: the GLB header and chunk lengths are checked against the file's real length.
//! - **Buffers**: a buffer is only used when its source (`data:` URI, file, GLB BIN chunk) really
//!   holds `byteLength` bytes. External files must be relative paths inside the model's folder
//!   (after %-decoding; no absolute paths, no `..`, no symbolic links leading out); nothing is ever
//!   fetched over the network.
//! - **Accessors**: every read is bounds-checked (`byteOffset + byteStride * (count - 1) +
//!   elementSize` within the buffer view, the view within its buffer), sparse indices and values
//!   are checked, normalized integers are converted, `byteStride` is honoured.
//! - **Memory**: decoded geometry is charged against a budget of
//!   [`GEOMETRY_BUDGET_BASE`] + [`GEOMETRY_BUDGET_FACTOR`] × input bytes; images are checked
//!   ([`MAX_TEXTURE_DIMENSION`], [`MAX_TEXTURE_PIXELS`], expansion ratio, [`MAX_TOTAL_TEXTURE_BYTES`])
//!   from their headers before pixel memory is allocated.
//! - **Scene graph**: node cycles, nodes with several parents and hierarchies deeper than
//!   [`MAX_NODE_DEPTH`] are cut with a warning.
//!
//! A problem confined to one part (a primitive, a texture, a node) skips that part and adds a line
//! to [`Model::warnings`] naming its JSON path. The import fails with an [`ImportError`] when the
//! file itself is unreadable (container, JSON, validation) or when meshes exist but not one
//! primitive could be built from them.
//!
//! # Coordinate system
//!
//! glTF is +Y up, +Z forward (right-handed, metres). Sangam's model space is +Z up (+X east,
//! +Y north). Every [`MeshInstance::transform`](crate::model::MeshInstance::transform) is the node's global glTF transform pre-multiplied
//! by [`Y_UP_TO_Z_UP`], the +90° rotation about X: `(x, y, z)_glTF -> (x, -z, y)`. Vertex data
//! stays in glTF mesh space (so [`Primitive::bounds`](crate::model::Primitive::bounds) are glTF-space), [`Model::bounds`] is in Sangam
//! space.
//!
//! # What is imported
//!
//! Triangle lists (strips and fans are converted; points and lines are skipped with a warning),
//! positions, normals (flat normals are generated when missing), tangents when given, two UV sets,
//! vertex colours, metallic-roughness materials with `KHR_texture_transform` and
//! `KHR_materials_unlit`, PNG and JPEG textures (as RGBA8) with their samplers, and the node
//! hierarchy of the default scene (or the first scene, or every root node when there is no scene).
//! Skins and morph targets are drawn in their bind pose / base shape and animations are ignored,
//! each with a warning.

mod accessor;
mod build;
mod error;
mod images;
mod lint;
mod source;

use std::path::Path;

use glam::{Mat4, Vec4};

pub use error::ImportError;
pub use images::{
    IMAGE_EXPANSION_ALLOWANCE, MAX_IMAGE_EXPANSION, MAX_TEXTURE_DIMENSION, MAX_TEXTURE_PIXELS, MAX_TOTAL_TEXTURE_BYTES,
};
pub use lint::SUPPORTED_EXTENSIONS;

use crate::model::Model;

/// The +90° rotation about X that turns glTF's +Y-up frame into Sangam's +Z-up frame:
/// `(x, y, z) -> (x, -z, y)`. Exact (no trigonometric rounding).
pub const Y_UP_TO_Z_UP: Mat4 = Mat4::from_cols(
    Vec4::new(1.0, 0.0, 0.0, 0.0),
    Vec4::new(0.0, 0.0, 1.0, 0.0),
    Vec4::new(0.0, -1.0, 0.0, 0.0),
    Vec4::new(0.0, 0.0, 0.0, 1.0),
);

/// Deepest node hierarchy followed; deeper children are skipped with a warning.
pub const MAX_NODE_DEPTH: usize = 64;

/// Decoded geometry (vertex and index arrays) may use this many bytes regardless of input size.
pub const GEOMETRY_BUDGET_BASE: u64 = 64 * 1024 * 1024;
/// ... plus this many bytes per byte of input (the model file and the files it references).
pub const GEOMETRY_BUDGET_FACTOR: u64 = 48;

/// Loads a `.gltf` or `.glb` file. External buffers and images are read relative to the file's
/// folder (and only from inside it).
///
/// # Errors
///
/// [`ImportError`] when the file cannot be read, is not valid glTF 2.0, or contains no usable
/// geometry although it declares meshes. Smaller problems are reported in [`Model::warnings`].
pub fn load_gltf(path: &Path) -> Result<Model, ImportError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        file: file.clone(),
        what: path.to_path_buf(),
        source,
    })?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut model = import(&bytes, Some(base), &file)?;
    model.name = path.file_name().map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned());
    Ok(model)
}

/// Loads a glTF model from memory. `name` is used as [`Model::name`] and in messages;
/// `base_dir` is the folder external file URIs are resolved in (`None` refuses file URIs, so only
/// `data:` URIs and the GLB BIN chunk can supply data).
///
/// # Errors
///
/// As [`load_gltf`].
pub fn load_gltf_from_slice(bytes: &[u8], base_dir: Option<&Path>, name: &str) -> Result<Model, ImportError> {
    let mut model = import(bytes, base_dir, name)?;
    model.name = name.to_string();
    Ok(model)
}

fn import(bytes: &[u8], base_dir: Option<&Path>, file: &str) -> Result<Model, ImportError> {
    let mut warnings = Vec::new();
    let (json, bin) = if source::is_glb(bytes) {
        let glb = source::parse_glb(bytes, &mut warnings)
            .map_err(|message| ImportError::Glb { file: file.to_string(), message })?;
        (glb.json, glb.bin)
    } else {
        (bytes, None)
    };
    let json = match json.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            warnings.push("JSON starts with a UTF-8 byte order mark; ignored".to_string());
            rest
        }
        None => json,
    };
    if json.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Json { file: file.to_string(), message: "the JSON is empty".into() });
    }
    if source::is_glb(json) {
        return Err(ImportError::Glb { file: file.to_string(), message: "the JSON chunk holds another GLB".into() });
    }
    // Parse, then validate with the `gltf` crate (the equivalent of `gltf::Gltf::from_slice` on
    // the JSON). gltf-json 1.4.1's validator indexes `accessors[POSITION]` without a bounds check
    // and panics on a dangling index, so those references are checked first.
    let json_error = |message: String| ImportError::Json { file: file.to_string(), message };
    let root = match gltf::json::deserialize::from_slice::<gltf::json::Root>(json) {
        Ok(root) => root,
        Err(first) => parse_without_animations(json, &mut warnings).ok_or_else(|| json_error(first.to_string()))?,
    };
    check_position_indices(&root).map_err(json_error)?;
    validate(&root).map_err(json_error)?;

    let sandbox = source::Sandbox { base_dir };
    let mut disk_bytes = 0u64;
    let buffers = source::load_buffers(&root, bin, sandbox, &mut disk_bytes);
    for (i, b) in buffers.iter().enumerate() {
        if let Err(e) = b {
            warnings.push(format!("buffers[{i}]: {e}"));
        }
    }
    let input_bytes = u64::try_from(bytes.len()).unwrap_or(u64::MAX).saturating_add(disk_bytes);
    let geometry_budget = GEOMETRY_BUDGET_BASE.saturating_add(input_bytes.saturating_mul(GEOMETRY_BUDGET_FACTOR));

    let builder = build::Builder {
        file,
        root: &root,
        json,
        reader: accessor::Reader { root: &root, buffers: &buffers },
        sandbox,
        warnings,
        geometry: accessor::Budget { left: geometry_budget, total: geometry_budget },
        textures: accessor::Budget { left: MAX_TOTAL_TEXTURE_BYTES, total: MAX_TOTAL_TEXTURE_BYTES },
        image_cache: Vec::new(),
        texture_map: Vec::new(),
        raw_json: None,
        model: Model::default(),
        first_error: None,
        used_accessors: Vec::new(),
    };
    builder.build()
}

/// Refuses `POSITION` attributes that name a missing accessor (see [`import`]).
fn check_position_indices(root: &gltf::json::Root) -> Result<(), String> {
    let position = gltf::json::validation::Checked::Valid(gltf::json::mesh::Semantic::Positions);
    for (m, mesh) in root.meshes.iter().enumerate() {
        for (p, prim) in mesh.primitives.iter().enumerate() {
            if let Some(index) = prim.attributes.get(&position)
                && root.accessors.get(index.value()).is_none()
            {
                return Err(format!(
                    "meshes[{m}].primitives[{p}].attributes.POSITION: accessor {} does not exist ({} accessors)",
                    index.value(),
                    root.accessors.len()
                ));
            }
        }
    }
    Ok(())
}

/// Animations are ignored, so a document whose only problem is in `animations` (for instance a
/// pre-release channel target without `node`, or `KHR_animation_pointer`) is parsed without them.
fn parse_without_animations(json: &[u8], warnings: &mut Vec<String>) -> Option<gltf::json::Root> {
    let mut value: serde_json::Value = serde_json::from_slice(json).ok()?;
    let animations = value.as_object_mut()?.remove("animations")?;
    let root = serde_json::from_value(value).ok()?;
    let n = animations.as_array().map_or(0, Vec::len);
    warnings.push(format!("animations: {n} animation(s) not understood (pre-release or extension syntax); ignored"));
    Some(root)
}

/// The `gltf` crate's validation, minus checks stricter than the glTF 2.0 specification and the
/// Khronos validator: an accessor may omit `bufferView` (its elements are zeros, possibly
/// sparse-substituted), a texture may omit `source` (an extension can supply it), and an unknown
/// accessor `type` only matters when the accessor is read (which then fails with a located
/// message). The importer handles all three.
fn validate(root: &gltf::json::Root) -> Result<(), String> {
    use gltf::json::validation::{Error, Validate as _};
    let mut errors = Vec::new();
    root.validate(root, gltf::json::Path::new, &mut |path, error| {
        let path = path().to_string();
        let accessor = path.starts_with("accessors[");
        let spec_allows = (matches!(error, Error::Missing)
            && ((accessor && path.ends_with("].bufferView"))
                || (path.starts_with("textures[") && path.ends_with("].source"))))
            || (matches!(error, Error::Invalid) && accessor && path.ends_with("].type"));
        if !spec_allows {
            errors.push((path, error));
        }
    });
    if errors.is_empty() {
        return Ok(());
    }
    let mut parts: Vec<String> = errors.iter().take(5).map(|(path, err)| format!("{path}: {err}")).collect();
    if errors.len() > 5 {
        parts.push(format!("and {} more", errors.len() - 5));
    }
    let hint = if errors.iter().any(|(_, e)| matches!(e, Error::Unsupported)) {
        " (a required extension is not supported by Sangam)"
    } else {
        ""
    };
    Err(format!("{}{hint}", parts.join("; ")))
}

#[cfg(test)]
mod tests;
