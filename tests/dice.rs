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
    let (base_out, _) = kill_restore_equivalence("dice", ARGS, "dice.ckpt", |_| true);
    let expected = result_line(&base_out);
    assert!(
        expected.contains("draws 3000000"),
        "two draws per roll: {expected}"
    );
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
