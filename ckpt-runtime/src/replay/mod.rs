//! Record and replay: every result the operating system hands a checkpointable program
//! through ckpt's components goes through one function per kind here, which appends it to
//! the input log while recording (`--ckpt-record LOG`) and hands back the logged result
//! instead of asking the OS while replaying (`--replay LOG`).
//!
//! Fed from the log (values): monotonic and wall clock readings, bytes from the kernel's
//! random number generator (the seeds of `ckpt::rand`), bytes read from standard input,
//! environment variables (not secrets). Checked against the log (references): the outcome
//! of each file open and a hash of the bytes of each file read; the replay makes those
//! calls itself. Every event names the program's call site (`#[track_caller]` from the
//! public call down to here).
//!
//! A replayed run that asks for something else than the log holds next (another kind,
//! other arguments, another call site), or gets another result from a checked call, stops
//! with the event's number and both sides: divergence is never silent. At every save point
//! the recording logs a digest of the program's variables ([`Kind::Variables`]), and the replay
//! checks its own there. Its standard output
//! is checked against the digests of what the recorded run released
//! ([`crate::io`]'s output commit). Where the log ends the replay stops, as the recorded
//! run did, or goes on live (`--then-live`); a recovery (`--restore IMG --ckpt-record
//! LOG` with the log IMG was written into) replays the log's tail and goes on recording
//! into the same log.
//!
//! Off (neither recording nor replaying), each choke point costs one relaxed atomic load.
// Without the agent (build scripts reading images) nothing records or replays.
#![cfg_attr(not(feature = "agent"), allow(dead_code))]

mod bound;
pub mod log;

use std::collections::VecDeque;

use crate::state::FixedMap;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

pub use bound::{Bound, ENV_BOUND};
pub use log::{Event, Kind, LogHeader, Payload};

use crate::error::Error;

const OFF: u8 = 0;
const RECORD: u8 = 1;
const REPLAY: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(OFF);

enum Active {
    Recording(log::Writer),
    Replaying {
        path: PathBuf,
        events: VecDeque<Event>,
        total: u64,
        /// A recovery (`--restore IMG --ckpt-record LOG` after a kill): the log's writer,
        /// appending from its end; recording takes over when the replay ends.
        writer: Option<log::Writer>,
        /// The log's call sites, and where the program's own call sites are among them.
        sites: Sites,
    },
}

/// A replayed log's call sites, matched with the program's.
struct Sites {
    names: Vec<String>,
    by_name: FixedMap<String, u32>,
    /// The program's call sites (by the address of their location) seen so far: the
    /// log's number for the same site, `u32::MAX` if the log never names it.
    seen: FixedMap<(usize, u32, u32), u32>,
    /// The last site looked up.
    last: Option<(&'static Location<'static>, u32)>,
}

impl Sites {
    fn new(names: Vec<String>) -> Sites {
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        Sites {
            names,
            by_name,
            seen: Default::default(),
            last: None,
        }
    }

    /// The log's number of the program's site `l`.
    fn number(&mut self, l: &'static Location<'static>) -> u32 {
        if let Some((last, n)) = self.last {
            if std::ptr::eq(last, l) {
                return n;
            }
        }
        let key = (l.file().as_ptr() as usize, l.line(), l.column());
        let n = match self.seen.get(&key) {
            Some(n) => *n,
            None => {
                let n = *self.by_name.get(&site_name(l)).unwrap_or(&u32::MAX);
                self.seen.insert(key, n);
                n
            }
        };
        self.last = Some((l, n));
        n
    }

    fn name(&self, n: Option<u32>) -> &str {
        n.and_then(|n| self.names.get(n as usize))
            .map_or("an unknown site", String::as_str)
    }
}

fn site_name(l: &Location<'_>) -> String {
    format!("{}:{}:{}", l.file(), l.line(), l.column())
}

