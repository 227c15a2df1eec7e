//! Markers: camera-facing discs, depth-tested. Cost: one quad per marker; at most
//! [`MAX_MARKERS`], the first ones.

use glam::DVec3;

use super::builder::Builder;
use super::color::linear_color;
use super::quads::{DrawTexture, KIND_BILLBOARD, STYLE_DISC, rel};
use super::{MAX_MARKERS, OverlayMarker};

impl Builder {
    /// The markers' quads, depth-tested.
    pub(super) fn markers(&mut self, markers: &[&OverlayMarker], reference: DVec3) {
        let start = self.quads.len();
        for (i, m) in markers.iter().enumerate() {
            if i >= MAX_MARKERS {
                let count = markers.len();
                self.warnings
                    .warn("markers", || format!("overlay: {count} markers; only the first {MAX_MARKERS} are drawn"));
                break;
            }
            let r = m.radius_m;
            let Some(p) = rel(m.position, reference) else { continue };
            if !r.is_finite() || r <= 0.0 {
                continue;
            }
            self.billboard(
                KIND_BILLBOARD,
                STYLE_DISC,
                p,
                [-r, -r, r, r],
                [-1.0, -1.0, 1.0, 1.0],
                linear_color(m.color),
            );
            self.primitives += 1;
        }
        self.push_draw(false, DrawTexture::Atlas, start);
    }
}
