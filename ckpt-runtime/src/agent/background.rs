//! Background saves: the program stops only while its state is encoded in memory, with
//! its large arrays referenced rather than copied (see [`image::Body`]); the image is
//! written while it runs on.
//!
//! - **fork** (the default on Linux), as Redis's BGSAVE: a forked copy of the process
//!   writes the image. Copy-on-write keeps the copy's memory as it was at the save point
//!   whatever the program does next; the pause is the encoding of the small state plus
//!   `fork()` (page tables are copied, not pages).
//! - **thread**, where fork fails (no memory for the page tables, or an overcommit
//!   policy that refuses it) or with `CKPT_BACKGROUND=thread`: the large arrays are
//!   copied during the pause and a thread writes the image.
//! - **sync**, with `--ckpt-sync` (`CKPT_SYNC=1`), while recording or replaying an input
//!   log, while the network stack holds frames until an image covers them (a TAP with
//!   `--ckpt-net-commit=save`: they would wait for the image to be durable anyway), and
//!   under the crash-testing aids: the save is durable when `save()` returns.
//!
//! Crash safety is the same in every mode: the image is written to a temp file, synced
//! and renamed into place, so it becomes current only when complete. The bookkeeping that
//! depends on the image being durable (the sequence number, the file journal of the image,
//! the network frames it lets go) runs once the writer reported success, on the thread
//! that waited for it. A save that fails is reported by the next [`settle`] (the next
//! save, [`wait_durable`](crate::wait_durable), the end of the run) and on stderr at once.
//!
//! One save is written at a time: a save requested while the previous one is still being
//! written waits for it (`--ckpt-overlap=wait`, the default) or is skipped
//! (`--ckpt-overlap=skip`: the next save takes newer state anyway).
//!
//! A process killed while its save is written does not take the save with it: the writer
//! (a child process) finishes the image, holding the image's lock meanwhile, and a
//! restore waits for it (see `lifecycle::take_lock`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::image::{self, Body, Unlink};

/// How saves are written (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sync,
    Fork,
    Thread,
}

/// What a save does while the previous one is still being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Waits for it, then saves.
    Wait,
    /// Skips this save.
    Skip,
}

impl Overlap {
    pub(crate) fn parse(v: &str) -> std::result::Result<Overlap, String> {
        match v {
            "wait" => Ok(Overlap::Wait),
            "skip" => Ok(Overlap::Skip),
            _ => Err("expected `wait` or `skip`".into()),
        }
    }
}

/// Forces the thread writer (for tests of the fallback).
pub(crate) const ENV_BACKGROUND: &str = "CKPT_BACKGROUND";

/// The mode of the next save, given the run's `--ckpt-sync`.
pub(crate) fn mode(sync: bool) -> Mode {
    let aids = [
        image::crash::ENV_BYTE,
        image::crash::ENV_STEP,
        super::private::CRASH_AFTER_SAVES,
    ];
    if sync || crate::replay::on() || aids.iter().any(|v| std::env::var_os(v).is_some()) {
        return Mode::Sync;
    }
    // Frames that wait for an image wait for it to be durable: writing it in the
    // background would only let the program run on to the next blocked read.
    #[cfg(feature = "net")]
    if crate::net::commits_output() {
        return Mode::Sync;
    }
    match std::env::var(ENV_BACKGROUND).as_deref() {
        Ok("thread") => Mode::Thread,
        Ok("sync") => Mode::Sync,
        _ if cfg!(target_os = "linux") => Mode::Fork,
        _ => Mode::Thread,
    }
}

/// What becomes true once an image is durable.
pub(crate) struct Commit {
    /// The image.
    pub path: PathBuf,
    /// It is the run's image path (not a `save_to` path).
    pub main: bool,
    /// Its sequence number (when `main`).
    pub seq: u64,
    /// The arrays of an incremental image (address, length), in order: what the
    /// unchanged-chunk tracking learns from it once committed.
    pub arrays: Vec<(usize, usize)>,
    /// The network frames held when it was taken (it lets these go).
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub net_held: usize,
}

