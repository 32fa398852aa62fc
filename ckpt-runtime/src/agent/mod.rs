//! The agent: the frame stack of checkpointable functions, save points and resume.
//!
//! Every `#[checkpointable]` function opens a [`Frame`](private::Frame) on a per-thread
//! stack. At a call of another checkpointable function the caller registers a *capture*
//! (a closure that writes its live locals) for the duration of the call; at a save point
//! the innermost frame writes its own live set and asks every outer frame's capture to
//! write theirs, outermost first. On restore the image's frames are claimed one by one as
//! the program re-enters the same calls, and each frame takes its locals back by name.
//!
//! See DESIGN.md §4 and RESUME.md for the transform that emits the calls into this module.

mod args;
mod background;
mod components;
mod dyns;
mod globals;
mod iters;
mod lifecycle;
mod options;
mod parts;
pub mod private;
mod stack;
pub(crate) mod triggers;

pub use private::{restored, safepoint, save, save_to, wait_durable};
pub use triggers::{request_checkpoint, request_exit};

/// Whether a checkpoint was requested and not yet written (for the network's wait points).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn checkpoint_pending() -> bool {
    triggers::pending()
}

/// Whether a save is being written in the background (see `background`).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn save_in_flight() -> bool {
    background::busy()
}

/// Waits until the save being written in the background (if any) is durable or failed,
/// and its bookkeeping done; its outcome stays for the next `wait_durable` or save.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn wait_written() {
    background::wait_written()
}
