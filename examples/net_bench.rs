//! Network benchmarks (issue 11, item 7): ckpt's user-space TCP next to the kernel's,
//! measured side by side in one run. Benchmarks report, they never assert (BENCHMARKS.md,
//! "Network stack (issue 11)"); `scripts/bench-net.sh` runs every mode and prints a table.
//!
//! `main` is `#[checkpointable]`, so `std::net` in it and in the other checkpointable
//! functions is ckpt's stack; the plain functions (no attribute) use the kernel's sockets.
//! Every measurement prints one line `NETBENCH kind=... key=value ...`.
//!
//! ```text
//! net_bench tput  [--mib N] [--chunk-kib K]   in-process TCP vs kernel loopback: Gbit/s, ratio
//! net_bench rtt   [--iters N]                 1-byte ping-pong: median and p99 (µs), both stacks
//!                 (tput and rtt: `--only-ckpt` skips the kernel baseline, for profiling)
//! net_bench pause [--pairs N] [--inflight-kib K] [--every M] [--reps R] [--dir D]
//!                 ckpt::save() with N in-process connection pairs open (K KiB unread on every
//!                 M-th), and with none; image sizes; restore time to the first line after
//!                 the save point
//! net_bench tap-send --to IP:PORT [--mib N] [--chunk-kib K] [--safepoint] [--label L]
//!                 ckpt's stack (run with --ckpt-tap/--ckpt-ip) sends N MiB to a `sink`;
//!                 `--safepoint` calls ckpt::safepoint() after every write (nonblocking
//!                 writes of at most K KiB; `saves` counts the writes, after each of
//!                 which the safepoint saves: frames wait)
//! net_bench kernel-send --to IP:PORT [--mib N] [--chunk-kib K] [--label L]   the same, kernel TCP
//! net_bench sink --listen IP:PORT             kernel TCP receiver for one connection
//! net_bench kv-client --to IP:PORT [--requests N] [--warmup W] [--label L]
//!                 N sequential requests (SET/GET) on one kernel connection: req/s, p50/p99
//! net_bench kv-server --listen IP:PORT        the kvserver protocol on kernel TCP (baseline)
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

/// Carries the parent's CLOCK_MONOTONIC timestamp (ns) to a restored child.
const ENV_T0: &str = "NET_BENCH_T0_NS";

