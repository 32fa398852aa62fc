//! The `window` display (`--ckpt-display window`, feature `window`): an X11 window over
//! x11rb's pure-Rust connection (no C library).
//!
//! The window is created by the first frame, at that frame's size, and resized when a
//! later frame has another size. Frames are sent as `ZPixmap` images (32 bits per pixel,
//! the screen's byte order) in bands that each fit in one request, and [`Window::show`]
//! returns only after a round trip: the X server has the pixels then. The last frame is
//! kept to repaint the window on `Expose`.
//!
//! Input: keys (through the server's keyboard mapping), the pointer's buttons and moves,
//! the window resized by the user, and closing it (`WM_DELETE_WINDOW`, or the window
//! destroyed, or the connection lost) become [`Event`]s; a lost connection is reported
//! once as [`Event::Closed`], and the display is inert afterwards.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{
    self, AtomEnum, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux,
    EventMask, ImageFormat, ImageOrder, KeyButMask, PropMode, VisualClass, WindowClass,
};
use x11rb::protocol::Event as XEvent;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::{Button, Event, Key};

/// How long the first frame waits for the window to be mapped (a window manager may take
/// a moment) before it is drawn anyway.
const MAP_WAIT: Duration = Duration::from_secs(2);

/// The size of a `PutImage` request without its data.
const PUT_IMAGE_HEADER: usize = 24;

/// The atoms the window uses, interned once at open.
struct Atoms {
    /// `WM_PROTOCOLS`: the type of the window manager's client messages.
    wm_protocols: xproto::Atom,
    /// `WM_DELETE_WINDOW`: the window manager asks the window to close.
    wm_delete_window: xproto::Atom,
    /// `_NET_WM_NAME`: the title in UTF-8 (EWMH).
    net_wm_name: xproto::Atom,
    /// `UTF8_STRING`: the type of `_NET_WM_NAME`.
    utf8_string: xproto::Atom,
}

/// The server's keyboard mapping: keysyms per keycode from `min_keycode` on.
struct Keymap {
    /// The first keycode of `syms`.
    min_keycode: u8,
    /// Keysyms per keycode (the columns of the table).
    per: usize,
    /// The table: `per` keysyms for each keycode.
    syms: Vec<u32>,
}

impl Keymap {
    /// Fetches the whole mapping of the server.
    fn fetch(conn: &RustConnection) -> io::Result<Keymap> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        let r = conn
            .get_keyboard_mapping(min, count)
            .map_err(conn_err)?
            .reply()
            .map_err(reply_err)?;
        Ok(Keymap {
            min_keycode: min,
            per: usize::from(r.keysyms_per_keycode),
            syms: r.keysyms,
        })
    }

    /// The keysym of `keycode` with modifier `state` (Shift picks the second column,
    /// Caps Lock upper-cases letters), 0 (NoSymbol) when it has none.
    fn keysym(&self, keycode: u8, state: KeyButMask) -> u32 {
        let Some(i) = keycode.checked_sub(self.min_keycode) else {
            return 0;
        };
        let row = usize::from(i) * self.per;
        let col = |c: usize| {
            if c < self.per {
                self.syms.get(row + c).copied().unwrap_or(0)
            } else {
                0
            }
        };
        let (lower, upper) = (col(0), col(1));
        let shift = state.contains(KeyButMask::SHIFT);
        let lock = state.contains(KeyButMask::LOCK);
        // The core protocol's rule: a keycode with one keysym that is a letter has its
        // upper case as the second.
        let upper = if upper == 0 { upper_of(lower) } else { upper };
        let is_letter = upper_of(lower) != lower;
        if shift != (lock && is_letter) && upper != 0 {
            upper
        } else {
            lower
        }
    }
}

/// The upper case of a Latin-1 letter keysym, else the keysym itself.
fn upper_of(sym: u32) -> u32 {
    match sym {
        0x61..=0x7a => sym - 0x20,
        // à..þ but ÷ (0xf7).
        0xe0..=0xfe if sym != 0xf7 => sym - 0x20,
        _ => sym,
    }
}

