//! Plain host-side forms of plugin output, and the checks that turn a plugin's raw output into them.
//!
//! Every float must be finite (heatmap values may be NaN, meaning "no data"), lists that run in
//! parallel must have matching lengths, entity indices must be in range, strings have length caps,
//! and the whole output is counted against the plugin's output cap as it is converted: conversion
//! stops at the first field over the cap, before copying it. Names and ids (property names, units,
//! entity ids and kinds) must be plain text ([`crate::text::check_plain`]); free text (text values,
//! labels, alerts, display names) has its control characters escaped ([`crate::text::clean`]).

use crate::bindings::v1_1 as wit;
use crate::bindings::v1_1::overlay::sangam::plugin::overlay_types as wit_overlay;
use crate::error::FaultCause;
use crate::text;

/// Longest property name or unit, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest text property value, in bytes.
pub const MAX_TEXT_VALUE_BYTES: usize = 4096;
/// Longest label text, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;
/// Longest alert message, in bytes.
pub const MAX_ALERT_BYTES: usize = 1024;
/// Longest entity id, kind or name an adapter may create, in bytes.
pub const MAX_ENTITY_FIELD_BYTES: usize = 256;
/// Most entities one adapter may create over its life (restarts included).
pub const MAX_CREATED_ENTITIES: usize = 100_000;
/// Most distinct property names one plugin may write over its life (restarts included): each name
/// is a series for every entity it writes, in the store and in every plugin's snapshot.
pub const MAX_PROPERTY_NAMES: usize = 256;

/// Checks that a batch holds at most one value per entity and property: the values number at most
/// `entity_count` times the distinct property names. (The store keeps every value; 1.3 million
/// values for three entities are 1.3 million samples.) Cost: one pass over the column names.
pub(crate) fn check_value_count(updates: &PropertyUpdates, entity_count: usize) -> Result<(), FaultCause> {
    let names: std::collections::HashSet<&str> = updates
        .numbers
        .iter()
        .map(|c| c.property.as_str())
        .chain(updates.texts.iter().map(|t| t.property.as_str()))
        .collect();
    let values = updates.value_count();
    let most = entity_count.saturating_mul(names.len());
    if values > most {
        return Err(malformed(
            "numbers",
            format!(
                "the batch holds {values} values for {entity_count} entities and {} properties; a batch has at most \
                 one value per entity and property",
                names.len()
            ),
        ));
    }
    Ok(())
}

/// Charges the property names of `updates` to a plugin's `known` names, refusing the batch when
/// they would pass [`MAX_PROPERTY_NAMES`]. The names are added only when the whole batch passes.
pub(crate) fn charge_property_names(
    updates: &PropertyUpdates,
    known: &mut std::collections::HashSet<String>,
) -> Result<(), FaultCause> {
    let new: std::collections::HashSet<&str> = updates
        .numbers
        .iter()
        .map(|c| c.property.as_str())
        .chain(updates.texts.iter().map(|t| t.property.as_str()))
        .filter(|name| !known.contains(*name))
        .collect();
    if known.len() + new.len() > MAX_PROPERTY_NAMES {
        return Err(FaultCause::OverCap { what: "property names", limit: MAX_PROPERTY_NAMES as u64 });
    }
    known.extend(new.into_iter().map(str::to_owned));
    Ok(())
}

/// What an adapter may write: the entities granted to it, those it created, and (with the
/// `create-entities` grant) new ones that are not the scene's.
pub(crate) struct AdapterWrites<'a> {
    /// Ids of the entities granted to the adapter.
    pub(crate) granted: &'a std::collections::HashSet<String>,
    /// Ids the scene declares and did not grant: never written, never created.
    pub(crate) foreign: &'a std::collections::HashSet<String>,
    /// Ids the adapter created before (kept by the host across calls and restarts).
    pub(crate) created: &'a mut std::collections::HashSet<String>,
    /// Whether the adapter may create entities.
    pub(crate) may_create: bool,
}

/// One numeric property for many entities.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberColumn {
    /// Property name, e.g. `traffic.flow`.
    pub property: String,
    /// Unit symbol; empty for dimensionless.
    pub unit: String,
    /// Which entity each value belongs to.
    pub entities: ColumnEntities,
    /// One finite value per entity (see `entities`).
    pub values: Vec<f64>,
}

/// Which entities the values of a [`NumberColumn`] belong to.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnEntities {
    /// Value `i` belongs to entity `i` of the plugin's entity table: every entity, in order (a full
    /// column, handed over with SDK 1.2's `output.full-column`).
    All,
    /// Value `i` belongs to entity `indices[i]` (into the plugin's entity table, or the adapter
    /// output's keys).
    Listed(Vec<u32>),
}

impl NumberColumn {
    /// A column with an entity index per value.
    pub fn listed(property: impl Into<String>, unit: impl Into<String>, entities: Vec<u32>, values: Vec<f64>) -> Self {
        NumberColumn {
            property: property.into(),
            unit: unit.into(),
            entities: ColumnEntities::Listed(entities),
            values,
        }
    }

    /// The entity index of each value, in the order of `values`.
    ///
    /// ```
    /// use sangam_plugins::{ColumnEntities, NumberColumn};
    /// let full = NumberColumn { property: "p".into(), unit: String::new(), entities: ColumnEntities::All, values: vec![1.0, 2.0] };
    /// assert_eq!(full.entity_indices().collect::<Vec<_>>(), vec![0, 1]);
    /// let listed = NumberColumn::listed("p", "", vec![4, 2], vec![1.0, 2.0]);
    /// assert_eq!(listed.entity_indices().collect::<Vec<_>>(), vec![4, 2]);
    /// ```
    pub fn entity_indices(&self) -> impl Iterator<Item = u32> + '_ {
        let (listed, all): (&[u32], u32) = match &self.entities {
            ColumnEntities::Listed(indices) => (indices, 0),
            // A full column has one value per table entity, and tables are indexed by u32.
            ColumnEntities::All => (&[], u32::try_from(self.values.len()).unwrap_or(u32::MAX)),
        };
        listed.iter().copied().chain(0..all)
    }
}

