//! The `[[bookmarks]]` tables: named camera views, each an eye with a target or a heading and
//! pitch, and a field of view. Cost: one or two position resolutions per bookmark.

use std::collections::HashSet;

use glam::DVec3;
use serde_spanned::Spanned;

use super::raw::RawBookmark;
use super::{Cx, SceneError};
use crate::geo::EnuFrame;
use crate::geojson::Layer;

/// Where a bookmark looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BookmarkAim {
    /// Look at this ENU point.
    Target(DVec3),
    /// Look along this unit ENU direction (from `heading` and `pitch`).
    Direction(DVec3),
}

/// A camera bookmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    /// Unique name.
    pub name: String,
    /// Eye position, ENU metres.
    pub eye: DVec3,
    /// Where it looks.
    pub aim: BookmarkAim,
    /// Vertical field of view, degrees (default 60).
    pub fov_y_deg: f64,
}

impl Bookmark {
    /// The unit forward direction.
    pub fn forward(&self) -> DVec3 {
        match self.aim {
            BookmarkAim::Target(t) => (t - self.eye).normalize(),
            BookmarkAim::Direction(d) => d,
        }
    }

    /// A point looked at: the target, or a point 1 m ahead.
    pub fn target(&self) -> DVec3 {
        match self.aim {
            BookmarkAim::Target(t) => t,
            BookmarkAim::Direction(d) => self.eye + d,
        }
    }
}

impl Cx<'_> {
    /// Every bookmark, in file order.
    pub(super) fn bookmarks(
        &self,
        raw: &[Spanned<RawBookmark>],
        frame: &EnuFrame,
        layers: &[Layer],
    ) -> Result<Vec<Bookmark>, SceneError> {
        let mut seen = HashSet::new();
        let mut bookmarks = Vec::new();
        for sb in raw {
            let rb = sb.get_ref();
            self.unique(&mut seen, &rb.name, "bookmark")?;
            let what = format!("bookmark `{}`", rb.name.get_ref());
            let eye = self.pos(&format!("{what} eye"), &rb.eye, frame, layers)?;
            let aim = match (&rb.target, &rb.heading, &rb.pitch) {
                (Some(t), None, None) => {
                    let target = self.pos(&format!("{what} target"), t, frame, layers)?;
                    if (target - eye).length() < 1e-6 {
                        return Err(self.err(t.span(), format!("{what}: the target is at the eye; move one of them")));
                    }
                    BookmarkAim::Target(target)
                }
                (None, Some(h), Some(p)) => {
                    let h = self.finite(h, "heading")?.to_radians();
                    let pv = self.finite(p, "pitch")?;
                    if !(-90.0..=90.0).contains(&pv) {
                        return Err(self.err(p.span(), format!("{what}: pitch {pv} must be in -90..90 degrees")));
                    }
                    let pr = pv.to_radians();
                    BookmarkAim::Direction(DVec3::new(h.sin() * pr.cos(), h.cos() * pr.cos(), pr.sin()))
                }
                (Some(t), _, _) => {
                    return Err(self.err(t.span(), format!("{what}: give either target or heading + pitch, not both")));
                }
                (None, _, _) => {
                    return Err(self.err(
                        sb.span(),
                        format!("{what}: needs a target = {{ enu = [e, n, u] }} or both heading and pitch"),
                    ));
                }
            };
            let fov = match &rb.fov_y {
                Some(f) => {
                    let v = *f.get_ref();
                    if !(v.is_finite() && v > 0.0 && v < 180.0) {
                        return Err(
                            self.err(f.span(), format!("{what}: fov_y {v} must be in degrees, between 0 and 180"))
                        );
                    }
                    v
                }
                None => 60.0,
            };
            bookmarks.push(Bookmark { name: rb.name.get_ref().clone(), eye, aim, fov_y_deg: fov });
        }
        Ok(bookmarks)
    }
}
