//! The `net` component: the stack's state in the image, and its restore.
//!
//! ```text
//! {"clock_ms": u, "next_id": u, "next_port": u, "medium": "in-process"|"tap",
//!  "frames": [bytes],                        in-process frames on their way
//!  "sockets": [{"id", "refs", "nonblocking", "read_timeout_ms", "write_timeout_ms",
//!               "ttl", "nodelay", "kind": "stream"|"listener"|"udp", ...}]}
//! stream:   "local", "peer", "written", "read", "read_shut", "unaccepted",
//!           "conn": the repair data (TCP-REPAIR.md §2) or null (not restorable)
//! listener: "local", "ready": [stream ids]
//! udp:      "local", "peer" (or null), "queue": [[payload, source]]
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use smoltcp::socket::tcp;
use smoltcp::wire::HardwareAddress;

use super::config::RelayPolicy;
use super::repair::{self, Conn, Role};
use super::stack::{self, Kind, Link, Listener, Relay, Sock, Stack, Stream, Udp};
use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

fn corrupt(detail: impl Into<String>) -> Error {
    Error::ty("net", "the `net` component", detail.into())
}

/// Writes the stack (or `null` if the program never used the network).
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    let mut g = stack::lock();
    let Some(st) = g.as_mut() else {
        e.null();
        return Ok(());
    };
    // No poll here: a replay skips saves, so a save must not change the stack.
    e.map(9);
    e.text("neighbors");
    e.array(st.dev.neighbors.len() as u64);
    for (ip, mac) in &st.dev.neighbors {
        e.array(2);
        e.bytes(ip);
        e.bytes(mac);
    }
    e.text("emitted");
    e.uint(st.dev.emitted);
    e.text("clock_ms");
    e.uint(stack::clock_ms());
    e.text("wall_ms");
    e.uint(wall_ms());
    e.text("next_id");
    e.uint(st.next_id);
    e.text("next_port");
    e.uint(u64::from(st.next_port));
    e.text("medium");
    e.text(if st.in_process() { "in-process" } else { "tap" });
    e.text("frames");
    match &st.dev.link {
        Link::Loop(q) => {
            e.array(q.len() as u64);
            for f in q {
                e.bytes(f);
            }
        }
        Link::Tap(_) | Link::Null => e.array(0),
    }
    e.text("sockets");
    e.array(st.socks.len() as u64);
    st.covering.clear();
    let ids: Vec<u64> = st.socks.keys().copied().collect();
    for id in ids {
        save_sock(st, id, e);
    }
    Ok(())
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn opt_ms(e: &mut Encoder<'_>, d: Option<Duration>) {
    match d {
        Some(d) => e.uint(d.as_millis() as u64),
        None => e.null(),
    }
}

