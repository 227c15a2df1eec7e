//! Placed assets (`[[placements]]`) and instance groups (`[[instances]]`): their positions,
//! orientations and scales, the check that no placement id reads as an instance member's name, and
//! the world-from-model transform that puts a model in the world. Cost: one position resolution per
//! placement and per instance member; the name check looks each placement id up among the groups.

use std::collections::HashSet;

use glam::{DMat4, DVec3};
use serde_spanned::Spanned;

use super::assets::Asset;
use super::position::PosKeys;
use super::raw::{RawInstances, RawPlacement};
use super::{Cx, SceneError};
use crate::geo::EnuFrame;
use crate::geojson::Layer;

/// One placed asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Unique id.
    pub id: String,
    /// Index into [`Scene::assets`](super::Scene::assets).
    pub asset: usize,
    /// Position, ENU metres.
    pub position: DVec3,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
    /// Pitch, degrees (nose up positive).
    pub pitch_deg: f64,
    /// Roll, degrees (right side down positive).
    pub roll_deg: f64,
    /// Scale per model axis.
    pub scale: DVec3,
    /// The building whose roof the placement sits on, if any.
    pub on_roof: Option<String>,
}

impl Placement {
    /// World-from-model transform; see [`world_from_model`].
    pub fn world_from_model(&self) -> DMat4 {
        world_from_model(self.position, self.heading_deg, self.pitch_deg, self.roll_deg, self.scale)
    }
}

/// One member of an instance group.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceMember {
    /// Position, ENU metres.
    pub position: DVec3,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
    /// Scale per model axis.
    pub scale: DVec3,
}

impl InstanceMember {
    /// World-from-model transform (no pitch or roll); see [`world_from_model`].
    pub fn world_from_model(&self) -> DMat4 {
        world_from_model(self.position, self.heading_deg, 0.0, 0.0, self.scale)
    }
}

/// Many copies of one asset.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceGroup {
    /// Unique id; members are named `<id>/<index>`.
    pub id: String,
    /// Index into [`Scene::assets`](super::Scene::assets).
    pub asset: usize,
    /// The members, in file order.
    pub members: Vec<InstanceMember>,
}

/// World-from-model transform `T · Rz(-heading) · Rx(pitch) · Ry(roll) · S`, angles in degrees.
///
/// Heading is clockwise from north about +Z; pitch is about the model's +X (nose up positive),
/// roll about the model's +Y (right side down positive).
pub fn world_from_model(position: DVec3, heading_deg: f64, pitch_deg: f64, roll_deg: f64, scale: DVec3) -> DMat4 {
    DMat4::from_translation(position)
        * DMat4::from_rotation_z(-heading_deg.to_radians())
        * DMat4::from_rotation_x(pitch_deg.to_radians())
        * DMat4::from_rotation_y(roll_deg.to_radians())
        * DMat4::from_scale(scale)
}

impl Cx<'_> {
    /// Every placement, in file order.
    pub(super) fn placements(
        &self,
        raw: &[Spanned<RawPlacement>],
        assets: &[Asset],
        frame: &EnuFrame,
        layers: &[Layer],
    ) -> Result<Vec<Placement>, SceneError> {
        let mut seen = HashSet::new();
        let mut placements = Vec::new();
        for sp in raw {
            let rp = sp.get_ref();
            self.unique(&mut seen, &rp.id, "placement")?;
            let what = format!("placement `{}`", rp.id.get_ref());
            let keys = PosKeys {
                lat: rp.lat.as_ref(),
                lon: rp.lon.as_ref(),
                alt: rp.alt.as_ref(),
                enu: rp.enu.as_ref(),
                on_roof: rp.on_roof.as_ref(),
            };
            placements.push(Placement {
                id: rp.id.get_ref().clone(),
                asset: self.asset_index(assets, &rp.asset)?,
                position: self.position(&what, keys, sp.span(), frame, layers)?,
                heading_deg: self.angle(rp.heading.as_ref(), "heading", 0.0)?,
                pitch_deg: self.angle(rp.pitch.as_ref(), "pitch", 0.0)?,
                roll_deg: self.angle(rp.roll.as_ref(), "roll", 0.0)?,
                scale: self.scale(rp.scale.as_ref(), DVec3::ONE)?,
                on_roof: rp.on_roof.as_ref().map(|r| r.get_ref().clone()),
            });
        }
        Ok(placements)
    }

    /// Every instance group, in file order; a group without points is kept, with a warning.
    pub(super) fn instance_groups(
        &self,
        raw: &[Spanned<RawInstances>],
        assets: &[Asset],
        frame: &EnuFrame,
        layers: &[Layer],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<InstanceGroup>, SceneError> {
        let mut seen = HashSet::new();
        let mut instance_groups = Vec::new();
        for sg in raw {
            let rg = sg.get_ref();
            self.unique(&mut seen, &rg.id, "instance group")?;
            let asset = self.asset_index(assets, &rg.asset)?;
            let heading = self.angle(rg.heading.as_ref(), "heading", 0.0)?;
            let scale = self.scale(rg.scale.as_ref(), DVec3::ONE)?;
            if rg.points.is_empty() {
                warnings.push(format!("{}: instance group `{}` has no points", self.at(sg.span()), rg.id.get_ref()));
            }
            let mut members = Vec::with_capacity(rg.points.len());
            for (i, spt) in rg.points.iter().enumerate() {
                let pt = spt.get_ref();
                let what = format!("instance `{}/{i}`", rg.id.get_ref());
                let keys = PosKeys {
                    lat: pt.lat.as_ref(),
                    lon: pt.lon.as_ref(),
                    alt: pt.alt.as_ref(),
                    enu: pt.enu.as_ref(),
                    on_roof: pt.on_roof.as_ref(),
                };
                members.push(InstanceMember {
                    position: self.position(&what, keys, spt.span(), frame, layers)?,
                    heading_deg: self.angle(pt.heading.as_ref(), "heading", heading)?,
                    scale: self.scale(pt.scale.as_ref(), scale)?,
                });
            }
            instance_groups.push(InstanceGroup { id: rg.id.get_ref().clone(), asset, members });
        }
        Ok(instance_groups)
    }

    /// A placement id that is also an instance member name would make entity links ambiguous.
    pub(super) fn check_member_names(
        &self,
        raw: &[Spanned<RawPlacement>],
        placements: &[Placement],
        instance_groups: &[InstanceGroup],
    ) -> Result<(), SceneError> {
        for (sp, p) in raw.iter().zip(placements) {
            if let Some((g, i)) = p.id.rsplit_once('/')
                && instance_groups.iter().any(|ig| ig.id == g && i.parse::<usize>().is_ok_and(|i| i < ig.members.len()))
            {
                return Err(self.err(
                    sp.get_ref().id.span(),
                    format!("placement id `{}` is also the name of an instance member; rename the placement", p.id),
                ));
            }
        }
        Ok(())
    }
}
