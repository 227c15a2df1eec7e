//! `sangam run`: choose a front end (XR, window or headless), say which and why, and run it.
//!
//! The choice is a pure function of what was asked and two probes ([`choose`]), so it is tested without
//! a headset or a display. The site is loaded, its twin store filled and the interaction set up before
//! any frame loop starts ([`SiteSession::load`]): no front end touches the disk inside its loop.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use glam::DVec3;
use sangam_render::gpu::{RenderTarget, Renderer};
use sangam_session::{Session, TickReport, TimeCommand, TimeEvent};
use sangam_twin::TwinStore;

use crate::headless::ShotSize;
use crate::interaction::camera::Camera;
use crate::interaction::layout::SiteLayout;
use crate::interaction::{FrameOutcome, InputFrame, Interaction, InteractionEvent, NamedCamera};
use crate::site::{self, Site};

/// The front ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEnd {
    /// An OpenXR session (headset, or a runtime such as Monado).
    Xr,
    /// A desktop window.
    Window,
    /// Offscreen rendering, timing reported.
    Headless,
}

impl fmt::Display for FrontEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrontEnd::Xr => "xr",
            FrontEnd::Window => "window",
            FrontEnd::Headless => "headless",
        })
    }
}

/// What the command line asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Requested {
    /// XR when a runtime is active, else a window when a display is, else headless.
    #[default]
    Auto,
    /// XR or an error (`--xr`).
    Xr,
    /// A window or an error (`--window`).
    Window,
    /// Headless (`--headless`).
    Headless,
}

/// The front end chosen and why, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The front end.
    pub front_end: FrontEnd,
    /// Why, e.g. `no OpenXR runtime: <reason>; no display: DISPLAY unset -> headless`.
    pub reason: String,
}

/// An insisted-on front end is not available.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// `--xr` without a usable OpenXR runtime.
    #[error(
        "--xr was given but no OpenXR runtime is usable: {0}. Install and start an OpenXR runtime (for example \
         Monado's monado-service), or leave out --xr to fall back to a window or headless"
    )]
    XrUnavailable(String),
    /// `--window` without a usable display.
    #[error(
        "--window was given but no display is usable: {0}. Run inside a desktop session (or under Xvfb: \
         xvfb-run sangam run ...), or use --headless"
    )]
    NoDisplay(String),
}

/// Chooses the front end. The probes answer `Ok(what was found)` or `Err(why not)`; each is called only
/// when the answer matters (never for `--headless`, the display probe never when XR was found).
pub fn choose(
    requested: Requested,
    xr_probe: &dyn Fn() -> Result<String, String>,
    display_probe: &dyn Fn() -> Result<String, String>,
) -> Result<Choice, SelectError> {
    let choice = |front_end, reason: String| Ok(Choice { front_end, reason });
    match requested {
        Requested::Headless => choice(FrontEnd::Headless, "--headless given -> headless".into()),
        Requested::Xr => match xr_probe() {
            Ok(rt) => choice(FrontEnd::Xr, format!("--xr given; OpenXR runtime: {rt} -> xr")),
            Err(why) => Err(SelectError::XrUnavailable(why)),
        },
        Requested::Window => match display_probe() {
            Ok(d) => choice(FrontEnd::Window, format!("--window given; display: {d} -> window")),
            Err(why) => Err(SelectError::NoDisplay(why)),
        },
        Requested::Auto => match xr_probe() {
            Ok(rt) => choice(FrontEnd::Xr, format!("OpenXR runtime: {rt} -> xr")),
            Err(xr_why) => match display_probe() {
                Ok(d) => choice(FrontEnd::Window, format!("no OpenXR runtime: {xr_why}; display: {d} -> window")),
                Err(d_why) => {
                    choice(FrontEnd::Headless, format!("no OpenXR runtime: {xr_why}; no display: {d_why} -> headless"))
                }
            },
        },
    }
}

/// Whether a display server answers, from the process environment; see [`probe_display_with`].
pub fn probe_display() -> Result<String, String> {
    probe_display_with(&|name| std::env::var_os(name))
}

/// Whether a display server answers: `WAYLAND_DISPLAY` (a socket name under `XDG_RUNTIME_DIR`, or an
/// absolute path) is tried first, then `DISPLAY` (`:N` connects to `/tmp/.X11-unix/XN`, `host:N` to TCP port
/// 6000 + N). `Ok` names what answered; `Err` says what is unset or what failed.
pub fn probe_display_with(env: &dyn Fn(&str) -> Option<OsString>) -> Result<String, String> {
    let get = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut reasons = Vec::new();
    if let Some(name) = get("WAYLAND_DISPLAY") {
        let name = PathBuf::from(name);
        let path = if name.is_absolute() {
            Some(name.clone())
        } else {
            get("XDG_RUNTIME_DIR").map(|dir| PathBuf::from(dir).join(&name))
        };
        match path {
            Some(path) => match std::os::unix::net::UnixStream::connect(&path) {
                Ok(_) => return Ok(format!("Wayland {}", path.display())),
                Err(e) => reasons.push(format!("WAYLAND_DISPLAY {} does not answer ({e})", path.display())),
            },
            None => reasons.push(format!("WAYLAND_DISPLAY={} but XDG_RUNTIME_DIR unset", name.display())),
        }
    }
    match get("DISPLAY") {
        Some(display) => {
            let display = display.to_string_lossy().into_owned();
            match connect_x11(&display) {
                Ok(how) => return Ok(format!("X11 DISPLAY={display} ({how})")),
                Err(why) => reasons.push(format!("DISPLAY={display} {why}")),
            }
        }
        None => reasons.push("DISPLAY unset".into()),
    }
    Err(reasons.join("; "))
}