fn save_sock(st: &mut Stack, id: u64, e: &mut Encoder<'_>) {
    let Stack {
        socks,
        set,
        dev,
        covering,
        ..
    } = st;
    let s = socks.get(&id).expect("listed");
    e.map(9);
    e.text("id");
    e.uint(id);
    e.text("refs");
    e.uint(u64::from(s.refs));
    e.text("nonblocking");
    e.bool(s.nonblocking);
    e.text("read_timeout_ms");
    opt_ms(e, s.read_timeout);
    e.text("write_timeout_ms");
    opt_ms(e, s.write_timeout);
    e.text("ttl");
    e.uint(u64::from(s.ttl));
    e.text("nodelay");
    e.bool(s.nodelay);
    e.text("kind");
    match &s.kind {
        Kind::Stream(sm) => {
            e.text("stream");
            e.text("v");
            e.map(7);
            e.text("local");
            e.text(&sm.local.to_string());
            e.text("peer");
            e.text(&sm.peer.to_string());
            e.text("written");
            e.uint(sm.written);
            e.text("read");
            e.uint(sm.read);
            e.text("read_shut");
            e.bool(sm.read_shut);
            e.text("unaccepted");
            e.bool(sm.unaccepted);
            e.text("conn");
            let sock = set.get_mut::<tcp::Socket>(sm.h);
            let seen = dev
                .observer
                .get(stack::to_smol(sm.local), stack::to_smol(sm.peer))
                .cloned();
            let (a, b) = sm.shadow.as_slices();
            let shadow = [a, b].concat();
            let conn = if sm.dead {
                None
            } else {
                seen.and_then(|seen| Conn::capture(sock, &seen, sm.written, sm.read, &shadow))
            };

            match conn {
                Some(c) => {
                    let fin = u32::from(c.fin_received);
                    covering.insert(
                        (c.local, c.remote),
                        (
                            c.snd_una.wrapping_add(c.shadow.len() as u32),
                            c.rcv_read
                                .wrapping_add(c.unread.len() as u32)
                                .wrapping_add(fin),
                        ),
                    );
                    save_conn(&c, e)
                }
                None => e.null(),
            }
        }
        Kind::Listener(l) => {
            e.text("listener");
            e.text("v");
            e.map(2);
            e.text("local");
            e.text(&l.local.to_string());
            e.text("ready");
            e.array(l.ready.len() as u64);
            for r in &l.ready {
                e.uint(*r);
            }
        }
        Kind::Relay(r) => {
            e.text("relay");
            e.text("v");
            e.map(4);
            e.text("local");
            e.text(&r.local.to_string());
            e.text("peer");
            e.text(&r.peer.to_string());
            e.text("written");
            e.uint(r.written);
            e.text("read");
            e.uint(r.read);
        }
        Kind::Udp(u) => {
            e.text("udp");
            e.text("v");
            e.map(3);
            e.text("local");
            e.text(&u.local.to_string());
            e.text("peer");
            match u.peer {
                Some(p) => e.text(&p.to_string()),
                None => e.null(),
            }
            e.text("queue");
            e.array(u.queue.len() as u64);
            for (d, from) in &u.queue {
                e.array(2);
                e.bytes(d);
                e.text(&from.to_string());
            }
        }
    }
}

fn save_conn(c: &Conn, e: &mut Encoder<'_>) {
    e.map(21);
    e.text("congestion");
    // This build of smoltcp has no congestion control but `None`.
    let _ = c.congestion;
    e.text("none");
    e.text("local");
    e.text(&stack::to_std(c.local).to_string());
    e.text("remote");
    e.text(&stack::to_std(c.remote).to_string());
    e.text("role");
    e.text(match c.role {
        Role::Accepted => "accepted",
        Role::Connected => "connected",
    });
    e.text("snd_una");
    e.uint(u64::from(c.snd_una));
    e.text("rcv_read");
    e.uint(u64::from(c.rcv_read));
    e.text("peer_mss");
    opt_u(e, c.peer_mss.map(u64::from));
    e.text("peer_wscale");
    opt_u(e, c.peer_wscale.map(u64::from));
    e.text("peer_sack");
    e.bool(c.peer_sack);
    e.text("ts");
    e.bool(c.ts);
    e.text("peer_window");
    e.uint(u64::from(c.peer_window));
    e.text("peer_tsval");
    e.uint(u64::from(c.peer_tsval));
    e.text("unread");
    e.bytes(&c.unread);
    e.text("shadow");
    e.bytes(&c.shadow);
    e.text("fin_received");
    e.bool(c.fin_received);
    e.text("rx_cap");
    e.uint(c.rx_cap as u64);
    e.text("tx_cap");
    e.uint(c.tx_cap as u64);
    e.text("nagle");
    e.bool(c.nagle);
    e.text("ack_delay_ms");
    opt_u(e, c.ack_delay.map(|d| d.total_millis()));
    e.text("keep_alive_ms");
    opt_u(e, c.keep_alive.map(|d| d.total_millis()));
    e.text("timeout_ms");
    opt_u(e, c.timeout.map(|d| d.total_millis()));
    // hop_limit rides in the socket's ttl.
    let _ = c.hop_limit;
}

fn opt_u(e: &mut Encoder<'_>, v: Option<u64>) {
    match v {
        Some(v) => e.uint(v),
        None => e.null(),
    }
}

