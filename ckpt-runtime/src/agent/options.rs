//! The agent prologue: ckpt's command-line options, the re-exec that hides them from
//! the program, the image path, the lock and loading an image to restore.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::image::{self, Fingerprint, Header, Image};

/// Set by the first stage on the re-exec'd process: ckpt options travel in these.
const ENV_REEXEC: &str = "CKPT_REEXEC";
const ENV_RESTORE: &str = "CKPT_RESTORE";
/// User-facing too: where images are written (`--ckpt-file` beats it).
pub(crate) const ENV_FILE: &str = "CKPT_FILE";

/// Static facts about the program, emitted by the macro on `main`.
#[derive(Debug)]
pub struct Program {
    /// `CARGO_CRATE_NAME` of the binary.
    pub crate_name: &'static str,
    /// `CARGO_PKG_VERSION`.
    pub version: &'static str,
    /// The build fingerprint line from ckpt-build's analysis
    /// (`crate\tversion\tsources\trustc\ttarget`), or empty without ckpt-build.
    pub fingerprint: &'static str,
    /// Hash of `main`'s tokens, the source part of the fingerprint without ckpt-build.
    pub main_hash: u64,
}

impl Program {
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        let parts: Vec<&str> = self.fingerprint.split('\t').collect();
        if parts.len() == 5 {
            Fingerprint {
                crate_name: parts[0].into(),
                crate_version: parts[1].into(),
                sources: parts[2].into(),
                rustc: parts[3].into(),
                target: parts[4].into(),
            }
        } else {
            Fingerprint {
                crate_name: self.crate_name.into(),
                crate_version: self.version.into(),
                sources: format!("main:{:016x}", self.main_hash),
                rustc: "unknown (no ckpt-build)".into(),
                target: std::env::consts::ARCH.into(),
            }
        }
    }
}

/// Process-wide settings of this run.
pub(crate) struct Config {
    pub program: &'static Program,
    pub fingerprint: Fingerprint,
    /// Original arguments (ckpt options removed), argv[0] first.
    pub args: Vec<String>,
    /// Where `save()` writes.
    pub image_path: PathBuf,
    /// Lock files held, one per image path written.
    pub locks: Mutex<Vec<(PathBuf, File)>>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

pub(crate) fn config() -> Option<&'static Config> {
    CONFIG.get()
}

/// ckpt's options as found on the command line.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CkptArgs {
    pub restore: Option<PathBuf>,
    pub file: Option<PathBuf>,
    pub resume: bool,
    /// Policy options given (`--ckpt-time=wall` → `("CKPT_TIME", "wall")`), see
    /// [`POLICIES`].
    pub policies: Vec<(&'static str, String)>,
    /// The program's own arguments, argv[0] first.
    pub rest: Vec<OsString>,
    /// `--ckpt-help`: print ckpt's options and exit.
    pub help: bool,
}

/// What `--ckpt-help` prints: every option ckpt takes out of the program's arguments,
/// with the environment variable that does the same.
pub(crate) const HELP: &str = "\
ckpt options (taken out of the program's arguments; the program never sees them):
  --restore FILE            continue the run saved in FILE, with that run's arguments
  --ckpt-resume             restore from the image if it exists, else start fresh
  --ckpt-file FILE          write images to FILE                        (CKPT_FILE)
  --ckpt-time=monotonic|wall      on restore, leave out or count the downtime (CKPT_TIME)
  --ckpt-env=saved|current        on restore, the saved or the current environment (CKPT_ENV)
  --ckpt-cwd=saved|current        on restore, the saved or the current working directory (CKPT_CWD)
  --ckpt-files=strict|accept-changed  on restore, refuse or accept input files that changed (CKPT_FILES)
  --ckpt-help               print this and exit
  --                        ends ckpt's options: what follows is the program's
";

/// The options `--ckpt-help` lists, for the error about an unknown one.
const KNOWN: &str = "--restore FILE, --ckpt-resume, --ckpt-file FILE, --ckpt-time=, --ckpt-env=, \
                     --ckpt-cwd=, --ckpt-files=, --ckpt-help";

/// A restore policy: its option, the environment variable the component reads, and the
/// parser that checks a value (DESIGN §7).
struct PolicyOption {
    option: &'static str,
    env: &'static str,
    check: fn(&str) -> Result<()>,
}

