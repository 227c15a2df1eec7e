//! The glTF importer against the Khronos glTF-Validator test corpus and Khronos sample models.
//!
//! Corpus rule (from the corpus README): assets whose validator report has `numErrors == 0` must
//! load; assets with errors must be refused with an error naming the file, or load with at least
//! one warning (the broken part skipped). No asset may panic, hang or decode far more data than it
//! holds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use glam::{Mat4, Vec3};
use sangam_render::gltf_import::{ImportError, load_gltf};
use sangam_render::model::Model;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Valid assets (no validator errors) that are refused on purpose, with the reason.
const UNSUPPORTED_VALID: &[(&str, &str)] = &[];

fn data_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(sub)
}

fn assets(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            assets(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("gltf" | "glb")) {
            out.push(p);
        }
    }
}

enum Outcome {
    Loaded(Model),
    Refused(ImportError),
    Panicked(String),
    Hung,
}

/// Loads `path` on its own thread, catching panics and giving up after [`TIMEOUT`].
fn load_guarded(path: &Path) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| load_gltf(&p)));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(Ok(model))) => Outcome::Loaded(model),
        Ok(Ok(Err(e))) => Outcome::Refused(e),
        Ok(Err(panic)) => Outcome::Panicked(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into()),
        ),
        Err(_) => Outcome::Hung,
    }
}

fn num_errors(asset: &Path) -> u64 {
    let report = PathBuf::from(format!("{}.report.json", asset.display()));
    let text = std::fs::read(&report).unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    v["issues"]["numErrors"].as_u64().unwrap_or_else(|| panic!("{}: no issues.numErrors", report.display()))
}

#[test]
fn validator_corpus() {
    let root = data_dir("gltf-validator");
    let mut files = Vec::new();
    assets(&root, &mut files);
    assert!(files.len() > 150, "corpus missing under {}: {} assets", root.display(), files.len());

    let mut failures = Vec::new();
    let (mut loaded, mut warned, mut refused, mut valid, mut invalid, mut invalid_loaded_with_warning) =
        (0, 0, 0, 0, 0, 0);
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let errors = num_errors(path);
        let file_bytes = std::fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0);
        if errors == 0 {
            valid += 1;
        } else {
            invalid += 1;
        }
        let allowed_refusal = UNSUPPORTED_VALID.iter().find(|(name, _)| *name == rel);
        match load_guarded(path) {
            Outcome::Loaded(model) => {
                loaded += 1;
                if !model.warnings.is_empty() {
                    warned += 1;
                }
                let bound = 64 * file_bytes + (64 << 20);
                if model.decoded_bytes() > bound {
                    failures
                        .push(format!("{rel}: decoded {} bytes from a {file_bytes}-byte file", model.decoded_bytes()));
                }
                if errors > 0 {
                    if model.warnings.is_empty() {
                        failures.push(format!("{rel}: has {errors} validator error(s) but loaded without any warning"));
                    } else {
                        invalid_loaded_with_warning += 1;
                    }
                }
                if allowed_refusal.is_some() {
                    failures.push(format!("{rel}: listed as unsupported but loads; remove it from the list"));
                }
            }
            Outcome::Refused(e) => {
                refused += 1;
                let msg = e.to_string();
                if !msg.contains(&path.display().to_string()) {
                    failures.push(format!("{rel}: error does not name the file: {msg}"));
                }
                if errors == 0 && allowed_refusal.is_none() {
                    failures.push(format!("{rel}: valid asset refused: {msg}"));
                }
            }
            Outcome::Panicked(msg) => failures.push(format!("{rel}: PANIC: {msg}")),
            Outcome::Hung => failures.push(format!("{rel}: did not finish within {TIMEOUT:?}")),
        }
    }
    println!(
        "glTF validator corpus: {} assets ({valid} valid, {invalid} with errors): {loaded} loaded ({warned} with \
         warnings; {invalid_loaded_with_warning} of them invalid assets with the broken part skipped), {refused} \
         refused",
        files.len()
    );
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

fn khronos(name: &str) -> Model {
    let path = data_dir("khronos").join(name);
    match load_guarded(&path) {
        Outcome::Loaded(m) => m,
        Outcome::Refused(e) => panic!("{name}: {e}"),
        Outcome::Panicked(p) => panic!("{name}: panic {p}"),
        Outcome::Hung => panic!("{name}: hung"),
    }
}

