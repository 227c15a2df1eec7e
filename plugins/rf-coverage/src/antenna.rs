//! Sector antenna patterns of the 3GPP form (a parabolic main lobe in each cut, capped):
//!
//! - vertical cut `A_V(θ'') = -min(12 ((θ'' - 90°) / θ3dB)^2, SLA_V)`;
//! - horizontal cut `A_H(φ'') = -min(12 (φ'' / φ3dB)^2, A_max)`;
//! - together `A(θ'', φ'') = -min(-(A_V + A_H), A_max)`, and the gain `G_max + A`;
//!
//! in the antenna's local frame (θ'' from the zenith, φ'' from boresight), with two published sets of
//! values ([`Pattern::ELEMENT`], [`Pattern::MACRO`]). The sector's azimuth (bearing, degrees clockwise
//! from north) and mechanical downtilt turn the frame by TR 38.901 §7.1.3 (eq. 7.1-7 with α the bearing
//! in the global frame and β the downtilt, γ = 0); an electrical tilt moves the vertical cut's peak
//! below the horizon (`θ'' - 90° - tilt`), as a phase-tapered column does.
//!
//! Site frame: x east, y north, z up (metres).
//!
//! Cost: an `acos` and an `atan2` per direction ([`PointingFrame`]), none for one behind the antenna
//! (where the horizontal cut alone is at its cap).

/// One antenna pattern's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    /// Half-power beamwidth of the vertical cut θ3dB, degrees.
    pub vertical_beamwidth_deg: f64,
    /// Side-lobe level of the vertical cut SLA_V, dB.
    pub side_lobe_db: f64,
    /// Half-power beamwidth of the horizontal cut φ3dB, degrees.
    pub horizontal_beamwidth_deg: f64,
    /// The largest attenuation A_max (front-to-back ratio), dB.
    pub max_attenuation_db: f64,
    /// The gain on boresight, dBi.
    pub max_gain_dbi: f64,
}

impl Pattern {
    /// One element of an array, 3GPP TR 38.901 (V17.0.0) Table 7.3-1: θ3dB = φ3dB = 65°, SLA_V =
    /// A_max = 30 dB, G_E,max = 8 dBi. Its wide vertical lobe makes a tilt of a few degrees change
    /// little (what a column of elements would narrow).
    pub const ELEMENT: Pattern = Pattern {
        vertical_beamwidth_deg: 65.0,
        side_lobe_db: 30.0,
        horizontal_beamwidth_deg: 65.0,
        max_attenuation_db: 30.0,
        max_gain_dbi: 8.0,
    };

    /// A macro-cell panel (a column of elements), 3GPP TR 36.814 (V9.0.0) Table A.2.1.1-2: θ3dB = 10°,
    /// SLA_V = 20 dB, φ3dB = 70°, A_m = 25 dB, 14 dBi. The pattern planning tools tilt.
    pub const MACRO: Pattern = Pattern {
        vertical_beamwidth_deg: 10.0,
        side_lobe_db: 20.0,
        horizontal_beamwidth_deg: 70.0,
        max_attenuation_db: 25.0,
        max_gain_dbi: 14.0,
    };

    /// The attenuation (dB, <= 0) at zenith angle `theta_deg` (0-180) and azimuth `phi_deg`
    /// (-180-180) of the antenna's local frame, with the vertical peak `electrical_tilt_deg` below
    /// the horizon.
    pub fn attenuation_db(&self, theta_deg: f64, phi_deg: f64, electrical_tilt_deg: f64) -> f64 {
        let off = (theta_deg - 90.0 - electrical_tilt_deg) / self.vertical_beamwidth_deg;
        let vertical = -(12.0 * off * off).min(self.side_lobe_db);
        let across = phi_deg / self.horizontal_beamwidth_deg;
        let horizontal = -(12.0 * across * across).min(self.max_attenuation_db);
        -(-(vertical + horizontal)).min(self.max_attenuation_db)
    }
}

/// The attenuation of [`Pattern::ELEMENT`] (see [`Pattern::attenuation_db`]).
pub fn attenuation_db(theta_deg: f64, phi_deg: f64, electrical_tilt_deg: f64) -> f64 {
    Pattern::ELEMENT.attenuation_db(theta_deg, phi_deg, electrical_tilt_deg)
}

