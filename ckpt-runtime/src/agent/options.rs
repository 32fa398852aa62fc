//! The agent prologue: ckpt's command-line options, the re-exec that hides them from
//! the program, the image path, the lock and loading an image to restore.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::background;
use super::lifecycle::{self, Finished};
use super::triggers::{self, Triggers};
use crate::error::{Error, Result};
use crate::image::remote;
use crate::image::{self, Fingerprint, Header, Image};

/// Set by the first stage on the re-exec'd process: ckpt options travel in these.
const ENV_REEXEC: &str = "CKPT_REEXEC";
const ENV_RESTORE: &str = "CKPT_RESTORE";
/// Set for the restore by `--ckpt-lazy`: chunked arrays are filled on first touch.
const ENV_LAZY: &str = "CKPT_LAZY";
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
    /// The run's settings (`--ckpt-keep`, `--ckpt-every`, ...).
    pub settings: Settings,
    /// The sequence number of the newest image at `image_path` (0: none).
    pub seq: AtomicU64,
    /// The image this run last wrote to `image_path`, or restored from it (or from one
    /// of its kept images): the one a normal end marks finished.
    pub last_image: Mutex<Option<PathBuf>>,
}

/// The run's settings: how many images to keep, what triggers a checkpoint, what to do
/// with the image when the run ends. Set by options or their environment variables, and
/// recorded in every image so a restore keeps them (an option given to the restore wins).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub keep: u32,
    pub triggers: Triggers,
    pub finished: Finished,
    /// The settings given, as header options (key, value).
    pub recorded: Vec<(String, String)>,
    /// The signing key (`--ckpt-key-file`, `CKPT_KEY_FILE`, `CKPT_KEY`); never recorded.
    pub key: Option<image::signature::Key>,
    /// The network stack's medium and addresses (`--ckpt-tap`, `--ckpt-ip`, ...).
    pub net: crate::net::config::NetConfig,
    /// The graphics engine's display and scripted events (`--ckpt-display`,
    /// `--ckpt-events`).
    pub gfx: crate::gfx::config::GfxConfig,
    /// Every save is durable when it returns (`--ckpt-sync`); otherwise images are
    /// written in the background.
    pub sync: bool,
    /// What a save does while the previous one is still being written.
    pub overlap: background::Overlap,
    /// Large arrays go to a chunk store beside the image (`--ckpt-incremental`).
    pub incremental: bool,
    /// New chunks are compressed where that pays (`--ckpt-compress=lz4`, the default).
    pub compress: bool,
}

/// Settings also given as flags: `--ckpt-sync` is `--ckpt-sync=on`.
const FLAGS: &[(&str, &str)] = &[
    ("--ckpt-sync", "CKPT_SYNC"),
    ("--ckpt-incremental", "CKPT_INCREMENTAL"),
];

/// A run setting: its option, environment variable, header key and value check.
struct Setting {
    option: &'static str,
    env: &'static str,
    key: &'static str,
    /// Parses a value into the settings (the parse is the check of an option's value).
    apply: fn(&mut Settings, &str) -> std::result::Result<(), String>,
}

const SETTINGS: &[Setting] = &[
    Setting {
        option: "--ckpt-keep",
        env: "CKPT_KEEP",
        key: "keep",
        apply: |s, v| {
            s.keep = parse_keep(v)?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-every",
        env: "CKPT_EVERY",
        key: "every",
        apply: |s, v| {
            s.triggers.every = Some(triggers::parse_duration(v)?);
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-grace",
        env: "CKPT_GRACE",
        key: "grace",
        apply: |s, v| {
            s.triggers.grace = triggers::parse_duration(v)?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-finished",
        env: "CKPT_FINISHED",
        key: "finished",
        apply: |s, v| {
            s.finished = Finished::parse(v)?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-tap",
        env: "CKPT_TAP",
        key: "tap",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "tap", v),
    },
    Setting {
        option: "--ckpt-ip",
        env: "CKPT_IP",
        key: "ip",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "ip", v),
    },
    Setting {
        option: "--ckpt-gateway",
        env: "CKPT_GATEWAY",
        key: "gateway",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "gateway", v),
    },
    Setting {
        option: "--ckpt-mac",
        env: "CKPT_MAC",
        key: "mac",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "mac", v),
    },
    Setting {
        option: "--ckpt-net-commit",
        env: "CKPT_NET_COMMIT",
        key: "net_commit",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "net_commit", v),
    },
    Setting {
        option: "--ckpt-net-relay",
        env: "CKPT_NET_RELAY",
        key: "net_relay",
        apply: |s, v| crate::net::config::apply_setting(&mut s.net, "net_relay", v),
    },
    Setting {
        option: "--ckpt-display",
        env: "CKPT_DISPLAY",
        key: "display",
        apply: |s, v| crate::gfx::config::apply_setting(&mut s.gfx, "display", v),
    },
    Setting {
        option: "--ckpt-events",
        env: "CKPT_EVENTS",
        key: "events",
        apply: |s, v| crate::gfx::config::apply_setting(&mut s.gfx, "events", v),
    },
    Setting {
        option: "--ckpt-sync",
        env: "CKPT_SYNC",
        key: "sync",
        apply: |s, v| {
            s.sync = parse_flag(v, "--ckpt-sync")?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-incremental",
        env: "CKPT_INCREMENTAL",
        key: "incremental",
        apply: |s, v| {
            s.incremental = parse_flag(v, "--ckpt-incremental")?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-compress",
        env: "CKPT_COMPRESS",
        key: "compress",
        apply: |s, v| {
            s.compress = match v {
                "lz4" => true,
                "off" => false,
                _ => return Err("expected `lz4` or `off`".into()),
            };
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-overlap",
        env: "CKPT_OVERLAP",
        key: "overlap",
        apply: |s, v| {
            s.overlap = background::Overlap::parse(v)?;
            Ok(())
        },
    },
    Setting {
        option: "--ckpt-signals",
        env: "CKPT_SIGNALS",
        key: "signals",
        apply: |s, v| {
            s.triggers.signals = parse_on_off(v)?;
            Ok(())
        },
    },
];

fn parse_keep(v: &str) -> std::result::Result<u32, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a number of images, 1 or more, not `{v}`")),
    }
}

