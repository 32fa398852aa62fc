//! Crash-safe writing of an image: temp file, fsync, rename, fsync of the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hmac::Mac;

use super::checksum::Checksum;
use super::crash::{self, Step};
use super::signature::{Key, SIGNATURE_LEN, SIGNATURE_MAGIC};

use super::chunks::ChunkWriter;
use super::{Header, END_MAGIC, FORMAT_VERSION, MAGIC};
use crate::state::Encoder;
use crate::state::{Bulk, ALIGN};
use crate::Error;

/// Bulk data is written and hashed in pieces this large: small enough that a piece is
/// still in the CPU cache when it is hashed right after its write (1 MiB pieces made the
/// hash re-read memory; see BENCHMARKS.md).
const PIECE: usize = 256 << 10;

/// Dirty data is handed to the disk in windows this large while the image is still being
/// written, so the final fsync only waits for the last window instead of the whole file.
const WRITEBACK_WINDOW: u64 = 16 << 20;

/// Appends `bytes` to the temp file, which holds `*len` bytes so far. `crash_at`: the
/// byte count of the `CKPT_CRASH_AT_BYTE` testing aid (see [`crash`]), which writes up to
/// that count and kills the process.
fn append(file: &mut File, bytes: &[u8], len: &mut u64, crash_at: Option<u64>) -> io::Result<()> {
    if let Some(n) = crash_at {
        if *len + bytes.len() as u64 >= n {
            let keep = n.saturating_sub(*len) as usize;
            file.write_all(&bytes[..keep])?;
            crash::kill();
        }
    }
    file.write_all(bytes)?;
    *len += bytes.len() as u64;
    Ok(())
}

/// Counts and hashes the body on its way to the file.
struct BodyWriter<'f> {
    file: &'f mut File,
    hasher: Checksum,
    /// The signature being computed, for a signed image.
    mac: Option<hmac::Hmac<sha2::Sha256>>,
    len: u64,
    /// Body bytes already handed to writeback.
    kicked: u64,
    /// Bytes in the file (prefix included), for the crash testing aid.
    file_len: u64,
    crash_at: Option<u64>,
    /// Progress on a terminal for a large save.
    progress: Progress,
}

/// Progress of a save on standard error, when it is a terminal and the image is large:
/// `ckpt: saving app.ckpt: 768 MiB` every [`PROGRESS_STEP`] once [`PROGRESS_FROM`] bytes
/// are written, and a last line with the total and the time.
struct Progress {
    /// The image's name, or `None` when standard error is not a terminal.
    name: Option<String>,
    started: std::time::Instant,
    shown: u64,
}

/// Saves smaller than this print nothing.
const PROGRESS_FROM: u64 = 256 << 20;
/// How often a large save says how far it is.
const PROGRESS_STEP: u64 = 128 << 20;

impl Progress {
    fn new(path: &Path) -> Progress {
        use std::io::IsTerminal;
        let name = std::io::stderr()
            .is_terminal()
            .then(|| path.display().to_string());
        Progress {
            name,
            started: std::time::Instant::now(),
            shown: 0,
        }
    }

    fn at(&mut self, len: u64) {
        let Some(name) = &self.name else { return };
        if len >= PROGRESS_FROM && len - self.shown >= PROGRESS_STEP {
            self.shown = len;
            eprint!("\rckpt: saving {name}: {} MiB", len >> 20);
        }
    }

