//! The virtual monotonic clock: `virtual_now = offset + (real_now - base)`, and the `time`
//! component that saves it and sets it back on restore.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::sys;
use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

/// Where the virtual clock of a fresh process starts. Not zero, so that subtracting a
/// moderate `Duration` from an early `Instant` works as it does with std's.
pub(super) const ORIGIN: Duration = Duration::from_secs(86_400);

/// The environment variable that chooses the [`Policy`] of a restore.
pub const ENV_POLICY: &str = "CKPT_TIME";

/// What the virtual monotonic clock does with the time between a save and its restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// The clock continues from the saved value: elapsed times exclude the downtime
    /// (the default; `CKPT_TIME=monotonic`).
    #[default]
    Monotonic,
    /// The wall-clock time between the save and the restore is added: elapsed times
    /// include the downtime (`CKPT_TIME=wall`).
    Wall,
}

impl Policy {
    /// Parses a `CKPT_TIME` value.
    pub fn parse(s: &str) -> Result<Policy> {
        match s.trim() {
            "" | "monotonic" => Ok(Policy::Monotonic),
            "wall" => Ok(Policy::Wall),
            other => Err(Error::Usage(format!(
                "{ENV_POLICY}={other:?}: expected `monotonic` (the default) or `wall`"
            ))),
        }
    }

    /// The policy of this process, from `CKPT_TIME`.
    pub fn from_env() -> Result<Policy> {
        crate::policy::from_env(ENV_POLICY, Policy::parse)
    }
}

/// What the `time` component saves: the virtual time and the wall time of the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Saved {
    /// The virtual monotonic time at the save.
    pub now: Duration,
    /// The wall time at the save, since the Unix epoch.
    pub wall: Duration,
}

/// The virtual clock time after a restore of `saved`: the saved value, plus the wall
/// time elapsed since the save under [`Policy::Wall`], never less than `current` (the
/// virtual time already reached in this process, so the clock never goes back).
pub(crate) fn restored_now(
    saved: Saved,
    wall_now: Duration,
    policy: Policy,
    current: Duration,
) -> Duration {
    let target = match policy {
        Policy::Monotonic => saved.now,
        Policy::Wall => saved
            .now
            .saturating_add(wall_now.saturating_sub(saved.wall)),
    };
    target.max(current)
}

/// The offset that makes `offset + since_base == target`; `since_base` is the real time
/// elapsed since the base.
pub(crate) fn offset_for(target: Duration, since_base: Duration) -> Duration {
    target.saturating_sub(since_base)
}

// The clock keeps two values: the real monotonic reading at the base (the first use),
// and the offset, the virtual time at the base. `now()` is on the hot path (programs
// read the clock in loops; DESIGN §8 allows 1.10× std's `Instant::now`), so it adds one
// cached difference, `offset - base`, to the raw nanoseconds of the real clock: one
// atomic load, one addition, no `Duration` arithmetic beyond building the result.

/// The real monotonic time at the base, in nanoseconds; set once.
static BASE_NS: OnceLock<u64> = OnceLock::new();
/// The offset in nanoseconds; `u64::MAX` means "not set yet" ([`ORIGIN`]).
static OFFSET_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// `offset - base` (wrapping), so that `virtual = real + DELTA_NS`; [`UNSET`] until the
/// first reading (or when the difference happens to be `UNSET`: then the slow path runs
/// every time, still correct).
static DELTA_NS: AtomicU64 = AtomicU64::new(UNSET);
const UNSET: u64 = u64::MAX;

#[track_caller]
fn base_ns() -> u64 {
    if let Some(b) = BASE_NS.get() {
        return *b;
    }
    // Read here, not in a closure, so the reading's call site is the program's.
    let now = sys::monotonic_ns();
    *BASE_NS.get_or_init(|| now)
}

fn offset_ns() -> u64 {
    match OFFSET_NS.load(Ordering::Acquire) {
        u64::MAX => nanos(ORIGIN),
        ns => ns,
    }
}

