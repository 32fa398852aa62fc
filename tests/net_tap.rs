//! Live TCP connections between ckpt's stack on a TAP device and the Linux kernel's TCP
//! survive SIGKILL and restore: the kernel-side peer sees no reset, every request is
//! answered exactly once, every byte arrives once in both directions.
//!
//! Needs root (network namespaces and TAP devices): CI runs as root. Without it every
//! test here fails saying so. Each test makes its own namespace with addresses in
//! 198.51.100.0/24 and removes it, and every process in it, when it ends.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test net_tap` alone).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::netns::*;
use support::*;

/// The kvserver's answers, modelled.
struct Model {
    store: std::collections::HashMap<String, String>,
}

impl Model {
    fn checksum(&self) -> u64 {
        self.store
            .iter()
            .map(|(k, v)| {
                let mut h = 0xcbf29ce484222325u64;
                for b in k.bytes().chain([0]).chain(v.bytes()) {
                    h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
                }
                h
            })
            .fold(0u64, u64::wrapping_add)
    }

    /// Request `i` and the reply it must get.
    fn step(&mut self, i: u64) -> (String, String) {
        let key = format!("key{}", (i * 7) % 61);
        match i % 5 {
            0..=2 => {
                let v = format!("value-{i}-{}", "x".repeat((i % 40) as usize));
                self.store.insert(key.clone(), v.clone());
                (format!("SET {key} {v}"), "OK".into())
            }
            3 => {
                let r = match self.store.get(&key) {
                    Some(v) => format!("VALUE {v}"),
                    None => "NONE".into(),
                };
                (format!("GET {key}"), r)
            }
            _ => ("SUM".to_string(), format!("SUM {:016x}", self.checksum())),
        }
    }
}

