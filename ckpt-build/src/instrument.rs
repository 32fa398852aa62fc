//! The build-script shell around [`analyze`]: environment, files, cargo directives.
//!
//! Everything that touches the environment or spawns a process lives here, so the
//! analysis itself stays a pure function.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use xxhash_rust::xxh3::xxh3_64;

use ckpt::image::Fingerprint;

use crate::analysis::{analyze, AnalysisError, ANALYSIS_FILE_NAME};

/// Analyses the package being built and exports the analysis to its crates.
///
/// Call it from `build.rs`. It writes `ckpt-analysis.txt` into `OUT_DIR` and prints
/// `cargo:rustc-env=CKPT_ANALYSIS=<path>`, `cargo:rustc-env=CKPT_ANALYSIS_HASH=<hash>`
/// and `cargo:rerun-if-changed` for the source directories. It never panics: a problem
/// becomes a `cargo:warning`, and the macro then falls back to what it sees locally.
///
/// It also prints the checkpointability [report](mod@crate::report) as
/// ``cargo:warning=ckpt: FILE:LINE:COL: in `fn`: REASON`` lines, one per OS call in
/// checkpointable code that ckpt cannot virtualize. These do not fail the build unless
/// deny mode is on: `CKPT_REPORT=deny` in the environment, or [`Config::deny`].
///
/// The same as `Config::new().instrument()`.
pub fn instrument() {
    Config::new().instrument();
}

/// Options of [`instrument`](Config::instrument), for a `build.rs` that wants more than
/// [`instrument()`].
///
/// In `fn main()` of `build.rs`, to make OS calls ckpt cannot virtualize in checkpointable
/// code fail the build:
///
/// ```no_run
/// ckpt_build::Config::new().deny().instrument();
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a Config does nothing until `.instrument()` is called"]
pub struct Config {
    deny: bool,
}

impl Config {
    /// The defaults: the report only warns (unless `CKPT_REPORT=deny` is set).
    pub fn new() -> Self {
        Self::default()
    }

    /// Deny mode: every OS call in checkpointable code that ckpt cannot virtualize (the
    /// [report](mod@crate::report)'s findings) is a compile error, as if `CKPT_REPORT=deny`
    /// were set.
    ///
    /// It exports `CKPT_REPORT=deny` to the package's crates, so every `#[checkpointable]`
    /// item behaves like `#[checkpointable(deny)]` and reports the calls inside it with
    /// their spans; and the build script itself fails, with the findings as warnings and
    /// an error, for those the macro cannot see: calls of functions declared in `extern`
    /// blocks elsewhere in the package, and code made checkpointable by an annotated
    /// `mod foo;` declaration.
    pub fn deny(mut self) -> Self {
        self.deny = true;
        self
    }

