//! The scene's mapped site geometry as plugins see it (SDK 1.3 `geometry`): building footprints and
//! road centre lines in the site frame, as flat parallel lists ready to hand over.
//!
//! The session fills one [`SiteGeometry`] per scene from its GeoJSON layers and shares it (an `Arc`)
//! with every plugin granted `site-geometry`; a call copies it into the plugin's memory, one unit of
//! host work per point. [`SiteGeometry::push_building`] and [`SiteGeometry::push_road`] check what
//! they take, so the lists always run in parallel and hold only finite numbers.

/// Most points (building ring points and road points together) a scene's geometry may hand over:
/// 4M points are 64 MiB of `f64` pairs, the default memory cap of one plugin.
pub const MAX_GEOMETRY_POINTS: usize = 4 << 20;

/// Which way a road may be driven, as mapped (OpenStreetMap `oneway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oneway {
    /// Both ways: no tag, or `oneway = no`.
    #[default]
    Both,
    /// Along the drawing: `yes`, `true` or `1`.
    Forward,
    /// Against the drawing: `-1`.
    Backward,
}

impl Oneway {
    /// The mapped tag read as OpenStreetMap does; `None` and anything unknown are [`Oneway::Both`].
    ///
    /// ```
    /// use sangam_plugins::geometry::Oneway;
    /// assert_eq!(Oneway::from_osm(Some("yes")), Oneway::Forward);
    /// assert_eq!(Oneway::from_osm(Some("-1")), Oneway::Backward);
    /// assert_eq!(Oneway::from_osm(None), Oneway::Both);
    /// ```
    pub fn from_osm(tag: Option<&str>) -> Oneway {
        match tag.map(str::trim) {
            Some("yes" | "true" | "1") => Oneway::Forward,
            Some("-1" | "reverse") => Oneway::Backward,
            _ => Oneway::Both,
        }
    }
}

/// Building footprints: entry `i` of `ids`, `bases`, `tops` and ring `i` describe building `i`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buildings {
    /// The twin entity id where the scene declares one, else the feature id.
    pub ids: Vec<String>,
    /// `n + 1` offsets into `points`, counted in points.
    pub ring_starts: Vec<u32>,
    /// Outer ring points, `x, y` pairs (metres east, north), counter-clockwise, not closed.
    pub points: Vec<f64>,
    /// Bottom of each extrusion, metres.
    pub bases: Vec<f64>,
    /// Top of each extrusion, metres.
    pub tops: Vec<f64>,
}

/// Road centre lines: entry `i` of every list but `points` and line `i` describe road `i`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roads {
    /// The twin entity id where the scene declares one, else the feature id.
    pub ids: Vec<String>,
    /// `n + 1` offsets into `points`, counted in points.
    pub line_starts: Vec<u32>,
    /// Centre line points, `x, y` pairs (metres east, north).
    pub points: Vec<f64>,
    /// OpenStreetMap `highway` class.
    pub classes: Vec<String>,
    /// Mapped `oneway`.
    pub oneway: Vec<Oneway>,
    /// Mapped `lanes` (both directions); 0 where not mapped.
    pub lanes: Vec<u32>,
    /// Mapped `maxspeed`, km/h; NaN where not mapped.
    pub max_speeds: Vec<f64>,
    /// Carriageway width, metres.
    pub widths: Vec<f64>,
}

/// A road as [`SiteGeometry::push_road`] takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadLine<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its centre line (at least 2 points).
    pub points: &'a [[f64; 2]],
    /// OpenStreetMap `highway`.
    pub class: &'a str,
    /// Mapped `oneway`.
    pub oneway: Oneway,
    /// Mapped `lanes`, if any.
    pub lanes: Option<u32>,
    /// Mapped `maxspeed` in km/h, if any.
    pub max_speed_kmh: Option<f64>,
    /// Carriageway width, metres.
    pub width_m: f64,
}

/// What a scene's geometry could not take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// A number that is not finite.
    #[error("{what} `{id}` has a coordinate or height that is not a finite number")]
    NotFinite {
        /// `building` or `road`.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// Too few points.
    #[error("{what} `{id}` has {points} points; it needs at least {least}")]
    TooFewPoints {
        /// `building` or `road`.
        what: &'static str,
        /// Its id.
        id: String,
        /// Points given.
        points: usize,
        /// Points needed.
        least: usize,
    },
    /// Over [`MAX_GEOMETRY_POINTS`].
    #[error("the scene's geometry has more than {MAX_GEOMETRY_POINTS} points; plugins get the first ones only")]
    TooLarge,
}

/// The scene's buildings and roads, in the site frame.
#[derive(Clone, PartialEq)]
pub struct SiteGeometry {
    buildings: Buildings,
    roads: Roads,
}

/// Counts, not the lists (a site holds hundreds of thousands of points).
impl std::fmt::Debug for SiteGeometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteGeometry")
            .field("buildings", &self.buildings.ids.len())
            .field("roads", &self.roads.ids.len())
            .field("points", &self.points())
            .finish()
    }
}

