//! CPU-side scene data the renderer consumes: meshes, materials, textures and models.
//!
//! The glTF importer and the GeoJSON extruder both produce these types; the GPU side uploads them.
//! All positions are `f32` in the model's own frame (metres, +Z up is NOT assumed here: glTF models
//! are +Y up and the importer converts them, see [`crate::gltf_import`]). World placement is `f64`
//! and lives in [`crate::scene`].

use glam::{Mat4, Vec3};

/// An axis-aligned bounding box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aabb {
    /// Smallest corner.
    pub min: Vec3,
    /// Largest corner.
    pub max: Vec3,
}

impl Default for Aabb {
    /// The empty box.
    fn default() -> Self {
        Aabb::EMPTY
    }
}

impl Aabb {
    /// An empty box that any point extends.
    pub const EMPTY: Aabb = Aabb { min: Vec3::splat(f32::INFINITY), max: Vec3::splat(f32::NEG_INFINITY) };

    /// Whether no point has been added.
    pub fn is_empty(&self) -> bool {
        self.min.x > self.max.x
    }

    /// Grows the box to contain `p`.
    pub fn extend(&mut self, p: Vec3) {
        self.min = self.min.min(p);
        self.max = self.max.max(p);
    }

    /// The union of two boxes.
    pub fn union(&self, other: &Aabb) -> Aabb {
        Aabb { min: self.min.min(other.min), max: self.max.max(other.max) }
    }

    /// The box of `points`.
    pub fn from_points(points: impl IntoIterator<Item = Vec3>) -> Aabb {
        let mut b = Aabb::EMPTY;
        for p in points {
            b.extend(p);
        }
        b
    }

    /// The box containing this box transformed by `m`.
    pub fn transformed(&self, m: &Mat4) -> Aabb {
        if self.is_empty() {
            return *self;
        }
        let mut b = Aabb::EMPTY;
        for i in 0..8 {
            let c = Vec3::new(
                if i & 1 == 0 { self.min.x } else { self.max.x },
                if i & 2 == 0 { self.min.y } else { self.max.y },
                if i & 4 == 0 { self.min.z } else { self.max.z },
            );
            b.extend(m.transform_point3(c));
        }
        b
    }

    /// Centre of the box.
    pub fn center(&self) -> Vec3 {
        (self.min + self.max) * 0.5
    }

    /// Size of the box along each axis.
    pub fn size(&self) -> Vec3 {
        self.max - self.min
    }
}

/// How a material's alpha is interpreted (glTF `alphaMode`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum AlphaMode {
    /// Alpha is ignored.
    #[default]
    Opaque,
    /// Fragments with alpha below the cutoff are discarded.
    Mask {
        /// glTF `alphaCutoff` (default 0.5).
        cutoff: f32,
    },
    /// Alpha-blended, drawn after opaque geometry, sorted back to front.
    Blend,
}

/// `KHR_texture_transform` (identity when absent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextureTransform {
    /// UV offset.
    pub offset: [f32; 2],
    /// Rotation in radians, counter-clockwise.
    pub rotation: f32,
    /// UV scale.
    pub scale: [f32; 2],
}

impl Default for TextureTransform {
    fn default() -> Self {
        TextureTransform { offset: [0.0, 0.0], rotation: 0.0, scale: [1.0, 1.0] }
    }
}

/// A material's reference to a texture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextureRef {
    /// Index into [`Model::textures`].
    pub texture: usize,
    /// Which UV set (0 or 1) the texture reads.
    pub tex_coord: u32,
    /// UV transform applied before sampling.
    pub transform: TextureTransform,
}

/// A metallic-roughness PBR material (glTF 2.0 core model plus `KHR_materials_unlit`).
#[derive(Clone, Debug, PartialEq)]
pub struct Material {
    /// Name for diagnostics.
    pub name: Option<String>,
    /// Linear base colour factor (RGBA).
    pub base_color_factor: [f32; 4],
    /// Base colour texture (sRGB).
    pub base_color_texture: Option<TextureRef>,
    /// Metalness factor.
    pub metallic_factor: f32,
    /// Roughness factor.
    pub roughness_factor: f32,
    /// Metallic (B) and roughness (G) texture (linear).
    pub metallic_roughness_texture: Option<TextureRef>,
    /// Tangent-space normal map (linear).
    pub normal_texture: Option<TextureRef>,
    /// Normal map scale.
    pub normal_scale: f32,
    /// Ambient occlusion texture, R channel (linear).
    pub occlusion_texture: Option<TextureRef>,
    /// Occlusion strength.
    pub occlusion_strength: f32,
    /// Linear emissive factor.
    pub emissive_factor: [f32; 3],
    /// Emissive texture (sRGB).
    pub emissive_texture: Option<TextureRef>,
    /// Alpha mode.
    pub alpha_mode: AlphaMode,
    /// Whether back faces are drawn (and lit with a flipped normal).
    pub double_sided: bool,
    /// `KHR_materials_unlit`: base colour only, no lighting.
    pub unlit: bool,
}

