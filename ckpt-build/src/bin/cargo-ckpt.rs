//! `cargo ckpt`: inspect, diff and verify checkpoint images.
//!
//! A thin shell over [`ckpt_build::inspect()`], [`ckpt_build::diff()`] and
//! [`ckpt_build::verify()`]; install with
//! `cargo install --path ckpt-build`.

use std::path::PathBuf;
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
}

fn run(cmd: Ckpt) -> Result<String, ckpt::Error> {
    match cmd {
        Ckpt::Inspect { file, json, full } => {
            let base = if full {
                InspectOptions::full()
            } else {
                InspectOptions::default()
            };
            let opts = InspectOptions { json, ..base };
            ckpt_build::inspect(&file, &opts)
        }
        Ckpt::Diff { a, b, full } => {
            let opts = if full {
                InspectOptions::full()
            } else {
                InspectOptions::default()
            };
            ckpt_build::diff(&a, &b, &opts)
        }
        Ckpt::Verify { file } => ckpt_build::verify(&file, &Default::default()),
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