/// One text property of one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct TextValue {
    /// Entity index.
    pub entity: u32,
    /// Property name.
    pub property: String,
    /// The text.
    pub value: String,
}

/// A checked batch of property changes, all valid at `time`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PropertyUpdates {
    /// Simulation time in microseconds at which the values are valid.
    pub time: i64,
    /// Numeric columns.
    pub numbers: Vec<NumberColumn>,
    /// Text values.
    pub texts: Vec<TextValue>,
}

impl PropertyUpdates {
    /// Number of values (numeric and text) in the batch.
    pub fn value_count(&self) -> usize {
        self.numbers.iter().map(|c| c.values.len()).sum::<usize>() + self.texts.len()
    }
}

/// Most map layers one plugin keeps (SDK 1.3 `output.raster`): a later map of a layer replaces the
/// earlier one, so a plugin holds at most this many maps.
pub const MAX_RASTER_LAYERS: usize = 16;
/// Most cells of one map (4096 x 4096).
pub const MAX_RASTER_CELLS: u64 = 1 << 24;

/// A map of the site a simulation handed over (SDK 1.3 `output.raster`): one value per cell of a
/// horizontal grid, row-major from the south-west corner, NaN for no data.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// The layer, e.g. `radio.rsrp`.
    pub layer: String,
    /// Unit symbol; empty for dimensionless.
    pub unit: String,
    /// South-west corner of cell (0, 0) in the site frame (metres east, north, up).
    pub origin: [f64; 3],
    /// Cell edge, metres (finite, > 0).
    pub cell_size: f64,
    /// Cells per row (east), at least 1.
    pub columns: u32,
    /// Rows (north), at least 1.
    pub rows: u32,
    /// `columns * rows` values, `values[row * columns + column]`; finite or NaN.
    pub values: Vec<f32>,
    /// The simulation time the map holds at (the step's updates' time; set by the host).
    pub time: i64,
}

impl Raster {
    /// The value of the cell holding site point (`east`, `north`), if the point is on the grid and
    /// the cell has data.
    ///
    /// ```
    /// use sangam_plugins::Raster;
    /// let r = Raster { layer: "l".into(), unit: String::new(), origin: [10.0, 20.0, 0.0], cell_size: 5.0,
    ///                  columns: 2, rows: 2, values: vec![1.0, 2.0, 3.0, f32::NAN], time: 0 };
    /// assert_eq!(r.value_at(16.0, 21.0), Some(2.0));
    /// assert_eq!(r.value_at(11.0, 26.0), Some(3.0));
    /// assert_eq!(r.value_at(16.0, 26.0), None, "no data");
    /// assert_eq!(r.value_at(9.0, 21.0), None, "off the grid");
    /// ```
    pub fn value_at(&self, east: f64, north: f64) -> Option<f32> {
        let column = ((east - self.origin[0]) / self.cell_size).floor();
        let row = ((north - self.origin[1]) / self.cell_size).floor();
        if !(0.0..f64::from(self.columns)).contains(&column) || !(0.0..f64::from(self.rows)).contains(&row) {
            return None;
        }
        let v = *self.values.get(row as usize * self.columns as usize + column as usize)?;
        (!v.is_nan()).then_some(v)
    }
}

/// An entity an adapter discovered.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntity {
    /// Unique id.
    pub id: String,
    /// Kind, e.g. `traffic-counter`.
    pub kind: String,
    /// Display name; empty for none.
    pub name: String,
    /// WGS84 latitude in degrees (-90..=90).
    pub latitude: f64,
    /// WGS84 longitude in degrees (-180..=180).
    pub longitude: f64,
    /// Height above the ellipsoid in metres.
    pub altitude: f64,
}

/// What one adapter `parse` produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdapterOutput {
    /// Entity ids; `updates` refer to entities by index into this list.
    pub keys: Vec<String>,
    /// Entities to add before the updates are applied.
    pub entities: Vec<NewEntity>,
    /// Property updates.
    pub updates: PropertyUpdates,
}

/// Text labels.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    /// Anchor of each label in the site frame (metres east, north, up).
    pub positions: Vec<[f64; 3]>,
    /// Label texts.
    pub texts: Vec<String>,
    /// sRGB RGBA colours.
    pub colors: Vec<[f32; 4]>,
    /// Text heights in metres.
    pub sizes: Vec<f32>,
}

/// Point markers.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Markers {
    /// Centres in the site frame.
    pub positions: Vec<[f64; 3]>,
    /// sRGB RGBA colours.
    pub colors: Vec<[f32; 4]>,
    /// Radii in metres.
    pub radii: Vec<f32>,
}

/// A line through two or more points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Polyline {
    /// Points in the site frame.
    pub points: Vec<[f64; 3]>,
    /// sRGB RGBA colour.
    pub color: [f32; 4],
    /// Width in metres.
    pub width: f32,
}

/// A heatmap palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Palette {
    /// Dark blue to yellow.
    Viridis,
    /// Green, yellow, red.
    Traffic,
    /// Blue, white, red.
    Diverging,
}

