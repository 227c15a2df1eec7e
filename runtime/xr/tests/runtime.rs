//! Tests against a real OpenXR runtime, and without one.
//!
//! The `#[ignore]`d tests need a running runtime with a (simulated) headset: `cargo xtask monado`
//! (part of `cargo xtask test`) starts Monado with its null compositor and simulated HMD and
//! controllers in a Debian trixie chroot and runs them there with `--ignored`. The others run
//! anywhere.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sangam_xr::testkit::{CheckApp, measure_parallax};
use sangam_xr::{BlendPreference, SessionEnd, SessionState, XrOptions};

/// The `xr` binary: built by cargo, or copied elsewhere (the chroot) and named by `SANGAM_XR_BIN`.
fn xr_bin() -> String {
    std::env::var("SANGAM_XR_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_xr").to_string())
}

/// Waits for `child` up to `limit`; kills it and fails the test if it is still running then.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the xr process") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: the xr process hung for more than {limit:?} (killed)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// No runtime (the loader finds no active runtime, or there is no loader at all): both `probe`
/// and `run` say so clearly, name what to install and how to fall back, exit with code 2, and do
/// not crash or hang.
#[test]
fn no_runtime_gives_a_clear_message_and_a_fallback_exit_code() {
    for cmd in ["probe", "run"] {
        let mut child = Command::new(xr_bin())
            .arg(cmd)
            .env("XR_RUNTIME_JSON", "/nonexistent/sangam-test/active_runtime.json")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the xr binary");
        let status = wait_bounded(&mut child, Duration::from_secs(60), cmd);
        let err = stderr_of(&mut child);
        assert_eq!(status.code(), Some(2), "xr {cmd}: exit status {status}, stderr:\n{err}");
        assert!(err.contains("no OpenXR runtime is available"), "xr {cmd}: {err}");
        assert!(err.contains("monado-service") && err.contains("--headless"), "xr {cmd}: {err}");
    }
}

/// A session on the runtime reaches FOCUSED, submits frames, renders both eyes into the swapchain
/// with the right parallax (read back from the swapchain images), reads the controllers, and ends
/// cleanly through STOPPING and EXITING.
#[test]
#[ignore = "needs a running OpenXR runtime with a headset: run `cargo xtask monado`"]
fn session_reaches_focused_and_renders_stereo_with_parallax() {
    let options = XrOptions { max_frames: Some(90), capture_frame: Some(30), ..XrOptions::default() };
    let mut app = CheckApp::new();
    let summary = sangam_xr::run(options, &mut app).unwrap_or_else(|e| panic!("XR session failed: {e}"));
    eprintln!("{summary:#?}");
    for state in [SessionState::Ready, SessionState::Synchronized, SessionState::Visible, SessionState::Focused] {
        assert!(summary.reached(state), "never reached {state:?}: {:?}", summary.states);
    }
    assert!(summary.reached(SessionState::Stopping) && summary.reached(SessionState::Exiting), "{:?}", summary.states);
    assert_eq!(summary.end, SessionEnd::Exited);
    assert!(summary.timing.frames >= 90, "{}", summary.timing);
    assert!(summary.timing.rendered >= 60, "{}", summary.timing);
    assert!(app.observed.focused_frames > 30, "{:?}", app.observed.focused_frames);
    assert!(summary.wgpu_errors.is_empty(), "wgpu errors: {:?}", summary.wgpu_errors);

    let eyes = summary.capture.as_ref().expect("eye images read back from the swapchain");
    let views = app.observed.last_views.expect("views located");
    let (w, h) = summary.info.eye_size;
    assert_eq!((eyes[0].width, eyes[0].height), (w, h));
    let p = measure_parallax(eyes, &views).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("parallax: {p:?}");
    // The near tower moves left in the right eye by what the eye separation predicts ...
    assert!(p.near_expected > 2.0, "eyes too close together for a measurable parallax: {p:?}");
    assert!((p.near_shift - p.near_expected).abs() < 1.5 + 0.1 * p.near_expected, "{p:?}");
    // ... and the far wall (500 m) stays put.
    assert!(p.far_shift.abs() < 0.75, "{p:?}");
}

