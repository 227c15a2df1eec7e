//! GeoJSON layers: building footprints and roads in the local ENU frame.
//!
//! The file is parsed with `serde_json` into a generic value and walked by hand, so malformed
//! input never panics. Features with a `building` property (other than `"no"`) and Polygon /
//! MultiPolygon geometry become [`BuildingFootprint`]s (one per polygon); features with a `highway`
//! property and LineString / MultiLineString geometry become [`Road`]s (one per line). Other
//! features are counted and skipped. A bad feature (wrong geometry, bad coordinates, degenerate
//! rings) is skipped with a warning naming the feature and the reason, collected in
//! [`Layer::warnings`]. Only a file that cannot be read or is not GeoJSON at all is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glam::{DVec2, DVec3};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::geo::{EnuFrame, Geodetic};

/// Largest GeoJSON file accepted, in bytes (256 MiB).
pub const MAX_GEOJSON_BYTES: u64 = 256 * 1024 * 1024;

/// Points closer than this (metres) are the same point.
const SAME_POINT_M: f64 = 1e-4;
/// Rings with less area than this (square metres) are degenerate.
const MIN_RING_AREA_M2: f64 = 1e-4;

/// A GeoJSON file that cannot be used at all.
#[derive(Debug, Error)]
pub enum GeoJsonError {
    /// The file could not be read.
    #[error("cannot read GeoJSON file {path}: {source}; check that it exists and is readable")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is over [`MAX_GEOJSON_BYTES`].
    #[error(
        "GeoJSON file {path} is {size} bytes, over the limit of {limit} bytes (256 MiB); \
         clip it to the site or split it into several layers"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not valid JSON.
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// Valid JSON but not a GeoJSON FeatureCollection or Feature.
    #[error("{path}: not a GeoJSON FeatureCollection or Feature ({found}); export the layer as GeoJSON (RFC 7946)")]
    NotGeoJson {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        found: String,
    },
}

/// Where a building's height came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeightSource {
    /// The `height` property.
    Tag,
    /// `building:levels` × storey height.
    Levels,
    /// The layer's default height.
    Default,
}

/// A building footprint in ENU metres, extruded from `base_m` to `height_m` above the ground plane.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingFootprint {
    /// The feature id: the `@id` property, else the feature's `id`, else `#<index>` in the file.
    /// A MultiPolygon gives several footprints with the same id.
    pub feature_id: String,
    /// Outer ring, counter-clockwise seen from above, closing point removed, at least 3 points.
    pub outer: Vec<DVec2>,
    /// Holes, each clockwise, closing point removed.
    pub holes: Vec<Vec<DVec2>>,
    /// Bottom of the extrusion, metres above the ground plane.
    pub base_m: f64,
    /// Top of the extrusion (the roof), metres above the ground plane.
    pub height_m: f64,
    /// Where `height_m` came from.
    pub height_source: HeightSource,
    /// All properties of the feature.
    pub properties: Map<String, Value>,
}

impl BuildingFootprint {
    /// Whether `p` (ENU metres) is on the footprint: inside the outer ring and in no hole (even-odd
    /// rule; a point exactly on an edge may fall either way).
    pub fn contains(&self, p: DVec2) -> bool {
        ring_contains(&self.outer, p) && !self.holes.iter().any(|h| ring_contains(h, p))
    }

    /// The mean of the outer ring's points (where a marker or a point of the building goes).
    pub fn centroid(&self) -> DVec2 {
        self.outer.iter().fold(DVec2::ZERO, |a, p| a + *p) / self.outer.len().max(1) as f64
    }

    /// Area of the footprint (outer ring minus holes), square metres.
    pub fn area_m2(&self) -> f64 {
        signed_area(&self.outer) - self.holes.iter().map(|h| signed_area(h).abs()).sum::<f64>()
    }
}

