//! A real OpenXR runtime for the XR tests: Monado (Debian trixie packages) in a `debootstrap`
//! chroot, started with its null compositor and a simulated headset and controllers.
//!
//! - The chroot is built once and cached outside the clone, in `/var/cache/sangam/monado-trixie`
//!   (override with `SANGAM_MONADO_CHROOT`); a stamp file records the recipe, so it is reused.
//! - The Debian mirror comes from this machine's apt configuration (override with
//!   `SANGAM_DEBIAN_MIRROR`); nothing names a host here.
//! - For a run, `/proc`, `/sys` and `/dev` are mounted into the chroot and always unmounted after
//!   (also on failure); `monado-service` and the test binaries (built on the host, copied in) run
//!   with the same `XDG_RUNTIME_DIR`, and monado is stopped at the end.
//! - With `vulkan-validationlayers` in the chroot the tests run under `VK_LAYER_KHRONOS_validation`
//!   and any validation error fails the run.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Bump when the package list or set-up steps change: a chroot with another stamp is rebuilt.
const RECIPE: &str = "sangam-monado-trixie-1";
/// Packages installed into the chroot.
const PACKAGES: &[&str] = &[
    "monado-service",
    "libopenxr1-monado",
    "libopenxr-loader1",
    "mesa-vulkan-drivers",
    "libvulkan1",
    "vulkan-validationlayers",
    "procps",
];
/// `XDG_RUNTIME_DIR` inside the chroot, shared by monado-service and the tests.
const RUNTIME_DIR: &str = "/run/sangam-xr";
/// Where the host-built binaries are copied inside the chroot.
const BIN_DIR: &str = "/opt/sangam";
/// Validation messages filtered (see `run_xr_tests`): known false positives of the chroot's layer.
const VVL_FALSE_POSITIVES: &str = "VUID-vkCmdCopyBufferToImage-pRegions-00173";

/// The validation layer's manifest inside the chroot.
const VALIDATION_MANIFEST: &str = "usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json";

/// The chroot's folder.
pub fn chroot_dir() -> PathBuf {
    std::env::var_os("SANGAM_MONADO_CHROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/sangam/monado-trixie"))
}