#[test]
fn box_is_z_up() {
    let m = khronos("Box.gltf");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(m.name, "Box.gltf");
    assert_eq!(m.triangle_count(), 12);
    assert_eq!(m.instances.len(), 1);
    // The Box mesh is authored +Z up and its root node turns it +Y up for glTF; converting back to
    // Sangam's +Z up must cancel that rotation exactly.
    assert!(m.instances[0].transform.abs_diff_eq(Mat4::IDENTITY, 1e-6), "{:?}", m.instances[0].transform);
    assert!(m.bounds.min.abs_diff_eq(Vec3::splat(-0.5), 1e-6) && m.bounds.max.abs_diff_eq(Vec3::splat(0.5), 1e-6));
    // Exactly one face (4 vertices) faces +Z in model space, and it is the top one (z = +0.5).
    let t = m.instances[0].transform;
    let p = &m.meshes[0].primitives[0];
    let top: Vec<Vec3> = p
        .normals
        .iter()
        .zip(&p.positions)
        .filter(|(n, _)| t.transform_vector3(Vec3::from(**n)).abs_diff_eq(Vec3::Z, 1e-6))
        .map(|(_, pos)| t.transform_point3(Vec3::from(*pos)))
        .collect();
    assert_eq!(top.len(), 4);
    assert!(top.iter().all(|p| (p.z - 0.5).abs() < 1e-6), "{top:?}");
}

#[test]
fn box_textured_has_its_texture() {
    let m = khronos("BoxTextured.gltf");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(m.textures.len(), 1);
    let t = &m.textures[0];
    // The embedded PNG is 211 x 211 (read its IHDR independently).
    assert_eq!((t.width, t.height), (211, 211));
    assert_eq!(t.rgba8.len(), 211 * 211 * 4);
    assert!(t.rgba8.chunks_exact(4).any(|px| px != &t.rgba8[..4]), "texture is not a flat colour");
    let mat = &m.materials[m.meshes[0].primitives[0].material.expect("material")];
    assert_eq!(mat.base_color_texture.map(|r| (r.texture, r.tex_coord)), Some((0, 0)));
    let uv = &m.meshes[0].primitives[0].uv0;
    assert!(uv.iter().any(|u| u[0] > 0.0) && uv.iter().all(|u| u.iter().all(|c| c.is_finite())));
}

#[test]
fn sparse_accessor_is_applied() {
    let path = data_dir("khronos").join("SimpleSparseAccessor.gltf");
    let sparse = khronos("SimpleSparseAccessor.gltf");
    assert!(sparse.warnings.is_empty(), "{:?}", sparse.warnings);
    // The same file with the sparse substitution removed gives the base positions.
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let acc = doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"].as_u64().expect("POSITION") as usize;
    let sparse_count = doc["accessors"][acc]["sparse"]["count"].as_u64().expect("sparse count") as usize;
    doc["accessors"][acc].as_object_mut().expect("accessor").remove("sparse");
    let base = sangam_render::gltf_import::load_gltf_from_slice(
        &serde_json::to_vec(&doc).expect("json"),
        None,
        "SimpleSparseAccessor-base.gltf",
    )
    .expect("base loads");
    let (a, b) = (&sparse.meshes[0].primitives[0].positions, &base.meshes[0].primitives[0].positions);
    assert_eq!(a.len(), b.len());
    // Flat normals un-index the mesh, so compare per triangle corner, then count distinct vertices.
    let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    let mut moved: Vec<[f32; 3]> = changed.iter().map(|&i| b[i]).collect();
    moved.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
    moved.dedup();
    assert_eq!(moved.len(), sparse_count, "changed corners {changed:?}");
    // The sample lifts the substituted vertices (it draws two bumps on a flat strip).
    assert!(changed.iter().all(|&i| a[i][1] > b[i][1]), "{changed:?}");
    assert!(sparse.bounds.max.z > base.bounds.max.z);
}

#[test]
fn texture_coordinate_test_loads() {
    let m = khronos("TextureCoordinateTest.gltf");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert!(!m.textures.is_empty() && m.textures.iter().all(|t| t.rgba8.len() == (t.width * t.height * 4) as usize));
    assert!(m.instances.len() >= 5, "{}", m.instances.len());
    assert!(m.meshes.iter().flat_map(|x| &x.primitives).all(|p| p.uv0.len() == p.positions.len()));
}

#[test]
fn skins_morphs_and_animations_load_with_warnings() {
    for (name, expect) in
        [("SimpleSkin.gltf", "skin"), ("SimpleMorph.gltf", "morph target"), ("AnimatedTriangle.gltf", "animation")]
    {
        let m = khronos(name);
        assert!(m.triangle_count() > 0, "{name}");
        assert!(m.warnings.iter().any(|w| w.contains(expect)), "{name}: {:?}", m.warnings);
        assert!(!m.bounds.is_empty(), "{name}");
    }
}
