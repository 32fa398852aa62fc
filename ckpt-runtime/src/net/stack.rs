//! The process's network stack: one smoltcp interface on one medium, the sockets the
//! program opened through `ckpt::net`, and the polling that moves frames.
//!
//! Everything lives behind one lock ([`with`]). Every socket call polls the interface
//! until nothing moves (the in-process medium delivers a frame within the same call), then
//! works on its socket; a blocking call that cannot go on releases the lock and waits for a
//! frame (TAP), for another thread's poll (in-process), or for the stack's next timer.
//!
//! Sockets are named by an id the program's values carry (`TcpStream { id }`), so a value
//! saved in a frame and the socket saved in the `net` component meet again on restore
//! whatever smoltcp's handles are in the new process.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint};

use super::config::{default_mac, Commit, NetConfig};
use super::repair::Observer;
use super::tap::Tap;

/// TCP receive and send buffers of every connection (the window scale follows from the
/// receive buffer; a restore rebuilds a connection with the capacities it had).
pub(crate) const TCP_BUFFER: usize = 128 * 1024;
/// Datagrams a UDP socket keeps queued, and their total bytes.
const UDP_QUEUE: usize = 64;
const UDP_BYTES: usize = 256 * 1024;
/// Listening sockets kept ready per listener beyond the connections not yet accepted.
const LISTEN_SPARE: usize = 1;
/// First ephemeral port (the IANA dynamic range).
const EPHEMERAL: u16 = 49152;
/// The in-process medium's MTU: large frames, few of them.
const LOOP_MTU: usize = 65535;
/// Rounds of polling per call before giving the program control back.
const POLL_ROUNDS: usize = 4096;

/// A link the interface moves frames over.
pub(crate) enum Link {
    /// In-process loopback: what is sent is received by the same interface.
    Loop(VecDeque<Vec<u8>>),
    /// A TAP device (Ethernet frames).
    Tap(Tap),
    /// No device: a replay that is not a recovery gets its frames from the input log and
    /// sends none.
    Null,
}

/// The interface's device: the link, the frame observer for TCP repair, and the egress
/// frames held for output commit.
pub(crate) struct Dev {
    pub link: Link,
    pub medium: Medium,
    pub mtu: usize,
    pub observer: Observer,
    /// Egress frames waiting for the image that covers them (TAP, [`Commit::Save`]).
    pub held: Vec<Vec<u8>>,
    pub hold: bool,
    /// In-process connections whose end here was closing at the save and came back closed,
    /// as (that end's local, its peer): segments to it are dropped instead of reset, so
    /// the other end (restored, in CLOSE-WAIT say) keeps the bytes it had not read.
    pub gone: std::collections::BTreeSet<(IpEndpoint, IpEndpoint)>,
    /// The neighbour cache as ARP showed it (IPv4 → MAC), saved in the image.
    pub neighbors: BTreeMap<[u8; 4], [u8; 6]>,
    /// Frames to take before the link's (a restore's ARP replies that fill the neighbour
    /// cache again).
    pub inject: VecDeque<Vec<u8>>,
    /// Frames emitted on an outside link since the run's start (saved in the image): while
    /// recording, the log says how many left; a recovery sends only those after them.
    pub emitted: u64,
    /// The outside link said it has no frame waiting in this poll: the poll reads no more
    /// from it (so the frames a poll reads, and the log's record of them, do not depend
    /// on what the stack sends meanwhile).
    drained: bool,
    rx: Vec<u8>,
}

/// The IP packet inside a frame of `medium` (IPv4 over Ethernet: past the header).
fn ip_of(medium: Medium, frame: &[u8]) -> Option<&[u8]> {
    match medium {
        Medium::Ethernet => {
            if frame.len() > 14 && frame[12] == 0x08 && frame[13] == 0x00 {
                Some(&frame[14..])
            } else {
                None
            }
        }
        _ => Some(frame),
    }
}

impl Dev {
    fn new(link: Link, medium: Medium, mtu: usize, hold: bool) -> Dev {
        Dev {
            link,
            medium,
            mtu,
            observer: Observer::default(),
            held: Vec::new(),
            hold,
            gone: Default::default(),
            neighbors: BTreeMap::new(),
            inject: VecDeque::new(),
            emitted: 0,
            drained: false,
            rx: vec![0; mtu + 64],
        }
    }

