//! TAP devices and the fd holder.
//!
//! The user-space stack reads and writes Ethernet frames on a persistent TAP device
//! (`ip tuntap add dev NAME mode tap`). When the last fd attached to a TAP closes, the
//! device loses its carrier: the kernel flushes its neighbour entry for us, marks the route
//! `linkdown` and drops what the peer sends. A checkpointed program that is killed and
//! restored must not let that happen, so a small **holder** process keeps the TAP fd open
//! and hands it to each incarnation of the program over a Unix socket (`SCM_RIGHTS`), see
//! `TCP-REPAIR.md` §6.
//!
//! The holder listens on the abstract Unix socket `"\0ckpt-tap/<name>"`. Abstract sockets
//! are per network namespace, like the TAP device itself. It is started on demand by
//! [`Tap::through_holder`] (double fork + `setsid`: not the program's child, survives it,
//! leaves no zombie), is named `ckpt-tap-hold` (`prctl(PR_SET_NAME)`), writes nothing, never
//! touches frames, and exits when no client has been connected for
//! `CKPT_TAP_HOLDER_IDLE` seconds (default 600, at least 1) or when the device disappears.

use std::ffi::CStr;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// The environment variable giving the holder's idle period in seconds.
const IDLE_ENV: &str = "CKPT_TAP_HOLDER_IDLE";
/// The holder's idle period when `CKPT_TAP_HOLDER_IDLE` is unset or invalid.
const DEFAULT_IDLE: Duration = Duration::from_secs(600);
/// The shortest idle period: the program that started the holder must have time to connect.
const MIN_IDLE: Duration = Duration::from_secs(1);
/// The holder's process name (`/proc/PID/comm`).
pub(crate) const HOLDER_COMM: &CStr = c"ckpt-tap-hold";
/// The abstract socket name is this prefix followed by the device name.
const SOCKET_PREFIX: &[u8] = b"ckpt-tap/";
/// How many program connections the holder tracks at once (more are served, not tracked).
const MAX_CLIENTS: usize = 32;
/// How long `through_holder` waits for the holder's report and for its fd.
const HOLDER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `through_holder` keeps trying to reach a holder (race losers, exiting holders).
const CONNECT_PATIENCE: Duration = Duration::from_secs(3);

/// An open TAP device (`IFF_TAP | IFF_NO_PI`), nonblocking: one Ethernet frame per
/// read/write.
#[derive(Debug)]
pub(crate) struct Tap {
    fd: OwnedFd,
    name: String,
    /// The connection to the holder, if the fd came from one: kept open for the life of
    /// this `Tap` so the holder knows a program is using the device.
    holder: Option<OwnedFd>,
}

