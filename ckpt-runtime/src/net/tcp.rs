//! `TcpListener` and `TcpStream` with std's signatures, over the stack.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use smoltcp::socket::tcp;

use super::stack::{self, Kind, Listener, Relay, Sock, Stack, Stream};
use crate::error::Error;
use crate::state::{Encoder, Loader, State, Value};
use std::sync::Arc;

/// A TCP socket server, listening for connections: [`std::net::TcpListener`] on ckpt's
/// user-space stack. A listener saved in a program's variables listens again after a
/// restore, on the same address, with the connections it had not yet accepted.
///
/// ```
/// use std::io::{Read, Write};
/// use ckpt::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:7000").unwrap();
/// let mut client = TcpStream::connect("127.0.0.1:7000").unwrap();
/// let (mut server, _) = listener.accept().unwrap();
/// client.write_all(b"ping").unwrap();
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).unwrap();
/// assert_eq!(&buf, b"ping");
/// ```
#[derive(Debug)]
pub struct TcpListener {
    id: u64,
}

/// A TCP connection: [`std::net::TcpStream`] on ckpt's user-space stack. An established
/// connection saved in a program's variables is connected again after a restore, with
/// the bytes that were on their way in both directions: the peer never notices.
#[derive(Debug)]
pub struct TcpStream {
    id: u64,
}

/// Where a connection's reads and writes go (see `TcpStream::route`).
enum Route {
    /// The host relay's kernel socket.
    Relay(Arc<std::net::TcpStream>),
    /// The stack: nonblocking, and the timeout of the operation.
    Stack(bool, Option<Duration>),
}

/// An iterator over the connections a [`TcpListener`] accepts (see
/// [`TcpListener::incoming`]).
///
/// It has no position: a `for` loop over it that holds a save point saves it as the
/// listener it takes from, and goes on accepting after a restore.
#[derive(Debug)]
pub struct Incoming<'a> {
    /// The listener's socket (the borrow keeps the listener alive).
    id: u64,
    listener: std::marker::PhantomData<&'a TcpListener>,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(accept(self.id).map(|(s, _)| s))
    }
}

impl State for Incoming<'_> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_id(self.id, e)
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        Ok(Incoming {
            id: load_id(v, "listener")?,
            listener: std::marker::PhantomData,
        })
    }
}

fn not_found(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("ckpt::net: this {what} is no longer open"),
    )
}

fn addrs<A: ToSocketAddrs>(a: A) -> io::Result<Vec<SocketAddr>> {
    let v: Vec<SocketAddr> = a.to_socket_addrs()?.collect();
    if v.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        ));
    }
    Ok(v)
}

impl TcpListener {
    /// Creates a listener bound to `addr` (port 0: an ephemeral port).
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let mut last = None;
        for a in addrs(addr)? {
            match Self::bind_one(a) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    fn bind_one(a: SocketAddr) -> io::Result<TcpListener> {
        stack::with(|st| {
            let local = st.claim(a, true)?;
            let id = st.add(Sock::new(Kind::Listener(Listener {
                local,
                listening: Vec::new(),
                ready: Default::default(),
            })));
            st.pump();
            Ok(TcpListener { id })
        })?
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let r = stack::with(|st| match st.socks.get(&self.id).map(|s| &s.kind) {
            Some(Kind::Listener(l)) => {
                let mut a = l.local;
                if a.ip().is_unspecified() && !st.in_process() {
                    a.set_ip(st.primary_ip().into());
                }
                Ok(a)
            }
            _ => Err(not_found("listener")),
        })?;
        r
    }

    /// Accepts a new connection (blocks unless nonblocking).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        accept(self.id)
    }

    /// An iterator over connections as they are accepted.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            id: self.id,
            listener: std::marker::PhantomData,
        }
    }

    /// Another handle to the same listener.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        add_ref(self.id)?;
        Ok(TcpListener { id: self.id })
    }

    /// Moves the listener into or out of nonblocking mode.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        set_sock(self.id, |s| s.nonblocking = nonblocking)
    }

    /// Sets the IP time-to-live of connections this listener accepts.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        set_sock(self.id, |s| s.ttl = ttl.min(255) as u8)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        sock_flag(self.id, |s| u32::from(s.ttl))
    }

    /// Always `Ok(None)`: errors are reported by the calls that meet them.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = stack::with(|st| st.release_ref(self.id));
    }
}

