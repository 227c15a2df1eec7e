//! sangam-export against GDAL (Debian's gdal-bin, which `cargo xtask` installs), as a GIS user opens
//! the files: `gdalinfo` reads the projection, size, unit and no-data value of a GeoTIFF, and
//! `gdallocationinfo` reads back the value at a WGS84 position worked out independently from the
//! site frame (`sangam_twin::EnuFrame`, ECEF round trip).

use std::process::Command;

use sangam_export::geotiff::{self, Raster};
use sangam_twin::{EnuFrame, Geodetic};

/// The demo site's origin (INA, New Delhi).
fn origin() -> Geodetic {
    Geodetic::new(28.5697905, 77.2091030, 170.0).unwrap()
}

fn gdal(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {program} ({e}): install GDAL's tools (apt-get install gdal-bin; cargo xtask test does)")
    });
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A 40 x 20 raster of 5 m cells from (-100, -50) m: cell (c, r) holds -120 + c + 0.01 r dBm,
/// except one no-data cell.
fn values() -> Vec<f32> {
    let mut v: Vec<f32> = (0..20).flat_map(|r| (0..40).map(move |c| -120.0 + c as f32 + 0.01 * r as f32)).collect();
    v[7 * 40 + 3] = f32::NAN;
    v
}

#[test]
fn gdal_opens_the_geotiff_in_place_with_its_unit_and_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coverage.tif");
    let values = values();
    let raster = Raster {
        origin_m: [-100.0, -50.0],
        cell_m: 5.0,
        columns: 40,
        rows: 20,
        values: &values,
        unit: "dBm",
        description: "RSRP of the best server",
    };
    geotiff::write(&path, &raster, &origin()).unwrap();
    let file = path.to_str().unwrap();
    let info: serde_json::Value = serde_json::from_str(&gdal("gdalinfo", &["-json", file])).unwrap();
    assert_eq!(info["size"], serde_json::json!([40, 20]));
    let wkt = info["coordinateSystem"]["wkt"].as_str().unwrap();
    assert!(wkt.contains("Transverse Mercator") || wkt.contains("Transverse_Mercator"), "{wkt}");
    assert!(wkt.contains("28.5697905") && wkt.contains("77.209103"), "centred on the origin: {wkt}");
    assert!(wkt.contains("WGS 84") || wkt.contains("WGS_1984"), "{wkt}");
    let band = &info["bands"][0];
    assert_eq!(band["type"], "Float32");
    assert_eq!(band["unit"], "dBm");
    assert_eq!(band["noDataValue"], "NaN", "{band}");
    assert_eq!(band["description"], "RSRP of the best server");
    assert_eq!(info["geoTransform"], serde_json::json!([-100.0, 5.0, 0.0, 50.0, 0.0, -5.0]));
    // Cell centres read back at their WGS84 positions.
    let frame = EnuFrame::new(origin());
    for (c, r) in [(0usize, 0usize), (39, 0), (0, 19), (39, 19), (17, 11)] {
        let (x, y) = (-100.0 + (c as f64 + 0.5) * 5.0, -50.0 + (r as f64 + 0.5) * 5.0);
        let g = frame.enu_to_geodetic(glam::DVec3::new(x, y, 0.0));
        let (lon, lat) = (format!("{:.9}", g.lon_deg), format!("{:.9}", g.lat_deg));
        let got: f64 = gdal("gdallocationinfo", &["-valonly", "-wgs84", file, &lon, &lat]).trim().parse().unwrap();
        let want = -120.0 + c as f64 + 0.01 * r as f64;
        assert!((got - want).abs() < 1e-4, "cell ({c}, {r}) at {lat}, {lon}: {got}, want {want}");
    }
    // The no-data cell reads as NaN.
    let (x, y) = (-100.0 + 3.5 * 5.0, -50.0 + 7.5 * 5.0);
    let g = frame.enu_to_geodetic(glam::DVec3::new(x, y, 0.0));
    let nodata = gdal(
        "gdallocationinfo",
        &["-valonly", "-wgs84", file, &format!("{:.9}", g.lon_deg), &format!("{:.9}", g.lat_deg)],
    );
    assert_eq!(nodata.trim().to_ascii_lowercase(), "nan");
}

#[test]
fn unusable_rasters_are_refused_with_why() {
    let origin = origin();
    let mut out = std::io::Cursor::new(Vec::new());
    let three = [1.0f32, 2.0, 3.0];
    let base =
        Raster { origin_m: [0.0, 0.0], cell_m: 5.0, columns: 2, rows: 2, values: &three, unit: "dBm", description: "" };
    let e = geotiff::write_to(&mut out, &base, &origin).unwrap_err().to_string();
    assert!(e.contains("3 values for 2 x 2 cells"), "{e}");
    let infinite = [1.0f32, f32::INFINITY, 3.0, 4.0];
    let e = geotiff::write_to(&mut out, &Raster { values: &infinite, ..base }, &origin).unwrap_err().to_string();
    assert!(e.contains("finite numbers or NaN"), "{e}");
    let four = [1.0f32; 4];
    let e =
        geotiff::write_to(&mut out, &Raster { values: &four, cell_m: 0.0, ..base }, &origin).unwrap_err().to_string();
    assert!(e.contains("positive size"), "{e}");
    let e = geotiff::write_to(&mut out, &Raster { values: &[], columns: 100_000, rows: 100_000, ..base }, &origin)
        .unwrap_err()
        .to_string();
    assert!(e.contains("100000 x 100000"), "{e}");
    let e = geotiff::write(std::path::Path::new("/nonexistent-dir/x.tif"), &Raster { values: &four, ..base }, &origin)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot write /nonexistent-dir/x.tif"), "{e}");
}
