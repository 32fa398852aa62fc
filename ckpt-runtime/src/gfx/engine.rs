//! The engine's process-global state: every surface with its pixels and drawing state,
//! the frame counter, what the display shows, and the scripted events' position. This is
//! what the `gfx` component writes into the image.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tiny_skia as sk;

use super::display::Display;
use super::types::{BlendMode, FillRule, Font, LineCap, LineJoin, Paint, Path, Transform};
use super::Color;

/// The largest surface side, in pixels: beyond it a surface is refused with a clear error
/// rather than an allocation failure.
pub(crate) const MAX_SIDE: u32 = 16_384;

/// One region the drawing is clipped to: a path under the transform it was given with.
#[derive(Clone, Debug, PartialEq, crate::State)]
pub(crate) struct Clip {
    pub path: Path,
    pub transform: Transform,
    pub rule: FillRule,
}

/// The drawing state of a surface (canvas-style): what `save_state` pushes and
/// `restore_state` pops.
#[derive(Clone, Debug, PartialEq, crate::State)]
pub(crate) struct DrawState {
    pub transform: Transform,
    pub fill: Paint,
    pub stroke: Paint,
    pub line_width: f32,
    pub cap: LineCap,
    pub join: LineJoin,
    pub miter_limit: f32,
    pub dash: Vec<f32>,
    pub dash_offset: f32,
    pub blend: BlendMode,
    pub alpha: f32,
    pub font: Font,
    pub font_size: f32,
    pub anti_alias: bool,
    /// The regions drawing is clipped to (their intersection); empty: none.
    pub clip: Vec<Clip>,
}

impl Default for DrawState {
    fn default() -> Self {
        DrawState {
            transform: Transform::identity(),
            fill: Paint::Solid(Color::BLACK),
            stroke: Paint::Solid(Color::BLACK),
            line_width: 1.0,
            cap: LineCap::Butt,
            join: LineJoin::Miter,
            miter_limit: 4.0,
            dash: Vec::new(),
            dash_offset: 0.0,
            blend: BlendMode::SourceOver,
            alpha: 1.0,
            font: Font::Sans,
            font_size: 16.0,
            anti_alias: true,
            clip: Vec::new(),
        }
    }
}

/// A surface: its pixels (premultiplied RGBA, the rasterizer's own layout, which is
/// also how the image holds them) and its drawing state.
pub(crate) struct Surf {
    pub pix: sk::Pixmap,
    pub st: DrawState,
    pub stack: Vec<DrawState>,
    /// The clip's mask, built on first use after the clip changed (not in the image).
    mask: Option<Option<sk::Mask>>,
}

impl Surf {
    pub(crate) fn new(pix: sk::Pixmap, st: DrawState, stack: Vec<DrawState>) -> Surf {
        Surf {
            pix,
            st,
            stack,
            mask: None,
        }
    }

    /// The clip changed: the mask is built again on next use.
    pub(crate) fn clip_changed(&mut self) {
        self.mask = None;
    }

    /// The pixmap and the clip mask, built if needed.
    fn target(&mut self) -> (&mut sk::Pixmap, Option<&sk::Mask>) {
        if self.mask.is_none() {
            self.mask = Some(build_mask(
                &self.st.clip,
                self.pix.width(),
                self.pix.height(),
            ));
        }
        let mask = self.mask.as_ref().and_then(|m| m.as_ref());
        (&mut self.pix, mask)
    }