impl Tap {
    /// Opens `/dev/net/tun` and attaches to the existing TAP device `name` (`TUNSETIFF`),
    /// with `O_NONBLOCK`. Fails with `NotFound` if no such device exists (it is never
    /// created here), and with `EBUSY` if another process (say a holder) has it attached.
    pub fn open(name: &str) -> io::Result<Tap> {
        let ifr = ifreq_for(name)?;
        let ctl = ctl_socket()?;
        if ifindex(&ctl, &ifr).is_err() {
            return Err(no_device(name));
        }
        drop(ctl);
        // SAFETY: a valid NUL-terminated path; the returned fd is checked below.
        let raw = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("cannot open /dev/net/tun for TAP device `{name}`: {e}"),
            ));
        }
        // SAFETY: `raw` is a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut req = ifr;
        // SAFETY: TUNSETIFF reads (and may update) an ifreq, which `req` is.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &mut req) } < 0 {
            let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
            return Err(attach_error(name, errno));
        }
        Ok(Tap {
            fd,
            name: name.to_owned(),
            holder: None,
        })
    }

    /// Obtains the device through its holder: connects to the holder's Unix socket for
    /// `name` (abstract namespace, `"\0ckpt-tap/<name>"`); if no holder answers, starts one
    /// and connects to it. `Ok((tap, started))` where `started` says whether this call
    /// started the holder. If the holder cannot be started (the caller cannot fork), falls
    /// back to [`Tap::open`] (`started == false`, no holder).
    ///
    /// The idle period of a holder started here is `CKPT_TAP_HOLDER_IDLE` seconds (default
    /// 600, at least 1).
    pub fn through_holder(name: &str) -> io::Result<(Tap, bool)> {
        let idle = std::env::var(IDLE_ENV)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(1e9)))
            .unwrap_or(DEFAULT_IDLE);
        through_holder_with(name, idle)
    }

    /// Reads one frame into `buf`; `Ok(None)` when none is waiting (`EAGAIN`). A frame
    /// longer than `buf` is truncated (size `buf` as MTU + 14).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(Some(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(None),
                _ => return Err(e),
            }
        }
    }

    /// Writes one frame; a full device queue (`EAGAIN`/`ENOBUFS`) is `Ok(false)`: the frame
    /// is dropped like on a wire.
    pub fn send(&self, frame: &[u8]) -> io::Result<bool> {
        loop {
            // SAFETY: `frame` is valid for reads of `frame.len()` bytes.
            let n = unsafe { libc::write(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
            if n >= 0 {
                return Ok(true);
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => return Ok(false),
                _ => return Err(e),
            }
        }
    }

    #[cfg_attr(not(test), allow(dead_code))] // API not used by the stack yet
    /// Waits until a frame is readable or `timeout` passes (`poll(2)`; `None`: no limit).
    /// `Ok(true)` if readable. An error or hang-up on the device (it was deleted) is an
    /// error.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        match poll_in(self.fd.as_raw_fd(), timeout)? {
            None => Ok(false),
            Some(revents) if revents & libc::POLLIN != 0 => Ok(true),
            Some(revents) => Err(io::Error::other(format!(
                "TAP device `{}` failed (poll revents {revents:#x}): was it deleted?",
                self.name
            ))),
        }
    }

    #[cfg_attr(not(test), allow(dead_code))] // API not used by the stack yet
    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw fd of the device (owned by this `Tap`).
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    #[cfg_attr(not(test), allow(dead_code))] // API not used by the stack yet
    /// Whether the fd came from a holder (which keeps the device attached between
    /// incarnations).
    pub fn is_held(&self) -> bool {
        self.holder.is_some()
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Tap {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Waits until `fd` is readable or `timeout` passes (`poll(2)`, retried on EINTR; `None`:
/// no limit): `Ok(None)` when it passed, else the events `poll` reported.
pub(crate) fn poll_in(fd: RawFd, timeout: Option<Duration>) -> io::Result<Option<i16>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => poll_ms(d.saturating_duration_since(Instant::now())),
        };
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        return Ok((r > 0).then_some(pfd.revents));
    }
}

/// The device's MTU as the kernel reports it (`SIOCGIFMTU`), for sizing frames
/// (frame = MTU + 14).
pub(crate) fn mtu(name: &str) -> io::Result<usize> {
    let mut ifr = ifreq_for(name)?;
    let ctl = ctl_socket()?;
    // SAFETY: SIOCGIFMTU fills the union of a valid ifreq.
    if unsafe { libc::ioctl(ctl.as_raw_fd(), libc::SIOCGIFMTU as _, &mut ifr) } < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENODEV) {
            return Err(no_device(name));
        }
        return Err(e);
    }
    // SAFETY: SIOCGIFMTU succeeded, so `ifru_mtu` is the member it wrote.
    let m = unsafe { ifr.ifr_ifru.ifru_mtu };
    usize::try_from(m).map_err(|_| io::Error::other(format!("`{name}` reports MTU {m}")))
}

#[cfg_attr(not(test), allow(dead_code))] // API not used by the stack yet
/// The pid of the holder of `name` in the current network namespace, obtained through
/// `SO_PEERCRED` on a connection to it; `None` if no holder answers. The short connection
/// counts as a client: it restarts the holder's idle period (do not poll with it to watch
/// for an idle exit).
pub(crate) fn holder_pid(name: &str) -> Option<u32> {
    let (addr, len) = holder_addr(name).ok()?;
    let sock = connect_holder(&addr, len).ok()?;
    let cred = peer_cred(&sock).ok()?;
    u32::try_from(cred.pid).ok()
}

