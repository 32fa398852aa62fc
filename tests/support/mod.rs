//! Helpers of the end-to-end tests: run an example, kill it with SIGKILL at random
//! moments, restore it from its latest image, and compare with an uninterrupted run.
//! Every child process goes through [`Running`] (bounded waits, SIGKILL by
//! `Child::kill`, reaped on drop) and every directory through [`TempDir`].
#![allow(dead_code)]

mod child;
pub mod netns;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use child::Running;

/// The example binary `name`, built by `cargo test` next to the test binaries.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join("examples").join(name);
    assert!(
        p.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        p.display()
    );
    p
}

/// A temporary working directory (`ckpt-test-TAG-…` in the system's), removed on drop,
/// also when a test fails.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ckpt-test-{tag}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temporary directory for {tag}: {e}"));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

pub fn run(bin: &Path, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small deterministic generator for kill moments (seeded from the clock, printed).
pub struct Moments(u64);

impl Moments {
    pub fn new() -> Moments {
        let seed = std::env::var("CKPT_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("kill moments seed: {seed} (set CKPT_TEST_SEED to repeat)");
        Moments(seed | 1)
    }
    pub fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

/// What a run under repeated SIGKILL produced.
pub struct Interrupted {
    /// Stdout of every run, in order.
    pub outputs: Vec<String>,
    /// How many runs were killed after an image existed (restores that were killed too).
    pub kills: usize,
    pub final_output: Output,
}

/// Runs `bin` with `args` in `dir`, kills it `kills` times at random moments in
/// `lo..=hi` ms after each start, restoring from `image` after every kill, then lets
/// the last restore finish. Bounded by `limit` in total.
pub fn run_killed(
    bin: &Path,
    args: &[&str],
    dir: &Path,
    image: &str,
    kills: usize,
    lo: u64,
    hi: u64,
) -> Interrupted {
    let limit = Duration::from_secs(240);
    let started = Instant::now();
    let mut m = Moments::new();
    let mut outputs = Vec::new();
    let mut done_kills = 0;
    let mut attempts = 0;
    loop {
        assert!(started.elapsed() < limit, "run_killed exceeded {limit:?}");
        attempts += 1;
        assert!(attempts < kills * 20 + 20, "too many attempts");
        let restoring = dir.join(image).exists();
        let mut cmd = Command::new(bin);
        if restoring {
            cmd.arg("--restore").arg(image);
        } else {
            cmd.args(args);
        }
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if done_kills >= kills {
            let out = cmd.output().expect("spawn");
            outputs.push(stdout(&out));
            return Interrupted {
                outputs,
                kills: done_kills,
                final_output: out,
            };
        }
        let mut child = Running::spawn(&mut cmd);
        let finished = child.ended_within(Duration::from_millis(m.next_ms(lo, hi)));
        // SIGKILL unless it ended by itself: the process gets no chance to clean up.
        let out = child.kill();
        outputs.push(stdout(&out));
        if finished {
            assert!(out.status.success(), "run failed: {}", stderr(&out));
            // Finished before the kill: that counts as a completed run; start over
            // only if no kill happened at all yet.
            if done_kills == 0 {
                let _ = std::fs::remove_file(dir.join(image));
                continue;
            }
            return Interrupted {
                outputs,
                kills: done_kills,
                final_output: out,
            };
        }
        if dir.join(image).exists() {
            done_kills += 1;
        }
    }
}

/// Spawns `cmd`, waits (at most `limit`) until it has written `image` and kills it with
/// SIGKILL; returns what it printed to piped outputs. Panics with its standard error if it
/// ends first.
pub fn kill_once_saved(cmd: &mut Command, image: &Path, limit: Duration) -> Output {
    let mut child = Running::spawn(cmd);
    child.wait_for_file(image, limit);
    child.kill()
}

/// The line starting with `result:`.
pub fn result_line(s: &str) -> String {
    s.lines()
        .find(|l| l.starts_with("result:"))
        .unwrap_or_else(|| panic!("no result line in:\n{s}"))
        .to_string()
}

/// The central test shape: runs example `name` uninterrupted, then in rounds of runs
/// killed with SIGKILL at random moments (1/20 to 1/6 of the uninterrupted duration after
/// each start) and restored from `image`, until at least five kills landed and `enough`
/// accepts the rounds so far. Every round must end with the uninterrupted `result:` line;
/// every line any run printed must be one the uninterrupted run printed, and the last
/// run's output must be a suffix of it. Returns the uninterrupted output and the rounds.
pub fn kill_restore_equivalence(
    name: &str,
    args: &[&str],
    image: &str,
    mut enough: impl FnMut(&[Interrupted]) -> bool,
) -> (String, Vec<Interrupted>) {
    let bin = example(name);
    let clean = TempDir::new(&format!("{name}-clean"));
    let t0 = Instant::now();
    let base = run(&bin, args, clean.path());
    let ms = t0.elapsed().as_millis() as u64;
    assert!(
        base.status.success(),
        "uninterrupted run failed: {}",
        stderr(&base)
    );
    let base_out = stdout(&base);
    let expected = result_line(&base_out);
    let (lo, hi) = ((ms / 20).max(20), (ms / 6).max(40));
    let mut rounds: Vec<Interrupted> = Vec::new();
    let mut kills = 0;
    while kills < 5 || !enough(&rounds) {
        assert!(
            rounds.len() < 8,
            "only {kills} kills landed in {} rounds",
            rounds.len()
        );
        let dir = TempDir::new(&format!("{name}-killed-{}", rounds.len()));
        let r = run_killed(
            &bin,
            args,
            dir.path(),
            image,
            5usize.saturating_sub(kills).max(1),
            lo,
            hi,
        );
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
        rounds.push(r);
    }
    (base_out, rounds)
}

/// `exe args` in `dir`, its standard output going to the file `dir/out` (truncated, or
/// appended to: a restore continues the output of the run it continues), no standard
/// input, standard error piped.
pub fn output_to_file(exe: &Path, dir: &Path, args: &[&str], out: &str, append: bool) -> Command {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(dir.join(out))
        .expect("output file");
    let mut c = Command::new(exe);
    c.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(f))
        .stderr(Stdio::piped());
    c
}

/// The loop of the central test: starts a run (`start(restoring, attempt)`, restoring
/// when `image_exists()`), lets it go for a random moment in `window` ms, and stops it
/// (`stop`: true if it was still running, then killed), until `want` kills landed while
/// an image existed. A run that ended by itself first calls `over(attempt)` (the test
/// checks its output, removes the image) and counting starts again with the window
/// halved (a loaded machine runs the program slower than the window assumed, so the
/// kills would otherwise keep arriving too late). Bounded: 60 attempts, 300 s. Returns
/// the kills.
pub fn kill_until(
    want: u32,
    window: (u64, u64),
    m: &mut Moments,
    mut image_exists: impl FnMut() -> bool,
    mut start: impl FnMut(bool, u32) -> Running,
    mut stop: impl FnMut(Running) -> bool,
    mut over: impl FnMut(u32),
) -> u32 {
    let (mut kills, mut attempts) = (0, 0);
    let (mut lo, mut hi) = window;
    let started = Instant::now();
    while kills < want {
        attempts += 1;
        assert!(
            attempts < 60 && started.elapsed() < Duration::from_secs(300),
            "FAILED: kills land ({kills} of {want} after {attempts} attempts)"
        );
        let run = start(image_exists(), attempts);
        std::thread::sleep(Duration::from_millis(m.next_ms(lo, hi)));
        if !stop(run) {
            over(attempts);
            kills = 0;
            (lo, hi) = (lo / 2, (hi / 2).max(lo / 2 + 1));
            continue;
        }
        kills += u32::from(image_exists());
    }
    kills
}

/// How to start an example whose standard output goes to a file in its directory.
pub struct FileRun<'a> {
    pub bin: &'a Path,
    pub dir: &'a Path,
    /// Standard output file (relative to `dir`): truncated, or appended to (restores).
    pub stdout_file: &'a str,
    /// Standard input from this file, else none.
    pub stdin_file: Option<&'a Path>,
}

impl FileRun<'_> {
    /// Spawns with `args`; standard error is captured.
    pub fn start(&self, args: &[&str], append: bool, env: &[(&str, &str)]) -> Running {
        let mut cmd = output_to_file(self.bin, self.dir, args, self.stdout_file, append);
        if let Some(p) = self.stdin_file {
            cmd.stdin(Stdio::from(std::fs::File::open(p).unwrap()));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        Running::spawn(&mut cmd)
    }
}

/// The file-output form of the central test: runs `fresh` args to completion, then in
/// `rounds` rounds starts over, kills with SIGKILL `kills` times (at random moments in
/// `1/12..1/4` of the uninterrupted duration, or when `kill_when` text shows up in the
/// output for the last kill), restores with `--restore image` appending to the same
/// output file after each kill, and lets the last restore finish. Returns the
/// uninterrupted directory's and every round's directory for comparisons.
pub fn kill_restore_files(
    run: &FileRun<'_>,
    fresh: &[&str],
    image: &str,
    rounds: usize,
    kill_when: Option<&str>,
) -> (TempDir, Vec<TempDir>) {
    let clean = TempDir::new("clean");
    let base = FileRun {
        dir: clean.path(),
        ..*run
    };
    let t0 = Instant::now();
    let out = base
        .start(fresh, false, &[])
        .finish(Duration::from_secs(300));
    let ms = t0.elapsed().as_millis() as u64;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut m = Moments::new();
    let mut dirs = Vec::new();
    for round in 0..rounds {
        let dir = TempDir::new(&format!("killed-{round}"));
        let r = FileRun {
            dir: dir.path(),
            ..*run
        };
        let (mut kills, mut attempts) = (0, 0);
        while kills < 6 {
            attempts += 1;
            assert!(attempts < 40, "kills keep missing the run");
            let restoring = dir.path().join(image).exists();
            let mut child = if restoring {
                r.start(&["--restore", image], true, &[])
            } else {
                r.start(fresh, false, &[])
            };
            match kill_when {
                Some(needle) if kills == 5 => child.wait_for_text(
                    &dir.path().join(run.stdout_file),
                    needle,
                    Duration::from_secs(60),
                ),
                _ => std::thread::sleep(Duration::from_millis(m.next_ms(ms / 12, ms / 4 + 1))),
            }
            if !child.kill_if_running() {
                if kills >= 5 {
                    break;
                }
                // Finished before enough kills landed: start the round over.
                let _ = std::fs::remove_file(dir.path().join(image));
                kills = 0;
                continue;
            }
            if dir.path().join(image).exists() {
                kills += 1;
            }
        }
        if dir.path().join(image).exists() {
            let last = r
                .start(&["--restore", image], true, &[])
                .finish(Duration::from_secs(300));
            assert!(
                last.status.success(),
                "{}",
                String::from_utf8_lossy(&last.stderr)
            );
        }
        dirs.push(dir);
    }
    (clean, dirs)
}
