//! `File` and `OpenOptions`: std's, plus a record in the fs table and [`State`].

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::identity::Identity;
use super::table::{self, Mode};
use crate::error::Error;
use crate::state::{Encoder, Loader, State, Value};

/// An open file whose path, mode and offset are saved in a checkpoint: a drop-in for
/// [`std::fs::File`].
///
/// Inside checkpointable code `std::fs::File` means this type. A `File` (or a
/// [`BufReader`](crate::io::BufReader) / [`BufWriter`](crate::io::BufWriter) over one) may
/// be live across a save point: the restore reopens the same file by absolute path,
/// checks it is the same file (device and inode), and seeks back. Reads, writes and seeks
/// go straight to the OS; the only extra work is at open, close and save.
///
/// ```no_run
/// use std::io::{BufRead, Write};
///
/// #[ckpt::checkpointable]
/// fn main() -> std::io::Result<()> {
///     let input = ckpt::io::BufReader::new(ckpt::fs::File::open("in.txt")?);
///     let mut out = ckpt::fs::File::create("out.txt")?;
///     for line in input.lines() {
///         writeln!(out, "{}", line?.len())?;
///         ckpt::save().expect("checkpoint");
///     }
///     Ok(())
/// }
/// ```
pub struct File {
    /// Shared by `try_clone`s, like a duplicated descriptor: one open file, one offset.
    /// Saved by identity, so clones are still one open file after a restore.
    shared: Arc<Handle>,
}

/// One open file in the fs table.
struct Handle {
    file: std::fs::File,
    id: u64,
}

impl Drop for Handle {
    fn drop(&mut self) {
        table::unregister(self.id);
    }
}

impl Handle {
    /// `created`: this open made the file.
    fn new(path: &Path, file: std::fs::File, mode: Mode, created: bool) -> Handle {
        let id = table::register(path, &file, file.as_raw_fd(), mode, created);
        Handle { file, id }
    }
}

impl std::ops::Deref for File {
    type Target = std::fs::File;

    /// std's file, for the methods ckpt does not wrap (`set_modified`, `lock`, ...).
    fn deref(&self) -> &std::fs::File {
        &self.shared.file
    }
}

impl File {
    /// Opens a file read-only, like [`std::fs::File::open`].
    #[track_caller]
    pub fn open<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Creates or truncates a file for writing, like [`std::fs::File::create`].
    #[track_caller]
    pub fn create<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Creates a new file for reading and writing; fails if it exists.
    #[track_caller]
    pub fn create_new<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// A blank [`OpenOptions`].
    #[must_use]
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a std file. Its path is read back from the OS (`/proc/self/fd`), so it can
    /// be saved like a file ckpt opened.
    pub fn from_std(inner: std::fs::File) -> File {
        let fd = inner.as_raw_fd();
        let path = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        let mode = mode_of(&inner);
        File::from_handle(Handle::new(&path, inner, mode, false))
    }

    fn from_handle(h: Handle) -> File {
        File {
            shared: Arc::new(h),
        }
    }

    /// The std file, for APIs that need one. The file leaves ckpt's table: a checkpoint
    /// no longer knows it.
    pub fn into_std(self) -> std::fs::File {
        match Arc::try_unwrap(self.shared) {
            Ok(h) => {
                let h = std::mem::ManuallyDrop::new(h);
                table::unregister(h.id);
                // SAFETY: `h` is never used or dropped again; `file` is moved out once.
                unsafe { std::ptr::read(&h.file) }
            }
            // Still shared with a clone: a new descriptor for the same open file.
            Err(shared) => shared
                .file
                .try_clone()
                .expect("duplicating a file descriptor (out of descriptors?)"),
        }
    }

    /// The std file, borrowed.
    pub fn as_std(&self) -> &std::fs::File {
        &self.shared.file
    }

    /// The path this file was opened with, made absolute.
    pub fn path(&self) -> Option<PathBuf> {
        table::path_of(self.shared.id)
    }

    /// See [`std::fs::File::metadata`].
    pub fn metadata(&self) -> io::Result<std::fs::Metadata> {
        self.shared.file.metadata()
    }