/// [`Tap::through_holder`] with the idle period of a holder started here given explicitly.
pub(crate) fn through_holder_with(name: &str, idle: Duration) -> io::Result<(Tap, bool)> {
    let ifr = ifreq_for(name)?;
    let (addr, len) = holder_addr(name)?;
    // Checked here too, to not fork for nothing (the holder checks again).
    if ifindex(&ctl_socket()?, &ifr).is_err() {
        return Err(no_device(name));
    }
    let deadline = Instant::now() + CONNECT_PATIENCE;
    let mut started = false;
    let mut tried_start = false;
    loop {
        match connect_holder(&addr, len) {
            Ok(sock) => match receive_tap(name, sock) {
                Ok(tap) => return Ok((tap, started)),
                // The holder was exiting (idle) as we connected: start a new one.
                Err(e) if Instant::now() < deadline && e.kind() == io::ErrorKind::UnexpectedEof => {
                    tried_start = false;
                    started = false;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            },
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ECONNREFUSED) | Some(libc::ENOENT) | Some(libc::EAGAIN)
                ) =>
            {
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no TAP holder for `{name}` answers: {e}"),
                    ));
                }
                if !tried_start && e.raw_os_error() != Some(libc::EAGAIN) {
                    tried_start = true;
                    match spawn_holder(name, &ifr, &addr, len, idle)? {
                        Spawn::Started => started = true,
                        Spawn::LostRace => started = false,
                        Spawn::CannotFork => return Tap::open(name).map(|t| (t, false)),
                    }
                    continue;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers of the program side.

fn no_device(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "TAP device `{name}` does not exist: create it with `ip tuntap add dev {name} mode tap`"
        ),
    )
}

/// The error of attaching to `name` (TUNSETIFF or the holder's report), with a hint.
fn attach_error(name: &str, errno: i32) -> io::Error {
    let e = io::Error::from_raw_os_error(errno);
    let hint = match errno {
        libc::EINVAL => "is it a TAP (not TUN) device?",
        libc::EBUSY => "another process (a holder, or a program without one) has it attached",
        libc::EPERM | libc::EACCES => {
            "attaching needs CAP_NET_ADMIN or to be the device's owner (`ip tuntap add ... user U`)"
        }
        libc::ENODEV | libc::ENXIO => return no_device(name),
        _ => "",
    };
    io::Error::new(
        e.kind(),
        format!("cannot attach to TAP device `{name}`: {e} {hint}"),
    )
}

/// An ifreq naming `name` with the flags for TUNSETIFF.
fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty()
        || bytes.len() >= libc::IFNAMSIZ
        || bytes.iter().any(|&b| b == 0 || b == b'/')
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid network device name `{name}` (1 to 15 bytes, no NUL or '/')"),
        ));
    }
    // SAFETY: ifreq is plain data (arrays, integers, a union of such); all zeroes is valid.
    let mut ifr: libc::ifreq = unsafe { mem::zeroed() };
    for (d, &s) in ifr.ifr_name.iter_mut().zip(bytes) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    Ok(ifr)
}