/// Whether `ring` (closing point removed) holds `p`, by the even-odd rule.
fn ring_contains(ring: &[DVec2], p: DVec2) -> bool {
    let mut inside = false;
    let mut j = ring.len().wrapping_sub(1);
    for (i, a) in ring.iter().enumerate() {
        let b = ring[j];
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A road centreline in ENU metres (on the ground plane).
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    /// The feature id (as for [`BuildingFootprint::feature_id`]).
    pub feature_id: String,
    /// The `highway` class, for example `"primary"`.
    pub class: String,
    /// The centreline, at least 2 distinct points.
    pub points: Vec<DVec2>,
    /// Total carriageway width, metres.
    pub width_m: f64,
    /// All properties of the feature.
    pub properties: Map<String, Value>,
}

/// How building footprints are extruded.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingOptions {
    /// Height when no usable `height` or `building:levels` property exists (default 9 m).
    pub default_height_m: f64,
    /// Height of one storey for `building:levels` and `building:min_level` (default 3.2 m).
    pub storey_height_m: f64,
    /// Linear RGB colour (default [0.80, 0.77, 0.72]).
    pub color: [f32; 3],
}

impl Default for BuildingOptions {
    fn default() -> Self {
        Self { default_height_m: 9.0, storey_height_m: 3.2, color: [0.80, 0.77, 0.72] }
    }
}

/// How roads are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadOptions {
    /// Width overrides by `highway` class, metres.
    pub widths: BTreeMap<String, f64>,
    /// Linear RGB colour (default [0.20, 0.20, 0.22]).
    pub color: [f32; 3],
}

impl Default for RoadOptions {
    fn default() -> Self {
        Self { widths: BTreeMap::new(), color: [0.20, 0.20, 0.22] }
    }
}

impl RoadOptions {
    /// Width for a class: the override if any, else [`default_road_width`].
    pub fn width_for(&self, class: &str) -> f64 {
        self.widths.get(class).copied().unwrap_or_else(|| default_road_width(class))
    }
}

/// Default total carriageway width (metres) for a `highway` class, per the scene format.
pub fn default_road_width(class: &str) -> f64 {
    match class {
        "motorway" => 18.0,
        "trunk" => 16.0,
        "primary" => 14.0,
        "secondary" => 11.0,
        "tertiary" => 9.0,
        "unclassified" | "residential" => 7.0,
        "service" | "living_street" | "pedestrian" => 5.0,
        "track" => 4.0,
        "footway" | "cycleway" => 2.5,
        "path" | "steps" => 2.0,
        c if c.ends_with("_link") => 7.0,
        _ => 6.0,
    }
}

/// Options for turning a GeoJSON file into a layer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayerOptions {
    /// Building extrusion.
    pub buildings: BuildingOptions,
    /// Roads.
    pub roads: RoadOptions,
}

/// A loaded GeoJSON layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The layer id.
    pub id: String,
    /// The GeoJSON file.
    pub path: PathBuf,
    /// Attribution text to show with the layer.
    pub attribution: Option<String>,
    /// The options used.
    pub options: LayerOptions,
    /// Building footprints.
    pub buildings: Vec<BuildingFootprint>,
    /// Roads.
    pub roads: Vec<Road>,
    /// Features that are neither buildings nor roads (counted, not kept).
    pub skipped_other: usize,
    /// Building or road features skipped because they were malformed (see `warnings`).
    pub skipped_invalid: usize,
    /// One line per problem: the feature id and what was wrong.
    pub warnings: Vec<String>,
}

