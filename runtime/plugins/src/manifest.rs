//! The plugin manifest, `plugin.toml`: who a plugin is (id, version), what it needs (SDK version,
//! role, capabilities), its default limits and the parameters a scene may set.
//!
//! ```toml
//! id = "sangam.decay"
//! version = "0.1.0"
//! sdk = "1.3.0"
//! role = "simulation"
//! description = "Exponential decay of a numeric property towards a baseline."
//!
//! [capabilities]          # all false by default; the scene must also grant each one
//! read-data = false
//!
//! [limits]                # defaults for this plugin; the scene may lower them
//! memory-mb = 32
//! call-ms = 20
//!
//! [[parameter]]
//! name = "half-life"
//! type = "number"
//! default = 3600.0
//! unit = "s"
//! min = 1.0
//! description = "Time for the excess over the baseline to halve."
//! ```
//!
//! Parsing is strict: unknown keys, wrong types and invalid values are [`ManifestError`]s whose
//! message reads `FILE:LINE:COLUMN: what is wrong; how to fix it`. The full format is in
//! `docs/plugin-format.md`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sangam_twin::diagnostic::{line_column, toml_diagnostic};
use serde::Deserialize;
use serde_spanned::Spanned;
use thiserror::Error;

use crate::contract::{Capabilities, Limits, ParamValue, Role, SUPPORTED_SDK_VERSIONS, SdkVersion};

/// Largest manifest accepted, in bytes (64 KiB).
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// Longest plugin id, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Most parameters one plugin may declare.
pub const MAX_PARAMETERS: usize = 64;
/// Longest description (plugin or parameter), in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// Longest text parameter value (default or scene-set), in bytes.
pub const MAX_TEXT_PARAM_LEN: usize = 4096;

/// Upper bound of `[limits] memory-mb` (wasm32 linear memory tops out at 4 GiB).
pub const MAX_MEMORY_MB: u64 = 4096;
/// Upper bound of `[limits] call-ms` (a plugin call may never stall the runtime longer than this).
pub const MAX_CALL_MS: u64 = 10_000;
/// Upper bound of `[limits] fuel` per call.
pub const MAX_FUEL: u64 = 1_000_000_000_000;
/// Upper bound of `[limits] output-mb`.
pub const MAX_OUTPUT_MB: u64 = 1024;
/// Upper bound of `[limits] host-calls` per plugin call.
pub const MAX_HOST_CALLS: u64 = 10_000_000;