/// `--ckpt-time=monotonic|wall`, `--ckpt-env=saved|current`,
/// `--ckpt-cwd=saved|current`, `--ckpt-files=strict|accept-changed`: each sets its
/// environment variable for the restore (an option beats the variable).
const POLICIES: &[PolicyOption] = &[
    PolicyOption {
        option: "--ckpt-time=",
        env: crate::time::ENV_POLICY,
        check: |v| crate::time::Policy::parse(v).map(drop),
    },
    PolicyOption {
        option: "--ckpt-env=",
        env: crate::env::ENV_POLICY,
        check: |v| crate::env::Policy::parse(v).map(drop),
    },
    PolicyOption {
        option: "--ckpt-cwd=",
        env: crate::env::cwd::ENV_POLICY,
        check: |v| crate::env::cwd::Policy::parse(v).map(drop),
    },
    PolicyOption {
        option: "--ckpt-files=",
        env: crate::fs::ENV_POLICY,
        check: |v| crate::fs::Policy::parse(v).map(drop),
    },
];

/// Takes the restore policies out of the environment once the restore has read them,
/// so child processes do not inherit this restore's choices.
pub(crate) fn consume_policies() {
    for p in POLICIES {
        std::env::remove_var(p.env);
    }
}

/// Splits ckpt's options from the program's. `--` ends ckpt's options.
pub(crate) fn parse_args(args: Vec<OsString>) -> Result<CkptArgs> {
    let mut out = CkptArgs::default();
    let mut it = args.into_iter();
    if let Some(a0) = it.next() {
        out.rest.push(a0);
    }
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        let mut value = |name: &str| -> Result<Option<PathBuf>> {
            if s == name {
                match it.next() {
                    Some(v) => Ok(Some(PathBuf::from(v))),
                    None => Err(Error::Usage(format!(
                        "{name} needs a file argument: {name} FILE"
                    ))),
                }
            } else if let Some(v) = s.strip_prefix(&format!("{name}=")) {
                if v.is_empty() {
                    return Err(Error::Usage(format!("{name}= needs a file name")));
                }
                Ok(Some(PathBuf::from(v)))
            } else {
                Ok(None)
            }
        };
        if let Some(p) = value("--restore")? {
            if out.restore.replace(p).is_some() {
                return Err(Error::Usage("--restore given twice".into()));
            }
        } else if let Some(p) = value("--ckpt-file")? {
            out.file = Some(p);
        } else if s == "--ckpt-resume" {
            out.resume = true;
        } else if let Some((p, v)) = POLICIES
            .iter()
            .find_map(|p| s.strip_prefix(p.option).map(|v| (p, v)))
        {
            // The error names the option as written, not the variable it sets.
            (p.check)(v).map_err(|e| match e {
                Error::Usage(m) => {
                    let as_env = format!("{}={:?}", p.env, v.trim());
                    Error::Usage(m.replacen(&as_env, &format!("{}{v}", p.option), 1))
                }
                other => other,
            })?;
            out.policies.retain(|(env, _)| *env != p.env);
            out.policies.push((p.env, v.to_string()));
        } else if s == "--ckpt-help" {
            out.help = true;
        } else if s == "--" {
            out.rest.push(a);
            out.rest.extend(it.by_ref());
        } else if s.starts_with("--ckpt-") {
            let name = s.split('=').next().unwrap_or(&s);
            return Err(Error::Usage(format!(
                "unknown option {name}; ckpt's options are {KNOWN} (pass it to the program \
                 after `--` if it is the program's)"
            )));
        } else {
            out.rest.push(a);
        }
    }
    if out.restore.is_some() && out.resume {
        return Err(Error::Usage(
            "--restore and --ckpt-resume exclude each other".into(),
        ));
    }
    if out.restore.is_some() && out.rest.len() > 1 {
        let extra = lossy(&out.rest[1..]).join(" ");
        return Err(Error::Usage(format!(
            "--restore continues the saved run with the arguments it was started with, so \
             `{extra}` would be ignored: remove it (start a new run to use other arguments)"
        )));
    }
    Ok(out)
}

pub(crate) use crate::fs::absolute;

fn default_image_path() -> PathBuf {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|e| e.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "program".into());
    absolute(Path::new(&format!("{stem}.ckpt")))
}

fn lossy(v: &[OsString]) -> Vec<String> {
    v.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}

/// Replaces this process with the same executable, `argv` as arguments.
fn reexec(argv: &[OsString], env: &[(&str, OsString)]) -> Error {
    use std::os::unix::process::CommandExt;
    let exe = if Path::new("/proc/self/exe").exists() {
        PathBuf::from("/proc/self/exe")
    } else {
        match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => return Error::io("finding the executable", "/proc/self/exe", e),
        }
    };
    let mut cmd = std::process::Command::new(&exe);
    if let Some(a0) = argv.first() {
        cmd.arg0(a0);
    }
    cmd.args(&argv[1..]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let err = cmd.exec();
    Error::io("re-executing", exe, err)
}

