//! CSV rows to property updates: pure Rust, no host calls (unit-tested on the build machine).
//!
//! The first line the parser sees is the header. It names the columns: an entity id column (or a
//! fixed entity for feeds about one thing), a timestamp column, and value columns. A value column
//! either carries its unit in the header (`flow[veh/h]`) or is chosen by the `columns` parameter
//! (`traffic_volume[veh/h]=traffic.flow`), which also renames it to a twin property.
//!
//! One message carries one time slice: the updates of a call all share one time (the WIT's `updates`
//! record has one), so rows older than the newest row of the same message are dropped and counted
//! (`superseded`). A file replay that sends one line per message loses nothing.
//!
//! Bad rows (wrong number of fields, unterminated quote, bad timestamp, empty id, over-long line) are
//! skipped and counted; bad value cells (empty, not a number, not finite) are skipped and counted
//! while the rest of the row is kept. Nothing here panics on input.

use std::collections::HashMap;

use sangam_sdk::{TimeUs, Updates};

/// The longest line accepted (longer ones are bad rows).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Which column becomes which property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column name in the header (without any `[unit]`).
    pub column: String,
    /// The unit symbol (may be empty).
    pub unit: String,
    /// The twin property it is written to.
    pub property: String,
}

/// What the parameters say about the feed.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Name of the entity id column.
    pub id_column: String,
    /// Entity id used when the header has no id column (empty: the id column is required).
    pub entity: String,
    /// Name of the timestamp column.
    pub time_column: String,
    /// Value columns; `None`: every header column written `name[unit]`.
    pub columns: Option<Vec<ColumnSpec>>,
    /// Prefix for property names of header-declared columns.
    pub prefix: String,
    /// The calendar time (as Unix microseconds) that is simulation time 0.
    pub epoch_unix_us: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            id_column: "id".into(),
            entity: String::new(),
            time_column: "time".into(),
            columns: None,
            prefix: String::new(),
            epoch_unix_us: 0,
        }
    }
}

/// Splits `name[unit]` into the name and the unit; a cell without brackets has no unit.
///
/// ```
/// assert_eq!(csv_adapter::csv::split_unit("flow[veh/h]"), ("flow", Some("veh/h")));
/// assert_eq!(csv_adapter::csv::split_unit("station"), ("station", None));
/// ```
pub fn split_unit(cell: &str) -> (&str, Option<&str>) {
    let cell = cell.trim();
    match (cell.find('['), cell.ends_with(']')) {
        (Some(open), true) => (cell[..open].trim(), Some(cell[open + 1..cell.len() - 1].trim())),
        _ => (cell, None),
    }
}

/// Parses the `columns` parameter: comma-separated `column[unit]=property` entries, where `[unit]`
/// and `=property` are optional (the property defaults to the column name).
pub fn parse_columns(spec: &str) -> Result<Vec<ColumnSpec>, String> {
    let mut out = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (left, property) = match entry.split_once('=') {
            Some((l, p)) => (l.trim(), p.trim()),
            None => (entry, ""),
        };
        let (column, unit) = split_unit(left);
        if column.is_empty() {
            return Err(format!("parameter `columns`: entry {entry:?} names no column"));
        }
        if left.contains('[') && unit.is_none() {
            return Err(format!("parameter `columns`: entry {entry:?} has an unclosed `[unit]`"));
        }
        let property = if property.is_empty() { column } else { property };
        out.push(ColumnSpec { column: column.into(), unit: unit.unwrap_or("").into(), property: property.into() });
    }
    Ok(out)
}

/// Parses a timestamp into Unix microseconds (the SDK's rules, shared by every adapter).
pub use sangam_sdk::timestamps::parse_time;

/// Splits one CSV record (RFC 4180 quoting: `"a,b"` and `""` inside quotes). `None` for an
/// unterminated quote or text after a closing quote.
pub fn split_record(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Some(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Why a row was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadRow {
    /// The line is longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// An unterminated quote or text after a closing quote.
    Quoting,
    /// Another number of fields than the header has.
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// The timestamp cell is not a time this parser reads, or is out of range.
    Time(String),
    /// The id cell is empty.
    EmptyId,
    /// The bytes are not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRow::TooLong => write!(f, "line longer than {MAX_LINE_BYTES} bytes"),
            BadRow::Quoting => write!(f, "unterminated quote or text after a closing quote"),
            BadRow::FieldCount { expected, found } => write!(f, "{found} fields, the header has {expected}"),
            BadRow::Time(t) => write!(f, "timestamp {t:?} is not YYYY-MM-DD HH:MM:SS or seconds"),
            BadRow::EmptyId => write!(f, "empty entity id"),
            BadRow::NotUtf8 => write!(f, "not UTF-8"),
        }
    }
}