/// An X11 display name: host (empty for local) and display number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X11Display {
    /// Host name; empty or `unix` for the local socket.
    pub host: String,
    /// Display number.
    pub number: u16,
}

/// Parses `[host]:N[.screen]`; `None` when it is not of that form.
pub fn parse_x11_display(s: &str) -> Option<X11Display> {
    let (host, rest) = s.rsplit_once(':')?;
    let number = rest.split('.').next()?.parse().ok()?;
    // A protocol prefix such as `unix/` names the transport, not a host.
    let host = host.rsplit('/').next().unwrap_or(host).to_string();
    Some(X11Display { host, number })
}

fn connect_x11(display: &str) -> Result<String, String> {
    let d = parse_x11_display(display).ok_or_else(|| "is not of the form [host]:N".to_string())?;
    if d.host.is_empty() || d.host == "unix" {
        let path = format!("/tmp/.X11-unix/X{}", d.number);
        match std::os::unix::net::UnixStream::connect(&path) {
            Ok(_) => Ok(format!("socket {path}")),
            Err(e) => Err(format!("does not answer at {path} ({e})")),
        }
    } else {
        use std::net::ToSocketAddrs;
        let port = 6000u32 + u32::from(d.number);
        let addr = format!("{}:{port}", d.host);
        let resolved = addr.to_socket_addrs().map_err(|e| format!("cannot resolve {addr} ({e})"))?.next();
        let sa = resolved.ok_or_else(|| format!("cannot resolve {addr}"))?;
        std::net::TcpStream::connect_timeout(&sa, Duration::from_secs(1))
            .map(|_| format!("TCP {addr}"))
            .map_err(|e| format!("does not answer at {addr} ({e})"))
    }
}

/// What `sangam run` was asked to do.
#[derive(Clone, Debug)]
pub struct RunArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// The front end asked for.
    pub requested: Requested,
    /// Print frame timing.
    pub stats: bool,
    /// Stop after this many frames (headless default: [`DEFAULT_HEADLESS_FRAMES`]).
    pub frames: Option<u64>,
    /// Headless image size / initial window size.
    pub size: ShotSize,
    /// XR eye image size relative to the runtime's recommended size.
    pub resolution_scale: f32,
    /// Headless: where to save the last frame as a PNG.
    pub screenshot: Option<PathBuf>,
    /// Live, recorded to a file, or a replay of one.
    pub mode: SessionMode,
    /// The broker every MQTT source uses instead of the scene's (`--broker`).
    pub broker: Option<String>,
    /// Where to write the session's counters as JSON at the end (`--stats-json`).
    pub stats_json: Option<PathBuf>,
    /// The scenario and values the plugins run with (`--scenario`, `--set`); live modes only.
    pub scenario: crate::scenario::ScenarioChoice,
    /// A scenario run beside it, with the differences on screen (`--compare`); live modes only.
    pub compare: Option<String>,
}

/// What the session does with time and data: run live, run live and record, or replay a recording.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SessionMode {
    /// Live: sources and plugins run.
    #[default]
    Live,
    /// Live, and recorded to this MCAP file (`run --record`).
    Record(PathBuf),
    /// A replay of a recording (`sangam replay`).
    Replay {
        /// The recording.
        recording: PathBuf,
        /// How fast.
        speed: ReplaySpeed,
    },
}

/// How fast a replay runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReplaySpeed {
    /// This many times real time (0.1 to 100, the clock's rates).
    Times(f64),
    /// Everything at once, before the first frame.
    Max,
}

/// Frames a headless run renders when `--frames` is not given.
pub const DEFAULT_HEADLESS_FRAMES: u64 = 60;

/// How the binary reaches the XR front end (wired by whoever builds it in).
#[derive(Clone, Copy)]
pub struct XrHooks {
    /// Whether an OpenXR runtime is active: `Ok(runtime name)` or `Err(why not)`.
    pub probe: fn() -> Result<String, String>,
    /// Runs the XR front end on a loaded site.
    pub run: Option<fn(SiteSession, &RunArgs) -> Result<XrEnd>>,
}

/// How an XR session ended.
pub enum XrEnd {
    /// It ran to the end (the runtime or `--frames` ended it).
    Finished,
    /// The XR side failed in a way the show can survive (runtime lost or refused the session, no
    /// usable swapchain format): the site, with everything it received, goes on in another front end.
    Lost {
        /// The site as the XR session left it.
        session: Box<SiteSession>,
        /// What happened, for the user.
        reason: String,
    },
}

/// How often, after losing the XR runtime, the fallback front end looks for it again.
pub const XR_RETRY_PERIOD: Duration = Duration::from_secs(1);

