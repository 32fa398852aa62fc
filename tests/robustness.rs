//! Saves that fail never cost the last good image (issue 9, item 7; see RELIABILITY.md):
//!
//! - **SIGKILL at chosen byte offsets of a save**: `CKPT_CRASH_AT_BYTE=N` kills the
//!   program when the new image's temp file holds exactly N bytes, `CKPT_CRASH_AT_STEP`
//!   right after the fsync, the hard link, the rename or the directory fsync. At ≥ 50
//!   offsets (seeded, printed; `CKPT_TEST_SEED` repeats them) plus the section boundaries
//!   and every step, the image on disk is still the previous one (or, after the rename,
//!   the new one, complete), it reads, and a restore finishes like the uninterrupted run.
//! - **A full disk** (a 1 MiB tmpfs this test mounts): the save that does not fit fails
//!   with an error naming the image and "no space", leaves no temp file, and the previous
//!   image is intact and restores once there is room.
//! - **A read-only directory** (the tmpfs remounted read-only, or a read-only bind mount
//!   stacked over it while the program runs): refused when the program starts, before
//!   it runs, and by the save when it became read-only later; the image stays intact.
//!
//! The mounts need root. Without it these two are skipped with the reason, except under
//! CI (`CI=true`), where they must run: there a missing privilege fails the test.
//! Runs as a plain program (harness = false): the same binary is the test and the
//! saving program (`--child`).

mod support;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{Moments, Running, TempDir};

/// How long any one run of the child may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

// ---- The child: a program that saves at every round ------------------------------------

/// Parameters of a child run (they travel as arguments, so a restore sees them too).
struct Plan {
    rounds: u64,
    /// At this round the state grows to `grow_to` floats (0: never).
    grow_at: u64,
    grow_to: usize,
    /// At this round the program waits (bounded) for the file `$ROBUST_GO` to exist.
    pause_at: u64,
}

#[ckpt::checkpointable]
fn work(rounds: u64, grow_at: u64, grow_to: usize, pause_at: u64) {
    let mut data: Vec<f64> = (0..2048).map(|i| i as f64 * 0.5).collect();
    let mut words: Vec<String> = Vec::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut acc: u64 = 1;
    for round in 0..rounds {
        if round == grow_at {
            data.resize(grow_to.max(data.len()), 0.25);
        }
        if round == pause_at {
            wait_for_go();
        }
        for (i, x) in data.iter_mut().enumerate() {
            *x = *x * 0.999 + ((i as u64 ^ round) % 7) as f64;
        }
        acc = acc
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(round + 1);
        let w = format!("w{}", acc % 97);
        *counts.entry(w.clone()).or_insert(0) += 1;
        words.push(w);
        println!("round {round}: {acc:016x}");
        match ckpt::save() {
            Ok(()) => {}
            Err(e) => save_failed(e),
        }
    }
    let sum: f64 = data.iter().sum();
    println!(
        "result: {acc:016x} sum={sum} words={} distinct={}",
        words.len(),
        counts.len()
    );
}

/// Reports a failed save and ends the program with status 3 (outside checkpointable
/// code: nothing is left to save).
fn save_failed(e: ckpt::Error) -> ! {
    eprintln!("save failed: {e}");
    std::process::exit(3)
}

