//! TCP repair: rebuilding an established smoltcp socket in a new process.
//!
//! This implements `/work/shared/TCP-REPAIR.md` (§1–5, §7) as a library without any I/O of
//! its own:
//!
//! * [`Observer`] watches every IP packet entering or leaving the live interface and
//!   records, per connection, what smoltcp does not expose (ISNs, the peer's SYN options,
//!   its latest window and TSval): a [`Seen`].
//! * [`Conn::capture`] turns a live socket plus its `Seen` and the application's byte
//!   totals into a [`Conn`], everything a restore needs.
//! * [`rebuild`] replays a synthetic handshake on a private in-memory interface whose RNG
//!   is seeded so that smoltcp draws the wanted ISN ([`seed_for`], [`pre_isn_draws`]),
//!   re-injects the unread bytes, queues the unacknowledged ones and returns the socket,
//!   ready to be added to the live `SocketSet`.
//!
//! smoltcp is pinned (`=0.14.0`): the method relies on its internals (the RNG, the number
//! of draws before the ISN, window-scale selection, segment acceptance rules).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::OnceLock;

use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpProtocol, IpRepr, Ipv4Packet, Ipv6Packet,
    TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampGenerator, TcpTimestampRepr,
};

/// Largest payload of one re-injected segment of unread bytes (TCP-REPAIR §3 step 4e).
const INJECT_CHUNK: usize = 32 * 1024;

/// Number of seed variants tried before giving up on the ISN (TCP-REPAIR §5).
const ISN_VARIANTS: u64 = 16;

/// Who sent the first SYN of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The peer connected to one of our listening sockets (we sent the SYN-ACK).
    Accepted,
    /// We called `connect()` (we sent the SYN).
    Connected,
}

/// What frames showed about one connection (TCP-REPAIR.md §2, the "observe frames" columns).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Who sent the first SYN; `None` until a SYN was seen.
    pub role: Option<Role>,
    /// Sequence number of the SYN or SYN-ACK we transmitted.
    pub our_isn: Option<u32>,
    /// Sequence number of the SYN or SYN-ACK the peer transmitted.
    pub peer_isn: Option<u32>,
    /// MSS option of the peer's SYN/SYN-ACK. None: option absent (536 applies).
    pub peer_mss: Option<u16>,
    /// Window-scale option of the peer's SYN/SYN-ACK. None: no window-scale option.
    pub peer_wscale: Option<u8>,
    /// The peer's SYN/SYN-ACK carried SACK-permitted.
    pub peer_sack: bool,
    /// The peer's SYN/SYN-ACK carried the timestamp option.
    pub peer_ts: bool,
    /// Raw 16-bit window of the newest non-SYN segment from the peer. Until one arrives,
    /// the (unscaled) window of its SYN/SYN-ACK shifted right by its window scale.
    pub peer_window: u16,
    /// Newest TSval received (compared mod 2^32, the newest kept).
    pub peer_tsval: u32,
    /// The peer sent FIN (for CLOSE-WAIT).
    pub fin_received: bool,
}

/// One tracked connection: its `Seen` plus bookkeeping that is not part of it.
#[derive(Clone, Debug, Default)]
struct Entry {
    seen: Seen,
    /// `seen.peer_tsval` holds a value received from the peer.
    has_tsval: bool,
}

/// A TCP segment parsed out of an IP packet (no link header).
struct Segment<'a> {
    src: IpAddress,
    dst: IpAddress,
    tcp: TcpRepr<'a>,
}

/// Parses an IPv4 or IPv6 packet carrying TCP. Fragments, extension headers and anything
/// malformed yield `None`. With `verify`, a bad TCP checksum also yields `None`.
fn parse_segment(packet: &[u8], verify: bool) -> Option<Segment<'_>> {
    let (src, dst, payload) = match packet.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new_checked(packet).ok()?;
            if ip.more_frags() || ip.frag_offset() != 0 || ip.next_header() != IpProtocol::Tcp {
                return None;
            }
            let (src, dst) = (
                IpAddress::Ipv4(ip.src_addr()),
                IpAddress::Ipv4(ip.dst_addr()),
            );
            (src, dst, ip.payload())
        }
        6 => {
            let ip = Ipv6Packet::new_checked(packet).ok()?;
            if ip.next_header() != IpProtocol::Tcp {
                return None;
            }
            let (src, dst) = (
                IpAddress::Ipv6(ip.src_addr()),
                IpAddress::Ipv6(ip.dst_addr()),
            );
            (src, dst, ip.payload())
        }
        _ => return None,
    };
    let tcp = TcpPacket::new_checked(payload).ok()?;
    let caps = if verify {
        ChecksumCapabilities::default()
    } else {
        ChecksumCapabilities::ignored()
    };
    let tcp = TcpRepr::parse(&tcp, &src, &dst, &caps).ok()?;
    Some(Segment { src, dst, tcp })
}

