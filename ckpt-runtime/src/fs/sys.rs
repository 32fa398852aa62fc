//! The few system calls the fs and io components make on raw descriptors (their own
//! files' and the process's standard streams).

use std::io;
use std::mem::ManuallyDrop;
use std::os::unix::io::{FromRawFd, RawFd};

/// Borrows `fd` as a std `File` without taking ownership.
fn borrowed(fd: RawFd) -> ManuallyDrop<std::fs::File> {
    // SAFETY: `fd` is open for as long as the handle that registered it; ManuallyDrop
    // keeps it from being closed here.
    ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) })
}

pub(crate) fn fdatasync(fd: RawFd) -> io::Result<()> {
    borrowed(fd).sync_data()
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