    /// See [`std::fs::File::set_len`].
    pub fn set_len(&self, size: u64) -> io::Result<()> {
        self.shared.file.set_len(size)
    }

    /// See [`std::fs::File::sync_all`].
    pub fn sync_all(&self) -> io::Result<()> {
        self.shared.file.sync_all()
    }

    /// See [`std::fs::File::sync_data`].
    pub fn sync_data(&self) -> io::Result<()> {
        self.shared.file.sync_data()
    }

    /// See [`std::fs::File::set_permissions`].
    pub fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        self.shared.file.set_permissions(perm)
    }

    /// A second handle to the same open file (shared offset). Unlike std's, it shares the
    /// descriptor too (it is closed when the last handle is dropped), which is what lets a
    /// restore give clones one offset again.
    pub fn try_clone(&self) -> io::Result<File> {
        Ok(File {
            shared: Arc::clone(&self.shared),
        })
    }
}

/// How `file`'s descriptor was opened, from the OS.
fn mode_of(file: &std::fs::File) -> Mode {
    // SAFETY: fcntl(F_GETFL) reads flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    let acc = flags & libc::O_ACCMODE;
    Mode {
        read: acc == libc::O_RDONLY || acc == libc::O_RDWR,
        write: acc == libc::O_WRONLY || acc == libc::O_RDWR,
        append: flags >= 0 && flags & libc::O_APPEND != 0,
    }
}

impl From<std::fs::File> for File {
    fn from(f: std::fs::File) -> File {
        File::from_std(f)
    }
}

impl From<File> for std::fs::File {
    fn from(f: File) -> std::fs::File {
        f.into_std()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("fd", &self.shared.file.as_raw_fd())
            .field("path", &self.path())
            .finish()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.shared.file.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.file.as_fd()
    }
}

/// A read from `h` while recording or replaying: logged as the hash of what it read (a
/// reference to the file, not a copy), checked against the log by a replay.
#[track_caller]
fn checked_read<'a>(
    h: &Handle,
    asked: usize,
    r: &io::Result<usize>,
    read: impl FnOnce(usize) -> &'a [u8],
) {
    let observed = match r {
        Ok(n) => crate::replay::hash(read(*n)),
        Err(_) => crate::replay::outcome(r),
    };
    crate::replay::check(
        crate::replay::Kind::FileRead,
        asked as u64,
        observed,
        || {
            let path = table::path_of(h.id).unwrap_or_default();
            format!("reading {}", path.display())
        },
    );
}

macro_rules! forward_io {
    ($t:ty) => {
        impl Read for $t {
            #[inline]
            #[track_caller]
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let r = (&self.shared.file).read(buf);
                if crate::replay::on() {
                    checked_read(&self.shared, buf.len(), &r, |n| &buf[..n]);
                }
                r
            }
            #[inline]
            fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                if crate::replay::on() {
                    // One buffer at a time, each read checked.
                    let buf = bufs.iter_mut().find(|b| !b.is_empty());
                    return match buf {
                        Some(b) => self.read(b),
                        None => Ok(0),
                    };
                }
                (&self.shared.file).read_vectored(bufs)
            }
            #[track_caller]
            fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
                let start = buf.len();
                let r = (&self.shared.file).read_to_end(buf);
                if crate::replay::on() {
                    checked_read(&self.shared, usize::MAX, &r, |_| &buf[start..]);
                }
                r
            }
            #[track_caller]
            fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
                let start = buf.len();
                let r = (&self.shared.file).read_to_string(buf);
                if crate::replay::on() {
                    checked_read(&self.shared, usize::MAX, &r, |_| &buf.as_bytes()[start..]);
                }
                r
            }
        }
        impl Write for $t {
            #[inline]
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                (&self.shared.file).write(buf)
            }
            #[inline]
            fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                (&self.shared.file).write_vectored(bufs)
            }
            #[inline]
            fn flush(&mut self) -> io::Result<()> {
                (&self.shared.file).flush()
            }
        }
        impl Seek for $t {
            #[inline]
            fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
                (&self.shared.file).seek(pos)
            }
        }
    };
}
forward_io!(File);
forward_io!(&File);

