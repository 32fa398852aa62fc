//! The few system calls the fs and io components make on raw descriptors (their own
//! files' and the process's standard streams), and the ones that keep removed files for a
//! restore and put them back (links, copies, renames that never replace).

use std::io;
use std::mem::ManuallyDrop;
use std::os::unix::io::{FromRawFd, RawFd};
use std::path::Path;

/// Borrows `fd` as a std `File` without taking ownership.
fn borrowed(fd: RawFd) -> ManuallyDrop<std::fs::File> {
    // SAFETY: `fd` is open for as long as the handle that registered it; ManuallyDrop
    // keeps it from being closed here.
    ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) })
}

pub(crate) fn fstat(fd: RawFd) -> io::Result<std::fs::Metadata> {
    borrowed(fd).metadata()
}

/// The descriptor's current offset.
pub(crate) fn offset(fd: RawFd) -> io::Result<u64> {
    // SAFETY: lseek on a descriptor we were handed; no memory is involved.
    let r = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as u64)
    }
}

/// Moves the descriptor's offset to `offset`.
pub(crate) fn seek_to(fd: RawFd, offset: u64) -> io::Result<u64> {
    use std::io::Seek;
    (&*borrowed(fd)).seek(io::SeekFrom::Start(offset))
}

/// Cuts the file behind the descriptor to `len` bytes.
pub(crate) fn truncate(fd: RawFd, len: u64) -> io::Result<()> {
    borrowed(fd).set_len(len)
}

/// A hard link `to` naming the file `from` names (a symbolic link itself, not its target).
pub(crate) fn hard_link(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to)
}

/// A symbolic link `at` pointing to `target`.
pub(crate) fn symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

/// Makes the directory `dir` with mode 0700 unless it exists.
pub(crate) fn make_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        r => r,
    }
}

/// Copies the regular file `from` to `to` (which must not exist) with its permissions and
/// modification time; `sync`: its data is on disk when this returns.
pub(crate) fn copy_file(from: &Path, to: &Path, sync: bool) -> io::Result<()> {
    let mut src = std::fs::File::open(from)?;
    let meta = src.metadata()?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    let r = io::copy(&mut src, &mut dst)
        .and_then(|_| dst.set_permissions(meta.permissions()))
        .and_then(|()| dst.set_modified(meta.modified()?))
        .and_then(|()| if sync { dst.sync_all() } else { Ok(()) });
    if r.is_err() {
        let _ = std::fs::remove_file(to);
    }
    r
}

/// Renames `from` to `to`, failing with `AlreadyExists` rather than replacing a file
/// `to` names (renameat2 `RENAME_NOREPLACE`; a check then a rename where the file system
/// lacks it).
pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
        };
        let (f, t) = (c(from)?, c(to)?);
        // SAFETY: two NUL-terminated paths that outlive the call.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(e);
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists", to.display()),
        ));
    }
    std::fs::rename(from, to)
}