fn stamp_path(dir: &Path) -> PathBuf {
    dir.join("etc/sangam-monado.stamp")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn run(step: &str, cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("{step}: could not start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

/// The Debian mirror from apt's configuration: the first `deb` source for a Debian archive (not a
/// security or third-party repository) in `/etc/apt/sources.list` or `/etc/apt/sources.list.d/`.
pub fn debian_mirror() -> Result<String> {
    if let Ok(m) = std::env::var("SANGAM_DEBIAN_MIRROR")
        && !m.trim().is_empty()
    {
        return Ok(m.trim().to_string());
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "list" || x == "sources"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for file in &files {
        let Ok(text) = fs::read_to_string(file) else { continue };
        let found = if file.extension().is_some_and(|x| x == "sources") {
            mirror_from_deb822(&text)
        } else {
            mirror_from_one_line(&text)
        };
        if let Some(m) = found {
            return Ok(m);
        }
    }
    bail!(
        "found no Debian archive in the apt configuration ({}); set SANGAM_DEBIAN_MIRROR to a Debian mirror URL",
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

/// Whether `uri` with `suites` looks like the main Debian archive.
fn is_debian_archive(uri: &str, suites: &[&str]) -> bool {
    let debian_suite = |s: &&str| {
        let base = s.split('-').next().unwrap_or(s);
        ["bookworm", "trixie", "forky", "sid", "bullseye", "stable", "testing", "unstable", "oldstable"].contains(&base)
    };
    (uri.starts_with("http://") || uri.starts_with("https://"))
        && !uri.contains("security")
        && uri.trim_end_matches('/').ends_with("/debian")
        && suites.iter().any(debian_suite)
        && !suites.iter().any(|s| s.contains("security"))
}

fn mirror_from_one_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let mut parts = line.split_whitespace();
        if parts.next()? != "deb" {
            return None;
        }
        let mut uri = parts.next()?;
        if uri.starts_with('[') {
            // Options in brackets: skip to the word after the closing bracket.
            while !uri.ends_with(']') {
                uri = parts.next()?;
            }
            uri = parts.next()?;
        }
        let suite = parts.next()?;
        is_debian_archive(uri, &[suite]).then(|| uri.trim_end_matches('/').to_string())
    })
}

fn mirror_from_deb822(text: &str) -> Option<String> {
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let l = l.trim_start();
                if l.starts_with('#') {
                    return None;
                }
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        if field("Enabled").is_some_and(|v| v.eq_ignore_ascii_case("no")) {
            continue;
        }
        if !field("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb")) {
            continue;
        }
        let (Some(uris), Some(suites)) = (field("URIs"), field("Suites")) else { continue };
        let suites: Vec<&str> = suites.split_whitespace().collect();
        if let Some(uri) = uris.split_whitespace().find(|u| is_debian_archive(u, &suites)) {
            return Some(uri.trim_end_matches('/').to_string());
        }
    }
    None
}

/// Makes sure the Monado chroot exists (building it when absent, which needs root), and returns its
/// folder.
pub fn ensure_chroot() -> Result<PathBuf> {
    let dir = chroot_dir();
    if fs::read_to_string(stamp_path(&dir)).is_ok_and(|s| s.lines().next() == Some(RECIPE)) {
        return Ok(dir);
    }
    let mirror = debian_mirror()?;
    if !is_root() {
        bail!(
            "the XR tests need a Monado chroot at {} (absent). Building it needs root:\n  sudo cargo xtask monado\n\
             or by hand: apt-get install debootstrap && debootstrap --variant=minbase trixie {} {mirror} && chroot {} \
             apt-get install -y --no-install-recommends {}",
            dir.display(),
            dir.display(),
            dir.display(),
            PACKAGES.join(" ")
        );
    }
    if Command::new("debootstrap").arg("--version").output().is_err() {
        eprintln!("xtask: installing debootstrap (apt-get install debootstrap)");
        run("apt-get update", Command::new("apt-get").args(["update", "-qq"]))?;
        run(
            "installing debootstrap",
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "debootstrap"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    let partial = dir.with_extension("partial");
    if partial.exists() {
        if !mounts_under(&partial)?.is_empty() {
            bail!("{} has file systems mounted in it; unmount them before rebuilding", partial.display());
        }
        fs::remove_dir_all(&partial).with_context(|| format!("removing the half-built {}", partial.display()))?;
    }
    if let Some(parent) = partial.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let t0 = Instant::now();
    eprintln!("xtask: building the Monado chroot: debootstrap --variant=minbase trixie {} {mirror}", partial.display());
    run("debootstrap", Command::new("debootstrap").args(["--variant=minbase", "trixie"]).arg(&partial).arg(&mirror))?;
    let t_boot = t0.elapsed();
    eprintln!("xtask: installing {} in the chroot", PACKAGES.join(" "));
    let script = format!(
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends {} && apt-get clean",
        PACKAGES.join(" ")
    );
    run(
        "installing Monado in the chroot",
        Command::new("chroot")
            .arg(&partial)
            .args(["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive"])
            .args(["sh", "-c", &script]),
    )?;
    fs::write(stamp_path(&partial), format!("{RECIPE}\nmirror {mirror}\n"))
        .with_context(|| format!("writing the stamp in {}", partial.display()))?;
    if dir.exists() {
        if !mounts_under(&dir)?.is_empty() {
            bail!("{} has file systems mounted in it; unmount them before rebuilding", dir.display());
        }
        fs::remove_dir_all(&dir).with_context(|| format!("removing the outdated {}", dir.display()))?;
    }
    fs::rename(&partial, &dir).with_context(|| format!("moving {} to {}", partial.display(), dir.display()))?;
    eprintln!(
        "xtask: Monado chroot ready in {} (debootstrap {:.0} s, packages {:.0} s)",
        dir.display(),
        t_boot.as_secs_f64(),
        (t0.elapsed() - t_boot).as_secs_f64()
    );
    Ok(dir)
}

/// Mount points at or below `dir`, deepest first.
fn mounts_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let text = fs::read_to_string("/proc/mounts").context("reading /proc/mounts")?;
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(&canon))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    Ok(found)
}

/// `/proc`, `/sys` and `/dev` mounted into the chroot; unmounted when dropped.
struct Mounts {
    points: Vec<PathBuf>,
}

impl Mounts {
    fn new(root: &Path) -> Result<Mounts> {
        let mut m = Mounts { points: Vec::new() };
        for (target, args) in
            [("proc", vec!["-t", "proc", "proc"]), ("sys", vec!["--bind", "/sys"]), ("dev", vec!["--bind", "/dev"])]
        {
            let point = root.join(target);
            fs::create_dir_all(&point).with_context(|| format!("creating {}", point.display()))?;
            let ok = Command::new("mount").args(&args).arg(&point).status().is_ok_and(|s| s.success());
            let ok = ok
                || (target == "proc"
                    && Command::new("mount").args(["--bind", "/proc"]).arg(&point).status().is_ok_and(|s| s.success()));
            if !ok {
                bail!("could not mount {} into the chroot ({:?})", point.display(), args);
            }
            m.points.push(point);
        }
        Ok(m)
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for point in self.points.iter().rev() {
            let ok = Command::new("umount").arg(point).status().is_ok_and(|s| s.success());
            if !ok {
                // Busy (a straggling process): detach it so the chroot can still be removed later.
                let lazy = Command::new("umount").arg("-l").arg(point).status().is_ok_and(|s| s.success());
                if !lazy {
                    eprintln!("xtask: warning: could not unmount {}; unmount it by hand", point.display());
                }
            }
        }
    }
}

/// A running `monado-service`; killed when dropped.
struct Monado {
    child: Child,
    log: PathBuf,
}

impl Monado {
    fn start(root: &Path) -> Result<Monado> {
        let run_dir = root.join(RUNTIME_DIR.trim_start_matches('/'));
        let _ = fs::remove_dir_all(&run_dir);
        fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
        let log = root.join("tmp/sangam-monado.log");
        let out = fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new("chroot")
            .arg(root)
            .args(["/usr/bin/env", "-i"])
            .args(base_env())
            .args([
                "XRT_COMPOSITOR_NULL=1",
                "SIMULATED_ENABLE=1",
                "SIMULATED_LEFT=simple",
                "SIMULATED_RIGHT=simple",
                "XRT_NO_STDIN=1",
                "monado-service",
            ])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting monado-service in the chroot")?;
        let mut monado = Monado { child, log };
        let socket = run_dir.join("monado_comp_ipc");
        let start = Instant::now();
        while !socket.exists() {
            if let Some(status) = monado.child.try_wait()? {
                bail!("monado-service exited at start ({status}); its log:\n{}", monado.log_text());
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("monado-service did not open {} within 30 s; its log:\n{}", socket.display(), monado.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "xtask: monado-service running (pid {}), up in {:.1} s",
            monado.child.id(),
            start.elapsed().as_secs_f64()
        );
        Ok(monado)
    }

    fn log_text(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Monado {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Environment shared by monado-service and the tests in the chroot.
fn base_env() -> Vec<String> {
    vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into(), "HOME=/root".into(), format!("XDG_RUNTIME_DIR={RUNTIME_DIR}")]
}

/// Builds the XR test binaries on the host, returning (the `runtime` test binary, the `xr` binary, the
/// `sangam` binary).
///
/// One `cargo test --workspace --all-targets --no-run`: the same invocation as `cargo xtask test`'s test
/// stage, so feature unification is identical and nothing is rebuilt (building single packages here
/// unified fewer features and recompiled wgpu and wasmtime: about 10 minutes of CI).
fn build_binaries(root: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--workspace", "--all-targets", "--no-run", "--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("building the XR tests and binaries")?;
    if !output.status.success() {
        bail!("building the XR tests and binaries failed");
    }
    // `test`: whether the artifact is a test harness (`cargo test` also builds each bin as one).
    let find = |package: &str, kind: &str, name: &str, test: bool| -> Option<PathBuf> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|v| {
                let target = v.get("target")?;
                let ok = v.get("package_id")?.as_str()?.contains(package)
                    && target.get("name")?.as_str()? == name
                    && target.get("kind")?.as_array()?.iter().any(|k| k.as_str() == Some(kind))
                    && v.get("profile")?.get("test")?.as_bool()? == test;
                ok.then(|| v.get("executable")?.as_str().map(PathBuf::from))?
            })
    };
    let tests = find("runtime/xr", "test", "runtime", true).context("cargo did not name the XR test binary")?;
    let xr = find("runtime/xr", "bin", "xr", false).context("cargo did not name the xr binary")?;
    let app = find("runtime/app", "bin", "sangam", false).context("cargo did not name the sangam binary")?;
    Ok((tests, xr, app))
}

/// Runs one command in the chroot with the shared environment (plus `extra`), echoing its output
/// and returning (success, combined output).
fn run_in_chroot(root: &Path, extra: &[String], args: &[&str], limit: Duration) -> Result<(bool, String)> {
    run_in_chroot_watching(root, extra, args, limit, &mut |_| {})
}

/// [`run_in_chroot`], calling `on_line` with each output line as it arrives, so that a test can act on
/// what the program says while it runs (e.g. start the runtime again once the program reports its loss).
fn run_in_chroot_watching(
    root: &Path,
    extra: &[String],
    args: &[&str],
    limit: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<(bool, String)> {
    let mut child = Command::new("chroot")
        .arg(root)
        .args(["/usr/bin/env", "-i"])
        .args(base_env())
        .args(extra)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the XR tests in the chroot")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let pipes: Vec<Box<dyn std::io::Read + Send>> =
        vec![Box::new(child.stdout.take().context("stdout")?), Box::new(child.stderr.take().context("stderr")?)];
    let readers: Vec<_> = pipes
        .into_iter()
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(p).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            })
        })
        .collect();
    drop(tx);
    let start = Instant::now();
    let mut text = String::new();
    let status = loop {
        while let Ok(line) = rx.try_recv() {
            eprintln!("  {line}");
            on_line(&line);
            text.push_str(&line);
            text.push('\n');
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the XR tests ran longer than {limit:?} and were stopped");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for r in readers {
        let _ = r.join();
    }
    for line in rx.try_iter() {
        eprintln!("  {line}");
        on_line(&line);
        text.push_str(&line);
        text.push('\n');
    }
    let _ = std::io::stderr().flush();
    Ok((status.success(), text))
}

/// Builds the chroot if needed, starts Monado, runs the XR tests against it (the fault tests last,
/// each on its own Monado, since they kill or freeze it), and cleans up: Monado stopped, file systems unmounted.
pub fn run_xr_tests(workspace: &Path) -> Result<()> {
    let root = ensure_chroot()?;
    let (tests, xr, app) = build_binaries(workspace)?;
    let bin_dir = root.join(BIN_DIR.trim_start_matches('/'));
    fs::create_dir_all(&bin_dir).with_context(|| format!("creating {}", bin_dir.display()))?;
    let tests_in = bin_dir.join("sangam-xr-runtime-tests");
    let xr_in = bin_dir.join("xr");
    fs::copy(&tests, &tests_in).with_context(|| format!("copying {} into the chroot", tests.display()))?;
    fs::copy(&xr, &xr_in).with_context(|| format!("copying {} into the chroot", xr.display()))?;
    let validation = root.join(VALIDATION_MANIFEST).exists();
    let mut env = vec![format!("SANGAM_XR_BIN={BIN_DIR}/xr"), "RUST_LOG=info,wgpu=warn,naga=warn".into()];
    if validation {
        env.push("VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation".into());
        // One known false positive of the chroot's layer (Debian trixie's 1.4.309) is filtered, by its
        // VUID only: its buffer-to-image overlap check computes the copied range from the padded row
        // length and places the image at the start of its memory block, so a texture upload whose rows
        // wgpu pads to 256 bytes (a 133-cell heatmap) "overlaps" a staging buffer elsewhere in the
        // same block (Vulkan-ValidationLayers issue 9537, fixed after 1.4.309).
        env.push(format!("VK_LAYER_MESSAGE_ID_FILTER={VVL_FALSE_POSITIVES}"));
        eprintln!("xtask: the XR tests run under the Vulkan validation layer");
    } else {
        eprintln!("xtask: warning: no Vulkan validation layer in the chroot; running without it");
    }
    let tests_path = format!("{BIN_DIR}/sangam-xr-runtime-tests");
    let _mounts = Mounts::new(&root)?;
    let t0 = Instant::now();
    let (ok, text) = {
        let _monado = Monado::start(&root)?;
        run_in_chroot(
            &root,
            &env,
            &[
                &tests_path,
                "--ignored",
                "--test-threads=1",
                "--skip",
                "runtime_lost",
                "--skip",
                "frozen_runtime",
                "--nocapture",
            ],
            Duration::from_secs(600),
        )?
    };
    if !ok {
        bail!("XR tests against Monado failed (output above)");
    }
    // These two break the runtime (kill / freeze it), so each gets a fresh monado-service.
    let mut fault_text = String::new();
    for test in ["runtime_lost_mid_session_exits_cleanly", "frozen_runtime_does_not_hang"] {
        let monado = Monado::start(&root)?;
        let mut fault_env = env.clone();
        fault_env.push(format!("SANGAM_MONADO_PID={}", monado.child.id()));
        let (fault_ok, out) = run_in_chroot(
            &root,
            &fault_env,
            &[&tests_path, "--ignored", "--exact", test, "--nocapture"],
            Duration::from_secs(300),
        )?;
        drop(monado);
        if !fault_ok {
            bail!("the XR fault test {test} failed (output above)");
        }
        fault_text.push_str(&out);
    }
    // The real application: the demo site with its plugins in an XR session.
    let app_text = run_site_in_xr(&root, workspace, &app, &env)?;
    let validation_errors: Vec<&str> = text
        .lines()
        .chain(fault_text.lines())
        .chain(app_text.lines())
        .filter(|l| l.contains("Validation Error"))
        .collect();
    if !validation_errors.is_empty() {
        bail!(
            "the XR tests raised {} Vulkan validation errors, first: {}",
            validation_errors.len(),
            validation_errors[0]
        );
    }
    eprintln!(
        "xtask: XR tests against Monado passed in {:.0} s{}",
        t0.elapsed().as_secs_f64(),
        if validation { ", no Vulkan validation errors" } else { "" }
    );
    Ok(())
}

/// Copies the `sangam` binary, the demo site (the repository layout its relative paths expect, under
/// /opt/sangam/repo) and the built plugins into the chroot. Returns (environment, scene path, binary
/// path), as seen inside the chroot.
fn prepare_site(root: &Path, workspace: &Path, app: &Path, env: &[String]) -> Result<(Vec<String>, String, String)> {
    // The repository layout the scene's relative paths expect, under /opt/sangam/repo.
    let repo = root.join(BIN_DIR.trim_start_matches('/')).join("repo");
    if repo.exists() {
        fs::remove_dir_all(&repo).with_context(|| format!("clearing {}", repo.display()))?;
    }
    copy_dir(&workspace.join("assets"), &repo.join("assets"))?;
    for entry in fs::read_dir(workspace.join("plugins")).context("listing plugins/")? {
        let dir = entry?.path();
        let manifest = dir.join("plugin.toml");
        if manifest.is_file() {
            let to = repo.join("plugins").join(dir.file_name().context("plugin folder name")?);
            fs::create_dir_all(&to)?;
            fs::copy(&manifest, to.join("plugin.toml"))?;
        }
    }
    let wasm_dir = repo.join("wasm");
    fs::create_dir_all(&wasm_dir)?;
    for wasm in crate::plugins::build_plugins()? {
        fs::copy(&wasm, wasm_dir.join(wasm.file_name().context("component name")?))?;
    }
    let app_in = root.join(BIN_DIR.trim_start_matches('/')).join("sangam");
    fs::copy(app, &app_in).with_context(|| format!("copying {} into the chroot", app.display()))?;
    let mut app_env = env.to_vec();
    app_env.push(format!("SANGAM_PLUGIN_PATH={BIN_DIR}/repo/wasm"));
    let scene = format!("{BIN_DIR}/repo/assets/sites/new-delhi-ina/scene.toml");
    let app_path = format!("{BIN_DIR}/sangam");
    Ok((app_env, scene, app_path))
}

/// Runs `sangam run SCENE --xr` on the demo site (with its plugins) against a fresh Monado and checks
/// what a user would: it chose XR and said why, submitted the frames asked for, and the plugins ran
/// without faults; then kills Monado mid-session and checks the site goes on headless, and returns to
/// XR when Monado is started again. Returns the output.
fn run_site_in_xr(root: &Path, workspace: &Path, app: &Path, env: &[String]) -> Result<String> {
    let (app_env, scene, app_path) = prepare_site(root, workspace, app, env)?;
    let t0 = Instant::now();
    // The caller holds the chroot's mounts.
    let (ok, text) = {
        let _monado = Monado::start(root)?;
        run_in_chroot(
            root,
            &app_env,
            &[&app_path, "run", &scene, "--xr", "--frames", "120", "--stats"],
            Duration::from_secs(300),
        )?
    };
    if !ok {
        bail!("`sangam run --xr` on the demo site failed against Monado (output above)");
    }
    type LineCheck = Box<dyn Fn(&str) -> bool>;
    let checks: [(&str, LineCheck); 4] = [
        (
            "chose XR and named the runtime",
            Box::new(|l: &str| l.starts_with("front end: xr (--xr given; OpenXR runtime: ")),
        ),
        (
            "submitted the 120 frames asked for",
            Box::new(|l: &str| {
                l.starts_with("xr: ")
                    && l.strip_suffix(" frames submitted")
                        .and_then(|rest| rest.rsplit(' ').next())
                        .and_then(|n| n.parse::<u64>().ok())
                        .is_some_and(|n| n >= 120)
            }),
        ),
        (
            "ran the simulation plugin without faults",
            Box::new(|l: &str| {
                l.contains("plugin cell-load (simulation): running;") && l.ends_with(" 0 faults, 0 restarts")
            }),
        ),
        (
            "ran the overlay plugin without faults",
            Box::new(|l: &str| {
                l.contains("plugin load-labels (overlay): running;") && l.ends_with(" 0 faults, 0 restarts")
            }),
        ),
    ];
    for (what, check) in &checks {
        if !text.lines().any(|l| check(l.trim())) {
            bail!("`sangam run --xr` on the demo site: expected it {what}; output above");
        }
    }
    eprintln!(
        "xtask: `sangam run --xr` ran the demo site with its plugins on Monado in {:.0} s",
        t0.elapsed().as_secs_f64()
    );

    // The runtime dies mid-show: the site goes on headless, with the same plugins, and says why; when
    // the runtime is started again the site returns to XR. Monado is started again as soon as the app
    // reports the fallback (not after a fixed delay), so the test does not depend on how fast this
    // machine renders the fallback's frames: it has 200 of them (4 s or more) to notice the runtime,
    // which it probes once a second.
    let t1 = Instant::now();
    let (ok, lost_text) = {
        let monado = Monado::start(root)?;
        let pid = monado.child.id().to_string();
        let restart_root = root.to_path_buf();
        let (fell_back_tx, fell_back_rx) = std::sync::mpsc::channel::<()>();
        let restarter = std::thread::spawn(move || -> Result<Option<Monado>> {
            std::thread::sleep(Duration::from_secs(4));
            Command::new("kill").args(["-KILL", &pid]).status().context("killing monado-service")?;
            match fell_back_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(()) => Monado::start(&restart_root).map(Some),
                // The app never reported the fallback (or ended): the checks below say what is missing.
                Err(_) => Ok(None),
            }
        });
        let mut fell_back_tx = Some(fell_back_tx);
        let result = run_in_chroot_watching(
            root,
            &app_env,
            &[&app_path, "run", &scene, "--xr", "--frames", "200", "--size", "160x120", "--stats"],
            Duration::from_secs(300),
            &mut |line| {
                if line.trim_start().starts_with("front end: headless (after XR ended: ")
                    && let Some(tx) = fell_back_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        );
        drop(fell_back_tx);
        let restarted = restarter.join().map_err(|_| anyhow::anyhow!("the monado restart thread panicked"))?;
        drop(monado);
        drop(restarted?);
        result?
    };
    if !ok {
        bail!("`sangam run --xr` did not survive losing the runtime (output above)");
    }
    let lines: Vec<&str> = lost_text.lines().map(str::trim).collect();
    let fell_back = lines.iter().position(|l| l.starts_with("front end: headless (after XR ended: "));
    let went_on = lines.iter().position(|l| l.starts_with("headless: rendered "));
    let returned = lines.iter().position(|l| l.starts_with("front end: xr (the OpenXR runtime is back: "));
    let second_session = returned.and_then(|r| lines[r..].iter().position(|l| l.ends_with(" frames submitted")));
    let plugins_on = lines.iter().any(|l| l.contains("plugin cell-load (simulation): running;"));
    let in_order = matches!((fell_back, went_on, returned), (Some(f), Some(w), Some(r)) if f < w && w < r);
    if !(in_order && second_session.is_some() && plugins_on) {
        bail!(
            "after monado-service was killed and started again, expected `sangam run --xr` to fall back to headless \
             ({fell_back:?}), render there ({went_on:?}), return to XR ({returned:?}) and submit frames in a new \
             session ({second_session:?}), the plugins still running ({plugins_on}); output above"
        );
    }
    eprintln!(
        "xtask: monado-service killed mid-session: `sangam run` fell back to headless, returned to XR when it was \
         started again, and finished in {:.0} s",
        t1.elapsed().as_secs_f64()
    );
    Ok(text + &lost_text)
}

/// The mean (milliseconds) after `key` in the first output line containing it, e.g. `"app update mean "`.
fn mean_after(text: &str, key: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = &l[l.find(key)? + key.len()..];
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// `cargo xtask bench-xr`: CPU time per XR frame on the demo site (the runtime-independent part: app
/// update, then cull and encode of both eyes) against the same site rendered headless at the eye size, in
/// the same run, with release builds, against Monado in the chroot. Prints the numbers and the ratio.
pub fn bench_xr(workspace: &Path) -> Result<()> {
    let root = ensure_chroot()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--package",
            "sangam",
            "--bin",
            "sangam",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace)
        .stderr(Stdio::inherit())
        .output()
        .context("building the sangam binary (release)")?;
    if !output.status.success() {
        bail!("building the sangam binary (release) failed");
    }
    let app = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| {
            (v.get("target")?.get("name")?.as_str()? == "sangam")
                .then(|| v.get("executable")?.as_str().map(PathBuf::from))?
        })
        .context("cargo did not name the sangam binary")?;
    let env = vec!["RUST_LOG=warn".to_string()];
    let (app_env, scene, app_path) = prepare_site(&root, workspace, &app, &env)?;
    let frames = "300";
    let _mounts = Mounts::new(&root)?;
    let (ok, xr) = {
        let _monado = Monado::start(&root)?;
        run_in_chroot(
            &root,
            &app_env,
            &[&app_path, "run", &scene, "--xr", "--frames", frames, "--stats"],
            Duration::from_secs(600),
        )?
    };
    if !ok {
        bail!("the XR run failed (output above)");
    }
    let eye = xr
        .lines()
        .find_map(|l| {
            let (w, rest) = l.split_once(" per eye")?.0.rsplit_once(", ")?.1.split_once('x')?;
            Some(format!("{w}x{rest}"))
        })
        .context("the XR run did not print its eye size")?;
    let (ok, flat) = run_in_chroot(
        &root,
        &app_env,
        &[&app_path, "run", &scene, "--headless", "--frames", frames, "--size", &eye, "--stats"],
        Duration::from_secs(600),
    )?;
    if !ok {
        bail!("the headless run failed (output above)");
    }
    let get =
        |text: &str, key: &str, what: &str| mean_after(text, key).with_context(|| format!("no {what} in the output"));
    let xr_update = get(&xr, "stats: app update mean ", "XR app update")?;
    let xr_encode = get(&xr, "renderer encode mean ", "XR encode")?;
    let xr_cpu = get(&xr, "CPU per frame mean ", "XR CPU per frame")?;
    let flat_update = get(&flat, "stats: app update mean ", "headless app update")?;
    let flat_encode = get(&flat, "stats: cpu encode mean ", "headless encode")?;
    let (xr_total, flat_total) = (xr_update + xr_encode, flat_update + flat_encode);
    println!("\n== XR CPU per frame, demo site, {frames} frames, {eye} per eye (same run) ==");
    println!("XR (2 eyes):      app update {xr_update:.3} ms + cull/encode {xr_encode:.3} ms = {xr_total:.3} ms");
    println!(
        "headless (1 view): app update {flat_update:.3} ms + cull/encode {flat_encode:.3} ms = {flat_total:.3} ms"
    );
    println!("ratio XR / headless: {:.2}x", xr_total / flat_total.max(1e-9));
    println!(
        "whole XR frame on the CPU (xrWaitFrame return to xrEndFrame return, incl. GPU wait on llvmpipe): {xr_cpu:.2} ms"
    );
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            fs::copy(&path, &dest).with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_from_deb822_skips_security_and_third_party() {
        let text = "Types: deb\nURIs: https://example.invalid/node\nSuites: nodistro\nComponents: main\n\n\
                    Types: deb\nURIs: http://mirror.example.invalid/debian-security\nSuites: bookworm-security\n\n\
                    Types: deb\n# a comment\nURIs: http://mirror.example.invalid/debian\nSuites: bookworm bookworm-updates\n";
        assert_eq!(mirror_from_deb822(text).as_deref(), Some("http://mirror.example.invalid/debian"));
        assert_eq!(mirror_from_deb822("Types: deb\nURIs: http://x.invalid/debian\nSuites: x\nEnabled: no\n"), None);
    }

    #[test]
    fn mirror_from_one_line_format() {
        let text = "# comment\ndeb http://sec.invalid/debian-security trixie-security main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian/ trixie main\n";
        assert_eq!(mirror_from_one_line(text).as_deref(), Some("http://m.invalid/debian"));
        assert_eq!(mirror_from_one_line("deb https://packages.invalid/apt cloud-sdk main\n"), None);
    }
}
