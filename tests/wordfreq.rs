//! The fs and io components end to end: `wordfreq` (std APIs only, plus `ckpt::save()`)
//! reads a 52 MB file line by line and writes a report, killed with SIGKILL at random
//! moments and restored with its standard output appended to the same file. The report
//! and the progress file must be byte-identical to an uninterrupted run's: the restore
//! reopens and seeks the input, restores the BufWriter's unflushed bytes, and cuts both
//! the report and standard output back to their length at the save.
//!
//! Also: every policy and error of a restore (input changed, accepted with
//! `CKPT_FILES=accept-changed`, input missing, report replaced) and standard output as a
//! pipe (output after the last save repeats, as documented).
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test wordfreq` alone).

mod support;

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::*;

/// Writes `bytes` (at least) of English-like text: words from a fixed vocabulary with a
/// Zipf-like distribution, ten per line. Deterministic.
fn generate_input(path: &Path, bytes: u64) {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let vocab: Vec<String> = (0..20_000)
        .map(|_| {
            let len = 2 + next() % 8;
            (0..len)
                .map(|_| (b'a' + (next() % 26) as u8) as char)
                .collect()
        })
        .collect();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut written = 0u64;
    let mut line = String::new();
    while written < bytes {
        line.clear();
        for k in 0..10 {
            // Zipf-ish: small indices much more often.
            let r = next() % 1_000_000;
            let i = ((r * r) / 1_000_000 * r / 1_000_000) as usize % vocab.len();
            if k > 0 {
                line.push(' ');
            }
            line.push_str(&vocab[vocab.len() - 1 - i]);
        }
        line.push_str(".\n");
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
    }
    w.flush().unwrap();
}

/// Starts wordfreq in `dir` with standard output going to `stdout_file` (appended to
/// when `append`), standard error captured.
fn start(
    dir: &Path,
    args: &[&str],
    stdout_file: &str,
    append: bool,
    env: &[(&str, &str)],
) -> Running {
    let bin = example("wordfreq");
    let run = FileRun {
        bin: &bin,
        dir,
        stdout_file,
        stdin_file: None,
    };
    run.start(args, append, env)
}

const IMAGE: &str = "wordfreq.ckpt";

#[test]
fn wordfreq_survives_repeated_sigkill_byte_for_byte() {
    let work = TempDir::new("wordfreq-input");
    let input = work.path().join("big.txt");
    generate_input(&input, 52_000_000);
    let input = input.to_str().unwrap().to_string();
    let args = [input.as_str(), "out.tsv", "--save-every", "20000"];
    let bin = example("wordfreq");
    let run = FileRun {
        bin: &bin,
        dir: work.path(),
        stdout_file: "progress.txt",
        stdin_file: None,
    };
    // Random moments, and the last kill of each round inside the writing phase.
    let (clean, rounds) = kill_restore_files(&run, &args, IMAGE, 2, Some("wrote 3000 rows"));
    let base_tsv = fs::read(clean.path().join("out.tsv")).unwrap();
    let base_progress = fs::read_to_string(clean.path().join("progress.txt")).unwrap();
    assert!(base_tsv.len() > 10_000);
    for (i, dir) in rounds.iter().enumerate() {
        let tsv = fs::read(dir.path().join("out.tsv")).unwrap();
        assert!(tsv == base_tsv, "out.tsv differs (round {i})");
        let progress = fs::read_to_string(dir.path().join("progress.txt")).unwrap();
        assert_eq!(
            progress, base_progress,
            "standard output differs (round {i})"
        );
    }
}

/// A small run for the policy and error tests, killed once an image exists: returns the
/// dir and the input path.
fn small_run_killed_after_first_save(tag: &str) -> (TempDir, String) {
    small_run_killed_after(tag, "1000 lines")
}

/// A small run killed when `progress` shows in its standard output.
fn small_run_killed_after(tag: &str, progress: &str) -> (TempDir, String) {
    let dir = TempDir::new(tag);
    let input = dir.path().join("in.txt");
    generate_input(&input, 3_000_000);
    let input = input.to_str().unwrap().to_string();
    let mut r = start(
        dir.path(),
        &[&input, "out.tsv", "--save-every", "500"],
        "progress.txt",
        false,
        &[],
    );
    r.wait_for_text(
        &dir.path().join("progress.txt"),
        progress,
        Duration::from_secs(60),
    );
    assert!(
        r.kill_if_running(),
        "the run ended before it could be killed"
    );
    assert!(dir.path().join(IMAGE).exists());
    (dir, input)
}

fn restore(dir: &Path, env: &[(&str, &str)]) -> Output {
    start(dir, &["--restore", IMAGE], "progress.txt", true, env).finish(Duration::from_secs(120))
}

#[test]
fn changed_input_is_refused_by_default_and_accepted_by_policy() {
    let (dir, input) = small_run_killed_after_first_save("wordfreq-changed");
    // `cargo ckpt inspect` shows the open input with its mode and offset.
    let text = ckpt_build::inspect(
        &dir.path().join(IMAGE),
        &ckpt_build::InspectOptions::default(),
    )
    .unwrap();
    assert!(text.contains(&format!("{input}  read,")), "{text}");
    assert!(text.contains("open r at offset "), "{text}");
    assert!(text.contains("stdout: file (dev "), "{text}");
    let mut f = OpenOptions::new().append(true).open(&input).unwrap();
    f.write_all(b"one more line at the end.\n").unwrap();
    drop(f);
    let out = restore(dir.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot restore"), "{err}");
    assert!(err.contains(&input), "{err}");
    assert!(err.contains("changed since"), "{err}");
    assert!(err.contains("--ckpt-files=accept-changed"), "{err}");
    // Nothing was truncated or written by the refused restore: a second try with the
    // policy goes through (the option does what the variable does; the variable is
    // checked by `bad_policy_is_a_usage_error`).
    let out = start(
        dir.path(),
        &["--restore", IMAGE, "--ckpt-files=accept-changed"],
        "progress.txt",
        true,
        &[],
    )
    .finish(Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let progress = fs::read_to_string(dir.path().join("progress.txt")).unwrap();
    assert!(progress.contains("result:"), "{progress}");
}

#[test]
fn missing_input_is_a_clear_error() {
    let (dir, input) = small_run_killed_after_first_save("wordfreq-missing");
    fs::remove_file(&input).unwrap();
    let out = restore(dir.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot restore") && err.contains(&input),
        "{err}"
    );
    assert!(err.contains("put the file back"), "{err}");
}

#[test]
fn bad_policy_is_a_usage_error() {
    let (dir, _) = small_run_killed_after_first_save("wordfreq-policy");
    let out = restore(dir.path(), &[("CKPT_FILES", "sometimes")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("CKPT_FILES") && err.contains("accept-changed"),
        "{err}"
    );
}

#[test]
fn replaced_report_is_refused_never_truncated() {
    // Inside the writing phase the report is open in a live BufWriter.
    let (dir, _) = small_run_killed_after("wordfreq-replaced", "wrote 2000 rows");
    let report = dir.path().join("out.tsv");
    fs::remove_file(&report).unwrap();
    let foreign =
        "someone else's file, longer than the checkpointed report would be\n".repeat(5000);
    fs::write(&report, &foreign).unwrap();
    let out = restore(dir.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot restore") && err.contains("out.tsv"),
        "{err}"
    );
    assert!(err.contains("different file"), "{err}");
    assert_eq!(
        fs::read_to_string(&report).unwrap(),
        foreign,
        "the replaced file was touched"
    );
}

/// Standard output to a pipe cannot be taken back: the restored run prints again what
/// was printed after the last save. Every line still comes from the uninterrupted
/// output, the report is still identical, and the restored output starts right after the
/// last save's progress line.
#[test]
fn stdout_as_pipe_repeats_only_output_after_the_last_save() {
    let dir = TempDir::new("wordfreq-pipe");
    let input = dir.path().join("in.txt");
    generate_input(&input, 3_000_000);
    let input = input.to_str().unwrap().to_string();
    let args = [input.as_str(), "out.tsv", "--save-every", "500"];
    let bin = example("wordfreq");
    let clean = TempDir::new("wordfreq-pipe-clean");
    let base = run(&bin, &args, clean.path());
    assert!(base.status.success());
    let base_out = stdout(&base);

    let mut child = Running::spawn(
        Command::new(&bin)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    child.wait_for_file(&dir.path().join(IMAGE), Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(100));
    let before = stdout(&child.kill());
    let after = run(&bin, &["--restore", IMAGE], dir.path());
    assert!(after.status.success(), "{}", stderr(&after));
    let after = stdout(&after);
    for line in before.lines().chain(after.lines()) {
        assert!(
            base_out.lines().any(|b| b == line),
            "unexpected line {line:?}"
        );
    }
    assert!(
        base_out.ends_with(&after),
        "restored output is not a suffix of the full output"
    );
    assert_eq!(
        fs::read(dir.path().join("out.tsv")).unwrap(),
        fs::read(clean.path().join("out.tsv")).unwrap()
    );
}

/// A restore whose standard output was truncated by `>` cannot give back the output from
/// before the save: it says so and how to keep it, and still runs to the end.
#[test]
fn truncating_redirect_on_restore_warns() {
    let (dir, _) = small_run_killed_after_first_save("wordfreq-truncating");
    let out = start(
        dir.path(),
        &["--restore", IMAGE],
        "progress.txt",
        false,
        &[],
    )
    .finish(Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("stdout") && err.contains("shorter"), "{err}");
    assert!(err.contains("`>>`"), "{err}");
}
