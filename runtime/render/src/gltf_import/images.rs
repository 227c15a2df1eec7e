//! Image decoding with limits checked before any pixel memory is allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits};

use super::accessor::Budget;

/// Largest accepted texture width or height, in pixels.
pub const MAX_TEXTURE_DIMENSION: u32 = 16_384;
/// Largest accepted pixel count of one texture (64 Mpx, 256 MiB as RGBA8).
pub const MAX_TEXTURE_PIXELS: u64 = 64 * 1024 * 1024;
/// Largest accepted total size of all decoded textures of one model, in bytes (1 GiB).
pub const MAX_TOTAL_TEXTURE_BYTES: u64 = 1024 * 1024 * 1024;
/// A decoded image may be at most this many times larger than its encoded bytes, plus
/// [`IMAGE_EXPANSION_ALLOWANCE`]; stops decompression bombs (a tiny PNG claiming gigapixels).
pub const MAX_IMAGE_EXPANSION: u64 = 1024;
/// Decoded bytes every image may use regardless of its encoded size (16 MiB).
pub const IMAGE_EXPANSION_ALLOWANCE: u64 = 16 * 1024 * 1024;

/// A decoded image, RGBA8.
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgba8: Vec<u8>,
}

/// Checks that `bytes` hold a supported image within the limits, reading only its header.
pub(crate) fn probe_image(bytes: &[u8], mime: Option<&str>) -> Result<(u32, u32), String> {
    let format = guess(bytes, mime)?;
    let dims = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| format!("cannot read the {format:?} header: {e}"))?;
    check_dimensions(dims.0, dims.1)?;
    Ok(dims)
}

fn guess(bytes: &[u8], mime: Option<&str>) -> Result<ImageFormat, String> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => Ok(f),
        Ok(other) => Err(format!(
            "{other:?} images are not supported (declared {}); convert the texture to PNG or JPEG",
            mime.unwrap_or("no mimeType")
        )),
        Err(_) => Err(format!(
            "unrecognised image data ({} bytes, declared {}); only PNG and JPEG are supported",
            bytes.len(),
            mime.unwrap_or("no mimeType")
        )),
    }
}

fn check_dimensions(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err(format!("image is empty ({width} x {height})"));
    }
    if width > MAX_TEXTURE_DIMENSION || height > MAX_TEXTURE_DIMENSION {
        return Err(format!(
            "image is {width} x {height} pixels, larger than the {MAX_TEXTURE_DIMENSION} x {MAX_TEXTURE_DIMENSION} limit; \
             downscale the texture"
        ));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_TEXTURE_PIXELS {
        return Err(format!(
            "image is {width} x {height} = {pixels} pixels, more than the {MAX_TEXTURE_PIXELS}-pixel limit; downscale \
             the texture"
        ));
    }
    Ok(())
}

/// Decodes a PNG or JPEG into RGBA8. Dimensions are read from the header and checked against the
/// limits above and `budget` before the pixels are decoded.
pub(crate) fn decode_image(bytes: &[u8], mime: Option<&str>, budget: &mut Budget) -> Result<Decoded, String> {
    let format = guess(bytes, mime)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_TEXTURE_DIMENSION);
    limits.max_image_height = Some(MAX_TEXTURE_DIMENSION);
    limits.max_alloc = Some(MAX_TEXTURE_PIXELS.saturating_mul(8));

    // Header only: no pixel memory yet.
    let (width, height) = probe_image(bytes, mime)?;
    let pixels = u64::from(width) * u64::from(height);
    let rgba_bytes = pixels * 4;
    let encoded = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let allowed = encoded.saturating_mul(MAX_IMAGE_EXPANSION).saturating_add(IMAGE_EXPANSION_ALLOWANCE);
    if rgba_bytes > allowed {
        return Err(format!(
            "image claims {width} x {height} pixels ({rgba_bytes} bytes decoded) from only {encoded} encoded bytes; \
             refusing a likely decompression bomb"
        ));
    }
    budget.charge(rgba_bytes, "decoded textures")?;

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| format!("cannot decode {format:?}: {e}"))?;
    if decoder.dimensions() != (width, height) {
        return Err("image dimensions changed between reads".into());
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|e| format!("cannot decode {format:?}: {e}"))?;
    let rgba8 = image.into_rgba8().into_raw();
    Ok(Decoded { width, height, rgba8 })
}