/// Builds an IP packet (no link header) carrying `repr` from `src` to `dst`, checksums
/// filled.
fn build_segment(src: IpAddress, dst: IpAddress, repr: &TcpRepr<'_>) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let ip = IpRepr::new(src, dst, IpProtocol::Tcp, repr.buffer_len(), 64);
    let mut buf = vec![0u8; ip.buffer_len()];
    ip.emit(&mut buf[..], &caps);
    let header_len = ip.header_len();
    let mut tcp = TcpPacket::new_unchecked(&mut buf[header_len..]);
    repr.emit(&mut tcp, &src, &dst, &caps);
    buf
}

/// `a` is newer than (or equal to) `b` in 32-bit sequence space.
fn newer_or_equal(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// Watches every IP packet that enters or leaves an interface (IPv4 and IPv6 packets, no
/// link header) and keeps a `Seen` per connection, keyed by (local, remote) endpoint.
///
/// Call [`on_packet`](Self::on_packet) from the device wrapper: for received frames when
/// the device hands them to the interface, for transmitted frames when the interface
/// writes them. Incoming segments with a bad TCP checksum are ignored, as smoltcp (with
/// default checksum capabilities) drops them too; outgoing ones are not verified
/// (checksum offload may leave them unfilled).
///
/// A SYN without ACK whose ISN differs from the one recorded for its sender starts a new
/// connection on the 4-tuple (reuse) and resets the entry; a retransmitted SYN does not.
/// Entries are never dropped on their own: call [`forget`](Self::forget) when a
/// connection is closed.
#[derive(Default)]
pub(crate) struct Observer {
    conns: BTreeMap<(IpEndpoint, IpEndpoint), Entry>,
}

impl Observer {
    /// Records what `ip_packet` shows (`outgoing`: sent by us). Non-TCP packets, fragments
    /// and malformed packets are ignored.
    pub fn on_packet(&mut self, ip_packet: &[u8], outgoing: bool) {
        let Some(seg) = parse_segment(ip_packet, !outgoing) else {
            return;
        };
        let tcp = &seg.tcp;
        let (local, remote) = if outgoing {
            (
                IpEndpoint::new(seg.src, tcp.src_port),
                IpEndpoint::new(seg.dst, tcp.dst_port),
            )
        } else {
            (
                IpEndpoint::new(seg.dst, tcp.dst_port),
                IpEndpoint::new(seg.src, tcp.src_port),
            )
        };
        let seq = tcp.seq_number.0 as u32;
        let syn = tcp.control == TcpControl::Syn;
        let key = (local, remote);

        if outgoing {
            if !syn {
                return;
            }
            let entry = self.conns.entry(key).or_default();
            if tcp.ack_number.is_none() {
                // Our SYN: a connect() (or its retransmission).
                if entry.seen.our_isn.is_some_and(|isn| isn != seq) {
                    *entry = Entry::default();
                }
                if entry.seen.role.is_none() {
                    entry.seen.role = Some(Role::Connected);
                }
            }
            entry.seen.our_isn = Some(seq);
            return;
        }

        if tcp.control == TcpControl::Rst {
            return;
        }
        if syn {
            let entry = self.conns.entry(key).or_default();
            if tcp.ack_number.is_none() {
                // The peer's SYN: an incoming connection (or its retransmission).
                if entry.seen.peer_isn.is_some_and(|isn| isn != seq) {
                    *entry = Entry::default();
                }
                if entry.seen.role.is_none() {
                    entry.seen.role = Some(Role::Accepted);
                }
            }
            let seen = &mut entry.seen;
            seen.peer_isn = Some(seq);
            seen.peer_mss = tcp.max_seg_size;
            seen.peer_wscale = tcp.window_scale;
            seen.peer_sack = tcp.sack_permitted;
            seen.peer_ts = tcp.timestamp.is_some();
            // The SYN's window is unscaled; stand-in until a non-SYN segment arrives.
            seen.peer_window = tcp.window_len >> seen.peer_wscale.unwrap_or(0);
            if let Some(ts) = tcp.timestamp {
                seen.peer_tsval = ts.tsval;
                entry.has_tsval = true;
            }
            return;
        }

        let Some(entry) = self.conns.get_mut(&key) else {
            return;
        };
        let seen = &mut entry.seen;
        seen.peer_window = tcp.window_len;
        if let Some(ts) = tcp.timestamp {
            if !entry.has_tsval || newer_or_equal(ts.tsval, seen.peer_tsval) {
                seen.peer_tsval = ts.tsval;
                entry.has_tsval = true;
            }
        }
        if tcp.control == TcpControl::Fin {
            seen.fin_received = true;
        }
    }

    /// What was seen of the connection `local` ↔ `remote`, if anything.
    pub fn get(&self, local: IpEndpoint, remote: IpEndpoint) -> Option<&Seen> {
        self.conns.get(&(local, remote)).map(|e| &e.seen)
    }

    /// Stops tracking the connection `local` ↔ `remote`.
    pub fn forget(&mut self, local: IpEndpoint, remote: IpEndpoint) {
        self.conns.remove(&(local, remote));
    }

    /// Starts tracking `local` ↔ `remote` from `seen` (after a restore: see [`Conn::seen`]),
    /// replacing any entry.
    pub fn insert(&mut self, local: IpEndpoint, remote: IpEndpoint, seen: Seen) {
        let entry = Entry {
            has_tsval: seen.peer_ts,
            seen,
        };
        self.conns.insert((local, remote), entry);
    }

    /// Keys currently tracked (for tests / garbage collection by the caller).
    #[allow(dead_code)]
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// No connection is tracked.
    #[allow(dead_code)]
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }
}

