//! Record and replay (first part of issue 10): a run recorded with `--ckpt-record` is
//! replayed byte for byte in another directory without its input, from its start or from
//! an image written while recording; a replay that asks for something else than the log
//! holds stops at the event, saying so; bad logs and options are clear errors.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test record_replay` alone).

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::*;

fn journal(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Output {
    let input = match stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
        None => Stdio::null(),
    };
    Command::new(example("journal"))
        .args(args)
        .current_dir(dir)
        .stdin(input)
        .output()
        .expect("spawn journal")
}

/// Records a run over 35 lines of input in `dir`; returns its output.
fn record(dir: &Path, extra: &[&str]) -> String {
    let input = dir.join("input.txt");
    let lines: String = (1..=35).map(|i| format!("entry number {i}\n")).collect();
    std::fs::write(&input, lines).unwrap();
    let mut args = vec!["--ckpt-record", "run.log"];
    args.extend_from_slice(extra);
    let out = journal(dir, &args, Some(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// Replays `log` from `image` (written at line 30 of a recorded run) in `dir`: it prints
/// the rest of the `recorded` output.
fn replay_from_image_gives_the_rest(dir: &Path, image: &Path, log: &Path, recorded: &str) {
    let args = [
        "--replay",
        image.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--ckpt-cwd=current",
    ];
    let out = journal(dir, &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let tail: String = recorded
        .lines()
        .skip(30)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(stdout(&out), tail);
}

#[test]
fn a_recorded_run_replays_byte_for_byte_elsewhere_from_its_start_and_from_an_image() {
    let rec = TempDir::new("record");
    let recorded = record(rec.path(), &[]);
    assert!(recorded.contains("result: 35 lines"), "{recorded}");
    // Live, the clocks and the random tags differ from run to run.
    let live = journal(
        rec.path(),
        &["--ckpt-file", "live.ckpt"],
        Some(&rec.path().join("input.txt")),
    );
    assert_ne!(stdout(&live), recorded);

    let elsewhere = TempDir::new("replay");
    let log = rec.path().join("run.log");
    let log = log.to_str().unwrap();
    let out = journal(elsewhere.path(), &["--replay", "start", "--log", log], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), recorded);

    // From the image written at line 30: the rest of the recorded output.
    let image = rec.path().join("journal.ckpt");
    replay_from_image_gives_the_rest(elsewhere.path(), &image, Path::new(log), &recorded);
}

/// Input files are logged as references (the outcome of each open, a hash of the bytes
/// each read returned), so a replay reads them itself: an input edited or removed after
/// the recording stops the replay at the event, naming the file.
#[test]
fn a_replay_whose_input_file_changed_stops_at_the_event() {
    let rec = TempDir::new("record-diverge");
    std::fs::write(rec.path().join("marks"), "one\n").unwrap();
    let recorded = record(rec.path(), &["--marks", "marks"]);
    let l = ckpt::replay::log::read(&rec.path().join("run.log")).unwrap();
    let kinds: Vec<_> = l.events.iter().take(2).map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ckpt::replay::Kind::Open, ckpt::replay::Kind::FileRead]
    );
    // Unchanged, even as another file with the same bytes: the replay prints the same.
    std::fs::write(rec.path().join("marks.new"), "one\n").unwrap();
    std::fs::rename(rec.path().join("marks.new"), rec.path().join("marks")).unwrap();
    let same = journal(rec.path(), &["--replay", "start", "--log", "run.log"], None);
    assert!(same.status.success(), "{}", stderr(&same));
    assert_eq!(stdout(&same), recorded);
    // Edited: the read differs.
    std::fs::write(rec.path().join("marks"), "one\ntwo\nthree\n").unwrap();
    let out = journal(rec.path(), &["--replay", "start", "--log", "run.log"], None);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("diverged at event 1") && e.contains("reading") && e.contains("marks"),
        "{e}"
    );
    // The call site is the program's line that read the file.
    assert!(e.contains("at examples/journal.rs:"), "{e}");
    assert!(e.contains("the file changed since the recording"), "{e}");
    assert!(
        stdout(&out).is_empty(),
        "the replay printed before it stopped"
    );
    // Removed: the open differs.
    std::fs::remove_file(rec.path().join("marks")).unwrap();
    let out = journal(rec.path(), &["--replay", "start", "--log", "run.log"], None);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("diverged at event 0") && e.contains("opening") && e.contains("marks"),
        "{e}"
    );
}

