//! What macro-generated code calls. Re-exported as `ckpt::__private`.

use std::cell::Cell;
use std::marker::PhantomData;
use std::path::Path;

use super::components;
pub use super::options::Program;
use super::options::{self, Start};
use super::stack::{Active, CallReg, AGENT};
pub use super::stack::{Capture, FnInfo, Writer};
use crate::error::{Error, Result};
use crate::image;
use crate::state::{Loader, StableOrder, State, Value};

/// Where a save point writes.
#[derive(Clone, Copy)]
pub enum Dest<'a> {
    /// The run's image path (`--ckpt-file`, `CKPT_FILE` or `<exe>.ckpt`).
    Default,
    /// `ckpt::save_to(path)`.
    Path(&'a Path),
}

/// Prints an error the user caused and exits with status 2.
pub fn fatal(e: &Error) -> ! {
    eprintln!("ckpt: error: {e}");
    std::process::exit(2)
}

/// The agent prologue of a `#[checkpointable] fn main`.
pub fn start(program: &'static Program) {
    let journal = |restoring: Option<&Path>| {
        if let Some(cfg) = options::config() {
            crate::fs::journal::configure(&cfg.image_path, restoring);
        }
    };
    match options::start(program) {
        Ok(Start::Fresh) => journal(None),
        Ok(Start::Restore(img)) => {
            let img = *img;
            journal(Some(&img.path));
            // Components first: their state is back before any user code runs.
            let mut loader = Loader::new(img.shared);
            if let Err(e) = components::restore_all(&img.path, img.components, &mut loader) {
                fatal(&e);
            }
            options::consume_policies();
            AGENT.with(|a| {
                let mut a = a.borrow_mut();
                a.loader = Some(loader);
                a.records = img.frames.into_iter().map(Some).collect();
                a.resume_next = true;
                a.restore_path = Some(img.path);
            })
        }
        Err(e) => fatal(&e),
    }
}

/// `CKPT_CRASH_AFTER_SAVES=N`: a testing aid that simulates a crash at a precise moment.
/// The process kills itself with SIGKILL right after its N-th image is complete, so a
/// test can restore from every save point of a program without timing luck.
mod crash_injection {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// The variable's name.
    pub(crate) const ENV: &str = "CKPT_CRASH_AFTER_SAVES";

    static AFTER: OnceLock<Option<u64>> = OnceLock::new();
    static SAVES: AtomicU64 = AtomicU64::new(0);

