//! What an upload really is: the bytes are sniffed (magic numbers), never the declared type or
//! the name; images are decoded under a pixel limit and re-encoded from their pixels, which
//! drops EXIF, GPS and every other metadata block, and get a thumbnail.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use clientele_kernel::error::{AppError, AppResult, ErrorCode};

/// Limits applied while reading an upload.
#[derive(Clone, Copy, Debug)]
pub struct ContentLimits {
    /// Largest width × height decoded.
    pub max_pixels: u64,
    /// Longest side of a thumbnail.
    pub thumbnail_side: u32,
}

/// An accepted upload, ready to store.
#[derive(Debug)]
pub struct Processed {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The kinds of content accepted (FIL-07's allow-list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sniffed {
    Jpeg,
    Png,
    Pdf,
    Text,
    Csv,
}

fn sniff(bytes: &[u8], file_name: &str) -> Option<Sniffed> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => return Some(Sniffed::Jpeg),
        Ok(ImageFormat::Png) => return Some(Sniffed::Png),
        Ok(_) => return None,
        Err(_) => {}
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(Sniffed::Pdf);
    }
    // Text: valid UTF-8 without control characters other than tab, newlines and form feed.
    let text = std::str::from_utf8(bytes).ok()?;
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) {
        return None;
    }
    let csv = Path::new(file_name).extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    Some(if csv { Sniffed::Csv } else { Sniffed::Text })
}

fn unsupported() -> AppError {
    AppError::new(ErrorCode::UnsupportedFileType, "Upload a JPEG or PNG image, a PDF, or a text or CSV file.")
}

fn too_large(limits: &ContentLimits) -> AppError {
    AppError::new(ErrorCode::ImageTooLarge, format!("Images may have at most {} pixels.", limits.max_pixels))
}

/// Checks an upload against the allow-list and prepares what is stored. `images_only` refuses
/// anything but an image (photos).
pub fn process(bytes: &[u8], file_name: &str, images_only: bool, limits: &ContentLimits) -> AppResult<Processed> {
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "The file is empty."));
    }
    let kind = sniff(bytes, file_name).ok_or_else(unsupported)?;
    let passthrough = |content_type: &'static str| {
        if images_only {
            return Err(AppError::new(ErrorCode::UnsupportedFileType, "A photo must be a JPEG or PNG image."));
        }
        Ok(Processed { content_type, bytes: bytes.to_vec(), thumbnail: None, width: None, height: None })
    };
    match kind {
        Sniffed::Jpeg => image(bytes, ImageFormat::Jpeg, limits),
        Sniffed::Png => image(bytes, ImageFormat::Png, limits),
        Sniffed::Pdf => passthrough("application/pdf"),
        Sniffed::Text => passthrough("text/plain; charset=utf-8"),
        Sniffed::Csv => passthrough("text/csv; charset=utf-8"),
    }
}

fn decode_error(err: &ImageError, limits: &ContentLimits) -> AppError {
    match err {
        ImageError::Limits(_) => too_large(limits),
        _ => AppError::new(ErrorCode::UnsupportedFileType, "This image could not be read."),
    }
}

/// FIL-04: how to change a photo: a crop (in the photo's pixels as shown), then a rotation
/// clockwise by a quarter turn or more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhotoEdit {
    pub crop: Option<Crop>,
    /// 0, 90, 180 or 270.
    pub rotate: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl PhotoEdit {
    /// Refuses a rotation that is no quarter turn and an edit that changes nothing.
    pub fn check(&self) -> AppResult<()> {
        if ![0, 90, 180, 270].contains(&self.rotate) {
            return Err(AppError::invalid("rotate", "Rotate by 90, 180 or 270 degrees."));
        }
        if self.crop.is_none() && self.rotate == 0 {
            return Err(AppError::invalid("rotate", "Give a rotation, a crop, or both."));
        }
        Ok(())
    }
}

/// Applies `edit` to a stored photo (as the upload left it: JPEG or PNG, no metadata) and
/// re-encodes it in its format, with a new thumbnail. A crop outside the photo is refused.
pub fn edit(bytes: &[u8], edit: PhotoEdit, limits: &ContentLimits) -> AppResult<Processed> {
    let format = image::guess_format(bytes).map_err(|_| unsupported())?;
    let mut img = decode(bytes, format, limits)?;
    if let Some(c) = edit.crop {
        let inside = c.width > 0
            && c.height > 0
            && u64::from(c.x) + u64::from(c.width) <= u64::from(img.width())
            && u64::from(c.y) + u64::from(c.height) <= u64::from(img.height());
        if !inside {
            let message = format!("Crop within the photo's {} × {} pixels.", img.width(), img.height());
            return Err(AppError::invalid("crop", message));
        }
        img = img.crop_imm(c.x, c.y, c.width, c.height);
    }
    img = match edit.rotate {
        90 => img.rotate90(),
        180 => img.rotate180(),
        270 => img.rotate270(),
        _ => img,
    };
    encoded(&img, format, limits)
}

fn image(bytes: &[u8], format: ImageFormat, limits: &ContentLimits) -> AppResult<Processed> {
    let img = decode(bytes, format, limits)?;
    encoded(&img, format, limits)
}

