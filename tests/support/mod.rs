//! Helpers of the end-to-end tests: run an example, kill it with SIGKILL at random
//! moments, restore it from its latest image, and compare with an uninterrupted run.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A temporary working directory, removed on drop (also when a test fails).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p =
            std::env::temp_dir().join(format!("ckpt-test-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the child on drop so a failing test leaves no process behind.
pub struct Running(pub Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
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
        let mut child = Running(Some(cmd.spawn().expect("spawn")));
        let wait = Duration::from_millis(m.next_ms(lo, hi));
        let t0 = Instant::now();
        let mut finished = None;
        while t0.elapsed() < wait {
            if let Some(st) = child.0.as_mut().unwrap().try_wait().unwrap() {
                finished = Some(st);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let c = child.0.take().unwrap();
        if finished.is_none() {
            // SIGKILL: the process gets no chance to clean up.
            unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
        }
        let out = c.wait_with_output().expect("wait");
        outputs.push(stdout(&out));
        if finished.is_some() {
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
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(self.dir.join(self.stdout_file))
            .unwrap();
        let stdin = match self.stdin_file {
            Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
            None => Stdio::null(),
        };
        let mut cmd = Command::new(self.bin);
        cmd.args(args)
            .current_dir(self.dir)
            .stdin(stdin)
            .stdout(Stdio::from(out))
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Running(Some(cmd.spawn().expect("spawn")))
    }
}

/// Waits for the run to end by itself (bounded).
pub fn finish(mut r: Running, limit: Duration) -> Output {
    let t0 = Instant::now();
    loop {
        let c = r.0.as_mut().unwrap();
        if c.try_wait().unwrap().is_some() {
            return r.0.take().unwrap().wait_with_output().unwrap();
        }
        assert!(
            t0.elapsed() < limit,
            "the run did not finish within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills the run with SIGKILL; true if it was still running (a run that had ended must
/// have succeeded).
pub fn kill(mut r: Running) -> bool {
    let mut c = r.0.take().unwrap();
    let alive = c.try_wait().unwrap().is_none();
    if alive {
        unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
    }
    let out = c.wait_with_output().unwrap();
    assert!(
        alive || out.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    alive
}

/// Waits (bounded) until `file` in `dir` contains `needle`, or the run ends.
pub fn wait_for(r: &mut Running, dir: &Path, file: &str, needle: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if std::fs::read_to_string(dir.join(file)).is_ok_and(|s| s.contains(needle)) {
            return;
        }
        if r.0.as_mut().unwrap().try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("{file} never contained {needle:?}");
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
    let out = finish(base.start(fresh, false, &[]), Duration::from_secs(300));
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
                Some(needle) if kills == 5 => {
                    wait_for(&mut child, dir.path(), run.stdout_file, needle)
                }
                _ => std::thread::sleep(Duration::from_millis(m.next_ms(ms / 12, ms / 4 + 1))),
            }
            if !kill(child) {
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
            let last = finish(
                r.start(&["--restore", image], true, &[]),
                Duration::from_secs(300),
            );
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
