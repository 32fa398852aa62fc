//! Tests of the TAP device and its holder. They need root (network namespaces, TAP
//! devices) and /dev/net/tun, and fail (never skip) without them. Each test works in its
//! own network namespace `ckpttap<pid><tag>` holding a TAP `ckt0` with 198.51.100.1/24;
//! the test's TAP operations run in a thread that entered it with setns(CLONE_NEWNET).

use super::*;
use std::io::BufRead;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Barrier};

const DEV: &str = "ckt0";
const OUR_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const OUR_IP: [u8; 4] = [198, 51, 100, 2];
const KERNEL_IP: [u8; 4] = [198, 51, 100, 1];
const LONG_IDLE: Duration = Duration::from_secs(600);

fn require_root() {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the TAP tests need root (network namespaces, TAP devices): run them as root"
    );
    assert!(
        Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: the TAP tests need the tun driver (`modprobe tun`)"
    );
}

/// Runs a command (bounded by `timeout 30`); returns (success, stdout + stderr).
fn run_cmd(args: &[&str]) -> (bool, String) {
    let out = Command::new("timeout")
        .arg("30")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn must(args: &[&str]) -> String {
    let (ok, text) = run_cmd(args);
    assert!(ok, "{args:?} failed: {text}");
    text
}

/// /proc/PID/comm, if the process exists.
fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Whether `pid` is gone (or a zombie: the holder is reparented to init, which may be slow
/// to reap or not reap at all in a container).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat.rsplit_once(')').map(|(_, r)| r.trim_start());
            state.is_none_or(|s| s.starts_with('Z') || s.starts_with('X'))
        }
    }
}

fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Enters the network namespace at `path` (this thread only).
fn enter(path: &str) -> io::Result<()> {
    let f = std::fs::File::open(path)?;
    // SAFETY: setns on a namespace fd we hold open; affects only this thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A network namespace with the TAP `ckt0`, deleted on drop along with every holder in it.
struct Netns {
    name: String,
    path: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        require_root();
        let name = format!("ckpttap{}{tag}", std::process::id());
        // A leftover of an earlier run with the same pid.
        let _ = run_cmd(&["ip", "netns", "del", &name]);
        must(&["ip", "netns", "add", &name]);
        let ns = Netns {
            path: format!("/var/run/netns/{name}"),
            name,
        };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["tuntap", "add", "dev", DEV, "mode", "tap"]);
        ns.ip(&["addr", "add", "198.51.100.1/24", "dev", DEV]);
        ns.ip(&["link", "set", DEV, "up"]);
        ns
    }

    /// `ip netns exec NS ip ARGS`.
    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", &self.name, "ip"];
        all.extend_from_slice(args);
        must(&all)
    }

    fn link(&self) -> String {
        self.ip(&["-o", "link", "show", DEV])
    }

    /// Runs `f` in a thread inside the namespace.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            let h = s.spawn(|| {
                enter(&self.path).unwrap_or_else(|e| panic!("setns into {}: {e}", self.path));
                f()
            });
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// The pids of the `ckpt-tap-hold` processes living in this namespace.
    fn holders(&self) -> Vec<u32> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        let want = format!("net:[{}]", meta.ino());
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if comm(pid).as_deref() != HOLDER_COMM.to_str().ok() || exited(pid) {
                continue;
            }
            let ns = std::fs::read_link(format!("/proc/{pid}/ns/net"));
            if ns.ok().and_then(|p| p.to_str().map(|s| s == want)) == Some(true) {
                pids.push(pid);
            }
        }
        pids
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Only holders in our own namespace: they keep it alive after `ip netns del`.
        for pid in self.holders() {
            // SAFETY: kill(2) of a process checked to be a holder in our namespace.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        let (ok, text) = run_cmd(&["ip", "netns", "del", &self.name]);
        if !ok {
            eprintln!("cleanup: ip netns del {} failed: {text}", self.name);
        }
    }
}

/// An ARP request "who has 198.51.100.1? tell 198.51.100.2 (02:00:00:00:00:02)".
fn arp_request() -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&OUR_MAC);
    f.extend_from_slice(&[0x08, 0x06]); // ARP
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet/IPv4, request
    f.extend_from_slice(&OUR_MAC);
    f.extend_from_slice(&OUR_IP);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&KERNEL_IP);
    f.resize(60, 0);
    f
}

