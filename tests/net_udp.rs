//! UDP on ckpt's user-space stack across SIGKILL and restore.
//!
//! In-process (no privileges): a program with two UDP sockets of its own sends bursts of
//! datagrams from one to the other and saves while they wait unread; killed after every
//! save in turn, and at random moments, and restored, it prints exactly what an
//! uninterrupted run prints, so the datagrams queued at a save are all there after the
//! restore. The program is ordinary Rust in a scratch crate this test builds (it needs
//! ckpt's `net` feature, which the corpus crate does not enable: its `cargo test -p
//! ckpt-corpus` builds without it), in `net-udp-crate/` inside the target directory,
//! kept between runs.
//!
//! On a TAP device (root): the `echo_udp` example answers a client on the Linux kernel's
//! UDP while killed with SIGKILL ten times and restored; every echo is right and the
//! numbers the server puts on its echoes only go up. Needs root (network namespaces and
//! TAP devices): without it these tests fail saying so. Each makes its own namespace
//! (`ckptudp<pid>…`) with addresses in 198.51.100.0/24 only, and removes it, and every
//! process in it, when it ends, also when it fails.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test net_udp` alone).

mod support;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use support::netns::*;
use support::*;

// ---- In-process ---------------------------------------------------------------------------

/// The in-process program: a "server" socket and a "client" socket (connected to the
/// server) in one process. Each round the client sends a burst, the program saves with
/// the burst unread in the server's socket, the server reads and echoes each datagram
/// with its running number, the program saves with the echoes unread in the client's
/// socket, and the client reads them. A datagram missing after a restore makes a read
/// time out, which ends the run with an error.
const PINGPONG: &str = r#"use std::net::UdpSocket;
use std::time::Duration;

const ROUNDS: usize = 12;

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let server = UdpSocket::bind("127.0.0.1:7300")?;
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.connect("127.0.0.1:7300")?;
    server.set_read_timeout(Some(Duration::from_secs(2)))?;
    client.set_read_timeout(Some(Duration::from_secs(2)))?;
    println!("client {} -> server {}", client.local_addr()?, server.local_addr()?);
    let mut buf = vec![0u8; 1024];
    let mut served = 0u64;
    let mut bytes_in = 0u64;
    let mut bytes_back = 0u64;
    for round in 0..ROUNDS {
        let burst = 2 + round % 5;
        for i in 0..burst {
            let msg = format!("round {round} datagram {i} {}", "x".repeat((round * 7 + i) % 23));
            client.send(msg.as_bytes())?;
        }
        // The whole burst waits in the server's socket.
        ckpt::save().expect("checkpoint");
        for _ in 0..burst {
            let (n, from) = server.recv_from(&mut buf)?;
            served += 1;
            bytes_in += n as u64;
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            println!("server: #{served} from {from}: {text}");
            server.send_to(format!("{served} {text}").as_bytes(), from)?;
        }
        // Now the echoes wait in the client's.
        ckpt::save().expect("checkpoint");
        for _ in 0..burst {
            let n = client.recv(&mut buf)?;
            bytes_back += n as u64;
            println!("client: echo {}", String::from_utf8_lossy(&buf[..n]));
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    println!("result: rounds {ROUNDS} datagrams {served} bytes {bytes_in} echoed {bytes_back}");
    Ok(())
}
"#;

/// Saves an uninterrupted run of the program makes.
const PINGPONG_SAVES: u64 = 24;
const PINGPONG_IMAGE: &str = "udp_pingpong.ckpt";

/// Builds the in-process program once per test process; its path.
fn pingpong() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // The test binary is TARGET/debug/deps/net_udp-…: a sibling of TARGET/debug.
        let exe = std::env::current_exe().expect("test binary path");
        let target = exe
            .ancestors()
            .nth(3)
            .expect("the target directory")
            .join("net-udp-crate");
        let krate = target.join("src-crate");
        let write = |rel: &str, text: &str| {
            let p = krate.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            // Unchanged files keep their times, so cargo rebuilds nothing.
            if std::fs::read_to_string(&p).ok().as_deref() != Some(text) {
                std::fs::write(&p, text).unwrap();
            }
        };
        write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"udp_pingpong\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 publish = false\n\n[workspace]\n\n[dependencies]\n\
                 ckpt = {{ path = \"{r}/ckpt-runtime\", package = \"ckpt-runtime\", \
                 features = [\"net\"] }}\n\n[build-dependencies]\n\
                 ckpt-build = {{ path = \"{r}/ckpt-build\", default-features = false }}\n",
                r = repo.display()
            ),
        );
        // The workspace's lock file: the same versions, nothing to resolve.
        write(
            "Cargo.lock",
            &std::fs::read_to_string(repo.join("Cargo.lock")).expect("Cargo.lock"),
        );
        write("build.rs", "fn main() { ckpt_build::instrument(); }\n");
        write("src/main.rs", PINGPONG);
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--quiet"])
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", target.join("target"))
            .env_remove("RUSTFLAGS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let built = Running::spawn(&mut build).finish(Duration::from_secs(900));
        assert!(
            built.status.success(),
            "the in-process UDP program does not build:\n{}",
            stderr(&built)
        );
        target.join("target").join("debug").join("udp_pingpong")
    })
}

