//! The scene's `[[sources]]`: where live data comes from and which adapter plugin gets it. The host
//! runs the sources (`sangam-data`), never a plugin; each message goes, as bytes, to the adapter
//! named here. Checked with the line and column of a bad value. Parsing cost: a few comparisons per
//! source, one file-system stat per file.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::error::list;
use super::{Cx, PluginDecl, SceneError};

/// A data source of the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDecl {
    /// Unique id.
    pub id: String,
    /// The adapter plugin its messages go to (a `[[plugins]]` id).
    pub adapter: String,
    /// What it is.
    pub kind: SourceKind,
    /// Where it is declared (`file:line:column`), for messages.
    pub location: String,
}

/// How fast a file is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayPace {
    /// Each message at its own time, the file's time scaled by this factor (1 = as recorded).
    Times(f64),
    /// As fast as the adapter takes them.
    Max,
}

/// The format of a replayed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// What a source is.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// A recorded file, replayed by its time column: every group of rows with the same time is one
    /// message, sent at that time.
    File {
        /// The file.
        path: PathBuf,
        /// CSV or JSON Lines (from the extension, or `format`).
        format: FileFormat,
        /// The column (CSV header name, or JSON field) that holds each row's time.
        time_column: String,
        /// How fast.
        pace: ReplayPace,
        /// Start again at the end, every time shifted by the file's span (numeric times only).
        looped: bool,
    },
    /// An MQTT broker's topics.
    Mqtt {
        /// `mqtt://host:port` (`--broker` overrides it).
        broker: String,
        /// Topic filters subscribed to (`+` and `#` wildcards).
        topics: Vec<String>,
        /// 0 (at most once) or 1 (at least once: acknowledged only once the session holds it).
        qos: u8,
        /// The client id (a persistent session is kept under it); default `sangam-<source id>`.
        client_id: String,
        /// Start a clean session (forget what the broker kept); default false.
        clean_session: bool,
        /// Keep-alive in seconds (5 to 3600; default 30).
        keep_alive_s: u64,
        /// The user name to log in with, if the broker asks for one.
        username: Option<String>,
        /// The environment variable that holds the password (never the password itself: scene files
        /// are shared).
        password_env: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    id: Spanned<String>,
    adapter: Spanned<String>,
    kind: Spanned<String>,
    // file
    path: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    time_column: Option<Spanned<String>>,
    speed: Option<Spanned<toml::Value>>,
    #[serde(rename = "loop")]
    looped: Option<bool>,
    // mqtt
    broker: Option<Spanned<String>>,
    #[serde(default)]
    topics: Vec<Spanned<String>>,
    qos: Option<Spanned<i64>>,
    client_id: Option<Spanned<String>>,
    clean_session: Option<bool>,
    keep_alive_s: Option<Spanned<i64>>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
}

/// Whether `filter` is a valid MQTT topic filter: not empty, `+` and `#` only as whole levels, `#`
/// only last, no NUL.
pub fn is_topic_filter(filter: &str) -> bool {
    let levels: Vec<&str> = filter.split('/').collect();
    !filter.is_empty()
        && !filter.contains('\0')
        && levels.iter().enumerate().all(|(i, level)| match *level {
            "#" => i == levels.len() - 1,
            "+" => true,
            other => !other.contains(['+', '#']),
        })
}

/// Checks an MQTT broker address: `mqtt://host[:port]`; returns (host, port).
pub fn broker_address(url: &str) -> Result<(String, u16), String> {
    let rest = match url.split_once("://") {
        Some(("mqtt" | "tcp", rest)) => rest,
        Some(("mqtts" | "ssl", _)) => {
            return Err(format!("`{url}`: TLS brokers (mqtts://) are not supported yet; use mqtt://"));
        }
        Some((scheme, _)) => return Err(format!("`{url}`: unknown scheme `{scheme}`; use mqtt://host:port")),
        None => url,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().map_err(|_| format!("`{url}`: `{port}` is not a port number"))?;
            (host, port)
        }
        None => (rest, 1883),
    };
    if host.is_empty() || host.contains(['/', ' ']) {
        return Err(format!("`{url}`: no host; use mqtt://host:port"));
    }
    Ok((host.to_string(), port))
}