impl Commit {
    /// The image is durable: its sequence number becomes the run's, its journal starts
    /// again from it, and the network frames it covers leave.
    pub(crate) fn done(&self) {
        if let Some(cfg) = super::options::config() {
            if self.main {
                cfg.seq
                    .store(self.seq, std::sync::atomic::Ordering::Relaxed);
                *cfg.last_image.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.path.clone());
            }
        }
        crate::replay::image_written();
        if !self.arrays.is_empty() {
            image::dirty::committed(&self.path, &self.arrays);
        }
        crate::fs::journal::saved(&self.path);
        #[cfg(feature = "net")]
        crate::net::saved(self.net_held);
    }

    /// The bookkeeping of the outcome `r` of writing it: an upload that failed
    /// ([`Error::Remote`]) still left a complete local image.
    fn settled<T>(&self, r: &Result<T>) {
        match r {
            Ok(_) | Err(Error::Remote { .. }) => self.done(),
            Err(_) => self.failed(),
        }
    }

    /// The image was not written: the previous one stays current.
    fn failed(&self) {
        image::dirty::failed();
        crate::fs::journal::abandon_window(&self.path);
    }
}

/// The outcome of a save being written, set by the thread that waits for the writer.
#[derive(Default)]
struct Slot {
    outcome: Mutex<Option<Result<u64>>>,
    cv: Condvar,
}

/// The save being written.
struct InFlight {
    path: PathBuf,
    slot: Arc<Slot>,
    waiter: Option<std::thread::JoinHandle<()>>,
}

static IN_FLIGHT: Mutex<Option<InFlight>> = Mutex::new(None);

fn in_flight() -> std::sync::MutexGuard<'static, Option<InFlight>> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a save is still being written.
pub(crate) fn busy() -> bool {
    in_flight().as_ref().is_some_and(|f| {
        f.slot
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    })
}

/// Waits until the save being written (if any) is durable or failed, and its bookkeeping
/// done; the outcome stays for [`settle`].
pub(crate) fn wait_written() {
    let Some(slot) = in_flight().as_ref().map(|f| f.slot.clone()) else {
        return;
    };
    let mut out = slot.outcome.lock().unwrap_or_else(|e| e.into_inner());
    while out.is_none() {
        out = slot.cv.wait(out).unwrap_or_else(|e| e.into_inner());
    }
}

/// Waits until the save being written (if any) is durable or failed; its failure is the
/// error. Afterwards no save is in flight.
pub(crate) fn settle() -> Result<()> {
    let Some(f) = in_flight().take() else {
        return Ok(());
    };
    let started = Instant::now();
    let mut out = f.slot.outcome.lock().unwrap_or_else(|e| e.into_inner());
    while out.is_none() {
        out = f.slot.cv.wait(out).unwrap_or_else(|e| e.into_inner());
    }
    let r = out.take().unwrap_or(Ok(0));
    drop(out);
    if let Some(w) = f.waiter {
        let _ = w.join();
    }
    phase!(
        "ckpt.settle",
        path = f.path.display(),
        waited_us = started.elapsed().as_micros() as u64
    );
    r.map(drop)
}

/// Writes `body` as the image `commit.path` in `mode`; returns once the program may go
/// on (for [`Mode::Sync`], once the image is durable and `commit` done).
pub(crate) fn write(
    mode: Mode,
    mut body: Body,
    key: Option<image::signature::Key>,
    commit: Commit,
) -> Result<()> {
    match mode {
        Mode::Sync => {
            let r = publish(&commit.path, key.as_ref(), &body);
            image::dirty::reprotect();
            commit.settled(&r);
            r.map(drop)
        }
        Mode::Fork => match fork_writer(&body, key.as_ref(), &commit.path) {
            Ok(child) => {
                let path = commit.path.clone();
                // The writer has its copy: the written chunks are protected again while
                // the program runs on (not in its pause).
                start_waiter(commit, move || {
                    image::dirty::reprotect();
                    child.wait(&path)
                });
                Ok(())
            }
            Err(e) => {
                phase!("ckpt.fork_failed", error = e.to_string());
                body.own();
                write_in_thread(body, key, commit);
                Ok(())
            }
        },
        Mode::Thread => {
            body.own();
            write_in_thread(body, key, commit);
            Ok(())
        }
    }
}