impl Default for Material {
    /// The glTF default material: white, fully metallic, fully rough.
    fn default() -> Self {
        Material {
            name: None,
            base_color_factor: [1.0; 4],
            base_color_texture: None,
            metallic_factor: 1.0,
            roughness_factor: 1.0,
            metallic_roughness_texture: None,
            normal_texture: None,
            normal_scale: 1.0,
            occlusion_texture: None,
            occlusion_strength: 1.0,
            emissive_factor: [0.0; 3],
            emissive_texture: None,
            alpha_mode: AlphaMode::Opaque,
            double_sided: false,
            unlit: false,
        }
    }
}

/// Texture filtering and wrapping (glTF sampler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sampler {
    /// Magnification filter is nearest (else linear).
    pub mag_nearest: bool,
    /// Minification filter is nearest (else linear).
    pub min_nearest: bool,
    /// Whether mipmaps are sampled.
    pub mipmaps: bool,
    /// Wrap mode along U.
    pub wrap_u: Wrap,
    /// Wrap mode along V.
    pub wrap_v: Wrap,
}

/// Texture wrap mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Wrap {
    /// Repeat (glTF default).
    #[default]
    Repeat,
    /// Mirrored repeat.
    MirroredRepeat,
    /// Clamp to edge.
    ClampToEdge,
}

/// A decoded texture: 8-bit RGBA, uploaded as `Rgba8Unorm` with an sRGB view for colour use.
#[derive(Clone, Debug, PartialEq)]
pub struct Texture {
    /// Name or URI for diagnostics.
    pub name: Option<String>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes, row-major, top row first.
    pub rgba8: Vec<u8>,
    /// How the texture is sampled.
    pub sampler: Sampler,
}

/// One drawable primitive: a triangle list with one material.
///
/// Every vertex attribute vector has `positions.len()` entries. Missing normals are generated
/// (flat) by whoever builds the primitive; missing UVs are zeros; missing colours are white.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Primitive {
    /// Vertex positions.
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals.
    pub normals: Vec<[f32; 3]>,
    /// Tangents (xyz, w = handedness); `None` when the material has no normal map or none were given.
    pub tangents: Option<Vec<[f32; 4]>>,
    /// First UV set.
    pub uv0: Vec<[f32; 2]>,
    /// Second UV set, if any.
    pub uv1: Option<Vec<[f32; 2]>>,
    /// Linear vertex colours (RGBA), if any.
    pub colors: Option<Vec<[f32; 4]>>,
    /// Triangle list indices into the vertex arrays (non-indexed input is given 0..n).
    pub indices: Vec<u32>,
    /// Index into [`Model::materials`]; `None` is the glTF default material.
    pub material: Option<usize>,
    /// Bounds of `positions`.
    pub bounds: Aabb,
}

/// A mesh: primitives drawn together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    /// Name for diagnostics.
    pub name: Option<String>,
    /// The primitives.
    pub primitives: Vec<Primitive>,
}

/// A mesh placed in the model by the flattened node hierarchy.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshInstance {
    /// Index into [`Model::meshes`].
    pub mesh: usize,
    /// Model-from-mesh transform (the node's global transform).
    pub transform: Mat4,
}

/// A renderable model: what one glTF file, or one extruded GeoJSON layer, becomes.
///
/// Model space is Sangam's world convention: metres, +X east, +Y north, +Z up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    /// Name (file name) for diagnostics.
    pub name: String,
    /// Meshes.
    pub meshes: Vec<Mesh>,
    /// Materials referenced by primitives.
    pub materials: Vec<Material>,
    /// Textures referenced by materials.
    pub textures: Vec<Texture>,
    /// The meshes placed by the node hierarchy of the default scene.
    pub instances: Vec<MeshInstance>,
    /// Bounds of all instances in model space.
    pub bounds: Aabb,
    /// Non-fatal problems found while building the model (skipped parts), each naming where.
    pub warnings: Vec<String>,
}

impl Model {
    /// Recomputes [`Model::bounds`] from the instances.
    pub fn compute_bounds(&mut self) {
        let mut b = Aabb::EMPTY;
        for inst in &self.instances {
            if let Some(mesh) = self.meshes.get(inst.mesh) {
                for p in &mesh.primitives {
                    b = b.union(&p.bounds.transformed(&inst.transform));
                }
            }
        }
        self.bounds = b;
    }

    /// Total triangle count over all instances.
    pub fn triangle_count(&self) -> usize {
        self.instances
            .iter()
            .filter_map(|i| self.meshes.get(i.mesh))
            .flat_map(|m| m.primitives.iter())
            .map(|p| p.indices.len() / 3)
            .sum()
    }
}
