//! What macro-generated code calls. Re-exported as `ckpt::__private`.

use std::cell::Cell;
use std::marker::PhantomData;
use std::path::Path;

use super::args::Entry;
pub use super::args::{
    arg_self_dyn, arg_self_in_trait, lends, lent_ref, mark_arg, mark_arg_mut, mark_arg_ref,
    type_of, ArgCtorNone, ArgCtorState, ArgDefaultNo, ArgDefaultYes, ArgPlaceholder, ArgRef,
    ArgRefNone, ArgRefState, ArgStatePlaceholder, ArgType, ArgVal, ArgValNone, ArgValState,
    Placeholder, Pointee, TypeOf,
};
use super::components;
pub use super::dyns::{dyn_not_saveable, load_dyn, save_dyn, DynCtor};
pub use super::globals::{register_global, register_static_mut, GlobalValue};
pub use super::iters::{
    enumerate, iter_take, iter_take_as, lowered_filter, lowered_filter_map, lowered_map, remade,
    skip, step_by, take, Counted, Enumerated, ItemKey, IterLoad, IterLoadCount, IterLoadFallback,
    IterLoadReplay, IterSave, IterSaveCount, IterSaveFallback, IterSaveReplay, IterSaveWhole,
    KeyedValues, KeyedValuesMut, Live, Order, OrderAny, OrderHash, PickMut, PickRef, Remade,
    Replay, ResumableLoop, SavedWhole, Skipped, Stepped, Suspend, SuspendAny, SuspendReplay,
    SuspendedCount, SuspendedReplay, Taken, ValuesAny, ValuesHash, ValuesMutAny, ValuesMutHash,
};
pub use super::options::Program;
use super::options::{self, Start};
pub use super::parts::{
    bad_path, field_ptr, field_ref, hole, put_field, type_name_of_ptr, Parts, PartsNo, PartsYes,
    SaveParts, Step,
};
use super::stack::{Active, CallReg, AGENT};
pub use super::stack::{Capture, FnInfo, Writer};
use super::triggers;
use crate::error::{Error, Result};
use crate::state::{Loader, State, Value};

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

/// The image `--until N` writes next to the run's: `app.at-N.ckpt`.
fn at_event(image: &Path, n: u64) -> std::path::PathBuf {
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "program".into());
    image.with_file_name(format!("{stem}.at-{n}.ckpt"))
}

/// A requested exit after the checkpoint that satisfied it: says how to continue, sweeps
/// temporary files, exits 0.
fn exit_after_checkpoint(cfg: &options::Config, sig: i32, path: &Path) -> ! {
    let exe = cfg.args.first().map(String::as_str).unwrap_or("program");
    eprintln!(
        "ckpt: {}: checkpoint saved to {}; exiting. Continue with: {exe} --restore {}",
        triggers::signal_name(sig),
        path.display(),
        path.display()
    );
    cfg.sweep();
    crate::replay::flush();
    std::process::exit(0)
}

/// The grace period after SIGTERM / SIGINT ended without a save point: exits 128 + signal.
fn grace_expired(sig: i32) -> ! {
    let (grace, image) = match options::config() {
        Some(cfg) => (
            cfg.settings.triggers.grace,
            cfg.last_image
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        ),
        None => (std::time::Duration::ZERO, None),
    };
    let kept = match image {
        Some(p) => format!("the last image, {}, is intact", p.display()),
        None => "this run wrote no image".into(),
    };
    eprintln!(
        "ckpt: {}: no save point or safepoint was reached within {grace:?}; exiting without a \
         new checkpoint ({kept})",
        triggers::signal_name(sig)
    );
    std::process::exit(128 + sig)
}

