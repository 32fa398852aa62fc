//! `ckpt::rand::Rng` continues its stream across SIGKILL and restore: the dice example
//! killed at random moments and restored (restores of restores too) prints the same
//! histogram as an uninterrupted run.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test dice` alone).

mod support;

use support::*;

const ARGS: &[&str] = &["--rolls", "1500000"];

#[test]
fn dice_histogram_survives_repeated_sigkill() {
    let bin = example("dice");
    let clean = TempDir::new("dice-clean");
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
    assert!(
        expected.contains("draws 3000000"),
        "two draws per roll: {expected}"
    );
    // Kill moments from 1/20 to 1/6 of the uninterrupted run, so five kills land.
    let (lo, hi) = ((ms / 20).max(20), (ms / 6).max(40));

    let mut kills = 0;
    let mut rounds = 0;
    while kills < 5 {
        rounds += 1;
        assert!(rounds <= 8, "only {kills} kills landed in {rounds} rounds");
        let dir = TempDir::new(&format!("dice-killed-{rounds}"));
        let r = run_killed(&bin, ARGS, dir.path(), "dice.ckpt", 5 - kills, lo, hi);
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
            "histogram after {} kills differs",
            r.kills
        );
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
}

/// The same seed gives the same histogram on every run (the example is deterministic).
#[test]
fn dice_is_deterministic() {
    let bin = example("dice");
    let a = TempDir::new("dice-det-a");
    let b = TempDir::new("dice-det-b");
    let args = &["--rolls", "3000"];
    let (x, y) = (run(&bin, args, a.path()), run(&bin, args, b.path()));
    assert!(x.status.success() && y.status.success());
    assert_eq!(result_line(&stdout(&x)), result_line(&stdout(&y)));
}
