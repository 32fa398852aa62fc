//! The network stack in user space (feature `net`): [`TcpListener`], [`TcpStream`] and
//! [`UdpSocket`] with std's signatures, over a real TCP/IP stack (smoltcp) that runs
//! inside the program, so its whole state — every connection with the bytes on their
//! way — is part of the image.
//!
//! Inside `#[checkpointable]` code `std::net` means this module. Without the feature this
//! module is `std::net` itself.
//!
//! **Mediums.** By default the stack is *in-process*: the program's sockets reach each
//! other over a loopback interface (127.0.0.0/8), both ends of every connection are in
//! the image, and a restore reconnects them. With a TAP device (`--ckpt-tap NAME
//! --ckpt-ip ADDR/PREFIX`, optionally `--ckpt-gateway ADDR` and `--ckpt-mac MAC`; or
//! `CKPT_TAP`, `CKPT_IP`, `CKPT_GATEWAY`, `CKPT_MAC`) the stack is a host on that
//! device's network, and its peers are ordinary programs on the Linux kernel's TCP: an
//! established connection survives a kill and a restore in a new process without the
//! peer noticing. A helper process keeps the TAP open while the program is down.
//!
//! **Output commit.** On a TAP, a frame leaves only once an image covers the state that
//! produced it (`--ckpt-net-commit=save`, the default): the stack asks for a checkpoint
//! whenever frames wait, and the next `ckpt::safepoint()` or save point takes it. A
//! program that blocks on the network with frames waiting lets them go and says so once;
//! `--ckpt-net-commit=none` sends at once.
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use ckpt::net::{TcpListener, TcpStream};
//!
//! let server = TcpListener::bind("127.0.0.1:0").unwrap();
//! let addr = server.local_addr().unwrap();
//! let mut client = TcpStream::connect(addr).unwrap();
//! client.write_all(b"hello\n").unwrap();
//! let (conn, peer) = server.accept().unwrap();
//! assert_eq!(peer, client.local_addr().unwrap());
//! let mut line = String::new();
//! BufReader::new(conn).read_line(&mut line).unwrap();
//! assert_eq!(line, "hello\n");
//! ```

#[cfg(not(feature = "net"))]
pub use std::net::*;

#[cfg(feature = "net")]
pub(crate) mod component;
pub(crate) mod config;
#[cfg(feature = "net")]
pub(crate) mod repair;
#[cfg(feature = "net")]
pub(crate) mod stack;
#[cfg(feature = "net")]
pub(crate) mod tap;
#[cfg(feature = "net")]
mod tcp;
#[cfg(feature = "net")]
mod udp;

#[cfg(feature = "net")]
pub use std::net::{
    AddrParseError, IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6,
    ToSocketAddrs,
};
#[cfg(feature = "net")]
pub use tcp::{Incoming, TcpListener, TcpStream};
#[cfg(feature = "net")]
pub use udp::UdpSocket;

#[cfg(feature = "net")]
pub use config::{Commit, RelayPolicy};

/// Whether frames leave only once an image covers them (a TAP with
/// `--ckpt-net-commit=save`): they wait for a durable image either way, so saves are
/// written before the program goes on.
#[cfg(feature = "net")]
pub(crate) fn commits_output() -> bool {
    stack::lock()
        .as_ref()
        .is_some_and(|st| st.dev.hold && matches!(st.dev.link, stack::Link::Tap(_)))
}

/// The number of frames held back when an image is taken: the ones it covers.
#[cfg(feature = "net")]
pub(crate) fn held() -> usize {
    stack::lock().as_ref().map_or(0, |st| st.dev.held.len())
}

/// After an image is committed: the first `covered` frames held (the ones held when it
/// was taken, see [`held`]) leave; frames sent since wait for the next image.
#[cfg(feature = "net")]
pub(crate) fn saved(covered: usize) {
    let mut g = stack::lock();
    if let Some(st) = g.as_mut() {
        st.covered = std::mem::take(&mut st.covering);
        st.dev.release_first(covered);
    }
}
