//! Build-time and inspection tooling of ckpt.
//!
//! - [`instrument()`], called from a package's `build.rs`, analyses every target of the
//!   package (see [`analysis`]) and hands the result to `#[checkpointable]` through the
//!   `CKPT_ANALYSIS` environment variable, and prints the checkpointability [`report()`]
//!   (OS calls in checkpointable code that ckpt cannot virtualize) as cargo warnings;
//!   [`Config::deny`] (or `CKPT_REPORT=deny`) makes them errors.
//! - [`inspect()`], [`diff()`] and [`verify()`] read checkpoint images for the `cargo ckpt` tool
//!   (`cargo install --path ckpt-build`), and are plain library functions for tests;
//!   [`verify_binary()`] asks a binary whether it can restore an image.
//! - [`check()`] runs a program uninterrupted and again killed and restored, and compares
//!   (`cargo ckpt check`); [`Exit`] is the tool's exit code per kind of outcome.
//!
//! The whole `build.rs` of a checkpointable package is one call, in its `fn main()`:
//!
//! ```no_run
//! ckpt_build::instrument();
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod check;
mod exit;
pub mod inspect;
mod instrument;
mod process;
mod replay;
pub mod report;

pub use analysis::{analyze, Analysis, AnalysisError, CrateAnalysis};
pub use check::{check, CheckError, CheckOptions, CheckReport};
pub use exit::Exit;
pub use inspect::{
    diff, inspect, log, verify, verify_binary, verify_build, verify_with, GfxError, InspectOptions,
    LogOptions, ProbeError, VerifyBinaryError,
};
pub use instrument::{fingerprint_of, host_target, instrument, rustc_version, Config};
pub use replay::{replay, replay_command, ReplayOptions};
pub use report::{find_package, report, Finding, Report, ReportError};
