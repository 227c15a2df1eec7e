//! Geo-referencing on the WGS84 ellipsoid, all in `f64`.
//!
//! Three coordinate systems are involved:
//!
//! * **Geodetic** ([`Geodetic`]): latitude and longitude in degrees, height in metres above the WGS84
//!   ellipsoid (not above mean sea level).
//! * **ECEF** (earth-centred, earth-fixed, EPSG:4978): metres, +X through (0° N, 0° E), +Y through
//!   (0° N, 90° E), +Z through the north pole.
//! * **ENU** ([`EnuFrame`]): a local tangent frame at a geodetic origin, +X east, +Y north, +Z up
//!   (along the ellipsoid normal at the origin). This is the twin's world frame.
//!
//! The formulas are those of the EPSG Guidance Note 7-2 (methods 9602 "geographic/geocentric" and
//! 9836 "geocentric/topocentric"); ECEF -> geodetic uses Bowring's iteration, which converges below
//! a micrometre in two or three steps for any point near the Earth's surface.

use glam::{DMat3, DVec3};
use thiserror::Error;

/// WGS84 semi-major axis `a`, metres.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 inverse flattening `1/f`.
pub const WGS84_INV_F: f64 = 298.257_223_563;
/// WGS84 flattening `f`.
pub const WGS84_F: f64 = 1.0 / WGS84_INV_F;
/// WGS84 semi-minor axis `b = a (1 - f)`, metres.
pub const WGS84_B: f64 = WGS84_A * (1.0 - WGS84_F);
/// WGS84 first eccentricity squared `e² = f (2 - f)`.
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// WGS84 second eccentricity squared `e'² = e² / (1 - e²)`.
pub const WGS84_EP2: f64 = WGS84_E2 / (1.0 - WGS84_E2);

/// An invalid geodetic coordinate.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GeoError {
    /// Latitude not a finite number in -90..=90 degrees.
    #[error("latitude {0} is not a number of degrees in -90..=90")]
    Latitude(f64),
    /// Longitude not a finite number in -180..=180 degrees.
    #[error("longitude {0} is not a number of degrees in -180..=180")]
    Longitude(f64),
    /// Altitude not finite.
    #[error("altitude {0} is not a finite number of metres")]
    Altitude(f64),
}

/// A WGS84 geodetic position: latitude and longitude in degrees, ellipsoidal height in metres.
///
/// The fields are public for convenience; use [`Geodetic::new`] to validate values coming from
/// outside the program.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Geodetic {
    /// Latitude, degrees, positive north, -90..=90.
    pub lat_deg: f64,
    /// Longitude, degrees, positive east, -180..=180.
    pub lon_deg: f64,
    /// Height above the WGS84 ellipsoid, metres.
    pub alt_m: f64,
}

impl Geodetic {
    /// A validated geodetic position: latitude finite in -90..=90, longitude finite in -180..=180,
    /// altitude finite.
    pub fn new(lat_deg: f64, lon_deg: f64, alt_m: f64) -> Result<Self, GeoError> {
        if !(lat_deg.is_finite() && (-90.0..=90.0).contains(&lat_deg)) {
            return Err(GeoError::Latitude(lat_deg));
        }
        if !(lon_deg.is_finite() && (-180.0..=180.0).contains(&lon_deg)) {
            return Err(GeoError::Longitude(lon_deg));
        }
        if !alt_m.is_finite() {
            return Err(GeoError::Altitude(alt_m));
        }
        Ok(Self { lat_deg, lon_deg, alt_m })
    }

    /// Converts to earth-centred, earth-fixed coordinates (metres), EPSG method 9602.
    pub fn to_ecef(&self) -> DVec3 {
        let (sin_lat, cos_lat) = self.lat_deg.to_radians().sin_cos();
        let (sin_lon, cos_lon) = self.lon_deg.to_radians().sin_cos();
        let nu = prime_vertical_radius(sin_lat);
        let h = self.alt_m;
        DVec3::new((nu + h) * cos_lat * cos_lon, (nu + h) * cos_lat * sin_lon, ((1.0 - WGS84_E2) * nu + h) * sin_lat)
    }

