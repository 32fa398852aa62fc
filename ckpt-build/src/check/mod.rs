//! `cargo ckpt check -- ARGS`: does the user's program, killed with SIGKILL and
//! restored, end exactly as it does uninterrupted? (The test shape of ckpt's own suite,
//! DESIGN §9, offered for any program.)
//!
//! 1. Builds the binary with `cargo build` (`--bin`, `--example`, `--release`), or takes
//!    the one given ([`Target::Exe`]).
//! 2. Runs it uninterrupted with `ARGS` in an empty working directory (or a copy of
//!    [`CheckOptions::input`]): what it prints to standard output and the files it leaves
//!    in that directory are the expected result.
//! 3. In trials, runs it again from the start in a fresh directory at the same path and
//!    kills it with SIGKILL, then restores it with `--restore`, killing the restore too
//!    (restores of restores), until the trial's kills have landed; the last restore runs
//!    to its end. A kill lands either right after the N-th image is complete
//!    (`CKPT_CRASH_AFTER_SAVES`, exact) or at a random moment of the uninterrupted run's
//!    duration (a real timed SIGKILL, possibly in the middle of a save). Only kills after
//!    which an image exists count; [`CheckOptions::kills`] of them in all.
//! 4. After each trial, compares standard output and the files with the expected ones;
//!    the first difference is reported with the save point the restore that wrote it
//!    resumed from (file:line, from the image's frame record).
//!
//! Standard output goes to a regular file, so a restore cuts it back to what the image
//! covers (DESIGN §6b) and the whole output of a trial compares byte for byte. Images go
//! to a directory of their own (`CKPT_FILE`), so the working directory holds only the
//! program's files. The kill moments come from a seed printed in the report: `--seed`
//! repeats them (the crash-after-N-saves kills exactly; timed kills at the same delays).

mod build;
mod outputs;
mod render;

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use outputs::Outputs;

use crate::process::{Ended, Running, Scratch, AGENT_VARS};

/// Which binary `check` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The package's only binary (`cargo build`).
    Default,
    /// `cargo build --bin NAME`.
    Bin(String),
    /// `cargo build --example NAME`.
    Example(String),
    /// A binary built already; nothing is built.
    Exe(PathBuf),
}

/// What `check` does.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The package's `Cargo.toml` (`cargo build --manifest-path`); `None`: cargo finds it
    /// from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// The binary.
    pub target: Target,
    /// `cargo build --release`.
    pub release: bool,
    /// `cargo build --target-dir DIR`.
    pub target_dir: Option<PathBuf>,
    /// The program's arguments.
    pub args: Vec<OsString>,
    /// Kills (each followed by a restore) in all trials.
    pub kills: usize,
    /// Seed of the kill moments; `None`: from the clock (the report says which).
    pub seed: Option<u64>,
    /// Longest time one run may take; a run still going after it is killed and reported.
    pub timeout: Duration,
    /// A directory copied into every run's working directory before it starts (input
    /// files the program reads by relative path).
    pub input: Option<PathBuf>,
    /// Print what happens on standard error as it happens (and cargo's output).
    pub progress: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            manifest_path: None,
            target: Target::Default,
            release: false,
            target_dir: None,
            args: Vec::new(),
            kills: 5,
            seed: None,
            timeout: Duration::from_secs(300),
            input: None,
            progress: false,
        }
    }
}

/// Why `check` could not tell whether the program restores equivalently.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// A file or directory of the check could not be used.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `cargo build` failed.
    #[error("building the program: {detail}")]
    Build {
        /// cargo's status and the end of its output.
        detail: String,
    },
    /// Which binary to check is not clear.
    #[error("{detail}")]
    NoBinary {
        /// What was built, and how to choose.
        detail: String,
    },
    /// The uninterrupted run failed: there is nothing to compare with.
    #[error(
        "the uninterrupted run of {binary} failed ({status}); fix the program or its \
         arguments first. Its standard error ends with:\n{stderr}"
    )]
    ReferenceFailed {
        /// The binary.
        binary: PathBuf,
        /// How it ended.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
    /// The uninterrupted run did not end in time.
    #[error(
        "the uninterrupted run of {binary} did not finish within {secs} s (killed); \
         raise --timeout or give it arguments that make it shorter"
    )]
    ReferenceTimeout {
        /// The binary.
        binary: PathBuf,
        /// The limit.
        secs: u64,
    },
    /// The program wrote no image, so there is nothing to restore.
    #[error(
        "the uninterrupted run of {binary} wrote no image to {image}: it never reached \
         ckpt::save() (or saves only with ckpt::save_to, which check does not follow); \
         give it arguments that make it save"
    )]
    NoImage {
        /// The binary.
        binary: PathBuf,
        /// Where the image was expected (`CKPT_FILE`).
        image: PathBuf,
    },
    /// No kill landed after an image existed.
    #[error(
        "no kill landed after a save in {attempts} runs of {binary}; its saves may all come \
         at its very end"
    )]
    NoKill {
        /// The binary.
        binary: PathBuf,
        /// Runs tried.
        attempts: usize,
    },
    /// The options are inconsistent.
    #[error("{0}")]
    Usage(String),
}