/// Looks for an OpenXR runtime on its own thread after the XR session was lost, so the fallback
/// front end can hand the site back to XR when the runtime returns (a restarted headset service, a
/// reconnected headset). Probing creates an OpenXR instance, which may take a while: the frame loop
/// only reads a flag ([`XrWatch::returned`]). The thread ends when the watch is dropped.
pub struct XrWatch {
    /// What the probe said once the runtime answered.
    back: Arc<OnceLock<String>>,
    stop: Arc<AtomicBool>,
}

impl XrWatch {
    /// Starts probing with `probe` every `period` until it succeeds or the watch is dropped.
    pub fn start(probe: fn() -> Result<String, String>, period: Duration) -> XrWatch {
        let watch = XrWatch { back: Arc::new(OnceLock::new()), stop: Arc::new(AtomicBool::new(false)) };
        let (back, stop) = (watch.back.clone(), watch.stop.clone());
        let spawned = std::thread::Builder::new().name("sangam-xr-watch".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::park_timeout(period);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(runtime) = probe() {
                    let _ = back.set(runtime);
                    break;
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot watch for the XR runtime to return ({e}); staying on this front end");
        }
        watch
    }

    /// Whether the runtime is back (cheap: one atomic load; the frame loop calls it every frame).
    pub fn returned(&self) -> bool {
        self.back.get().is_some()
    }

    /// What the probe said about the returned runtime.
    pub fn runtime(&self) -> Option<String> {
        self.back.get().cloned()
    }
}

impl Drop for XrWatch {
    fn drop(&mut self) {
        // Not joined: a probe in progress may take a moment, and nobody needs to wait for it.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `sangam run`: loads the site, chooses the front end, says which and why (stdout), runs it.
///
/// When an XR session is lost the site goes on in a window or headless, and returns to XR as soon as
/// the runtime is back; this can repeat.
pub fn run(args: &RunArgs, xr: &XrHooks) -> Result<()> {
    run_with_display(args, xr, &probe_display)
}

/// [`run`] with the display probe given (tests force the headless fallback with it).
pub fn run_with_display(
    args: &RunArgs,
    xr: &XrHooks,
    display_probe: &dyn Fn() -> Result<String, String>,
) -> Result<()> {
    let choice = choose(args.requested, &xr.probe, display_probe)?;
    println!("front end: {} ({})", choice.front_end, choice.reason);
    let mut session = SiteSession::open(args)?;
    if choice.front_end != FrontEnd::Xr {
        return run_flat(choice.front_end, session, args, None).map(drop);
    }
    let Some(run_xr) = xr.run else {
        anyhow::bail!("the XR front end is not built into this binary; use --window or --headless")
    };
    loop {
        match run_xr(session, args)? {
            XrEnd::Finished => return Ok(()),
            XrEnd::Lost { session: lost_session, reason } => {
                // The show goes on: same site, same twin state, another front end.
                let lost = move || Err::<String, String>(reason.clone());
                let fallback = choose(Requested::Auto, &lost, display_probe)?;
                println!(
                    "front end: {} (after XR ended: {}; back to XR when the runtime returns)",
                    fallback.front_end, fallback.reason
                );
                let watch = XrWatch::start(xr.probe, XR_RETRY_PERIOD);
                match run_flat(fallback.front_end, *lost_session, args, Some(&watch))? {
                    None => return Ok(()),
                    Some(returned) => {
                        let runtime = watch.runtime().unwrap_or_default();
                        println!("front end: xr (the OpenXR runtime is back: {runtime})");
                        session = returned;
                    }
                }
            }
        }
    }
}

/// Runs the window or headless front end. With a watch, it stops when the XR runtime returns and hands
/// the site back (`Some`); otherwise it runs to its end (`None`).
fn run_flat(
    front_end: FrontEnd,
    session: SiteSession,
    args: &RunArgs,
    xr_watch: Option<&XrWatch>,
) -> Result<Option<SiteSession>> {
    match front_end {
        FrontEnd::Window => crate::window::run_until(session, args, xr_watch),
        _ => {
            let (report, returned) = run_headless_until(session, args, xr_watch)?;
            println!("{}", report.summary());
            if args.stats {
                println!("{}", report.details());
            }
            Ok(returned)
        }
    }
}

/// Writes the session's counters (`Session::stats_json`: clock, history, sources, inboxes, plugins,
/// recording) to `path` as JSON (`--stats-json`).
pub fn write_stats_json(core: &Session, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(&core.stats_json()).context("encoding the stats as JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write the stats to {}", path.display()))
}

/// A loaded site ready for a frame loop: the render scene, the running twin session, the interaction.
pub struct SiteSession {
    /// The site (twin scene and render scene).
    pub site: Site,
    /// The running twin: store, clock, plugins, inbox. Every front end calls its tick through
    /// [`SiteSession::frame`].
    pub core: Session,
    /// Selection, camera, twin pose, layers.
    pub interaction: Interaction,
    /// Overlay plugins' frames converted for the renderer, once each.
    pub overlay_frames: crate::overlay_compose::ConvertedFrames,
    /// The scene's entities coloured by a live value (`[[color_by]]`), resolved once.
    pub live_colors: crate::live_colors::LiveColors,
    /// Simulations' maps the scene's `[[heatmaps]]` draw, converted once each.
    pub site_maps: crate::site_maps::SiteMaps,
    /// The scenario it runs (`--scenario`, `--set`), as the heads-up display says it.
    pub scenario: Option<String>,
    /// A second scenario beside it (`--compare NAME`, or the parameter panel's), ticked with it.
    pub comparison: Option<crate::compare::Comparison>,
    /// The parameter panel: changes go to the branch beside the plan.
    pub panel: crate::param_panel::ParamPanel,
    /// How fast the clock really ran lately (the heads-up's clock line).
    pub pace: crate::clock_pace::ClockPace,
}

/// What one frame's update did: the interaction's outcome (time events first) and the session's tick.
#[derive(Clone, Debug, Default)]
pub struct FrameUpdate {
    /// Interaction and time events, placements changed.
    pub outcome: FrameOutcome,
    /// What the session's tick did.
    pub tick: TickReport,
}

impl SiteSession {
    /// Loads a scene file and prepares everything a frame loop needs.
    pub fn load(path: &Path) -> Result<SiteSession> {
        let site = site::load(path)?;
        for w in &site.warnings {
            tracing::warn!("{w}");
        }
        SiteSession::from_site(site)
    }

