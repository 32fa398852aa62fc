//! `UdpSocket` with std's signatures, over the stack.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use smoltcp::socket::udp;

use super::stack::{self, Kind, Sock, Stack, Udp};
use crate::error::Error;
use crate::state::{Encoder, Loader, State, Value};

/// A UDP socket: [`std::net::UdpSocket`] on ckpt's user-space stack. A socket saved in a
/// program's variables is bound again after a restore with the datagrams it had
/// received and not yet read.
///
/// ```
/// use ckpt::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:7100").unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0").unwrap();
/// b.send_to(b"hello", "127.0.0.1:7100").unwrap();
/// let mut buf = [0; 16];
/// let (n, from) = a.recv_from(&mut buf).unwrap();
/// assert_eq!(&buf[..n], b"hello");
/// assert_eq!(from, b.local_addr().unwrap());
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    id: u64,
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "ckpt::net: this socket is no longer open",
    )
}

fn udp_mut(st: &mut Stack, id: u64) -> Option<(&mut Sock, &mut udp::Socket<'static>)> {
    let s = st.socks.get_mut(&id)?;
    let Kind::Udp(u) = &s.kind else {
        return None;
    };
    let h = u.h;
    Some((s, st.set.get_mut::<udp::Socket>(h)))
}

fn udp_of(s: &mut Sock) -> &mut Udp {
    match &mut s.kind {
        Kind::Udp(u) => u,
        _ => unreachable!("checked by udp_mut"),
    }
}