/// A regular grid of values draped over the site.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Heatmap {
    /// Corner of cell (0, 0) in the site frame.
    pub origin: [f64; 3],
    /// Cell edge in metres (> 0).
    pub cell_size: f32,
    /// Cells per row (east).
    pub columns: u32,
    /// Rows (north).
    pub rows: u32,
    /// `columns * rows` values, row-major; NaN = no data (`null` in a recording's JSON, which has no NaN).
    #[serde(with = "nan_as_null")]
    pub values: Vec<f32>,
    /// Value at the palette start.
    pub min: f32,
    /// Value at the palette end.
    pub max: f32,
    /// Palette.
    pub palette: Palette,
    /// Opacity 0..=1.
    pub opacity: f32,
    /// The surface height (site frame) under each cell, row-major like `values`: set by the runtime
    /// for a scene's map draped on roofs (`[[heatmaps]] heights`); empty for plugins' own heatmaps
    /// (the SDK has none) and absent from recordings that hold none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heights: Vec<f32>,
}

/// A volume shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VolumeShape {
    /// Sphere of diameter `size[0]`.
    Sphere,
    /// Upright cylinder of diameter `size[0]`, height `size[2]`.
    Cylinder,
    /// Axis-aligned box.
    Box,
}

/// A translucent volume.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Volume {
    /// Shape.
    pub shape: VolumeShape,
    /// Centre in the site frame.
    pub center: [f64; 3],
    /// Extent in metres (east, north, up), each >= 0.
    pub size: [f32; 3],
    /// sRGB RGBA colour.
    pub color: [f32; 4],
}

/// Alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// A message for the operator.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    /// Severity.
    pub severity: Severity,
    /// Entity index it concerns, if any.
    pub entity: Option<u32>,
    /// The message.
    pub message: String,
}

/// Everything one overlay draws for one frame (checked, renderer-ready plain data).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct OverlayFrame {
    /// Simulation time the frame was drawn for (microseconds).
    pub time: i64,
    /// Labels.
    pub labels: Labels,
    /// Markers.
    pub markers: Markers,
    /// Lines.
    pub polylines: Vec<Polyline>,
    /// Heatmaps.
    pub heatmaps: Vec<Heatmap>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Alerts.
    pub alerts: Vec<Alert>,
}

impl OverlayFrame {
    /// Whether `other` draws the same (everything but the time it was drawn for): a recorder writes
    /// a frame that only repeats the last one as no new frame.
    pub fn same_drawing(&self, other: &OverlayFrame) -> bool {
        self.labels == other.labels
            && self.markers == other.markers
            && self.polylines == other.polylines
            && self.volumes == other.volumes
            && self.alerts == other.alerts
            && self.heatmaps.len() == other.heatmaps.len()
            // Bit for bit: NaN (no data) is the same as NaN here, which `==` on f32 says it is not.
            && self.heatmaps.iter().zip(&other.heatmaps).all(|(a, b)| {
                a.origin == b.origin
                    && a.cell_size == b.cell_size
                    && a.columns == b.columns
                    && a.rows == b.rows
                    && a.min == b.min
                    && a.max == b.max
                    && a.palette == b.palette
                    && a.opacity == b.opacity
                    && a.values.len() == b.values.len()
                    && a.values.iter().zip(&b.values).all(|(x, y)| x.to_bits() == y.to_bits())
            })
    }

    /// About how many bytes the frame holds (what a recorder reckons it at while it waits).
    pub fn approx_bytes(&self) -> usize {
        let labels = self.labels.texts.iter().map(|t| t.len() + 48).sum::<usize>();
        let markers = self.markers.positions.len() * 44;
        let lines = self.polylines.iter().map(|l| l.points.len() * 24 + 24).sum::<usize>();
        let maps = self.heatmaps.iter().map(|h| h.values.len() * 4 + 64).sum::<usize>();
        let alerts = self.alerts.iter().map(|a| a.message.len() + 16).sum::<usize>();
        64 + labels + markers + lines + maps + self.volumes.len() * 56 + alerts
    }
}

/// Heatmap values in JSON: NaN (no data) as `null`, since JSON has no NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(|v| (!v.is_nan()).then_some(*v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
        let values = Vec::<Option<f32>>::deserialize(deserializer)?;
        Ok(values.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
    }
}

/// A parameter a 1.1 plugin describes.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSpec {
    /// Name used in the scene file.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Default value.
    pub default: crate::contract::ParamValue,
    /// Unit of numeric parameters; empty for none.
    pub unit: String,
    /// Smallest allowed value.
    pub minimum: Option<f64>,
    /// Largest allowed value.
    pub maximum: Option<f64>,
}

/// The grid of a map as the plugin gave it (any SDK version's `raster-grid`).
pub(crate) struct RasterGrid {
    pub(crate) origin: [f64; 3],
    pub(crate) cell_size: f64,
    pub(crate) columns: u32,
    pub(crate) rows: u32,
}

/// Counts output bytes against the cap and names fields in errors.
pub(crate) struct Checker {
    used: u64,
    limit: u64,
    entity_count: usize,
}

type Check<T> = Result<T, FaultCause>;

fn malformed(field: impl Into<String>, problem: impl Into<String>) -> FaultCause {
    FaultCause::MalformedOutput { field: field.into(), problem: problem.into() }
}