fn get_u(v: &Value, k: &str) -> Result<u64> {
    v.get(k)
        .and_then(Value::as_u64)
        .ok_or_else(|| corrupt(format!("`{k}` is not an unsigned integer")))
}

fn get_opt_u(v: &Value, k: &str) -> Result<Option<u64>> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .map(Some)
            .ok_or_else(|| corrupt(format!("`{k}` is not an unsigned integer"))),
    }
}

fn get_bool(v: &Value, k: &str) -> Result<bool> {
    match v.get(k) {
        Some(Value::Bool(b)) => Ok(*b),
        _ => Err(corrupt(format!("`{k}` is not a boolean"))),
    }
}

fn get_addr(v: &Value, k: &str) -> Result<SocketAddr> {
    v.get(k)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt(format!("`{k}` is not a socket address")))
}

fn get_bytes(v: &Value, k: &str) -> Result<Vec<u8>> {
    match v.get(k) {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(corrupt(format!("`{k}` is not a byte string"))),
    }
}

fn ms(v: Option<u64>) -> Option<smoltcp::time::Duration> {
    v.map(smoltcp::time::Duration::from_millis)
}

fn load_conn(v: &Value) -> Result<Conn> {
    let small = |k: &str, max: u64| -> Result<u64> {
        let x = get_u(v, k)?;
        if x > max {
            return Err(corrupt(format!("`{k}` is out of range")));
        }
        Ok(x)
    };
    let cap = |k: &str| -> Result<usize> {
        let x = get_u(v, k)?;
        if !(1..=(1 << 30)).contains(&x) {
            return Err(corrupt(format!("`{k}` is not a buffer size")));
        }
        Ok(x as usize)
    };
    Ok(Conn {
        local: stack::to_smol(get_addr(v, "local")?),
        remote: stack::to_smol(get_addr(v, "remote")?),
        role: match v.get("role").and_then(Value::as_str) {
            Some("accepted") => Role::Accepted,
            Some("connected") => Role::Connected,
            _ => return Err(corrupt("`role` is not accepted|connected")),
        },
        snd_una: small("snd_una", u64::from(u32::MAX))? as u32,
        rcv_read: small("rcv_read", u64::from(u32::MAX))? as u32,
        peer_mss: get_opt_u(v, "peer_mss")?.map(|x| x.min(65535) as u16),
        peer_wscale: get_opt_u(v, "peer_wscale")?.map(|x| x.min(14) as u8),
        peer_sack: get_bool(v, "peer_sack")?,
        ts: get_bool(v, "ts")?,
        peer_window: small("peer_window", 65535)? as u16,
        peer_tsval: small("peer_tsval", u64::from(u32::MAX))? as u32,
        unread: get_bytes(v, "unread")?,
        shadow: get_bytes(v, "shadow")?,
        fin_received: get_bool(v, "fin_received")?,
        rx_cap: cap("rx_cap")?,
        tx_cap: cap("tx_cap")?,
        nagle: get_bool(v, "nagle")?,
        ack_delay: ms(get_opt_u(v, "ack_delay_ms")?),
        keep_alive: ms(get_opt_u(v, "keep_alive_ms")?),
        timeout: ms(get_opt_u(v, "timeout_ms")?),
        hop_limit: None,
        congestion: tcp::CongestionControl::None,
    })
}

