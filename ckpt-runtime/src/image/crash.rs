//! Testing aids that simulate a crash (SIGKILL) at a precise moment of a save, so a test
//! can check that moment without timing luck (like `CKPT_CRASH_AFTER_SAVES`, which kills
//! right after a save):
//!
//! - `CKPT_CRASH_AT_BYTE=N`: the first save whose temp file reaches N bytes writes exactly
//!   N bytes and kills the process (0: right after creating the temp file; the image's
//!   length: all written, not yet fsynced);
//! - `CKPT_CRASH_AT_STEP=synced|linked|renamed|dir-synced`: the first save kills the
//!   process right after that step (temp file fsynced; previous image hard-linked aside;
//!   new image renamed into place; directory fsynced).
//!
//! Each variable is read once per process; when neither is set a save pays one load of a
//! [`OnceLock`] and a branch per piece written.

use std::sync::OnceLock;

/// The byte variable's name.
pub const ENV_BYTE: &str = "CKPT_CRASH_AT_BYTE";
/// The step variable's name.
pub const ENV_STEP: &str = "CKPT_CRASH_AT_STEP";

/// A step of [`write`](super::write) after the temp file is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// The temp file is fsynced.
    Synced,
    /// The previous image is hard-linked to `.{name}.old.{pid}`.
    Linked,
    /// The temp file is renamed over the image.
    Renamed,
    /// The directory is fsynced.
    DirSynced,
}

impl Step {
    /// The step's name in [`ENV_STEP`].
    const NAMES: [(&'static str, Step); 4] = [
        ("synced", Step::Synced),
        ("linked", Step::Linked),
        ("renamed", Step::Renamed),
        ("dir-synced", Step::DirSynced),
    ];
}

struct Plan {
    byte: Option<u64>,
    step: Option<Step>,
}

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| Plan {
        byte: std::env::var(ENV_BYTE)
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        step: std::env::var(ENV_STEP).ok().and_then(|v| {
            Step::NAMES
                .iter()
                .find(|(n, _)| *n == v.trim())
                .map(|(_, s)| *s)
        }),
    })
}

/// The byte count at which a save kills the process, if the aid is on.
#[inline]
pub(super) fn at_byte() -> Option<u64> {
    plan().byte
}

/// Kills the process if the aid asks for a crash right after `step`.
#[inline]
pub(super) fn after(step: Step) {
    if plan().step == Some(step) {
        kill();
    }
}

/// SIGKILL to this process: nothing runs after it, as after `kill -9` from outside.
pub(super) fn kill() -> ! {
    // SAFETY: plain syscalls on this process.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // Not reached: SIGKILL to oneself is delivered before `kill` returns.
    std::process::abort()
}