/// A datagram socket for interface ioctls.
fn ctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); checked below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// The interface index of the device named in `ifr` (SIOCGIFINDEX).
fn ifindex(ctl: &OwnedFd, ifr: &libc::ifreq) -> io::Result<i32> {
    let mut req = *ifr;
    // SAFETY: SIOCGIFINDEX fills the union of a valid ifreq (a copy).
    if unsafe { libc::ioctl(ctl.as_raw_fd(), libc::SIOCGIFINDEX as _, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the ioctl succeeded, so `ifru_ifindex` is the member it wrote.
    Ok(unsafe { req.ifr_ifru.ifru_ifindex })
}

/// The abstract socket address of the holder of `name`.
fn holder_addr(name: &str) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    ifreq_for(name)?; // validates the name (short, so the address fits)
                      // SAFETY: sockaddr_un is plain data; all zeroes is valid.
    let mut addr: libc::sockaddr_un = unsafe { mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // sun_path[0] stays 0: the abstract namespace.
    let path = SOCKET_PREFIX.iter().chain(name.as_bytes());
    let mut n = 1;
    for (d, &s) in addr.sun_path[1..].iter_mut().zip(path) {
        *d = s as libc::c_char;
        n += 1;
    }
    let len = mem::offset_of!(libc::sockaddr_un, sun_path) + n;
    Ok((addr, len as libc::socklen_t))
}

/// Connects (nonblocking socket) to the holder's socket.
fn connect_holder(addr: &libc::sockaddr_un, len: libc::socklen_t) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); checked below.
    let raw = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    loop {
        // SAFETY: `addr` is a valid sockaddr_un of which `len` bytes are used.
        let r = unsafe {
            libc::connect(
                sock.as_raw_fd(),
                (addr as *const libc::sockaddr_un).cast(),
                len,
            )
        };
        if r == 0 {
            return Ok(sock);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

fn peer_cred(sock: &OwnedFd) -> io::Result<libc::ucred> {
    // SAFETY: ucred is plain data.
    let mut cred: libc::ucred = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes at most `len` bytes into `cred`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred)
}

/// Receives the TAP fd from a connected holder and checks it: `UnexpectedEof` if the holder
/// closed the connection without sending one (it was exiting) or sent a detached device
/// (it is about to exit): worth retrying.
fn receive_tap(name: &str, sock: OwnedFd) -> io::Result<Tap> {
    let cred = peer_cred(&sock)?;
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if cred.uid != me && cred.uid != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the TAP holder socket for `{name}` belongs to uid {} (pid {}), not to us: refusing it",
                cred.uid, cred.pid
            ),
        ));
    }
    let deadline = Instant::now() + HOLDER_TIMEOUT;
    let fd = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if poll_in(sock.as_raw_fd(), Some(left))?.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the TAP holder for `{name}` (pid {}) sent no fd", cred.pid),
            ));
        }
        match recv_fd(&sock) {
            Ok(Some(fd)) => break fd,
            Ok(None) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the TAP holder for `{name}` closed the connection without an fd"),
                ))
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) => {
                continue
            }
            Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()))
            }
            Err(e) => return Err(e),
        }
    };
    // Check what we were given: a TAP device named `name`.
    // SAFETY: ifreq is plain data.
    let mut ifr: libc::ifreq = unsafe { mem::zeroed() };
    // SAFETY: TUNGETIFF fills a valid ifreq.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETIFF as _, &mut ifr) } < 0 {
        // A holder whose device was deleted (and maybe recreated) and that has not noticed
        // yet: retried, it exits within a second.
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the TAP holder for `{name}` sent an fd that is not an attached TUN/TAP device: {e}"),
        ));
    }
    let got: Vec<u8> = ifr
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    // SAFETY: TUNGETIFF wrote the flags member.
    let flags = i32::from(unsafe { ifr.ifr_ifru.ifru_flags });
    if got != name.as_bytes() || flags & libc::IFF_TAP == 0 || flags & libc::IFF_NO_PI == 0 {
        return Err(io::Error::other(format!(
            "the TAP holder for `{name}` sent device `{}` with flags {flags:#x}",
            String::from_utf8_lossy(&got)
        )));
    }
    // O_NONBLOCK is a property of the open file description, shared with the holder: the
    // holder opened it nonblocking; set it anyway in case something cleared it.
    // SAFETY: fcntl on an fd we own.
    unsafe {
        let fl = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if fl >= 0 && fl & libc::O_NONBLOCK == 0 {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
    Ok(Tap {
        fd,
        name: name.to_owned(),
        holder: Some(sock),
    })
}

/// One `recvmsg` expecting one byte and an `SCM_RIGHTS` fd: `Ok(None)` on EOF.
fn recv_fd(sock: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; 8];
    // SAFETY: msghdr is plain data; all zeroes is valid.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(&cbuf) as _;
    // SAFETY: `msg` points to live buffers of the sizes it states.
    let n = unsafe {
        libc::recvmsg(
            sock.as_raw_fd(),
            &mut msg,
            libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut got: Option<OwnedFd> = None;
    // SAFETY: walking the control messages the kernel wrote into `cbuf`, as `msg` describes.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c);
                let count = ((*c).cmsg_len as usize).saturating_sub(data as usize - c as usize)
                    / mem::size_of::<RawFd>();
                for i in 0..count {
                    let fd = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
                    // Own every fd received (extra ones are closed on drop).
                    let owned = OwnedFd::from_raw_fd(fd);
                    if got.is_none() {
                        got = Some(owned);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if n == 0 && got.is_none() {
        return Ok(None);
    }
    match got {
        Some(fd) => Ok(Some(fd)),
        None => Err(io::Error::other(
            "the TAP holder sent a message without an fd",
        )),
    }
}

/// A poll(2) timeout in ms, rounded up, capped.
fn poll_ms(d: Duration) -> libc::c_int {
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms.min(i32::MAX as u128) as libc::c_int
}

// ---------------------------------------------------------------------------------------
// Starting the holder.

/// What became of an attempt to start a holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spawn {
    /// Our holder is listening.
    Started,
    /// Another holder bound the name first: connect to it.
    LostRace,
    /// fork failed: no holder.
    CannotFork,
}

/// The holder's report through the pipe: what happened and the errno.
#[derive(Clone, Copy)]
#[repr(C)]
struct Report {
    kind: u32,
    errno: i32,
}

const R_OK: u32 = 1;
const R_NO_DEVICE: u32 = 2;
const R_TUN_OPEN: u32 = 3;
const R_ATTACH: u32 = 4;
const R_SOCKET: u32 = 5;
const R_IN_USE: u32 = 6;
const R_BIND: u32 = 7;
const R_FORK: u32 = 8;

/// Everything the holder needs, prepared before fork (the child allocates nothing).
struct HolderPlan {
    ifr: libc::ifreq,
    addr: libc::sockaddr_un,
    addr_len: libc::socklen_t,
    idle_ms: i64,
    max_fd: libc::c_uint,
    report_fd: RawFd,
}

/// Forks the holder and waits for its report.
fn spawn_holder(
    name: &str,
    ifr: &libc::ifreq,
    addr: &libc::sockaddr_un,
    addr_len: libc::socklen_t,
    idle: Duration,
) -> io::Result<Spawn> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two fds into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh fds nothing else owns.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let idle = idle.max(MIN_IDLE);
    // SAFETY: rlimit is plain data, getrlimit fills it.
    let mut rl: libc::rlimit = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let max_fd = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 {
        rl.rlim_cur.min(65_536) as libc::c_uint
    } else {
        4096
    };
    let plan = HolderPlan {
        ifr: *ifr,
        addr: *addr,
        addr_len,
        idle_ms: idle.as_millis().min(i64::MAX as u128) as i64,
        max_fd,
        report_fd: wr.as_raw_fd(),
    };
    // SAFETY: fork; the child runs only async-signal-safe libc calls on data prepared above
    // (`holder_child` never returns and never allocates).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Ok(Spawn::CannotFork);
    }
    if pid == 0 {
        // SAFETY: we are the child of fork; see holder_child.
        unsafe { holder_child(&plan) }
    }
    drop(wr);
    // Reap the intermediate child (it exits right after forking the holder).
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let report = read_report(&rd)?;
    let Some(report) = report else {
        return Err(io::Error::other(format!(
            "the TAP holder for `{name}` exited without reporting"
        )));
    };
    match report.kind {
        R_OK => Ok(Spawn::Started),
        R_IN_USE => Ok(Spawn::LostRace),
        R_FORK => Ok(Spawn::CannotFork),
        R_NO_DEVICE => Err(no_device(name)),
        R_ATTACH => Err(attach_error(name, report.errno)),
        R_TUN_OPEN => {
            let e = io::Error::from_raw_os_error(report.errno);
            Err(io::Error::new(
                e.kind(),
                format!("the TAP holder cannot open /dev/net/tun for `{name}`: {e}"),
            ))
        }
        R_SOCKET | R_BIND => {
            let e = io::Error::from_raw_os_error(report.errno);
            Err(io::Error::new(
                e.kind(),
                format!("the TAP holder for `{name}` cannot listen on its socket: {e}"),
            ))
        }
        k => Err(io::Error::other(format!(
            "the TAP holder for `{name}` reported {k}"
        ))),
    }
}

/// Reads the holder's report (bounded by HOLDER_TIMEOUT); `None` on EOF or timeout.
fn read_report(rd: &OwnedFd) -> io::Result<Option<Report>> {
    let deadline = Instant::now() + HOLDER_TIMEOUT;
    let mut buf = [0u8; mem::size_of::<Report>()];
    let mut have = 0;
    while have < buf.len() {
        let mut pfd = libc::pollfd {
            fd: rd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, poll_ms(left)) };
        if r < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(io::Error::last_os_error());
        }
        if r == 0 {
            return Ok(None);
        }
        let rest = &mut buf[have..];
        // SAFETY: `rest` is valid for writes of its length.
        let n = unsafe { libc::read(rd.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Ok(None);
        }
        have += n as usize;
    }
    let kind = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    Ok(Some(Report { kind, errno }))
}

