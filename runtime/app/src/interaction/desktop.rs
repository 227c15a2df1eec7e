//! Mouse and keyboard to [`InputFrame`]s, without any windowing type: the window maps its events onto
//! [`DesktopInput`]'s methods, and once per frame takes the accumulated [`InputFrame`].
//!
//! Bindings: left drag orbits; right drag (or shift + left drag) pans; the wheel zooms; a left click
//! (press and release without dragging) selects; W/A/S/D fly, Q/E down/up (shift: 4x faster); T teleports
//! to the point under the cursor; 1-9 jump to bookmarks; space plays/pauses; `[` / `]` scrub 5 s (shift:
//! 60 s); backspace goes live; Tab switches walk-through / tabletop; L shows/hides the current layer and
//! K picks the next layer; V goes to the next view of a comparison (`--compare`: split, differences,
//! plan, branch). In a split frame a click picks through the half it is in. P shows or hides the
//! parameter panel; the up and down arrows choose a parameter in it, left and right change it.

use std::time::Duration;

use glam::{DVec2, DVec3};

use super::InputFrame;
use super::camera::{Camera, ray_through_pixel};

/// Radians of orbit per pixel of drag.
pub const ORBIT_RAD_PER_PX: f64 = 0.005;

/// A press and release closer than this many pixels is a click, not a drag.
pub const CLICK_SLOP_PX: f64 = 4.0;

/// Seconds per scrub key press (with shift: [`SCRUB_LONG_S`]).
pub const SCRUB_S: f64 = 5.0;

/// Seconds per scrub key press with shift held.
pub const SCRUB_LONG_S: f64 = 60.0;

/// Mouse buttons the desktop bindings use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Button {
    /// Left: orbit, click to select.
    Left,
    /// Right: pan.
    Right,
}

/// Keys the desktop bindings use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Fly forward.
    W,
    /// Fly left.
    A,
    /// Fly back.
    S,
    /// Fly right.
    D,
    /// Fly down.
    Q,
    /// Fly up.
    E,
    /// Teleport to the cursor.
    T,
    /// Show/hide the current layer.
    L,
    /// Next layer.
    K,
    /// Next view of a comparison.
    V,
    /// Show or hide the parameter panel.
    P,
    /// Arrow up: the panel's previous parameter.
    Up,
    /// Arrow down: the panel's next parameter.
    Down,
    /// Arrow left: the chosen parameter one step down.
    Left,
    /// Arrow right: the chosen parameter one step up.
    Right,
    /// Bookmark 1-9 (the digit).
    Digit(u8),
    /// Play/pause.
    Space,
    /// Scrub back.
    BracketLeft,
    /// Scrub forward.
    BracketRight,
    /// Back to live time.
    Backspace,
    /// Walk-through / tabletop.
    Tab,
    /// Either shift key.
    Shift,
}

/// Accumulates mouse and keyboard events between frames.
#[derive(Clone, Debug, Default)]
pub struct DesktopInput {
    cursor: Option<DVec2>,
    left_down_at: Option<DVec2>,
    left_dragged: bool,
    right_down: bool,
    shift: bool,
    held: [bool; 6],
    frame: InputFrame,
    drag: DVec2,
    pan_px: DVec2,
    click_at: Option<DVec2>,
    teleport_at: Option<DVec2>,
    layer_count: usize,
    current_layer: usize,
    next_layer_pressed: bool,
}

impl DesktopInput {
    /// Input for a site with `layer_count` layers (L and K cycle through them).
    pub fn new(layer_count: usize) -> DesktopInput {
        DesktopInput { layer_count, ..Default::default() }
    }

    /// The layer L toggles.
    pub fn current_layer(&self) -> usize {
        self.current_layer
    }

    /// The cursor moved to `(x, y)` pixels from the top-left.
    pub fn cursor_moved(&mut self, x: f64, y: f64) {
        let p = DVec2::new(x, y);
        if let Some(prev) = self.cursor {
            let d = p - prev;
            if let Some(down) = self.left_down_at {
                if (p - down).length() > CLICK_SLOP_PX {
                    self.left_dragged = true;
                }
                if self.left_dragged {
                    if self.shift { self.pan_px += d } else { self.drag += d }
                }
            } else if self.right_down {
                self.pan_px += d;
            }
        }
        self.cursor = Some(p);
    }

    /// The cursor left the window.
    pub fn cursor_left(&mut self) {
        self.cursor = None;
    }

    /// A mouse button changed.
    pub fn button(&mut self, button: Button, pressed: bool) {
        match (button, pressed) {
            (Button::Left, true) => {
                self.left_down_at = self.cursor;
                self.left_dragged = false;
            }
            (Button::Left, false) => {
                if self.left_down_at.take().is_some() && !self.left_dragged {
                    self.click_at = self.cursor;
                }
                self.left_dragged = false;
            }
            (Button::Right, down) => self.right_down = down,
        }
    }

