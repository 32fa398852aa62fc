//! A program under test as a child process: spawned, watched with bounded waits, killed
//! with SIGKILL (`Child::kill`, which sends SIGKILL on Unix) and always reaped, also when
//! the test panics.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the waits below look at the child and the files it writes.
const POLL: Duration = Duration::from_millis(2);

/// A running child, killed with SIGKILL and reaped on drop so a failing test leaves no
/// process behind. Its piped outputs are read from the start by two threads, so a child
/// that prints more than a pipe holds (64 KiB) never blocks on a full pipe while a wait
/// below only polls for its exit.
pub struct Running {
    child: Option<Child>,
    stdout: Option<Drained>,
    stderr: Option<Drained>,
}

/// What a thread read from a pipe so far, and whether it reached the end.
type Drained = Arc<Mutex<(Vec<u8>, bool)>>;

/// How long the outputs of an ended child may stay open: a process it left behind (a
/// background writer) can hold them; what was read by then is the output.
const PIPES_AFTER_EXIT: Duration = Duration::from_secs(10);

/// Reads `pipe` to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Option<Drained> {
    pipe.map(|mut p| {
        let out: Drained = Arc::default();
        let o = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = p.read(&mut buf).unwrap_or(0);
                let mut g = o.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    g.1 = true;
                    return;
                }
                g.0.extend_from_slice(&buf[..n]);
            }
        });
        out
    })
}

/// The bytes `d` holds once its pipe ended, or once `by` passed.
fn collect(d: Option<Drained>, by: Instant) -> Vec<u8> {
    let Some(d) = d else { return Vec::new() };
    loop {
        let mut g = d.lock().unwrap_or_else(|e| e.into_inner());
        if g.1 || Instant::now() >= by {
            return std::mem::take(&mut g.0);
        }
        drop(g);
        std::thread::sleep(POLL);
    }
}

impl Running {
    /// Spawns `cmd` (its stdio as the caller set it up).
    pub fn spawn(cmd: &mut Command) -> Running {
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {:?}: {e}", cmd.get_program()));
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        Running {
            child: Some(child),
            stdout,
            stderr,
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("a running child")
    }

    /// Its exit status if it has ended (reaped then), without waiting.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child().try_wait().expect("wait for the child")
    }

    /// Lets it run for `d`; true if it ended by itself within that time.
    pub fn ended_within(&mut self, d: Duration) -> bool {
        let t0 = Instant::now();
        loop {
            if self.try_wait().is_some() {
                return true;
            }
            if t0.elapsed() >= d {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `cond` holds. Panics, naming `what` and with the child's standard error
    /// (when piped), if the child ends before (and `cond` still does not hold) or `limit`
    /// passes (the child is killed first).
    pub fn wait_until(&mut self, what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
        let t0 = Instant::now();
        loop {
            if cond() {
                return;
            }
            if let Some(status) = self.try_wait() {
                // It may have got there just before it ended.
                if cond() {
                    return;
                }
                let out = self.take_output();
                panic!(
                    "the run ended ({status}) before {what}; stderr:\n{}",
                    stderr_of(&out)
                );
            }
            if t0.elapsed() >= limit {
                let out = self.kill_now();
                panic!(
                    "no {what} after {limit:?} (the run was killed); stderr:\n{}",
                    stderr_of(&out)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `path` (an image) exists; see [`Running::wait_until`].
    pub fn wait_for_file(&mut self, path: &Path, limit: Duration) {
        let what = format!("{} exists", path.display());
        self.wait_until(&what, limit, || path.exists());
    }

    /// Waits until `path` contains `needle`, or the child ends. Panics (killing the child,
    /// with its standard error) if neither happens within `limit`.
    pub fn wait_for_text(&mut self, path: &Path, needle: &str, limit: Duration) {
        let t0 = Instant::now();
        loop {
            if std::fs::read_to_string(path).is_ok_and(|s| s.contains(needle)) {
                return;
            }
            if self.try_wait().is_some() {
                return;
            }
            if t0.elapsed() >= limit {
                let out = self.kill_now();
                panic!(
                    "{} never contained {needle:?} in {limit:?} (the run was killed); stderr:\n{}",
                    path.display(),
                    stderr_of(&out)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Its process id.
    pub fn pid(&mut self) -> u32 {
        self.child().id()
    }

    /// Sends it signal `sig` (SIGTERM, SIGINT, SIGUSR1...) if it is still running.
    pub fn signal(&mut self, sig: i32) {
        if self.try_wait().is_none() {
            // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
            unsafe {
                libc::kill(self.child().id() as i32, sig);
            }
        }
    }

    /// Kills it with SIGKILL (the process gets no chance to clean up; nothing happens if it
    /// has ended already) and returns what it printed to piped outputs.
    pub fn kill(mut self) -> Output {
        self.kill_now()
    }

    /// Kills it with SIGKILL if it is still running; true if it was. A run that had ended
    /// by itself must have succeeded.
    pub fn kill_if_running(mut self) -> bool {
        let alive = self.try_wait().is_none();
        let out = self.kill_now();
        assert!(
            alive || out.status.success(),
            "run failed: {}",
            stderr_of(&out)
        );
        alive
    }

    /// Waits for it to end by itself. Panics (killing it, with its standard error) if it
    /// has not within `limit`.
    pub fn finish(mut self, limit: Duration) -> Output {
        if self.ended_within(limit) {
            return self.take_output();
        }
        let out = self.kill_now();
        panic!(
            "the run did not finish within {limit:?} (killed); stderr:\n{}",
            stderr_of(&out)
        );
    }

    fn kill_now(&mut self) -> Output {
        self.child().kill().expect("SIGKILL the child");
        self.take_output()
    }

    /// Reaps the child (which has ended or was killed) and collects its piped outputs.
    fn take_output(&mut self) -> Output {
        let mut child = self.child.take().expect("a running child");
        let status = child.wait().expect("wait for the child");
        let by = Instant::now() + PIPES_AFTER_EXIT;
        Output {
            status,
            stdout: collect(self.stdout.take(), by),
            stderr: collect(self.stderr.take(), by),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn stderr_of(o: &Output) -> String {
    if o.stderr.is_empty() {
        "(empty or not captured)".to_string()
    } else {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}
