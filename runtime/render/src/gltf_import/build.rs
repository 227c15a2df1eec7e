//! Building the [`Model`]: materials, textures, primitives and the flattened node hierarchy.

use glam::{Mat4, Quat, Vec3};
use gltf::json::mesh::{Mode, Semantic};
use gltf::json::texture::{MagFilter, MinFilter, WrappingMode};
use gltf::json::validation::Checked;

use super::accessor::{Budget, Reader};
use super::error::{ImportError, Problem};
use super::images::{decode_image, probe_image};
use super::source::{Sandbox, fetch_uri};
use super::{MAX_NODE_DEPTH, Y_UP_TO_Z_UP};
use crate::model::{
    Aabb, AlphaMode, Material, Mesh, MeshInstance, Model, Primitive, Sampler, Texture, TextureRef, TextureTransform,
    Wrap,
};

/// Builds one model; consumed by [`Builder::build`].
pub(crate) struct Builder<'r, 'a> {
    pub file: &'r str,
    pub root: &'r gltf::json::Root,
    /// The JSON text, for extension data the `gltf` crate does not expose.
    pub json: &'r [u8],
    pub reader: Reader<'r, 'a>,
    pub sandbox: Sandbox<'r>,
    pub warnings: Vec<String>,
    pub geometry: Budget,
    pub textures: Budget,
    /// Per glTF image: `None` not tried yet, else the model texture holding its pixels or why not.
    pub image_cache: Vec<Option<Result<usize, String>>>,
    /// Per glTF texture: `None` not tried yet, else the model texture index (or `None` if unusable).
    pub texture_map: Vec<Option<Option<usize>>>,
    /// The JSON as a value, parsed on first need.
    pub raw_json: Option<Option<serde_json::Value>>,
    pub model: Model,
    pub first_error: Option<Problem>,
    /// Accessors read while building primitives.
    pub used_accessors: Vec<bool>,
}

/// Per-texture-reference `KHR_texture_transform` (transform and optional texCoord override).
type RefTransform = (TextureTransform, Option<u32>);

