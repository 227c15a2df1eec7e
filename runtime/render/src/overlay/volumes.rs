//! Volumes: spheres, upright cylinders and boxes tessellated into flat-shaded quads, drawn far to
//! near, depth-tested, showing the near surface from outside and the inner one from inside. Cost:
//! 288 quads per sphere, 96 per cylinder, 6 per box (about half of them drawn), plus a sort of the
//! volumes by distance; at most [`MAX_VOLUMES`], the nearest.

use glam::{DVec3, Vec3};

use super::builder::Builder;
use super::color::linear_color;
use super::quads::{DrawTexture, STYLE_SOLID, rel};
use super::{MAX_VOLUMES, OverlayVolume, VolumeShape};

/// Tessellated volume quads: corners and outward normal.
fn volume_quads(v: &OverlayVolume, out: &mut Vec<([DVec3; 4], DVec3)>) -> bool {
    out.clear();
    let c = v.center;
    let s = v.size.map(f64::from);
    let ok = |x: f64| x.is_finite() && x > 0.0;
    match v.shape {
        VolumeShape::Sphere => {
            if !ok(s[0]) {
                return false;
            }
            let r = s[0] * 0.5;
            let (nlat, nlon) = (12, 24);
            let p = |i: usize, j: usize| {
                let theta = std::f64::consts::PI * i as f64 / nlat as f64 - std::f64::consts::FRAC_PI_2;
                let phi = std::f64::consts::TAU * j as f64 / nlon as f64;
                DVec3::new(theta.cos() * phi.cos(), theta.cos() * phi.sin(), theta.sin())
            };
            for i in 0..nlat {
                for j in 0..nlon {
                    let q = [p(i, j), p(i, j + 1), p(i + 1, j + 1), p(i + 1, j)];
                    let n = (q[0] + q[1] + q[2] + q[3]).normalize_or_zero();
                    out.push((q.map(|d| c + d * r), n));
                }
            }
        }
        VolumeShape::Cylinder => {
            if !ok(s[0]) || !ok(s[2]) {
                return false;
            }
            let (r, hh) = (s[0] * 0.5, s[2] * 0.5);
            let n = 32;
            let d = |j: usize| {
                let phi = std::f64::consts::TAU * j as f64 / n as f64;
                DVec3::new(phi.cos(), phi.sin(), 0.0)
            };
            let (lo, hi) = (DVec3::new(0.0, 0.0, -hh), DVec3::new(0.0, 0.0, hh));
            for j in 0..n {
                let (a, b) = (d(j), d(j + 1));
                let side = [a * r + lo, b * r + lo, b * r + hi, a * r + hi];
                out.push((side.map(|p| c + p), (a + b).normalize_or_zero()));
                out.push(([hi, a * r + hi, b * r + hi, hi].map(|p| c + p), DVec3::Z));
                out.push(([lo, b * r + lo, a * r + lo, lo].map(|p| c + p), DVec3::NEG_Z));
            }
        }
        VolumeShape::Box => {
            if !(ok(s[0]) && ok(s[1]) && ok(s[2])) {
                return false;
            }
            let h = DVec3::new(s[0], s[1], s[2]) * 0.5;
            for n in [DVec3::X, DVec3::NEG_X, DVec3::Y, DVec3::NEG_Y, DVec3::Z, DVec3::NEG_Z] {
                let u = if n.z.abs() > 0.5 { DVec3::X } else { DVec3::Z.cross(n) };
                let w = n.cross(u);
                let (cn, cu, cw) = (n * h, u * h, w * h);
                out.push(([cn - cu - cw, cn + cu - cw, cn + cu + cw, cn - cu + cw].map(|p| c + p), n));
            }
        }
    }
    true
}

fn inside_volume(v: &OverlayVolume, eye: DVec3) -> bool {
    let d = eye - v.center;
    let s = v.size.map(f64::from);
    match v.shape {
        VolumeShape::Sphere => d.length() < s[0] * 0.5,
        VolumeShape::Cylinder => d.truncate().length() < s[0] * 0.5 && d.z.abs() < s[2] * 0.5,
        VolumeShape::Box => d.x.abs() < s[0] * 0.5 && d.y.abs() < s[1] * 0.5 && d.z.abs() < s[2] * 0.5,
    }
}

impl Builder {
    /// The volumes' quads, far to near, depth-tested.
    pub(super) fn volumes(&mut self, volumes: &[&OverlayVolume], reference: DVec3) {
        let mut order = std::mem::take(&mut self.order);
        let mut tess = std::mem::take(&mut self.tess);
        let eye = reference;
        let start = self.quads.len();
        order.clear();
        order.extend(
            volumes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.center.is_finite())
                .map(|(i, v)| ((v.center - eye).length_squared(), i)),
        );
        if order.len() > MAX_VOLUMES {
            let count = order.len();
            self.warnings
                .warn("volumes", || format!("overlay: {count} volumes; only the nearest {MAX_VOLUMES} are drawn"));
            order.sort_by(|a, b| a.0.total_cmp(&b.0));
            order.truncate(MAX_VOLUMES);
        }
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        let light = Vec3::new(0.3, -0.4, 0.85).normalize();
        for &(_, i) in &order {
            let v = &volumes[i];
            if !volume_quads(v, &mut tess) {
                continue;
            }
            let inside = inside_volume(v, eye);
            let base = linear_color(v.color);
            let mut drew = false;
            for (corners, n) in &tess {
                let centroid = (corners[0] + corners[1] + corners[2] + corners[3]) * 0.25;
                let front = n.dot(eye - centroid) > 0.0;
                if front == inside {
                    continue;
                }
                let r = [
                    rel(corners[0], reference),
                    rel(corners[1], reference),
                    rel(corners[2], reference),
                    rel(corners[3], reference),
                ];
                let [Some(a), Some(bb), Some(c), Some(d)] = r else { continue };
                let nn = if inside { -*n } else { *n };
                let shade = 0.7 + 0.3 * nn.as_vec3().dot(light).max(0.0);
                let col = [base[0] * shade, base[1] * shade, base[2] * shade, base[3]];
                self.world_quad([a, bb, c, d], STYLE_SOLID, col);
                drew = true;
            }
            self.primitives += u32::from(drew);
        }
        self.push_draw(false, DrawTexture::Atlas, start);
        self.order = order;
        self.tess = tess;
    }
}
