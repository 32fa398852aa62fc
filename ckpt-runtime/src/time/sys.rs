//! The only place `ckpt::time` touches the operating system: the two clocks.

/// The real monotonic clock.
#[inline]
pub(super) fn monotonic() -> std::time::Instant {
    std::time::Instant::now()
}

/// The real monotonic clock in nanoseconds: `CLOCK_MONOTONIC`, the clock behind
/// [`monotonic`] (std's `Instant`), read without std's `Timespec` arithmetic because the
/// virtual clock's hot path only needs nanoseconds.
#[inline]
#[track_caller]
pub(super) fn monotonic_ns() -> u64 {
    if crate::replay::on() {
        return crate::replay::clock(crate::replay::Kind::Monotonic, raw_monotonic_ns);
    }
    raw_monotonic_ns()
}

#[inline]
fn raw_monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given; CLOCK_MONOTONIC exists
    // on every system std's `Instant` supports here, so it cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The real wall clock.
#[inline]
#[track_caller]
pub(super) fn wall() -> std::time::SystemTime {
    if crate::replay::on() {
        let ns = crate::replay::clock(crate::replay::Kind::Wall, || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
        return std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
    }
    std::time::SystemTime::now()
}
