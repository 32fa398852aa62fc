//! How much a recovery may have to replay: while recording, once more than
//! `--ckpt-log-bound`'s worth has passed since the last image (default 1 s, or 64 MB of
//! logged events), a checkpoint is requested, taken at the next save point or safepoint.
//! The time runs on the interval trigger's thread (as `--ckpt-every` does); the size is
//! looked at as events are logged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// `CKPT_LOG_BOUND`, which `--ckpt-log-bound` sets.
pub const ENV_BOUND: &str = "CKPT_LOG_BOUND";

/// The most a recovery should replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// Recorded time since the last image (`None`: no limit).
    pub time: Option<Duration>,
    /// Bytes of events since the last image (`None`: no limit).
    pub bytes: Option<u64>,
}

impl Default for Bound {
    fn default() -> Bound {
        Bound {
            time: Some(Duration::from_secs(1)),
            bytes: Some(64 << 20),
        }
    }
}

impl Bound {
    /// Parses `off`, or a duration and/or a size separated by a comma: `1s,64MB`, `500ms`,
    /// `16MB` (sizes in B, KB, MB, GB; durations in ms, s, m, h).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = ckpt::replay::Bound::parse("2s,16MB").unwrap();
    /// assert_eq!(b.time, Some(Duration::from_secs(2)));
    /// assert_eq!(b.bytes, Some(16 << 20));
    /// assert_eq!(ckpt::replay::Bound::parse("off").unwrap().time, None);
    /// assert!(ckpt::replay::Bound::parse("soon").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Bound, String> {
        let mut b = Bound {
            time: None,
            bytes: None,
        };
        if s.trim() == "off" {
            return Ok(b);
        }
        for part in s.split(',').map(str::trim) {
            if let Some(bytes) = size(part) {
                b.bytes = Some(bytes);
            } else if let Some(t) = duration(part) {
                b.time = Some(t);
            } else {
                return Err(format!(
                    "{part:?}: expected `off`, or a duration (500ms, 1s, 5m) and/or a size \
                     (16MB, 1GB), separated by a comma"
                ));
            }
        }
        Ok(b)
    }
}

fn size(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let m = match unit {
        "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(m)
}

fn duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    })
}

static TIME_NS: AtomicU64 = AtomicU64::new(u64::MAX);
static BYTES: AtomicU64 = AtomicU64::new(u64::MAX);
/// The log's bytes at the last image.
static IMAGE_BYTES: AtomicU64 = AtomicU64::new(0);
/// A checkpoint was requested and not taken yet.
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Sets the bound (recording starts).
pub(crate) fn set(b: Bound) {
    TIME_NS.store(
        b.time.map_or(u64::MAX, |t| t.as_nanos() as u64),
        Ordering::SeqCst,
    );
    BYTES.store(b.bytes.unwrap_or(u64::MAX), Ordering::SeqCst);
    reset(0);
}

/// The time bound, for the interval trigger.
pub(crate) fn time() -> Option<Duration> {
    match TIME_NS.load(Ordering::SeqCst) {
        u64::MAX => None,
        ns => Some(Duration::from_nanos(ns)),
    }
}

/// An image was written when the log held `bytes`.
pub(crate) fn reset(bytes: u64) {
    IMAGE_BYTES.store(bytes, Ordering::Relaxed);
    REQUESTED.store(false, Ordering::Relaxed);
}

/// An event was logged; the log holds `bytes` now.
#[inline]
pub(crate) fn pushed(bytes: u64) {
    if REQUESTED.load(Ordering::Relaxed) {
        return;
    }
    let since = bytes.saturating_sub(IMAGE_BYTES.load(Ordering::Relaxed));
    if since > BYTES.load(Ordering::Relaxed) {
        REQUESTED.store(true, Ordering::Relaxed);
        #[cfg(feature = "agent")]
        crate::agent::request_checkpoint();
    }
}
