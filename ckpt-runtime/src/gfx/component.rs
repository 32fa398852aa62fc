//! The `gfx` component: the engine's state in the image, and its restore.
//!
//! ```text
//! {"frame": u, "next_id": u, "shown": [id]|null, "dirty": bool, "script_pos": u,
//!  "surfaces": [{"id": u, "width": u, "height": u,
//!                "state": {drawing state}, "stack": [{drawing state}],
//!                "pixels": u8 typed array (premultiplied RGBA, rows top to bottom)}]}
//! ```
//!
//! The pixels are one typed array per surface: written in one copy, page-aligned in the
//! file when large, and handed to the rasterizer on restore without another copy.

use tiny_skia as sk;

use super::engine::{self, DrawState, Engine, Surf, MAX_SIDE};
use crate::error::{Error, Result};
use crate::state::{Encoder, Loader, TypedArray, Value};

fn corrupt(detail: impl Into<String>) -> Error {
    Error::ty("gfx", "the `gfx` component", detail.into())
}

/// Writes the engine (or `null` if the program never drew). Every frame presented so far
/// reaches its display first: the image covers them.
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    if !e.is_digest() {
        super::flush().map_err(|err| Error::Io {
            op: "writing the frames presented before the save to",
            path: "the display".into(),
            source: err,
        })?;
    }
    let g = engine::lock_if_used();
    let Some(en) = g.as_ref() else {
        e.null();
        return Ok(());
    };
    e.map(6);
    e.text("frame");
    e.uint(en.frame);
    e.text("next_id");
    e.uint(en.next_id);
    e.text("shown");
    e.put(&en.shown)?;
    e.text("dirty");
    e.bool(en.dirty);
    e.text("script_pos");
    e.uint(en.script_pos);
    e.text("surfaces");
    e.array(en.surfaces.len() as u64);
    for (id, s) in &en.surfaces {
        e.map(6);
        e.text("id");
        e.uint(*id);
        e.text("width");
        e.uint(u64::from(s.pix.width()));
        e.text("height");
        e.uint(u64::from(s.pix.height()));
        e.text("state");
        e.put(&s.st)?;
        e.text("stack");
        e.put(&s.stack)?;
        e.text("pixels");
        e.typed(s.pix.data());
    }
    Ok(())
}

/// Restores the engine from what [`save_component`] wrote. The display is opened on the
/// restoring run's `--ckpt-display`; a window shows at once what the program showed.
pub(crate) fn restore_component(v: Value, l: &mut Loader) -> Result<()> {
    if matches!(v, Value::Null) {
        return Ok(());
    }
    let mut f = v.into_fields("gfx")?;
    let mut en = Engine::new();
    en.frame = f.take("frame", l)?;
    en.next_id = f.take("next_id", l)?;
    en.shown = f.take("shown", l)?;
    en.dirty = f.take("dirty", l)?;
    en.script_pos = f.take("script_pos", l)?;
    let surfaces: Vec<Value> = f.take_with("surfaces", l, |v, _| match v {
        Value::Array(items) => Ok(items.into_vec()),
        other => Err(corrupt(format!("surfaces: {}", other.kind()))),
    })?;
    for s in surfaces {
        let mut f = s.into_fields("gfx surface")?;
        let id: u64 = f.take("id", l)?;
        let w: u32 = f.take("width", l)?;
        let h: u32 = f.take("height", l)?;
        let st: DrawState = f.take("state", l)?;
        let stack: Vec<DrawState> = f.take("stack", l)?;
        let px = f.take_with("pixels", l, |v, _| match v {
            Value::Typed(TypedArray::U8(px)) => Ok(px),
            other => Err(corrupt(format!("pixels: {}", other.kind()))),
        })?;
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(corrupt(format!("surface {id} of {w}×{h} pixels")));
        }
        let size = sk::IntSize::from_wh(w, h).ok_or_else(|| corrupt("a surface size"))?;
        let n = px.len();
        let pix = sk::Pixmap::from_vec(px, size).ok_or_else(|| {
            corrupt(format!(
                "surface {id}: {n} bytes of pixels for {w}×{h} (expected {})",
                u64::from(w) * u64::from(h) * 4
            ))
        })?;
        if id >= en.next_id || en.surfaces.insert(id, Surf::new(pix, st, stack)).is_some() {
            return Err(corrupt(format!("surface {id} repeated or beyond next_id")));
        }
    }
    if en.shown.is_some_and(|id| !en.surfaces.contains_key(&id)) {
        return Err(corrupt("the shown surface is not in the image"));
    }
    // A window shows what the program showed, before the program draws again.
    if let Some(id) = en.shown {
        if matches!(super::config::get().display, super::config::Choice::Window) {
            if let Err(e) = en.show(id, en.frame.saturating_sub(1)) {
                eprintln!("ckpt: warning: showing the restored frame: {e}");
            }
        }
    }
    *engine::lock_if_used() = Some(en);
    Ok(())
}
