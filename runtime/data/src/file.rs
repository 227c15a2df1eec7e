//! A recorded file replayed by its times: CSV (header row first) or JSON Lines, read line by line.
//!
//! Each row's time is read from the time column (CSV header name or JSON field): a number of
//! seconds, or a calendar time (RFC 3339, or `YYYY-MM-DD HH:MM:SS` as UTC). Consecutive rows with
//! the same time are one message (a CSV message starts with the header, so the adapter reads it as
//! a file of its own), sent when the replay reaches that time: the file's first time is the
//! replay's start, and `speed` scales the file's time to real time (`max`: as fast as the session
//! takes them). A row without a readable time goes with the rows before it (the adapter judges it)
//! and is counted; a line longer than [`MAX_LINE_BYTES`] is skipped and counted. With `loop`, the
//! file starts again at its end, every time shifted by the file's span plus its first interval, so
//! the twin's time keeps moving forward (numeric times only: a calendar time column is refused).
//! An untimed file (a list, e.g. of cells) has no time column: its rows go at the start, at most
//! [`UNTIMED_ROWS_PER_MESSAGE`] per message.
//!
//! Cost: one pass over the file per loop, the time field of each row parsed (the `csv` crate for
//! quoted fields); the rest of each row is handed on as it is.

use std::path::Path;
use std::time::Duration;

use sangam_twin::{FileFormat, ReplayPace, SourceDecl, SourceKind, UNTIMED_ROWS_PER_MESSAGE};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::time::Instant;

use crate::{MAX_MESSAGE_BYTES, Outlet, SharedStatus, SourceState, delivery, update};

/// The longest line read (1 MiB); a longer one is skipped, counted.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A row's time in seconds, from the time field's text: a number, an RFC 3339 time, or a calendar
/// time `YYYY-MM-DD HH:MM:SS` (or with `T`) taken as UTC. `None` when it is none of these.
pub fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(x) = text.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond() as f64 / 1e6);
    }
    let civil = text.parse::<jiff::civil::DateTime>().ok()?;
    let ts = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_microsecond() as f64 / 1e6)
}

/// How to find and rewrite the time of a row.
enum Rows {
    Csv { header: String, column: usize },
    Json { field: String },
}

impl Rows {
    /// The row's time field, as text.
    fn time(&self, line: &str) -> Option<String> {
        match self {
            Rows::Csv { column, .. } => {
                let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
                let record = reader.records().next()?.ok()?;
                record.get(*column).map(str::to_string)
            }
            Rows::Json { field } => match serde_json::from_str::<serde_json::Value>(line).ok()?.get(field)? {
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::String(s) => Some(s.clone()),
                _ => None,
            },
        }
    }

    /// The row with its time field replaced by `t` (seconds); `None` when it cannot be rewritten.
    fn shifted(&self, line: &str, t: f64) -> Option<String> {
        match self {
            Rows::Csv { column, .. } => {
                let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
                let record = reader.records().next()?.ok()?;
                let fields: Vec<String> = record
                    .iter()
                    .enumerate()
                    .map(|(i, f)| if i == *column { format_seconds(t) } else { f.to_string() })
                    .collect();
                let mut writer =
                    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
                writer.write_record(&fields).ok()?;
                let mut out = String::from_utf8(writer.into_inner().ok()?).ok()?;
                out.truncate(out.trim_end_matches('\n').len());
                Some(out)
            }
            Rows::Json { field } => {
                let mut value = serde_json::from_str::<serde_json::Value>(line).ok()?;
                let number = serde_json::Number::from_f64(t)?;
                *value.get_mut(field)? = serde_json::Value::Number(number);
                serde_json::to_string(&value).ok()
            }
        }
    }

    fn content_type(&self) -> &'static str {
        match self {
            Rows::Csv { .. } => "text/csv",
            Rows::Json { .. } => "application/x-ndjson",
        }
    }
}

fn format_seconds(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 1e15 { format!("{}", t as i64) } else { format!("{t}") }
}

/// Reads one line of at most [`MAX_LINE_BYTES`] into `buf` (without its end); `Ok(None)` at the
/// end of the file, `Ok(Some(false))` for a line too long (skipped).
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let n = (&mut *reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
        // Skip the rest of the long line.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let k = (&mut *reader).take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut rest).await?;
            if k == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(false));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(true))
}