// ---------------------------------------------------------------------------------------
// The holder itself. Everything below runs in a child of fork() of a possibly multithreaded
// program: only async-signal-safe libc calls, no allocation, no panics (no indexing that
// could fail, no overflowing arithmetic), never returns.

/// The first child: new session, fork the holder, exit.
///
/// # Safety
/// Only to be called in the child right after fork().
unsafe fn holder_child(plan: &HolderPlan) -> ! {
    libc::setsid();
    let pid = libc::fork();
    if pid < 0 {
        report(plan.report_fd, R_FORK, errno());
        libc::_exit(1);
    }
    if pid > 0 {
        libc::_exit(0);
    }
    holder_main(plan)
}

/// The holder: sets up, reports, serves.
///
/// # Safety
/// Only to be called in the grandchild of fork().
unsafe fn holder_main(plan: &HolderPlan) -> ! {
    // Signals: default dispositions (the program's handlers are Rust code we must not
    // run here), nothing blocked, SIGPIPE ignored.
    let mut sa: libc::sigaction = mem::zeroed();
    sa.sa_sigaction = libc::SIG_DFL;
    let mut sig = 1;
    while sig < 65 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        sig += 1;
    }
    sa.sa_sigaction = libc::SIG_IGN;
    libc::sigaction(libc::SIGPIPE, &sa, std::ptr::null_mut());
    let mut set: libc::sigset_t = mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());

    libc::prctl(libc::PR_SET_NAME, HOLDER_COMM.as_ptr(), 0, 0, 0);
    libc::chdir(c"/".as_ptr());

    // Fds: the report pipe to 3, /dev/null on 0-2, nothing else.
    let rep = libc::fcntl(plan.report_fd, libc::F_DUPFD_CLOEXEC, 3);
    if rep < 0 {
        libc::_exit(1);
    }
    let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
    if null >= 0 {
        libc::dup2(null, 0);
        libc::dup2(null, 1);
        libc::dup2(null, 2);
    }
    let rep = if rep != 3 {
        if libc::dup2(rep, 3) < 0 {
            libc::_exit(1);
        }
        3
    } else {
        rep
    };
    close_from(4, plan.max_fd);

    // The device must exist (TUNSETIFF would otherwise create a transient one).
    let ctl = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if ctl < 0 {
        report(rep, R_SOCKET, errno());
        libc::_exit(1);
    }
    let index = raw_ifindex(ctl, &plan.ifr);
    if index < 0 {
        report(rep, R_NO_DEVICE, errno());
        libc::_exit(1);
    }

    // Bind first: the bind arbitrates between two holders started at once, and the loser
    // must not attach to the device (EBUSY) before learning it lost.
    let lsn = libc::socket(
        libc::AF_UNIX,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        0,
    );
    if lsn < 0 {
        report(rep, R_SOCKET, errno());
        libc::_exit(1);
    }
    if libc::bind(
        lsn,
        (&plan.addr as *const libc::sockaddr_un).cast(),
        plan.addr_len,
    ) < 0
    {
        let e = errno();
        report(
            rep,
            if e == libc::EADDRINUSE {
                R_IN_USE
            } else {
                R_BIND
            },
            e,
        );
        libc::_exit(0);
    }

    let tap = libc::open(
        c"/dev/net/tun".as_ptr(),
        libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
    );
    if tap < 0 {
        report(rep, R_TUN_OPEN, errno());
        libc::_exit(1);
    }
    let mut req = plan.ifr;
    if libc::ioctl(tap, libc::TUNSETIFF as _, &mut req) < 0 {
        report(rep, R_ATTACH, errno());
        libc::_exit(1);
    }
    if libc::listen(lsn, 64) < 0 {
        report(rep, R_BIND, errno());
        libc::_exit(1);
    }
    report(rep, R_OK, 0);
    libc::close(rep);

    holder_loop(plan, lsn, tap, ctl, index)
}