/// The simulated controllers are bound, their poses located in the reference space, and the
/// select action's state read every focused frame.
#[test]
#[ignore = "needs a running OpenXR runtime with a headset: run `cargo xtask monado`"]
fn controller_poses_are_located_and_actions_read() {
    let options = XrOptions { max_frames: Some(60), ..XrOptions::default() };
    let mut app = CheckApp::new();
    let summary = sangam_xr::run(options, &mut app).unwrap_or_else(|e| panic!("XR session failed: {e}"));
    let o = &app.observed;
    eprintln!("{o:?}\nprofiles {:?}", summary.bound_profiles);
    assert!(o.actions_read > 20, "actions read in {} frames", o.actions_read);
    assert!(o.poses_located.iter().any(|n| *n > 20), "poses located per hand: {:?}", o.poses_located);
    let grip = o.last_grip.iter().flatten().next().expect("a grip pose");
    assert!(grip.position.is_finite() && grip.position.length() < 10.0, "{grip:?}");
    assert!(
        summary.bound_profiles.iter().flatten().any(|p| p.starts_with("/interaction_profiles/")),
        "{:?}",
        summary.bound_profiles
    );
    // The runtime accepted the suggested bindings of every controller profile: each binding path (the
    // Touch controller's per-hand buttons included) is one a real runtime knows.
    let info = o.info.as_ref().expect("session info");
    for profile in [
        "/interaction_profiles/khr/simple_controller",
        "/interaction_profiles/oculus/touch_controller",
        "/interaction_profiles/valve/index_controller",
    ] {
        assert!(info.profiles.contains(&profile), "{profile} not accepted: {:?}", info.profiles);
    }
}

/// Asking for see-through AR gives a see-through blend mode when offered, else opaque with the
/// fallback reported.
#[test]
#[ignore = "needs a running OpenXR runtime with a headset: run `cargo xtask monado`"]
fn see_through_request_is_honoured_or_reported() {
    let options = XrOptions { max_frames: Some(10), blend: BlendPreference::SeeThrough, ..XrOptions::default() };
    let mut app = CheckApp::new();
    let summary = sangam_xr::run(options, &mut app).unwrap_or_else(|e| panic!("XR session failed: {e}"));
    let info = &summary.info;
    assert_eq!(info.see_through_unavailable, !info.blend_mode.is_see_through(), "{info:?}");
    assert!(summary.timing.frames >= 10);
}

/// Starts `xr run` with `extra` arguments and waits (bounded) until its session is focused.
fn start_focused_session(extra: &[&str]) -> Child {
    let mut child = Command::new(xr_bin())
        .args(["run", "--seconds", "120", "--focus-marker"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the xr binary");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == "FOCUSED" {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        panic!("the session never got focused; stderr:\n{}", stderr_of(&mut child));
    }
    std::thread::sleep(Duration::from_millis(500));
    child
}

fn monado_pid() -> String {
    let pid: u32 = std::env::var("SANGAM_MONADO_PID")
        .ok()
        .and_then(|p| p.parse().ok())
        .expect("SANGAM_MONADO_PID must name the monado-service process");
    pid.to_string()
}

/// The runtime dies mid-session (monado-service killed): the app stops within a bounded time with
/// a message saying the runtime was lost, and does not crash.
#[test]
#[ignore = "kills the runtime: run by `cargo xtask monado` after the others, with SANGAM_MONADO_PID set"]
fn runtime_lost_mid_session_exits_cleanly() {
    let pid = monado_pid();
    let mut child = start_focused_session(&[]);
    let killed = Command::new("kill").args(["-KILL", &pid]).status().expect("running kill");
    assert!(killed.success(), "could not kill monado-service (pid {pid})");
    let t0 = Instant::now();
    let status = wait_bounded(&mut child, Duration::from_secs(30), "runtime lost");
    let err = stderr_of(&mut child);
    eprintln!("exit after {:?}: {status}\n{err}", t0.elapsed());
    assert_eq!(status.code(), Some(1), "expected a clean failure exit, got {status}; stderr:\n{err}");
    assert!(err.contains("lost the OpenXR runtime"), "{err}");
}

/// The runtime freezes mid-session (monado-service stopped with SIGSTOP, so `xrWaitFrame` never
/// returns): the stall watchdog ends the process with a clear message instead of hanging.
#[test]
#[ignore = "freezes the runtime: run by `cargo xtask monado` after the others, with SANGAM_MONADO_PID set"]
fn frozen_runtime_does_not_hang() {
    let pid = monado_pid();
    let mut child = start_focused_session(&["--stall-limit", "3"]);
    let stopped = Command::new("kill").args(["-STOP", &pid]).status().expect("running kill");
    assert!(stopped.success(), "could not stop monado-service (pid {pid})");
    let t0 = Instant::now();
    let status = wait_bounded(&mut child, Duration::from_secs(30), "runtime frozen");
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let err = stderr_of(&mut child);
    eprintln!("exit after {:?}: {status}\n{err}", t0.elapsed());
    assert_eq!(status.code(), Some(3), "expected the stall exit status 3, got {status}; stderr:\n{err}");
    assert!(err.contains("has not answered for 3 s"), "{err}");
}