    /// Loads the scene of `args` and prepares its session in the mode asked for (live, recorded, or
    /// a replay: the recording is read and checked against the scene here, before any frame).
    pub fn open(args: &RunArgs) -> Result<SiteSession> {
        let mut twin = sangam_twin::Scene::load(&args.scene)?;
        anyhow::ensure!(
            args.scenario.is_empty() || !matches!(args.mode, SessionMode::Replay { .. }),
            "--scenario and --set change what plugins compute; a replay shows what was recorded"
        );
        let scenario = crate::scenario::apply(&mut twin, &args.scenario)?;
        if let Some(chosen) = &scenario {
            println!("{chosen}");
        }
        let site = site::build(twin)?;
        for w in &site.warnings {
            tracing::warn!("{w}");
        }
        let sources = sangam_data::Options { broker: args.broker.clone() };
        match &args.mode {
            SessionMode::Live => {
                let mut session = SiteSession::from_site(site)?;
                session.scenario = scenario;
                if let Some(name) = &args.compare {
                    session.compare(name)?;
                    println!("comparing with scenario {name}");
                }
                session.core.start_sources(&session.site.twin, &sources)?;
                Ok(session)
            }
            SessionMode::Record(path) => {
                let mut session = SiteSession::from_site(site)?;
                session.scenario = scenario;
                session.core.start_recording(&session.site.twin, path)?;
                session.core.start_sources(&session.site.twin, &sources)?;
                println!("recording: {}", path.display());
                Ok(session)
            }
            SessionMode::Replay { recording, speed } => {
                let rec = sangam_session::Recording::open(recording)?;
                print_recording(&rec);
                let core = Session::replay(&site.twin, rec)?;
                let mut session = SiteSession::with_core(site, core)?;
                match speed {
                    ReplaySpeed::Max => {
                        let n = session.core.replay_to_end();
                        println!("replay: {n} changes applied at once (--speed max)");
                    }
                    ReplaySpeed::Times(rate) => {
                        session.core.command(TimeCommand::SetRate(*rate))?;
                    }
                }
                Ok(session)
            }
        }
    }

    /// Prepares an already loaded site.
    pub fn from_site(site: Site) -> Result<SiteSession> {
        let core = Session::load(&site.twin)?;
        SiteSession::with_core(site, core)
    }

    /// Prepares an already loaded site around a session made for it.
    pub fn with_core(site: Site, core: Session) -> Result<SiteSession> {
        let layout = SiteLayout::of(&site);
        let bookmarks: Vec<NamedCamera> = site
            .twin
            .bookmarks
            .iter()
            .map(|b| NamedCamera {
                name: b.name.clone(),
                camera: Camera::looking_at(b.eye, b.target(), b.fov_y_deg.to_radians()),
            })
            .collect();
        let camera = bookmarks.first().map(|b| b.camera).unwrap_or_else(|| overview_camera(&layout));
        let interaction = Interaction::new(layout, camera, bookmarks);
        let live_colors = crate::live_colors::LiveColors::new(&site.twin);
        let panel = crate::param_panel::ParamPanel::new(&site.twin, &core, &[]);
        let overlay_frames = crate::overlay_compose::ConvertedFrames::with_label_px(site.twin.labels.screen_px);
        Ok(SiteSession {
            site,
            core,
            interaction,
            overlay_frames,
            live_colors,
            site_maps: Default::default(),
            scenario: None,
            comparison: None,
            panel,
            pace: Default::default(),
        })
    }

    /// The clock for the screen ([`crate::clock_pace::ClockPace::line`]), e.g. `t 12.3 s x10 | clock
    /// slowed to x3.2: held by sim`.
    pub fn clock_line(&self) -> String {
        self.pace.line(&self.core)
    }

    /// Runs scenario `name` beside the plan from now ([`crate::compare::Comparison::start`]); the
    /// parameter panel then shows and changes the branch's values.
    pub fn compare(&mut self, name: &str) -> Result<()> {
        let comparison = crate::compare::Comparison::start(&self.site.twin, &mut self.core, name)?;
        self.panel = crate::param_panel::ParamPanel::new(&self.site.twin, &self.core, &comparison.overrides);
        self.comparison = Some(comparison);
        Ok(())
    }