    pub(crate) fn after_save() {
        let after = *AFTER.get_or_init(|| std::env::var(ENV).ok().and_then(|v| v.parse().ok()));
        let Some(n) = after else { return };
        if SAVES.fetch_add(1, Ordering::Relaxed) + 1 == n {
            // SAFETY: plain syscalls on this process; nothing runs after SIGKILL.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// Unwraps a by-value argument slot on the normal path.
#[inline]
pub fn arg<T>(slot: Option<T>) -> T {
    match slot {
        Some(v) => v,
        None => internal("a by-value argument was read while resuming"),
    }
}

fn internal(what: &str) -> ! {
    eprintln!("ckpt: internal error: {what}; please report this with the program's source");
    std::process::abort()
}

/// A checkpointable function's handle on its frame.
pub struct Frame {
    depth: usize,
    resuming: Cell<bool>,
    target: u32,
    /// Frames are per thread.
    _not_send: PhantomData<*const ()>,
}

/// Opens the frame of a checkpointable function. This is the hot path of every
/// checkpointable call: it only links the frame to its caller's registered call; whether
/// the call really was to this function is checked when a save needs it.
#[inline]
pub fn frame(info: &'static FnInfo) -> Frame {
    AGENT.with(|a| {
        let mut a = a.borrow_mut();
        let depth = a.stack.len();
        let opened_by = match a.stack.last_mut() {
            None => Some("main"),
            Some(parent) => match &mut parent.call {
                Some(c) if !c.consumed => {
                    c.consumed = true;
                    Some(c.callee)
                }
                _ => None,
            },
        };
        let resuming = std::mem::take(&mut a.resume_next);
        let target = if resuming { claim(&a, depth, info) } else { 0 };
        a.stack.push(Active {
            info,
            call: None,
            opened_by,
        });
        Frame {
            depth,
            resuming: Cell::new(resuming),
            target,
            _not_send: PhantomData,
        }
    })
}

/// Checks that the image's frame at `depth` belongs to `info`; returns its save point.
#[cold]
fn claim(a: &super::stack::Agent, depth: usize, info: &'static FnInfo) -> u32 {
    let path = a.restore_path.clone().unwrap_or_default();
    match a.records.get(depth).and_then(Option::as_ref) {
        Some(r) if r.function == info.name && r.body_hash == info.hash => r.at,
        Some(r) => fatal(&Error::FrameMismatch {
            path,
            function: info.name.into(),
            detail: if r.function == info.name {
                "its body changed since the image was written".into()
            } else {
                format!("the image expects `{}` here", r.function)
            },
        }),
        None => fatal(&Error::FrameMismatch {
            path,
            function: info.name.into(),
            detail: "the image has no frame for it".into(),
        }),
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        let _ = AGENT.try_with(|a| {
            let mut a = a.borrow_mut();
            a.stack.truncate(self.depth);
        });
    }
}

impl Frame {
    /// True while this frame is on its way back to the point it was saved at.
    #[inline]
    pub fn resuming(&self) -> bool {
        self.resuming.get()
    }

    /// True when resuming to a point with id in `lo..=hi`.
    #[inline]
    pub fn resume_in(&self, lo: u32, hi: u32) -> bool {
        self.resuming.get() && lo <= self.target && self.target <= hi
    }

    /// Takes a saved local back while resuming.
    pub fn take<T: State>(&self, name: &str) -> T {
        let v = self.take_raw(name);
        self.load(v, name)
    }

    fn take_raw(&self, name: &str) -> Value {
        let r = AGENT.with(|a| a.borrow_mut().take_value(self.depth, name));
        r.unwrap_or_else(|detail| self.mismatch(&None, detail))
    }

    fn load<T: State>(&self, v: Value, name: &str) -> T {
        let r = AGENT.with(|a| {
            let mut a = a.borrow_mut();
            let Some(loader) = a.loader.as_mut() else {
                internal("take without a loader")
            };
            loader.load::<T>(v)
        });
        r.unwrap_or_else(|e| match e {
            // The outside world differs from the checkpoint (a file changed): say so as is.
            Error::Restore { .. } | Error::Usage(_) | Error::Io { .. } => fatal(&e),
            e => self.mismatch(&None, format!("local `{name}`: {e}")),
        })
    }

    fn mismatch(&self, path: &Option<std::path::PathBuf>, detail: String) -> ! {
        let (function, restore) = AGENT.with(|a| {
            let a = a.borrow();
            (
                a.stack.get(self.depth).map(|f| f.info.name).unwrap_or("?"),
                a.restore_path.clone(),
            )
        });
        let path = path.clone().or(restore).unwrap_or_default();
        fatal(&Error::FrameMismatch {
            path,
            function: function.into(),
            detail,
        })
    }

    /// Leaves resume mode: the frame has reached its point.
    fn arrive(&self) {
        self.resuming.set(false);
        AGENT.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(r) = a.records.get_mut(self.depth) {
                *r = None;
            }
        });
    }

    /// A save point. While resuming to it, returns `Ok(())` without saving.
    pub fn save_point(&self, id: u32, dest: Dest<'_>, capture: &Capture<'_>) -> Result<()> {
        if self.resuming.get() {
            self.arrive();
            AGENT.with(|a| {
                let mut a = a.borrow_mut();
                a.restored = true;
                a.records.clear();
                a.loader = None;
            });
            return Ok(());
        }
        AGENT.with(|a| a.borrow_mut().restored = false);
        self.save(id, dest, capture)
    }

    fn save(&self, id: u32, dest: Dest<'_>, capture: &Capture<'_>) -> Result<()> {
        let Some(cfg) = options::config() else {
            return Err(Error::Usage(
                "ckpt::save() needs the agent: annotate `fn main` with #[checkpointable]".into(),
            ));
        };
        let path = match dest {
            Dest::Default => cfg.image_path.clone(),
            Dest::Path(p) => options::absolute(p),
        };
        AGENT.with(|a| {
            let a = a.borrow();
            a.check_registered(self.depth)?;
            cfg.lock(&path)?;
            let header = cfg.header(&path);
            image::write(
                &path,
                &header,
                &mut |enc| a.write_frames(enc, id, capture),
                &mut components::save_all,
            )?;
            // That image knows every written file now.
            crate::fs::journal::saved(&path);
            crash_injection::after_save();
            Ok(())
        })
    }

    /// Registers a call point for the duration of a call of a checkpointable function.
    ///
    /// `lent` names the locals the call borrows mutably or moves (`"x" → "#0"` for the
    /// callee's first parameter, `"self"` for its receiver); the capture writes the rest.
    pub fn enter_call<'a>(
        &'a self,
        id: u32,
        callee: &'static str,
        lent: &'static [(&'static str, &'static str)],
        capture: &'a Capture<'a>,
    ) -> CallGuard<'a> {
        if self.resuming.get() {
            // Arrived at the call the image was saved in: the callee resumes next.
            self.arrive();
            AGENT.with(|a| a.borrow_mut().resume_next = true);
        }
        // SAFETY: only the lifetime is erased. The registration is removed by
        // `CallGuard::drop`, and the guard borrows `capture` for 'a, so the pointer is
        // never used after the capture dies. The guard is only created by
        // macro-generated code, which drops it (never leaks it) at the end of the call.
        let erased: *const Capture<'static> =
            unsafe { std::mem::transmute(capture as *const Capture<'a>) };
        AGENT.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(f) = a.stack.get_mut(self.depth) {
                f.call = Some(CallReg {
                    id,
                    callee,
                    lent,
                    capture: erased,
                    consumed: false,
                });
            }
        });
        CallGuard {
            depth: self.depth,
            _capture: PhantomData,
        }
    }
}