/// A kernel connection to `to`, retried for 10 s while the server starts (a macro: a
/// function naming std's `TcpStream` in its signature is flagged by ckpt's build analysis
/// as a place where ckpt's sockets could meet std's).
macro_rules! connect_retrying {
    ($to:expr) => {{
        let to: &str = $to;
        let t0 = now_ns();
        loop {
            match std::net::TcpStream::connect(to) {
                Ok(s) => break s,
                Err(e) => {
                    if since(t0) > 10.0 {
                        die(&format!("cannot connect to {to}: {e}"));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
        }
    }};
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_default();
    // `--only-ckpt`: no kernel baseline (for profiling ckpt's side alone).
    let only_ckpt = args.iter().any(|a| a == "--only-ckpt");
    if mode == "tput" {
        let total = opt(&args, "--mib", 1024) << 20;
        let chunk = (opt(&args, "--chunk-kib", 64) << 10) as usize;
        let ours = inproc_tput(total, chunk);
        if only_ckpt {
            report_tput("tput_inproc", total, ours);
            return;
        }
        let kernel = kernel_tput(total, chunk);
        report_tput("tput_inproc", total, ours);
        report_tput("tput_kernel_loopback", total, kernel);
        println!(
            "NETBENCH kind=tput_ratio inproc_over_kernel={:.3}",
            kernel / ours
        );
    } else if mode == "rtt" {
        let iters = opt(&args, "--iters", 100_000);
        let ours = inproc_rtt(iters);
        if only_ckpt {
            report_rtt("rtt_inproc", &ours);
            return;
        }
        let kernel = kernel_rtt(iters);
        report_rtt("rtt_inproc", &ours);
        report_rtt("rtt_kernel_loopback", &kernel);
        println!(
            "NETBENCH kind=rtt_ratio inproc_over_kernel_p50={:.3}",
            pct(&ours, 50.0) / pct(&kernel, 50.0)
        );
    } else if mode == "pause" {
        let dir = opt_str(&args, "--dir").unwrap_or_else(|| ".".to_string());
        pause_bench(
            opt(&args, "--pairs", 500),
            opt(&args, "--inflight-kib", 4),
            opt(&args, "--every", 10).max(1),
            opt(&args, "--reps", 5).max(1),
            dir,
        );
    } else if mode == "tap-send" {
        let to = opt_str(&args, "--to").unwrap_or_else(|| usage("tap-send needs --to IP:PORT"));
        let total = opt(&args, "--mib", 256) << 20;
        let chunk = (opt(&args, "--chunk-kib", 64) << 10) as usize;
        let safepoint = args.iter().any(|a| a == "--safepoint");
        let label = opt_str(&args, "--label").unwrap_or_else(|| "tap".to_string());
        let (secs, saves) = tap_send(&to, total, chunk, safepoint);
        report_send(&label, total, secs, saves);
    } else if mode == "kernel-send" {
        let to = opt_str(&args, "--to").unwrap_or_else(|| usage("kernel-send needs --to"));
        let total = opt(&args, "--mib", 256) << 20;
        let chunk = (opt(&args, "--chunk-kib", 64) << 10) as usize;
        let label = opt_str(&args, "--label").unwrap_or_else(|| "kernel".to_string());
        let secs = kernel_send(&to, total, chunk);
        report_send(&label, total, secs, 0);
    } else if mode == "sink" {
        let at = opt_str(&args, "--listen").unwrap_or_else(|| usage("sink needs --listen"));
        kernel_sink(&at);
    } else if mode == "kv-client" {
        let to = opt_str(&args, "--to").unwrap_or_else(|| usage("kv-client needs --to"));
        let label = opt_str(&args, "--label").unwrap_or_else(|| "kv".to_string());
        kv_client(
            &to,
            opt(&args, "--requests", 20_000),
            opt(&args, "--warmup", 500),
            &label,
        );
    } else if mode == "kv-server" {
        let at = opt_str(&args, "--listen").unwrap_or_else(|| usage("kv-server needs --listen"));
        kernel_kv_server(&at);
    } else {
        usage(&format!("unknown mode {mode:?}"));
    }
}

// ---------------------------------------------------------------------------------------
// In-process (ckpt's stack: these functions are checkpointable)

/// One connection, one thread: write a chunk, read it on the other end, until `total`.
/// Returns seconds.
#[ckpt::checkpointable]
fn inproc_tput(total: u64, chunk: usize) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let mut client = TcpStream::connect(addr).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    let out = pattern(chunk);
    let mut inb = vec![0u8; chunk];
    let t0 = now_ns();
    let mut sent = 0u64;
    let mut check = 0u64;
    while sent < total {
        let want = ((total - sent) as usize).min(chunk);
        let n = client.write(&out[..want]).expect("write");
        server.read_exact(&mut inb[..n]).expect("read");
        check = check.wrapping_add(u64::from(inb[n - 1]));
        sent += n as u64;
    }
    let secs = since(t0);
    drop(client);
    drop(server);
    if check == 0 {
        eprintln!("net_bench: no bytes checked");
    }
    secs
}

/// 1-byte ping-pong on one connection, one thread: per-iteration nanoseconds.
#[ckpt::checkpointable]
fn inproc_rtt(iters: u64) -> Vec<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let mut client = TcpStream::connect(addr).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    let mut b = [0u8; 1];
    let mut lat: Vec<f64> = Vec::with_capacity(iters as usize);
    let warm = iters / 10;
    let mut i = 0u64;
    while i < iters + warm {
        let t0 = now_ns();
        client.write_all(&[i as u8]).expect("ping");
        server.read_exact(&mut b).expect("ping read");
        server.write_all(&b).expect("pong");
        client.read_exact(&mut b).expect("pong read");
        let dt = now_ns() - t0;
        if i >= warm {
            lat.push(dt as f64);
        }
        i += 1;
    }
    lat
}

/// Saves with no connection, then with `pairs` connection pairs open (every `every`-th
/// client has `kib` KiB sent and not yet read), `reps` times each; then restores each
/// image `reps` times in a child process.
#[ckpt::checkpointable]
fn pause_bench(pairs: u64, kib: u64, every: u64, reps: u64, dir: String) {
    let image0 = format!("{dir}/net_bench_pause0.ckpt");
    let image = format!("{dir}/net_bench_pause.ckpt");
    let mut base: Vec<f64> = Vec::new();
    let mut r = 0u64;
    while r < reps + 1 {
        let t0 = now_ns();
        ckpt::save_to(&image0).expect("save");
        if ckpt::restored() {
            restored_child(0, &mut []);
        }
        if r > 0 {
            base.push(since(t0));
        }
        r += 1;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let mut clients: Vec<TcpStream> = Vec::new();
    let mut servers: Vec<TcpStream> = Vec::new();
    let payload = pattern((kib << 10) as usize);
    let t_open = now_ns();
    let mut i = 0u64;
    let mut inflight = 0u64;
    while i < pairs {
        let mut c = TcpStream::connect(addr).expect("connect");
        let (s, _) = listener.accept().expect("accept");
        if i % every == 0 && !payload.is_empty() {
            c.write_all(&payload).expect("write");
            inflight += payload.len() as u64;
        }
        clients.push(c);
        servers.push(s);
        i += 1;
    }
    let open_secs = since(t_open);
    let mut with: Vec<f64> = Vec::new();
    r = 0;
    while r < reps + 1 {
        let t0 = now_ns();
        ckpt::save_to(&image).expect("save");
        if ckpt::restored() {
            restored_child(kib << 10, &mut servers);
        }
        if r > 0 {
            with.push(since(t0));
        }
        r += 1;
    }
    let size0 = file_len(&image0);
    let size = file_len(&image);
    let restore0 = restores(&image0, &dir, reps);
    let restore = restores(&image, &dir, reps);
    println!(
        "NETBENCH kind=pause_noconn sockets=0 save_ms_p50={:.2} save_ms_min={:.2} image_bytes={size0} restore_ms_p50={:.2}",
        med(&base) * 1e3,
        min(&base) * 1e3,
        med(&restore0) * 1e3
    );
    println!(
        "NETBENCH kind=pause_conns pairs={pairs} sockets={} inflight_bytes={inflight} open_ms={:.1} save_ms_p50={:.2} save_ms_min={:.2} image_bytes={size} restore_ms_p50={:.2}",
        clients.len() + servers.len() + 1,
        open_secs * 1e3,
        med(&with) * 1e3,
        min(&with) * 1e3,
        med(&restore) * 1e3
    );
    println!(
        "NETBENCH kind=pause_ratio save_conns_over_noconn={:.2} restore_conns_over_noconn={:.2} added_save_us_per_socket={:.2}",
        med(&with) / med(&base),
        med(&restore) / med(&restore0),
        (med(&with) - med(&base)) * 1e6 / (2 * pairs + 1) as f64
    );
    drop(listener);
}

/// ckpt's stack on a TAP: connect to the sink, send `total` bytes, wait for its count.
/// Returns (seconds, safepoints called).
#[ckpt::checkpointable]
fn tap_send(to: &str, total: u64, chunk: usize, safepoint: bool) -> (f64, u64) {
    let t_conn = now_ns();
    let mut s = loop {
        match TcpStream::connect(to) {
            Ok(s) => break s,
            Err(e) => {
                if since(t_conn) > 10.0 {
                    die(&format!("cannot connect to {to}: {e}"));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    };
    let out = pattern(chunk);
    let t0 = now_ns();
    let mut sent = 0u64;
    let mut saves = 0u64;
    if safepoint {
        // Output commit kept exactly: a blocking write that finds the send buffer full
        // would let held frames go without an image (stack.rs `hold_blocked`), so write
        // what fits, take the safepoint (a save, then the frames leave), and poll again.
        s.set_nonblocking(true).expect("nonblocking");
    }
    while sent < total {
        let n = ((total - sent) as usize).min(chunk);
        match s.write(&out[..n]) {
            Ok(k) => {
                sent += k as u64;
                // Counted: a write's frames wait, so this safepoint saves.
                saves += u64::from(safepoint);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("write: {e}"),
        }
        if safepoint {
            ckpt::safepoint().expect("safepoint");
        }
    }
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    if safepoint {
        // The FIN, too, leaves once an image covers it.
        ckpt::safepoint().expect("safepoint");
        saves += 1;
        s.set_nonblocking(false).expect("blocking");
    }
    let mut count = [0u8; 8];
    s.read_exact(&mut count).expect("the sink's count");
    let secs = since(t0);
    let got = u64::from_le_bytes(count);
    if got != total {
        die(&format!("the sink got {got} bytes, not {total}"));
    }
    (secs, saves)
}

/// Runs in a restored process, right after the save point: the time since the parent
/// spawned it, and (with connections) whether the first in-flight bytes are still there.
fn restored_child(expect: u64, servers: &mut [ckpt::net::TcpStream]) -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0());
    let mut ok = true;
    if expect > 0 {
        let mut buf = vec![0u8; expect as usize];
        ok = servers
            .first_mut()
            .is_some_and(|s| s.read_exact(&mut buf).is_ok())
            && buf == pattern(expect as usize);
    }
    println!("NETBENCH_CHILD elapsed_ns={elapsed} ok={}", u8::from(ok));
    std::process::exit(if ok { 0 } else { 3 })
}

// ---------------------------------------------------------------------------------------
// Kernel sockets (plain functions: `std::net` is the kernel's here)

fn kernel_tput(total: u64, chunk: usize) -> f64 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let rx = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut buf = vec![0u8; chunk];
        let mut got = 0u64;
        loop {
            let n = s.read(&mut buf).expect("read");
            if n == 0 {
                return got;
            }
            got += n as u64;
        }
    });
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    let out = pattern(chunk);
    let t0 = now_ns();
    let mut sent = 0u64;
    while sent < total {
        let n = ((total - sent) as usize).min(chunk);
        c.write_all(&out[..n]).expect("write");
        sent += n as u64;
    }
    c.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let got = rx.join().expect("receiver");
    let secs = since(t0);
    assert_eq!(got, total);
    secs
}

fn kernel_rtt(iters: u64) -> Vec<f64> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let echo = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() {
            if s.write_all(&b).is_err() {
                break;
            }
        }
    });
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    let mut b = [0u8; 1];
    let warm = iters / 10;
    let mut lat = Vec::with_capacity(iters as usize);
    for i in 0..iters + warm {
        let t0 = now_ns();
        c.write_all(&[i as u8]).expect("ping");
        c.read_exact(&mut b).expect("pong");
        let dt = now_ns() - t0;
        if i >= warm {
            lat.push(dt as f64);
        }
    }
    drop(c);
    echo.join().expect("echo");
    lat
}

