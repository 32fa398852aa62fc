//! `cargo ckpt`: inspect, diff and verify checkpoint images, and print the
//! checkpointability report of a package.
//!
//! A thin shell over [`ckpt_build::inspect()`], [`ckpt_build::diff()`],
//! [`ckpt_build::verify()`] and [`ckpt_build::report()`]; install with
//! `cargo install --path ckpt-build`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ckpt_build::InspectOptions;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo", version, about)]
enum Cargo {
    /// Work with ckpt checkpoint images.
    #[command(subcommand)]
    Ckpt(Ckpt),
}

#[derive(Subcommand)]
enum Ckpt {
    /// Show what an image holds: header, build fingerprint, frames and their
    /// variables, components, section sizes.
    Inspect {
        /// The image file.
        file: PathBuf,
        /// Print one JSON document instead of the human report.
        #[arg(long)]
        json: bool,
        /// Do not abbreviate long strings, arrays and maps.
        #[arg(long)]
        full: bool,
    },
    /// Show what differs between two images: header, fingerprint, frames, variables,
    /// components, sizes.
    Diff {
        /// The older image.
        a: PathBuf,
        /// The newer image.
        b: PathBuf,
        /// Do not abbreviate long strings, arrays and maps.
        #[arg(long)]
        full: bool,
    },
    /// Check an image completely (magic, version, checksum, structure) without restoring.
    Verify {
        /// The image file.
        file: PathBuf,
    },
    /// List the OS calls in checkpointable code that ckpt cannot virtualize (libc, FFI,
    /// processes, threads, raw fds, std::os, memory maps), with file:line and a reason.
    /// Findings are warnings: the exit code is 0 unless the package cannot be read.
    Report {
        /// The package's Cargo.toml (default: the nearest one at or above the current
        /// directory that has a `[package]` section).
        #[arg(long, value_name = "PATH", conflicts_with = "dir")]
        manifest_path: Option<PathBuf>,
        /// Look for the package at or above this directory instead of the current one.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print one JSON document instead of the text report.
        #[arg(long)]
        json: bool,
    },
}

fn run(cmd: Ckpt) -> Result<String, Box<dyn Error>> {
    match cmd {
        Ckpt::Inspect { file, json, full } => {
            let base = if full {
                InspectOptions::full()
            } else {
                InspectOptions::default()
            };
            let opts = InspectOptions { json, ..base };
            Ok(ckpt_build::inspect(&file, &opts)?)
        }
        Ckpt::Diff { a, b, full } => {
            let opts = if full {
                InspectOptions::full()
            } else {
                InspectOptions::default()
            };
            Ok(ckpt_build::diff(&a, &b, &opts)?)
        }
        Ckpt::Verify { file } => Ok(ckpt_build::verify(&file, &Default::default())?),
        Ckpt::Report {
            manifest_path,
            dir,
            json,
        } => {
            let root = match manifest_path {
                Some(m) => {
                    if !m.is_file() {
                        return Err(format!("no such manifest: {}", m.display()).into());
                    }
                    match m.parent() {
                        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                        _ => PathBuf::from("."),
                    }
                }
                None => ckpt_build::find_package(dir.as_deref().unwrap_or(Path::new(".")))?,
            };
            let report = ckpt_build::report(&root)?;
            Ok(if json {
                report.render_json()
            } else {
                report.render_text()
            })
        }
    }
}

fn main() -> ExitCode {
    let Cargo::Ckpt(cmd) = Cargo::parse();
    match run(cmd) {
        Ok(out) => {
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The error names the file and what is wrong with it.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
