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
/// It also prints the checkpointability [report](crate::report) as
/// ``cargo:warning=ckpt: FILE:LINE:COL: in `fn`: REASON`` lines, one per OS call in
/// checkpointable code that ckpt cannot virtualize. These never fail the build (also not
/// with `CKPT_REPORT=deny`, whose deny mode is planned on the macro side).
pub fn instrument() {
    for line in directives() {
        println!("{line}");
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
}

/// The cargo directives [`instrument`] prints, one per line.
fn directives() -> Vec<String> {
    let (Some(root), Some(out_dir)) = (env_path("CARGO_MANIFEST_DIR"), env_path("OUT_DIR")) else {
        return vec![
            "cargo:warning=ckpt: ckpt_build::instrument() must run from a build script \
             (CARGO_MANIFEST_DIR or OUT_DIR is not set)"
                .to_owned(),
        ];
    };
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    directives_for(&BuildEnv {
        root,
        out_dir,
        name: env::var("CARGO_PKG_NAME").unwrap_or_default(),
        version: env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        rustc: rustc_version(Path::new(&rustc)),
        target: env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned()),
    })
}

/// Analyses, writes the file and returns the directives; no environment access.
fn directives_for(build: &BuildEnv) -> Vec<String> {
    let mut out = Vec::new();
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
    let analysis = match analyze(&build.root, &build.name, &build.version) {
        Ok(a) => a,
        Err(e) => {
            out.push(format!("cargo:warning=ckpt: {e}"));
            return out;
        }
    };
    for w in &analysis.warnings {
        out.push(format!(
            "cargo:warning={}",
            w.to_string().replace('\n', " ")
        ));
    }
    // The checkpointability report: warnings only, never a failed build.
    for finding in &crate::report::report_for(&build.root, &analysis).findings {
        out.push(format!("cargo:warning=ckpt: {finding}"));
    }
    let text = analysis.render(&rustc_v, &build.target);
    let path = build.out_dir.join(ANALYSIS_FILE_NAME);
    if let Err(e) = fs::write(&path, &text) {
        out.push(format!(
            "cargo:warning=ckpt: cannot write {}: {e}",
            path.display()
        ));
        return out;
    }
    let path = fs::canonicalize(&path).unwrap_or(path);
    out.push(format!("cargo:rustc-env=CKPT_ANALYSIS={}", path.display()));
    out.push(format!(
        "cargo:rustc-env=CKPT_ANALYSIS_HASH={:016x}",
        xxh3_64(text.as_bytes())
    ));
    out
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

    fn temp(tag: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("ckpt-build-unit-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).expect("mkdir");
        fs::create_dir_all(dir.join("out")).expect("mkdir");
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
        }
    }

    #[test]
    fn writes_the_file_and_exports_its_path_and_hash() {
        let root = temp("ok");
        fs::write(root.join("src/lib.rs"), "#[checkpointable] fn f() {}").expect("write");
        let lines = directives_for(&build(&root, Ok("rustc 1.95.0".to_owned())));
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
                format!("cargo:rustc-env=CKPT_ANALYSIS={}", file.display()),
                format!(
                    "cargo:rustc-env=CKPT_ANALYSIS_HASH={:016x}",
                    xxh3_64(text.as_bytes())
                ),
            ]
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn problems_become_warnings_not_panics() {
        let root = temp("warn");
        fs::write(root.join("src/lib.rs"), "mod bad; fn (").expect("write");
        let lines = directives_for(&build(
            &root,
            Err(AnalysisError::Toolchain("cannot run `rustc -V`".to_owned())),
        ));
        assert_eq!(lines[0], "cargo:warning=ckpt: cannot run `rustc -V`");
        assert!(
            lines[2].starts_with("cargo:warning=ckpt: cannot parse src/lib.rs: "),
            "{lines:?}"
        );
        assert!(lines
            .iter()
            .any(|l| l.starts_with("cargo:rustc-env=CKPT_ANALYSIS=")));

        let mut gone = build(&root, Ok("r".to_owned()));
        gone.out_dir = root.join("no/such/dir");
        let lines = directives_for(&gone);
        assert!(
            lines.last().is_some_and(|l| l.contains("cannot write")),
            "{lines:?}"
        );
        let _ = fs::remove_dir_all(&root);
    }
}