/// A field of a plugin's output as an error names it, written out only when a check fails: checking
/// good output formats nothing (an overlay of 1,000 polylines used to format 3,000 names per frame).
#[derive(Clone, Copy)]
enum Field<'a> {
    /// A fixed name: `labels.positions`.
    Name(&'a str),
    /// A member of an item of a list: `{prefix}{list}[{index}].{member}`, e.g. `polylines[3].points`.
    Item { prefix: &'a str, list: &'a str, index: usize, member: &'a str },
}

impl<'a> Field<'a> {
    fn item(list: &'a str, index: usize, member: &'a str) -> Self {
        Field::Item { prefix: "", list, index, member }
    }
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(name: &'a str) -> Self {
        Field::Name(name)
    }
}

impl std::fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Name(name) => f.write_str(name),
            Field::Item { prefix, list, index, member } => write!(f, "{prefix}{list}[{index}].{member}"),
        }
    }
}

impl From<Field<'_>> for String {
    fn from(field: Field<'_>) -> String {
        field.to_string()
    }
}

impl Checker {
    pub(crate) fn new(limit: u64, entity_count: usize) -> Self {
        Checker { used: 0, limit, entity_count }
    }

    /// Charges `bytes` against the cap.
    fn charge(&mut self, bytes: u64) -> Check<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit { Err(FaultCause::OutputTooLarge { limit: self.limit }) } else { Ok(()) }
    }

    fn charge_numbers(&mut self, count: usize) -> Check<()> {
        self.charge((count as u64).saturating_mul(8))
    }

    fn string(&mut self, field: &dyn Fn() -> String, text: &str, max: usize) -> Check<()> {
        if text.len() > max {
            return Err(malformed(field(), format!("{} bytes of text, the limit is {max}", text.len())));
        }
        self.charge(text.len() as u64)
    }

    /// A name or id: like [`Checker::string`], and plain text (no control characters).
    fn name(&mut self, field: &dyn Fn() -> String, name: &str, max: usize) -> Check<()> {
        self.string(field, name, max)?;
        text::check_plain(name).map_err(|problem| malformed(field(), problem))
    }

    /// The property name and unit of a numeric column (returned or full): within the length cap,
    /// counted against the output cap, and a property name that is not empty.
    fn column_names<'a>(&mut self, field: impl Fn(&'a str) -> Field<'a>, property: &str, unit: &str) -> Check<()> {
        self.name(&|| field("property").into(), property, MAX_NAME_BYTES)?;
        if property.is_empty() {
            return Err(malformed(field("property"), "the property name is empty"));
        }
        self.name(&|| field("unit").into(), unit, MAX_NAME_BYTES)
    }

    fn entity(&self, field: &dyn Fn() -> String, index: u32) -> Check<()> {
        if (index as usize) < self.entity_count {
            Ok(())
        } else {
            Err(malformed(
                field(),
                format!("entity index {index} is out of range (the table has {} entities)", self.entity_count),
            ))
        }
    }
}

/// Bulk columns are checked in two passes: a branch-free pass over the whole column (which the
/// compiler vectorises; bulk output of 100k values is the common case) and, only when it fails, a
/// search for the first offending element to name it.
fn finite<'a, T: Copy + std::fmt::Display>(
    field: impl Into<Field<'a>>,
    values: &[T],
    is_finite: impl Fn(T) -> bool,
) -> Check<()> {
    if values.iter().fold(true, |ok, &v| ok & is_finite(v)) {
        return Ok(());
    }
    Err(not_finite(field.into(), values, is_finite))
}

/// Names the first element of `values` that is not finite (called only once a check has failed).
fn not_finite<T: Copy + std::fmt::Display>(
    field: Field<'_>,
    values: &[T],
    is_finite: impl Fn(T) -> bool,
) -> FaultCause {
    let i = values.iter().position(|&v| !is_finite(v)).unwrap_or(0);
    malformed(format!("{field}[{i}]"), format!("{} is not a finite number", values[i]))
}

/// Lanes of the bulk f64 finiteness pass (enough independent sums for the compiler to vectorise).
const FINITE_LANES: usize = 16;

/// The f64 columns are the bulk of a simulation's output, so their pass uses `v * 0.0`, which is 0 for a
/// finite `v` and NaN for NaN or an infinity, summed in independent lanes: once a lane holds NaN it stays
/// NaN. This runs about twice as fast as a fold over `is_finite` (which the compiler does not vectorise).
fn finite64<'a>(field: impl Into<Field<'a>>, values: &[f64]) -> Check<()> {
    let mut lanes = [0.0f64; FINITE_LANES];
    let chunks = values.chunks_exact(FINITE_LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v * 0.0;
        }
    }
    for &v in rest {
        lanes[0] += v * 0.0;
    }
    if lanes.iter().all(|&lane| lane == 0.0) {
        return Ok(());
    }
    Err(not_finite(field.into(), values, f64::is_finite))
}

fn finite32<'a>(field: impl Into<Field<'a>>, values: &[f32]) -> Check<()> {
    finite(field, values, f32::is_finite)
}

fn finite_scalar<'a>(field: impl Into<Field<'a>>, value: f32) -> Check<()> {
    if value.is_finite() { Ok(()) } else { Err(malformed(field.into(), format!("{value} is not a finite number"))) }
}

/// Whether any index in `entities` is `count` or more, in one branch-free pass the compiler vectorises
/// (an or of comparisons: baseline x86-64 has no unsigned 32-bit vector maximum, so a fold over `max`
/// stays scalar and takes twice as long).
fn any_out_of_range(entities: &[u32], count: usize) -> bool {
    match u32::try_from(count) {
        Ok(limit) => entities.iter().fold(0u32, |bad, &e| bad | u32::from(e >= limit)) != 0,
        // More entities than a u32 can name: every index is in range.
        Err(_) => false,
    }
}

fn len_eq<'a>(field: impl Into<Field<'a>>, actual: usize, expected: usize, what: &str) -> Check<()> {
    if actual == expected {
        Ok(())
    } else {
        Err(malformed(field.into(), format!("has {actual} entries, expected {expected} ({what})")))
    }
}

