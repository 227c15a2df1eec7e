//! The sector antenna of 3GPP TR 38.901 (V17.0.0), Table 7.3-1: one element's power pattern
//!
//! - vertical cut `A_V(θ'') = -min(12 ((θ'' - 90°) / θ3dB)^2, SLA_V)`, θ3dB = 65°, SLA_V = 30 dB;
//! - horizontal cut `A_H(φ'') = -min(12 (φ'' / φ3dB)^2, A_max)`, φ3dB = 65°, A_max = 30 dB;
//! - together `A(θ'', φ'') = -min(-(A_V + A_H), A_max)`, and the gain `G_E,max + A`, G_E,max = 8 dBi;
//!
//! in the antenna's local frame (θ'' from the zenith, φ'' from boresight). The sector's azimuth
//! (bearing, degrees clockwise from north) and mechanical downtilt turn the frame by §7.1.3
//! (eq. 7.1-7 with α the bearing in the global frame and β the downtilt, γ = 0); an electrical tilt
//! moves the vertical cut's peak below the horizon (`θ'' - 90° - tilt`), as a phase-tapered column
//! does.
//!
//! Site frame: x east, y north, z up (metres).
//!
//! Cost: an `acos` and an `atan2` per direction.

/// Half-power beamwidth of both cuts, degrees.
pub const BEAMWIDTH_DEG: f64 = 65.0;
/// Side-lobe level of the vertical cut, dB.
pub const SIDE_LOBE_DB: f64 = 30.0;
/// The largest attenuation, dB.
pub const MAX_ATTENUATION_DB: f64 = 30.0;
/// The element's gain on boresight, dBi.
pub const MAX_GAIN_DBI: f64 = 8.0;

/// The attenuation (dB, <= 0) of the element at zenith angle `theta_deg` (0-180) and azimuth
/// `phi_deg` (-180-180) of its local frame, with the vertical peak `electrical_tilt_deg` below the
/// horizon.
pub fn attenuation_db(theta_deg: f64, phi_deg: f64, electrical_tilt_deg: f64) -> f64 {
    let vertical = -(12.0 * ((theta_deg - 90.0 - electrical_tilt_deg) / BEAMWIDTH_DEG).powi(2)).min(SIDE_LOBE_DB);
    let horizontal = -(12.0 * (phi_deg / BEAMWIDTH_DEG).powi(2)).min(MAX_ATTENUATION_DB);
    -(-(vertical + horizontal)).min(MAX_ATTENUATION_DB)
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
}

impl Pointing {
    /// The gain (dBi) toward `direction` (site frame; need not be unit length, must not be zero).
    pub fn gain_dbi(&self, direction: [f64; 3]) -> f64 {
        let (theta, phi) = self.local_angles(direction);
        MAX_GAIN_DBI + attenuation_db(theta.to_degrees(), phi.to_degrees(), self.electrical_tilt_deg)
    }

    /// The local zenith angle θ' and azimuth φ' (radians) of `direction` (TR 38.901 eq. 7.1-7, γ = 0).
    pub fn local_angles(&self, direction: [f64; 3]) -> (f64, f64) {
        let [x, y, z] = direction;
        let r = (x * x + y * y + z * z).sqrt();
        let theta = (z / r).clamp(-1.0, 1.0).acos();
        let phi = y.atan2(x);
        // The global frame's bearing α is counter-clockwise from east.
        let alpha = (90.0 - self.azimuth_deg).to_radians();
        let beta = self.mechanical_tilt_deg.to_radians();
        let (st, ct) = theta.sin_cos();
        let (sb, cb) = beta.sin_cos();
        let (sp, cp) = (phi - alpha).sin_cos();
        let local_theta = (cb * ct + sb * cp * st).clamp(-1.0, 1.0).acos();
        let local_phi = (sp * st).atan2(cb * st * cp - sb * ct);
        (local_theta, local_phi)
    }
}