/// The key of a keysym.
fn key_of(sym: u32) -> Key {
    match sym {
        0x20..=0x7e | 0xa0..=0xff => Key::Char(char::from(sym as u8)),
        0xff1b => Key::Escape,
        // Return, and Enter of the keypad.
        0xff0d | 0xff8d => Key::Enter,
        0xff08 => Key::Backspace,
        // Tab, and Shift+Tab (ISO_Left_Tab).
        0xff09 | 0xfe20 => Key::Tab,
        0xff51 => Key::Left,
        0xff52 => Key::Up,
        0xff53 => Key::Right,
        0xff54 => Key::Down,
        _ => Key::Other(sym),
    }
}

/// The mouse button of an X button number (4 and 5, the wheel, and others are none).
fn button_of(detail: u8) -> Option<Button> {
    match detail {
        1 => Some(Button::Left),
        2 => Some(Button::Middle),
        3 => Some(Button::Right),
        _ => None,
    }
}

/// How a frame's pixels are laid out for the server: where each 8-bit channel goes in a
/// 32-bit pixel, and the pixel's byte order.
#[derive(Clone, Copy)]
struct PixelFormat {
    /// Shifts of red, green and blue in the pixel value.
    shifts: [u32; 3],
    /// Whether the server wants the least significant byte first.
    lsb_first: bool,
}

impl PixelFormat {
    /// Converts premultiplied RGBA (composited over black: the screen has no alpha, so
    /// the premultiplied color is the color) into the server's 32-bit pixels.
    fn convert(&self, px: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.reserve(px.len());
        let [rs, gs, bs] = self.shifts;
        for p in px.chunks_exact(4) {
            let v = (u32::from(p[0]) << rs) | (u32::from(p[1]) << gs) | (u32::from(p[2]) << bs);
            let b = if self.lsb_first {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            out.extend_from_slice(&b);
        }
    }
}

/// The window on the server, once the first frame created it.
struct XWindow {
    /// Its id.
    id: xproto::Window,
    /// The graphics context frames are put with.
    gc: xproto::Gcontext,
    /// Its size as last known (configured by us or reported by the server).
    size: (u32, u32),
    /// The size of the frames it was created or last resized for.
    frame_size: (u32, u32),
}

/// An open window display: a connection to the X server, and the window once the first
/// frame is shown. Boxed: a connection is large, and [`super::display::Display`] holds one.
pub(crate) struct Window(Box<Inner>);

impl Window {
    /// Connects to the X server of `$DISPLAY`; nothing is shown until the first frame.
    pub(crate) fn open() -> io::Result<Window> {
        Inner::open().map(|w| Window(Box::new(w)))
    }

    /// Shows a frame of `w`×`h` premultiplied RGBA pixels (rows top to bottom): creates
    /// the window with the first frame, resizes it when the frames' size changes, and
    /// returns once the server has the pixels. A no-op once the window is gone.
    pub(crate) fn show(&mut self, w: u32, h: u32, px: &[u8]) -> io::Result<()> {
        self.0.show(w, h, px)
    }

    /// Sends what is buffered to the server (frames are already there when
    /// [`Window::show`] returns).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }

