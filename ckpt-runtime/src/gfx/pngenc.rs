//! Surfaces as PNG files: the `png:DIR` display's frames and `cargo ckpt inspect
//! --surface N --png` (which needs only this, not the engine).

use std::io;

/// Premultiplied RGBA → straight RGBA.
pub(crate) fn demultiply(px: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(px.len());
    for p in px.chunks_exact(4) {
        let a = p[3];
        match a {
            255 => out.extend_from_slice(p),
            0 => out.extend_from_slice(&[0, 0, 0, 0]),
            _ => {
                let f =
                    |c: u8| ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8;
                out.extend_from_slice(&[f(p[0]), f(p[1]), f(p[2]), a]);
            }
        }
    }
    out
}

/// A PNG file's bytes for `width`×`height` premultiplied RGBA pixels (a surface as the
/// `gfx` component holds it): what `cargo ckpt inspect --surface N --png` writes.
///
/// ```
/// let px = [255, 0, 0, 255, 0, 0, 0, 0]; // opaque red, transparent
/// let png = ckpt::gfx::png_of_premultiplied(2, 1, &px).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// assert!(ckpt::gfx::png_of_premultiplied(3, 1, &px).is_err());
/// ```
pub fn png_of_premultiplied(width: u32, height: u32, pixels: &[u8]) -> io::Result<Vec<u8>> {
    let want = u64::from(width) * u64::from(height) * 4;
    if width == 0 || height == 0 || want != pixels.len() as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} bytes of pixels for {width}×{height}: expected {want}",
                pixels.len()
            ),
        ));
    }
    encode_png(width, height, pixels)
}

/// A PNG file of `w`×`h` premultiplied RGBA pixels: 8-bit RGBA, fast compression (the
/// same bytes for the same pixels on every run).
pub(crate) fn encode_png(w: u32, h: u32, px: &[u8]) -> io::Result<Vec<u8>> {
    let rgba = demultiply(px);
    let mut out = Vec::with_capacity(rgba.len() / 4 + 1024);
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut wr = enc.write_header().map_err(io::Error::other)?;
    wr.write_image_data(&rgba).map_err(io::Error::other)?;
    wr.finish().map_err(io::Error::other)?;
    Ok(out)
}
