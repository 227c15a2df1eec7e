//! Positions: the scene's geodetic origin, and every position a table gives (lat/lon with an
//! optional alt, or `enu = [e, n, u]`, optionally raised onto a building's roof) resolved into the
//! ENU frame of the origin. Cost per position: one geodetic-to-ENU conversion, plus a search of the
//! layers' buildings for `on_roof`.

use std::ops::Range;

use glam::DVec3;
use serde_spanned::Spanned;

use super::error::list;
use super::raw::{RawOrigin, RawPos};
use super::{Cx, SceneError};
use crate::geo::{EnuFrame, Geodetic};
use crate::geojson::Layer;

/// The position keys of any table that holds a position.
pub(super) struct PosKeys<'a> {
    pub(super) lat: Option<&'a Spanned<f64>>,
    pub(super) lon: Option<&'a Spanned<f64>>,
    pub(super) alt: Option<&'a Spanned<f64>>,
    pub(super) enu: Option<&'a Spanned<[f64; 3]>>,
    pub(super) on_roof: Option<&'a Spanned<String>>,
}

impl Cx<'_> {
    /// The `[origin]` table: the geodetic origin of the world frame (alt 0 when not given).
    pub(super) fn origin(&self, o: &RawOrigin) -> Result<Geodetic, SceneError> {
        let alt = match &o.alt {
            Some(a) => self.finite(a, "origin alt")?,
            None => 0.0,
        };
        self.geodetic(&o.lat, &o.lon, alt)
    }

    fn geodetic(&self, lat: &Spanned<f64>, lon: &Spanned<f64>, alt: f64) -> Result<Geodetic, SceneError> {
        let (la, lo) = (*lat.get_ref(), *lon.get_ref());
        if !(la.is_finite() && (-90.0..=90.0).contains(&la)) {
            return Err(self.err(lat.span(), format!("lat = {la} is out of range; latitude is degrees in -90..90")));
        }
        if !(lo.is_finite() && (-180.0..=180.0).contains(&lo)) {
            return Err(self.err(lon.span(), format!("lon = {lo} is out of range; longitude is degrees in -180..180")));
        }
        Geodetic::new(la, lo, alt).map_err(|e| self.err(lat.span(), e.to_string()))
    }

    /// Resolves a position (geodetic or ENU, optionally on a roof) to ENU.
    pub(super) fn position(
        &self,
        what: &str,
        p: PosKeys<'_>,
        span: Range<usize>,
        frame: &EnuFrame,
        layers: &[Layer],
    ) -> Result<DVec3, SceneError> {
        let mut enu = match (p.lat, p.lon, p.enu) {
            (Some(_), _, Some(e)) | (_, Some(_), Some(e)) => {
                return Err(self.err(e.span(), format!("{what}: give either lat/lon or enu = [e, n, u], not both")));
            }
            (Some(lat), Some(lon), None) => {
                let alt = match p.alt {
                    Some(a) => self.finite(a, "alt")?,
                    None => frame.origin().alt_m,
                };
                let g = self.geodetic(lat, lon, alt)?;
                let mut v = frame.geodetic_to_enu(&g);
                if p.alt.is_none() {
                    v.z = 0.0; // on the ground plane
                }
                v
            }
            (Some(l), None, None) | (None, Some(l), None) => {
                return Err(self.err(l.span(), format!("{what}: a geodetic position needs both lat and lon")));
            }
            (None, None, Some(e)) => {
                if let Some(a) = p.alt {
                    return Err(self.err(
                        a.span(),
                        format!("{what}: alt goes with lat/lon; with enu give the height as the third component"),
                    ));
                }
                let v = DVec3::from_array(*e.get_ref());
                if !v.is_finite() {
                    return Err(self.err(e.span(), format!("{what}: enu must be three finite numbers of metres")));
                }
                v
            }
            (None, None, None) => {
                return Err(self.err(
                    span,
                    format!("{what}: no position; give lat = .., lon = .. (optional alt) or enu = [e, n, u]"),
                ));
            }
        };
        if let Some(roof) = p.on_roof {
            if let Some(a) = p.alt {
                return Err(self.err(
                    a.span(),
                    format!("{what}: alt cannot be combined with on_roof; use enu = [e, n, u] with u as the offset"),
                ));
            }
            let Some(h) = layers.iter().find_map(|l| l.roof_height(roof.get_ref())) else {
                return Err(self.err(
                    roof.span(),
                    format!(
                        "{what}: on_roof = \"{}\" names no building in the layers ({}); use a building's feature id such as \"way/123\"",
                        roof.get_ref(),
                        list(layers.iter().map(|l| &l.id))
                    ),
                ));
            };
            enu.z += h;
        }
        Ok(enu)
    }

    /// A position given as its own table (a bookmark's `eye` or `target`).
    pub(super) fn pos(
        &self,
        what: &str,
        p: &Spanned<RawPos>,
        frame: &EnuFrame,
        layers: &[Layer],
    ) -> Result<DVec3, SceneError> {
        let r = p.get_ref();
        let keys = PosKeys {
            lat: r.lat.as_ref(),
            lon: r.lon.as_ref(),
            alt: r.alt.as_ref(),
            enu: r.enu.as_ref(),
            on_roof: r.on_roof.as_ref(),
        };
        self.position(what, keys, p.span(), frame, layers)
    }
}