    fn done(&self, len: u64) {
        if let (Some(name), true) = (&self.name, self.shown > 0) {
            eprintln!(
                "\rckpt: saved {name}: {} MiB in {:.1} s",
                len >> 20,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

impl BodyWriter<'_> {
    fn put(&mut self, piece: &[u8]) -> io::Result<()> {
        append(self.file, piece, &mut self.file_len, self.crash_at)?;
        self.wrote(piece);
        Ok(())
    }

    fn wrote(&mut self, piece: &[u8]) {
        self.progress.at(self.len);
        self.hasher.update(piece);
        if let Some(m) = &mut self.mac {
            m.update(piece);
        }
        self.len += piece.len() as u64;
        if self.len - self.kicked >= WRITEBACK_WINDOW {
            start_writeback(
                self.file,
                super::PREFIX_LEN + self.kicked,
                self.len - self.kicked,
            );
            self.kicked = self.len;
        }
    }
}

/// Starts (does not wait for) writeback of a byte range; the final fsync makes it durable.
#[cfg(target_os = "linux")]
pub(super) fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: sync_file_range on a file descriptor we own, with plain integer arguments;
    // it only schedules I/O. Failure is harmless: the fsync at the end still runs.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as i64,
            len as i64,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn start_writeback(_: &File, _: u64, _: u64) {}

impl Write for BodyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(PIECE);
        self.put(&buf[..n])?;
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        for piece in buf.chunks(PIECE) {
            self.put(piece)?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes an image at `path`, crash-safely: a temp file in the same directory
/// (`.{file}.tmp.{pid}`, mode 0600) gets prefix, body and trailer, is fsynced and renamed
/// over `path`, then the directory is fsynced. On any error the temp file is removed and
/// the previous image at `path` is untouched. Returns the bytes written.
///
/// A file system that refuses the image (no space left, read-only, no permission) gives
/// [`Error::Unwritable`] naming `path`.
///
/// `frames` must write exactly one CBOR item (the frames array) and `components` one
/// item (a map name → component state). Shared objects first met inside another shared
/// object are written after them, in the `heap` section.
pub fn write(
    path: &Path,
    header: &Header,
    frames: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
    components: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    write_signed(path, header, None, frames, components)
}

/// [`write()`], signed with `key` when there is one (see [`signature`](super::signature)).
pub fn write_signed(
    path: &Path,
    header: &Header,
    key: Option<&Key>,
    frames: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
    components: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    let body = encode_body(path, header, frames, components)?;
    commit(path, key, &body, Unlink::Background)
}

/// An image body encoded in memory, its large arrays left in the program's memory (see
/// [`Encoder::defer_bulk`]): what a save takes while the program is stopped. [`commit`]
/// writes it out, in this process or in a forked copy of it.
pub(crate) struct Body {
    /// The CBOR of the body without the large arrays' data.
    bytes: Vec<u8>,
    /// The large arrays, in order, each with its place in `bytes`.
    bulk: Vec<Bulk>,
    /// Files whose data must be durable before the image is (see [`sync_before`]).
    syncs: Vec<PendingSync>,
    /// Large arrays go to the chunk store (see [`chunks`](super::chunks)); the flag:
    /// compress new chunks.
    chunked: Option<bool>,
}

/// A file the image describes, to be synced before the image is written.
struct PendingSync {
    path: PathBuf,
    /// A duplicate of the program's descriptor (the program may close its own).
    fd: std::os::fd::OwnedFd,
    /// A failed sync fails the save (else it is best effort: standard output).
    must: bool,
}

/// Files whose syncs are collected while a body is encoded (see [`sync_before`]).
static SYNCS: std::sync::Mutex<Option<Vec<PendingSync>>> = std::sync::Mutex::new(None);

/// The image being encoded describes the file `fd` (at `path`) as it is now: its data
/// must be durable before the image is. While a body is encoded the sync is left to
/// the writer of the image (in the background, so the program does not wait for the
/// disk); otherwise it happens here. `must`: a failed sync fails the save.
pub(crate) fn sync_before(path: &Path, fd: std::os::fd::RawFd, must: bool) -> io::Result<()> {
    use std::os::fd::BorrowedFd;
    let mut pending = SYNCS.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the caller's descriptor is open for the duration of the call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    match pending.as_mut() {
        Some(list) => {
            let fd = fd.try_clone_to_owned()?;
            list.push(PendingSync {
                path: path.to_path_buf(),
                fd,
                must,
            });
            Ok(())
        }
        None => {
            let r = File::from(fd.try_clone_to_owned()?).sync_data();
            if must {
                r
            } else {
                Ok(())
            }
        }
    }
}

#[cfg_attr(not(feature = "agent"), allow(dead_code))]
impl Body {
    /// Writes the large arrays as chunks in the image's chunk store, compressed or not;
    /// the chunks known unchanged since the last image are found without reading them
    /// (see [`dirty`](super::dirty)). Returns the arrays (address, length), in order.
    pub(crate) fn set_chunked(&mut self, chunked: Option<bool>) -> Vec<(usize, usize)> {
        self.chunked = chunked;
        if chunked.is_none() {
            return Vec::new();
        }
        let mut arrays = Vec::with_capacity(self.bulk.len());
        for b in &mut self.bulk {
            let bytes = b.data.bytes();
            let (base, len) = (bytes.as_ptr() as usize, bytes.len());
            b.known = super::dirty::known_hashes(base, len);
            arrays.push((base, len));
        }
        arrays
    }

    /// The descriptors of the files to sync (a forked writer keeps them open).
    pub(crate) fn sync_fds(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.syncs.iter().map(|s| s.fd.as_raw_fd()).collect()
    }

    /// Copies the large arrays out of the program's memory, so the body can be written
    /// while the program runs on (and changes them).
    pub(crate) fn own(&mut self) {
        for b in &mut self.bulk {
            b.data.own();
        }
    }
}

/// Encodes the body of the image `path` in memory (see [`Body`]).
pub(crate) fn encode_body(
    path: &Path,
    header: &Header,
    frames: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
    components: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<Body, Error> {
    let mut bytes = Vec::new();
    *SYNCS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
    let taken = |()| {
        SYNCS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default()
    };
    let mut e = Encoder::new(&mut bytes);
    e.set_file_offset(super::PREFIX_LEN);
    e.defer_shared();
    e.defer_bulk();
    e.set_exe_in_header();
    e.map(4);
    e.text("header");
    write_header(&mut e, header);
    let fix = |e| named(e, path);
    let r = (|| {
        e.text("frames");
        frames(&mut e).map_err(fix)?;
        e.text("components");
        components(&mut e).map_err(fix)?;
        e.text("heap");
        e.write_heap().map_err(fix)?;
        Ok(())
    })();
    let syncs = taken(());
    r?;
    let bulk = e.take_bulk();
    e.finish().map_err(fix)?;
    Ok(Body {
        bytes,
        bulk,
        syncs,
        chunked: None,
    })
}

/// Syncs the files the image describes (see [`sync_before`]).
fn sync_files(body: &Body) -> Result<(), Error> {
    phase!("ckpt.sync_files", files = body.syncs.len());
    for s in &body.syncs {
        let r = fdatasync_owned(&s.fd);
        if s.must {
            r.map_err(|e| Error::io("syncing", &s.path, e))?;
        }
    }
    Ok(())
}

fn fdatasync_owned(fd: &std::os::fd::OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: fdatasync on a descriptor we own.
    if unsafe { libc::fdatasync(fd.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Errors from the encoder carry no path: name `path`.
fn named(e: Error, path: &Path) -> Error {
    match e {
        Error::Io {
            op,
            path: p,
            source,
        } if p.as_os_str().is_empty() => Error::Io {
            op,
            path: path.into(),
            source,
        },
        other => other,
    }
}

/// How [`commit`] removes the previous image once the new one is in place.
#[derive(Clone, Copy)]
pub(crate) enum Unlink<'a> {
    /// From a thread of its own: unlinking a large file is slow and need not delay the
    /// program.
    Background,
    /// Before returning, after calling the function with the bytes written (a save
    /// process that reports, then exits).
    #[cfg_attr(not(feature = "agent"), allow(dead_code))]
    Then(&'a dyn Fn(u64)),
}

/// Writes `body` as the image at `path`, crash-safely (see [`write()`]).
pub(crate) fn commit(
    path: &Path,
    key: Option<&Key>,
    body: &Body,
    unlink: Unlink<'_>,
) -> Result<u64, Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::Usage(format!(
            "{}: an image path must name a file",
            path.display()
        ))
    })?;
    let name = name.to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let old = dir.join(format!(".{name}.old.{}", std::process::id()));
    let result = sync_files(body)
        .and_then(|()| write_tmp(&tmp, path, key, body))
        .and_then(|n| {
            crash::after(Step::Synced);
            // Keep the previous image alive under another name across the rename: unlinking a
            // large file is slow (it frees every extent) and need not delay the save.
            let _ = fs::remove_file(&old);
            phase!("ckpt.rename", path = path.display());
            let kept = fs::hard_link(path, &old).is_ok();
            crash::after(Step::Linked);
            fs::rename(&tmp, path).map_err(|e| Error::io("renaming image into place", path, e))?;
            crash::after(Step::Renamed);
            sync_dir(&dir)?;
            crash::after(Step::DirSynced);
            match unlink {
                Unlink::Background if kept => {
                    release_old(dir.clone(), name.to_string(), old.clone(), true)
                }
                Unlink::Background => {}
                Unlink::Then(report) => {
                    report(n);
                    if kept {
                        release_old(dir.clone(), name.to_string(), old.clone(), false);
                    }
                }
            }
            Ok(n)
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&old);
    }
    result.map_err(|e| refused(path, e, true))
}

/// An I/O error that means the file system refuses images at `path` (no space, read-only,
/// no permission, no directory) as [`Error::Unwritable`]; other errors unchanged.
/// `saving`: the error came from a save (so the previous image is still there).
fn refused(path: &Path, e: Error, saving: bool) -> Error {
    let Error::Io {
        source,
        op,
        path: p,
    } = e
    else {
        return e;
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let what = match source.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => format!(
            "the file system of {} is full: free space there or save elsewhere with \
             --ckpt-file",
            dir.display()
        ),
        Some(libc::EROFS) => format!(
            "{} is on a read-only file system: make it writable or save elsewhere with \
             --ckpt-file",
            dir.display()
        ),
        Some(libc::EACCES) | Some(libc::EPERM) => format!(
            "no permission to create files in {}: change its permissions or save elsewhere \
             with --ckpt-file",
            dir.display()
        ),
        Some(libc::ENOENT) | Some(libc::ENOTDIR) if !dir.is_dir() => format!(
            "the directory {} does not exist: create it or save elsewhere with --ckpt-file",
            dir.display()
        ),
        _ => {
            return Error::Io {
                op,
                path: p,
                source,
            }
        }
    };
    let hint = if saving {
        format!("{what} (the previous image, if any, is unchanged)")
    } else {
        what
    };
    Error::Unwritable {
        path: path.to_path_buf(),
        source,
        hint,
    }
}

/// Checks that images can be created next to `path` (its directory exists and is
/// writable: not on a read-only file system, not forbidden by its permissions), so a run
/// that could never save is refused when it starts, before it does any work. Space is not
/// checked: a full disk is reported by the save that does not fit.
pub fn check_writable(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return Err(Error::Usage(format!(
                "{}: an image path cannot hold a NUL byte",
                path.display()
            )));
        };
        // SAFETY: faccessat reads a NUL-terminated path that lives across the call.
        // AT_EACCESS: checked for the effective user, the one that will create the files
        // (root passes permission bits but not a read-only file system).
        let rc = unsafe {
            libc::faccessat(
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::W_OK | libc::X_OK,
                libc::AT_EACCESS,
            )
        };
        if rc != 0 {
            let e = io::Error::last_os_error();
            return Err(refused(
                path,
                Error::io("checking the image directory", dir, e),
                false,
            ));
        }
    }
    Ok(())
}

/// Removes the previous image in the background, with any `.{file}.old.*` left by a
/// process killed before its own removal ran (the image path has one writer at a time, so
/// no such file is in use).
fn release_old(dir: PathBuf, name: String, old: PathBuf, in_thread: bool) {
    let cleanup = move || {
        let _ = fs::remove_file(&old);
        let prefix = format!(".{name}.old.");
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    };
    if !in_thread {
        cleanup();
        return;
    }
    // If no thread can be started, the files stay until the next save removes them.
    let _ = std::thread::Builder::new()
        .name("ckpt-unlink".into())
        .spawn(cleanup);
}

fn write_tmp(tmp: &Path, path: &Path, key: Option<&Key>, body: &Body) -> Result<u64, Error> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(tmp)
        .map_err(|e| Error::io("creating image", tmp, e))?;
    phase!("ckpt.write", path = path.display());
    let io_err = |e: io::Error| Error::io("writing image", tmp, e);

    let crash_at = crash::at_byte();
    let mut file_len = 0;
    let mut prefix = [0u8; 8];
    prefix[..4].copy_from_slice(MAGIC);
    prefix[4..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    append(&mut file, &prefix, &mut file_len, crash_at).map_err(io_err)?;
    let mut mac = key.map(Key::mac);
    if let Some(m) = &mut mac {
        m.update(&prefix);
    }

    let mut w = BodyWriter {
        file: &mut file,
        hasher: Checksum::new(),
        mac,
        len: 0,
        kicked: 0,
        progress: Progress::new(path),
        file_len,
        crash_at,
    };
    let mut chunks = body
        .chunked
        .map(|compress| ChunkWriter::new(path, compress));
    let written = write_body(&mut w, body, chunks.as_mut())
        .and_then(|()| chunks.as_mut().map_or(Ok(()), ChunkWriter::sync));
    if let Err(e) = written {
        if let Some(c) = &mut chunks {
            c.abandon();
        }
        return Err(io_err(e));
    }
    if let Some(c) = &chunks {
        phase!(
            "ckpt.chunks",
            written = c.written,
            reused = c.reused,
            stored = c.stored
        );
    }
    w.progress.done(w.len);
    let (len, hash, mut file_len) = (w.len, w.hasher.digest(), w.file_len);
    let mac = w.mac.take();

    let mut trailer = [0u8; 24];
    trailer[..8].copy_from_slice(&len.to_le_bytes());
    trailer[8..16].copy_from_slice(&hash.to_le_bytes());
    trailer[16..].copy_from_slice(END_MAGIC);
    append(&mut file, &trailer, &mut file_len, crash_at).map_err(io_err)?;
    let mut signed = 0;
    if let Some(mut m) = mac {
        // The end magic is left out: marking the image finished keeps it valid.
        m.update(&trailer[..16]);
        let mut block = [0u8; SIGNATURE_LEN as usize];
        block[..32].copy_from_slice(&m.finalize().into_bytes());
        block[32..].copy_from_slice(SIGNATURE_MAGIC);
        append(&mut file, &block, &mut file_len, crash_at).map_err(io_err)?;
        signed = SIGNATURE_LEN;
    }
    phase!("ckpt.fsync", path = path.display());
    file.sync_all()
        .map_err(|e| Error::io("syncing image", tmp, e))?;
    Ok(8 + len + 24 + signed)
}

/// Writes the body's bytes with each large array in its place: as references to its
/// chunks (see [`chunks`](super::chunks)), or as the typed array's byte string: indefinite-length, its first chunks empty (one byte each) so that the
/// data starts at a multiple of [`ALIGN`] in the file. The kernel then copies whole
/// pages into the page-aligned vector on restore, which is measurably faster than
/// copying across page boundaries (see BENCHMARKS.md). At most `ALIGN - 1` bytes of
/// padding, never below 1 MiB of data.
fn write_body(
    w: &mut BodyWriter<'_>,
    body: &Body,
    mut chunks: Option<&mut ChunkWriter>,
) -> io::Result<()> {
    let mut done = 0;
    let mut refs = Vec::new();
    for b in &body.bulk {
        let at = b.at as usize;
        w.write_all(&body.bytes[done..at])?;
        done = at;
        let data = b.data.bytes();
        if let Some(c) = chunks.as_deref_mut() {
            refs.clear();
            c.array(data, &b.known, &mut refs)?;
            w.write_all(&refs)?;
            continue;
        }
        let n = data.len() as u64;
        let head: u64 = if n > u32::MAX as u64 { 9 } else { 5 };
        let at = super::PREFIX_LEN + w.len + 1 + head;
        let pad = ((ALIGN - at % ALIGN) % ALIGN) as usize;
        let mut open = Vec::with_capacity(1 + pad + 9);
        open.push(0x5f);
        open.resize(1 + pad, 0x40);
        // The data's head, in its long form so its size is the one counted above.
        if head == 9 {
            open.push(0x5b);
            open.extend_from_slice(&n.to_be_bytes());
        } else {
            open.push(0x5a);
            open.extend_from_slice(&(n as u32).to_be_bytes());
        }
        w.write_all(&open)?;
        w.write_all(data)?;
        w.write_all(&[0xff])?;
    }
    w.write_all(&body.bytes[done..])
}

/// The header map. Keys: `format`, `fingerprint` (a map), `created`, `program`, `args`,
/// `ckpt_file` (text or null), `options` (a map text → text), `exe` (the identity of the
/// running executable, text or null when it cannot be identified).
pub(super) fn write_header(e: &mut Encoder<'_>, h: &Header) {
    write_header_as(e, h, crate::state::code::identity());
}

/// [`write_header`] naming `exe` as the executable that writes the image (tests fake one).
pub(crate) fn write_header_as(e: &mut Encoder<'_>, h: &Header, exe: Option<&str>) {
    e.map(8);
    e.text("format");
    e.uint(h.format as u64);
    e.text("fingerprint");
    let f = &h.fingerprint;
    e.map(5);
    for (k, v) in [
        ("crate_name", &f.crate_name),
        ("crate_version", &f.crate_version),
        ("sources", &f.sources),
        ("rustc", &f.rustc),
        ("target", &f.target),
    ] {
        e.text(k);
        e.text(v);
    }
    e.text("created");
    e.uint(h.created_unix);
    e.text("program");
    e.text(&h.program);
    e.text("args");
    e.array(h.args.len() as u64);
    for a in &h.args {
        e.text(a);
    }
    e.text("ckpt_file");
    match &h.ckpt_file {
        Some(f) => e.text(f),
        None => e.null(),
    }
    e.text("options");
    e.map(h.options.len() as u64);
    for (k, v) in &h.options {
        e.text(k);
        e.text(v);
    }
    e.text("exe");
    match exe {
        Some(id) => e.text(id),
        None => e.null(),
    }
}

/// Makes the rename durable.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| Error::io("opening image directory", dir, e))?;
        d.sync_all()
            .map_err(|e| Error::io("syncing image directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Marks the image at `path` as the last one of a run that ended normally: its end magic
/// becomes [`FINISHED_MAGIC`](super::FINISHED_MAGIC), written in place and synced. The
/// body and its checksum are untouched, so the image still reads, inspects and restores;
/// `--ckpt-resume` starts a fresh run instead of restoring it.
pub fn mark_finished(path: &Path) -> Result<(), Error> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |e| Error::io("marking image finished", path, e);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let len = super::signature::unsigned_len(&mut f, path)?;
    if len < super::PREFIX_LEN + super::TRAILER_LEN {
        return Ok(());
    }
    let mut end = [0u8; 8];
    f.seek(SeekFrom::Start(len - 8)).map_err(io)?;
    f.read_exact(&mut end).map_err(io)?;
    if &end != END_MAGIC {
        // Already marked, or not an image ckpt wrote: leave it as it is.
        return Ok(());
    }
    f.seek(SeekFrom::Start(len - 8)).map_err(io)?;
    f.write_all(super::FINISHED_MAGIC).map_err(io)?;
    f.sync_all().map_err(io)
}

/// True when the image at `path` was marked by [`mark_finished`].
pub fn is_finished(path: &Path) -> Result<bool, Error> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |e| Error::io("reading image", path, e);
    let mut f = File::open(path).map_err(io)?;
    let len = super::signature::unsigned_len(&mut f, path)?;
    if len < 8 {
        return Ok(false);
    }
    let mut end = [0u8; 8];
    f.seek(SeekFrom::Start(len - 8)).map_err(io)?;
    f.read_exact(&mut end).map_err(io)?;
    Ok(&end == super::FINISHED_MAGIC)
}