fn is_arp_reply(f: &[u8]) -> bool {
    f.len() >= 42
        && f[0..6] == OUR_MAC
        && f[12..14] == [0x08, 0x06]
        && f[20..22] == [0, 2]
        && f[28..32] == KERNEL_IP
        && f[32..38] == OUR_MAC
        && f[38..42] == OUR_IP
}

/// A frame the kernel sends towards 198.51.100.2: an ARP request for it, or an IPv4
/// packet to it.
fn is_towards_us(f: &[u8]) -> bool {
    let arp =
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[20..22] == [0, 1] && f[38..42] == OUR_IP;
    let ip = f.len() >= 34 && f[12..14] == [0x08, 0x00] && f[30..34] == OUR_IP;
    arp || ip
}

/// Reads frames until one satisfies `want` or `limit` passes; calls `again` every 300 ms.
fn find_frame(
    tap: &Tap,
    limit: Duration,
    mut again: impl FnMut(),
    want: impl Fn(&[u8]) -> bool,
) -> Result<(), usize> {
    let mut buf = vec![0u8; mtu(DEV).expect("mtu") + 14];
    let deadline = Instant::now() + limit;
    let mut next = Instant::now();
    let mut seen = 0;
    loop {
        while let Some(n) = tap.recv(&mut buf).expect("recv") {
            if want(&buf[..n]) {
                return Ok(());
            }
            seen += 1;
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(seen);
        }
        if now >= next {
            again();
            next = now + Duration::from_millis(300);
        }
        tap.wait(Some(deadline.min(next).saturating_duration_since(now)))
            .expect("wait");
    }
}

/// Reads frames (bounded in time) until one satisfies `want`.
fn expect_frame(tap: &Tap, what: &str, want: impl Fn(&[u8]) -> bool) {
    if let Err(seen) = find_frame(tap, Duration::from_secs(5), || {}, want) {
        panic!("no {what} within 5 s ({seen} other frames)");
    }
}

/// Sends ARP requests for the kernel's address (every 300 ms: right after a first attach
/// the kernel drops its output until the carrier change is processed) until it answers.
fn arp_round_trip(tap: &Tap) {
    let req = arp_request();
    let sent = || assert!(tap.send(&req).expect("send"), "the device queue is full");
    if let Err(seen) = find_frame(tap, Duration::from_secs(5), sent, is_arp_reply) {
        panic!("no ARP reply from the kernel within 5 s ({seen} other frames)");
    }
}

#[test]
fn open_sends_and_receives_frames() {
    let ns = Netns::new("open");
    ns.run(|| {
        assert_eq!(mtu(DEV).expect("mtu"), 1500);
        let tap = Tap::open(DEV).expect("open");
        assert_eq!(tap.name(), DEV);
        assert!(tap.raw_fd() >= 0);
        assert!(!tap.is_held());
        // SAFETY: fcntl F_GETFL on our fd.
        let fl = unsafe { libc::fcntl(tap.raw_fd(), libc::F_GETFL) };
        assert!(fl & libc::O_NONBLOCK != 0, "not nonblocking");
        arp_round_trip(&tap);
        // Nothing more asked for: recv says so instead of blocking.
        let mut buf = [0u8; 1514];
        let t = Instant::now();
        while tap.recv(&mut buf).expect("recv").is_some() {
            assert!(t.elapsed() < Duration::from_secs(5), "frames keep coming");
        }
        // A second attach of a single-queue TAP is refused with a clear error.
        let e = Tap::open(DEV).expect_err("second open");
        assert!(e.to_string().contains("attached"), "{e}");
    });
}