impl From<&CheckError> for crate::Exit {
    fn from(e: &CheckError) -> crate::Exit {
        use crate::Exit;
        match e {
            CheckError::Io { .. } => Exit::Io,
            CheckError::Build { .. } | CheckError::NoBinary { .. } => Exit::Build,
            CheckError::Usage(_) => Exit::Usage,
            _ => Exit::ProgramFailed,
        }
    }
}

/// Where a restore continued: the innermost frame of its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    /// The innermost checkpointable function.
    pub function: String,
    /// Its save point.
    pub at: u32,
    /// `file:line` of the save point, when the image records it.
    pub site: Option<String>,
    /// Frames in the image (the depth of the call stack).
    pub frames: usize,
}

impl std::fmt::Display for ResumePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.site {
            Some(site) => write!(f, "`{}` at {site} (save point {})", self.function, self.at),
            None => write!(f, "`{}` at save point {}", self.function, self.at),
        }
    }
}

/// How a run was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillHow {
    /// It killed itself with SIGKILL right after its N-th complete image.
    AfterSaves(u64),
    /// SIGKILL this many milliseconds after it started.
    AfterMillis(u64),
}

impl std::fmt::Display for KillHow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KillHow::AfterSaves(n) => write!(f, "killed right after save {n}"),
            KillHow::AfterMillis(ms) => write!(f, "killed {ms} ms after its start"),
        }
    }
}

/// A kill that landed (an image existed after it), and where the restore after it resumed.
#[derive(Debug, Clone)]
pub struct Kill {
    /// The trial (1-based).
    pub trial: usize,
    /// Whether the killed run was itself a restore.
    pub of_restore: bool,
    /// How.
    pub how: KillHow,
    /// Where the next restore continued.
    pub resumes_from: ResumePoint,
}

/// The first difference between a killed-and-restored run and the uninterrupted one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// Standard output differs from `line` (1-based; byte `offset`).
    Stdout {
        /// First differing byte.
        offset: u64,
        /// First differing line.
        line: usize,
        /// That line uninterrupted (`None`: the output ended before).
        expected: Option<String>,
        /// That line after the restores.
        found: Option<String>,
    },
    /// A file differs.
    File {
        /// Relative to the working directory.
        path: PathBuf,
        /// First differing byte.
        offset: u64,
        /// First differing line.
        line: usize,
        /// That line uninterrupted.
        expected: Option<String>,
        /// That line after the restores.
        found: Option<String>,
    },
    /// A file of the uninterrupted run is missing.
    FileMissing {
        /// Relative to the working directory.
        path: PathBuf,
    },
    /// A file the uninterrupted run did not leave.
    FileExtra {
        /// Relative to the working directory.
        path: PathBuf,
    },
    /// A run failed, or did not finish in time, where the uninterrupted one succeeded.
    Failed {
        /// How it ended.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
}

/// A difference, with where it came from.
#[derive(Debug, Clone)]
pub struct Difference {
    /// The trial (1-based).
    pub trial: usize,
    /// What differs.
    pub mismatch: Mismatch,
    /// The save point the restore that produced the difference resumed from (for
    /// standard output, the run that wrote the first differing byte; otherwise the last
    /// restore of the trial); `None` if the difference is in output the first,
    /// uninterrupted part of the trial wrote (the program is not deterministic).
    pub resumed_from: Option<ResumePoint>,
    /// Every restore of the trial, in order.
    pub restores: Vec<ResumePoint>,
}

/// The result of [`check`].
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The binary checked.
    pub binary: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The seed of the kill moments.
    pub seed: u64,
    /// How long the uninterrupted run took.
    pub reference_ms: u64,
    /// Bytes it printed to standard output.
    pub reference_stdout: u64,
    /// Files it left in its working directory.
    pub reference_files: usize,
    /// Trials run.
    pub trials: usize,
    /// Every kill that landed, in order.
    pub kills: Vec<Kill>,
    /// The first difference found; `None`: the program restored equivalently every time.
    pub difference: Option<Difference>,
}

