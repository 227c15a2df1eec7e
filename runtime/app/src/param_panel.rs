//! The parameter panel: a planner changes a plugin's parameter while the site runs and sees the
//! consequence beside the plan it would replace. The panel lists every numeric and yes/no parameter
//! the scene's plugins declare (name, value, unit, range); a change goes to the **what-if branch**
//! ([`crate::compare`]), never to the plan: shortly after the last change (so a run of steps is one
//! change) the branch is forked again from the plan as it is now, with the scenario's values and the
//! panel's, and the frame shows both side by side. Without `--compare` the first change starts a
//! branch (`what-if`).
//!
//! Window: P shows or hides it, the up and down arrows choose a parameter, left and right change it.
//! XR: the left thumbstick (up and down choose, left and right change; the panel shows while it is used).
//! A value stops at its range's ends, and the panel says so, naming the plugin, the parameter and the
//! range.
//!
//! The frame loop never waits: the branch's plugins load (read and compile) on a thread of their own
//! ([`sangam_session::branch::BranchPlugins`]); the frame that finds them ready forks (a copy of the
//! store and the clock). Cost when idle: nothing but its heads-up lines while shown.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use sangam_plugins::manifest::{ParamType, ParameterSpec};
use sangam_render::overlay::{HudCorner, HudText, Overlay};
use sangam_session::ParamOverride;
use sangam_session::branch::BranchPlugins;
use sangam_twin::{ParamLiteral, Scene as TwinScene};

/// How long after the last change the branch is forked with the new values.
pub const SETTLE: Duration = Duration::from_millis(500);

/// How long the panel stays up in XR after the stick was last used.
pub const XR_SHOWN_FOR: Duration = Duration::from_secs(8);

/// Rows of parameters shown at once (a window around the chosen one).
pub const ROWS: usize = 9;

/// The name of a branch the panel starts (no `--compare`).
pub const WHAT_IF: &str = "what-if";

const PANEL_TEXT: [f32; 4] = [0.95, 0.95, 0.85, 1.0];
const PANEL_NOTE: [f32; 4] = [1.0, 0.75, 0.2, 1.0];

/// What one frame asks of the panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PanelInput {
    /// Show or hide it (P).
    pub toggle: bool,
    /// Show it for a while ([`XR_SHOWN_FOR`]; the XR stick).
    pub reveal: bool,
    /// Choose the parameter this many rows down (negative: up).
    pub choose: i32,
    /// Change the chosen value by this many steps.
    pub change: i32,
}

impl PanelInput {
    /// Whether it asks anything.
    pub fn is_empty(&self) -> bool {
        *self == PanelInput::default()
    }
}

/// One parameter the panel offers.
#[derive(Clone, Debug)]
struct Row {
    plugin: String,
    spec: ParameterSpec,
    value: ParamLiteral,
}

impl Row {
    fn key(&self) -> String {
        format!("{}.{}", self.plugin, self.spec.name)
    }
}

/// A branch whose plugins are loading.
struct Loading {
    label: String,
    overrides: Vec<ParamOverride>,
    result: mpsc::Receiver<anyhow::Result<BranchPlugins>>,
}

/// A branch ready to be forked: its label, its values and its loaded plugins.
pub struct ReadyBranch {
    /// The branch's name on screen, e.g. `tilt-plus-2 + coverage.retilt-deg=3`.
    pub label: String,
    /// Every value it runs with (the scenario's, then the panel's).
    pub overrides: Vec<ParamOverride>,
    /// Its plugins.
    pub plugins: BranchPlugins,
}

/// The panel's state.
pub struct ParamPanel {
    rows: Vec<Row>,
    cursor: usize,
    shown: bool,
    shown_until: Option<Instant>,
    /// When the last change not yet in a branch was made.
    changed_at: Option<Instant>,
    loading: Option<Loading>,
    note: Option<(String, bool)>,
    /// Whether a branch the panel starts may split the frame (not in XR).
    pub can_split: bool,
}

/// The step of a number parameter: a thirtieth of its range rounded to 1, 2 or 5 of a power of ten,
/// else a tenth of its value's size, at least 0.01.
fn number_step(spec: &ParameterSpec, value: f64) -> f64 {
    let raw = match (spec.min, spec.max) {
        (Some(lo), Some(hi)) if hi > lo => (hi - lo) / 30.0,
        _ => (value.abs() / 10.0).max(0.01),
    };
    let decade = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * decade).find(|v| *v >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * decade)
}

