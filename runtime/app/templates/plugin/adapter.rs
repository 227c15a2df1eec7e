//! `{{name}}`: a Sangam data adapter.
//!
//! Reads messages of lines `ENTITY-ID,VALUE` into numeric property `value` (unit from parameter
//! `unit`), stamped with the time the host received the message. Bad lines are skipped and counted,
//! never fatal. Replace the parsing with your feed's format.

use sangam_sdk::{Adapter, AdapterOutput, ParameterSpec, SourceInfo, Updates, params};

/// The adapter's state, kept between messages.
pub struct Feed {
    unit: String,
    bad_lines: u64,
}

impl Adapter for Feed {
    fn init() -> Result<Self, String> {
        Ok(Feed { unit: params::text("unit").unwrap_or_default(), bad_lines: 0 })
    }

    fn parse(&mut self, source: &SourceInfo, payload: &[u8]) -> Result<AdapterOutput, String> {
        let text = String::from_utf8_lossy(payload);
        let mut keys: Vec<String> = Vec::new();
        let mut updates = Updates::new(source.received);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let parsed = line
                .split_once(',')
                .and_then(|(id, v)| Some((id.trim(), v.trim().parse::<f64>().ok()?)))
                .filter(|(id, v)| !id.is_empty() && v.is_finite());
            let Some((id, value)) = parsed else {
                self.bad_lines += 1;
                continue;
            };
            let index = match keys.iter().position(|k| k == id) {
                Some(i) => i,
                None => {
                    keys.push(id.to_string());
                    keys.len() - 1
                }
            };
            updates.push_number("value", &self.unit, index as u32, value);
        }
        if self.bad_lines > 0 {
            sangam_sdk::debug!("{}: {} bad lines so far", source.source, self.bad_lines);
        }
        Ok(AdapterOutput::new(keys, updates))
    }

    fn parameters() -> Vec<ParameterSpec> {
        vec![ParameterSpec::text("unit", "").description("Unit symbol of the values.")]
    }
}

sangam_sdk::export_adapter!(Feed);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lines_become_values_and_bad_ones_are_counted() {
        sangam_sdk::testing::reset();
        let mut feed = Feed::init().unwrap();
        let source = SourceInfo { source: "test".into(), content_type: "text/plain".into(), received: 7 };
        let out = feed.parse(&source, b"a,1.5\nb,x\nb,2\na,NaN\n").unwrap();
        assert_eq!(out.keys, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(out.updates.time, 7);
        assert_eq!(out.updates.numbers[0].entities, vec![0, 1]);
        assert_eq!(out.updates.numbers[0].values, vec![1.5, 2.0]);
        assert_eq!(feed.bad_lines, 2);
    }
}