/// Serves until idle or the device disappears.
///
/// # Safety
/// Only in the holder process.
unsafe fn holder_loop(plan: &HolderPlan, lsn: RawFd, tap: RawFd, ctl: RawFd, index: i32) -> ! {
    let uid = libc::geteuid();
    let mut clients = [-1 as RawFd; MAX_CLIENTS];
    let mut nclients = 0usize;
    let mut idle_since = now_ms();
    let mut next_check = now_ms().saturating_add(1000);
    let mut pfds = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; MAX_CLIENTS + 2];
    'serve: loop {
        let now = now_ms();
        if nclients == 0 && now.saturating_sub(idle_since) >= plan.idle_ms {
            break;
        }
        if now >= next_check {
            next_check = now.saturating_add(1000);
            if raw_ifindex(ctl, &plan.ifr) != index {
                break;
            }
        }
        // pfds: [listener, tap, clients...]
        for p in pfds.iter_mut() {
            *p = libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            };
        }
        if let Some(p) = pfds.get_mut(0) {
            p.fd = lsn;
            p.events = libc::POLLIN;
        }
        if let Some(p) = pfds.get_mut(1) {
            // No events asked: POLLERR/POLLHUP (device gone) are always reported; frames
            // are not our business.
            p.fd = tap;
        }
        for (p, &c) in pfds.iter_mut().skip(2).zip(clients.iter()) {
            p.fd = c; // -1 entries are ignored by poll
            p.events = libc::POLLIN;
        }
        let r = libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 1000);
        if r <= 0 {
            continue;
        }
        if pfds.get(1).map_or(0, |p| p.revents) & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL)
            != 0
        {
            break;
        }
        // Clients: anything readable is either stray bytes (discarded) or the close.
        for (i, p) in pfds.iter().skip(2).enumerate() {
            if p.fd < 0 || p.revents == 0 {
                continue;
            }
            let mut buf = [0u8; 64];
            let n = libc::recv(p.fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT);
            if n == 0 || (n < 0 && errno() != libc::EAGAIN && errno() != libc::EINTR) {
                libc::close(p.fd);
                if let Some(slot) = clients.get_mut(i) {
                    *slot = -1;
                }
                nclients = nclients.saturating_sub(1);
                if nclients == 0 {
                    idle_since = now_ms();
                }
            }
        }
        if pfds.first().map_or(0, |p| p.revents) & libc::POLLIN != 0 {
            let mut accepted = 0;
            while accepted < 16 {
                accepted += 1;
                let c = libc::accept4(
                    lsn,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                );
                if c < 0 {
                    break;
                }
                if raw_ifindex(ctl, &plan.ifr) != index {
                    // The device is gone: the client gets EOF and starts a new holder.
                    libc::close(c);
                    break 'serve;
                }
                if !peer_allowed(c, uid) || !send_fd(c, tap) {
                    libc::close(c);
                    continue;
                }
                match clients.iter_mut().find(|s| **s < 0) {
                    Some(slot) => {
                        *slot = c;
                        nclients += 1;
                    }
                    // Served but not tracked: closing our end does not affect the fd the
                    // client received.
                    None => {
                        libc::close(c);
                    }
                }
            }
        }
    }
    for &c in clients.iter() {
        if c >= 0 {
            libc::close(c);
        }
    }
    libc::close(lsn);
    libc::close(tap);
    libc::close(ctl);
    libc::_exit(0)
}