impl CheckReport {
    /// No difference was found.
    pub fn equivalent(&self) -> bool {
        self.difference.is_none()
    }
}

/// A small generator of kill moments (xorshift64*), from a printed seed.
struct Moments(u64);

impl Moments {
    fn new(seed: u64) -> Moments {
        Moments(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi.saturating_sub(lo) + 1)
    }
}

/// How often a check asks a program that saves only at safepoints for a checkpoint.
const EVERY: &str = "20ms";

/// The files of one check, under a scratch directory.
struct Layout {
    work: PathBuf,
    images: PathBuf,
    image: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
    /// `CKPT_EVERY` for every run: set for a program that saves only at safepoints.
    every: Option<&'static str>,
}

/// How a run ended.
enum RunEnd {
    Exited(std::process::ExitStatus),
    Killed,
    TimedOut,
}

impl Layout {
    /// The uninterrupted run: it must succeed. Returns how long it took in ms.
    fn reference(&self, binary: &Path, opts: &CheckOptions) -> Result<u64, CheckError> {
        self.reset(opts.input.as_deref())?;
        let t0 = Instant::now();
        match self.run(binary, &opts.args, false, None, opts.timeout)? {
            RunEnd::Exited(s) if s.success() => {}
            RunEnd::Exited(s) => {
                return Err(CheckError::ReferenceFailed {
                    binary: binary.to_path_buf(),
                    status: s.to_string(),
                    stderr: self.stderr_tail(),
                })
            }
            RunEnd::Killed => {
                return Err(CheckError::ReferenceFailed {
                    binary: binary.to_path_buf(),
                    status: "killed by SIGKILL".into(),
                    stderr: self.stderr_tail(),
                })
            }
            RunEnd::TimedOut => {
                return Err(CheckError::ReferenceTimeout {
                    binary: binary.to_path_buf(),
                    secs: opts.timeout.as_secs(),
                })
            }
        }
        Ok(t0.elapsed().as_millis() as u64)
    }

    fn new(root: &Path, binary: &Path) -> Layout {
        let stem = binary
            .file_stem()
            .map_or_else(|| "program".into(), |s| s.to_string_lossy().into_owned());
        let images = root.join("images");
        Layout {
            work: root.join("work"),
            image: images.join(format!("{stem}.ckpt")),
            images,
            stdout: root.join("stdout"),
            stderr: root.join("stderr"),
            every: None,
        }
    }

    /// A fresh start: an empty (or input-filled) working directory, no image, no output.
    fn reset(&self, input: Option<&Path>) -> Result<(), CheckError> {
        for d in [&self.work, &self.images] {
            if d.exists() {
                std::fs::remove_dir_all(d).map_err(io("clearing", d))?;
            }
            std::fs::create_dir_all(d).map_err(io("creating", d))?;
        }
        if let Some(src) = input {
            copy_dir(src, &self.work, 0)?;
        }
        File::create(&self.stdout).map_err(io("creating", &self.stdout))?;
        Ok(())
    }

    /// Runs `binary` (fresh with `args`, or restoring the image), killed as `kill` says.
    fn run(
        &self,
        binary: &Path,
        args: &[OsString],
        restore: bool,
        kill: Option<KillHow>,
        timeout: Duration,
    ) -> Result<RunEnd, CheckError> {
        let mut cmd = Command::new(binary);
        if restore {
            cmd.arg("--restore").arg(&self.image);
        } else {
            cmd.args(args);
        }
        for v in AGENT_VARS {
            cmd.env_remove(v);
        }
        cmd.env("CKPT_FILE", &self.image);
        if let Some(every) = self.every {
            cmd.env("CKPT_EVERY", every);
        }
        if let Some(KillHow::AfterSaves(n)) = kill {
            cmd.env("CKPT_CRASH_AFTER_SAVES", n.to_string());
        }
        // Appended to by restores: a restore cuts it back to what its image covers.
        let out = OpenOptions::new()
            .append(true)
            .open(&self.stdout)
            .map_err(io("opening", &self.stdout))?;
        let err = File::create(&self.stderr).map_err(io("creating", &self.stderr))?;
        cmd.current_dir(&self.work)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut child = Running::spawn(&mut cmd).map_err(io("running", binary))?;
        let wait = match kill {
            Some(KillHow::AfterMillis(ms)) => Duration::from_millis(ms).min(timeout),
            _ => timeout,
        };
        match child.wait_for(wait).map_err(io("waiting for", binary))? {
            Ended::Exited(s) if s.signal() == Some(libc_sigkill()) => Ok(RunEnd::Killed),
            Ended::Exited(s) => Ok(RunEnd::Exited(s)),
            Ended::Running => {
                child.kill().map_err(io("killing", binary))?;
                Ok(match kill {
                    Some(KillHow::AfterMillis(ms)) if Duration::from_millis(ms) < timeout => {
                        RunEnd::Killed
                    }
                    _ => RunEnd::TimedOut,
                })
            }
        }
    }

