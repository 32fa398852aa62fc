//! A chat room: a server and its members in one program, talking over TCP on the
//! in-process network (`std::net` is ckpt's user-space stack inside checkpointable code).
//!
//! Every round one member says something; the server reads it from that member's
//! connection and relays it to everyone; every member reads the relayed line. The server
//! keeps a transcript and the members count what they heard. A checkpoint after each
//! round holds the connections with whatever was on its way, so a run killed with
//! SIGKILL and restored goes on with the same conversation.
//!
//! ```text
//! cargo run --example chat -- --rounds 300
//! kill -9 <pid>; cargo run --example chat -- --restore chat.ckpt
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

const NAMES: [&str; 4] = ["ada", "grace", "linus", "barbara"];

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rounds: u32 = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let pause_ms: u64 = std::env::var("CHAT_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);

    let server = TcpListener::bind("127.0.0.1:6000")?;
    // What the server knows of each member: name, connection, how often they spoke.
    let mut names: Vec<String> = Vec::new();
    let mut readers: Vec<BufReader<TcpStream>> = Vec::new();
    let mut conns: Vec<TcpStream> = Vec::new();
    let mut said: Vec<u32> = Vec::new();
    let mut clients: Vec<TcpStream> = Vec::new();
    for name in NAMES {
        let mut client = TcpStream::connect("127.0.0.1:6000")?;
        client.set_nodelay(true)?;
        writeln!(client, "{name}")?;
        let (conn, _) = server.accept()?;
        let mut reader = BufReader::new(conn.try_clone()?);
        let mut hello = String::new();
        reader.read_line(&mut hello)?;
        names.push(hello.trim().to_string());
        readers.push(reader);
        conns.push(conn);
        said.push(0);
        clients.push(client);
    }
    let mut listeners: Vec<BufReader<TcpStream>> = Vec::new();
    for c in &clients {
        listeners.push(BufReader::new(c.try_clone()?));
    }
    println!("{} members joined", names.len());

    let mut heard = vec![0u64; clients.len()];
    let mut transcript_hash = 0u64;
    let mut round = 0u32;
    while round < rounds {
        let who = (round as usize * 7 + round as usize / 3) % clients.len();
        writeln!(
            clients[who],
            "message {round}: {} says {}",
            NAMES[who],
            "hello ".repeat(1 + (round as usize % 5))
        )?;
        // A checkpoint with the line on its way to the server.
        if round % 3 == 1 {
            ckpt::save().expect("checkpoint");
        }

        // The server relays what the member said to everyone.
        let mut line = String::new();
        readers[who].read_line(&mut line)?;
        said[who] += 1;
        let relayed = format!("<{}> {}", names[who], line);
        for conn in conns.iter_mut() {
            conn.write_all(relayed.as_bytes())?;
        }
        transcript_hash = transcript_hash
            .wrapping_mul(0x100000001b3)
            .wrapping_add(relayed.len() as u64);
        // ... and one with the relayed line on its way to every member.
        if round % 3 == 2 {
            ckpt::save().expect("checkpoint");
        }

        // Every member hears it.
        for (i, l) in listeners.iter_mut().enumerate() {
            let mut got = String::new();
            l.read_line(&mut got)?;
            assert_eq!(got, relayed, "member {i} heard something else");
            heard[i] += got.len() as u64;
        }
        print!("{relayed}");
        std::io::stdout().flush()?;
        round += 1;
        ckpt::save().expect("checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
    }
    for (name, n) in names.iter().zip(&said) {
        println!("{name} said {n} things");
    }
    println!("result: rounds {round} heard {heard:?} transcript {transcript_hash:016x}");
    Ok(())
}