/// Waits until the file named by `$ROBUST_GO` exists (at most 60 s), after creating
/// `$ROBUST_GO.waiting` to say so. Without the variable, returns at once.
fn wait_for_go() {
    let Some(go) = std::env::var_os("ROBUST_GO") else {
        return;
    };
    let mut waiting = go.clone();
    waiting.push(".waiting");
    if let Err(e) = std::fs::write(&waiting, b"") {
        eprintln!("{}: {e}", Path::new(&waiting).display());
        std::process::exit(4);
    }
    for _ in 0..6000 {
        if Path::new(&go).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("{} never appeared", Path::new(&go).display());
    std::process::exit(4);
}

// ---- Running the child -------------------------------------------------------------------

fn child(plan: &Plan, cwd: &Path, image: &Path, restore: bool) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("test binary"));
    if restore {
        c.arg("--restore").arg(image);
    } else {
        c.args([
            "--child".to_string(),
            plan.rounds.to_string(),
            plan.grow_at.to_string(),
            plan.grow_to.to_string(),
            plan.pause_at.to_string(),
        ]);
    }
    c.current_dir(cwd)
        .env("CKPT_FILE", image)
        .env_remove(ckpt::image::crash::ENV_BYTE)
        .env_remove(ckpt::image::crash::ENV_STEP)
        .env_remove("CKPT_CRASH_AFTER_SAVES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn finish(cmd: &mut Command) -> Output {
    Running::spawn(cmd).finish(RUN_LIMIT)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn result_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("result:"))
        .unwrap_or_else(|| panic!("no result line in:\n{out}"))
}

/// Asserts a restore that ran to the end printed the end of the uninterrupted output.
fn check_finished(out: &Output, expected: &str, what: &str) {
    let got = text(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: the restore failed ({}): {}",
        out.status,
        text(&out.stderr)
    );
    assert_eq!(result_line(&got), result_line(expected), "{what}");
    assert!(
        expected.ends_with(&got),
        "{what}: the restore's output is not the end of the uninterrupted one:\n{got}"
    );
}

/// Names in `dir` that contain `part` (`.tmp.`, `.old.`).
fn leftovers(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list the image directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(part))
        })
        .collect();
    v.sort();
    v
}

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(libc::SIGKILL)
}

// ---- SIGKILL at byte offsets and steps of a save -----------------------------------------

