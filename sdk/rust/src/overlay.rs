//! Overlay primitives and a builder for [`OverlayFrame`].
//!
//! Positions are in the site frame (metres east, north, up of the scene origin); colours are sRGB
//! RGBA in `0..=1`. Every float must be finite: the host rejects a frame with NaN or infinities.
//!
//! ```
//! use sangam_sdk::overlay::{OverlayFrame, Severity, color};
//!
//! let frame = OverlayFrame::new()
//!     .label([10.0, 20.0, 5.0], "1200 veh/h", color::WHITE, 2.0)
//!     .marker([10.0, 20.0, 0.0], color::severity(Severity::Warning), 1.5)
//!     .polyline(&[[0.0, 0.0, 0.0], [10.0, 20.0, 0.0]], color::CYAN, 0.5)
//!     .alert(Severity::Warning, Some(0), "flow above 1000 veh/h");
//! assert_eq!(frame.labels.texts.len(), 1);
//! assert_eq!(frame.labels.positions.len(), 3);
//! ```

pub use crate::__bindings::overlay::sangam::plugin::overlay_types::{
    Alert, Heatmap, Labels, Markers, OverlayFrame, Palette, Polyline, Severity, Volume, VolumeShape,
};

/// An sRGB RGBA colour with components in `0..=1`.
pub type Rgba = [f32; 4];

/// A few colours, and the colour of each [`Severity`].
pub mod color {
    use super::{Rgba, Severity};

    /// Opaque white.
    pub const WHITE: Rgba = [1.0, 1.0, 1.0, 1.0];
    /// Opaque black.
    pub const BLACK: Rgba = [0.0, 0.0, 0.0, 1.0];
    /// Opaque red.
    pub const RED: Rgba = [0.9, 0.1, 0.1, 1.0];
    /// Opaque amber.
    pub const AMBER: Rgba = [1.0, 0.65, 0.0, 1.0];
    /// Opaque green.
    pub const GREEN: Rgba = [0.1, 0.75, 0.2, 1.0];
    /// Opaque sky blue.
    pub const BLUE: Rgba = [0.2, 0.5, 1.0, 1.0];
    /// Opaque cyan.
    pub const CYAN: Rgba = [0.0, 0.8, 0.9, 1.0];

    /// The conventional colour of a severity: blue for info, amber for warning, red for critical.
    ///
    /// ```
    /// use sangam_sdk::overlay::{Severity, color};
    /// assert_eq!(color::severity(Severity::Critical), color::RED);
    /// ```
    pub fn severity(severity: Severity) -> Rgba {
        match severity {
            Severity::Info => BLUE,
            Severity::Warning => AMBER,
            Severity::Critical => RED,
        }
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels { positions: Vec::new(), texts: Vec::new(), colors: Vec::new(), sizes: Vec::new() }
    }
}

impl Default for Markers {
    fn default() -> Self {
        Markers { positions: Vec::new(), colors: Vec::new(), radii: Vec::new() }
    }
}

impl Default for OverlayFrame {
    fn default() -> Self {
        Self::new()
    }
}

impl OverlayFrame {
    /// An empty frame (draws nothing).
    pub fn new() -> Self {
        OverlayFrame {
            labels: Labels::default(),
            markers: Markers::default(),
            polylines: Vec::new(),
            heatmaps: Vec::new(),
            volumes: Vec::new(),
            alerts: Vec::new(),
        }
    }

    /// Adds a text label anchored at `position`, `size` metres high.
    pub fn label(mut self, position: [f64; 3], text: impl Into<String>, color: Rgba, size: f32) -> Self {
        self.push_label(position, text, color, size);
        self
    }

    /// Adds a text label (in place).
    pub fn push_label(&mut self, position: [f64; 3], text: impl Into<String>, color: Rgba, size: f32) {
        self.labels.positions.extend_from_slice(&position);
        self.labels.texts.push(text.into());
        self.labels.colors.extend_from_slice(&color);
        self.labels.sizes.push(size);
    }

    /// Adds a point marker (a sphere of `radius` metres) at `position`.
    pub fn marker(mut self, position: [f64; 3], color: Rgba, radius: f32) -> Self {
        self.push_marker(position, color, radius);
        self
    }

    /// Adds a point marker (in place).
    pub fn push_marker(&mut self, position: [f64; 3], color: Rgba, radius: f32) {
        self.markers.positions.extend_from_slice(&position);
        self.markers.colors.extend_from_slice(&color);
        self.markers.radii.push(radius);
    }

    /// Adds a line through `points` (at least two), `width` metres wide.
    pub fn polyline(mut self, points: &[[f64; 3]], color: Rgba, width: f32) -> Self {
        self.polylines.push(Polyline {
            points: points.iter().flatten().copied().collect(),
            color: (color[0], color[1], color[2], color[3]),
            width,
        });
        self
    }

    /// Adds a heatmap.
    pub fn heatmap(mut self, heatmap: Heatmap) -> Self {
        self.heatmaps.push(heatmap);
        self
    }

    /// Adds a translucent volume (`color`'s alpha is its opacity).
    pub fn volume(mut self, shape: VolumeShape, center: [f64; 3], size: [f32; 3], color: Rgba) -> Self {
        self.volumes.push(Volume {
            shape,
            center: (center[0], center[1], center[2]),
            size: (size[0], size[1], size[2]),
            color: (color[0], color[1], color[2], color[3]),
        });
        self
    }

    /// Adds an alert for the operator, about entity index `entity` if given.
    pub fn alert(mut self, severity: Severity, entity: Option<u32>, message: impl Into<String>) -> Self {
        self.push_alert(severity, entity, message);
        self
    }

    /// Adds an alert (in place).
    pub fn push_alert(&mut self, severity: Severity, entity: Option<u32>, message: impl Into<String>) {
        self.alerts.push(Alert { severity, entity, message: message.into() });
    }

    /// True when the frame draws nothing and raises no alert.
    pub fn is_empty(&self) -> bool {
        self.labels.texts.is_empty()
            && self.markers.radii.is_empty()
            && self.polylines.is_empty()
            && self.heatmaps.is_empty()
            && self.volumes.is_empty()
            && self.alerts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_parallel_lists_in_step() {
        let f = OverlayFrame::new()
            .label([1.0, 2.0, 3.0], "a", color::RED, 1.0)
            .label([4.0, 5.0, 6.0], String::from("b"), color::GREEN, 2.0)
            .marker([7.0, 8.0, 9.0], color::BLUE, 0.5);
        assert_eq!(f.labels.positions, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(f.labels.texts, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(f.labels.colors.len(), 8);
        assert_eq!(&f.labels.colors[4..], &color::GREEN);
        assert_eq!(f.labels.sizes, vec![1.0, 2.0]);
        assert_eq!(f.markers.positions.len(), 3);
        assert_eq!(f.markers.radii, vec![0.5]);
        assert!(!f.is_empty());
        assert!(OverlayFrame::default().is_empty());
    }

    #[test]
    fn polyline_and_volume_flatten_points() {
        let f = OverlayFrame::new()
            .polyline(&[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], color::WHITE, 0.25)
            .volume(VolumeShape::Cylinder, [1.0, 1.0, 0.0], [4.0, 4.0, 10.0], [1.0, 0.0, 0.0, 0.3])
            .alert(Severity::Critical, None, "x");
        assert_eq!(f.polylines[0].points, vec![0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(f.volumes[0].size, (4.0, 4.0, 10.0));
        assert_eq!(f.alerts[0].entity, None);
    }
}
