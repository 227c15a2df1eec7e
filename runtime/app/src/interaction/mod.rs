//! Interaction shared by every front end: select, inspect, move around, grab the twin, toggle layers.
//! Time (play, pause, step, rate, scrub) is the session's: the input frame carries the requests.
//!
//! A front end (the desktop window's mouse and keyboard, an OpenXR session's actions, a test script)
//! turns its input into one [`InputFrame`] per frame, all in world space, and hands it to
//! [`Interaction::update`]. No winit or OpenXR type appears here, so every behaviour is unit-tested
//! with synthetic input.
//!
//! - [`pick`]: rays, shapes and the nearest hit.
//! - [`camera`]: the viewer (orbit, pan, zoom, fly, teleport; the XR rig).
//! - [`desktop`]: mouse and keyboard to input frames (the window's bindings).
//! - [`twin_pose`]: where the whole twin sits (walk-through 1:1 or tabletop), grabbing it.
//! - [`inspector`]: the selected entity's values and history chart.
//! - [`layout`]: layers, pickables and entity links derived from a loaded site.

pub mod camera;
pub mod desktop;
pub mod inspector;
pub mod layout;
pub mod pick;
pub mod twin_pose;

use std::collections::VecDeque;
use std::time::Duration;

use glam::{DVec2, DVec3};
use sangam_render::scene::Placement;
use sangam_twin::{EntityId, SimTime, TwinStore};

use camera::Camera;
use inspector::Inspector;
use layout::SiteLayout;
use pick::{PickTarget, Ray};
use twin_pose::{DEFAULT_TABLETOP_SCALE, GrabDelta, TwinPose};

/// How far in front of the eye the table stands when switching to tabletop, metres (horizontal).
pub const TABLE_DISTANCE_M: f64 = 0.8;

/// How far below the eye the table top is, metres.
pub const TABLE_DROP_M: f64 = 0.6;

/// The history window charted by the inspector.
pub const CHART_WINDOW: Duration = Duration::from_secs(600);

/// Wheel zoom: the focus distance is multiplied by this per step toward the scene.
pub const ZOOM_PER_STEP: f64 = 0.85;

/// One frame of input from any front end, in world space. `Default` is "nothing happened".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputFrame {
    /// Wall-clock time since the previous frame.
    pub dt: Duration,
    /// The pointer ray (mouse cursor through the view, or a controller's aim pose), world space.
    pub pointer: Option<Ray>,
    /// Select was pressed this frame (click, trigger): pick along the pointer.
    pub select: bool,
    /// Teleport was released this frame: stand where the pointer meets the twin or the ground.
    pub teleport: bool,
    /// Fly velocity in the camera's axes (x right, y forward, z world up), each in -1..=1.
    pub fly: DVec3,
    /// Turn in place: (yaw, pitch) radians, yaw clockwise.
    pub look: DVec2,
    /// Turn about the pivot: (yaw, pitch) radians, yaw clockwise.
    pub orbit: DVec2,
    /// Pan across the view: fractions of the focus distance (x right, y up).
    pub pan: DVec2,
    /// Zoom steps toward the pivot (wheel clicks; negative zooms out).
    pub zoom_steps: f64,
    /// This frame's grab of the whole twin.
    pub grab: Option<GrabDelta>,
    /// Switch between walk-through and tabletop.
    pub toggle_tabletop: bool,
    /// Show or hide a layer (index into [`Interaction::layers`]).
    pub toggle_layer: Option<usize>,
    /// Toggle play/pause.
    pub play_pause: bool,
    /// Move the playhead by this many seconds (negative = back).
    pub scrub_seconds: f64,
    /// Jump the playhead back to live time.
    pub go_live: bool,
    /// Run one simulation step (paused or not).
    pub step_once: bool,
    /// Set the clock's rate (times real time, 0.1 to 100).
    pub set_rate: Option<f64>,
    /// Jump to a camera bookmark (index into [`Interaction::bookmarks`]).
    pub bookmark: Option<usize>,
    /// Go to the next view of a comparison ([`crate::panes::CompareView`]).
    pub next_compare_view: bool,
    /// The parameter panel's requests ([`crate::param_panel`]).
    pub panel: crate::param_panel::PanelInput,
}