/// A sector antenna's pointing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pointing {
    /// Boresight bearing, degrees clockwise from north.
    pub azimuth_deg: f64,
    /// Mechanical downtilt, degrees (positive: below the horizon).
    pub mechanical_tilt_deg: f64,
    /// Electrical downtilt, degrees (positive: below the horizon).
    pub electrical_tilt_deg: f64,
    /// The antenna's pattern.
    pub pattern: Pattern,
}

impl Pointing {
    /// The gain (dBi) toward `direction` (site frame; need not be unit length, must not be zero).
    pub fn gain_dbi(&self, direction: [f64; 3]) -> f64 {
        self.frame().gain_dbi(direction)
    }

    /// The local zenith angle θ' and azimuth φ' (radians) of `direction` (TR 38.901 eq. 7.1-7, γ = 0).
    pub fn local_angles(&self, direction: [f64; 3]) -> (f64, f64) {
        self.frame().local_angles(direction)
    }

    /// The pointing with its rotation's sines and cosines worked out once (for a map's many links).
    pub fn frame(&self) -> PointingFrame {
        // The global frame's bearing α is counter-clockwise from east.
        let (sin_alpha, cos_alpha) = (90.0 - self.azimuth_deg).to_radians().sin_cos();
        let (sin_beta, cos_beta) = self.mechanical_tilt_deg.to_radians().sin_cos();
        // Beyond this azimuth the horizontal cut alone reaches A_max: 12 (φ / φ3dB)^2 = A_max.
        let p = &self.pattern;
        let behind_deg = p.horizontal_beamwidth_deg * (p.max_attenuation_db / 12.0).sqrt();
        let cos_behind = if behind_deg < 180.0 { behind_deg.to_radians().cos() } else { f64::NEG_INFINITY };
        PointingFrame { pointing: *self, sin_alpha, cos_alpha, sin_beta, cos_beta, cos_behind }
    }
}

/// A [`Pointing`] ready for many directions: eq. 7.1-7 written on the direction's components
/// (`sin θ cos(φ - α) = (x cos α + y sin α) / r`, `sin θ sin(φ - α) = (y cos α - x sin α) / r`,
/// `cos θ = z / r`), so a direction costs one `acos` and one `atan2`, no sines or cosines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointingFrame {
    pointing: Pointing,
    sin_alpha: f64,
    cos_alpha: f64,
    sin_beta: f64,
    cos_beta: f64,
    /// The cosine of the azimuth past which the pattern is at its largest attenuation whatever the
    /// zenith angle (−∞ when there is none).
    cos_behind: f64,
}

impl PointingFrame {
    /// The local zenith angle θ' and azimuth φ' (radians) of `direction` (must not be zero).
    pub fn local_angles(&self, direction: [f64; 3]) -> (f64, f64) {
        let [x, y, z] = direction;
        let r = (x * x + y * y + z * z).sqrt();
        let along = (x * self.cos_alpha + y * self.sin_alpha) / r;
        let across = (y * self.cos_alpha - x * self.sin_alpha) / r;
        let up = z / r;
        let local_theta = (self.cos_beta * up + self.sin_beta * along).clamp(-1.0, 1.0).acos();
        let local_phi = across.atan2(self.cos_beta * along - self.sin_beta * up);
        (local_theta, local_phi)
    }

    /// The gain (dBi) toward `direction`. A direction behind the antenna, where the horizontal cut
    /// alone reaches A_max, has the gain `G_max - A_max` whatever its zenith angle: known from the
    /// local components, with no `acos` or `atan2`.
    pub fn gain_dbi(&self, direction: [f64; 3]) -> f64 {
        let p = &self.pointing;
        let [x, y, z] = direction;
        let forward = self.cos_beta * (x * self.cos_alpha + y * self.sin_alpha) - self.sin_beta * z;
        let across = y * self.cos_alpha - x * self.sin_alpha;
        let level = (forward * forward + across * across).sqrt();
        if level > 1e-12 * (x * x + y * y + z * z).sqrt() && forward <= self.cos_behind * level {
            return p.pattern.max_gain_dbi - p.pattern.max_attenuation_db;
        }
        let (theta, phi) = self.local_angles(direction);
        p.pattern.max_gain_dbi + p.pattern.attenuation_db(theta.to_degrees(), phi.to_degrees(), p.electrical_tilt_deg)
    }
}