/// Runs the program in `dir` with standard output appended to `out.txt`; `crash_after`
/// kills it right after that many images (`CKPT_CRASH_AFTER_SAVES`).
fn pingpong_run(dir: &Path, restore: bool, crash_after: Option<u64>) -> Output {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("out.txt"))
        .unwrap();
    let mut c = Command::new(pingpong());
    if restore {
        c.args(["--restore", PINGPONG_IMAGE]);
    }
    c.current_dir(dir)
        .env_remove("CKPT_CRASH_AFTER_SAVES")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::piped());
    if let Some(k) = crash_after {
        c.env("CKPT_CRASH_AFTER_SAVES", k.to_string());
    }
    Running::spawn(&mut c).finish(Duration::from_secs(60))
}

fn was_killed(o: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    o.status.signal() == Some(libc::SIGKILL)
}

fn pingpong_reference() -> &'static str {
    static OUT: OnceLock<String> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = TempDir::new("udp-pingpong-clean");
        let out = pingpong_run(dir.path(), false, None);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert!(
            text.contains("result: rounds 12 datagrams 45 "),
            "unexpected uninterrupted output:\n{text}"
        );
        text
    })
}

/// The datagrams an image holds unread in the UDP socket bound to `local` (its `net`
/// component: `sockets: [{kind: "udp", v: {local, queue: [[payload, source]]}}]`).
fn queued_at(image: &Path, local: &str) -> Vec<String> {
    use ckpt::state::Value;
    let img = ckpt::image::read(image, &Default::default()).expect("read the image");
    let net = img.component("net").expect("a net component");
    let Some(Value::Array(socks)) = net.get("sockets") else {
        panic!("no sockets in the net component");
    };
    let sock = socks
        .iter()
        .find(|s| {
            s.get("kind").and_then(Value::as_str) == Some("udp")
                && s.get("v")
                    .and_then(|v| v.get("local"))
                    .and_then(Value::as_str)
                    == Some(local)
        })
        .unwrap_or_else(|| panic!("no UDP socket bound to {local} in the image"));
    let Some(Value::Array(queue)) = sock.get("v").and_then(|v| v.get("queue")) else {
        panic!("the UDP socket {local} has no queue");
    };
    queue
        .iter()
        .map(|d| match d {
            Value::Array(pair) => match pair.first() {
                Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("a queued datagram that is not bytes: {other:?}"),
            },
            other => panic!("a queue entry that is not [payload, source]: {other:?}"),
        })
        .collect()
}