/// Everything a restore needs to rebuild one connection: TCP-REPAIR.md §2 table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Conn {
    /// Our endpoint.
    pub local: IpEndpoint,
    /// The peer's endpoint.
    pub remote: IpEndpoint,
    /// Who sent the first SYN.
    pub role: Role,
    /// Oldest unacknowledged sequence number of ours: `our_isn + 1 + written - send_queue`
    /// (wrapping).
    pub snd_una: u32,
    /// Peer sequence number of the first byte the program has not read:
    /// `peer_isn + 1 + read` (wrapping).
    pub rcv_read: u32,
    /// MSS option of the peer's SYN/SYN-ACK.
    pub peer_mss: Option<u16>,
    /// Window-scale option of the peer's SYN/SYN-ACK.
    pub peer_wscale: Option<u8>,
    /// The peer offered SACK.
    pub peer_sack: bool,
    /// Timestamps were on for this connection.
    pub ts: bool,
    /// Raw (scaled) 16-bit window of the newest segment from the peer.
    pub peer_window: u16,
    /// Newest TSval received from the peer.
    pub peer_tsval: u32,
    /// Received, not yet read by the program (peek of the receive queue).
    pub unread: Vec<u8>,
    /// The last `send_queue()` bytes written (unacknowledged + unsent).
    pub shadow: Vec<u8>,
    /// CLOSE-WAIT: the peer's FIN came after `unread`.
    pub fin_received: bool,
    /// Receive buffer capacity (fixes our window scale).
    pub rx_cap: usize,
    /// Transmit buffer capacity.
    pub tx_cap: usize,
    /// Nagle's algorithm on.
    pub nagle: bool,
    /// Delayed-ACK duration.
    pub ack_delay: Option<Duration>,
    /// Keep-alive interval.
    pub keep_alive: Option<Duration>,
    /// Inactivity timeout.
    pub timeout: Option<Duration>,
    /// TTL / hop limit of outgoing packets (`None`: smoltcp's default, 64).
    pub hop_limit: Option<u8>,
    /// Congestion control algorithm.
    pub congestion: tcp::CongestionControl,
}

impl Conn {
    /// Captures a live socket: `seen` from the Observer, `written`/`read` the u64 totals
    /// the application passed to send / got from recv, `shadow` the last send_queue() bytes
    /// written (the caller keeps it), `unread` obtained by peek. Returns None if the
    /// socket is not in a restorable state (ESTABLISHED or CLOSE-WAIT) or `seen` lacks the ISNs.
    ///
    /// Also `None` if `shadow` is shorter than `send_queue()` or `written` smaller than it
    /// (the caller's bookkeeping is wrong). `shadow` may be longer: only its last
    /// `send_queue()` bytes are kept.
    pub fn capture(
        sock: &mut tcp::Socket<'_>,
        seen: &Seen,
        written: u64,
        read: u64,
        shadow: &[u8],
    ) -> Option<Conn> {
        let fin_received = match sock.state() {
            tcp::State::Established => false,
            tcp::State::CloseWait => true,
            _ => return None,
        };
        let local = sock.local_endpoint()?;
        let remote = sock.remote_endpoint()?;
        let role = seen.role?;
        let our_isn = seen.our_isn?;
        let peer_isn = seen.peer_isn?;
        let queued = sock.send_queue();
        if shadow.len() < queued || written < queued as u64 {
            return None;
        }
        let acked = written - queued as u64;
        let snd_una = our_isn.wrapping_add(1).wrapping_add(acked as u32);
        let rcv_read = peer_isn.wrapping_add(1).wrapping_add(read as u32);
        let mut unread = vec![0u8; sock.recv_queue()];
        let got = sock.peek_slice(&mut unread).ok()?;
        if got != unread.len() {
            return None;
        }
        Some(Conn {
            local,
            remote,
            role,
            snd_una,
            rcv_read,
            peer_mss: seen.peer_mss,
            peer_wscale: seen.peer_wscale,
            peer_sack: seen.peer_sack,
            ts: sock.timestamp_enabled(),
            peer_window: seen.peer_window,
            peer_tsval: seen.peer_tsval,
            unread,
            shadow: shadow[shadow.len() - queued..].to_vec(),
            fin_received,
            rx_cap: sock.recv_capacity(),
            tx_cap: sock.send_capacity(),
            nagle: sock.nagle_enabled(),
            ack_delay: sock.ack_delay(),
            keep_alive: sock.keep_alive(),
            timeout: sock.timeout(),
            hop_limit: sock.hop_limit(),
            congestion: sock.congestion_control(),
        })
    }

