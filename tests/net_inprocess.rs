//! The in-process network (no privileges): connections between a program's own sockets
//! survive SIGKILL and restore with the bytes that were on their way.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test net_inprocess` alone).

mod support;

use std::fs;

use support::*;

const IMAGE: &str = "chat.ckpt";

/// The chat example (a server relaying lines between four members, checkpoints with lines
/// in flight both ways) killed at random moments six times per round and restored: the
/// whole conversation, byte for byte, equals an uninterrupted run's.
#[test]
fn chat_survives_repeated_sigkill_byte_for_byte() {
    let bin = example("chat");
    let run = FileRun {
        bin: &bin,
        dir: std::path::Path::new("."),
        stdout_file: "out.txt",
        stdin_file: None,
    };
    let (clean, rounds) = kill_restore_files(&run, &["--rounds", "150"], IMAGE, 2, None);
    let base = fs::read_to_string(clean.path().join("out.txt")).unwrap();
    assert!(base.contains("result: rounds 150"), "{base}");
    assert_eq!(base.lines().count(), 150 + 6);
    for (i, dir) in rounds.iter().enumerate() {
        let out = fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert!(out == base, "round {i}: the conversation differs:\n{out}");
    }
}

/// Wrong network options are usage errors that name the option and what it expects,
/// before the program runs.
#[test]
fn bad_network_options_are_usage_errors() {
    let bin = example("chat");
    let dir = TempDir::new("chat-bad-options");
    for (args, says) in [
        (&["--ckpt-ip", "300.1.2.3/24"][..], "is not an IPv4 address"),
        (&["--ckpt-ip", "198.51.100.2"], "ADDRESS/PREFIX"),
        (&["--ckpt-ip", "198.51.100.2/40"], "prefix length"),
        (&["--ckpt-mac", "01:00:00:00:00:01"], "multicast"),
        (&["--ckpt-mac", "02:00"], "six bytes"),
        (&["--ckpt-tap", "a/b"], "TAP device"),
        (&["--ckpt-net-commit=maybe"], "`save`"),
        (&["--ckpt-net-relay=sometimes"], "`reconnect`"),
    ] {
        let out = run(&bin, args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?} ran the program");
    }
    // A TAP needs the program's address on it.
    let out = run(&bin, &["--ckpt-tap", "ckt9"], dir.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--ckpt-ip"), "{}", stderr(&out));
}

/// A checkpoint requested while the program waits on the network is taken there: kvserver
/// waiting in `accept` for a client that never comes saves and exits on SIGTERM, and so
/// does its restore, which waits in `accept` again.
#[test]
fn sigterm_while_waiting_in_accept_checkpoints_there() {
    let bin = example("kvserver");
    let dir = TempDir::new("kvserver-sigterm");
    for (i, args) in [&["--port", "7990"][..], &["--restore", "kvserver.ckpt"][..]]
        .iter()
        .enumerate()
    {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(*args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = support::Running::spawn(&mut cmd);
        // Waiting in accept: nothing else happens.
        std::thread::sleep(std::time::Duration::from_millis(400));
        child.signal(libc::SIGTERM);
        let out = child.finish(std::time::Duration::from_secs(20));
        let err = stderr(&out);
        assert!(out.status.success(), "run {i}: {err}");
        assert!(err.contains("checkpoint saved"), "run {i}: {err}");
    }
}
