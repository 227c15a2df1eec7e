//! What the interaction needs to know about a loaded site: which render placements form which layer,
//! what can be picked and which entity each pickable thing is.
//!
//! The layers are the site builder's own account ([`crate::site::Site::layers`], recorded as it appended
//! the placements): nothing here re-derives the placement order. Cost: one pass over the placements,
//! instance members and building footprints at load.

use sangam_twin::{EntityId, EntityLink};

use super::pick::{Pickable, Shape, WorldAabb};
use crate::site::Site;
pub use crate::site::{LayerGroup, LayerSource};

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

impl SiteLayout {
    /// The layers, pickables and entity links of a loaded site.
    pub fn of(site: &Site) -> SiteLayout {
        let twin = &site.twin;
        let scene = &site.scene;
        let mut layout = SiteLayout { layers: site.layers.clone(), ..SiteLayout::default() };
        let model_bounds = |placement: usize| {
            scene.placements.get(placement).and_then(|p| scene.models.get(p.model)).map(|m| m.bounds)
        };
        for (index, group) in site.layers.iter().enumerate() {
            let first = group.placements.start;
            let mut pick = |target: EntityLink, shape: Option<Shape>, placement: Option<usize>| {
                if let Some(shape) = shape {
                    layout.pickables.push(Pickable { target, shape, placement, layer: Some(index) });
                }
            };
            match group.source {
                // Placed assets and instance members: an oriented box around the model each.
                LayerSource::Placements => {
                    for (i, p) in twin.placements.iter().enumerate() {
                        let shape = model_bounds(first + i).and_then(|b| Shape::oriented_box(&b, p.world_from_model()));
                        pick(EntityLink::Placement(p.id.clone()), shape, Some(first + i));
                    }
                }
                LayerSource::InstanceGroup(g) => {
                    let group = &twin.instance_groups[g];
                    for (m, member) in group.members.iter().enumerate() {
                        let shape =
                            model_bounds(first + m).and_then(|b| Shape::oriented_box(&b, member.world_from_model()));
                        pick(EntityLink::InstanceMember(group.id.clone(), m), shape, Some(first + m));
                    }
                }
                // Buildings are picked by their own footprint prism; they share one render placement.
                LayerSource::Buildings(l) => {
                    for b in twin.layers[l].buildings.iter().filter(|b| b.outer.len() >= 3 && b.height_m > 0.0) {
                        let shape = Shape::Prism { outer: b.outer.clone(), base: b.base_m, top: b.base_m + b.height_m };
                        pick(EntityLink::Feature(b.feature_id.clone()), Some(shape), None);
                    }
                }
                LayerSource::Roads(_) | LayerSource::Ground => {}
            }
        }
        layout.bounds = layout.pickables.iter().filter_map(|p| p.shape.bounds()).reduce(|a, b| a.union(&b));
        for e in &twin.entities {
            if let Some(link) = &e.link {
                layout.entities.push((link.clone(), e.id.clone()));
            }
        }
        layout
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