/// Where the save is killed.
#[derive(Debug, Clone)]
enum At {
    Byte(u64),
    Step(&'static str),
}

fn kill_offsets() -> String {
    let tmp = TempDir::new("kill-offsets");
    let root = tmp.path();
    let plan = Plan {
        rounds: 5,
        grow_at: u64::MAX,
        grow_to: 0,
        pause_at: u64::MAX,
    };
    let (clean, work) = (root.join("clean"), root.join("work"));
    std::fs::create_dir_all(&clean).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    let out = finish(&mut child(&plan, &clean, &clean.join("state.ckpt"), false));
    assert!(out.status.success(), "clean run: {}", text(&out.stderr));
    let expected = text(&out.stdout);

    // The previous image: the run killed right after its second save.
    let image = work.join("state.ckpt");
    let out = finish(child(&plan, &work, &image, false).env("CKPT_CRASH_AFTER_SAVES", "2"));
    assert!(killed(&out), "not killed after save 2: {}", out.status);
    let base = std::fs::read(&image).expect("the previous image");
    // The image the killed saves write: the restore's first save, completed once.
    let out = finish(child(&plan, &work, &image, true).env("CKPT_CRASH_AFTER_SAVES", "1"));
    assert!(killed(&out), "not killed after the restore's save");
    let next = ckpt::image::read(&image, &ckpt::image::Limits::default())
        .unwrap_or_else(|e| panic!("the next image: {e}"));
    let len = next.file_len;
    assert_ne!(std::fs::read(&image).expect("read"), base);

    // Offsets: random over the whole file, plus the edges of prefix, sections and trailer.
    let mut m = Moments::new();
    let mut targets: Vec<At> = (0..50).map(|_| At::Byte(m.next_ms(0, len))).collect();
    let mut edge = 8;
    let mut edges = vec![0, 1, 4, 7, 8, 9, len - 24, len - 16, len - 8, len - 1, len];
    for (_, size) in &next.sections {
        edge += *size;
        edges.extend([edge - 1, edge, edge + 1]);
    }
    edges.retain(|&e| e <= len);
    targets.extend(edges.into_iter().map(At::Byte));
    targets.extend(
        ["synced", "linked", "renamed", "dir-synced"]
            .into_iter()
            .map(At::Step),
    );
    let offsets: Vec<String> = targets
        .iter()
        .map(|t| match t {
            At::Byte(n) => n.to_string(),
            At::Step(s) => s.to_string(),
        })
        .collect();
    println!("kill points in a {len}-byte save: {}", offsets.join(" "));

    let started = Instant::now();
    for at in &targets {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "bounded in time"
        );
        for e in std::fs::read_dir(&work).expect("list") {
            std::fs::remove_file(e.expect("entry").path()).expect("clean the directory");
        }
        std::fs::write(&image, &base).expect("put the previous image back");
        let mut cmd = child(&plan, &work, &image, true);
        match at {
            At::Byte(n) => cmd.env(ckpt::image::crash::ENV_BYTE, n.to_string()),
            At::Step(s) => cmd.env(ckpt::image::crash::ENV_STEP, s),
        };
        let out = finish(&mut cmd);
        assert!(
            killed(&out),
            "{at:?}: the save was not killed ({}): {}",
            out.status,
            text(&out.stderr)
        );
        for line in text(&out.stdout).lines() {
            assert!(expected.lines().any(|l| l == line), "{at:?}: {line:?}");
        }
        let tmps = leftovers(&work, ".tmp.");
        let now = std::fs::read(&image).expect("an image is always there");
        match at {
            At::Byte(n) => {
                assert_eq!(tmps.len(), 1, "{at:?}: {tmps:?}");
                let written = std::fs::metadata(&tmps[0]).expect("temp file").len();
                assert_eq!(written, *n, "{at:?}: the kill landed elsewhere");
                assert!(now == base, "{at:?}: the previous image changed");
            }
            At::Step("synced" | "linked") => {
                assert_eq!(tmps.len(), 1, "{at:?}: {tmps:?}");
                assert!(now == base, "{at:?}: the previous image changed");
            }
            At::Step(_) => {
                assert!(tmps.is_empty(), "{at:?}: {tmps:?}");
                assert!(now != base, "{at:?}: the new image is not in place");
            }
        }
        if let Err(e) = ckpt::image::read(&image, &ckpt::image::Limits::default()) {
            panic!("{at:?}: the image on disk does not read: {e}");
        }
        let out = finish(&mut child(&plan, &work, &image, true));
        check_finished(&out, &expected, &format!("{at:?}"));
        assert!(
            leftovers(&work, ".tmp.").is_empty(),
            "{at:?}: the killed save's temp file was not removed"
        );
    }
    format!(
        "{} kill points ({} random byte offsets, section edges, 4 steps) in {:.1} s",
        targets.len(),
        50,
        started.elapsed().as_secs_f64()
    )
}

// ---- Mounts ------------------------------------------------------------------------------

/// Mounts at one directory, unmounted (all of them, lazily) on drop, also when the test
/// fails.
struct Mounts {
    at: PathBuf,
    count: usize,
}

fn c_path(p: &Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).expect("no NUL in a temp path")
}

