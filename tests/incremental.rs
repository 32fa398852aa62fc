//! Incremental images (`--ckpt-incremental`): large arrays are cut into chunks addressed
//! by content hash, kept in packs beside the image (`IMAGE.chunks/`), and a save writes
//! only the chunks the current image does not hold.
//!
//! - a program that changes one chunk of its 40 MiB per step is killed at random moments
//!   and restored, several times in a row; its output is byte for byte the uninterrupted
//!   run's;
//! - each save after the first writes about one chunk, not the whole state, and packs no
//!   kept image refers to are collected;
//! - compressible chunks are stored compressed;
//! - the image and its chunk directory, copied elsewhere, restore there;
//! - a damaged chunk or a missing chunk directory is refused with a clear error; a damaged
//!   chunk a lazy restore (`--ckpt-lazy`) finds after the program resumed stops it;
//! - lazy restores (every other restore of the kill test) give the same output.
//!
//! Runs as a plain program (harness = false): the same binary is the test and the
//! programs it runs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Moments, Running, TempDir};

const STEPS: usize = 30;
/// Elements of 8 bytes in one 1 MiB chunk.
const PER_CHUNK: usize = 1 << 17;

/// Writes 4096 bytes made from `seed` into `buf` through the kernel (a `read` from a
/// socket): a write that no instruction of the program makes, which the tracking of
/// changed chunks must see too.
fn kernel_fill(buf: &mut [u8], seed: u64) {
    use std::io::{Read, Write};
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    let bytes: Vec<u8> = (0..buf.len() as u64)
        .map(|i| (i.wrapping_mul(seed | 1) >> 3) as u8)
        .collect();
    a.write_all(&bytes).expect("write");
    b.read_exact(buf).expect("read");
}

/// 32 MiB of numbers and 8 MiB of bytes; each step changes one chunk of the numbers (the
/// same one with `--same`), and every third step 4 KiB of the bytes through the kernel.
#[ckpt::checkpointable]
fn stepper(same: bool) {
    // Pseudo-random: LZ4 finds nothing to take out.
    let mut data: Vec<u64> = (0..32 * PER_CHUNK as u64)
        .map(|i| {
            (i ^ 0x5bd1_e995)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29)
        })
        .collect();
    let mut bytes: Vec<u8> = vec![0; 8 << 20];
    for step in 0..STEPS {
        ckpt::save().expect("checkpoint");
        let chunk = if same { 3 } else { step % 32 };
        for x in &mut data[chunk * PER_CHUNK..(chunk + 1) * PER_CHUNK] {
            *x = x.wrapping_mul(31).wrapping_add(step as u64);
        }
        if step % 3 == 1 && !same {
            let at = (step % 8) * (1 << 20) + 123;
            kernel_fill(&mut bytes[at..at + 4096], step as u64);
        }
        let sum = data.iter().fold(0u64, |a, x| a.wrapping_add(*x));
        let bsum = bytes
            .iter()
            .fold(0u64, |a, x| a.rotate_left(3) ^ u64::from(*x));
        println!("step {step} sum {sum:016x} bytes {bsum:016x}");
    }
    ckpt::wait_durable().expect("durable");
}

fn check(cond: bool, what: &str) {
    assert!(cond, "FAILED: {what}");
}

fn cmd(exe: &Path, dir: &Path, args: &[&str], append: bool) -> Command {
    let mut c = support::output_to_file(exe, dir, args, "out.txt", append);
    c.env("CKPT_FILE", "step.ckpt")
        .env("CKPT_INCREMENTAL", "1")
        .env_remove("CKPT_BACKGROUND")
        .env_remove("CKPT_SYNC");
    c
}

fn run_ok(exe: &Path, dir: &Path, args: &[&str], append: bool) -> String {
    let out = Running::spawn(&mut cmd(exe, dir, args, append)).finish(Duration::from_secs(120));
    check(
        out.status.success(),
        &format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)),
    );
    std::fs::read_to_string(dir.join("out.txt")).expect("output")
}

