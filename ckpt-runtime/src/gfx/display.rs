//! Where presented frames go: PNG files written by a background thread, a window, or
//! nowhere. Chosen at each start (`--ckpt-display`), never part of the image: a program
//! saved on one display restores onto another.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::config::Choice;
use super::Event;

/// An open display.
pub(crate) enum Display {
    Png(PngWriter),
    None,
    #[cfg(feature = "window")]
    Window(super::window::Window),
}

impl Display {
    /// Opens the display `choice`.
    pub(crate) fn open(choice: &Choice) -> io::Result<Display> {
        match choice {
            Choice::Png(dir) => PngWriter::start(dir.clone()).map(Display::Png),
            Choice::None => Ok(Display::None),
            #[cfg(feature = "window")]
            Choice::Window => super::window::Window::open().map(Display::Window),
            #[cfg(not(feature = "window"))]
            Choice::Window => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "--ckpt-display window: this program was built without ckpt's `window` \
                 feature; build it with `features = [\"window\"]` or use png:DIR",
            )),
        }
    }

    /// Shows frame `n`: `w`×`h` premultiplied RGBA pixels.
    pub(crate) fn show(&mut self, n: u64, w: u32, h: u32, px: &[u8]) -> io::Result<()> {
        match self {
            Display::Png(p) => p.write(n, w, h, px.to_vec()),
            Display::None => Ok(()),
            #[cfg(feature = "window")]
            Display::Window(win) => win.show(w, h, px),
        }
    }

    /// Waits until every frame shown has reached its destination (an image written
    /// after this covers them).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Display::Png(p) => p.flush(),
            Display::None => Ok(()),
            #[cfg(feature = "window")]
            Display::Window(win) => win.flush(),
        }
    }

    /// The next input the display has, waiting up to `wait` for one.
    pub(crate) fn next_event(&mut self, wait: Option<std::time::Duration>) -> Option<Event> {
        match self {
            Display::Png(_) | Display::None => {
                if let Some(d) = wait {
                    std::thread::sleep(d);
                }
                None
            }
            #[cfg(feature = "window")]
            Display::Window(win) => win.next_event(wait),
        }
    }

    /// Whether it takes input (a window).
    pub(crate) fn interactive(&self) -> bool {
        match self {
            Display::Png(_) | Display::None => false,
            #[cfg(feature = "window")]
            Display::Window(_) => true,
        }
    }
}

/// A frame waiting for the writer.
struct Job {
    path: PathBuf,
    w: u32,
    h: u32,
    px: Vec<u8>,
}

/// What the writer has done: frames queued and written, and its first error.
#[derive(Default)]
struct Progress {
    queued: u64,
    done: u64,
    error: Option<String>,
}

/// Writes frames as `DIR/frame-NNNNNN.png` on a thread of its own, so the program draws
/// the next frame while the last is encoded. Each file appears whole (written beside,
/// then renamed).
pub(crate) struct PngWriter {
    dir: PathBuf,
    tx: Option<mpsc::SyncSender<Job>>,
    progress: Arc<(Mutex<Progress>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl PngWriter {
    fn start(dir: PathBuf) -> io::Result<PngWriter> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "--ckpt-display png:{}: cannot create the directory: {e}",
                    dir.display()
                ),
            )
        })?;
        // A program that ends with `std::process::exit` skips the end of `main`: its last
        // frames are written at exit all the same.
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a plain `extern "C"` function that does not unwind.
        AT_EXIT.call_once(|| unsafe {
            libc::atexit(flush_at_exit);
        });
        // Two frames in flight: the program is never more than two frames ahead.
        let (tx, rx) = mpsc::sync_channel::<Job>(2);
        let progress: Arc<(Mutex<Progress>, Condvar)> = Arc::default();
        let p = progress.clone();
        let thread = std::thread::Builder::new()
            .name("ckpt-gfx-png".into())
            .spawn(move || {
                for job in rx {
                    let r = write_png(&job);
                    let (m, cv) = &*p;
                    let mut g = m.lock().unwrap_or_else(|x| x.into_inner());
                    g.done += 1;
                    if let Err(e) = r {
                        g.error
                            .get_or_insert(format!("{}: {e}", job.path.display()));
                    }
                    cv.notify_all();
                }
            })?;
        Ok(PngWriter {
            dir,
            tx: Some(tx),
            progress,
            thread: Some(thread),
        })
    }

    fn error(&self) -> io::Result<()> {
        let g = self.progress.0.lock().unwrap_or_else(|x| x.into_inner());
        match &g.error {
            Some(e) => Err(io::Error::other(format!("writing a frame failed: {e}"))),
            None => Ok(()),
        }
    }

    fn write(&mut self, n: u64, w: u32, h: u32, px: Vec<u8>) -> io::Result<()> {
        self.error()?;
        let job = Job {
            path: self.dir.join(format!("frame-{n:06}.png")),
            w,
            h,
            px,
        };
        self.progress
            .0
            .lock()
            .unwrap_or_else(|x| x.into_inner())
            .queued += 1;
        let sent = self.tx.as_ref().map(|tx| tx.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(io::Error::other("the frame writer stopped")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let (m, cv) = &*self.progress;
        let mut g = m.lock().unwrap_or_else(|x| x.into_inner());
        while g.done < g.queued {
            g = cv.wait(g).unwrap_or_else(|x| x.into_inner());
        }
        drop(g);
        self.error()
    }
}

impl Drop for PngWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The exit handler: waits for the frames presented so far (never for the engine: a
/// thread that holds it at exit keeps its frames).
extern "C" fn flush_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(mut g) = super::engine::try_lock() {
            if let Some(d) = g.as_mut().and_then(|e| e.display.as_mut()) {
                if let Err(e) = d.flush() {
                    eprintln!("ckpt: warning: {e}");
                }
            }
        }
    });
}

fn write_png(job: &Job) -> io::Result<()> {
    let bytes = super::pngenc::encode_png(job.w, job.h, &job.px)?;
    let mut tmp = job.path.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, &job.path)
}