/// The empty geometry of [`SiteGeometry::new`] (its offset lists hold the leading 0).
impl Default for SiteGeometry {
    fn default() -> Self {
        SiteGeometry::new()
    }
}

impl SiteGeometry {
    /// Empty geometry.
    pub fn new() -> SiteGeometry {
        SiteGeometry {
            buildings: Buildings { ring_starts: vec![0], ..Buildings::default() },
            roads: Roads { line_starts: vec![0], ..Roads::default() },
        }
    }

    /// The buildings.
    pub fn buildings(&self) -> &Buildings {
        &self.buildings
    }

    /// The roads.
    pub fn roads(&self) -> &Roads {
        &self.roads
    }

    /// Points held (building rings and roads): the host work of handing both over.
    pub fn points(&self) -> usize {
        (self.buildings.points.len() + self.roads.points.len()) / 2
    }

    fn room(&self, points: usize) -> Result<(), GeometryError> {
        if self.points().saturating_add(points) > MAX_GEOMETRY_POINTS {
            return Err(GeometryError::TooLarge);
        }
        Ok(())
    }

    /// Adds a building: its outer `ring` (counter-clockwise, not closed, at least 3 points) extruded
    /// from `base_m` to `top_m`.
    pub fn push_building(&mut self, id: &str, ring: &[[f64; 2]], base_m: f64, top_m: f64) -> Result<(), GeometryError> {
        let finite = ring.iter().flatten().all(|v| v.is_finite()) && base_m.is_finite() && top_m.is_finite();
        if !finite {
            return Err(GeometryError::NotFinite { what: "building", id: id.to_owned() });
        }
        if ring.len() < 3 {
            return Err(GeometryError::TooFewPoints {
                what: "building",
                id: id.to_owned(),
                points: ring.len(),
                least: 3,
            });
        }
        self.room(ring.len())?;
        let b = &mut self.buildings;
        b.ids.push(id.to_owned());
        b.points.extend(ring.iter().flatten());
        b.ring_starts.push((b.points.len() / 2) as u32);
        b.bases.push(base_m);
        b.tops.push(top_m);
        Ok(())
    }

    /// Adds a road.
    pub fn push_road(&mut self, road: RoadLine<'_>) -> Result<(), GeometryError> {
        let finite = road.points.iter().flatten().all(|v| v.is_finite()) && road.width_m.is_finite();
        if !finite || road.max_speed_kmh.is_some_and(|v| !v.is_finite()) {
            return Err(GeometryError::NotFinite { what: "road", id: road.id.to_owned() });
        }
        if road.points.len() < 2 {
            let (id, points) = (road.id.to_owned(), road.points.len());
            return Err(GeometryError::TooFewPoints { what: "road", id, points, least: 2 });
        }
        self.room(road.points.len())?;
        let r = &mut self.roads;
        r.ids.push(road.id.to_owned());
        r.points.extend(road.points.iter().flatten());
        r.line_starts.push((r.points.len() / 2) as u32);
        r.classes.push(road.class.to_owned());
        r.oneway.push(road.oneway);
        r.lanes.push(road.lanes.unwrap_or(0));
        r.max_speeds.push(road.max_speed_kmh.unwrap_or(f64::NAN));
        r.widths.push(road.width_m);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildings_and_roads_run_in_parallel_lists_with_offsets_in_points() {
        let mut g = SiteGeometry::new();
        g.push_building("b1", &[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], 0.0, 9.0).unwrap();
        g.push_building("b2", &[[20.0, 0.0], [30.0, 0.0], [30.0, 10.0], [20.0, 10.0]], 3.0, 30.0).unwrap();
        let road = RoadLine {
            id: "r",
            points: &[[0.0, -5.0], [50.0, -5.0]],
            class: "primary",
            oneway: Oneway::Forward,
            lanes: Some(2),
            max_speed_kmh: None,
            width_m: 7.0,
        };
        g.push_road(road.clone()).unwrap();
        let b = g.buildings();
        assert_eq!(b.ring_starts, [0, 3, 7]);
        assert_eq!(b.points.len(), 14);
        assert_eq!((b.bases.as_slice(), b.tops.as_slice()), ([0.0, 3.0].as_slice(), [9.0, 30.0].as_slice()));
        let r = g.roads();
        assert_eq!((r.line_starts.as_slice(), r.lanes.as_slice()), ([0, 2].as_slice(), [2].as_slice()));
        assert!(r.max_speeds[0].is_nan(), "an unmapped speed is NaN");
        assert_eq!(g.points(), 9);
        // Refused: too few points, NaN.
        assert!(matches!(
            g.push_building("x", &[[0.0, 0.0], [1.0, 1.0]], 0.0, 1.0),
            Err(GeometryError::TooFewPoints { .. })
        ));
        assert!(matches!(
            g.push_road(RoadLine { points: &[[0.0, f64::NAN], [1.0, 1.0]], ..road }),
            Err(GeometryError::NotFinite { .. })
        ));
        assert_eq!(g.points(), 9, "a refused item adds nothing");
    }
}
