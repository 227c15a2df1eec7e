//! Cell lists: OpenCellID's CSV schema (`mcc,mnc,tac,cid,lat,lon`, more columns allowed), one cell
//! per row, optionally with `site` (the id of an existing tower entity the cell is on), `sector`,
//! `azimuth` (degrees) and `radio` (`LTE`, `NR`, ...). OpenCellID's own `area` and `cell` names are
//! read as `tac` and `cid`, and `long` as `lon`.
//!
//! Cost: one pass over the message (the `csv` crate, for quoted fields); the header's columns are
//! looked up once per message.

use csv::{ReaderBuilder, StringRecord};

/// One cell of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct CellRow {
    /// Mobile country code (404 and 405 for India).
    pub mcc: u16,
    /// Mobile network code.
    pub mnc: u16,
    /// Tracking (LTE/NR) or location (GSM/UMTS) area code.
    pub tac: u32,
    /// Cell id (for LTE, 256 x eNodeB id + sector).
    pub cid: u64,
    /// WGS84 latitude, degrees.
    pub lat: f64,
    /// WGS84 longitude, degrees.
    pub lon: f64,
    /// The tower entity the list puts the cell on, if it names one.
    pub site: Option<String>,
    /// The sector number, if given.
    pub sector: Option<u32>,
    /// The sector's azimuth, degrees clockwise from north, if given.
    pub azimuth: Option<f64>,
    /// The radio technology, if given.
    pub radio: Option<String>,
}

impl CellRow {
    /// The cell's global id, `MCC-MNC-TAC-CID` (what KPI messages name it by).
    pub fn global_id(&self) -> String {
        format!("{}-{}-{}-{}", self.mcc, self.mnc, self.tac, self.cid)
    }
}

/// The cells of one message and the rows that were not cells: (line in the message, why).
#[derive(Debug, Default)]
pub struct CellList {
    /// Good rows, in order.
    pub cells: Vec<CellRow>,
    /// Bad rows.
    pub bad: Vec<(u64, String)>,
}

/// Where the columns are.
struct Columns {
    mcc: usize,
    mnc: usize,
    tac: usize,
    cid: usize,
    lat: usize,
    lon: usize,
    site: Option<usize>,
    sector: Option<usize>,
    azimuth: Option<usize>,
    radio: Option<usize>,
}

impl Columns {
    fn find(header: &StringRecord) -> Result<Columns, String> {
        let find = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)));
        let need = |names: &[&str]| {
            find(names).ok_or_else(|| {
                format!(
                    "the header has no `{}` column; a cell list needs mcc,mnc,tac,cid,lat,lon (OpenCellID's schema)",
                    names[0]
                )
            })
        };
        Ok(Columns {
            mcc: need(&["mcc"])?,
            mnc: need(&["mnc", "net"])?,
            tac: need(&["tac", "area", "lac"])?,
            cid: need(&["cid", "cell"])?,
            lat: need(&["lat"])?,
            lon: need(&["lon", "long"])?,
            site: find(&["site"]),
            sector: find(&["sector"]),
            azimuth: find(&["azimuth"]),
            radio: find(&["radio"]),
        })
    }
}

/// Reads a cell list; `Err` when the message has no usable header.
pub fn parse(payload: &[u8]) -> Result<CellList, String> {
    let mut reader = ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(payload);
    let header = reader.headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
    let columns = Columns::find(&header)?;
    let mut list = CellList::default();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        match record {
            Ok(r) if r.iter().all(str::is_empty) => {}
            Ok(r) => match row(&columns, &r) {
                Ok(cell) => list.cells.push(cell),
                Err(why) => list.bad.push((line, why)),
            },
            Err(e) => list.bad.push((line, format!("unreadable row: {e}"))),
        }
    }
    Ok(list)
}

