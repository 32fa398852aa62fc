//! A UDP echo service whose count of datagrams survives a kill -9.
//!
//! Every datagram is sent back to where it came from, prefixed with its running number
//! and a space (`"17 hello"` for the 17th datagram `hello`), so a client can check the
//! replies. The server counts the datagrams and the bytes both ways and folds every
//! datagram into a checksum. It saves every `--every N` datagrams (default 100) and
//! whenever replies wait to leave (`ckpt::safepoint()` after each reply: on a TAP a reply
//! leaves only once an image covers the count that numbered it, so after a restore the
//! numbers a client sees keep going up).
//!
//! ```text
//! # as root, a TAP device ckpt0 whose kernel side is 198.51.100.1/24:
//! cargo run --release --example echo_udp -- --ckpt-tap ckpt0 --ckpt-ip 198.51.100.2/24
//! echo hello | nc -u -w1 198.51.100.2 7979        # from the kernel side: "1 hello"
//! kill -9 <pid>; cargo run --release --example echo_udp -- --restore echo_udp.ckpt
//! ```
//! `--port P` listens on port P (default 7979); `--count N` ends after N datagrams with a
//! `result:` line (default: serve forever).

use std::net::UdpSocket;

/// FNV-1a over the datagrams, in the order they came, each ended by a 0xff byte.
fn fold(mut h: u64, datagram: &[u8]) -> u64 {
    for b in datagram.iter().copied().chain([0xff]) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h
}

fn flag(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port = flag(&args, "--port").unwrap_or(7979) as u16;
    let every = flag(&args, "--every").unwrap_or(100).max(1);
    let count = flag(&args, "--count").unwrap_or(0);
    let socket = UdpSocket::bind(("0.0.0.0", port))?;
    eprintln!("echo_udp: listening on {}", socket.local_addr()?);
    let mut buf = vec![0u8; 2048];
    let mut datagrams = 0u64;
    let mut bytes_in = 0u64;
    let mut bytes_out = 0u64;
    let mut checksum = 0xcbf29ce484222325u64;
    while count == 0 || datagrams < count {
        let (n, peer) = socket.recv_from(&mut buf)?;
        datagrams += 1;
        bytes_in += n as u64;
        checksum = fold(checksum, &buf[..n]);
        let mut reply = format!("{datagrams} ").into_bytes();
        reply.extend_from_slice(&buf[..n]);
        bytes_out += socket.send_to(&reply, peer)? as u64;
        if datagrams % every == 0 {
            ckpt::save().expect("checkpoint");
        }
        ckpt::safepoint().expect("checkpoint");
    }
    println!(
        "result: datagrams {datagrams} bytes in {bytes_in} out {bytes_out} checksum {checksum:016x}"
    );
    Ok(())
}