/// Counters over the life of the parser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Data rows read (good and bad).
    pub rows: u64,
    /// Rows skipped as bad.
    pub bad_rows: u64,
    /// Value cells skipped (empty, not a number, not finite).
    pub bad_values: u64,
    /// Rows dropped because a newer row came in the same message.
    pub superseded: u64,
    /// Values written to updates.
    pub values: u64,
}

/// Where the columns are, once the header is known.
#[derive(Clone, Debug)]
struct Layout {
    header: String,
    width: usize,
    id: Option<usize>,
    time: usize,
    values: Vec<(usize, ColumnSpec)>,
}

/// What one message produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Entity ids; the updates refer to them by index.
    pub keys: Vec<String>,
    /// The values of the newest time slice in the message (empty when there were no good rows).
    pub updates: Updates,
    /// The bad rows of this message: 1-based line number within the message, and why.
    pub bad: Vec<(usize, BadRow)>,
}

/// The CSV parser: remembers the header across messages.
#[derive(Clone, Debug)]
pub struct CsvParser {
    config: Config,
    layout: Option<Layout>,
    stats: Stats,
}

impl CsvParser {
    /// A parser for `config` that has not seen the header yet.
    pub fn new(config: Config) -> Self {
        CsvParser { config, layout: None, stats: Stats::default() }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Reads the header line, fixing the layout. An error names what is missing.
    fn read_header(&mut self, line: &str) -> Result<(), String> {
        let cells = split_record(line).ok_or("the header line has an unterminated quote")?;
        let names: Vec<(&str, Option<&str>)> = cells.iter().map(|c| split_unit(c)).collect();
        let find = |wanted: &str| names.iter().position(|(n, _)| *n == wanted);
        let time = find(&self.config.time_column).ok_or_else(|| {
            format!(
                "the header has no timestamp column `{}` (parameter `time-column`); it has: {}",
                self.config.time_column,
                cells.join(", ")
            )
        })?;
        let id = find(&self.config.id_column);
        if id.is_none() && self.config.entity.is_empty() {
            return Err(format!(
                "the header has no entity id column `{}` (parameter `id-column`) and parameter `entity` is empty; \
                 set one of them",
                self.config.id_column
            ));
        }
        let values: Vec<(usize, ColumnSpec)> = match &self.config.columns {
            Some(specs) => specs
                .iter()
                .map(|s| {
                    find(&s.column)
                        .map(|i| (i, s.clone()))
                        .ok_or_else(|| format!("parameter `columns` names `{}`, which the header lacks", s.column))
                })
                .collect::<Result<_, _>>()?,
            None => names
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != time && Some(*i) != id)
                .filter_map(|(i, (name, unit))| {
                    unit.map(|u| {
                        let property = format!("{}{name}", self.config.prefix);
                        (i, ColumnSpec { column: (*name).into(), unit: u.into(), property })
                    })
                })
                .collect(),
        };
        if values.is_empty() {
            return Err(
                "no value columns: write units in the header (`flow[veh/h]`) or list columns in parameter `columns`"
                    .into(),
            );
        }
        self.layout = Some(Layout { header: line.to_string(), width: cells.len(), id, time, values });
        Ok(())
    }