/// Whether the client may have the device: our uid or root.
unsafe fn peer_allowed(c: RawFd, uid: libc::uid_t) -> bool {
    let mut cred: libc::ucred = mem::zeroed();
    let mut len = mem::size_of::<libc::ucred>() as libc::socklen_t;
    let r = libc::getsockopt(
        c,
        libc::SOL_SOCKET,
        libc::SO_PEERCRED,
        (&mut cred as *mut libc::ucred).cast(),
        &mut len,
    );
    r == 0 && (cred.uid == uid || cred.uid == 0)
}

/// Sends `fd` over `c` with SCM_RIGHTS and one byte of payload.
unsafe fn send_fd(c: RawFd, fd: RawFd) -> bool {
    let mut byte = [b'T'; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; 8];
    let mut msg: libc::msghdr = mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = libc::CMSG_SPACE(mem::size_of::<RawFd>() as u32) as _;
    let cm = libc::CMSG_FIRSTHDR(&msg);
    if cm.is_null() {
        return false;
    }
    (*cm).cmsg_level = libc::SOL_SOCKET;
    (*cm).cmsg_type = libc::SCM_RIGHTS;
    (*cm).cmsg_len = libc::CMSG_LEN(mem::size_of::<RawFd>() as u32) as _;
    std::ptr::write_unaligned(libc::CMSG_DATA(cm).cast::<RawFd>(), fd);
    libc::sendmsg(c, &msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) == 1
}

