//! The only place `ckpt::time` touches the operating system: the two clocks.

/// The real monotonic clock.
#[inline]
pub(super) fn monotonic() -> std::time::Instant {
    std::time::Instant::now()
}

/// The real wall clock.
#[inline]
pub(super) fn wall() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
