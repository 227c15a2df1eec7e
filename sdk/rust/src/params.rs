//! The parameters the manifest declares, with the values the scene set (or the manifest defaults),
//! and [`ParameterSpec`] builders for [`parameters`](crate::Simulation::parameters).
//!
//! ```
//! use sangam_sdk::params;
//! let rate = params::number("decay-rate").unwrap_or(0.1);
//! let label = params::text("label").unwrap_or_else(|| "flow".to_string());
//! # let _ = (rate, label);
//! ```

use crate::{ParamValue, ParameterSpec};

/// The value of parameter `name`, or `None` when the manifest does not declare it.
pub fn get(name: &str) -> Option<ParamValue> {
    crate::host::get(name)
}

/// A numeric parameter as `f64`: a `number`, or an `integer` converted. `None` when the parameter is
/// not declared or has another type.
pub fn number(name: &str) -> Option<f64> {
    match get(name)? {
        ParamValue::Number(v) => Some(v),
        ParamValue::Integer(v) => Some(v as f64),
        ParamValue::Boolean(_) | ParamValue::Text(_) => None,
    }
}

/// A numeric parameter ([`number`], else `default`) checked to lie within `min..=max`; `Err` names
/// it, its value and the range in `unit` (`parameter \`dt-s\` = 20 s is outside 0.1 to 10 s`). The host
/// checks a manifest's declared range before the plugin starts; this is for a plugin's own reading,
/// on any host (the testing stand-in checks nothing).
pub fn number_within(name: &str, default: f64, (min, max): (f64, f64), unit: &str) -> Result<f64, String> {
    let v = number(name).unwrap_or(default);
    let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("parameter `{name}` = {v}{unit} is outside {min} to {max}{unit}"))
    }
}

/// An `integer` parameter. `None` when it is not declared or has another type.
pub fn integer(name: &str) -> Option<i64> {
    match get(name)? {
        ParamValue::Integer(v) => Some(v),
        _ => None,
    }
}

/// A `boolean` parameter. `None` when it is not declared or has another type.
pub fn boolean(name: &str) -> Option<bool> {
    match get(name)? {
        ParamValue::Boolean(v) => Some(v),
        _ => None,
    }
}

/// A `text` parameter. `None` when it is not declared or has another type.
pub fn text(name: &str) -> Option<String> {
    match get(name)? {
        ParamValue::Text(v) => Some(v),
        _ => None,
    }
}

impl ParameterSpec {
    fn with_default(name: &str, default: ParamValue) -> Self {
        ParameterSpec {
            name: name.to_string(),
            description: String::new(),
            default,
            unit: String::new(),
            minimum: None,
            maximum: None,
        }
    }

    /// A real-number parameter with its default.
    ///
    /// ```
    /// use sangam_sdk::ParameterSpec;
    /// let spec = ParameterSpec::number("decay-rate", 0.1)
    ///     .unit("1/s")
    ///     .range(0.0, 10.0)
    ///     .description("How fast the value relaxes toward its target.");
    /// assert_eq!(spec.minimum, Some(0.0));
    /// ```
    pub fn number(name: &str, default: f64) -> Self {
        Self::with_default(name, ParamValue::Number(default))
    }

    /// An integer parameter with its default.
    pub fn integer(name: &str, default: i64) -> Self {
        Self::with_default(name, ParamValue::Integer(default))
    }

    /// A boolean switch with its default.
    pub fn boolean(name: &str, default: bool) -> Self {
        Self::with_default(name, ParamValue::Boolean(default))
    }

    /// A text parameter with its default.
    pub fn text(name: &str, default: &str) -> Self {
        Self::with_default(name, ParamValue::Text(default.to_string()))
    }

    /// Sets the description shown to people.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    /// Sets the unit symbol of a numeric parameter (`1/s`, `veh/h`, ...).
    pub fn unit(mut self, unit: &str) -> Self {
        self.unit = unit.to_string();
        self
    }

    /// Sets the smallest and largest allowed values of a numeric parameter.
    pub fn range(mut self, minimum: f64, maximum: f64) -> Self {
        self.minimum = Some(minimum);
        self.maximum = Some(maximum);
        self
    }

    /// Sets only the smallest allowed value.
    pub fn min(mut self, minimum: f64) -> Self {
        self.minimum = Some(minimum);
        self
    }

    /// Sets only the largest allowed value.
    pub fn max(mut self, maximum: f64) -> Self {
        self.maximum = Some(maximum);
        self
    }
}