impl Active {
    /// The log being written: recording, or recovering.
    fn writer(&mut self) -> Option<&mut log::Writer> {
        match self {
            Active::Recording(w) => Some(w),
            Active::Replaying { writer, .. } => writer.as_mut(),
        }
    }
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

fn active() -> std::sync::MutexGuard<'static, Option<Active>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// Nonzero while ckpt itself works (a save, a restore): what it reads is not the
    /// program's input and is neither logged nor replayed.
    static INTERNAL: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `f` as ckpt's own work: the results it reads are live and not logged.
pub(crate) fn internal<R>(f: impl FnOnce() -> R) -> R {
    INTERNAL.with(|c| c.set(c.get() + 1));
    let r = f();
    INTERNAL.with(|c| c.set(c.get() - 1));
    r
}

/// Whether this thread is doing ckpt's own work (see [`internal`]).
pub(crate) fn is_internal() -> bool {
    INTERNAL.with(|c| c.get() > 0)
}

/// `--until N`: the replay stops at the first save point or safepoint after event N.
static UNTIL: AtomicU64 = AtomicU64::new(u64::MAX);
/// Event `UNTIL` has been replayed.
static REACHED: AtomicBool = AtomicBool::new(false);

/// `CKPT_REPLAY_PROGRESS=1` (`cargo ckpt replay` sets it): the replay shows its progress
/// on standard error.
pub const ENV_PROGRESS: &str = "CKPT_REPLAY_PROGRESS";

static PROGRESS: AtomicBool = AtomicBool::new(false);

/// Shows (or not) the replay's progress.
pub(crate) fn show_progress(on: bool) {
    PROGRESS.store(on, Ordering::SeqCst);
}

/// When the progress line was last drawn (ns of the real monotonic clock).
static PROGRESS_AT: AtomicU64 = AtomicU64::new(0);

/// The events a replay hands out: up to the log's last input (output records after it are
/// never asked for).
static PROGRESS_END: AtomicU64 = AtomicU64::new(0);

/// Event `n` was replayed: every 1024 events, the progress line is drawn again if 100 ms
/// have passed (and at the last input).
fn progress(n: u64) {
    let total = PROGRESS_END.load(Ordering::Relaxed);
    if !PROGRESS.load(Ordering::Relaxed) || (!n.is_multiple_of(1024) && n + 1 != total) {
        return;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let now = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    if n + 1 != total && now.saturating_sub(PROGRESS_AT.load(Ordering::Relaxed)) < 100_000_000 {
        return;
    }
    PROGRESS_AT.store(now, Ordering::Relaxed);
    let done = (n + 1) as f64 / total.max(1) as f64;
    let bar = (done * 30.0) as usize;
    eprint!(
        "\rckpt: replay [{}{}] event {} of {} ({:.0}%){}",
        "#".repeat(bar),
        ".".repeat(30 - bar.min(30)),
        n + 1,
        total,
        done * 100.0,
        if n + 1 == total { "\n" } else { "" }
    );
}

/// `--then-live`: at the log's end the replay goes on live instead of stopping.
static THEN_LIVE: AtomicBool = AtomicBool::new(false);

/// Sets `--then-live`.
pub(crate) fn set_then_live(on: bool) {
    THEN_LIVE.store(on, Ordering::SeqCst);
}

/// Sets `--until N`.
pub(crate) fn set_until(n: u64) {
    UNTIL.store(n, Ordering::SeqCst);
}

/// The `--until` event, once the replay has passed it.
pub(crate) fn until_reached() -> Option<u64> {
    REACHED
        .load(Ordering::SeqCst)
        .then(|| UNTIL.load(Ordering::SeqCst))
}

/// Recording or replaying started in this process (it may have ended since).
static STARTED: AtomicBool = AtomicBool::new(false);

/// This process is about to record or replay (its log is being opened).
static ANNOUNCED: AtomicBool = AtomicBool::new(false);

/// Says that this process is about to record or replay.
pub(crate) fn announce() {
    ANNOUNCED.store(true, Ordering::SeqCst);
}

/// Whether this process said it is about to record or replay.
pub(crate) fn announced() -> bool {
    ANNOUNCED.load(Ordering::Relaxed)
}

/// Whether recording or replaying started in this process.
pub(crate) fn started() -> bool {
    STARTED.load(Ordering::Relaxed)
}

/// True while replaying a log.
pub(crate) fn replaying() -> bool {
    MODE.load(Ordering::Relaxed) == REPLAY
}

/// The number of the next event while recording: an image about to be written records
/// it (its replay starts there). With `--ckpt-log-keep=last`, the events logged from here
/// until the image is written (by other threads, or output released meanwhile) are kept
/// for the log that starts again at the image.
pub(crate) fn position() -> Option<u64> {
    if MODE.load(Ordering::Relaxed) != RECORD {
        return None;
    }
    match active().as_mut() {
        Some(Active::Recording(w)) => {
            if KEEP_LAST.load(Ordering::Relaxed) {
                w.mark();
            }
            Some(w.next)
        }
        _ => None,
    }
}

/// The header key of an image's position in the log being recorded.
pub const LOG_EVENT_KEY: &str = "log_event";
/// The header key of the identity of the log being recorded.
pub const LOG_ID_KEY: &str = "log_id";
/// The header key of the position of standard output at the image (see
/// [`crate::io`]'s output commit).
pub const LOG_OUT_KEY: &str = "log_out";

/// True while recording or replaying (the choke points' fast test).
#[inline]
pub(crate) fn on() -> bool {
    MODE.load(Ordering::Relaxed) != OFF
}

/// Starts recording into a new log at `path`.
pub(crate) fn start_recording(path: &Path, header: &LogHeader) -> Result<(), Error> {
    let w = log::Writer::create(path, header)?;
    *active() = Some(Active::Recording(w));
    STARTED.store(true, Ordering::SeqCst);
    MODE.store(RECORD, Ordering::SeqCst);
    Ok(())
}

/// How many frames the recorded run's network stack had sent (the most any
/// [`Kind::Sent`] event says): a recovery sends the frames after them, a replay none.
static NET_SENT: AtomicU64 = AtomicU64::new(0);

/// Frames sent by the recorded run (see [`NET_SENT`]); `u64::MAX` in a replay that is not a
/// recovery: it sends nothing.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn net_sent_before() -> u64 {
    match active().as_ref() {
        Some(Active::Replaying { writer: None, .. }) => u64::MAX,
        _ => NET_SENT.load(Ordering::Relaxed),
    }
}

/// Whether a replay is under way that is not a recovery (its output goes nowhere).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn replaying_only() -> bool {
    matches!(
        active().as_ref(),
        Some(Active::Replaying { writer: None, .. })
    )
}