/// Why a manifest could not be read or is not valid.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("cannot read plugin manifest {path}: {source}; check the path and permissions")]
    Io {
        /// The manifest file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The manifest is over [`MAX_MANIFEST_BYTES`].
    #[error(
        "plugin manifest {path} is {size} bytes, over the limit of {limit} bytes; a manifest holds \
         metadata only, keep data elsewhere"
    )]
    TooLarge {
        /// The manifest file.
        path: PathBuf,
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// TOML syntax error, unknown key, wrong type, missing key or invalid value.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The manifest file (or `NAME.wasm#sangam:manifest` for an embedded manifest).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ManifestError {
    /// The 1-based (line, column) in the manifest, when the error has one.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            ManifestError::Invalid { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// A scene-set parameter value the manifest does not accept.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("plugin `{plugin}`: parameter `{parameter}`: {message}")]
pub struct ParamError {
    /// The plugin id.
    pub plugin: String,
    /// The parameter name as the scene spelled it.
    pub parameter: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The type of a declared parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A real number (`f64`); integers written in the scene are accepted and widened.
    Number,
    /// A whole number (`i64`).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A text of at most [`MAX_TEXT_PARAM_LEN`] bytes.
    Text,
}

impl ParamType {
    /// The name used in manifests (`number`, `integer`, `boolean`, `text`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Number => "number",
            ParamType::Integer => "integer",
            ParamType::Boolean => "boolean",
            ParamType::Text => "text",
        }
    }

    fn parse(text: &str) -> Option<ParamType> {
        [ParamType::Number, ParamType::Integer, ParamType::Boolean, ParamType::Text]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[parameter]]` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSpec {
    /// Name as the scene writes it (`[a-z0-9_.-]`, starting with a letter, at most 64 bytes).
    pub name: String,
    /// Value type.
    pub ty: ParamType,
    /// Value used when the scene sets none; always of type `ty` and within `min..=max`.
    pub default: ParamValue,
    /// Unit symbol of numeric parameters (`s`, `m/s`, `dBm`); empty for none.
    pub unit: String,
    /// Smallest allowed value (numeric parameters only).
    pub min: Option<f64>,
    /// Largest allowed value (numeric parameters only).
    pub max: Option<f64>,
    /// What the parameter does, for people.
    pub description: String,
}

/// A validated plugin manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Plugin id: one or more dot-separated lowercase segments, best with the vendor first (`sangam.decay`,
    /// `acme.traffic-feed`).
    pub id: String,
    /// The plugin's own version (semver `MAJOR.MINOR.PATCH`, optional `-pre` and `+build`).
    pub version: String,
    /// The SDK (`sangam:plugin` WIT package) version the plugin was built against.
    pub sdk: SdkVersion,
    /// What the plugin does; decides its WIT world.
    pub role: Role,
    /// One or a few sentences for people.
    pub description: String,
    /// Capabilities the plugin asks for. The scene must grant each one too; nothing is ambient.
    pub capabilities: Capabilities,
    /// Default limits (the manifest's `[limits]` over the runtime defaults).
    pub limits: Limits,
    /// Declared parameters, in manifest order.
    pub parameters: Vec<ParameterSpec>,
}

impl Manifest {
    /// Reads and validates a `plugin.toml` file (at most [`MAX_MANIFEST_BYTES`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let io = |source| ManifestError::Io { path: path.to_path_buf(), source };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_MANIFEST_BYTES as u64 {
            return Err(ManifestError::TooLarge {
                path: path.to_path_buf(),
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Manifest::parse(&text, path)
    }

    /// Parses and validates manifest text; `path` names the source in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge {
                path: path.to_path_buf(),
                size: text.len(),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let cx = Cx { path, text };
        let raw: RawManifest = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;
        cx.resolve(raw)
    }

    /// The default limits of this plugin.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The capabilities this plugin requests.
    pub fn requested_capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    /// Every declared parameter with its default value, in manifest order.
    pub fn default_params(&self) -> Vec<(String, ParamValue)> {
        self.parameters.iter().map(|p| (p.name.clone(), p.default.clone())).collect()
    }

    /// A declared parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&ParameterSpec> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Checks the values a scene sets against the declarations and returns every declared parameter
    /// with its effective value (the scene's, else the default), in manifest order. Integers given
    /// for `number` parameters are widened; everything else must match the declared type and range.
    pub fn resolve_params(
        &self,
        scene_values: &[(String, ParamValue)],
    ) -> Result<Vec<(String, ParamValue)>, ParamError> {
        let mut out = self.default_params();
        for (index, (name, value)) in scene_values.iter().enumerate() {
            let err = |message: String| ParamError { plugin: self.id.clone(), parameter: name.clone(), message };
            if scene_values[..index].iter().any(|(n, _)| n == name) {
                return Err(err("set twice; keep one value".to_string()));
            }
            let Some(position) = self.parameters.iter().position(|p| &p.name == name) else {
                let known = self.parameters.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(err(format!(
                    "not declared by the plugin's manifest; remove it or fix its spelling (declared: {known})"
                )));
            };
            let spec = &self.parameters[position];
            let value = check_value(spec, value).map_err(err)?;
            out[position].1 = value;
        }
        Ok(out)
    }
}

/// A number written with a unit (`2 deg`, `2deg`, `46 dBm`), as a text: the number and the unit.
fn number_with_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    // The number's characters (an exponent's `e` included; a unit starting with `e` needs a space).
    let split = t.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))?;
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let value = number.trim().parse::<f64>().ok().filter(|v| v.is_finite())?;
    (!unit.is_empty()).then_some((value, unit))
}

/// Checks one value against its declaration; returns it (widened if needed) or what is wrong. A
/// number given as a text with a unit (`"2 deg"`, as `--set` takes it) is the number when the unit
/// is the parameter's, and refused naming the parameter's unit when not.
fn check_value(spec: &ParameterSpec, value: &ParamValue) -> Result<ParamValue, String> {
    let numeric_spec = matches!(spec.ty, ParamType::Number | ParamType::Integer);
    let with_unit = match value {
        ParamValue::Text(t) if numeric_spec => number_with_unit(t),
        _ => None,
    };
    let unitless;
    let value = match with_unit {
        Some((v, unit)) if unit == spec.unit => {
            unitless = if spec.ty == ParamType::Integer && v.fract() == 0.0 {
                ParamValue::Integer(v as i64)
            } else {
                ParamValue::Number(v)
            };
            &unitless
        }
        Some((v, unit)) if spec.unit.is_empty() => {
            return Err(format!("`{v} {unit}` has a unit but the parameter has none; give the plain number {v}"));
        }
        Some((v, unit)) => {
            return Err(format!(
                "`{v} {unit}` is in {unit}, but the parameter is in {u}; give it in {u} (e.g. `{v} {u}`)",
                u = spec.unit
            ));
        }
        None => value,
    };
    let value = match (spec.ty, value) {
        (ParamType::Number, ParamValue::Number(v)) => ParamValue::Number(*v),
        (ParamType::Number, ParamValue::Integer(v)) => ParamValue::Number(*v as f64),
        (ParamType::Integer, ParamValue::Integer(v)) => ParamValue::Integer(*v),
        (ParamType::Boolean, ParamValue::Boolean(v)) => ParamValue::Boolean(*v),
        (ParamType::Text, ParamValue::Text(v)) => {
            if v.len() > MAX_TEXT_PARAM_LEN {
                return Err(format!("text is {} bytes, over the limit of {MAX_TEXT_PARAM_LEN}; shorten it", v.len()));
            }
            ParamValue::Text(v.clone())
        }
        (ty, other) => {
            return Err(format!("expected a{} {ty}, found {}; change the value's type", article(ty), describe(other)));
        }
    };
    let numeric = match &value {
        ParamValue::Number(v) => Some(*v),
        ParamValue::Integer(v) => Some(*v as f64),
        _ => None,
    };
    if let Some(v) = numeric {
        if !v.is_finite() {
            return Err(format!("{v} is not a finite number; give a finite value"));
        }
        let unit = if spec.unit.is_empty() { String::new() } else { format!(" {}", spec.unit) };
        if let Some(min) = spec.min.filter(|min| v < *min) {
            return Err(format!("{v}{unit} is below the minimum {min}{unit}; use a value of at least {min}"));
        }
        if let Some(max) = spec.max.filter(|max| v > *max) {
            return Err(format!("{v}{unit} is above the maximum {max}{unit}; use a value of at most {max}"));
        }
    }
    Ok(value)
}

fn article(ty: ParamType) -> &'static str {
    if ty == ParamType::Integer { "n" } else { "" }
}

fn describe(value: &ParamValue) -> String {
    match value {
        ParamValue::Number(v) => format!("the number {v}"),
        ParamValue::Integer(v) => format!("the integer {v}"),
        ParamValue::Boolean(v) => format!("the boolean {v}"),
        ParamValue::Text(_) => "a text".to_string(),
    }
}

/// Whether `id` is a valid plugin id; `Err` says why.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(format!("a plugin id is 1 to {MAX_ID_LEN} bytes long, this one is {}", id.len()));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))) {
        return Err(format!("character {c:?} is not allowed; use lowercase ASCII letters, digits, `-` and `.`"));
    }
    for segment in id.split('.') {
        if segment.is_empty() {
            return Err("empty segment (two dots in a row, or a dot at either end)".to_string());
        }
        if !segment.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(format!("segment `{segment}` must start with a lowercase letter"));
        }
        if segment.ends_with('-') {
            return Err(format!("segment `{segment}` must not end with `-`"));
        }
    }
    Ok(())
}

/// Whether `version` is a semantic version (`MAJOR.MINOR.PATCH[-PRE][+BUILD]`); `Err` says why.
pub fn check_semver(version: &str) -> Result<(), String> {
    if version.len() > 64 {
        return Err("longer than 64 bytes".to_string());
    }
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("expected MAJOR.MINOR.PATCH, e.g. `1.0.0`".to_string());
    }
    for part in &parts {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{part}` is not a number"));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!("`{part}` has a leading zero"));
        }
        if part.parse::<u64>().is_err() {
            return Err(format!("`{part}` is too large"));
        }
    }
    for (what, ids) in [("pre-release", pre), ("build", build)] {
        if let Some(ids) = ids {
            for ident in ids.split('.') {
                if ident.is_empty() || !ident.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(format!("{what} part `{ids}` may only hold dot-separated [0-9A-Za-z-] identifiers"));
                }
            }
        }
    }
    Ok(())
}