    fn paint(&self, p: &Paint) -> sk::Paint<'static> {
        let mut shader = p.shader();
        shader.apply_opacity(self.st.alpha.clamp(0.0, 1.0));
        sk::Paint {
            shader,
            blend_mode: self.st.blend.to_skia(),
            anti_alias: self.st.anti_alias,
            ..sk::Paint::default()
        }
    }

    fn stroke(&self) -> sk::Stroke {
        sk::Stroke {
            width: self.st.line_width.max(0.0),
            miter_limit: self.st.miter_limit,
            line_cap: match self.st.cap {
                LineCap::Butt => sk::LineCap::Butt,
                LineCap::Round => sk::LineCap::Round,
                LineCap::Square => sk::LineCap::Square,
            },
            line_join: match self.st.join {
                LineJoin::Miter => sk::LineJoin::Miter,
                LineJoin::Round => sk::LineJoin::Round,
                LineJoin::Bevel => sk::LineJoin::Bevel,
            },
            dash: if self.st.dash.is_empty() {
                None
            } else {
                let mut d = self.st.dash.clone();
                if d.len() % 2 == 1 {
                    d.extend_from_within(..);
                }
                sk::StrokeDash::new(d, self.st.dash_offset)
            },
        }
    }

    pub(crate) fn fill_path(&mut self, path: &sk::Path, rule: FillRule) {
        let paint = self.paint(&self.st.fill);
        let t = self.st.transform.to_skia();
        let (pix, mask) = self.target();
        pix.fill_path(path, &paint, rule.to_skia(), t, mask);
    }

    pub(crate) fn stroke_path(&mut self, path: &sk::Path) {
        let paint = self.paint(&self.st.stroke);
        let stroke = self.stroke();
        let t = self.st.transform.to_skia();
        let (pix, mask) = self.target();
        pix.stroke_path(path, &paint, &stroke, t, mask);
    }

    pub(crate) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        if self.fill_rect_opaque(x, y, w, h) {
            return;
        }
        let Some(r) = sk::Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let paint = self.paint(&self.st.fill);
        let t = self.st.transform.to_skia();
        let (pix, mask) = self.target();
        pix.fill_rect(r, &paint, t, mask);
    }

    /// The common case of grids and panels, without the rasterizer's per-call setup: an
    /// opaque solid color over a rectangle on whole pixels, no clip, a whole-pixel
    /// translation. The pixels are the ones the rasterizer writes (every pixel fully
    /// covered gets the color). Returns whether it applied.
    fn fill_rect_opaque(&mut self, x: f32, y: f32, w: f32, h: f32) -> bool {
        let st = &self.st;
        let Paint::Solid(c) = st.fill else {
            return false;
        };
        let t = st.transform;
        let whole = |v: f32| v.fract() == 0.0 && v.abs() < 1e7;
        let simple = c.a == 255
            && st.alpha >= 1.0
            && matches!(st.blend, BlendMode::SourceOver | BlendMode::Source)
            && st.clip.is_empty()
            && (t.sx, t.ky, t.kx, t.sy) == (1.0, 0.0, 0.0, 1.0)
            && [x, y, w, h, t.tx, t.ty].into_iter().all(whole)
            && w > 0.0
            && h > 0.0;
        if !simple {
            return false;
        }
        let (pw, ph) = (self.pix.width() as i64, self.pix.height() as i64);
        let x0 = ((x + t.tx) as i64).clamp(0, pw);
        let y0 = ((y + t.ty) as i64).clamp(0, ph);
        let x1 = ((x + t.tx + w) as i64).clamp(0, pw);
        let y1 = ((y + t.ty + h) as i64).clamp(0, ph);
        let px = [c.r, c.g, c.b, 255];
        let data = self.pix.data_mut();
        for row in y0..y1 {
            let start = ((row * pw + x0) * 4) as usize;
            let end = ((row * pw + x1) * 4) as usize;
            for p in data[start..end].chunks_exact_mut(4) {
                p.copy_from_slice(&px);
            }
        }
        true
    }

    pub(crate) fn clear(&mut self, c: Color) {
        self.pix.fill(c.to_skia());
    }

    pub(crate) fn draw_pixmap(&mut self, src: sk::PixmapRef<'_>, x: f32, y: f32) {
        let paint = sk::PixmapPaint {
            opacity: self.st.alpha.clamp(0.0, 1.0),
            blend_mode: self.st.blend.to_skia(),
            quality: sk::FilterQuality::Bilinear,
        };
        let t = self.st.transform.to_skia().pre_translate(x, y);
        let (pix, mask) = self.target();
        pix.draw_pixmap(0, 0, src, &paint, t, mask);
    }
}

