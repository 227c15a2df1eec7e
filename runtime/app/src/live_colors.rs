//! Entities drawn in the colour of a live value (the scene's `[[color_by]]` rules), with a legend in
//! the heads-up text, in every front end (it adds to the frame's [`Overlay`]):
//! - a road feature as a coloured band along its centre line, just above the road;
//! - a building as a marker above its roof, a placed model or an instance as a marker at its base;
//! - with `label = true`, the latest value and its unit above it.
//!
//! - an entity an adapter created at a WGS84 position (a cell of a cell list) as a marker there, at
//!   least on the ground or on the roof of the building that stands there (cell lists give no
//!   antenna heights; a rooftop site's cells show on its roof).
//!
//! An entity with no value yet at the displayed time is not drawn (nothing is shown as if known).
//!
//! Cost: the scene's geometry is resolved once per site ([`LiveColors::new`]), entities created
//! while it runs once each ([`LiveColors::refresh`], a pass over the store's entities when their
//! number changed); each frame costs one history look-up per coloured entity and a copy of its
//! points.

use glam::DVec3;
use sangam_render::overlay::{HeatmapPalette, HudCorner, HudText, Overlay, OverlayLabel, OverlayLine, OverlayMarker};
use sangam_twin::{ColorRamp, ColorRule, EntityId, EntityLink, EnuFrame, PropertyValue, Scene, SimTime, TwinStore};

use crate::interaction::twin_pose::TwinPose;

/// Swatches in a legend.
pub const LEGEND_STEPS: usize = 5;

/// Height of a value label, metres.
const LABEL_HEIGHT_M: f32 = 8.0;

/// Height of a road band above the ground, metres.
const ROAD_LIFT_M: f64 = 0.8;

/// Radius of the marker of an entity at a WGS84 location, metres.
const LOCATION_MARKER_M: f32 = 5.0;

/// How an entity is drawn.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// A band along these points, this wide.
    Band(Vec<DVec3>, f32),
    /// A marker here, this big.
    Marker(DVec3, f32),
}

impl Shape {
    /// Where its label goes.
    fn label_anchor(&self) -> DVec3 {
        match self {
            Shape::Band(points, _) => points[points.len() / 2] + DVec3::Z * 4.0,
            Shape::Marker(p, r) => *p + DVec3::Z * (f64::from(*r) * 2.0),
        }
    }
}

#[derive(Clone, Debug)]
struct Item {
    rule: usize,
    entity: EntityId,
    shape: Shape,
}

/// The scene's rules and the place of every entity they colour.
#[derive(Clone, Debug, Default)]
pub struct LiveColors {
    rules: Vec<ColorRule>,
    items: Vec<Item>,
    /// The site frame, for entities at WGS84 locations.
    frame: Option<EnuFrame>,
    /// The store's entity count when it was last looked through.
    entities_seen: usize,
    /// The scene's building footprints (without their properties), for the roofs under locations.
    roofs: Vec<sangam_twin::BuildingFootprint>,
    /// Labels at a constant screen size (`[labels] screen_px`), in pixels.
    label_px: Option<f32>,
}

/// The marker of the `nth` entity (from 0) at `g`: around its place (the sectors of one mast side
/// by side, 120 degrees apart), lifted onto the ground or the roof there if below it.
fn location_marker(
    frame: &EnuFrame,
    roofs: &[sangam_twin::BuildingFootprint],
    g: &sangam_twin::Geodetic,
    nth: usize,
) -> Shape {
    let p = frame.geodetic_to_enu(g);
    let roof = roofs.iter().filter(|b| b.contains(p.truncate())).map(|b| b.height_m).fold(0.0, f64::max);
    let angle = (90.0 - 120.0 * nth as f64).to_radians();
    let r = 2.2 * f64::from(LOCATION_MARKER_M);
    let z = p.z.max(roof) + f64::from(LOCATION_MARKER_M);
    Shape::Marker(DVec3::new(p.x + r * angle.cos(), p.y + r * angle.sin(), z), LOCATION_MARKER_M)
}

