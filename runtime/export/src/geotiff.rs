//! A raster of the site frame as a GeoTIFF: one band of 32-bit floats, NaN as no data, geo-referenced
//! in a Transverse Mercator projection centred on the scene's origin.
//!
//! Why that projection: the site frame is a local east-north plane around the scene's geodetic
//! origin (`sangam_twin::EnuFrame`), and a Transverse Mercator with its natural origin there, scale 1
//! and no false easting or northing is the same plane to well under a millimetre over a city (the
//! two differ by about s^3 / (3 R^2): 0.1 mm at 2.5 km). So the raster's grid, regular in the site
//! frame, is regular in the file's projection too: no resampling, every cell where it was computed.
//! GDAL reads the user-defined projection from the GeoKeys (TR 1.0 of GeoTIFF, OGC 19-008r4) and
//! reprojects it to anything else.
//!
//! Tags: ModelPixelScale and ModelTiepoint (the north-west corner; TIFF rows run south), the
//! GeoKey directory with its double and ASCII parameters, GDAL_NODATA = `nan`, and GDAL_METADATA
//! with the band's unit and description, so `gdalinfo` shows them.
//!
//! Written by hand on the `tiff` encoder: the GeoTIFF crates of the ecosystem read GeoTIFF but do not
//! write the GeoKeys.
//!
//! Bounded: at most [`MAX_CELLS`] cells. Cost: one pass over the values, written uncompressed in
//! strips.

use std::io::{Seek, Write};
use std::path::Path;

use sangam_twin::Geodetic;
use tiff::encoder::{TiffEncoder, colortype::Gray32Float};
use tiff::tags::Tag;

/// The most cells of one raster (64M: 256 MiB of floats).
pub const MAX_CELLS: usize = 1 << 26;

/// A raster of the site frame: row-major from the south-west corner, rows running north.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Raster<'a> {
    /// The south-west corner of cell (0, 0), metres east and north of the scene's origin.
    pub origin_m: [f64; 2],
    /// Cell edge, m.
    pub cell_m: f64,
    /// Cells per row.
    pub columns: u32,
    /// Rows.
    pub rows: u32,
    /// `columns x rows` values; NaN is no data.
    pub values: &'a [f32],
    /// The values' unit, e.g. `dBm`.
    pub unit: &'a str,
    /// What the layer is, e.g. `RSRP of the best server, scenario tilt+2`.
    pub description: &'a str,
}

/// What stops a raster from being written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The raster is not usable (its size, its values, its cell size).
    #[error("{0}")]
    Raster(String),
    /// The file could not be written.
    #[error("cannot write {path}: {why}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// GeoKey ids (GeoTIFF 1.1, OGC 19-008r4, Annex B).
mod key {
    pub const GT_MODEL_TYPE: u16 = 1024;
    pub const GT_RASTER_TYPE: u16 = 1025;
    pub const GT_CITATION: u16 = 1026;
    pub const GEOGRAPHIC_TYPE: u16 = 2048;
    pub const PROJECTED_CS_TYPE: u16 = 3072;
    pub const PROJECTION: u16 = 3074;
    pub const PROJ_COORD_TRANS: u16 = 3075;
    pub const PROJ_LINEAR_UNITS: u16 = 3076;
    pub const PROJ_NAT_ORIGIN_LONG: u16 = 3080;
    pub const PROJ_NAT_ORIGIN_LAT: u16 = 3081;
    pub const PROJ_FALSE_EASTING: u16 = 3082;
    pub const PROJ_FALSE_NORTHING: u16 = 3083;
    pub const PROJ_SCALE_AT_NAT_ORIGIN: u16 = 3092;
    /// Values of the keys.
    pub const MODEL_TYPE_PROJECTED: u16 = 1;
    pub const RASTER_PIXEL_IS_AREA: u16 = 1;
    pub const GCS_WGS84: u16 = 4326;
    pub const USER_DEFINED: u16 = 32767;
    pub const CT_TRANSVERSE_MERCATOR: u16 = 1;
    pub const LINEAR_METER: u16 = 9001;
}

/// Tag locations of a key's value: inline, or an index into the double / ASCII parameters.
const DOUBLE_PARAMS: u16 = 34736;
const ASCII_PARAMS: u16 = 34737;

/// Writes `raster` to `path`, placed by the scene's geodetic `origin`.
pub fn write(path: &Path, raster: &Raster<'_>, origin: &Geodetic) -> Result<(), ExportError> {
    let failed = |why: String| ExportError::Write { path: path.display().to_string(), why };
    let file = std::fs::File::create(path).map_err(|e| failed(e.to_string()))?;
    let mut writer = std::io::BufWriter::new(file);
    write_to(&mut writer, raster, origin)?;
    writer.flush().map_err(|e| failed(e.to_string()))
}

