//! Killing a process while it writes an image never destroys the last good one: after
//! every SIGKILL (many land in the middle of a save of 24 MiB) the image on disk is
//! complete and valid, stale temporary files do not pile up, and the run still finishes
//! with the uninterrupted result. Runs as a plain program (harness = false): the same
//! binary is the parent (the test) and the child (the saving program).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Running;

const SAVES: u64 = 40;

/// The child: 24 MiB of state, saved at every step.
#[ckpt::checkpointable]
fn work() {
    let mut data: Vec<f64> = (0..3 * 1024 * 1024).map(|i| i as f64).collect();
    for step in 0..SAVES {
        let k = step as usize % data.len();
        data[k] += 1.5;
        ckpt::save().expect("checkpoint");
    }
    let sum: f64 = data.iter().sum();
    println!("done {SAVES} sum={sum}");
}

/// Fails the test; a panic (not an exit) so the temporary directory and the child are
/// cleaned up on the way out.
fn check(cond: bool, what: &str) {
    assert!(cond, "FAILED: {what}");
}

fn child(exe: &Path, dir: &Path, restore: bool) -> Command {
    let mut c = Command::new(exe);
    // A restore continues with the saved run's arguments (`--child` among them).
    if restore {
        c.args(["--restore", "state.ckpt"]);
    } else {
        c.arg("--child");
    }
    c.current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.env("CKPT_FILE", dir.join("state.ckpt"));
    c
}

fn parent() {
    let exe = std::env::current_exe().expect("exe");
    let tmp = support::TempDir::new("crash");
    let dir = tmp.path();
    let image = dir.join("state.ckpt");
    let clean = child(&exe, dir, false).output().expect("clean run");
    check(
        clean.status.success(),
        &String::from_utf8_lossy(&clean.stderr),
    );
    let expected = String::from_utf8_lossy(&clean.stdout).into_owned();
    std::fs::remove_file(&image).expect("remove");

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let started = Instant::now();
    let mut kills = 0;
    let mut restores = 0;
    let mut finished = None;
    for _ in 0..60 {
        check(
            started.elapsed() < Duration::from_secs(240),
            "bounded in time",
        );
        restores += u32::from(image.exists());
        let mut c = Running::spawn(&mut child(&exe, dir, image.exists()));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let ended = c.ended_within(Duration::from_millis(20 + seed % 150));
        // SIGKILL unless it ended by itself.
        let out = c.kill();
        if ended {
            check(out.status.success(), "child finished cleanly");
            finished = Some(out);
            break;
        }
        kills += 1;
        if image.exists() {
            let r = ckpt::image::read(&image, &ckpt::image::Limits::default());
            check(
                r.is_ok(),
                &format!("image valid after kill {kills}: {:?}", r.err()),
            );
        }
        let stale = std::fs::read_dir(dir).unwrap().filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            n.to_string_lossy().contains(".tmp.")
        });
        check(stale.count() <= 1, "stale temporary images are cleaned up");
    }
    let out = match finished {
        Some(o) => o,
        None => child(&exe, dir, image.exists())
            .output()
            .expect("final run"),
    };
    check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
    let got = String::from_utf8_lossy(&out.stdout).into_owned();
    check(
        got.lines().last() == expected.lines().last(),
        &format!("same result after {kills} kills: {got} vs {expected}"),
    );
    check(kills >= 5, "enough kills landed");
    check(restores >= 3, "runs were restored from images");
    println!("1 passed, 0 failed ({kills} kills, {restores} restores)");
}

#[ckpt::checkpointable]
fn main() {
    if std::env::args().any(|a| a == "--child") {
        work();
    } else {
        parent();
    }
}
