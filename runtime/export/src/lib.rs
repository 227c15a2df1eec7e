//! `sangam-export`: the twin's results for other tools. [`geojson`] writes entity values at a time
//! (road segments as lines, sites and cells as points) as GeoJSON; [`geotiff`] writes a raster layer (a
//! coverage map, a heatmap) as a GeoTIFF that GDAL and QGIS open at its place on the Earth, with its
//! unit and no-data value.
//!
//! Pure Rust, no GPU, no async; depends on `sangam-twin` for the site's geodetic origin.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod geojson;
pub mod geotiff;