/// Options for opening a [`File`]: a drop-in for [`std::fs::OpenOptions`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    inner: std::fs::OpenOptions,
    read: bool,
    write: bool,
    append: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off.
    #[must_use]
    pub fn new() -> OpenOptions {
        OpenOptions {
            inner: std::fs::OpenOptions::new(),
            read: false,
            write: false,
            append: false,
        }
    }

    /// See [`std::fs::OpenOptions::read`].
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.inner.read(read);
        self.read = read;
        self
    }

    /// See [`std::fs::OpenOptions::write`].
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.inner.write(write);
        self.write = write;
        self
    }

    /// See [`std::fs::OpenOptions::append`].
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.inner.append(append);
        self.append = append;
        self
    }

    /// See [`std::fs::OpenOptions::truncate`].
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.inner.truncate(truncate);
        self
    }

    /// See [`std::fs::OpenOptions::create`].
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.inner.create(create);
        self
    }

    /// See [`std::fs::OpenOptions::create_new`].
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.inner.create_new(create_new);
        self
    }

    /// Opens `path` with these options; the file is recorded by its absolute path.
    #[track_caller]
    pub fn open<P: AsRef<Path>>(&self, path: P) -> io::Result<File> {
        let path = path.as_ref();
        let existed = std::fs::symlink_metadata(path).is_ok();
        let opened = self.inner.open(path);
        if crate::replay::on() {
            checked_open(path, self.flags(), &opened);
        }
        let inner = opened?;
        let mode = Mode {
            read: self.read,
            write: self.write,
            append: self.append,
        };
        let created = !existed;
        Ok(File::from_handle(Handle::new(
            &absolute(path),
            inner,
            mode,
            created,
        )))
    }
}

impl OpenOptions {
    /// The options as one number (for the log's digest of an open).
    fn flags(&self) -> u64 {
        u64::from(self.read) | u64::from(self.write) << 1 | u64::from(self.append) << 2
    }
}

/// An open while recording or replaying: its outcome is logged, and checked by a replay.
#[track_caller]
pub(crate) fn checked_open<T>(path: &Path, flags: u64, r: &io::Result<T>) {
    use std::os::unix::ffi::OsStrExt;
    let digest = crate::replay::hash(path.as_os_str().as_bytes()) ^ flags;
    crate::replay::check(
        crate::replay::Kind::Open,
        digest,
        crate::replay::outcome(r),
        || format!("opening {}", path.display()),
    );
}

/// `mode` and `custom_flags`, as on std's options (import the trait, as with std).
impl std::os::unix::fs::OpenOptionsExt for OpenOptions {
    fn mode(&mut self, mode: u32) -> &mut Self {
        self.inner.mode(mode);
        self
    }

    fn custom_flags(&mut self, flags: i32) -> &mut Self {
        self.inner.custom_flags(flags);
        self
    }
}

/// Positioned reads and writes, as on std's file (they leave the offset alone).
impl std::os::unix::fs::FileExt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.shared.file.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.shared.file.write_at(buf, offset)
    }
}

/// A file as a child process's standard input or output.
impl From<File> for std::process::Stdio {
    fn from(f: File) -> std::process::Stdio {
        std::process::Stdio::from(f.into_std())
    }
}

/// `CKPT_FILES=accept-changed` in the environment (a file loaded outside a restore).
fn accepted_by_env() -> bool {
    super::Policy::from_env().is_ok_and(|p| p == super::Policy::AcceptChanged)
}

/// `path` made absolute against the current directory (not canonicalised: a symlink in
/// the path is followed again on restore, as it was at open). Image paths too.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The shared handle, saved by identity: clones come back as one open file.
impl State for File {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        self.shared.save(e)
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(File {
            shared: Arc::load(v, l)?,
        })
    }
}