/// While replaying: whether the recorded run saved at save point `point` next (a
/// safepoint that a signal, `--ckpt-every` or `--ckpt-log-bound` made save): the replay
/// saves there too, so the state digest logged there is checked, not left in the way.
pub(crate) fn saved_next_at(point: u64) -> bool {
    next_save_point() == Some(point)
}

/// While replaying: whether the recorded run saved next, at any save point.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn saved_next() -> bool {
    next_save_point().is_some()
}

/// While replaying: the save point of the state digest that is the next input, if it is.
fn next_save_point() -> Option<u64> {
    if MODE.load(Ordering::Relaxed) != REPLAY {
        return None;
    }
    match active().as_ref() {
        Some(Active::Replaying { events, .. }) => events
            .iter()
            .find(|e| !matches!(e.kind, Kind::Released | Kind::End | Kind::Sent))
            .filter(|e| e.kind == Kind::Variables)
            .map(|e| e.digest),
        _ => None,
    }
}

/// While recording: the network stack has sent `n` frames since the run's start.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn sent(n: u64) {
    if MODE.load(Ordering::Relaxed) != RECORD {
        return;
    }
    if let Some(w) = active().as_mut().and_then(Active::writer) {
        if let Err(e) = w.push(Kind::Sent, 0, &Payload::Uint(n)) {
            eprintln!("ckpt: warning: the input log is incomplete: {e}");
        }
    }
}

