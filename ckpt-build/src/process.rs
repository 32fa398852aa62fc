//! Child processes and scratch directories of `cargo ckpt verify --binary` and `check`:
//! every wait is bounded, a child is killed with SIGKILL and reaped when dropped, and a
//! scratch directory is removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a bounded wait looks at the child.
const POLL: Duration = Duration::from_millis(2);

/// The variables ckpt's agent reads that a run under the tool must not inherit from the
/// user's shell (they would change where it saves, or kill it).
pub(crate) const AGENT_VARS: &[&str] = &[
    "CKPT_FILE",
    "CKPT_RESTORE",
    "CKPT_REEXEC",
    "CKPT_CRASH_AFTER_SAVES",
    "CKPT_PROBE",
];

/// A directory of the system's temporary directory, removed with its contents on drop.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// Creates `ckpt-TAG-<pid>-<n>` in the system's temporary directory.
    pub(crate) fn new(tag: &str) -> std::io::Result<Scratch> {
        static N: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        // A name taken by a leftover of another process is skipped.
        for _ in 0..1000 {
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = base.join(format!("ckpt-{tag}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(Scratch(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("no free scratch directory name in {}", base.display()),
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running child, killed with SIGKILL and reaped on drop.
pub(crate) struct Running(Option<Child>);

/// How a bounded wait ended.
pub(crate) enum Ended {
    /// By itself, with this status.
    Exited(ExitStatus),
    /// Still running when the time was up (not killed).
    Running,
}

impl Running {
    pub(crate) fn spawn(cmd: &mut Command) -> std::io::Result<Running> {
        cmd.spawn().map(|c| Running(Some(c)))
    }

    /// Waits at most `d` for it to end.
    pub(crate) fn wait_for(&mut self, d: Duration) -> std::io::Result<Ended> {
        let t0 = Instant::now();
        let Some(c) = self.0.as_mut() else {
            return Err(std::io::Error::other("the child was reaped already"));
        };
        loop {
            if let Some(s) = c.try_wait()? {
                return Ok(Ended::Exited(s));
            }
            if t0.elapsed() >= d {
                return Ok(Ended::Running);
            }
            std::thread::sleep(POLL.min(d.saturating_sub(t0.elapsed())));
        }
    }

    /// Kills it with SIGKILL (if it still runs) and reaps it; its exit status.
    pub(crate) fn kill(mut self) -> std::io::Result<ExitStatus> {
        let Some(mut c) = self.0.take() else {
            return Err(std::io::Error::other("the child was reaped already"));
        };
        // It may have ended by itself just now: then kill fails and wait reports how.
        let _ = c.kill();
        c.wait()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether the file at `path` contains `needle`, read in pieces (binaries are large).
pub(crate) fn file_contains(path: &Path, needle: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; (1 << 20) + needle.len()];
    // Bytes kept from the previous piece, so a needle across two pieces is found.
    let mut kept = 0;
    loop {
        let n = f.read(&mut buf[kept..])?;
        if n == 0 {
            return Ok(false);
        }
        let end = kept + n;
        if buf[..end].windows(needle.len()).any(|w| w == needle) {
            return Ok(true);
        }
        let keep = needle.len().saturating_sub(1).min(end);
        buf.copy_within(end - keep..end, 0);
        kept = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needle_across_pieces_is_found() {
        let dir = Scratch::new("test").expect("scratch");
        let p = dir.path().join("f");
        let mut data = vec![b'x'; (1 << 20) - 3];
        data.extend_from_slice(b"NEEDLE");
        data.extend_from_slice(&[b'y'; 100]);
        std::fs::write(&p, &data).expect("write");
        assert!(file_contains(&p, b"NEEDLE").expect("read"));
        assert!(!file_contains(&p, b"NEEDLES").expect("read"));
        let kept = dir.path().to_path_buf();
        drop(dir);
        assert!(!kept.exists(), "the scratch directory is removed");
    }

    #[test]
    fn a_child_is_waited_for_within_bounds() {
        let mut c = Running::spawn(Command::new("sleep").arg("5")).expect("spawn sleep");
        assert!(matches!(
            c.wait_for(Duration::from_millis(20)).expect("wait"),
            Ended::Running
        ));
        let status = c.kill().expect("kill");
        assert!(!status.success());
    }
}
