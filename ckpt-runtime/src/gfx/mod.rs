//! The graphics engine in user space (feature `gfx`): surfaces, paths, fills, strokes,
//! gradients, images, transforms, clipping, blending and text, over a real rasterizer
//! (tiny-skia) that runs inside the program. Its whole state — every surface with its
//! pixels, the drawing state, the frame counter, what the display shows — is part of
//! the image, so a program that draws continues after `kill -9` pixel for pixel.
//!
//! **Frames.** [`present`] shows a surface as the next frame on the display chosen at
//! start or at restore (`--ckpt-display`, or `CKPT_DISPLAY`):
//! - `png:DIR` (the default: `png:frames`): `DIR/frame-000000.png`, `frame-000001.png`,
//!   … written by a background thread. A save waits until every frame presented before
//!   it is written, so after a restore the sequence continues with the next frame.
//! - `window`: a real X11 window (feature `window`); keys, the mouse, resizing and
//!   closing it are input [`Event`]s.
//! - `none`: frames are counted, not shown.
//!
//! **Input.** [`poll_event`] and [`wait_event`] are the one way events reach the program,
//! so `--ckpt-record` logs them and a replay feeds them back. `--ckpt-events FILE` (or
//! `CKPT_EVENTS`) adds scripted events, each due from a frame number (see the format in
//! the events module's documentation: `10 down 100 120 left`, `20 key c`, `300 close`);
//! their position is in the image.
//!
//! ```
//! use ckpt::gfx::{self, Color, Font, Paint, Path, Surface};
//!
//! let mut s = Surface::new(200, 100).unwrap();
//! s.clear(Color::WHITE);
//! s.set_fill(Paint::linear((0.0, 0.0), (200.0, 0.0), Color::rgb(0, 90, 200), Color::rgb(0, 200, 120)));
//! s.fill_rect(10.0, 10.0, 180.0, 40.0);
//! s.set_stroke(Color::BLACK);
//! s.set_line_width(3.0);
//! s.stroke_path(&Path::circle(100.0, 70.0, 20.0));
//! s.set_fill(Color::BLACK);
//! s.set_font(Font::Sans, 14.0);
//! s.fill_text("hello", 10.0, 95.0);
//! assert_eq!(s.pixel(100, 70), Color::WHITE);
//! assert_ne!(s.pixel(100, 50), Color::WHITE);
//! ```

#[cfg(feature = "gfx")]
pub(crate) mod component;
pub(crate) mod config;
#[cfg(feature = "gfx")]
mod display;
#[cfg(feature = "gfx")]
pub(crate) mod engine;
#[cfg(feature = "gfx")]
pub(crate) mod events;
#[cfg(feature = "png")]
mod pngenc;
#[cfg(feature = "gfx")]
mod surface;
#[cfg(feature = "gfx")]
mod text;
#[cfg(feature = "gfx")]
mod types;
#[cfg(feature = "window")]
mod window;

#[cfg(feature = "gfx")]
pub use self::surface::Surface;
#[cfg(feature = "gfx")]
pub use self::types::{
    BlendMode, Button, Color, Event, FillRule, Font, Key, LineCap, LineJoin, Paint, Path, Transform,
};

#[cfg(feature = "gfx")]
pub use self::api::*;
#[cfg(feature = "png")]
pub use self::pngenc::png_of_premultiplied;

#[cfg(feature = "gfx")]
mod api {
    use std::io;
    use std::sync::OnceLock;
    use std::time::Duration;

    use super::engine;
    use super::events::{self, Script};
    use super::{config, Event, Surface};

    /// The events script's text, read and checked at start.
    static TEXT: OnceLock<String> = OnceLock::new();
    /// The script's events, parsed on first use.
    static SCRIPT: OnceLock<Vec<(u64, Event)>> = OnceLock::new();

