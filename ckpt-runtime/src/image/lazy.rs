//! Lazy restore (`--restore IMG --ckpt-lazy`, images written with `--ckpt-incremental`):
//! the chunked arrays are not read before the program resumes. Their memory is left
//! empty and registered with `userfaultfd(2)`; a thread of ckpt's serves the program's
//! first touch of each page by reading, checking and decompressing the chunks behind it
//! (1 MiB of address at a time), and meanwhile fills the rest in order, so that after a
//! while every page is in and the thread ends. Each chunk's hash is checked when it is
//! read: a damaged chunk found after the program resumed ends the process with a message
//! naming it (its state cannot be made whole any more).
//!
//! Where `userfaultfd` is not allowed (an unprivileged process with
//! `vm.unprivileged_userfaultfd=0`, another OS) the arrays are read before the program
//! resumes, as without `--ckpt-lazy`.
//!
//! A background save forks; the forked writer would not see pages still missing (the
//! registration is not inherited), so a save first waits until every page is in
//! ([`wait_complete`]).

// Started by the agent's restore; without it only `register` is reached (never true).
#![cfg_attr(not(feature = "agent"), allow(dead_code))]

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Condvar, Mutex};

use super::chunks::{ChunkRef, Loader, CHUNK};

use super::uffd::{self, UffdioRange, PAGE, UFFDIO_COPY, UFFDIO_WAKE};

const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
const UFFD_EVENT_PAGEFAULT: u8 = 0x12;
/// The memory one fault fills (address-aligned within a region).
const WINDOW: usize = 1 << 20;

#[repr(C)]
struct UffdioCopy {
    dst: u64,
    src: u64,
    len: u64,
    mode: u64,
    copy: i64,
}

/// An array whose pages come in on first touch.
struct Region {
    /// The array's first byte.
    base: usize,
    /// The page-aligned part registered: `[start, end)`.
    start: usize,
    end: usize,
    refs: Vec<ChunkRef>,
    /// Windows filled so far.
    filled: Vec<bool>,
    left: usize,
}

struct State {
    uffd: Option<OwnedFd>,
    regions: Vec<Region>,
    loader: Option<Loader>,
    /// Recently read chunks: (region, chunk) → bytes.
    cache: VecDeque<((usize, usize), Vec<u8>)>,
    /// The thread serving faults runs.
    running: bool,
    /// Every page is in (or nothing was lazy).
    complete: bool,
    /// The image (for messages).
    image: String,
}

static LAZY: Mutex<State> = Mutex::new(State {
    uffd: None,
    regions: Vec::new(),
    loader: None,
    cache: VecDeque::new(),
    running: false,
    complete: true,
    image: String::new(),
});
static DONE: Condvar = Condvar::new();

fn state() -> std::sync::MutexGuard<'static, State> {
    LAZY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes `dst` (a freshly allocated, zeroed array of the image `image`) lazily filled
/// from `refs`. Returns false when it cannot be (no userfaultfd): the caller reads it.
pub(crate) fn register(image: &std::path::Path, dst: &mut [u8], refs: &[ChunkRef]) -> bool {
    let base = dst.as_mut_ptr() as usize;
    let (start, end) = uffd::pages(base, dst.len());
    if end <= start + WINDOW {
        return false;
    }
    let mut st = state();
    if st.uffd.is_none() {
        match uffd::open(0) {
            Some(fd) => st.uffd = Some(fd),
            None => return false,
        }
        st.loader = Some(Loader::new(image));
        st.image = image.display().to_string();
    }
    let Some(fd) = st.uffd.as_ref() else {
        return false;
    };
    // SAFETY: the range is inside `dst`, which we own: dropping its pages makes them
    // missing (read as zeros without the registration), and nothing else maps them.
    unsafe { libc::madvise(start as *mut _, end - start, libc::MADV_DONTNEED) };
    if !uffd::register(fd, start, end, UFFDIO_REGISTER_MODE_MISSING) {
        return false;
    }
    let windows = (end - start).div_ceil(WINDOW);
    let index = st.regions.len();
    st.regions.push(Region {
        base,
        start,
        end,
        refs: refs.to_vec(),
        filled: vec![false; windows],
        left: windows,
    });
    st.complete = false;
    drop(st);
    // The parts outside the registered pages: read now.
    let head = start - base;
    let tail = end - base;
    if let Err(e) = fill_bytes(index, refs, dst, 0, head).and_then(|()| {
        let len = dst.len();
        fill_bytes(index, refs, dst, tail, len)
    }) {
        fatal(&e);
    }
    true
}

/// Fills `dst[from..to]` (offsets in the array of region `region`) from the chunks,
/// through the shared loader.
fn fill_bytes(
    region: usize,
    refs: &[ChunkRef],
    dst: &mut [u8],
    from: usize,
    to: usize,
) -> Result<(), String> {
    let mut at = from;
    while at < to {
        let c = at / CHUNK;
        let bytes = chunk_bytes(region, c, &refs[c])?;
        let off = at - c * CHUNK;
        let n = (to - at).min(bytes.len() - off);
        dst[at..at + n].copy_from_slice(&bytes[off..off + n]);
        at += n;
    }
    Ok(())
}

/// The bytes of chunk `c` of region `region` (read and checked, or from the cache).
fn chunk_bytes(region: usize, c: usize, r: &ChunkRef) -> Result<Vec<u8>, String> {
    let mut st = state();
    if let Some((_, b)) = st.cache.iter().find(|(k, _)| *k == (region, c)) {
        return Ok(b.clone());
    }
    let mut buf = vec![0; r.len as usize];
    let Some(loader) = st.loader.as_mut() else {
        return Err("no chunk loader".into());
    };
    loader.chunk(r, &mut buf).map_err(|e| e.to_string())?;
    if st.cache.len() >= 4 {
        st.cache.pop_front();
    }
    st.cache.push_back(((region, c), buf.clone()));
    Ok(buf)
}