impl Layer {
    /// Reads and parses a GeoJSON file (at most [`MAX_GEOJSON_BYTES`]).
    pub fn load(id: &str, path: &Path, frame: &EnuFrame, options: LayerOptions) -> Result<Layer, GeoJsonError> {
        let io = |source| GeoJsonError::Io { path: path.to_path_buf(), source };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_GEOJSON_BYTES {
            return Err(GeoJsonError::TooLarge { path: path.to_path_buf(), size, limit: MAX_GEOJSON_BYTES });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::from_str(id, path, &text, frame, options)
    }

    /// Parses GeoJSON text; `path` is used in messages.
    pub fn from_str(
        id: &str,
        path: &Path,
        text: &str,
        frame: &EnuFrame,
        options: LayerOptions,
    ) -> Result<Layer, GeoJsonError> {
        let root: Value = serde_json::from_str(text).map_err(|e| GeoJsonError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let not_geojson = |found: String| GeoJsonError::NotGeoJson { path: path.to_path_buf(), found };
        let Value::Object(obj) = &root else {
            return Err(not_geojson(format!("the top level is {}", json_type(&root))));
        };
        let mut layer = Layer {
            id: id.to_string(),
            path: path.to_path_buf(),
            attribution: None,
            options,
            buildings: Vec::new(),
            roads: Vec::new(),
            skipped_other: 0,
            skipped_invalid: 0,
            warnings: Vec::new(),
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => match obj.get("features") {
                Some(Value::Array(features)) => {
                    if features.is_empty() {
                        layer.warnings.push("the layer has no features".to_string());
                    }
                    for (i, f) in features.iter().enumerate() {
                        layer.add_feature(i, f, frame);
                    }
                }
                Some(other) => {
                    return Err(not_geojson(format!("\"features\" is {}, not an array", json_type(other))));
                }
                None => return Err(not_geojson("a FeatureCollection without \"features\"".to_string())),
            },
            Some("Feature") => layer.add_feature(0, &root, frame),
            Some(other) => return Err(not_geojson(format!("\"type\" is \"{other}\""))),
            None => return Err(not_geojson("no \"type\" member".to_string())),
        }
        Ok(layer)
    }

    /// The footprints of a building feature (several for a MultiPolygon).
    pub fn buildings_with_id<'a>(&'a self, feature_id: &'a str) -> impl Iterator<Item = &'a BuildingFootprint> + 'a {
        self.buildings.iter().filter(move |b| b.feature_id == feature_id)
    }

    /// The roof height (highest `height_m`) of a building feature, if the layer has it.
    pub fn roof_height(&self, feature_id: &str) -> Option<f64> {
        self.buildings_with_id(feature_id).map(|b| b.height_m).reduce(f64::max)
    }

    /// Whether a building or road with this feature id exists in the layer.
    pub fn has_feature(&self, feature_id: &str) -> bool {
        self.buildings.iter().any(|b| b.feature_id == feature_id)
            || self.roads.iter().any(|r| r.feature_id == feature_id)
    }

    /// The ENU bounding rectangle (min, max) of all kept geometry, if any.
    pub fn bounds(&self) -> Option<(DVec2, DVec2)> {
        let pts =
            self.buildings.iter().flat_map(|b| b.outer.iter()).chain(self.roads.iter().flat_map(|r| r.points.iter()));
        pts.fold(None, |acc, p| match acc {
            None => Some((*p, *p)),
            Some((lo, hi)) => Some((lo.min(*p), hi.max(*p))),
        })
    }

    fn add_feature(&mut self, index: usize, feature: &Value, frame: &EnuFrame) {
        let Value::Object(f) = feature else {
            self.warn_invalid(format!("feature #{index}: is {}, not an object; skipped", json_type(feature)));
            return;
        };
        let properties = match f.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => Map::new(),
        };
        let feature_id = match (properties.get("@id"), f.get("id")) {
            (Some(Value::String(s)), _) => s.clone(),
            (_, Some(Value::String(s))) => s.clone(),
            (_, Some(Value::Number(n))) => n.to_string(),
            _ => format!("#{index}"),
        };
        let is_building = properties.get("building").is_some_and(|b| b.as_str() != Some("no"));
        let is_road = properties.contains_key("highway");
        if !is_building && !is_road {
            self.skipped_other += 1;
            return;
        }
        let geometry = f.get("geometry").unwrap_or(&Value::Null);
        let gtype = geometry.get("type").and_then(Value::as_str).unwrap_or("");
        let coords = geometry.get("coordinates");
        let what = if is_building { "building" } else { "road" };
        let result = match (is_building, gtype) {
            (true, "Polygon") => self.add_polygons(&feature_id, &properties, coords.map(std::slice::from_ref), frame),
            (true, "MultiPolygon") => {
                self.add_polygons(&feature_id, &properties, coords.and_then(Value::as_array).map(Vec::as_slice), frame)
            }
            (false, "LineString") => self.add_lines(&feature_id, &properties, coords.map(std::slice::from_ref), frame),
            (false, "MultiLineString") => {
                self.add_lines(&feature_id, &properties, coords.and_then(Value::as_array).map(Vec::as_slice), frame)
            }
            (_, "") => Err("no geometry".to_string()),
            (true, other) => Err(format!("{other} geometry, expected Polygon or MultiPolygon")),
            (false, other) => Err(format!("{other} geometry, expected LineString or MultiLineString")),
        };
        if let Err(why) = result {
            self.warn_invalid(format!("feature {feature_id}: {what} skipped: {why}"));
        }
    }