/// The epilogue of a `#[checkpointable] fn main` that returned (`ok`: with success). A
/// successful end marks the run's last image finished (or removes it,
/// `--ckpt-finished=remove`); any end sweeps temporary files.
pub fn finish(ok: bool) {
    // The last save is written before the run ends (and before its image is marked).
    if let Err(e) = super::background::settle() {
        eprintln!("ckpt: error: {e}");
    }
    // Like a process's sockets at exit: what was written leaves, connections close.
    #[cfg(feature = "net")]
    crate::net::stack::finish();
    #[cfg(feature = "gfx")]
    crate::gfx::finish();
    crate::replay::ended(ok);
    crate::replay::flush();
    let Some(cfg) = options::config() else { return };
    if ok {
        let last = cfg
            .last_image
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(p) = last {
            if let Err(e) = super::lifecycle::finish(&p, cfg.settings.finished) {
                eprintln!("ckpt: warning: {e}");
            }
        }
    }
    cfg.sweep();
    if ok {
        cfg.release_unused_locks();
    }
}

/// Whether the value `main` returned is a success, for [`finish`]: `Err` and a failing
/// `ExitCode` are not. Dispatched by autoref on [`MainResult`].
pub struct MainResult<'a, T>(pub &'a T);

/// `main` returned a `Result`.
pub trait MainResultResult {
    /// `is_ok()`.
    fn __ckpt_ok(&self) -> bool;
}
impl<T, E> MainResultResult for MainResult<'_, std::result::Result<T, E>> {
    fn __ckpt_ok(&self) -> bool {
        self.0.is_ok()
    }
}

/// `main` returned an `ExitCode`.
pub trait MainResultExit {
    /// Equal to `ExitCode::SUCCESS`.
    fn __ckpt_ok(&self) -> bool;
}
impl MainResultExit for MainResult<'_, std::process::ExitCode> {
    fn __ckpt_ok(&self) -> bool {
        *self.0 == std::process::ExitCode::SUCCESS
    }
}

/// Any other return value (`()`) is a success.
pub trait MainResultOther {
    /// True.
    fn __ckpt_ok(&self) -> bool;
}
impl<T> MainResultOther for &MainResult<'_, T> {
    fn __ckpt_ok(&self) -> bool {
        true
    }
}