/// Connects to `addr` from the namespace's kernel, retrying while the server starts.
fn connect_retrying(addr: &str) -> TcpStream {
    let t0 = Instant::now();
    loop {
        match TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2)) {
            Ok(s) => return s,
            Err(e) => {
                assert!(
                    t0.elapsed() < Duration::from_secs(20),
                    "cannot connect to {addr}: {e}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Starts `c` (a program in the namespace) in `dir`, its outputs piped; the TAP holder it
/// starts ends a minute after the last program (the namespace's removal ends it first).
fn spawn_in(mut c: Command, dir: &Path) -> Running {
    c.current_dir(dir)
        .env("CKPT_TAP_HOLDER_IDLE", "60")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Running::spawn(&mut c)
}

/// How kvserver's replies are committed in a test.
#[derive(Clone, Copy, PartialEq)]
enum Commit {
    /// A reply leaves once an image covers it (a save per reply).
    Save,
    /// A reply leaves once the input log holds what it depends on (`--ckpt-record`); a
    /// restart recovers through the log (`--ckpt-resume`).
    Log,
}

fn start_kvserver(ns: &Netns, dir: &Path, restore: bool, commit: Commit) -> Running {
    let mut c = ns.command(&example("kvserver"));
    let ip = format!("{SERVER_IP}/24");
    match (commit, restore) {
        (Commit::Save, true) => {
            c.args(["--restore", "kvserver.ckpt"]);
        }
        (Commit::Save, false) => {
            c.args(["--ckpt-tap", &ns.tap, "--ckpt-ip", &ip]).args([
                "--every",
                "25",
                "--connections",
                "1",
            ]);
        }
        (Commit::Log, _) => {
            c.args(["--ckpt-resume", "--ckpt-record", "kv.log"])
                .args(["--ckpt-tap", &ns.tap, "--ckpt-ip", &ip])
                .args(["--every", "400", "--connections", "1"]);
        }
    }
    spawn_in(c, dir)
}

/// A client on the kernel's TCP keeps one connection to kvserver while the server is
/// killed with SIGKILL at random moments ten times and restored (a restore of a restore
/// each time, with 0 to 1.5 s of downtime): every reply arrives once and is right, the
/// kernel counts no reset, the server's final count is the client's. Replies leave once
/// an image covers them.
#[test]
fn kvserver_keeps_its_kernel_client_across_repeated_sigkill() {
    kvserver_under_kills(Commit::Save, "kv");
}

/// The same with the input log: replies leave once the log holds the frames and clock
/// readings they depend on, and each restart recovers by replaying the log from the last
/// image (`--ckpt-resume --ckpt-record`).
#[test]
fn kvserver_recovers_through_the_input_log_across_repeated_sigkill() {
    kvserver_under_kills(Commit::Log, "kvlog");
}

fn kvserver_under_kills(commit: Commit, tag: &str) {
    let ns = Netns::new(tag);
    let dir = TempDir::new("kvserver-tap");
    // Recoveries through the log lose few requests: the log's run needs more of them for
    // ten kills to land before the client is done.
    let requests = if commit == Commit::Log {
        40_000
    } else {
        20_000u64
    };
    let done = Arc::new(AtomicU64::new(0));
    let mut server = start_kvserver(&ns, dir.path(), false, commit);
    let progress = done.clone();
    let client = ns.thread(move || -> Result<(u64, u64), String> {
        let stream = connect_retrying(&format!("{SERVER_IP}:7878"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut model = Model {
            store: Default::default(),
        };
        let (mut sent, mut got) = (0u64, 0u64);
        for i in 0..requests {
            let (req, want) = model.step(i);
            writer
                .write_all(format!("{req}\n").as_bytes())
                .map_err(|e| format!("request {i}: {e}"))?;
            sent += req.len() as u64 + 1;
            let mut reply = String::new();
            reader
                .read_line(&mut reply)
                .map_err(|e| format!("reply {i}: {e}"))?;
            got += reply.len() as u64;
            if reply.trim_end() != want {
                return Err(format!(
                    "reply {i} to {req:?}: {reply:?}, expected {want:?}"
                ));
            }
            progress.store(i + 1, Ordering::SeqCst);
        }
        writer.shutdown(Shutdown::Write).unwrap();
        let mut rest = String::new();
        reader
            .read_to_string(&mut rest)
            .map_err(|e| format!("after the last request: {e}"))?;
        if !rest.is_empty() {
            return Err(format!("bytes after the last reply: {rest:?}"));
        }
        Ok((sent, got))
    });

    let mut m = Moments::new();
    let wait_progress = |from: u64, what: &str| {
        let t0 = Instant::now();
        while done.load(Ordering::SeqCst) <= from.min(requests - 1) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no reply for 30 s {what} (at request {from})"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_progress(30, "after the start");
    let mut kills = 0;
    let downtimes = [0u64, 50, 300, 1500];
    while kills < 10 && done.load(Ordering::SeqCst) < requests - 1000 {
        std::thread::sleep(Duration::from_millis(m.next_ms(50, 400)));
        let at = done.load(Ordering::SeqCst);
        let out = server.kill();
        assert!(
            commit == Commit::Log || dir.path().join("kvserver.ckpt").exists(),
            "no image yet: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(downtimes[kills % downtimes.len()]));
        let t0 = Instant::now();
        server = start_kvserver(&ns, dir.path(), true, commit);
        kills += 1;
        wait_progress(at.max(done.load(Ordering::SeqCst)), "after a restore");
        eprintln!(
            "kill {kills} at request {at}: replies again {:?} after the restore started",
            t0.elapsed()
        );
    }
    assert!(kills >= 10, "only {kills} kills before the client finished");
    let r = client.join().unwrap();
    let out = server.finish(Duration::from_secs(60));
    let (sent, got) = r.unwrap_or_else(|e| panic!("client: {e}\nserver: {}", stderr(&out)));
    assert!(out.status.success(), "server: {}", stderr(&out));
    assert_eq!(
        result_line(&stdout(&out)),
        format!("result: served {requests} requests")
    );
    assert!(sent > 0 && got > 0);
    assert_eq!(ns.counter("TcpEstabResets"), 0, "the kernel saw a reset");
    assert_eq!(ns.counter("TcpExtPAWSEstab"), 0, "segments dropped by PAWS");
}

/// A TAP that does not exist is a clear error, not a hang.
#[test]
fn a_missing_tap_device_is_a_clear_error() {
    let ns = Netns::new("miss");
    let dir = TempDir::new("kvserver-notap");
    let out = ns
        .command(&example("kvserver"))
        .args(["--ckpt-tap", "nosuch0", "--ckpt-ip", "198.51.100.2/24"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nosuch0"), "{err}");
}

const OUT_BASE: u64 = 1 << 40;
const IN_BASE: u64 = 1 << 50;

fn byte_at(base: u64, at: u64) -> u8 {
    (base + at / 8).to_be_bytes()[(at % 8) as usize]
}

/// The kernel-side service of `stream_sum`: checks every byte it receives at its offset,
/// sends `send` bytes of its own stream and closes its side (the client then sits in
/// CLOSE-WAIT while it sends the rest), reads to the end. Pauses now and then, so its
/// window closes. Returns (received, sent) or what went wrong.
fn kernel_stream_service(
    ns: &Netns,
    send: u64,
) -> std::thread::JoinHandle<Result<(u64, u64), String>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let h = ns.thread(move || -> Result<(u64, u64), String> {
        let l =
            std::net::TcpListener::bind(format!("{KERNEL_IP}:9000")).map_err(|e| e.to_string())?;
        ready_tx.send(()).unwrap();
        let (s, _) = l.accept().map_err(|e| format!("accept: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || -> Result<u64, String> {
            let mut at = 0u64;
            while at < send {
                let n = (send - at).min(3000);
                let chunk: Vec<u8> = (0..n).map(|i| byte_at(IN_BASE, at + i)).collect();
                w.write_all(&chunk)
                    .map_err(|e| format!("send at {at}: {e}"))?;
                at += n;
            }
            w.shutdown(Shutdown::Write)
                .map_err(|e| format!("shutdown: {e}"))?;
            Ok(at)
        });
        let mut r = s;
        let mut got = 0u64;
        let mut buf = vec![0u8; 8192];
        let mut reads = 0u64;
        loop {
            let n = r
                .read(&mut buf)
                .map_err(|e| format!("receive at {got}: {e}"))?;
            if n == 0 {
                break;
            }
            for (i, b) in buf[..n].iter().enumerate() {
                let at = got + i as u64;
                if *b != byte_at(OUT_BASE, at) {
                    return Err(format!(
                        "byte {at} is {b:#x}, not {:#x}",
                        byte_at(OUT_BASE, at)
                    ));
                }
            }
            got += n as u64;
            reads += 1;
            if reads.is_multiple_of(200) {
                std::thread::sleep(Duration::from_millis(40));
            }
        }
        let sent = writer.join().unwrap()?;
        Ok((got, sent))
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the kernel-side service did not start");
    h
}

fn start_stream_sum(ns: &Netns, dir: &Path, restore: bool, bytes: u64) -> Running {
    let mut c = ns.command(&example("stream_sum"));
    if restore {
        c.args(["--restore", "stream_sum.ckpt"]);
    } else {
        c.args([
            "--ckpt-tap",
            &ns.tap,
            "--ckpt-ip",
            &format!("{SERVER_IP}/24"),
        ])
        .args(["--server", &format!("{KERNEL_IP}:9000")])
        .args(["--bytes", &bytes.to_string()]);
    }
    spawn_in(c, dir)
}

/// ckpt in the connecting role: `stream_sum` streams to a kernel-side service and checks
/// its stream while killed ten times and restored, some restores with the TAP holder
/// killed too (the device is opened again) and many while the connection is in
/// CLOSE-WAIT (the service has closed its side): every byte arrives once in both
/// directions, the service's FIN is seen once, the kernel counts no reset.
#[test]
fn stream_sum_connects_out_and_survives_kills_and_close_wait() {
    let ns = Netns::new("ss");
    let dir = TempDir::new("stream-sum-tap");
    let (total, back) = (30_000_000u64, 6_000_000u64);
    let service = kernel_stream_service(&ns, back);
    let mut client = start_stream_sum(&ns, dir.path(), false, total);
    let mut m = Moments::new();
    let mut kills = 0;
    while kills < 10 {
        std::thread::sleep(Duration::from_millis(m.next_ms(150, 600)));
        if client.try_wait().is_some() {
            let out = client.finish(Duration::from_secs(5));
            panic!(
                "the client ended after {kills} kills: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        let pid = client.pid();
        let out = client.kill();
        assert!(
            dir.path().join("stream_sum.ckpt").exists(),
            "no image yet: {}",
            stderr(&out)
        );
        if kills % 4 == 3 {
            // Without the holder: the restore opens the device again.
            let out = Command::new("ip")
                .args(["netns", "pids", &ns.name])
                .output()
                .unwrap();
            for p in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(p) = p.parse::<i32>() {
                    if p as u32 != pid {
                        // SAFETY: kill has no memory preconditions.
                        unsafe { libc::kill(p, libc::SIGKILL) };
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        kills += 1;
        client = start_stream_sum(&ns, dir.path(), true, total);
    }
    assert!(
        kills >= 10,
        "the client finished after {kills} kills: make it longer"
    );
    let out = client.finish(Duration::from_secs(120));
    let r = service.join().unwrap();
    assert!(out.status.success(), "client: {}", stderr(&out));
    let (got, sent) = r.unwrap_or_else(|e| panic!("service: {e}\nclient: {}", stderr(&out)));
    assert_eq!((got, sent), (total, back));
    assert_eq!(
        result_line(&stdout(&out)),
        format!("result: sent {total} received {back}")
    );
    assert_eq!(ns.counter("TcpEstabResets"), 0, "the kernel saw a reset");
}

/// A recording of kvserver on the TAP replays anywhere, without the device or the
/// namespace: the frames it received are in the log, the frames it sends go nowhere, and
/// it serves the same requests with the same result.
#[test]
fn a_tap_recording_replays_without_the_device() {
    let ns = Netns::new("rp");
    let dir = TempDir::new("kvserver-tap-replay");
    let mut c = ns.command(&example("kvserver"));
    c.args(["--ckpt-record", "kv.log", "--connections", "1"])
        .args([
            "--ckpt-tap",
            &ns.tap,
            "--ckpt-ip",
            &format!("{SERVER_IP}/24"),
        ]);
    let server = spawn_in(c, dir.path());
    let client = ns.thread(|| -> Result<(), String> {
        let stream = connect_retrying(&format!("{SERVER_IP}:7878"));
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut model = Model {
            store: Default::default(),
        };
        for i in 0..300 {
            let (req, want) = model.step(i);
            writer
                .write_all(format!("{req}\n").as_bytes())
                .map_err(|e| e.to_string())?;
            let mut reply = String::new();
            reader.read_line(&mut reply).map_err(|e| e.to_string())?;
            if reply.trim_end() != want {
                return Err(format!("reply {i}: {reply:?}, expected {want:?}"));
            }
        }
        Ok(())
    });
    client.join().unwrap().unwrap();
    let recorded = server.finish(Duration::from_secs(30));
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    // Outside the namespace: no TAP device here.
    let replayed = run(
        &example("kvserver"),
        &["--replay", "start", "--log", "kv.log"],
        dir.path(),
    );
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(stdout(&replayed), stdout(&recorded));
    assert_eq!(
        result_line(&stdout(&replayed)),
        "result: served 300 requests"
    );
}
