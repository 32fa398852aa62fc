//! The logtail example (a std-only program appending timestamped entries to a log it
//! keeps open) under SIGKILL and restore: the log holds every entry exactly once, in
//! order, with the uninterrupted run's payloads; its `t=` times come from the virtual
//! clock, so they never go back and leave the downtime out (unless `CKPT_TIME=wall`); and
//! a restore refuses to write into a log that was replaced or removed since the save.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test logtail` alone).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::*;

const ENTRIES: u64 = 40;
const INTERVAL_MS: u64 = 25;
const ARGS: &[&str] = &["app.log", "--entries", "40", "--interval-ms", "25"];
/// The same run saving every fourth entry only: restores go back further, past flushes.
const ARGS_SPARSE: &[&str] = &[
    "app.log",
    "--entries",
    "40",
    "--interval-ms",
    "25",
    "--save-every",
    "4",
];
const LOG: &str = "app.log";
const STATE: &str = "app.log.state";
const IMAGE: &str = "logtail.ckpt";
const DOWNTIME: Duration = Duration::from_millis(1500);

/// The uninterrupted run: its stdout, log, state file and duration.
struct Base {
    stdout: String,
    log: String,
    state: String,
    ms: u64,
}

/// Runs logtail once without interruption (shared by the tests of this file).
fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let d = TempDir::new("logtail-clean");
        let t0 = Instant::now();
        let out = run(&example("logtail"), ARGS, d.path());
        let ms = t0.elapsed().as_millis() as u64;
        assert!(
            out.status.success(),
            "uninterrupted run failed: {}",
            stderr(&out)
        );
        let log = read(&d.path().join(LOG));
        check_entries(&log);
        Base {
            stdout: stdout(&out),
            log,
            state: read(&d.path().join(STATE)),
            ms,
        }
    })
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// One log line: `entry <i> t=<ms> <payload>`.
struct Entry {
    i: u64,
    t: u64,
}

fn parse_entry(line: &str) -> Entry {
    let bad = || -> ! { panic!("malformed log line {line:?}") };
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() != 4 || f[0] != "entry" || f[3].len() != 16 {
        bad()
    }
    Entry {
        i: f[1].parse().unwrap_or_else(|_| bad()),
        t: f[2]
            .strip_prefix("t=")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| bad()),
    }
}

/// The log with every `t=` value replaced by `t=_`.
fn masked(log: &str) -> String {
    log.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            match f.as_slice() {
                [a, b, t, d] if t.starts_with("t=") => format!("{a} {b} t=_ {d}\n"),
                _ => format!("{l}\n"),
            }
        })
        .collect()
}

/// Checks that the log holds entries 0..ENTRIES exactly once each, in order, with
/// non-decreasing times, and returns them.
fn check_entries(log: &str) -> Vec<Entry> {
    assert!(
        log.ends_with('\n'),
        "log does not end with a newline:\n{log}"
    );
    let entries: Vec<Entry> = log.lines().map(parse_entry).collect();
    let indices: Vec<u64> = entries.iter().map(|e| e.i).collect();
    assert_eq!(
        indices,
        (0..ENTRIES).collect::<Vec<_>>(),
        "entries missing, repeated or out of order:\n{log}"
    );
    for w in entries.windows(2) {
        assert!(
            w[0].t <= w[1].t,
            "t= goes back from entry {} to entry {}:\n{log}",
            w[0].i,
            w[1].i
        );
    }
    entries
}

/// The full check of a finished log against the uninterrupted run's.
fn check_log(log: &str, state: &str) -> Vec<Entry> {
    let entries = check_entries(log);
    let b = base();
    assert_eq!(
        masked(log),
        masked(&b.log),
        "payloads differ from the uninterrupted run's"
    );
    assert_eq!(state, b.state, "the state file differs");
    entries
}