fn mount(
    source: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> std::io::Result<()> {
    let source = std::ffi::CString::new(source).expect("source");
    let target = c_path(target);
    let fstype = fstype.map(|f| std::ffi::CString::new(f).expect("fstype"));
    let data = data.map(|d| std::ffi::CString::new(d).expect("data"));
    // SAFETY: mount(2) with NUL-terminated strings that live across the call (or null).
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |d| d.as_ptr().cast()),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Mounts {
    /// A tmpfs of `size` (`"1m"`) at `at`; `Err` says why it cannot be mounted here.
    fn tmpfs(at: &Path, size: &str) -> Result<Mounts, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root: mounting a tmpfs needs root".into());
        }
        std::fs::create_dir_all(at).expect("mount point");
        mount(
            "tmpfs",
            at,
            Some("tmpfs"),
            0,
            Some(&format!("size={size},mode=0755")),
        )
        .map_err(|e| format!("mounting a tmpfs at {}: {e}", at.display()))?;
        Ok(Mounts {
            at: at.to_path_buf(),
            count: 1,
        })
    }

    /// Remounts the tmpfs with `options` (`"ro"`, `"size=16m"`).
    fn remount(&self, ro: bool, size: &str) {
        let flags = libc::MS_REMOUNT | if ro { libc::MS_RDONLY } else { 0 };
        mount(
            "tmpfs",
            &self.at,
            None,
            flags,
            Some(&format!("size={size}")),
        )
        .unwrap_or_else(|e| panic!("remounting {}: {e}", self.at.display()));
    }

    /// Stacks a read-only view of the directory over itself: new path lookups see a
    /// read-only directory while files already open (the program's lock) stay writable.
    fn stack_read_only(&mut self) {
        let at = self.at.to_str().expect("a UTF-8 temp path");
        mount(at, &self.at, None, libc::MS_BIND, None)
            .unwrap_or_else(|e| panic!("bind mount: {e}"));
        self.count += 1;
        mount(
            "none",
            &self.at,
            None,
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
            None,
        )
        .unwrap_or_else(|e| panic!("read-only bind mount: {e}"));
    }

    /// Removes the view stacked by [`Mounts::stack_read_only`].
    fn unstack(&mut self) {
        let at = c_path(&self.at);
        // SAFETY: umount2 with a NUL-terminated path.
        let rc = unsafe { libc::umount2(at.as_ptr(), 0) };
        assert_eq!(rc, 0, "umount: {}", std::io::Error::last_os_error());
        self.count -= 1;
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        let at = c_path(&self.at);
        for _ in 0..self.count {
            // SAFETY: umount2 with a NUL-terminated path; MNT_DETACH never blocks.
            unsafe { libc::umount2(at.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

// ---- A full disk -------------------------------------------------------------------------

fn full_disk() -> Result<String, String> {
    let tmp = TempDir::new("full-disk");
    let root = tmp.path();
    let disk = root.join("disk");
    let mounts = Mounts::tmpfs(&disk, "1m")?;
    // Round 2's image holds 2.4 MB of floats: it does not fit, the first two do.
    let plan = Plan {
        rounds: 4,
        grow_at: 2,
        grow_to: 300_000,
        pause_at: u64::MAX,
    };
    let clean = root.join("clean");
    std::fs::create_dir_all(&clean).expect("mkdir");
    let out = finish(&mut child(&plan, &clean, &clean.join("state.ckpt"), false));
    assert!(out.status.success(), "clean run: {}", text(&out.stderr));
    let expected = text(&out.stdout);

    let image = disk.join("state.ckpt");
    let mut previous = Vec::new();
    for restore in [false, true] {
        let out = finish(&mut child(&plan, root, &image, restore));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "the save did not fail: {err}");
        assert!(
            err.contains(&image.display().to_string())
                && err.to_lowercase().contains("no space left")
                && err.contains("previous image"),
            "unclear error: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        if !restore {
            println!("  full disk, the save says: {}", err.trim());
        }
        if let Err(e) = ckpt::image::read(&image, &ckpt::image::Limits::default()) {
            panic!("the previous image does not read: {e}");
        }
        let bytes = std::fs::read(&image).expect("read");
        if restore {
            assert!(bytes == previous, "the failed save changed the image");
        }
        previous = bytes;
        let left = [leftovers(&disk, ".tmp."), leftovers(&disk, ".old.")].concat();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    // Room made: the image restores and the run ends as the uninterrupted one.
    mounts.remount(false, "16m");
    let out = finish(&mut child(&plan, root, &image, true));
    check_finished(&out, &expected, "restore after making room");
    Ok("the save that did not fit failed twice, cleanly; restored once there was room".into())
}

// ---- A read-only directory ---------------------------------------------------------------

fn read_only() -> Result<String, String> {
    let tmp = TempDir::new("read-only");
    let root = tmp.path();
    let disk = root.join("disk");
    let mut mounts = Mounts::tmpfs(&disk, "4m")?;
    let go = root.join("go");
    let plan = Plan {
        rounds: 4,
        grow_at: u64::MAX,
        grow_to: 0,
        pause_at: 2,
    };
    let clean = root.join("clean");
    std::fs::create_dir_all(&clean).expect("mkdir");
    let out = finish(&mut child(&plan, &clean, &clean.join("state.ckpt"), false));
    assert!(out.status.success(), "clean run: {}", text(&out.stderr));
    let expected = text(&out.stdout);
    let image = disk.join("state.ckpt");

    // Read-only from the start: refused before the program runs, for a fresh run and for
    // a restore, and the image is untouched.
    let out = finish(child(&plan, root, &image, false).env("CKPT_CRASH_AFTER_SAVES", "1"));
    assert!(killed(&out), "no image: {}", text(&out.stderr));
    let before = std::fs::read(&image).expect("the image");
    mounts.remount(true, "4m");
    for restore in [false, true] {
        let out = finish(&mut child(&plan, root, &image, restore));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "not refused at start: {err}");
        assert!(
            err.starts_with("ckpt: error: ")
                && err.contains(&image.display().to_string())
                && err.contains("read-only file system"),
            "unclear error: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "the program ran: {}",
            text(&out.stdout)
        );
        if restore {
            println!("  read-only at start, the restore says: {}", err.trim());
        }
    }
    assert!(std::fs::read(&image).expect("read") == before);
    mounts.remount(false, "4m");
    std::fs::remove_file(&image).expect("start over");

    // Read-only while it runs: the next save fails, the image of the save before stays.
    let mut run = Running::spawn(child(&plan, root, &image, false).env("ROBUST_GO", &go));
    let waiting = root.join("go.waiting");
    run.wait_until("the pause at round 2", RUN_LIMIT, || waiting.exists());
    // The program waits at round 2 for `go`; its image is the one of round 1 (let the
    // removal of the image before it, in the background, end first).
    std::thread::sleep(Duration::from_millis(50));
    let before = std::fs::read(&image).expect("the image");
    mounts.stack_read_only();
    std::fs::write(&go, b"").expect("go");
    let out = run.finish(RUN_LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "the save did not fail: {err}");
    assert!(
        err.contains(&image.display().to_string())
            && err.contains("read-only file system")
            && err.contains("previous image"),
        "unclear error: {err}"
    );
    println!("  read-only while running, the save says: {}", err.trim());
    assert!(std::fs::read(&image).expect("read") == before);
    mounts.unstack();
    let left = leftovers(&disk, ".tmp.");
    assert!(left.is_empty(), "left behind: {left:?}");
    let out = finish(&mut child(&plan, root, &image, true));
    check_finished(&out, &expected, "restore once writable again");
    Ok("refused at start (fresh and restore) and at the save".into())
}

// ---- The harness ---------------------------------------------------------------------------

/// One scenario: `Ok(summary)`, or `Err(why it cannot run here)`; a failure panics.
type Scenario = fn() -> Result<String, String>;

fn parent() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let tests: [(&str, Scenario); 3] = [
        ("SIGKILL at byte offsets of a save", || Ok(kill_offsets())),
        ("full disk", full_disk),
        ("read-only directory", read_only),
    ];
    for (name, test) in tests {
        match std::panic::catch_unwind(test) {
            Ok(Ok(summary)) => {
                passed += 1;
                println!("test {name} ... ok ({summary})");
            }
            Ok(Err(why)) if !ci => {
                skipped += 1;
                println!("test {name} ... skipped: {why} (run as root to include it)");
            }
            Ok(Err(why)) => {
                failed += 1;
                println!("test {name} ... FAILED: CI must run it, but {why}");
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let (rounds, grow_at, grow_to, pause_at) = plan_of(&args);
        work(rounds, grow_at, grow_to as usize, pause_at);
    } else {
        parent();
    }
}

/// The child's parameters from its arguments (see [`child`]).
fn plan_of(args: &[String]) -> (u64, u64, u64, u64) {
    let n = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).unwrap_or(0) };
    (n(2), n(3), n(4), n(5))
}
