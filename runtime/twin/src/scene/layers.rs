//! The `[[layers]]` tables: each layer's building and road options checked, and its GeoJSON file
//! loaded into the ENU frame. Layers are resolved before anything that has a position, since a
//! position may sit on one of their roofs. Cost: reading and parsing each GeoJSON file, which is
//! most of the time a scene takes to load.

use std::collections::{BTreeMap, HashSet};

use serde_spanned::Spanned;

use super::raw::RawLayer;
use super::{Cx, SceneError};
use crate::diagnostic::line_column;
use crate::geo::EnuFrame;
use crate::geojson::{BuildingOptions, Layer, LayerOptions, RoadOptions};

impl Cx<'_> {
    /// Every layer, in file order.
    pub(super) fn layers(&self, raw: &[Spanned<RawLayer>], frame: &EnuFrame) -> Result<Vec<Layer>, SceneError> {
        let mut seen = HashSet::new();
        let mut layers = Vec::new();
        for rl in raw {
            let rl = rl.get_ref();
            self.unique(&mut seen, &rl.id, "layer")?;
            let options = self.layer_options(rl)?;
            let file = self.resolve_path(rl.geojson.get_ref());
            let (line, column) = line_column(self.text, rl.geojson.span().start);
            if !file.is_file() {
                return Err(SceneError::MissingFile {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    key: "geojson",
                    resolved: file,
                });
            }
            let mut layer =
                Layer::load(rl.id.get_ref(), &file, frame, options).map_err(|source| SceneError::Layer {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    layer: rl.id.get_ref().clone(),
                    source: Box::new(source),
                })?;
            layer.attribution = rl.attribution.clone();
            layers.push(layer);
        }
        Ok(layers)
    }

    /// A layer's `[layers.buildings]` and `[layers.roads]` options, defaults filled in.
    fn layer_options(&self, rl: &RawLayer) -> Result<LayerOptions, SceneError> {
        let defaults = LayerOptions::default();
        let b = rl.buildings.as_ref();
        let r = rl.roads.as_ref();
        let mut widths = BTreeMap::new();
        for (class, w) in r.and_then(|r| r.widths.as_ref()).into_iter().flatten() {
            widths.insert(class.clone(), self.positive(Some(w), &format!("road width for `{class}`"), 1.0)?);
        }
        Ok(LayerOptions {
            buildings: BuildingOptions {
                default_height_m: self.positive(
                    b.and_then(|b| b.default_height.as_ref()),
                    "default_height",
                    defaults.buildings.default_height_m,
                )?,
                storey_height_m: self.positive(
                    b.and_then(|b| b.storey_height.as_ref()),
                    "storey_height",
                    defaults.buildings.storey_height_m,
                )?,
                color: self.color(b.and_then(|b| b.color.as_ref()), "buildings color", defaults.buildings.color)?,
            },
            roads: RoadOptions {
                widths,
                color: self.color(r.and_then(|r| r.color.as_ref()), "roads color", defaults.roads.color)?,
            },
        })
    }
}
