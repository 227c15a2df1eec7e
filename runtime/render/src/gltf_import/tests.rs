//! Unit tests: malformed containers, out-of-range data, URI sandboxing, limits, fuzzing.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};

use super::*;
use crate::model::{AlphaMode, Wrap};

fn b64(bytes: &[u8]) -> String {
    format!("data:application/octet-stream;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// A one-triangle document: positions at bufferView 0 (36 bytes), u16 indices at bufferView 1.
fn triangle(indices: [u16; 3]) -> (Value, Vec<u8>) {
    let mut bin = f32s(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    for i in indices {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    bin.extend_from_slice(&[0, 0]);
    let doc = json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
             "min": [0.0, 0.0, 0.0], "max": [1.0, 1.0, 0.0]},
            {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 6}
        ],
        "buffers": [{"byteLength": bin.len()}]
    });
    (doc, bin)
}

fn embed(mut doc: Value, bin: &[u8]) -> Vec<u8> {
    doc["buffers"][0]["uri"] = Value::String(b64(bin));
    serde_json::to_vec(&doc).expect("serialize test JSON")
}

fn glb(doc: &Value, bin: &[u8]) -> Vec<u8> {
    let mut json = serde_json::to_vec(doc).expect("serialize test JSON");
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let mut bin = bin.to_vec();
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = Vec::new();
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    out
}

fn load(bytes: &[u8]) -> Result<Model, ImportError> {
    load_gltf_from_slice(bytes, None, "test.gltf")
}

fn khronos(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/khronos").join(name)
}

/// Box.gltf as a .glb (data URI moved into the BIN chunk).
fn box_glb() -> Vec<u8> {
    let text = std::fs::read(khronos("Box.gltf")).expect("Box.gltf test data");
    let mut doc: Value = serde_json::from_slice(&text).expect("Box.gltf is JSON");
    let uri = doc["buffers"][0]["uri"].as_str().expect("data URI").to_string();
    let payload = uri.split_once(',').expect("data URI payload").1;
    let bin = base64::engine::general_purpose::STANDARD.decode(payload).expect("base64");
    doc["buffers"][0].as_object_mut().expect("buffer object").remove("uri");
    glb(&doc, &bin)
}

#[test]
fn valid_triangle_loads_in_both_containers() {
    let (doc, bin) = triangle([0, 1, 2]);
    for bytes in [embed(doc.clone(), &bin), glb(&doc, &bin)] {
        let m = load(&bytes).expect("valid triangle");
        assert_eq!(m.triangle_count(), 1);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let p = &m.meshes[0].primitives[0];
        assert_eq!(p.indices, vec![0, 1, 2]);
        // Missing normals are generated flat: the triangle lies in z = 0, facing +Z (glTF space).
        assert_eq!(p.normals.len(), p.positions.len());
        for n in &p.normals {
            assert!((Vec3::from(*n) - Vec3::Z).length() < 1e-6, "{n:?}");
        }
        assert_eq!(p.uv0.len(), p.positions.len());
    }
}

use glam::Vec3;

#[test]
fn y_up_becomes_z_up() {
    let (doc, bin) = triangle([0, 1, 2]);
    let m = load(&embed(doc, &bin)).expect("valid triangle");
    // glTF y in [0, 1] becomes Sangam z in [0, 1]; glTF z = 0 becomes y = 0.
    assert_eq!(m.bounds.min, Vec3::new(0.0, 0.0, 0.0));
    assert_eq!(m.bounds.max, Vec3::new(1.0, 0.0, 1.0));
    assert_eq!(Y_UP_TO_Z_UP.transform_point3(Vec3::new(1.0, 2.0, 3.0)), Vec3::new(1.0, -3.0, 2.0));
}