#[test]
fn holder_keeps_device_across_incarnations() {
    let ns = Netns::new("keep");
    // First incarnation: starts the holder.
    let pid = ns.run(|| {
        let (tap, started) = Tap::through_holder(DEV).expect("through_holder");
        assert!(started, "no holder was running, this call must start one");
        assert!(tap.is_held());
        // SAFETY: fcntl F_GETFL on our fd.
        let fl = unsafe { libc::fcntl(tap.raw_fd(), libc::F_GETFL) };
        assert!(fl & libc::O_NONBLOCK != 0, "not nonblocking");
        arp_round_trip(&tap);
        holder_pid(DEV).expect("holder_pid")
    });
    assert_eq!(comm(pid).as_deref(), HOLDER_COMM.to_str().ok());
    assert_eq!(ns.holders(), vec![pid]);
    // Not our child: double fork.
    // SAFETY: getppid cannot fail.
    let me = unsafe { libc::getpid() } as u32;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        !status.contains(&format!("PPid:\t{me}\n")),
        "the holder is our child"
    );

    // The program is gone: the holder's fd keeps the carrier, and what the kernel sends
    // meanwhile waits in the device queue.
    let link = ns.link();
    assert!(
        !link.contains("NO-CARRIER"),
        "carrier lost with the holder alive: {link}"
    );
    ns.run(|| {
        let s = std::net::UdpSocket::bind("198.51.100.1:0").expect("bind");
        s.send_to(b"queued", "198.51.100.2:9").expect("send_to");
    });

    // Second incarnation: same holder, same device, the queued frame is there.
    ns.run(|| {
        let (tap, started) = Tap::through_holder(DEV).expect("through_holder again");
        assert!(!started, "a holder was running: it must not be restarted");
        assert_eq!(holder_pid(DEV), Some(pid));
        expect_frame(&tap, "frame queued while no program ran", is_towards_us);
        arp_round_trip(&tap);
    });

    // A program that is SIGKILLed while holding the device (a child process).
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(&exe)
        .args([
            "--exact",
            "net::tap::tests::child_incarnation",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CKPT_TAP_TEST_CHILD", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            // libtest prints "test NAME ... " on the same line first.
            if let Some(at) = line.find("CHILD-READY") {
                let _ = tx.send(line[at..].to_owned());
                return;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let line = match line {
        Ok(l) => l,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child incarnation did not report");
        }
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let child_pid: libc::pid_t = fields[1].strip_prefix("pid=").unwrap().parse().unwrap();
    // SAFETY: SIGKILL to the child incarnation we spawned (ip netns exec execs it).
    unsafe { libc::kill(child_pid, libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(fields[2], "started=false", "{line}");
    assert_eq!(fields[3], format!("holder={pid}"), "{line}");
    let link = ns.link();
    assert!(
        !link.contains("NO-CARRIER"),
        "carrier lost after the kill: {link}"
    );

    // Third incarnation after the kill.
    ns.run(|| {
        let (tap, started) = Tap::through_holder(DEV).expect("through_holder after kill");
        assert!(!started);
        assert_eq!(holder_pid(DEV), Some(pid));
        arp_round_trip(&tap);
    });
    assert_eq!(ns.holders(), vec![pid]);

    // Control: without the holder the carrier does go (the checks above mean something).
    // SAFETY: SIGKILL to the holder, checked above to be ours.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    wait_until(
        "NO-CARRIER once the holder is killed",
        Duration::from_secs(5),
        || ns.link().contains("NO-CARRIER"),
    );
}

/// Helper of `holder_keeps_device_across_incarnations`, run by it in a child process.
#[test]
#[ignore = "helper run in a child process by holder_keeps_device_across_incarnations"]
fn child_incarnation() {
    if std::env::var_os("CKPT_TAP_TEST_CHILD").is_none() {
        return;
    }
    let (tap, started) = Tap::through_holder(DEV).expect("through_holder in the child");
    let holder = holder_pid(DEV).map_or(0, |p| p);
    println!(
        "CHILD-READY pid={} started={started} holder={holder}",
        std::process::id()
    );
    // Killed by the parent long before this ends.
    std::thread::sleep(Duration::from_secs(60));
    drop(tap);
}

#[test]
fn holder_exits_when_idle() {
    let ns = Netns::new("idle");
    let pid = ns.run(|| {
        let (tap, started) =
            through_holder_with(DEV, Duration::from_secs(1)).expect("through_holder");
        assert!(started);
        let pid = holder_pid(DEV).expect("holder_pid");
        // A connected program keeps it alive past the idle period.
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            !exited(pid),
            "the holder exited while a program was connected"
        );
        arp_round_trip(&tap);
        pid
    });
    let t = Instant::now();
    wait_until("the idle holder to exit", Duration::from_secs(6), || {
        exited(pid)
    });
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "exited before its idle period"
    );
    ns.run(|| assert_eq!(holder_pid(DEV), None));
    assert!(ns.holders().is_empty());
}

#[test]
fn holder_exits_when_device_deleted() {
    let ns = Netns::new("del");
    let pid = ns.run(|| {
        let (tap, started) = through_holder_with(DEV, LONG_IDLE).expect("through_holder");
        assert!(started);
        drop(tap);
        holder_pid(DEV).expect("holder_pid")
    });
    ns.ip(&["link", "del", DEV]);
    wait_until(
        "the holder to exit after its device was deleted",
        Duration::from_secs(5),
        || exited(pid),
    );
}

#[test]
fn device_recreated_gets_a_new_holder() {
    let ns = Netns::new("recr");
    let pid = ns.run(|| {
        let (tap, started) = through_holder_with(DEV, LONG_IDLE).expect("through_holder");
        assert!(started);
        drop(tap);
        holder_pid(DEV).expect("holder_pid")
    });
    // Deleted and recreated at once: the old holder has not noticed yet.
    ns.ip(&["link", "del", DEV]);
    ns.ip(&["tuntap", "add", "dev", DEV, "mode", "tap"]);
    ns.ip(&["addr", "add", "198.51.100.1/24", "dev", DEV]);
    ns.ip(&["link", "set", DEV, "up"]);
    let new = ns.run(|| {
        let (tap, started) = through_holder_with(DEV, LONG_IDLE).expect("through_holder");
        assert!(started, "the stale holder must not serve the new device");
        arp_round_trip(&tap);
        holder_pid(DEV).expect("holder_pid")
    });
    assert_ne!(new, pid);
    wait_until("the stale holder to exit", Duration::from_secs(5), || {
        exited(pid)
    });
}

#[test]
fn missing_device_is_a_clear_error() {
    let ns = Netns::new("miss");
    ns.run(|| {
        let hint = "does not exist: create it with `ip tuntap add dev nope0 mode tap`";
        let e = Tap::open("nope0").expect_err("open of a missing device");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains(hint), "{e}");
        let e = through_holder_with("nope0", LONG_IDLE).expect_err("holder of a missing device");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains(hint), "{e}");
        assert_eq!(holder_pid("nope0"), None);
        assert_eq!(
            mtu("nope0").expect_err("mtu").kind(),
            io::ErrorKind::NotFound
        );
        let e = Tap::open("a-name-much-too-long").expect_err("long name");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        // Never created by accident.
        let (ok, _) = run_cmd(&["ip", "link", "show", "nope0"]);
        assert!(!ok || Path::new("/sys/class/net/nope0").exists());
    });
    wait_until("no holder in the namespace", Duration::from_secs(3), || {
        ns.holders().is_empty()
    });
    let (ok, _) = run_cmd(&[
        "ip", "netns", "exec", &ns.name, "ip", "link", "show", "nope0",
    ]);
    assert!(!ok, "the missing device was created");
}

