//! The book's single-threaded web server, with its clients in the same program: a
//! `for stream in listener.incoming()` loop hands each connection to
//! `handle_connection(mut stream: TcpStream)`, which reads the request line through a
//! `BufReader` over `&stream` and writes a response; a save after every request.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

#[ckpt::checkpointable]
fn handle_connection(mut stream: TcpStream) {
    let buf_reader = BufReader::new(&stream);
    let request_line = buf_reader.lines().next().unwrap().unwrap();
    let (status_line, contents) = if request_line.starts_with("GET / ") {
        ("HTTP/1.1 200 OK", "<h1>Hello!</h1>".to_string())
    } else {
        (
            "HTTP/1.1 404 NOT FOUND",
            format!("<p>no {request_line}</p>"),
        )
    };
    let length = contents.len();
    let response = format!("{status_line}\r\nContent-Length: {length}\r\n\r\n{contents}");
    stream.write_all(response.as_bytes()).unwrap();
}

#[ckpt::checkpointable]
fn main() {
    let listener = TcpListener::bind("127.0.0.1:7878").unwrap();
    let paths = ["/", "/missing", "/", "/about", "/", "/index.html"];
    let mut clients = Vec::new();
    for path in paths {
        let mut client = TcpStream::connect("127.0.0.1:7878").unwrap();
        write!(client, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        clients.push(client);
    }
    let mut served = 0;
    for stream in listener.incoming() {
        let stream = stream.unwrap();
        handle_connection(stream);
        served += 1;
        ckpt::save().unwrap();
        println!("served {served}");
        if served == paths.len() {
            break;
        }
    }
    for (path, client) in paths.iter().zip(clients) {
        let mut reader = BufReader::new(client);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        println!("{path}: {}", status.trim_end());
    }
}