/// Keeps a call point registered; unregisters it when dropped.
pub struct CallGuard<'a> {
    depth: usize,
    _capture: PhantomData<&'a Capture<'a>>,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        let _ = AGENT.try_with(|a| {
            if let Some(f) = a.borrow_mut().stack.get_mut(self.depth) {
                f.call = None;
            }
        });
    }
}

/// Writes a checkpoint of the running program to its image path and returns `Ok(())`.
///
/// Inside a `#[checkpointable]` function the macro turns this call into a save point;
/// after a restore, execution continues right after it, again with `Ok(())` (see
/// [`restored`]). Called anywhere else it returns [`Error::NoFrame`].
///
/// ```no_run
/// #[ckpt::checkpointable]
/// fn main() {
///     for i in 0..10u32 {
///         ckpt::save().expect("checkpoint");
///         println!("{i}");
///     }
/// }
/// ```
#[track_caller]
pub fn save() -> Result<()> {
    let l = std::panic::Location::caller();
    let location = format!("{}:{}", l.file(), l.line());
    let inside = AGENT.with(|a| a.borrow().stack.last().map(|f| f.info.name));
    match inside {
        // Reached at run time although a checkpointable frame is active: the macro did
        // not see this call as a save point.
        Some(function) => Err(Error::UnregisteredCall {
            function: "ckpt::save".into(),
            caller: function.into(),
            detail: format!(
                "the call at {location} was not seen by #[checkpointable]; write it as \
                 `ckpt::save()` (an imported `save` is not recognised) in a #[checkpointable] \
                 function, and annotate the functions between it and main"
            ),
        }),
        None => Err(Error::NoFrame { location }),
    }
}

/// Like [`save`], to the given path instead of the run's image path.
#[track_caller]
pub fn save_to<P: AsRef<Path>>(path: P) -> Result<()> {
    let _ = path;
    save()
}

/// True when the most recent save point returned because the program was restored.
pub fn restored() -> bool {
    AGENT.with(|a| a.borrow().restored)
}

/// Counts the items a `for` loop has taken, so a loop over a borrowed collection can
/// resume by position.
pub struct Counted<I> {
    it: I,
    n: u64,
}

impl<I> Counted<I> {
    /// Wraps a loop's iterator.
    pub fn new(it: I) -> Self {
        Counted { it, n: 0 }
    }
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let x = self.it.next();
        self.n += x.is_some() as u64;
        x
    }
}

/// Picks how a loop iterator is saved: whole if `State`, by count if `StableOrder`.
pub struct IterSave<'a, I>(pub &'a Counted<I>);

/// Saves a `State` iterator whole (autoref specialization: preferred).
pub trait IterSaveState {
    /// Writes the iterator under `name`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>;
}
impl<I: State> IterSaveState for &&IterSave<'_, I> {
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        if let Some(enc) = w.live_encoder(name) {
            enc.map(1);
            enc.text("state");
            enc.put(&self.0.it)?;
        }
        Ok(())
    }
}

/// Saves a `StableOrder` iterator as the count of items taken.
pub trait IterSaveCount {
    /// Writes the count under `name`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>;
}
impl<I: StableOrder> IterSaveCount for &IterSave<'_, I> {
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        if let Some(enc) = w.live_encoder(name) {
            enc.map(1);
            enc.text("count");
            enc.uint(self.0.n);
        }
        Ok(())
    }
}

