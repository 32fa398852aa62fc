//! What the bulk benchmarks share (`bulk_bench`, `gfx_bench`): one clock for a process and
//! the children it spawns, file-system and page-cache helpers, medians. Included by each
//! with `#[path]`; not an example of its own.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::io::AsRawFd;

/// CLOCK_MONOTONIC in ns: one clock for this process and the children it spawns.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub fn since(t0: u64) -> f64 {
    secs(now_ns().saturating_sub(t0))
}

/// The parent's start time, passed to a child in the environment variable `env`; a
/// child started by hand exits saying so.
pub fn parent_t0(env: &str, program: &str) -> u64 {
    std::env::var(env)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("{program}: {env} is not set: this mode is started by the benchmark itself");
            std::process::exit(2)
        })
}

pub fn fsync_dir(dir: &str) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Flushes the file system (journal, discards of deleted files) outside the timings.
pub fn settle(dir: &str) {
    if let Ok(d) = File::open(dir) {
        // SAFETY: syncfs on a descriptor we own.
        unsafe { libc::syncfs(d.as_raw_fd()) };
    }
}

pub fn remove_if_exists(path: &str) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Puts `path` in the cache state `mode` names: "cold" (pages dropped) or "warm" (read once).
pub fn set_cache(path: &str, mode: &str) -> std::io::Result<()> {
    let mut f = File::open(path)?;
    if mode == "cold" {
        // Clean pages (the file was fsynced) are dropped at once.
        // SAFETY: posix_fadvise on a descriptor we own.
        let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
    } else {
        let mut buf = vec![0u8; 8 << 20];
        while f.read(&mut buf)? > 0 {}
    }
    Ok(())
}

/// Fraction of `path`'s pages in the page cache (mincore), to check `set_cache`.
pub fn resident(path: &str) -> f64 {
    let Ok(f) = File::open(path) else {
        return f64::NAN;
    };
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    if len == 0 {
        return f64::NAN;
    }
    // SAFETY: a read-only shared mapping of a file we opened, unmapped below; mincore
    // writes one byte per page into a vector of exactly that many bytes.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        if p == libc::MAP_FAILED {
            return f64::NAN;
        }
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        let mut vec = vec![0u8; len.div_ceil(page)];
        let rc = libc::mincore(p, len, vec.as_mut_ptr());
        libc::munmap(p, len);
        if rc != 0 {
            return f64::NAN;
        }
        vec.iter().filter(|&&b| b & 1 == 1).count() as f64 / vec.len() as f64
    }
}

/// The file system type of `dir`, from statfs.
pub fn fs_type(dir: &str) -> String {
    let Ok(c) = std::ffi::CString::new(dir) else {
        return "?".into();
    };
    // SAFETY: statfs writes into the zeroed struct we own.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut s) } != 0 {
        return "?".into();
    }
    match s.f_type as u64 {
        0xEF53 => "ext4".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794C_7630 => "overlayfs".into(),
        0x2FC1_2FC1 => "zfs".into(),
        t => format!("0x{t:x}"),
    }
}

pub fn median(xs: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The load average (1 minute), to print beside the results.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// `--cache both|cold|warm`: the page-cache states to measure reads in.
pub fn parse_cache(v: &str) -> Option<Vec<String>> {
    match v {
        "both" => Some(vec!["cold".into(), "warm".into()]),
        "cold" | "warm" => Some(vec![v.into()]),
        _ => None,
    }
}

/// Parses `--name value` pairs: `set(name, value)` takes each and says whether it knew
/// the name. An unknown name or a missing value prints `usage` and exits with 2.
pub fn parse_pairs(args: &[String], usage: &str, mut set: impl FnMut(&str, String) -> bool) {
    let bad = || -> ! {
        eprintln!("{usage}");
        std::process::exit(2)
    };
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let value = it.next().cloned().unwrap_or_else(|| bad());
        if !set(name, value) {
            bad();
        }
    }
}
