//! The benchmark programs run (tiny sizes; their numbers are not checked here, see
//! BENCHMARKS.md): a benchmark that no longer works is a failing test, not a surprise
//! for the next person measuring.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test benchmarks_run` alone).

mod support;

use support::*;

fn runs(name: &str, args: &[&str], expect: &str) {
    let dir = TempDir::new(&format!("bench-{name}"));
    let out = run(&example(name), args, dir.path());
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{name} failed: {}\n{text}",
        stderr(&out)
    );
    assert!(text.contains(expect), "{name} printed:\n{text}");
}

#[test]
fn bulk_bench_runs() {
    runs("bulk_bench", &["--gib", "0.01", "--reps", "1"], "ckpt save");
}

#[test]
fn deep_bench_runs() {
    runs(
        "deep_bench",
        &["--nodes", "1000", "--reps", "1"],
        "RESULT nodes=1000 ",
    );
}

#[test]
fn call_overhead_runs() {
    runs(
        "call_overhead",
        &["--calls", "10000", "--reps", "1"],
        "RESULT calls=10000 ",
    );
}

#[test]
fn map_bench_runs() {
    runs(
        "map_bench",
        &["--n", "1000", "--reps", "1"],
        "RESULT n=1000 ",
    );
}

#[test]
fn component_overhead_runs() {
    runs("component_overhead", &["--n", "5000"], "ratio");
}

#[test]
fn io_overhead_runs() {
    runs(
        "io_overhead",
        &["--n", "2000", "--mb", "1", "--reps", "1"],
        "RESULT read=",
    );
}

#[test]
fn gfx_bench_runs() {
    runs(
        "gfx_bench",
        &["--mp", "0.25", "--frames", "20", "--reps", "1"],
        "RESULT mp=0.250 ",
    );
}