/// `value` changed by `steps` within `spec`'s range; `Err` says it stopped at an end (with the value
/// there) or that the type cannot be stepped.
fn stepped(plugin: &str, spec: &ParameterSpec, value: &ParamLiteral, steps: i32) -> Result<ParamLiteral, String> {
    let range = || {
        let unit = if spec.unit.is_empty() { String::new() } else { format!(" {}", spec.unit) };
        let (lo, hi) =
            (spec.min.map_or("-inf".into(), |v| v.to_string()), spec.max.map_or("inf".into(), |v| v.to_string()));
        format!("plugin `{plugin}`: `{}` stops at the end of its range {lo} to {hi}{unit}", spec.name)
    };
    let clamp = |x: f64| x.clamp(spec.min.unwrap_or(f64::NEG_INFINITY), spec.max.unwrap_or(f64::INFINITY));
    match (spec.ty, value) {
        (ParamType::Number, ParamLiteral::Number(_) | ParamLiteral::Integer(_)) => {
            let x = value_f64(value).unwrap_or_default();
            let step = number_step(spec, x);
            // On the step's grid, so repeated steps do not drift.
            let next = ((x + f64::from(steps) * step) / step).round() * step;
            let bounded = clamp(next);
            if bounded != next && bounded == x { Err(range()) } else { Ok(ParamLiteral::Number(bounded)) }
        }
        (ParamType::Integer, ParamLiteral::Integer(i)) => {
            let next = *i as f64 + f64::from(steps);
            let bounded = clamp(next);
            if bounded != next && bounded as i64 == *i {
                Err(range())
            } else {
                Ok(ParamLiteral::Integer(bounded as i64))
            }
        }
        (ParamType::Boolean, ParamLiteral::Bool(b)) => Ok(ParamLiteral::Bool(if steps % 2 == 0 { *b } else { !b })),
        _ => Err(format!("plugin `{plugin}`: `{}` is not a number here; set it with --set", spec.name)),
    }
}