    fn next_frame(&mut self) -> Option<Vec<u8>> {
        let link = &mut self.link;
        if let Link::Loop(q) = link {
            return q.pop_front();
        }
        if let Some(f) = self.inject.pop_front() {
            return Some(f);
        }
        if self.drained {
            return None;
        }
        let mut live = |buf: &mut [u8]| match link {
            Link::Tap(t) => match t.recv(buf) {
                Ok(Some(n)) => Ok(n),
                Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            },
            _ => Err(io::ErrorKind::WouldBlock.into()),
        };
        let r = if crate::replay::on() {
            // An input like any other: logged while recording, fed while replaying.
            crate::replay::read(crate::replay::Kind::Frame, &mut self.rx, live)
        } else {
            live(&mut self.rx)
        };
        match r {
            Ok(n) => Some(self.rx[..n].to_vec()),
            Err(_) => {
                self.drained = true;
                None
            }
        }
    }

    fn emit(&mut self, frame: Vec<u8>) {
        if let Some(ip) = ip_of(self.medium, &frame) {
            self.observer.on_packet(ip, true);
        }
        if matches!(self.link, Link::Loop(_)) {
            if !self.gone.is_empty() && to_gone(&frame, &self.gone) {
                return;
            }
            if let Link::Loop(q) = &mut self.link {
                q.push_back(frame);
            }
            return;
        }
        self.emitted += 1;
        if crate::replay::replaying() {
            // The recorded run sent the first frames already; a recovery sends the rest.
            if self.emitted > crate::replay::net_sent_before() {
                if let Link::Tap(t) = &self.link {
                    let _ = t.send(&frame);
                }
            }
            return;
        }
        if crate::replay::on() {
            // Recording: it leaves once the inputs it depends on are in the log.
            self.held.push(frame);
            return;
        }
        match &mut self.link {
            Link::Loop(_) | Link::Null => {}
            Link::Tap(t) => {
                if self.hold {
                    self.held.push(frame);
                    // The next safepoint saves, and the image lets the frames go.
                    #[cfg(feature = "agent")]
                    crate::agent::request_checkpoint();
                } else {
                    let _ = t.send(&frame);
                }
            }
        }
    }

    /// While recording: the inputs logged so far are written out, then the frames held
    /// since leave, and the log says so.
    fn release_logged(&mut self) {
        if self.held.is_empty() || crate::replay::replaying() || !crate::replay::on() {
            return;
        }
        crate::replay::commit();
        self.release();
        crate::replay::sent(self.emitted);
    }

    /// Sends the held frames (an image now covers them).
    pub fn release(&mut self) {
        self.release_first(self.held.len());
    }

    /// Sends the first `n` held frames (an image now covers them).
    pub fn release_first(&mut self, n: usize) {
        let n = n.min(self.held.len());
        if let Link::Tap(t) = &self.link {
            for f in self.held.drain(..n) {
                let _ = t.send(&f);
            }
        }
    }
}

pub(crate) struct RxTok(Vec<u8>);
pub(crate) struct TxTok<'a>(&'a mut Dev);

impl phy::RxToken for RxTok {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxTok<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.emit(buf);
        r
    }
}