/// What the prologue decided: run fresh, or restore this image.
pub(crate) enum Start {
    Fresh,
    Restore(Box<Image>),
}

/// The prologue. Returns only in the process that runs the program.
pub(crate) fn start(program: &'static Program) -> Result<Start> {
    let staged = std::env::var_os(ENV_REEXEC).is_some();
    if !staged {
        let parsed = parse_args(std::env::args_os().collect())?;
        if parsed.help {
            print!("{HELP}");
            std::process::exit(0);
        }
        let file = parsed.file.as_deref().map(absolute);
        let mut restore = parsed.restore.as_deref().map(absolute);
        if parsed.resume {
            let target = file
                .clone()
                .or_else(|| std::env::var_os(ENV_FILE).map(|f| absolute(Path::new(&f))));
            let target = target.unwrap_or_else(default_image_path);
            if target.exists() {
                restore = Some(target);
            }
        }
        for (env, value) in &parsed.policies {
            // Read by the component when the restore starts.
            std::env::set_var(env, value);
        }
        if restore.is_none() && file.is_none() && !parsed.resume && parsed.policies.is_empty() {
            return finish_setup(program, parsed.rest, None, None);
        }
        let mut env: Vec<(&str, OsString)> = vec![(ENV_REEXEC, "1".into())];
        let mut argv = parsed.rest;
        if let Some(r) = &restore {
            if !r.exists() {
                return Err(Error::io(
                    "restoring",
                    r.clone(),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such image"),
                ));
            }
            let header = image::read_header(r)?;
            argv = header.args.iter().map(OsString::from).collect();
            env.push((ENV_RESTORE, r.clone().into()));
            if file.is_none() {
                if let Some(f) = &header.ckpt_file {
                    env.push((ENV_FILE, f.into()));
                }
            }
        }
        if let Some(f) = &file {
            env.push((ENV_FILE, f.clone().into()));
        }
        return Err(reexec(&argv, &env));
    }
    std::env::remove_var(ENV_REEXEC);
    let restore = std::env::var_os(ENV_RESTORE).map(PathBuf::from);
    std::env::remove_var(ENV_RESTORE);
    let args: Vec<OsString> = std::env::args_os().collect();
    finish_setup(program, args, restore, None)
}

fn finish_setup(
    program: &'static Program,
    args: Vec<OsString>,
    restore: Option<PathBuf>,
    file: Option<PathBuf>,
) -> Result<Start> {
    let image_path = file
        .or_else(|| std::env::var_os(ENV_FILE).map(|f| absolute(Path::new(&f))))
        .unwrap_or_else(default_image_path);
    // Consumed: a child process that is itself a ckpt program must not save to this
    // process's image.
    std::env::remove_var(ENV_FILE);
    // A run that could never save is refused before it does any work.
    image::check_writable(&image_path)?;
    let fingerprint = program.fingerprint();
    let mut start = Start::Fresh;
    if let Some(path) = restore {
        let img = image::read(&path, &crate::state::Limits::default())?;
        let differences = img.header.fingerprint.differences(&fingerprint);
        if !differences.is_empty() {
            return Err(Error::BuildMismatch {
                path,
                program: img.header.program.clone(),
                differences,
            });
        }
        start = Start::Restore(Box::new(img));
    }
    let cfg = Config {
        program,
        fingerprint,
        args: lossy(&args),
        image_path,
        locks: Mutex::new(Vec::new()),
    };
    if CONFIG.set(cfg).is_err() {
        return Err(Error::Usage(
            "the ckpt agent was started twice (two #[checkpointable] mains?)".into(),
        ));
    }
    Ok(start)
}

impl Config {
    /// The header of an image written now.
    pub fn header(&self, path: &Path) -> Header {
        let created_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Header {
            format: image::FORMAT_VERSION,
            fingerprint: self.fingerprint.clone(),
            created_unix,
            program: self.program.crate_name.into(),
            args: self.args.clone(),
            ckpt_file: Some(path.to_string_lossy().into_owned()),
            options: Vec::new(),
        }
    }

    /// Takes (once per path and process) the advisory lock on `path`'s lock file.
    pub fn lock(&self, path: &Path) -> Result<()> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.iter().any(|(p, _)| p == path) {
            return Ok(());
        }
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        let lock = path.with_file_name(name);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| Error::io("opening lock file", lock.clone(), e))?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(Error::Locked {
                    path: path.to_path_buf(),
                    lock,
                });
            }
            return Err(Error::io("locking", lock, e));
        }
        sweep_stale(path);
        locks.push((path.to_path_buf(), f));
        Ok(())
    }
}