fn offset() -> Duration {
    Duration::from_nanos(offset_ns())
}

/// The real time since the base.
#[track_caller]
fn since_base() -> Duration {
    let b = base_ns();
    Duration::from_nanos(sys::monotonic_ns().saturating_sub(b))
}

/// The virtual monotonic time now.
#[inline]
#[track_caller]
pub(crate) fn now() -> Duration {
    let delta = DELTA_NS.load(Ordering::Acquire);
    if delta == UNSET {
        return now_slow();
    }
    // The sum is `offset + (real - base)`, which fits: wrapping is exact here.
    Duration::from_nanos(sys::monotonic_ns().wrapping_add(delta))
}

/// The first reading: fixes the base and caches `offset - base`.
#[cold]
#[inline(never)]
#[track_caller]
fn now_slow() -> Duration {
    let b = base_ns();
    let delta = offset_ns().wrapping_sub(b);
    // A restore may have stored a newer value meanwhile: never replace it.
    let _ = DELTA_NS.compare_exchange(UNSET, delta, Ordering::AcqRel, Ordering::Acquire);
    offset().saturating_add(since_base())
}

/// A std `Instant` at about the virtual time `t` (in this process's mapping).
pub(crate) fn to_std(t: Duration) -> std::time::Instant {
    let real_now = sys::monotonic();
    let v_now = now();
    let mapped = if t <= v_now {
        real_now.checked_sub(v_now - t)
    } else {
        real_now.checked_add(t - v_now)
    };
    mapped.unwrap_or(real_now)
}

fn wall_since_epoch() -> Duration {
    sys::wall()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
}

/// The `time` component's state: `{"now_ns": uint, "wall_unix_ns": uint, "delta_ns":
/// uint}`. `delta_ns` maps the real monotonic clock to the virtual one (`virtual = real +
/// delta`, wrapping); a replay from the image restores it as is, so the logged real
/// readings give the recorded virtual times.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    let now = now();
    e.map(3);
    e.text("now_ns");
    e.uint(nanos(now));
    e.text("wall_unix_ns");
    e.uint(nanos(wall_since_epoch()));
    e.text("delta_ns");
    e.uint(DELTA_NS.load(Ordering::Acquire));
    Ok(())
}

/// Reads what [`save_component`] wrote.
pub(crate) fn parse_component(v: &Value) -> Result<Saved> {
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .map(Duration::from_nanos)
            .ok_or_else(|| Error::ty(k, "an unsigned integer (nanoseconds)", "nothing"))
    };
    if !matches!(v, Value::Map(_)) {
        return Err(Error::ty("", "a map {now_ns, wall_unix_ns}", v.kind()));
    }
    Ok(Saved {
        now: field("now_ns")?,
        wall: field("wall_unix_ns")?,
    })
}

/// Sets the clock so it continues from the saved state under `policy`.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn restore_component(v: &Value, policy: Policy) -> Result<()> {
    let saved = parse_component(v)?;
    let b = base_ns();
    if crate::replay::replaying() {
        // A log recorded by a restored run holds the mapping that restore computed; a log
        // that continues past its image uses the image's.
        let recorded = crate::replay::restored_clock(None);
        if let Some(delta) = recorded.or_else(|| v.get("delta_ns").and_then(Value::as_u64)) {
            if delta != UNSET {
                OFFSET_NS.store(b.wrapping_add(delta), Ordering::Release);
                DELTA_NS.store(delta, Ordering::Release);
                return Ok(());
            }
        }
    }
    let since = since_base();
    let current = offset().saturating_add(since);
    let target = restored_now(saved, wall_since_epoch(), policy, current);
    let offset = nanos(offset_for(target, since));
    OFFSET_NS.store(offset, Ordering::Release);
    let delta = offset.wrapping_sub(b);
    DELTA_NS.store(delta, Ordering::Release);
    crate::replay::restored_clock(Some(delta));
    Ok(())
}