/// Killed right after each of its saves in turn (half of them with datagrams waiting in
/// the server's socket, half with echoes waiting in the client's), then after a chain of
/// saves (a restore of a restore …), and restored: the output equals an uninterrupted
/// run's, byte for byte. The image of the first save holds the first burst unread.
#[test]
fn queued_datagrams_survive_a_kill_after_every_save() {
    let base = pingpong_reference();

    // The image of the first save: the burst of round 0 is in the server's socket.
    let dir = TempDir::new("udp-pingpong-first");
    let out = pingpong_run(dir.path(), false, Some(1));
    assert!(
        was_killed(&out),
        "not killed at the first save: {}",
        stderr(&out)
    );
    let unread = queued_at(&dir.path().join(PINGPONG_IMAGE), "127.0.0.1:7300");
    assert_eq!(
        unread,
        ["round 0 datagram 0 ", "round 0 datagram 1 x"],
        "the first image does not hold the unread burst"
    );

    for k in 1..=PINGPONG_SAVES {
        let dir = TempDir::new(&format!("udp-pingpong-k{k}"));
        let out = pingpong_run(dir.path(), false, Some(k));
        assert!(was_killed(&out), "k={k}: not killed: {}", stderr(&out));
        let out = pingpong_run(dir.path(), true, None);
        assert!(out.status.success(), "k={k}: restore: {}", stderr(&out));
        let got = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert!(
            got == base,
            "killed after save {k} and restored, the output differs:\n{got}\n--- expected:\n{base}"
        );
    }

    // Chains: every run and restore killed after 1 to 4 more saves.
    let mut m = Moments::new();
    for chain in 0..3 {
        let dir = TempDir::new(&format!("udp-pingpong-chain{chain}"));
        let mut restore = false;
        let mut trail = Vec::new();
        loop {
            let k = m.next_ms(1, 4);
            let out = pingpong_run(dir.path(), restore, Some(k));
            if out.status.success() {
                trail.push(format!("k={k} finished"));
                break;
            }
            assert!(
                was_killed(&out),
                "chain {chain} {trail:?} k={k}: {}",
                stderr(&out)
            );
            trail.push(format!("k={k} killed"));
            restore = true;
        }
        let got = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert!(
            got == base,
            "chain {trail:?}: the output differs:\n{got}\n--- expected:\n{base}"
        );
    }
}

/// SIGKILL at random moments (between saves as well as right after them), six times per
/// round, each time restored: the output equals an uninterrupted run's.
#[test]
fn pingpong_survives_sigkill_at_random_moments() {
    let base = pingpong_reference();
    let run = FileRun {
        bin: pingpong(),
        dir: Path::new("."),
        stdout_file: "out.txt",
        stdin_file: None,
    };
    let (_clean, rounds) = kill_restore_files(&run, &[], PINGPONG_IMAGE, 2, None);
    for (i, dir) in rounds.iter().enumerate() {
        let got = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert!(
            got == base,
            "round {i}: the output differs:\n{got}\n--- expected:\n{base}"
        );
    }
}

// ---- On a TAP device ----------------------------------------------------------------------

fn start_echo(ns: &Netns, dir: &Path, restore: bool, extra: &[&str]) -> Running {
    let mut c = ns.command(&example("echo_udp"));
    if restore {
        c.args(["--restore", "echo_udp.ckpt"]);
    } else {
        c.args([
            "--ckpt-tap",
            &ns.tap,
            "--ckpt-ip",
            &format!("{SERVER_IP}/24"),
        ])
        .args(extra);
    }
    c.current_dir(dir)
        .env("CKPT_TAP_HOLDER_IDLE", "60")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Running::spawn(&mut c)
}

/// Datagram `i` of the client: its number, then filler of varying length.
fn payload(i: u64) -> String {
    format!("dgram {i} {}", "abcdefghij".repeat((i % 13) as usize))
}