impl Device for Dev {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = TxTok<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(RxTok, TxTok<'_>)> {
        let f = self.next_frame()?;
        if self.medium == Medium::Ethernet && f.len() >= 42 && f[12..14] == [0x08, 0x06] {
            // ARP (Ethernet, IPv4): the sender's addresses.
            let (mac, ip): ([u8; 6], [u8; 4]) = (
                f[22..28].try_into().expect("6 bytes"),
                f[28..32].try_into().expect("4 bytes"),
            );
            if mac[0] & 1 == 0 && ip != [0; 4] {
                self.neighbors.insert(ip, mac);
            }
        }
        if let Some(ip) = ip_of(self.medium, &f) {
            self.observer.on_packet(ip, false);
        }
        Some((RxTok(f), TxTok(self)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<TxTok<'_>> {
        Some(TxTok(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = self.medium;
        c.max_transmission_unit = match self.medium {
            Medium::Ethernet => self.mtu + 14,
            _ => self.mtu,
        };
        c
    }
}

/// A connection's stream bookkeeping (TCP-REPAIR.md §2: totals and the shadow).
pub(crate) struct Stream {
    pub h: SocketHandle,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub written: u64,
    pub read: u64,
    /// The last `send_queue()` bytes written: what a restore must send again.
    pub shadow: VecDeque<u8>,
    /// `shutdown(Read)`: reads return end of stream.
    pub read_shut: bool,
    /// Not yet handed out by `accept` (the listener's queue holds its id).
    pub unaccepted: bool,
    /// Restored in a state that could not be rebuilt: reads end, writes fail.
    pub dead: bool,
}

/// A listening socket: smoltcp listens with one socket per connection, so a listener
/// keeps spare listening sockets and turns each one that leaves LISTEN into a stream.
pub(crate) struct Listener {
    pub local: SocketAddr,
    pub listening: Vec<SocketHandle>,
    /// Streams established and not yet accepted, oldest first.
    pub ready: VecDeque<u64>,
}

pub(crate) struct Udp {
    pub h: SocketHandle,
    pub local: SocketAddr,
    pub peer: Option<SocketAddr>,
    /// Datagrams received, not yet read: (payload, source).
    pub queue: VecDeque<(Vec<u8>, SocketAddr)>,
    pub queued_bytes: usize,
}

/// A connection to a host outside the program on the in-process medium: a kernel
/// socket (the host relay). Its bytes are the kernel's; a restore follows the relay
/// policy.
pub(crate) struct Relay {
    /// The kernel connection; `None` once broken.
    pub conn: Option<std::sync::Arc<std::net::TcpStream>>,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub written: u64,
    pub read: u64,
    /// Why it no longer works (a restore under `RelayPolicy::Error`, a failed reconnect).
    pub broken: Option<String>,
}

pub(crate) enum Kind {
    Stream(Stream),
    Listener(Listener),
    Udp(Udp),
    Relay(Relay),
}

/// One socket of the program.
pub(crate) struct Sock {
    pub kind: Kind,
    /// Program values naming it (`try_clone` adds one, drop takes one).
    pub refs: u32,
    pub nonblocking: bool,
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    pub ttl: u8,
    pub nodelay: bool,
}

impl Sock {
    pub fn new(kind: Kind) -> Sock {
        Sock {
            kind,
            refs: 1,
            nonblocking: false,
            read_timeout: None,
            write_timeout: None,
            ttl: 64,
            nodelay: false,
        }
    }
}

/// The stack.
pub(crate) struct Stack {
    pub iface: Interface,
    pub dev: Dev,
    pub set: SocketSet<'static>,
    pub socks: BTreeMap<u64, Sock>,
    pub next_id: u64,
    pub next_port: u16,
    /// The interface's addresses (in-process: 127.0.0.1).
    pub addrs: Vec<(Ipv4Addr, u8)>,
    /// Frames were held and the release warning is printed once.
    pub warned: bool,
    /// What the last committed image holds of each connection, and what the image being
    /// written holds (it becomes `covered` once committed).
    pub covered: Covered,
    pub covering: Covered,
}

static STACK: Mutex<Option<Stack>> = Mutex::new(None);
/// Woken after every poll that moved something (threads waiting on the in-process medium).
static MOVED: Condvar = Condvar::new();
/// Threads waiting on [`MOVED`] (a notify with none costs a futex call per poll).
static WAITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// The stack clock's offset (ms) added to the process's monotonic clock: a restore sets it
/// so the clock, and the TCP timestamps drawn from it, continue from the saved reading.
static CLOCK_OFFSET_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn process_ms() -> u64 {
    static BASE: OnceLock<std::time::Instant> = OnceLock::new();
    BASE.get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// The stack's clock in milliseconds: monotonic, continues across a restore.
pub(crate) fn clock_ms() -> u64 {
    process_ms() + CLOCK_OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the clock so it reads at least `ms` now.
pub(crate) fn set_clock_at_least(ms: u64) {
    let now = process_ms();
    CLOCK_OFFSET_MS.store(ms.saturating_sub(now), std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn now() -> SmolInstant {
    SmolInstant::from_millis(clock_ms() as i64)
}

/// The stack's clock for a poll: an input like any other (the stack's timers depend on
/// it), logged while recording and fed while replaying.
fn logged_now() -> SmolInstant {
    let ms = if crate::replay::on() {
        crate::replay::clock_with(crate::replay::Kind::Monotonic, NET_CLOCK, clock_ms)
    } else {
        clock_ms()
    };
    SmolInstant::from_millis(ms as i64)
}

/// The digest that marks the network stack's clock readings in the input log.
const NET_CLOCK: u64 = 0x6e6574;

/// The TCP timestamp generator of every connection: the stack clock.
pub(crate) fn tsval() -> u32 {
    clock_ms() as u32
}

/// Runs `f` on the stack, creating it on first use.
pub(crate) fn with<R>(f: impl FnOnce(&mut Stack) -> R) -> io::Result<R> {
    let mut g = lock();
    let st = get(&mut g)?;
    Ok(f(st))
}

pub(crate) fn lock() -> MutexGuard<'static, Option<Stack>> {
    STACK.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn get<'a>(g: &'a mut MutexGuard<'static, Option<Stack>>) -> io::Result<&'a mut Stack> {
    if g.is_none() {
        **g = Some(Stack::new(logged_config(super::config::get()))?);
    }
    Ok(g.as_mut().expect("just set"))
}

/// An ARP reply from `(their_ip, their_mac)` to `(our_ip, our_mac)`: what a restore feeds
/// the new interface so its neighbour cache holds what the saved one did.
pub(crate) fn arp_reply(their: ([u8; 4], [u8; 6]), ours: ([u8; 4], [u8; 6])) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&ours.1);
    f.extend_from_slice(&their.1);
    f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02]);
    f.extend_from_slice(&their.1);
    f.extend_from_slice(&their.0);
    f.extend_from_slice(&ours.1);
    f.extend_from_slice(&ours.0);
    f
}

/// The stack's configuration is an input like any other: a recording logs it (as an
/// environment read, by ckpt), a replay builds the stack the recorded run had (a TAP
/// run's replay needs no device, but its addresses).
fn logged_config(cfg: NetConfig) -> NetConfig {
    if !crate::replay::on() {
        return cfg;
    }
    const NET_CONFIG: u64 = 0x0063_6b70_746e_6574; // "ckptnet"
    let live = cfg.encode();
    let got = crate::replay::value(crate::replay::Kind::Env, NET_CONFIG, || {
        Some(live.into_bytes())
    });
    got.and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| NetConfig::decode(&s))
        .unwrap_or(cfg)
}

/// The program ended: held frames leave, and every connection is closed the way the
/// kernel closes a process's sockets at exit (queued bytes, then FIN), waiting up to 2 s
/// for the peers to take them.
pub(crate) fn finish() {
    let t0 = std::time::Instant::now();
    let mut g = lock();
    {
        let Some(st) = g.as_mut() else { return };
        st.dev.hold = false;
        st.dev.release();
        for s in st.socks.values() {
            if let Kind::Stream(sm) = &s.kind {
                let t = st.set.get_mut::<tcp::Socket>(sm.h);
                if t.may_send() {
                    t.close();
                }
            }
        }
    }
    while t0.elapsed() <= Duration::from_secs(2) {
        let Some(st) = g.as_mut() else { return };
        st.pump();
        if !st.closing() {
            return;
        }
        let Link::Tap(t) = &st.dev.link else {
            // In-process, one pump moved every frame there is.
            return;
        };
        let fd = t.raw_fd();
        drop(g);
        wait_fd(fd, Duration::from_millis(20));
        g = lock();
    }
}

impl Stack {
    /// A stack on the configured medium.
    pub fn new(cfg: NetConfig) -> io::Result<Stack> {
        // Socket buffers (128 KiB each, two per connection) from fresh zero pages: glibc
        // otherwise raises its mmap threshold after the first such buffer is freed and
        // clears later ones with memset, which made restoring 1,000 connections 3-4x
        // slower and 7x bigger (BENCHMARKS.md).
        // SAFETY: mallopt only changes the allocator's tuning.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, TCP_BUFFER as libc::c_int) };
        let seed = {
            let mut b = [0u8; 8];
            let _ = crate::replay::fill(crate::replay::Kind::Random, &mut b, |b| {
                crate::rand::sys::raw_os_random(b)
            });
            u64::from_le_bytes(b)
        };
        let (mut dev, hw, addrs) = match &cfg.tap {
            None => {
                let dev = Dev::new(Link::Loop(VecDeque::new()), Medium::Ip, LOOP_MTU, false);
                (dev, HardwareAddress::Ip, vec![(Ipv4Addr::LOCALHOST, 8)])
            }
            Some(name) if crate::replay::replaying_only() => {
                // Frames come from the log; nothing goes out.
                let ip = cfg.ip.unwrap_or((Ipv4Addr::UNSPECIFIED, 0));
                let mac = cfg.mac.unwrap_or_else(|| default_mac(name));
                let dev = Dev::new(Link::Null, Medium::Ethernet, 1500, false);
                (
                    dev,
                    HardwareAddress::Ethernet(EthernetAddress(mac)),
                    vec![ip],
                )
            }
            Some(name) => {
                let Some(ip) = cfg.ip else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "--ckpt-tap {name} needs the program's address too: \
                             --ckpt-ip ADDRESS/PREFIX (CKPT_IP), like 198.51.100.2/24"
                        ),
                    ));
                };
                let (tap, _) = Tap::through_holder(name)
                    .map_err(|e| io::Error::new(e.kind(), format!("TAP device `{name}`: {e}")))?;
                let mtu = super::tap::mtu(name).unwrap_or(1500);
                let mac = cfg.mac.unwrap_or_else(|| default_mac(name));
                let dev = Dev::new(
                    Link::Tap(tap),
                    Medium::Ethernet,
                    mtu,
                    cfg.commit == Commit::Save,
                );
                (
                    dev,
                    HardwareAddress::Ethernet(EthernetAddress(mac)),
                    vec![ip],
                )
            }
        };
        let mut ic = IfaceConfig::new(hw);
        ic.random_seed = seed;
        let mut iface = Interface::new(ic, &mut dev, now());
        iface.update_ip_addrs(|a| {
            for (ip, p) in &addrs {
                let _ = a.push(IpCidr::new(IpAddress::Ipv4(*ip), *p));
            }
        });
        if let Some(gw) = cfg.gateway {
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        Ok(Stack {
            iface,
            dev,
            set: SocketSet::new(Vec::new()),
            socks: BTreeMap::new(),
            next_id: 1,
            next_port: EPHEMERAL,
            addrs,
            warned: false,
            covered: Covered::new(),
            covering: Covered::new(),
        })
    }

