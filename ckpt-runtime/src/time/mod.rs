//! Time for checkpointed programs: a monotonic clock that continues across a restore.
//!
//! [`Instant`] is a drop-in for [`std::time::Instant`] whose readings come from a
//! *virtual* monotonic clock. The clock is the `time` component of the image: every save
//! records its value, and a restore sets it so it continues from there. A program that
//! measures `start.elapsed()` across a kill and a restore therefore sees the time it
//! actually ran, not the hours the process was down, and an `Instant` saved in a frame
//! stays comparable with [`Instant::now`] after the restore (it implements
//! [`State`]).
//!
//! The time between a save and its restore is excluded by default. Set the environment
//! variable `CKPT_TIME=wall` for the restore to include it instead (the clock then jumps
//! forward by the wall-clock time that passed since the save, like a machine that was
//! suspended); `CKPT_TIME=monotonic` is the default. Either way the clock never goes back.
//!
//! Wall time stays real: [`SystemTime`], [`UNIX_EPOCH`] and [`Duration`] are std's, and
//! [`sleep`] is [`std::thread::sleep`] (except in a replay, where it does not wait).
//! Inside checkpointable code, `SystemTime::now()` is [`system_now`]: the same reading,
//! taken through the clock's one choke point, so a recorded run's wall-clock readings are
//! in its input log and replay as recorded.
//!
//! ```no_run
//! use ckpt::time::{Duration, Instant};
//!
//! #[ckpt::checkpointable]
//! fn main() {
//!     let start = Instant::now();
//!     for _ in 0..100u32 {
//!         ckpt::time::sleep(Duration::from_millis(10));
//!         ckpt::save().expect("checkpoint");
//!     }
//!     // About one second, however long the program was down between a kill and
//!     // its `--restore`.
//!     println!("ran for {:?}", start.elapsed());
//! }
//! ```
//!
//! [`Instant::into_std`] converts to a std `Instant` for APIs that need one; the result
//! is a plain reading of the real clock and loses the restore semantics.

mod clock;
mod sys;

#[cfg(test)]
mod tests;

use std::ops::{Add, AddAssign, Sub, SubAssign};

#[cfg_attr(not(feature = "agent"), allow(unused_imports))]
pub(crate) use clock::{restore_component, save_component};
pub use clock::{Policy, ENV_POLICY};
// A superset of `std::time`: inside checkpointable code `std::time` means this module.
pub use std::time::*;

use crate::error::Error;
use crate::state::{Encoder, Loader, State, Value};

/// The wall clock now: [`SystemTime::now`], logged while recording (`--ckpt-record`) and
/// replayed from the log. `#[checkpointable]` code calls it for `SystemTime::now()`.
///
/// ```
/// let t = ckpt::time::system_now();
/// assert!(t > ckpt::time::UNIX_EPOCH);
/// ```
#[track_caller]
pub fn system_now() -> SystemTime {
    sys::wall()
}

/// Puts the current thread to sleep for at least `d` (this is [`std::thread::sleep`]).
/// While a replay feeds the program its recorded clock readings, a sleep has nothing to
/// wait for and returns at once: the replay runs as fast as the program computes.
pub fn sleep(d: Duration) {
    if crate::replay::replaying() {
        return;
    }
    std::thread::sleep(d)
}

/// A reading of the virtual monotonic clock: a drop-in for [`std::time::Instant`] that
/// continues across a restore. See the [module docs](self).
///
/// ```
/// use ckpt::time::{Duration, Instant};
///
/// let a = Instant::now();
/// let b = a + Duration::from_millis(5);
/// assert_eq!(b - a, Duration::from_millis(5));
/// assert!(a.elapsed() < Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The virtual monotonic time now.
    #[must_use]
    #[inline]
    #[track_caller]
    pub fn now() -> Instant {
        Instant(clock::now())
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    #[inline]
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// The time elapsed from `earlier` to `self`, `None` if `earlier` is later.
    #[must_use]
    #[inline]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0)
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    #[inline]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// The time elapsed since `self` (zero if `self` is in the future).
    #[must_use]
    #[inline]
    #[track_caller]
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + d`, `None` on overflow.
    #[inline]
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// `self - d`, `None` if that is before the start of the virtual clock.
    #[inline]
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.0.checked_sub(d).map(Instant)
    }

    /// A std `Instant` at about the same moment, for APIs that need one.
    ///
    /// Best effort: the result is mapped through the real clock of *this* process, so it
    /// does not continue across a restore as `self` does; compare it only with other std
    /// readings taken in the same process.
    #[must_use]
    pub fn into_std(self) -> std::time::Instant {
        clock::to_std(self.0)
    }
}

impl std::fmt::Debug for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Instant").field(&self.0).finish()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Panics on overflow, like std's.
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    /// Panics if the result is before the start of the clock, like std's.
    fn sub(self, d: Duration) -> Instant {
        self.checked_sub(d)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Zero if `other` is later, like std's.
    fn sub(self, other: Instant) -> Duration {
        self.duration_since(other)
    }
}

impl State for Instant {
    /// The virtual time in nanoseconds.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.uint(u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX));
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Uint(ns) => Ok(Instant(Duration::from_nanos(ns))),
            other => Err(Error::ty(
                "",
                "ckpt::time::Instant (nanoseconds)",
                other.kind(),
            )),
        }
    }
}
