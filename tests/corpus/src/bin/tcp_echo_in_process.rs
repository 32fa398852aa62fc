//! A server and a client in one program over TCP on 127.0.0.1: the client sends lines,
//! a helper relays each from the server's reader back to the client, and the client
//! checks what comes back; a save after every line keeps connections with bytes on
//! their way.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

#[ckpt::checkpointable]
fn relay(from: &mut BufReader<TcpStream>, to: &mut TcpStream) -> std::io::Result<usize> {
    let mut line = String::new();
    let n = from.read_line(&mut line)?;
    to.write_all(line.to_uppercase().as_bytes())?;
    Ok(n)
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:7400")?;
    let mut client = TcpStream::connect("127.0.0.1:7400")?;
    let (server_side, peer) = listener.accept()?;
    println!("accepted a connection from port {}", peer.port() >= 49152);
    let mut reader = BufReader::new(server_side.try_clone()?);
    let mut echo = server_side;
    let mut back = BufReader::new(client.try_clone()?);
    let mut relayed = 0;
    for i in 0..25 {
        writeln!(client, "line {i} {}", "abc".repeat(i % 4))?;
        ckpt::save().expect("checkpoint");
        relayed += relay(&mut reader, &mut echo)?;
        let mut got = String::new();
        back.read_line(&mut got)?;
        print!("{got}");
        ckpt::save().expect("checkpoint");
    }
    println!("relayed {relayed} bytes");
    Ok(())
}
