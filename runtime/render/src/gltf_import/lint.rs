//! Cheap checks of parts the importer does not otherwise use, so that a file with problems there
//! still gets a warning naming them (and users learn what Sangam ignores).

use glam::{Mat4, Quat};
use gltf::json::accessor::{ComponentType, Type};
use gltf::json::validation::Checked;

use super::build::Builder;

/// Extensions whose data the importer uses.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["KHR_texture_transform", "KHR_materials_unlit"];

const TOP_LEVEL_ARRAYS: &[&str] = &[
    "accessors",
    "animations",
    "buffers",
    "bufferViews",
    "cameras",
    "images",
    "materials",
    "meshes",
    "nodes",
    "samplers",
    "scenes",
    "skins",
    "textures",
    "extensionsUsed",
    "extensionsRequired",
];

impl<'r, 'a: 'r> Builder<'r, 'a> {
    /// Warnings about the document as a whole; run before building.
    pub(crate) fn lint_document(&mut self) {
        let root = self.root;
        for ext in &root.extensions_used {
            if !SUPPORTED_EXTENSIONS.contains(&ext.as_str()) {
                self.warnings.push(format!("extensionsUsed: {ext} is not supported; its data is ignored"));
            }
        }
        if !root.cameras.is_empty() {
            self.warnings
                .push(format!("cameras: {} camera(s) ignored (Sangam places its own views)", root.cameras.len()));
        }
        for (i, v) in root.buffer_views.iter().enumerate() {
            if v.byte_stride.is_some()
                && v.target == Some(Checked::Valid(gltf::json::buffer::Target::ElementArrayBuffer))
            {
                self.warnings.push(format!(
                    "bufferViews[{i}].byteStride: not allowed on an index buffer view; ignored for indices"
                ));
            }
        }
        for (i, node) in root.nodes.iter().enumerate() {
            if node.children.as_ref().is_some_and(Vec::is_empty) {
                self.warnings.push(format!("nodes[{i}].children: empty array (omit the property instead)"));
            }
            if let Some(m) = node.matrix {
                if node.translation.is_some() || node.rotation.is_some() || node.scale.is_some() {
                    self.warnings.push(format!("nodes[{i}]: both matrix and TRS are given; the matrix is used"));
                }
                let mat = Mat4::from_cols_array(&m);
                let last_row = mat.row(3);
                if last_row != glam::Vec4::W || mat.determinant() == 0.0 || !mat.is_finite() {
                    self.warnings.push(format!(
                        "nodes[{i}].matrix: not decomposable into translation, rotation and scale; used as given"
                    ));
                }
            }
            if let Some(q) = node.rotation {
                let len = Quat::from_array(q.0).length();
                if (len - 1.0).abs() > 1e-3 || !len.is_finite() {
                    self.warnings
                        .push(format!("nodes[{i}].rotation: not a unit quaternion (length {len}); normalized"));
                }
            }
        }
        if !root.skins.is_empty() {
            self.warnings.push(format!(
                "skins: {} skin(s) ignored; skinned meshes are drawn in their bind pose",
                root.skins.len()
            ));
        }
        for (i, skin) in root.skins.iter().enumerate() {
            if skin.joints.is_empty() {
                self.warnings.push(format!("skins[{i}].joints: empty array"));
            }
            if let Some(ibm) = skin.inverse_bind_matrices {
                let ok = root.accessors.get(ibm.value()).is_some_and(|a| {
                    a.type_ == Checked::Valid(Type::Mat4)
                        && matches!(a.component_type, Checked::Valid(c) if c.0 == ComponentType::F32)
                        && a.count.0 >= skin.joints.len() as u64
                });
                if !ok {
                    self.warnings.push(format!(
                        "skins[{i}].inverseBindMatrices: accessor {} is not a float MAT4 with one matrix per joint",
                        ibm.value()
                    ));
                }
            }
        }
        if let Some(min) = root.asset.min_version.as_deref() {
            let parse = |v: &str| -> Option<(u32, u32)> {
                let (a, b) = v.split_once('.')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            };
            match (parse(min), parse(&root.asset.version)) {
                (Some(m), Some(v)) if m <= v => {}
                _ => self.warnings.push(format!(
                    "asset.minVersion: {min:?} is not a version at most asset.version {:?}",
                    root.asset.version
                )),
            }
        }
        for (i, b) in root.buffers.iter().enumerate() {
            let Some(header) = b.uri.as_deref().and_then(|u| u.strip_prefix("data:")).and_then(|u| u.split_once(','))
            else {
                continue;
            };
            let media = header.0.strip_suffix(";base64").unwrap_or(header.0);
            if media != "application/octet-stream" && media != "application/gltf-buffer" {
                self.warnings.push(format!(
                    "buffers[{i}].uri: data URI media type {media:?} should be application/octet-stream or \
                     application/gltf-buffer"
                ));
            }
        }
        for (i, a) in root.accessors.iter().enumerate() {
            if a.buffer_view.is_none() && a.byte_offset.is_some() {
                self.warnings.push(format!("accessors[{i}].byteOffset: given without a bufferView; ignored"));
            }
            let float_or_u32 =
                matches!(a.component_type, Checked::Valid(c) if matches!(c.0, ComponentType::F32 | ComponentType::U32));
            if a.normalized && float_or_u32 {
                self.warnings
                    .push(format!("accessors[{i}].normalized: only allowed for 8- and 16-bit integers; ignored"));
            }
        }
        for (i, v) in root.buffer_views.iter().enumerate() {
            if let Some(s) = v.byte_stride
                && (s.0 % 4 != 0 || !(4..=252).contains(&s.0))
            {
                self.warnings.push(format!(
                    "bufferViews[{i}].byteStride: {} is not a multiple of 4 between 4 and 252; honoured anyway",
                    s.0
                ));
            }
            if let Some(s) = v.byte_stride
                && s.0 as u64 > v.byte_length.0
            {
                self.warnings.push(format!(
                    "bufferViews[{i}].byteStride: {} is larger than its byteLength {}",
                    s.0, v.byte_length.0
                ));
            }
        }
        if let Some(scene) = root.scene.map(|s| s.value()).or(Some(0)).and_then(|s| root.scenes.get(s)) {
            let mut is_child = vec![false; root.nodes.len()];
            for c in root.nodes.iter().flat_map(|n| n.children.iter().flatten()) {
                if let Some(x) = is_child.get_mut(c.value()) {
                    *x = true;
                }
            }
            for n in &scene.nodes {
                if is_child.get(n.value()).copied().unwrap_or(false) {
                    self.warnings
                        .push(format!("scenes: node {} is listed as a root but is a child of another node", n.value()));
                }
            }
        }
        // Empty top-level arrays cannot be seen in the parsed document; look at the raw JSON.
        // Cheap pre-filter: without any `[ ]` in the text there is no empty array to find.
        let maybe_empty = self.json.windows(2).enumerate().any(|(i, w)| {
            w.first() == Some(&b'[')
                && self
                    .json
                    .get(i + 1..)
                    .is_some_and(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b']'))
        });
        let value = if maybe_empty { self.raw_value() } else { None };
        let empty: Vec<&str> = match value {
            Some(v) => TOP_LEVEL_ARRAYS
                .iter()
                .copied()
                .filter(|k| v.get(*k).and_then(|a| a.as_array()).is_some_and(Vec::is_empty))
                .collect(),
            None => Vec::new(),
        };
        for k in empty {
            self.warnings.push(format!("{k}: empty array (omit the property instead)"));
        }
    }

    /// Warnings for images no material uses (they are not decoded, only their headers read).
    pub(crate) fn lint_unused_images(&mut self) {
        for i in 0..self.root.images.len() {
            if self.image_cache.get(i).is_some_and(Option::is_some) {
                continue;
            }
            if let Err(e) = self.probe(i) {
                self.warnings.push(format!("images[{i}] (not used by any material): {e}"));
            }
        }
    }
}