    /// Runs the build-script side of ckpt: see [`instrument()`]. In deny mode it exits
    /// the build script with status 1 when a finding is beyond the macro's reach.
    pub fn instrument(&self) {
        let out = directives(self.deny);
        for line in &out.lines {
            println!("{line}");
        }
        if let Some(error) = out.error {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

/// What the build script prints, and the error that fails it (deny mode only).
struct Directives {
    lines: Vec<String>,
    error: Option<String>,
}

/// How `CKPT_REPORT` reads: `Some(true)` for `deny`, `Some(false)` for `warn` or unset,
/// `None` for anything else.
fn env_denies(value: Option<&str>) -> Option<bool> {
    match value.map(str::trim) {
        None | Some("") => Some(false),
        Some(v) if v.eq_ignore_ascii_case("deny") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("warn") => Some(false),
        Some(_) => None,
    }
}

/// What a build script learns from cargo's environment.
struct BuildEnv {
    root: PathBuf,
    out_dir: PathBuf,
    name: String,
    version: String,
    /// `rustc -V`, or why it could not be run.
    rustc: Result<String, AnalysisError>,
    target: String,
    /// Deny mode ([`Config::deny`] or `CKPT_REPORT=deny`).
    deny: bool,
    /// `CKPT_REPORT` when it is neither `deny` nor `warn`.
    bad_report_var: Option<String>,
}

/// The cargo directives [`Config::instrument`] prints, one per line.
fn directives(deny: bool) -> Directives {
    let (Some(root), Some(out_dir)) = (env_path("CARGO_MANIFEST_DIR"), env_path("OUT_DIR")) else {
        return Directives {
            lines: vec![
                "cargo:warning=ckpt: ckpt_build::instrument() must run from a build script \
                 (CARGO_MANIFEST_DIR or OUT_DIR is not set)"
                    .to_owned(),
            ],
            error: None,
        };
    };
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let var = env::var("CKPT_REPORT").ok();
    let from_env = env_denies(var.as_deref());
    directives_for(&BuildEnv {
        root,
        out_dir,
        name: env::var("CARGO_PKG_NAME").unwrap_or_default(),
        version: env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        rustc: rustc_version(Path::new(&rustc)),
        target: env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned()),
        deny: deny || from_env == Some(true),
        bad_report_var: var.filter(|_| from_env.is_none()),
    })
}

/// Analyses, writes the file and returns the directives; no environment access.
fn directives_for(build: &BuildEnv) -> Directives {
    let mut out = Vec::new();
    let error = analyze_into(build, &mut out);
    Directives { lines: out, error }
}

/// Appends the directives to `out`; returns the error that fails the build, if any.
fn analyze_into(build: &BuildEnv, out: &mut Vec<String>) -> Option<String> {
    let rustc_v = match &build.rustc {
        Ok(v) => v.clone(),
        Err(e) => {
            out.push(format!("cargo:warning=ckpt: {e}"));
            "unknown".to_owned()
        }
    };
    for dir in ["src", "examples", "tests", "benches", "build.rs"] {
        if build.root.join(dir).exists() {
            out.push(format!("cargo:rerun-if-changed={dir}"));
        }
    }
    out.push("cargo:rerun-if-env-changed=CKPT_REPORT".to_owned());
    // ckpt's `getrandom` (the source of std's `HashMap` keys, logged while recording) is
    // found by std at run time by name: the program exports it.
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux" || os == "android") {
        out.push("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol=getrandom".to_owned());
    }
    if let Some(v) = &build.bad_report_var {
        out.push(format!(
            "cargo:warning=ckpt: CKPT_REPORT={v:?} is neither `deny` nor `warn`; the report only warns"
        ));
    }
    if build.deny {
        // Read by `#[checkpointable]`, which runs inside rustc.
        out.push("cargo:rustc-env=CKPT_REPORT=deny".to_owned());
    }
    let analysis = match analyze(&build.root, &build.name, &build.version) {
        Ok(a) => a,
        Err(e) => {
            out.push(format!("cargo:warning=ckpt: {e}"));
            return None;
        }
    };
    for w in &analysis.warnings {
        out.push(format!(
            "cargo:warning={}",
            w.to_string().replace('\n', " ")
        ));
    }
    // The checkpointability report: warnings; in deny mode the macro makes those it sees
    // errors, and the build fails here for the others.
    let (report, unseen) = crate::report::report_and_unseen(&build.root, &analysis);
    for finding in &report.findings {
        out.push(format!("cargo:warning=ckpt: {finding}"));
    }
    let error = (build.deny && !unseen.is_empty()).then(|| deny_error(&unseen));
    let text = analysis.render(&rustc_v, &build.target);
    let path = build.out_dir.join(ANALYSIS_FILE_NAME);
    if let Err(e) = fs::write(&path, &text) {
        out.push(format!(
            "cargo:warning=ckpt: cannot write {}: {e}",
            path.display()
        ));
        return error;
    }
    let path = fs::canonicalize(&path).unwrap_or(path);
    out.push(format!("cargo:rustc-env=CKPT_ANALYSIS={}", path.display()));
    out.push(format!(
        "cargo:rustc-env=CKPT_ANALYSIS_HASH={:016x}",
        xxh3_64(text.as_bytes())
    ));
    error
}

/// The error of deny mode for the findings `#[checkpointable]` cannot report itself.
fn deny_error(unseen: &[crate::Finding]) -> String {
    let mut msg = format!(
        "ckpt: deny mode (CKPT_REPORT=deny): {} OS call{} in checkpointable code that ckpt \
         cannot virtualize and #[checkpointable] cannot report itself (calls of functions \
         declared in `extern` blocks, code in the file of an annotated `mod` declaration):",
        unseen.len(),
        if unseen.len() == 1 { "" } else { "s" },
    );
    for f in unseen {
        msg.push_str(&format!("\n  {f}"));
    }
    msg
}

fn env_path(key: &str) -> Option<PathBuf> {
    env::var_os(key).map(PathBuf::from)
}

/// The trimmed output of `<rustc> -V` (`"rustc 1.82.0 (f6e511eec 2024-10-15)"`).
pub fn rustc_version(rustc: &Path) -> Result<String, AnalysisError> {
    let out = run(rustc, "-V")?;
    Ok(out.trim().to_owned())
}

/// The host triple of `<rustc>` (from `rustc -vV`), for computing a fingerprint outside a
/// build script, where `TARGET` is not set.
pub fn host_target(rustc: &Path) -> Result<String, AnalysisError> {
    let out = run(rustc, "-vV")?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| {
            AnalysisError::Toolchain(format!("`{} -vV` printed no `host:` line", rustc.display()))
        })
}

