//! The workdir example (a std-only program that changes into `work/` and renames and
//! removes files by relative path, saving between the steps) killed with SIGKILL at every
//! save point and restored, from the directory it was started in and from another one:
//! the restore changes back into `work/`, and puts back what the killed run renamed or
//! removed after the image it restores, so `work/` ends byte-identical to an
//! uninterrupted run's. A restore whose working directory is gone fails naming it, unless
//! `--ckpt-cwd=current`; `cargo ckpt inspect` shows the directory and the pending renames.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test workdir` alone).

mod support;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ckpt_build::{inspect, InspectOptions};
use support::*;

const IMAGE: &str = "workdir.ckpt";
const ARGS: &[&str] = &["--parts", "3"];
/// Saves of a run with `ARGS`: one before the parts, three per part.
const SAVES: u32 = 10;

/// `workdir ARGS` in `dir`, killed right after its `crash_after`-th image if given; none
/// of ckpt's variables from the test's own environment.
fn workdir(dir: &Path, args: &[&str], crash_after: Option<u32>) -> Output {
    let mut cmd = Command::new(example("workdir"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in [
        "CKPT_CRASH_AFTER_SAVES",
        "CKPT_FILE",
        "CKPT_CWD",
        "CKPT_ENV",
        "CKPT_FILES",
        "CKPT_TIME",
    ] {
        cmd.env_remove(k);
    }
    if let Some(n) = crash_after {
        cmd.env("CKPT_CRASH_AFTER_SAVES", n.to_string());
    }
    cmd.output().expect("spawn workdir")
}

fn killed(o: &Output) -> bool {
    o.status.signal() == Some(libc::SIGKILL)
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary paths")
}

/// Every file under `dir` (relative path -> contents), ckpt's `*.ckpt*` files excepted.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.file_name().unwrap().to_string_lossy().contains(".ckpt") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The uninterrupted run: its files and standard output.
fn uninterrupted() -> (BTreeMap<PathBuf, Vec<u8>>, String) {
    let d = TempDir::new("workdir-clean");
    let out = workdir(d.path(), ARGS, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = files(d.path());
    assert!(
        files.contains_key(Path::new("work/index.txt"))
            && files.contains_key(Path::new("work/part2.txt")),
        "{:?}",
        files.keys()
    );
    (files, stdout(&out))
}

/// Runs fresh, killed after image `n`; then a restore of that image saving to another
/// image (so the first keeps its journal), killed after its first save: the renames and
/// removals it made after image `n` are in that image's journal; then the restore of image
/// `n` again, to the end. Every restore runs in `restore_dir` (`None`: the run's own).
fn killed_at(n: u32, restore_dir: Option<&Path>) -> (TempDir, String) {
    let d = TempDir::new(&format!("workdir-at-{n}"));
    let first = workdir(d.path(), ARGS, Some(n));
    assert!(
        killed(&first),
        "run with a kill after image {n}: {}",
        stderr(&first)
    );
    let image = d.path().join(IMAGE);
    let side = d.path().join("side.ckpt");
    let at = restore_dir.unwrap_or(d.path());
    let second = workdir(
        at,
        &["--restore", arg(&image), "--ckpt-file", arg(&side)],
        Some(1),
    );
    assert!(
        killed(&second) || (n == SAVES && second.status.success()),
        "restore of image {n} saving elsewhere: {}",
        stderr(&second)
    );
    let last = workdir(at, &["--restore", arg(&image)], None);
    assert!(
        last.status.success(),
        "second restore of image {n} failed: {}",
        stderr(&last)
    );
    (d, stdout(&last))
}

#[test]
fn restores_at_every_save_point_match_an_uninterrupted_run() {
    let (want, base_out) = uninterrupted();
    let elsewhere = TempDir::new("workdir-elsewhere");
    for n in 1..=SAVES {
        for from_elsewhere in [false, true] {
            let restore_dir = from_elsewhere.then(|| elsewhere.path());
            let (d, out) = killed_at(n, restore_dir);
            let got = files(d.path());
            let why = format!(
                "kill after image {n}, restored from {}",
                if from_elsewhere {
                    "another directory"
                } else {
                    "its own"
                }
            );
            for (p, bytes) in &want {
                assert_eq!(
                    got.get(p).map(|b| String::from_utf8_lossy(b).into_owned()),
                    Some(String::from_utf8_lossy(bytes).into_owned()),
                    "{why}: {} differs",
                    p.display()
                );
            }
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "{why}: other files"
            );
            assert!(
                base_out.ends_with(&out) && out.ends_with("result: 3 parts\n"),
                "{why}: the last restore's output is not a suffix of the uninterrupted one's:\n{out}"
            );
            assert!(
                files(elsewhere.path()).is_empty(),
                "{why}: the restored run wrote into the directory it was started from"
            );
        }
    }
}

#[test]
fn a_restore_whose_working_directory_is_gone_names_it() {
    let d = TempDir::new("workdir-gone");
    let first = workdir(d.path(), ARGS, Some(2));
    assert!(killed(&first), "{}", stderr(&first));
    let work = std::fs::canonicalize(d.path().join("work")).unwrap();
    let image = d.path().join(IMAGE);
    let aside = d.path().join("work-aside");
    std::fs::rename(&work, &aside).unwrap();
    let out = workdir(d.path(), &["--restore", arg(&image)], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot restore")
            && err.contains(arg(&work))
            && err.contains("working directory")
            && err.contains("--ckpt-cwd=current"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "a refused restore ran the program");

    // Back in place: the restore continues in it.
    std::fs::rename(&aside, &work).unwrap();
    let out = workdir(d.path(), &["--restore", arg(&image)], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(work.join("index.txt").exists() && work.join("latest").exists());
}

#[test]
fn the_current_policy_keeps_the_restoring_process_directory() {
    let d = TempDir::new("workdir-current");
    let first = workdir(d.path(), ARGS, Some(1));
    assert!(killed(&first), "{}", stderr(&first));
    let other = TempDir::new("workdir-current-other");
    let image = d.path().join(IMAGE);
    // Killed right after its first save, which follows the first relative write.
    let out = workdir(
        other.path(),
        &["--restore", arg(&image), "--ckpt-cwd=current"],
        Some(1),
    );
    assert!(killed(&out), "{}", stderr(&out));
    assert!(other.path().join("part0.tmp").exists());
    assert!(!d.path().join("work/part0.tmp").exists());
}

#[test]
fn inspect_shows_the_working_directory_and_the_pending_renames() {
    let d = TempDir::new("workdir-inspect");
    // After image 5 part 1 is written; the restore below renames it into place and
    // `latest.tmp` over `latest`, then saves elsewhere.
    let first = workdir(d.path(), ARGS, Some(5));
    assert!(killed(&first), "{}", stderr(&first));
    let image = d.path().join(IMAGE);
    let side = d.path().join("side.ckpt");
    let second = workdir(
        d.path(),
        &["--restore", arg(&image), "--ckpt-file", arg(&side)],
        Some(1),
    );
    assert!(killed(&second), "{}", stderr(&second));
    let text = inspect(&image, &InspectOptions::default()).expect("inspect");
    let work = std::fs::canonicalize(d.path().join("work")).unwrap();
    for needle in [
        format!("cwd = {} (a restore changes to it", work.display()),
        "renamed or removed after this save (workdir.ckpt.opens".to_string(),
        format!(
            "{} -> {}  renamed: a restore renames it back",
            work.join("part1.tmp").display(),
            work.join("part1.txt").display()
        ),
        format!("{}  removed, kept as", work.join("latest").display()),
    ] {
        assert!(text.contains(&needle), "missing {needle:?} in:\n{text}");
    }
}