    fn warn_invalid(&mut self, message: String) {
        self.skipped_invalid += 1;
        self.warnings.push(message);
    }

    /// Adds one footprint per valid polygon; `Err` when none was valid.
    fn add_polygons(
        &mut self,
        feature_id: &str,
        properties: &Map<String, Value>,
        polygons: Option<&[Value]>,
        frame: &EnuFrame,
    ) -> Result<(), String> {
        let polygons = polygons.ok_or("missing or malformed coordinates")?;
        if polygons.is_empty() {
            return Err("empty MultiPolygon".to_string());
        }
        let (base_m, height_m, height_source) = self.building_heights(feature_id, properties);
        let mut added = 0;
        let mut errors = Vec::new();
        for (pi, polygon) in polygons.iter().enumerate() {
            let label = if polygons.len() > 1 { format!("polygon {pi}: ") } else { String::new() };
            let Some(rings) = polygon.as_array().filter(|r| !r.is_empty()) else {
                errors.push(format!("{label}a polygon must be a non-empty array of rings"));
                continue;
            };
            let outer = match ring(&rings[0], frame) {
                Ok(mut r) => {
                    if signed_area(&r) < 0.0 {
                        r.reverse();
                    }
                    r
                }
                Err(why) => {
                    errors.push(format!("{label}outer ring: {why}"));
                    continue;
                }
            };
            let mut holes = Vec::new();
            for (hi, h) in rings[1..].iter().enumerate() {
                match ring(h, frame) {
                    Ok(mut r) => {
                        if signed_area(&r) > 0.0 {
                            r.reverse();
                        }
                        holes.push(r);
                    }
                    Err(why) => self.warnings.push(format!("feature {feature_id}: {label}hole {hi} dropped: {why}")),
                }
            }
            self.buildings.push(BuildingFootprint {
                feature_id: feature_id.to_string(),
                outer,
                holes,
                base_m,
                height_m,
                height_source,
                properties: properties.clone(),
            });
            added += 1;
        }
        if added == 0 {
            return Err(errors.join("; "));
        }
        for e in errors {
            self.warnings.push(format!("feature {feature_id}: {e}; that polygon skipped"));
        }
        Ok(())
    }

    fn building_heights(&mut self, feature_id: &str, p: &Map<String, Value>) -> (f64, f64, HeightSource) {
        let storey = self.options.buildings.storey_height_m;
        let mut height = None;
        if let Some(v) = p.get("height") {
            match metres(v) {
                Ok(h) if h > 0.0 => height = Some((h, HeightSource::Tag)),
                Ok(h) => self.warnings.push(format!("feature {feature_id}: height {h} is not positive; ignored")),
                Err(why) => self.warnings.push(format!("feature {feature_id}: height {v}: {why}; ignored")),
            }
        }
        if height.is_none()
            && let Some(v) = p.get("building:levels")
        {
            match number(v) {
                Some(l) if l > 0.0 => height = Some((l * storey, HeightSource::Levels)),
                _ => self
                    .warnings
                    .push(format!("feature {feature_id}: building:levels {v} is not a positive number; ignored")),
            }
        }
        let (height, source) = height.unwrap_or((self.options.buildings.default_height_m, HeightSource::Default));
        let mut base = 0.0;
        if let Some(v) = p.get("min_height") {
            match metres(v) {
                Ok(b) if b >= 0.0 => base = b,
                Ok(b) => self.warnings.push(format!("feature {feature_id}: min_height {b} is negative; ignored")),
                Err(why) => self.warnings.push(format!("feature {feature_id}: min_height {v}: {why}; ignored")),
            }
        } else if let Some(v) = p.get("building:min_level") {
            match number(v) {
                Some(l) if l >= 0.0 => base = l * storey,
                _ => self
                    .warnings
                    .push(format!("feature {feature_id}: building:min_level {v} is not a number >= 0; ignored")),
            }
        }
        if base >= height {
            self.warnings
                .push(format!("feature {feature_id}: base {base} m is not below the roof {height} m; base set to 0"));
            base = 0.0;
        }
        (base, height, source)
    }