#[test]
fn truncated_glb_is_refused() {
    let (doc, bin) = triangle([0, 1, 2]);
    let full = glb(&doc, &bin);
    for len in [0, 3, 4, 11, 12, 16, 19, 20, full.len() / 2, full.len() - 1] {
        let Some(cut) = full.get(..len) else { continue };
        let err = load_gltf_from_slice(cut, None, "cut.glb").expect_err("truncated GLB must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("cut.glb: "), "{msg}");
    }
    let err = load(full.get(..full.len() - 1).expect("slice")).expect_err("truncated");
    assert!(matches!(err, ImportError::Glb { .. }), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn glb_bad_magic_version_and_length() {
    let (doc, bin) = triangle([0, 1, 2]);
    let good = glb(&doc, &bin);
    // Bad magic: not GLB, so parsed as JSON, which fails.
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(matches!(load(&bad), Err(ImportError::Json { .. })));
    // Bad version.
    let mut bad = good.clone();
    bad[4] = 1;
    let err = load(&bad).expect_err("version 1");
    assert!(err.to_string().contains("version is 1"), "{err}");
    // Header length larger than the file.
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&(good.len() as u32 + 100).to_le_bytes());
    assert!(matches!(load(&bad), Err(ImportError::Glb { .. })));
    // Header length smaller than the header.
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&4u32.to_le_bytes());
    assert!(load(&bad).unwrap_err().to_string().contains("smaller than the 12-byte header"));
    // JSON chunk length past the end.
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(load(&bad).unwrap_err().to_string().contains("chunk 0"));
}

#[test]
fn buffer_byte_length_larger_than_data() {
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["buffers"][0]["byteLength"] = json!(1000);
    for (bytes, source) in [(embed(doc.clone(), &bin), "data: URI"), (glb(&doc, &bin), "GLB BIN chunk")] {
        let err = load(&bytes).expect_err("short buffer must not be read");
        let msg = err.to_string();
        assert!(msg.contains("buffers[0]") && msg.contains("byteLength 1000") && msg.contains(source), "{msg}");
        assert!(msg.contains("meshes[0].primitives[0]"), "{msg}");
    }
}

#[test]
fn accessor_past_end_is_reported_with_its_path() {
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["accessors"][0]["count"] = json!(4);
    let err = load(&embed(doc, &bin)).expect_err("accessor past end");
    assert_eq!(
        err.to_string().split(" (no mesh").next().unwrap_or_default(),
        "test.gltf: meshes[0].primitives[0].attributes.POSITION: accessor 0 reads past the end of bufferView 0 \
         (needs 48 bytes, has 36)"
    );
    // A bufferView outside its buffer.
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["bufferViews"][0]["byteOffset"] = json!(30);
    let err = load(&embed(doc, &bin)).expect_err("view outside buffer");
    assert!(err.to_string().contains("lies outside buffers[0]"), "{err}");
    // A byteStride that makes the last element run past the end.
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["bufferViews"][0]["byteStride"] = json!(16);
    let err = load(&embed(doc, &bin)).expect_err("stride past end");
    assert!(err.to_string().contains("needs 44 bytes, has 36"), "{err}");
}

#[test]
fn index_out_of_range_skips_the_primitive() {
    let (doc, bin) = triangle([0, 1, 7]);
    let err = load(&embed(doc.clone(), &bin)).expect_err("only primitive is broken");
    assert!(err.to_string().contains("meshes[0].primitives[0].indices: index 7"), "{err}");
    // With a second, good primitive the model loads and warns.
    let (good, _) = triangle([0, 1, 2]);
    let mut doc = doc;
    doc["accessors"].as_array_mut().expect("accessors").push(json!(
        {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR", "byteOffset": 0}
    ));
    let _ = good;
    doc["meshes"][0]["primitives"].as_array_mut().expect("primitives").push(json!({"attributes": {"POSITION": 0}}));
    let m = load(&embed(doc, &bin)).expect("one good primitive");
    assert_eq!(m.meshes[0].primitives.len(), 1);
    assert!(m.warnings.iter().any(|w| w.contains("primitives[0].indices: index 7")), "{:?}", m.warnings);
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-gltf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn external_uris_are_sandboxed() {
    let dir = temp_dir("uri");
    let model_dir = dir.join("model");
    std::fs::create_dir_all(model_dir.join("sub")).expect("dirs");
    let (doc, bin) = triangle([0, 1, 2]);
    std::fs::write(model_dir.join("sub/tri angle.bin"), &bin).expect("bin");
    std::fs::write(dir.join("outside.bin"), &bin).expect("bin");

    let with_uri = |uri: &str| {
        let mut d = doc.clone();
        d["buffers"][0]["uri"] = json!(uri);
        serde_json::to_vec(&d).expect("json")
    };
    // A relative, %-encoded path inside the folder loads.
    let path = model_dir.join("ok.gltf");
    std::fs::write(&path, with_uri("sub/tri%20angle.bin")).expect("gltf");
    let m = load_gltf(&path).expect("relative external buffer");
    assert_eq!(m.triangle_count(), 1);
    assert_eq!(m.name, "ok.gltf");

    let outside = dir.join("outside.bin").display().to_string();
    for (uri, expect) in [
        (outside.as_str(), "absolute path"),
        ("../outside.bin", "climbs out"),
        ("sub/../../outside.bin", "climbs out"),
        ("%2e%2e/outside.bin", "climbs out"),
        ("sub%2F..%2F..%2Foutside.bin", "climbs out"),
        ("http://example.com/tri.bin", "not supported"),
        ("file:///etc/passwd", "not supported"),
        ("C:\\Windows\\tri.bin", "not supported"),
        ("missing.bin", "cannot open"),
    ] {
        let err = load_gltf_from_slice(&with_uri(uri), Some(&model_dir), "bad.gltf").expect_err(uri);
        assert!(err.to_string().contains(expect), "{uri}: {err}");
        assert!(err.to_string().contains("buffers[0]"), "{uri}: {err}");
    }
    // Without a base folder no file is read at all.
    let err = load_gltf_from_slice(&with_uri("sub/tri%20angle.bin"), None, "nobase.gltf").expect_err("no base");
    assert!(err.to_string().contains("no base folder"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // An IDAT with an empty zlib stream and IEND: a well-formed file whose pixels are missing.
    for (kind, data) in [(&b"IDAT"[..], &[0x78u8, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..]), (b"IEND", &[])] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn textured(image_uri: &str) -> Vec<u8> {
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["meshes"][0]["primitives"][0]["material"] = json!(0);
    doc["materials"] = json!([{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]);
    doc["textures"] = json!([{"source": 0, "sampler": 0}]);
    doc["samplers"] = json!([{"magFilter": 9728, "minFilter": 9729, "wrapS": 33071, "wrapT": 33648}]);
    doc["images"] = json!([{"uri": image_uri}]);
    embed(doc, &bin)
}

#[test]
fn huge_image_is_refused_from_its_header() {
    let png = png_header_only(20_000, 20_000);
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
    let m = load(&textured(&uri)).expect("geometry still loads");
    assert!(m.textures.is_empty());
    assert_eq!(m.materials[0].base_color_texture, None);
    let w = m.warnings.join("\n");
    assert!(w.contains("materials[0].pbrMetallicRoughness.baseColorTexture: textures[0]: images[0]"), "{w}");
    assert!(w.contains("20000 x 20000"), "{w}");
    // A decompression bomb: allowed dimensions, but far more pixels than the bytes justify.
    let png = png_header_only(8192, 8192);
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
    let m = load(&textured(&uri)).expect("geometry still loads");
    assert!(m.textures.is_empty());
    assert!(m.warnings.join("\n").contains("decompression bomb"), "{:?}", m.warnings);
}

#[test]
fn small_png_texture_and_sampler_are_imported() {
    let mut img = image::RgbImage::new(3, 2);
    img.put_pixel(2, 1, image::Rgb([10, 20, 30]));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).expect("encode png");
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
    let m = load(&textured(&uri)).expect("textured triangle");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let t = &m.textures[0];
    assert_eq!((t.width, t.height, t.rgba8.len()), (3, 2, 24));
    assert_eq!(&t.rgba8[20..24], &[10, 20, 30, 255]);
    assert!(t.sampler.mag_nearest && !t.sampler.min_nearest && !t.sampler.mipmaps);
    assert_eq!((t.sampler.wrap_u, t.sampler.wrap_v), (Wrap::ClampToEdge, Wrap::MirroredRepeat));
    assert_eq!(m.materials[0].base_color_texture.map(|r| r.texture), Some(0));
}

#[test]
fn node_cycles_and_deep_hierarchies_terminate() {
    let (mut doc, bin) = triangle([0, 1, 2]);
    doc["nodes"] = json!([{"mesh": 0, "children": [1]}, {"mesh": 0, "children": [0]}]);
    match load(&embed(doc.clone(), &bin)) {
        Ok(m) => {
            assert_eq!(m.instances.len(), 2);
            assert!(m.warnings.iter().any(|w| w.contains("nodes[0]: reached a second time")), "{:?}", m.warnings);
        }
        Err(e) => assert!(matches!(e, ImportError::Json { .. }), "{e}"),
    }
    // No scene and only a cycle: nothing is a root.
    let mut no_scene = doc.clone();
    no_scene.as_object_mut().expect("object").remove("scene");
    no_scene.as_object_mut().expect("object").remove("scenes");
    if let Ok(m) = load(&embed(no_scene, &bin)) {
        assert!(m.instances.is_empty());
        assert!(m.warnings.iter().any(|w| w.contains("no root node")), "{:?}", m.warnings);
    }
    // A chain of 100 nodes is cut at the depth limit.
    let nodes: Vec<Value> =
        (0..100).map(|i| if i < 99 { json!({"mesh": 0, "children": [i + 1]}) } else { json!({"mesh": 0}) }).collect();
    doc["nodes"] = Value::Array(nodes);
    let m = load(&embed(doc, &bin)).expect("deep chain loads");
    assert_eq!(m.instances.len(), MAX_NODE_DEPTH);
    assert!(m.warnings.iter().any(|w| w.contains("nodes[64]: deeper than 64 levels")), "{:?}", m.warnings);
}

#[test]
fn empty_and_garbage_input_is_refused() {
    for bytes in [&b""[..], b"   ", b"{}", b"[]", b"null", b"\xEF\xBB\xBF", b"glTF", b"{\"asset\":{\"version\":\"2.0\""]
    {
        let err = load_gltf_from_slice(bytes, None, "empty.gltf").expect_err("must fail");
        assert!(err.to_string().starts_with("empty.gltf: "), "{err}");
    }
    // A minimal valid asset has nothing to draw but is fine.
    let m = load(br#"{"asset":{"version":"2.0"}}"#).expect("minimal asset");
    assert!(m.meshes.is_empty() && m.instances.is_empty() && m.bounds.is_empty());
}

#[test]
fn strips_fans_colors_and_material_extensions() {
    // A quad as a strip of 4 vertices with normalized u8 RGB colours and an unlit, masked material
    // whose texture reference has a KHR_texture_transform with a texCoord override.
    let mut bin = f32s(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    bin.extend_from_slice(&[255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 51, 51, 51, 0]);
    let doc = json!({
        "asset": {"version": "2.0"},
        "extensionsUsed": ["KHR_texture_transform", "KHR_materials_unlit"],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [
            {"attributes": {"POSITION": 0, "COLOR_0": 1}, "mode": 5, "material": 0},
            {"attributes": {"POSITION": 0}, "mode": 6},
            {"attributes": {"POSITION": 0}, "mode": 1}
        ]}],
        "materials": [{
            "alphaMode": "MASK", "alphaCutoff": 0.25, "doubleSided": true,
            "extensions": {"KHR_materials_unlit": {}},
            "normalTexture": {"index": 0, "scale": 0.5,
                "extensions": {"KHR_texture_transform": {"offset": [0.5, 0.25], "scale": [2.0, 3.0], "texCoord": 1}}},
            "occlusionTexture": {"index": 0, "strength": 0.75}
        }],
        "textures": [{"source": 0}],
        "images": [{"uri": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0,0,0], "max": [1,1,0]},
            {"bufferView": 1, "componentType": 5121, "normalized": true, "count": 4, "type": "VEC3"}
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 48},
            {"buffer": 0, "byteOffset": 48, "byteLength": 16, "byteStride": 4}
        ],
        "buffers": [{"byteLength": bin.len()}]
    });
    let m = load(&embed(doc, &bin)).expect("strip/fan model");
    let mesh = &m.meshes[0];
    assert_eq!(mesh.primitives.len(), 2, "lines are skipped");
    assert!(m.warnings.iter().any(|w| w.contains("meshes[0].primitives[2]: mode Lines")), "{:?}", m.warnings);
    // Strip 0,1,2,3 -> (0,1,2), (2,1,3); flat normals un-index it into 6 corners.
    let strip = &mesh.primitives[0];
    assert_eq!(strip.positions.len(), 6);
    assert_eq!(strip.positions[3], [0.0, 1.0, 0.0]);
    assert_eq!(strip.positions[4], [1.0, 0.0, 0.0]);
    let colors = strip.colors.as_ref().expect("colors");
    assert_eq!(colors[0], [1.0, 0.0, 0.0, 1.0]);
    assert!((colors[5][0] - 0.2).abs() < 1e-6 && colors[5][3] == 1.0);
    // Fan 0,1,2,3 -> (0,1,2), (0,2,3).
    assert_eq!(mesh.primitives[1].positions.len(), 6);
    assert_eq!(mesh.primitives[1].positions[5], [1.0, 1.0, 0.0]);

    let mat = &m.materials[0];
    assert!(mat.unlit && mat.double_sided);
    assert_eq!(mat.alpha_mode, AlphaMode::Mask { cutoff: 0.25 });
    let normal = mat.normal_texture.expect("normal texture");
    assert_eq!((normal.tex_coord, normal.transform.offset, normal.transform.scale), (1, [0.5, 0.25], [2.0, 3.0]));
    assert_eq!(mat.normal_scale, 0.5);
    let occlusion = mat.occlusion_texture.expect("occlusion texture");
    assert_eq!((occlusion.tex_coord, occlusion.transform), (0, TextureTransform::default()));
    assert_eq!(mat.occlusion_strength, 0.75);
    assert_eq!(m.textures.len(), 1, "one texture shared by both references");
}

use crate::model::TextureTransform;

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            1 => b.truncate(rng.below(b.len() + 1)),
            2 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = b"0123456789-.e,:[]{}\""[rng.below(20)];
            }
            3 if b.len() >= 4 => {
                let i = rng.below(b.len() - 3);
                let v = [0u32, 1, 0xFFFF, 0x7FFF_FFFF, u32::MAX, rng.next() as u32][rng.below(6)];
                b[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            4 if !b.is_empty() => {
                let i = rng.below(b.len());
                let digits = ["9999999999", "4294967296", "-1", "1e30", "65536"][rng.below(5)];
                b.splice(i..i, digits.bytes());
            }
            _ if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            _ => {}
        }
    }
    b
}

#[test]
fn fuzzed_box_never_panics() {
    let gltf = std::fs::read(khronos("Box.gltf")).expect("Box.gltf test data");
    let glb = box_glb();
    assert!(load(&gltf).is_ok() && load(&glb).is_ok(), "unmutated inputs load");
    // Also mutate the JSON numbers of the GLB text part more densely: same loop, both seeds.
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let (mut ok, mut err) = (0, 0);
    for i in 0..2000 {
        let src = if i % 2 == 0 { &gltf } else { &glb };
        let bytes = mutate(&mut rng, src);
        match load_gltf_from_slice(&bytes, None, "fuzz") {
            Ok(m) => {
                ok += 1;
                assert!(m.decoded_bytes() <= 64 * bytes.len() + (64 << 20));
            }
            Err(e) => {
                err += 1;
                assert!(e.to_string().starts_with("fuzz: "), "{e}");
            }
        }
    }
    println!("fuzz: {ok} loaded, {err} refused");
    assert_eq!(ok + err, 2000);
}
