//! `sangam`: the command line and the front ends (headless, window, XR), wired to the running twin
//! (`sangam-session`) and the renderer.
//!
//! - [`site`]: turns a loaded scene file (the twin) into a render scene: glTF assets imported once and
//!   placed (instanced), GeoJSON layers extruded, a ground plane, the sun.
//! - [`framing`]: a bare glTF model with an automatic camera, so anyone can look at a model.
//! - [`headless`]: the headless front end: bookmarks (mono or stereo) to images.
//! - [`scaffold`]: `sangam plugin new`: writes a new plugin crate from templates.
//! - [`scenario`]: `--scenario NAME` and `--set PLUGIN.PARAMETER=VALUE`: a scenario's parameter values
//!   applied to the scene before it loads.
//! - [`interaction`]: selection, inspector, camera, tabletop and layers, shared by every front end.
//! - [`overlay_compose`]: the per-frame overlay: plugin frames, the inspector panel, heads-up lines.
//! - [`clock_pace`]: how fast the clock really ran lately, and what held it, for the screen.
//! - [`compare`], [`panes`]: a second scenario beside the plan (`--compare`): its branch, the
//!   difference maps and summaries, and what each part of the frame shows (split, or one view);
//!   [`param_panel`]: the what-if branch's parameters changed live.
//! - [`frontend`]: `sangam run`: choosing XR, window or headless, the one per-frame update every front
//!   end calls ([`frontend::SiteSession::frame`]: time requests, `sangam_session::Session::tick`,
//!   interaction), and the headless frame loop.
//! - [`window`]: the desktop window front end (winit).
//! - [`xr_front`]: the OpenXR front end (the site in a headset session through `sangam-xr`).

pub mod clock_pace;
pub mod compare;
pub mod framing;
pub mod frontend;
pub mod headless;
pub mod interaction;
pub mod live_colors;
pub mod overlay_compose;
pub mod panes;
pub mod param_panel;
pub mod scaffold;
pub mod scenario;
pub mod site;
pub mod site_maps;
pub mod window;
pub mod xr_front;