    fn add_lines(
        &mut self,
        feature_id: &str,
        properties: &Map<String, Value>,
        lines: Option<&[Value]>,
        frame: &EnuFrame,
    ) -> Result<(), String> {
        let lines = lines.ok_or("missing or malformed coordinates")?;
        if lines.is_empty() {
            return Err("empty MultiLineString".to_string());
        }
        let class = match properties.get("highway") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut width = self.options.roads.width_for(&class);
        if let Some(v) = properties.get("width") {
            match metres(v) {
                Ok(w) if w > 0.0 => width = w,
                Ok(w) => {
                    self.warnings.push(format!("feature {feature_id}: width {w} is not positive; class width used"))
                }
                Err(why) => self.warnings.push(format!("feature {feature_id}: width {v}: {why}; class width used")),
            }
        }
        let mut added = 0;
        let mut errors = Vec::new();
        for (li, line) in lines.iter().enumerate() {
            let label = if lines.len() > 1 { format!("line {li}: ") } else { String::new() };
            match points(line, frame) {
                Ok(p) if p.len() >= 2 => {
                    self.roads.push(Road {
                        feature_id: feature_id.to_string(),
                        class: class.clone(),
                        points: p,
                        width_m: width,
                        properties: properties.clone(),
                    });
                    added += 1;
                }
                Ok(p) => errors.push(format!("{label}{} distinct point(s), a line needs at least 2", p.len())),
                Err(why) => errors.push(format!("{label}{why}")),
            }
        }
        if added == 0 {
            return Err(errors.join("; "));
        }
        for e in errors {
            self.warnings.push(format!("feature {feature_id}: {e}; that line skipped"));
        }
        Ok(())
    }
}

/// A JSON value's type, for messages.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number, or a string holding one.
fn number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A length in metres: a number, or a string like "12", "12 m", "12.5m".
fn metres(v: &Value) -> Result<f64, String> {
    let n = match v {
        Value::Number(n) => n.as_f64().ok_or("not a number")?,
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix('m').map(str::trim_end).unwrap_or(t);
            t.parse::<f64>().map_err(|_| "not a number of metres (expected \"12\", \"12 m\" or \"12.5m\")")?
        }
        _ => return Err("not a number or a string".to_string()),
    };
    if n.is_finite() { Ok(n) } else { Err("not a finite number".to_string()) }
}

/// Parses a GeoJSON position and projects it to the ENU ground plane.
fn position(v: &Value, frame: &EnuFrame) -> Result<DVec2, String> {
    let arr = v.as_array().filter(|a| a.len() >= 2).ok_or("a position must be an array [lon, lat]")?;
    let lon = arr[0].as_f64().ok_or("longitude is not a number")?;
    let lat = arr[1].as_f64().ok_or("latitude is not a number")?;
    let g = Geodetic::new(lat, lon, frame.origin().alt_m).map_err(|e| e.to_string())?;
    let enu: DVec3 = frame.geodetic_to_enu(&g);
    Ok(enu.truncate())
}

/// A list of positions with consecutive duplicates removed.
fn points(v: &Value, frame: &EnuFrame) -> Result<Vec<DVec2>, String> {
    let arr = v.as_array().ok_or("coordinates must be an array of positions")?;
    let mut out: Vec<DVec2> = Vec::with_capacity(arr.len());
    for (i, p) in arr.iter().enumerate() {
        let p = position(p, frame).map_err(|why| format!("position {i}: {why}"))?;
        if out.last().is_none_or(|last| last.distance(p) > SAME_POINT_M) {
            out.push(p);
        }
    }
    Ok(out)
}

