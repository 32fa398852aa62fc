//! `ckpt::collections::HashMap` iterates in the same order after a restore, so a `for`
//! loop over a map may hold a save point: the wordcount example killed with SIGKILL at
//! random moments and restored (restores of restores too) prints the same
//! order-dependent checksum as an uninterrupted run.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test wordcount` alone).

mod support;

use support::*;

const ARGS: &[&str] = &["--words", "400000"];

/// Whether a run started from an image taken inside the loop over the map: its output
/// has report lines but no counting lines.
fn resumed_inside_loop(out: &str) -> bool {
    out.lines().any(|l| l.starts_with("reported")) && !out.lines().any(|l| l.starts_with("counted"))
}

#[test]
fn wordcount_map_loop_survives_repeated_sigkill() {
    // Until at least one restore started inside the loop over the map (the first output
    // of a round is the fresh start; the others are restores).
    let inside = |rounds: &[Interrupted]| {
        rounds
            .iter()
            .flat_map(|r| r.outputs[1..].iter())
            .filter(|o| resumed_inside_loop(o))
            .count()
    };
    let (_, rounds) =
        kill_restore_equivalence("wordcount", ARGS, "wordcount.ckpt", |r| inside(r) > 0);
    println!(
        "{} rounds, {} restores inside the map loop",
        rounds.len(),
        inside(&rounds)
    );
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