/// The address `a` names (an IPv4 one if it names several, as `localhost` may: the stack
/// speaks IPv4).
fn first_addr<A: ToSocketAddrs>(a: A) -> io::Result<SocketAddr> {
    let all: Vec<SocketAddr> = a.to_socket_addrs()?.collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any addresses",
            )
        })
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (port 0: an ephemeral port).
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let a = first_addr(addr)?;
        let id = stack::with(|st| -> io::Result<u64> {
            let local = st.claim(a, false)?;
            let mut s = Stack::udp_socket();
            s.bind(stack::listen_endpoint(local))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}")))?;
            let h = st.set.add(s);
            Ok(st.add(Sock::new(Kind::Udp(Udp {
                h,
                local,
                peer: None,
                queue: Default::default(),
                queued_bytes: 0,
            }))))
        })??;
        Ok(UdpSocket { id })
    }

    /// Receives one datagram; a datagram longer than `buf` is cut to it, as in std.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.take(buf, false, false)
    }

    /// Like [`recv_from`](Self::recv_from), leaving the datagram queued.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.take(buf, true, false)
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.take(buf, false, true).map(|(n, _)| n)
    }

    /// Like [`recv`](Self::recv), leaving the datagram queued.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.take(buf, true, true).map(|(n, _)| n)
    }

    fn take(&self, buf: &mut [u8], peek: bool, connected: bool) -> io::Result<(usize, SocketAddr)> {
        let id = self.id;
        let (nb, to) = self.flags(|s| (s.nonblocking, s.read_timeout))?;
        stack::block(nb, to, |st| {
            let Some((s, _)) = udp_mut(st, id) else {
                return Some(Err(closed()));
            };
            let u = udp_of(s);
            if connected && u.peer.is_none() {
                return Some(Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the socket is not connected",
                )));
            }
            loop {
                let (data, from) = u.queue.front()?;
                if connected && Some(*from) != u.peer {
                    // Datagrams from others are dropped on a connected socket.
                    let (d, _) = u.queue.pop_front()?;
                    u.queued_bytes -= d.len();
                    continue;
                }
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                let from = *from;
                if !peek {
                    let (d, _) = u.queue.pop_front()?;
                    u.queued_bytes -= d.len();
                }
                return Some(Ok((n, from)));
            }
        })
    }

    /// Sends one datagram to `addr`.
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let to = first_addr(addr)?;
        self.send_one(buf, to)
    }

    /// Sends one datagram to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.peer_addr()?;
        self.send_one(buf, peer)
    }

    fn send_one(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        let id = self.id;
        let (nb, timeout) = self.flags(|s| (s.nonblocking, s.write_timeout))?;
        let to = if to.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), to.port())
        } else {
            to
        };
        stack::block(nb, timeout, |st| {
            let in_process = st.in_process();
            let Some((_, s)) = udp_mut(st, id) else {
                return Some(Err(closed()));
            };
            if in_process && !to.ip().is_loopback() {
                return Some(Err(io::Error::new(
                    io::ErrorKind::NetworkUnreachable,
                    format!(
                        "ckpt::net: {to} is outside this program: the in-process network \
                         reaches only 127.0.0.0/8; give it a TAP device (--ckpt-tap)"
                    ),
                )));
            }
            if buf.len() > s.payload_send_capacity() {
                return Some(Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "message too long",
                )));
            }
            if !s.can_send() {
                return None;
            }
            Some(
                s.send_slice(buf, stack::to_smol(to))
                    .map(|()| buf.len())
                    .map_err(|e| io::Error::other(format!("{e}"))),
            )
        })
    }

    /// Sets the peer `send` and `recv` use.
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let a = first_addr(addr)?;
        self.set(|s| udp_of(s).peer = Some(a))
    }

    /// The connected peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.flags(|s| match &s.kind {
            Kind::Udp(u) => u.peer,
            _ => None,
        })?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the socket is not connected"))
    }

    /// The address this socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.flags(|s| match &s.kind {
            Kind::Udp(u) => u.local,
            _ => unreachable!("a UdpSocket names a UDP socket"),
        })
    }

    /// Another handle to the same socket.
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        self.set(|s| s.refs += 1)?;
        Ok(UdpSocket { id: self.id })
    }

    /// Sets the read timeout (`None`: block forever).
    pub fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        zero_check(dur)?;
        self.set(|s| s.read_timeout = dur)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        zero_check(dur)?;
        self.set(|s| s.write_timeout = dur)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.flags(|s| s.read_timeout)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.flags(|s| s.write_timeout)
    }

    /// Moves the socket into or out of nonblocking mode.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.set(|s| s.nonblocking = nonblocking)
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        let id = self.id;
        stack::with(|st| match udp_mut(st, id) {
            Some((s, u)) => {
                s.ttl = ttl.min(255) as u8;
                u.set_hop_limit(Some(s.ttl));
                Ok(())
            }
            None => Err(closed()),
        })?
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.flags(|s| u32::from(s.ttl))
    }

    /// Always `Ok(None)`: errors are reported by the calls that meet them.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }

    fn flags<T>(&self, f: impl FnOnce(&Sock) -> T) -> io::Result<T> {
        stack::with(|st| st.socks.get(&self.id).map(f).ok_or_else(closed))?
    }

    fn set(&self, f: impl FnOnce(&mut Sock)) -> io::Result<()> {
        stack::with(|st| match st.socks.get_mut(&self.id) {
            Some(s) => {
                f(s);
                Ok(())
            }
            None => Err(closed()),
        })?
    }
}

fn zero_check(d: Option<Duration>) -> io::Result<()> {
    if d == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    Ok(())
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = stack::with(|st| st.release_ref(self.id));
    }
}

#[cfg(feature = "agent")]
impl crate::agent::private::NetWaitNet for &crate::agent::private::NetWait<'_, UdpSocket> {
    fn __ckpt_net_wait(&self) -> bool {
        let id = self.0.id;
        stack::wait_point(|st| match st.socks.get(&id) {
            Some(Sock {
                kind: Kind::Udp(u),
                nonblocking,
                ..
            }) => *nonblocking || !u.queue.is_empty(),
            _ => true,
        })
    }
}

impl State for UdpSocket {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.map(1);
        e.text("socket");
        e.uint(self.id);
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        let id = v
            .get("socket")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::ty("", "a map {socket: id}", v.kind()))?;
        Ok(UdpSocket { id })
    }
}
