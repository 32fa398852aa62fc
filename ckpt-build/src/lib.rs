//! Build-time and inspection tooling of ckpt.
//!
//! - [`instrument()`], called from a package's `build.rs`, analyses every target of the
//!   package (see [`analysis`]) and hands the result to `#[checkpointable]` through the
//!   `CKPT_ANALYSIS` environment variable, and prints the checkpointability [`report()`]
//!   (OS calls in checkpointable code that ckpt cannot virtualize) as cargo warnings;
//!   [`Config::deny`] (or `CKPT_REPORT=deny`) makes them errors.
//! - [`inspect()`], [`diff()`] and [`verify()`] read checkpoint images for the `cargo ckpt` tool
//!   (`cargo install --path ckpt-build`), and are plain library functions for tests.
//!
//! The whole `build.rs` of a checkpointable package is one call, in its `fn main()`:
//!
//! ```no_run
//! ckpt_build::instrument();
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod inspect;
mod instrument;
pub mod report;

pub use analysis::{analyze, Analysis, AnalysisError, CrateAnalysis};
pub use inspect::{diff, inspect, verify, verify_build, InspectOptions};
pub use instrument::{fingerprint_of, host_target, instrument, rustc_version, Config};
pub use report::{find_package, report, Finding, Report, ReportError};