    /// The wheel turned by `steps` (positive toward the scene).
    pub fn wheel(&mut self, steps: f64) {
        if steps.is_finite() {
            self.frame.zoom_steps += steps;
        }
    }

    /// A key changed; `repeat` is the keyboard's auto-repeat (ignored for one-shot actions).
    pub fn key(&mut self, key: Key, pressed: bool, repeat: bool) {
        let fly_index = match key {
            Key::W => Some(0),
            Key::S => Some(1),
            Key::D => Some(2),
            Key::A => Some(3),
            Key::E => Some(4),
            Key::Q => Some(5),
            _ => None,
        };
        if let Some(i) = fly_index {
            self.held[i] = pressed;
            return;
        }
        if key == Key::Shift {
            self.shift = pressed;
            return;
        }
        if !pressed || repeat {
            return;
        }
        let scrub = if self.shift { SCRUB_LONG_S } else { SCRUB_S };
        match key {
            Key::T => self.teleport_at = self.cursor,
            Key::L if self.layer_count > 0 => self.frame.toggle_layer = Some(self.current_layer),
            Key::K if self.layer_count > 0 => {
                self.current_layer = (self.current_layer + 1) % self.layer_count;
                self.next_layer_pressed = true;
            }
            Key::Digit(d @ 1..=9) => self.frame.bookmark = Some(usize::from(d - 1)),
            Key::Space => self.frame.play_pause = !self.frame.play_pause,
            Key::BracketLeft => self.frame.scrub_seconds -= scrub,
            Key::BracketRight => self.frame.scrub_seconds += scrub,
            Key::Backspace => self.frame.go_live = true,
            Key::Tab => self.frame.toggle_tabletop = !self.frame.toggle_tabletop,
            Key::V => self.frame.next_compare_view = !self.frame.next_compare_view,
            Key::P => self.frame.panel.toggle = !self.frame.panel.toggle,
            Key::Up => self.frame.panel.choose -= 1,
            Key::Down => self.frame.panel.choose += 1,
            Key::Left => self.frame.panel.change -= 1,
            Key::Right => self.frame.panel.change += 1,
            _ => {}
        }
    }

    /// Whether K was pressed since the last frame (the window shows the new current layer).
    pub fn layer_cursor_moved(&self) -> bool {
        self.next_layer_pressed
    }

    /// Everything since the last call, as one frame for a `width` x `height` view from `camera`.
    pub fn take_frame(&mut self, dt: Duration, camera: &Camera, width: u32, height: u32) -> InputFrame {
        self.take_frame_split(dt, camera, width, height, false)
    }