fn packs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("step.ckpt.chunks"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Kill and restore; the same output as the uninterrupted run.
fn kills(exe: &Path, expected: &str, m: &mut Moments, ms: u64) {
    let d = TempDir::new("inc-kill");
    let dir = d.path();
    let image = dir.join("step.ckpt");
    let kills = support::kill_until(
        5,
        (ms / 10, ms / 3 + 1),
        m,
        || image.exists(),
        |restoring, attempt| {
            // Every other restore is lazy: its arrays come in on first touch.
            let args: &[&str] = match (restoring, attempt % 2) {
                (false, _) => &["step"],
                (true, 0) => &["--restore", "step.ckpt", "--ckpt-lazy"],
                (true, _) => &["--restore", "step.ckpt"],
            };
            Running::spawn(&mut cmd(exe, dir, args, restoring))
        },
        Running::kill_if_running,
        |_| {
            let _ = std::fs::remove_file(&image);
        },
    );
    let got = run_ok(exe, dir, &["--restore", "step.ckpt", "--ckpt-lazy"], true);
    check(
        got == expected,
        &format!(
            "output after {kills} kills equals the uninterrupted run's:\n{got}\nvs\n{expected}"
        ),
    );
    println!("  {kills} kills and restores (every other one lazy): output identical");
}

fn parent() {
    let exe = std::env::current_exe().expect("exe");
    let mut m = Moments::new();

    // Uninterrupted, every save durable at once (so each pack is the save's).
    let clean = TempDir::new("inc-clean");
    let t0 = Instant::now();
    let expected = {
        let out = Running::spawn(cmd(&exe, clean.path(), &["step"], false).env("CKPT_SYNC", "1"))
            .finish(Duration::from_secs(120));
        check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(clean.path().join("out.txt")).expect("output")
    };
    let ms = t0.elapsed().as_millis() as u64;
    check(expected.lines().count() == STEPS, "every step printed");

    // Bytes: the first pack holds the state, every later one about one chunk.
    let mut sizes: Vec<u64> = packs(clean.path())
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    sizes.sort_unstable();
    let full = *sizes.last().unwrap_or(&0);
    check(
        (32 << 20..34 << 20).contains(&full),
        &format!("the first save stores 32 MiB of numbers and compressed zeros: {full}"),
    );
    let deltas = &sizes[..sizes.len() - 1];
    check(
        deltas.len() == STEPS - 1 && deltas.iter().all(|&s| s <= (1 << 20) + 32768),
        &format!("every later save stores one chunk (and a compressed one of bytes): {deltas:?}"),
    );
    println!(
        "  first save stored {:.1} MiB (8 MiB of zeros compressed), later saves {} bytes each",
        full as f64 / (1 << 20) as f64,
        deltas[0]
    );

    // Collection: one chunk rewritten per step leaves at most the first pack and the last.
    let same = TempDir::new("inc-same");
    let out = Running::spawn(cmd(&exe, same.path(), &["same"], false).env("CKPT_SYNC", "1"))
        .finish(Duration::from_secs(120));
    check(out.status.success(), &String::from_utf8_lossy(&out.stderr));
    let left = packs(same.path()).len();
    check(
        left <= 2,
        &format!("packs no image refers to are removed: {left} left"),
    );
    println!("  the same chunk changed {STEPS} times: {left} packs left");

    // Copied elsewhere (image and chunk directory), it restores there.
    let moved = TempDir::new("inc-moved");
    std::fs::copy(
        clean.path().join("step.ckpt"),
        moved.path().join("step.ckpt"),
    )
    .expect("copy");
    std::fs::create_dir(moved.path().join("step.ckpt.chunks")).expect("mkdir");
    for p in packs(clean.path()) {
        std::fs::copy(
            &p,
            moved
                .path()
                .join("step.ckpt.chunks")
                .join(p.file_name().unwrap()),
        )
        .expect("copy pack");
    }
    let _ = std::fs::copy(clean.path().join("out.txt"), moved.path().join("out.txt"));
    let got = run_ok(&exe, moved.path(), &["--restore", "step.ckpt"], true);
    check(
        got.lines().last() == expected.lines().last(),
        "restored from a copy in another directory",
    );
    println!("  image and chunks copied to another directory: restored");

    // A damaged chunk, then a missing chunk directory.
    let big = packs(moved.path())
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .expect("a pack");
    let mut bytes = std::fs::read(&big).expect("pack");
    // Chunk 31 of the numbers (still the first save's: steps changed chunks 0 to 29).
    bytes[4096 + (31 << 20) + 100] ^= 0x40;
    std::fs::write(&big, &bytes).expect("damage");
    let out = Running::spawn(&mut cmd(
        &exe,
        moved.path(),
        &["--restore", "step.ckpt"],
        true,
    ))
    .finish(Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        !out.status.success() && err.contains("do not match its hash") && err.contains(".pack"),
        &format!("a damaged chunk is refused: {err}"),
    );
    // Lazily: found when the program first touches it, and the process stops.
    let lazy = ["--restore", "step.ckpt", "--ckpt-lazy"];
    let out =
        Running::spawn(&mut cmd(&exe, moved.path(), &lazy, true)).finish(Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        out.status.code() == Some(2)
            && err.contains("lazy restore of")
            && err.contains("do not match its hash"),
        &format!("a damaged chunk found lazily stops the program: {err}"),
    );
    std::fs::remove_dir_all(moved.path().join("step.ckpt.chunks")).expect("rm");
    let out = Running::spawn(&mut cmd(
        &exe,
        moved.path(),
        &["--restore", "step.ckpt"],
        true,
    ))
    .finish(Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        !out.status.success() && err.contains("step.ckpt.chunks/ directory with it"),
        &format!("a missing chunk directory is named: {err}"),
    );
    println!("  damaged chunk (eager and lazy) and missing chunk directory refused");

    kills(&exe, &expected, &mut m, ms);
    println!("5 passed, 0 failed");
}

#[ckpt::checkpointable]
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("step") => stepper(false),
        Some("same") => stepper(true),
        _ => parent(),
    }
}