/// `{"path", "mode", "offset", "dev", "ino", "born_ns"}`.
impl State for Handle {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if e.is_digest() {
            // Where the file is (path, inode) differs between equal runs in other trees.
            let offset = (&self.file).stream_position().unwrap_or(0);
            e.map(2);
            e.text("mode");
            e.text(mode_of(&self.file).code());
            e.text("offset");
            e.uint(offset);
            return Ok(());
        }
        let path = table::path_of(self.id).unwrap_or_default();
        if path.as_os_str().is_empty() {
            return Err(Error::Unsaveable {
                at: String::new(),
                detail: "a file whose path the OS does not report (a pipe or socket?) cannot \
                         be reopened on restore; keep it outside checkpointable code"
                    .into(),
            });
        }
        let meta = self
            .file
            .metadata()
            .map_err(|e| Error::io("reading metadata of", &path, e))?;
        let ft = meta.file_type();
        if ft.is_fifo() || ft.is_socket() {
            return Err(Error::Unsaveable {
                at: String::new(),
                detail: format!(
                    "{} is a pipe or socket: ckpt cannot reopen it on restore; keep it outside \
                     checkpointable code",
                    path.display()
                ),
            });
        }
        let offset = (&self.file)
            .stream_position()
            .map_err(|e| Error::io("reading the offset of", &path, e))?;
        let id = Identity::of(&meta);
        e.map(6);
        e.text("path");
        e.text(&path.to_string_lossy());
        e.text("mode");
        e.text(mode_of(&self.file).code());
        e.text("offset");
        e.uint(offset);
        id.save(e);
        Ok(())
    }

    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::ty(k, "text", "something else"))
        };
        let uint = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| Error::ty(k, "an unsigned integer", "something else"))
        };
        let path = PathBuf::from(text("path")?);
        let mode = Mode::parse(text("mode")?)
            .ok_or_else(|| Error::ty("mode", "r, w, rw, a or ra", "something else"))?;
        let offset = uint("offset")?;
        let saved = Identity::load(&v)?;
        let restore_err = |detail: String| Error::Restore {
            path: path.clone(),
            detail,
        };
        let inner = std::fs::OpenOptions::new()
            .read(mode.read)
            .write(mode.write)
            .append(mode.append)
            .open(&path)
            .map_err(|e| {
                restore_err(format!(
                    "the program had it open at the checkpoint, and it cannot be opened now \
                     ({e}); put the file back to restore"
                ))
            })?;
        let now = inner
            .metadata()
            .map_err(|e| Error::io("reading metadata of", &path, e))?;
        // A file a restore put back as a copy (it was removed after the save, on another
        // file system than the image) is the saved one under a new identity.
        let same =
            Identity::of(&now) == saved || super::undo::remapped(saved) == Some(Identity::of(&now));
        if !same && (mode.writes() || !(table::accepts_changed() || accepted_by_env())) {
            return Err(restore_err(format!(
                "the path now names a different file than the one open at the checkpoint \
                 (device, inode or creation time changed: replaced or recreated){}",
                if mode.writes() {
                    "; restore refuses to write into it"
                } else {
                    "; set CKPT_FILES=accept-changed to read it as it is now"
                }
            )));
        }
        (&inner)
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seeking", &path, e))?;
        Ok(Handle::new(&path, inner, mode, false))
    }
}

/// The file the resume path passes for a by-value `File` parameter the function no
/// longer uses (its value went into something saved, like a reader's lines): an
/// anonymous empty file, not in the fs table, never read, closed when dropped.
#[cfg(feature = "agent")]
impl crate::__private::Placeholder for File {
    fn placeholder() -> File {
        // SAFETY: memfd_create takes a NUL-terminated name and returns a new descriptor
        // or -1; a descriptor it returns is ours alone.
        let fd = unsafe { libc::memfd_create(c"ckpt-placeholder".as_ptr(), libc::MFD_CLOEXEC) };
        let file = if fd >= 0 {
            use std::os::unix::io::FromRawFd;
            // SAFETY: `fd` is a new descriptor owned by nothing else.
            unsafe { std::fs::File::from_raw_fd(fd) }
        } else {
            match std::fs::File::open("/dev/null") {
                Ok(f) => f,
                Err(e) => {
                    eprintln!(
                        "ckpt: cannot resume: no descriptor for a parameter's placeholder ({e})"
                    );
                    std::process::exit(70)
                }
            }
        };
        File {
            shared: Arc::new(Handle { file, id: u64::MAX }),
        }
    }
}
