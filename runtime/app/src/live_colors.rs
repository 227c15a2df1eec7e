//! Entities drawn in the colour of a live value (the scene's `[[color_by]]` rules), with a legend in
//! the heads-up text, in every front end (it adds to the frame's [`Overlay`]):
//! - a road feature as a coloured band along its centre line, just above the road;
//! - a building as a marker above its roof, a placed model or an instance as a marker at its base;
//! - with `label = true`, the latest value and its unit above it.
//!
//! An entity with no value yet at the displayed time is not drawn (nothing is shown as if known).
//! Only the scene's own entities have a place to be drawn at; entities an adapter creates (cells of a
//! cell list) have none and are left out.
//!
//! Cost: the geometry is resolved once per site ([`LiveColors::new`]); each frame costs one history
//! look-up per coloured entity and a copy of its points.

use glam::DVec3;
use sangam_render::overlay::{HeatmapPalette, HudCorner, HudText, Overlay, OverlayLabel, OverlayLine, OverlayMarker};
use sangam_twin::{ColorRamp, ColorRule, EntityId, EntityLink, PropertyValue, Scene, SimTime, TwinStore};

use crate::interaction::twin_pose::TwinPose;

/// Swatches in a legend.
pub const LEGEND_STEPS: usize = 5;

/// Height of a value label, metres.
const LABEL_HEIGHT_M: f32 = 8.0;

/// Height of a road band above the ground, metres.
const ROAD_LIFT_M: f64 = 0.8;

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
                    None => None,
                };
                if let Some(shape) = shape {
                    items.push(Item { rule, entity: e.id.clone(), shape });
                }
            }
        }
        LiveColors { rules: twin.color_by.clone(), items }
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
        let text = match i {
            0 => format!("\u{2022} < {b:.0}"),
            _ if i + 1 == LEGEND_STEPS => format!("\u{2022} \u{2265} {a:.0}"),
            _ => format!("\u{2022} {a:.0} to {b:.0}"),
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
            let n = b.outer.len().max(1) as f64;
            let c = b.outer.iter().fold(glam::DVec2::ZERO, |acc, p| acc + *p) / n;
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
}
