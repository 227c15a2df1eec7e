//! Shared helpers for Sangam's end-to-end tests: golden-image comparison and the adapter policy.
//!
//! Golden images live in `tests/golden/`. A test compares its rendering with the stored image under a
//! tolerance (software and hardware rasterisers differ slightly in edges and filtering). To accept a
//! deliberate change of the picture, run the tests with `SANGAM_BLESS=1` and review the new PNGs.

use std::path::{Path, PathBuf};

use image::RgbaImage;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where golden images are stored.
pub fn golden_dir() -> PathBuf {
    workspace_root().join("tests/golden")
}

/// How two images differ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageDiff {
    /// Mean absolute difference per channel (RGB), 0..255.
    pub mean_abs: f64,
    /// Fraction of pixels whose largest channel difference exceeds 48 (clearly different pixels).
    pub changed_fraction: f64,
}

/// Compares two images of the same size channel by channel (RGB).
pub fn diff_images(a: &RgbaImage, b: &RgbaImage) -> Option<ImageDiff> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let mut sum = 0u64;
    let mut changed = 0u64;
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let mut worst = 0u8;
        for c in 0..3 {
            let d = pa.0[c].abs_diff(pb.0[c]);
            sum += u64::from(d);
            worst = worst.max(d);
        }
        if worst > 48 {
            changed += 1;
        }
    }
    let pixels = f64::from(a.width()) * f64::from(a.height());
    Some(ImageDiff { mean_abs: sum as f64 / (pixels * 3.0), changed_fraction: changed as f64 / pixels })
}

/// Tolerance of a golden comparison.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Largest allowed mean absolute channel difference (0..255).
    pub max_mean_abs: f64,
    /// Largest allowed fraction of clearly different pixels.
    pub max_changed_fraction: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { max_mean_abs: 2.5, max_changed_fraction: 0.01 }
    }
}

/// Compares `image` with `tests/golden/<name>.png`. With `SANGAM_BLESS=1` (or when the golden image
/// does not exist yet and `CI` is not set) writes it instead. On failure, writes the actual image to
/// `target/golden-failures/<name>.png` and returns a message saying so.
pub fn check_golden(name: &str, image: &RgbaImage, tol: Tolerance) -> Result<ImageDiff, String> {
    let path = golden_dir().join(format!("{name}.png"));
    let bless = std::env::var_os("SANGAM_BLESS").is_some_and(|v| v == "1");
    let in_ci = std::env::var_os("CI").is_some();
    if bless || (!path.exists() && !in_ci) {
        std::fs::create_dir_all(golden_dir()).map_err(|e| e.to_string())?;
        image.save(&path).map_err(|e| format!("could not write {}: {e}", path.display()))?;
        eprintln!("blessed golden image {}", path.display());
        return Ok(ImageDiff { mean_abs: 0.0, changed_fraction: 0.0 });
    }
    let golden = image::open(&path)
        .map_err(|e| {
            format!("golden image {} is missing or unreadable ({e}); run with SANGAM_BLESS=1", path.display())
        })?
        .to_rgba8();
    let failure_path = workspace_root().join("target/golden-failures").join(format!("{name}.png"));
    let diff = diff_images(&golden, image).ok_or_else(|| {
        format!("{name}: size {:?} differs from the golden image's {:?}", image.dimensions(), golden.dimensions())
    })?;
    if diff.mean_abs > tol.max_mean_abs || diff.changed_fraction > tol.max_changed_fraction {
        let _ = std::fs::create_dir_all(failure_path.parent().unwrap_or(Path::new(".")));
        let _ = image.save(&failure_path);
        return Err(format!(
            "{name} differs from {}: mean abs diff {:.2} (max {:.2}), {:.2}% pixels changed (max {:.2}%); actual image in {}",
            path.display(),
            diff.mean_abs,
            tol.max_mean_abs,
            diff.changed_fraction * 100.0,
            tol.max_changed_fraction * 100.0,
            failure_path.display()
        ));
    }
    Ok(diff)
}

/// Whether rendering tests must fail (not skip) when no GPU adapter is found: under CI they must.
pub fn adapter_required() -> bool {
    std::env::var_os("CI").is_some()
}

/// Fraction of pixels that differ clearly (largest channel difference > 40) from `background`.
pub fn coverage(image: &RgbaImage, background: impl Fn(u32, u32) -> [u8; 3]) -> f64 {
    let mut covered = 0u64;
    for (x, y, p) in image.enumerate_pixels() {
        let bg = background(x, y);
        if (0..3).any(|c| p.0[c].abs_diff(bg[c]) > 40) {
            covered += 1;
        }
    }
    covered as f64 / (f64::from(image.width()) * f64::from(image.height()))
}

/// A headless renderer, or `None` (after saying so loudly) when this machine has no adapter and the
/// tests are not running under CI. Under CI a missing adapter fails the test.
pub fn renderer_or_skip(test: &str) -> Option<sangam_render::gpu::Renderer> {
    match sangam_render::gpu::Renderer::new_headless() {
        Ok(r) => Some(r),
        Err(e) if adapter_required() => panic!("{test}: no GPU adapter under CI ({e}); install mesa-vulkan-drivers"),
        Err(e) => {
            eprintln!("SKIPPED {test}: no GPU adapter ({e}); set CI=1 to make this a failure");
            None
        }
    }
}