fn kernel_send(to: &str, total: u64, chunk: usize) -> f64 {
    let mut s = connect_retrying!(to);
    let out = pattern(chunk);
    let t0 = now_ns();
    let mut sent = 0u64;
    while sent < total {
        let n = ((total - sent) as usize).min(chunk);
        s.write_all(&out[..n]).expect("write");
        sent += n as u64;
    }
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut count = [0u8; 8];
    s.read_exact(&mut count).expect("the sink's count");
    let secs = since(t0);
    assert_eq!(u64::from_le_bytes(count), total, "the sink's count");
    secs
}

/// Receives one connection to its end, answers with the byte count (8 bytes, LE).
fn kernel_sink(at: &str) {
    let l = std::net::TcpListener::bind(at).unwrap_or_else(|e| {
        eprintln!("net_bench: sink: bind {at}: {e}");
        std::process::exit(1)
    });
    let (mut s, _) = l.accept().expect("accept");
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    let mut t0 = 0;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        if got == 0 {
            t0 = now_ns();
        }
        got += n as u64;
    }
    let secs = since(t0);
    s.write_all(&got.to_le_bytes()).expect("count");
    eprintln!(
        "net_bench: sink got {got} bytes in {secs:.3} s ({:.2} Gbit/s)",
        got as f64 * 8.0 / secs / 1e9
    );
}