    /// Whether a connection still has bytes or a FIN on their way out.
    fn closing(&self) -> bool {
        self.socks.values().any(|s| match &s.kind {
            Kind::Stream(sm) => {
                let t = self.set.get::<tcp::Socket>(sm.h);
                t.send_queue() > 0
                    || matches!(
                        t.state(),
                        tcp::State::FinWait1 | tcp::State::Closing | tcp::State::LastAck
                    )
            }
            _ => false,
        })
    }

    /// Whether this stack is the in-process medium.
    pub fn in_process(&self) -> bool {
        matches!(self.dev.link, Link::Loop(_))
    }

    /// The address a socket bound to `0.0.0.0` reports, and the source of connections.
    pub fn primary_ip(&self) -> Ipv4Addr {
        self.addrs[0].0
    }

    /// Whether `ip` is one of the interface's (or unspecified).
    pub fn is_local(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => {
                v4.is_unspecified()
                    || self.addrs.iter().any(|(a, _)| *a == v4)
                    || (self.in_process() && v4.is_loopback())
            }
            IpAddr::V6(_) => false,
        }
    }

    pub fn add(&mut self, s: Sock) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.socks.insert(id, s);
        id
    }

    /// The local address a socket binding `a` gets: `a` itself, with an ephemeral port
    /// for port 0; an address that is not the interface's, or a port in use, is an error
    /// as the kernel's.
    pub fn claim(&mut self, a: SocketAddr, tcp_: bool) -> io::Result<SocketAddr> {
        if !self.is_local(a.ip()) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "{} is not an address of this program's network interface",
                    a.ip()
                ),
            ));
        }
        let port = if a.port() == 0 {
            self.ephemeral_port(tcp_)
        } else if self.port_used(a.port(), tcp_) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("address {a} is already in use"),
            ));
        } else {
            a.port()
        };
        Ok(SocketAddr::new(a.ip(), port))
    }

    /// A free ephemeral port (for `ip` and protocol `tcp`).
    pub fn ephemeral_port(&mut self, tcp_: bool) -> u16 {
        for _ in 0..16384 {
            let p = self.next_port;
            self.next_port = if p == u16::MAX { EPHEMERAL } else { p + 1 };
            if !self.port_used(p, tcp_) {
                return p;
            }
        }
        self.next_port
    }

    /// Whether a listener of this program takes connections to `a` (in-process medium).
    pub fn listens_on(&self, a: SocketAddr) -> bool {
        self.socks.values().any(|s| match &s.kind {
            Kind::Listener(l) => {
                l.local.port() == a.port()
                    && (l.local.ip().is_unspecified() || l.local.ip() == a.ip())
            }
            _ => false,
        })
    }

    pub fn port_used(&self, port: u16, tcp_: bool) -> bool {
        self.socks.values().any(|s| match &s.kind {
            Kind::Stream(st) if tcp_ => st.local.port() == port,
            Kind::Listener(l) if tcp_ => l.local.port() == port,
            Kind::Udp(u) if !tcp_ => u.local.port() == port,
            _ => false,
        })
    }

    /// A new TCP socket with the stack's buffers.
    pub fn tcp_socket() -> tcp::Socket<'static> {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        );
        s.set_tsval_generator(Some(tsval));
        s.set_nagle_enabled(true);
        s
    }

    pub fn udp_socket() -> udp::Socket<'static> {
        udp::Socket::new(
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_QUEUE],
                vec![0; UDP_BYTES],
            ),
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_QUEUE],
                vec![0; UDP_BYTES],
            ),
        )
    }

    /// Polls until no frame moves (bounded), keeping listeners' spares and queues, the
    /// streams' shadows and the UDP queues up to date.
    pub fn pump(&mut self) -> bool {
        let mut moved = false;
        let t = logged_now();
        self.dev.drained = false;
        for _ in 0..POLL_ROUNDS {
            let mut any = false;
            loop {
                match self
                    .iface
                    .poll_ingress_single(t, &mut self.dev, &mut self.set)
                {
                    smoltcp::iface::PollIngressSingleResult::None => break,
                    _ => {
                        any = true;
                        self.tend_listeners();
                    }
                }
            }
            if self.iface.poll_egress(t, &mut self.dev, &mut self.set)
                != smoltcp::iface::PollResult::None
            {
                any = true;
            }
            self.tend_listeners();
            let queued = matches!(&self.dev.link, Link::Loop(q) if !q.is_empty());
            moved |= any;
            if !any && !queued {
                break;
            }
        }
        self.after_poll();
        self.dev.release_logged();
        if moved && WAITERS.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            MOVED.notify_all();
        }
        moved
    }

    /// Moves connections that left LISTEN to their listener's queue, keeps a spare
    /// listening socket per listener.
    fn tend_listeners(&mut self) {
        let ids: Vec<u64> = self
            .socks
            .iter()
            .filter(|(_, s)| matches!(s.kind, Kind::Listener(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(Sock {
                kind: Kind::Listener(l),
                ..
            }) = self.socks.get_mut(&id)
            else {
                continue;
            };
            let local = l.local;
            let mut born = Vec::new();
            let mut i = 0;
            while i < l.listening.len() {
                let h = l.listening[i];
                let s = self.set.get::<tcp::Socket>(h);
                match s.state() {
                    tcp::State::Listen => i += 1,
                    tcp::State::Established | tcp::State::CloseWait => {
                        born.push(h);
                        l.listening.swap_remove(i);
                    }
                    tcp::State::SynReceived => i += 1,
                    _ => {
                        // Reset during the handshake: listen again on it.
                        let s = self.set.get_mut::<tcp::Socket>(h);
                        s.abort();
                        let _ = s.listen(listen_endpoint(local));
                        i += 1;
                    }
                }
            }
            let spare = l
                .listening
                .iter()
                .filter(|h| self.set.get::<tcp::Socket>(**h).state() == tcp::State::Listen)
                .count();
            let mut fresh = Vec::new();
            for _ in spare..LISTEN_SPARE {
                let mut s = Self::tcp_socket();
                if s.listen(listen_endpoint(local)).is_ok() {
                    fresh.push(self.set.add(s));
                }
            }
            let mut new_ids = Vec::new();
            for h in born {
                let s = self.set.get::<tcp::Socket>(h);
                let (Some(l_ep), Some(r_ep)) = (s.local_endpoint(), s.remote_endpoint()) else {
                    continue;
                };
                let mut sock = Sock::new(Kind::Stream(Stream {
                    h,
                    local: to_std(l_ep),
                    peer: to_std(r_ep),
                    written: 0,
                    read: 0,
                    shadow: VecDeque::new(),
                    read_shut: false,
                    unaccepted: true,
                    dead: false,
                }));
                sock.refs = 0;
                new_ids.push(sock);
            }
            let new_ids: Vec<u64> = new_ids.into_iter().map(|s| self.add(s)).collect();
            if let Some(Sock {
                kind: Kind::Listener(l),
                ..
            }) = self.socks.get_mut(&id)
            {
                l.listening.extend(fresh);
                l.ready.extend(new_ids);
            }
        }
    }

    /// After polling: shadows trimmed to what is still unacknowledged, datagrams moved
    /// into the sockets' queues, closed orphans removed.
    fn after_poll(&mut self) {
        let mut gone = Vec::new();
        for (id, s) in self.socks.iter_mut() {
            match &mut s.kind {
                Kind::Stream(st) => {
                    let sock = self.set.get_mut::<tcp::Socket>(st.h);
                    let q = sock.send_queue();
                    while st.shadow.len() > q {
                        let cut = st.shadow.len() - q;
                        st.shadow.drain(..cut);
                    }
                    if s.refs == 0 && !st.unaccepted {
                        if sock.send_queue() == 0 && sock.may_send() {
                            sock.close();
                        }
                        if self
                            .dev
                            .gone
                            .contains(&(to_smol(st.peer), to_smol(st.local)))
                            && !sock.may_send()
                        {
                            // Its peer came back closed: nothing will acknowledge its FIN.
                            sock.abort();
                        }
                        if matches!(sock.state(), tcp::State::Closed | tcp::State::TimeWait) {
                            gone.push(*id);
                        }
                    }
                }
                Kind::Udp(u) => {
                    let sock = self.set.get_mut::<udp::Socket>(u.h);
                    while u.queue.len() < UDP_QUEUE && u.queued_bytes < UDP_BYTES {
                        match sock.recv() {
                            Ok((data, meta)) => {
                                u.queued_bytes += data.len();
                                u.queue.push_back((data.to_vec(), to_std(meta.endpoint)));
                            }
                            Err(_) => break,
                        }
                    }
                }
                Kind::Listener(_) | Kind::Relay(_) => {}
            }
        }
        for id in gone {
            if let Some(Sock {
                kind: Kind::Stream(st),
                ..
            }) = self.socks.remove(&id)
            {
                self.set.remove(st.h);
                self.dev
                    .observer
                    .forget(to_smol(st.local), to_smol(st.peer));
            }
        }
    }

    /// How long a blocked call may wait before the stack needs polling again.
    pub fn delay(&mut self) -> Duration {
        let d = self
            .iface
            .poll_delay(now(), &self.set)
            .map(|d| Duration::from_micros(d.total_micros()))
            .unwrap_or(Duration::from_millis(50));
        d.min(Duration::from_millis(50))
    }

    /// Drops one reference to socket `id`; the last closes it (a stream sends what is
    /// queued, then FIN; a listener resets connections never accepted).
    pub fn release_ref(&mut self, id: u64) {
        let Some(s) = self.socks.get_mut(&id) else {
            return;
        };
        s.refs = s.refs.saturating_sub(1);
        if s.refs > 0 {
            return;
        }
        match &s.kind {
            Kind::Stream(_) => {}
            Kind::Listener(_) => {
                let Some(Sock {
                    kind: Kind::Listener(l),
                    ..
                }) = self.socks.remove(&id)
                else {
                    return;
                };
                for h in l.listening {
                    self.set.remove(h);
                }
                for sid in l.ready {
                    if let Some(Sock {
                        kind: Kind::Stream(st),
                        ..
                    }) = self.socks.remove(&sid)
                    {
                        self.set.get_mut::<tcp::Socket>(st.h).abort();
                        self.pump();
                        self.set.remove(st.h);
                    }
                }
            }
            Kind::Udp(u) => {
                let h = u.h;
                self.socks.remove(&id);
                self.set.remove(h);
            }
            Kind::Relay(_) => {
                // Dropping the kernel socket closes it.
                self.socks.remove(&id);
            }
        }
        self.pump();
    }
}

pub(crate) fn listen_endpoint(a: SocketAddr) -> smoltcp::wire::IpListenEndpoint {
    smoltcp::wire::IpListenEndpoint {
        addr: match a.ip() {
            IpAddr::V4(v) if !v.is_unspecified() => Some(IpAddress::Ipv4(v)),
            _ => None,
        },
        port: a.port(),
    }
}

pub(crate) fn to_std(e: IpEndpoint) -> SocketAddr {
    match e.addr {
        IpAddress::Ipv4(a) => SocketAddr::new(IpAddr::V4(a), e.port),
        IpAddress::Ipv6(a) => SocketAddr::new(IpAddr::V6(a), e.port),
    }
}

pub(crate) fn to_smol(a: SocketAddr) -> IpEndpoint {
    match a.ip() {
        IpAddr::V4(v) => IpEndpoint::new(IpAddress::Ipv4(v), a.port()),
        IpAddr::V6(v) => IpEndpoint::new(IpAddress::Ipv6(v), a.port()),
    }
}

/// Blocks on the stack until `attempt` is ready: polls, tries, and between tries waits for
/// a frame, another thread's progress, or the stack's next timer. `nonblocking` gives
/// `WouldBlock` at once; a `timeout` gives `WouldBlock` when it passes (std's behaviour
/// on Unix).
pub(crate) fn block<T>(
    nonblocking: bool,
    timeout: Option<Duration>,
    mut attempt: impl FnMut(&mut Stack) -> Option<io::Result<T>>,
) -> io::Result<T> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    let mut g = lock();
    loop {
        let st = get(&mut g)?;
        st.pump();
        if let Some(r) = attempt(st) {
            st.pump();
            return r;
        }
        if nonblocking {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut wait = st.delay();
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the socket's timeout passed",
                ));
            }
            wait = wait.min(left);
        }
        if crate::replay::replaying() {
            // What the recorded run waited for is next in the log.
            continue;
        }
        if !st.dev.held.is_empty() {
            // Held frames wait for an image. One being written in the background lets the
            // frames it covers go once it is durable: wait for that first.
            #[cfg(feature = "agent")]
            if crate::agent::save_in_flight() {
                drop(g);
                crate::agent::wait_written();
                g = lock();
                continue;
            }
            // A program blocked here will not reach an image.
            hold_blocked(st);
        }
        g = pause(g, wait);
    }
}