/// Writes `raster` as a GeoTIFF into `out`.
pub fn write_to<W: Write + Seek>(out: &mut W, raster: &Raster<'_>, origin: &Geodetic) -> Result<(), ExportError> {
    let cells = raster.columns as usize * raster.rows as usize;
    if cells == 0 || cells > MAX_CELLS {
        return Err(ExportError::Raster(format!(
            "a raster of {} x {} cells: it needs 1 to {MAX_CELLS}",
            raster.columns, raster.rows
        )));
    }
    if raster.values.len() != cells {
        return Err(ExportError::Raster(format!(
            "{} values for {} x {} cells",
            raster.values.len(),
            raster.columns,
            raster.rows
        )));
    }
    if !(raster.cell_m.is_finite() && raster.cell_m > 0.0 && raster.origin_m.iter().all(|v| v.is_finite())) {
        return Err(ExportError::Raster(format!(
            "cell size {} m at {:?}: needs a positive size and a finite corner",
            raster.cell_m, raster.origin_m
        )));
    }
    if let Some(v) = raster.values.iter().find(|v| v.is_infinite()) {
        return Err(ExportError::Raster(format!("a value of {v}: values are finite numbers or NaN (no data)")));
    }
    let tiff_error = |e: tiff::TiffError| ExportError::Raster(format!("TIFF encoder: {e}"));
    // TIFF rows run from the north: the raster's last row first.
    let width = raster.columns as usize;
    let mut north_first = Vec::with_capacity(cells);
    for row in (0..raster.rows as usize).rev() {
        north_first.extend_from_slice(&raster.values[row * width..(row + 1) * width]);
    }
    let north_m = raster.origin_m[1] + raster.rows as f64 * raster.cell_m;
    let mut encoder = TiffEncoder::new(out).map_err(tiff_error)?;
    let mut image = encoder.new_image::<Gray32Float>(raster.columns, raster.rows).map_err(tiff_error)?;
    let doubles = [origin.lon_deg, origin.lat_deg, 0.0, 0.0, 1.0];
    let citation = "Sangam site frame: Transverse Mercator at the scene origin, WGS 84|";
    let directory: Vec<u16> = [
        [1, 1, 0, 13],
        [key::GT_MODEL_TYPE, 0, 1, key::MODEL_TYPE_PROJECTED],
        [key::GT_RASTER_TYPE, 0, 1, key::RASTER_PIXEL_IS_AREA],
        [key::GT_CITATION, ASCII_PARAMS, citation.len() as u16, 0],
        [key::GEOGRAPHIC_TYPE, 0, 1, key::GCS_WGS84],
        [key::PROJECTED_CS_TYPE, 0, 1, key::USER_DEFINED],
        [key::PROJECTION, 0, 1, key::USER_DEFINED],
        [key::PROJ_COORD_TRANS, 0, 1, key::CT_TRANSVERSE_MERCATOR],
        [key::PROJ_LINEAR_UNITS, 0, 1, key::LINEAR_METER],
        [key::PROJ_NAT_ORIGIN_LONG, DOUBLE_PARAMS, 1, 0],
        [key::PROJ_NAT_ORIGIN_LAT, DOUBLE_PARAMS, 1, 1],
        [key::PROJ_FALSE_EASTING, DOUBLE_PARAMS, 1, 2],
        [key::PROJ_FALSE_NORTHING, DOUBLE_PARAMS, 1, 3],
        [key::PROJ_SCALE_AT_NAT_ORIGIN, DOUBLE_PARAMS, 1, 4],
    ]
    .concat();
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let metadata = format!(
        "<GDALMetadata><Item name=\"DESCRIPTION\" sample=\"0\" role=\"description\">{}</Item>\
         <Item name=\"UNITTYPE\" sample=\"0\" role=\"unittype\">{}</Item></GDALMetadata>",
        escape(raster.description),
        escape(raster.unit)
    );
    {
        let dir = image.encoder();
        dir.write_tag(Tag::ModelPixelScaleTag, &[raster.cell_m, raster.cell_m, 0.0][..]).map_err(tiff_error)?;
        dir.write_tag(Tag::ModelTiepointTag, &[0.0, 0.0, 0.0, raster.origin_m[0], north_m, 0.0][..])
            .map_err(tiff_error)?;
        dir.write_tag(Tag::GeoKeyDirectoryTag, &directory[..]).map_err(tiff_error)?;
        dir.write_tag(Tag::GeoDoubleParamsTag, &doubles[..]).map_err(tiff_error)?;
        dir.write_tag(Tag::GeoAsciiParamsTag, citation).map_err(tiff_error)?;
        dir.write_tag(Tag::GdalNodata, "nan").map_err(tiff_error)?;
        dir.write_tag(Tag::Unknown(42112), metadata.as_str()).map_err(tiff_error)?;
        dir.write_tag(Tag::ImageDescription, raster.description).map_err(tiff_error)?;
    }
    image.write_data(&north_first).map_err(tiff_error)
}
