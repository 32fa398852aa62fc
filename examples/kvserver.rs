//! A key-value server over TCP whose clients keep their connection across a kill -9.
//!
//! One request per line: `SET key value` → `OK`, `GET key` → `VALUE value` or `NONE`,
//! `DEL key` → `DELETED n`, `COUNT` → `COUNT n`, `SUM` → `SUM checksum` of the whole
//! store. It saves every `--every N` requests (default 100) and whenever replies wait
//! to leave (`ckpt::safepoint()` after each reply: on a TAP a reply leaves only once an
//! image covers it, so a restore never forgets a request the client saw answered).
//!
//! ```text
//! # as root, a TAP device ckpt0 whose kernel side is 198.51.100.1/24:
//! cargo run --release --example kvserver -- --ckpt-tap ckpt0 --ckpt-ip 198.51.100.2/24
//! kill -9 <pid>; cargo run --release --example kvserver -- --restore kvserver.ckpt
//! ```
//! `--connections N` ends after N clients (default: serve forever).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn checksum(store: &HashMap<String, String>) -> u64 {
    // Order-free: a sum of per-entry hashes.
    store
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

fn answer(store: &mut HashMap<String, String>, request: &str) -> String {
    let mut parts = request.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("SET"), Some(k), Some(v)) => {
            store.insert(k.to_string(), v.to_string());
            "OK".to_string()
        }
        (Some("GET"), Some(k), None) => match store.get(k) {
            Some(v) => format!("VALUE {v}"),
            None => "NONE".to_string(),
        },
        (Some("DEL"), Some(k), None) => format!("DELETED {}", u8::from(store.remove(k).is_some())),
        (Some("COUNT"), None, None) => format!("COUNT {}", store.len()),
        (Some("SUM"), None, None) => format!("SUM {:016x}", checksum(store)),
        _ => format!("ERROR unknown request {request:?}"),
    }
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
    let port = flag(&args, "--port").unwrap_or(7878) as u16;
    let every = flag(&args, "--every").unwrap_or(100).max(1);
    let connections = flag(&args, "--connections").unwrap_or(0);
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    eprintln!("kvserver: listening on {}", listener.local_addr()?);
    let mut store: HashMap<String, String> = HashMap::new();
    let mut served = 0u64;
    let mut handled = 0u64;
    while connections == 0 || handled < connections {
        let (stream, peer) = listener.accept()?;
        eprintln!("kvserver: client {peer}");
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut writer = stream;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let reply = answer(&mut store, line.trim_end()) + "\n";
            writer.write_all(reply.as_bytes())?;
            served += 1;
            if served % every == 0 {
                ckpt::save().expect("checkpoint");
            }
            ckpt::safepoint().expect("checkpoint");
        }
        handled += 1;
        ckpt::safepoint().expect("checkpoint");
    }
    println!("result: served {served} requests");
    Ok(())
}
