//! Output commit for recorded runs: standard output leaves the process only after the
//! inputs it may depend on are in the input log, and the log says how much of it left.
//!
//! While recording, when standard output is a pipe, a terminal or a socket (anything a
//! restore cannot cut back, unlike a regular file), fd 1 becomes the write end of a pipe
//! this module owns (for a terminal, a pseudo-terminal in raw mode, so the program still
//! writes to a terminal). A forwarding thread reads what the program wrote, commits the log
//! ([`crate::replay::commit`]: the pending input events are written, and synced with
//! `--ckpt-log-sync`), writes the bytes to the original standard output, then logs how
//! far standard output has been released ([`crate::replay::released`]). Only the output
//! waits; the program never does (unless the pipe fills).
//!
//! Positions count the bytes the program wrote to standard output since its run started,
//! over restores: an image records the position at its save, and a recovery (a restore
//! that replays the killed run's log) drops the replayed output up to the position the
//! log says was released. Output released before a kill is not released again; output
//! that had not left yet is.
//!
//! Each record of released output carries a digest of the bytes it covers. A replay, and
//! a recovery's replayed part, hash the output the program makes again over the same
//! ranges and stop, saying which bytes differ, if a digest does not match: the replay
//! reproduced the inputs but not the output.

use std::collections::VecDeque;
use std::hash::Hasher;
use std::io::Write;
use std::os::fd::RawFd;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The interposed standard output.
struct Out {
    /// The read end of the pipe that fd 1 writes into (non-blocking).
    read_fd: RawFd,
    /// The original standard output (close-on-exec).
    orig_fd: RawFd,
    counts: Mutex<Counts>,
    /// Signalled when bytes are done with.
    done: Condvar,
    /// The recorded output this run must make again (replay, recovery).
    expected: Mutex<Expected>,
}

/// A recorded range of released output: `[start, end)` and the digest of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start: u64,
    pub end: u64,
    pub digest: u64,
}

/// The ranges still to check, and the hash of the current one so far.
struct Expected {
    ranges: VecDeque<Range>,
    hasher: twox_hash::XxHash3_64,
}

impl Expected {
    /// Takes in the bytes at positions `[from, from + len)`; the first range whose digest
    /// differs, if any.
    fn feed(&mut self, from: u64, mut bytes: &[u8]) -> Option<Range> {
        let mut pos = from;
        while !bytes.is_empty() {
            let r = *self.ranges.front()?;
            if pos >= r.end {
                self.ranges.pop_front();
                self.hasher = Default::default();
                continue;
            }
            if pos < r.start {
                let skip = ((r.start - pos) as usize).min(bytes.len());
                pos += skip as u64;
                bytes = &bytes[skip..];
                continue;
            }
            let take = ((r.end - pos) as usize).min(bytes.len());
            self.hasher.write(&bytes[..take]);
            pos += take as u64;
            bytes = &bytes[take..];
            if pos == r.end {
                let got = std::mem::take(&mut self.hasher).finish();
                self.ranges.pop_front();
                if got != r.digest {
                    return Some(r);
                }
            }
        }
        None
    }
}

/// The digest a record of released output carries for `bytes`.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    let mut h = twox_hash::XxHash3_64::default();
    h.write(bytes);
    h.finish()
}

struct Counts {
    /// Bytes read from the pipe (the position of the next byte read).
    read: u64,
    /// Bytes released or dropped (at most `read`).
    done: u64,
    /// Bytes up to this position were released by a run this one recovers: dropped.
    suppress_until: u64,
    /// The forwarder stopped (its output was closed): nothing more is done.
    stopped: bool,
}

static OUT: OnceLock<Out> = OnceLock::new();

/// The replayed output differed from the recorded one: the process ends with status 2.
static DIVERGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn bytes_in_pipe(fd: RawFd) -> u64 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } < 0 {
        return 0;
    }
    n.max(0) as u64
}

/// Whether standard output is something a restore cannot take back: a pipe, a socket or
/// a terminal (not a regular file, not `/dev/null`, not closed).
fn needs_commit() -> bool {
    // SAFETY: fstat fills the struct it is given.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(1, &mut st) } < 0 {
        return false;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO | libc::S_IFSOCK => true,
        // SAFETY: isatty only reads the fd.
        libc::S_IFCHR => unsafe { libc::isatty(1) == 1 },
        _ => false,
    }
}

/// Interposes standard output (see the module's text) if it needs it: `start` is the
/// position of the run's output so far (from the image restored, 0 for a new run),
/// output before `suppress_until` was released already, and `expected` are the recorded
/// ranges the output made from here must match. Returns whether it did.
pub(crate) fn interpose(
    start: u64,
    suppress_until: u64,
    expected: Vec<Range>,
) -> std::io::Result<bool> {
    if OUT.get().is_some() || !needs_commit() {
        return Ok(false);
    }
    let _ = std::io::stdout().flush();
    let cvt = |r: libc::c_int| {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    };
    // SAFETY: plain fd syscalls on fds this function owns (and fd 1, replaced whole).
    unsafe {
        let orig_fd = cvt(libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3))?;
        let (read_fd, write_fd) = if libc::isatty(1) == 1 {
            terminal()?
        } else {
            let mut p = [0 as libc::c_int; 2];
            cvt(libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC))?;
            // Room for bursts of output while the forwarder commits the log.
            let _ = libc::fcntl(p[1], libc::F_SETPIPE_SZ, 1 << 20);
            (p[0], p[1])
        };
        cvt(libc::fcntl(read_fd, libc::F_SETFL, libc::O_NONBLOCK))?;
        cvt(libc::dup2(write_fd, 1))?;
        libc::close(write_fd);
        let out = Out {
            read_fd,
            orig_fd,
            counts: Mutex::new(Counts {
                read: start,
                done: start,
                suppress_until,
                stopped: false,
            }),
            done: Condvar::new(),
            expected: Mutex::new(Expected {
                ranges: expected.into_iter().filter(|r| r.start >= start).collect(),
                hasher: Default::default(),
            }),
        };
        if OUT.set(out).is_err() {
            return Ok(false);
        }
        libc::atexit(drain_at_exit);
    }
    std::thread::Builder::new()
        .name("ckpt-output".into())
        .spawn(forward)?;
    Ok(true)
}

