//! Redaction: a recording made for one plugin's read grant (`sangam record --redact PLUGIN`) holds
//! only what that plugin may see: changes to properties it may not read, and to entities it is not
//! granted (by id, kind or a revoked kind), are left out, and raw inputs (whose bytes may hold
//! anything) are not written at all. Each is counted. Cost: one grant check per change, on the frame
//! thread, only in a redacted recording.

use std::collections::HashSet;

use sangam_twin::{EntityId, ReadGrant, Scene as TwinScene, TwinEvent, TwinEventKind};

use crate::plugins::{ChangeBatch, change_count};

/// What a redacted recording may hold: one plugin's entities and read grant.
#[derive(Clone, Debug)]
pub struct Redaction {
    /// The plugin whose grant it follows.
    pub plugin: String,
    grant: ReadGrant,
    entities: HashSet<EntityId>,
    /// Changes left out.
    pub withheld_changes: u64,
}

impl Redaction {
    /// The redaction for plugin `id` of `scene`; `Err` names the scene's plugins when there is none.
    pub fn for_plugin(scene: &TwinScene, id: &str) -> anyhow::Result<Redaction> {
        let Some(decl) = scene.plugins.iter().find(|p| p.id == id) else {
            anyhow::bail!(
                "{}: no plugin `{id}` to redact for; the scene's plugins are: {}",
                scene.path.display(),
                scene.plugins.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        let entities =
            scene.entities.iter().filter(|e| decl.grants_entity(&e.id, &e.kind)).map(|e| e.id.clone()).collect();
        Ok(Redaction { plugin: id.to_string(), grant: decl.read.clone(), entities, withheld_changes: 0 })
    }

    /// The changes of `batches` the plugin may see (copied, in order); the rest are counted.
    pub fn filter(&mut self, batches: &[ChangeBatch]) -> Vec<TwinEvent> {
        let before = change_count(batches);
        let kept: Vec<TwinEvent> = batches
            .iter()
            .flat_map(|b| b.iter().cloned())
            .filter_map(|mut e| {
                let keep = match &mut e.kind {
                    TwinEventKind::EntityAdded(entity) => {
                        let ok = self.entities.contains(&entity.id);
                        entity.properties.retain(|name, _| self.grant.permits(name));
                        ok
                    }
                    TwinEventKind::EntityRemoved(id) => self.entities.contains(id),
                    TwinEventKind::PropertyRecorded { entity, property, .. } => {
                        self.entities.contains(entity) && self.grant.permits(property)
                    }
                };
                keep.then_some(e)
            })
            .collect();
        self.withheld_changes += (before - kept.len()) as u64;
        kept
    }
}
