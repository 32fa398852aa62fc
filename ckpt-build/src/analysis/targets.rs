//! Cargo's target auto-discovery, the part of it ckpt needs.
//!
//! Only the conventional layout is followed (`[[bin]] path = ...` overrides in
//! `Cargo.toml` are not read): a target outside it is simply absent from the analysis,
//! and its `#[checkpointable]` functions fall back to what the macro sees locally.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The kind of a cargo target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// `src/lib.rs`.
    Lib,
    /// `src/main.rs` or `src/bin/*`.
    Bin,
    /// `examples/*`.
    Example,
    /// `tests/*`.
    Test,
    /// `benches/*`.
    Bench,
}

/// One target: its crate name and root file (relative to the package root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) crate_name: String,
    pub(crate) kind: TargetKind,
    pub(crate) root: PathBuf,
}

/// Lists the targets of the package at `root`, lib first, then main, then the
/// directories in the order `src/bin`, `examples`, `tests`, `benches`, each sorted.
///
/// Fails only when `root` itself cannot be read.
pub(crate) fn discover(root: &Path, package_name: &str) -> io::Result<Vec<Target>> {
    fs::read_dir(root)?;
    let pkg_crate = crate_name(package_name);
    let mut out = Vec::new();
    if root.join("src/lib.rs").is_file() {
        out.push(Target {
            crate_name: pkg_crate.clone(),
            kind: TargetKind::Lib,
            root: PathBuf::from("src/lib.rs"),
        });
    }
    if root.join("src/main.rs").is_file() {
        out.push(Target {
            crate_name: pkg_crate,
            kind: TargetKind::Bin,
            root: PathBuf::from("src/main.rs"),
        });
    }
    for (dir, kind) in [
        ("src/bin", TargetKind::Bin),
        ("examples", TargetKind::Example),
        ("tests", TargetKind::Test),
        ("benches", TargetKind::Bench),
    ] {
        out.extend(dir_targets(root, dir, kind));
    }
    Ok(out)
}

/// `dir/*.rs` and `dir/*/main.rs`, sorted by crate name.
fn dir_targets(root: &Path, dir: &str, kind: TargetKind) -> Vec<Target> {
    let Ok(entries) = fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_file() {
            if let Some(stem) = name.strip_suffix(".rs") {
                out.push(Target {
                    crate_name: crate_name(stem),
                    kind,
                    root: Path::new(dir).join(name),
                });
            }
        } else if path.join("main.rs").is_file() {
            out.push(Target {
                crate_name: crate_name(name),
                kind,
                root: Path::new(dir).join(name).join("main.rs"),
            });
        }
    }
    out.sort_by(|a, b| a.crate_name.cmp(&b.crate_name).then(a.root.cmp(&b.root)));
    out
}

/// The crate name of a target name: `-` becomes `_`, as cargo does for `CARGO_CRATE_NAME`.
pub(crate) fn crate_name(target_name: &str) -> String {
    target_name.replace('-', "_")
}
