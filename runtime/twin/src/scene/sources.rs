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
    /// The file has no times (a list, e.g. of cells): its rows go at the start, at most
    /// [`UNTIMED_ROWS_PER_MESSAGE`] per message, as fast as the adapter takes them (`untimed = true`).
    Untimed,
}

/// The most rows in one message of an untimed file.
pub const UNTIMED_ROWS_PER_MESSAGE: usize = 1000;

/// The format of a replayed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// The files of a source's TLS (`mqtts://`, `https://`, `wss://`), resolved from the scene's folder.
/// Without a `ca_file` the system's root certificates are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificates of the CAs to trust instead of the system's (a private CA's): `ca_file`.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate chain and its PEM private key, for a server that asks for one
    /// (mutual TLS): `client_cert_file` and `client_key_file`.
    pub client_identity: Option<(PathBuf, PathBuf)>,
}

impl TlsFiles {
    /// Whether no file is named.
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.client_identity.is_none()
    }
}

/// An MQTT broker's address, as [`broker_address`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name or IP address.
    pub host: String,
    /// Port (default 1883, or 8883 with TLS).
    pub port: u16,
    /// `mqtts://` (or `ssl://`): TLS.
    pub tls: bool,
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
        /// `mqtt://host:port`, or `mqtts://host:port` for TLS (`--broker` overrides it).
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
        /// `coalesce = "latest-per-topic"` (QoS 0 only): while the session cannot take more, keep
        /// only the newest message of each topic, counting the ones replaced, instead of waiting.
        coalesce: bool,
        /// TLS files (with an `mqtts://` broker).
        tls: TlsFiles,
    },
    /// An HTTP document polled at an interval; each new version is one message.
    Http {
        /// `http://host[:port]/path`, or `https://`.
        url: String,
        /// Time between polls (0.1 s to a day; default 5 s).
        interval: std::time::Duration,
        /// Time allowed for one request (0.1 to 300 s; default 10 s).
        timeout: std::time::Duration,
        /// The largest body handed on (at most, and by default, 4 MiB).
        max_bytes: usize,
        /// The media type to hand on instead of the response's.
        content_type: Option<String>,
        /// TLS files (with an `https://` URL).
        tls: TlsFiles,
    },
    /// A WebSocket feed; each text or binary message is one message.
    WebSocket {
        /// `ws://host[:port]/path`, or `wss://`.
        url: String,
        /// A text message sent after each connect (many feeds want a subscription).
        subscribe: Option<String>,
        /// The media type to hand on instead of `text/plain` / `application/octet-stream`.
        content_type: Option<String>,
        /// TLS files (with a `wss://` URL).
        tls: TlsFiles,
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
    untimed: Option<Spanned<bool>>,
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
    coalesce: Option<Spanned<String>>,
    // http, websocket
    url: Option<Spanned<String>>,
    content_type: Option<Spanned<String>>,
    interval_s: Option<Spanned<f64>>,
    timeout_s: Option<Spanned<f64>>,
    max_bytes: Option<Spanned<i64>>,
    subscribe: Option<Spanned<String>>,
    // tls (mqtt, http, websocket)
    ca_file: Option<Spanned<String>>,
    client_cert_file: Option<Spanned<String>>,
    client_key_file: Option<Spanned<String>>,
}

/// The kinds of source a scene may declare.
const SOURCE_KINDS: [&str; 4] = ["file", "mqtt", "http", "websocket"];

/// The largest message a source hands on (4 MiB; `sangam_data::MAX_MESSAGE_BYTES` is the same).
pub const MAX_SOURCE_MESSAGE_BYTES: usize = 4 << 20;

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

