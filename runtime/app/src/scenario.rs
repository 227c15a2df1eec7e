//! `--scenario NAME` and `--set PLUGIN.PARAMETER=VALUE` on `sangam run` and `sangam record`: the
//! scene's plugins run with a scenario's parameter values (`[[scenarios]]` in the scene), then each
//! `--set` on top, before anything loads. The values are checked against each plugin's manifest as
//! the scene's own are: a wrong name, type, unit or range names the plugin, the parameter and what
//! it takes.
//!
//! Cost: a scene clone's worth of parameter edits, once at start.

use anyhow::{Context, Result};
use sangam_session::ParamOverride;
use sangam_session::branch::apply_overrides;
use sangam_twin::Scene as TwinScene;

/// A scenario and single values chosen on the command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioChoice {
    /// `--scenario NAME`.
    pub scenario: Option<String>,
    /// Each `--set PLUGIN.PARAMETER=VALUE`, in order (after the scenario's).
    pub set: Vec<String>,
}

impl ScenarioChoice {
    /// Whether nothing is chosen (the scene as written).
    pub fn is_empty(&self) -> bool {
        self.scenario.is_none() && self.set.is_empty()
    }
}

/// Applies `choice` to `twin`'s plugin parameters; says in the log what it set, and returns the
/// line the heads-up display shows (`scenario NAME`, with any `--set` values), if anything was chosen.
pub fn apply(twin: &mut TwinScene, choice: &ScenarioChoice) -> Result<Option<String>> {
    if choice.is_empty() {
        return Ok(None);
    }
    let mut overrides = match &choice.scenario {
        Some(name) => ParamOverride::of_scenario(name, twin)?,
        None => Vec::new(),
    };
    for text in &choice.set {
        overrides.push(ParamOverride::parse(text, twin)?);
    }
    let label = match &choice.scenario {
        Some(name) => format!("scenario `{name}`"),
        None => "--set".to_string(),
    };
    apply_overrides(twin, &label, &overrides).with_context(|| format!("{}", twin.path.display()))?;
    for o in &overrides {
        tracing::info!("{label}: {}.{} = {:?}", o.plugin, o.parameter, o.value);
    }
    let mut shown = choice.scenario.iter().map(|n| format!("scenario {n}")).collect::<Vec<_>>();
    shown.extend(choice.set.iter().map(|s| format!("--set {s}")));
    Ok(Some(shown.join(", ")))
}