/// Something that produces input frames (a window's event accumulator, an XR action set, a script).
pub trait InputSource {
    /// The next frame's input; `None` when the source has ended.
    fn next_frame(&mut self) -> Option<InputFrame>;
}

/// A fixed list of frames, played once (tests, benchmarks, scripted demos).
#[derive(Clone, Debug, Default)]
pub struct ScriptedInput {
    frames: VecDeque<InputFrame>,
}

impl ScriptedInput {
    /// A script of frames.
    pub fn new(frames: impl IntoIterator<Item = InputFrame>) -> ScriptedInput {
        ScriptedInput { frames: frames.into_iter().collect() }
    }
}

impl InputSource for ScriptedInput {
    fn next_frame(&mut self) -> Option<InputFrame> {
        self.frames.pop_front()
    }
}

/// Walk-through at 1:1 or a scaled model on a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwinMode {
    /// The twin at full size around the viewer.
    WalkThrough,
    /// The twin shrunk onto a table in front of the viewer.
    Tabletop,
}

/// The selected thing.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// What was hit.
    pub target: PickTarget,
    /// The entity it represents, if the scene file gave it one.
    pub entity: Option<EntityId>,
    /// Where the ray hit, world space (at selection time).
    pub point: DVec3,
    /// The render placement that draws it, if it has its own.
    pub placement: Option<usize>,
}

/// A haptic pulse for the controller that selected (the window ignores it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Haptic {
    /// 0..=1.
    pub amplitude: f32,
    /// Pulse length.
    pub duration: Duration,
}

/// The selection tick: short and light.
pub const SELECT_HAPTIC: Haptic = Haptic { amplitude: 0.5, duration: Duration::from_millis(20) };

/// What happened this frame, for the front end to show, log or feel.
#[derive(Clone, Debug, PartialEq)]
pub enum InteractionEvent {
    /// Something was selected.
    Selected(Selection),
    /// The selection was cleared (select pointed at nothing).
    Deselected,
    /// Pulse the selecting controller.
    Haptic(Haptic),
    /// The viewer teleported to stand on this world point.
    Teleported(DVec3),
    /// Walk-through / tabletop changed.
    ModeChanged(TwinMode),
    /// A layer was shown or hidden.
    LayerToggled {
        /// Its index.
        index: usize,
        /// Its name.
        name: String,
        /// Whether it is now shown.
        visible: bool,
    },
    /// Play/pause changed.
    PlayPause {
        /// Whether time now runs.
        playing: bool,
    },
    /// The playhead moved (scrub or go-live).
    Scrubbed(SimTime),
    /// One simulation step was run; live time is now this.
    Stepped(SimTime),
    /// The clock's rate changed.
    Rate(f64),
    /// The camera jumped to a bookmark.
    Bookmark(String),
}

/// What one [`Interaction::update`] produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameOutcome {
    /// Events, in the order they happened.
    pub events: Vec<InteractionEvent>,
    /// The render placements changed (twin pose or layer visibility): call
    /// [`Interaction::placements`] and hand them to the renderer.
    pub placements_changed: bool,
}

/// A camera bookmark by name.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedCamera {
    /// The bookmark's name.
    pub name: String,
    /// The camera it sets.
    pub camera: Camera,
}

/// The interaction state of one viewer.
#[derive(Clone, Debug)]
pub struct Interaction {
    layout: SiteLayout,
    visible: Vec<bool>,
    /// The viewer.
    pub camera: Camera,
    bookmarks: Vec<NamedCamera>,
    mode: TwinMode,
    pose: TwinPose,
    walk_camera: Option<Camera>,
    tabletop_scale: f64,
    selection: Option<Selection>,
}