fn spawn(dir: &Path, args: &[&str], time_policy: Option<&str>) -> Running {
    let mut cmd = Command::new(example("logtail"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("CKPT_TIME")
        .env_remove("CKPT_FILES");
    if let Some(p) = time_policy {
        cmd.env("CKPT_TIME", p);
    }
    Running::spawn(&mut cmd)
}

fn spawn_restore(dir: &Path, time_policy: Option<&str>) -> Running {
    spawn(dir, &["--restore", IMAGE], time_policy)
}

/// The `next` count the state file holds (entries written so far), 0 without one.
fn state_next(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join(STATE))
        .ok()
        .and_then(|s| s.split(' ').nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Starts logtail fresh and kills it once an image exists and at least `n` entries are
/// written.
fn start_and_kill_after(dir: &Path, n: u64) {
    let mut r = spawn(dir, ARGS, None);
    r.wait_until(
        &format!("an image and {n} entries"),
        Duration::from_secs(30),
        || dir.join(IMAGE).exists() && state_next(dir) >= n,
    );
    r.kill();
}

/// One round: a fresh run with `args`, killed `kills` times at random moments in `lo..=hi` ms after
/// each start and restored from its latest image, then allowed to finish. A run killed
/// before its first image starts over from nothing (its partial log removed, as a user
/// would). Returns the number of kills that were followed by a restore, and every run's
/// stdout.
fn round(
    dir: &Path,
    args: &[&str],
    kills: usize,
    lo: u64,
    hi: u64,
    m: &mut Moments,
) -> (usize, Vec<String>) {
    let started = Instant::now();
    let mut outputs = Vec::new();
    let mut done = 0;
    for _ in 0..kills * 20 + 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "a round ran over 60 s"
        );
        let restoring = dir.join(IMAGE).exists();
        if !restoring {
            let _ = std::fs::remove_file(dir.join(LOG));
            let _ = std::fs::remove_file(dir.join(STATE));
        }
        let r = if restoring {
            spawn_restore(dir, None)
        } else {
            spawn(dir, args, None)
        };
        if done >= kills {
            let out = r.finish(Duration::from_secs(60));
            assert!(
                out.status.success(),
                "last restore failed: {}",
                stderr(&out)
            );
            outputs.push(stdout(&out));
            return (done, outputs);
        }
        let mut r = r;
        let finished = r.ended_within(Duration::from_millis(m.next_ms(lo, hi)));
        // SIGKILL unless it ended by itself: the process gets no chance to clean up.
        let out = r.kill();
        outputs.push(stdout(&out));
        if finished {
            assert!(out.status.success(), "run failed: {}", stderr(&out));
            if done > 0 {
                return (done, outputs);
            }
            // Finished before any kill: start the round over.
            let _ = std::fs::remove_file(dir.join(IMAGE));
            outputs.clear();
        } else if dir.join(IMAGE).exists() {
            done += 1;
        }
    }
    panic!("too many attempts: only {done} kills landed");
}

#[test]
fn log_survives_repeated_sigkill() {
    let b = base();
    let (lo, hi) = ((b.ms / 20).max(30), (b.ms / 6).max(60));
    let mut m = Moments::new();
    let mut total = 0;
    let mut rounds = 0;
    while rounds < 3 || total < 15 {
        assert!(rounds < 8, "only {total} kills landed in {rounds} rounds");
        let d = TempDir::new(&format!("logtail-killed-{rounds}"));
        // Every other round saves less often; the log must come out the same.
        let args = if rounds % 2 == 1 { ARGS_SPARSE } else { ARGS };
        let (kills, outputs) = round(d.path(), args, 5, lo, hi, &mut m);
        let log = read(&d.path().join(LOG));
        check_log(&log, &read(&d.path().join(STATE)));
        for out in &outputs {
            for line in out.lines() {
                assert!(
                    b.stdout.lines().any(|l| l == line),
                    "unexpected stdout line {line:?}"
                );
            }
        }
        let last = outputs.last().expect("a run");
        assert_eq!(result_line(last), result_line(&b.stdout));
        assert!(
            b.stdout.ends_with(last.as_str()),
            "the last restore's stdout is not a suffix of the uninterrupted run's:\n{last}"
        );
        total += kills;
        rounds += 1;
    }
    println!("{total} kills in {rounds} rounds (kill moments {lo}..={hi} ms)");
}

/// Kills logtail after some entries, waits [`DOWNTIME`], restores it with `CKPT_TIME` =
/// `policy` and returns its entries and the entry count written before the kill.
fn killed_with_downtime(tag: &str, policy: Option<&str>) -> (Vec<Entry>, u64) {
    let d = TempDir::new(tag);
    start_and_kill_after(d.path(), 10);
    let written = state_next(d.path());
    std::thread::sleep(DOWNTIME);
    let out = spawn_restore(d.path(), policy).finish(Duration::from_secs(60));
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    let log = read(&d.path().join(LOG));
    (check_log(&log, &read(&d.path().join(STATE))), written)
}

/// The largest gap between consecutive `t=` values, and the index of the entry after it.
fn largest_gap(entries: &[Entry]) -> (u64, u64) {
    entries
        .windows(2)
        .map(|w| (w[1].t - w[0].t, w[1].i))
        .max()
        .expect("entries")
}

#[test]
fn downtime_is_left_out_of_the_timestamps() {
    let (entries, _) = killed_with_downtime("logtail-mono", None);
    let (gap, at) = largest_gap(&entries);
    assert!(
        gap <= INTERVAL_MS + 700,
        "a gap of {gap} ms before entry {at}: the downtime of {DOWNTIME:?} is counted"
    );
}

#[test]
fn wall_policy_counts_the_downtime_in() {
    let (entries, written) = killed_with_downtime("logtail-wall", Some("wall"));
    let (gap, at) = largest_gap(&entries);
    assert!(
        gap >= DOWNTIME.as_millis() as u64 - 100,
        "largest gap {gap} ms (before entry {at}) leaves the downtime out with CKPT_TIME=wall"
    );
    // The gap is where the restore continued: at or before the last entry written
    // before the kill.
    assert!(
        at <= written,
        "the gap of {gap} ms is before entry {at}, after the {written} entries written before the kill"
    );
}

/// Moves `path` aside (returning where to) and puts a different file in its place.
fn replace(path: &Path, content: &str) -> std::path::PathBuf {
    let aside = path.with_extension("orig");
    std::fs::rename(path, &aside).unwrap();
    // Written next to it and renamed over it: a new inode while the old one still exists.
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
    aside
}

fn assert_refused(dir: &Path, log: &Path, why: &str) {
    let out = spawn_restore(dir, None).finish(Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "restore with the log {why} did not fail with status 2: {err}"
    );
    assert!(
        err.contains("cannot restore") && err.contains(&log.display().to_string()),
        "restore with the log {why}: stderr does not say `cannot restore` and the path {}:\n{err}",
        log.display()
    );
    assert!(
        stdout(&out).is_empty(),
        "a refused restore ran the program:\n{}",
        stdout(&out)
    );
}

#[test]
fn a_replaced_or_removed_log_is_refused() {
    let d = TempDir::new("logtail-replaced");
    start_and_kill_after(d.path(), 6);
    let dir = std::fs::canonicalize(d.path()).unwrap();
    let log = dir.join(LOG);
    let state = dir.join(STATE);
    let state_at_kill = read(&state);

    // Removed: the program had it open at the save.
    let aside = log.with_extension("orig");
    std::fs::rename(&log, &aside).unwrap();
    assert_refused(&dir, &log, "removed");
    assert!(!log.exists(), "a refused restore created the log");
    std::fs::rename(&aside, &log).unwrap();

    // Replaced by another file (another inode), longer than the saved log so a
    // restore that did not check would cut it back.
    let other = "not the log\n".repeat(200);
    let aside = replace(&log, &other);
    assert_refused(&dir, &log, "replaced");
    assert_eq!(
        read(&log),
        other,
        "a refused restore changed the replacement"
    );
    assert_eq!(
        read(&state),
        state_at_kill,
        "a refused restore cut the state file back"
    );

    // The original back in place (as the message suggests), and the state file, closed
    // at the save, replaced: not the restore's business, it continues.
    std::fs::rename(&aside, &log).unwrap();
    replace(&state, "something else\n");
    let out = spawn_restore(&dir, None).finish(Duration::from_secs(60));
    assert!(
        out.status.success(),
        "restore with the original log back failed: {}",
        stderr(&out)
    );
    check_log(&read(&log), &read(&state));
}