    /// [`DesktopInput::take_frame`] for a frame that is `split` in two halves side by side, each a view
    /// from `camera`: a click or teleport casts its ray through the half it is in.
    pub fn take_frame_split(
        &mut self,
        dt: Duration,
        camera: &Camera,
        width: u32,
        height: u32,
        split: bool,
    ) -> InputFrame {
        let mut frame = std::mem::take(&mut self.frame);
        frame.dt = dt;
        let h = f64::from(height.max(1));
        frame.orbit = DVec2::new(self.drag.x, -self.drag.y) * ORBIT_RAD_PER_PX;
        // A pixel at the pivot spans 2 tan(fov/2) / height of the focus distance.
        let per_px = 2.0 * (camera.fov_y * 0.5).tan() / h;
        frame.pan = DVec2::new(-self.pan_px.x, self.pan_px.y) * per_px;
        let axis = |pos: usize, neg: usize| f64::from(u8::from(self.held[pos])) - f64::from(u8::from(self.held[neg]));
        let boost = if self.shift { 4.0 } else { 1.0 };
        frame.fly = DVec3::new(axis(2, 3), axis(0, 1), axis(4, 5)) * boost;
        let left = width / 2;
        let ray_at = |p: DVec2| {
            let (x, w) = match split {
                false => (p.x, width),
                true if p.x < f64::from(left) => (p.x, left),
                true => (p.x - f64::from(left), width - left),
            };
            let view = camera.view(f64::from(w.max(1)) / h);
            ray_through_pixel(&view, w, height, x, p.y)
        };
        if let Some(p) = self.click_at.take() {
            frame.pointer = ray_at(p);
            frame.select = frame.pointer.is_some();
        }
        if let Some(p) = self.teleport_at.take() {
            frame.pointer = ray_at(p);
            frame.teleport = frame.pointer.is_some();
        }
        self.drag = DVec2::ZERO;
        self.pan_px = DVec2::ZERO;
        self.next_layer_pressed = false;
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera() -> Camera {
        Camera::looking_at(DVec3::new(0.0, -100.0, 0.0), DVec3::ZERO, 1.0)
    }

    #[test]
    fn click_selects_under_the_cursor_but_a_drag_orbits() {
        let mut input = DesktopInput::new(3);
        input.cursor_moved(400.0, 300.0);
        input.button(Button::Left, true);
        input.cursor_moved(401.0, 301.0);
        input.button(Button::Left, false);
        let f = input.take_frame(Duration::from_millis(16), &camera(), 800, 600);
        assert!(f.select, "a 1 px wobble is still a click");
        let ray = f.pointer.unwrap();
        assert!((ray.direction - DVec3::Y).length() < 0.01, "the centre of the view looks north: {ray:?}");
        assert_eq!(f.orbit, DVec2::ZERO);
        // Drag 100 px right: orbit, no select.
        input.button(Button::Left, true);
        input.cursor_moved(501.0, 301.0);
        input.button(Button::Left, false);
        let f = input.take_frame(Duration::from_millis(16), &camera(), 800, 600);
        assert!(!f.select && f.pointer.is_none());
        assert!((f.orbit.x - 100.0 * ORBIT_RAD_PER_PX).abs() < 1e-12, "{:?}", f.orbit);
        // Nothing pending: an empty frame.
        let f = input.take_frame(Duration::from_millis(16), &camera(), 800, 600);
        assert_eq!(f, InputFrame { dt: Duration::from_millis(16), ..Default::default() });
    }

    #[test]
    fn right_or_shift_drag_pans_one_to_one_at_the_pivot() {
        let mut input = DesktopInput::new(0);
        input.cursor_moved(0.0, 0.0);
        input.button(Button::Right, true);
        input.cursor_moved(60.0, 0.0);
        input.button(Button::Right, false);
        let cam = camera();
        let f = input.take_frame(Duration::ZERO, &cam, 800, 600);
        let world_per_px = 2.0 * (cam.fov_y * 0.5).tan() / 600.0 * cam.focus_distance;
        // Dragging right moves the eye left (the scene follows the cursor).
        assert!((f.pan.x * cam.focus_distance + 60.0 * world_per_px).abs() < 1e-9, "{:?}", f.pan);
        input.key(Key::Shift, true, false);
        input.button(Button::Left, true);
        input.cursor_moved(60.0, 30.0);
        input.cursor_moved(60.0, 60.0);
        let f = input.take_frame(Duration::ZERO, &cam, 800, 600);
        assert!(f.pan.y > 0.0 && f.orbit == DVec2::ZERO, "shift + drag pans: {f:?}");
    }

    #[test]
    fn keys_map_to_actions_once_and_fly_while_held() {
        let mut input = DesktopInput::new(3);
        input.key(Key::W, true, false);
        input.key(Key::D, true, false);
        input.key(Key::Space, true, false);
        input.key(Key::Space, true, true);
        input.key(Key::Digit(2), true, false);
        input.key(Key::BracketLeft, true, false);
        input.key(Key::BracketLeft, true, false);
        input.key(Key::K, true, false);
        input.key(Key::L, true, false);
        input.key(Key::Tab, true, false);
        let f = input.take_frame(Duration::ZERO, &camera(), 800, 600);
        assert_eq!(f.fly, DVec3::new(1.0, 1.0, 0.0));
        assert!(f.play_pause, "auto-repeat does not toggle twice");
        assert_eq!(f.bookmark, Some(1));
        assert_eq!(f.scrub_seconds, -2.0 * SCRUB_S);
        assert_eq!(f.toggle_layer, Some(1), "K moved to layer 1, L toggled it");
        assert!(f.toggle_tabletop);
        // Held keys keep flying; one-shot actions are gone.
        input.key(Key::D, false, false);
        input.key(Key::Shift, true, false);
        input.key(Key::BracketRight, true, false);
        let f = input.take_frame(Duration::ZERO, &camera(), 800, 600);
        assert_eq!(f.fly, DVec3::new(0.0, 4.0, 0.0));
        assert!(!f.play_pause && f.bookmark.is_none() && f.toggle_layer.is_none());
        assert_eq!(f.scrub_seconds, SCRUB_LONG_S);
        // Layers wrap; a site without layers ignores L and K.
        input.key(Key::K, true, false);
        input.key(Key::K, true, false);
        assert_eq!(input.current_layer(), 0);
        let mut none = DesktopInput::new(0);
        none.key(Key::L, true, false);
        none.key(Key::Digit(0), true, false);
        let f = none.take_frame(Duration::ZERO, &camera(), 800, 600);
        assert!(f.toggle_layer.is_none() && f.bookmark.is_none());
    }

    #[test]
    fn teleport_uses_the_cursor_ray() {
        let mut input = DesktopInput::new(0);
        input.key(Key::T, true, false);
        let f = input.take_frame(Duration::ZERO, &camera(), 800, 600);
        assert!(!f.teleport, "no cursor, no teleport");
        input.cursor_moved(400.0, 600.0);
        input.key(Key::T, true, false);
        let f = input.take_frame(Duration::ZERO, &camera(), 800, 600);
        assert!(f.teleport);
        assert!(f.pointer.unwrap().direction.z < 0.0, "the bottom edge looks down");
    }
}