impl Interaction {
    /// Interaction over a site layout, starting at `camera`. Time is the session's: a front end hands
    /// the input's time fields to `sangam_session::Session::command` (see `crate::frontend::SiteSession::frame`).
    pub fn new(layout: SiteLayout, camera: Camera, bookmarks: Vec<NamedCamera>) -> Interaction {
        let visible = vec![true; layout.layers.len()];
        Interaction {
            layout,
            visible,
            camera,
            bookmarks,
            mode: TwinMode::WalkThrough,
            pose: TwinPose::IDENTITY,
            walk_camera: None,
            tabletop_scale: DEFAULT_TABLETOP_SCALE,
            selection: None,
        }
    }

    /// Sets the tabletop scale (e.g. 1/500) used the next time tabletop mode is entered.
    pub fn set_tabletop_scale(&mut self, scale: f64) {
        if scale.is_finite() && scale > 0.0 {
            self.tabletop_scale = scale;
        }
    }

    /// Handles one frame of input.
    pub fn update(&mut self, input: &InputFrame) -> FrameOutcome {
        let mut out = FrameOutcome::default();
        let dt = input.dt.as_secs_f64();

        if let Some(i) = input.bookmark
            && let Some(b) = self.bookmarks.get(i)
        {
            let (name, camera) = (b.name.clone(), b.camera);
            if self.mode == TwinMode::Tabletop {
                self.set_mode(TwinMode::WalkThrough, &mut out);
            }
            self.camera = camera;
            out.events.push(InteractionEvent::Bookmark(name));
        }

        // Viewer motion.
        self.camera.orbit(input.orbit.x, input.orbit.y);
        self.camera.look(input.look.x, input.look.y);
        if input.pan != DVec2::ZERO {
            self.camera.pan(input.pan);
        }
        if input.zoom_steps != 0.0 {
            self.camera.zoom(ZOOM_PER_STEP.powf(input.zoom_steps));
        }
        if input.fly != DVec3::ZERO {
            self.camera.fly(input.fly.clamp(DVec3::splat(-1.0), DVec3::splat(1.0)), dt);
        }

        // The twin as a whole.
        if input.toggle_tabletop {
            let next = match self.mode {
                TwinMode::WalkThrough => TwinMode::Tabletop,
                TwinMode::Tabletop => TwinMode::WalkThrough,
            };
            self.set_mode(next, &mut out);
        }
        if let Some(grab) = &input.grab
            && grab.is_valid()
        {
            self.pose = self.pose.grabbed(grab);
            out.placements_changed = true;
        }
        if let Some(index) = input.toggle_layer
            && let Some(v) = self.visible.get_mut(index)
        {
            *v = !*v;
            let name = self.layout.layers[index].name.clone();
            out.events.push(InteractionEvent::LayerToggled { index, name, visible: *v });
            out.placements_changed = true;
        }

        // Pointer actions last: they see this frame's camera and twin pose.
        if let Some(ray) = input.pointer {
            if input.select {
                self.select(&ray, &mut out);
            }
            if input.teleport
                && self.mode == TwinMode::WalkThrough
                && let Some(p) = self.teleport_point(&ray)
            {
                self.camera.teleport(p);
                out.events.push(InteractionEvent::Teleported(p));
            }
        }
        out
    }

    fn set_mode(&mut self, mode: TwinMode, out: &mut FrameOutcome) {
        if mode == self.mode {
            return;
        }
        match mode {
            TwinMode::Tabletop => {
                let center = self.layout.bounds.map(|b| b.center()).unwrap_or(DVec3::ZERO);
                let f = self.camera.forward().truncate().try_normalize().unwrap_or(glam::DVec2::Y);
                let table = self.camera.eye + f.extend(0.0) * TABLE_DISTANCE_M - DVec3::Z * TABLE_DROP_M;
                // Keep the site's north pointing away from the viewer, as on a map.
                self.pose = TwinPose::tabletop(center, table, self.tabletop_scale, -self.camera.yaw);
                self.walk_camera = Some(self.camera);
                let mut cam = Camera::looking_at(self.camera.eye, table, self.camera.fov_y);
                cam.focus_distance = (table - self.camera.eye).length();
                self.camera = cam;
            }
            TwinMode::WalkThrough => {
                self.pose = TwinPose::IDENTITY;
                if let Some(c) = self.walk_camera.take() {
                    self.camera = c;
                }
            }
        }
        self.mode = mode;
        out.events.push(InteractionEvent::ModeChanged(mode));
        out.placements_changed = true;
    }

