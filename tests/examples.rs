//! The central promise: a run killed with SIGKILL at random moments and restored from
//! its latest image (restores of restores included) ends exactly like an uninterrupted run.

mod support;

use support::*;

/// Kill moments are drawn from 1/20 to 1/6 of the uninterrupted run's duration after
/// each start, so five kills land before the work is done.
fn equivalence(name: &str, args: &[&str]) {
    let bin = example(name);
    let clean = TempDir::new(&format!("{name}-clean"));
    let t0 = std::time::Instant::now();
    let base = run(&bin, args, clean.path());
    let ms = t0.elapsed().as_millis() as u64;
    let (lo, hi) = ((ms / 20).max(20), (ms / 6).max(40));
    assert!(
        base.status.success(),
        "uninterrupted run failed: {}",
        stderr(&base)
    );
    let base_out = stdout(&base);
    let expected = result_line(&base_out);

    // Rounds of kill/restore until five kills landed (a loaded machine may finish a
    // round early); every round must end with the uninterrupted result.
    let mut kills = 0;
    let mut rounds = 0;
    while kills < 5 {
        rounds += 1;
        assert!(rounds <= 8, "only {kills} kills landed in {rounds} rounds");
        let dir = TempDir::new(&format!("{name}-killed-{rounds}"));
        let image = format!("{name}.ckpt");
        let r = run_killed(&bin, args, dir.path(), &image, 5 - kills, lo, hi);
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
        check_lines(&base_out, &r.outputs, &last);
    }
}

/// Progress printed by any run is progress the uninterrupted run printed too (lines
/// after the last save may repeat; nothing else may appear), and the final run's
/// output ends exactly like the uninterrupted one.
fn check_lines(base_out: &str, outputs: &[String], last: &str) {
    for out in outputs {
        for line in out.lines() {
            assert!(
                base_out.lines().any(|b| b == line),
                "unexpected line {line:?}"
            );
        }
    }
    // The restored run's output ends exactly like the uninterrupted one.
    assert!(
        base_out.ends_with(last),
        "final run's output is not a suffix of the uninterrupted output:\n{last}"
    );
}

#[test]
fn montecarlo_survives_repeated_sigkill() {
    equivalence("montecarlo", &["--steps", "4000000"]);
}

#[test]
fn graph_survives_repeated_sigkill() {
    equivalence("graph", &["--nodes", "3000", "--iterations", "100"]);
}
