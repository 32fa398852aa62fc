//! The `io` component: standard output and error at a save, and what a restore does to
//! them; and [`Stdin`], a standard input whose buffered bytes are saved.

use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::sync::{Mutex, MutexGuard, TryLockError};

use crate::error::Result;
use crate::fs::identity::Identity;
use crate::fs::sys;
use crate::fs::table::mtime_ns;
use crate::state::{Encoder, Loader, State, Value};

/// What a save records about fd 1 or 2: the identity and length of the regular file it
/// writes to, or nothing (a pipe, a terminal, closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Output {
    id: Identity,
    len: u64,
}

fn describe(fd: i32) -> Option<(Output, std::fs::Metadata)> {
    let m = sys::fstat(fd).ok()?;
    if !m.file_type().is_file() || m.file_type().is_fifo() {
        return None;
    }
    Some((
        Output {
            id: Identity::of(&m),
            len: m.len(),
        },
        m,
    ))
}

/// `{"stdout": null | {dev, ino, born_ns, len}, "stderr": …, "stdin_file": null | {dev,
/// ino, born_ns, len, mtime_ns, offset}, "stdin": bytes | null}`.
///
/// Standard output and error are flushed first, so the recorded length is everything the
/// program printed before the save.
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    e.map(4);
    for (name, fd) in [("stdout", 1), ("stderr", 2)] {
        e.text(name);
        match describe(fd) {
            Some((o, _)) => {
                // Best effort: the length recorded is what the kernel has either way.
                let _ = crate::image::sync_before(std::path::Path::new(name), fd, false);
                e.map(4);
                o.id.save(e);
                e.text("len");
                e.uint(o.len);
            }
            None => e.null(),
        }
    }
    // Standard input from a regular file: where the OS offset was, so a restore reading
    // the same file continues there (the buffered bytes come back with it).
    e.text("stdin_file");
    match describe(0) {
        Some((o, m)) => {
            e.map(6);
            o.id.save(e);
            e.text("len");
            e.uint(o.len);
            e.text("mtime_ns");
            e.uint(mtime_u64(&m));
            e.text("offset");
            e.uint(sys::offset(0).unwrap_or(0));
        }
        None => e.null(),
    }
    e.text("stdin");
    match STDIN.try_lock() {
        Ok(b) => e.bytes(b.unread()),
        Err(TryLockError::Poisoned(p)) => e.bytes(p.into_inner().unread()),
        // A live `StdinLock` of this thread holds the buffer: it saves the bytes itself.
        Err(TryLockError::WouldBlock) => e.null(),
    }
    Ok(())
}

/// The modification time as stdin_file records it (unsigned nanoseconds).
fn mtime_u64(m: &std::fs::Metadata) -> u64 {
    u64::try_from(mtime_ns(m).max(0)).unwrap_or(u64::MAX)
}

/// Refuses a restore whose standard input is the file it read from at the save but
/// changed since (size or modification time), unless `policy` accepts changed files:
/// the program's state depends on what it read, as for files it opened itself.
pub(crate) fn check_component(v: &Value, policy: crate::fs::Policy) -> Result<()> {
    let Some(saved) = v.get("stdin_file").filter(|s| !matches!(s, Value::Null)) else {
        return Ok(());
    };
    let id = Identity::load(saved).map_err(|e| e.within("stdin_file"))?;
    let (Some((now, m)), Some(len), Some(mtime)) = (
        describe(0),
        saved.get("len").and_then(Value::as_u64),
        saved.get("mtime_ns").and_then(Value::as_u64),
    ) else {
        return Ok(());
    };
    if now.id == id
        && (now.len != len || mtime_u64(&m) != mtime)
        && policy != crate::fs::Policy::AcceptChanged
    {
        let path = std::fs::read_link("/proc/self/fd/0").unwrap_or_default();
        return Err(crate::Error::Restore {
            path,
            detail: format!(
                "standard input is the file the program was reading at the checkpoint, and it \
                 changed since (size {len} → {} bytes); {}",
                now.len,
                crate::fs::Policy::HINT
            ),
        });
    }
    Ok(())
}

/// Cuts standard output and error back to their length at the save when they are the same
/// regular file; restores buffered standard input.
pub(crate) fn restore_component(v: &Value) -> Result<()> {
    // Standard output only. Standard error is never cut back: it is the stream most often
    // shared with other processes (`2>&1` into a script's or a supervisor's log), whose
    // lines written after the save would be destroyed; a diagnostic the program printed
    // after the save may repeat instead.
    for (name, fd) in [("stdout", 1)] {
        let Some(saved) = v.get(name).filter(|s| !matches!(s, Value::Null)) else {
            continue;
        };
        let id = Identity::load(saved).map_err(|e| e.within(name))?;
        let Some(len) = saved.get("len").and_then(Value::as_u64) else {
            return Err(crate::Error::ty(name, "{dev, ino, len}", saved.kind()));
        };
        let Some((now, _)) = describe(fd) else {
            continue;
        };
        if now.id != id {
            continue;
        }
        if now.len < len {
            eprintln!(
                "ckpt: warning: {name} is the file it was at the checkpoint, but shorter \
                 ({} < {len} bytes): output from before the checkpoint is missing; redirect \
                 with `>>` when restoring to keep it",
                now.len
            );
            continue;
        }
        let cut = if now.len > len {
            sys::truncate(fd, len)
        } else {
            Ok(())
        };
        if let Err(e) = cut.and_then(|()| sys::seek_to(fd, len).map(drop)) {
            eprintln!(
                "ckpt: warning: cannot cut {name} back to {len} bytes ({e}): output printed \
                 after the checkpoint may repeat"
            );
        }
    }
    if let Some(saved) = v.get("stdin_file").filter(|s| !matches!(s, Value::Null)) {
        let id = Identity::load(saved).map_err(|e| e.within("stdin_file"))?;
        if let Some(offset) = saved.get("offset").and_then(Value::as_u64) {
            match describe(0) {
                Some((now, _)) if now.id == id => {
                    if let Err(e) = sys::seek_to(0, offset) {
                        eprintln!(
                            "ckpt: warning: cannot seek standard input back to byte {offset} \
                             ({e}): it is read from where it is"
                        );
                    }
                }
                // Another input: the program reads it from where it is.
                _ => {}
            }
        }
    }
    if let Some(Value::Bytes(b)) = v.get("stdin") {
        lock_buf().set(b);
    }
    Ok(())
}

