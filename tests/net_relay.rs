//! The host relay: without a TAP device, a connection to a host outside the program goes
//! through a kernel socket, and a restore follows the stated policy (`reconnect` or
//! `error`), never a silent break. No privileges needed: the services here are kernel
//! sockets on 127.0.0.1 in this test process.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test net_relay` alone).

mod support;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::*;

/// A key-value service on the kernel's TCP (127.0.0.1, an ephemeral port), one thread per
/// connection, one store for all: returns its address and its connection count.
fn kernel_kv_service() -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let conns = Arc::new(AtomicU64::new(0));
    let store = Arc::new(Mutex::new(HashMap::<String, String>::new()));
    let counter = conns.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            let store = store.clone();
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                for line in BufReader::new(s).lines() {
                    let Ok(line) = line else { return };
                    let parts: Vec<&str> = line.splitn(3, ' ').collect();
                    let reply = match parts.as_slice() {
                        ["SET", k, v] => {
                            store.lock().unwrap().insert(k.to_string(), v.to_string());
                            "OK".to_string()
                        }
                        ["GET", k] => match store.lock().unwrap().get(*k) {
                            Some(v) => format!("VALUE {v}"),
                            None => "NONE".into(),
                        },
                        _ => "ERROR".into(),
                    };
                    if w.write_all(format!("{reply}\n").as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, conns)
}

/// `--ckpt-net-relay=reconnect`: kvclient killed at random moments and restored talks to
/// the same service over new connections, and prints exactly what an uninterrupted run
/// prints.
#[test]
fn relay_reconnect_policy_keeps_a_request_reply_client_going() {
    let (clean_addr, _) = kernel_kv_service();
    let (addr, conns) = kernel_kv_service();
    let bin = example("kvclient");
    let run = FileRun {
        bin: &bin,
        dir: std::path::Path::new("."),
        stdout_file: "out.txt",
        stdin_file: None,
    };
    // Both runs must see the same service state: the clean run gets its own service.
    let clean_args = [
        "--server",
        clean_addr.as_str(),
        "--requests",
        "800",
        "--ckpt-net-relay=reconnect",
    ];
    let clean = TempDir::new("kvclient-clean");
    let base = run_to_end(&bin, &clean_args, clean.path());
    let args = [
        "--server",
        addr.as_str(),
        "--requests",
        "800",
        "--ckpt-net-relay=reconnect",
    ];
    // The killed runs get a service of their own (its store starts empty, as the clean
    // run's did): kill at random moments, restore appending to the same output file.
    let dir = TempDir::new("kvclient-killed");
    let run = FileRun {
        dir: dir.path(),
        ..run
    };
    let mut m = Moments::new();
    let mut kills = 0;
    let mut child = run.start(&args, false, &[]);
    while kills < 6 {
        std::thread::sleep(Duration::from_millis(m.next_ms(60, 300)));
        assert!(
            child.try_wait().is_none(),
            "kvclient ended after {kills} kills"
        );
        drop(child.kill());
        if dir.path().join("kvclient.ckpt").exists() {
            kills += 1;
            child = run.start(&["--restore", "kvclient.ckpt"], true, &[]);
        } else {
            child = run.start(&args, false, &[]);
        }
    }
    let last = child.finish(Duration::from_secs(60));
    assert!(last.status.success(), "{}", stderr(&last));
    let out = fs::read_to_string(dir.path().join("out.txt")).unwrap();
    assert!(base.contains("result: 800 requests answered"), "{base}");
    assert!(
        out == base,
        "the restored runs printed something else:\n{out}"
    );
    assert!(
        conns.load(Ordering::SeqCst) >= 6,
        "the restores did not connect again"
    );
}

fn run_to_end(bin: &std::path::Path, args: &[&str], dir: &std::path::Path) -> String {
    let out = run(bin, args, dir);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// The default policy (`error`): the restored connection fails, saying what happened
/// and what to run instead.
#[test]
fn relay_error_policy_fails_clearly_after_a_restore() {
    let (addr, _) = kernel_kv_service();
    let bin = example("kvclient");
    let dir = TempDir::new("kvclient-error");
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["--server", &addr, "--requests", "1000", "--pause-ms", "5"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    kill_once_saved(
        &mut cmd,
        &dir.path().join("kvclient.ckpt"),
        Duration::from_secs(30),
    );
    let out = run(&bin, &["--restore", "kvclient.ckpt"], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains("--ckpt-net-relay=reconnect"),
        "{err}"
    );
}

/// stream_sum through the relay to a kernel-side service, uninterrupted: every byte
/// checked both ways (the relay is a plain pass-through).
#[test]
fn stream_sum_reaches_a_kernel_service_through_the_relay() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let service = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let data: Vec<u8> = (0..100_000u64)
                .map(|i| ((1u64 << 50) + i / 8).to_be_bytes()[(i % 8) as usize])
                .collect();
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        let mut r = s;
        r.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        got
    });
    let dir = TempDir::new("stream-sum-relay");
    let out = run(
        &example("stream_sum"),
        &["--server", &addr, "--bytes", "200000"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        result_line(&stdout(&out)),
        "result: sent 200000 received 100000"
    );
    let got = service.join().unwrap();
    assert_eq!(got.len(), 200_000);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, b)| *b == ((1u64 << 40) + i as u64 / 8).to_be_bytes()[i % 8]));
}
