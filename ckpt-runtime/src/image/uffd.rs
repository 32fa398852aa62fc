//! The parts of `userfaultfd(2)` that lazy restore ([`lazy`](super::lazy)) and the
//! tracking of written pages ([`dirty`](super::dirty)) share: opening one with the
//! features wanted, and registering a range.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub(super) const UFFDIO_API: libc::c_ulong = 0xc018_aa3f;
pub(super) const UFFDIO_REGISTER: libc::c_ulong = 0xc020_aa00;
pub(super) const UFFDIO_WAKE: libc::c_ulong = 0x8010_aa02;
pub(super) const UFFDIO_COPY: libc::c_ulong = 0xc028_aa03;
pub(super) const UFFDIO_WRITEPROTECT: libc::c_ulong = 0xc018_aa06;
const UFFD_API: u64 = 0xaa;
pub(super) const PAGE: usize = 4096;

#[repr(C)]
struct UffdioApi {
    api: u64,
    features: u64,
    ioctls: u64,
}

/// `struct uffdio_range`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct UffdioRange {
    pub start: u64,
    pub len: u64,
}

impl UffdioRange {
    pub(super) fn of(start: usize, end: usize) -> UffdioRange {
        UffdioRange {
            start: start as u64,
            len: (end - start) as u64,
        }
    }
}

#[repr(C)]
struct UffdioRegister {
    range: UffdioRange,
    mode: u64,
    ioctls: u64,
}

/// A userfaultfd with `features`, or `None` where it is not allowed (an unprivileged
/// process with `vm.unprivileged_userfaultfd=0`, a kernel without them).
pub(super) fn open(features: u64) -> Option<OwnedFd> {
    // SAFETY: the syscall returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a descriptor we own from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut api = UffdioApi {
        api: UFFD_API,
        features,
        ioctls: 0,
    };
    // SAFETY: the ioctl reads and writes the struct we pass.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), UFFDIO_API, &mut api) };
    (rc == 0).then_some(fd)
}

/// Registers the page-aligned range `[start, end)` with `fd` in `mode`; false if refused.
pub(super) fn register(fd: &OwnedFd, start: usize, end: usize, mode: u64) -> bool {
    let mut reg = UffdioRegister {
        range: UffdioRange::of(start, end),
        mode,
        ioctls: 0,
    };
    // SAFETY: the ioctl reads and writes the struct we pass.
    unsafe { libc::ioctl(fd.as_raw_fd(), UFFDIO_REGISTER, &mut reg) == 0 }
}

/// The page-aligned part of `len` bytes at `base`: `[start, end)` (empty: `end <= start`).
pub(super) fn pages(base: usize, len: usize) -> (usize, usize) {
    (base.next_multiple_of(PAGE), (base + len) / PAGE * PAGE)
}
