//! The life of a run and its images, as a user (or a batch scheduler) drives it: the lock
//! taken at start, a finished run's image, temporary files, rotation with
//! `--ckpt-keep`, `--restore latest|DIR`, and the checkpoint triggers: SIGTERM / SIGINT
//! (checkpoint, exit 0), a second signal, the grace period, SIGUSR1 and `--ckpt-every`.
//! The program is the `batch` example, whose only save points are `ckpt::safepoint()`.
//! Every interrupted run's output, continued by restores appending to the same file,
//! must equal the uninterrupted run's byte for byte.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test lifecycle` alone).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

const STEPS: &str = "12000";
const IMAGE: &str = "batch.ckpt";
const LIMIT: Duration = Duration::from_secs(60);

/// The uninterrupted run's output.
fn baseline() -> String {
    let dir = TempDir::new("batch-base");
    let out = run(&example("batch"), &[STEPS], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn runner(dir: &Path) -> FileRun<'_> {
    FileRun {
        bin: Box::leak(Box::new(example("batch"))),
        dir,
        stdout_file: "out.txt",
        stdin_file: None,
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// Waits until the output shows step `n`.
fn wait_step(child: &mut Running, dir: &Path, n: u64) {
    child.wait_for_text(&dir.join("out.txt"), &format!("step {n}:"), LIMIT);
}

/// The names of the files in `dir` that `keep` accepts.
fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| keep(n))
        .collect()
}

/// The kept images (`batch.ckpt.<seq>`) in `dir`.
fn kept_images(dir: &Path) -> Vec<String> {
    files(dir, |n| {
        n.starts_with("batch.ckpt.") && n != "batch.ckpt.lock"
    })
}

/// No `.batch.ckpt.tmp.*` / `.batch.ckpt.old.*` file is left in `dir`.
fn assert_no_temporaries(dir: &Path) {
    let left = files(dir, |n| n.contains(".tmp.") || n.contains(".old."));
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// Restores with `args` appending to out.txt, lets it finish and checks it succeeded.
fn restore_to_end(dir: &Path, args: &[&str]) -> String {
    let out = runner(dir).start(args, true, &[]).finish(LIMIT);
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    stderr(&out)
}

#[test]
fn a_second_instance_fails_at_once_naming_the_holder() {
    let dir = TempDir::new("batch-lock");
    let mut first = runner(dir.path()).start(&["1000000"], false, &[]);
    wait_step(&mut first, dir.path(), 100);
    let t0 = Instant::now();
    let second = run(&example("batch"), &["10"], dir.path());
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let pid = first.pid();
    let msg = stderr(&second);
    assert!(
        msg.contains(&format!("pid {pid}")) && msg.contains("--ckpt-file"),
        "{msg}"
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        stdout(&second).is_empty(),
        "the second instance ran the program"
    );
    // With another image file it runs.
    let third = run(
        &example("batch"),
        &["10", "--ckpt-file", "b.ckpt"],
        dir.path(),
    );
    assert!(third.status.success(), "{}", stderr(&third));
    first.kill();
}

#[test]
fn a_finished_run_marks_its_image_and_resume_starts_fresh() {
    let dir = TempDir::new("batch-finished");
    let r = runner(dir.path());
    // A SIGTERM leaves an image, the restore finishes the run.
    let mut child = r.start(&[STEPS], false, &[]);
    wait_step(&mut child, dir.path(), 200);
    child.signal(libc::SIGTERM);
    let out = child.finish(LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    let image = dir.path().join(IMAGE);
    assert!(!ckpt::image::is_finished(&image).unwrap());
    restore_to_end(dir.path(), &["--ckpt-resume", STEPS]);
    assert_eq!(read(dir.path(), "out.txt"), baseline());
    assert!(ckpt::image::is_finished(&image).unwrap());
    assert_no_temporaries(dir.path());
    // Still a valid image, inspectable and restorable.
    ckpt::image::read(&image, &Default::default()).expect("a finished image reads");

    // --ckpt-resume with new arguments now starts a new run with them, and says so.
    let out = r.start(&["--ckpt-resume", "150"], false, &[]).finish(LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run that finished; starting a new run"),
        "{}",
        stderr(&out)
    );
    let fresh = run(
        &example("batch"),
        &["150", "--ckpt-file", "other.ckpt"],
        dir.path(),
    );
    assert_eq!(read(dir.path(), "out.txt"), stdout(&fresh));

    // --ckpt-finished=remove removes the image of a run that saved instead.
    let out = r
        .start(
            &[
                "--ckpt-resume",
                "--ckpt-finished=remove",
                "--ckpt-every",
                "100ms",
                "--ckpt-keep",
                "2",
                STEPS,
            ],
            false,
            &[],
        )
        .finish(LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!image.exists(), "the finished image was not removed");
    let kept = kept_images(dir.path());
    assert!(kept.is_empty(), "kept images not removed: {kept:?}");
    assert_eq!(read(dir.path(), "out.txt"), baseline());
}

/// SIGTERM and SIGINT at random moments: each saves at the next safepoint and exits 0
/// with a message; restores of restores end with the uninterrupted output.
#[test]
fn sigterm_and_sigint_checkpoint_exit_0_and_restore_equal() {
    let base = baseline();
    let mut moments = Moments::new();
    for round in 0..3 {
        let dir = TempDir::new("batch-term");
        let r = runner(dir.path());
        let mut args: Vec<&str> = vec![STEPS];
        for (i, sig) in [libc::SIGTERM, libc::SIGINT, libc::SIGTERM]
            .into_iter()
            .enumerate()
        {
            let mut child = r.start(&args, i > 0, &[]);
            child.wait_until("the run to start", LIMIT, || {
                dir.path().join("out.txt").exists()
            });
            std::thread::sleep(Duration::from_millis(moments.next_ms(100, 700)));
            child.signal(sig);
            let out = child.finish(LIMIT);
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
            let msg = stderr(&out);
            let name = if sig == libc::SIGTERM {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            if !read(dir.path(), "out.txt").contains("done ") {
                assert!(
                    msg.contains(&format!("ckpt: {name}: checkpoint saved to"))
                        && msg.contains("--restore"),
                    "{msg}"
                );
            }
            args = vec!["--restore", "latest"];
        }
        if !read(dir.path(), "out.txt").contains("done ") {
            restore_to_end(dir.path(), &["--restore", IMAGE]);
        }
        assert_eq!(read(dir.path(), "out.txt"), base, "round {round}");
        assert_no_temporaries(dir.path());
    }
}

#[test]
fn a_second_signal_exits_at_once() {
    let dir = TempDir::new("batch-twice");
    let mut child = runner(dir.path()).start(&["1000000", "--stall-while", "stall"], false, &[]);
    wait_step(&mut child, dir.path(), 100);
    std::fs::write(dir.path().join("stall"), b"").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    child.signal(libc::SIGTERM);
    let out = child.finish(Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM));
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(
        stderr(&out).contains("second signal: exiting at once"),
        "{}",
        stderr(&out)
    );
}

/// A run stuck where no safepoint comes is ended when the grace period is over, and the
/// image SIGUSR1 asked for earlier is intact and restores to the uninterrupted output.
#[test]
fn the_grace_period_ends_a_stuck_run_and_keeps_the_last_image() {
    let dir = TempDir::new("batch-grace");
    let r = runner(dir.path());
    let stall = dir.path().join("stall");
    let mut child = r.start(
        &[STEPS, "--stall-while", "stall", "--ckpt-grace", "300ms"],
        false,
        &[],
    );
    wait_step(&mut child, dir.path(), 100);
    child.signal(libc::SIGUSR1);
    child.wait_for_file(&dir.path().join(IMAGE), LIMIT);
    wait_step(&mut child, dir.path(), 500);
    std::fs::write(&stall, b"").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    child.signal(libc::SIGTERM);
    let out = child.finish(Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGTERM),
        "{}",
        stderr(&out)
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let msg = stderr(&out);
    assert!(
        msg.contains("no save point or safepoint was reached within") && msg.contains("is intact"),
        "{msg}"
    );
    std::fs::remove_file(&stall).unwrap();
    restore_to_end(dir.path(), &["--restore", IMAGE]);
    assert_eq!(read(dir.path(), "out.txt"), baseline());
}

#[test]
fn sigusr1_checkpoints_and_the_run_continues() {
    let dir = TempDir::new("batch-usr1");
    let mut child = runner(dir.path()).start(&[STEPS], false, &[]);
    wait_step(&mut child, dir.path(), 100);
    child.signal(libc::SIGUSR1);
    child.wait_for_file(&dir.path().join(IMAGE), LIMIT);
    let out = child.finish(LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(dir.path(), "out.txt"), baseline());
    assert_no_temporaries(dir.path());
}

/// `--ckpt-every` with `--ckpt-keep 3`: images at safepoints while the run goes on, the
/// newest at batch.ckpt and two before it as batch.ckpt.<seq>; after SIGKILL,
/// `--restore latest` skips a damaged newest image with a warning, and `--restore DIR`
/// does the same.
#[test]
fn every_and_keep_rotate_and_restore_latest_skips_a_damaged_image() {
    let base = baseline();
    for how in ["latest", "DIR"] {
        let dir = TempDir::new("batch-every");
        let r = runner(dir.path());
        let mut child = r.start(
            &[STEPS, "--ckpt-every", "100ms", "--ckpt-keep", "3"],
            false,
            &[],
        );
        let image = dir.path().join(IMAGE);
        child.wait_until("five images", LIMIT, || {
            ckpt::image::read_header(&image)
                .map(|h| h.options.iter().any(|(k, v)| k == "seq" && v == "5"))
                .unwrap_or(false)
        });
        assert!(child.kill_if_running(), "the run ended before the kill");
        let kept = kept_images(dir.path());
        assert_eq!(kept.len(), 2, "kept images: {kept:?}");
        // Damage the newest image: a flipped byte in its body.
        let mut bytes = std::fs::read(&image).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&image, bytes).unwrap();
        let arg = if how == "DIR" {
            dir.path().to_string_lossy().into_owned()
        } else {
            "latest".to_string()
        };
        let msg = restore_to_end(dir.path(), &["--restore", &arg]);
        assert!(
            msg.contains("warning: skipping") && msg.contains(IMAGE),
            "{how}: {msg}"
        );
        assert_eq!(read(dir.path(), "out.txt"), base, "{how}");
        assert_no_temporaries(dir.path());
    }
}

#[test]
fn temporaries_of_a_killed_save_are_removed_at_the_next_start() {
    let dir = TempDir::new("batch-stale");
    for n in [".batch.ckpt.tmp.99999", ".batch.ckpt.old.99999"] {
        std::fs::write(dir.path().join(n), b"left by a killed save").unwrap();
    }
    let out = run(&example("batch"), &["10"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_temporaries(dir.path());
}

#[test]
fn bad_run_settings_are_clear_errors() {
    let dir = TempDir::new("batch-settings");
    for (args, says) in [
        (
            &["--ckpt-every", "30"][..],
            "--ckpt-every 30: expected a duration",
        ),
        (
            &["--ckpt-keep=0"],
            "--ckpt-keep 0: expected a number of images",
        ),
        (&["--ckpt-finished=maybe"], "expected `keep` or `remove`"),
        (&["--ckpt-grace"], "--ckpt-grace needs a value"),
        (&["--restore", "latest"], "no image to restore"),
    ] {
        let out = run(&example("batch"), args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?} ran the program");
    }
    let out = std::process::Command::new(example("batch"))
        .arg("10")
        .env("CKPT_EVERY", "soon")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CKPT_EVERY=\"soon\""),
        "{}",
        stderr(&out)
    );
}

/// `--ckpt-signals=off` leaves the signals to the program: SIGTERM ends it as it would
/// without ckpt, and no checkpoint is written.
#[test]
fn with_signals_off_sigterm_is_the_programs() {
    use std::os::unix::process::ExitStatusExt;
    let dir = TempDir::new("batch-signals-off");
    let mut child = runner(dir.path()).start(&["1000000", "--ckpt-signals=off"], false, &[]);
    wait_step(&mut child, dir.path(), 100);
    child.signal(libc::SIGTERM);
    let out = child.finish(LIMIT);
    assert_eq!(out.status.signal(), Some(libc::SIGTERM), "{}", stderr(&out));
    assert!(!dir.path().join(IMAGE).exists());
}
