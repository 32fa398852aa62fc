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