/// A linear ring: closing point removed, at least 3 distinct points, non-zero area.
fn ring(v: &Value, frame: &EnuFrame) -> Result<Vec<DVec2>, String> {
    let mut r = points(v, frame)?;
    if r.len() > 1 && r[0].distance(r[r.len() - 1]) <= SAME_POINT_M {
        r.pop();
    }
    if r.len() < 3 {
        return Err(format!("ring has {} distinct point(s), needs at least 3", r.len()));
    }
    if signed_area(&r).abs() < MIN_RING_AREA_M2 {
        return Err("ring has no area".to_string());
    }
    Ok(r)
}

/// Shoelace signed area: positive for counter-clockwise rings.
pub fn signed_area(ring: &[DVec2]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let o = ring[0];
    let mut twice = 0.0;
    for i in 1..n - 1 {
        twice += (ring[i] - o).perp_dot(ring[i + 1] - o);
    }
    twice * 0.5
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_footprint_holds_the_points_inside_its_ring_and_not_those_in_a_hole() {
        let square =
            |x0: f64, x1: f64| vec![DVec2::new(x0, x0), DVec2::new(x1, x0), DVec2::new(x1, x1), DVec2::new(x0, x1)];
        let b = BuildingFootprint {
            feature_id: "way/1".into(),
            outer: square(0.0, 10.0),
            holes: vec![square(4.0, 6.0)],
            base_m: 0.0,
            height_m: 9.0,
            height_source: HeightSource::Default,
            properties: Map::new(),
        };
        assert!(b.contains(DVec2::new(1.0, 1.0)) && b.contains(DVec2::new(9.0, 5.0)));
        assert!(!b.contains(DVec2::new(5.0, 5.0)), "in the courtyard");
        assert!(!b.contains(DVec2::new(11.0, 5.0)) && !b.contains(DVec2::new(-0.5, 5.0)));
    }

    use super::*;

    fn frame() -> EnuFrame {
        EnuFrame::new(Geodetic::new(28.5697905, 77.209103, 216.0).unwrap())
    }

    fn parse(text: &str) -> Layer {
        Layer::from_str("t", Path::new("t.geojson"), text, &frame(), LayerOptions::default()).unwrap()
    }

    fn fc(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const SQUARE_CW: &str =
        "[[77.2091,28.5697],[77.2091,28.5698],[77.2092,28.5698],[77.2092,28.5697],[77.2091,28.5697]]";

    #[test]
    fn real_osm_extract() {
        let path = &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/new_delhi_ina_buildings_roads.geojson");
        let layer = Layer::load("osm", path, &frame(), LayerOptions::default()).unwrap();
        assert_eq!(layer.buildings.len(), 72, "{:?}", layer.warnings);
        assert_eq!(layer.roads.len(), 151, "{:?}", layer.warnings);
        assert_eq!(layer.skipped_invalid, 0, "{:?}", layer.warnings);
        let storey = LayerOptions::default().buildings.storey_height_m;
        let by_levels: Vec<_> = layer.buildings.iter().filter(|b| b.height_source == HeightSource::Levels).collect();
        assert_eq!(by_levels.len(), 3);
        for b in &by_levels {
            assert!((b.height_m - 15.0 * storey).abs() < 1e-9);
            assert_eq!(b.properties["building:levels"], "15");
        }
        for b in &layer.buildings {
            assert!(b.area_m2() > 0.0, "{}", b.feature_id);
            assert!(signed_area(&b.outer) > 0.0);
            assert!(b.holes.iter().all(|h| signed_area(h) < 0.0));
            assert!(b.outer.iter().all(|p| p.length() < 1_500.0), "{} far from origin", b.feature_id);
            assert_ne!(b.outer.first(), b.outer.last());
        }
        // The two multipolygon relations have courtyards.
        let rel = layer.buildings.iter().find(|b| b.feature_id == "relation/5262996").unwrap();
        assert_eq!(rel.holes.len(), 1);
        assert!(layer.roads.iter().all(|r| r.points.len() >= 2 && r.width_m > 0.0));
        assert!(layer.roads.iter().any(|r| r.class == "primary" && r.width_m == 14.0));
        assert!(layer.roads.iter().any(|r| r.class == "primary_link" && r.width_m == 7.0));
        // Some roads run past the buildings' bounding box, but all stay within 1.5 km.
        assert!(layer.roads.iter().flat_map(|r| &r.points).all(|p| p.length() < 1_500.0));
        let (lo, hi) = layer.bounds().unwrap();
        assert!(hi.x - lo.x > 900.0 && lo.abs().max(hi.abs()).max_element() < 1_500.0, "{lo} {hi}");
    }

    #[test]
    fn clockwise_ring_is_made_counter_clockwise_and_closing_point_removed() {
        let l = parse(&fc(&format!(
            r#"{{"type":"Feature","id":"w1","properties":{{"building":"yes","height":"12.5m"}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE_CW}]}}}}"#
        )));
        let b = &l.buildings[0];
        assert_eq!(b.feature_id, "w1");
        assert_eq!(b.outer.len(), 4);
        assert!(signed_area(&b.outer) > 0.0);
        // ~9.8 m x ~11.1 m
        assert!((b.area_m2() - 9.78 * 11.07).abs() < 2.0, "{}", b.area_m2());
        assert_eq!((b.height_m, b.height_source), (12.5, HeightSource::Tag));
    }

    #[test]
    fn heights_and_bases() {
        let feat = |props: &str| {
            format!(
                r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[{SQUARE_CW}]}}}}"#
            )
        };
        let l = parse(&fc(&[
            feat(r#"{"building":"yes","height":"12"}"#),
            feat(r#"{"building":"yes","height":"12 m","min_height":3}"#),
            feat(r#"{"building":"yes","height":-4,"building:levels":"2"}"#),
            feat(r#"{"building":"yes","height":"tall"}"#),
            feat(r#"{"building":"yes","building:levels":4,"building:min_level":"1"}"#),
            feat(r#"{"building":"yes","height":"NaN"}"#),
            feat(r#"{"building":"no"}"#),
        ]
        .join(",")));
        let h: Vec<_> = l.buildings.iter().map(|b| (b.base_m, b.height_m, b.height_source)).collect();
        assert_eq!(
            h,
            vec![
                (0.0, 12.0, HeightSource::Tag),
                (3.0, 12.0, HeightSource::Tag),
                (0.0, 6.4, HeightSource::Levels),
                (0.0, 9.0, HeightSource::Default),
                (3.2, 12.8, HeightSource::Levels),
                (0.0, 9.0, HeightSource::Default),
            ]
        );
        assert_eq!(l.skipped_other, 1);
        assert_eq!(l.warnings.len(), 3, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("#2") && l.warnings[0].contains("height"), "{:?}", l.warnings);
    }

    #[test]
    fn malformed_features_are_skipped_with_warnings() {
        let l = parse(&fc(&[
            r#"{"type":"Feature","id":"a","properties":{"building":"yes"},"geometry":{"type":"Point","coordinates":[77.2,28.5]}}"#,
            r#"{"type":"Feature","id":"b","properties":{"building":"yes"},"geometry":null}"#,
            r#"{"type":"Feature","id":"c","properties":{"building":"yes"},"geometry":{"type":"Polygon"}}"#,
            r#"{"type":"Feature","id":"d","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[77.2,28.5],[77.2001,28.5],[77.2,28.5]]]}}"#,
            r#"{"type":"Feature","id":"e","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[77.2,95.0],[77.2001,28.5],[77.2,28.5001],[77.2,95.0]]]}}"#,
            r#"{"type":"Feature","id":"f","properties":{"building":"yes"},"geometry":{"type":"MultiPolygon","coordinates":[]}}"#,
            r#"{"type":"Feature","id":"g","properties":{"highway":"primary"},"geometry":{"type":"LineString","coordinates":[[77.2,28.5],[77.2,28.5]]}}"#,
            r#"{"type":"Feature","id":"h","properties":{"highway":"primary"},"geometry":{"type":"LineString","coordinates":[[77.2,"x"],[77.2,28.5]]}}"#,
            r#"{"type":"Feature","id":"i","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[77.2,28.5],[77.2001,28.5],[77.2002,28.5],[77.2,28.5]]]}}"#,
            r#"42"#,
            r#"{"type":"Feature","id":"j","properties":{"highway":"primary"},"geometry":{"type":"Polygon","coordinates":[]}}"#,
            r#"{"type":"Feature","properties":null,"geometry":null}"#,
        ]
        .join(",")));
        assert!(l.buildings.is_empty() && l.roads.is_empty());
        assert_eq!(l.skipped_invalid, 11, "{:#?}", l.warnings);
        assert_eq!(l.skipped_other, 1);
        for id in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "#9"] {
            assert!(l.warnings.iter().any(|w| w.starts_with(&format!("feature {id}:"))), "{id}: {:#?}", l.warnings);
        }
        assert!(l.warnings.iter().any(|w| w.contains("latitude")), "{:#?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("no area")), "{:#?}", l.warnings);
    }

    #[test]
    fn bad_hole_dropped_good_polygon_kept_and_roads() {
        let l = parse(&fc(&[
            format!(r#"{{"type":"Feature","properties":{{"building":"yes","@id":"way/1"}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE_CW},[[77.2091,28.5697]]]}}}}"#),
            r#"{"type":"Feature","properties":{"highway":"residential","@id":"way/2"},"geometry":{"type":"MultiLineString","coordinates":[[[77.209,28.569],[77.2091,28.5691]],[[77.209,28.569]]]}}"#.to_string(),
            r#"{"type":"Feature","properties":{"highway":"primary","width":"9 m","@id":"way/3"},"geometry":{"type":"LineString","coordinates":[[77.209,28.569],[77.2091,28.5691]]}}"#.to_string(),
        ]
        .join(",")));
        assert_eq!(l.buildings.len(), 1);
        assert!(l.buildings[0].holes.is_empty());
        assert_eq!(l.roof_height("way/1"), Some(9.0));
        assert_eq!(l.roads.len(), 2);
        assert_eq!(l.roads[0].width_m, 7.0);
        assert_eq!(l.roads[1].width_m, 9.0);
        assert!(l.has_feature("way/2") && !l.has_feature("way/4"));
        assert_eq!(l.warnings.len(), 2, "{:#?}", l.warnings);
        assert_eq!(l.skipped_invalid, 0);
    }

    #[test]
    fn road_widths() {
        assert_eq!(default_road_width("motorway"), 18.0);
        assert_eq!(default_road_width("trunk_link"), 7.0);
        assert_eq!(default_road_width("footway"), 2.5);
        assert_eq!(default_road_width("bridleway"), 6.0);
        let mut o = RoadOptions::default();
        o.widths.insert("primary".into(), 20.0);
        assert_eq!(o.width_for("primary"), 20.0);
        assert_eq!(o.width_for("secondary"), 11.0);
    }

    #[test]
    fn not_geojson_is_an_error_not_a_panic() {
        let f = frame();
        let p = Path::new("x.geojson");
        for text in [
            "",
            "{",
            "[]",
            "null",
            r#"{"type":"Topology"}"#,
            r#"{"type":"FeatureCollection"}"#,
            r#"{"type":"FeatureCollection","features":{}}"#,
            "{\"a\":1e999}",
        ] {
            assert!(Layer::from_str("x", p, text, &f, LayerOptions::default()).is_err(), "{text}");
        }
        let e = Layer::from_str("x", p, "{\n  \"type\": ,", &f, LayerOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("x.geojson:2:"), "{e}");
        let empty = parse(&fc(""));
        assert!(empty.buildings.is_empty() && empty.warnings.len() == 1);
        let single = parse(
            r#"{"type":"Feature","properties":{"highway":"path"},"geometry":{"type":"LineString","coordinates":[[77.209,28.569],[77.2091,28.5691]]}}"#,
        );
        assert_eq!(single.roads.len(), 1);
        assert_eq!(single.roads[0].feature_id, "#0");
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let e = Layer::load("x", Path::new("/nonexistent/a.geojson"), &frame(), LayerOptions::default()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/a.geojson"), "{e}");
    }
}