impl<'r, 'a: 'r> Builder<'r, 'a> {
    /// Checks declared `min`/`max` of accessors no primitive used (used POSITION bounds are checked
    /// while building).
    pub(crate) fn lint_unused_accessors(&mut self) {
        for i in 0..self.root.accessors.len() {
            if self.used_accessors.get(i).copied().unwrap_or(true) {
                continue;
            }
            let Some(acc) = self.root.accessors.get(i) else { continue };
            let (Some(min), Some(max)) = (acc.min.as_ref(), acc.max.as_ref()) else { continue };
            if acc.normalized {
                continue;
            }
            let data = match self.reader.layout(i, &[1, 2, 3, 4]).map(|l| l.dims) {
                Ok(1) => self.reader.read_vecs::<1>(i, &mut self.geometry).map(|v| flatten(&v)),
                Ok(2) => self.reader.read_vecs::<2>(i, &mut self.geometry).map(|v| flatten(&v)),
                Ok(3) => self.reader.read_vecs::<3>(i, &mut self.geometry).map(|v| flatten(&v)),
                Ok(4) => self.reader.read_vecs::<4>(i, &mut self.geometry).map(|v| flatten(&v)),
                _ => continue,
            };
            let dims = self.reader.layout(i, &[1, 2, 3, 4]).map_or(1, |l| l.dims);
            let data = match data {
                Ok(d) => d,
                Err(e) => {
                    self.warnings.push(format!("accessors[{i}] (not used by any primitive): {e}"));
                    continue;
                }
            };
            let declared = |v: &serde_json::Value| -> Option<Vec<f64>> {
                v.as_array()?.iter().map(serde_json::Value::as_f64).collect()
            };
            let (Some(min), Some(max)) = (declared(min), declared(max)) else { continue };
            for k in 0..dims {
                let values = data.iter().skip(k).step_by(dims).map(|&v| f64::from(v));
                let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                let (Some(&dmin), Some(&dmax)) = (min.get(k), max.get(k)) else { continue };
                let tol = |x: f64| 1e-5 * x.abs().max(1.0);
                if (lo - dmin).abs() > tol(dmin) || (hi - dmax).abs() > tol(dmax) {
                    self.warnings.push(format!(
                        "accessors[{i}]: component {k} spans {lo}..{hi} but min/max declare {dmin}..{dmax}"
                    ));
                    break;
                }
            }
        }
    }
}

fn flatten<const N: usize>(v: &[[f32; N]]) -> Vec<f32> {
    v.iter().flat_map(|a| a.iter().copied()).collect()
}