fn value_f64(v: &ParamLiteral) -> Option<f64> {
    match v {
        ParamLiteral::Number(x) => Some(*x),
        ParamLiteral::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// Whether two values are the same (numbers compared as numbers).
fn same(a: &ParamLiteral, b: &ParamLiteral) -> bool {
    match (value_f64(a), value_f64(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The value `plugin`'s parameter `spec` has in a branch of `twin` with `base`: `base`'s, else the
/// scene's, else the manifest's default.
fn branch_value(twin: &TwinScene, base: &[ParamOverride], plugin: &str, spec: &ParameterSpec) -> ParamLiteral {
    let overridden = base.iter().find(|o| o.plugin == plugin && o.parameter == spec.name).map(|o| &o.value);
    let decl = twin.plugins.iter().find(|d| d.id == plugin);
    let scene_value = decl.and_then(|d| d.params.iter().find(|(n, _)| *n == spec.name)).map(|(_, v)| v);
    overridden.or(scene_value).cloned().unwrap_or_else(|| literal_of(spec))
}

fn literal_of(spec: &ParameterSpec) -> ParamLiteral {
    use sangam_plugins::ParamValue;
    match &spec.default {
        ParamValue::Number(x) => ParamLiteral::Number(*x),
        ParamValue::Integer(i) => ParamLiteral::Integer(*i),
        ParamValue::Boolean(b) => ParamLiteral::Bool(*b),
        ParamValue::Text(t) => ParamLiteral::Text(t.clone()),
    }
}

fn show(v: &ParamLiteral) -> String {
    match v {
        ParamLiteral::Number(x) => format!("{}", (x * 1e6).round() / 1e6),
        ParamLiteral::Integer(i) => i.to_string(),
        ParamLiteral::Bool(b) => b.to_string(),
        ParamLiteral::Text(t) => format!("{t:?}"),
    }
}

impl ParamPanel {
    /// The panel for the plugins of `plan` (their declared parameters) as `twin` sets them, with
    /// `overrides` (a compared scenario's) on top: what the branch runs with.
    pub fn new(twin: &TwinScene, plan: &sangam_session::Session, overrides: &[ParamOverride]) -> ParamPanel {
        let mut rows = Vec::new();
        for (plugin, specs) in plan.plugins().parameters() {
            for spec in specs.iter().filter(|s| s.ty != ParamType::Text) {
                let mut value = branch_value(twin, overrides, plugin, spec);
                if spec.ty == ParamType::Number
                    && let ParamLiteral::Integer(i) = value
                {
                    value = ParamLiteral::Number(i as f64);
                }
                rows.push(Row { plugin: plugin.to_string(), spec: spec.clone(), value });
            }
        }
        ParamPanel {
            rows,
            cursor: 0,
            shown: false,
            shown_until: None,
            changed_at: None,
            loading: None,
            note: None,
            can_split: true,
        }
    }

    /// Whether it is on screen.
    pub fn is_shown(&self) -> bool {
        self.shown || self.shown_until.is_some_and(|t| Instant::now() < t)
    }

    /// Whether a branch is waiting to be loaded or loading.
    pub fn is_busy(&self) -> bool {
        self.changed_at.is_some() || self.loading.is_some()
    }

    /// The parameter rows' keys and values, `PLUGIN.PARAMETER`.
    pub fn values(&self) -> impl Iterator<Item = (String, &ParamLiteral)> + '_ {
        self.rows.iter().map(|r| (r.key(), &r.value))
    }

    /// Chooses the row of `PLUGIN.PARAMETER` (tests and scripts); `false` when there is none.
    pub fn choose(&mut self, key: &str) -> bool {
        match self.rows.iter().position(|r| r.key() == key) {
            Some(i) => {
                self.cursor = i;
                true
            }
            None => false,
        }
    }

    /// One frame's input; starts loading a branch once the changes have settled, and hands back one
    /// whose plugins are ready (never waits). `twin` is the plan's scene; `base` the values the branch
    /// starts from (a compared scenario's) and `name` its name.
    pub fn update(
        &mut self,
        input: PanelInput,
        twin: &TwinScene,
        base: &[ParamOverride],
        name: &str,
    ) -> Option<ReadyBranch> {
        let now = Instant::now();
        if input.toggle {
            self.shown = !self.shown;
            self.shown_until = None;
        }
        if input.reveal {
            self.shown_until = Some(now + XR_SHOWN_FOR);
        }
        if self.is_shown() && !self.rows.is_empty() {
            let n = self.rows.len() as i64;
            self.cursor = (self.cursor as i64 + i64::from(input.choose)).rem_euclid(n) as usize;
            if input.change != 0 {
                let row = &mut self.rows[self.cursor];
                match stepped(&row.plugin, &row.spec, &row.value, input.change) {
                    Ok(v) => {
                        if v != row.value {
                            row.value = v;
                            self.changed_at = Some(now);
                        }
                        self.note = None;
                    }
                    Err(why) => self.note = Some((why, true)),
                }
            }
        }
        if let Some(t) = self.changed_at
            && now - t >= SETTLE
            && self.loading.is_none()
        {
            self.changed_at = None;
            self.start_loading(twin, base, name);
        }
        let loading = self.loading.as_ref()?;
        let result = match loading.result.try_recv() {
            Ok(result) => result,
            Err(mpsc::TryRecvError::Empty) => return None,
            Err(mpsc::TryRecvError::Disconnected) => Err(anyhow::anyhow!("the thread loading the branch ended")),
        };
        let Loading { label, overrides, .. } = self.loading.take()?;
        match result {
            Ok(plugins) => {
                self.note = Some((format!("branch `{label}` runs from now"), false));
                Some(ReadyBranch { label, overrides, plugins })
            }
            Err(e) => {
                self.note = Some((format!("branch `{label}`: {e:#}"), true));
                None
            }
        }
    }

    /// The branch's values: `base` with every row that differs from it or from the plan's scene.
    fn overrides(&self, twin: &TwinScene, base: &[ParamOverride]) -> (Vec<ParamOverride>, Vec<String>) {
        let mut overrides = base.to_vec();
        let mut changed = Vec::new();
        for row in &self.rows {
            if same(&branch_value(twin, base, &row.plugin, &row.spec), &row.value) {
                continue;
            }
            overrides.retain(|o| !(o.plugin == row.plugin && o.parameter == row.spec.name));
            overrides.push(ParamOverride {
                plugin: row.plugin.clone(),
                parameter: row.spec.name.clone(),
                value: row.value.clone(),
            });
            changed.push(format!("{}={}", row.key(), show(&row.value)));
        }
        (overrides, changed)
    }

    fn start_loading(&mut self, twin: &TwinScene, base: &[ParamOverride], name: &str) {
        let (overrides, changed) = self.overrides(twin, base);
        let label = if changed.is_empty() { name.to_string() } else { format!("{name} + {}", changed.join(", ")) };
        let (send, result) = mpsc::channel();
        let (scene, values, branch) = (twin.clone(), overrides.clone(), label.clone());
        let spawned = std::thread::Builder::new().name("sangam-branch-load".into()).spawn(move || {
            let _ = send.send(BranchPlugins::load(&scene, &branch, &values));
        });
        match spawned {
            Ok(_) => {
                self.note = Some((format!("loading branch `{label}` ..."), false));
                self.loading = Some(Loading { label, overrides, result });
            }
            Err(e) => self.note = Some((format!("cannot load the branch ({e}); try again"), true)),
        }
    }

    /// Adds the panel's heads-up lines (bottom left) when it is shown, and its latest note.
    pub fn add(&self, overlay: &mut Overlay) {
        if let Some((note, warn)) = &self.note {
            overlay.hud.push(HudText {
                text: note.clone(),
                corner: HudCorner::BottomLeft,
                color: if *warn { PANEL_NOTE } else { PANEL_TEXT },
            });
        }
        if !self.is_shown() {
            return;
        }
        let mut lines = vec!["what-if parameters (P / left stick: up, down choose; left, right change)".to_string()];
        if self.rows.is_empty() {
            lines.push("  (the plugins declare no numeric parameters)".into());
        }
        let first = self.cursor.saturating_sub(ROWS / 2).min(self.rows.len().saturating_sub(ROWS));
        for (i, row) in self.rows.iter().enumerate().skip(first).take(ROWS) {
            let unit = if row.spec.unit.is_empty() { String::new() } else { format!(" {}", row.spec.unit) };
            let range = match (row.spec.min, row.spec.max) {
                (Some(lo), Some(hi)) => format!(" [{lo} to {hi}]"),
                _ => String::new(),
            };
            let mark = if i == self.cursor { ">" } else { " " };
            lines.push(format!("{mark} {} = {}{unit}{range}", row.key(), show(&row.value)));
        }
        overlay.hud.push(HudText { text: lines.join("\n"), corner: HudCorner::BottomLeft, color: PANEL_TEXT });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sangam_plugins::ParamValue;

    fn spec(ty: ParamType, min: Option<f64>, max: Option<f64>, default: ParamValue) -> ParameterSpec {
        ParameterSpec {
            name: "retilt-deg".into(),
            ty,
            default,
            unit: "deg".into(),
            min,
            max,
            description: String::new(),
        }
    }

    #[test]
    fn values_step_on_a_grid_and_stop_at_their_range_naming_it() {
        let s = spec(ParamType::Number, Some(-15.0), Some(15.0), ParamValue::Number(0.0));
        assert_eq!(number_step(&s, 0.0), 1.0, "a thirtieth of 30 deg");
        assert_eq!(stepped("coverage", &s, &ParamLiteral::Number(2.0), 1), Ok(ParamLiteral::Number(3.0)));
        assert_eq!(stepped("coverage", &s, &ParamLiteral::Number(2.0), -3), Ok(ParamLiteral::Number(-1.0)));
        assert_eq!(stepped("coverage", &s, &ParamLiteral::Number(14.0), 5), Ok(ParamLiteral::Number(15.0)));
        let e = stepped("coverage", &s, &ParamLiteral::Number(15.0), 1).unwrap_err();
        assert_eq!(e, "plugin `coverage`: `retilt-deg` stops at the end of its range -15 to 15 deg");
        let wide = spec(ParamType::Number, Some(500.0), Some(100_000.0), ParamValue::Number(1800.0));
        assert_eq!(number_step(&wide, 1800.0), 5000.0);
        let open = spec(ParamType::Number, None, None, ParamValue::Number(0.0));
        assert_eq!(number_step(&open, 46.0), 5.0);
        let int = spec(ParamType::Integer, Some(1.0), Some(3.0), ParamValue::Integer(1));
        assert_eq!(stepped("p", &int, &ParamLiteral::Integer(2), 1), Ok(ParamLiteral::Integer(3)));
        assert!(stepped("p", &int, &ParamLiteral::Integer(3), 1).is_err());
        let yes = spec(ParamType::Boolean, None, None, ParamValue::Boolean(false));
        assert_eq!(stepped("p", &yes, &ParamLiteral::Bool(false), -1), Ok(ParamLiteral::Bool(true)));
    }

    #[test]
    fn a_retilt_changed_in_the_panel_reforks_the_branch_and_its_map_follows_the_pattern() {
        use crate::interaction::InputFrame;
        let (mut session, plan_map, old_map) = crate::compare::tests::demo_beside("tilt-plus-2");
        assert!(session.panel.choose("coverage.retilt-deg"));
        let value = |s: &crate::frontend::SiteSession| {
            s.panel.values().find(|(k, _)| k == "coverage.retilt-deg").map(|(_, v)| v.clone())
        };
        assert_eq!(value(&session), Some(ParamLiteral::Number(2.0)), "the scenario's value");
        let frame = |session: &mut crate::frontend::SiteSession, panel: PanelInput| {
            session.frame(&InputFrame { dt: Duration::from_millis(50), panel, ..Default::default() });
        };
        frame(&mut session, PanelInput { toggle: true, ..Default::default() });
        frame(&mut session, PanelInput { change: 1, ..Default::default() });
        assert_eq!(value(&session), Some(ParamLiteral::Number(3.0)));
        let overlay = crate::overlay_compose::compose(&session, None);
        assert!(
            overlay.hud.iter().any(|t| t.text.contains("> coverage.retilt-deg = 3 deg [-15 to 15]")),
            "the panel shows the chosen value and its range"
        );
        let rsrp = |s: &sangam_session::Session| {
            s.rasters().find(|(id, r)| *id == "coverage" && r.layer == "radio.rsrp").map(|(_, r)| r.clone())
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let new_map = loop {
            frame(&mut session, PanelInput::default());
            let c = session.comparison.as_ref().unwrap();
            if c.scenario == "tilt-plus-2 + coverage.retilt-deg=3"
                && let Some(map) = rsrp(&c.core)
            {
                break map;
            }
            assert!(Instant::now() < deadline, "no re-forked branch with its map within 60 s");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(std::sync::Arc::ptr_eq(&rsrp(&session.core).unwrap(), &plan_map), "the plan is untouched");
        // 100 m out along the retilted sector (165 deg) the map moves by the macro panel's vertical cut
        // from 8 to 9 degrees of electrical tilt.
        let twin = &session.site.twin;
        let site = twin.placement("tower-ground-1").unwrap().position;
        let (e, n) = (site.x + 100.0 * 165f64.to_radians().sin(), site.y + 100.0 * 165f64.to_radians().cos());
        let column = ((e - new_map.origin[0]) / new_map.cell_size).floor();
        let row = ((n - new_map.origin[1]) / new_map.cell_size).floor();
        let cell = row as usize * new_map.columns as usize + column as usize;
        let centre = |c: f64, o: f64| o + (c + 0.5) * new_map.cell_size;
        let horizontal = ((centre(column, new_map.origin[0]) - site.x).powi(2)
            + (centre(row, new_map.origin[1]) - site.y).powi(2))
        .sqrt();
        let theta = (site.z + 25.0 - 1.5).atan2(horizontal).to_degrees();
        let cut = |tilt: f64| (12.0 * ((theta - tilt) / 10.0).powi(2)).min(20.0);
        let (before, after) = (old_map.values[cell], new_map.values[cell]);
        let expected = cut(8.0) - cut(9.0);
        assert!(
            (f64::from(after - before) - expected).abs() < 2e-3,
            "RSRP {before} -> {after} dBm at {theta:.2} deg below the mast: the pattern gives {expected:.4} dB"
        );
    }
}