impl Cx<'_> {
    pub(super) fn sources(
        &self,
        raw: &[Spanned<RawSource>],
        plugins: &[PluginDecl],
    ) -> Result<Vec<SourceDecl>, SceneError> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for rs in raw {
            let r = rs.get_ref();
            self.unique(&mut seen, &r.id, "source")?;
            let id = r.id.get_ref();
            if !plugins.iter().any(|p| &p.id == r.adapter.get_ref()) {
                return Err(self.err(
                    r.adapter.span(),
                    format!(
                        "source `{id}`: no plugin `{}` in this scene; adapter must name one of its [[plugins]]: {}",
                        r.adapter.get_ref(),
                        list(plugins.iter().map(|p| &p.id))
                    ),
                ));
            }
            let misplaced =
                |keys: &[(&str, bool)]| keys.iter().find(|(_, present)| *present).map(|(key, _)| key.to_string());
            let kind = match r.kind.get_ref().as_str() {
                "file" => {
                    if let Some(key) = misplaced(&[
                        ("broker", r.broker.is_some()),
                        ("topics", !r.topics.is_empty()),
                        ("qos", r.qos.is_some()),
                        ("client_id", r.client_id.is_some()),
                        ("clean_session", r.clean_session.is_some()),
                        ("keep_alive_s", r.keep_alive_s.is_some()),
                        ("username", r.username.is_some()),
                        ("password_env", r.password_env.is_some()),
                    ]) {
                        return Err(
                            self.err(rs.span(), format!("source `{id}`: `{key}` is for MQTT sources, not files"))
                        );
                    }
                    self.file_source(id, rs)?
                }
                "mqtt" => {
                    if let Some(key) = misplaced(&[
                        ("path", r.path.is_some()),
                        ("format", r.format.is_some()),
                        ("time_column", r.time_column.is_some()),
                        ("speed", r.speed.is_some()),
                        ("loop", r.looped.is_some()),
                    ]) {
                        return Err(
                            self.err(rs.span(), format!("source `{id}`: `{key}` is for file sources, not MQTT"))
                        );
                    }
                    self.mqtt_source(id, rs)?
                }
                other => {
                    return Err(self.err(
                        r.kind.span(),
                        format!("source `{id}`: unknown kind `{other}`; a source is kind = \"file\" or \"mqtt\""),
                    ));
                }
            };
            out.push(SourceDecl {
                id: id.clone(),
                adapter: r.adapter.get_ref().clone(),
                kind,
                location: self.at(rs.span()),
            });
        }
        Ok(out)
    }

    fn file_source(&self, id: &str, rs: &Spanned<RawSource>) -> Result<SourceKind, SceneError> {
        let r = rs.get_ref();
        let Some(path) = &r.path else {
            return Err(self.err(rs.span(), format!("source `{id}`: a file source needs path = \"FILE\"")));
        };
        let file = self.existing_file(path, "path", false)?;
        let format = match r.format.as_ref().map(|f| f.get_ref().as_str()) {
            Some("csv") => FileFormat::Csv,
            Some("jsonl") => FileFormat::JsonLines,
            Some(other) => {
                let span = r.format.as_ref().map_or(rs.span(), |f| f.span());
                return Err(self.err(span, format!("source `{id}`: format `{other}` is not \"csv\" or \"jsonl\"")));
            }
            None => match file.extension().and_then(|e| e.to_str()) {
                Some("csv") => FileFormat::Csv,
                Some("jsonl" | "ndjson") => FileFormat::JsonLines,
                _ => {
                    return Err(self.err(
                        path.span(),
                        format!("source `{id}`: the file's format is not known from its name; add format = \"csv\" or \"jsonl\""),
                    ));
                }
            },
        };
        let pace = match r.speed.as_ref() {
            None => ReplayPace::Times(1.0),
            Some(v) => match v.get_ref() {
                toml::Value::String(s) if s == "max" => ReplayPace::Max,
                toml::Value::Float(x) if (0.01..=10_000.0).contains(x) => ReplayPace::Times(*x),
                toml::Value::Integer(i) if (1..=10_000).contains(i) => ReplayPace::Times(*i as f64),
                other => {
                    return Err(self.err(
                        v.span(),
                        format!("source `{id}`: speed = {other} must be a factor from 0.01 to 10000, or \"max\""),
                    ));
                }
            },
        };
        let time_column = r.time_column.as_ref().map_or("time".to_string(), |c| c.get_ref().clone());
        if time_column.is_empty() {
            let span = r.time_column.as_ref().map_or(rs.span(), |c| c.span());
            return Err(self.err(span, format!("source `{id}`: time_column must name a column")));
        }
        Ok(SourceKind::File { path: file, format, time_column, pace, looped: r.looped.unwrap_or(false) })
    }

    fn mqtt_source(&self, id: &str, rs: &Spanned<RawSource>) -> Result<SourceKind, SceneError> {
        let r = rs.get_ref();
        let Some(broker) = &r.broker else {
            return Err(
                self.err(rs.span(), format!("source `{id}`: an MQTT source needs broker = \"mqtt://HOST:PORT\""))
            );
        };
        broker_address(broker.get_ref()).map_err(|why| self.err(broker.span(), format!("source `{id}`: {why}")))?;
        if r.topics.is_empty() {
            return Err(self.err(rs.span(), format!("source `{id}`: an MQTT source needs topics = [\"FILTER\", ...]")));
        }
        for t in &r.topics {
            if !is_topic_filter(t.get_ref()) {
                return Err(self.err(
                    t.span(),
                    format!(
                        "source `{id}`: `{}` is not an MQTT topic filter (`+` and `#` only as whole levels, `#` last)",
                        t.get_ref()
                    ),
                ));
            }
        }
        let qos = match &r.qos {
            None => 1,
            Some(q) if matches!(q.get_ref(), 0 | 1) => *q.get_ref() as u8,
            Some(q) => {
                return Err(self.err(
                    q.span(),
                    format!("source `{id}`: qos = {} must be 0 or 1 (QoS 2 is not supported)", q.get_ref()),
                ));
            }
        };
        let keep_alive_s = match &r.keep_alive_s {
            None => 30,
            Some(k) if (5..=3600).contains(k.get_ref()) => *k.get_ref() as u64,
            Some(k) => {
                return Err(
                    self.err(k.span(), format!("source `{id}`: keep_alive_s = {} must be 5 to 3600", k.get_ref()))
                );
            }
        };
        let client_id = match &r.client_id {
            Some(c) if !c.get_ref().is_empty() && c.get_ref().len() <= 128 => c.get_ref().clone(),
            Some(c) => return Err(self.err(c.span(), format!("source `{id}`: client_id must be 1 to 128 bytes"))),
            None => format!("sangam-{id}"),
        };
        if let Some(env) = &r.password_env {
            let name = env.get_ref();
            if r.username.is_none() {
                return Err(self.err(env.span(), format!("source `{id}`: password_env needs username = \"USER\"")));
            }
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                return Err(self.err(
                    env.span(),
                    format!(
                        "source `{id}`: password_env = \"{name}\" must name an environment variable (A-Z, 0-9, _); the \
                         password itself never goes in the scene"
                    ),
                ));
            }
        }
        Ok(SourceKind::Mqtt {
            broker: broker.get_ref().clone(),
            topics: r.topics.iter().map(|t| t.get_ref().clone()).collect(),
            qos,
            client_id,
            clean_session: r.clean_session.unwrap_or(false),
            keep_alive_s,
            username: r.username.as_ref().map(|u| u.get_ref().clone()),
            password_env: r.password_env.as_ref().map(|p| p.get_ref().clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_filters_and_broker_addresses() {
        for good in ["a", "a/b", "a/+/c", "#", "a/#", "+", "+/+"] {
            assert!(is_topic_filter(good), "{good}");
        }
        for bad in ["", "a/#/c", "a+", "a/b#", "#/a"] {
            assert!(!is_topic_filter(bad), "{bad}");
        }
        assert_eq!(broker_address("mqtt://127.0.0.1:1884"), Ok(("127.0.0.1".into(), 1884)));
        assert_eq!(broker_address("mqtt://broker.local"), Ok(("broker.local".into(), 1883)));
        assert!(broker_address("mqtts://x:8883").unwrap_err().contains("not supported yet"));
        assert!(broker_address("http://x").unwrap_err().contains("unknown scheme"));
        assert!(broker_address("mqtt://x:port").unwrap_err().contains("not a port"));
    }
}
