//! The twin's values at one time as GeoJSON (RFC 7946) for GIS tools: every entity a road of the
//! scene's layers represents as a LineString (a road segment's traffic results), every entity with a
//! place of its own (a placement, an instance, a building, a WGS84 location) as a Point, each with
//! the values of its numeric properties at that time and their units.
//!
//! Coordinates are WGS84 longitude, latitude (RFC 7946's order), converted back from the site frame
//! through ECEF (exact to well under a millimetre), to 8 decimals (about 1 mm).
//!
//! Properties of a feature: `entity`, `kind`, `name`, `link` (the OSM way or placement), `time_s`
//! (seconds from the clock's start), then each numeric property by name, and `units` (property ->
//! unit). Text properties are left out (they are not results); a property with no value yet at the
//! time is null.
//!
//! Cost: one history look-up per entity and property.

use glam::DVec3;
use sangam_twin::{EntityLink, PropertyValue, Scene, SimTime, TwinStore};
use serde_json::{Map, Value, json};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Entities represented by a road of the scene's layers, as LineStrings.
    Roads,
    /// Entities with a place of their own, as Points.
    Points,
}

/// The FeatureCollection of `layer`: `store`'s values at `t` (`start` is the clock's start, for
/// `time_s`).
pub fn collection(scene: &Scene, store: &TwinStore, layer: Layer, t: SimTime, start: SimTime) -> Value {
    let lon_lat = |p: DVec3| {
        let g = scene.frame.enu_to_geodetic(p);
        json!([round8(g.lon_deg), round8(g.lat_deg)])
    };
    let mut features = Vec::new();
    for e in store.entities() {
        let geometry = match (&e.link, layer) {
            (Some(EntityLink::Feature(id)), Layer::Roads) => scene
                .layers
                .iter()
                .find_map(|l| l.roads.iter().find(|r| &r.feature_id == id))
                .map(|r| json!({"type": "LineString", "coordinates": r.points.iter().map(|p| lon_lat(p.extend(0.0))).collect::<Vec<_>>()})),
            (Some(EntityLink::Feature(id)), Layer::Points) => scene
                .layers
                .iter()
                .find_map(|l| l.buildings.iter().find(|b| &b.feature_id == id))
                .map(|b| json!({"type": "Point", "coordinates": lon_lat(b.centroid().extend(0.0))})),
            (Some(EntityLink::Placement(id)), Layer::Points) => {
                scene.placement(id).map(|p| json!({"type": "Point", "coordinates": lon_lat(p.position)}))
            }
            (Some(EntityLink::InstanceMember(group, i)), Layer::Points) => scene
                .instance_groups
                .iter()
                .find(|g| &g.id == group)
                .and_then(|g| g.members.get(*i))
                .map(|m| json!({"type": "Point", "coordinates": lon_lat(m.position)})),
            (Some(EntityLink::Location(g)), Layer::Points) => {
                Some(json!({"type": "Point", "coordinates": [round8(g.lon_deg), round8(g.lat_deg)]}))
            }
            _ => None,
        };
        let Some(geometry) = geometry else { continue };
        let mut properties = Map::new();
        properties.insert("entity".into(), json!(e.id.as_str()));
        properties.insert("kind".into(), json!(e.kind));
        properties.insert("name".into(), json!(e.display_name()));
        properties.insert("link".into(), json!(e.link.as_ref().map(|l| l.to_string())));
        properties.insert("time_s".into(), json!((t.as_micros() - start.as_micros()) as f64 / 1e6));
        let mut units = Map::new();
        for name in e.properties.keys() {
            let value = store.value_at(&e.id, name, t);
            let number = match &value {
                Some(PropertyValue::Quantity { value, unit }) => {
                    units.insert(name.clone(), json!(unit.to_string()));
                    Some(*value)
                }
                Some(PropertyValue::Number(x)) => Some(*x),
                Some(PropertyValue::Integer(i)) => Some(*i as f64),
                None => None,
                Some(_) => continue,
            };
            properties.insert(name.clone(), number.filter(|x| x.is_finite()).map_or(Value::Null, |x| json!(x)));
        }
        properties.insert("units".into(), Value::Object(units));
        features.push(json!({"type": "Feature", "geometry": geometry, "properties": properties}));
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// `x` to 8 decimals (1.1 mm of latitude).
fn round8(x: f64) -> f64 {
    (x * 1e8).round() / 1e8
}
