//! Lines: each segment of a polyline a camera-facing ribbon of constant world width, with round
//! joints at the interior points of opaque lines, depth-tested. Cost: one quad per segment plus one
//! per joint; at most [`MAX_LINE_SEGMENTS`] segments over all lines.

use glam::DVec3;

use super::builder::Builder;
use super::color::linear_color;
use super::quads::{DrawTexture, KIND_BILLBOARD, KIND_RIBBON, Quad, STYLE_DISC, STYLE_SOLID, mode, rel, v4};
use super::{MAX_LINE_SEGMENTS, OverlayLine};

impl Builder {
    /// The lines' quads, depth-tested.
    pub(super) fn lines(&mut self, lines: &[&OverlayLine], reference: DVec3) {
        let start = self.quads.len();
        let mut segments = 0usize;
        'lines: for l in lines {
            let w = l.width_m;
            if !w.is_finite() || w <= 0.0 || l.points.len() < 2 {
                continue;
            }
            let color = linear_color(l.color);
            let hw = w * 0.5;
            let mut drew = false;
            let joints = color[3] >= 0.999;
            for (k, pair) in l.points.windows(2).enumerate() {
                if segments >= MAX_LINE_SEGMENTS {
                    self.warnings.warn("lines", || {
                        format!("overlay: more than {MAX_LINE_SEGMENTS} line segments; the rest are not drawn")
                    });
                    self.primitives += u32::from(drew);
                    break 'lines;
                }
                let (Some(a), Some(e)) = (rel(pair[0], reference), rel(pair[1], reference)) else { continue };
                let d = e - a;
                if d.length_squared() == 0.0 || !d.is_finite() {
                    continue;
                }
                segments += 1;
                self.quads.push(Quad {
                    p0: v4(a, mode(KIND_RIBBON, STYLE_SOLID)),
                    p1: v4(d, hw),
                    p2: [0.0; 4],
                    p3: [0.0; 4],
                    color,
                });
                // A round joint at interior points (opaque lines only: translucent ones would double up).
                if joints && k > 0 {
                    self.billboard(KIND_BILLBOARD, STYLE_DISC, a, [-hw, -hw, hw, hw], [-1.0, -1.0, 1.0, 1.0], color);
                }
                drew = true;
            }
            self.primitives += u32::from(drew);
        }
        self.push_draw(false, DrawTexture::Atlas, start);
    }
}