#[test]
fn concurrent_starts_share_one_holder() {
    let ns = Netns::new("race");
    let barrier = Barrier::new(2);
    let results: Vec<(bool, Option<u32>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    ns.run(|| {
                        barrier.wait();
                        let (tap, started) =
                            through_holder_with(DEV, LONG_IDLE).expect("through_holder");
                        arp_round_trip(&tap);
                        (started, holder_pid(DEV))
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let starters = results.iter().filter(|r| r.0).count();
    assert_eq!(starters, 1, "{results:?}");
    assert!(
        results[0].1.is_some() && results[0].1 == results[1].1,
        "{results:?}"
    );
    // The loser's holder (if the race was close enough to start two) exits.
    wait_until(
        "one holder in the namespace",
        Duration::from_secs(3),
        || ns.holders() == vec![results[0].1.unwrap()],
    );
}

#[test]
fn bind_arbitrates_between_two_holders() {
    let ns = Netns::new("bind");
    let barrier = Barrier::new(2);
    let mut results: Vec<Spawn> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    ns.run(|| {
                        let ifr = ifreq_for(DEV).unwrap();
                        let (addr, len) = holder_addr(DEV).unwrap();
                        barrier.wait();
                        spawn_holder(DEV, &ifr, &addr, len, LONG_IDLE).expect("spawn_holder")
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    results.sort_by_key(|r| *r as u8);
    assert_eq!(results, vec![Spawn::Started, Spawn::LostRace]);
    let pid = ns.run(|| {
        let (tap, started) = through_holder_with(DEV, LONG_IDLE).expect("through_holder");
        assert!(!started);
        arp_round_trip(&tap);
        holder_pid(DEV).expect("holder_pid")
    });
    wait_until(
        "one holder in the namespace",
        Duration::from_secs(3),
        || ns.holders() == vec![pid],
    );
}