    /// The end of the last run's standard error.
    fn stderr_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Where a restore of the current image continues, and how much standard output the
    /// image covers (a restore cuts the output file back to that).
    fn resume_point(&self) -> Result<(ResumePoint, u64), CheckError> {
        let img =
            ckpt::image::read(&self.image, &Default::default()).map_err(|e| CheckError::Io {
                op: "reading the image of",
                path: self.image.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let covered = img
            .component("io")
            .and_then(|io| io.get("stdout"))
            .and_then(|s| s.get("len"))
            .and_then(|n| match n {
                ckpt::state::Value::Uint(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(0);
        let point = match img.frames.last() {
            Some(f) => ResumePoint {
                function: f.function.clone(),
                at: f.at,
                site: f.site.clone(),
                frames: img.frames.len(),
            },
            None => ResumePoint {
                function: "(no frame)".into(),
                at: 0,
                site: None,
                frames: 0,
            },
        };
        Ok((point, covered))
    }
}

/// SIGKILL's number (9 on every Unix ckpt runs on).
fn libc_sigkill() -> i32 {
    9
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CheckError {
    let path = path.to_path_buf();
    move |source| CheckError::Io { op, path, source }
}

/// Copies the files of `src` into `dst` (directories recursively, 64 levels at most).
fn copy_dir(src: &Path, dst: &Path, depth: usize) -> Result<(), CheckError> {
    if depth > 64 {
        return Ok(());
    }
    for e in std::fs::read_dir(src).map_err(io("reading directory", src))? {
        let e = e.map_err(io("reading directory", src))?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let ty = e.file_type().map_err(io("reading", &from))?;
        if ty.is_dir() {
            std::fs::create_dir_all(&to).map_err(io("creating", &to))?;
            copy_dir(&from, &to, depth + 1)?;
        } else if ty.is_file() {
            std::fs::copy(&from, &to).map_err(io("copying", &from))?;
        }
    }
    Ok(())
}

fn note(on: bool, msg: impl FnOnce() -> String) {
    if on {
        eprintln!("cargo ckpt check: {}", msg());
    }
}

/// Builds the program (unless given), runs it uninterrupted, then killed and restored
/// `opts.kills` times, and compares (see the module's description). A difference is
/// not an error: it is in the report ([`CheckReport::equivalent`] is false).
pub fn check(opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    if opts.kills == 0 {
        return Err(CheckError::Usage(
            "--kills must be at least 1: check compares restored runs".into(),
        ));
    }
    let scratch = Scratch::new("check").map_err(io("creating", &std::env::temp_dir()))?;
    let binary = match &opts.target {
        Target::Exe(p) => p.clone(),
        t => build::build(opts, t, &scratch)?,
    };
    let binary = std::path::absolute(&binary).unwrap_or(binary);
    if !binary.is_file() {
        return Err(CheckError::Io {
            op: "finding",
            path: binary,
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    let seed = opts.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    note(opts.progress, || {
        format!(
            "checking {} with seed {seed} (--seed {seed} repeats these kills)",
            binary.display()
        )
    });
    let mut l = Layout::new(scratch.path(), &binary);
    let input = opts.input.as_deref();

    // The uninterrupted run; again with checkpoints requested every few milliseconds if
    // the program saved nothing on its own (it saves only at `ckpt::safepoint()`).
    let mut reference_ms = 0;
    for attempt in 0..2 {
        if attempt == 1 {
            if l.image.exists() {
                break;
            }
            note(opts.progress, || {
                format!(
                    "the program saved nothing on its own: checking it with a checkpoint \
                     requested every {EVERY} (CKPT_EVERY), for its safepoints"
                )
            });
            l.every = Some(EVERY);
        }
        reference_ms = l.reference(&binary, opts)?;
    }
    if !l.image.exists() {
        return Err(CheckError::NoImage {
            binary,
            image: l.image.clone(),
        });
    }
    let expected = Outputs::read(&l.stdout, &l.work)?;
    note(opts.progress, || {
        format!(
            "uninterrupted run: {reference_ms} ms, {} bytes of standard output, {} file{}",
            expected.stdout.len(),
            expected.files.len(),
            if expected.files.len() == 1 { "" } else { "s" }
        )
    });

    let mut report = CheckReport {
        binary: binary.clone(),
        args: opts
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        seed,
        reference_ms,
        reference_stdout: expected.stdout.len() as u64,
        reference_files: expected.files.len(),
        trials: 0,
        kills: Vec::new(),
        difference: None,
    };
    let mut m = Moments::new(seed);
    // Saves a fresh run makes, as far as known: kills after save N beyond it never land.
    let mut saves_guess = 8u64;
    let max_attempts = opts.kills * 12 + 12;
    let mut attempts = 0;
    while report.kills.len() < opts.kills && attempts < max_attempts {
        report.trials += 1;
        let trial = report.trials;
        l.reset(input)?;
        // One to three kills in this trial: a restore of a restore from the second on.
        let planned = (opts.kills - report.kills.len()).min(1 + m.between(0, 2) as usize);
        let mut landed = 0;
        // Each restore: where it resumed, and where its output starts in the file.
        let mut restores: Vec<(ResumePoint, u64)> = Vec::new();
        loop {
            attempts += 1;
            if attempts > max_attempts {
                break;
            }
            let restoring = l.image.exists();
            let kill = (landed < planned).then(|| {
                if m.next() & 1 == 0 {
                    KillHow::AfterSaves(m.between(1, saves_guess))
                } else {
                    let ms = reference_ms.max(2);
                    KillHow::AfterMillis(m.between((ms / 20).max(1), ms))
                }
            });
            match l.run(&binary, &opts.args, restoring, kill, opts.timeout)? {
                RunEnd::Killed if l.image.exists() => {
                    landed += 1;
                    let (point, covered) = l.resume_point()?;
                    let how = kill.unwrap_or(KillHow::AfterMillis(0));
                    note(opts.progress, || {
                        format!(
                            "trial {trial}: {} {how} → resuming from {point}",
                            if restoring { "restore" } else { "run" }
                        )
                    });
                    report.kills.push(Kill {
                        trial,
                        of_restore: restoring,
                        how,
                        resumes_from: point.clone(),
                    });
                    restores.push((point, covered));
                }
                RunEnd::Killed => {
                    // A fresh run killed before its first image: start the trial over.
                    l.reset(input)?;
                    restores.clear();
                    landed = 0;
                }
                RunEnd::Exited(s) if s.success() => {
                    if let (Some(KillHow::AfterSaves(n)), false) = (kill, restoring) {
                        saves_guess = n.saturating_sub(1).max(1);
                    }
                    break;
                }
                end => {
                    let status = match end {
                        RunEnd::Exited(s) => s.to_string(),
                        _ => format!(
                            "did not finish within {} s (killed)",
                            opts.timeout.as_secs()
                        ),
                    };
                    report.difference = Some(Difference {
                        trial,
                        mismatch: Mismatch::Failed {
                            status,
                            stderr: l.stderr_tail(),
                        },
                        resumed_from: restores.last().map(|(p, _)| p.clone()),
                        restores: restores.into_iter().map(|(p, _)| p).collect(),
                    });
                    return Ok(report);
                }
            }
        }
        if restores.is_empty() {
            // The trial ended without a kill landing: nothing to compare.
            continue;
        }
        let got = Outputs::read(&l.stdout, &l.work)?;
        if let Some(mismatch) = got.first_difference(&expected) {
            let resumed_from = match &mismatch {
                // The run that wrote the first differing byte: the last one whose output
                // starts at or before it.
                Mismatch::Stdout { offset, .. } => restores
                    .iter()
                    .rev()
                    .find(|(_, start)| start <= offset)
                    .map(|(p, _)| p.clone()),
                _ => restores.last().map(|(p, _)| p.clone()),
            };
            note(opts.progress, || {
                format!("trial {trial}: the output differs")
            });
            report.difference = Some(Difference {
                trial,
                mismatch,
                resumed_from,
                restores: restores.into_iter().map(|(p, _)| p).collect(),
            });
            return Ok(report);
        }
    }
    if report.kills.is_empty() {
        return Err(CheckError::NoKill { binary, attempts });
    }
    Ok(report)
}