    /// The parameter panel's part of a frame: its input, and a branch whose plugins it has loaded
    /// forked from the plan now (replacing the branch beside it, or starting one).
    fn panel_frame(&mut self, input: crate::param_panel::PanelInput) {
        if input.is_empty() && !self.panel.is_busy() {
            return;
        }
        let (base, name) = match &self.comparison {
            Some(c) => (c.overrides.clone(), c.name.clone()),
            None => (Vec::new(), crate::param_panel::WHAT_IF.to_string()),
        };
        let Some(ready) = self.panel.update(input, &self.site.twin, &base, &name) else { return };
        let core = match self.core.fork_with(ready.plugins) {
            Ok(core) => core,
            Err(e) => {
                tracing::warn!("the parameter panel's branch `{}` cannot start: {e:#}", ready.label);
                return;
            }
        };
        self.core.copy_inputs();
        println!("what-if branch: {}", ready.label);
        match &mut self.comparison {
            Some(c) => c.replace(&ready.label, core),
            None => {
                let mut c = crate::compare::Comparison::of(&ready.label, &name, base, core);
                c.can_split = self.panel.can_split;
                if !c.can_split {
                    c.view = crate::panes::CompareView::Difference;
                }
                self.comparison = Some(c);
            }
        }
    }

    /// One frame's update, the same for every front end: the input's time requests to the session,
    /// the session's tick (clock, plugins; never waits on a plugin), then the interaction.
    pub fn frame(&mut self, input: &InputFrame) -> FrameUpdate {
        let mut events = Vec::new();
        for command in time_commands(input) {
            match self.core.command(command) {
                Ok(Some(event)) => events.push(match event {
                    TimeEvent::PlayPause { playing } => InteractionEvent::PlayPause { playing },
                    TimeEvent::Stepped(t) => InteractionEvent::Stepped(t),
                    TimeEvent::Rate(r) => InteractionEvent::Rate(r),
                    TimeEvent::Scrubbed(t) => InteractionEvent::Scrubbed(t),
                }),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "time request refused"),
            }
        }
        let tick = self.core.tick(input.dt);
        self.pace.record(input.dt, &tick, self.core.time().clock().fixed_dt());
        if let Some(branch) = &mut self.comparison {
            branch.tick(&mut self.core, input.dt);
            if input.next_compare_view {
                branch.view = branch.view.next(branch.can_split);
                println!("showing {}", branch.view.describe(&branch.scenario));
            }
        }
        self.panel_frame(input.panel);
        // Entities an adapter created this tick (cells of a cell list) get their place on screen.
        self.live_colors.refresh(self.core.store());
        let mut outcome = self.interaction.update(input);
        events.append(&mut outcome.events);
        outcome.events = events;
        FrameUpdate { outcome, tick }
    }

    /// The store, the plugins' twin (shorthand).
    pub fn store(&self) -> &TwinStore {
        self.core.store()
    }
}

/// Says what a recording holds (stdout): scene, runtime, messages, span, and what was recovered.
pub fn print_recording(rec: &sangam_session::Recording) {
    let info = &rec.info;
    let span = rec
        .time_span()
        .map_or_else(|| "no changes".to_string(), |(a, b)| format!("{:.1} s of simulated time", (b - a) as f64 / 1e6));
    let inputs: u64 = rec.inputs.values().sum();
    println!(
        "recording: {} ({} bytes, written by {}): scene {} ({}); {} messages: {} ticks of changes, {inputs} inputs; {span}{}",
        info.path.display(),
        info.file_bytes,
        info.runtime,
        info.scene_name,
        info.scene,
        rec.messages,
        rec.changes.len(),
        if rec.end.is_some() { "" } else { "; no end record (cut short)" }
    );
    for w in &rec.warnings {
        println!("recording: warning: {w}");
    }
}

/// The time requests of one input frame, in the order they apply.
fn time_commands(input: &InputFrame) -> Vec<TimeCommand> {
    let mut out = Vec::new();
    if input.play_pause {
        out.push(TimeCommand::TogglePlay);
    }
    if let Some(rate) = input.set_rate {
        out.push(TimeCommand::SetRate(rate));
    }
    if input.step_once {
        out.push(TimeCommand::StepOnce);
    }
    if input.go_live {
        out.push(TimeCommand::GoLive);
    }
    if input.scrub_seconds != 0.0 {
        out.push(TimeCommand::Scrub(input.scrub_seconds));
    }
    out
}

/// A camera from the south-west above the site's extent, for sites without bookmarks.
fn overview_camera(layout: &SiteLayout) -> Camera {
    let (center, radius) =
        layout.bounds.map(|b| (b.center(), ((b.max - b.min).length() * 0.5).max(10.0))).unwrap_or((DVec3::ZERO, 100.0));
    let eye = center + DVec3::new(-0.6, -0.8, 0.7).normalize() * radius * 2.0;
    Camera::looking_at(eye, center, 60f64.to_radians())
}

/// Frame timing over a run: CPU encode time per frame, frame-to-frame time, missed frames.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameTimer {
    encode: VecDeque<Duration>,
    frame: VecDeque<Duration>,
    gpu: VecDeque<Duration>,
    budget: Duration,
    missed: u64,
}

/// The most frames a timer keeps for percentiles (older ones still count in totals).
pub const TIMER_WINDOW: usize = 10_000;