/// Why a loop iterator could be neither saved whole nor by position. Implemented for
/// nothing: the fallbacks below require it only to turn a missing impl into this message.
#[diagnostic::on_unimplemented(
    message = "the iterator of this `for` loop cannot be saved at the save point inside the loop",
    label = "`{Self}` is neither `ckpt::State` nor iterated in a stable order",
    note = "ckpt saves a loop iterator whole when it implements `ckpt::State` (ranges, `vec.into_iter()`), \
            or by position when its order depends only on the collection (slices, `Vec`, `BTreeMap`, strings, \
            and adapters such as `enumerate()`); std's `HashMap`/`HashSet` iterate in a random order. \
            Use `ckpt::collections::HashMap` (what `HashMap` means inside checkpointable code; a std map \
            arrives through a signature or a struct field), or loop over sorted keys, a `BTreeMap`, or \
            indices (`for i in 0..v.len()`)"
)]
pub trait ResumableLoop {}

/// Last resort of the iterator save: reports [`ResumableLoop`].
pub trait IterSaveFallback<I> {
    /// Never compiles when called: `I` is not `ResumableLoop`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>
    where
        I: ResumableLoop;
}
impl<I> IterSaveFallback<I> for IterSave<'_, I> {
    fn __ckpt_save(&self, _: &mut Writer<'_, '_>, _: &str) -> Result<()>
    where
        I: ResumableLoop,
    {
        internal("ResumableLoop has no impls")
    }
}

/// Last resort of the iterator load: reports [`ResumableLoop`].
pub trait IterLoadFallback<I> {
    /// Never compiles when called: `I` is not `ResumableLoop`.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I>
    where
        I: ResumableLoop;
}
impl<F: FnOnce() -> I, I> IterLoadFallback<I> for IterLoad<F> {
    fn __ckpt_load(&self, _: &Frame, _: &str) -> Counted<I>
    where
        I: ResumableLoop,
    {
        internal("ResumableLoop has no impls")
    }
}

/// Rebuilds a loop iterator while resuming; the closure re-evaluates the loop's iterable.
pub struct IterLoad<F>(Cell<Option<F>>);

impl<F> IterLoad<F> {
    /// Wraps the closure that re-evaluates the iterable.
    pub fn new(f: F) -> Self {
        IterLoad(Cell::new(Some(f)))
    }
}

/// Loads a `State` iterator (autoref specialization: preferred).
pub trait IterLoadState<I> {
    /// Takes the iterator `name` back.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I>;
}
impl<F: FnOnce() -> I, I: State> IterLoadState<I> for &&IterLoad<F> {
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I> {
        match f.take_iter(name) {
            (Some(v), _) => Counted {
                it: f.load(v, name),
                n: 0,
            },
            _ => f.mismatch(&None, format!("loop iterator `{name}` was saved by count")),
        }
    }
}

/// Loads a `StableOrder` iterator by re-creating it and skipping the items taken.
pub trait IterLoadCount<I> {
    /// Re-creates the iterator `name`.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I>;
}
impl<F: FnOnce() -> I, I: StableOrder + Iterator> IterLoadCount<I> for &IterLoad<F> {
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I> {
        let (_, Some(n)) = f.take_iter(name) else {
            f.mismatch(&None, format!("loop iterator `{name}` was saved whole"))
        };
        let Some(make) = self.0.take() else {
            internal("iterator rebuilt twice")
        };
        let mut it = make();
        if n > 0 {
            let _ = it.nth((n - 1) as usize);
        }
        Counted { it, n }
    }
}

/// Takes back the iterator of a loop over a moved local (`for x in v`): the local is gone,
/// so the iterator was saved whole.
pub fn iter_take<I: State>(f: &Frame, name: &str) -> Counted<I> {
    match f.take_iter(name) {
        (Some(v), _) => Counted {
            it: f.load(v, name),
            n: 0,
        },
        _ => f.mismatch(&None, format!("loop iterator `{name}` was saved by count")),
    }
}

impl Frame {
    /// Takes a loop iterator's image: `{"state": v}` or `{"count": n}`.
    fn take_iter(&self, name: &str) -> (Option<Value>, Option<u64>) {
        let v = self.take_raw(name);
        if let Value::Map(entries) = v {
            if let Some((Value::Text(k), val)) = entries.into_iter().next() {
                match (k.as_str(), val) {
                    ("state", val) => return (Some(val), None),
                    ("count", Value::Uint(n)) => return (None, Some(n)),
                    _ => {}
                }
            }
        }
        self.mismatch(
            &None,
            format!("loop iterator `{name}` is neither {{state}} nor {{count}}"),
        )
    }
}