fn write_in_thread(body: Body, key: Option<image::signature::Key>, commit: Commit) {
    let path = commit.path.clone();
    // The arrays were copied: the written chunks can be protected again.
    start_waiter(commit, move || {
        image::dirty::reprotect();
        publish(&path, key.as_ref(), &body)
    });
}

/// Writes the image, then uploads it when its path is a cached image of object storage
/// (see [`image::remote`]). An [`Error::Remote`] says the local image is complete (the
/// upload failed); any other error, that it was not written.
fn publish(path: &Path, key: Option<&image::signature::Key>, body: &Body) -> Result<u64> {
    let n = image::commit(path, key, body, Unlink::Background)?;
    image::remote::push(path)?;
    Ok(n)
}

/// A job handed to a thread, or run here when no thread can be started.
type Job = Mutex<Option<Box<dyn FnOnce() + Send>>>;

/// Starts the thread that runs `wait` (the writer, or the wait for it) and then the
/// commit's bookkeeping, and makes it the save in flight. Without a thread, runs it here.
fn start_waiter(commit: Commit, wait: impl FnOnce() -> Result<u64> + Send + 'static) {
    let slot = Arc::new(Slot::default());
    let s = slot.clone();
    let path = commit.path.clone();
    let job: Arc<Job> = Arc::new(Mutex::new(Some(Box::new(move || {
        let r = wait();
        commit.settled(&r);
        match &r {
            Ok(_) => {}
            Err(e) => {
                let e = match e {
                    Error::Background { .. } | Error::Remote { .. } => e.to_string(),
                    e => format!(
                        "the background save to {} failed: {e}",
                        commit.path.display()
                    ),
                };
                eprintln!("ckpt: error: {e}");
            }
        }
        *s.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        s.cv.notify_all();
    }))));
    let take = |j: &Job| j.lock().unwrap_or_else(|e| e.into_inner()).take();
    let j = job.clone();
    let waiter = std::thread::Builder::new()
        .name("ckpt-save".into())
        .spawn(move || {
            if let Some(f) = take(&j) {
                f()
            }
        });
    if waiter.is_err() {
        if let Some(f) = take(&job) {
            f();
        }
    }
    *in_flight() = Some(InFlight {
        path,
        slot,
        waiter: waiter.ok(),
    });
}

/// A forked writer: its pid and the read end of the pipe it reports on.
struct Child {
    pid: libc::pid_t,
    report: std::fs::File,
}

