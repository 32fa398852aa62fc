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
    let bin = example("wordcount");
    let clean = TempDir::new("wordcount-clean");
    let t0 = std::time::Instant::now();
    let base = run(&bin, ARGS, clean.path());
    let ms = t0.elapsed().as_millis() as u64;
    assert!(
        base.status.success(),
        "uninterrupted run failed: {}",
        stderr(&base)
    );
    let base_out = stdout(&base);
    let expected = result_line(&base_out);
    // Kill moments from 1/20 to 1/6 of the uninterrupted run, so five kills land.
    let (lo, hi) = ((ms / 20).max(20), (ms / 6).max(40));

    let mut kills = 0;
    let mut rounds = 0;
    let mut inside_loop = 0;
    while kills < 5 || inside_loop == 0 {
        rounds += 1;
        assert!(
            rounds <= 8,
            "{kills} kills, {inside_loop} restores inside the map loop in {rounds} rounds"
        );
        let dir = TempDir::new(&format!("wordcount-killed-{rounds}"));
        let r = run_killed(&bin, ARGS, dir.path(), "wordcount.ckpt", 5, lo, hi);
        kills += r.kills;
        assert!(
            r.final_output.status.success(),
            "final restore failed: {}",
            stderr(&r.final_output)
        );
        let last = stdout(&r.final_output);
        assert_eq!(
            result_line(&last),
            expected,
            "result after {} kills differs",
            r.kills
        );
        // The first output is the fresh start; the others are restores.
        inside_loop += r.outputs[1..]
            .iter()
            .filter(|o| resumed_inside_loop(o))
            .count();
        // Every line any run printed is one the uninterrupted run printed too.
        for out in &r.outputs {
            for line in out.lines() {
                assert!(
                    base_out.lines().any(|b| b == line),
                    "unexpected line {line:?}"
                );
            }
        }
        assert!(
            base_out.ends_with(&last),
            "final run's output is not a suffix of the uninterrupted output:\n{last}"
        );
    }
    println!("{kills} kills in {rounds} rounds, {inside_loop} restores inside the map loop");
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