/// `n` sequential requests on one connection (SET and GET alternating, 61 keys), each
/// timed from its write to its reply's newline.
fn kv_client(to: &str, n: u64, warmup: u64, label: &str) {
    let s = connect_retrying!(to);
    s.set_nodelay(true).expect("nodelay");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut w = s;
    let mut lat = Vec::with_capacity(n as usize);
    let mut line = String::new();
    let mut t_all = 0;
    for i in 0..warmup + n {
        if i == warmup {
            t_all = now_ns();
        }
        let key = (i / 2) % 61;
        let req = if i % 2 == 0 {
            format!("SET key{key} value-{i}\n")
        } else {
            format!("GET key{key}\n")
        };
        let t0 = now_ns();
        w.write_all(req.as_bytes()).expect("request");
        line.clear();
        r.read_line(&mut line).expect("reply");
        let dt = now_ns() - t0;
        let want = if i % 2 == 0 { "OK" } else { "VALUE " };
        if !line.starts_with(want) {
            eprintln!("net_bench: kv-client: reply {i} is {line:?}");
            std::process::exit(1);
        }
        if i >= warmup {
            lat.push(dt as f64);
        }
    }
    let secs = since(t_all);
    w.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    println!(
        "NETBENCH kind=kv label={label} requests={n} secs={secs:.3} req_per_s={:.0} p50_us={:.1} p99_us={:.1}",
        n as f64 / secs,
        pct(&lat, 50.0) / 1e3,
        pct(&lat, 99.0) / 1e3
    );
}