    /// The `Seen` to give a new process's [`Observer`] (via [`Observer::insert`]) after
    /// this connection is rebuilt, so that later captures with the application's restored
    /// totals `written` and `read` compute the same sequence numbers: the ISNs are the
    /// original ones, not those of the synthetic handshake.
    pub fn seen(&self, written: u64, read: u64) -> Seen {
        let acked = written.wrapping_sub(self.shadow.len() as u64) as u32;
        Seen {
            role: Some(self.role),
            our_isn: Some(self.snd_una.wrapping_sub(1).wrapping_sub(acked)),
            peer_isn: Some(self.rcv_read.wrapping_sub(1).wrapping_sub(read as u32)),
            peer_mss: self.peer_mss,
            peer_wscale: self.peer_wscale,
            peer_sack: self.peer_sack,
            peer_ts: self.ts,
            peer_window: self.peer_window,
            peer_tsval: self.peer_tsval,
            fin_received: self.fin_received,
        }
    }
}

/// The numbers of a failed rebuild, for the log (TCP-REPAIR §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RepairAt {
    /// The connection's `snd_una`.
    pub snd_una: u32,
    /// The connection's `rcv_read`.
    pub rcv_read: u32,
    /// Bytes received and not read.
    pub unread: usize,
    /// Bytes written and not acknowledged.
    pub shadow: usize,
    /// RNG seed of the (last) repair interface.
    pub seed: u64,
}

impl fmt::Display for RepairAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "snd_una={} rcv_read={} unread={} shadow={} seed={:#018x}",
            self.snd_una, self.rcv_read, self.unread, self.shadow, self.seed
        )
    }
}

/// Why [`rebuild`] refused to hand back a socket. The image is still good; the caller must
/// not poll the live interface for this connection's packets with a bad socket.
#[derive(Debug)]
pub(crate) enum RepairError {
    /// The SYN / SYN-ACK of the repair socket never had `snd_una - 1` as its sequence
    /// number, after every seed variant.
    IsnMismatch {
        /// Where.
        at: RepairAt,
        /// The sequence number of the last attempt's SYN / SYN-ACK (None: none emitted).
        got: Option<u32>,
        /// Seed variants tried.
        tries: u64,
    },
    /// The socket did not reach ESTABLISHED (or CLOSE-WAIT) after the synthetic segments.
    NotEstablished {
        /// Where.
        at: RepairAt,
        /// The state it was in.
        state: tcp::State,
    },
    /// The re-injected unread bytes did not all land in the receive queue.
    RecvQueueMismatch {
        /// Where.
        at: RepairAt,
        /// `recv_queue()` after the injection.
        got: usize,
    },
    /// `send_slice(shadow)` did not take every byte.
    ShortSend {
        /// Where.
        at: RepairAt,
        /// Bytes taken.
        accepted: usize,
        /// Transmit buffer capacity.
        tx_cap: usize,
    },
    /// The repair interface emitted frames after the shadow was queued.
    FrameAfterSend {
        /// Where.
        at: RepairAt,
        /// How many.
        frames: usize,
    },
    /// Timestamps were on but no generator was given.
    NoTsvalGenerator {
        /// Where.
        at: RepairAt,
    },
    /// The repair interface or socket could not be set up (mixed IP versions, a zero port,
    /// a full route table, ...).
    Setup {
        /// Where.
        at: RepairAt,
        /// What failed.
        what: String,
    },
}

