//! Text: the shipped DejaVu faces, laid out by their advances and filled as paths by the
//! rasterizer, so a glyph is the same pixels on every machine and under every
//! transform, clip and paint.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use tiny_skia as sk;

use super::types::Font;

/// A parsed face and its units per em.
struct Face {
    face: ttf_parser::Face<'static>,
    units: f32,
}

fn face(font: Font) -> &'static Face {
    static FACES: [OnceLock<Face>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let (slot, bytes): (usize, fn() -> &'static [u8]) = match font {
        Font::Sans => (0, dejavu::sans::regular),
        Font::SansBold => (1, dejavu::sans::bold),
        Font::Mono => (2, dejavu::sans_mono::regular),
    };
    FACES[slot].get_or_init(|| {
        // The fonts are compiled in and known good: a failure here is a broken build.
        let face = ttf_parser::Face::parse(bytes(), 0).expect("the shipped font parses");
        let units = f32::from(face.units_per_em());
        Face { face, units }
    })
}

/// Outlines of glyphs in font units (y up), by face and glyph id; `None` for a glyph
/// without an outline (a space).
type Outlines = HashMap<(Font, u16), Option<sk::Path>>;

fn outlines() -> &'static Mutex<Outlines> {
    static CACHE: OnceLock<Mutex<Outlines>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

struct Builder(sk::PathBuilder);

impl ttf_parser::OutlineBuilder for Builder {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}

/// The glyph of `c` (the face's `.notdef` when it has none) and its advance in font
/// units.
fn glyph(f: &Face, c: char) -> (ttf_parser::GlyphId, f32) {
    let id = f.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
    let adv = f.face.glyph_hor_advance(id).map_or(0.0, f32::from);
    (id, adv)
}

/// The width of `text` at `size` pixels.
pub(crate) fn measure(font: Font, size: f32, text: &str) -> f32 {
    let f = face(font);
    let scale = size / f.units;
    text.chars().map(|c| glyph(f, c).1).sum::<f32>() * scale
}

/// The outline of `text` with its baseline's start at `(x, y)`, `size` pixels per em,
/// in user space; `None` when nothing has an outline.
pub(crate) fn outline(font: Font, size: f32, text: &str, x: f32, y: f32) -> Option<sk::Path> {
    let f = face(font);
    let scale = size / f.units;
    let mut pen = 0.0f32;
    let mut out = sk::PathBuilder::new();
    let mut cache = outlines().lock().unwrap_or_else(|p| p.into_inner());
    for c in text.chars() {
        let (id, adv) = glyph(f, c);
        let path = cache.entry((font, id.0)).or_insert_with(|| {
            let mut b = Builder(sk::PathBuilder::new());
            f.face.outline_glyph(id, &mut b)?;
            b.0.finish()
        });
        if let Some(p) = path {
            // Font units, y up → pixels, y down, at the pen.
            let t = sk::Transform::from_row(scale, 0.0, 0.0, -scale, x + pen * scale, y);
            if let Some(p) = p.clone().transform(t) {
                out.push_path(&p);
            }
        }
        pen += adv;
    }
    out.finish()
}

/// The ascender and descender (negative) at `size` pixels.
pub(crate) fn metrics(font: Font, size: f32) -> (f32, f32) {
    let f = face(font);
    let scale = size / f.units;
    (
        f32::from(f.face.ascender()) * scale,
        f32::from(f.face.descender()) * scale,
    )
}