/// The agent prologue of a `#[checkpointable] fn main`.
pub fn start(program: &'static Program) {
    let journal = |restoring: Option<&Path>| {
        if let Some(cfg) = options::config() {
            crate::net::config::configure(cfg.settings.net.clone());
            #[cfg(feature = "gfx")]
            if let Err(e) = crate::gfx::start(cfg.settings.gfx.clone()) {
                fatal(&Error::Usage(e));
            }
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
            phase!("ckpt.components", path = img.path.display());
            let restored = crate::replay::internal(|| {
                components::restore_all(&img.path, img.components, &mut loader)
            });
            if let Err(e) = restored {
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
    if let Some(cfg) = options::config() {
        let mut t = cfg.settings.triggers;
        // While recording, an image at least as often as a recovery may replay.
        if let Some(b) = crate::replay::bound_time() {
            t.every = Some(t.every.map_or(b, |e| e.min(b)));
        }
        if let Err(e) = triggers::install(t, grace_expired) {
            fatal(&Error::Usage(format!(
                "cannot install ckpt's signal handlers ({e}); run with --ckpt-signals=off"
            )));
        }
    }
}

/// `CKPT_CRASH_AFTER_SAVES=N`: a testing aid that simulates a crash at a precise moment.
/// The process kills itself with SIGKILL right after its N-th image is complete, so a
/// test can restore from every save point of a program without timing luck.
/// The variable of the `CKPT_CRASH_AFTER_SAVES` testing aid.
pub(crate) const CRASH_AFTER_SAVES: &str = crash_injection::ENV;

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

/// Takes a saved local back on the resume path, its type named by a marker. The type is
/// `State` (its capture would not compile otherwise, with the error on the local); the
/// fallback only keeps that error from being reported twice.
pub struct Take<'f, T>(pub &'f Frame, pub TypeOf<T>);

/// A `State` local (preferred).
pub trait TakeState<T> {
    /// Takes `name` back.
    fn __ckpt_take(&self, name: &str) -> T;
}
impl<T: State> TakeState<T> for &Take<'_, T> {
    #[inline]
    fn __ckpt_take(&self, name: &str) -> T {
        self.0.take(name)
    }
}

/// A local of another type: its capture is the compile error.
pub trait TakeOther<T> {
    /// Never runs.
    fn __ckpt_take(&self, name: &str) -> T;
}
impl<T> TakeOther<T> for Take<'_, T> {
    fn __ckpt_take(&self, _: &str) -> T {
        internal("a local that cannot be saved was taken back")
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

/// The resume path found the program elsewhere than the image says (a loop shorter than
/// when it was saved, another `match` arm): the program does not run the same way.
#[cold]
pub fn resume_failed(f: &Frame, what: &str) -> ! {
    f.mismatch(
        &None,
        format!("{what} while resuming; the program did not follow the path it saved on"),
    )
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

    /// Takes a saved local back, its type named by a marker.
    pub fn take_as<T: State>(&self, _: TypeOf<T>, name: &str) -> T {
        self.take(name)
    }

    /// A loop over a hash map saved by its keys still to visit.
    pub(crate) fn take_keys<K: State>(&self, name: &str) -> (u64, Vec<K>) {
        let v = self.take_raw(name);
        let mut count = None;
        let mut keys = None;
        if let Value::Map(entries) = v {
            for (k, val) in entries {
                match (k, val) {
                    (Value::Text(k), Value::Uint(n)) if k == "count" => count = Some(n),
                    (Value::Text(k), val) if k == "keys" => keys = Some(val),
                    _ => {}
                }
            }
        }
        match (count, keys) {
            (Some(n), Some(keys)) => (n, self.load(keys, name)),
            _ => self.mismatch(
                &None,
                format!("loop iterator `{name}` was not saved by its keys"),
            ),
        }
    }

    /// A loop iterator saved by count.
    pub(crate) fn take_count(&self, name: &str) -> u64 {
        match self.take_iter(name) {
            (_, Some(n)) => n,
            _ => self.mismatch(&None, format!("loop iterator `{name}` was saved whole")),
        }
    }

    /// A loop iterator saved whole.
    pub(crate) fn take_whole<I: State>(&self, name: &str) -> I {
        match self.take_iter(name) {
            (Some(v), _) => self.load(v, name),
            _ => self.mismatch(&None, format!("loop iterator `{name}` was saved by count")),
        }
    }

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

    pub(crate) fn internal(&self, what: &str) -> ! {
        internal(what)
    }

    /// The argument at position `pos` of the call this frame is resuming into, handed
    /// back by the callee's frame (its type is the callee's parameter's).
    pub fn resume_arg<T>(&self, pos: usize) -> T {
        let key = format!("#{pos}");
        let entry = AGENT.with(|a| a.borrow_mut().take_entry(self.depth, &key));
        let entry = entry.unwrap_or_else(|detail| self.mismatch(&None, detail));
        self.make(entry, &format!("argument {pos} of the call"))
    }

    /// The argument at position `pos`, a borrow of a temporary (`&vec![..]`,
    /// `&mut String::new()`), handed back by the callee's frame as a borrow of a copy
    /// leaked for the rest of the process (the temporary has no other owner).
    pub fn resume_arg_ref<'a, U: ?Sized>(&self, pos: usize) -> &'a mut U {
        self.resume_arg::<&'a mut U>(pos)
    }

    /// [`Frame::resume_arg`] for a generic callee: the type comes from the marker the
    /// normal path set (see `mark_arg`).
    pub fn resume_arg_as<T>(&self, _: TypeOf<T>, pos: usize) -> T {
        self.resume_arg(pos)
    }

    /// [`Frame::resume_arg_ref`] for a generic callee (see `mark_arg_ref`).
    pub fn resume_arg_ref_as<'a, U: ?Sized>(&self, _: TypeOf<U>, pos: usize) -> &'a mut U {
        self.resume_arg_ref(pos)
    }

    /// A `mut` by-value parameter changed before the save: its saved value, when the
    /// caller did not hand it back itself.
    pub fn own_arg<T>(&self, key: &str, slot: &mut T) {
        let entry = AGENT.with(|a| a.borrow_mut().take_own_arg(self.depth, key));
        if let Some(e) = entry {
            if e.value.is_some() {
                *slot = self.make(e, &format!("parameter `{key}`"));
            }
        }
    }

    fn make<T>(&self, entry: Entry, what: &str) -> T {
        let r = AGENT.with(|a| {
            let mut a = a.borrow_mut();
            let Some(loader) = a.loader.as_mut() else {
                internal("take without a loader")
            };
            // SAFETY: `T` is the type of the parameter that wrote the entry: the caller
            // passes it to the same function at the same position (checked by the frames'
            // function names and body hashes), and `make` compares the type names and the
            // executable's identity.
            // Loading is ckpt's own work: what it draws (the keys of a std map it makes
            // again) is not the program's input.
            crate::replay::internal(|| unsafe { entry.make::<T>(loader) })
        });
        r.unwrap_or_else(|detail| self.mismatch(&None, format!("{what}: {detail}")))
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
            crate::replay::internal(|| loader.load::<T>(v))
        });
        r.unwrap_or_else(|e| match e {
            // The outside world differs from the checkpoint (a file changed): say so as is.
            Error::Restore { .. } | Error::Usage(_) | Error::Io { .. } => fatal(&e),
            e => self.mismatch(&None, format!("local `{name}`: {e}")),
        })
    }

    fn mismatch(&self, path: &Option<std::path::PathBuf>, detail: String) -> ! {
        if std::env::var_os("CKPT_DEBUG_BT").is_some() {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
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
    /// The frame's record stays until the innermost save point arrives: the call's
    /// arguments are still to be handed back from it.
    fn arrive(&self) {
        self.resuming.set(false);
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
        let mut until = None;
        if crate::replay::on() {
            // The variables here: logged while recording (before the image, so the
            // image's place in the log is after it), checked while replaying.
            let digest = self.state_digest(id, capture)?;
            crate::replay::check(
                crate::replay::Kind::Variables,
                u64::from(id),
                digest,
                || {
                    let site = self.site_of(id);
                    format!("the program's variables at the save point{site}")
                },
            );
        }
        if crate::replay::replaying() {
            // A replay re-runs the recorded run without writing over its images, except
            // the one `--until N` asks for, after which it ends.
            match crate::replay::until_reached() {
                None => return Ok(()),
                Some(n) => until = Some(n),
            }
        }
        let Some(cfg) = options::config() else {
            return Err(Error::Usage(
                "ckpt::save() needs the agent: annotate `fn main` with #[checkpointable]".into(),
            ));
        };
        let path = match (dest, until) {
            (_, Some(n)) => at_event(&cfg.image_path, n),
            (Dest::Default, None) => cfg.image_path.clone(),
            (Dest::Path(p), None) => options::absolute(p),
        };
        phase!("ckpt.save", path = path.display(), point = id);
        // A save the process exits after must be on disk first.
        let durable = until.is_some() || triggers::exit_requested();
        let saved = AGENT.with(|a| {
            let a = a.borrow();
            a.check_registered(self.depth)?;
            let saved = cfg.write_image(
                &path,
                durable,
                &mut |enc| a.write_frames(enc, id, capture),
                &mut components::save_all,
            )?;
            crash_injection::after_save();
            Ok::<_, Error>(saved)
        })?;
        if !saved {
            return Ok(());
        }
        if let Some(n) = until {
            let site = self.site_of(id);
            eprintln!(
                "ckpt: replay: event {n} passed; stopped at the next save point{site} and wrote {}",
                path.display()
            );
            cfg.sweep();
            cfg.release_unused_locks();
            std::process::exit(0);
        }
        if let Some(sig) = triggers::saved() {
            exit_after_checkpoint(cfg, sig, &path);
        }
        Ok(())
    }

    /// ` (file:line)` of save point `id` of this frame, or nothing.
    fn site_of(&self, id: u32) -> String {
        AGENT
            .with(|a| {
                a.borrow()
                    .stack
                    .get(self.depth)
                    .and_then(|f| f.info.site(id))
            })
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    }

    /// The digest of the program's variables at save point `id` (see
    /// `state::digest_of`), for the input log.
    fn state_digest(&self, id: u32, capture: &Capture<'_>) -> Result<u64> {
        AGENT.with(|a| {
            let a = a.borrow();
            crate::replay::internal(|| crate::state::digest_of(|e| a.write_frames(e, id, capture)))
        })
    }

    /// A safepoint: saves (like a save point) only when a checkpoint was requested by a
    /// signal, `--ckpt-every` or [`request_checkpoint`](super::triggers::request_checkpoint).
    #[inline]
    pub fn safe_point(&self, id: u32, capture: &Capture<'_>) -> Result<()> {
        if !self.resuming.get()
            && !triggers::pending()
            && !crate::replay::saved_next_at(u64::from(id))
        {
            return Ok(());
        }
        self.save_point(id, Dest::Default, capture)
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
                    capture: Some(erased),
                    consumed: false,
                    barrier: None,
                });
            }
        });
        CallGuard {
            depth: self.depth,
            _capture: PhantomData,
        }
    }
}

