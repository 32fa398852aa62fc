//! Images on object storage (`--ckpt-file s3://bucket/key`), against a real S3-compatible
//! server the test starts itself (moto's server, installed by `scripts/install-deps.sh`),
//! reached through a TCP relay of the test's that counts the bytes sent to the server and
//! can cut the network:
//!
//! - a run saving to `s3://` is killed at random moments, writer processes included (the
//!   whole process group: a machine that died), and each time restored with `--restore
//!   s3://…` from an empty cache directory (another machine), every other time lazily
//!   (`--ckpt-lazy`); its output is byte for byte the uninterrupted run's;
//! - a save uploads only the chunks the store lacks (about one chunk per step after the
//!   first), and packs no image refers to are deleted;
//! - the network cut in the middle of an upload: the save fails with a clear error, and the
//!   image at the URL is still the previous one (a restore from it continues from there);
//! - a run that finished marks the image on the store: `--ckpt-resume` starts a new run;
//! - errors: no image at the URL, an unknown scheme, a URL without a key, an unreachable
//!   store.
//!
//! Runs as a plain program (harness = false): the same binary is the test and the programs
//! it runs.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::s3::{self, free_port};
use support::{Moments, Running, TempDir};

const STEPS: usize = 40;
/// Elements of 8 bytes in one 1 MiB chunk.
const PER_CHUNK: usize = 1 << 17;
const BUCKET: &str = "ckpt-test";

/// 16 MiB of numbers; each step changes one chunk and saves.
#[ckpt::checkpointable]
fn stepper() {
    let mut data: Vec<u64> = (0..16 * PER_CHUNK as u64)
        .map(|i| {
            (i ^ 0x5bd1_e995)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29)
        })
        .collect();
    for step in 0..STEPS {
        ckpt::save().expect("checkpoint");
        let chunk = step % 16;
        for x in &mut data[chunk * PER_CHUNK..(chunk + 1) * PER_CHUNK] {
            *x = x.wrapping_mul(31).wrapping_add(step as u64);
        }
        let sum = data.iter().fold(0u64, |a, x| a.wrapping_add(*x));
        println!("step {step} sum {sum:016x}");
        std::thread::sleep(Duration::from_millis(20));
    }
    ckpt::wait_durable().expect("durable");
}