    /// Reads one message: header and/or rows. An `Err` only for a header the parser cannot use.
    pub fn feed(&mut self, payload: &[u8]) -> Result<Batch, String> {
        let mut bad = Vec::new();
        // Rows of the newest time slice: (time, key, values).
        let mut newest: Option<TimeUs> = None;
        let mut rows: Vec<(String, Vec<(usize, f64)>)> = Vec::new();

        for (n, raw) in payload.split(|&b| b == b'\n').enumerate() {
            let line_no = n + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(line) = std::str::from_utf8(raw) else {
                self.stats.rows += 1;
                self.stats.bad_rows += 1;
                bad.push((line_no, BadRow::NotUtf8));
                continue;
            };
            let line = line.strip_prefix('\u{feff}').unwrap_or(line);
            let Some(layout) = &self.layout else {
                self.read_header(line)?;
                continue;
            };
            if line == layout.header {
                continue; // a replay that repeats the header
            }
            self.stats.rows += 1;
            match self.parse_row(line) {
                Err(why) => {
                    self.stats.bad_rows += 1;
                    bad.push((line_no, why));
                }
                Ok((time, key, values)) => match newest {
                    Some(t) if time < t => self.stats.superseded += 1,
                    Some(t) if time == t => rows.push((key, values)),
                    _ => {
                        self.stats.superseded += rows.len() as u64;
                        rows.clear();
                        newest = Some(time);
                        rows.push((key, values));
                    }
                },
            }
        }

        let mut updates = Updates::new(newest.unwrap_or(0));
        let mut keys = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let layout = self.layout.as_ref();
        for (key, values) in rows {
            let next = keys.len() as u32;
            let entity = *index.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                next
            });
            for (v, value) in values {
                if let Some((_, spec)) = layout.and_then(|l| l.values.get(v)) {
                    updates.push_number(&spec.property, &spec.unit, entity, value);
                    self.stats.values += 1;
                }
            }
        }
        Ok(Batch { keys, updates, bad })
    }

    /// One data row: its time (simulation microseconds), entity id and good values (index into the
    /// layout's value columns, value).
    #[allow(clippy::type_complexity)]
    fn parse_row(&mut self, line: &str) -> Result<(TimeUs, String, Vec<(usize, f64)>), BadRow> {
        let layout = self.layout.as_ref().ok_or(BadRow::Quoting)?;
        if line.len() > MAX_LINE_BYTES {
            return Err(BadRow::TooLong);
        }
        let cells = split_record(line).ok_or(BadRow::Quoting)?;
        if cells.len() != layout.width {
            return Err(BadRow::FieldCount { expected: layout.width, found: cells.len() });
        }
        let time_cell = &cells[layout.time];
        let time = parse_time(time_cell)
            .and_then(|t| t.checked_sub(self.config.epoch_unix_us))
            .ok_or_else(|| BadRow::Time(time_cell.chars().take(64).collect()))?;
        let key = match layout.id {
            Some(i) => cells[i].trim().to_string(),
            None => self.config.entity.clone(),
        };
        if key.is_empty() {
            return Err(BadRow::EmptyId);
        }
        let mut values = Vec::with_capacity(layout.values.len());
        let mut bad_values = 0;
        for (v, (column, _)) in layout.values.iter().enumerate() {
            match cells[*column].trim().parse::<f64>() {
                Ok(x) if x.is_finite() => values.push((v, x)),
                _ => bad_values += 1,
            }
        }
        self.stats.bad_values += bad_values;
        Ok((time, key, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(columns: Option<&str>) -> Config {
        Config {
            id_column: "station".into(),
            time_column: "time".into(),
            columns: columns.map(|c| parse_columns(c).unwrap()),
            ..Config::default()
        }
    }

    #[test]
    fn header_units_name_value_columns() {
        let mut p = CsvParser::new(config(None));
        let b = p
            .feed(b"station,time,flow[veh/h],speed [km/h],note\nA,1970-01-01 00:00:10,1200,55.5,x\nB,1970-01-01 00:00:10,300,,y\n")
            .unwrap();
        assert_eq!(b.keys, vec!["A", "B"]);
        assert_eq!(b.updates.time, 10_000_000);
        let flow = &b.updates.numbers[0];
        assert_eq!((flow.property.as_str(), flow.unit.as_str()), ("flow", "veh/h"));
        assert_eq!((flow.entities.clone(), flow.values.clone()), (vec![0, 1], vec![1200.0, 300.0]));
        let speed = &b.updates.numbers[1];
        assert_eq!((speed.unit.as_str(), speed.entities.clone()), ("km/h", vec![0]));
        assert_eq!(p.stats(), Stats { rows: 2, bad_rows: 0, bad_values: 1, superseded: 0, values: 3 });
    }

    #[test]
    fn columns_parameter_renames_and_sets_units() {
        let specs = parse_columns(" traffic_volume[veh/h]=traffic.flow, temp[K] ,x").unwrap();
        assert_eq!(
            specs[0],
            ColumnSpec { column: "traffic_volume".into(), unit: "veh/h".into(), property: "traffic.flow".into() }
        );
        assert_eq!(specs[1].property, "temp");
        assert_eq!(specs[2].unit, "");
        assert!(parse_columns("[m]=x").is_err());
        assert!(parse_columns("a[m=x").is_err());
    }

    #[test]
    fn bad_rows_are_counted_not_fatal() {
        let mut p = CsvParser::new(config(Some("flow[veh/h]")));
        let payload = "station,time,flow\n\
                       A,1970-01-01 00:01:00,5\n\
                       A,1970-01-01 00:01:00\n\
                       ,1970-01-01 00:01:00,5\n\
                       B,yesterday,5\n\
                       \"C,1970-01-01 00:01:00,5\n\
                       D,1970-01-01 00:01:00,NaN\n\
                       E,1970-01-01 00:01:00,inf\n\
                       F,1970-13-01 00:01:00,1\n";
        let mut bytes = payload.as_bytes().to_vec();
        bytes.extend_from_slice(b"G,1970-01-01 00:01:00,\xff\xfe\n");
        let b = p.feed(&bytes).unwrap();
        let reasons: Vec<_> = b.bad.iter().map(|(line, why)| (*line, why.clone())).collect();
        assert_eq!(
            reasons,
            vec![
                (3, BadRow::FieldCount { expected: 3, found: 2 }),
                (4, BadRow::EmptyId),
                (5, BadRow::Time("yesterday".into())),
                (6, BadRow::Quoting),
                (9, BadRow::Time("1970-13-01 00:01:00".into())),
                (10, BadRow::NotUtf8),
            ]
        );
        // A, D and E are good rows; D's and E's values are bad cells.
        assert_eq!(b.keys, vec!["A", "D", "E"]);
        assert_eq!(b.updates.numbers[0].values, vec![5.0]);
        assert_eq!(p.stats(), Stats { rows: 9, bad_rows: 6, bad_values: 2, superseded: 0, values: 1 });
    }

    #[test]
    fn one_time_slice_per_message() {
        let mut p = CsvParser::new(config(Some("flow")));
        p.feed(b"station,time,flow\n").unwrap();
        let b = p.feed(b"A,10,1\nA,30,3\nB,30,4\nB,20,2\n").unwrap();
        assert_eq!(b.updates.time, 30_000_000);
        assert_eq!(b.keys, vec!["A", "B"]);
        assert_eq!(b.updates.numbers[0].values, vec![3.0, 4.0]);
        assert_eq!(p.stats().superseded, 2);
    }

    #[test]
    fn header_errors_say_what_to_set() {
        let e = CsvParser::new(config(None)).feed(b"station,when,flow[veh/h]\n").unwrap_err();
        assert!(e.contains("no timestamp column `time`") && e.contains("when"), "{e}");
        let e = CsvParser::new(config(None)).feed(b"id,time,flow[veh/h]\n").unwrap_err();
        assert!(e.contains("parameter `entity` is empty"), "{e}");
        let e = CsvParser::new(config(None)).feed(b"station,time,flow\n").unwrap_err();
        assert!(e.contains("no value columns"), "{e}");
        let e = CsvParser::new(config(Some("speed"))).feed(b"station,time,flow\n").unwrap_err();
        assert!(e.contains("`speed`"), "{e}");
    }

    #[test]
    fn quoted_fields_and_crlf() {
        assert_eq!(split_record(r#"a,"b,c","d""e",,"#).unwrap(), vec!["a", "b,c", "d\"e", "", ""]);
        assert_eq!(split_record(r#""a"x,b"#), None);
        let mut p = CsvParser::new(config(None));
        let b = p.feed(b"\xef\xbb\xbfstation,time,\"v[m]\"\r\n\"S 1\",0,2.5\r\n").unwrap();
        assert_eq!(b.keys, vec!["S 1"]);
        assert_eq!(b.updates.numbers[0].values, vec![2.5]);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A deterministic pseudo-random byte soup with CSV punctuation mixed in.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut bytes = b"id,time,v[x]\n".to_vec();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let alphabet = b",\"\n\r0123456789.-: T\xff";
            bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let mut p = CsvParser::new(Config::default());
        let b = p.feed(&bytes).unwrap();
        let s = p.stats();
        assert_eq!(b.bad.len() as u64, s.bad_rows, "every bad row is reported once");
        assert!(b.updates.numbers.iter().all(|c| c.values.iter().all(|v| v.is_finite())));
        assert!(s.rows > 100, "the soup should hold many lines, got {s:?}");
    }
}