/// A setting given as a flag (`--ckpt-sync`: `on`) or with a value.
fn parse_flag(v: &str, flag: &str) -> std::result::Result<bool, String> {
    match v {
        "1" | "on" => Ok(true),
        "0" | "off" => Ok(false),
        _ => Err(format!("expected `on` or `off` (`{flag}` alone: on)")),
    }
}

fn parse_on_off(v: &str) -> std::result::Result<bool, String> {
    match v {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("expected `on` or `off`".into()),
    }
}

/// The default grace period after SIGTERM / SIGINT: below the 30 s Kubernetes and SLURM
/// wait before they send SIGKILL.
const DEFAULT_GRACE: Duration = Duration::from_secs(25);

impl Settings {
    /// The settings of a run given none.
    fn default_run() -> Settings {
        Settings {
            keep: 1,
            triggers: Triggers {
                signals: true,
                every: None,
                grace: DEFAULT_GRACE,
            },
            finished: Finished::Keep,
            recorded: Vec::new(),
            key: None,
            net: Default::default(),
            gfx: Default::default(),
            sync: false,
            overlap: background::Overlap::Wait,
            incremental: false,
            compress: true,
        }
    }

    /// Reads the settings' variables (set by the options or by the user) and takes them
    /// out of the environment, so child processes do not inherit them.
    fn from_env() -> Result<Settings> {
        let mut s = Settings::default_run();
        s.key = image::signature::Key::from_env()?;
        std::env::remove_var(image::signature::ENV_KEY_FILE);
        std::env::remove_var(image::signature::ENV_KEY);
        for set in SETTINGS {
            let Some(v) = std::env::var_os(set.env) else {
                continue;
            };
            std::env::remove_var(set.env);
            let v = v.to_string_lossy().into_owned();
            (set.apply)(&mut s, &v).map_err(|m| Error::Usage(format!("{}={v:?}: {m}", set.env)))?;
            s.recorded.push((set.key.to_string(), v));
        }
        Ok(s)
    }
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
    /// `--ckpt-key-file FILE`.
    pub key_file: Option<PathBuf>,
    /// `--ckpt-record LOG`.
    pub record: Option<PathBuf>,
    /// `--replay start|IMAGE`.
    pub replay: Option<PathBuf>,
    /// `--log LOG` (with `--replay`).
    pub log: Option<PathBuf>,
    /// `--until N` (with `--replay`).
    pub until: Option<u64>,
    /// `--ckpt-log-keep=all|last` (with `--ckpt-record`).
    pub log_keep: Option<String>,
    /// `--ckpt-log-bound VALUE` (with `--ckpt-record`).
    pub log_bound: Option<String>,
    /// `--then-live` (with `--replay`).
    pub then_live: bool,
    /// `--ckpt-log-sync` (with `--ckpt-record`).
    pub log_sync: bool,
    /// `--ckpt-lazy` (with `--restore`).
    pub lazy: bool,
    pub resume: bool,
    /// Policy options given (`--ckpt-time=wall` → `("CKPT_TIME", "wall")`), see
    /// [`POLICIES`].
    pub policies: Vec<(&'static str, String)>,
    /// The program's own arguments, argv[0] first.
    pub rest: Vec<OsString>,
    /// `--ckpt-help`: print ckpt's options and exit.
    pub help: bool,
    /// Run settings given (`--ckpt-keep 3` → `("CKPT_KEEP", "3")`), see [`SETTINGS`].
    pub settings: Vec<(&'static str, String)>,
}

/// What `--ckpt-help` prints: every option ckpt takes out of the program's arguments,
/// with the environment variable that does the same.
pub(crate) const HELP: &str = "\
ckpt options (taken out of the program's arguments; the program never sees them):
  --restore FILE            continue the run saved in FILE, with that run's arguments
  --restore latest          ... from the newest valid image of the run's image file
  --restore DIR             ... from the newest valid image of this program in DIR
  --ckpt-resume             restore from the newest valid image if there is one and its
                            run did not finish, else start a new run
  --ckpt-file FILE          write images to FILE                        (CKPT_FILE)
  --ckpt-file URL           ... or to object storage (s3://BUCKET/KEY, gs://, az://),
                            uploaded after each save from a local cache
                            (CKPT_CACHE_DIR); --restore URL downloads it
  --ckpt-keep N             keep the last N images: FILE and FILE.<seq> (CKPT_KEEP)
  --ckpt-every DURATION     checkpoint at the next safepoint once DURATION (300ms, 30s,
                            5m, 2h) has passed since the last save     (CKPT_EVERY)
  --ckpt-grace DURATION     after SIGTERM/SIGINT, how long to wait for a save point
                            before exiting without one (default 25s)   (CKPT_GRACE)
  --ckpt-finished=keep|remove     a run that ends normally marks its image finished, or
                                  removes it                            (CKPT_FINISHED)
  --ckpt-sync               every save is durable when it returns (by default the
                            image is written while the program runs on) (CKPT_SYNC=1)
  --ckpt-incremental        large arrays go to a chunk store beside the image
                            (FILE.chunks/): a save writes only the chunks that changed
                                                                       (CKPT_INCREMENTAL=1)
  --ckpt-compress=lz4|off   compress new chunks where it pays (default lz4) (CKPT_COMPRESS)
  --ckpt-lazy               with --restore of an incremental image: resume before the
                            arrays are read; their pages come in on first touch (CKPT_LAZY=1)
  --ckpt-overlap=wait|skip  a save asked for while the previous one is still being
                            written waits for it (default) or is skipped (CKPT_OVERLAP)
  --ckpt-signals=on|off     checkpoint on SIGUSR1, checkpoint and exit on SIGTERM and
                            SIGINT (default on)                         (CKPT_SIGNALS)
  --ckpt-key-file FILE      sign images with the key in FILE (HMAC-SHA256), and restore
                            only images signed with it    (CKPT_KEY_FILE; or the key in CKPT_KEY)
  --ckpt-record LOG         record what the program gets from the OS (clocks, random
                            bytes, stdin) into LOG; images written meanwhile point into it
  --replay start|IMAGE --log LOG   run the recorded run again from its start (or from an
                            image written while recording), fed from LOG instead of the OS
  --until N                 with --replay: stop at the first save point after event N and
                            write the image APP.at-N.ckpt there
  --then-live               with --replay: where the log ends, go on live (by default the
                            replay stops there, as the recorded run did)
  --ckpt-log-keep=all|last  with --ckpt-record: keep the whole log (default), or only the
                            events since the last image                (CKPT_LOG_KEEP)
  --ckpt-log-sync           with --ckpt-record: fdatasync the log before output leaves
                            (survives power loss, not only kill -9)     (CKPT_LOG_SYNC=1)
  --ckpt-log-bound 1s,64MB  with --ckpt-record: request a checkpoint once a recovery would
                            replay more than this (time, log size, or off) (CKPT_LOG_BOUND)
  --ckpt-tap NAME           the network stack is a host on TAP device NAME (feature
                            `net`; default: in-process loopback)         (CKPT_TAP)
  --ckpt-ip ADDR/PREFIX     its address on the TAP, like 198.51.100.2/24 (CKPT_IP)
  --ckpt-gateway ADDR       its default route on the TAP                 (CKPT_GATEWAY)
  --ckpt-mac MAC            its MAC (default: derived from NAME)         (CKPT_MAC)
  --ckpt-net-commit=save|none   frames leave once an image covers them (save, the
                            default), or at once                         (CKPT_NET_COMMIT)
  --ckpt-net-relay=error|reconnect  on restore, connections to hosts outside the program
                            (no TAP) fail saying so, or connect again   (CKPT_NET_RELAY)
  --ckpt-display png:DIR|window|none  where ckpt::gfx frames go: PNG files in DIR (default
                            png:frames), an X11 window, or nowhere       (CKPT_DISPLAY)
  --ckpt-events FILE        scripted input events for the display        (CKPT_EVENTS)
  --ckpt-time=monotonic|wall      on restore, leave out or count the downtime (CKPT_TIME)
  --ckpt-env=saved|current        on restore, the saved or the current environment (CKPT_ENV)
  --ckpt-cwd=saved|current        on restore, the saved or the current working directory (CKPT_CWD)
  --ckpt-files=strict|accept-changed  on restore, refuse or accept input files that changed (CKPT_FILES)
  --ckpt-help               print this and exit
  --                        ends ckpt's options: what follows is the program's
";

/// The options `--ckpt-help` lists, for the error about an unknown one.
const KNOWN: &str = "--restore FILE|latest|DIR, --ckpt-resume, --ckpt-file FILE, --ckpt-keep N, \
                     --ckpt-every DURATION, --ckpt-grace DURATION, --ckpt-finished=, \
                     --ckpt-sync, --ckpt-incremental, --ckpt-compress=, --ckpt-lazy, --ckpt-overlap=, --ckpt-signals=, --ckpt-key-file FILE, --ckpt-record LOG, --replay start|IMAGE --log LOG [--until N] [--then-live], --ckpt-log-keep=, --ckpt-log-sync, --ckpt-log-bound, \
                     --ckpt-tap NAME, --ckpt-ip ADDR/PREFIX, --ckpt-gateway ADDR, --ckpt-mac MAC, --ckpt-net-commit=, --ckpt-net-relay=, \
                     --ckpt-display png:DIR|window|none, --ckpt-events FILE, \
                     --ckpt-time=, --ckpt-env=, --ckpt-cwd=, --ckpt-files=, \
                     --ckpt-help";

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
        } else if let Some(p) = value("--ckpt-key-file")? {
            out.key_file = Some(p);
        } else if let Some(p) = value("--ckpt-record")? {
            out.record = Some(p);
        } else if let Some(v) = s.strip_prefix("--ckpt-log-keep=") {
            if v != "all" && v != "last" {
                return Err(Error::Usage(format!(
                    "--ckpt-log-keep={v}: expected `all` (the default) or `last`"
                )));
            }
            out.log_keep = Some(v.to_string());
        } else if let Some(p) = value("--replay")? {
            out.replay = Some(p);
        } else if let Some(p) = value("--log")? {
            out.log = Some(p);
        } else if let Some(n) = value("--until")? {
            let n = n.to_string_lossy();
            out.until = Some(n.parse().map_err(|_| {
                Error::Usage(format!(
                    "--until {n}: expected an event number (cargo ckpt log lists them)"
                ))
            })?);
        } else if let Some(v) = value("--ckpt-log-bound")? {
            let v = v.to_string_lossy().into_owned();
            crate::replay::Bound::parse(&v)
                .map_err(|m| Error::Usage(format!("--ckpt-log-bound {v}: {m}")))?;
            out.log_bound = Some(v);
        } else if s == "--then-live" {
            out.then_live = true;
        } else if s == "--ckpt-log-sync" {
            out.log_sync = true;
        } else if s == "--ckpt-lazy" {
            out.lazy = true;
        } else if let Some(env) = FLAGS.iter().find_map(|(f, env)| (s == *f).then_some(*env)) {
            out.settings.retain(|(e, _)| *e != env);
            out.settings.push((env, "on".into()));
        } else if s == "--ckpt-resume" {
            out.resume = true;
        } else if let Some(set) = SETTINGS
            .iter()
            .find(|set| s == set.option || s.starts_with(&format!("{}=", set.option)))
        {
            let v = match s.strip_prefix(&format!("{}=", set.option)) {
                Some(v) => v.to_string(),
                None => match it.next() {
                    Some(v) => v.to_string_lossy().into_owned(),
                    None => {
                        return Err(Error::Usage(format!(
                            "{} needs a value: {} VALUE (see --ckpt-help)",
                            set.option, set.option
                        )))
                    }
                },
            };
            (set.apply)(&mut Settings::default_run(), &v)
                .map_err(|m| Error::Usage(format!("{} {v}: {m}", set.option)))?;
            out.settings.retain(|(env, _)| *env != set.env);
            out.settings.push((set.env, v));
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
    match (&out.replay, &out.log) {
        (Some(_), None) => {
            return Err(Error::Usage(
                "--replay needs the log to replay: --replay start|IMAGE --log LOG".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::Usage(
                "--log names the log of a --replay: --replay start|IMAGE --log LOG".into(),
            ))
        }
        (Some(_), Some(_)) if out.restore.is_some() || out.resume || out.record.is_some() => {
            return Err(Error::Usage(
                "--replay excludes --restore, --ckpt-resume and --ckpt-record".into(),
            ))
        }
        _ => {}
    }
    if out.then_live && out.replay.is_none() {
        return Err(Error::Usage(
            "--then-live continues a replay: --replay start|IMAGE --log LOG --then-live".into(),
        ));
    }
    if out.until.is_some() && out.replay.is_none() {
        return Err(Error::Usage(
            "--until stops a replay: --replay start|IMAGE --log LOG --until N".into(),
        ));
    }
    if out.replay.is_some() && out.rest.len() > 1 {
        let extra = lossy(&out.rest[1..]).join(" ");
        return Err(Error::Usage(format!(
            "--replay runs the recorded run with its own arguments, so `{extra}` would be \
             ignored: remove it"
        )));
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
    answer_probe(program);
    let staged = std::env::var_os(ENV_REEXEC).is_some();
    if !staged {
        let original: Vec<OsString> = std::env::args_os().collect();
        let given = original.len();
        let parsed = parse_args(original)?;
        if parsed.help {
            print!("{HELP}");
            std::process::exit(0);
        }
        // A URL (`s3://…`) is an image in the local cache of object storage, uploaded
        // after each save (see `image::remote`).
        let file = parsed.file.as_deref().map(remote::resolve).transpose()?;
        let env_file = match std::env::var_os(ENV_FILE) {
            Some(f) => Some(remote::resolve(Path::new(&f))?),
            None => None,
        };
        // The run's image path, for `--ckpt-resume` and `--restore latest`.
        let image_path = || {
            file.clone()
                .or_else(|| env_file.clone())
                .unwrap_or_else(default_image_path)
        };
        let mut restore = match parsed.restore.as_deref() {
            Some(r) if remote::is_url(r) => Some(remote::fetch(r)?),
            Some(r) if r == Path::new("latest") && !r.exists() => {
                lifecycle::resolve_restore(r, &image_path(), program.crate_name)?
            }
            Some(r) if r.is_dir() => {
                lifecycle::resolve_restore(r, &image_path(), program.crate_name)?
            }
            Some(r) => Some(absolute(r)),
            None => None,
        };
        if parsed.resume {
            let path = image_path();
            // On another machine the cache is empty: the image on the store is the run's.
            if !path.exists() && remote::url_of(&path).is_some() {
                if let Err(e) = remote::fetch(Path::new(&remote::name_of(&path))) {
                    eprintln!("ckpt: no image downloaded for --ckpt-resume ({e})");
                }
            }
            restore = resume_target(&path)?;
            if restore.is_none() && !image_path().exists() {
                // No image at all: a recording killed before its first save is recovered
                // from its log's start (start_log decides).
                std::env::set_var(ENV_RESUME_LOG, "1");
            }
        }
        if let Some(k) = &parsed.key_file {
            std::env::set_var(image::signature::ENV_KEY_FILE, absolute(k));
        }
        if let Some(r) = &parsed.record {
            std::env::set_var(ENV_RECORD, absolute(r));
        }
        if let Some(k) = &parsed.log_keep {
            std::env::set_var(ENV_LOG_KEEP, k);
        }
        if let Some(b) = &parsed.log_bound {
            std::env::set_var(crate::replay::ENV_BOUND, b);
        }
        if parsed.log_sync {
            std::env::set_var(ENV_LOG_SYNC, "1");
        }
        if parsed.lazy {
            std::env::set_var(ENV_LAZY, "1");
        }
        if let Some(n) = parsed.until {
            std::env::set_var(ENV_REPLAY_UNTIL, n.to_string());
        }
        if parsed.then_live {
            std::env::set_var(ENV_REPLAY_THEN_LIVE, "1");
        }
        if let (Some(from), Some(log)) = (&parsed.replay, &parsed.log) {
            return Err(replay_exec(from, &absolute(log)));
        }
        for (env, value) in parsed.policies.iter().chain(&parsed.settings) {
            // Read by the component when the restore starts, or by `finish_setup`.
            std::env::set_var(env, value);
        }
        if restore.is_none() && parsed.rest.len() == given {
            // No ckpt option to hide from the program: no re-exec.
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
            // The saved run's settings, unless this command line (or the user's
            // environment) gives them again.
            for (k, v) in &header.options {
                if let Some(set) = SETTINGS.iter().find(|s| s.key == k) {
                    if std::env::var_os(set.env).is_none() {
                        env.push((set.env, v.into()));
                    }
                }
            }
        }
        if let Some(f) = &file {
            env.push((ENV_FILE, remote::name_of(f).into()));
        }
        return Err(reexec(&argv, &env));
    }
    std::env::remove_var(ENV_REEXEC);
    let restore = std::env::var_os(ENV_RESTORE).map(PathBuf::from);
    std::env::remove_var(ENV_RESTORE);
    let args: Vec<OsString> = std::env::args_os().collect();
    finish_setup(program, args, restore, None)
}

/// Where `--ckpt-record` writes, for the re-exec'd process.
const ENV_RECORD: &str = "CKPT_RECORD";
/// The log a replay reads, and the event it starts at.
const ENV_REPLAY_LOG: &str = "CKPT_REPLAY_LOG";
const ENV_REPLAY_FROM: &str = "CKPT_REPLAY_FROM";
const ENV_REPLAY_UNTIL: &str = "CKPT_REPLAY_UNTIL";
const ENV_REPLAY_THEN_LIVE: &str = "CKPT_REPLAY_THEN_LIVE";
/// `--ckpt-log-keep=all|last`.
const ENV_LOG_KEEP: &str = "CKPT_LOG_KEEP";
/// `--ckpt-log-sync`.
const ENV_LOG_SYNC: &str = "CKPT_LOG_SYNC";
/// `--ckpt-resume` found no image: a log of the same run may be recovered from its start.
const ENV_RESUME_LOG: &str = "CKPT_RESUME_LOG";

/// `--replay start|IMAGE --log LOG`: re-executes the program with the recorded run's
/// arguments (the log's, or the image's), the replay told through the environment.
fn replay_exec(from: &Path, log: &Path) -> Error {
    let header = match crate::replay::log::read_header(log) {
        Ok(h) => h,
        Err(e) => return e,
    };
    // The image this log continues (by its stamp: a kept copy under another name is the
    // same image).
    let continues = |h: &Header| !header.image.is_empty() && header.image_stamp == image_stamp(h);
    let mut env: Vec<(&str, OsString)> = vec![
        (ENV_REEXEC, "1".into()),
        (ENV_REPLAY_LOG, log.as_os_str().to_owned()),
    ];
    let argv: Vec<OsString>;
    if from == Path::new("start") && !from.exists() {
        if !header.image.is_empty() {
            return Error::Usage(format!(
                "{}: this log records a run restored from {}: replay it from there, with \
                 --replay {} --log {}",
                log.display(),
                header.image,
                header.image,
                log.display()
            ));
        }
        argv = header.args.iter().map(OsString::from).collect();
        env.push((ENV_REPLAY_FROM, "0".into()));
    } else {
        let img = absolute(from);
        let h = match image::read_header(&img) {
            Ok(h) => h,
            Err(e) => return e,
        };
        let at = if continues(&h) {
            // The log starts where this image was restored.
            Some("0".to_string())
        } else {
            h.options
                .iter()
                .find(|(k, _)| k == crate::replay::LOG_EVENT_KEY)
                .map(|(_, v)| v.clone())
        };
        let Some(at) = at else {
            return Error::Usage(format!(
                "{}: this image was not written while recording a log (--ckpt-record), so no \
                 log continues it; replay with --replay start",
                img.display()
            ));
        };
        argv = h.args.iter().map(OsString::from).collect();
        env.push((ENV_REPLAY_FROM, at.into()));
        env.push((ENV_RESTORE, img.into()));
    }
    reexec(&argv, &env)
}

/// Starts recording or replaying as the re-exec'd process was told.
fn start_log(
    program: &Program,
    args: &[OsString],
    fingerprint: &Fingerprint,
    restore: Option<&Path>,
) -> Result<()> {
    if std::env::var_os(ENV_RECORD).is_some() || std::env::var_os(ENV_REPLAY_LOG).is_some() {
        // Randomness drawn from here until the log starts is the same fixed stream in the
        // recording and the replaying process (std's map keys: see `rand::sys`).
        crate::replay::announce();
    }
    if let Some(rec) = std::env::var_os(ENV_RECORD) {
        std::env::remove_var(ENV_RECORD);
        let rec = PathBuf::from(rec);
        match std::env::var(ENV_LOG_KEEP).as_deref() {
            Ok("last") => crate::replay::keep_last_only(true),
            Ok("all") | Err(_) => {}
            Ok(other) => {
                return Err(Error::Usage(format!(
                    "{ENV_LOG_KEEP}={other:?}: expected `all` (the default) or `last`"
                )))
            }
        }
        std::env::remove_var(ENV_LOG_KEEP);
        let resume_log = std::env::var_os(ENV_RESUME_LOG).is_some();
        std::env::remove_var(ENV_RESUME_LOG);
        let image = restore.map(image::read_header).transpose()?;
        // Where the run's standard output stands (an image records it), and how much of
        // it a killed run had released.
        let option = |h: &Header, key: &str| {
            h.options
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let out_start = image
            .as_ref()
            .and_then(|h| option(h, crate::replay::LOG_OUT_KEY))
            .unwrap_or(0);
        let mut suppress = out_start;
        let mut expected = Vec::new();
        // A recovery: the log this run was recording when it was killed, from its image's
        // event (or from its start, when it was killed before its first image).
        let recovery = match (restore, &image) {
            (Some(img), Some(h)) if rec.exists() => {
                recovery_from(&rec, h, fingerprint)?.map(|(log, from)| {
                    let said = format!(
                        "{} continues {}: replaying its events {from}..{}",
                        rec.display(),
                        img.display(),
                        (log.header.first + log.events.len() as u64).saturating_sub(1),
                    );
                    (log, from, said)
                })
            }
            (None, None) if resume_log && rec.exists() => {
                recovery_from_start(&rec, args, fingerprint).map(|log| {
                    let said = format!(
                        "{} records this run, killed before its first image: replaying it \
                         from the start",
                        rec.display()
                    );
                    (log, 0, said)
                })
            }
            _ => None,
        };
        match recovery {
            Some((log, from, said)) => {
                suppress = suppress.max(crate::replay::released_in(&log));
                expected = crate::replay::released_ranges(&log);
                eprintln!(
                    "ckpt: recovery: {said} (output already released is not printed again), \
                     then going on live"
                );
                crate::replay::start_recovering(&rec, log, from)?;
            }
            None => new_log(
                program,
                args,
                fingerprint,
                &rec,
                restore.zip(image.as_ref()),
            )?,
        }
        let bound = match std::env::var(crate::replay::ENV_BOUND) {
            Ok(v) => crate::replay::Bound::parse(&v)
                .map_err(|m| Error::Usage(format!("{}={v:?}: {m}", crate::replay::ENV_BOUND)))?,
            Err(_) => crate::replay::Bound::default(),
        };
        std::env::remove_var(crate::replay::ENV_BOUND);
        crate::replay::set_bound(bound);
        crate::replay::set_sync(std::env::var_os(ENV_LOG_SYNC).is_some_and(|v| v == "1"));
        std::env::remove_var(ENV_LOG_SYNC);
        if let Err(e) = crate::io::commit::interpose(out_start, suppress, expected) {
            eprintln!(
                "ckpt: warning: standard output could not be routed through the log's \
                 output commit ({e}): after a kill, a recovery may print again what was \
                 printed after the last image"
            );
        }
    }
    if let Some(log) = std::env::var_os(ENV_REPLAY_LOG) {
        std::env::remove_var(ENV_REPLAY_LOG);
        let from = std::env::var(ENV_REPLAY_FROM)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        std::env::remove_var(ENV_REPLAY_FROM);
        let path = PathBuf::from(log);
        let l = crate::replay::log::read(&path)?;
        if from < l.header.first {
            return Err(Error::BadLog {
                path,
                detail: format!(
                    "the log starts at event {} (the events before the last image were \
                     dropped, --ckpt-log-keep=last): replay from that image",
                    l.header.first
                ),
            });
        }
        if l.header.sources != fingerprint.sources {
            return Err(Error::BadLog {
                path,
                detail: format!(
                    "recorded by another build of {} (sources {}, this build {}): replay it \
                     with the binary that recorded it",
                    l.header.program, l.header.sources, fingerprint.sources
                ),
            });
        }
        if let Some(n) = std::env::var(ENV_REPLAY_UNTIL)
            .ok()
            .and_then(|v| v.parse().ok())
        {
            crate::replay::set_until(n);
        }
        std::env::remove_var(ENV_REPLAY_UNTIL);
        crate::replay::set_then_live(std::env::var_os(ENV_REPLAY_THEN_LIVE).is_some());
        std::env::remove_var(ENV_REPLAY_THEN_LIVE);
        crate::replay::show_progress(
            std::env::var_os(crate::replay::ENV_PROGRESS).is_some_and(|v| v == "1"),
        );
        std::env::remove_var(crate::replay::ENV_PROGRESS);
        // The output is checked against the digests of what the recorded run released.
        let out_start = restore
            .and_then(|img| image::read_header(img).ok())
            .and_then(|h| {
                h.options
                    .iter()
                    .find(|(k, _)| k == crate::replay::LOG_OUT_KEY)
                    .and_then(|(_, v)| v.parse::<u64>().ok())
            })
            .unwrap_or(0);
        let expected = crate::replay::released_ranges(&l);
        crate::replay::start_replaying(&path, l, from);
        if !expected.is_empty() {
            if let Err(e) = crate::io::commit::interpose(out_start, 0, expected) {
                eprintln!(
                    "ckpt: warning: the replay's output cannot be checked against the log ({e})"
                );
            }
        }
    }
    Ok(())
}

/// Starts recording into a new log at `rec` (the run restored from `image`, if any).
fn new_log(
    program: &Program,
    args: &[OsString],
    fingerprint: &Fingerprint,
    rec: &Path,
    image: Option<(&Path, &Header)>,
) -> Result<()> {
    // A restored run's log continues its image: a replay starts from that image.
    let (image, image_stamp) = match image {
        Some((img, h)) => (img.to_string_lossy().into_owned(), image_stamp(h)),
        None => (String::new(), String::new()),
    };
    let mut b = [0u8; 8];
    let id = crate::rand::sys::raw_os_random(&mut b)
        .map(|()| u64::from_le_bytes(b))
        .map_err(|e| Error::io("drawing the log's identity", rec, e))?;
    let header = crate::replay::LogHeader {
        program: program.crate_name.into(),
        args: lossy(args),
        sources: fingerprint.sources.clone(),
        first: 0,
        image,
        image_stamp,
        id: format!("{id:016x}"),
        exe: std::env::current_exe()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    crate::replay::start_recording(rec, &header)
}

/// `--restore IMG --ckpt-record LOG` where LOG exists: if LOG is the log the run that
/// wrote IMG was recording (IMG names it) or the log of a run restored from IMG, the
/// restore is a recovery: the log read, and the event to replay from.
fn recovery_from(
    rec: &Path,
    h: &Header,
    fingerprint: &Fingerprint,
) -> Result<Option<(crate::replay::log::Log, u64)>> {
    // A file that is no log (or is damaged) is replaced by a new log, as before.
    let Ok(log) = crate::replay::log::read(rec) else {
        return Ok(None);
    };
    if log.header.sources != fingerprint.sources {
        return Ok(None);
    }
    let named = h
        .options
        .iter()
        .any(|(k, v)| k == crate::replay::LOG_ID_KEY && !v.is_empty() && *v == log.header.id);
    let from = if named {
        h.options
            .iter()
            .find(|(k, _)| k == crate::replay::LOG_EVENT_KEY)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    } else if !log.header.image_stamp.is_empty()
        && log.header.image_stamp == image_stamp(h)
        && log.header.first == 0
    {
        Some(0)
    } else {
        None
    };
    let Some(from) = from else { return Ok(None) };
    let end = log.header.first + log.events.len() as u64;
    if from < log.header.first || from > end {
        return Err(Error::BadLog {
            path: rec.into(),
            detail: format!(
                "the image continues at event {from}, but the log holds events {}..{end} \
                 (the events before its last image were dropped, --ckpt-log-keep=last): \
                 restore the newest image to recover",
                log.header.first
            ),
        });
    }
    Ok(Some((log, from)))
}

/// `--ckpt-resume --ckpt-record LOG` with no image: LOG, if it records this run (same
/// build, same arguments, from its start) and the run did not end.
fn recovery_from_start(
    rec: &Path,
    args: &[OsString],
    fingerprint: &Fingerprint,
) -> Option<crate::replay::log::Log> {
    let log = crate::replay::log::read(rec).ok()?;
    let same = log.header.sources == fingerprint.sources
        && log.header.image.is_empty()
        && log.header.first == 0
        && log.header.args == lossy(args);
    (same && !crate::replay::is_over(&log)).then_some(log)
}

/// What tells an image from a later one at the same path: `created:seq`.
fn image_stamp(h: &Header) -> String {
    format!("{}:{}", h.created_unix, lifecycle::seq_of(h))
}

/// `--ckpt-resume`: the image to restore, or `None` to start a new run (no image, or the
/// newest one belongs to a run that finished: said on stderr).
fn resume_target(path: &Path) -> Result<Option<PathBuf>> {
    if !path.exists() && lifecycle::generations(path).is_empty() {
        return Ok(None);
    }
    if path.exists() && image::is_finished(path)? {
        eprintln!(
            "ckpt: {} is the last image of a run that finished; starting a new run (restore it \
             explicitly with --restore to continue the finished run)",
            path.display()
        );
        return Ok(None);
    }
    lifecycle::latest(path).map(Some)
}

fn finish_setup(
    program: &'static Program,
    args: Vec<OsString>,
    restore: Option<PathBuf>,
    file: Option<PathBuf>,
) -> Result<Start> {
    let image_path = match file {
        Some(f) => f,
        None => match std::env::var_os(ENV_FILE) {
            Some(f) => remote::resolve(Path::new(&f))?,
            None => default_image_path(),
        },
    };
    // Consumed: a child process that is itself a ckpt program must not save to this
    // process's image.
    std::env::remove_var(ENV_FILE);
    // A run that could never save is refused before it does any work.
    image::check_writable(&image_path)?;
    let settings = Settings::from_env()?;
    let fingerprint = program.fingerprint();
    start_log(program, &args, &fingerprint, restore.as_deref())?;
    // The lock first: a second instance fails here, at once, naming the holder.
    let lock = lifecycle::take_lock(&image_path)?;
    let mut start = Start::Fresh;
    let mut last_image = None;
    if let Some(path) = restore {
        phase!("ckpt.restore", path = path.display());
        if let Some(key) = &settings.key {
            image::signature::verify(&path, key)?;
        }
        let lazy = std::env::var_os(ENV_LAZY).is_some_and(|v| v == "1");
        std::env::remove_var(ENV_LAZY);
        image::chunks::set_lazy(lazy);
        let img = image::read(&path, &crate::state::Limits::default());
        image::chunks::set_lazy(false);
        let img = img?;
        // Lazily restored arrays come in from here on.
        image::lazy::start();
        let differences = img.header.fingerprint.differences(&fingerprint);
        if !differences.is_empty() {
            return Err(Error::BuildMismatch {
                path,
                program: img.header.program.clone(),
                differences,
            });
        }
        let ours = path == image_path
            || lifecycle::generations(&image_path)
                .iter()
                .any(|g| g.1 == path);
        if ours {
            last_image = Some(path);
        }
        start = Start::Restore(Box::new(img));
    }
    let seq = lifecycle::last_seq(&image_path);
    let cfg = Config {
        program,
        fingerprint,
        args: lossy(&args),
        image_path: image_path.clone(),
        locks: Mutex::new(vec![(image_path, lock)]),
        settings,
        seq: AtomicU64::new(seq),
        last_image: Mutex::new(last_image),
    };
    if CONFIG.set(cfg).is_err() {
        return Err(Error::Usage(
            "the ckpt agent was started twice (two #[checkpointable] mains?)".into(),
        ));
    }
    Ok(start)
}

impl Config {
    /// The header of an image written now to `path`; `seq` is its sequence number at
    /// the run's image path (0 for another path).
    pub fn header(&self, path: &Path, seq: u64) -> Header {
        let created_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut options = self.settings.recorded.clone();
        if seq > 0 {
            options.push((lifecycle::SEQ_KEY.into(), seq.to_string()));
        }
        if let Some(n) = crate::replay::position() {
            options.push((crate::replay::LOG_EVENT_KEY.into(), n.to_string()));
            if let Some(id) = crate::replay::log_id() {
                options.push((crate::replay::LOG_ID_KEY.into(), id));
            }
            if let Some(p) = crate::io::commit::position() {
                options.push((crate::replay::LOG_OUT_KEY.into(), p.to_string()));
            }
        }
        Header {
            format: image::FORMAT_VERSION,
            fingerprint: self.fingerprint.clone(),
            created_unix,
            program: self.program.crate_name.into(),
            args: self.args.clone(),
            ckpt_file: Some(remote::name_of(path)),
            options,
        }
    }

    /// Takes (once per path and process) the advisory lock on `path`'s lock file.
    pub fn lock(&self, path: &Path) -> Result<()> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.iter().any(|(p, _)| p == path) {
            return Ok(());
        }
        let f = lifecycle::take_lock(path)?;
        locks.push((path.to_path_buf(), f));
        Ok(())
    }

    /// Writes an image of the running program to `path`: the lock, the sequence number
    /// and rotation (at the run's image path), then the image, in the background unless
    /// the save must be durable on return (see [`background`]). A save requested while
    /// the previous one is still being written waits for it, or is skipped with
    /// `--ckpt-overlap=skip` (returns `false`).
    pub fn write_image(
        &self,
        path: &Path,
        durable: bool,
        frames: &mut dyn FnMut(&mut crate::state::Encoder<'_>) -> Result<()>,
        components: &mut dyn FnMut(&mut crate::state::Encoder<'_>) -> Result<()>,
    ) -> Result<bool> {
        self.lock(path)?;
        if self.settings.overlap == background::Overlap::Skip && !durable && background::busy() {
            phase!("ckpt.skipped", path = path.display());
            return Ok(false);
        }
        background::settle()?;
        let main = path == self.image_path;
        let prev = self.seq.load(Ordering::Relaxed);
        let seq = if main { prev + 1 } else { 0 };
        if main {
            lifecycle::rotate(path, self.settings.keep, prev);
        }
        let header = self.header(path, seq);
        triggers::saving(true);
        // The log up to this image is written first: a replay from it starts there.
        crate::replay::flush();
        // On a TAP whose frames wait for images, the images are waited for anyway: from
        // the run's first save, before the stack exists (see `background::mode`).
        let net = &self.settings.net;
        let commits_output = net.tap.is_some() && net.commit == crate::net::config::Commit::Save;
        let mode = if durable || commits_output {
            background::Mode::Sync
        } else {
            background::mode(self.settings.sync)
        };
        let body =
            crate::replay::internal(|| image::encode_body(path, &header, frames, components));
        // An image on object storage is incremental: a save uploads only new chunks.
        let incremental = self.settings.incremental || remote::url_of(path).is_some();
        let chunked = incremental.then_some(self.settings.compress);
        let r = body.and_then(|mut body| {
            let arrays = body.set_chunked(chunked);
            if mode != background::Mode::Sync {
                crate::fs::journal::open_window(path);
            }
            let commit = background::Commit {
                path: path.to_path_buf(),
                main,
                seq,
                #[cfg(feature = "net")]
                net_held: crate::net::held(),
                #[cfg(not(feature = "net"))]
                net_held: 0,
                arrays,
            };
            background::write(mode, body, self.settings.key.clone(), commit)
        });
        triggers::saving(false);
        r.map(|()| true)
    }

    /// The descriptors of the image locks this run holds (a forked writer keeps them).
    pub fn lock_fds(&self) -> Vec<i32> {
        use std::os::unix::io::AsRawFd;
        let locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.iter().map(|(_, f)| f.as_raw_fd()).collect()
    }

    /// Removes the temporary and previous-image files of every image path this run
    /// locked (before the process exits).
    pub fn sweep(&self) {
        let locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        for (p, _) in locks.iter() {
            lifecycle::sweep_stale(p);
        }
    }

    /// At a normal end: removes the lock files of image paths that hold no image (a run
    /// that never saved leaves nothing behind).
    pub fn release_unused_locks(&self) {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.retain(|(p, _)| {
            let unused = !p.exists() && lifecycle::generations(p).is_empty();
            if unused {
                let _ = std::fs::remove_file(lifecycle::lock_file(p));
            }
            !unused
        });
    }
}

/// `CKPT_PROBE=build` (see [`image::probe`]): prints this build's fingerprint and
/// executable identity and exits, before anything else happens.
fn answer_probe(program: &Program) {
    use image::probe::{BuildProbe, PROBE_BUILD, PROBE_ENV};
    let Some(asked) = std::env::var_os(PROBE_ENV) else {
        return;
    };
    if asked != PROBE_BUILD {
        eprintln!(
            "ckpt: {PROBE_ENV}={} is not a probe this build answers (it answers \
             {PROBE_ENV}={PROBE_BUILD})",
            asked.to_string_lossy()
        );
        std::process::exit(2);
    }
    let answer = BuildProbe {
        fingerprint: program.fingerprint(),
        exe: crate::state::code::identity().map(str::to_string),
    };
    print!("{}", answer.render());
    std::process::exit(0);
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
    fn settings_take_a_value_in_either_form_and_are_checked() {
        let p = parse_args(os(&[
            "app",
            "--ckpt-keep",
            "3",
            "x",
            "--ckpt-every=30s",
            "--ckpt-signals=off",
            "--ckpt-key-file",
            "k",
        ]))
        .unwrap();
        assert_eq!(
            p.settings,
            [
                ("CKPT_KEEP", "3".to_string()),
                ("CKPT_EVERY", "30s".to_string()),
                ("CKPT_SIGNALS", "off".to_string())
            ]
        );
        assert_eq!(p.key_file, Some(PathBuf::from("k")));
        assert_eq!(p.rest, os(&["app", "x"]));
        for (bad, says) in [
            (
                &["app", "--ckpt-keep", "0"][..],
                "--ckpt-keep 0: expected a number",
            ),
            (
                &["app", "--ckpt-every=5"],
                "--ckpt-every 5: expected a duration",
            ),
            (&["app", "--ckpt-grace"], "--ckpt-grace needs a value"),
            (&["app", "--ckpt-finished=later"], "`keep` or `remove`"),
        ] {
            let m = parse_args(os(bad)).unwrap_err().to_string();
            assert!(m.contains(says), "{bad:?}: {m}");
        }
    }

    #[test]
    fn settings_from_the_environment_name_the_variable() {
        std::env::set_var("CKPT_GRACE", "soon");
        let e = Settings::from_env().unwrap_err().to_string();
        assert!(e.contains("CKPT_GRACE=\"soon\""), "{e}");
        assert!(std::env::var_os("CKPT_GRACE").is_none(), "not consumed");
        std::env::set_var("CKPT_KEEP", "4");
        let s = Settings::from_env().unwrap();
        assert_eq!(s.keep, 4);
        assert_eq!(s.recorded, [("keep".to_string(), "4".to_string())]);
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
