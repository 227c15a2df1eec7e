//! `load_gltf` against a plain baseline on the same files, in the same run.
//!
//! Baseline (what a loader without our checks does): read the file, `gltf::Gltf::from_slice`,
//! decode the buffers (base64 `data:` URIs or the GLB BIN chunk), read every primitive's
//! attributes and indices with the `gltf` crate's reader, and decode every image to RGBA8.
//! Files: Khronos BoxTextured (embedded PNG) and a generated 256 x 256-vertex grid .glb with
//! normals, UVs, u32 indices and a 512 x 512 PNG texture.
//! Prints `ours / baseline` per file (goal <= 1.2).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use criterion::Criterion;
use sangam_render::gltf_import::load_gltf;

fn baseline(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("read");
    let gltf = gltf::Gltf::from_slice(&bytes).expect("valid glTF");
    let buffers: Vec<Vec<u8>> = gltf
        .buffers()
        .map(|b| match b.source() {
            gltf::buffer::Source::Bin => gltf.blob.clone().expect("BIN chunk"),
            gltf::buffer::Source::Uri(uri) => {
                let payload = uri.split_once(',').expect("data URI").1;
                base64::engine::general_purpose::STANDARD.decode(payload).expect("base64")
            }
        })
        .collect();
    let mut total = 0usize;
    for mesh in gltf.meshes() {
        for prim in mesh.primitives() {
            let reader = prim.reader(|b| buffers.get(b.index()).map(Vec::as_slice));
            total += reader.read_positions().map_or(0, |p| p.collect::<Vec<_>>().len());
            total += reader.read_normals().map_or(0, |p| p.collect::<Vec<_>>().len());
            total += reader.read_tex_coords(0).map_or(0, |t| t.into_f32().collect::<Vec<_>>().len());
            total += reader.read_indices().map_or(0, |i| i.into_u32().collect::<Vec<_>>().len());
        }
    }
    for image in gltf.images() {
        let data: Vec<u8> = match image.source() {
            gltf::image::Source::View { view, .. } => {
                let buf = &buffers[view.buffer().index()];
                buf[view.offset()..view.offset() + view.length()].to_vec()
            }
            gltf::image::Source::Uri { uri, .. } => {
                let payload = uri.split_once(',').expect("data URI").1;
                base64::engine::general_purpose::STANDARD.decode(payload).expect("base64")
            }
        };
        total += image::load_from_memory(&data).expect("image").to_rgba8().len();
    }
    total
}

fn ours(path: &Path) -> usize {
    let m = load_gltf(path).expect("loads");
    m.decoded_bytes()
}

/// A grid .glb: `n * n` vertices with positions, normals and UVs, u32 indices, one PNG texture.
fn grid_glb(n: u32, dir: &Path) -> PathBuf {
    let mut bin = Vec::new();
    let count = n * n;
    for y in 0..n {
        for x in 0..n {
            let h = ((x as f32 * 0.1).sin() * (y as f32 * 0.1).cos()) * 2.0;
            for v in [x as f32, h, y as f32] {
                bin.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let normals_off = bin.len();
    for _ in 0..count {
        for v in [0.0f32, 1.0, 0.0] {
            bin.extend_from_slice(&v.to_le_bytes());
        }
    }
    let uv_off = bin.len();
    for y in 0..n {
        for x in 0..n {
            for v in [x as f32 / (n - 1) as f32, y as f32 / (n - 1) as f32] {
                bin.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let idx_off = bin.len();
    let mut index_count = 0u32;
    for y in 0..n - 1 {
        for x in 0..n - 1 {
            let i = y * n + x;
            for v in [i, i + n, i + 1, i + 1, i + n, i + n + 1] {
                bin.extend_from_slice(&v.to_le_bytes());
                index_count += 1;
            }
        }
    }
    let img_off = bin.len();
    let mut png = Vec::new();
    let img = image::RgbImage::from_fn(512, 512, |x, y| image::Rgb([(x ^ y) as u8, (x * 3) as u8, (y * 5) as u8]));
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).expect("png");
    bin.extend_from_slice(&png);
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let json = serde_json::json!({
        "asset": {"version": "2.0"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2}, "indices": 3, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "textures": [{"source": 0}],
        "images": [{"bufferView": 4, "mimeType": "image/png"}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": count, "type": "VEC3", "min": [0.0, -2.0, 0.0], "max": [(n - 1) as f32, 2.0, (n - 1) as f32]},
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5126, "count": count, "type": "VEC2"},
            {"bufferView": 3, "componentType": 5125, "count": index_count, "type": "SCALAR"}
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": normals_off},
            {"buffer": 0, "byteOffset": normals_off, "byteLength": uv_off - normals_off},
            {"buffer": 0, "byteOffset": uv_off, "byteLength": idx_off - uv_off},
            {"buffer": 0, "byteOffset": idx_off, "byteLength": img_off - idx_off},
            {"buffer": 0, "byteOffset": img_off, "byteLength": png.len()}
        ],
        "buffers": [{"byteLength": bin.len()}]
    });
    let mut json = serde_json::to_vec(&json).expect("json");
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let mut glb = Vec::new();
    glb.extend_from_slice(b"glTF");
    glb.extend_from_slice(&2u32.to_le_bytes());
    glb.extend_from_slice(&((12 + 8 + json.len() + 8 + bin.len()) as u32).to_le_bytes());
    glb.extend_from_slice(&(json.len() as u32).to_le_bytes());
    glb.extend_from_slice(b"JSON");
    glb.extend_from_slice(&json);
    glb.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    glb.extend_from_slice(b"BIN\0");
    glb.extend_from_slice(&bin);
    let path = dir.join("grid.glb");
    std::fs::write(&path, glb).expect("write grid.glb");
    path
}

/// Median time of `f` over runs filling about `budget`.
fn median(budget: Duration, mut f: impl FnMut() -> usize) -> Duration {
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || times.len() < 5 {
        let t = Instant::now();
        black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let box_textured = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/khronos/BoxTextured.gltf");
    let dir = std::env::temp_dir().join(format!("sangam-gltf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let grid = grid_glb(256, &dir);
    let files = [("BoxTextured.gltf", box_textured), ("grid256.glb", grid)];

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600));
    for (name, path) in &files {
        let mut g = c.benchmark_group(format!("gltf_import/{name}"));
        g.bench_function("load_gltf", |b| b.iter(|| ours(black_box(path))));
        g.bench_function("baseline_gltf_reader", |b| b.iter(|| baseline(black_box(path))));
        g.finish();
    }
    for (name, path) in &files {
        // Interleave to share machine noise.
        let (mut o, mut b) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            o.push(median(Duration::from_millis(150), || ours(path)));
            b.push(median(Duration::from_millis(150), || baseline(path)));
        }
        o.sort();
        b.sort();
        let ratio = o[1].as_secs_f64() / b[1].as_secs_f64();
        println!("gltf_import {name}: ours {:?}, baseline {:?}, ratio ours/baseline = {ratio:.2}", o[1], b[1]);
    }
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
