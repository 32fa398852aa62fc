//! The only place `ckpt::rand` touches the operating system: fresh seed bytes.

use std::io::{self, Read};

/// Fills `buf` with bytes from the kernel's random number generator: the `getrandom`
/// system call where there is one, else (old kernels, seccomp filters) `/dev/urandom`.
#[track_caller]
pub(super) fn os_random(buf: &mut [u8]) -> io::Result<()> {
    if crate::replay::on() {
        return crate::replay::fill(crate::replay::Kind::Random, buf, raw_os_random);
    }
    raw_os_random(buf)
}

pub(crate) fn raw_os_random(buf: &mut [u8]) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if getrandom(buf).is_ok() {
        return Ok(());
    }
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is a valid, writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        filled += n as usize;
    }
    Ok(())
}