impl Child {
    /// Waits for the writer's report (a line, written once the image is in place; the
    /// writer then removes the previous image and exits); its report is the outcome.
    /// The writer is reaped on a thread of its own, so that removal delays nothing.
    fn wait(self, path: &Path) -> Result<u64> {
        use std::io::BufRead;
        let mut text = String::new();
        let read = std::io::BufReader::new(self.report).read_line(&mut text);
        let pid = self.pid;
        let reap = move || {
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid status pointer. ECHILD (the
            // program reaps children itself, or ignores SIGCHLD) leaves `status` 0.
            unsafe {
                while libc::waitpid(pid, &mut status, 0) < 0
                    && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
                {
                }
            }
            status
        };
        if let Some(n) = text.strip_prefix("ok ") {
            let _ = std::thread::Builder::new()
                .name("ckpt-reap".into())
                .spawn(reap)
                .map_err(|_| reap());
            return Ok(n.trim().parse().unwrap_or(0));
        }
        if let Some((url, detail)) = text
            .strip_prefix("remote ")
            .and_then(|t| t.split_once('\t'))
        {
            let _ = std::thread::Builder::new()
                .name("ckpt-reap".into())
                .spawn(reap)
                .map_err(|_| reap());
            return Err(Error::Remote {
                url: url.to_string(),
                detail: detail.trim_end().to_string(),
            });
        }
        let status = reap();
        if let Some(msg) = text.strip_prefix("err ") {
            return Err(Error::Background {
                path: path.into(),
                detail: msg.trim_end().to_string(),
            });
        }
        let how = if libc::WIFSIGNALED(status) {
            format!("was killed by signal {}", libc::WTERMSIG(status))
        } else if let Err(e) = read {
            format!("could not be heard from ({e})")
        } else {
            format!("exited with status {}", libc::WEXITSTATUS(status))
        };
        Err(Error::Background {
            path: path.into(),
            detail: format!("the process writing it {how}; the previous image is unchanged"),
        })
    }
}

/// Forks a copy of the process that writes `body` to `path` and exits.
fn fork_writer(
    body: &Body,
    key: Option<&image::signature::Key>,
    path: &Path,
) -> std::io::Result<Child> {
    // A forked writer does not see pages a lazy restore has not brought in yet.
    image::lazy::wait_complete();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut keep = super::options::config()
        .map(|c| c.lock_fds())
        .unwrap_or_default();
    keep.extend(body.sync_fds());
    // SAFETY: the child only writes the image (our own code: file I/O, hashing and
    // allocation, which glibc makes safe after fork) and exits with `_exit`, running no
    // destructor, exit handler or user code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: closing the descriptors pipe2 gave us.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(e);
    }
    if pid == 0 {
        child(body, key, path, fds, &keep);
    }
    // SAFETY: the write end is the child's; the read end becomes a File we own.
    unsafe { libc::close(fds[1]) };
    use std::os::unix::io::FromRawFd;
    let report = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    Ok(Child { pid, report })
}

/// The forked writer: writes the image, reports on the pipe, exits.
fn child(
    body: &Body,
    key: Option<&image::signature::Key>,
    path: &Path,
    fds: [libc::c_int; 2],
    keep: &[libc::c_int],
) -> ! {
    // SAFETY: plain syscalls in the child; `_exit` ends it without running anything of
    // the program's.
    unsafe {
        libc::close(fds[0]);
        // The program's signals are the program's: a Ctrl-C or a SIGTERM to the process
        // group must not cut the image short (the program saves again or exits itself).
        for sig in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGPIPE,
        ] {
            libc::signal(sig, libc::SIG_IGN);
        }
        close_other_fds(fds[1], keep);
        let tell = |report: String| {
            let line = format!("{}\n", report.replace('\n', " "));
            libc::write(fds[1], line.as_ptr().cast(), line.len());
        };
        // The report goes out as soon as the image is in place; the previous image is
        // removed after it.
        // An image on object storage is reported once uploaded; an upload that failed,
        // as such (the local image is complete).
        let after = Unlink::Then(&|n| match image::remote::push(path) {
            Ok(()) => tell(format!("ok {n}")),
            Err(Error::Remote { url, detail }) => tell(format!("remote {url}\t{detail}")),
            Err(e) => tell(format!("remote {}\t{e}", image::remote::name_of(path))),
        });
        match image::commit(path, key, body, after) {
            Ok(_) => {}
            Err(e) => tell(format!("err {e}")),
        }
        libc::_exit(0)
    }
}

/// Closes every descriptor of the forked writer but standard I/O, its report pipe and the
/// image locks: it must not hold the program's sockets and files open after the program
/// closed or lost them.
fn close_other_fds(report: libc::c_int, keep: &[libc::c_int]) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<libc::c_int> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        if fd > 2 && fd != report && !keep.contains(&fd) {
            // SAFETY: closing a descriptor of this (forked) process; nothing else uses it.
            unsafe { libc::close(fd) };
        }
    }
}
