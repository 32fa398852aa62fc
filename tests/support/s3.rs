//! moto's S3 server (`python3 -m moto.server`, installed by `scripts/install-deps.sh`) on
//! a free port of loopback, for the object storage test and benchmark: started with a
//! bucket, killed and reaped on drop. Only std, so that an example can include it too.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 request without a body to `port` on loopback: its status code and the
/// whole response.
pub fn request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.get(9..12)?.parse().ok()?;
    Some((code, text))
}

/// The S3 server and its bucket.
pub struct Server {
    pub port: u16,
    pub bucket: String,
    proc: Child,
}

impl Server {
    /// Starts the server and creates `bucket` (unsigned requests: moto takes them).
    /// Panics, saying how to install it, if it does not answer within 60 s.
    pub fn start(bucket: &str) -> Server {
        let port = free_port();
        let proc = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 for moto's S3 server");
        let mut server = Server {
            port,
            bucket: bucket.to_string(),
            proc,
        };
        let t0 = Instant::now();
        while request(port, "GET", "/").is_none() {
            let ended = server.proc.try_wait().ok().flatten().is_some();
            assert!(
                !ended && t0.elapsed() < Duration::from_secs(60),
                "FAILED: moto's S3 server did not start (python3 -m moto.server); \
                 scripts/install-deps.sh installs it: pip install 'moto[server]'"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let made = request(port, "PUT", &format!("/{bucket}")).map(|r| r.0);
        assert_eq!(made, Some(200), "FAILED: the bucket is created");
        server
    }

    /// Whether the object `key` is in the bucket (listed: the objects are private).
    pub fn exists(&self, key: &str) -> bool {
        request(self.port, "GET", &format!("/{}?prefix={key}", self.bucket))
            .is_some_and(|(code, body)| code == 200 && body.contains(&format!("<Key>{key}</Key>")))
    }
}

/// The environment of an S3 client of the server at `port` (moto checks no credentials).
pub fn client_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}
