//! `cargo ckpt verify IMAGE --binary PATH`: can that binary restore this image?
//!
//! The binary is asked for its build with the probe of [`ckpt::image::probe`]
//! (`CKPT_PROBE=build`: it prints its build fingerprint and executable identity and exits
//! before any of its own code runs). It is run only if its file holds the probe's name,
//! so a program that is not built with ckpt (or with a ckpt too old to answer) is never
//! started. The answer is compared with the image's header exactly as a restore
//! compares them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ckpt::image::probe::{BuildProbe, PROBE_BUILD, PROBE_ENV};
use ckpt::image::Image;
use ckpt::state::Value;

use super::InspectOptions;
use crate::process::{file_contains, Ended, Running, Scratch, AGENT_VARS};

/// How long a binary may take to answer the probe (it answers before running any code of
/// its own; a slow disk or a loaded machine may still take a while to start it).
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a binary's build could not be learned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The binary's file could not be read.
    #[error("{path}: cannot read the binary: {source}")]
    Read {
        /// The binary.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no build probe: not a ckpt program, or one built with a ckpt older
    /// than this tool.
    #[error(
        "{path} is not a program built with ckpt, or was built with a ckpt older than this \
         cargo-ckpt (it cannot be asked for its build); it was not run. Pass the binary \
         that restores the image (target/debug/NAME or target/release/NAME)"
    )]
    NotCkpt {
        /// The binary.
        path: PathBuf,
    },
    /// Running the binary, or the scratch directory it runs in, failed.
    #[error("{path}: running it to ask for its build failed: {source}")]
    Run {
        /// The binary.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The binary did not answer within the time limit (it was killed).
    #[error("{path} did not answer the build probe within {secs} s and was killed")]
    Timeout {
        /// The binary.
        path: PathBuf,
        /// The limit.
        secs: u64,
    },
    /// The binary ran but printed no answer.
    #[error("{path} gave no build answer (exit status {status}); its standard error: {stderr}")]
    NoAnswer {
        /// The binary.
        path: PathBuf,
        /// How it ended.
        status: String,
        /// What it printed to standard error (the start of it).
        stderr: String,
    },
}

/// Why `verify --binary` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyBinaryError {
    /// The image is unreadable or damaged (as `verify` reports it).
    #[error(transparent)]
    Image(#[from] ckpt::Error),
    /// The binary could not be asked for its build.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The binary cannot restore the image: one line per reason.
    #[error(
        "{binary} cannot restore {image}: {}; restore with the binary that wrote the image \
         (rebuilt from the same sources with the same rustc and target)",
        reasons.join("; ")
    )]
    Mismatch {
        /// The image.
        image: PathBuf,
        /// The binary.
        binary: PathBuf,
        /// What differs: fingerprint parts, or the executable when the image holds code
        /// pointers.
        reasons: Vec<String>,
    },
}

/// Asks the ckpt program at `binary` for its build (see the module's description).
pub fn probe_binary(binary: &Path) -> Result<BuildProbe, ProbeError> {
    let read = |source| ProbeError::Read {
        path: binary.to_path_buf(),
        source,
    };
    if !file_contains(binary, PROBE_ENV.as_bytes()).map_err(read)? {
        return Err(ProbeError::NotCkpt {
            path: binary.to_path_buf(),
        });
    }
    let run = |source| ProbeError::Run {
        path: binary.to_path_buf(),
        source,
    };
    // Its own empty directory: whatever it does there is removed with it.
    let dir = Scratch::new("probe").map_err(run)?;
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut cmd = Command::new(absolute(binary));
    for v in AGENT_VARS {
        cmd.env_remove(v);
    }
    cmd.env(PROBE_ENV, PROBE_BUILD)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).map_err(run)?)
        .stderr(std::fs::File::create(&err).map_err(run)?);
    let mut child = Running::spawn(&mut cmd).map_err(run)?;
    let status = match child.wait_for(PROBE_TIMEOUT).map_err(run)? {
        Ended::Exited(s) => s,
        Ended::Running => {
            child.kill().map_err(run)?;
            return Err(ProbeError::Timeout {
                path: binary.to_path_buf(),
                secs: PROBE_TIMEOUT.as_secs(),
            });
        }
    };
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    match BuildProbe::parse(&stdout) {
        Some(p) if status.success() => Ok(p),
        _ => {
            let stderr = std::fs::read_to_string(&err).unwrap_or_default();
            Err(ProbeError::NoAnswer {
                path: binary.to_path_buf(),
                status: status.to_string(),
                stderr: stderr.chars().take(2000).collect(),
            })
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Reads and fully validates the image at `image` (as [`verify`](super::verify)) and
/// checks that the ckpt program at `binary` can restore it: the same build fingerprint,
/// and the same executable when the image holds function pointers (only the executable
/// that wrote them can restore them). Returns the summary line with the verdict.
pub fn verify_binary(
    image: &Path,
    binary: &Path,
    opts: &InspectOptions,
) -> Result<String, VerifyBinaryError> {
    let img = super::read_image(image, opts)?;
    let build = probe_binary(binary)?;
    let mut reasons = img.header.fingerprint.differences(&build.fingerprint);
    for r in &mut reasons {
        *r = r.replace("(this build)", "(the binary)");
    }
    let same_exe = img.exe.is_some() && img.exe == build.exe;
    let code = holds_code_pointers(&img);
    if code && !same_exe {
        reasons.push(format!(
            "the image holds function pointers, written by executable {} and the binary is {}",
            img.exe.as_deref().unwrap_or("(not recorded)"),
            build.exe.as_deref().unwrap_or("(unidentifiable)")
        ));
    }
    if !reasons.is_empty() {
        return Err(VerifyBinaryError::Mismatch {
            image: image.to_path_buf(),
            binary: binary.to_path_buf(),
            reasons,
        });
    }
    let exe = if same_exe {
        "the executable that wrote it"
    } else {
        "another executable of the same build; the image holds no function pointers"
    };
    Ok(format!(
        "{}\n{} can restore it: same build fingerprint, {exe}",
        super::summary(image, &img),
        binary.display()
    ))
}

/// Whether any value of the image is a code pointer (tag [`ckpt::state::code::TAG`]).
fn holds_code_pointers(img: &Image) -> bool {
    let mut todo: Vec<&Value> = Vec::new();
    for f in &img.frames {
        todo.extend(f.live.iter().chain(&f.args).map(|(_, v)| v));
    }
    todo.extend(img.components.iter().map(|(_, v)| v));
    todo.extend(img.shared.iter().flatten());
    // Iterative, so a deep value does not recurse once per level.
    while let Some(v) = todo.pop() {
        match v {
            Value::Tag(ckpt::state::code::TAG, _) => return true,
            Value::Tag(_, inner) => todo.push(inner),
            Value::Array(items) => todo.extend(items.iter()),
            Value::Map(entries) => todo.extend(entries.iter().flat_map(|(k, v)| [k, v])),
            _ => {}
        }
    }
    false
}