/// A place to the decimetre, to find entities that share one.
fn spot(g: &sangam_twin::Geodetic) -> (i64, i64) {
    ((g.lat_deg * 1e6).round() as i64, (g.lon_deg * 1e6).round() as i64)
}

fn palette(ramp: ColorRamp) -> HeatmapPalette {
    match ramp {
        ColorRamp::Traffic => HeatmapPalette::Traffic,
        ColorRamp::Viridis => HeatmapPalette::Viridis,
        ColorRamp::Diverging => HeatmapPalette::Diverging,
    }
}

/// A rule's colour for `value` (opaque sRGB), `None` for NaN.
pub fn color_of(rule: &ColorRule, value: f64) -> Option<[f32; 4]> {
    let [r, g, b] = palette(rule.ramp).srgb(rule.position(value)?);
    Some([r, g, b, 1.0])
}

/// A numeric property value and its unit (`""` for none).
fn number(value: &PropertyValue) -> Option<(f64, String)> {
    match value {
        PropertyValue::Quantity { value, unit } => Some((*value, unit.to_string())),
        PropertyValue::Number(x) => Some((*x, String::new())),
        PropertyValue::Integer(i) => Some((*i as f64, String::new())),
        _ => None,
    }
}

impl LiveColors {
    /// Resolves where each entity of a rule's kind is drawn.
    pub fn new(twin: &Scene) -> LiveColors {
        let roofs: Vec<sangam_twin::BuildingFootprint> = twin
            .layers
            .iter()
            .flat_map(|l| l.buildings.iter())
            .map(|b| sangam_twin::BuildingFootprint { properties: Default::default(), ..b.clone() })
            .collect();
        let mut items = Vec::new();
        for (rule, r) in twin.color_by.iter().enumerate() {
            for e in twin.entities.iter().filter(|e| e.kind == r.kind) {
                let shape = match &e.link {
                    Some(EntityLink::Feature(id)) => feature_shape(twin, id),
                    Some(EntityLink::Placement(id)) => {
                        twin.placement(id).map(|p| Shape::Marker(p.position + DVec3::Z, 4.0))
                    }
                    Some(EntityLink::InstanceMember(group, i)) => twin
                        .instance_groups
                        .iter()
                        .find(|g| &g.id == group)
                        .and_then(|g| g.members.get(*i))
                        .map(|m| Shape::Marker(m.position + DVec3::Z, 2.5)),
                    Some(EntityLink::Location(g)) => Some(location_marker(&twin.frame, &roofs, g, 0)),
                    None => None,
                };
                if let Some(shape) = shape {
                    items.push(Item { rule, entity: e.id.clone(), shape });
                }
            }
        }
        LiveColors {
            rules: twin.color_by.clone(),
            items,
            frame: Some(twin.frame),
            entities_seen: 0,
            roofs,
            label_px: twin.labels.screen_px,
        }
    }

    /// Takes in the entities of a rule's kind that appeared in `store` at a WGS84 location since
    /// the last call (an adapter's cells); cheap when none did.
    pub fn refresh(&mut self, store: &TwinStore) {
        let Some(frame) = self.frame else { return };
        if self.rules.is_empty() || store.entity_count() == self.entities_seen {
            return;
        }
        self.entities_seen = store.entity_count();
        let known: std::collections::HashSet<(usize, EntityId)> =
            self.items.iter().map(|i| (i.rule, i.entity.clone())).collect();
        let mut at_spot: std::collections::HashMap<(usize, (i64, i64)), usize> = std::collections::HashMap::new();
        for e in store.entities() {
            let Some(EntityLink::Location(g)) = &e.link else { continue };
            for (rule, _) in self.rules.iter().enumerate().filter(|(_, r)| r.kind == e.kind) {
                let nth = at_spot.entry((rule, spot(g))).or_default();
                if !known.contains(&(rule, e.id.clone())) {
                    let shape = location_marker(&frame, &self.roofs, g, *nth);
                    self.items.push(Item { rule, entity: e.id.clone(), shape });
                }
                *nth += 1;
            }
        }
    }