/// Accepts a connection on listener `id` (blocks unless it is nonblocking).
fn accept(id: u64) -> io::Result<(TcpStream, SocketAddr)> {
    let nb = sock_flag(id, |s| s.nonblocking)?;

    stack::block(nb, None, |st| {
        let Some(Sock {
            kind: Kind::Listener(l),
            ..
        }) = st.socks.get_mut(&id)
        else {
            return Some(Err(not_found("listener")));
        };
        let sid = l.ready.pop_front()?;
        let s = st.socks.get_mut(&sid)?;
        s.refs = 1;
        let Kind::Stream(stream) = &mut s.kind else {
            return None;
        };
        stream.unaccepted = false;
        Some(Ok((TcpStream { id: sid }, stream.peer)))
    })
}

fn add_ref(id: u64) -> io::Result<()> {
    set_sock(id, |s| s.refs += 1)
}

fn set_sock(id: u64, f: impl FnOnce(&mut Sock)) -> io::Result<()> {
    stack::with(|st| match st.socks.get_mut(&id) {
        Some(s) => {
            f(s);
            Ok(())
        }
        None => Err(not_found("socket")),
    })?
}

fn sock_flag<T>(id: u64, f: impl FnOnce(&Sock) -> T) -> io::Result<T> {
    stack::with(|st| st.socks.get(&id).map(f).ok_or_else(|| not_found("socket")))?
}

/// The stream `id` and its socket.
fn stream_mut(st: &mut Stack, id: u64) -> Option<(&mut Sock, &mut tcp::Socket<'static>)> {
    let s = st.socks.get_mut(&id)?;
    let Kind::Stream(stream) = &s.kind else {
        return None;
    };
    let h = stream.h;
    Some((s, st.set.get_mut::<tcp::Socket>(h)))
}

fn stream_of(s: &mut Sock) -> &mut Stream {
    match &mut s.kind {
        Kind::Stream(st) => st,
        _ => unreachable!("checked by stream_mut"),
    }
}

impl TcpStream {
    /// Opens a connection to `addr` (the first address that accepts).
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for a in addrs(addr)? {
            match Self::connect_one(&a, None) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    /// Opens a connection to `addr`, giving up after `timeout`.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        Self::connect_one(addr, Some(timeout))
    }

