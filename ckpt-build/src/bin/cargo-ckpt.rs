//! `cargo ckpt`: inspect, diff and verify checkpoint images, check that a program
//! restores equivalently, and print the checkpointability report of a package.
//!
//! A thin shell over [`ckpt_build::inspect()`], [`ckpt_build::diff()`],
//! [`ckpt_build::verify()`], [`ckpt_build::verify_binary()`], [`ckpt_build::check()`],
//! [`ckpt_build::log()`], [`ckpt_build::replay()`] and [`ckpt_build::report()`]; exit
//! codes per [`ckpt_build::Exit`]. Install with
//! `cargo install --path ckpt-build`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::LazyLock;
use std::time::Duration;

use ckpt_build::check::{CheckOptions, Target};
use ckpt_build::{Exit, InspectOptions};
use clap::{Parser, Subcommand};

/// The exit codes, listed after the commands in `--help`.
static EXIT_CODES: LazyLock<String> =
    LazyLock::new(|| format!("Exit codes:\n{}", Exit::help_table()));

#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo", version, about)]
enum Cargo {
    /// Work with ckpt checkpoint images, and check that a program restores equivalently.
    #[command(subcommand, after_help = EXIT_CODES.as_str())]
    Ckpt(Ckpt),
}

#[derive(Subcommand)]
enum Ckpt {
    /// Show what an image holds: header, build fingerprint, frames with the file:line of
    /// their save points and their variables, components, section sizes.
    #[command(after_help = EXIT_CODES.as_str())]
    Inspect {
        /// The image file.
        file: PathBuf,
        /// Print one JSON document instead of the human report.
        #[arg(long)]
        json: bool,
        /// Do not abbreviate long strings, arrays and maps.
        #[arg(long)]
        full: bool,
        /// Show this surface of the graphics engine (ckpt::gfx): size and drawing state
        /// (transform, paints, font, clip, saved states). With --png, the surface to write
        /// (default: the shown one).
        #[arg(long, value_name = "N")]
        surface: Option<u64>,
        /// Write a surface's pixels as a PNG file (the one of --surface, else the shown
        /// one), atomically: a temporary file in the same directory, renamed.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Show what differs between two images: header, fingerprint, frames, variables,
    /// components, sizes.
    #[command(after_help = EXIT_CODES.as_str())]
    Diff {
        /// The older image.
        a: PathBuf,
        /// The newer image.
        b: PathBuf,
        /// Print one JSON document instead of the text report.
        #[arg(long)]
        json: bool,
        /// Do not abbreviate long strings, arrays and maps.
        #[arg(long)]
        full: bool,
    },
    /// Check an image completely (magic, version, checksum, structure) without restoring;
    /// with --binary, also whether that binary can restore it.
    #[command(after_help = EXIT_CODES.as_str())]
    Verify {
        /// The image file.
        file: PathBuf,
        /// A program built with ckpt: exit 0 only if it can restore the image (same build
        /// fingerprint; the same executable if the image holds function pointers). The
        /// binary is asked for its build (CKPT_PROBE=build) and exits before running any
        /// of its own code; a file that is not a ckpt program is not run.
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
    },
    /// Build the program, run it uninterrupted, then killed with SIGKILL at random
    /// moments and restored (restores of restores too), and compare standard output and
    /// the files it leaves in its working directory. Reports the first difference with
    /// the save point the restore resumed from; exit 1 if there is one.
    #[command(after_help = EXIT_CODES.as_str())]
    Check {
        /// Check this binary of the package (`cargo build --bin NAME`).
        #[arg(long, value_name = "NAME", conflicts_with_all = ["example", "exe"])]
        bin: Option<String>,
        /// Check this example of the package (`cargo build --example NAME`).
        #[arg(long, value_name = "NAME", conflicts_with = "exe")]
        example: Option<String>,
        /// Check a binary built already; nothing is built.
        #[arg(long, value_name = "PATH")]
        exe: Option<PathBuf>,
        /// Build with `--release`.
        #[arg(long)]
        release: bool,
        /// The package's Cargo.toml (default: cargo finds it from the current directory).
        #[arg(long, value_name = "PATH")]
        manifest_path: Option<PathBuf>,
        /// Cargo's target directory (`cargo build --target-dir`).
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        /// Kills in all, each followed by a restore.
        #[arg(long, value_name = "N", default_value_t = 5)]
        kills: usize,
        /// Seed of the kill moments (printed in every report): repeats a failing check.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Longest time one run may take, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        timeout: u64,
        /// Copy this directory into every run's working directory first (input files the
        /// program reads by relative path).
        #[arg(long, value_name = "DIR")]
        input: Option<PathBuf>,
        /// Print one JSON document instead of the text report.
        #[arg(long)]
        json: bool,
        /// The program's arguments.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<OsString>,
    },
    /// List the events of an input log written by `--ckpt-record`: number, kind, digest
    /// of the call's arguments, the result in short.
    #[command(after_help = EXIT_CODES.as_str())]
    Log {
        /// The log file.
        file: PathBuf,
        /// Only events of this kind: monotonic, wall, random, stdin, output, open, read or
        /// env.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Only events made at a call site (`file:line:column`) that contains TEXT.
        #[arg(long, value_name = "TEXT")]
        site: Option<String>,
        /// Only events numbered N or more.
        #[arg(long, value_name = "N")]
        from: Option<u64>,
        /// Only events numbered N or less.
        #[arg(long, value_name = "N")]
        to: Option<u64>,
        /// Print one JSON document instead of the text listing.
        #[arg(long)]
        json: bool,
    },
    /// Run the executable that recorded an input log again, fed from the log (its
    /// `--replay`), with a progress bar. Exits as the replayed program does (2 when the
    /// replay diverges from the log).
    #[command(after_help = EXIT_CODES.as_str())]
    Replay {
        /// The log file.
        log: PathBuf,
        /// Replay from this image (written while recording) instead of the run's start.
        #[arg(long, value_name = "IMAGE")]
        from: Option<PathBuf>,
        /// Stop at the first save point after event N and write APP.at-N.ckpt there.
        #[arg(long, value_name = "N")]
        until: Option<u64>,
        /// Where the log ends, go on live instead of stopping.
        #[arg(long)]
        then_live: bool,
        /// The executable to run (default: the one that recorded the log).
        #[arg(long, value_name = "PATH")]
        exe: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// List the OS calls in checkpointable code that ckpt cannot virtualize (libc, FFI,
    /// processes, threads, raw fds, std::os, memory maps), with file:line and a reason.
    /// Findings are warnings: the exit code is 0 unless the package cannot be read.
    #[command(after_help = EXIT_CODES.as_str())]
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

/// A command's output and exit code, or its error (shown as `error: …`) and exit code.
type Outcome = Result<(String, Exit), (String, Exit)>;

fn fail<E: std::fmt::Display>(e: E, exit: Exit) -> (String, Exit) {
    (e.to_string(), exit)
}

fn view(json: bool, full: bool) -> InspectOptions {
    let base = if full {
        InspectOptions::full()
    } else {
        InspectOptions::default()
    };
    InspectOptions {
        json,
        progress: true,
        ..base
    }
}

fn run(cmd: Ckpt) -> Outcome {
    let image = |e: ckpt::Error| {
        let exit = Exit::from(&e);
        fail(e, exit)
    };
    match cmd {
        Ckpt::Inspect {
            file,
            json,
            full,
            surface,
            png,
        } => {
            let gfx = |e: ckpt_build::GfxError| {
                let exit = Exit::from(&e);
                fail(e, exit)
            };
            let opts = view(json, full);
            let out = match (surface, png) {
                (_, Some(out)) => {
                    ckpt_build::inspect::surface_png(&file, surface, &out, &opts).map_err(gfx)?
                }
                (Some(n), None) => {
                    ckpt_build::inspect::surface(&file, Some(n), &opts).map_err(gfx)?
                }
                (None, None) => ckpt_build::inspect(&file, &opts).map_err(image)?,
            };
            Ok((out, Exit::Ok))
        }
        Ckpt::Diff { a, b, json, full } => {
            let out = ckpt_build::diff(&a, &b, &view(json, full)).map_err(image)?;
            Ok((out, Exit::Ok))
        }
        Ckpt::Verify { file, binary } => {
            let opts = view(false, false);
            match binary {
                None => Ok((
                    ckpt_build::verify_with(&file, &opts).map_err(image)?,
                    Exit::Ok,
                )),
                Some(bin) => match ckpt_build::verify_binary(&file, &bin, &opts) {
                    Ok(out) => Ok((out, Exit::Ok)),
                    Err(e) => {
                        let exit = Exit::from(&e);
                        Err(fail(e, exit))
                    }
                },
            }
        }
        Ckpt::Check {
            bin,
            example,
            exe,
            release,
            manifest_path,
            target_dir,
            kills,
            seed,
            timeout,
            input,
            json,
            args,
        } => {
            let target = match (bin, example, exe) {
                (Some(b), _, _) => Target::Bin(b),
                (_, Some(e), _) => Target::Example(e),
                (_, _, Some(p)) => Target::Exe(p),
                _ => Target::Default,
            };
            let opts = CheckOptions {
                manifest_path,
                target,
                release,
                target_dir,
                args,
                kills,
                seed,
                timeout: Duration::from_secs(timeout),
                input,
                progress: true,
            };
            let report = ckpt_build::check(&opts).map_err(|e| {
                let exit = Exit::from(&e);
                fail(e, exit)
            })?;
            let out = if json {
                report.render_json()
            } else {
                report.render_text()
            };
            let exit = if report.equivalent() {
                Exit::Ok
            } else {
                Exit::No
            };
            Ok((out, exit))
        }
        Ckpt::Log {
            file,
            kind,
            site,
            from,
            to,
            json,
        } => {
            let opts = ckpt_build::LogOptions {
                kind,
                site,
                from,
                to,
                json,
            };
            Ok((ckpt_build::log(&file, &opts).map_err(image)?, Exit::Ok))
        }
        Ckpt::Replay {
            log,
            from,
            until,
            then_live,
            exe,
            quiet,
        } => {
            let opts = ckpt_build::ReplayOptions {
                log,
                from,
                until,
                then_live,
                exe,
                progress: !quiet,
            };
            let code = ckpt_build::replay(&opts).map_err(image)?;
            // The program's own output is printed already; its exit code is the answer.
            std::process::exit(code)
        }
        Ckpt::Report {
            manifest_path,
            dir,
            json,
        } => {
            let root = match manifest_path {
                Some(m) => {
                    if !m.is_file() {
                        return Err((format!("no such manifest: {}", m.display()), Exit::Io));
                    }
                    match m.parent() {
                        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                        _ => PathBuf::from("."),
                    }
                }
                None => ckpt_build::find_package(dir.as_deref().unwrap_or(Path::new(".")))
                    .map_err(|e| {
                        let exit = Exit::from(&e);
                        fail(e, exit)
                    })?,
            };
            let report = ckpt_build::report(&root).map_err(|e| {
                let exit = Exit::from(&e);
                fail(e, exit)
            })?;
            Ok((
                if json {
                    report.render_json()
                } else {
                    report.render_text()
                },
                Exit::Ok,
            ))
        }
    }
}

fn main() -> ExitCode {
    let Cargo::Ckpt(cmd) = Cargo::parse();
    match run(cmd) {
        Ok((out, exit)) => {
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            ExitCode::from(exit.code())
        }
        Err((message, exit)) => {
            // The error names the file and what is wrong with it.
            eprintln!("error: {message}");
            ExitCode::from(exit.code())
        }
    }
}