    /// Converts from earth-centred, earth-fixed coordinates (metres).
    ///
    /// Uses Bowring's formula iterated to convergence (sub-micrometre near the Earth's surface).
    /// On the polar axis the longitude is 0 by convention. The longitude is in -180..=180.
    /// Non-finite input gives non-finite output.
    pub fn from_ecef(ecef: DVec3) -> Self {
        let (x, y, z) = (ecef.x, ecef.y, ecef.z);
        let p = x.hypot(y);
        let lon = if p == 0.0 { 0.0 } else { y.atan2(x) };
        // Polar axis (or the centre): the latitude is ±90°, the height is measured along the axis.
        if p < 1e-9 {
            let lat = if z >= 0.0 { 90.0 } else { -90.0 };
            return Self { lat_deg: lat, lon_deg: lon.to_degrees(), alt_m: z.abs() - WGS84_B };
        }
        // Bowring: start from the parametric (reduced) latitude and iterate.
        let mut beta = z.atan2((1.0 - WGS84_F) * p);
        let mut lat = 0.0;
        for _ in 0..8 {
            let (sin_b, cos_b) = beta.sin_cos();
            let new_lat = (z + WGS84_EP2 * WGS84_B * sin_b.powi(3)).atan2(p - WGS84_E2 * WGS84_A * cos_b.powi(3));
            let converged = (new_lat - lat).abs() < 1e-15;
            lat = new_lat;
            let (sin_l, cos_l) = lat.sin_cos();
            beta = ((1.0 - WGS84_F) * sin_l).atan2(cos_l);
            if converged {
                break;
            }
        }
        let (sin_lat, cos_lat) = lat.sin_cos();
        // Stable at every latitude: h = p cos φ + z sin φ - a² / ν.
        let nu = prime_vertical_radius(sin_lat);
        let h = p * cos_lat + z * sin_lat - WGS84_A * WGS84_A / nu;
        Self { lat_deg: lat.to_degrees(), lon_deg: lon.to_degrees(), alt_m: h }
    }
}

/// Prime vertical radius of curvature `ν = a / sqrt(1 - e² sin² φ)`.
fn prime_vertical_radius(sin_lat: f64) -> f64 {
    WGS84_A / (1.0 - WGS84_E2 * sin_lat * sin_lat).sqrt()
}

/// Converts geodetic to ECEF coordinates; see [`Geodetic::to_ecef`].
pub fn geodetic_to_ecef(g: &Geodetic) -> DVec3 {
    g.to_ecef()
}

/// Converts ECEF to geodetic coordinates; see [`Geodetic::from_ecef`].
pub fn ecef_to_geodetic(ecef: DVec3) -> Geodetic {
    Geodetic::from_ecef(ecef)
}

/// A local east-north-up tangent frame at a geodetic origin (EPSG method 9836/9837).
///
/// +X east, +Y north, +Z up along the ellipsoid normal at the origin; the origin is (0, 0, 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnuFrame {
    origin: Geodetic,
    origin_ecef: DVec3,
    /// Columns: the east, north and up unit vectors expressed in ECEF.
    enu_to_ecef: DMat3,
}

impl EnuFrame {
    /// The ENU frame whose origin is `origin`.
    pub fn new(origin: Geodetic) -> Self {
        let (sin_lat, cos_lat) = origin.lat_deg.to_radians().sin_cos();
        let (sin_lon, cos_lon) = origin.lon_deg.to_radians().sin_cos();
        let east = DVec3::new(-sin_lon, cos_lon, 0.0);
        let north = DVec3::new(-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat);
        let up = DVec3::new(cos_lat * cos_lon, cos_lat * sin_lon, sin_lat);
        Self { origin, origin_ecef: origin.to_ecef(), enu_to_ecef: DMat3::from_cols(east, north, up) }
    }

    /// The geodetic origin.
    pub fn origin(&self) -> Geodetic {
        self.origin
    }

    /// The origin in ECEF metres.
    pub fn origin_ecef(&self) -> DVec3 {
        self.origin_ecef
    }

    /// The rotation taking ENU vectors to ECEF vectors (columns: east, north, up in ECEF).
    /// Its transpose takes ECEF vectors to ENU.
    pub fn rotation_enu_to_ecef(&self) -> DMat3 {
        self.enu_to_ecef
    }

    /// ECEF position -> ENU position (metres).
    pub fn ecef_to_enu(&self, ecef: DVec3) -> DVec3 {
        self.enu_to_ecef.transpose() * (ecef - self.origin_ecef)
    }

    /// ENU position -> ECEF position (metres).
    pub fn enu_to_ecef(&self, enu: DVec3) -> DVec3 {
        self.origin_ecef + self.enu_to_ecef * enu
    }

    /// Geodetic position -> ENU position (metres).
    pub fn geodetic_to_enu(&self, g: &Geodetic) -> DVec3 {
        self.ecef_to_enu(g.to_ecef())
    }