/// For a terminal, a pseudo-terminal in raw mode (bytes pass unchanged; the real
/// terminal's settings still apply when they leave), the size of the real one: the
/// program's standard output is still a terminal (`is_terminal()`, colours, line width).
/// Returns (master, slave).
fn terminal() -> std::io::Result<(RawFd, RawFd)> {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty fills the two fds; the termios and winsize are plain structs read
    // and written through valid pointers.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        let sized = libc::ioctl(1, libc::TIOCGWINSZ, &mut size) == 0;
        let size_ptr = if sized {
            &mut size as *mut _
        } else {
            std::ptr::null_mut()
        };
        if libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            size_ptr,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(slave, &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(slave, libc::TCSANOW, &t);
        }
        libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Ok((master, slave))
}

fn counts(out: &Out) -> std::sync::MutexGuard<'_, Counts> {
    out.counts.lock().unwrap_or_else(|e| e.into_inner())
}

/// The forwarding thread.
fn forward() {
    let Some(out) = OUT.get() else { return };
    let mut buf = vec![0u8; 64 << 10];
    // The log learns where this run's first release starts (so its digest can be
    // checked): a zero-length release there, logged with the first one.
    let mut announced = false;
    loop {
        let mut pfd = libc::pollfd {
            fd: out.read_fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, owned here.
        if unsafe { libc::poll(&mut pfd, 1, -1) } < 0 {
            continue;
        }
        // Read and count under the lock: a save's position (read + in the pipe) is exact.
        let (n, from, suppress_until) = {
            let mut c = counts(out);
            // SAFETY: reads into the buffer's own memory.
            let n = unsafe { libc::read(out.read_fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                let err = std::io::Error::last_os_error();
                if n < 0 && matches!(err.raw_os_error(), Some(libc::EAGAIN | libc::EINTR)) {
                    continue;
                }
                // End of file (a pseudo-terminal says EIO): every writer closed standard
                // output.
                c.stopped = true;
                out.done.notify_all();
                return;
            }
            let from = c.read;
            c.read += n as u64;
            (n as usize, from, c.suppress_until)
        };
        let skip = (suppress_until.saturating_sub(from) as usize).min(n);
        let data = &buf[skip..n];
        let end = from + n as u64;
        let differs = out
            .expected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .feed(from, &buf[..n]);
        if let Some(r) = differs {
            eprintln!(
                "ckpt: error: {}",
                crate::replay::output_diverged(r.start, r.end)
            );
            // The program may be exiting on its own meanwhile: its exit's drain sees the
            // flag and ends with the same status.
            DIVERGED.store(true, std::sync::atomic::Ordering::SeqCst);
            counts(out).stopped = true;
            out.done.notify_all();
            // SAFETY: _exit ends the process at once; nothing here needs unwinding.
            unsafe { libc::_exit(2) };
        }
        if !data.is_empty() {
            let mut marks = Vec::with_capacity(2);
            if !announced {
                marks.push((end - data.len() as u64, digest(&[])));
            }
            marks.push((end, digest(data)));
            let wrote =
                crate::replay::release_with(|| write_all(out.orig_fd, data).is_ok(), &marks);
            if !wrote {
                // The reader went away: the program's next write fails as it would have
                // (broken pipe).
                let mut c = counts(out);
                c.stopped = true;
                // SAFETY: closes the fd this module owns.
                unsafe { libc::close(out.read_fd) };
                out.done.notify_all();
                return;
            }
            announced = true;
        }
        let mut c = counts(out);
        c.done = end;
        out.done.notify_all();
    }
}

fn write_all(fd: RawFd, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        // SAFETY: writes from the slice's own memory.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => {
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one pollfd, owned here.
                    unsafe { libc::poll(&mut pfd, 1, 1000) };
                    continue;
                }
                _ => return Err(e),
            }
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// The position of standard output now (everything the program wrote, released or still
/// in the pipe), or `None` when it is not interposed. Flushes `std::io::stdout` first.
pub(crate) fn position() -> Option<u64> {
    let out = OUT.get()?;
    let _ = std::io::stdout().flush();
    let c = counts(out);
    Some(
        c.read
            + if c.stopped {
                0
            } else {
                bytes_in_pipe(out.read_fd)
            },
    )
}

/// Waits (at most 10 s) until everything the program wrote to standard output has left.
pub(crate) fn drain() {
    let Some(out) = OUT.get() else { return };
    let _ = std::io::stdout().flush();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut c = counts(out);
    while !c.stopped && (c.done < c.read || bytes_in_pipe(out.read_fd) > 0) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        c = out
            .done
            .wait_timeout(c, left.min(Duration::from_millis(20)))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    if DIVERGED.load(std::sync::atomic::Ordering::SeqCst) {
        // SAFETY: as in the forwarder: the run ends with the divergence's status.
        unsafe { libc::_exit(2) };
    }
}

extern "C" fn drain_at_exit() {
    drain();
}
