//! The central promise: a run killed with SIGKILL at random moments and restored from
//! its latest image (restores of restores included) ends exactly like an uninterrupted run.

mod support;

use support::*;

#[test]
fn montecarlo_survives_repeated_sigkill() {
    kill_restore_equivalence(
        "montecarlo",
        &["--steps", "4000000"],
        "montecarlo.ckpt",
        |_| true,
    );
}

#[test]
fn graph_survives_repeated_sigkill() {
    kill_restore_equivalence(
        "graph",
        &["--nodes", "3000", "--iterations", "100"],
        "graph.ckpt",
        |_| true,
    );
}