/// A wait point (see `NetWait`): waits until `ready` (the call would not block: false),
/// or until a checkpoint is pending (true; the caller's safepoint takes it, held frames
/// included). While replaying: true where the recorded run saved.
#[cfg(feature = "agent")]
pub(crate) fn wait_point(mut ready: impl FnMut(&mut Stack) -> bool) -> bool {
    let mut g = lock();
    loop {
        let Ok(st) = get(&mut g) else {
            return false;
        };
        st.pump();
        if ready(st) {
            return false;
        }
        if crate::replay::replaying() {
            if crate::replay::saved_next() {
                return true;
            }
            continue;
        }
        if crate::agent::checkpoint_pending() {
            return true;
        }
        let wait = st.delay();
        g = pause(g, wait);
    }
}

/// A program blocked on the network while frames wait for an image: they leave now (it
/// reaches no save point while it waits). Most are harmless: a frame whose bytes and
/// acknowledgement the last image covers (a segment Nagle held back, a retransmission,
/// a window update), ARP, a handshake. ckpt says once when a frame acknowledges bytes
/// or carries bytes that no image holds yet: a kill before the next save can stall that
/// connection after the restore.
fn hold_blocked(st: &mut Stack) {
    let beyond = st
        .dev
        .held
        .iter()
        .any(|f| ip_of(st.dev.medium, f).is_some_and(|ip| beyond_image(ip, &st.covered)));
    if beyond && !st.warned {
        st.warned = true;
        eprintln!(
            "ckpt: net: the program waits on the network while frames that no checkpoint \
             covers yet wait to leave; they leave now. A kill before the next save can stall \
             those connections after the restore: call ckpt::safepoint() after writing (ckpt \
             then saves before they leave), or run with --ckpt-net-commit=none to accept this."
        );
    }
    st.dev.release();
}

