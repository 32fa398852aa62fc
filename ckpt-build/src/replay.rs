//! `cargo ckpt replay`: runs the executable that recorded an input log again, fed from the
//! log (`--replay`), with a progress bar on standard error.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What `cargo ckpt replay` runs.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// The input log (`--ckpt-record LOG`).
    pub log: PathBuf,
    /// Replay from this image (written while recording) instead of the run's start.
    pub from: Option<PathBuf>,
    /// Stop at the first save point after event N and write an image there.
    pub until: Option<u64>,
    /// Where the log ends, go on live instead of stopping.
    pub then_live: bool,
    /// The executable to run (default: the one the log names, which recorded it).
    pub exe: Option<PathBuf>,
    /// Draw the progress bar.
    pub progress: bool,
}

/// The command [`replay`] runs for `opts`: the recorded executable with `--replay`.
///
/// ```no_run
/// let cmd = ckpt_build::replay_command(&ckpt_build::ReplayOptions {
///     log: "run.log".into(),
///     ..Default::default()
/// })
/// .expect("a log");
/// println!("{cmd:?}");
/// ```
pub fn replay_command(opts: &ReplayOptions) -> Result<Command, ckpt::Error> {
    let header = ckpt::replay::log::read_header(&opts.log)?;
    let exe = match &opts.exe {
        Some(e) => e.clone(),
        None if !header.exe.is_empty() => PathBuf::from(&header.exe),
        None => {
            return Err(ckpt::Error::Usage(format!(
                "{}: the log does not name the executable that recorded it (an older log); \
                 pass it with --exe PATH",
                opts.log.display()
            )))
        }
    };
    if !exe.is_file() {
        return Err(ckpt::Error::Usage(format!(
            "{}: the executable that recorded this log, {}, is gone; pass the same build with \
             --exe PATH",
            opts.log.display(),
            exe.display()
        )));
    }
    let mut cmd = Command::new(&exe);
    let from = opts.from.as_deref().unwrap_or(Path::new("start"));
    cmd.arg("--replay").arg(from).arg("--log").arg(&opts.log);
    if let Some(n) = opts.until {
        cmd.arg("--until").arg(n.to_string());
    }
    if opts.then_live {
        cmd.arg("--then-live");
    }
    if opts.progress {
        cmd.env(ckpt::replay::ENV_PROGRESS, "1");
    }
    Ok(cmd)
}

/// Replays the log as [`replay_command`] says, the program's output on this process's
/// standard output and error; returns the replayed program's exit code.
///
/// ```no_run
/// let code = ckpt_build::replay(&ckpt_build::ReplayOptions {
///     log: "run.log".into(),
///     progress: true,
///     ..Default::default()
/// })
/// .expect("a log and its executable");
/// std::process::exit(code);
/// ```
pub fn replay(opts: &ReplayOptions) -> Result<i32, ckpt::Error> {
    let mut cmd = replay_command(opts)?;
    let status = cmd
        .status()
        .map_err(|e| ckpt::Error::io("running", cmd.get_program(), e))?;
    Ok(status.code().unwrap_or(1))
}