/// Saves, waits for the upload, waits for the file `go`, changes half the state and
/// saves again; a failed upload is reported (false: the program exits with 3).
#[ckpt::checkpointable]
fn twice() -> bool {
    let mut data: Vec<u64> = (0..16 * PER_CHUNK as u64).map(|i| i * 7).collect();
    for round in 0..3u64 {
        ckpt::save().expect("checkpoint");
        let sum = data.iter().fold(0u64, |a, x| a.wrapping_add(*x));
        println!("round {round} sum {sum:016x}");
        if let Err(e) = ckpt::wait_durable() {
            eprintln!("save failed: {e}");
            return false;
        }
        if round == 0 {
            std::fs::write("durable", b"1").expect("mark");
            let t0 = Instant::now();
            while !Path::new("go").exists() && t0.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for x in &mut data[..8 * PER_CHUNK] {
            *x = x.wrapping_add(round + 1);
        }
    }
    true
}

fn check(cond: bool, what: &str) {
    assert!(cond, "FAILED: {what}");
}

/// A TCP relay to the server that counts the bytes sent to it and can cut the network:
/// once `budget` more bytes went through after [`Relay::cut_after`], every connection is
/// shut down and new ones are closed at once.
struct Relay {
    port: u16,
    sent: Arc<AtomicU64>,
    limit: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(to: u16) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").expect("relay");
        l.set_nonblocking(true).expect("nonblocking");
        let port = l.local_addr().expect("addr").port();
        let sent = Arc::new(AtomicU64::new(0));
        let limit = Arc::new(AtomicU64::new(u64::MAX));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, lim, st) = (sent.clone(), limit.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((client, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                if s.load(Ordering::Relaxed) >= lim.load(Ordering::Relaxed) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                    continue;
                };
                let pipe = |mut from: TcpStream, mut to: TcpStream, count: bool| {
                    let (s, lim, st) = (s.clone(), lim.clone(), st.clone());
                    std::thread::spawn(move || {
                        let _ = from.set_read_timeout(Some(Duration::from_millis(100)));
                        let mut buf = vec![0u8; 64 << 10];
                        loop {
                            let cut = s.load(Ordering::Relaxed) >= lim.load(Ordering::Relaxed);
                            if cut || st.load(Ordering::Relaxed) {
                                break;
                            }
                            let n = match from.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => n,
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) =>
                                {
                                    continue
                                }
                                Err(_) => break,
                            };
                            if count {
                                s.fetch_add(n as u64, Ordering::Relaxed);
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                };
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                pipe(client, server, true);
                pipe(s2, c2, false);
            }
        });
        Relay {
            port,
            sent,
            limit,
            stop,
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Cuts the network once `budget` more bytes went to the server.
    fn cut_after(&self, budget: u64) {
        self.limit.store(self.sent() + budget, Ordering::Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The program run as `args` in `dir`, its output appended to (or starting) `out.txt`,
/// saving to the S3 server at `port` with its cache in `cache`. In a process group of its
/// own, so that killing the group takes its writer processes too.
fn cmd(exe: &Path, dir: &Path, args: &[&str], append: bool, port: u16, cache: &Path) -> Command {
    let mut c = support::output_to_file(exe, dir, args, "out.txt", append);
    c.envs(s3::client_env(port))
        .env("CKPT_CACHE_DIR", cache)
        .env("CKPT_REMOTE_RETRIES", "1")
        .env_remove("CKPT_FILE")
        .env_remove("CKPT_INCREMENTAL")
        .env_remove("CKPT_BACKGROUND")
        .env_remove("CKPT_SYNC")
        .process_group(0);
    c
}

fn url(key: &str) -> String {
    format!("s3://{BUCKET}/{key}")
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn parent() {
    let exe = std::env::current_exe().expect("exe");
    let server = s3::Server::start(BUCKET);
    let relay = Relay::start(server.port);
    let mut m = Moments::new();
    let scratch = TempDir::new("remote");
    let caches = scratch.path().join("caches");
    let mut machine = 0;
    let mut new_cache = || {
        machine += 1;
        caches.join(format!("machine{machine}"))
    };

    // Uninterrupted, to a local file.
    let clean = TempDir::new("remote-clean");
    let out = Running::spawn(
        cmd(
            &exe,
            clean.path(),
            &["step"],
            false,
            relay.port,
            &new_cache(),
        )
        .env("CKPT_FILE", "step.ckpt"),
    )
    .finish(Duration::from_secs(120));
    check(out.status.success(), &stderr_of(&out));
    let expected = std::fs::read_to_string(clean.path().join("out.txt")).expect("output");
    check(expected.lines().count() == STEPS, "every step printed");

    // Uninterrupted, to the store: bytes sent per save.
    let one = TempDir::new("remote-bytes");
    let before = relay.sent();
    let t0 = Instant::now();
    let key = "bytes/step.ckpt";
    let out = Running::spawn(
        cmd(
            &exe,
            one.path(),
            &["step", "--ckpt-file", &url(key)],
            false,
            relay.port,
            &new_cache(),
        )
        .env("CKPT_SYNC", "1")
        .env("CKPT_REMOTE_GC_GRACE", "0s"),
    )
    .finish(Duration::from_secs(120));
    check(out.status.success(), &stderr_of(&out));
    let ms = t0.elapsed().as_millis() as u64;
    let got = std::fs::read_to_string(one.path().join("out.txt")).expect("output");
    check(
        got == expected,
        "the run saving to s3:// prints what the local run prints",
    );
    let sent = relay.sent() - before;
    // 16 MiB once, then about one chunk per save (and the image, a few KiB, each time).
    let later = STEPS as u64 - 1;
    let per_save = sent.saturating_sub(16 << 20) / later;
    check(
        (16 << 20..17 << 20).contains(&sent.saturating_sub(later << 20)),
        &format!("{STEPS} saves sent {sent} bytes: 16 MiB, then about one chunk each"),
    );
    check(server.exists(key), "the image is on the store");
    println!(
        "  {STEPS} saves to s3:// sent {:.1} MiB: the state once, then {per_save} bytes a save",
        sent as f64 / (1 << 20) as f64
    );

    // Killed (with its writers) at random moments; restored from the store each time into
    // an empty cache.
    let d = TempDir::new("remote-kill");
    let dir = d.path();
    // A run that ends by itself starts the count over, under a new key.
    let key = std::cell::RefCell::new("kill0/step.ckpt".to_string());
    let kills = support::kill_until(
        4,
        (ms / 10 + 50, ms / 4 + 100),
        &mut m,
        || server.exists(&key.borrow()),
        |restoring, attempt| {
            let u = url(&key.borrow());
            // Every other restore is lazy: the packs are downloaded, the arrays come in
            // on first touch.
            let args: Vec<&str> = match (restoring, attempt % 2) {
                (false, _) => vec!["step", "--ckpt-file", &u],
                (true, 0) => vec!["--restore", &u, "--ckpt-lazy"],
                (true, _) => vec!["--restore", &u],
            };
            let cache = new_cache();
            Running::spawn(&mut cmd(&exe, dir, &args, restoring, relay.port, &cache))
        },
        alive_then_kill_group,
        |attempt| {
            let got = std::fs::read_to_string(dir.join("out.txt")).expect("output");
            check(
                got == expected,
                &format!("a run that ended by itself:\n{got}"),
            );
            *key.borrow_mut() = format!("kill{attempt}/step.ckpt");
        },
    );
    let key = key.into_inner();
    let u = url(&key);
    let out = Running::spawn(&mut cmd(
        &exe,
        dir,
        &["--restore", &u],
        true,
        relay.port,
        &new_cache(),
    ))
    .finish(Duration::from_secs(120));
    check(out.status.success(), &stderr_of(&out));
    let got = std::fs::read_to_string(dir.join("out.txt")).expect("output");
    check(
        got == expected,
        &format!("output after {kills} kills and restores from s3://:\n{got}\nvs\n{expected}"),
    );
    println!("  {kills} kills (writers included), each restored from s3:// into an empty cache: output identical");

    // A run that finished marks the image on the store: resuming starts a new run.
    let out = Running::spawn(&mut cmd(
        &exe,
        dir,
        &["step", "--ckpt-resume", "--ckpt-file", &u],
        false,
        relay.port,
        &new_cache(),
    ))
    .finish(Duration::from_secs(120));
    check(
        out.status.success() && stderr_of(&out).contains("run that finished"),
        &format!(
            "--ckpt-resume of a finished run starts anew: {}",
            stderr_of(&out)
        ),
    );

    // The network cut in the middle of the second upload.
    let d = TempDir::new("remote-cut");
    let dir = d.path();
    let key = "cut/twice.ckpt";
    let u = url(key);
    let mut run = Running::spawn(&mut cmd(
        &exe,
        dir,
        &["twice", "--ckpt-file", &u],
        false,
        relay.port,
        &new_cache(),
    ));
    run.wait_for_file(&dir.join("durable"), Duration::from_secs(60));
    relay.cut_after(3 << 20);
    std::fs::write(dir.join("go"), b"1").expect("go");
    let out = run.finish(Duration::from_secs(120));
    let err = stderr_of(&out);
    check(
        out.status.code() == Some(3)
            && err.contains(&u)
            && err.contains("the image there is still the previous one"),
        &format!("the cut upload is a failed save: {:?} {err}", out.status),
    );
    relay.cut_after(u64::MAX - relay.sent());
    // A restore from the store (directly, another cache) continues from the first save.
    let out = Running::spawn(&mut cmd(
        &exe,
        dir,
        &["--restore", &u],
        true,
        server.port,
        &new_cache(),
    ))
    .finish(Duration::from_secs(120));
    check(out.status.success(), &stderr_of(&out));
    let got = std::fs::read_to_string(dir.join("out.txt")).expect("output");
    let rounds: Vec<&str> = got.lines().collect();
    check(
        rounds.len() == 3 && rounds[0].starts_with("round 0") && rounds[2].starts_with("round 2"),
        &format!("restored from the image before the cut: {got}"),
    );
    println!("  network cut in the middle of an upload: the save failed, the store kept the previous image");

    // Errors.
    let d = TempDir::new("remote-err");
    let dir = d.path();
    let mut e = |args: &[&str], port: u16| {
        let out = Running::spawn(&mut cmd(&exe, dir, args, false, port, &new_cache()))
            .finish(Duration::from_secs(60));
        check(!out.status.success(), &format!("{args:?} fails"));
        stderr_of(&out)
    };
    let none = url("nothing/here.ckpt");
    let err = e(&["--restore", &none], server.port);
    check(
        err.contains(&none) && err.contains("no image there"),
        &format!("no image: {err}"),
    );
    let err = e(&["step", "--ckpt-file", "ftp://host/x.ckpt"], server.port);
    check(
        err.contains("not ftp://"),
        &format!("unknown scheme: {err}"),
    );
    let err = e(&["step", "--ckpt-file", "s3://bucket"], server.port);
    check(err.contains("no object key"), &format!("no key: {err}"));
    let err = e(&["--restore", &u], free_port());
    check(
        err.contains(&u) && err.contains("reading the image"),
        &format!("unreachable store: {err}"),
    );
    println!("  errors: no image, unknown scheme, no key, unreachable store");
}

/// True if the run was still running; kills it with its process group (the program and
/// any writer it forked: a machine that died) either way, and reaps it.
fn alive_then_kill_group(mut r: Running) -> bool {
    let alive = r.try_wait().is_none();
    let pid = r.pid() as i32;
    // SAFETY: kill(2) of the process group our child leads (its pid is not reaped yet).
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let _ = r.kill();
    alive
}

/// The exit of a run whose save failed (its image stays as the failed save left it).
fn exit_failed() -> ! {
    std::process::exit(3)
}

#[ckpt::checkpointable]
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("step") => stepper(),
        Some("twice") => {
            if !twice() {
                exit_failed()
            }
        }
        _ => {
            println!("remote: images on object storage (a local S3 server)");
            parent();
            println!("remote: ok");
        }
    }
}
