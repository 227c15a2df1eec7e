//! The scene file as written: the serde structs its TOML deserializes into, with unknown keys
//! rejected and every value that a message may point at kept with its byte span. The `[clock]` and
//! `[history]` tables have theirs beside their checks (`clock.rs`, `history.rs`).
//! Cost: one `toml` deserialization of the text; nothing here checks or resolves a value.

use std::collections::BTreeMap;
use std::fmt;

use glam::DVec3;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_spanned::Spanned;

use super::{clock, color_by, governance, heatmaps, history, scenarios, sources};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScene {
    #[allow(dead_code)] // checked by `check_format`
    pub(super) format: toml::Value,
    pub(super) name: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) attribution: Option<Vec<String>>,
    pub(super) origin: Spanned<RawOrigin>,
    pub(super) environment: Option<RawEnvironment>,
    #[serde(default)]
    pub(super) assets: Vec<Spanned<RawAsset>>,
    #[serde(default)]
    pub(super) placements: Vec<Spanned<RawPlacement>>,
    #[serde(default)]
    pub(super) instances: Vec<Spanned<RawInstances>>,
    #[serde(default)]
    pub(super) layers: Vec<Spanned<RawLayer>>,
    #[serde(default)]
    pub(super) entities: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) bookmarks: Vec<Spanned<RawBookmark>>,
    #[serde(default)]
    pub(super) plugins: Vec<Spanned<RawPlugin>>,
    #[serde(default)]
    pub(super) sources: Vec<Spanned<sources::RawSource>>,
    pub(super) plugin_policy: Option<RawPluginPolicy>,
    pub(super) clock: Option<clock::RawClock>,
    pub(super) history: Option<history::RawHistory>,
    pub(super) governance: Option<governance::RawGovernance>,
    #[serde(default)]
    pub(super) color_by: Vec<Spanned<color_by::RawColorRule>>,
    #[serde(default)]
    pub(super) heatmaps: Vec<Spanned<heatmaps::RawHeatmap>>,
    #[serde(default)]
    pub(super) scenarios: Vec<Spanned<scenarios::RawScenario>>,
    pub(super) labels: Option<RawLabels>,
}

/// `[labels]`: how the site's labels are sized.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLabels {
    pub(super) screen_px: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlugin {
    pub(super) id: Spanned<String>,
    pub(super) artifact: Spanned<String>,
    pub(super) manifest: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) entities: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) kinds: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) grant: Vec<Spanned<String>>,
    pub(super) data: Option<Spanned<String>>,
    pub(super) feed: Option<Spanned<String>>,
    pub(super) step_ms: Option<Spanned<i64>>,
    pub(super) params: Option<BTreeMap<String, Spanned<toml::Value>>>,
    pub(super) limits: Option<RawPluginLimits>,
    pub(super) read: Option<RawPluginRead>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginRead {
    pub(super) properties: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) revoke: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPluginLimits {
    pub(super) memory_mb: Option<Spanned<i64>>,
    pub(super) call_ms: Option<Spanned<i64>>,
    pub(super) fuel: Option<Spanned<i64>>,
    pub(super) output_mb: Option<Spanned<i64>>,
    pub(super) host_calls: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginPolicy {
    pub(super) allow_unsigned: Option<bool>,
    #[serde(default)]
    pub(super) trusted_keys: Vec<Spanned<String>>,
    pub(super) hot_reload: Option<bool>,
    pub(super) max_call_ms: Option<Spanned<i64>>,
    pub(super) reenable_after_s: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
pub(super) struct FormatProbe {
    pub(super) format: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrigin {
    pub(super) lat: Spanned<f64>,
    pub(super) lon: Spanned<f64>,
    pub(super) alt: Option<Spanned<f64>>,
}

pub(super) type Color = Spanned<[f64; 3]>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub(super) sun_azimuth: Option<Spanned<f64>>,
    pub(super) sun_elevation: Option<Spanned<f64>>,
    pub(super) ground: Option<bool>,
    pub(super) ground_color: Option<Color>,
    pub(super) ground_extent: Option<Spanned<f64>>,
    pub(super) sky_color: Option<Color>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAsset {
    pub(super) id: Spanned<String>,
    pub(super) gltf: Spanned<String>,
    pub(super) illustrative: Option<bool>,
    pub(super) note: Option<String>,
}

/// A scale: one number or `[x, y, z]`.
pub(super) struct Scale3(pub(super) DVec3);

impl<'de> Deserialize<'de> for Scale3 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scale3;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or an array of three numbers [x, y, z]")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scale3, E> {
                Ok(Scale3(DVec3::splat(v as f64)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scale3, A::Error> {
                let mut v = [0.0; 3];
                for (i, slot) in v.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<f64>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(Scale3(DVec3::from_array(v)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlacement {
    pub(super) id: Spanned<String>,
    pub(super) asset: Spanned<String>,
    pub(super) lat: Option<Spanned<f64>>,
    pub(super) lon: Option<Spanned<f64>>,
    pub(super) alt: Option<Spanned<f64>>,
    pub(super) enu: Option<Spanned<[f64; 3]>>,
    pub(super) on_roof: Option<Spanned<String>>,
    pub(super) heading: Option<Spanned<f64>>,
    pub(super) pitch: Option<Spanned<f64>>,
    pub(super) roll: Option<Spanned<f64>>,
    pub(super) scale: Option<Spanned<Scale3>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInstances {
    pub(super) id: Spanned<String>,
    pub(super) asset: Spanned<String>,
    pub(super) heading: Option<Spanned<f64>>,
    pub(super) scale: Option<Spanned<Scale3>>,
    pub(super) points: Vec<Spanned<RawPoint>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPoint {
    pub(super) lat: Option<Spanned<f64>>,
    pub(super) lon: Option<Spanned<f64>>,
    pub(super) alt: Option<Spanned<f64>>,
    pub(super) enu: Option<Spanned<[f64; 3]>>,
    pub(super) on_roof: Option<Spanned<String>>,
    pub(super) heading: Option<Spanned<f64>>,
    pub(super) scale: Option<Spanned<Scale3>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPos {
    pub(super) lat: Option<Spanned<f64>>,
    pub(super) lon: Option<Spanned<f64>>,
    pub(super) alt: Option<Spanned<f64>>,
    pub(super) enu: Option<Spanned<[f64; 3]>>,
    pub(super) on_roof: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLayer {
    pub(super) id: Spanned<String>,
    pub(super) geojson: Spanned<String>,
    pub(super) attribution: Option<String>,
    pub(super) buildings: Option<RawBuildings>,
    pub(super) roads: Option<RawRoads>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBuildings {
    pub(super) default_height: Option<Spanned<f64>>,
    pub(super) storey_height: Option<Spanned<f64>>,
    pub(super) color: Option<Color>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoads {
    pub(super) color: Option<Color>,
    pub(super) widths: Option<BTreeMap<String, Spanned<f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEntity {
    pub(super) id: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) placement: Option<Spanned<String>>,
    pub(super) feature: Option<Spanned<String>>,
    pub(super) properties: Option<BTreeMap<String, Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBookmark {
    pub(super) name: Spanned<String>,
    pub(super) eye: Spanned<RawPos>,
    pub(super) target: Option<Spanned<RawPos>>,
    pub(super) heading: Option<Spanned<f64>>,
    pub(super) pitch: Option<Spanned<f64>>,
    pub(super) fov_y: Option<Spanned<f64>>,
}
