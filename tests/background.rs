//! Background saves (`save()` returns once the state is taken; the image is written while
//! the program runs on):
//!
//! - the image holds the state of the save point, not what the program wrote after it:
//!   a program that rewrites all of its 32 MiB right after every save is killed at
//!   random moments and restored, several times in a row, in each way of writing
//!   (forked writer, thread writer, `--ckpt-sync`), and its output is byte for byte the
//!   uninterrupted run's;
//! - a process killed while its save is being written does not lose that save: the
//!   writer finishes it, and a restore started at once waits for it and continues from
//!   it;
//! - `--ckpt-overlap=skip` skips saves asked for while one is being written, and the run
//!   still ends right;
//! - a background save that fails is reported by `ckpt::wait_durable()` with the reason,
//!   and the previous image stays.
//!
//! Runs as a plain program (harness = false): the same binary is the test and the
//! programs it runs.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Moments, Running, TempDir};

const STEPS: u64 = 24;

/// Rewrites every element: a writer reading the live memory would see these values.
fn churn(data: &mut [u64], step: u64) {
    for (i, x) in data.iter_mut().enumerate() {
        *x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(step ^ i as u64);
    }
}

fn digest(data: &[u64]) -> u64 {
    data.iter().fold(0u64, |h, x| h.rotate_left(5) ^ x)
}

/// 32 MiB of state, saved at every step and rewritten right after.
#[ckpt::checkpointable]
fn churner() {
    let mut data: Vec<u64> = (0..4u64 << 20).collect();
    for step in 0..STEPS {
        ckpt::save().expect("checkpoint");
        churn(&mut data, step);
        println!("step {step} digest {:016x}", digest(&data));
    }
    ckpt::wait_durable().expect("durable");
}

/// Saves 256 MiB twice (the first durable), says so after the second and waits to be
/// killed; restored, says which save it continues from.
#[ckpt::checkpointable]
fn slow_saver() {
    let mut data: Vec<u64> = vec![7; 32 << 20];
    let mut n = 0u64;
    while n < 2 {
        ckpt::save().expect("checkpoint");
        if ckpt::restored() {
            println!("resumed after save {n}");
            return;
        }
        if n == 0 {
            ckpt::wait_durable().expect("durable");
        }
        data[n as usize] = n;
        n += 1;
    }
    eprintln!("SAVED");
    std::thread::sleep(Duration::from_secs(60));
    println!("not killed {}", data[0]);
}

/// Many saves in a row; with `--ckpt-overlap=skip` most are skipped.
#[ckpt::checkpointable]
fn rapid() {
    let mut data: Vec<u64> = vec![1; 8 << 20];
    for step in 0..40u64 {
        data[step as usize] = step;
        ckpt::save().expect("checkpoint");
    }
    ckpt::wait_durable().expect("durable");
    println!("done {}", digest(&data));
}

/// Removes a directory outside checkpointable code (plain std, no journal).
fn remove_dir(p: &str) {
    std::fs::remove_dir_all(p).expect("remove the directory");
}

/// A save whose directory vanished while the program ran: the background write fails.
#[ckpt::checkpointable]
fn failing() {
    let data: Vec<u64> = vec![3; 1 << 20];
    std::fs::create_dir_all("sub").expect("mkdir");
    ckpt::save_to("sub/x.ckpt").expect("first save");
    ckpt::wait_durable().expect("first save durable");
    remove_dir("sub");
    ckpt::save_to("sub/x.ckpt").expect("the save is taken");
    match ckpt::wait_durable() {
        Ok(()) => println!("unexpectedly durable {}", data[0]),
        Err(e) => println!("wait_durable: {e}"),
    }
}

fn check(cond: bool, what: &str) {
    assert!(cond, "FAILED: {what}");
}