impl fmt::Display for RepairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepairError::IsnMismatch { at, got, tries } => write!(
                f,
                "tcp repair: ISN mismatch after {tries} seed variants: wanted {}, got {} ({at})",
                at.snd_una.wrapping_sub(1),
                got.map_or_else(|| "no SYN".to_string(), |g| g.to_string())
            ),
            RepairError::NotEstablished { at, state } => {
                write!(f, "tcp repair: socket in state {state} after the handshake ({at})")
            }
            RepairError::RecvQueueMismatch { at, got } => write!(
                f,
                "tcp repair: receive queue holds {got} bytes after re-injecting {} ({at})",
                at.unread
            ),
            RepairError::ShortSend {
                at,
                accepted,
                tx_cap,
            } => write!(
                f,
                "tcp repair: send buffer took {accepted} of {} shadow bytes (capacity {tx_cap}) ({at})",
                at.shadow
            ),
            RepairError::FrameAfterSend { at, frames } => write!(
                f,
                "tcp repair: {frames} frame(s) emitted after queuing the shadow bytes ({at})"
            ),
            RepairError::NoTsvalGenerator { at } => write!(
                f,
                "tcp repair: timestamps were on but no TSval generator was given ({at})"
            ),
            RepairError::Setup { at, what } => write!(f, "tcp repair: {what} ({at})"),
        }
    }
}

impl std::error::Error for RepairError {}

/// The multiplier of smoltcp's sPCG32 (`src/rand.rs`).
const RNG_M: u64 = 0xbb2e_fcec_3c39_611d;
/// The increment of smoltcp's sPCG32.
const RNG_A: u64 = 0x7590_ef39;

/// A replica of smoltcp 0.14.0's interface RNG.
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(RNG_M).wrapping_add(RNG_A);
        let shift = 29 - (self.0 >> 61);
        (self.0 >> shift) as u32
    }
}

/// `RNG_M⁻¹ mod 2^64` (Newton iteration; M is odd).
fn m_inv() -> u64 {
    let mut x = RNG_M;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(RNG_M.wrapping_mul(x)));
    }
    x
}

/// The number of RNG draws before the ISN on an interface of this build (TCP-REPAIR §4
/// "Calibrate"). Computed once (cache it in a OnceLock).
///
/// Measured on throwaway in-memory interfaces: the draw count of `Interface::new` depends
/// on the cargo features and on data-dependent loops that repeat now and then (p = 1/256),
/// so the smallest count over a few seeds is taken; [`rebuild`] verifies the ISN and
/// retries with other seeds for the rare repeats.
pub(crate) fn pre_isn_draws() -> usize {
    static PRE: OnceLock<usize> = OnceLock::new();
    *PRE.get_or_init(|| {
        (0..8u64)
            .filter_map(|i| calibrate(0x5eed_0000_0000_0001u64.wrapping_mul(i + 1)))
            .min()
            .unwrap_or(3)
    })
}

/// Builds an interface seeded with `seed`, connects, and returns k such that the SYN's
/// sequence number is draw k+1 of the RNG.
fn calibrate(seed: u64) -> Option<usize> {
    let local = IpEndpoint::new(IpAddress::v4(192, 0, 2, 1), 40000);
    let remote = IpEndpoint::new(IpAddress::v4(192, 0, 2, 2), 80);
    let mut dev = MemDevice::default();
    let mut cfg = Config::new(HardwareAddress::Ip);
    cfg.random_seed = seed;
    let now = Instant::from_millis(0);
    let mut iface = Interface::new(cfg, &mut dev, now);
    setup_addrs(&mut iface, local.addr, remote.addr).ok()?;
    let mut set = SocketSet::new(vec![]);
    let mut sock = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 1024]),
        tcp::SocketBuffer::new(vec![0; 1024]),
    );
    sock.connect(iface.context(), remote, local).ok()?;
    set.add(sock);
    iface.poll(now, &mut dev, &mut set);
    let isn = dev.tx.iter().find_map(|f| {
        let seg = parse_segment(f, false)?;
        (seg.tcp.control == TcpControl::Syn).then_some(seg.tcp.seq_number.0 as u32)
    })?;
    let mut rng = Rng(seed);
    (0..64).find(|_| rng.next_u32() == isn)
}

/// The interface seed under which the ISN (draw `pre + 1`) is `isn`. `v` selects one of
/// 2^29 such seeds (vary it to retry when a data-dependent init loop drew once more).
pub(crate) fn seed_for(isn: u32, pre: usize, v: u64) -> u64 {
    // Top 3 bits 0 → the output is bits 29..61 of the state; the low 29 bits are free.
    let mut s = (u64::from(isn) << 29) | (v.wrapping_mul(0x9E37_79B9) & 0x1FFF_FFFF);
    let inv = m_inv();
    for _ in 0..=pre {
        s = s.wrapping_sub(RNG_A).wrapping_mul(inv);
    }
    s
}