/// Whether `name` is a valid parameter name; `Err` says why.
fn check_param_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a parameter name is 1 to 64 bytes long".to_string());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("a parameter name starts with a lowercase letter".to_string());
    }
    if let Some(c) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("character {c:?} is not allowed; use lowercase ASCII letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Raw (file) types.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    id: Spanned<String>,
    version: Spanned<String>,
    sdk: Spanned<String>,
    role: Spanned<String>,
    description: Spanned<String>,
    #[serde(default)]
    capabilities: Option<Spanned<RawCapabilities>>,
    #[serde(default)]
    limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    parameter: Vec<Spanned<RawParameter>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCapabilities {
    #[serde(default)]
    read_data: bool,
    #[serde(default)]
    wall_clock: bool,
    #[serde(default)]
    random: bool,
    #[serde(default)]
    create_entities: bool,
    #[serde(default)]
    site_geometry: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    memory_mb: Option<Spanned<i64>>,
    call_ms: Option<Spanned<i64>>,
    fuel: Option<Spanned<i64>>,
    output_mb: Option<Spanned<i64>>,
    host_calls: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: Spanned<String>,
    default: Spanned<toml::Value>,
    #[serde(default)]
    unit: Option<Spanned<String>>,
    min: Option<Spanned<f64>>,
    max: Option<Spanned<f64>>,
    #[serde(default)]
    description: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Resolution.

struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        let (line, column) = line_column(self.text, span.start);
        ManifestError::Invalid { path: self.path.to_path_buf(), line, column, message: message.into() }
    }

    fn toml_error(&self, e: &toml::de::Error) -> ManifestError {
        let d = toml_diagnostic(self.text, e, "docs/plugin-format.md");
        // The parser's message may quote the file: clean it like any plugin text.
        let message = crate::text::cleaned(&d.message, 2048);
        ManifestError::Invalid { path: self.path.to_path_buf(), line: d.line, column: d.column, message }
    }

    /// Refuses control characters (ANSI escapes, newlines, bidi overrides) in a manifest string: a
    /// manifest is shown in `plugin check`, `--stats` and logs, and must not drive a terminal.
    fn plain(&self, value: &Spanned<String>, key: &str) -> Result<(), ManifestError> {
        crate::text::check_plain(value.get_ref()).map_err(|why| self.err(value.span(), format!("`{key}` {why}")))
    }

    fn resolve(&self, raw: RawManifest) -> Result<Manifest, ManifestError> {
        for (value, key) in
            [(&raw.version, "version"), (&raw.sdk, "sdk"), (&raw.role, "role"), (&raw.description, "description")]
        {
            self.plain(value, key)?;
        }
        for p in &raw.parameter {
            let p = p.get_ref();
            for (value, key) in [(p.unit.as_ref(), "unit"), (p.description.as_ref(), "description")] {
                if let Some(value) = value {
                    self.plain(value, key)?;
                }
            }
            if let toml::Value::String(text) = p.default.get_ref()
                && let Err(why) = crate::text::check_plain(text)
            {
                return Err(self.err(p.default.span(), format!("`default` {why}")));
            }
        }
        check_id(raw.id.get_ref()).map_err(|why| self.err(raw.id.span(), format!("invalid plugin id: {why}")))?;
        check_semver(raw.version.get_ref()).map_err(|why| {
            self.err(raw.version.span(), format!("invalid plugin version `{}`: {why}", raw.version.get_ref()))
        })?;
        let sdk = self.sdk(&raw.sdk)?;
        let role = Role::parse(raw.role.get_ref()).ok_or_else(|| {
            self.err(
                raw.role.span(),
                format!("unknown role `{}`; use `adapter`, `simulation` or `overlay`", raw.role.get_ref()),
            )
        })?;
        let description = raw.description.get_ref().trim().to_string();
        if description.is_empty() || description.len() > MAX_DESCRIPTION_LEN {
            return Err(self.err(
                raw.description.span(),
                format!("a description is 1 to {MAX_DESCRIPTION_LEN} bytes; say in a sentence what the plugin does"),
            ));
        }
        let capabilities = raw.capabilities.map(Spanned::into_inner).unwrap_or_default();
        let limits = match raw.limits {
            Some(limits) => self.limits(limits.into_inner())?,
            None => Limits::default(),
        };
        if raw.parameter.len() > MAX_PARAMETERS {
            return Err(self.err(
                raw.parameter[MAX_PARAMETERS].span(),
                format!("more than {MAX_PARAMETERS} parameters; group settings into fewer, text-valued ones"),
            ));
        }
        let mut parameters: Vec<ParameterSpec> = Vec::with_capacity(raw.parameter.len());
        for p in &raw.parameter {
            let spec = self.parameter(p.get_ref())?;
            if parameters.iter().any(|q| q.name == spec.name) {
                let name = &p.get_ref().name;
                return Err(self.err(name.span(), format!("parameter `{}` is declared twice; keep one", spec.name)));
            }
            parameters.push(spec);
        }
        Ok(Manifest {
            id: raw.id.into_inner(),
            version: raw.version.into_inner(),
            sdk,
            role,
            description,
            capabilities: Capabilities {
                read_data: capabilities.read_data,
                wall_clock: capabilities.wall_clock,
                random: capabilities.random,
                create_entities: capabilities.create_entities,
                site_geometry: capabilities.site_geometry,
            },
            limits,
            parameters,
        })
    }

    fn sdk(&self, sdk: &Spanned<String>) -> Result<SdkVersion, ManifestError> {
        let supported = SUPPORTED_SDK_VERSIONS.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        SdkVersion::parse(sdk.get_ref()).ok_or_else(|| {
            self.err(
                sdk.span(),
                format!(
                    "`sdk = \"{}\"` is not a version; write the SDK version the plugin was built with as \
                     MAJOR.MINOR.PATCH (this runtime supports {supported})",
                    sdk.get_ref()
                ),
            )
        })
    }

    fn limits(&self, raw: RawLimits) -> Result<Limits, ManifestError> {
        let defaults = Limits::default();
        let bounded = |value: &Option<Spanned<i64>>, key: &str, max: u64| -> Result<Option<u64>, ManifestError> {
            let Some(value) = value else { return Ok(None) };
            let v = *value.get_ref();
            if v < 1 || v as u64 > max {
                return Err(self.err(value.span(), format!("`{key} = {v}` is out of range; use 1 to {max}")));
            }
            Ok(Some(v as u64))
        };
        let memory_mb = bounded(&raw.memory_mb, "memory-mb", MAX_MEMORY_MB)?;
        let call_ms = bounded(&raw.call_ms, "call-ms", MAX_CALL_MS)?;
        let fuel = bounded(&raw.fuel, "fuel", MAX_FUEL)?;
        let output_mb = bounded(&raw.output_mb, "output-mb", MAX_OUTPUT_MB)?;
        let host_calls = bounded(&raw.host_calls, "host-calls", MAX_HOST_CALLS)?;
        Ok(Limits {
            memory_bytes: memory_mb.map_or(defaults.memory_bytes, |mb| mb << 20),
            call_time: call_ms.map_or(defaults.call_time, Duration::from_millis),
            fuel_per_call: fuel.or(defaults.fuel_per_call),
            output_bytes: output_mb.map_or(defaults.output_bytes, |mb| mb << 20),
            // Bounded by MAX_HOST_CALLS, which fits in u32.
            host_calls_per_call: host_calls.map_or(defaults.host_calls_per_call, |n| n as u32),
        })
    }

    fn parameter(&self, raw: &RawParameter) -> Result<ParameterSpec, ManifestError> {
        let name = raw.name.get_ref().clone();
        check_param_name(&name).map_err(|why| self.err(raw.name.span(), format!("invalid parameter name: {why}")))?;
        let ty = ParamType::parse(raw.ty.get_ref()).ok_or_else(|| {
            self.err(
                raw.ty.span(),
                format!(
                    "parameter `{name}`: unknown type `{}`; use `number`, `integer`, `boolean` or `text`",
                    raw.ty.get_ref()
                ),
            )
        })?;
        let numeric = matches!(ty, ParamType::Number | ParamType::Integer);
        for bound in [&raw.min, &raw.max].into_iter().flatten() {
            if !numeric {
                return Err(self.err(
                    bound.span(),
                    format!("parameter `{name}` is a {ty}; `min` and `max` apply to numbers only, remove them"),
                ));
            }
            if !bound.get_ref().is_finite() {
                return Err(self.err(bound.span(), format!("parameter `{name}`: bounds must be finite numbers")));
            }
        }
        let min = raw.min.as_ref().map(|v| *v.get_ref());
        let max = raw.max.as_ref().map(|v| *v.get_ref());
        if let (Some(lo), Some(hi), Some(max_span)) = (min, max, raw.max.as_ref())
            && lo > hi
        {
            return Err(
                self.err(max_span.span(), format!("parameter `{name}`: `max = {hi}` is below `min = {lo}`; swap them"))
            );
        }
        let unit = raw.unit.as_ref().map(|u| u.get_ref().trim().to_string()).unwrap_or_default();
        if let Some(u) = &raw.unit {
            if !numeric && !unit.is_empty() {
                return Err(self.err(u.span(), format!("parameter `{name}` is a {ty}; only numbers have a unit")));
            }
            if unit.len() > 32 {
                return Err(self.err(u.span(), format!("parameter `{name}`: a unit symbol is at most 32 bytes")));
            }
        }
        let description = raw.description.as_ref().map(|d| d.get_ref().trim().to_string()).unwrap_or_default();
        if description.len() > MAX_DESCRIPTION_LEN {
            let span = raw.description.as_ref().map_or(raw.name.span(), |d| d.span());
            return Err(self.err(span, format!("parameter `{name}`: description over {MAX_DESCRIPTION_LEN} bytes")));
        }
        let given = match raw.default.get_ref() {
            toml::Value::Float(v) => ParamValue::Number(*v),
            toml::Value::Integer(v) => ParamValue::Integer(*v),
            toml::Value::Boolean(v) => ParamValue::Boolean(*v),
            toml::Value::String(v) => ParamValue::Text(v.clone()),
            other => {
                return Err(self.err(
                    raw.default.span(),
                    format!(
                        "parameter `{name}`: a default is a number, integer, boolean or string, not a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let mut spec = ParameterSpec { name, ty, default: ParamValue::Boolean(false), unit, min, max, description };
        spec.default = check_value(&spec, &given)
            .map_err(|why| self.err(raw.default.span(), format!("parameter `{}`: default: {why}", spec.name)))?;
        Ok(spec)
    }
}