fn row(c: &Columns, r: &StringRecord) -> Result<CellRow, String> {
    let field = |i: usize, name: &str| r.get(i).filter(|s| !s.is_empty()).ok_or_else(|| format!("no `{name}`"));
    let int = |i: usize, name: &str, max: u64| -> Result<u64, String> {
        let text = field(i, name)?;
        text.parse::<u64>()
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| format!("`{name}` = {text:?} is not a whole number from 0 to {max}"))
    };
    let degrees = |i: usize, name: &str, limit: f64| -> Result<f64, String> {
        let text = field(i, name)?;
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && v.abs() <= limit)
            .ok_or_else(|| format!("`{name}` = {text:?} is not a number of degrees from -{limit} to {limit}"))
    };
    let optional = |i: Option<usize>| i.and_then(|i| r.get(i)).filter(|s| !s.is_empty());
    let lat = degrees(c.lat, "lat", 90.0)?;
    let lon = degrees(c.lon, "lon", 180.0)?;
    if lat == 0.0 && lon == 0.0 {
        return Err("the position is 0, 0 (no position)".into());
    }
    let azimuth = match optional(c.azimuth) {
        None => None,
        Some(text) => Some(
            text.parse::<f64>()
                .ok()
                .filter(|a| (0.0..=360.0).contains(a))
                .ok_or_else(|| format!("`azimuth` = {text:?} is not 0 to 360 degrees"))?,
        ),
    };
    let sector = match optional(c.sector) {
        None => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| format!("`sector` = {text:?} is not a whole number"))?),
    };
    // Bounded so a hostile list cannot make ids of any length.
    let short = |s: &str, name: &str| {
        if s.len() > 128 { Err(format!("`{name}` is longer than 128 bytes")) } else { Ok(s.to_string()) }
    };
    Ok(CellRow {
        mcc: int(c.mcc, "mcc", 999)? as u16,
        mnc: int(c.mnc, "mnc", 999)? as u16,
        tac: int(c.tac, "tac", u32::MAX as u64)? as u32,
        cid: int(c.cid, "cid", 1 << 36)?,
        lat,
        lon,
        site: optional(c.site).map(|s| short(s, "site")).transpose()?,
        sector,
        azimuth,
        radio: optional(c.radio).map(|s| short(s, "radio")).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opencellid_rows_and_the_optional_columns_are_read() {
        let list = parse(
            b"radio,mcc,net,area,cell,unit,lon,lat\nLTE,404,10,1201,3073,0,77.2113,28.5706\n\
              GSM,404,10,12,x,0,77.2,28.5\n",
        )
        .unwrap();
        assert_eq!(list.cells.len(), 1);
        let c = &list.cells[0];
        assert_eq!((c.mcc, c.mnc, c.tac, c.cid), (404, 10, 1201, 3073));
        assert_eq!((c.lat, c.lon), (28.5706, 77.2113));
        assert_eq!(c.radio.as_deref(), Some("LTE"));
        assert_eq!(c.global_id(), "404-10-1201-3073");
        assert_eq!(list.bad.len(), 1);
        assert_eq!(list.bad[0].0, 3);
        assert!(list.bad[0].1.contains("`cid` = \"x\""), "{:?}", list.bad);
    }

    #[test]
    fn a_list_without_a_needed_column_is_refused_and_bad_positions_are_rows_skipped() {
        let e = parse(b"mcc,mnc,cid,lat,lon\n404,10,1,28,77\n").unwrap_err();
        assert!(e.contains("no `tac` column"), "{e}");
        let list =
            parse(b"mcc,mnc,tac,cid,lat,lon,azimuth\n404,1,1,1,95,77,\n404,1,1,2,0,0,\n404,1,1,3,28,77,400\n").unwrap();
        assert!(list.cells.is_empty());
        let why: Vec<&str> = list.bad.iter().map(|b| b.1.as_str()).collect();
        assert!(why[0].contains("`lat`") && why[1].contains("0, 0") && why[2].contains("azimuth"), "{why:?}");
    }
}