/// Starts the thread that serves faults and fills the rest (once, if anything is lazy).
pub(crate) fn start() {
    let mut st = state();
    if st.running || st.regions.is_empty() {
        return;
    }
    st.running = true;
    drop(st);
    let spawned = std::thread::Builder::new()
        .name("ckpt-lazy".into())
        .spawn(serve);
    if spawned.is_err() {
        // No thread: fill everything here.
        while let Some((r, w)) = next_unfilled() {
            fill_window(r, w);
        }
        finish();
    }
}

/// Waits until every lazily restored page is in (before a fork).
pub(crate) fn wait_complete() {
    let mut st = state();
    while !st.complete && st.running {
        st = DONE.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

fn fatal(e: &str) -> ! {
    let image = state().image.clone();
    eprintln!(
        "ckpt: error: lazy restore of {image}: {e}; the program's state cannot be made whole, \
         so it is stopped (restore from an earlier image, or without --ckpt-lazy to check \
         every chunk first)"
    );
    // SAFETY: ends the process; the program's threads are blocked on missing pages.
    unsafe { libc::_exit(2) }
}

/// The fault-serving thread: a fault first, else the next window in order.
fn serve() {
    let Some(fd) = state().uffd.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd we own.
        let ready = unsafe { libc::poll(&mut pfd, 1, 0) };
        if ready > 0 {
            let mut msg = [0u8; 32];
            // SAFETY: reads one message into our buffer.
            let n = unsafe { libc::read(fd, msg.as_mut_ptr().cast(), msg.len()) };
            if n == 32 && msg[0] == UFFD_EVENT_PAGEFAULT {
                let addr = u64::from_ne_bytes(msg[16..24].try_into().unwrap_or_default()) as usize;
                fault(addr);
            }
            continue;
        }
        match next_unfilled() {
            Some((r, w)) => fill_window(r, w),
            None => break,
        }
    }
    finish();
}

/// Every page is in: the registration goes with the descriptor.
fn finish() {
    let mut st = state();
    st.uffd = None;
    st.regions.clear();
    st.cache.clear();
    st.loader = None;
    st.complete = true;
    st.running = false;
    DONE.notify_all();
}

fn next_unfilled() -> Option<(usize, usize)> {
    let st = state();
    st.regions
        .iter()
        .enumerate()
        .find_map(|(i, r)| (r.left > 0).then(|| (i, r.filled.iter().position(|f| !f).unwrap_or(0))))
}

fn fault(addr: usize) {
    let found = {
        let st = state();
        st.regions
            .iter()
            .position(|r| (r.start..r.end).contains(&addr))
            .map(|i| (i, (addr - st.regions[i].start) / WINDOW))
    };
    match found {
        Some((r, w)) => fill_window(r, w),
        // Not ours (cannot happen: only our ranges are registered): wake it.
        None => wake(addr / PAGE * PAGE, PAGE),
    }
}

fn wake(start: usize, len: usize) {
    let Some(fd) = state().uffd.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    let mut range = UffdioRange::of(start, start + len);
    // SAFETY: the ioctl reads the struct we pass.
    unsafe { libc::ioctl(fd, UFFDIO_WAKE, &mut range) };
}

/// Reads window `w` of region `r` and copies it in (waking whoever faulted there).
fn fill_window(r: usize, w: usize) {
    let (base, ws, we, refs, done) = {
        let st = state();
        let reg = &st.regions[r];
        let ws = reg.start + w * WINDOW;
        let we = (ws + WINDOW).min(reg.end);
        (reg.base, ws, we, reg.refs.clone(), reg.filled[w])
    };
    if done {
        wake(ws, we - ws);
        return;
    }
    let mut buf = vec![0u8; we - ws];
    let (from, to) = (ws - base, we - base);
    let mut at = from;
    while at < to {
        let c = at / CHUNK;
        let bytes = chunk_bytes(r, c, &refs[c]).unwrap_or_else(|e| fatal(&e));
        let off = at - c * CHUNK;
        let n = (to - at).min(bytes.len() - off);
        buf[at - from..at - from + n].copy_from_slice(&bytes[off..off + n]);
        at += n;
    }
    let Some(fd) = state().uffd.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    let mut copy = UffdioCopy {
        dst: ws as u64,
        src: buf.as_ptr() as u64,
        len: (we - ws) as u64,
        mode: 0,
        copy: 0,
    };
    // SAFETY: copies our buffer into the registered, missing pages of the window.
    let rc = unsafe { libc::ioctl(fd, UFFDIO_COPY, &mut copy) };
    if rc != 0 {
        // Some pages were in already (EEXIST) or the memory went away: page by page,
        // skipping those, then whoever waits there is woken.
        for p in (ws..we).step_by(PAGE) {
            let mut one = UffdioCopy {
                dst: p as u64,
                src: buf[p - ws..].as_ptr() as u64,
                len: PAGE as u64,
                mode: 0,
                copy: 0,
            };
            // SAFETY: as above, one page.
            unsafe { libc::ioctl(fd, UFFDIO_COPY, &mut one) };
        }
        wake(ws, we - ws);
    }
    let mut st = state();
    let reg = &mut st.regions[r];
    if !reg.filled[w] {
        reg.filled[w] = true;
        reg.left -= 1;
    }
}
