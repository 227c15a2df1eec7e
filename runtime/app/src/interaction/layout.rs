//! What the interaction needs to know about a loaded site: which render placements form which layer,
//! what can be picked and which entity each pickable thing is.
//!
//! [`crate::site::build`] appends render placements in a fixed order: the scene's placements, then the
//! members of each instance group, then per GeoJSON layer its buildings model and its roads model (each
//! only when not empty), then the ground. [`SiteLayout::of`] follows that order and checks the count, so a
//! change there shows up as a clear error here rather than as layers that hide the wrong things.

use std::ops::Range;

use sangam_twin::{EntityId, EntityLink};

use super::pick::{Pickable, Shape, WorldAabb};
use crate::site::Site;

/// A group of render placements shown or hidden together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerGroup {
    /// What the user sees, e.g. `assets`, `street-poles`, `osm buildings`, `ground`.
    pub name: String,
    /// Render placement indices.
    pub placements: Range<usize>,
}

/// The interaction's view of a site.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SiteLayout {
    /// Layers in placement order; together they cover every render placement once.
    pub layers: Vec<LayerGroup>,
    /// Everything a ray can select.
    pub pickables: Vec<Pickable>,
    /// Which entity represents a pickable thing (by its link), in scene-file order.
    pub entities: Vec<(EntityLink, EntityId)>,
    /// The site's extent without the ground plane (for tabletop placement), twin space.
    pub bounds: Option<WorldAabb>,
}

/// The site's render placements do not follow the order the layout expects.
#[derive(Debug, thiserror::Error)]
#[error(
    "{scene}: the render scene has {actual} placements but the scene file accounts for {expected}; \
     site::build and interaction::layout disagree on placement order (a bug: report it with this scene)"
)]
pub struct LayoutError {
    /// The scene file.
    pub scene: String,
    /// Placements the layout derived.
    pub expected: usize,
    /// Placements in the render scene.
    pub actual: usize,
}

impl SiteLayout {
    /// Derives the layers, pickables and entity links of a loaded site.
    pub fn of(site: &Site) -> Result<SiteLayout, LayoutError> {
        let twin = &site.twin;
        let scene = &site.scene;
        let mut layout = SiteLayout::default();
        let mut next = 0usize;

        // Placed assets: one pickable each (an oriented box around the model).
        let model_bounds = |placement: usize| {
            scene.placements.get(placement).and_then(|p| scene.models.get(p.model)).map(|m| m.bounds)
        };
        for (i, p) in twin.placements.iter().enumerate() {
            if let Some(shape) = model_bounds(i).and_then(|b| Shape::oriented_box(&b, p.world_from_model())) {
                layout.pickables.push(Pickable {
                    target: EntityLink::Placement(p.id.clone()),
                    shape,
                    placement: Some(i),
                    layer: Some(layout.layers.len()),
                });
            }
        }
        push_layer(&mut layout.layers, &mut next, "placed assets".into(), twin.placements.len());
        for group in &twin.instance_groups {
            let first = next;
            for (m, member) in group.members.iter().enumerate() {
                let index = first + m;
                if let Some(shape) =
                    model_bounds(index).and_then(|b| Shape::oriented_box(&b, member.world_from_model()))
                {
                    layout.pickables.push(Pickable {
                        target: EntityLink::InstanceMember(group.id.clone(), m),
                        shape,
                        placement: Some(index),
                        layer: Some(layout.layers.len()),
                    });
                }
            }
            push_layer(&mut layout.layers, &mut next, group.id.clone(), group.members.len());
        }
        for layer in &twin.layers {
            // Buildings are picked by their own footprint prism; they share one render placement.
            for b in &layer.buildings {
                if b.outer.len() >= 3 && b.height_m > 0.0 {
                    layout.pickables.push(Pickable {
                        target: EntityLink::Feature(b.feature_id.clone()),
                        shape: Shape::Prism { outer: b.outer.clone(), base: b.base_m, top: b.base_m + b.height_m },
                        placement: None,
                        layer: Some(layout.layers.len()),
                    });
                }
            }
            push_layer(
                &mut layout.layers,
                &mut next,
                format!("{} buildings", layer.id),
                usize::from(!layer.buildings.is_empty()),
            );
            push_layer(
                &mut layout.layers,
                &mut next,
                format!("{} roads", layer.id),
                usize::from(!layer.roads.is_empty()),
            );
        }
        push_layer(&mut layout.layers, &mut next, "ground".into(), usize::from(twin.environment.ground));

        if next != scene.placements.len() {
            return Err(LayoutError {
                scene: twin.path.display().to_string(),
                expected: next,
                actual: scene.placements.len(),
            });
        }
        layout.bounds = layout.pickables.iter().filter_map(|p| p.shape.bounds()).reduce(|a, b| a.union(&b));
        for e in &twin.entities {
            if let Some(link) = &e.link {
                layout.entities.push((link.clone(), e.id.clone()));
            }
        }
        Ok(layout)
    }

    /// The entity a scene thing represents, if any.
    pub fn entity_of(&self, link: &EntityLink) -> Option<&EntityId> {
        self.entities.iter().find(|(l, _)| l == link).map(|(_, id)| id)
    }

    /// The layer holding render placement `index`.
    pub fn layer_of(&self, index: usize) -> Option<usize> {
        self.layers.iter().position(|l| l.placements.contains(&index))
    }
}

/// Appends a layer of `count` placements starting at `*next` (none when empty) and moves `*next` on.
fn push_layer(layers: &mut Vec<LayerGroup>, next: &mut usize, name: String, count: usize) {
    if count > 0 {
        layers.push(LayerGroup { name, placements: *next..*next + count });
    }
    *next += count;
}
