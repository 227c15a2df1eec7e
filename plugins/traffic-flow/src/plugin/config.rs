//! The plugin's parameters (mirrors `plugin.toml`), read once at `init` and checked: a value outside
//! its range is an error naming the parameter, its value and the range.

use sangam_sdk::{ParameterSpec, params};

/// The parameters of this plugin.
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec::number("dt-s", 1.0)
            .unit("s")
            .range(0.1, 10.0)
            .description("The model's time step (cells are at least one free-flow step long)."),
        ParameterSpec::text("flow-property", "traffic.flow").description(
            "The counted segments' live flow (veh/h, both directions), written by the traffic adapter: it enters \
             the network where each counted segment starts.",
        ),
        ParameterSpec::number("demand-scale", 1.0)
            .range(0.0, 10.0)
            .description("Multiplies every demand: the counts' and the `od` trips' (e.g. 1.5 for 50% more traffic)."),
        ParameterSpec::text("od", "").description(
            "Known trips: `FROM>TO=VEH_PER_H` separated by commas, FROM and TO road ids (a road segment's entity, \
             else its OSM way): from FROM's start to TO's end.",
        ),
        ParameterSpec::text("closed", "")
            .description("Roads closed (works, an incident): road ids separated by commas. Trips reroute or queue."),
    ]
}

/// The parameters, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Model step, s.
    pub dt_s: f64,
    /// The live flow's property.
    pub flow_property: String,
    /// Demand multiplier.
    pub demand_scale: f64,
    /// Known trips: (from road, to road, veh/h).
    pub od: Vec<(String, String, f64)>,
    /// Closed roads.
    pub closed: Vec<String>,
}

/// Reads `od`: `FROM>TO=VPH`, comma-separated.
pub fn parse_od(text: &str) -> Result<Vec<(String, String, f64)>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || format!("parameter `od`: `{item}` is not FROM>TO=VEH_PER_H (a rate of 0 to 100000 veh/h)");
        let (pair, rate) = item.split_once('=').ok_or_else(bad)?;
        let (from, to) = pair.split_once('>').ok_or_else(bad)?;
        let rate: f64 = rate.trim().parse().map_err(|_| bad())?;
        if from.trim().is_empty() || to.trim().is_empty() || !(0.0..=100_000.0).contains(&rate) {
            return Err(bad());
        }
        out.push((from.trim().to_string(), to.trim().to_string(), rate));
    }
    Ok(out)
}

/// Reads and checks the parameters.
pub fn from_params() -> Result<Config, String> {
    let flow_property = params::text("flow-property").unwrap_or_else(|| "traffic.flow".into());
    if flow_property.trim().is_empty() {
        return Err("parameter `flow-property` must name a property".into());
    }
    Ok(Config {
        dt_s: params::number_within("dt-s", 1.0, (0.1, 10.0), "s")?,
        flow_property,
        demand_scale: params::number_within("demand-scale", 1.0, (0.0, 10.0), "")?,
        od: parse_od(&params::text("od").unwrap_or_default())?,
        closed: params::text("closed")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn od_trips_read_and_bad_ones_name_the_item() {
        let od = parse_od("road/a>way/7=600, way/9 > road/b = 120.5").unwrap();
        assert_eq!(od, vec![("road/a".into(), "way/7".into(), 600.0), ("way/9".into(), "road/b".into(), 120.5)]);
        for bad in ["road/a=5", "road/a>road/b", "road/a>road/b=-1", ">road/b=4", "road/a>road/b=x"] {
            assert!(parse_od(bad).unwrap_err().contains(&format!("`{bad}`")), "{bad}");
        }
        sangam_sdk::testing::reset();
        sangam_sdk::testing::with_host(|h| h.set_param("dt-s", sangam_sdk::ParamValue::Number(30.0)));
        assert_eq!(from_params().unwrap_err(), "parameter `dt-s` = 30 s is outside 0.1 to 10 s");
    }
}
