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
    if getrandom_all(buf, 0).is_ok() {
        return Ok(());
    }
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
/// Fills `buf` with the `getrandom` system call (`flags` as the call takes them), reading
/// on after a short read or a signal.
fn getrandom_all(buf: &mut [u8], flags: libc::c_uint) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // The system call itself: `getrandom` the symbol is ckpt's own (below).
        // SAFETY: `rest` is a valid, writable buffer of `rest.len()` bytes.
        let n = unsafe { raw_getrandom(rest.as_mut_ptr().cast(), rest.len(), flags) };
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

/// The `getrandom` system call.
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes.
#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn raw_getrandom(buf: *mut libc::c_void, len: libc::size_t, flags: libc::c_uint) -> isize {
    // SAFETY: as the caller promised; the kernel writes at most `len` bytes.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, len, flags) as isize }
}

/// Whether this process will record or replay (the environment the staged re-exec sets)
/// and has not started to yet.
#[cfg(all(feature = "agent", any(target_os = "linux", target_os = "android")))]
fn before_the_log() -> bool {
    static WILL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    !crate::replay::on()
        && !crate::replay::started()
        && (crate::replay::announced()
            || *WILL.get_or_init(|| {
                std::env::var_os("CKPT_RECORD").is_some()
                    || std::env::var_os("CKPT_REPLAY_LOG").is_some()
            }))
}

/// `getrandom(2)` for the whole process, std's own calls included: std draws the keys of
/// its `HashMap`s (`RandomState`) from it, so a map's iteration order is an input like
/// any other. While recording, what it returns is logged; while replaying, the logged
/// bytes come back, and a replayed run iterates its maps in the recorded order. Before
/// the log starts in a process that will record or replay, it returns a fixed stream
/// (the same in both), so maps made then (ckpt's own, before `main`) get the same keys
/// too. Otherwise it is the system call.
///
/// std finds it by name at run time (its weak-symbol lookup, the way `LD_PRELOAD`
/// interposes it); `ckpt_build::instrument()` exports it from the program for that.
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes, as for the system call.
#[cfg(all(feature = "agent", any(target_os = "linux", target_os = "android")))]
#[no_mangle]
pub unsafe extern "C" fn getrandom(
    buf: *mut libc::c_void,
    len: libc::size_t,
    flags: libc::c_uint,
) -> libc::ssize_t {
    if buf.is_null() || len == 0 {
        // SAFETY: the kernel checks what it is given.
        return unsafe { raw_getrandom(buf, len, flags) };
    }
    // SAFETY: the caller promised `len` writable bytes at `buf`.
    let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    if crate::replay::is_internal() && (crate::replay::on() || before_the_log()) {
        // ckpt's own work while recording or replaying (a restore making std maps again):
        // not the program's input, and the same in the recording and the replaying run.
        fixed_stream(out);
        return len as libc::ssize_t;
    }
    if crate::replay::on() {
        return match crate::replay::fill(crate::replay::Kind::Random, out, |b| {
            getrandom_all(b, flags)
        }) {
            Ok(()) => len as libc::ssize_t,
            Err(e) => {
                // SAFETY: errno is this thread's.
                unsafe { *libc::__errno_location() = e.raw_os_error().unwrap_or(libc::EIO) };
                -1
            }
        };
    }
    if before_the_log() {
        fixed_stream(out);
        return len as libc::ssize_t;
    }
    // SAFETY: as the caller promised.
    unsafe { raw_getrandom(buf, len, flags) }
}

/// A fixed stream of bytes (SplitMix64 over a counter): the same in every process.
#[cfg(all(feature = "agent", any(target_os = "linux", target_os = "android")))]
fn fixed_stream(out: &mut [u8]) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for chunk in out.chunks_mut(8) {
        let mut z = NEXT
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(1)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}