/// Starts replaying the log at `path` (already read) from event `from` on.
pub(crate) fn start_replaying(path: &Path, log: log::Log, from: u64) {
    NET_SENT.store(most(&log, Kind::Sent), Ordering::SeqCst);
    let total = log.header.first + log.events.len() as u64;
    let mut events = log.events;
    events.retain(|e| e.n >= from);
    // In place: the log's events are not copied.
    let events = VecDeque::from(events);
    let last_input = events
        .iter()
        .rev()
        .find(|e| !matches!(e.kind, Kind::Released | Kind::End | Kind::Sent));
    PROGRESS_END.store(last_input.map_or(0, |e| e.n + 1), Ordering::SeqCst);
    *active() = Some(Active::Replaying {
        path: path.into(),
        events,
        total,
        writer: None,
        sites: Sites::new(log.sites),
    });
    STARTED.store(true, Ordering::SeqCst);
    MODE.store(REPLAY, Ordering::SeqCst);
}

/// Starts a recovery: replays the log at `path` (already read) from event `from` to its
/// end, then records on into the same log. Events the replayed part would have logged are
/// in it already; what happens meanwhile that is not an input (output released) is
/// appended after them.
pub(crate) fn start_recovering(path: &Path, log: log::Log, from: u64) -> Result<(), Error> {
    let writer = log::Writer::append(path, &log)?;
    start_replaying(path, log, from);
    if let Some(Active::Replaying { writer: w, .. }) = active().as_mut() {
        *w = Some(writer);
    }
    Ok(())
}

/// The identity of the log being recorded (images written meanwhile name it).
pub(crate) fn log_id() -> Option<String> {
    active()
        .as_mut()
        .and_then(Active::writer)
        .map(|w| w.header().id.clone())
}

/// The ranges of released output `log` records, with their digests (a range's start is
/// the end of the release before it; the first release's start is not in the log).
pub(crate) fn released_ranges(log: &log::Log) -> Vec<crate::io::commit::Range> {
    let mut out = Vec::new();
    let mut start = None;
    for e in log.events.iter().filter(|e| e.kind == Kind::Released) {
        let Payload::Uint(end) = e.value else {
            continue;
        };
        if let Some(s) = start {
            if end > s {
                out.push(crate::io::commit::Range {
                    start: s,
                    end,
                    digest: e.digest,
                });
            }
        }
        start = Some(end);
    }
    out
}

/// The error of a replay (or a recovery's replayed part) whose output differs from what
/// the recorded run released over `[start, end)`.
pub(crate) fn output_diverged(start: u64, end: u64) -> Error {
    diverged_at_last(format!(
        "standard output bytes {start}..{end} differ from what the recorded run printed \
             there (their digest is in the log): the program made other output from the same \
             inputs (code that bypasses ckpt, or another build)"
    ))
}

/// A divergence found at the last event the replay handed out, in the log replayed.
fn diverged_at_last(detail: String) -> Error {
    let path = match active().as_ref() {
        Some(Active::Replaying { path, .. }) => path.clone(),
        _ => PathBuf::new(),
    };
    Error::Diverged {
        path,
        event: LAST_EVENT.load(Ordering::Relaxed),
        detail,
    }
}

/// The position of standard output recorded as released in `log` (the most any
/// [`Kind::Released`] event says), 0 if none.
pub(crate) fn released_in(log: &log::Log) -> u64 {
    most(log, Kind::Released)
}

