//! The `sangam` command line as a user runs it: exit codes, messages that name the file and place,
//! and the images it writes.

use crate::can_render;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sangam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sangam")).args(args).output().expect("the sangam binary runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sangam-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unknown_scene_key_is_exit_1_with_file_line_and_column() {
    let dir = temp_dir("unknown-key");
    let scene = dir.join("scene.toml");
    std::fs::write(&scene, "format = 1\nname = \"x\"\n\n[origin]\nlat = 28.5\nlon = 77.2\nlattitude = 3\n").unwrap();
    let out = sangam(&["render", scene.to_str().unwrap(), "-o", dir.join("x.png").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("scene.toml"), "message names the file: {err}");
    assert!(err.contains(":7:"), "message names line 7: {err}");
    assert!(err.contains("lattitude"), "message names the key: {err}");
}

#[test]
fn missing_scene_file_is_exit_1_naming_it() {
    let out = sangam(&["render", "/nonexistent/site/scene.toml", "-o", "/tmp/never.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent/site/scene.toml"), "{}", stderr(&out));
}

#[test]
fn bad_size_is_exit_1() {
    let out = sangam(&["render", "x.glb", "--size", "12x0", "-o", "/tmp/never.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("1 to 8192"), "{}", stderr(&out));
}

#[test]
fn corrupt_glb_is_exit_1_not_a_panic() {
    let dir = temp_dir("corrupt");
    let glb = dir.join("broken.glb");
    let mut bytes = std::fs::read(root().join("assets/models/monopole.glb")).expect("monopole.glb is in assets");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&glb, &bytes).unwrap();
    let out = sangam(&["render", glb.to_str().unwrap(), "-o", dir.join("x.png").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("broken.glb"), "{}", stderr(&out));
}

#[test]
fn unknown_bookmark_lists_the_real_ones() {
    let scene = root().join("assets/sites/new-delhi-ina/scene.toml");
    let out = sangam(&["render", scene.to_str().unwrap(), "--bookmark", "nowhere", "-o", "/tmp/never.png"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("nowhere") && err.contains("overview"), "{err}");
}

#[test]
fn bare_glb_renders_framed_png_and_stereo_is_twice_as_wide() {
    if !can_render() {
        return;
    }
    let dir = temp_dir("glb");
    let glb = root().join("assets/models/lattice_tower.glb");
    let mono = dir.join("tower.png");
    let out = sangam(&["render", glb.to_str().unwrap(), "--size", "160x120", "-o", mono.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let img = image::open(&mono).expect("a PNG was written").to_rgba8();
    assert_eq!(img.dimensions(), (160, 120));
    let distinct: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(distinct.len() > 20, "the framed tower should be visible, found {} colours", distinct.len());

    let stereo = dir.join("tower-stereo.png");
    let out =
        sangam(&["render", glb.to_str().unwrap(), "--size", "160x120", "--stereo", "-o", stereo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(image::open(&stereo).unwrap().to_rgba8().dimensions(), (320, 120));
}

#[test]
fn all_bookmarks_into_a_folder() {
    if !can_render() {
        return;
    }
    let dir = temp_dir("all");
    let scene = root().join("assets/sites/new-delhi-ina/scene.toml");
    let out = sangam(&[
        "render",
        scene.to_str().unwrap(),
        "--bookmark",
        "all",
        "--size",
        "64x48",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    for name in ["overview", "street", "tower"] {
        assert!(dir.join(format!("{name}.png")).exists(), "{name}.png written");
    }
}