/// Whether an IPv4 packet is a TCP segment of a connection with an end in `gone`, either
/// way (to it, or a reset the stack makes for it, say for a segment that was on its way
/// at the save).
fn to_gone(ip: &[u8], gone: &std::collections::BTreeSet<(IpEndpoint, IpEndpoint)>) -> bool {
    with_tcp(ip, |src, dst, _| {
        gone.contains(&(dst, src)) || gone.contains(&(src, dst))
    })
    .unwrap_or(false)
}

/// `f(source, destination, segment)` if `ip` is an IPv4 packet holding a TCP segment.
fn with_tcp<R>(
    ip: &[u8],
    f: impl FnOnce(IpEndpoint, IpEndpoint, &smoltcp::wire::TcpPacket<&[u8]>) -> R,
) -> Option<R> {
    use smoltcp::wire::{IpProtocol, Ipv4Packet, TcpPacket};
    let p = Ipv4Packet::new_checked(ip).ok()?;
    if p.next_header() != IpProtocol::Tcp {
        return None;
    }
    let t = TcpPacket::new_checked(p.payload()).ok()?;
    let src = IpEndpoint::new(IpAddress::Ipv4(p.src_addr()), t.src_port());
    let dst = IpEndpoint::new(IpAddress::Ipv4(p.dst_addr()), t.dst_port());
    Some(f(src, dst, &t))
}