impl FrameTimer {
    /// A timer against a frame budget (e.g. 16.7 ms at 60 Hz); a frame over 1.5x the budget is missed.
    pub fn new(budget: Duration) -> FrameTimer {
        FrameTimer { budget, ..Default::default() }
    }

    /// Records a frame: its CPU encode time and the time since the previous frame.
    pub fn record(&mut self, encode: Duration, frame: Duration) {
        if self.frame.len() >= TIMER_WINDOW {
            self.frame.pop_front();
            self.encode.pop_front();
        }
        self.encode.push_back(encode);
        self.frame.push_back(frame);
        if !self.budget.is_zero() && frame > self.budget.mul_f64(1.5) {
            self.missed += 1;
        }
    }

    /// Records the renderer's latest GPU time measurement (timestamp queries; a few frames late).
    pub fn record_gpu(&mut self, gpu: Option<Duration>) {
        let Some(gpu) = gpu else { return };
        if self.gpu.len() >= TIMER_WINDOW {
            self.gpu.pop_front();
        }
        self.gpu.push_back(gpu);
    }

    /// Mean, 95th percentile and maximum GPU time, when the device measures it.
    pub fn gpu_stats(&self) -> Option<TimeStats> {
        (!self.gpu.is_empty()).then(|| TimeStats::of(&self.gpu.iter().copied().collect::<Vec<_>>()))
    }

    /// Frames recorded (within the window).
    pub fn frames(&self) -> usize {
        self.frame.len()
    }

    /// Frames over 1.5x the budget.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// The frame budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Mean, 95th percentile and maximum CPU encode time.
    pub fn encode_stats(&self) -> TimeStats {
        TimeStats::of(&self.encode.iter().copied().collect::<Vec<_>>())
    }

    /// Mean, 95th percentile and maximum frame time.
    pub fn frame_stats(&self) -> TimeStats {
        TimeStats::of(&self.frame.iter().copied().collect::<Vec<_>>())
    }
}

/// Mean, 95th percentile and maximum of some durations.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeStats {
    /// Mean.
    pub mean: Duration,
    /// 95th percentile (nearest rank).
    pub p95: Duration,
    /// Maximum.
    pub max: Duration,
}

impl TimeStats {
    /// Statistics of `samples` (all zero when empty).
    pub fn of(samples: &[Duration]) -> TimeStats {
        if samples.is_empty() {
            return TimeStats::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let rank = (n * 95).div_ceil(100).clamp(1, n);
        let total: Duration = sorted.iter().sum();
        TimeStats { mean: total / n as u32, p95: sorted[rank - 1], max: sorted[n - 1] }
    }
}

impl fmt::Display for TimeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(f, "mean {:.2} ms, p95 {:.2} ms, max {:.2} ms", ms(self.mean), ms(self.p95), ms(self.max))
    }
}

/// What a headless run measured.
#[derive(Clone, Debug)]
pub struct HeadlessReport {
    /// The adapter rendered on.
    pub adapter: String,
    /// Image size.
    pub size: ShotSize,
    /// Timing.
    pub timer: FrameTimer,
    /// Draw calls and triangles of the last frame.
    pub last: sangam_render::gpu::FrameStats,
    /// The session's clock line, then one line per plugin: state, calls, late ticks, faults.
    pub plugins: Vec<String>,
    /// CPU time per frame of the update (input, session tick, interaction, overlay composition).
    pub update: TimeStats,
}

impl HeadlessReport {
    /// One line: frames, size, adapter, mean frame time.
    pub fn summary(&self) -> String {
        format!(
            "headless: rendered {} frames at {}x{} on {}; frame time {}",
            self.timer.frames(),
            self.size.width,
            self.size.height,
            self.adapter,
            self.timer.frame_stats()
        )
    }

    /// The `--stats` lines.
    pub fn details(&self) -> String {
        format!(
            "stats: app update {}\nstats: cpu encode {}\nstats: gpu {}\nstats: frame (encode + GPU) {}\nstats: frames \
             over {:.1} ms: {}\nstats: last frame {} draw calls, {} instances drawn, {} culled, {} triangles",
            self.update,
            self.timer.encode_stats(),
            self.timer.gpu_stats().map_or_else(|| "not measured (no timestamp queries)".to_string(), |g| g.to_string()),
            self.timer.frame_stats(),
            self.timer.budget().as_secs_f64() * 1e3 * 1.5,
            self.timer.missed(),
            self.last.draw_calls,
            self.last.instances_drawn,
            self.last.instances_culled,
            self.last.triangles
        ) + &self.plugins.iter().map(|l| format!("\nstats: {l}")).collect::<String>()
    }
}

/// Renders `args.frames` frames offscreen while the camera slowly orbits, waiting for the GPU each frame.
pub fn run_headless(session: SiteSession, args: &RunArgs) -> Result<HeadlessReport> {
    run_headless_until(session, args, None).map(|(report, _)| report)
}

