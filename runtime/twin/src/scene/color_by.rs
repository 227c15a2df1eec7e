//! The scene's `[[color_by]]` rules: entities of a kind drawn in the colour of a live numeric
//! property, with a legend, in every front end (roads along their centre line, placed models and
//! buildings as a marker), and optionally labelled with the latest value and its unit. Parsing cost:
//! a few comparisons per rule.

use serde::Deserialize;
use serde_spanned::Spanned;

use super::{Cx, SceneError};
use crate::entity::is_valid_kind;

/// The colour ramp of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorRamp {
    /// Green (at `min`) through yellow to red (at `max`): loads, occupancy.
    Traffic,
    /// Perceptually uniform, dark blue to yellow (Viridis).
    Viridis,
    /// Blue through white to red: differences.
    Diverging,
}

/// One `[[color_by]]` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorRule {
    /// The kind of entity coloured.
    pub kind: String,
    /// The numeric property that picks the colour.
    pub property: String,
    /// The value at the start of the ramp.
    pub min: f64,
    /// The value at its end.
    pub max: f64,
    /// The ramp.
    pub ramp: ColorRamp,
    /// Run the ramp from `max` to `min` (e.g. speed: slow is red).
    pub reverse: bool,
    /// Label each entity with its latest value and unit.
    pub label: bool,
}

impl ColorRule {
    /// Where `value` falls on the ramp, 0..=1 (clamped; reversed when asked); `None` for NaN.
    pub fn position(&self, value: f64) -> Option<f32> {
        if !value.is_finite() {
            return None;
        }
        let t = ((value - self.min) / (self.max - self.min)).clamp(0.0, 1.0);
        Some(if self.reverse { 1.0 - t } else { t } as f32)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColorRule {
    kind: Spanned<String>,
    property: Spanned<String>,
    range: Spanned<Vec<f64>>,
    palette: Option<Spanned<String>>,
    #[serde(default)]
    reverse: bool,
    #[serde(default)]
    label: bool,
}

impl Cx<'_> {
    /// A rule's `range = [MIN, MAX]`: two finite numbers with MIN < MAX (`table` names the rule in the
    /// error, at the range's line).
    pub(super) fn ramp_range(&self, range: &Spanned<Vec<f64>>, table: &str) -> Result<(f64, f64), SceneError> {
        match range.get_ref()[..] {
            [min, max] if min.is_finite() && max.is_finite() && min < max => Ok((min, max)),
            _ => {
                Err(self
                    .err(range.span(), format!("{table}: range must be [MIN, MAX], two finite numbers with MIN < MAX")))
            }
        }
    }

    /// A rule's `palette`, `default` when it names none.
    pub(super) fn ramp(
        &self,
        palette: Option<&Spanned<String>>,
        default: ColorRamp,
        table: &str,
    ) -> Result<ColorRamp, SceneError> {
        let Some(p) = palette else { return Ok(default) };
        match p.get_ref().as_str() {
            "traffic" => Ok(ColorRamp::Traffic),
            "viridis" => Ok(ColorRamp::Viridis),
            "diverging" => Ok(ColorRamp::Diverging),
            other => Err(self
                .err(p.span(), format!("{table}: palette `{other}` is not \"traffic\", \"viridis\" or \"diverging\""))),
        }
    }

    pub(super) fn color_rules(&self, raw: &[Spanned<RawColorRule>]) -> Result<Vec<ColorRule>, SceneError> {
        let mut out: Vec<ColorRule> = Vec::new();
        for r in raw.iter().map(Spanned::get_ref) {
            let kind = r.kind.get_ref().clone();
            if !is_valid_kind(&kind) {
                return Err(self.err(r.kind.span(), format!("color_by: kind `{kind}` is not a dotted kind name")));
            }
            let property = r.property.get_ref().trim().to_string();
            if property.is_empty() || property.chars().any(char::is_control) {
                return Err(self.err(r.property.span(), "color_by: property must name a numeric property"));
            }
            if out.iter().any(|o| o.kind == kind) {
                return Err(self.err(
                    r.kind.span(),
                    format!("color_by: kind `{kind}` already has a rule; an entity is drawn in one colour, keep one"),
                ));
            }
            let (min, max) = self.ramp_range(&r.range, "color_by")?;
            let ramp = self.ramp(r.palette.as_ref(), ColorRamp::Traffic, "color_by")?;
            out.push(ColorRule { kind, property, min, max, ramp, reverse: r.reverse, label: r.label });
        }
        Ok(out)
    }
}