/// Rebuilds the stack from the image: sockets first, then (on the first poll) traffic.
pub(crate) fn restore_component(v: &Value) -> Result<()> {
    if matches!(v, Value::Null) {
        return Ok(());
    }
    // The clock (and the TCP timestamps drawn from it) moves on by the real time since
    // the save: the killed process went on sending timestamps after its last image, and a
    // peer drops segments whose timestamp goes back (PAWS).
    let since = wall_ms().saturating_sub(get_opt_u(v, "wall_ms")?.unwrap_or(u64::MAX));
    stack::set_clock_at_least(
        get_u(v, "clock_ms")?
            .saturating_add(since)
            .saturating_add(1),
    );
    let medium = v.get("medium").and_then(Value::as_str).unwrap_or("");
    let mut g = stack::lock();
    let st = stack::get(&mut g).map_err(|e| Error::Restore {
        path: Default::default(),
        detail: format!("the network stack: {e}"),
    })?;
    let ours = if st.in_process() { "in-process" } else { "tap" };
    if medium != ours {
        return Err(Error::Usage(format!(
            "the image's network was {medium}, this run's is {ours}: restore with the same \
             network options (--ckpt-tap/--ckpt-ip) as the saved run"
        )));
    }
    st.next_id = get_u(v, "next_id")?;
    restore_neighbors(st, v);
    st.dev.emitted = get_opt_u(v, "emitted")?.unwrap_or(0);
    st.next_port = get_u(v, "next_port")?.clamp(1, 65535) as u16;
    if let (Some(Value::Array(frames)), Link::Loop(q)) = (v.get("frames"), &mut st.dev.link) {
        for f in frames {
            if let Value::Bytes(b) = f {
                q.push_back(b.clone());
            }
        }
    }
    let Some(Value::Array(socks)) = v.get("sockets") else {
        return Err(corrupt("`sockets` is not an array"));
    };
    for s in socks {
        restore_sock(st, s)?;
    }
    if st.in_process() {
        mark_gone_ends(st);
    }
    Ok(())
}

/// The neighbour cache: the saved entries come back as ARP replies the new interface
/// takes before any other frame.
fn restore_neighbors(st: &mut Stack, v: &Value) {
    if st.dev.medium != smoltcp::phy::Medium::Ethernet {
        // In-process: no link layer (and `hardware_addr` would panic).
        return;
    }
    let (Some(Value::Array(list)), HardwareAddress::Ethernet(ours)) =
        (v.get("neighbors"), st.iface.hardware_addr())
    else {
        return;
    };
    let our_ip = st.primary_ip().octets();
    for n in list {
        let Value::Array(pair) = n else { continue };
        let (Some(Value::Bytes(ip)), Some(Value::Bytes(mac))) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let (Ok(ip), Ok(mac)) = (<[u8; 4]>::try_from(&ip[..]), <[u8; 6]>::try_from(&mac[..]))
        else {
            continue;
        };
        st.dev.neighbors.insert(ip, mac);
        st.dev
            .inject
            .push_back(stack::arp_reply((ip, mac), (our_ip, ours.0)));
    }
}

/// In-process, both ends of a connection are the program's. An end that was closing at
/// the save (restored closed) or already closed (not in the image) is gone: the segments
/// of its connection are dropped, so the end that was restored (in CLOSE-WAIT, with bytes
/// it has not read, say) is not reset by the stack answering for the gone one.
fn mark_gone_ends(st: &mut Stack) {
    let ends: Vec<(SocketAddr, SocketAddr, bool)> = st
        .socks
        .values()
        .filter_map(|s| match &s.kind {
            Kind::Stream(sm) => Some((sm.local, sm.peer, sm.dead)),
            _ => None,
        })
        .collect();
    for (local, peer, dead) in &ends {
        let other_alive = ends.iter().any(|(l, p, d)| l == peer && p == local && !d);
        if !dead && !other_alive {
            st.dev
                .gone
                .insert((stack::to_smol(*peer), stack::to_smol(*local)));
        }
        if *dead {
            st.dev
                .gone
                .insert((stack::to_smol(*local), stack::to_smol(*peer)));
        }
    }
}