    /// Takes the run's display settings and reads its events script (the agent calls it
    /// before any user code); an unreadable or malformed script is a usage error.
    pub(crate) fn start(cfg: config::GfxConfig) -> Result<(), String> {
        if let Some(p) = &cfg.events {
            let text = Script::load(p).map_err(|e| e.to_string())?;
            let _ = TEXT.set(text);
        }
        config::configure(cfg);
        Ok(())
    }

    /// The scripted events. The script is an input like a file the program reads: a
    /// recording logs its text at first use, and a replay takes it from the log.
    fn script() -> &'static [(u64, Event)] {
        const EVENTS: u64 = 0x0063_6b70_7465_7674; // "ckptevt"
        SCRIPT.get_or_init(|| {
            let text = crate::replay::value(crate::replay::Kind::Env, EVENTS, || {
                TEXT.get().map(|t| t.clone().into_bytes())
            });
            text.and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| Script::parse(&t).ok())
                .map(|s| s.events)
                .unwrap_or_default()
        })
    }

    /// Shows `surface` as the next frame and returns its number (0 for the first).
    ///
    /// On `png:DIR` the frame is written as `DIR/frame-NNNNNN.png` in the background; an
    /// error writing an earlier frame is returned here.
    pub fn present(surface: &Surface) -> io::Result<u64> {
        engine::with(|e| {
            let n = e.frame;
            e.show(surface.id, n)?;
            e.frame = n + 1;
            e.shown = Some(surface.id);
            e.dirty = false;
            Ok(n)
        })
    }

    /// How many frames were presented so far (the next frame's number).
    pub fn frame() -> u64 {
        engine::with(|e| e.frame)
    }

    /// Whether the display takes input (a window): a program that waits for the user
    /// asks this first, so it does not wait forever when its frames go to files.
    pub fn interactive() -> bool {
        engine::with(|e| {
            // An input like the events (a replay on another display answers the same).
            let mut b = [0u8; 1];
            let r = crate::replay::read(crate::replay::Kind::Event, &mut b, |b| {
                b[0] = u8::from(e.display().map(|d| d.interactive()).unwrap_or(false));
                Ok(1)
            });
            matches!(r, Ok(1)) && b[0] == 1
        })
    }

    /// The next input event, if one is waiting: scripted events due at this frame first,
    /// then the display's.
    pub fn poll_event() -> Option<Event> {
        next(None)
    }

    /// The next input event, waiting up to `timeout` for one.
    pub fn wait_event(timeout: Duration) -> Option<Event> {
        next(Some(timeout))
    }

    fn next(wait: Option<Duration>) -> Option<Event> {
        engine::with(|e| {
            if let Some((at, ev)) = script().get(e.script_pos as usize) {
                if *at <= e.frame {
                    e.script_pos += 1;
                    return Some(ev.clone());
                }
            }
            // The display's events are inputs: logged when recording, fed when replaying.
            let mut buf = [0u8; 128];
            let r = crate::replay::read(crate::replay::Kind::Event, &mut buf, |b| {
                let ev = e
                    .display()
                    .ok()
                    .and_then(|d| d.next_event(wait))
                    .ok_or(io::ErrorKind::WouldBlock)?;
                let line = events::to_line(&ev);
                let n = line.len().min(b.len());
                b[..n].copy_from_slice(&line.as_bytes()[..n]);
                Ok(n)
            });
            let n = r.ok()?;
            events::from_line(std::str::from_utf8(&buf[..n]).ok()?)
        })
    }

    /// Waits until every presented frame reached the display (before an image is
    /// written, and at the end of `main`).
    pub(crate) fn flush() -> io::Result<()> {
        let mut g = engine::lock_if_used();
        match g.as_mut().and_then(|e| e.display.as_mut()) {
            Some(d) => d.flush(),
            None => Ok(()),
        }
    }

    /// The end of `main`: the last frames are written.
    pub(crate) fn finish() {
        if let Err(e) = flush() {
            eprintln!("ckpt: warning: {e}");
        }
    }
}

#[cfg(all(test, feature = "gfx"))]
mod tests;