/// A group of rows with one time, being gathered.
struct Group {
    time: f64,
    first_line: u64,
    rows: usize,
    text: String,
}

/// Replays the file of `decl` (see the module docs) until its end (or for ever, looped).
pub(crate) async fn replay(decl: SourceDecl, outlet: Outlet, status: SharedStatus) {
    let SourceKind::File { path, format, time_column, pace, looped } = &decl.kind else { return };
    if let Err(why) = replay_file(&decl, path, *format, time_column, *pace, *looped, &outlet, &status).await {
        tracing::error!(source = %decl.id, "{why}");
        update(&status, |s| s.state = SourceState::Failed(why));
    }
}

#[allow(clippy::too_many_arguments)]
async fn replay_file(
    decl: &SourceDecl,
    path: &Path,
    format: FileFormat,
    time_column: &str,
    pace: ReplayPace,
    looped: bool,
    outlet: &Outlet,
    status: &SharedStatus,
) -> Result<(), String> {
    let name = path.display().to_string();
    let untimed = pace == ReplayPace::Untimed;
    let started = Instant::now();
    let mut sequence = 0u64;
    // The file's time at the replay's start, and how far each pass is shifted.
    let mut origin: Option<f64> = None;
    let mut shift = 0.0;
    loop {
        let file = tokio::fs::File::open(path).await.map_err(|e| format!("cannot read {name}: {e}"))?;
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        let rows =
            match format {
                FileFormat::Csv => {
                    line_no += 1;
                    match read_line(&mut reader, &mut buf).await.map_err(|e| format!("cannot read {name}: {e}"))? {
                        Some(true) => {}
                        _ => return Err(format!("{name}: line 1 is no header row")),
                    }
                    let header = String::from_utf8_lossy(&buf).into_owned();
                    let mut names = csv::ReaderBuilder::new().has_headers(false).from_reader(header.as_bytes());
                    let record = names.records().next().and_then(Result::ok).unwrap_or_default();
                    if untimed {
                        // No time column: `column` is never read.
                        Rows::Csv { header, column: usize::MAX }
                    } else {
                        let column = record.iter().position(|h| h.trim() == time_column).ok_or_else(|| {
                    format!("{name}: the header has no `{time_column}` column; set time_column to one of its columns")
                })?;
                        Rows::Csv { header, column }
                    }
                }
                FileFormat::JsonLines => Rows::Json { field: time_column.to_string() },
            };
        update(status, |s| s.state = SourceState::Replaying);
        let (mut first, mut second, mut last): (Option<f64>, Option<f64>, f64) = (None, None, 0.0);
        let mut group: Option<Group> = None;
        loop {
            line_no += 1;
            match read_line(&mut reader, &mut buf).await.map_err(|e| format!("cannot read {name}: {e}"))? {
                None => break,
                Some(false) => {
                    update(status, |s| s.stats.malformed += 1);
                    continue;
                }
                Some(true) if buf.iter().all(u8::is_ascii_whitespace) => continue,
                Some(true) => {}
            }
            let line = String::from_utf8_lossy(&buf).into_owned();
            let field = if untimed { None } else { rows.time(&line) };
            let time = if untimed { Some(0.0) } else { field.as_deref().and_then(parse_time) };
            if looped && time.is_some() && field.as_deref().is_some_and(|f| f.trim().parse::<f64>().is_err()) {
                return Err(format!(
                    "{name}:{line_no}: loop needs numeric times (seconds) in `{time_column}`, to shift each pass; \
                     this one is a calendar time"
                ));
            }
            let (line, time) = match time {
                None => {
                    update(status, |s| s.stats.malformed += 1);
                    (line, None)
                }
                Some(t) if shift != 0.0 => match rows.shifted(&line, t + shift) {
                    Some(moved) => (moved, Some(t + shift)),
                    None => return Err(format!("{name}:{line_no}: the time cannot be shifted for the loop")),
                },
                Some(t) => (line, Some(t)),
            };
            if let Some(t) = time {
                let raw = t - shift;
                if first.is_none() {
                    first = Some(raw);
                } else if second.is_none() && Some(raw) != first {
                    second = Some(raw);
                }
                last = last.max(raw);
            }
            // A new time, or a group grown past the message cap: send what was gathered.
            let new_time = matches!((&group, time), (Some(g), Some(t)) if t != g.time);
            let full = group.as_ref().is_some_and(|g| {
                g.text.len() + line.len() + 1 > MAX_MESSAGE_BYTES || (untimed && g.rows >= UNTIMED_ROWS_PER_MESSAGE)
            });
            if new_time || full {
                let g = group.take().expect("a group is being gathered");
                sequence += 1;
                if !send(decl, &name, &rows, g, pace, started, &mut origin, sequence, outlet, status).await {
                    return Ok(());
                }
            }
            match &mut group {
                Some(g) => {
                    g.text.push_str(&line);
                    g.text.push('\n');
                    g.rows += 1;
                }
                None => {
                    let mut text = String::new();
                    if let Rows::Csv { header, .. } = &rows {
                        text.push_str(header);
                        text.push('\n');
                    }
                    text.push_str(&line);
                    text.push('\n');
                    // Untimed rows before any timed one go at the replay's start.
                    let time = time.or(origin.map(|o| o + shift)).unwrap_or(0.0);
                    group = Some(Group { time, first_line: line_no, rows: 1, text });
                }
            }
        }
        if let Some(g) = group.take() {
            sequence += 1;
            if !send(decl, &name, &rows, g, pace, started, &mut origin, sequence, outlet, status).await {
                return Ok(());
            }
        }
        let Some(first) = first else {
            update(status, |s| s.state = SourceState::Finished);
            return Ok(());
        };
        if !looped {
            update(status, |s| s.state = SourceState::Finished);
            return Ok(());
        }
        // The next pass starts one first interval after this one's last time.
        let interval = second.map_or(1.0, |s| s - first);
        shift += last - first + interval;
    }
}