    fn select(&mut self, ray: &Ray, out: &mut FrameOutcome) {
        let hit = self.pose.ray_to_twin(ray).and_then(|r| {
            let pickables = self.visible_pickables();
            pick::pick(&r, &pickables).map(|h| (pickables[h.index].clone(), self.pose.to_world(h.point)))
        });
        match hit {
            Some((p, point)) => {
                let entity = self.layout.entity_of(&p.target).cloned();
                let s = Selection { target: p.target, entity, point, placement: p.placement };
                self.selection = Some(s.clone());
                out.events.push(InteractionEvent::Selected(s));
                out.events.push(InteractionEvent::Haptic(SELECT_HAPTIC));
            }
            None => {
                if self.selection.take().is_some() {
                    out.events.push(InteractionEvent::Deselected);
                }
            }
        }
    }

    /// Pickables whose layer is shown.
    fn visible_pickables(&self) -> Vec<pick::Pickable> {
        self.layout
            .pickables
            .iter()
            .filter(|p| p.layer.is_none_or(|l| self.visible.get(l).copied().unwrap_or(true)))
            .cloned()
            .collect()
    }

    /// Where a teleport along `ray` lands: the top of what it hits, else the twin's ground (z = 0).
    fn teleport_point(&self, ray: &Ray) -> Option<DVec3> {
        let r = self.pose.ray_to_twin(ray)?;
        let pickables = self.visible_pickables();
        if let Some(h) = pick::pick(&r, &pickables)
            && let Some(b) = pickables[h.index].shape.bounds()
            && (b.max.z - h.point.z).abs() < 1e-3
        {
            return Some(self.pose.to_world(h.point));
        }
        if r.direction.z < -1e-9 && r.origin.z > 0.0 {
            let t = -r.origin.z / r.direction.z;
            return Some(self.pose.to_world(r.at(t)));
        }
        None
    }

    /// The render placements for this frame: the site's placements moved by the twin pose, without
    /// those of hidden layers.
    pub fn placements(&self, base: &[Placement]) -> Vec<Placement> {
        let m = self.pose.world_from_twin();
        let identity = self.pose.is_identity();
        self.layout
            .layers
            .iter()
            .zip(&self.visible)
            .filter(|(_, v)| **v)
            .flat_map(|(l, _)| base.get(l.placements.clone()).unwrap_or(&[]).iter())
            .map(|p| if identity { *p } else { Placement { model: p.model, world_from_model: m * p.world_from_model } })
            .collect()
    }

    /// The inspector of the selected entity at time `t` (the session's displayed time), if an entity
    /// is selected.
    pub fn inspector(&self, store: &TwinStore, t: SimTime) -> Option<Inspector> {
        let id = self.selection.as_ref()?.entity.as_ref()?;
        inspector::inspect(store, id, t, None, CHART_WINDOW)
    }

    /// The current selection.
    pub fn selection(&self) -> Option<&Selection> {
        self.selection.as_ref()
    }

    /// Walk-through or tabletop.
    pub fn mode(&self) -> TwinMode {
        self.mode
    }

    /// Where the twin sits in the world.
    pub fn twin_pose(&self) -> &TwinPose {
        &self.pose
    }

    /// The layers and whether each is shown.
    pub fn layers(&self) -> impl Iterator<Item = (&layout::LayerGroup, bool)> + '_ {
        self.layout.layers.iter().zip(self.visible.iter().copied())
    }

    /// The bookmarks.
    pub fn bookmarks(&self) -> &[NamedCamera] {
        &self.bookmarks
    }

    /// The site layout this interaction works on.
    pub fn layout(&self) -> &SiteLayout {
        &self.layout
    }
}

#[cfg(test)]
mod tests;