    /// ENU position -> geodetic position.
    pub fn enu_to_geodetic(&self, enu: DVec3) -> Geodetic {
        Geodetic::from_ecef(self.enu_to_ecef(enu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dms(d: f64, m: f64, s: f64) -> f64 {
        d + m / 60.0 + s / 3600.0
    }

    /// EPSG Guidance Note 7-2, method 9602 worked example (WGS84):
    /// φ = 53°48'33.820"N, λ = 2°07'46.380"E, h = 73.0 m
    /// -> X = 3771793.968 m, Y = 140253.342 m, Z = 5124304.349 m.
    #[test]
    fn epsg_9602_geographic_to_geocentric() {
        let g = Geodetic::new(dms(53.0, 48.0, 33.820), dms(2.0, 7.0, 46.380), 73.0).unwrap();
        let e = g.to_ecef();
        assert!((e.x - 3_771_793.968).abs() < 0.001, "X = {}", e.x);
        assert!((e.y - 140_253.342).abs() < 0.001, "Y = {}", e.y);
        assert!((e.z - 5_124_304.349).abs() < 0.001, "Z = {}", e.z);
    }

    /// The reverse of the same worked example.
    #[test]
    fn epsg_9602_geocentric_to_geographic() {
        let g = Geodetic::from_ecef(DVec3::new(3_771_793.968, 140_253.342, 5_124_304.349));
        // 0.0005" of arc is about 1.5 cm; the published ECEF values are rounded to 1 mm.
        assert!((g.lat_deg - dms(53.0, 48.0, 33.820)).abs() < 0.0005 / 3600.0, "lat {}", g.lat_deg);
        assert!((g.lon_deg - dms(2.0, 7.0, 46.380)).abs() < 0.0005 / 3600.0, "lon {}", g.lon_deg);
        assert!((g.alt_m - 73.0).abs() < 0.001, "h = {}", g.alt_m);
    }

    /// EPSG Guidance Note 7-2, method 9836 worked example: topocentric origin
    /// X0 = 3652755.3058, Y0 = 319574.6799, Z0 = 5201547.3536 (55°N 5°E h = 200 m);
    /// point X = 3771793.968, Y = 140253.342, Z = 5124304.349
    /// -> U (east) = -189013.869, V (north) = -128642.040, W (up) = -4220.171.
    #[test]
    fn epsg_9836_geocentric_to_topocentric() {
        let frame = EnuFrame::new(Geodetic::new(55.0, 5.0, 200.0).unwrap());
        let o = frame.origin_ecef();
        assert!((o - DVec3::new(3_652_755.305_8, 319_574.679_9, 5_201_547.353_6)).abs().max_element() < 0.0001, "{o}");
        let p = DVec3::new(3_771_793.968, 140_253.342, 5_124_304.349);
        let enu = frame.ecef_to_enu(p);
        assert!((enu - DVec3::new(-189_013.869, -128_642.040, -4_220.171)).abs().max_element() < 0.001, "{enu}");
        // And back.
        let back = frame.enu_to_ecef(DVec3::new(-189_013.869, -128_642.040, -4_220.171));
        assert!((back - p).abs().max_element() < 0.001, "{back}");
    }

    /// EPSG method 9837 (geographic/topocentric), same origin and point given geodetically.
    #[test]
    fn epsg_9837_geographic_to_topocentric() {
        let frame = EnuFrame::new(Geodetic::new(55.0, 5.0, 200.0).unwrap());
        let g = Geodetic::new(dms(53.0, 48.0, 33.820), dms(2.0, 7.0, 46.380), 73.0).unwrap();
        let enu = frame.geodetic_to_enu(&g);
        assert!((enu - DVec3::new(-189_013.869, -128_642.040, -4_220.171)).abs().max_element() < 0.002, "{enu}");
        let back = frame.enu_to_geodetic(enu);
        assert!((back.to_ecef() - g.to_ecef()).length() < 1e-6);
    }

    #[test]
    fn ecef_round_trip_everywhere_sub_millimetre() {
        for lat in [-90.0, -89.9999, -60.0, -0.5, 0.0, 12.3, 45.0, 89.99999, 90.0] {
            for lon in [-180.0, -179.9999, -90.0, 0.0, 77.2, 179.9999, 180.0] {
                for alt in [-400.0, 0.0, 216.0, 8848.0, 400_000.0] {
                    let g = Geodetic::new(lat, lon, alt).unwrap();
                    let e = g.to_ecef();
                    let back = Geodetic::from_ecef(e);
                    let err = (back.to_ecef() - e).length();
                    assert!(err < 1e-4, "round trip error {err} m at {g:?} -> {back:?}");
                    assert!((back.alt_m - alt).abs() < 1e-4, "{g:?} -> {back:?}");
                    assert!((back.lat_deg - lat).abs() < 1e-9, "{g:?} -> {back:?}");
                }
            }
        }
    }

    #[test]
    fn poles() {
        let north = Geodetic::new(90.0, 123.0, 10.0).unwrap().to_ecef();
        assert!(north.x.abs() < 1e-6 && north.y.abs() < 1e-6);
        assert!((north.z - (WGS84_B + 10.0)).abs() < 1e-6);
        let g = Geodetic::from_ecef(DVec3::new(0.0, 0.0, -(WGS84_B + 5.0)));
        assert_eq!(g.lat_deg, -90.0);
        assert!((g.alt_m - 5.0).abs() < 1e-9);
        // A frame at the north pole: up is +Z ECEF and a point 10 km away round-trips.
        let frame = EnuFrame::new(Geodetic::new(90.0, 0.0, 0.0).unwrap());
        let up = frame.rotation_enu_to_ecef().z_axis;
        assert!((up - DVec3::Z).length() < 1e-12);
        let p = DVec3::new(7_000.0, -7_000.0, 50.0);
        let back = frame.geodetic_to_enu(&frame.enu_to_geodetic(p));
        assert!((back - p).length() < 0.01);
    }

    #[test]
    fn antimeridian() {
        // East and west of the antimeridian, 2 km apart, are neighbours in the ENU frame.
        let frame = EnuFrame::new(Geodetic::new(-17.0, 179.99, 0.0).unwrap());
        let east = frame.geodetic_to_enu(&Geodetic::new(-17.0, -179.99, 0.0).unwrap());
        let expected =
            0.02_f64.to_radians() * prime_vertical_radius((-17.0_f64).to_radians().sin()) * 17.0_f64.to_radians().cos();
        assert!((east.x - expected).abs() < 1.0, "east {east}, expected {expected}");
        assert!(east.y.abs() < 1.0);
        // Going back lands on the western side with the longitude in -180..=180.
        let g = frame.enu_to_geodetic(east);
        assert!((g.lon_deg - -179.99).abs() < 1e-9, "{g:?}");
        // ±180 are the same meridian.
        let a = Geodetic::new(10.0, 180.0, 0.0).unwrap().to_ecef();
        let b = Geodetic::new(10.0, -180.0, 0.0).unwrap().to_ecef();
        assert!((a - b).length() < 1e-6);
    }

    #[test]
    fn enu_round_trip_10_km() {
        let frame = EnuFrame::new(Geodetic::new(28.5697, 77.2091, 216.0).unwrap());
        for (e, n, u) in
            [(10_000.0, 0.0, 0.0), (0.0, -10_000.0, 30.0), (7_071.0, 7_071.0, 500.0), (-10_000.0, 3.0, -20.0)]
        {
            let p = DVec3::new(e, n, u);
            let g = frame.enu_to_geodetic(p);
            let back = frame.geodetic_to_enu(&Geodetic::new(g.lat_deg, g.lon_deg, g.alt_m).unwrap());
            assert!((back - p).length() < 0.01, "{p} -> {g:?} -> {back}");
        }
        // The origin maps to zero and north really is north.
        assert!(frame.geodetic_to_enu(&frame.origin()).length() < 1e-6);
        let north = frame.geodetic_to_enu(&Geodetic::new(28.5797, 77.2091, 216.0).unwrap());
        assert!(north.y > 1_100.0 && north.y < 1_110.0 && north.x.abs() < 1e-6, "{north}");
    }

    #[test]
    fn invalid_coordinates_rejected() {
        assert_eq!(Geodetic::new(90.0001, 0.0, 0.0), Err(GeoError::Latitude(90.0001)));
        assert!(matches!(Geodetic::new(f64::NAN, 0.0, 0.0), Err(GeoError::Latitude(_))));
        assert!(matches!(Geodetic::new(-91.0, 0.0, 0.0), Err(GeoError::Latitude(_))));
        assert!(matches!(Geodetic::new(0.0, 180.5, 0.0), Err(GeoError::Longitude(_))));
        assert!(matches!(Geodetic::new(0.0, f64::INFINITY, 0.0), Err(GeoError::Longitude(_))));
        assert!(matches!(Geodetic::new(0.0, 0.0, f64::NAN), Err(GeoError::Altitude(_))));
        assert!(Geodetic::new(-90.0, -180.0, -1000.0).is_ok());
    }
}