/// Waits until the replay reaches `group`'s time, then hands it on; `false` once the session has
/// gone.
#[allow(clippy::too_many_arguments)]
async fn send(
    decl: &SourceDecl,
    name: &str,
    rows: &Rows,
    group: Group,
    pace: ReplayPace,
    started: Instant,
    origin: &mut Option<f64>,
    sequence: u64,
    outlet: &Outlet,
    status: &SharedStatus,
) -> bool {
    let start = *origin.get_or_insert(group.time);
    if let ReplayPace::Times(speed) = pace {
        let wait = ((group.time - start) / speed).max(0.0);
        tokio::time::sleep_until(started + Duration::from_secs_f64(wait.min(1e9))).await;
    }
    let bytes = group.text.len() as u64;
    let d =
        delivery(decl, format!("{name}:{}", group.first_line), rows.content_type(), group.text.into_bytes(), sequence);
    if !outlet.send(d).await {
        return false;
    }
    update(status, |s| {
        s.stats.messages += 1;
        s.stats.bytes += bytes;
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_numbers_rfc3339_or_utc_calendar_times() {
        assert_eq!(parse_time("12.5"), Some(12.5));
        assert_eq!(parse_time(" 1700000000 "), Some(1_700_000_000.0));
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Some(60.0));
        assert_eq!(parse_time("1970-01-01 01:00:00"), Some(3600.0));
        assert_eq!(parse_time("2024-03-01T05:30:00+05:30"), parse_time("2024-03-01 00:00:00"));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("NaN"), None);
    }

    #[test]
    fn a_row_s_time_is_found_and_shifted_in_quoted_csv_and_in_json() {
        let csv = Rows::Csv { header: "id,time,note".into(), column: 1 };
        assert_eq!(csv.time("c1,\"30\",\"a, b\"").as_deref(), Some("30"));
        assert_eq!(csv.shifted("c1,30,\"a, b\"", 90.0).as_deref(), Some("c1,90,\"a, b\""));
        let json = Rows::Json { field: "t".into() };
        assert_eq!(json.time(r#"{"id":"c1","t":30}"#).as_deref(), Some("30"));
        assert_eq!(json.shifted(r#"{"id":"c1","t":30}"#, 90.5).as_deref(), Some(r#"{"id":"c1","t":90.5}"#));
        assert_eq!(json.time("not json"), None);
    }
}
