//! [`Surface`]: a handle to pixels the engine keeps, with canvas-style drawing state.

use std::io;

use tiny_skia as sk;

use super::engine::{self, Clip, DrawState, Surf};
use super::text;
use super::types::{BlendMode, FillRule, Font, LineCap, LineJoin, Paint, Path, Transform};
use super::Color;
use crate::state::{Encoder, Loader, State, Value};

/// A surface: a rectangle of pixels and its drawing state (transform, paints, line
/// style, blend mode, opacity, font, clip, and a stack of saved states), kept by the
/// engine. The handle is [`State`]: a program keeps it in a variable or a field, and the
/// pixels and state come back with the image.
///
/// Dropping the handle frees the surface.
///
/// ```
/// use ckpt::gfx::{Color, Path, Surface};
/// let mut s = Surface::new(64, 64).unwrap();
/// s.clear(Color::WHITE);
/// s.set_fill(Color::rgb(200, 30, 30));
/// s.fill_path(&Path::circle(32.0, 32.0, 20.0));
/// assert_eq!(s.pixel(32, 32), Color::rgb(200, 30, 30));
/// assert_eq!(s.pixel(2, 2), Color::WHITE);
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Surface {
    pub(crate) id: u64,
}

impl Surface {
    /// A new transparent surface of `width` × `height` pixels (each 1 to 16384).
    pub fn new(width: u32, height: u32) -> io::Result<Surface> {
        let pix = engine::pixmap(width, height)?;
        Ok(Surface::adopt(pix))
    }

