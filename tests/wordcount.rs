//! `ckpt::collections::HashMap` iterates in the same order after a restore, so a `for`
//! loop over a map may hold a save point: the wordcount example killed with SIGKILL at
//! random moments and restored (restores of restores too) prints the same
//! order-dependent checksum as an uninterrupted run.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test wordcount` alone).

mod support;

use std::time::Duration;

use support::*;

const ARGS: &[&str] = &["--words", "400000"];

/// Whether a run started from an image taken inside the loop over the map: its output
/// has report lines but no counting lines.
fn resumed_inside_loop(out: &str) -> bool {
    out.lines().any(|l| l.starts_with("reported")) && !out.lines().any(|l| l.starts_with("counted"))
}

#[test]
fn wordcount_survives_repeated_sigkill() {
    let (_, rounds) = kill_restore_equivalence("wordcount", ARGS, "wordcount.ckpt", |_| true);
    let inside: usize = rounds
        .iter()
        .flat_map(|r| r.outputs[1..].iter())
        .filter(|o| resumed_inside_loop(o))
        .count();
    println!(
        "{} rounds, {inside} restores inside the map loop",
        rounds.len()
    );
}

/// A kill once the walk over the map has begun (its first report printed): the restore
/// resumes inside the `for` loop over the map and ends with the uninterrupted checksum.
#[test]
fn wordcount_restores_inside_the_map_loop() {
    let bin = example("wordcount");
    let clean = TempDir::new("wordcount-clean");
    let base = run(&bin, ARGS, clean.path());
    assert!(base.status.success(), "{}", stderr(&base));
    let dir = TempDir::new("wordcount-inside");
    let r = FileRun {
        bin: &bin,
        dir: dir.path(),
        stdout_file: "out.txt",
        stdin_file: None,
    };
    let mut child = r.start(ARGS, false, &[]);
    child.wait_for_text(
        &dir.path().join("out.txt"),
        "reported 5000 words",
        Duration::from_secs(60),
    );
    assert!(
        child.kill_if_running(),
        "the run ended before it could be killed"
    );
    let restored = run(&bin, &["--restore", "wordcount.ckpt"], dir.path());
    assert!(restored.status.success(), "{}", stderr(&restored));
    let out = stdout(&restored);
    assert!(
        resumed_inside_loop(&out),
        "not resumed inside the loop:\n{out}"
    );
    assert_eq!(result_line(&out), result_line(&stdout(&base)));
}

/// Every run prints the same checksum (the example is deterministic).
#[test]
fn wordcount_is_deterministic() {
    let bin = example("wordcount");
    let a = TempDir::new("wordcount-det-a");
    let b = TempDir::new("wordcount-det-b");
    let args = &["--words", "20000"];
    let (x, y) = (run(&bin, args, a.path()), run(&bin, args, b.path()));
    assert!(x.status.success() && y.status.success());
    assert_eq!(result_line(&stdout(&x)), result_line(&stdout(&y)));
}