/// The process-wide standard input buffer.
struct Buf {
    buf: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn set(&mut self, bytes: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(bytes);
        self.pos = 0;
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            self.buf.resize(8 * 1024, 0);
            let n = if crate::replay::on() {
                crate::replay::read(crate::replay::Kind::Stdin, &mut self.buf, read_fd0)?
            } else {
                read_fd0(&mut self.buf)?
            };
            self.buf.truncate(n);
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

/// A replay handed the program `n` bytes of standard input from the log and goes on live:
/// when standard input is a regular file, its offset moves past those bytes, so the live
/// reads continue where the recorded run's did (a pipe's bytes were consumed by the
/// recorded run already).
pub(crate) fn skip_replayed(n: u64) {
    if n == 0 || describe(0).is_none() {
        return;
    }
    if let Ok(at) = sys::offset(0) {
        let _ = sys::seek_to(0, at + n);
    }
}

/// One read of standard input from the OS.
fn read_fd0(buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: reads into the caller's buffer of the given length.
        let r = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            // A closed standard input reads as empty, as std's does.
            _ if e.raw_os_error() == Some(libc::EBADF) => return Ok(0),
            _ => return Err(e),
        }
    }
}

static STDIN: Mutex<Buf> = Mutex::new(Buf {
    buf: Vec::new(),
    pos: 0,
});

fn lock_buf() -> MutexGuard<'static, Buf> {
    STDIN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Standard input whose buffered bytes are saved: a drop-in for [`std::io::Stdin`].
///
/// Bytes read from the OS but not yet consumed by the program are part of the image (or
/// of a saved [`StdinLock`]), so a restore continues with them. Standard input itself is
/// whatever the restored process is given; a restore does not replay what was consumed.
/// Do not mix it with std's own `stdin()` (outside checkpointable code): each buffers.
/// Unlike std's, its lock is not reentrant: while a [`StdinLock`] is alive, read through
/// it, not through another `stdin()` call on the same thread.
///
/// ```no_run
/// let mut name = String::new();
/// ckpt::io::stdin().read_line(&mut name).unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Stdin {
    _private: (),
}

/// The standard input of the process (see [`Stdin`]).
pub fn stdin() -> Stdin {
    Stdin { _private: () }
}

impl Stdin {
    /// Locks standard input for buffered reading.
    pub fn lock(&self) -> StdinLock<'static> {
        StdinLock { buf: lock_buf() }
    }

    /// Reads a line into `buf` (see [`BufRead::read_line`]).
    pub fn read_line(&self, buf: &mut String) -> io::Result<usize> {
        self.lock().read_line(buf)
    }

    /// The lines of standard input; the iterator is [`State`].
    pub fn lines(self) -> super::Lines<StdinLock<'static>> {
        super::Lines::new(self.lock())
    }
}

impl Read for Stdin {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.lock().read(out)
    }
}

impl State for Stdin {
    fn save(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.null();
        Ok(())
    }

    fn load(_: Value, _: &mut Loader) -> Result<Self> {
        Ok(stdin())
    }
}

/// Standard input, locked (see [`Stdin::lock`]).
pub struct StdinLock<'a> {
    buf: MutexGuard<'a, Buf>,
}

impl std::fmt::Debug for StdinLock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdinLock").finish_non_exhaustive()
    }
}

impl StdinLock<'static> {
    /// The lines of standard input; the iterator is [`State`].
    pub fn lines(self) -> super::Lines<Self> {
        super::Lines::new(self)
    }
}

impl Read for StdinLock<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let mut rem = self.buf.fill()?;
            rem.read(out)?
        };
        self.buf.consume(n);
        Ok(n)
    }
}

impl BufRead for StdinLock<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.buf.fill()
    }

    fn consume(&mut self, amt: usize) {
        self.buf.consume(amt)
    }
}

/// The buffered, unconsumed bytes. (Any lifetime: the lock is always of the one static
/// standard input, so `stdin.lock()` of a local `stdin` loads as well.)
impl State for StdinLock<'_> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.bytes(self.buf.unread());
        Ok(())
    }

    fn load(v: Value, _: &mut Loader) -> Result<Self> {
        let mut lock = stdin().lock();
        if let Value::Bytes(b) = v {
            lock.buf.set(&b);
        }
        Ok(lock)
    }
}

/// Standard output reconnects on restore (its bytes are in the file, see the module docs).
impl State for io::Stdout {
    fn save(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.null();
        Ok(())
    }

    fn load(_: Value, _: &mut Loader) -> Result<Self> {
        Ok(io::stdout())
    }
}

/// Standard error reconnects on restore.
impl State for io::Stderr {
    fn save(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.null();
        Ok(())
    }

    fn load(_: Value, _: &mut Loader) -> Result<Self> {
        Ok(io::stderr())
    }
}