#[test]
fn bad_logs_and_options_are_clear_errors() {
    let d = TempDir::new("record-bad");
    record(d.path(), &[]);
    for (args, says) in [
        (&["--replay", "start"][..], "--replay needs the log"),
        (&["--log", "run.log"], "--log names the log of a --replay"),
        (
            &[
                "--replay",
                "start",
                "--log",
                "run.log",
                "--ckpt-record",
                "x.log",
            ],
            "--replay excludes",
        ),
        (
            &["--replay", "start", "--log", "input.txt"],
            "not a ckpt input log",
        ),
        (&["--then-live"], "--then-live continues a replay"),
        (
            &["--ckpt-record", "x.log", "--ckpt-log-bound", "soon"],
            "--ckpt-log-bound soon: \"soon\": expected `off`, or a duration",
        ),
    ] {
        let out = journal(d.path(), args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // A log cut short (its recorder killed): the replay feeds what is there and stops
    // where the recorded run stopped, or with --then-live goes on live; either way saying
    // so.
    let bytes = std::fs::read(d.path().join("run.log")).unwrap();
    std::fs::write(d.path().join("cut.log"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = journal(d.path(), &["--replay", "start", "--log", "cut.log"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("the log ends after event") && e.contains("so does the replay"),
        "{e}"
    );
    assert!(
        !stdout(&out).contains("result:"),
        "a stopped replay finished"
    );
    let live = journal(
        d.path(),
        &["--replay", "start", "--log", "cut.log", "--then-live"],
        None,
    );
    assert!(live.status.success(), "{}", stderr(&live));
    assert!(stderr(&live).contains("goes on live"), "{}", stderr(&live));
    assert!(stdout(&live).starts_with(&stdout(&out)));
    assert!(stdout(&live).contains("result:"), "{}", stdout(&live));
}

#[test]
fn cargo_ckpt_log_lists_the_events_and_filters_them() {
    let d = TempDir::new("record-list");
    record(d.path(), &[]);
    let log = d.path().join("run.log");
    let text = ckpt_build::log(&log, &ckpt_build::LogOptions::default()).unwrap();
    assert!(text.contains("program journal"), "{text}");
    assert!(
        text.contains("random bytes") && text.contains("32 bytes: "),
        "{text}"
    );
    assert!(text.contains("\"entry number 1\\nentry number 2"), "{text}");
    // Each event's call site: the program's own line for its clock readings.
    assert!(
        text.contains("call site") && text.contains("journal.rs:"),
        "{text}"
    );
    let l = ckpt::replay::log::read(&log).unwrap();
    let clock = l
        .events
        .iter()
        .find(|e| e.kind == ckpt::replay::Kind::Monotonic)
        .unwrap();
    let site = l.site(clock).unwrap().to_string();
    assert!(site.starts_with("examples/journal.rs:"), "{site}");
    let only = ckpt_build::log(
        &log,
        &ckpt_build::LogOptions {
            site: Some(site.clone()),
            json: true,
            ..Default::default()
        },
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&only).unwrap();
    let events = doc["events"].as_array().unwrap();
    assert!(!events.is_empty() && events.iter().all(|e| e["site"] == site.as_str()));
    let opts = ckpt_build::LogOptions {
        kind: Some("stdin".into()),
        json: true,
        ..Default::default()
    };
    let doc: serde_json::Value =
        serde_json::from_str(&ckpt_build::log(&log, &opts).unwrap()).unwrap();
    let events = doc["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["kind"] == "stdin"));
    let bad = ckpt_build::LogOptions {
        kind: Some("network".into()),
        ..Default::default()
    };
    let e = ckpt_build::log(&log, &bad).unwrap_err().to_string();
    assert!(
        e.contains("expected one of monotonic, wall, random, stdin, output"),
        "{e}"
    );
}

/// `--until N` at random events: the replay stops at the first save point after event N
/// (one every 10 lines; each line's clock reading is one event) and writes
/// `journal.at-N.ckpt`, whose variables are those of the recorded run at that save point.
#[test]
fn until_stops_a_replay_after_an_event_and_writes_an_image_there() {
    let rec = TempDir::new("record-until");
    record(rec.path(), &["--ckpt-keep", "10"]);
    // The recorded run's own images, by the line they were saved at.
    let recorded_images: Vec<ckpt::image::Image> = std::fs::read_dir(rec.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("journal.ckpt")
                && !p.to_string_lossy().ends_with(".lock")
        })
        .map(|p| ckpt::image::read(&p, &Default::default()).unwrap())
        .collect();
    assert!(
        recorded_images.len() >= 3,
        "{} images kept",
        recorded_images.len()
    );
    let log = rec.path().join("run.log");
    let l = ckpt::replay::log::read(&log).unwrap();
    // Events 0-3: two clock readings, the seed, the first stdin read; then one clock
    // reading per line (more stdin reads may come between them).
    let line_of = |n: u64| {
        // Output released is not an input: the replay passes it with the next input.
        let n = (n as usize..l.events.len())
            .find(|&i| l.events[i].kind != ckpt::replay::Kind::Released)
            .unwrap_or(n as usize);
        l.events[..=n]
            .iter()
            .skip(4)
            .filter(|e| e.kind == ckpt::replay::Kind::Monotonic)
            .count() as u64
    };
    let mut seed = Moments::new();
    for _ in 0..10 {
        let n = 4 + seed.next_ms(0, 25);
        let dir = TempDir::new("record-until-at");
        let out = journal(
            dir.path(),
            &[
                "--replay",
                "start",
                "--log",
                log.to_str().unwrap(),
                "--until",
                &n.to_string(),
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("event {n} passed")),
            "{}",
            stderr(&out)
        );
        let image = dir.path().join(format!("journal.at-{n}.ckpt"));
        let img = ckpt::image::read(&image, &Default::default()).expect("the image");
        let lines = img.frames[0]
            .live
            .iter()
            .find(|(k, _)| k == "n")
            .map(|(_, v)| v.clone());
        // The save point after the line that read event n: the next multiple of 10.
        let due = line_of(n).div_ceil(10) * 10;
        assert_eq!(lines, Some(ckpt::state::Value::Uint(due)), "--until {n}");
        // The same variables, value for value, as the recorded run's image at that line.
        let same_line = recorded_images
            .iter()
            .find(|r| {
                r.frames[0]
                    .live
                    .iter()
                    .find(|(k, _)| k == "n")
                    .map(|(_, v)| v)
                    == Some(&ckpt::state::Value::Uint(due))
            })
            .unwrap_or_else(|| panic!("no recorded image at line {due}"));
        assert_eq!(
            img.frames[0].live, same_line.frames[0].live,
            "--until {n}: the variables differ from the recorded run's at line {due}"
        );
    }
}

/// A recording killed with SIGKILL (right after save k, for ten values of k) leaves a log
/// that reads cleanly, and its replay prints what the killed run had printed and stops where the
/// log ends.
#[test]
fn a_log_cut_by_sigkill_replays_what_the_killed_run_printed() {
    for k in 1..=10u64 {
        let d = TempDir::new("record-killed");
        let input = d.path().join("input.txt");
        let lines: String = (1..=120)
            .map(|i| format!("line {i} of the input\n"))
            .collect();
        std::fs::write(&input, lines).unwrap();
        let out = Command::new(example("journal"))
            .args(["--ckpt-record", "run.log"])
            .current_dir(d.path())
            .env("CKPT_CRASH_AFTER_SAVES", k.to_string())
            .stdin(Stdio::from(std::fs::File::open(&input).unwrap()))
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "the run after save {k} was not killed"
        );
        let printed = stdout(&out);
        let l = ckpt::replay::log::read(&d.path().join("run.log")).expect("a log after a kill");
        assert!(!l.events.is_empty());
        let replay = journal(d.path(), &["--replay", "start", "--log", "run.log"], None);
        assert!(replay.status.success(), "{}", stderr(&replay));
        assert!(
            stdout(&replay).starts_with(&printed),
            "after save {k}: the replay does not print what the killed run printed"
        );
        assert!(stderr(&replay).contains("the log ends after event"));
    }
}

/// The files a run left in `dir` (not ckpt's: images, locks, the log), by relative path.
fn outputs(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !(name.contains(".ckpt") || name == "run.log" || name.starts_with("input/")) {
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every example that needs no peer, recorded (standard input: 300 numbered lines; input files in `input/`),
/// and replayed in a fresh directory tree that holds only the input files: the same
/// standard output, and the same files written, byte for byte (`stopwatch` prints clock
/// readings, `journal` random tags, `envcheck` the environment: live runs differ;
/// `apiclient`'s token is a secret, read again by the replay and never in the log).
#[test]
fn the_examples_replay_byte_for_byte_in_a_fresh_directory_tree() {
    let input = TempDir::new("record-examples-input");
    let lines: String = (1..=300).map(|i| format!("{i}\n")).collect();
    let input_file = input.path().join("in.txt");
    std::fs::write(&input_file, lines).unwrap();
    let text: String = (0..400)
        .map(|i| {
            format!(
                "the quick brown fox {i} jumps over the lazy dog {}\n",
                i % 7
            )
        })
        .collect();
    for (name, args, files) in [
        ("montecarlo", &["--steps", "200000"][..], &[][..]),
        ("dice", &["--rolls", "2000"], &[]),
        ("stopwatch", &[], &[]),
        ("linestats", &[], &[]),
        ("graph", &[], &[]),
        ("shapes", &[], &[]),
        ("wordcount", &["--words", "20000"], &[]),
        ("journal", &["--save-every", "7"], &[]),
        ("envcheck", &["one", "two"], &[]),
        ("batch", &["300"], &[]),
        ("workdir", &["--parts", "4"], &[]),
        (
            "logtail",
            &["tail.txt", "--entries", "30", "--interval-ms", "1"],
            &[],
        ),
        (
            "wordfreq",
            &["input/text.txt", "freq.tsv"],
            &[("text.txt", &text)],
        ),
        ("apiclient", &["3000"], &[]),
        // The in-process network: its clock readings are in the log.
        ("chat", &["--rounds", "40"], &[]),
        // The graphics engine: scripted events, frames as files.
        (
            "paint",
            &[
                "--frames",
                "40",
                "--ckpt-events",
                concat!(env!("CARGO_MANIFEST_DIR"), "/examples/paint.events"),
            ],
            &[],
        ),
        ("life", &["--frames", "25", "--save-every", "5"], &[]),
    ] {
        let rec = TempDir::new("record-example");
        let elsewhere = TempDir::new("replay-example");
        for dir in [rec.path(), elsewhere.path()] {
            std::fs::create_dir(dir.join("input")).unwrap();
            for (f, content) in files {
                std::fs::write(dir.join("input").join(f), content).unwrap();
            }
        }
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--ckpt-record", "run.log"]);
        let run = |dir: &Path, args: &[&str], stdin: Option<&Path>| {
            let input = match stdin {
                Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
                None => Stdio::null(),
            };
            Command::new(example(name))
                .args(args)
                .current_dir(dir)
                .env("ENVCHECK_VAR", format!("{dir:?}"))
                // A secret is read again by the replay, never logged.
                .env("API_TOKEN", "tok-123")
                .stdin(input)
                .output()
                .unwrap()
        };
        let recorded = run(rec.path(), &a, Some(&input_file));
        assert!(recorded.status.success(), "{name}: {}", stderr(&recorded));
        let log = rec.path().join("run.log");
        let l = ckpt::replay::log::read(&log).unwrap();
        assert!(
            !l.events.iter().any(|e| matches!(&e.value,
                ckpt::replay::Payload::Bytes(b) if b.windows(7).any(|w| w == b"tok-123"))),
            "{name}: a secret is in the log"
        );
        let replayed = run(
            elsewhere.path(),
            &["--replay", "start", "--log", log.to_str().unwrap()],
            None,
        );
        assert!(replayed.status.success(), "{name}: {}", stderr(&replayed));
        assert_eq!(stdout(&replayed), stdout(&recorded), "{name}");
        assert_eq!(
            outputs(elsewhere.path()),
            outputs(rec.path()),
            "{name}: the files written differ"
        );
    }
}

#[test]
fn a_log_that_keeps_only_the_last_segment_replays_from_the_last_image() {
    let rec = TempDir::new("record-last");
    let recorded = record(rec.path(), &["--ckpt-log-keep=last"]);
    let log = rec.path().join("run.log");
    let l = ckpt::replay::log::read(&log).unwrap();
    let image = rec.path().join("journal.ckpt");
    let h = ckpt::image::read_header(&image).unwrap();
    let at: u64 = h
        .options
        .iter()
        .find(|(k, _)| k == "log_event")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert_eq!(l.header.first, at);
    assert_eq!(l.events.first().map(|e| e.n), Some(at));
    let elsewhere = TempDir::new("replay-last");
    replay_from_image_gives_the_rest(elsewhere.path(), &image, &log, &recorded);
    let out = journal(
        elsewhere.path(),
        &["--replay", "start", "--log", log.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("the log starts at event {at}")),
        "{}",
        stderr(&out)
    );
}

/// A run restored with `--ckpt-record` records from its image: its log replays from that
/// image (not from the start, which is refused, naming the image) and prints what the
/// restored run printed.
#[test]
fn a_restored_run_records_a_log_that_replays_from_its_image() {
    let d = TempDir::new("record-restored");
    let input = d.path().join("input.txt");
    let lines: String = (1..=45).map(|i| format!("row {i}\n")).collect();
    std::fs::write(&input, lines).unwrap();
    let killed = Command::new(example("journal"))
        .current_dir(d.path())
        .env("CKPT_CRASH_AFTER_SAVES", "2")
        .stdin(Stdio::from(std::fs::File::open(&input).unwrap()))
        .output()
        .unwrap();
    assert!(!killed.status.success());
    std::fs::copy(d.path().join("journal.ckpt"), d.path().join("from.ckpt")).unwrap();
    let restored = journal(
        d.path(),
        &["--restore", "from.ckpt", "--ckpt-record", "run.log"],
        Some(&input),
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(
        stdout(&restored).contains("result: 45 lines"),
        "{}",
        stdout(&restored)
    );

    let elsewhere = TempDir::new("replay-restored");
    let log = d.path().join("run.log");
    let from = d.path().join("from.ckpt");
    let args = [
        "--replay",
        from.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--ckpt-cwd=current",
    ];
    let out = journal(elsewhere.path(), &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&restored));
    let out = journal(
        elsewhere.path(),
        &["--replay", "start", "--log", log.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("records a run restored from") && stderr(&out).contains("from.ckpt"),
        "{}",
        stderr(&out)
    );
}

/// What a journal run killed again and again and recovered each time printed.
struct Recovered {
    /// Every run's standard output, put together.
    printed: String,
    kills: usize,
    /// Lines a run printed again at its start: the last line of the run killed before
    /// it, whose release the kill kept out of the log.
    repeated: usize,
    /// Kills of runs that started with no image to recover from.
    early: usize,
}

/// Runs `journal` over `lines` numbered input lines in `d`, with `args(attempt)`, killed
/// with SIGKILL after a random 20-160 ms (after `wait_image` is written, for the first
/// run) until `kills` kills, then lets it finish. Checks that what the runs printed, put
/// together, is one run's output (every line once, in order) and what a replay of the
/// whole log prints.
fn recover_until_done(
    d: &Path,
    lines: usize,
    kills: usize,
    wait_image: bool,
    args: impl Fn(usize) -> Vec<&'static str>,
) -> Recovered {
    let input = d.join("input.txt");
    let text: String = (1..=lines).map(|i| format!("entry {i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let image = d.join("journal.ckpt");
    let mut m = Moments::new();
    let started = std::time::Instant::now();
    let mut r = Recovered {
        printed: String::new(),
        kills: 0,
        repeated: 0,
        early: 0,
    };
    let mut finished = false;
    for attempt in 0..60 {
        assert!(started.elapsed() < Duration::from_secs(120), "too slow");
        let had_image = image.exists();
        let mut cmd = Command::new(example("journal"));
        cmd.args(args(attempt))
            .current_dir(d)
            .stdin(Stdio::from(std::fs::File::open(&input).unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = Running::spawn(&mut cmd);
        if attempt == 0 && wait_image {
            child.wait_for_file(&image, Duration::from_secs(20));
        }
        let ended =
            r.kills >= kills || child.ended_within(Duration::from_millis(m.next_ms(20, 160)));
        let out = if ended {
            child.finish(Duration::from_secs(60))
        } else {
            child.kill()
        };
        let mut text = stdout(&out);
        // The one write a kill can cut between its leaving and the log's record of it
        // (two syscalls): a recovery prints that last line again. Only that, once per kill.
        if attempt > 0 {
            if let Some(last) = r.printed.lines().last().map(|l| format!("{l}\n")) {
                if let Some(rest) = text.strip_prefix(last.as_str()) {
                    text = rest.to_string();
                    r.repeated += 1;
                }
            }
        }
        r.printed.push_str(&text);
        if ended {
            assert!(out.status.success(), "{}", stderr(&out));
            finished = true;
            break;
        }
        // A run killed before it said anything (a loaded machine can take longer than
        // the kill to start it) says nothing about what it recovers.
        if attempt > 0 && had_image && !stderr(&out).is_empty() {
            assert!(
                stderr(&out).contains("ckpt: recovery:"),
                "not a recovery: {}",
                stderr(&out)
            );
        }
        r.kills += 1;
        r.early += usize::from(!had_image);
    }
    assert!(
        finished && r.kills >= 10,
        "{} kills, finished {finished}",
        r.kills
    );
    // A kill lands in that window seldom; a repeat at most kills is a lost record.
    assert!(
        r.repeated * 4 <= r.kills,
        "{} of {} kills printed their run's last line again",
        r.repeated,
        r.kills
    );
    let numbers: Vec<&str> = r
        .printed
        .lines()
        .filter_map(|l| l.strip_prefix("line "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let expected: Vec<String> = (1..=lines).map(|i| i.to_string()).collect();
    assert_eq!(
        numbers, expected,
        "lines lost or printed twice:\n{}",
        r.printed
    );
    let last = r.printed.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("result: {lines} lines")),
        "{last}"
    );
    let replay = journal(d, &["--replay", "start", "--log", "run.log"], None);
    assert!(replay.status.success(), "{}", stderr(&replay));
    assert_eq!(
        stdout(&replay),
        r.printed,
        "the replay of the whole log differs"
    );
    r
}

/// The recovery of issue 10: a recorded run killed with SIGKILL again and again, each time
/// restored with `--restore IMG --ckpt-record LOG`, replays the killed run's log tail and
/// goes on live. What reached the pipe of every run, put together, is one run's output:
/// every line once, in order, nothing printed twice, and byte for byte what a replay of
/// the whole log prints.
#[test]
fn recovery_after_kills_replays_the_log_and_prints_nothing_twice() {
    let d = TempDir::new("record-recover");
    recover_until_done(d.path(), 240, 12, true, |attempt| {
        if attempt == 0 {
            vec![
                "--ckpt-record",
                "run.log",
                "--save-every",
                "5",
                "--pace",
                "8",
            ]
        } else {
            vec!["--restore", "journal.ckpt", "--ckpt-record", "run.log"]
        }
    });
}

/// `--ckpt-resume --ckpt-record LOG` as the one command a supervisor repeats: killed at
/// random moments (before the first image too, which recovers from the log's start),
/// the outputs put together are one run's, nothing printed twice; a run that finished
/// is not recovered again (its log says it ended).
#[test]
fn resume_with_record_recovers_before_the_first_image_too() {
    let d = TempDir::new("record-resume");
    let args = [
        "--ckpt-resume",
        "--ckpt-record",
        "run.log",
        "--save-every",
        "30",
        "--pace",
        "6",
    ];
    let r = recover_until_done(d.path(), 240, 10, false, |_| args.to_vec());
    eprintln!("{} kills, {} of them before any image", r.kills, r.early);
    // The first run is killed before its first image (at line 30, 180 ms in); a replay
    // does not sleep, so the recoveries get past it (the run takes 1.4 s live).
    assert!(
        r.early >= 1 && r.kills > r.early,
        "{} kills, {} before any image",
        r.kills,
        r.early
    );
    // The run finished: the same command starts a new run, not a recovery.
    let again = Command::new(example("journal"))
        .args(args)
        .current_dir(d.path())
        .stdin(Stdio::from(
            std::fs::File::open(d.path().join("input.txt")).unwrap(),
        ))
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("recovery"), "{}", stderr(&again));
    assert!(stdout(&again).contains("line 1:"));
}

/// Environment reads are inputs: a replay under another environment sees the recorded
/// values. `cargo ckpt replay` (here its library form) runs the executable that recorded
/// the log, with a progress bar, and `--until` through it writes the image.
#[test]
fn cargo_ckpt_replay_runs_the_recorded_executable_with_the_recorded_environment() {
    let d = TempDir::new("record-env");
    let recorded = Command::new(example("envcheck"))
        .args(["one", "two", "--ckpt-record", "run.log"])
        .current_dir(d.path())
        .env("ENVCHECK_VAR", "recorded value")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("ENVCHECK_VAR=recorded value"));
    let log = d.path().join("run.log");
    let listed = ckpt_build::log(
        &log,
        &ckpt_build::LogOptions {
            kind: Some("env".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(listed.contains("\"recorded value\""), "{listed}");
    let elsewhere = TempDir::new("replay-env");
    let mut cmd = ckpt_build::replay_command(&ckpt_build::ReplayOptions {
        log: log.clone(),
        progress: true,
        ..Default::default()
    })
    .unwrap();
    let replayed = cmd
        .current_dir(elsewhere.path())
        .env("ENVCHECK_VAR", "another value")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(stdout(&replayed), stdout(&recorded));
    let e = stderr(&replayed);
    assert!(e.contains("ckpt: replay [") && e.contains("(100%)"), "{e}");
    // An executable that is gone is named, with what to do.
    let err = ckpt_build::replay_command(&ckpt_build::ReplayOptions {
        log,
        exe: Some(d.path().join("no-such-binary")),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("is gone") && err.contains("--exe PATH"),
        "{err}"
    );
}

/// While recording, a checkpoint is requested once a recovery would replay more than
/// `--ckpt-log-bound` (default 1 s): a program that saves only at safepoints gets images,
/// each pointing into the log.
#[test]
fn recording_bounds_what_a_recovery_replays_with_requested_checkpoints() {
    let d = TempDir::new("record-bound");
    let out = Command::new(example("batch"))
        .args([
            "3000",
            "--ckpt-record",
            "run.log",
            "--ckpt-log-bound",
            "50ms",
        ])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let h = ckpt::image::read_header(&d.path().join("batch.ckpt")).unwrap();
    let option = |k: &str| {
        h.options
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let seq: u64 = option("seq").unwrap().parse().unwrap();
    assert!(seq >= 2, "only {seq} images in a run of several bounds");
    assert!(option("log_event").is_some() && option("log_id").is_some());
    // Off: no image at all (batch saves only when asked).
    let off = TempDir::new("record-bound-off");
    let out = Command::new(example("batch"))
        .args(["300", "--ckpt-record", "run.log", "--ckpt-log-bound", "off"])
        .current_dir(off.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!off.path().join("batch.ckpt").exists());
}