    /// The number of entities coloured (when they have a value).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the scene colours nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds the coloured entities at time `t` (placed by `pose`) and one legend per rule.
    pub fn add(&self, overlay: &mut Overlay, store: &TwinStore, t: SimTime, pose: &TwinPose) {
        let s = pose.scale as f32;
        let mut units: Vec<Option<String>> = vec![None; self.rules.len()];
        for item in &self.items {
            let rule = &self.rules[item.rule];
            let Some((value, unit)) = store.value_at(&item.entity, &rule.property, t).as_ref().and_then(number) else {
                continue;
            };
            let Some(color) = color_of(rule, value) else { continue };
            match &item.shape {
                Shape::Band(points, width) => overlay.lines.push(OverlayLine {
                    points: points.iter().map(|p| pose.to_world(*p)).collect(),
                    color,
                    width_m: width * s,
                }),
                Shape::Marker(p, radius) => {
                    overlay.markers.push(OverlayMarker { position: pose.to_world(*p), radius_m: radius * s, color })
                }
            }
            if rule.label {
                let text = if unit.is_empty() { format!("{value:.0}") } else { format!("{value:.0} {unit}") };
                overlay.labels.push(OverlayLabel {
                    position: pose.to_world(item.shape.label_anchor()),
                    text,
                    height_m: LABEL_HEIGHT_M * s,
                    color,
                    screen_px: self.label_px,
                });
            }
            units[item.rule].get_or_insert(unit);
        }
        for (rule, unit) in self.rules.iter().zip(units) {
            // A legend for a rule with nothing on screen yet would explain nothing.
            let Some(unit) = unit else { continue };
            overlay.hud.extend(legend(rule, &unit));
        }
    }
}

/// A rule's legend: a title line, then [`LEGEND_STEPS`] swatches from `min` to `max`, each in its
/// colour.
pub fn legend(rule: &ColorRule, unit: &str) -> Vec<HudText> {
    let title = if unit.is_empty() {
        format!("{} ({})", rule.property, rule.kind)
    } else {
        format!("{} [{unit}] ({})", rule.property, rule.kind)
    };
    let mut lines = vec![HudText { text: title, corner: HudCorner::TopLeft, color: [1.0; 4] }];
    let step = (rule.max - rule.min) / LEGEND_STEPS as f64;
    for i in 0..LEGEND_STEPS {
        let (a, b) = (rule.min + step * i as f64, rule.min + step * (i + 1) as f64);
        let color = color_of(rule, (a + b) / 2.0).unwrap_or([1.0; 4]);
        // A bullet in the swatch's colour (the HUD font has it); the ends are open (values clamp).
        // Whole numbers, unless a swatch spans less than one (a difference of tenths of a dB).
        let d = if step.abs() < 1.0 { ((-step.abs().log10()).ceil() as usize).max(1) } else { 0 };
        let text = match i {
            0 => format!("\u{2022} < {b:.d$}"),
            _ if i + 1 == LEGEND_STEPS => format!("\u{2022} \u{2265} {a:.d$}"),
            _ => format!("\u{2022} {a:.d$} to {b:.d$}"),
        };
        lines.push(HudText { text, corner: HudCorner::TopLeft, color });
    }
    lines
}