    /// A surface holding the image in `png` (the bytes of a PNG file).
    pub fn from_png(png: &[u8]) -> io::Result<Surface> {
        let pix = sk::Pixmap::decode_png(png).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("not a usable PNG: {e}"))
        })?;
        engine::pixmap(pix.width(), pix.height())?;
        Ok(Surface::adopt(pix))
    }

    fn adopt(pix: sk::Pixmap) -> Surface {
        engine::with(|e| {
            let id = e.next_id;
            e.next_id += 1;
            e.surfaces
                .insert(id, Surf::new(pix, DrawState::default(), Vec::new()));
            Surface { id }
        })
    }

    /// Its number: 0 for the first surface a program made (`cargo ckpt inspect IMAGE
    /// --surface N`).
    pub fn id(&self) -> u64 {
        self.id
    }

    fn on<R>(&self, f: impl FnOnce(&mut Surf) -> R) -> R {
        engine::with(|e| f(e.surf(self.id)))
    }

    fn peek<R>(&self, f: impl FnOnce(&Surf) -> R) -> R {
        engine::with(|e| f(e.get(self.id)))
    }

    /// Its width in pixels.
    pub fn width(&self) -> u32 {
        self.peek(|s| s.pix.width())
    }

    /// Its height in pixels.
    pub fn height(&self) -> u32 {
        self.peek(|s| s.pix.height())
    }

    /// Gives it a new size; its pixels become transparent, its drawing state stays.
    pub fn resize(&mut self, width: u32, height: u32) -> io::Result<()> {
        let pix = engine::pixmap(width, height)?;
        self.on(|s| {
            s.pix = pix;
            s.clip_changed();
        });
        Ok(())
    }

    // --- drawing state ---

    /// Pushes the drawing state (like a canvas's `save()`).
    pub fn save_state(&mut self) {
        self.on(|s| {
            let st = s.st.clone();
            s.stack.push(st);
        });
    }

    /// Pops the drawing state pushed last; without one, resets it.
    pub fn restore_state(&mut self) {
        self.on(|s| {
            s.st = s.stack.pop().unwrap_or_default();
            s.clip_changed();
        });
    }

    fn state(&mut self, f: impl FnOnce(&mut DrawState)) {
        self.on(|s| f(&mut s.st));
    }

    /// Moves what is drawn next by `(dx, dy)` (in the current user space).
    pub fn translate(&mut self, dx: f32, dy: f32) {
        self.state(|st| st.transform = st.transform.pre(Transform::translate(dx, dy)));
    }

    /// Scales what is drawn next.
    pub fn scale(&mut self, sx: f32, sy: f32) {
        self.state(|st| st.transform = st.transform.pre(Transform::scale(sx, sy)));
    }

    /// Rotates what is drawn next by `degrees`.
    pub fn rotate(&mut self, degrees: f32) {
        self.state(|st| st.transform = st.transform.pre(Transform::rotate(degrees)));
    }

    /// Replaces the transform.
    pub fn set_transform(&mut self, t: Transform) {
        self.state(|st| st.transform = t);
    }

    /// The current transform.
    pub fn transform(&self) -> Transform {
        self.peek(|s| s.st.transform)
    }

    /// What fills paint with.
    pub fn set_fill(&mut self, p: impl Into<Paint>) {
        let p = p.into();
        self.state(|st| st.fill = p);
    }

    /// What strokes paint with.
    pub fn set_stroke(&mut self, p: impl Into<Paint>) {
        let p = p.into();
        self.state(|st| st.stroke = p);
    }

    /// The width of strokes.
    pub fn set_line_width(&mut self, w: f32) {
        self.state(|st| st.line_width = w);
    }

    /// The shape of stroke ends.
    pub fn set_line_cap(&mut self, c: LineCap) {
        self.state(|st| st.cap = c);
    }

    /// The shape of stroke corners (and the miter limit).
    pub fn set_line_join(&mut self, j: LineJoin, miter_limit: f32) {
        self.state(|st| {
            st.join = j;
            st.miter_limit = miter_limit;
        });
    }

    /// Dashes strokes: on and off lengths (empty: solid), starting `offset` in.
    pub fn set_dash(&mut self, pattern: &[f32], offset: f32) {
        let d = pattern.to_vec();
        self.state(|st| {
            st.dash = d;
            st.dash_offset = offset;
        });
    }

    /// How drawing combines with what is there.
    pub fn set_blend(&mut self, b: BlendMode) {
        self.state(|st| st.blend = b);
    }

    /// The opacity of everything drawn next, 0–1.
    pub fn set_alpha(&mut self, a: f32) {
        self.state(|st| st.alpha = a);
    }

    /// Whether edges are anti-aliased (the default) or hard.
    pub fn set_anti_alias(&mut self, on: bool) {
        self.state(|st| st.anti_alias = on);
    }

    /// The typeface and size (pixels per em) of text.
    pub fn set_font(&mut self, font: Font, size: f32) {
        self.state(|st| {
            st.font = font;
            st.font_size = size;
        });
    }

    /// Clips what is drawn next to `path` (under the current transform), within the
    /// clip so far.
    pub fn clip_path(&mut self, path: &Path, rule: FillRule) {
        let path = path.clone();
        self.on(|s| {
            let transform = s.st.transform;
            s.st.clip.push(Clip {
                path,
                transform,
                rule,
            });
            s.clip_changed();
        });
    }

    /// Clips what is drawn next to a rectangle.
    pub fn clip_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.clip_path(&Path::rect(x, y, w, h), FillRule::NonZero);
    }

    /// Removes the clip.
    pub fn reset_clip(&mut self) {
        self.on(|s| {
            s.st.clip.clear();
            s.clip_changed();
        });
    }

    // --- drawing ---

    /// Sets every pixel to `c` (no transform, clip or blending).
    pub fn clear(&mut self, c: Color) {
        self.on(|s| s.clear(c));
    }

    /// Fills a rectangle with the fill paint.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.on(|s| s.fill_rect(x, y, w, h));
    }

    /// Strokes a rectangle's outline.
    pub fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.stroke_path(&Path::rect(x, y, w, h));
    }

    /// Fills `path` (non-zero rule) with the fill paint.
    pub fn fill_path(&mut self, path: &Path) {
        self.fill_path_with(path, FillRule::NonZero);
    }

    /// Fills `path` with the given rule.
    pub fn fill_path_with(&mut self, path: &Path, rule: FillRule) {
        if let Some(p) = path.to_skia() {
            self.on(|s| s.fill_path(&p, rule));
        }
    }

    /// Strokes `path` with the stroke paint and line style.
    pub fn stroke_path(&mut self, path: &Path) {
        if let Some(p) = path.to_skia() {
            self.on(|s| s.stroke_path(&p));
        }
    }

    /// A straight line, stroked.
    pub fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) {
        let mut p = Path::new();
        p.move_to(x0, y0).line_to(x1, y1);
        self.stroke_path(&p);
    }

    /// Fills `text` with the fill paint, its baseline starting at `(x, y)`.
    pub fn fill_text(&mut self, text: &str, x: f32, y: f32) {
        self.on(|s| {
            if let Some(p) = text::outline(s.st.font, s.st.font_size, text, x, y) {
                s.fill_path(&p, FillRule::NonZero);
            }
        });
    }

    /// The width `text` takes in the current font.
    pub fn measure_text(&self, text: &str) -> f32 {
        self.peek(|s| text::measure(s.st.font, s.st.font_size, text))
    }

    /// The current font's ascender and descender (below the baseline: negative).
    pub fn font_metrics(&self) -> (f32, f32) {
        self.peek(|s| text::metrics(s.st.font, s.st.font_size))
    }

    /// Draws `src` with its top left at `(x, y)`, under the current transform, opacity,
    /// blend mode and clip. Drawing a surface onto itself draws a copy.
    pub fn draw_surface(&mut self, src: &Surface, x: f32, y: f32) {
        engine::with(|e| {
            let copy;
            let pix = if src.id == self.id {
                copy = e.surf(src.id).pix.clone();
                &copy
            } else {
                match e.surfaces.remove(&src.id) {
                    Some(s) => {
                        e.surf(self.id).draw_pixmap(s.pix.as_ref(), x, y);
                        e.surfaces.insert(src.id, s);
                        return;
                    }
                    None => panic!("ckpt::gfx: surface {} does not exist", src.id),
                }
            };
            e.surf(self.id).draw_pixmap(pix.as_ref(), x, y);
        });
    }

    // --- reading ---

    /// The color at `(x, y)` (not premultiplied); transparent outside.
    pub fn pixel(&self, x: u32, y: u32) -> Color {
        self.peek(|s| match s.pix.pixel(x, y) {
            Some(p) => {
                let c = p.demultiply();
                Color::rgba(c.red(), c.green(), c.blue(), c.alpha())
            }
            None => Color::TRANSPARENT,
        })
    }

    /// Its pixels as RGBA rows, not premultiplied.
    pub fn to_rgba(&self) -> Vec<u8> {
        self.peek(|s| super::pngenc::demultiply(s.pix.data()))
    }

    /// Its pixels as a PNG file's bytes.
    pub fn to_png(&self) -> io::Result<Vec<u8>> {
        self.peek(|s| super::pngenc::encode_png(s.pix.width(), s.pix.height(), s.pix.data()))
    }
}

impl Drop for Surface {
    fn drop(&mut self) {
        let mut g = engine::lock_if_used();
        if let Some(e) = g.as_mut() {
            e.surfaces.remove(&self.id);
            if e.shown == Some(self.id) {
                e.shown = None;
            }
        }
    }
}

impl State for Surface {
    /// Its number; the pixels and drawing state are in the `gfx` component.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), crate::Error> {
        e.uint(self.id);
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, crate::Error> {
        let Value::Uint(id) = v else {
            return Err(crate::Error::ty("", "a surface (its number)", v.kind()));
        };
        let known = engine::lock_if_used()
            .as_ref()
            .is_some_and(|e| e.surfaces.contains_key(&id));
        if !known {
            return Err(crate::Error::ty(
                "",
                "a surface of the image's `gfx` component",
                format!("surface {id}, which the component does not hold"),
            ));
        }
        Ok(Surface { id })
    }
}