    fn connect_one(addr: &SocketAddr, timeout: Option<Duration>) -> io::Result<TcpStream> {
        let remote = if addr.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            *addr
        };
        if remote.is_ipv6() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "ckpt::net: IPv6 is not supported yet",
            ));
        }
        let relay = stack::with(|st| {
            st.in_process() && !(remote.ip().is_loopback() && st.listens_on(remote))
        })?;
        if relay {
            return Self::relay_connect(remote, timeout);
        }
        let id = stack::with(|st| -> io::Result<u64> {
            let local_ip = if st.in_process() {
                if !remote.ip().is_loopback() {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!(
                            "ckpt::net: {remote} is outside this program: the in-process network \
                             reaches only the program's own listeners (127.0.0.0/8). Give it a TAP \
                             device (--ckpt-tap NAME --ckpt-ip ADDR/PREFIX) to reach other hosts"
                        ),
                    ));
                }
                std::net::Ipv4Addr::LOCALHOST
            } else {
                st.primary_ip()
            };
            let port = st.ephemeral_port(true);
            let local = SocketAddr::new(local_ip.into(), port);
            let mut s = Stack::tcp_socket();
            s.connect(
                st.iface.context(),
                stack::to_smol(remote),
                stack::to_smol(local),
            )
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}")))?;
            let h = st.set.add(s);
            Ok(st.add(Sock::new(Kind::Stream(Stream {
                h,
                local,
                peer: remote,
                written: 0,
                read: 0,
                shadow: Default::default(),
                read_shut: false,
                unaccepted: false,
                dead: false,
            }))))
        })??;
        let stream = TcpStream { id };
        let r = stack::block(false, timeout, |st| {
            let (_, s) = stream_mut(st, id)?;
            match s.state() {
                tcp::State::SynSent | tcp::State::SynReceived => None,
                tcp::State::Closed | tcp::State::TimeWait => Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!("connection to {remote} refused"),
                ))),
                _ => Some(Ok(())),
            }
        });
        match r {
            Ok(()) => Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out",
            )),
            Err(e) => Err(e),
        }
    }

    /// A connection to a host outside the program, through a kernel socket (the host
    /// relay of the in-process medium).
    fn relay_connect(remote: SocketAddr, timeout: Option<Duration>) -> io::Result<TcpStream> {
        let k = match timeout {
            Some(t) => std::net::TcpStream::connect_timeout(&remote, t)?,
            None => std::net::TcpStream::connect(remote)?,
        };
        let local = k.local_addr()?;
        let id = stack::with(|st| {
            st.add(Sock::new(Kind::Relay(Relay {
                conn: Some(Arc::new(k)),
                local,
                peer: remote,
                written: 0,
                read: 0,
                broken: None,
            })))
        })?;
        Ok(TcpStream { id })
    }

    /// The kernel socket if this connection goes through the host relay.
    fn relayed(&self) -> io::Result<Option<Arc<std::net::TcpStream>>> {
        match self.route(|_| None)? {
            Route::Relay(k) => Ok(Some(k)),
            Route::Stack(..) => Ok(None),
        }
    }

    /// Where a read or write of this connection goes, found under one lock: the kernel
    /// socket of the host relay, or the stack with the socket's nonblocking flag and the
    /// timeout `timeout` picks.
    fn route(&self, timeout: impl FnOnce(&Sock) -> Option<Duration>) -> io::Result<Route> {
        stack::with(|st| match st.socks.get(&self.id) {
            Some(Sock {
                kind: Kind::Relay(r),
                ..
            }) => match (&r.conn, &r.broken) {
                (_, Some(why)) => Err(io::Error::new(io::ErrorKind::ConnectionReset, why.clone())),
                (Some(c), None) => Ok(Route::Relay(c.clone())),
                (None, None) => Err(io::ErrorKind::ConnectionReset.into()),
            },
            Some(s) => Ok(Route::Stack(s.nonblocking, timeout(s))),
            None => Err(not_found("connection")),
        })?
    }

    fn relay_count(&self, read: usize, written: usize) {
        let _ = stack::with(|st| {
            if let Some(Sock {
                kind: Kind::Relay(r),
                ..
            }) = st.socks.get_mut(&self.id)
            {
                r.read += read as u64;
                r.written += written as u64;
            }
        });
    }

    fn relay_addrs(&self) -> io::Result<Option<(SocketAddr, SocketAddr)>> {
        stack::with(|st| match st.socks.get(&self.id).map(|s| &s.kind) {
            Some(Kind::Relay(r)) => Some((r.local, r.peer)),
            _ => None,
        })
    }

    /// The remote address of this connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        if let Some((_, p)) = self.relay_addrs()? {
            return Ok(p);
        }
        self.with_stream(|s, _| Ok(stream_of(s).peer))
    }

    /// The local address of this connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        if let Some((l, _)) = self.relay_addrs()? {
            return Ok(l);
        }
        self.with_stream(|s, _| Ok(stream_of(s).local))
    }

    fn with_stream<T>(
        &self,
        f: impl FnOnce(&mut Sock, &mut tcp::Socket<'static>) -> io::Result<T>,
    ) -> io::Result<T> {
        stack::with(|st| match stream_mut(st, self.id) {
            Some((s, t)) => f(s, t),
            None => Err(not_found("connection")),
        })?
    }

    /// Shuts down the read half, the write half (sends FIN once queued bytes are out), or
    /// both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if let Some(k) = self.relayed()? {
            return k.shutdown(how);
        }
        stack::with(|st| {
            let r = match stream_mut(st, self.id) {
                Some((s, t)) => {
                    if matches!(how, Shutdown::Read | Shutdown::Both) {
                        stream_of(s).read_shut = true;
                    }
                    if matches!(how, Shutdown::Write | Shutdown::Both) {
                        t.close();
                    }
                    Ok(())
                }
                None => Err(not_found("connection")),
            };
            st.pump();
            r
        })?
    }

    /// Another handle to the same connection (reads and writes share its streams).
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        add_ref(self.id)?;
        Ok(TcpStream { id: self.id })
    }

    /// Sets the read timeout (`None`: block forever). A zero duration is an error, as in
    /// std.
    pub fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        check_timeout(dur)?;
        if let Some(k) = self.relayed()? {
            k.set_read_timeout(dur)?;
        }
        set_sock(self.id, |s| s.read_timeout = dur)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        check_timeout(dur)?;
        if let Some(k) = self.relayed()? {
            k.set_write_timeout(dur)?;
        }
        set_sock(self.id, |s| s.write_timeout = dur)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        sock_flag(self.id, |s| s.read_timeout)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        sock_flag(self.id, |s| s.write_timeout)
    }

    /// Reads without consuming.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(buf, true)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        if let Some(k) = self.relayed()? {
            k.set_nodelay(nodelay)?;
            return set_sock(self.id, |s| s.nodelay = nodelay);
        }
        self.with_stream(|s, t| {
            s.nodelay = nodelay;
            t.set_nagle_enabled(!nodelay);
            Ok(())
        })
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        sock_flag(self.id, |s| s.nodelay)
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        if let Some(k) = self.relayed()? {
            k.set_ttl(ttl)?;
            return set_sock(self.id, |s| s.ttl = ttl.min(255) as u8);
        }
        self.with_stream(|s, t| {
            s.ttl = ttl.min(255) as u8;
            t.set_hop_limit(Some(s.ttl));
            Ok(())
        })
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        sock_flag(self.id, |s| u32::from(s.ttl))
    }

    /// Always `Ok(None)`: errors are reported by the calls that meet them.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }

    /// Moves the stream into or out of nonblocking mode.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        if let Some(k) = self.relayed()? {
            k.set_nonblocking(nonblocking)?;
        }
        set_sock(self.id, |s| s.nonblocking = nonblocking)
    }

    fn read_with(&self, buf: &mut [u8], peek: bool) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (nb, to) = match self.route(|s| s.read_timeout)? {
            Route::Relay(k) => {
                let n = if peek { k.peek(buf)? } else { (&*k).read(buf)? };
                if !peek {
                    self.relay_count(n, 0);
                }
                return Ok(n);
            }
            Route::Stack(nb, to) => (nb, to),
        };
        let id = self.id;
        stack::block(nb, to, |st| {
            let Some((s, t)) = stream_mut(st, id) else {
                return Some(Err(not_found("connection")));
            };
            let stream = stream_of(s);
            if stream.read_shut || stream.dead {
                return Some(Ok(0));
            }
            if t.can_recv() {
                let r = if peek {
                    t.peek_slice(buf)
                } else {
                    t.recv_slice(buf)
                };
                return Some(match r {
                    Ok(n) => {
                        if !peek {
                            stream.read += n as u64;
                        }
                        Ok(n)
                    }
                    Err(_) => Ok(0),
                });
            }
            if !t.may_recv() {
                return Some(match t.state() {
                    tcp::State::Closed if stream.read == 0 && stream.written == 0 => Err(
                        io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer"),
                    ),
                    _ => Ok(0),
                });
            }
            None
        })
    }

    fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (nb, to) = match self.route(|s| s.write_timeout)? {
            Route::Relay(k) => {
                let n = (&*k).write(buf)?;
                self.relay_count(0, n);
                return Ok(n);
            }
            Route::Stack(nb, to) => (nb, to),
        };
        let id = self.id;
        stack::block(nb, to, |st| {
            let Some((s, t)) = stream_mut(st, id) else {
                return Some(Err(not_found("connection")));
            };
            let stream = stream_of(s);
            if stream.dead || !t.may_send() {
                return Some(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the connection is closed for writing",
                )));
            }
            if !t.can_send() {
                return None;
            }
            match t.send_slice(buf) {
                Ok(0) => None,
                Ok(n) => {
                    stream.written += n as u64;
                    stream.shadow.extend(&buf[..n]);
                    Some(Ok(n))
                }
                Err(_) => Some(Err(io::ErrorKind::BrokenPipe.into())),
            }
        })
    }
}