fn cmd(
    exe: &Path,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    out: &str,
    append: bool,
) -> Command {
    let mut c = support::output_to_file(exe, dir, args, out, append);
    c.env_remove("CKPT_BACKGROUND").env_remove("CKPT_SYNC");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Kill and restore in each mode; output equal to the uninterrupted run's.
fn consistent_images(exe: &Path, m: &mut Moments) {
    let clean = TempDir::new("bg-clean");
    let t0 = Instant::now();
    let out = Running::spawn(&mut cmd(
        exe,
        clean.path(),
        &["churn"],
        &[],
        "out.txt",
        false,
    ))
    .finish(Duration::from_secs(120));
    check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
    let ms = t0.elapsed().as_millis() as u64;
    let expected = std::fs::read(clean.path().join("out.txt")).expect("clean output");
    check(
        expected.split(|b| *b == b'\n').count() > STEPS as usize,
        "clean run printed every step",
    );
    let modes: [(&str, &[(&str, &str)]); 3] = [
        ("fork", &[]),
        ("thread", &[("CKPT_BACKGROUND", "thread")]),
        ("sync", &[("CKPT_SYNC", "1")]),
    ];
    for (name, env) in modes {
        let d = TempDir::new(&format!("bg-{name}"));
        let dir = d.path();
        let image = dir.join("churn.ckpt");
        let env: Vec<(&str, &str)> = env
            .iter()
            .copied()
            .chain([("CKPT_FILE", "churn.ckpt")])
            .collect();
        let kills = support::kill_until(
            5,
            (ms / 10, ms / 3 + 1),
            m,
            || image.exists(),
            |restoring, _| {
                let args: &[&str] = if restoring {
                    &["--restore", "churn.ckpt"]
                } else {
                    &["churn"]
                };
                Running::spawn(&mut cmd(exe, dir, args, &env, "out.txt", restoring))
            },
            Running::kill_if_running,
            // Finished before enough kills: start over.
            |_| {
                let _ = std::fs::remove_file(&image);
            },
        );
        let last = Running::spawn(&mut cmd(
            exe,
            dir,
            &["--restore", "churn.ckpt"],
            &env,
            "out.txt",
            true,
        ))
        .finish(Duration::from_secs(120));
        check(
            last.status.success(),
            &format!("{name}: {}", String::from_utf8_lossy(&last.stderr)),
        );
        let got = std::fs::read(dir.join("out.txt")).expect("output");
        check(
            got == expected,
            &format!(
                "{name}: output after {kills} kills equals the uninterrupted run's:\n{}\nvs\n{}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected)
            ),
        );
        println!("  {name}: {kills} kills, output identical");
    }
}

/// A kill while the save is written; the restore waits for the writer.
fn killed_while_writing(exe: &Path) {
    let d = TempDir::new("bg-orphan");
    let dir = d.path();
    let env = [("CKPT_FILE", "slow.ckpt")];
    let err = std::fs::File::create(dir.join("err.txt")).expect("stderr file");
    let mut c = Running::spawn(cmd(exe, dir, &["slow"], &env, "out.txt", false).stderr(err));
    // Killed as soon as it says the second save was taken (its image is being written).
    c.wait_for_text(&dir.join("err.txt"), "SAVED", Duration::from_secs(60));
    let _ = c.kill();
    let out = Running::spawn(&mut cmd(
        exe,
        dir,
        &["--restore", "slow.ckpt"],
        &env,
        "out.txt",
        true,
    ))
    .finish(Duration::from_secs(120));
    check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("out.txt")).expect("output");
    check(
        text.trim_end() == "resumed after save 1",
        &format!("the restore continued from the save being written when killed: {text:?}"),
    );
    println!("  killed while writing: the restore continued from that save");
}

fn overlap_skip(exe: &Path) {
    let d = TempDir::new("bg-skip");
    let dir = d.path();
    let run = |args: &[&str], file: &str| {
        let env = [("CKPT_FILE", file)];
        let out = Running::spawn(&mut cmd(exe, dir, args, &env, "out.txt", false))
            .finish(Duration::from_secs(120));
        check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(dir.join("out.txt")).expect("output");
        let h = ckpt::image::read_header(&dir.join(file)).expect("image header");
        let seq: u64 = h
            .options
            .iter()
            .find(|(k, _)| k == "seq")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        (text, seq)
    };
    let (waited, all) = run(&["rapid"], "wait.ckpt");
    let (skipped, some) = run(&["rapid", "--ckpt-overlap=skip"], "skip.ckpt");
    check(waited == skipped, "same result with skipped saves");
    check(
        all == 40,
        &format!("every save written when waiting: {all}"),
    );
    check(
        (1..40).contains(&some),
        &format!("saves skipped: {some} of 40 written"),
    );
    println!("  --ckpt-overlap=skip: {some} of 40 saves written");
}

fn failure_reported(exe: &Path) {
    let d = TempDir::new("bg-fail");
    let dir = d.path();
    let out = Running::spawn(&mut cmd(exe, dir, &["fail"], &[], "out.txt", false))
        .finish(Duration::from_secs(60));
    check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("out.txt")).expect("output");
    check(
        text.starts_with("wait_durable: the background save to ")
            && text.contains("sub/x.ckpt")
            && text.contains("does not exist"),
        &format!("the failure is reported with its reason: {text}"),
    );
    println!(
        "  a failed background save is reported: {}",
        text.trim_end()
    );
}

fn parent() {
    let exe = std::env::current_exe().expect("exe");
    let mut m = Moments::new();
    consistent_images(&exe, &mut m);
    killed_while_writing(&exe);
    overlap_skip(&exe);
    failure_reported(&exe);
    println!("4 passed, 0 failed");
}

#[ckpt::checkpointable]
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("churn") => churner(),
        Some("slow") => slow_saver(),
        Some("rapid") => rapid(),
        Some("fail") => failing(),
        _ => parent(),
    }
}
