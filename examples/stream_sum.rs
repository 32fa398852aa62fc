//! A client that streams numbers to a service and checks the numbers it streams back,
//! over one TCP connection that outlives kill -9.
//!
//! It connects to `--server ADDR`, sends `--bytes N` bytes of big-endian u64 counters
//! (starting at 2^40) while reading the service's own counter stream (starting at 2^50)
//! and checking every byte at its offset, then closes its side and reads to the end.
//! It saves every 64 chunks and at its `ckpt::safepoint()`s, so on a TAP (`--ckpt-tap`)
//! it is the connecting side of a connection that survives kills and restores; without
//! one, the service must be in the same program's in-process network.
//!
//! ```text
//! cargo run --example stream_sum -- --server 198.51.100.1:9000 --bytes 4000000 \
//!     --ckpt-tap ckpt0 --ckpt-ip 198.51.100.2/24
//! ```

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

const OUT_BASE: u64 = 1 << 40;
const IN_BASE: u64 = 1 << 50;

/// The byte at stream offset `at` of the counter stream starting at `base`.
fn byte_at(base: u64, at: u64) -> u8 {
    (base + at / 8).to_be_bytes()[(at % 8) as usize]
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let server = flag(&args, "--server").unwrap_or_else(|| "127.0.0.1:9000".to_string());
    let total: u64 = flag(&args, "--bytes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 22);
    let mut stream = TcpStream::connect(server.as_str())?;
    stream.set_nonblocking(true)?;
    eprintln!("stream_sum: connected to {server}");

    let mut sent = 0u64;
    let mut received = 0u64;
    let mut closed = false;
    let mut eof = false;
    let mut chunks = 0u64;
    let mut idle = 0u32;
    let mut buf = vec![0u8; 16384];
    while !(eof && closed) {
        let mut moved = false;
        if sent < total {
            let n = (total - sent).min(4096) as usize;
            let chunk: Vec<u8> = (0..n as u64).map(|i| byte_at(OUT_BASE, sent + i)).collect();
            match stream.write(&chunk) {
                Ok(k) => {
                    sent += k as u64;
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        } else if !closed {
            stream.shutdown(std::net::Shutdown::Write)?;
            closed = true;
        }
        match if eof { Ok(0) } else { stream.read(&mut buf) } {
            Ok(0) => eof = true,
            Ok(n) => {
                for (i, b) in buf[..n].iter().enumerate() {
                    let at = received + i as u64;
                    if *b != byte_at(IN_BASE, at) {
                        panic!(
                            "byte {at} of the service's stream is {b:#x}, not {:#x}",
                            byte_at(IN_BASE, at)
                        );
                    }
                }
                received += n as u64;
                moved = true;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if moved {
            chunks += 1;
            idle = 0;
            if chunks % 64 == 0 {
                ckpt::save().expect("checkpoint");
            }
        } else {
            idle += 1;
            std::thread::sleep(std::time::Duration::from_millis(u64::from(idle.min(5))));
        }
        ckpt::safepoint().expect("checkpoint");
    }
    println!("result: sent {sent} received {received}");
    Ok(())
}