/// A road as a band along its centre line; a building as a marker over its roof.
fn feature_shape(twin: &Scene, id: &str) -> Option<Shape> {
    for layer in &twin.layers {
        if let Some(road) = layer.roads.iter().find(|r| r.feature_id == id) {
            let points = road.points.iter().map(|p| DVec3::new(p.x, p.y, ROAD_LIFT_M)).collect();
            return Some(Shape::Band(points, (road.width_m * 0.6).clamp(2.0, 12.0) as f32));
        }
        if let Some(b) = layer.buildings.iter().find(|b| b.feature_id == id) {
            let c = b.centroid();
            return Some(Shape::Marker(DVec3::new(c.x, c.y, b.base_m + b.height_m + 3.0), 4.0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_twin::Unit;

    fn demo() -> Scene {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sites/new-delhi-ina/scene.toml");
        Scene::load(path).unwrap()
    }

    #[test]
    fn the_demo_roads_are_bands_coloured_by_speed_with_a_label_and_a_legend_once_they_have_a_value() {
        let twin = demo();
        let colors = LiveColors::new(&twin);
        assert_eq!(colors.len(), 6 + 5, "six road segments and five sites have a place on screen");
        let mut store = TwinStore::new();
        for e in &twin.entities {
            store.add_entity(SimTime::ZERO, e.clone()).unwrap();
        }
        let mut overlay = Overlay::default();
        colors.add(&mut overlay, &store, SimTime::from_secs_f64(1.0), &TwinPose::IDENTITY);
        assert!(overlay.lines.is_empty(), "no speed yet, no road drawn");
        assert_eq!(overlay.markers.len(), 5, "the sites' loads are in the scene file");
        let legends: Vec<&str> = overlay.hud.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(legends.len(), 1 + LEGEND_STEPS, "only the sites' legend: {legends:?}");
        assert_eq!(legends[0], "load [%] (telecom.site)");

        let kmh = |v: f64| PropertyValue::Quantity { value: v, unit: Unit::parse("km/h") };
        let (slow, fast) = (EntityId::from("road/ring-road-1"), EntityId::from("road/aurobindo-1"));
        store.record(&slow, "traffic.speed", SimTime::from_secs_f64(2.0), kmh(3.0)).unwrap();
        store.record(&fast, "traffic.speed", SimTime::from_secs_f64(2.0), kmh(57.0)).unwrap();
        let mut overlay = Overlay::default();
        colors.add(&mut overlay, &store, SimTime::from_secs_f64(3.0), &TwinPose::IDENTITY);
        assert_eq!(overlay.lines.len(), 2, "the two roads with a speed");
        let [red, green] = [overlay.lines[0].color, overlay.lines[1].color];
        assert!(red[0] > 0.8 && red[1] < 0.2, "3 km/h of 50 is red: {red:?}");
        assert!(green[1] > 0.6 && green[0] < 0.2, "57 km/h is green: {green:?}");
        // The band follows the road's centre line from the GeoJSON.
        let road = twin.layers[0].roads.iter().find(|r| r.feature_id == "way/28412393").unwrap();
        assert_eq!(overlay.lines[0].points.len(), road.points.len());
        assert_eq!(overlay.lines[0].points[0].truncate(), road.points[0]);
        let texts: Vec<&str> = overlay.labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["3 km/h", "57 km/h"]);
        let legend: Vec<&str> = overlay.hud.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(legend[0], "traffic.speed [km/h] (road.segment)");
        assert_eq!(legend[1], "\u{2022} < 10");
        assert_eq!(legend[2], "\u{2022} 10 to 20");
        assert_eq!(legend[5], "\u{2022} \u{2265} 40");
        assert!(overlay.hud[1].color[0] > 0.8 && overlay.hud[5].color[1] > 0.6, "slow red, fast green");
        assert_eq!(legend[6], "load [%] (telecom.site)");
        assert_eq!(overlay.hud.len(), 2 * (1 + LEGEND_STEPS), "a legend per rule on screen (roads and sites)");
        // Before the speeds were recorded, they are not shown (time travel shows the past).
        let mut past = Overlay::default();
        colors.add(&mut past, &store, SimTime::from_secs_f64(1.5), &TwinPose::IDENTITY);
        assert!(past.lines.is_empty());
    }

    #[test]
    fn a_value_past_the_range_is_clamped_and_nan_is_not_drawn() {
        let rule = &demo().color_by[0];
        assert_eq!(color_of(rule, -40.0), color_of(rule, 0.0), "below the range is as slow as it gets");
        assert_eq!(color_of(rule, 500.0), color_of(rule, 60.0));
        assert_ne!(color_of(rule, 0.0), color_of(rule, 60.0));
        assert_eq!(color_of(rule, f64::NAN), None);
    }

    #[test]
    fn cells_an_adapter_creates_at_a_location_are_drawn_there_once_they_appear() {
        let twin = demo();
        let mut colors = LiveColors::new(&twin);
        let before = colors.len();
        let mut store = TwinStore::new();
        for e in &twin.entities {
            store.add_entity(SimTime::ZERO, e.clone()).unwrap();
        }
        colors.refresh(&store);
        assert_eq!(colors.len(), before, "no cells yet");
        // Three sectors of one mast (a cell list gives no height: altitude 0, below the ground) and one
        // elsewhere, as the telecom adapter creates them.
        let mast = sangam_twin::Geodetic::new(twin.origin.lat_deg + 0.001, twin.origin.lon_deg, 0.0).unwrap();
        let other = sangam_twin::Geodetic::new(twin.origin.lat_deg, twin.origin.lon_deg + 0.002, 0.0).unwrap();
        for (id, at) in [("cell/a", mast), ("cell/b", mast), ("cell/c", mast), ("cell/d", other)] {
            let mut e = sangam_twin::Entity::new(id, "telecom.cell");
            e.link = Some(EntityLink::Location(at));
            store.add_entity(SimTime::from_secs_f64(1.0), e).unwrap();
        }
        colors.refresh(&store);
        assert_eq!(colors.len(), before + 4);
        colors.refresh(&store);
        assert_eq!(colors.len(), before + 4, "each taken in once");
        let pct = |v: f64| PropertyValue::Quantity { value: v, unit: Unit::parse("%") };
        for (id, v) in [("cell/a", 10.0), ("cell/b", 50.0), ("cell/c", 95.0)] {
            store.record(&EntityId::from(id), "kpi.prb_util", SimTime::from_secs_f64(2.0), pct(v)).unwrap();
        }
        let mut overlay = Overlay::default();
        colors.add(&mut overlay, &store, SimTime::from_secs_f64(3.0), &TwinPose::IDENTITY);
        // The sites (5) and the three cells with a value; cell/d has none yet.
        let cells: Vec<&OverlayMarker> = overlay.markers.iter().filter(|m| m.radius_m == LOCATION_MARKER_M).collect();
        assert_eq!(cells.len(), 3, "{:?}", overlay.markers);
        let centre = twin.frame.geodetic_to_enu(&mast);
        for m in &cells {
            let d = glam::DVec2::new(m.position.x - centre.x, m.position.y - centre.y).length();
            assert!((d - 2.2 * f64::from(LOCATION_MARKER_M)).abs() < 0.1, "side by side around the mast: {d} m");
            assert!(m.position.z > 0.0, "on the ground, not 170 m below it");
        }
        assert!(cells[0].position != cells[1].position && cells[1].position != cells[2].position);
        assert!(cells[0].color[1] > 0.6 && cells[2].color[0] > 0.8, "10 % green, 95 % red");
        assert!(overlay.hud.iter().any(|h| h.text == "kpi.prb_util [%] (telecom.cell)"), "with its legend");
        // A cell at a rooftop site shows on the roof (the 48 m apartment block of way/1216161074).
        let block = twin.layers[0].buildings.iter().find(|b| b.feature_id == "way/1216161074").unwrap();
        let c = block.centroid();
        let on_roof = twin.frame.enu_to_geodetic(DVec3::new(c.x, c.y, 0.0));
        let mut e = sangam_twin::Entity::new("cell/roof", "telecom.cell");
        e.link = Some(EntityLink::Location(sangam_twin::Geodetic { alt_m: 0.0, ..on_roof }));
        store.add_entity(SimTime::from_secs_f64(4.0), e).unwrap();
        store.record(&EntityId::from("cell/roof"), "kpi.prb_util", SimTime::from_secs_f64(4.0), pct(30.0)).unwrap();
        colors.refresh(&store);
        let mut overlay = Overlay::default();
        colors.add(&mut overlay, &store, SimTime::from_secs_f64(5.0), &TwinPose::IDENTITY);
        let top = overlay
            .markers
            .iter()
            .filter(|m| m.radius_m == LOCATION_MARKER_M)
            .map(|m| m.position.z)
            .fold(0.0, f64::max);
        assert!(
            (top - (block.height_m + f64::from(LOCATION_MARKER_M))).abs() < 0.5,
            "on the roof: {top} m, roof {} m",
            block.height_m
        );
    }
}
