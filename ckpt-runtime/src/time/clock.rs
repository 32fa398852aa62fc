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
        match std::env::var(ENV_POLICY) {
            Ok(v) => Policy::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(Policy::Monotonic),
            Err(std::env::VarError::NotUnicode(v)) => Err(Error::Usage(format!(
                "{ENV_POLICY}={v:?}: expected `monotonic` or `wall`"
            ))),
        }
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

static BASE: OnceLock<std::time::Instant> = OnceLock::new();
/// The offset in nanoseconds; `u64::MAX` means "not set yet" ([`ORIGIN`]).
static OFFSET_NS: AtomicU64 = AtomicU64::new(u64::MAX);

fn base() -> std::time::Instant {
    *BASE.get_or_init(sys::monotonic)
}

fn offset() -> Duration {
    match OFFSET_NS.load(Ordering::Acquire) {
        u64::MAX => ORIGIN,
        ns => Duration::from_nanos(ns),
    }
}

/// The real time since the base, and the base.
fn since_base() -> (Duration, std::time::Instant) {
    let b = base();
    (sys::monotonic().saturating_duration_since(b), b)
}

/// The virtual monotonic time now.
pub(crate) fn now() -> Duration {
    offset().saturating_add(since_base().0)
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

/// The `time` component's state: `{"now_ns": uint, "wall_unix_ns": uint}`.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    e.map(2);
    e.text("now_ns");
    e.uint(nanos(now()));
    e.text("wall_unix_ns");
    e.uint(nanos(wall_since_epoch()));
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
    let (since, _) = since_base();
    let current = offset().saturating_add(since);
    let target = restored_now(saved, wall_since_epoch(), policy, current);
    OFFSET_NS.store(nanos(offset_for(target, since)), Ordering::Release);
    Ok(())
}