/// The kvserver protocol (SET, GET, DEL, COUNT) on kernel TCP, for one connection.
fn kernel_kv_server(at: &str) {
    let l = std::net::TcpListener::bind(at).unwrap_or_else(|e| {
        eprintln!("net_bench: kv-server: bind {at}: {e}");
        std::process::exit(1)
    });
    let (s, _) = l.accept().expect("accept");
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut writer = s;
    let mut store: std::collections::HashMap<String, String> = Default::default();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let reply = match (parts.next(), parts.next(), parts.next()) {
            (Some("SET"), Some(k), Some(v)) => {
                store.insert(k.to_string(), v.to_string());
                "OK".to_string()
            }
            (Some("GET"), Some(k), None) => match store.get(k) {
                Some(v) => format!("VALUE {v}"),
                None => "NONE".to_string(),
            },
            (Some("DEL"), Some(k), None) => {
                format!("DELETED {}", u8::from(store.remove(k).is_some()))
            }
            (Some("COUNT"), None, None) => format!("COUNT {}", store.len()),
            _ => "ERROR".to_string(),
        } + "\n";
        writer.write_all(reply.as_bytes()).expect("reply");
    }
}

// ---------------------------------------------------------------------------------------
// Helpers (plain)

fn usage(msg: &str) -> ! {
    eprintln!("net_bench: {msg}\nusage: net_bench tput|rtt|pause|tap-send|kernel-send|sink|kv-client|kv-server [options] (see the file's header)");
    std::process::exit(2)
}

fn die(msg: &str) -> ! {
    eprintln!("net_bench: {msg}");
    std::process::exit(1)
}

fn opt_str(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn opt(args: &[String], name: &str, default: u64) -> u64 {
    match opt_str(args, name) {
        None => default,
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| usage(&format!("{name} wants a number, not {v:?}"))),
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 + 1).collect()
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn since(t0: u64) -> f64 {
    now_ns().saturating_sub(t0) as f64 / 1e9
}

fn pct(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}

fn med(xs: &[f64]) -> f64 {
    pct(xs, 50.0)
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn report_tput(kind: &str, bytes: u64, secs: f64) {
    println!(
        "NETBENCH kind={kind} bytes={bytes} secs={secs:.3} gbit_per_s={:.2}",
        bytes as f64 * 8.0 / secs / 1e9
    );
}

fn report_rtt(kind: &str, lat: &[f64]) {
    println!(
        "NETBENCH kind={kind} iters={} p50_us={:.2} p99_us={:.2}",
        lat.len(),
        pct(lat, 50.0) / 1e3,
        pct(lat, 99.0) / 1e3
    );
}

fn report_send(label: &str, bytes: u64, secs: f64, saves: u64) {
    println!(
        "NETBENCH kind=send label={label} bytes={bytes} secs={secs:.3} gbit_per_s={:.3} saves={saves}",
        bytes as f64 * 8.0 / secs / 1e9
    );
}

fn file_len(p: &str) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn parent_t0() -> u64 {
    std::env::var(ENV_T0)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("net_bench: {ENV_T0} is not set: this restore is started by `pause`");
            std::process::exit(2)
        })
}

/// Restores `image` `reps` times in a child (saving elsewhere): seconds from spawn to the
/// child's first line after the save point.
fn restores(image: &str, dir: &str, reps: u64) -> Vec<f64> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut v = Vec::new();
    for _ in 0..reps {
        let mut cmd = Command::new(&exe);
        cmd.args(["--restore", image, "--ckpt-file"])
            .arg(format!("{dir}/net_bench_restored.ckpt"))
            .env(ENV_T0, now_ns().to_string())
            .env("CKPT_ENV", "current")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let out = cmd.output().expect("spawn the restore");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("NETBENCH_CHILD"));
        let ns = line
            .filter(|l| l.contains("ok=1") && out.status.success())
            .and_then(|l| {
                l.split_whitespace()
                    .find_map(|kv| kv.strip_prefix("elapsed_ns="))
            })
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| {
                eprintln!(
                    "net_bench: the restore of {image} failed ({}): {text:?}",
                    out.status
                );
                std::process::exit(1)
            });
        v.push(ns as f64 / 1e9);
    }
    v
}