fn run(rustc: &Path, flag: &str) -> Result<String, AnalysisError> {
    let out = Command::new(rustc).arg(flag).output().map_err(|e| {
        AnalysisError::Toolchain(format!("cannot run `{} {flag}`: {e}", rustc.display()))
    })?;
    if !out.status.success() {
        return Err(AnalysisError::Toolchain(format!(
            "`{} {flag}` failed: {}",
            rustc.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The build fingerprint of crate `crate_name` of the package at `package_root`, as a
/// build of it with the current toolchain would record it in an image.
///
/// For tests that compare an image header with the build: uses `$RUSTC` (or `rustc`)
/// and `$TARGET` (or the host triple).
pub fn fingerprint_of(
    package_root: &Path,
    package_name: &str,
    version: &str,
    crate_name: &str,
) -> Result<Fingerprint, AnalysisError> {
    let rustc = PathBuf::from(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    let rustc_v = rustc_version(&rustc)?;
    let target = match env::var("TARGET") {
        Ok(t) => t,
        Err(_) => host_target(&rustc)?,
    };
    let analysis = analyze(package_root, package_name, version)?;
    analysis
        .fingerprint_of(crate_name, &rustc_v, &target)
        .ok_or_else(|| AnalysisError::NoSuchCrate {
            package: package_name.to_owned(),
            crate_name: crate_name.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package root with `src/` and `out/`, removed on drop.
    fn temp(tag: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ckpt-build-unit-{tag}-"))
            .tempdir()
            .expect("temp dir");
        fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        fs::create_dir_all(dir.path().join("out")).expect("mkdir");
        dir
    }

    fn build(root: &Path, rustc: Result<String, AnalysisError>) -> BuildEnv {
        BuildEnv {
            root: root.to_path_buf(),
            out_dir: root.join("out"),
            name: "demo-pkg".to_owned(),
            version: "0.1.0".to_owned(),
            rustc,
            target: "x86_64-unknown-linux-gnu".to_owned(),
            deny: false,
            bad_report_var: None,
        }
    }

    #[test]
    fn writes_the_file_and_exports_its_path_and_hash() {
        let dir = temp("ok");
        let root = dir.path();
        fs::write(root.join("src/lib.rs"), "#[checkpointable] fn f() {}").expect("write");
        let out = directives_for(&build(root, Ok("rustc 1.95.0".to_owned())));
        assert_eq!(out.error, None);
        let lines = out.lines;
        let file = fs::canonicalize(root.join("out").join(ANALYSIS_FILE_NAME)).expect("file");
        let text = fs::read_to_string(&file).expect("read");
        assert!(
            text.starts_with("ckpt-analysis 1\ncrate demo_pkg\n"),
            "{text}"
        );
        assert!(
            text.contains("\trustc 1.95.0\tx86_64-unknown-linux-gnu\nfn f\n"),
            "{text}"
        );
        assert_eq!(
            lines,
            [
                "cargo:rerun-if-changed=src".to_owned(),
                "cargo:rerun-if-env-changed=CKPT_REPORT".to_owned(),
                format!("cargo:rustc-env=CKPT_ANALYSIS={}", file.display()),
                format!(
                    "cargo:rustc-env=CKPT_ANALYSIS_HASH={:016x}",
                    xxh3_64(text.as_bytes())
                ),
            ]
        );
    }

    #[test]
    fn problems_become_warnings_not_panics() {
        let dir = temp("warn");
        let root = dir.path();
        fs::write(root.join("src/lib.rs"), "mod bad; fn (").expect("write");
        let lines = directives_for(&build(
            root,
            Err(AnalysisError::Toolchain("cannot run `rustc -V`".to_owned())),
        ))
        .lines;
        assert_eq!(lines[0], "cargo:warning=ckpt: cannot run `rustc -V`");
        assert!(
            lines[3].starts_with("cargo:warning=ckpt: cannot parse src/lib.rs: "),
            "{lines:?}"
        );
        assert!(lines
            .iter()
            .any(|l| l.starts_with("cargo:rustc-env=CKPT_ANALYSIS=")));

        let mut gone = build(root, Ok("r".to_owned()));
        gone.out_dir = root.join("no/such/dir");
        let lines = directives_for(&gone).lines;
        assert!(
            lines.last().is_some_and(|l| l.contains("cannot write")),
            "{lines:?}"
        );
    }

    /// A checkpointable function (the macro sees it), a call of an `extern` function and
    /// a file made checkpointable by its `mod` declaration (the macro sees neither).
    fn os_calls(tag: &str) -> tempfile::TempDir {
        let dir = temp(tag);
        let root = dir.path();
        fs::write(
            root.join("src/lib.rs"),
            "extern \"C\" { fn c_twice(x: i32) -> i32; }\n\
             #[checkpointable] fn f() { let _ = unsafe { c_twice(libc::getpid()) }; }\n\
             #[checkpointable] mod inner;\n",
        )
        .expect("write");
        fs::write(
            root.join("src/inner.rs"),
            "pub fn g() { std::process::abort() }\n",
        )
        .expect("write");
        dir
    }

    #[test]
    fn without_deny_mode_findings_only_warn() {
        let dir = os_calls("warn-only");
        let root = dir.path();
        let out = directives_for(&build(root, Ok("r".to_owned())));
        assert_eq!(out.error, None);
        let warnings = out
            .lines
            .iter()
            .filter(|l| l.starts_with("cargo:warning=ckpt: src/"));
        assert_eq!(warnings.count(), 3, "{:?}", out.lines);
        assert!(!out.lines.iter().any(|l| l.contains("CKPT_REPORT=deny")));
    }

    #[test]
    fn deny_mode_exports_the_mode_and_fails_for_what_the_macro_cannot_see() {
        let dir = os_calls("deny");
        let root = dir.path();
        let mut env = build(root, Ok("r".to_owned()));
        env.deny = true;
        let out = directives_for(&env);
        assert!(out
            .lines
            .contains(&"cargo:rustc-env=CKPT_REPORT=deny".to_owned()));
        let warnings = out
            .lines
            .iter()
            .filter(|l| l.starts_with("cargo:warning=ckpt: src/"));
        assert_eq!(warnings.count(), 3, "{:?}", out.lines);
        let error = out.error.expect("deny mode fails");
        assert!(error.contains("2 OS calls"), "{error}");
        assert!(
            error.contains("\n  src/inner.rs:1:14: in `g`: `std::process::abort` ends the process"),
            "{error}"
        );
        assert!(
            error.contains(
                "\n  src/lib.rs:2:45: in `f`: `c_twice` is declared in an `extern` block"
            ),
            "{error}"
        );
        // `libc::getpid` is the macro's to report, with its span.
        assert!(!error.contains("libc::getpid"), "{error}");

        fs::write(
            root.join("src/lib.rs"),
            "#[checkpointable] fn f() { unsafe { libc::getpid() }; }\n",
        )
        .expect("write");
        assert_eq!(directives_for(&env).error, None);
    }

    #[test]
    fn the_report_variable() {
        assert_eq!(env_denies(None), Some(false));
        assert_eq!(env_denies(Some("warn")), Some(false));
        assert_eq!(env_denies(Some(" DENY ")), Some(true));
        assert_eq!(env_denies(Some("error")), None);
        let dir = temp("bad-var");
        let root = dir.path();
        let mut env = build(root, Ok("r".to_owned()));
        env.bad_report_var = Some("error".to_owned());
        let lines = directives_for(&env).lines;
        assert!(
            lines
                .iter()
                .any(|l| l.contains("CKPT_REPORT=\"error\" is neither")),
            "{lines:?}"
        );
    }
}