/// Per connection (local, remote): the sequence number after the last byte the last image
/// holds as written, and the one after the last byte it holds as received.
pub(crate) type Covered = BTreeMap<(IpEndpoint, IpEndpoint), (u32, u32)>;

/// Whether a TCP segment (an IPv4 packet we send) carries bytes or acknowledges bytes
/// beyond what the image covers. Handshakes and other protocols are not.
fn beyond_image(ip: &[u8], covered: &Covered) -> bool {
    with_tcp(ip, |local, remote, t| {
        if t.syn() || t.rst() {
            return false;
        }
        let Some(&(snd_limit, rcv_limit)) = covered.get(&(local, remote)) else {
            // A connection born after the image: the restore does not know it anyway.
            return false;
        };
        let end = t
            .seq_number()
            .0
            .wrapping_add(t.payload().len() as i32)
            .wrapping_add(i32::from(t.fin())) as u32;
        let after = |a: u32, b: u32| (a.wrapping_sub(b) as i32) > 0;
        after(end, snd_limit.wrapping_add(1))
            || (t.ack() && after(t.ack_number().0 as u32, rcv_limit))
    })
    .unwrap_or(false)
}

/// Waits up to `wait` for something to move: a frame on the TAP (the lock released
/// meanwhile), or another thread's poll (in-process).
fn pause(
    g: MutexGuard<'static, Option<Stack>>,
    wait: Duration,
) -> MutexGuard<'static, Option<Stack>> {
    let fd = match g.as_ref().map(|st| &st.dev.link) {
        Some(Link::Tap(t)) => Some(t.raw_fd()),
        _ => None,
    };
    match fd {
        Some(fd) => {
            drop(g);
            wait_fd(fd, wait);
            lock()
        }
        None => {
            WAITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let g = MOVED
                .wait_timeout(g, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            WAITERS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            g
        }
    }
}

/// Waits up to `d` (1 ms to 1 s) for a frame on the TAP `fd`; a failing device shows at
/// its next read.
fn wait_fd(fd: i32, d: Duration) {
    let d = d.clamp(Duration::from_millis(1), Duration::from_secs(1));
    let _ = super::tap::poll_in(fd, Some(d));
}