/// SIOCGIFINDEX without allocation; -1 on failure.
unsafe fn raw_ifindex(ctl: RawFd, ifr: &libc::ifreq) -> i32 {
    let mut req = *ifr;
    if libc::ioctl(ctl, libc::SIOCGIFINDEX as _, &mut req) < 0 {
        return -1;
    }
    req.ifr_ifru.ifru_ifindex
}

/// Closes every fd from `first` on (close_range, or a loop up to `max`).
unsafe fn close_from(first: libc::c_uint, max: libc::c_uint) {
    if libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) == 0 {
        return;
    }
    let mut fd = first;
    while fd < max {
        libc::close(fd as RawFd);
        fd += 1;
    }
}

/// Writes the report (8 bytes: atomic on a pipe).
unsafe fn report(fd: RawFd, kind: u32, err: i32) {
    let k = kind.to_ne_bytes();
    let e = err.to_ne_bytes();
    let buf = [k[0], k[1], k[2], k[3], e[0], e[1], e[2], e[3]];
    libc::write(fd, buf.as_ptr().cast(), buf.len());
}

/// CLOCK_MONOTONIC in ms.
unsafe fn now_ms() -> i64 {
    let mut ts: libc::timespec = mem::zeroed();
    libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    (ts.tv_sec as i64)
        .saturating_mul(1000)
        .saturating_add(ts.tv_nsec as i64 / 1_000_000)
}

fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno, always valid.
    unsafe { *libc::__errno_location() }
}

#[cfg(test)]
#[path = "tap_tests.rs"]
mod tests;
