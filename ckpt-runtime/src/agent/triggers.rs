//! What asks for a checkpoint besides `ckpt::save()`: signals, an interval and the API.
//!
//! A request is a flag. [`ckpt::safepoint()`](super::private::safepoint) saves only when
//! one is pending; `ckpt::save()` saves anyway and satisfies it. After the save, a request
//! to exit ends the process with status 0 and a message saying how to continue.
//!
//! - `SIGUSR1`: checkpoint at the next save point or safepoint, and continue.
//! - `SIGTERM`, `SIGINT`: checkpoint at the next save point or safepoint, then exit 0.
//!   A second one exits at once (status 128 + signal). A program that reaches no save
//!   point within the grace period (`--ckpt-grace`, default 25 s, below the 30 s that
//!   Kubernetes and SLURM wait before SIGKILL) is ended with 128 + signal; its last image
//!   is intact.
//! - `--ckpt-every 30s`: a checkpoint is requested when that long has passed since the
//!   last save.
//!
//! The handlers only set flags and wake the grace-period thread through a pipe (both
//! async-signal-safe); everything else runs on ordinary threads or at the save point.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CHECKPOINT: u8 = 1;
const EXIT: u8 = 2;

/// Pending requests (`CHECKPOINT`, `EXIT`).
static REQUEST: AtomicU8 = AtomicU8::new(0);
/// The signal that asked to exit (0: the API did).
static EXIT_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Terminating signals received so far.
static TERMINATIONS: AtomicU32 = AtomicU32::new(0);
/// Write end of the pipe that wakes the grace-period thread (-1: none).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// True while an image is being written.
static SAVING: AtomicBool = AtomicBool::new(false);
/// Milliseconds since [`base`] at the end of the last save.
static LAST_SAVE_MS: AtomicU64 = AtomicU64::new(0);

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    base().elapsed().as_millis() as u64
}

/// True when a checkpoint was requested and not yet written. The hot path of a safepoint:
/// one relaxed load.
#[inline]
pub(crate) fn pending() -> bool {
    REQUEST.load(Ordering::Relaxed) != 0
}

/// Asks for a checkpoint at the next save point or safepoint; the program continues.
/// Callable from any thread (and what SIGUSR1 does).
pub fn request_checkpoint() {
    REQUEST.fetch_or(CHECKPOINT, Ordering::SeqCst);
}

/// Asks for a checkpoint at the next save point or safepoint, after which the process
/// exits with status 0 (what SIGTERM and SIGINT do, without their grace period).
pub fn request_exit() {
    REQUEST.fetch_or(CHECKPOINT | EXIT, Ordering::SeqCst);
}

/// Brackets an image write, so the grace period does not end a save half-way.
pub(crate) fn saving(on: bool) {
    SAVING.store(on, Ordering::SeqCst);
}

/// Whether the process exits after the next save (SIGTERM, SIGINT, `request_exit`).
pub(crate) fn exit_requested() -> bool {
    REQUEST.load(Ordering::SeqCst) & EXIT != 0
}

/// A save to the run's image finished: the checkpoint request is satisfied. Returns the
/// signal (or 0 for the API) when the process must now exit.
pub(crate) fn saved() -> Option<i32> {
    LAST_SAVE_MS.store(now_ms(), Ordering::Relaxed);
    let prev = REQUEST.fetch_and(!CHECKPOINT, Ordering::SeqCst);
    (prev & EXIT != 0).then(|| EXIT_SIGNAL.load(Ordering::SeqCst))
}

/// A signal's name for messages.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGUSR1 => "SIGUSR1",
        _ => "a request",
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        REQUEST.fetch_or(CHECKPOINT, Ordering::SeqCst);
        return;
    }
    if TERMINATIONS.fetch_add(1, Ordering::SeqCst) > 0 {
        const MSG: &[u8] = b"ckpt: second signal: exiting at once, without a checkpoint\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe; MSG is a static buffer.
        unsafe {
            libc::write(2, MSG.as_ptr().cast(), MSG.len());
            libc::_exit(128 + sig);
        }
    }
    EXIT_SIGNAL.store(sig, Ordering::SeqCst);
    REQUEST.fetch_or(CHECKPOINT | EXIT, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = [sig as u8];
        // SAFETY: write(2) on a pipe this module created is async-signal-safe.
        unsafe {
            libc::write(fd, b.as_ptr().cast(), 1);
        }
    }
}

/// When to checkpoint besides `ckpt::save()`, from the run's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Triggers {
    /// Install the SIGUSR1 / SIGTERM / SIGINT handlers.
    pub signals: bool,
    /// `--ckpt-every`.
    pub every: Option<Duration>,
    /// `--ckpt-grace`.
    pub grace: Duration,
}

/// Installs the handlers and starts the threads `t` needs. `on_grace_expired` runs on the
/// grace-period thread when a terminating signal was not followed by a save in time; it
/// ends the process.
pub(crate) fn install(t: Triggers, on_grace_expired: fn(i32) -> !) -> std::io::Result<()> {
    let _ = base();
    if t.signals {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the two descriptors we pass.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (read_fd, write_fd) = (fds[0], fds[1]);
        WAKE_FD.store(write_fd, Ordering::SeqCst);
        let grace = t.grace;
        std::thread::Builder::new()
            .name("ckpt-grace".into())
            .spawn(move || grace_thread(read_fd, grace, on_grace_expired))?;
        for sig in [libc::SIGUSR1, libc::SIGTERM, libc::SIGINT] {
            // SAFETY: a zeroed sigaction is valid; the handler is an extern "C" fn that
            // only touches atomics and calls async-signal-safe functions.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
    }
    if let Some(every) = t.every {
        std::thread::Builder::new()
            .name("ckpt-every".into())
            .spawn(move || interval_thread(every))?;
    }
    Ok(())
}

fn grace_thread(read_fd: i32, grace: Duration, expired: fn(i32) -> !) {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: read(2) into a one-byte buffer we own.
        let n = unsafe { libc::read(read_fd, b.as_mut_ptr().cast(), 1) };
        if n == 1 {
            break;
        }
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return;
    }
    let sig = EXIT_SIGNAL.load(Ordering::SeqCst);
    std::thread::sleep(grace);
    // A save under way is let finish (for at most another grace period): its image is
    // the one the signal asked for, and the save point exits right after it.
    let until = Instant::now() + grace;
    while SAVING.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    expired(sig)
}

fn interval_thread(every: Duration) {
    let every_ms = every.as_millis().max(1) as u64;
    loop {
        let since = now_ms().saturating_sub(LAST_SAVE_MS.load(Ordering::Relaxed));
        if since >= every_ms {
            REQUEST.fetch_or(CHECKPOINT, Ordering::SeqCst);
            std::thread::sleep(every);
        } else {
            std::thread::sleep(Duration::from_millis(every_ms - since));
        }
    }
}

/// Parses a duration as `300ms`, `30s`, `5m` or `2h`.
pub(crate) fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let bad = || format!("expected a duration such as 300ms, 30s, 5m or 2h, not `{v}`");
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(format!("`{v}` is zero; give a positive duration"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        for bad in ["30", "s", "1.5s", "-3s", "0s", "10 parsecs", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
