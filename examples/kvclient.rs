//! A client of a key-value service outside the program: without a TAP device its
//! connection goes through the host relay (a kernel socket), so it reaches any service
//! on the machine. It prints every reply and saves after each one.
//!
//! A kernel connection cannot outlive the process, so a restore follows the relay
//! policy: `--ckpt-net-relay=error` (the default) makes the connection fail with a
//! message that says so; `--ckpt-net-relay=reconnect` connects again, which suits this
//! request/reply protocol: the restored run sends the next request on a new connection.
//!
//! ```text
//! cargo run --example kvclient -- --server 127.0.0.1:7878 --requests 100 --ckpt-net-relay=reconnect
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let server = value_of("--server").unwrap_or_else(|| "127.0.0.1:7878".to_string());
    let requests: u32 = value_of("--requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let pause = std::time::Duration::from_millis(
        value_of("--pause-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    );

    let stream = TcpStream::connect(server.as_str())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut reply = String::new();
    for i in 0..requests {
        let key = format!("k{}", i % 17);
        let request = if i % 3 == 2 {
            format!("GET {key}")
        } else {
            format!("SET {key} v{i}")
        };
        writer.write_all(format!("{request}\n").as_bytes())?;
        reply.clear();
        if reader.read_line(&mut reply)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the service closed the connection",
            ));
        }
        println!("{i:4} {request:<12} -> {}", reply.trim_end());
        ckpt::save().expect("checkpoint");
        std::thread::sleep(pause);
    }
    println!("result: {requests} requests answered");
    Ok(())
}