impl Frame {
    /// Registers a call that cannot be resumed (`why` says so): a save inside it fails
    /// with that reason.
    pub fn barrier(&self, id: u32, why: &'static str) -> CallGuard<'_> {
        AGENT.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(f) = a.stack.get_mut(self.depth) {
                f.call = Some(CallReg {
                    id,
                    callee: "",
                    lent: &[],
                    capture: None,
                    consumed: false,
                    barrier: Some(why),
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

/// A checkpoint on request: inside a `#[checkpointable]` function, saves like [`save`]
/// only when a checkpoint was requested (SIGUSR1, SIGTERM, SIGINT, `--ckpt-every`, or
/// [`request_checkpoint`](crate::request_checkpoint)), and otherwise returns `Ok(())` at
/// the cost of one atomic load. After SIGTERM or SIGINT the process exits 0 right after
/// the save. Called outside a `#[checkpointable]` function it returns the error [`save`]
/// returns there.
///
/// ```no_run
/// #[ckpt::checkpointable]
/// fn main() {
///     let mut sum = 0u64;
///     for i in 0..10_000_000_000u64 {
///         sum = sum.wrapping_add(i * i);
///         ckpt::safepoint().expect("checkpoint"); // `kill -TERM` saves here and exits
///     }
///     println!("{sum}");
/// }
/// ```
#[track_caller]
pub fn safepoint() -> Result<()> {
    save()
}

/// Waits until the last image [`save`] took is durable: written, synced and in place.
///
/// By default a save stops the program only while its state is taken, and the image is
/// written in the background (by a forked copy of the process, which keeps the memory as
/// it was); `save()` returns once the state is taken. Call `wait_durable` where the program
/// needs the image on disk, before telling the outside world that work is done, say.
/// Returns at once when no save is being written; returns the error of a background
/// save that failed (the previous image is then still the current one). With
/// `--ckpt-sync` every save is durable when it returns.
///
/// ```no_run
/// #[ckpt::checkpointable]
/// fn main() {
///     let mut total = 0u64;
///     for batch in 0..100u64 {
///         total += batch;
///         ckpt::save().expect("checkpoint");
///     }
///     ckpt::wait_durable().expect("the last checkpoint is on disk");
///     println!("{total}");
/// }
/// ```
pub fn wait_durable() -> Result<()> {
    super::background::settle()
}

/// Like [`save`], to the given path instead of the run's image path.
#[track_caller]
pub fn save_to<P: AsRef<Path>>(path: P) -> Result<()> {
    let _ = path;
    save()
}

/// A wait point before a call that may block on the network (`listener.accept()`,
/// `socket.recv_from(..)`): `#[checkpointable]` writes
/// `while (&&NetWait(&x)).__ckpt_net_wait() { ckpt::safepoint() }` before it, so a
/// checkpoint requested while the program waits is taken there, as if just before the
/// call. For types that are not ckpt's sockets it is nothing.
pub struct NetWait<'a, T: ?Sized>(pub &'a T);

/// The wait of ckpt's sockets: true when a checkpoint is pending and the call would
/// block; false when it would not.
pub trait NetWaitNet {
    /// Waits until the call would not block, or a checkpoint is pending (true).
    fn __ckpt_net_wait(&self) -> bool;
}

/// Any other receiver: no wait.
pub trait NetWaitOther {
    /// False.
    fn __ckpt_net_wait(&self) -> bool {
        false
    }
}
impl<T: ?Sized> NetWaitOther for NetWait<'_, T> {}

/// The result of a wait point's safepoint: an error is said, the program goes on (as it
/// would had the call been made without the wait).
pub fn net_wait_saved(r: Result<()>) {
    if let Err(e) = r {
        eprintln!("ckpt: error: checkpoint while waiting on the network: {e}");
    }
}

/// True when the most recent save point returned because the program was restored.
pub fn restored() -> bool {
    AGENT.with(|a| a.borrow().restored)
}

/// What a `move` closure kept across a save point may capture: the resume path makes the
/// closure again from the captured locals, so they must still be there after it was made.
#[diagnostic::on_unimplemented(
    message = "a `move` closure kept across a save point cannot own a `{Self}`: capture it by reference (drop `move`) or clone it into a local the closure uses",
    label = "moved into the closure",
    note = "ckpt makes the closure again on restore from the locals it captures, and a value moved into it is no longer in any local ckpt can save; capture it by reference (drop `move`), or clone it into a local the closure uses"
)]
pub trait CapturedByCopy {}
impl<T: Copy> CapturedByCopy for T {}

/// Checks a capture of a `move` closure made again on the resume path (by its type, so
/// that rustc does not suggest borrowing the closure).
#[inline(always)]
pub fn captured_by_copy<T: CapturedByCopy>(_: TypeOf<T>) {}

/// A value a plain function returned to checkpointable code, which may be a reader std
/// opened: `#[checkpointable]` writes `(&&AdoptReader::new(x)).__ckpt_adopt()` for a
/// `let` whose initializer calls a plain function returning `BufReader`/`File` (the
/// analysis of ckpt-build lists them), so the local is ckpt's reader (saved with the
/// file's path, position and buffered bytes) instead of std's. Any other type is left as
/// it is.
pub struct AdoptReader<T>(std::cell::Cell<Option<T>>);

impl<T> AdoptReader<T> {
    /// Wraps the value.
    pub fn new(x: T) -> Self {
        AdoptReader(std::cell::Cell::new(Some(x)))
    }

    fn take(&self) -> T {
        match self.0.take() {
            Some(x) => x,
            None => internal("a reader adopted twice"),
        }
    }
}

/// std's `BufReader<File>` becomes ckpt's, with the bytes it had buffered.
pub trait AdoptBufFile {
    /// The reader as ckpt's.
    fn __ckpt_adopt(&self) -> crate::io::BufReader<crate::fs::File>;
}
impl AdoptBufFile for &AdoptReader<std::io::BufReader<std::fs::File>> {
    fn __ckpt_adopt(&self) -> crate::io::BufReader<crate::fs::File> {
        let r = self.take();
        let buffered = r.buffer().to_vec();
        let capacity = r.capacity();
        let file = crate::fs::File::from_std(r.into_inner());
        crate::io::BufReader::with_buffered(capacity, file, &buffered)
    }
}

/// std's `File` becomes ckpt's.
pub trait AdoptFile {
    /// The file as ckpt's.
    fn __ckpt_adopt(&self) -> crate::fs::File;
}
impl AdoptFile for &AdoptReader<std::fs::File> {
    fn __ckpt_adopt(&self) -> crate::fs::File {
        crate::fs::File::from_std(self.take())
    }
}

/// Anything else stays as it is.
pub trait AdoptAny<T> {
    /// The value.
    fn __ckpt_adopt(&self) -> T;
}
impl<T> AdoptAny<T> for AdoptReader<T> {
    fn __ckpt_adopt(&self) -> T {
        self.take()
    }
}