/// The in-memory device of a repair interface: frames to inject in `rx`, whatever the
/// interface transmits collected in `tx`.
#[derive(Default)]
struct MemDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

/// Receive token of [`MemDevice`].
struct MemRx(Vec<u8>);

/// Transmit token of [`MemDevice`].
struct MemTx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for MemRx {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

impl phy::TxToken for MemTx<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl Device for MemDevice {
    type RxToken<'a> = MemRx;
    type TxToken<'a> = MemTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((MemRx(frame), MemTx(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Self::TxToken<'_>> {
        Some(MemTx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 65535;
        caps
    }
}

/// Gives `iface` the address `local` and a default route via `remote`.
fn setup_addrs(iface: &mut Interface, local: IpAddress, remote: IpAddress) -> Result<(), String> {
    let prefix = match local {
        IpAddress::Ipv4(_) => 32,
        IpAddress::Ipv6(_) => 128,
    };
    iface.update_ip_addrs(|addrs| {
        addrs.clear();
        let _ = addrs.push(IpCidr::new(local, prefix));
    });
    if iface.ip_addrs().is_empty() {
        return Err(format!("cannot add address {local}"));
    }
    let routed = match remote {
        IpAddress::Ipv4(a) => iface.routes_mut().add_default_ipv4_route(a).is_ok(),
        IpAddress::Ipv6(a) => iface.routes_mut().add_default_ipv6_route(a).is_ok(),
    };
    if routed {
        Ok(())
    } else {
        Err(format!("cannot add a default route via {remote}"))
    }
}

/// One synthetic segment from the peer to the repair socket.
struct Inject<'c> {
    c: &'c Conn,
}

impl Inject<'_> {
    /// A segment from the peer with the saved timestamp option iff timestamps were on.
    fn frame(
        &self,
        control: TcpControl,
        seq: u32,
        ack: Option<u32>,
        window: u16,
        syn_options: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let c = self.c;
        let repr = TcpRepr {
            src_port: c.remote.port,
            dst_port: c.local.port,
            control,
            seq_number: TcpSeqNumber(seq as i32),
            ack_number: ack.map(|a| TcpSeqNumber(a as i32)),
            window_len: window,
            window_scale: if syn_options { c.peer_wscale } else { None },
            max_seg_size: if syn_options { c.peer_mss } else { None },
            sack_permitted: syn_options && c.peer_sack,
            sack_ranges: [None, None, None],
            timestamp: c.ts.then(|| TcpTimestampRepr::new(c.peer_tsval, 0)),
            payload,
        };
        build_segment(c.remote.addr, c.local.addr, &repr)
    }
}

/// The outcome of one attempt with one seed.
enum Attempt {
    /// Another seed variant may work.
    IsnMismatch(Option<u32>),
    /// Give up.
    Fatal(RepairError),
}

