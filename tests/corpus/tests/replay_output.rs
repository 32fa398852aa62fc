//! The output of a replay is checked against the digests of what the recorded run
//! released: a program that prints something ckpt does not see (here its process id)
//! replays its inputs exactly and still stops, naming the output bytes that differ.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `bin` in `dir` with `args` (and the environment variable `env` set, or removed
/// when its value is `None`), standard input empty, its outputs captured.
fn run(bin: &str, dir: &Path, args: &[&str], env: (&str, Option<&str>)) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    match env {
        (k, Some(v)) => cmd.env(k, v),
        (k, None) => cmd.env_remove(k),
    };
    cmd.output().unwrap()
}

const RECORD: &[&str] = &["--ckpt-record", "run.log"];
const REPLAY: &[&str] = &["--replay", "start", "--log", "run.log"];
const NO_ENV: (&str, Option<&str>) = ("CKPT_TEST_UNUSED", None);

#[test]
fn a_replay_whose_output_differs_from_the_recorded_output_stops() {
    let bin = env!("CARGO_BIN_EXE_bypass_output");
    let d = tempfile::tempdir().unwrap();
    let recorded = run(bin, d.path(), RECORD, NO_ENV);
    assert!(recorded.status.success());
    let replayed = run(bin, d.path(), REPLAY, NO_ENV);
    let err = String::from_utf8_lossy(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("standard output bytes ")
            && err.contains("differ from what the recorded run printed"),
        "{err}"
    );
}

#[test]
fn a_replay_that_asks_for_another_input_stops_naming_both_call_sites() {
    let bin = env!("CARGO_BIN_EXE_bypass_output");
    let d = tempfile::tempdir().unwrap();
    let recorded = run(bin, d.path(), RECORD, ("BYPASS_EXTRA_CLOCK", None));
    assert!(recorded.status.success());
    let replayed = run(bin, d.path(), REPLAY, ("BYPASS_EXTRA_CLOCK", Some("1")));
    let err = String::from_utf8_lossy(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("diverged at event 2")
            && err.contains(
                "the log has a random bytes made at tests/corpus/src/bin/bypass_output.rs:"
            )
            && err
                .contains("asked for a monotonic clock at tests/corpus/src/bin/bypass_output.rs:"),
        "{err}"
    );
}

/// Directory listings and metadata are checked against the log: a replay in a fresh
/// directory makes the same files and prints the same report; a file that is in the
/// directory at the replay but was not at the recording stops it at the listing.
#[test]
fn directory_listings_and_metadata_are_checked_on_replay() {
    let bin = env!("CARGO_BIN_EXE_dir_size_report");
    let rec = tempfile::tempdir().unwrap();
    let recorded = run(bin, rec.path(), RECORD, NO_ENV);
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let log = rec.path().join("run.log");
    let log = log.to_str().unwrap();
    let replay = ["--replay", "start", "--log", log];
    let fresh = tempfile::tempdir().unwrap();
    let replayed = run(bin, fresh.path(), &replay, NO_ENV);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert_eq!(replayed.stdout, recorded.stdout);
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("reports")).unwrap();
    std::fs::write(other.path().join("reports/notes.txt"), "not recorded").unwrap();
    let diverged = run(bin, other.path(), &replay, NO_ENV);
    let err = String::from_utf8_lossy(&diverged.stderr);
    assert_eq!(diverged.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the listing of reports")
            && err.contains("tests/corpus/src/bin/dir_size_report.rs:"),
        "{err}"
    );
}

/// std's `HashMap` order comes from keys the OS hands the process: they are inputs too.
/// Two live runs print a map in different orders (almost surely: 16 words); a replay
/// prints it in the recorded order, also a map made after a save.
#[test]
fn a_replay_iterates_std_hash_maps_in_the_recorded_order() {
    let bin = env!("CARGO_BIN_EXE_hashmap_order_print");
    let d = tempfile::tempdir().unwrap();
    let live: Vec<Vec<u8>> = (0..3)
        .map(|_| run(bin, d.path(), &[], NO_ENV).stdout)
        .collect();
    assert!(
        live.windows(2).any(|w| w[0] != w[1]),
        "three live runs printed the maps in one order"
    );
    for _ in 0..3 {
        let recorded = run(bin, d.path(), RECORD, NO_ENV);
        assert!(recorded.status.success());
        let replayed = run(bin, d.path(), REPLAY, NO_ENV);
        assert!(
            replayed.status.success(),
            "{}",
            String::from_utf8_lossy(&replayed.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&replayed.stdout),
            String::from_utf8_lossy(&recorded.stdout)
        );
    }
}

/// Recorded on a terminal, standard output goes through the output commit and is still
/// a terminal to the program (a pseudo-terminal in raw mode); the bytes reach the real
/// terminal unchanged. Runs under `script`, which gives the program a terminal.
#[test]
fn a_recorded_program_on_a_terminal_still_writes_to_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_terminal_lines");
    let d = tempfile::tempdir().unwrap();
    let Ok(out) = Command::new("script")
        .args(["-qec", &format!("{bin} --ckpt-record run.log"), "/dev/null"])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
    else {
        panic!("`script` (util-linux) is needed to give the program a terminal");
    };
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("stdout is a terminal: true"), "{text}");
    assert!(
        text.contains("line 1\nline 2\nline 3\nline 4\nline 5\n"),
        "{text}"
    );
    let l = ckpt::replay::log::read(&d.path().join("run.log")).unwrap();
    assert!(
        l.events
            .iter()
            .any(|e| e.kind == ckpt::replay::Kind::Released),
        "the output did not go through the output commit"
    );
}

/// Each save point logs a digest of the program's variables: a replay whose variables
/// differ there stops at that save point, before any output shows the difference.
#[test]
fn a_replay_whose_variables_differ_stops_at_the_save_point() {
    let bin = env!("CARGO_BIN_EXE_bypass_output");
    let d = tempfile::tempdir().unwrap();
    let recorded = run(bin, d.path(), RECORD, ("BYPASS_OFFSET", None));
    assert!(recorded.status.success());
    let l = ckpt::replay::log::read(&d.path().join("run.log")).unwrap();
    let states = l
        .events
        .iter()
        .filter(|e| e.kind == ckpt::replay::Kind::Variables)
        .count();
    assert_eq!(states, 3, "one state digest per save");
    let replayed = run(bin, d.path(), REPLAY, ("BYPASS_OFFSET", Some("7")));
    let err = String::from_utf8_lossy(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "the program's variables at the save point (tests/corpus/src/bin/bypass_output.rs:"
        ) && err.contains("differs from the recorded run's"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&replayed.stdout).is_empty(),
        "the replay printed before it stopped"
    );
}