/// The largest number any event of `kind` in `log` holds, 0 if none.
fn most(log: &log::Log, kind: Kind) -> u64 {
    log.events
        .iter()
        .filter(|e| e.kind == kind)
        .filter_map(|e| match e.value {
            Payload::Uint(v) => Some(v),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// `--ckpt-log-bound`: how much a recovery may have to replay before a checkpoint is
/// requested.
pub(crate) fn set_bound(b: Bound) {
    bound::set(b);
}

/// While recording: the longest time between images `--ckpt-log-bound` allows.
pub(crate) fn bound_time() -> Option<std::time::Duration> {
    if MODE.load(Ordering::Relaxed) == OFF {
        return None;
    }
    bound::time()
}

/// `--ckpt-log-sync`: the log is made durable (`fdatasync`) before output leaves.
pub(crate) fn set_sync(on: bool) {
    if let Some(w) = active().as_mut().and_then(Active::writer) {
        w.set_sync(on);
    }
}

/// Before output leaves: the inputs logged so far are written (and synced, with
/// `--ckpt-log-sync`). The output depends on no input that is not in the log.
pub(crate) fn commit() {
    if let Some(w) = active().as_mut().and_then(Active::writer) {
        if let Err(e) = w.commit() {
            eprintln!("ckpt: warning: the input log is incomplete: {e}");
        }
    }
}

/// Standard output leaving, all under the log's lock: the log made durable (what the
/// output depends on is in it), `write` puts the bytes out, and each `(pos, digest)` of
/// `released` is written to the log at once. Nothing else (an event the program's thread
/// logs and syncs) can come between the write and its record, so a kill lands there only
/// between two write(2) calls: the one window a pipe cannot close (bytes in a pipe cannot
/// be taken back, so a recovery prints that last write again). Returns what `write`
/// returned.
pub(crate) fn release_with(write: impl FnOnce() -> bool, released: &[(u64, u64)]) -> bool {
    let mut a = active();
    let Some(w) = a.as_mut().and_then(Active::writer) else {
        drop(a);
        return write();
    };
    if let Err(e) = w.commit() {
        eprintln!("ckpt: warning: the input log is incomplete: {e}");
    }
    if !write() {
        return false;
    }
    let r = released
        .iter()
        .try_for_each(|&(pos, digest)| w.push(Kind::Released, digest, &Payload::Uint(pos)))
        .and_then(|()| w.flush());
    if let Err(e) = r {
        eprintln!("ckpt: warning: the input log is incomplete: {e}");
    }
    true
}

/// `--ckpt-log-keep=last`: each image starts the log again (the events before it are
/// dropped; replays start from the image).
static KEEP_LAST: AtomicBool = AtomicBool::new(false);

/// Sets `--ckpt-log-keep=last`.
pub(crate) fn keep_last_only(on: bool) {
    KEEP_LAST.store(on, Ordering::SeqCst);
}

/// An image was just written at the log's current position: a recovery replays from
/// there; with `--ckpt-log-keep=last`, the log starts again there.
pub(crate) fn image_written() {
    if MODE.load(Ordering::Relaxed) != RECORD {
        return;
    }
    if let Some(Active::Recording(w)) = active().as_ref() {
        bound::reset(w.pushed_bytes());
    }
    if !KEEP_LAST.load(Ordering::Relaxed) {
        return;
    }
    if let Some(Active::Recording(w)) = active().as_mut() {
        if let Err(e) = w.restart() {
            eprintln!("ckpt: warning: the input log could not start again at the image: {e}");
        }
    }
}

/// Writes the pending events (at a save, at exit, before output leaves).
pub(crate) fn flush() {
    if MODE.load(Ordering::Relaxed) == OFF {
        return;
    }
    if let Some(w) = active().as_mut().and_then(Active::writer) {
        if let Err(e) = w.flush() {
            eprintln!("ckpt: warning: the input log is incomplete: {e}");
        }
    }
}

/// A diverged replay: the program asked for something the log does not hold next.
fn diverged(path: &Path, n: u64, logged: (&Event, &str), asked: (Kind, u64, &Location<'_>)) -> ! {
    let (ev, logged_site) = logged;
    let (kind, digest, site) = asked;
    let e = Error::Diverged {
        path: path.into(),
        event: n,
        detail: format!(
            "the log has a {} made at {logged_site} (arguments {:016x}) where the program \
             asked for a {} at {} (arguments {digest:016x}): the program, its build or an \
             input differs from the recorded run",
            ev.kind.name(),
            ev.digest,
            kind.name(),
            site_name(site),
        ),
    };
    eprintln!("ckpt: error: {e}");
    std::process::exit(2)
}

/// The one path of every logged result: records `live()`'s result, or hands back the
/// logged one.
#[track_caller]
fn through(kind: Kind, digest: u64, live: impl FnOnce() -> Payload) -> Payload {
    let site = Location::caller();
    if INTERNAL.with(|c| c.get()) > 0 {
        return live();
    }
    if MODE.load(Ordering::Relaxed) == RECORD {
        // The OS call runs without the log's lock: a read that waits (standard input)
        // must not hold up other threads' clock readings.
        let v = live();
        if let Some(Active::Recording(w)) = active().as_mut() {
            if let Err(e) = w.push_at(kind, digest, &v, Some(site)) {
                eprintln!("ckpt: warning: the input log is incomplete: {e}");
            }
            bound::pushed(w.pushed_bytes());
        }
        return v;
    }
    let mut guard = active();
    match guard.as_mut() {
        Some(Active::Recording(_)) | None => {
            drop(guard);
            live()
        }
        Some(Active::Replaying {
            path,
            events,
            total,
            writer,
            sites,
        }) => match next_input(events) {
            Some(ev)
                if ev.kind == kind
                    && ev.digest == digest
                    && ev.site.is_none_or(|s| s == sites.number(site)) =>
            {
                LAST_EVENT.store(ev.n, Ordering::Relaxed);
                if let (Kind::Stdin, Payload::Bytes(b)) = (kind, &ev.value) {
                    REPLAYED_STDIN.fetch_add(b.len() as u64, Ordering::Relaxed);
                }
                ev.value
            }
            Some(ev) => {
                let (p, n) = (path.clone(), ev.n);
                let logged_site = sites.name(ev.site).to_string();
                drop(guard);
                diverged(&p, n, (&ev, &logged_site), (kind, digest, site))
            }
            None => match writer.take() {
                Some(w) => {
                    // A recovery: the killed run's inputs are all replayed; this one
                    // records on from here.
                    eprintln!(
                        "ckpt: recovery: replayed the log to event {}; the run goes on live, \
                         recording into {}",
                        total.saturating_sub(1),
                        path.display()
                    );
                    *guard = Some(Active::Recording(w));
                    MODE.store(RECORD, Ordering::SeqCst);
                    drop(guard);
                    going_live();
                    through(kind, digest, live)
                }
                None if !THEN_LIVE.load(Ordering::Relaxed) => {
                    // The recorded run got no more: it was stopped here (killed).
                    let total = *total;
                    *guard = None;
                    drop(guard);
                    eprintln!(
                        "ckpt: replay: the log ends after event {}: the recorded run stopped \
                         there, and so does the replay (--then-live goes on live instead)",
                        total.saturating_sub(1)
                    );
                    std::process::exit(0)
                }
                None => {
                    eprintln!(
                        "ckpt: replay: the log ends after event {}; the run goes on live \
                         (--then-live)",
                        total.saturating_sub(1)
                    );
                    *guard = None;
                    MODE.store(OFF, Ordering::SeqCst);
                    drop(guard);
                    going_live();
                    live()
                }
            },
        },
    }
}

/// The number of the last event a replay handed out.
static LAST_EVENT: AtomicU64 = AtomicU64::new(0);

/// A result the log checks rather than feeds (a file opened, bytes read from a file): the
/// call is made live in every mode; recording logs `observed` (a code or a hash of the
/// result), replaying compares it with the logged one and stops, naming the event and
/// `what()` was called, if they differ.
#[track_caller]
pub(crate) fn check(kind: Kind, digest: u64, observed: u64, what: impl FnOnce() -> String) {
    let site = Location::caller();
    match through(kind, digest, || Payload::Uint(observed)) {
        Payload::Uint(v) if v == observed => {}
        Payload::Uint(_) => {
            let e = diverged_at_last(format!(
                "{} at {}: the result differs from the recorded run's (the {} was \
                     checked, not copied into the log): the file changed since the recording; \
                     restore it, or record again",
                what(),
                site_name(site),
                kind.name()
            ));
            eprintln!("ckpt: error: {e}");
            std::process::exit(2)
        }
        _ => live_mismatch(kind),
    }
}

/// The outcome of a call as [`check`] logs it: 0, or 1 + the error's code.
pub(crate) fn outcome<T>(r: &std::io::Result<T>) -> u64 {
    match r {
        Ok(_) => 0,
        Err(e) => 1 + error_code(e),
    }
}

/// The hash [`check`] logs for `bytes` read.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    log::xxh3(bytes) ^ (bytes.len() as u64).rotate_left(32)
}

/// Bytes of standard input the replay handed the program from the log.
static REPLAYED_STDIN: AtomicU64 = AtomicU64::new(0);

/// The replay ends and the run goes on live.
fn going_live() {
    crate::io::stdio::skip_replayed(REPLAYED_STDIN.swap(0, Ordering::SeqCst));
}

/// The recorded run's `main` returned (`ok`: with success): the log says so, and is
/// written.
pub(crate) fn ended(ok: bool) {
    if MODE.load(Ordering::Relaxed) != RECORD {
        return;
    }
    if let Some(w) = active().as_mut().and_then(Active::writer) {
        let r = w
            .push(Kind::End, 0, &Payload::Uint(u64::from(!ok)))
            .and_then(|()| w.flush());
        if let Err(e) = r {
            eprintln!("ckpt: warning: the input log is incomplete: {e}");
        }
    }
}

/// Whether `log` records a run whose `main` returned.
pub(crate) fn is_over(log: &log::Log) -> bool {
    log.events.iter().any(|e| e.kind == Kind::End)
}

/// The next logged input, past the records of released output.
fn next_input(events: &mut VecDeque<Event>) -> Option<Event> {
    while let Some(ev) = events.pop_front() {
        progress(ev.n);
        if ev.n >= UNTIL.load(Ordering::Relaxed) && !REACHED.swap(true, Ordering::SeqCst) {
            // `--until`: the next save point or safepoint writes the image and ends the run.
            #[cfg(feature = "agent")]
            crate::agent::request_checkpoint();
        }
        if !matches!(ev.kind, Kind::Released | Kind::End | Kind::Sent) {
            return Some(ev);
        }
    }
    None
}

/// The digest that marks the clock mapping a restore computed (see [`restored_clock`]).
const RESTORED_CLOCK: u64 = u64::MAX;

/// The clock mapping (`virtual = real + delta`) a restore set: recorded when a restored
/// run records (the event right after the restore); while replaying, the recorded one if
/// the log holds it next (`None` otherwise: the image's own mapping applies).
pub(crate) fn restored_clock(delta: Option<u64>) -> Option<u64> {
    match MODE.load(Ordering::Relaxed) {
        RECORD => {
            if let (Some(d), Some(w)) = (delta, active().as_mut().and_then(Active::writer)) {
                if let Err(e) = w.push(Kind::Monotonic, RESTORED_CLOCK, &Payload::Uint(d)) {
                    eprintln!("ckpt: warning: the input log is incomplete: {e}");
                }
            }
            None
        }
        REPLAY => {
            let mut guard = active();
            let Some(Active::Replaying { events, .. }) = guard.as_mut() else {
                return None;
            };
            while events
                .front()
                .is_some_and(|e| matches!(e.kind, Kind::Released | Kind::End | Kind::Sent))
            {
                events.pop_front();
            }
            match events.front() {
                Some(Event {
                    kind: Kind::Monotonic,
                    digest: RESTORED_CLOCK,
                    value: Payload::Uint(d),
                    ..
                }) => {
                    let d = *d;
                    events.pop_front();
                    Some(d)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A clock reading (`kind` is [`Kind::Monotonic`] or [`Kind::Wall`]).
#[track_caller]
pub(crate) fn clock(kind: Kind, live: impl FnOnce() -> u64) -> u64 {
    clock_with(kind, 0, live)
}

/// A clock reading of a clock told apart by `digest` (the network stack's).
#[track_caller]
pub(crate) fn clock_with(kind: Kind, digest: u64, live: impl FnOnce() -> u64) -> u64 {
    match through(kind, digest, || Payload::Uint(live())) {
        Payload::Uint(v) => v,
        _ => live_mismatch(kind),
    }
}

/// Bytes that fill `buf` entirely (random bytes).
#[track_caller]
pub(crate) fn fill(
    kind: Kind,
    buf: &mut [u8],
    live: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let len = buf.len();
    let r = through(kind, len as u64, || {
        let mut b = vec![0u8; len];
        match live(&mut b) {
            Ok(()) => Payload::Bytes(b),
            Err(e) => Payload::Err(error_code(&e)),
        }
    });
    match r {
        Payload::Bytes(b) if b.len() == len => {
            buf.copy_from_slice(&b);
            Ok(())
        }
        Payload::Err(k) => Err(error_of(k)),
        _ => live_mismatch(kind),
    }
}

/// A value that may be absent (an environment variable): fed from the log while
/// replaying.
#[track_caller]
pub(crate) fn value(
    kind: Kind,
    digest: u64,
    live: impl FnOnce() -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let absent = error_code(&std::io::ErrorKind::NotFound.into());
    match through(kind, digest, || match live() {
        Some(v) => Payload::Bytes(v),
        None => Payload::Err(absent),
    }) {
        Payload::Bytes(b) => Some(b),
        Payload::Err(_) => None,
        _ => live_mismatch(kind),
    }
}

/// A read of up to `buf.len()` bytes (standard input).
#[track_caller]
pub(crate) fn read(
    kind: Kind,
    buf: &mut [u8],
    live: impl FnOnce(&mut [u8]) -> std::io::Result<usize>,
) -> std::io::Result<usize> {
    let len = buf.len();
    let r = through(kind, len as u64, || {
        let mut b = vec![0u8; len];
        match live(&mut b) {
            Ok(n) => {
                b.truncate(n);
                Payload::Bytes(b)
            }
            Err(e) => Payload::Err(error_code(&e)),
        }
    });
    match r {
        Payload::Bytes(b) if b.len() <= len => {
            buf[..b.len()].copy_from_slice(&b);
            Ok(b.len())
        }
        Payload::Err(k) => Err(error_of(k)),
        _ => live_mismatch(kind),
    }
}

fn error_code(e: &std::io::Error) -> u64 {
    log::ERROR_KINDS
        .iter()
        .position(|k| *k == e.kind())
        .unwrap_or(0) as u64
}

fn error_of(k: u64) -> std::io::Error {
    let kind = log::ERROR_KINDS
        .get(k as usize)
        .copied()
        .unwrap_or(std::io::ErrorKind::Other);
    std::io::Error::new(kind, "error recorded in the input log")
}

/// A logged event of the right kind whose value has the wrong shape: the log is damaged.
#[cold]
fn live_mismatch(kind: Kind) -> ! {
    eprintln!(
        "ckpt: error: the input log holds a {} of the wrong shape: the log is damaged",
        kind.name()
    );
    std::process::exit(2)
}

#[cfg(test)]
mod tests;