/// Rebuilds one connection on a private repair interface and returns the socket,
/// ESTABLISHED (or CLOSE-WAIT if fin_received), ready to be `add`ed to the live SocketSet.
/// `tsval`: the timestamp generator to install if `c.ts` (a plain fn; the caller keeps the
/// clock offset in a static). `now`: the live interface's clock.
///
/// Follows TCP-REPAIR §3 step 4 a–h. Two additions:
///
/// * While the repair runs the socket's delayed ACK is off (it is restored before the
///   socket is returned), so that every re-injected segment of unread bytes is answered
///   at once by an ACK that slides the receive window. Otherwise, without window scaling
///   and with more than 64 KiB unread, the second 32 KiB segment would end one byte past
///   the window advertised by the handshake and be trimmed.
/// * CLOSE-WAIT (`c.fin_received`): the peer's FIN is injected at `rcv_read +
///   unread.len()`, after the unread bytes, so `rcv_nxt` ends at `rcv_read +
///   unread.len() + 1`: the FIN is consumed exactly once, after the bytes the program has
///   yet to read, which it then reads, followed by end-of-file. The FIN *is* step g's last
///   segment (it carries `ack = snd_una` and the saved window like the pure ACK would, and
///   is processed ingress-only, after the shadow is queued). It cannot come before
///   `send_slice` followed by a separate pure ACK: without an egress poll in between,
///   smoltcp's receive window still ends where the last ACK it sent put it
///   (`rcv_read + unread.len()` when the unread bytes fill the buffer), so a pure ACK at
///   `rcv_nxt` lies past it and draws a challenge ACK (a frame after the send; seen in
///   the tests); and at `rcv_nxt - 1` it is taken for a keep-alive and answered too.
///   An egress poll after the FIN would work but would spend its ACK on the repair device.
///
///   What the peer sees: being processed ingress-only, the FIN leaves the returned socket
///   owing an ACK (`ack = rcv_read + unread.len() + 1`, the delayed-ACK timer idle), which
///   it sends on the first poll of the live interface, or with its first data segment. The
///   peer is in FIN-WAIT-1/2 (or CLOSING if it saw our FIN, impossible here). If our
///   original ACK of its FIN had reached it, this is a duplicate ACK that acknowledges
///   nothing new and changes nothing. If the process died before that ACK left (or it
///   was lost), this is the ACK it was missing: it never has to retransmit its FIN. Were
///   it to retransmit anyway (a restore slower than its RTO), the FIN at `rcv_nxt - 1`
///   is answered with an ACK carrying the same acknowledgment number. Our own later FIN
///   (after `close()`) follows the shadow bytes as usual (LAST-ACK).
pub(crate) fn rebuild(
    c: &Conn,
    now: Instant,
    tsval: Option<TcpTimestampGenerator>,
) -> Result<tcp::Socket<'static>, RepairError> {
    let pre = pre_isn_draws();
    let mut at = RepairAt {
        snd_una: c.snd_una,
        rcv_read: c.rcv_read,
        unread: c.unread.len(),
        shadow: c.shadow.len(),
        seed: seed_for(c.snd_una.wrapping_sub(1), pre, 0),
    };
    let tsval = match (c.ts, tsval) {
        (false, _) => None,
        (true, Some(g)) => Some(g),
        (true, None) => return Err(RepairError::NoTsvalGenerator { at }),
    };
    let mut got = None;
    for v in 0..ISN_VARIANTS {
        at.seed = seed_for(c.snd_una.wrapping_sub(1), pre, v);
        match attempt(c, now, tsval, at) {
            Ok(sock) => return Ok(sock),
            Err(Attempt::IsnMismatch(g)) => got = g,
            Err(Attempt::Fatal(e)) => return Err(e),
        }
    }
    Err(RepairError::IsnMismatch {
        at,
        got,
        tries: ISN_VARIANTS,
    })
}

/// Sequence number of the first SYN (with or without ACK) in `frames`, with its ACK.
fn find_syn(frames: &[Vec<u8>]) -> Option<(u32, Option<u32>)> {
    frames.iter().find_map(|f| {
        let seg = parse_segment(f, false)?;
        (seg.tcp.control == TcpControl::Syn).then(|| {
            (
                seg.tcp.seq_number.0 as u32,
                seg.tcp.ack_number.map(|a| a.0 as u32),
            )
        })
    })
}