    /// The next event for the program, waiting up to `wait` for one (`None`: not at
    /// all). Repaints happen here too.
    pub(crate) fn next_event(&mut self, wait: Option<Duration>) -> Option<Event> {
        self.0.next_event(wait)
    }
}

/// The window display's state.
struct Inner {
    /// The connection.
    conn: RustConnection,
    /// The root window of the screen.
    root: xproto::Window,
    /// The depth of the window (24).
    depth: u8,
    /// Its visual (TrueColor).
    visual: xproto::Visualid,
    /// How pixels are sent.
    format: PixelFormat,
    /// Atoms interned at open.
    atoms: Atoms,
    /// The keyboard mapping.
    keymap: Keymap,
    /// The title: `ckpt: <program name>`.
    title: String,
    /// The window, once created (and until it is destroyed).
    win: Option<XWindow>,
    /// The window was destroyed or the connection lost: frames are not shown any more.
    gone: bool,
    /// The connection failed: no more requests or events.
    broken: bool,
    /// The last frame in the server's pixel format, and its size (repainted on `Expose`).
    last: Vec<u8>,
    /// The size of `last`.
    last_size: (u32, u32),
    /// Events for the program, read while waiting for something else.
    pending: VecDeque<Event>,
}

/// An io::Error of a failed connection.
fn conn_err(e: x11rb::errors::ConnectionError) -> io::Error {
    io::Error::other(format!("the X connection failed: {e}"))
}

/// An io::Error of a failed request.
fn reply_err(e: x11rb::errors::ReplyError) -> io::Error {
    io::Error::other(format!("an X request failed: {e}"))
}

/// An io::Error of a failed id allocation.
fn id_err(e: x11rb::errors::ReplyOrIdError) -> io::Error {
    io::Error::other(format!("an X request failed: {e}"))
}

/// The shift of an 8-bit channel mask, if it is one.
fn shift_of(mask: u32) -> Option<u32> {
    let s = mask.trailing_zeros();
    (s <= 24 && mask >> s == 0xff).then_some(s)
}

impl Inner {
    /// See [`Window::open`].
    fn open() -> io::Result<Inner> {
        let display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
        let (conn, screen) = x11rb::connect(None).map_err(|e| {
            let why = match &display {
                Some(d) => format!("{d:?}: {e}"),
                None => "(DISPLAY is not set)".to_string(),
            };
            io::Error::new(
                io::ErrorKind::NotConnected,
                format!(
                    "--ckpt-display window: cannot connect to the X display {why}: \
                     set DISPLAY or use png:DIR"
                ),
            )
        })?;
        let setup = conn.setup();
        let scr = setup.roots.get(screen).ok_or_else(|| {
            io::Error::other(format!(
                "--ckpt-display window: the X server has no screen {screen}"
            ))
        })?;
        let root = scr.root;
        // A depth-24 TrueColor visual with 8-bit channels: the root visual when it is one.
        let mut chosen = None;
        for d in scr.allowed_depths.iter().filter(|d| d.depth == 24) {
            for v in d
                .visuals
                .iter()
                .filter(|v| v.class == VisualClass::TRUE_COLOR)
            {
                let shifts = (
                    shift_of(v.red_mask),
                    shift_of(v.green_mask),
                    shift_of(v.blue_mask),
                );
                if let (Some(r), Some(g), Some(b)) = shifts {
                    if chosen.is_none() || v.visual_id == scr.root_visual {
                        chosen = Some((v.visual_id, [r, g, b]));
                    }
                }
            }
        }
        let (visual, shifts) = chosen.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "--ckpt-display window: the X screen has no 24-bit TrueColor visual",
            )
        })?;
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == 24)
            .map(|f| f.bits_per_pixel);
        if bpp != Some(32) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "--ckpt-display window: the X server does not store 24-bit images in 32 bits \
                 per pixel",
            ));
        }
        let format = PixelFormat {
            shifts,
            lsb_first: setup.image_byte_order == ImageOrder::LSB_FIRST,
        };
        let intern = |name: &[u8]| -> io::Result<xproto::Atom> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(conn_err)?
                .reply()
                .map_err(reply_err)?
                .atom)
        };
        let atoms = Atoms {
            wm_protocols: intern(b"WM_PROTOCOLS")?,
            wm_delete_window: intern(b"WM_DELETE_WINDOW")?,
            net_wm_name: intern(b"_NET_WM_NAME")?,
            utf8_string: intern(b"UTF8_STRING")?,
        };
        let keymap = Keymap::fetch(&conn)?;
        let program = std::env::args_os()
            .next()
            .map(std::path::PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "program".to_string());
        Ok(Inner {
            conn,
            root,
            depth: 24,
            visual,
            format,
            atoms,
            keymap,
            title: format!("ckpt: {program}"),
            win: None,
            gone: false,
            broken: false,
            last: Vec::new(),
            last_size: (0, 0),
            pending: VecDeque::new(),
        })
    }

    /// See [`Window::show`].
    fn show(&mut self, w: u32, h: u32, px: &[u8]) -> io::Result<()> {
        if self.gone || self.broken {
            return Ok(());
        }
        let n = (w as usize)
            .checked_mul(h as usize)
            .and_then(|n| n.checked_mul(4))
            .filter(|n| *n <= px.len())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("a frame of {w}x{h} pixels has {} bytes", px.len()),
                )
            })?;
        if w == 0 || h == 0 || w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--ckpt-display window: a window cannot be {w}x{h} pixels"),
            ));
        }
        let mut last = std::mem::take(&mut self.last);
        self.format.convert(&px[..n], &mut last);
        self.last = last;
        self.last_size = (w, h);
        let r = self.present();
        self.settle(r)
    }

    /// Creates or resizes the window for the last frame, puts it and makes a round trip.
    fn present(&mut self) -> io::Result<()> {
        let (w, h) = self.last_size;
        match &mut self.win {
            None => self.create(w, h)?,
            Some(win) if win.frame_size != (w, h) => {
                win.frame_size = (w, h);
                win.size = (w, h);
                let aux = ConfigureWindowAux::new().width(w).height(h);
                self.conn.configure_window(win.id, &aux).map_err(conn_err)?;
            }
            Some(_) => {}
        }
        self.put_last()?;
        // A round trip: when it answers, the server has processed the images.
        self.conn
            .get_input_focus()
            .map_err(conn_err)?
            .reply()
            .map_err(reply_err)?;
        Ok(())
    }

    /// A failed connection makes the display inert (reported as `Closed` by
    /// [`Inner::next_event`]) instead of failing the program, like a closed window.
    fn settle(&mut self, r: io::Result<()>) -> io::Result<()> {
        match r {
            Err(_) if self.conn_failed() => Ok(()),
            r => r,
        }
    }

    /// Whether the connection is broken (checked after a failure): marks it so.
    fn conn_failed(&mut self) -> bool {
        if !self.broken {
            // A round trip tells a broken connection from a request the server refused.
            let ok = self
                .conn
                .get_input_focus()
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some();
            if !ok {
                self.lost();
            }
        }
        self.broken
    }

    /// The connection is lost: the window is gone, `Closed` is due once.
    fn lost(&mut self) {
        if !self.broken {
            self.broken = true;
            self.win = None;
            if !self.gone {
                self.gone = true;
                self.pending.push_back(Event::Closed);
            }
        }
    }

    /// Creates the window at `w`×`h`, titles and maps it, and waits (bounded) until it is
    /// on screen so its first frame is not lost.
    fn create(&mut self, w: u32, h: u32) -> io::Result<()> {
        let c = &self.conn;
        let id = c.generate_id().map_err(id_err)?;
        let events = EventMask::EXPOSURE
            | EventMask::KEY_PRESS
            | EventMask::KEY_RELEASE
            | EventMask::BUTTON_PRESS
            | EventMask::BUTTON_RELEASE
            | EventMask::POINTER_MOTION
            | EventMask::STRUCTURE_NOTIFY;
        // A colormap of the visual (needed when it is not the root's).
        let cmap = c.generate_id().map_err(id_err)?;
        c.create_colormap(xproto::ColormapAlloc::NONE, cmap, self.root, self.visual)
            .map_err(conn_err)?;
        let aux = CreateWindowAux::new()
            .background_pixel(0)
            .border_pixel(0)
            .colormap(cmap)
            .event_mask(events);
        c.create_window(
            self.depth,
            id,
            self.root,
            0,
            0,
            w as u16,
            h as u16,
            0,
            WindowClass::INPUT_OUTPUT,
            self.visual,
            &aux,
        )
        .map_err(conn_err)?;
        let gc = c.generate_id().map_err(id_err)?;
        c.create_gc(gc, id, &CreateGCAux::new().graphics_exposures(0))
            .map_err(conn_err)?;
        let latin1: Vec<u8> = self
            .title
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).unwrap_or(b'?'))
            .collect();
        c.change_property8(
            PropMode::REPLACE,
            id,
            AtomEnum::WM_NAME,
            AtomEnum::STRING,
            &latin1,
        )
        .map_err(conn_err)?;
        c.change_property8(
            PropMode::REPLACE,
            id,
            self.atoms.net_wm_name,
            self.atoms.utf8_string,
            self.title.as_bytes(),
        )
        .map_err(conn_err)?;
        let instance = self.title.strip_prefix("ckpt: ").unwrap_or("ckpt");
        let mut class: Vec<u8> = instance
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).unwrap_or(b'?'))
            .collect();
        class.extend_from_slice(b"\0Ckpt\0");
        c.change_property8(
            PropMode::REPLACE,
            id,
            AtomEnum::WM_CLASS,
            AtomEnum::STRING,
            &class,
        )
        .map_err(conn_err)?;
        c.change_property32(
            PropMode::REPLACE,
            id,
            self.atoms.wm_protocols,
            AtomEnum::ATOM,
            &[self.atoms.wm_delete_window],
        )
        .map_err(conn_err)?;
        c.map_window(id).map_err(conn_err)?;
        c.flush().map_err(conn_err)?;
        self.win = Some(XWindow {
            id,
            gc,
            size: (w, h),
            frame_size: (w, h),
        });
        // Until MapNotify or Expose; other events are kept for the program.
        let deadline = Instant::now() + MAP_WAIT;
        loop {
            match self.conn.poll_for_event().map_err(conn_err)? {
                Some(XEvent::MapNotify(e)) if e.window == id => return Ok(()),
                Some(XEvent::Expose(e)) if e.window == id => return Ok(()),
                Some(ev) => self.handle(ev),
                None => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || self.gone {
                        return Ok(());
                    }
                    self.wait_readable(left)?;
                }
            }
        }
    }

    /// Puts the last frame into the window, in bands that each fit in one request.
    fn put_last(&mut self) -> io::Result<()> {
        let Some(win) = &self.win else {
            return Ok(());
        };
        let (w, h) = (self.last_size.0 as usize, self.last_size.1 as usize);
        if w == 0 || h == 0 || self.last.len() < w * h * 4 {
            return Ok(());
        }
        let room = self
            .conn
            .maximum_request_bytes()
            .saturating_sub(PUT_IMAGE_HEADER + 64)
            .max(4);
        // Columns per band (all unless one row is too long), then rows per band.
        let cols = w.min(room / 4).max(1);
        let rows = (room / (cols * 4)).clamp(1, h);
        let mut band = Vec::with_capacity(cols * rows * 4);
        for y in (0..h).step_by(rows) {
            let bh = rows.min(h - y);
            for x in (0..w).step_by(cols) {
                let bw = cols.min(w - x);
                let data: &[u8] = if bw == w {
                    &self.last[y * w * 4..(y + bh) * w * 4]
                } else {
                    band.clear();
                    for row in y..y + bh {
                        let start = (row * w + x) * 4;
                        band.extend_from_slice(&self.last[start..start + bw * 4]);
                    }
                    &band
                };
                self.conn
                    .put_image(
                        ImageFormat::Z_PIXMAP,
                        win.id,
                        win.gc,
                        bw as u16,
                        bh as u16,
                        x as i16,
                        y as i16,
                        0,
                        self.depth,
                        data,
                    )
                    .map_err(conn_err)?;
            }
        }
        Ok(())
    }

    /// See [`Window::flush`].
    fn flush(&mut self) -> io::Result<()> {
        if self.broken {
            return Ok(());
        }
        if self.conn.flush().is_err() {
            self.lost();
        }
        Ok(())
    }

    /// See [`Window::next_event`].
    fn next_event(&mut self, wait: Option<Duration>) -> Option<Event> {
        let deadline = wait.map(|d| Instant::now().checked_add(d));
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            if self.broken {
                return None;
            }
            match self.conn.poll_for_event() {
                Ok(Some(ev)) => {
                    self.handle(ev);
                    continue;
                }
                Ok(None) => {}
                Err(_) => {
                    self.lost();
                    continue;
                }
            }
            // Repaints and the like go out before sleeping.
            if self.conn.flush().is_err() {
                self.lost();
                continue;
            }
            let left = match deadline {
                None => return None,
                // A wait too long to represent: as good as forever.
                Some(None) => Duration::from_secs(3600),
                Some(Some(t)) => t.saturating_duration_since(Instant::now()),
            };
            if left.is_zero() {
                return None;
            }
            if self.wait_readable(left).is_err() {
                self.lost();
            }
        }
    }

    /// Waits until the connection has something to read or `timeout` passes (poll(2),
    /// restarted after signals).
    fn wait_readable(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let fd = self.conn.stream().as_raw_fd();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            if left.is_zero() {
                return Ok(());
            }
        }
    }

    /// Handles an X event: repaints, size bookkeeping, and events for the program (queued
    /// in `pending`).
    fn handle(&mut self, ev: XEvent) {
        let Some(win) = &mut self.win else {
            return;
        };
        let id = win.id;
        let out = match ev {
            XEvent::Expose(e) if e.window == id => {
                // One repaint for a series of exposures.
                if e.count == 0 && self.put_last().is_err() {
                    self.lost();
                }
                None
            }
            XEvent::ConfigureNotify(e) if e.window == id => {
                let size = (u32::from(e.width), u32::from(e.height));
                if size != win.size {
                    win.size = size;
                    Some(Event::Resized {
                        width: size.0,
                        height: size.1,
                    })
                } else {
                    None
                }
            }
            XEvent::ClientMessage(e)
                if e.window == id
                    && e.type_ == self.atoms.wm_protocols
                    && e.format == 32
                    && e.data.as_data32()[0] == self.atoms.wm_delete_window =>
            {
                Some(Event::Closed)
            }
            XEvent::DestroyNotify(e) if e.window == id => {
                self.win = None;
                self.gone = true;
                Some(Event::Closed)
            }
            XEvent::ButtonPress(e) if e.event == id => {
                button_of(e.detail).map(|button| Event::MouseDown {
                    x: f32::from(e.event_x),
                    y: f32::from(e.event_y),
                    button,
                })
            }
            XEvent::ButtonRelease(e) if e.event == id => {
                button_of(e.detail).map(|button| Event::MouseUp {
                    x: f32::from(e.event_x),
                    y: f32::from(e.event_y),
                    button,
                })
            }
            XEvent::MotionNotify(e) if e.event == id => Some(Event::MouseMove {
                x: f32::from(e.event_x),
                y: f32::from(e.event_y),
            }),
            XEvent::KeyPress(e) if e.event == id => Some(Event::KeyDown(key_of(
                self.keymap.keysym(e.detail, e.state),
            ))),
            XEvent::KeyRelease(e) if e.event == id => {
                Some(Event::KeyUp(key_of(self.keymap.keysym(e.detail, e.state))))
            }
            XEvent::MappingNotify(e) if e.request == xproto::Mapping::KEYBOARD => {
                if let Ok(k) = Keymap::fetch(&self.conn) {
                    self.keymap = k;
                }
                None
            }
            _ => None,
        };
        if let Some(e) = out {
            self.pending.push_back(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keysyms_map_to_keys() {
        assert_eq!(key_of(0x61), Key::Char('a'));
        assert_eq!(key_of(0xe9), Key::Char('é'));
        assert_eq!(key_of(0xff1b), Key::Escape);
        assert_eq!(key_of(0xff52), Key::Up);
        assert_eq!(key_of(0xffbe), Key::Other(0xffbe));
    }

    #[test]
    fn shift_and_lock_pick_the_case() {
        let k = Keymap {
            min_keycode: 8,
            per: 2,
            syms: vec![0x61, 0x41, 0x31, 0x21, 0x62, 0],
        };
        assert_eq!(k.keysym(8, KeyButMask::from(0u16)), 0x61);
        assert_eq!(k.keysym(8, KeyButMask::SHIFT), 0x41);
        assert_eq!(k.keysym(8, KeyButMask::LOCK), 0x41);
        assert_eq!(k.keysym(9, KeyButMask::LOCK), 0x31);
        assert_eq!(k.keysym(9, KeyButMask::SHIFT), 0x21);
        assert_eq!(k.keysym(10, KeyButMask::SHIFT), 0x42);
        assert_eq!(k.keysym(3, KeyButMask::SHIFT), 0);
        assert_eq!(k.keysym(200, KeyButMask::SHIFT), 0);
    }

    #[test]
    fn pixels_are_bgrx_on_lsb_servers() {
        let f = PixelFormat {
            shifts: [16, 8, 0],
            lsb_first: true,
        };
        let mut out = Vec::new();
        f.convert(&[10, 20, 30, 255, 5, 6, 7, 128], &mut out);
        assert_eq!(out, [30, 20, 10, 0, 7, 6, 5, 0]);
        let f = PixelFormat {
            lsb_first: false,
            ..f
        };
        f.convert(&[10, 20, 30, 255], &mut out);
        assert_eq!(out, [0, 10, 20, 30]);
    }
}
