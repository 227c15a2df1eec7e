//! Typed property values and units.
//!
//! A property is a number with a unit ([`PropertyValue::Quantity`]), a plain number, an integer, a
//! boolean or a text. Units come from a small closed set ([`Unit`]) that matters for infrastructure
//! twins; anything else is kept verbatim as [`Unit::Other`] and should be reported as a warning.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! units {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal $(| $alias:literal)* ),* $(,)?) => {
        /// A unit of measure. The closed set covers what infrastructure twins commonly need;
        /// [`Unit::Other`] keeps any other spelling verbatim.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Unit {
            $( $(#[$doc])* $variant, )*
            /// A unit outside the known set, kept as written. Report it as a warning.
            Other(String),
        }

        impl Unit {
            /// Every known unit (not [`Unit::Other`]).
            pub const KNOWN: &'static [Unit] = &[$(Unit::$variant),*];

            /// Parses a unit symbol (case-sensitive, surrounding spaces ignored; a few common
            /// aliases such as `"metres"` or `"°"` are accepted). Unknown symbols become
            /// [`Unit::Other`].
            pub fn parse(text: &str) -> Unit {
                match text.trim() {
                    $( $text $(| $alias)* => Unit::$variant, )*
                    other => Unit::Other(other.to_string()),
                }
            }

            /// The canonical symbol, as written in scene files.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Unit::$variant => $text, )*
                    Unit::Other(s) => s,
                }
            }
        }
    };
}

units! {
    /// Metre.
    Metre => "m" | "metre" | "metres" | "meter" | "meters",
    /// Kilometre.
    Kilometre => "km",
    /// Centimetre.
    Centimetre => "cm",
    /// Millimetre.
    Millimetre => "mm",
    /// Square metre.
    SquareMetre => "m2" | "m²",
    /// Cubic metre.
    CubicMetre => "m3" | "m³",
    /// Cubic metre per second (flow).
    CubicMetrePerSecond => "m3/s" | "m³/s",
    /// Litre per second (flow).
    LitrePerSecond => "L/s" | "l/s",
    /// Second.
    Second => "s",
    /// Millisecond.
    Millisecond => "ms",
    /// Minute.
    Minute => "min",
    /// Hour.
    Hour => "h",
    /// Decibel-milliwatt (absolute power).
    DecibelMilliwatt => "dBm",
    /// Decibel (ratio).
    Decibel => "dB",
    /// Decibel relative to isotropic (antenna gain).
    DecibelIsotropic => "dBi",
    /// Watt.
    Watt => "W",
    /// Kilowatt.
    Kilowatt => "kW",
    /// Megawatt.
    Megawatt => "MW",
    /// Kilowatt-hour.
    KilowattHour => "kWh",
    /// Volt.
    Volt => "V",
    /// Kilovolt.
    Kilovolt => "kV",
    /// Ampere.
    Ampere => "A",
    /// Hertz.
    Hertz => "Hz",
    /// Kilohertz.
    Kilohertz => "kHz",
    /// Megahertz.
    Megahertz => "MHz",
    /// Gigahertz.
    Gigahertz => "GHz",
    /// Percent.
    Percent => "%",
    /// Degree of angle.
    Degree => "deg" | "°",
    /// Degree Celsius.
    Celsius => "degC" | "°C",
    /// Pascal.
    Pascal => "Pa",
    /// Kilopascal.
    Kilopascal => "kPa",
    /// Bar.
    Bar => "bar",
    /// Kilogram.
    Kilogram => "kg",
    /// Tonne.
    Tonne => "t",
    /// Vehicles per hour (traffic flow).
    VehiclesPerHour => "vehicles/h" | "veh/h",
    /// Kilometre per hour.
    KilometresPerHour => "km/h",
    /// Metre per second.
    MetresPerSecond => "m/s",
    /// Kilobit per second.
    KilobitsPerSecond => "kbps" | "kbit/s",
    /// Megabit per second.
    MegabitsPerSecond => "Mbps" | "Mbit/s",
    /// Gigabit per second.
    GigabitsPerSecond => "Gbps" | "Gbit/s",
}

impl Unit {
    /// Whether the unit is in the known set (not [`Unit::Other`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, Unit::Other(_))
    }
}

impl FromStr for Unit {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Unit::parse(s))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Unit::parse(&s))
    }
}

/// A typed property value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PropertyValue {
    /// A number with a unit.
    Quantity {
        /// The magnitude.
        value: f64,
        /// The unit.
        unit: Unit,
    },
    /// A dimensionless number.
    Number(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// A text.
    Text(String),
}

impl PropertyValue {
    /// The numeric value of a quantity, number or integer; `None` for booleans and texts.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropertyValue::Quantity { value, .. } | PropertyValue::Number(value) => Some(*value),
            PropertyValue::Integer(i) => Some(*i as f64),
            PropertyValue::Bool(_) | PropertyValue::Text(_) => None,
        }
    }

    /// The unit of a quantity.
    pub fn unit(&self) -> Option<&Unit> {
        match self {
            PropertyValue::Quantity { unit, .. } => Some(unit),
            _ => None,
        }
    }

    /// A short name of the variant, for messages ("quantity", "number", ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            PropertyValue::Quantity { .. } => "quantity",
            PropertyValue::Number(_) => "number",
            PropertyValue::Integer(_) => "integer",
            PropertyValue::Bool(_) => "boolean",
            PropertyValue::Text(_) => "text",
        }
    }
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Quantity { value, unit } => write!(f, "{value} {unit}"),
            PropertyValue::Number(v) => write!(f, "{v}"),
            PropertyValue::Integer(v) => write!(f, "{v}"),
            PropertyValue::Bool(v) => write!(f, "{v}"),
            PropertyValue::Text(v) => write!(f, "{v:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_units_round_trip_through_their_symbol() {
        for u in Unit::KNOWN {
            assert_eq!(&Unit::parse(u.as_str()), u, "{u:?}");
            assert!(u.is_known());
        }
        assert_eq!(Unit::parse(" dBm "), Unit::DecibelMilliwatt);
        assert_eq!(Unit::parse("metres"), Unit::Metre);
        assert_eq!(Unit::parse("vehicles/h"), Unit::VehiclesPerHour);
        assert_eq!(Unit::parse("%"), Unit::Percent);
    }

    #[test]
    fn units_are_case_sensitive_and_unknown_kept() {
        // "mW" (milliwatt) must not be confused with "MW" (megawatt).
        assert_eq!(Unit::parse("MW"), Unit::Megawatt);
        assert_eq!(Unit::parse("mW"), Unit::Other("mW".into()));
        let u = Unit::parse("furlongs/fortnight");
        assert!(!u.is_known());
        assert_eq!(u.as_str(), "furlongs/fortnight");
    }

    #[test]
    fn value_helpers() {
        let q = PropertyValue::Quantity { value: 43.0, unit: Unit::DecibelMilliwatt };
        assert_eq!(q.as_f64(), Some(43.0));
        assert_eq!(q.unit(), Some(&Unit::DecibelMilliwatt));
        assert_eq!(q.to_string(), "43 dBm");
        assert_eq!(PropertyValue::Integer(3).as_f64(), Some(3.0));
        assert_eq!(PropertyValue::Bool(true).as_f64(), None);
        assert_eq!(PropertyValue::Text("x".into()).type_name(), "text");
    }

    #[test]
    fn serde_round_trip() {
        let q = PropertyValue::Quantity { value: 2.5, unit: Unit::Gigahertz };
        let json = serde_json::to_string(&q).unwrap();
        assert!(json.contains("\"GHz\""), "{json}");
        let back: PropertyValue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, q);
    }
}