/// Removes temporary and previous-image files of `path` left by processes that were
/// killed while saving. Only called with the image's lock held, so none is in use.
fn sweep_stale(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let (tmp, old) = (format!(".{name}.tmp."), format!(".{name}.old."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n.starts_with(&tmp) || n.starts_with(&old) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_are_removed_and_the_rest_kept_in_order() {
        let p = parse_args(os(&[
            "app",
            "--steps",
            "5",
            "--ckpt-resume",
            "--ckpt-file=b.ckpt",
            "x",
        ]))
        .unwrap();
        assert!(p.resume);
        assert_eq!(p.file, Some(PathBuf::from("b.ckpt")));
        assert_eq!(p.rest, os(&["app", "--steps", "5", "x"]));
        let p = parse_args(os(&["app", "--restore", "a.ckpt", "--ckpt-file=b.ckpt"])).unwrap();
        assert_eq!(p.restore, Some(PathBuf::from("a.ckpt")));
    }

    #[test]
    fn double_dash_ends_ckpt_options() {
        let p = parse_args(os(&["app", "--", "--restore", "x"])).unwrap();
        assert_eq!(p.restore, None);
        assert_eq!(p.rest, os(&["app", "--", "--restore", "x"]));
    }

    #[test]
    fn time_policy_option_is_taken_out_and_checked() {
        let p = parse_args(os(&["app", "--ckpt-time=wall", "x"])).unwrap();
        assert_eq!(p.policies, [("CKPT_TIME", "wall".to_string())]);
        assert_eq!(p.rest, os(&["app", "x"]));
        assert!(parse_args(os(&["app", "--ckpt-time=sideways"])).is_err());
    }

    #[test]
    fn env_policy_option_is_taken_out_and_checked() {
        let p = parse_args(os(&["app", "x", "--ckpt-env=current"])).unwrap();
        assert_eq!(p.policies, [("CKPT_ENV", "current".to_string())]);
        assert_eq!(p.rest, os(&["app", "x"]));
        let e = parse_args(os(&["app", "--ckpt-env=live"])).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("saved") && m.contains("current")),
            "{e}"
        );
    }

    #[test]
    fn cwd_policy_option_is_taken_out_and_checked() {
        let p = parse_args(os(&["app", "--ckpt-cwd=current", "x"])).unwrap();
        assert_eq!(p.policies, [("CKPT_CWD", "current".to_string())]);
        assert_eq!(p.rest, os(&["app", "x"]));
        let e = parse_args(os(&["app", "--ckpt-cwd=home"])).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("--ckpt-cwd=home") && m.contains("current")),
            "{e}"
        );
    }

    #[test]
    fn files_policy_option_is_taken_out_and_checked() {
        let p = parse_args(os(&[
            "app",
            "--ckpt-files=accept-changed",
            "--ckpt-files=strict",
        ]))
        .unwrap();
        assert_eq!(p.policies, [("CKPT_FILES", "strict".to_string())]);
        assert_eq!(p.rest, os(&["app"]));
        let e = parse_args(os(&["app", "--ckpt-files=maybe"])).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("accept-changed")),
            "{e}"
        );
    }

    #[test]
    fn wrong_options_are_usage_errors() {
        for bad in [
            &["app", "--restore"][..],
            &["app", "--restore="],
            &["app", "--restore", "a", "--ckpt-resume"],
        ] {
            let e = parse_args(os(bad)).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad:?}: {e}");
        }
    }

    #[test]
    fn an_unknown_ckpt_option_is_an_error_listing_the_known_ones() {
        let e = parse_args(os(&["app", "--ckpt-bogus=1", "x"])).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("unknown option --ckpt-bogus"), "{m}");
        assert!(
            m.contains("--ckpt-file FILE") && m.contains("--ckpt-help"),
            "{m}"
        );
        // After `--` it is the program's.
        let p = parse_args(os(&["app", "--", "--ckpt-bogus"])).unwrap();
        assert_eq!(p.rest, os(&["app", "--", "--ckpt-bogus"]));
        assert!(parse_args(os(&["app", "--ckpt-help"])).unwrap().help);
    }

    #[test]
    fn an_option_error_names_the_option_as_written() {
        let m = parse_args(os(&["app", "--ckpt-time=foo"]))
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("--ckpt-time=foo") && !m.contains("CKPT_TIME"),
            "{m}"
        );
    }

    #[test]
    fn arguments_after_restore_are_an_error() {
        let m = parse_args(os(&["app", "--restore", "a.ckpt", "extra", "more"]))
            .unwrap_err()
            .to_string();
        assert!(m.contains("`extra more` would be ignored"), "{m}");
        assert!(parse_args(os(&["app", "--restore", "a.ckpt", "--ckpt-cwd=current"])).is_ok());
    }
}
