//! Set-up that `demo` and `test` need on a fresh machine.
//!
//! Each check looks for the thing itself (a Vulkan driver manifest, an installed Rust target), installs
//! it when it can do so safely (running as root for system packages), and otherwise prints the exact
//! command to run and stops.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Folders where Vulkan ICD manifests are installed by distributions.
const ICD_DIRS: &[&str] = &["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];

/// The Debian package that ships lavapipe (Mesa's software Vulkan driver) and the Vulkan loader.
const LAVAPIPE_PACKAGE: &str = "mesa-vulkan-drivers";

/// The Rust target plugins are built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// Everything `cargo xtask test` needs.
pub fn ensure_all() -> Result<()> {
    ensure_software_vulkan()?;
    ensure_wasm_target()?;
    ensure_xvfb()?;
    ensure_mosquitto()?;
    ensure_gdal()?;
    Ok(())
}

/// The Debian package of GDAL's command-line tools: the export tests open Sangam's GeoTIFF and
/// GeoJSON files with `gdalinfo`, `gdallocationinfo` and `ogrinfo`, as QGIS and GDAL users would.
const GDAL_PACKAGES: &[&str] = &["gdal-bin"];

/// Makes sure GDAL's tools are installed.
pub fn ensure_gdal() -> Result<()> {
    if which("gdalinfo") && which("gdallocationinfo") {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {}", GDAL_PACKAGES.join(" "));
    if !is_root() {
        bail!("GDAL's tools are not installed; the export tests need them.\n  Run: sudo sh -c '{install}'");
    }
    eprintln!("xtask: installing GDAL's tools for the export tests: {install}");
    run_shell("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(GDAL_PACKAGES);
    run_shell_env("apt-get", &args, &[("DEBIAN_FRONTEND", "noninteractive")])
}

/// The Debian packages of the MQTT broker the live-data tests, the demo and the benchmarks run.
const MOSQUITTO_PACKAGES: &[&str] = &["mosquitto", "mosquitto-clients"];

/// Makes sure Mosquitto (the broker) is installed; each test starts its own on a loopback port and
/// stops it after. Not started as a system service.
pub fn ensure_mosquitto() -> Result<()> {
    if Path::new("/usr/sbin/mosquitto").exists() || which("mosquitto") {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {}", MOSQUITTO_PACKAGES.join(" "));
    if !is_root() {
        bail!(
            "the MQTT broker Mosquitto is not installed; the live-data tests need it.\n  Run: sudo sh -c '{install}'"
        );
    }
    eprintln!("xtask: installing the MQTT broker for the live-data tests: {install}");
    run_shell("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(MOSQUITTO_PACKAGES);
    run_shell_env("apt-get", &args, &[("DEBIAN_FRONTEND", "noninteractive")])
}

/// Whether `program` is on the `PATH`.
fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// The Debian packages that give a virtual X display (`xvfb-run`), for the desktop-window test.
const XVFB_PACKAGES: &[&str] = &["xvfb", "xauth"];

/// Makes sure `xvfb-run` exists, so the desktop window front end is tested for real (a window on a virtual
/// X server, presented by lavapipe). Without root it prints the command and the window test is skipped
/// (outside CI) or fails (in CI, where `SANGAM_REQUIRE_XVFB=1`).
pub fn ensure_xvfb() -> Result<()> {
    if Path::new("/usr/bin/xvfb-run").exists() {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {}", XVFB_PACKAGES.join(" "));
    if !is_root() {
        eprintln!(
            "xtask: note: Xvfb is not installed, so the desktop-window test will be skipped. Run: sudo sh -c '{install}'"
        );
        return Ok(());
    }
    eprintln!("xtask: installing a virtual X server for the window test: {install}");
    run_shell("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(XVFB_PACKAGES);
    run_shell_env("apt-get", &args, &[("DEBIAN_FRONTEND", "noninteractive")])
}

/// Makes sure Mesa's software Vulkan driver (lavapipe) and the Vulkan loader are installed, so the
/// renderer has an adapter on a machine without a GPU.
pub fn ensure_software_vulkan() -> Result<()> {
    if has_lavapipe() && has_vulkan_loader() {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {LAVAPIPE_PACKAGE}");
    if !is_root() {
        bail!(
            "Mesa's software Vulkan driver (lavapipe) is not installed; rendering needs it on machines \
             without a GPU driver.\n  Run: sudo sh -c '{install}'\n  then run this task again."
        );
    }
    eprintln!("xtask: installing Mesa's software Vulkan driver: {install}");
    run_shell("apt-get", &["update", "-qq"])?;
    run_shell_env(
        "apt-get",
        &["install", "-y", "-qq", "--no-install-recommends", LAVAPIPE_PACKAGE],
        &[("DEBIAN_FRONTEND", "noninteractive")],
    )?;
    if !has_lavapipe() || !has_vulkan_loader() {
        bail!("installed {LAVAPIPE_PACKAGE} but still found no lavapipe manifest in {ICD_DIRS:?} or no libvulkan.so.1");
    }
    eprintln!("xtask: software Vulkan installed");
    Ok(())
}

/// Makes sure the `wasm32-wasip2` Rust target is installed (plugins are built for it).
pub fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("could not run `rustup target list --installed`; is rustup on PATH?")?;
    let list = String::from_utf8_lossy(&installed.stdout);
    if list.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    let cmd = format!("rustup target add {WASM_TARGET}");
    if !is_root() && !rustup_home_writable() {
        bail!(
            "the Rust target {WASM_TARGET} (for plugins) is not installed.\n  Run: {cmd}\n  then run this task again."
        );
    }
    eprintln!("xtask: installing the Rust target for plugins: {cmd}");
    run_shell("rustup", &["target", "add", WASM_TARGET])
}

fn has_lavapipe() -> bool {
    ICD_DIRS.iter().any(|dir| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with("lvp_icd") && name.ends_with(".json")
                })
            })
            .unwrap_or(false)
    })
}

fn has_vulkan_loader() -> bool {
    // ldconfig knows every library directory of the machine; fall back to the Debian multiarch path.
    if let Ok(out) = Command::new("ldconfig").arg("-p").output()
        && String::from_utf8_lossy(&out.stdout).contains("libvulkan.so.1")
    {
        return true;
    }
    ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib/aarch64-linux-gnu/libvulkan.so.1", "/usr/lib/libvulkan.so.1"]
        .iter()
        .any(|p| Path::new(p).exists())
}

fn is_root() -> bool {
    // The effective uid from /proc avoids an extra dependency for one syscall.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

fn rustup_home_writable() -> bool {
    let home = std::env::var_os("RUSTUP_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup")));
    home.map(|h| std::fs::metadata(&h).map(|m| !m.permissions().readonly()).unwrap_or(false)).unwrap_or(false)
}

fn run_shell(program: &str, args: &[&str]) -> Result<()> {
    run_shell_env(program, args, &[])
}

fn run_shell_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("could not start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed: {status}", args.join(" "));
    }
    Ok(())
}