fn restore_sock(st: &mut Stack, v: &Value) -> Result<()> {
    let id = get_u(v, "id")?;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let body = v.get("v").ok_or_else(|| corrupt("a socket without `v`"))?;
    let kind = match kind {
        "stream" => {
            let local = get_addr(body, "local")?;
            let peer = get_addr(body, "peer")?;
            let written = get_u(body, "written")?;
            let read = get_u(body, "read")?;
            let (h, shadow, dead) =
                match body.get("conn") {
                    Some(Value::Null) | None => {
                        // Not restorable (closing, or still connecting): a closed socket.
                        (st.set.add(Stack::tcp_socket()), VecDeque::new(), true)
                    }
                    Some(c) => {
                        let conn = load_conn(c)?;
                        let sock = repair::rebuild(&conn, stack::now(), Some(stack::tsval))
                            .map_err(|e| Error::Restore {
                                path: Default::default(),
                                detail: format!("TCP connection {local} → {peer}: {e}"),
                            })?;
                        let seen = conn.seen(written, read);
                        st.dev.observer.insert(conn.local, conn.remote, seen);
                        (st.set.add(sock), conn.shadow.into_iter().collect(), false)
                    }
                };
            Kind::Stream(Stream {
                h,
                local,
                peer,
                written,
                read,
                shadow,
                read_shut: get_bool(body, "read_shut")?,
                unaccepted: get_bool(body, "unaccepted")?,
                dead,
            })
        }
        "listener" => {
            let Some(Value::Array(ready)) = body.get("ready") else {
                return Err(corrupt("a listener without `ready`"));
            };
            Kind::Listener(Listener {
                local: get_addr(body, "local")?,
                listening: Vec::new(),
                ready: ready.iter().filter_map(Value::as_u64).collect(),
            })
        }
        "udp" => {
            let local = get_addr(body, "local")?;
            let mut s = Stack::udp_socket();
            s.bind(stack::listen_endpoint(local))
                .map_err(|e| corrupt(format!("UDP {local}: {e}")))?;
            let mut queue = VecDeque::new();
            let mut queued_bytes = 0;
            if let Some(Value::Array(q)) = body.get("queue") {
                for d in q {
                    if let Value::Array(pair) = d {
                        if let (Some(Value::Bytes(b)), Some(from)) = (
                            pair.first(),
                            pair.get(1)
                                .and_then(Value::as_str)
                                .and_then(|s| s.parse().ok()),
                        ) {
                            queued_bytes += b.len();
                            queue.push_back((b.clone(), from));
                        }
                    }
                }
            }
            Kind::Udp(Udp {
                h: st.set.add(s),
                local,
                peer: match body.get("peer") {
                    Some(Value::Text(p)) => p.parse().ok(),
                    _ => None,
                },
                queue,
                queued_bytes,
            })
        }
        "relay" => {
            let peer = get_addr(body, "peer")?;
            let (conn, broken) = match super::config::get().relay {
                RelayPolicy::Error => (
                    None,
                    Some(format!(
                        "the connection to {peer}, a host outside this program (through the \
                         host relay), did not survive the restore; run the restore with \
                         --ckpt-net-relay=reconnect to connect again instead"
                    )),
                ),
                RelayPolicy::Reconnect => {
                    match std::net::TcpStream::connect_timeout(&peer, Duration::from_secs(10)) {
                        Ok(k) => {
                            eprintln!(
                                "ckpt: net: connected again to {peer} (--ckpt-net-relay=reconnect); \
                                 bytes on their way at the kill are lost"
                            );
                            (Some(std::sync::Arc::new(k)), None)
                        }
                        Err(e) => (
                            None,
                            Some(format!("connecting again to {peer} after the restore: {e}")),
                        ),
                    }
                }
            };
            let local = conn
                .as_ref()
                .and_then(|k| k.local_addr().ok())
                .map_or(get_addr(body, "local"), Ok)?;
            Kind::Relay(Relay {
                conn,
                local,
                peer,
                written: get_u(body, "written")?,
                read: get_u(body, "read")?,
                broken,
            })
        }
        other => return Err(corrupt(format!("unknown socket kind `{other}`"))),
    };
    let ms_of =
        |k: &str| -> Result<Option<Duration>> { Ok(get_opt_u(v, k)?.map(Duration::from_millis)) };
    let mut sock = Sock::new(kind);
    sock.refs = get_u(v, "refs")?.min(u64::from(u32::MAX)) as u32;
    sock.nonblocking = get_bool(v, "nonblocking")?;
    sock.read_timeout = ms_of("read_timeout_ms")?;
    sock.write_timeout = ms_of("write_timeout_ms")?;
    sock.ttl = get_u(v, "ttl")?.min(255) as u8;
    sock.nodelay = get_bool(v, "nodelay")?;
    if let Kind::Relay(Relay { conn: Some(k), .. }) = &sock.kind {
        // The new kernel socket behaves as the saved one did.
        let _ = k.set_nonblocking(sock.nonblocking);
        let _ = k.set_read_timeout(sock.read_timeout);
        let _ = k.set_write_timeout(sock.write_timeout);
        let _ = k.set_nodelay(sock.nodelay);
    }
    st.socks.insert(id, sock);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::decode_slice;

    /// Encodes with `f` and decodes back: a component entry as a restore sees it.
    fn value(f: impl FnOnce(&mut Encoder<'_>)) -> Value {
        let mut bytes = Vec::new();
        let mut e = Encoder::new(&mut bytes);
        f(&mut e);
        e.finish().unwrap();
        decode_slice(&bytes).unwrap().0
    }

    fn header(e: &mut Encoder<'_>, medium: &str, sockets: u64) {
        e.map(6);
        e.text("clock_ms");
        e.uint(5);
        e.text("next_id");
        e.uint(9);
        e.text("next_port");
        e.uint(50000);
        e.text("medium");
        e.text(medium);
        e.text("frames");
        e.array(0);
        e.text("sockets");
        e.array(sockets);
    }

    /// Damaged or foreign `net` entries are errors that say what is wrong, never panics,
    /// and a program that never used the network saves `null` and restores from it.
    #[test]
    fn malformed_entries_are_clear_errors() {
        restore_component(&Value::Null).unwrap();
        let e = restore_component(&value(|e| e.text("nonsense"))).unwrap_err();
        assert!(e.to_string().contains("clock_ms"), "{e}");
        // This process's stack is in-process: an image of a TAP run is a usage error.
        let e = restore_component(&value(|e| header(e, "tap", 0))).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("--ckpt-tap")),
            "{e}"
        );
        let e = restore_component(&value(|e| {
            header(e, "in-process", 1);
            e.map(3);
            e.text("id");
            e.uint(1);
            e.text("kind");
            e.text("wormhole");
            e.text("v");
            e.map(0);
        }))
        .unwrap_err();
        assert!(e.to_string().contains("wormhole"), "{e}");
        let e = restore_component(&value(|e| {
            header(e, "in-process", 1);
            e.map(3);
            e.text("id");
            e.uint(2);
            e.text("kind");
            e.text("stream");
            e.text("v");
            e.map(2);
            e.text("local");
            e.text("not an address");
            e.text("peer");
            e.text("127.0.0.1:1");
        }))
        .unwrap_err();
        assert!(e.to_string().contains("local"), "{e}");
    }

    /// The ARP reply a restore feeds the interface is one smoltcp takes: from the saved
    /// neighbour, to us, a reply.
    #[test]
    fn restored_neighbours_come_back_as_arp_replies() {
        use smoltcp::wire::{
            ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
            Ipv4Address,
        };
        let them = ([198, 51, 100, 1], [0x0a, 1, 2, 3, 4, 5]);
        let us = ([198, 51, 100, 2], [0x02, 9, 8, 7, 6, 5]);
        let f = stack::arp_reply(them, us);
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.dst_addr(), EthernetAddress(us.1));
        assert_eq!(eth.ethertype(), EthernetProtocol::Arp);
        let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
        assert_eq!(
            arp,
            ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Reply,
                source_hardware_addr: EthernetAddress(them.1),
                source_protocol_addr: Ipv4Address::from(them.0),
                target_hardware_addr: EthernetAddress(us.1),
                target_protocol_addr: Ipv4Address::from(us.0),
            }
        );
    }

    #[test]
    fn a_connection_entry_with_a_bad_buffer_size_is_refused() {
        let conn = value(|e| {
            e.map(4);
            e.text("local");
            e.text("127.0.0.1:1");
            e.text("remote");
            e.text("127.0.0.1:2");
            e.text("role");
            e.text("accepted");
            e.text("rx_cap");
            e.uint(0);
        });
        let e = load_conn(&conn).unwrap_err();
        assert!(e.to_string().contains("snd_una"), "{e}");
    }
}