/// Checks an MQTT broker address: `mqtt://host[:port]` (port 1883 by default) or, with TLS,
/// `mqtts://host[:port]` (8883).
pub fn broker_address(url: &str) -> Result<BrokerAddress, String> {
    let (rest, tls) = match url.split_once("://") {
        Some(("mqtt" | "tcp", rest)) => (rest, false),
        Some(("mqtts" | "ssl", rest)) => (rest, true),
        Some((scheme, _)) => {
            return Err(format!("`{url}`: unknown scheme `{scheme}`; use mqtt://host:port or mqtts://host:port"));
        }
        None => (url, false),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().map_err(|_| format!("`{url}`: `{port}` is not a port number"))?;
            (host, port)
        }
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() || host.contains(['/', ' ']) {
        return Err(format!("`{url}`: no host; use mqtt://host:port"));
    }
    Ok(BrokerAddress { host: host.to_string(), port, tls })
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
            let kind_name = r.kind.get_ref().as_str();
            // Each key belongs to some kinds; one on another kind is a mistake worth naming.
            let keys: [(&str, bool, &[&str]); 25] = [
                ("path", r.path.is_some(), &["file"]),
                ("format", r.format.is_some(), &["file"]),
                ("time_column", r.time_column.is_some(), &["file"]),
                ("speed", r.speed.is_some(), &["file"]),
                ("loop", r.looped.is_some(), &["file"]),
                ("untimed", r.untimed.is_some(), &["file"]),
                ("broker", r.broker.is_some(), &["mqtt"]),
                ("topics", !r.topics.is_empty(), &["mqtt"]),
                ("qos", r.qos.is_some(), &["mqtt"]),
                ("client_id", r.client_id.is_some(), &["mqtt"]),
                ("clean_session", r.clean_session.is_some(), &["mqtt"]),
                ("keep_alive_s", r.keep_alive_s.is_some(), &["mqtt"]),
                ("username", r.username.is_some(), &["mqtt"]),
                ("password_env", r.password_env.is_some(), &["mqtt"]),
                ("coalesce", r.coalesce.is_some(), &["mqtt"]),
                ("url", r.url.is_some(), &["http", "websocket"]),
                ("content_type", r.content_type.is_some(), &["http", "websocket"]),
                ("interval_s", r.interval_s.is_some(), &["http"]),
                ("timeout_s", r.timeout_s.is_some(), &["http"]),
                ("max_bytes", r.max_bytes.is_some(), &["http"]),
                ("subscribe", r.subscribe.is_some(), &["websocket"]),
                ("ca_file", r.ca_file.is_some(), &["mqtt", "http", "websocket"]),
                ("client_cert_file", r.client_cert_file.is_some(), &["mqtt", "http", "websocket"]),
                ("client_key_file", r.client_key_file.is_some(), &["mqtt", "http", "websocket"]),
                ("kind", true, &["file", "mqtt", "http", "websocket"]),
            ];
            let label = |k: &str| match k {
                "mqtt" => "MQTT",
                "http" => "HTTP",
                "websocket" => "WebSocket",
                _ => "file",
            };
            if SOURCE_KINDS.contains(&kind_name)
                && let Some((key, _, kinds)) =
                    keys.iter().find(|(_, present, kinds)| *present && !kinds.contains(&kind_name))
            {
                let owners: Vec<&str> = kinds.iter().map(|k| label(k)).collect();
                return Err(self.err(
                    rs.span(),
                    format!(
                        "source `{id}`: `{key}` is for {} sources, not {} sources",
                        owners.join(" and "),
                        label(kind_name)
                    ),
                ));
            }
            let kind = match kind_name {
                "file" => self.file_source(id, rs)?,
                "mqtt" => self.mqtt_source(id, rs)?,
                "http" => self.http_source(id, rs)?,
                "websocket" => self.websocket_source(id, rs)?,
                other => {
                    return Err(self.err(
                        r.kind.span(),
                        format!(
                            "source `{id}`: unknown kind `{other}`; a source is kind = \"file\", \"mqtt\", \"http\" \
                             or \"websocket\""
                        ),
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
        let untimed = r.untimed.as_ref().is_some_and(|u| *u.get_ref());
        if untimed {
            let key =
                [("time_column", r.time_column.is_some()), ("speed", r.speed.is_some()), ("loop", r.looped.is_some())]
                    .into_iter()
                    .find_map(|(k, set)| set.then_some(k));
            if let Some(key) = key {
                let span = r.untimed.as_ref().map_or(rs.span(), |u| u.span());
                return Err(self.err(
                    span,
                    format!("source `{id}`: an untimed file has no times, so `{key}` means nothing; remove `{key}` or `untimed`"),
                ));
            }
        }
        let pace = match r.speed.as_ref() {
            None if untimed => ReplayPace::Untimed,
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
        let address =
            broker_address(broker.get_ref()).map_err(|why| self.err(broker.span(), format!("source `{id}`: {why}")))?;
        let tls = self.tls_files(id, rs, address.tls, "mqtts://")?;
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
        let coalesce = match &r.coalesce {
            None => false,
            Some(c) if c.get_ref() == "latest-per-topic" && qos == 0 => true,
            Some(c) if c.get_ref() == "latest-per-topic" => {
                return Err(self.err(
                    c.span(),
                    format!(
                        "source `{id}`: coalesce keeps only each topic's newest message, but qos = 1 promises every \
                         message; set qos = 0 to coalesce, or remove coalesce"
                    ),
                ));
            }
            Some(c) => {
                return Err(self.err(
                    c.span(),
                    format!("source `{id}`: coalesce = \"{}\" is not \"latest-per-topic\"", c.get_ref()),
                ));
            }
        };
        Ok(SourceKind::Mqtt {
            broker: broker.get_ref().clone(),
            topics: r.topics.iter().map(|t| t.get_ref().clone()).collect(),
            qos,
            client_id,
            clean_session: r.clean_session.unwrap_or(false),
            keep_alive_s,
            username: r.username.as_ref().map(|u| u.get_ref().clone()),
            password_env: r.password_env.as_ref().map(|p| p.get_ref().clone()),
            coalesce,
            tls,
        })
    }
}

impl Cx<'_> {
    /// The URL of an HTTP or WebSocket source: `scheme://host[:port]/...` with the plain scheme or
    /// the TLS one, and the source's TLS files.
    fn source_url(
        &self,
        id: &str,
        rs: &Spanned<RawSource>,
        plain: &str,
        tls: &str,
    ) -> Result<(String, TlsFiles), SceneError> {
        let Some(url) = &rs.get_ref().url else {
            return Err(self.err(rs.span(), format!("source `{id}`: needs url = \"{plain}://HOST:PORT/PATH\"")));
        };
        let text = url.get_ref();
        let (rest, secure) = match text.split_once("://") {
            Some((scheme, rest)) if scheme == plain => (rest, false),
            Some((scheme, rest)) if scheme == tls => (rest, true),
            _ => {
                return Err(
                    self.err(url.span(), format!("source `{id}`: `{text}` is not a {plain}:// or {tls}:// URL"))
                );
            }
        };
        let host = rest.split(['/', '?']).next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                self.err(url.span(), format!("source `{id}`: `{text}` has no host; use {plain}://HOST:PORT/PATH"))
            );
        }
        let files = self.tls_files(id, rs, secure, &format!("{tls}://"))?;
        Ok((text.clone(), files))
    }

    /// A source's `ca_file`, `client_cert_file` and `client_key_file`: existing files, the two of a
    /// client identity together, and only on a TLS address (`tls_scheme`).
    fn tls_files(
        &self,
        id: &str,
        rs: &Spanned<RawSource>,
        secure: bool,
        tls_scheme: &str,
    ) -> Result<TlsFiles, SceneError> {
        let r = rs.get_ref();
        let named = [
            ("ca_file", &r.ca_file),
            ("client_cert_file", &r.client_cert_file),
            ("client_key_file", &r.client_key_file),
        ];
        if !secure && let Some((key, Some(v))) = named.iter().find(|(_, v)| v.is_some()) {
            return Err(self.err(
                v.span(),
                format!("source `{id}`: `{key}` is for TLS, but the address is not {tls_scheme}; use {tls_scheme} or remove `{key}`"),
            ));
        }
        let ca_file = r.ca_file.as_ref().map(|f| self.existing_file(f, "ca_file", false)).transpose()?;
        let client_identity = match (&r.client_cert_file, &r.client_key_file) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some((
                self.existing_file(cert, "client_cert_file", false)?,
                self.existing_file(key, "client_key_file", false)?,
            )),
            (Some(one), None) | (None, Some(one)) => {
                return Err(self.err(
                    one.span(),
                    format!("source `{id}`: a client certificate needs both client_cert_file and client_key_file"),
                ));
            }
        };
        Ok(TlsFiles { ca_file, client_identity })
    }

    fn http_source(&self, id: &str, rs: &Spanned<RawSource>) -> Result<SourceKind, SceneError> {
        let r = rs.get_ref();
        let (url, tls) = self.source_url(id, rs, "http", "https")?;
        let seconds = |v: &Option<Spanned<f64>>, key: &str, range: (f64, f64), default: f64| match v {
            None => Ok(std::time::Duration::from_secs_f64(default)),
            Some(x) if (range.0..=range.1).contains(x.get_ref()) => {
                Ok(std::time::Duration::from_secs_f64(*x.get_ref()))
            }
            Some(x) => Err(self.err(
                x.span(),
                format!("source `{id}`: {key} = {} must be {} to {} seconds", x.get_ref(), range.0, range.1),
            )),
        };
        let interval = seconds(&r.interval_s, "interval_s", (0.1, 86_400.0), 5.0)?;
        let timeout = seconds(&r.timeout_s, "timeout_s", (0.1, 300.0), 10.0)?;
        let max_bytes = match &r.max_bytes {
            None => MAX_SOURCE_MESSAGE_BYTES,
            Some(m) if (1..=MAX_SOURCE_MESSAGE_BYTES as i64).contains(m.get_ref()) => *m.get_ref() as usize,
            Some(m) => {
                return Err(self.err(
                    m.span(),
                    format!("source `{id}`: max_bytes = {} must be 1 to {MAX_SOURCE_MESSAGE_BYTES}", m.get_ref()),
                ));
            }
        };
        Ok(SourceKind::Http { url, interval, timeout, max_bytes, content_type: self.content_type(id, r)?, tls })
    }

    fn websocket_source(&self, id: &str, rs: &Spanned<RawSource>) -> Result<SourceKind, SceneError> {
        let r = rs.get_ref();
        let (url, tls) = self.source_url(id, rs, "ws", "wss")?;
        let subscribe = match &r.subscribe {
            Some(t) if t.get_ref().len() > 65_536 => {
                return Err(self.err(t.span(), format!("source `{id}`: subscribe is over 64 KiB")));
            }
            other => other.as_ref().map(|t| t.get_ref().clone()),
        };
        Ok(SourceKind::WebSocket { url, subscribe, content_type: self.content_type(id, r)?, tls })
    }

    fn content_type(&self, id: &str, r: &RawSource) -> Result<Option<String>, SceneError> {
        match &r.content_type {
            Some(t) if t.get_ref().is_empty() || t.get_ref().len() > 128 || !t.get_ref().contains('/') => Err(self
                .err(
                    t.span(),
                    format!(
                        "source `{id}`: content_type = \"{}\" is not a media type like \"application/json\"",
                        t.get_ref()
                    ),
                )),
            other => Ok(other.as_ref().map(|t| t.get_ref().clone())),
        }
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
        let at = |host: &str, port, tls| Ok(BrokerAddress { host: host.into(), port, tls });
        assert_eq!(broker_address("mqtt://127.0.0.1:1884"), at("127.0.0.1", 1884, false));
        assert_eq!(broker_address("mqtt://broker.local"), at("broker.local", 1883, false));
        assert_eq!(broker_address("mqtts://broker.local"), at("broker.local", 8883, true));
        assert_eq!(broker_address("ssl://10.0.0.1:9883"), at("10.0.0.1", 9883, true));
        assert!(broker_address("http://x").unwrap_err().contains("unknown scheme"));
        assert!(broker_address("mqtt://x:port").unwrap_err().contains("not a port"));
    }
}