/// Decodes an image within the pixel limit, its orientation tag applied to the pixels.
fn decode(bytes: &[u8], format: ImageFormat, limits: &ContentLimits) -> AppResult<DynamicImage> {
    // The header alone gives the size: a bomb is refused before anything is allocated.
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|e| decode_error(&e, limits))?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large(limits));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(width);
    decode_limits.max_image_height = Some(height);
    // Four bytes per pixel (RGBA8) plus room for the decoder's own buffers.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(16 << 20));
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(&e, limits))?;
    // The orientation tag goes with the other metadata: apply it to the pixels first.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(&e, limits))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// An image re-encoded (PNG stays PNG, the rest becomes JPEG) with its thumbnail.
fn encoded(img: &DynamicImage, format: ImageFormat, limits: &ContentLimits) -> AppResult<Processed> {
    let thumbnail = img.thumbnail(limits.thumbnail_side, limits.thumbnail_side);
    let (content_type, bytes, thumbnail) = match format {
        ImageFormat::Png => ("image/png", encode_png(img)?, encode_png(&thumbnail)?),
        _ => ("image/jpeg", encode_jpeg(img)?, encode_jpeg(&thumbnail)?),
    };
    Ok(Processed {
        content_type,
        bytes,
        thumbnail: Some(thumbnail),
        width: Some(img.width()),
        height: Some(img.height()),
    })
}

fn encode_jpeg(img: &DynamicImage) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 88).encode_image(&img.to_rgb8()).map_err(AppError::internal)?;
    Ok(out)
}

fn encode_png(img: &DynamicImage) -> AppResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).map_err(AppError::internal)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ContentLimits = ContentLimits { max_pixels: 1_000_000, thumbnail_side: 64 };

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        encode_png(&img).unwrap()
    }

    // FIL-04: crop then rotate, in the stored format, with a new thumbnail; a crop outside the
    // photo and a rotation that is no quarter turn are refused.
    #[test]
    fn photos_are_cropped_then_rotated() {
        let stored = process(&png(40, 20), "p.png", true, &LIMITS).unwrap().bytes;
        let crop = Some(Crop { x: 5, y: 0, width: 30, height: 10 });
        let done = edit(&stored, PhotoEdit { crop, rotate: 90 }, &LIMITS).unwrap();
        assert_eq!((done.content_type, done.width, done.height), ("image/png", Some(10), Some(30)));
        assert!(done.thumbnail.is_some());
        let outside = Some(Crop { x: 30, y: 0, width: 20, height: 10 });
        assert_eq!(edit(&stored, PhotoEdit { crop: outside, rotate: 0 }, &LIMITS).unwrap_err().field(), Some("crop"));
        assert_eq!(PhotoEdit { crop: None, rotate: 45 }.check().unwrap_err().field(), Some("rotate"));
        assert_eq!(PhotoEdit::default().check().unwrap_err().field(), Some("rotate"));
    }

    #[test]
    fn the_name_never_decides_the_type() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert_eq!(process(exe, "photo.jpg", false, &LIMITS).unwrap_err().code(), ErrorCode::UnsupportedFileType);
        let done = process(&png(10, 10), "notes.txt", false, &LIMITS).unwrap();
        assert_eq!(done.content_type, "image/png");
    }

    #[test]
    fn text_pdf_and_csv_are_accepted_but_not_as_photos() {
        assert_eq!(process(b"a;b\n1;2\n", "x.CSV", false, &LIMITS).unwrap().content_type, "text/csv; charset=utf-8");
        assert_eq!(process(b"hello", "x", false, &LIMITS).unwrap().content_type, "text/plain; charset=utf-8");
        assert_eq!(process(b"%PDF-1.7\n", "x.pdf", false, &LIMITS).unwrap().content_type, "application/pdf");
        assert_eq!(process(b"%PDF-1.7\n", "x.pdf", true, &LIMITS).unwrap_err().code(), ErrorCode::UnsupportedFileType);
        assert_eq!(process(b"a\0b", "x.txt", false, &LIMITS).unwrap_err().code(), ErrorCode::UnsupportedFileType);
    }

    /// A 40 × 20 JPEG whose EXIF block says "rotate 90° clockwise to display" (orientation 6).
    fn rotated_jpeg() -> Vec<u8> {
        let img = DynamicImage::new_rgb8(40, 20);
        let plain = encode_jpeg(&img).unwrap();
        // TIFF, big-endian, one IFD entry: tag 0x0112 (orientation), SHORT, count 1, value 6.
        let mut app1 = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        app1.extend_from_slice(b"GPS 48.8584 N");
        let len = u16::try_from(app1.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn the_orientation_is_applied_before_the_metadata_goes() {
        let done = process(&rotated_jpeg(), "x.jpg", true, &LIMITS).unwrap();
        assert_eq!((done.width, done.height), (Some(20), Some(40)), "turned upright");
        let text = String::from_utf8_lossy(&done.bytes);
        assert!(!text.contains("Exif") && !text.contains("GPS"));
    }

    #[test]
    fn images_over_the_pixel_limit_are_refused_and_others_thumbnailed() {
        assert_eq!(process(&png(1001, 1000), "x.png", true, &LIMITS).unwrap_err().code(), ErrorCode::ImageTooLarge);
        let done = process(&png(200, 100), "x.png", true, &LIMITS).unwrap();
        let thumb = image::load_from_memory(done.thumbnail.as_ref().unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (64, 32));
    }
}