/// Free text as it may be shown: control characters escaped (the length was checked before).
fn shown(value: String) -> String {
    match text::clean(&value, usize::MAX) {
        std::borrow::Cow::Borrowed(_) => value,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

fn triples(values: Vec<f64>) -> Vec<[f64; 3]> {
    values.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

fn quads(values: Vec<f32>) -> Vec<[f32; 4]> {
    values.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect()
}

impl Checker {
    /// Checks and converts a batch of updates. `prefix` names the field in errors (`""` or
    /// `updates.`).
    pub(crate) fn updates(&mut self, prefix: &str, raw: wit::types::Updates) -> Check<PropertyUpdates> {
        self.charge(8)?;
        let mut numbers = Vec::with_capacity(raw.numbers.len().min(1024));
        for (c, column) in raw.numbers.into_iter().enumerate() {
            let field = |member| Field::Item { prefix, list: "numbers", index: c, member };
            self.charge_numbers(column.values.len().saturating_add(column.entities.len() / 2))?;
            self.column_names(field, &column.property, &column.unit)?;
            len_eq(field("values"), column.values.len(), column.entities.len(), "one value per entity")?;
            // Branch-free pass first (vectorised); the element-wise search only names a bad index.
            if any_out_of_range(&column.entities, self.entity_count) {
                for (i, &e) in column.entities.iter().enumerate() {
                    self.entity(&|| format!("{prefix}numbers[{c}].entities[{i}]"), e)?;
                }
            }
            finite64(field("values"), &column.values)?;
            numbers.push(NumberColumn {
                property: column.property,
                unit: column.unit,
                entities: ColumnEntities::Listed(column.entities),
                values: column.values,
            });
        }
        let mut texts = Vec::with_capacity(raw.texts.len().min(1024));
        for (i, text) in raw.texts.into_iter().enumerate() {
            let field = |name: &str| format!("{prefix}texts[{i}].{name}");
            self.charge(8)?;
            self.entity(&|| field("entity"), text.entity)?;
            self.name(&|| field("property"), &text.property, MAX_NAME_BYTES)?;
            self.string(&|| field("value"), &text.value, MAX_TEXT_VALUE_BYTES)?;
            texts.push(TextValue { entity: text.entity, property: text.property, value: shown(text.value) });
        }
        Ok(PropertyUpdates { time: raw.time, numbers, texts })
    }

    /// Checks a full column (SDK 1.2 `output.full-column`), the `index`th of its call: one finite
    /// value per entity of the table, in table order.
    pub(crate) fn full_column(
        &mut self,
        index: usize,
        property: String,
        unit: String,
        values: Vec<f64>,
    ) -> Check<NumberColumn> {
        let field = |member| Field::item("full-column", index, member);
        self.charge_numbers(values.len())?;
        self.column_names(field, &property, &unit)?;
        len_eq(field("values"), values.len(), self.entity_count, "one value per entity of the table")?;
        finite64(field("values"), &values)?;
        Ok(NumberColumn { property, unit, entities: ColumnEntities::All, values })
    }

    /// Checks a map (SDK 1.3 `output.raster`), the `index`th of its call, before it is kept: layer
    /// and unit are names, the grid is sane and at most [`MAX_RASTER_CELLS`], one value per cell, each
    /// finite or NaN; 4 bytes per value against the output cap.
    pub(crate) fn raster(
        &mut self,
        index: usize,
        layer: String,
        unit: String,
        grid: RasterGrid,
        values: Vec<f32>,
    ) -> Check<Raster> {
        let field = |member| Field::item("raster", index, member);
        self.charge((values.len() as u64).saturating_mul(4).saturating_add(40))?;
        self.name(&|| field("layer").into(), &layer, MAX_NAME_BYTES)?;
        if layer.is_empty() {
            return Err(malformed(field("layer"), "the layer name is empty"));
        }
        self.name(&|| field("unit").into(), &unit, MAX_NAME_BYTES)?;
        finite64(field("grid.origin"), &grid.origin)?;
        if !(grid.cell_size.is_finite() && grid.cell_size > 0.0) {
            return Err(malformed(field("grid.cell-size"), format!("{} is not a length above 0", grid.cell_size)));
        }
        let cells = u64::from(grid.columns) * u64::from(grid.rows);
        if cells == 0 || cells > MAX_RASTER_CELLS {
            return Err(malformed(
                field("grid"),
                format!(
                    "{} x {} cells; a map has 1 to {MAX_RASTER_CELLS} cells (coarsen the grid or split the map)",
                    grid.columns, grid.rows
                ),
            ));
        }
        len_eq(field("values"), values.len(), cells as usize, "columns * rows")?;
        if let Some(v) = values.iter().position(|v| v.is_infinite()) {
            return Err(malformed(format!("raster[{index}].values[{v}]"), "infinite (use NaN for no data)"));
        }
        let RasterGrid { origin, cell_size, columns, rows } = grid;
        Ok(Raster { layer, unit, origin, cell_size, columns, rows, values, time: 0 })
    }

    /// Checks and converts an overlay frame.
    pub(crate) fn overlay(&mut self, time: i64, raw: wit_overlay::OverlayFrame) -> Check<OverlayFrame> {
        let wit_overlay::OverlayFrame { labels, markers, polylines, heatmaps, volumes, alerts } = raw;

        // Labels.
        let n = labels.texts.len();
        self.charge_numbers(labels.positions.len() + labels.colors.len() + labels.sizes.len())?;
        len_eq("labels.positions", labels.positions.len(), n.saturating_mul(3), "3 per label")?;
        len_eq("labels.colors", labels.colors.len(), n.saturating_mul(4), "4 per label")?;
        len_eq("labels.sizes", labels.sizes.len(), n, "1 per label")?;
        finite64("labels.positions", &labels.positions)?;
        finite32("labels.colors", &labels.colors)?;
        finite32("labels.sizes", &labels.sizes)?;
        for (i, text) in labels.texts.iter().enumerate() {
            self.string(&|| format!("labels.texts[{i}]"), text, MAX_LABEL_BYTES)?;
        }
        let labels = Labels {
            positions: triples(labels.positions),
            texts: labels.texts.into_iter().map(shown).collect(),
            colors: quads(labels.colors),
            sizes: labels.sizes,
        };

        // Markers.
        let n = markers.radii.len();
        self.charge_numbers(markers.positions.len() + markers.colors.len() + n)?;
        len_eq("markers.positions", markers.positions.len(), n.saturating_mul(3), "3 per marker")?;
        len_eq("markers.colors", markers.colors.len(), n.saturating_mul(4), "4 per marker")?;
        finite64("markers.positions", &markers.positions)?;
        finite32("markers.colors", &markers.colors)?;
        finite32("markers.radii", &markers.radii)?;
        let markers =
            Markers { positions: triples(markers.positions), colors: quads(markers.colors), radii: markers.radii };

        // Polylines.
        let mut lines = Vec::with_capacity(polylines.len().min(1024));
        for (i, line) in polylines.into_iter().enumerate() {
            self.charge_numbers(line.points.len() + 5)?;
            let field = |member| Field::item("polylines", i, member);
            if line.points.len() % 3 != 0 || line.points.len() < 6 {
                return Err(malformed(
                    field("points"),
                    format!("has {} coordinates, expected 3 per point and at least 2 points", line.points.len()),
                ));
            }
            finite64(field("points"), &line.points)?;
            let color = [line.color.0, line.color.1, line.color.2, line.color.3];
            finite32(field("color"), &color)?;
            finite_scalar(field("width"), line.width)?;
            lines.push(Polyline { points: triples(line.points), color, width: line.width });
        }

        // Heatmaps.
        let mut maps = Vec::with_capacity(heatmaps.len().min(1024));
        for (i, map) in heatmaps.into_iter().enumerate() {
            self.charge_numbers(map.values.len() + 8)?;
            let field = |member| Field::item("heatmaps", i, member);
            let cells = (map.columns as u64).saturating_mul(map.rows as u64);
            if cells != map.values.len() as u64 {
                return Err(malformed(
                    field("values"),
                    format!("has {} values, expected columns * rows = {cells}", map.values.len()),
                ));
            }
            let origin = [map.origin.0, map.origin.1, map.origin.2];
            finite64(field("origin"), &origin)?;
            finite_scalar(field("cell-size"), map.cell_size)?;
            if map.cell_size <= 0.0 {
                return Err(malformed(field("cell-size"), "must be greater than 0"));
            }
            if let Some(v) = map.values.iter().position(|v| v.is_infinite()) {
                return Err(malformed(format!("heatmaps[{i}].values[{v}]"), "infinite (use NaN for no data)"));
            }
            finite_scalar(field("min"), map.min)?;
            finite_scalar(field("max"), map.max)?;
            finite_scalar(field("opacity"), map.opacity)?;
            maps.push(Heatmap {
                origin,
                cell_size: map.cell_size,
                columns: map.columns,
                rows: map.rows,
                values: map.values,
                min: map.min,
                max: map.max,
                palette: match map.palette {
                    wit_overlay::Palette::Viridis => Palette::Viridis,
                    wit_overlay::Palette::Traffic => Palette::Traffic,
                    wit_overlay::Palette::Diverging => Palette::Diverging,
                },
                opacity: map.opacity,
                heights: Vec::new(),
            });
        }

        // Volumes.
        let mut vols = Vec::with_capacity(volumes.len().min(1024));
        for (i, v) in volumes.into_iter().enumerate() {
            self.charge_numbers(10)?;
            let field = |member| Field::item("volumes", i, member);
            let center = [v.center.0, v.center.1, v.center.2];
            let size = [v.size.0, v.size.1, v.size.2];
            let color = [v.color.0, v.color.1, v.color.2, v.color.3];
            finite64(field("center"), &center)?;
            finite32(field("size"), &size)?;
            finite32(field("color"), &color)?;
            if let Some(axis) = size.iter().position(|s| *s < 0.0) {
                return Err(malformed(format!("volumes[{i}].size[{axis}]"), "is negative"));
            }
            let shape = match v.shape {
                wit_overlay::VolumeShape::Sphere => VolumeShape::Sphere,
                wit_overlay::VolumeShape::Cylinder => VolumeShape::Cylinder,
                wit_overlay::VolumeShape::Box => VolumeShape::Box,
            };
            vols.push(Volume { shape, center, size, color });
        }

        // Alerts.
        let mut out_alerts = Vec::with_capacity(alerts.len().min(1024));
        for (i, a) in alerts.into_iter().enumerate() {
            self.charge(8)?;
            if let Some(e) = a.entity {
                self.entity(&|| format!("alerts[{i}].entity"), e)?;
            }
            self.string(&|| format!("alerts[{i}].message"), &a.message, MAX_ALERT_BYTES)?;
            let message = shown(a.message);
            let severity = match a.severity {
                wit_overlay::Severity::Info => Severity::Info,
                wit_overlay::Severity::Warning => Severity::Warning,
                wit_overlay::Severity::Critical => Severity::Critical,
            };
            out_alerts.push(Alert { severity, entity: a.entity, message });
        }

        Ok(OverlayFrame { time, labels, markers, polylines: lines, heatmaps: maps, volumes: vols, alerts: out_alerts })
    }

    /// Checks an adapter's new entities and its keys against what it may write (`writes`); `updates`
    /// entity indices refer to `keys`. The ids it creates are added to `writes.created` only when the
    /// whole output passes.
    pub(crate) fn adapter_parts(
        &mut self,
        keys: &[String],
        entities: Vec<(String, String, String, f64, f64, f64)>,
        writes: AdapterWrites<'_>,
    ) -> Check<Vec<NewEntity>> {
        for (i, key) in keys.iter().enumerate() {
            self.name(&|| format!("keys[{i}]"), key, MAX_ENTITY_FIELD_BYTES)?;
            if key.is_empty() {
                return Err(malformed(format!("keys[{i}]"), "the entity id is empty"));
            }
        }
        self.entity_count = keys.len();
        let mut out = Vec::with_capacity(entities.len().min(1024));
        for (i, (id, kind, name, latitude, longitude, altitude)) in entities.into_iter().enumerate() {
            let field = |name: &str| format!("entities[{i}].{name}");
            self.charge_numbers(3)?;
            self.name(&|| field("id"), &id, MAX_ENTITY_FIELD_BYTES)?;
            if id.is_empty() {
                return Err(malformed(field("id"), "the entity id is empty"));
            }
            self.name(&|| field("kind"), &kind, MAX_ENTITY_FIELD_BYTES)?;
            self.string(&|| field("name"), &name, MAX_ENTITY_FIELD_BYTES)?;
            let name = shown(name);
            if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
                return Err(malformed(field("latitude"), format!("{latitude} is not a latitude in -90..=90")));
            }
            if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
                return Err(malformed(field("longitude"), format!("{longitude} is not a longitude in -180..=180")));
            }
            if !altitude.is_finite() {
                return Err(malformed(field("altitude"), format!("{altitude} is not a finite number")));
            }
            out.push(NewEntity { id, kind, name, latitude, longitude, altitude });
        }
        // Writes are checked against grants exactly as reads are.
        let shown = |id: &str| text::cleaned(id, 96);
        let mut new_ids = std::collections::HashSet::new();
        for (i, e) in out.iter().enumerate() {
            if writes.granted.contains(&e.id) {
                continue; // an entity it may write anyway: nothing to create
            }
            if !writes.may_create {
                return Err(malformed(
                    format!("entities[{i}]"),
                    format!(
                        "entity `{}` would be created, but this adapter may not create entities (its manifest must \
                         request `create-entities` and the scene grant it)",
                        shown(&e.id)
                    ),
                ));
            }
            if writes.foreign.contains(&e.id) {
                return Err(malformed(
                    format!("entities[{i}].id"),
                    format!("entity `{}` is the scene's and not granted to this adapter", shown(&e.id)),
                ));
            }
            if !writes.created.contains(&e.id) {
                new_ids.insert(e.id.as_str());
            }
        }
        if writes.created.len() + new_ids.len() > MAX_CREATED_ENTITIES {
            return Err(FaultCause::OverCap { what: "entities created", limit: MAX_CREATED_ENTITIES as u64 });
        }
        for (i, key) in keys.iter().enumerate() {
            let key = key.as_str();
            if !(writes.granted.contains(key) || writes.created.contains(key) || new_ids.contains(key)) {
                let how = if writes.may_create { " or list it among the entities this output creates" } else { "" };
                return Err(malformed(
                    format!("keys[{i}]"),
                    format!(
                        "entity `{}` is not granted to this adapter; grant it in the scene (`entities` or `kinds` of \
                         its [[plugins]] entry){how}",
                        shown(key)
                    ),
                ));
            }
        }
        writes.created.extend(new_ids.into_iter().map(str::to_owned));
        Ok(out)
    }

    /// Checks a 1.1 parameter description.
    pub(crate) fn parameter(&mut self, i: usize, name: &str, description: &str, unit: &str) -> Check<()> {
        self.name(&|| format!("parameters[{i}].name"), name, MAX_NAME_BYTES)?;
        self.string(&|| format!("parameters[{i}].description"), description, MAX_TEXT_VALUE_BYTES)?;
        self.name(&|| format!("parameters[{i}].unit"), unit, MAX_NAME_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_frame_survives_json_with_its_no_data_cells_and_its_exact_values() {
        let heatmap = |values: Vec<f32>| Heatmap {
            origin: [1.5, -2.25, 0.1],
            cell_size: 2.5,
            columns: 2,
            rows: 2,
            values,
            min: -110.0,
            max: -60.0,
            palette: Palette::Viridis,
            opacity: 0.7,
            heights: Vec::new(),
        };
        let frame = OverlayFrame {
            time: 1_234_567,
            labels: Labels {
                positions: vec![[0.1, 0.2, 0.3]],
                texts: vec!["RSRP −97.3 dBm".into()],
                colors: vec![[1.0, 0.5, 0.25, 1.0]],
                sizes: vec![3.0],
            },
            heatmaps: vec![heatmap(vec![-97.31, f32::NAN, 0.1, -110.0])],
            alerts: vec![Alert { severity: Severity::Critical, entity: Some(3), message: "cell down".into() }],
            ..OverlayFrame::default()
        };
        let json = serde_json::to_string(&frame).unwrap();
        assert!(json.contains("null"), "no data is null in JSON, which has no NaN: {json}");
        let back: OverlayFrame = serde_json::from_str(&json).unwrap();
        assert!(back.heatmaps[0].values[1].is_nan());
        assert!(back.same_drawing(&frame), "{back:?}");
        assert_eq!(back.heatmaps[0].values[0].to_bits(), (-97.31f32).to_bits(), "floats come back bit for bit");
        // Another drawing is not the same; another time alone is.
        let mut later = frame.clone();
        later.time += 1;
        assert!(later.same_drawing(&frame));
        later.heatmaps[0].values[1] = 0.0;
        assert!(!later.same_drawing(&frame));
    }

    fn entity(id: &str) -> (String, String, String, f64, f64, f64) {
        (id.into(), "sensor".into(), String::new(), 28.5, 77.2, 0.0)
    }

    /// Runs the adapter write checks for `keys` and new `entities`, with `may_create`.
    fn writes(
        keys: &[&str],
        entities: &[&str],
        may_create: bool,
        created: &mut std::collections::HashSet<String>,
    ) -> Result<(), String> {
        let granted: std::collections::HashSet<String> = ["s1".to_string()].into();
        let foreign: std::collections::HashSet<String> = ["s2".to_string()].into();
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let writes = AdapterWrites { granted: &granted, foreign: &foreign, created, may_create };
        Checker::new(1 << 20, 0)
            .adapter_parts(&keys, entities.iter().map(|e| entity(e)).collect(), writes)
            .map(drop)
            .map_err(|cause| cause.to_string())
    }

    #[test]
    fn adapters_write_granted_entities_and_create_only_with_the_grant() {
        let mut created = std::collections::HashSet::new();
        assert_eq!(writes(&["s1"], &[], false, &mut created), Ok(()));
        let e = writes(&["s1", "s2"], &[], false, &mut created).unwrap_err();
        assert!(e.contains("`keys[1]`: entity `s2` is not granted to this adapter"), "{e}");
        let e = writes(&["new"], &["new"], false, &mut created).unwrap_err();
        assert!(e.contains("`entities[0]`: entity `new` would be created, but this adapter may not"), "{e}");
        // With the grant: a new entity, and later writes to it; never the scene's ungranted one.
        assert_eq!(writes(&["new"], &["new"], true, &mut created), Ok(()));
        assert_eq!(writes(&["new", "s1"], &[], true, &mut created), Ok(()));
        let e = writes(&["s2"], &["s2"], true, &mut created).unwrap_err();
        assert!(e.contains("entity `s2` is the scene's and not granted to this adapter"), "{e}");
        // A refused output creates nothing.
        let e = writes(&["other", "s2"], &["other"], true, &mut created).unwrap_err();
        assert!(e.contains("`keys[1]`"), "{e}");
        assert!(!created.contains("other"), "{created:?}");
    }

    #[test]
    fn an_adapter_creates_at_most_its_cap_of_entities() {
        let mut created: std::collections::HashSet<String> =
            (0..MAX_CREATED_ENTITIES).map(|i| format!("made-{i}")).collect();
        let e = writes(&["one-more"], &["one-more"], true, &mut created).unwrap_err();
        assert!(e.contains("is over its cap of 100000 entities created"), "{e}");
    }

    fn named(check: Check<()>) -> String {
        match check {
            Err(FaultCause::MalformedOutput { field, .. }) => field,
            other => panic!("expected malformed output, got {other:?}"),
        }
    }

    #[test]
    fn bulk_checks_name_the_first_bad_element_anywhere_in_a_long_column() {
        let mut values = vec![1.0f64; 100_000];
        assert!(finite64("v", &values).is_ok());
        values[73_421] = f64::NAN;
        values[90_000] = f64::INFINITY;
        assert_eq!(named(finite64("v", &values)), "v[73421]");
        let mut small = vec![0.5f32; 17];
        assert!(finite32("w", &small).is_ok());
        small[16] = f32::NEG_INFINITY;
        assert_eq!(named(finite32("w", &small)), "w[16]");
        assert!(finite64("empty", &[]).is_ok());
    }

    #[test]
    fn the_lane_pass_catches_every_non_finite_value_at_every_position_and_column_length() {
        // Lengths around the lane width (whole chunks, remainders, shorter than one chunk), a bad value
        // at every position, each kind of non-finite value; large finite values must not overflow to a
        // false alarm (v * 0.0 is exactly ±0 for every finite v, f64::MAX included).
        for len in [1, 2, FINITE_LANES - 1, FINITE_LANES, FINITE_LANES + 1, 3 * FINITE_LANES + 5] {
            let good = vec![f64::MAX; len];
            assert!(finite64("v", &good).is_ok(), "len {len}: f64::MAX is finite");
            let tiny = vec![-f64::MIN_POSITIVE / 2.0; len];
            assert!(finite64("v", &tiny).is_ok(), "len {len}: subnormals are finite");
            for at in 0..len {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut values = good.clone();
                    values[at] = bad;
                    assert_eq!(named(finite64("v", &values)), format!("v[{at}]"), "len {len}, {bad} at {at}");
                }
            }
        }
    }

    #[test]
    fn the_range_pass_flags_exactly_the_indices_at_or_past_the_entity_count() {
        let entities: Vec<u32> = (0..1000).collect();
        assert!(!any_out_of_range(&entities, 1000));
        assert!(any_out_of_range(&entities, 999), "index 999 with 999 entities");
        assert!(!any_out_of_range(&[], 0));
        assert!(any_out_of_range(&[0], 0), "no entities granted: every index is out of range");
        let mut far = entities.clone();
        far[517] = u32::MAX;
        assert!(any_out_of_range(&far, 1000));
        assert!(!any_out_of_range(&[u32::MAX], u32::MAX as usize + 1));
    }
}