/// An echo: the server's number for it and the datagram it echoes.
fn parse_echo(reply: &[u8]) -> Result<(u64, u64, &str), String> {
    let text = std::str::from_utf8(reply).map_err(|_| format!("not UTF-8: {reply:?}"))?;
    let (count, rest) = text
        .split_once(' ')
        .ok_or_else(|| format!("no count prefix: {text:?}"))?;
    let count: u64 = count
        .parse()
        .map_err(|_| format!("bad count prefix: {text:?}"))?;
    let i: u64 = rest
        .strip_prefix("dgram ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("not an echo of a datagram of ours: {text:?}"))?;
    if rest != payload(i) {
        return Err(format!("echo of datagram {i} mangled: {text:?}"));
    }
    Ok((count, i, rest))
}

/// What the kernel-side client saw.
#[derive(Debug, Default)]
struct Seen {
    /// Datagrams sent again after a timeout.
    resent: u64,
    /// Echoes of a datagram already answered (a resend the server took too).
    stale: u64,
    /// The server's numbers that never reached the client.
    gaps: u64,
    last_count: u64,
}

/// The kernel-side client: sends datagrams `0..n` one at a time from 198.51.100.1 and
/// waits for each one's echo, sending it again after `resend` without one (UDP: a
/// datagram that reaches a killed server is lost). Every echo must be the datagram it
/// answers, with a number greater than every number seen before (see the test).
fn udp_client(
    ns: &Netns,
    n: u64,
    resend: Duration,
    limit: Duration,
    progress: Arc<AtomicU64>,
) -> std::thread::JoinHandle<Result<Seen, String>> {
    ns.thread(move || -> Result<Seen, String> {
        let t0 = Instant::now();
        let sock = UdpSocket::bind((KERNEL_IP, 0)).map_err(|e| format!("bind: {e}"))?;
        sock.set_read_timeout(Some(resend)).unwrap();
        let server = format!("{SERVER_IP}:7979");
        let mut seen = Seen::default();
        let mut buf = vec![0u8; 4096];
        for i in 0..n {
            let msg = payload(i);
            sock.send_to(msg.as_bytes(), &server)
                .map_err(|e| format!("send {i}: {e}"))?;
            let asked = Instant::now();
            loop {
                if t0.elapsed() > limit {
                    return Err(format!(
                        "only {i} of {n} datagrams answered in {limit:?} ({seen:?})"
                    ));
                }
                if asked.elapsed() > Duration::from_secs(30) {
                    return Err(format!("no echo of datagram {i} for 30 s ({seen:?})"));
                }
                let got = match sock.recv_from(&mut buf) {
                    Ok((len, _)) => len,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        seen.resent += 1;
                        sock.send_to(msg.as_bytes(), &server)
                            .map_err(|e| format!("send {i} again: {e}"))?;
                        continue;
                    }
                    Err(e) => return Err(format!("receive (datagram {i}): {e}")),
                };
                let (count, j, _) = parse_echo(&buf[..got])?;
                if count <= seen.last_count {
                    return Err(format!(
                        "echo of datagram {j} numbered {count} after {}: the server's count \
                         went back ({seen:?})",
                        seen.last_count
                    ));
                }
                seen.gaps += count - seen.last_count - 1;
                seen.last_count = count;
                if j > i {
                    return Err(format!("echo of datagram {j} before it was sent (at {i})"));
                }
                if j < i {
                    seen.stale += 1;
                    continue;
                }
                break;
            }
            progress.store(i + 1, Ordering::SeqCst);
            // At most one datagram a millisecond: the kills land before the end on any
            // machine.
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(seen)
    })
}

/// `echo_udp` on a TAP answers a client on the kernel's UDP while it is killed with
/// SIGKILL at random moments ten times and restored (a restore of a restore each time,
/// with 0 to 1 s of downtime): the client gets an echo of each of its datagrams, every
/// echo is the datagram it answers, and the whole exchange ends within a bound.
///
/// What is guaranteed about the numbers: the server numbers datagrams with a count kept
/// in its image, and on the TAP a reply leaves the stack only after an image that covers
/// it is committed (save-based output commit: the reply is held, the `safepoint()` after
/// `send_to` saves, then it leaves). So every echo the client has seen carries a number
/// no greater than the count in the last committed image, and a restore, which continues
/// from that image, numbers its next datagram above all of them. A datagram processed
/// after the last image is forgotten with its reply, which never left (the client sends
/// it again). Hence the numbers the client sees strictly increase over the whole run,
/// across kills, stale echoes of resent datagrams included: no number is ever seen twice
/// and none goes back. They may skip (a reply held when the process died right after its
/// image was committed never leaves) and a datagram may be echoed more than once (its
/// resend reached the server too): at-least-once delivery with a monotonic count.
#[test]
fn echo_udp_answers_a_kernel_client_across_repeated_sigkill() {
    let ns = Netns::new("udpk");
    let dir = TempDir::new("echo-udp-tap");
    let n = 12_000u64;
    let limit = Duration::from_secs(180);
    let progress = Arc::new(AtomicU64::new(0));
    let mut server = start_echo(&ns, dir.path(), false, &["--every", "20"]);
    let client = udp_client(&ns, n, Duration::from_millis(200), limit, progress.clone());

    let wait_progress = |from: u64, what: &str| {
        let t0 = Instant::now();
        // A client that ended (with an error) says why below.
        while progress.load(Ordering::SeqCst) <= from.min(n - 1) && !client.is_finished() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no echo for 30 s {what} (at datagram {from})"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_progress(30, "after the start");
    let mut m = Moments::new();
    let downtimes = [0u64, 50, 300, 1000];
    let mut kills = 0;
    while kills < 10 && progress.load(Ordering::SeqCst) < n - 300 && !client.is_finished() {
        std::thread::sleep(Duration::from_millis(m.next_ms(30, 400)));
        let at = progress.load(Ordering::SeqCst);
        let out = server.kill();
        assert!(
            dir.path().join("echo_udp.ckpt").exists(),
            "no image yet: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(downtimes[kills % downtimes.len()]));
        let t0 = Instant::now();
        server = start_echo(&ns, dir.path(), true, &[]);
        kills += 1;
        wait_progress(at.max(progress.load(Ordering::SeqCst)), "after a restore");
        eprintln!(
            "kill {kills} at datagram {at}: echoes again {:?} after the restore started",
            t0.elapsed()
        );
    }
    let seen = client.join().unwrap();
    let out = server.kill();
    let seen = seen.unwrap_or_else(|e| panic!("client: {e}\nserver: {}", stderr(&out)));
    assert!(
        kills >= 10,
        "only {kills} kills before the client finished: make it longer"
    );
    eprintln!("client: {seen:?}");
    // Each of the n datagrams was numbered, some more than once.
    assert!(seen.last_count >= n, "{seen:?}");
}

/// `--count N`: the server ends after N datagrams with its totals and checksum, which
/// the client computes from the echoes (each carries the datagram and its number).
#[test]
fn echo_udp_count_ends_with_the_totals_of_what_it_echoed() {
    let ns = Netns::new("udpc");
    let dir = TempDir::new("echo-udp-count");
    let count = 40u64;
    let server = start_echo(&ns, dir.path(), false, &["--count", &count.to_string()]);
    // Sends new datagrams until the echo numbered `count` arrives; keeps every echo.
    let client = ns.thread(move || -> Result<BTreeMap<u64, String>, String> {
        let sock = UdpSocket::bind((KERNEL_IP, 0)).map_err(|e| format!("bind: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let server = format!("{SERVER_IP}:7979");
        let mut echoes = BTreeMap::new();
        let mut buf = vec![0u8; 4096];
        let t0 = Instant::now();
        let mut i = 0u64;
        while !echoes.contains_key(&count) {
            if t0.elapsed() > Duration::from_secs(60) {
                return Err(format!("no echo numbered {count} in 60 s: {echoes:?}"));
            }
            sock.send_to(payload(i).as_bytes(), &server)
                .map_err(|e| format!("send {i}: {e}"))?;
            // Until its echo, or a timeout (then the next datagram).
            while let Ok((len, _)) = sock.recv_from(&mut buf) {
                let (c, j, text) = parse_echo(&buf[..len])?;
                if echoes.insert(c, text.to_string()).is_some() {
                    return Err(format!("two echoes numbered {c}"));
                }
                if c == count || j == i {
                    break;
                }
            }
            i += 1;
        }
        Ok(echoes)
    });
    let echoes = client.join().unwrap().unwrap();
    let out = server.finish(Duration::from_secs(30));
    assert!(out.status.success(), "server: {}", stderr(&out));
    // Without kills no echo is lost: 1..=count, each once.
    assert_eq!(
        echoes.keys().copied().collect::<Vec<_>>(),
        (1..=count).collect::<Vec<_>>()
    );
    let mut h = 0xcbf29ce484222325u64;
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    for (c, text) in &echoes {
        for b in text.bytes().chain([0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
        bytes_in += text.len() as u64;
        bytes_out += (format!("{c} ").len() + text.len()) as u64;
    }
    assert_eq!(
        result_line(&stdout(&out)),
        format!("result: datagrams {count} bytes in {bytes_in} out {bytes_out} checksum {h:016x}")
    );
}