fn check_timeout(d: Option<Duration>) -> io::Result<()> {
    if d == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    Ok(())
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = stack::with(|st| st.release_ref(self.id));
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(buf, false)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(buf, false)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "agent")]
impl crate::agent::private::NetWaitNet for &crate::agent::private::NetWait<'_, TcpListener> {
    fn __ckpt_net_wait(&self) -> bool {
        let id = self.0.id;
        stack::wait_point(|st| match st.socks.get(&id) {
            Some(Sock {
                kind: Kind::Listener(l),
                nonblocking,
                ..
            }) => *nonblocking || !l.ready.is_empty(),
            _ => true,
        })
    }
}

/// A socket handle in an image: the socket's id in the `net` component.
fn save_id(id: u64, e: &mut Encoder<'_>) -> Result<(), Error> {
    e.map(1);
    e.text("socket");
    e.uint(id);
    Ok(())
}

fn load_id(v: Value, what: &str) -> Result<u64, Error> {
    let id = v
        .get("socket")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::ty("", "a map {socket: id}", v.kind()))?;
    let known = stack::with(|st| st.socks.contains_key(&id)).unwrap_or(false);
    if !known {
        return Err(Error::ty(
            "socket",
            "a socket saved in the image's `net` component",
            format!("{what} {id}, which it lacks"),
        ));
    }
    Ok(id)
}

impl State for TcpStream {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_id(self.id, e)
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        Ok(TcpStream {
            id: load_id(v, "connection")?,
        })
    }
}

impl State for TcpListener {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_id(self.id, e)
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        Ok(TcpListener {
            id: load_id(v, "listener")?,
        })
    }
}