/// Like [`run_headless`], stopping early when `xr_watch` sees the XR runtime return: then the site is
/// handed back (`Some`) and no screenshot is taken. The report covers the frames rendered.
pub fn run_headless_until(
    mut session: SiteSession,
    args: &RunArgs,
    xr_watch: Option<&XrWatch>,
) -> Result<(HeadlessReport, Option<SiteSession>)> {
    let mut renderer = Renderer::new_headless().context("no GPU adapter for headless rendering")?;
    let mut gpu = renderer.upload(&session.site.scene)?;
    let target = RenderTarget::new(&renderer, args.size.width, args.size.height, 1)?;
    let frames = args.frames.unwrap_or(DEFAULT_HEADLESS_FRAMES);
    let mut timer = FrameTimer::new(Duration::from_secs_f64(1.0 / 60.0));
    let mut last = Default::default();
    let mut previous = Instant::now();
    let mut last_gpu: Option<Duration> = None;
    let mut update_times = VecDeque::with_capacity(frames.min(TIMER_WINDOW as u64) as usize);
    let mut xr_back = false;
    for frame in 0..frames {
        if xr_watch.is_some_and(XrWatch::returned) {
            xr_back = true;
            break;
        }
        let now = Instant::now();
        let input = InputFrame { dt: now - previous, orbit: glam::DVec2::new(0.005, 0.0), ..Default::default() };
        let update_start = Instant::now();
        previous = now;
        let update = session.frame(&input);
        if update.outcome.placements_changed {
            gpu.set_placements(session.interaction.placements(&session.site.scene.placements));
        }
        let gpu_ms =
            last_gpu.map_or_else(|| "n/a".to_string(), |g: Duration| format!("{:.1} ms", g.as_secs_f64() * 1e3));
        let hud = format!("{} | frame {frame} | gpu {gpu_ms} | {}", session.site.twin.name, session.clock_line());
        if update_times.len() == TIMER_WINDOW {
            update_times.pop_front();
        }
        update_times.push_back(update_start.elapsed());
        let stats = crate::panes::draw(&mut renderer, &gpu, &session, Some(&hud), &target)?;
        renderer
            .device()
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| anyhow::anyhow!("waiting for the GPU failed: {e}"))?;
        timer.record(stats.cpu_encode_time, now.elapsed());
        timer.record_gpu(stats.gpu_time);
        last_gpu = stats.gpu_time.or(last_gpu);
        last = stats;
    }
    if let Some(path) = args.screenshot.as_ref().filter(|_| !xr_back) {
        crate::panes::draw(&mut renderer, &gpu, &session, Some(&session.site.twin.name), &target)?;
        let image = renderer.read_back(&target)?.into_iter().next().context("the renderer returned no image")?;
        image.save(path).with_context(|| format!("could not write the screenshot {}", path.display()))?;
        println!("headless: last frame saved to {}", path.display());
    }
    let errors = renderer.take_uncaptured_errors();
    if !errors.is_empty() {
        anyhow::bail!("wgpu reported errors during the headless run: {}", errors.join("; "));
    }
    let plugins = session.core.status_lines();
    if let Some(path) = &args.stats_json {
        write_stats_json(&session.core, path)?;
    }
    let update = TimeStats::of(update_times.make_contiguous());
    let report =
        HeadlessReport { adapter: renderer.adapter_info().name.clone(), size: args.size, timer, last, plugins, update };
    Ok((report, xr_back.then_some(session)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn ok(s: &'static str) -> impl Fn() -> Result<String, String> {
        move || Ok(s.to_string())
    }

    fn err(s: &'static str) -> impl Fn() -> Result<String, String> {
        move || Err(s.to_string())
    }

    static FLAKY_PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A runtime that is away for the first two looks, then back.
    fn flaky_runtime() -> Result<String, String> {
        if FLAKY_PROBES.fetch_add(1, Ordering::SeqCst) < 2 { Err("away".into()) } else { Ok("Back XR".into()) }
    }

    #[test]
    fn the_xr_watch_reports_the_runtime_once_it_answers() {
        let watch = XrWatch::start(flaky_runtime, Duration::from_millis(5));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !watch.returned() {
            assert!(Instant::now() < deadline, "the watch never saw the runtime return");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(watch.runtime().as_deref(), Some("Back XR"));
        assert!(FLAKY_PROBES.load(Ordering::SeqCst) >= 3, "it kept looking while the runtime was away");
    }

    static XR_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// An XR front end whose first session is lost (the runtime died) and whose second runs to the end.
    fn xr_lost_once(session: SiteSession, _args: &RunArgs) -> Result<XrEnd> {
        if XR_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(XrEnd::Lost { session: Box::new(session), reason: "the runtime was lost".into() })
        } else {
            assert!(session.core.plugins().total_faults() == 0, "the site came back with its plugins running");
            Ok(XrEnd::Finished)
        }
    }

    #[test]
    fn a_lost_xr_session_goes_on_headless_and_returns_to_xr_when_the_runtime_is_back() {
        let scene = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        let args = RunArgs {
            scene,
            requested: Requested::Xr,
            stats: false,
            // Far more headless frames than render before the next look for the runtime (1 s): the
            // headless loop must end because XR came back, not because it ran out of frames.
            frames: Some(100_000),
            size: ShotSize { width: 32, height: 24 },
            resolution_scale: 1.0,
            screenshot: None,
            mode: SessionMode::Live,
            broker: None,
            stats_json: None,
            scenario: Default::default(),
            compare: None,
        };
        let hooks = XrHooks { probe: || Ok("Test XR".into()), run: Some(xr_lost_once) };
        let started = Instant::now();
        run_with_display(&args, &hooks, &|| Err("no display in this test".into())).expect("the run survives");
        assert_eq!(XR_RUNS.load(Ordering::SeqCst), 2, "XR ran, was lost, and ran again");
        assert!(started.elapsed() < Duration::from_secs(120), "it did not render all 100,000 headless frames");
    }

    #[test]
    fn auto_prefers_xr_then_window_then_headless() {
        let c = choose(Requested::Auto, &ok("Monado"), &ok(":99")).unwrap();
        assert_eq!(c.front_end, FrontEnd::Xr);
        assert!(c.reason.contains("Monado"), "{}", c.reason);
        let c = choose(Requested::Auto, &err("runtime unavailable"), &ok("X11 :99")).unwrap();
        assert_eq!(c.front_end, FrontEnd::Window);
        assert_eq!(c.reason, "no OpenXR runtime: runtime unavailable; display: X11 :99 -> window");
        let c = choose(Requested::Auto, &err("OpenXR support not built in yet"), &err("DISPLAY unset")).unwrap();
        assert_eq!(c.front_end, FrontEnd::Headless);
        assert_eq!(
            c.reason,
            "no OpenXR runtime: OpenXR support not built in yet; no display: DISPLAY unset -> headless"
        );
    }

    #[test]
    fn insisting_fails_clearly_and_probes_only_what_matters() {
        let e = choose(Requested::Xr, &err("no loader"), &ok(":0")).unwrap_err();
        assert_eq!(e, SelectError::XrUnavailable("no loader".into()));
        assert!(e.to_string().contains("--xr") && e.to_string().contains("no loader"), "{e}");
        let e = choose(Requested::Window, &ok("Monado"), &err("DISPLAY unset")).unwrap_err();
        assert!(e.to_string().contains("--window") && e.to_string().contains("DISPLAY unset"), "{e}");
        assert_eq!(choose(Requested::Window, &ok("Monado"), &ok(":1")).unwrap().front_end, FrontEnd::Window);
        assert_eq!(choose(Requested::Xr, &ok("Monado"), &err("x")).unwrap().front_end, FrontEnd::Xr);
        let calls = Cell::new(0);
        let counting = || {
            calls.set(calls.get() + 1);
            Err::<String, String>("x".into())
        };
        let c = choose(Requested::Headless, &counting, &counting).unwrap();
        assert_eq!((c.front_end, calls.get()), (FrontEnd::Headless, 0), "--headless probes nothing");
        choose(Requested::Auto, &ok("Monado"), &counting).unwrap();
        assert_eq!(calls.get(), 0, "the display is not probed when XR is there");
    }

    #[test]
    fn x11_display_names_parse() {
        assert_eq!(parse_x11_display(":99"), Some(X11Display { host: String::new(), number: 99 }));
        assert_eq!(parse_x11_display(":0.1"), Some(X11Display { host: String::new(), number: 0 }));
        assert_eq!(parse_x11_display("localhost:10.0"), Some(X11Display { host: "localhost".into(), number: 10 }));
        assert_eq!(parse_x11_display("unix/:3"), Some(X11Display { host: String::new(), number: 3 }));
        assert_eq!(parse_x11_display("wayland-0"), None);
        assert_eq!(parse_x11_display(":x"), None);
    }

    #[test]
    fn display_probe_reports_unset_and_dead_and_live_sockets() {
        let none = |_: &str| None;
        assert_eq!(probe_display_with(&none), Err("DISPLAY unset".into()));
        // A display number nobody listens on.
        let dead = |k: &str| (k == "DISPLAY").then(|| OsString::from(":65000"));
        let e = probe_display_with(&dead).unwrap_err();
        assert!(e.contains("DISPLAY=:65000") && e.contains("/tmp/.X11-unix/X65000"), "{e}");
        // A Wayland socket that answers (a listener we own).
        let dir = std::env::temp_dir().join(format!("sangam-wl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("wayland-test");
        let _ = std::fs::remove_file(&sock);
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let env = |k: &str| match k {
            "WAYLAND_DISPLAY" => Some(OsString::from("wayland-test")),
            "XDG_RUNTIME_DIR" => Some(dir.clone().into_os_string()),
            _ => None,
        };
        let found = probe_display_with(&env).unwrap();
        assert!(found.contains("wayland-test"), "{found}");
        // The same name with no runtime dir is explained.
        let env = |k: &str| (k == "WAYLAND_DISPLAY").then(|| OsString::from("wayland-test"));
        let e = probe_display_with(&env).unwrap_err();
        assert!(e.contains("XDG_RUNTIME_DIR unset") && e.contains("DISPLAY unset"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn frame_timer_counts_missed_frames_and_percentiles() {
        let mut t = FrameTimer::new(Duration::from_millis(10));
        for i in 1..=100u64 {
            t.record(Duration::from_millis(1), Duration::from_millis(if i % 10 == 0 { 20 } else { 10 }));
        }
        assert_eq!(t.frames(), 100);
        assert_eq!(t.missed(), 10, "frames over 15 ms");
        let f = t.frame_stats();
        assert_eq!(f.max, Duration::from_millis(20));
        assert_eq!(f.p95, Duration::from_millis(20), "10% of frames are slow, so the 95th percentile is slow");
        assert_eq!(f.mean, Duration::from_millis(11));
        assert_eq!(t.encode_stats().mean, Duration::from_millis(1));
        assert_eq!(TimeStats::of(&[]), TimeStats::default());
    }
}