/// The intersection of the clip regions as a mask; `None` when there is no clip.
fn build_mask(clip: &[Clip], w: u32, h: u32) -> Option<sk::Mask> {
    let first = clip.first()?;
    let mut m = sk::Mask::new(w, h)?;
    if let Some(p) = first.path.to_skia() {
        m.fill_path(&p, first.rule.to_skia(), true, first.transform.to_skia());
    }
    for c in &clip[1..] {
        match c.path.to_skia() {
            Some(p) => m.intersect_path(&p, c.rule.to_skia(), true, c.transform.to_skia()),
            None => m.clear(),
        }
    }
    Some(m)
}

/// The engine.
pub(crate) struct Engine {
    pub surfaces: BTreeMap<u64, Surf>,
    pub next_id: u64,
    /// Frames presented so far (the next frame's number).
    pub frame: u64,
    /// The surface the display shows (the last one presented).
    pub shown: Option<u64>,
    /// Whether the shown surface was drawn on since it was presented.
    pub dirty: bool,
    /// How many scripted events were delivered.
    pub script_pos: u64,
    /// Where frames go; opened on first use (not in the image: chosen at each start).
    pub display: Option<Display>,
}

impl Engine {
    pub(crate) fn new() -> Engine {
        Engine {
            surfaces: BTreeMap::new(),
            next_id: 0,
            frame: 0,
            shown: None,
            dirty: false,
            script_pos: 0,
            display: None,
        }
    }

    /// The surface `id`, to draw on; a handle without its surface is a bug in ckpt or a
    /// corrupt image, which the restore checks.
    pub(crate) fn surf(&mut self, id: u64) -> &mut Surf {
        if self.shown == Some(id) {
            self.dirty = true;
        }
        match self.surfaces.get_mut(&id) {
            Some(s) => s,
            None => missing(id),
        }
    }

    /// The surface `id`, to read.
    pub(crate) fn get(&self, id: u64) -> &Surf {
        match self.surfaces.get(&id) {
            Some(s) => s,
            None => missing(id),
        }
    }

    /// The display, opened on first use (the run's `--ckpt-display`).
    pub(crate) fn display(&mut self) -> std::io::Result<&mut Display> {
        match &mut self.display {
            Some(d) => Ok(d),
            d @ None => Ok(d.insert(Display::open(&super::config::get().display)?)),
        }
    }

    /// Shows surface `id` on the display as frame `n`.
    pub(crate) fn show(&mut self, id: u64, n: u64) -> std::io::Result<()> {
        self.display()?;
        let s = self.surfaces.get(&id).unwrap_or_else(|| missing(id));
        match &mut self.display {
            Some(d) => d.show(n, s.pix.width(), s.pix.height(), s.pix.data()),
            None => Ok(()),
        }
    }
}

#[cold]
fn missing(id: u64) -> ! {
    panic!("ckpt::gfx: surface {id} does not exist (dropped, or a corrupt image)")
}

static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

/// The engine, created on first use.
pub(crate) fn lock() -> MutexGuard<'static, Option<Engine>> {
    let mut g = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    if g.is_none() {
        *g = Some(Engine::new());
    }
    g
}

/// The engine if the program used it (a save of a program that never drew writes
/// nothing).
pub(crate) fn lock_if_used() -> MutexGuard<'static, Option<Engine>> {
    ENGINE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The engine unless another caller holds it (the exit handler must not wait).
pub(crate) fn try_lock() -> Option<MutexGuard<'static, Option<Engine>>> {
    match ENGINE.try_lock() {
        Ok(g) => Some(g),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// Runs `f` on the engine.
pub(crate) fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    let mut g = lock();
    f(g.as_mut().expect("created by lock"))
}

/// A new, transparent pixmap, or the error that says why not.
pub(crate) fn pixmap(width: u32, height: u32) -> std::io::Result<sk::Pixmap> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("a surface of {width}×{height} pixels: each side must be 1 to {MAX_SIDE}"),
        ));
    }
    sk::Pixmap::new(width, height).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            format!("no memory for a surface of {width}×{height} pixels"),
        )
    })
}