impl<'r, 'a: 'r> Builder<'r, 'a> {
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Builds the whole model.
    pub(crate) fn build(mut self) -> Result<Model, ImportError> {
        let root = self.root;
        if !root.animations.is_empty() {
            self.warn(format!(
                "animations: {} animation(s) ignored; the model is shown in its rest pose",
                root.animations.len()
            ));
        }
        self.lint_document();
        self.used_accessors = vec![false; root.accessors.len()];
        for (i, m) in root.materials.iter().enumerate() {
            let material = self.material(i, m);
            self.model.materials.push(material);
        }
        let mut declared = 0usize;
        let mut built = 0usize;
        for (mi, mesh) in root.meshes.iter().enumerate() {
            let mut out = Mesh { name: mesh.name.clone(), primitives: Vec::new() };
            for (pi, prim) in mesh.primitives.iter().enumerate() {
                declared += 1;
                let loc = format!("meshes[{mi}].primitives[{pi}]");
                match self.primitive(&loc, prim) {
                    Ok(Some(p)) => {
                        built += 1;
                        out.primitives.push(p);
                    }
                    Ok(None) => {}
                    Err(problem) => {
                        self.warn(format!("{problem}; primitive skipped"));
                        if self.first_error.is_none() {
                            self.first_error = Some(problem);
                        }
                    }
                }
            }
            self.model.meshes.push(out);
        }
        if built == 0
            && declared > 0
            && let Some(problem) = self.first_error.take()
        {
            return Err(ImportError::Invalid {
                file: self.file.to_string(),
                location: problem.location,
                message: format!(
                    "{} (no mesh primitive could be built: all {declared} were skipped; the file is broken, \
                     re-export it)",
                    problem.message
                ),
            });
        }
        self.instances();
        if self.image_cache.is_empty() {
            self.image_cache = vec![None; root.images.len()];
        }
        self.lint_unused_images();
        self.lint_unused_accessors();
        self.model.compute_bounds();
        self.model.warnings = self.warnings;
        Ok(self.model)
    }

    // ----------------------------------------------------------------------------------------
    // Materials and textures

    fn material(&mut self, i: usize, m: &gltf::json::Material) -> Material {
        let loc = format!("materials[{i}]");
        let pbr = &m.pbr_metallic_roughness;
        let base_color_texture = pbr
            .base_color_texture
            .as_ref()
            .and_then(|info| self.info_ref(&format!("{loc}.pbrMetallicRoughness.baseColorTexture"), info));
        let metallic_roughness_texture = pbr
            .metallic_roughness_texture
            .as_ref()
            .and_then(|info| self.info_ref(&format!("{loc}.pbrMetallicRoughness.metallicRoughnessTexture"), info));
        let normal_texture = m.normal_texture.as_ref().and_then(|t| {
            let tt = self.raw_transform(i, "normalTexture");
            self.texture_ref(&format!("{loc}.normalTexture"), t.index.value(), t.tex_coord, tt)
        });
        let occlusion_texture = m.occlusion_texture.as_ref().and_then(|t| {
            let tt = self.raw_transform(i, "occlusionTexture");
            self.texture_ref(&format!("{loc}.occlusionTexture"), t.index.value(), t.tex_coord, tt)
        });
        let emissive_texture =
            m.emissive_texture.as_ref().and_then(|info| self.info_ref(&format!("{loc}.emissiveTexture"), info));
        let alpha_mode = match m.alpha_mode {
            Checked::Valid(gltf::json::material::AlphaMode::Opaque) => AlphaMode::Opaque,
            Checked::Valid(gltf::json::material::AlphaMode::Mask) => {
                AlphaMode::Mask { cutoff: m.alpha_cutoff.map_or(0.5, |c| c.0) }
            }
            Checked::Valid(gltf::json::material::AlphaMode::Blend) => AlphaMode::Blend,
            Checked::Invalid => {
                self.warn(format!("{loc}.alphaMode: unknown value; OPAQUE used"));
                AlphaMode::Opaque
            }
        };
        Material {
            name: m.name.clone(),
            base_color_factor: pbr.base_color_factor.0,
            base_color_texture,
            metallic_factor: pbr.metallic_factor.0,
            roughness_factor: pbr.roughness_factor.0,
            metallic_roughness_texture,
            normal_texture,
            normal_scale: m.normal_texture.as_ref().map_or(1.0, |t| t.scale),
            occlusion_texture,
            occlusion_strength: m.occlusion_texture.as_ref().map_or(1.0, |t| t.strength.0),
            emissive_factor: m.emissive_factor.0,
            emissive_texture,
            alpha_mode,
            double_sided: m.double_sided,
            unlit: m.extensions.as_ref().is_some_and(|e| e.unlit.is_some()),
        }
    }

    fn info_ref(&mut self, loc: &str, info: &gltf::json::texture::Info) -> Option<TextureRef> {
        let tt =
            info.extensions.as_ref().and_then(|e| e.texture_transform.as_ref()).map(|t| {
                (TextureTransform { offset: t.offset.0, rotation: t.rotation.0, scale: t.scale.0 }, t.tex_coord)
            });
        self.texture_ref(loc, info.index.value(), info.tex_coord, tt)
    }

    /// `KHR_texture_transform` of a normal or occlusion texture, which the `gltf` crate does not
    /// expose: read from the raw JSON (parsed once, only when the extension is used).
    fn raw_transform(&mut self, material: usize, slot: &str) -> Option<RefTransform> {
        if !self.root.extensions_used.iter().any(|e| e == "KHR_texture_transform") {
            return None;
        }
        let value = self.raw_value()?;
        let ext = value.get("materials")?.get(material)?.get(slot)?.get("extensions")?.get("KHR_texture_transform")?;
        let pair = |key: &str, default: [f32; 2]| -> [f32; 2] {
            match ext.get(key).and_then(|v| v.as_array()).map(|a| a.as_slice()) {
                Some([x, y]) => {
                    [x.as_f64().map_or(default[0], |v| v as f32), y.as_f64().map_or(default[1], |v| v as f32)]
                }
                _ => default,
            }
        };
        let rotation = ext.get("rotation").and_then(|v| v.as_f64()).map_or(0.0, |v| v as f32);
        let tex_coord = ext.get("texCoord").and_then(|v| v.as_u64()).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        Some((
            TextureTransform { offset: pair("offset", [0.0, 0.0]), rotation, scale: pair("scale", [1.0, 1.0]) },
            tex_coord,
        ))
    }

    fn texture_ref(
        &mut self,
        loc: &str,
        texture: usize,
        tex_coord: u32,
        transform: Option<RefTransform>,
    ) -> Option<TextureRef> {
        let index = self.texture(loc, texture)?;
        let (mut transform, tc_override) = transform.unwrap_or_default();
        let finite = transform.offset.iter().chain(transform.scale.iter()).all(|v| v.is_finite())
            && transform.rotation.is_finite();
        if !finite {
            self.warn(format!("{loc}.extensions.KHR_texture_transform: non-finite values; identity used"));
            transform = TextureTransform::default();
        }
        let mut tex_coord = tc_override.unwrap_or(tex_coord);
        if tex_coord > 1 {
            self.warn(format!(
                "{loc}: texCoord {tex_coord} is not supported (only TEXCOORD_0 and _1); TEXCOORD_0 used"
            ));
            tex_coord = 0;
        }
        Some(TextureRef { texture: index, tex_coord, transform })
    }

    /// The model texture for glTF texture `index`, decoding its image on first use.
    fn texture(&mut self, loc: &str, index: usize) -> Option<usize> {
        if self.texture_map.is_empty() {
            self.texture_map = vec![None; self.root.textures.len()];
            self.image_cache = vec![None; self.root.images.len()];
        }
        if let Some(Some(done)) = self.texture_map.get(index) {
            return *done;
        }
        let result = self.make_texture(index);
        let out = match result {
            Ok(i) => Some(i),
            Err(e) => {
                self.warn(format!("{loc}: textures[{index}]: {e}; the material is used without this texture"));
                None
            }
        };
        if let Some(slot) = self.texture_map.get_mut(index) {
            *slot = Some(out);
        }
        out
    }

    fn make_texture(&mut self, index: usize) -> Result<usize, String> {
        let Some(t) = self.root.textures.get(index) else {
            return Err("does not exist".into());
        };
        let image = t.source.value();
        if self.root.images.get(image).is_none() {
            return Err(format!(
                "has no usable source image (source {}; extension sources such as EXT_texture_webp are not supported)",
                if image == u32::MAX as usize { "missing".to_string() } else { image.to_string() }
            ));
        }
        let sampler = match t.sampler {
            Some(s) => match self.root.samplers.get(s.value()) {
                Some(s) => map_sampler(s),
                None => return Err(format!("sampler {} does not exist", s.value())),
            },
            None => Sampler { mipmaps: true, ..Sampler::default() },
        };
        let name = t.name.clone().or_else(|| {
            self.root
                .images
                .get(image)
                .and_then(|i| i.name.clone().or_else(|| i.uri.clone().filter(|u| !u.starts_with("data:"))))
        });
        match self.image_cache.get(image).cloned().flatten() {
            Some(Ok(first)) => {
                // Same image, another sampler: copy the pixels (charged to the texture budget).
                let (width, height, rgba8) = match self.model.textures.get(first) {
                    Some(t) => (t.width, t.height, t.rgba8.len()),
                    None => return Err("internal: cached image missing".into()),
                };
                self.textures.charge(rgba8 as u64, "decoded textures")?;
                let pixels = self.model.textures.get(first).map(|t| t.rgba8.clone()).unwrap_or_default();
                self.model.textures.push(Texture { name, width, height, rgba8: pixels, sampler });
                Ok(self.model.textures.len() - 1)
            }
            Some(Err(e)) => Err(e),
            None => {
                let decoded = self.decode(image).map_err(|e| format!("images[{image}]: {e}"));
                let result = decoded.map(|d| {
                    self.model.textures.push(Texture {
                        name,
                        width: d.width,
                        height: d.height,
                        rgba8: d.rgba8,
                        sampler,
                    });
                    self.model.textures.len() - 1
                });
                if let Some(slot) = self.image_cache.get_mut(image) {
                    *slot = Some(result.clone());
                }
                result
            }
        }
    }

    /// The JSON as a value (parsed once, on first need).
    pub(crate) fn raw_value(&mut self) -> Option<&serde_json::Value> {
        let json = self.json;
        self.raw_json.get_or_insert_with(|| serde_json::from_slice(json).ok()).as_ref()
    }

    /// Reads image `image`'s header only.
    pub(crate) fn probe(&mut self, image: usize) -> Result<(u32, u32), String> {
        let Some(img) = self.root.images.get(image) else {
            return Err("does not exist".into());
        };
        let mime = img.mime_type.as_ref().map(|m| m.0.as_str());
        match (img.buffer_view, img.uri.as_deref()) {
            (Some(view), _) => {
                let bytes = self.reader.view_bytes(view.value())?.0;
                self.check_mime(image, mime, bytes);
                probe_image(bytes, mime)
            }
            (None, Some(uri)) => {
                let fetched = fetch_uri(uri, self.sandbox, None)?;
                self.check_mime(image, mime.or(fetched.mime.as_deref()), &fetched.bytes);
                probe_image(&fetched.bytes, mime.or(fetched.mime.as_deref()))
            }
            (None, None) => Err("has neither a uri nor a bufferView".into()),
        }
    }

    /// Warns when an image's declared MIME type is not one glTF allows or does not match its data.
    fn check_mime(&mut self, image: usize, declared: Option<&str>, bytes: &[u8]) {
        let Some(declared) = declared else { return };
        let detected = match image::guess_format(bytes) {
            Ok(image::ImageFormat::Png) => Some("image/png"),
            Ok(image::ImageFormat::Jpeg) => Some("image/jpeg"),
            Ok(image::ImageFormat::WebP) => Some("image/webp"),
            _ => None,
        };
        if !matches!(declared, "image/png" | "image/jpeg" | "image/webp" | "image/ktx2") {
            self.warn(format!("images[{image}]: MIME type {declared:?} is not an allowed glTF image type"));
        } else if detected.is_some_and(|d| d != declared) {
            self.warn(format!(
                "images[{image}]: declared {declared:?} but the data is {}",
                detected.unwrap_or_default()
            ));
        }
    }

    fn decode(&mut self, image: usize) -> Result<super::images::Decoded, String> {
        let Some(img) = self.root.images.get(image) else {
            return Err("does not exist".into());
        };
        let mime = img.mime_type.as_ref().map(|m| m.0.as_str());
        match (img.buffer_view, img.uri.as_deref()) {
            (Some(view), _) => {
                let (bytes, _) = self.reader.view_bytes(view.value())?;
                self.check_mime(image, mime, bytes);
                decode_image(bytes, mime, &mut self.textures)
            }
            (None, Some(uri)) => {
                let fetched = fetch_uri(uri, self.sandbox, None)?;
                let mime = mime.or(fetched.mime.as_deref());
                self.check_mime(image, mime, &fetched.bytes);
                decode_image(&fetched.bytes, mime, &mut self.textures)
            }
            (None, None) => Err("has neither a uri nor a bufferView".into()),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Primitives

    fn attribute(&self, prim: &gltf::json::mesh::Primitive, semantic: Semantic) -> Option<usize> {
        prim.attributes.get(&Checked::Valid(semantic)).map(|i| i.value())
    }

    /// Reads an optional attribute; problems drop the attribute with a warning.
    fn optional<const N: usize>(
        &mut self,
        loc: &str,
        name: &str,
        accessor: Option<usize>,
        n: usize,
    ) -> Option<Vec<[f32; N]>> {
        let index = accessor?;
        match self.reader.read_vecs::<N>(index, &mut self.geometry) {
            Ok(v) if v.len() == n => Some(v),
            Ok(v) => {
                self.warn(format!(
                    "{loc}.attributes.{name}: accessor {index} has {} elements but POSITION has {n}; attribute ignored",
                    v.len()
                ));
                None
            }
            Err(e) => {
                self.warn(format!("{loc}.attributes.{name}: {e}; attribute ignored"));
                None
            }
        }
    }

    fn primitive(&mut self, loc: &str, prim: &gltf::json::mesh::Primitive) -> Result<Option<Primitive>, Problem> {
        let mode = match prim.mode {
            Checked::Valid(m) => m,
            Checked::Invalid => return Err(Problem::new(format!("{loc}.mode"), "unknown primitive mode")),
        };
        match mode {
            Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan => {}
            other => {
                self.warn(format!("{loc}: mode {other:?} is not drawn (only triangles are); primitive skipped"));
                return Ok(None);
            }
        }
        for index in prim.attributes.values().map(|i| i.value()).chain(prim.indices.map(|i| i.value())) {
            if let Some(u) = self.used_accessors.get_mut(index) {
                *u = true;
            }
        }
        let Some(pos_index) = self.attribute(prim, Semantic::Positions) else {
            return Err(Problem::new(format!("{loc}.attributes"), "has no POSITION attribute"));
        };
        let positions = self
            .reader
            .read_vecs::<3>(pos_index, &mut self.geometry)
            .map_err(|m| Problem::new(format!("{loc}.attributes.POSITION"), m))?;
        let n = positions.len();
        if n == 0 {
            self.warn(format!("{loc}: POSITION has no vertices; primitive skipped"));
            return Ok(None);
        }
        let Ok(n_u32) = u32::try_from(n) else {
            return Err(Problem::new(format!("{loc}.attributes.POSITION"), format!("{n} vertices is too many")));
        };

        // Indices first: a broken index buffer skips the primitive before more is decoded.
        let mut indices = match prim.indices {
            Some(i) => self
                .reader
                .read_indices(i.value(), &mut self.geometry)
                .map_err(|m| Problem::new(format!("{loc}.indices"), m))?,
            None => {
                self.geometry
                    .charge(u64::from(n_u32) * 4, &format!("{loc} indices"))
                    .map_err(|m| Problem::new(loc, m))?;
                (0..n_u32).collect()
            }
        };
        if let Some((k, bad)) = indices.iter().enumerate().find(|&(_, &i)| i >= n_u32) {
            return Err(Problem::new(
                format!("{loc}.indices"),
                format!(
                    "index {bad} (element {k} of accessor {}) is not below the vertex count {n}",
                    prim.indices.map_or(0, |i| i.value())
                ),
            ));
        }
        match mode {
            Mode::TriangleStrip => indices = strip_to_list(&indices),
            Mode::TriangleFan => indices = fan_to_list(&indices),
            _ => {
                let rem = indices.len() % 3;
                if rem != 0 {
                    self.warn(format!(
                        "{loc}: {} indices is not a multiple of 3; the last {rem} ignored",
                        indices.len()
                    ));
                    indices.truncate(indices.len() - rem);
                }
            }
        }
        if indices.is_empty() {
            self.warn(format!("{loc}: no complete triangle; primitive skipped"));
            return Ok(None);
        }

        let normals = self.optional::<3>(loc, "NORMAL", self.attribute(prim, Semantic::Normals), n);
        let tangents = self.optional::<4>(loc, "TANGENT", self.attribute(prim, Semantic::Tangents), n);
        let uv0 = self.optional::<2>(loc, "TEXCOORD_0", self.attribute(prim, Semantic::TexCoords(0)), n);
        let uv1 = self.optional::<2>(loc, "TEXCOORD_1", self.attribute(prim, Semantic::TexCoords(1)), n);
        let colors = match self.attribute(prim, Semantic::Colors(0)) {
            Some(ci) => match self.reader.layout(ci, &[3, 4]) {
                Ok(l) if l.dims == 3 => self
                    .optional::<3>(loc, "COLOR_0", Some(ci), n)
                    .map(|c| c.into_iter().map(|[r, g, b]| [r, g, b, 1.0]).collect()),
                Ok(_) => self.optional::<4>(loc, "COLOR_0", Some(ci), n),
                Err(e) => {
                    self.warn(format!("{loc}.attributes.COLOR_0: {e}; attribute ignored"));
                    None
                }
            },
            None => None,
        };
        if let Some(targets) = prim.targets.as_ref().filter(|t| !t.is_empty()) {
            self.warn(format!("{loc}: {} morph target(s) ignored; the base mesh is drawn", targets.len()));
        }
        let material = match prim.material.map(|m| m.value()) {
            Some(m) if m < self.model.materials.len() => Some(m),
            Some(m) => {
                self.warn(format!("{loc}.material: material {m} does not exist; default material used"));
                None
            }
            None => None,
        };
        let mut p = Primitive {
            uv0: uv0.unwrap_or_default(),
            positions,
            normals: normals.unwrap_or_default(),
            tangents,
            uv1,
            colors,
            indices,
            material,
            bounds: Aabb::EMPTY,
        };
        if p.uv0.is_empty() {
            p.uv0 = vec![[0.0, 0.0]; n];
        }
        if p.normals.is_empty() {
            flat_normals(&mut p, &mut self.geometry).map_err(|m| Problem::new(loc, m))?;
        } else {
            for v in &mut p.normals {
                let l = Vec3::from(*v).length();
                if l > 0.0 && l.is_finite() {
                    *v = (Vec3::from(*v) / l).into();
                }
            }
        }
        p.bounds = Aabb::from_points(p.positions.iter().map(|&v| Vec3::from(v)).filter(|v| v.is_finite()));
        Ok(Some(p))
    }

    // ----------------------------------------------------------------------------------------
    // Scene graph

    fn instances(&mut self) {
        let root = self.root;
        let nodes = &root.nodes;
        let scene = root.scene.map(|s| s.value()).or(if root.scenes.is_empty() { None } else { Some(0) });
        let roots: Vec<usize> = match scene.map(|s| (s, root.scenes.get(s))) {
            Some((_, Some(scene))) => scene.nodes.iter().map(|n| n.value()).collect(),
            Some((s, None)) => {
                self.warn(format!("scene: scene {s} does not exist; nothing is instanced"));
                Vec::new()
            }
            None => {
                let mut is_child = vec![false; nodes.len()];
                for c in nodes.iter().flat_map(|n| n.children.iter().flatten()) {
                    if let Some(x) = is_child.get_mut(c.value()) {
                        *x = true;
                    }
                }
                let roots: Vec<usize> =
                    (0..nodes.len()).filter(|&i| !is_child.get(i).copied().unwrap_or(true)).collect();
                if roots.is_empty() && !nodes.is_empty() {
                    self.warn(
                        "nodes: no scene and no root node (every node is a child: a cycle); nothing instanced".into(),
                    );
                }
                roots
            }
        };
        if nodes.is_empty() && root.scenes.is_empty() && !self.model.meshes.is_empty() {
            self.warn("nodes: the file has meshes but no nodes; each mesh is placed once at the origin".into());
            for mesh in 0..self.model.meshes.len() {
                self.model.instances.push(MeshInstance { mesh, transform: Y_UP_TO_Z_UP });
            }
            return;
        }
        let mut visited = vec![false; nodes.len()];
        let mut stack: Vec<(usize, Mat4, usize)> = roots.iter().rev().map(|&r| (r, Y_UP_TO_Z_UP, 0)).collect();
        while let Some((ni, parent, depth)) = stack.pop() {
            let Some(node) = nodes.get(ni) else {
                self.warn(format!("nodes[{ni}] does not exist; skipped"));
                continue;
            };
            match visited.get_mut(ni) {
                Some(v) if !*v => *v = true,
                _ => {
                    self.warn(format!(
                        "nodes[{ni}]: reached a second time (a node cycle, or a node with several parents); not \
                         instanced again"
                    ));
                    continue;
                }
            }
            if depth >= MAX_NODE_DEPTH {
                self.warn(format!("nodes[{ni}]: deeper than {MAX_NODE_DEPTH} levels; this subtree is skipped"));
                continue;
            }
            let global = parent * local_transform(node);
            if !global.is_finite() {
                self.warn(format!("nodes[{ni}]: transform is not finite; this subtree is skipped"));
                continue;
            }
            if let Some(m) = node.mesh.map(|m| m.value()) {
                if m < self.model.meshes.len() {
                    self.model.instances.push(MeshInstance { mesh: m, transform: global });
                } else {
                    self.warn(format!("nodes[{ni}].mesh: mesh {m} does not exist"));
                }
            }
            for c in node.children.iter().flatten().rev() {
                stack.push((c.value(), global, depth + 1));
            }
        }
    }
}

fn local_transform(node: &gltf::json::Node) -> Mat4 {
    if let Some(m) = node.matrix {
        return Mat4::from_cols_array(&m);
    }
    let t = Vec3::from(node.translation.unwrap_or([0.0; 3]));
    let s = Vec3::from(node.scale.unwrap_or([1.0; 3]));
    let q = Quat::from_array(node.rotation.map_or([0.0, 0.0, 0.0, 1.0], |q| q.0));
    let q = if q.is_finite() && q.length_squared() > 0.0 { q.normalize() } else { Quat::IDENTITY };
    Mat4::from_scale_rotation_translation(s, q, t)
}

fn map_sampler(s: &gltf::json::texture::Sampler) -> Sampler {
    let (min_nearest, mipmaps) = match s.min_filter {
        Some(Checked::Valid(MinFilter::Nearest)) => (true, false),
        Some(Checked::Valid(MinFilter::Linear)) => (false, false),
        Some(Checked::Valid(MinFilter::NearestMipmapNearest | MinFilter::NearestMipmapLinear)) => (true, true),
        _ => (false, true),
    };
    let wrap = |w: &Checked<WrappingMode>| match w {
        Checked::Valid(WrappingMode::ClampToEdge) => Wrap::ClampToEdge,
        Checked::Valid(WrappingMode::MirroredRepeat) => Wrap::MirroredRepeat,
        _ => Wrap::Repeat,
    };
    Sampler {
        mag_nearest: matches!(s.mag_filter, Some(Checked::Valid(MagFilter::Nearest))),
        min_nearest,
        mipmaps,
        wrap_u: wrap(&s.wrap_s),
        wrap_v: wrap(&s.wrap_t),
    }
}

/// Triangle strip to list, keeping a consistent winding.
fn strip_to_list(strip: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(strip.len().saturating_sub(2).saturating_mul(3));
    for (i, w) in strip.windows(3).enumerate() {
        if let &[a, b, c] = w {
            if i % 2 == 0 {
                out.extend_from_slice(&[a, b, c]);
            } else {
                out.extend_from_slice(&[b, a, c]);
            }
        }
    }
    out
}

/// Triangle fan to list.
fn fan_to_list(fan: &[u32]) -> Vec<u32> {
    let Some((&first, rest)) = fan.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(fan.len().saturating_sub(2).saturating_mul(3));
    for w in rest.windows(2) {
        if let &[b, c] = w {
            out.extend_from_slice(&[first, b, c]);
        }
    }
    out
}

/// Replaces the shared vertices by one vertex per triangle corner with the face normal (glTF:
/// "flat normals" when NORMAL is missing). Indices must already be in range.
fn flat_normals(p: &mut Primitive, budget: &mut Budget) -> Result<(), String> {
    let corners = p.indices.len();
    let per_vertex = 12
        + 12
        + 8
        + p.tangents.as_ref().map_or(0, |_| 16)
        + p.uv1.as_ref().map_or(0, |_| 8)
        + p.colors.as_ref().map_or(0, |_| 16);
    budget.charge((corners as u64).saturating_mul(per_vertex), "flat normals")?;
    fn gather<T: Copy + Default>(src: &[T], idx: &[u32]) -> Vec<T> {
        idx.iter().map(|&i| src.get(i as usize).copied().unwrap_or_default()).collect()
    }
    let positions = gather(&p.positions, &p.indices);
    let mut normals = Vec::with_capacity(corners);
    for tri in positions.chunks_exact(3) {
        let n = match tri {
            &[a, b, c] => {
                let (a, b, c) = (Vec3::from(a), Vec3::from(b), Vec3::from(c));
                (b - a).cross(c - a).try_normalize().unwrap_or(Vec3::Y)
            }
            _ => Vec3::Y,
        };
        normals.extend_from_slice(&[n.to_array(); 3]);
    }
    p.uv0 = gather(&p.uv0, &p.indices);
    p.uv1 = p.uv1.as_ref().map(|v| gather(v, &p.indices));
    p.tangents = p.tangents.as_ref().map(|v| gather(v, &p.indices));
    p.colors = p.colors.as_ref().map(|v| gather(v, &p.indices));
    p.positions = positions;
    p.normals = normals;
    p.indices = (0..u32::try_from(corners).map_err(|_| "too many triangle corners".to_string())?).collect();
    Ok(())
}