/// One rebuild on a fresh repair interface seeded with `at.seed`.
fn attempt(
    c: &Conn,
    now: Instant,
    tsval: Option<TcpTimestampGenerator>,
    at: RepairAt,
) -> Result<tcp::Socket<'static>, Attempt> {
    let setup = |what: String| Attempt::Fatal(RepairError::Setup { at, what });
    let isn = c.snd_una.wrapping_sub(1);
    let peer_isn = c.rcv_read.wrapping_sub(1);

    // a. The repair interface.
    let mut dev = MemDevice::default();
    let mut cfg = Config::new(HardwareAddress::Ip);
    cfg.random_seed = at.seed;
    let mut iface = Interface::new(cfg, &mut dev, now);
    if c.local.addr.version() != c.remote.addr.version() {
        return Err(setup(format!(
            "local {} and remote {} differ in IP version",
            c.local, c.remote
        )));
    }
    setup_addrs(&mut iface, c.local.addr, c.remote.addr).map_err(setup)?;

    // b. The socket, same capacities, same options.
    let mut sock = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; c.rx_cap]),
        tcp::SocketBuffer::new(vec![0u8; c.tx_cap]),
    );
    sock.set_nagle_enabled(c.nagle);
    sock.set_ack_delay(None); // restored at the end (see `rebuild`)
    sock.set_keep_alive(c.keep_alive);
    sock.set_timeout(c.timeout);
    sock.set_hop_limit(c.hop_limit.filter(|&h| h != 0));
    sock.set_congestion_control(c.congestion);
    sock.set_tsval_generator(tsval);

    // c. The synthetic handshake.
    let inj = Inject { c };
    let mut set = SocketSet::new(vec![]);
    let h = match c.role {
        Role::Accepted => {
            sock.listen(c.local)
                .map_err(|e| setup(format!("listen on {}: {e}", c.local)))?;
            let h = set.add(sock);
            let syn = inj.frame(TcpControl::Syn, peer_isn, None, 65535, true, &[]);
            dev.rx.push_back(syn);
            iface.poll(now, &mut dev, &mut set);
            match find_syn(&dev.tx) {
                Some((seq, Some(ack))) if seq == isn && ack == c.rcv_read => {}
                other => return Err(Attempt::IsnMismatch(other.map(|(s, _)| s))),
            }
            let ack = inj.frame(
                TcpControl::None,
                c.rcv_read,
                Some(c.snd_una),
                c.peer_window,
                false,
                &[],
            );
            dev.rx.push_back(ack);
            iface.poll(now, &mut dev, &mut set);
            h
        }
        Role::Connected => {
            sock.connect(iface.context(), c.remote, c.local)
                .map_err(|e| setup(format!("connect {} -> {}: {e}", c.local, c.remote)))?;
            let h = set.add(sock);
            iface.poll(now, &mut dev, &mut set);
            match find_syn(&dev.tx) {
                Some((seq, None)) if seq == isn => {}
                other => return Err(Attempt::IsnMismatch(other.map(|(s, _)| s))),
            }
            let syn_ack = inj.frame(TcpControl::Syn, peer_isn, Some(c.snd_una), 65535, true, &[]);
            dev.rx.push_back(syn_ack);
            iface.poll(now, &mut dev, &mut set);
            // The SYN-ACK's window is unscaled: set the saved (scaled) one.
            let ack = inj.frame(
                TcpControl::None,
                c.rcv_read,
                Some(c.snd_una),
                c.peer_window,
                false,
                &[],
            );
            dev.rx.push_back(ack);
            iface.poll(now, &mut dev, &mut set);
            h
        }
    };

    // d. ESTABLISHED.
    let state = set.get::<tcp::Socket>(h).state();
    if state != tcp::State::Established {
        return Err(Attempt::Fatal(RepairError::NotEstablished { at, state }));
    }

    // e. The unread bytes, in order, ≤ 32 KiB per segment.
    let mut offset = 0usize;
    for chunk in c.unread.chunks(INJECT_CHUNK) {
        let seg = inj.frame(
            TcpControl::None,
            c.rcv_read.wrapping_add(offset as u32),
            Some(c.snd_una),
            c.peer_window,
            false,
            chunk,
        );
        dev.rx.push_back(seg);
        iface.poll(now, &mut dev, &mut set);
        offset += chunk.len();
    }
    let queued = set.get::<tcp::Socket>(h).recv_queue();
    if queued != c.unread.len() {
        return Err(Attempt::Fatal(RepairError::RecvQueueMismatch {
            at,
            got: queued,
        }));
    }
    let rcv_nxt = c.rcv_read.wrapping_add(c.unread.len() as u32);

    // f. The unacknowledged and unsent bytes. No egress poll from here on.
    let sock = set.get_mut::<tcp::Socket>(h);
    let accepted = sock.send_slice(&c.shadow).unwrap_or(0);
    if accepted != c.shadow.len() {
        return Err(Attempt::Fatal(RepairError::ShortSend {
            at,
            accepted,
            tx_cap: c.tx_cap,
        }));
    }
    let emitted = dev.tx.len();

    // g. A last segment, ingress only (arms the zero-window probe if the window is 0):
    // a pure ACK, or in CLOSE-WAIT the peer's FIN (see `rebuild`).
    let control = if c.fin_received {
        TcpControl::Fin
    } else {
        TcpControl::None
    };
    let last = inj.frame(control, rcv_nxt, Some(c.snd_una), c.peer_window, false, &[]);
    dev.rx.push_back(last);
    while iface.poll_ingress_single(now, &mut dev, &mut set)
        != smoltcp::iface::PollIngressSingleResult::None
    {}
    if dev.tx.len() != emitted {
        return Err(Attempt::Fatal(RepairError::FrameAfterSend {
            at,
            frames: dev.tx.len() - emitted,
        }));
    }
    let sock = set.get::<tcp::Socket>(h);
    if sock.recv_queue() != c.unread.len() {
        let got = sock.recv_queue();
        return Err(Attempt::Fatal(RepairError::RecvQueueMismatch { at, got }));
    }
    let expected = if c.fin_received {
        tcp::State::CloseWait
    } else {
        tcp::State::Established
    };
    let state = set.get::<tcp::Socket>(h).state();
    if state != expected {
        return Err(Attempt::Fatal(RepairError::NotEstablished { at, state }));
    }

    // h. Out of the repair set.
    match set.remove(h) {
        smoltcp::socket::Socket::Tcp(mut t) => {
            t.set_ack_delay(c.ack_delay);
            Ok(t)
        }
        #[allow(unreachable_patterns)]
        _ => Err(setup(
            "the repair socket set returned another kind of socket".into(),
        )),
    }
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
