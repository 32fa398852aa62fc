//! Which chunks of the large arrays changed since the last incremental save, without
//! reading them: their memory is write-protected with `userfaultfd(2)` in asynchronous
//! mode (`UFFD_FEATURE_WP_ASYNC`: the kernel lifts the protection of a page at its first
//! write and remembers it, no handler runs), and at a save the `PAGEMAP_SCAN` ioctl lists
//! the pages written since. A chunk none of whose pages was written has the hash it had at
//! the last save, which the image written then holds: the writer refers to it without
//! hashing 1 MiB again.
//!
//! Only the scan (which changes nothing) is in the program's pause. The written chunks are
//! protected again afterwards ([`reprotect`], once the writer has its copy), while the
//! program runs: a write that lands between the save and that protection is not seen, so
//! the chunks written before a save count as changed at the next save too (they are
//! hashed then), which covers it. Chunks not written before a save stayed protected
//! throughout: any write after the save is seen.
//!
//! What is remembered is per array, by address and length, from the last image written
//! (read back from it when it is committed); anything uncertain (a failed save, a range
//! the kernel no longer tracks, a kernel without these features) means "hash it".

#![cfg_attr(not(feature = "agent"), allow(dead_code))]

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use super::chunks::CHUNK;

use super::uffd::{self, UffdioRange, UFFDIO_WRITEPROTECT};

const UFFD_FEATURE_WP_UNPOPULATED: u64 = 1 << 13;
const UFFD_FEATURE_WP_ASYNC: u64 = 1 << 15;
const UFFDIO_REGISTER_MODE_WP: u64 = 2;
const UFFDIO_WRITEPROTECT_MODE_WP: u64 = 1;
/// `_IOWR('f', 16, struct pm_scan_arg)`.
const PAGEMAP_SCAN: libc::c_ulong = 0xc060_6610;
const PM_SCAN_CHECK_WPASYNC: u64 = 1 << 1;
const PAGE_IS_WRITTEN: u64 = 1 << 1;

#[repr(C)]
struct UffdioWriteprotect {
    range: UffdioRange,
    mode: u64,
}

#[repr(C)]
struct PmScanArg {
    size: u64,
    flags: u64,
    start: u64,
    end: u64,
    walk_end: u64,
    vec: u64,
    vec_len: u64,
    max_pages: u64,
    category_inverted: u64,
    category_mask: u64,
    category_anyof_mask: u64,
    return_mask: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct PageRegion {
    start: u64,
    end: u64,
    categories: u64,
}

/// An array whose writes are tracked.
struct Tracked {
    base: usize,
    len: usize,
    /// The chunk hashes of the last image written, once it is committed.
    hashes: Option<Vec<u128>>,
    /// The chunks written before the last save: changed at the next save too, and to be
    /// protected again (`pending`).
    carry: Vec<bool>,
    pending: bool,
}

struct Tracker {
    uffd: OwnedFd,
    pagemap: File,
    arrays: Vec<Tracked>,
}

/// `None` inside: not tried yet; `Some(None)`: not available.
static TRACKER: Mutex<Option<Option<Tracker>>> = Mutex::new(None);

fn open() -> Option<Tracker> {
    let uffd = uffd::open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)?;
    let pagemap = File::open("/proc/self/pagemap").ok()?;
    Some(Tracker {
        uffd,
        pagemap,
        arrays: Vec::new(),
    })
}

use uffd::pages;

impl Tracker {
    /// Starts tracking writes to the array (registers and protects its pages).
    fn track(&mut self, base: usize, len: usize) -> bool {
        let (start, end) = pages(base, len);
        if end <= start {
            return false;
        }
        uffd::register(&self.uffd, start, end, UFFDIO_REGISTER_MODE_WP) && self.protect(start, end)
    }

    /// Write-protects the pages `[start, end)` of a registered array.
    fn protect(&self, start: usize, end: usize) -> bool {
        let mut wp = UffdioWriteprotect {
            range: UffdioRange::of(start, end),
            mode: UFFDIO_WRITEPROTECT_MODE_WP,
        };
        // SAFETY: the ioctl reads the struct we pass; it protects the program's live
        // array without changing its contents.
        unsafe { libc::ioctl(self.uffd.as_raw_fd(), UFFDIO_WRITEPROTECT, &mut wp) == 0 }
    }

    /// Protects again the chunks of the array marked in `chunks`.
    fn reprotect(&self, base: usize, len: usize, chunks: &[bool]) -> bool {
        let (start, end) = pages(base, len);
        let mut i = 0;
        while i < chunks.len() {
            if !chunks[i] {
                i += 1;
                continue;
            }
            let first = i;
            while i < chunks.len() && chunks[i] {
                i += 1;
            }
            // Whole pages: a page across a chunk boundary is protected with the chunk
            // (protecting more than needed only records a later write).
            let s = ((base + first * CHUNK) / uffd::PAGE * uffd::PAGE).max(start);
            let e = (base + i * CHUNK).next_multiple_of(uffd::PAGE).min(end);
            if e > s && !self.protect(s, e) {
                return false;
            }
        }
        true
    }

    /// The chunks of the array with a page written since it was last protected, without
    /// changing anything; `None` if the kernel cannot say.
    fn written(&mut self, base: usize, len: usize) -> Option<Vec<bool>> {
        let (start, end) = pages(base, len);
        let chunks = len.div_ceil(CHUNK);
        let mut dirty = vec![false; chunks];
        // The partial pages at both ends are not tracked.
        dirty[0] = true;
        dirty[chunks - 1] = true;
        let mut regions = vec![PageRegion::default(); 512];
        let mut at = start;
        while at < end {
            let mut arg = PmScanArg {
                size: std::mem::size_of::<PmScanArg>() as u64,
                flags: PM_SCAN_CHECK_WPASYNC,
                start: at as u64,
                end: end as u64,
                walk_end: 0,
                vec: regions.as_mut_ptr() as u64,
                vec_len: regions.len() as u64,
                max_pages: 0,
                category_inverted: 0,
                category_mask: PAGE_IS_WRITTEN,
                category_anyof_mask: 0,
                return_mask: PAGE_IS_WRITTEN,
            };
            // SAFETY: the ioctl reads the argument and fills up to `vec_len` regions
            // of our vector.
            let n = unsafe { libc::ioctl(self.pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
            if n < 0 {
                return None;
            }
            for r in &regions[..n as usize] {
                let (s, e) = (r.start as usize, r.end as usize);
                if e <= s {
                    continue;
                }
                let first = (s.max(base) - base) / CHUNK;
                let last = (e.min(base + len) - 1 - base) / CHUNK;
                for d in &mut dirty[first..=last.min(chunks - 1)] {
                    *d = true;
                }
            }
            let next = arg.walk_end as usize;
            if next <= at {
                return None;
            }
            at = next;
        }
        Some(dirty)
    }
}

/// For a save about to be written: the hash of each chunk of the array at `base` (`len`
/// bytes) that is known unchanged since the last image, `None` for the others. The
/// array's writes are tracked from now on.
pub(crate) fn known_hashes(base: usize, len: usize) -> Vec<Option<u128>> {
    let chunks = len.div_ceil(CHUNK);
    let unknown = || vec![None; chunks];
    let mut g = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(t) = g.get_or_insert_with(open).as_mut() else {
        return unknown();
    };
    let i = match t.arrays.iter().position(|a| a.base == base && a.len == len) {
        Some(i) => i,
        None => {
            if !t.track(base, len) {
                return unknown();
            }
            t.arrays.push(Tracked {
                base,
                len,
                hashes: None,
                carry: vec![false; chunks],
                pending: false,
            });
            return unknown();
        }
    };
    // A protection still due from the save before (the writer was not started): now,
    // before the scan; those chunks count as changed anyway (`carry`).
    if t.arrays[i].pending {
        let a = &t.arrays[i];
        let ok = t.reprotect(a.base, a.len, &a.carry);
        t.arrays[i].pending = false;
        if !ok {
            t.arrays.remove(i);
            return unknown();
        }
    }
    let Some(dirty) = t.written(base, len) else {
        // The kernel stopped tracking it (the memory was unmapped and mapped again):
        // start over.
        t.arrays.remove(i);
        return unknown();
    };
    let a = &mut t.arrays[i];
    let known = match &a.hashes {
        Some(h) if h.len() == chunks => dirty
            .iter()
            .zip(&a.carry)
            .zip(h)
            .map(|((d, c), h)| (!d && !c).then_some(*h))
            .collect(),
        _ => unknown(),
    };
    a.pending = dirty.iter().any(|d| *d);
    a.carry = dirty;
    known
}

/// Protects again the chunks written before the save just taken (see the module
/// documentation): after the writer has its copy of the memory, while the program runs.
pub(crate) fn reprotect() {
    let mut g = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(Some(t)) = g.as_mut() else { return };
    let mut lost = Vec::new();
    for (i, a) in t.arrays.iter().enumerate() {
        if a.pending && !t.reprotect(a.base, a.len, &a.carry) {
            lost.push(i);
        }
    }
    for a in &mut t.arrays {
        a.pending = false;
    }
    // Arrays the kernel no longer tracks start over.
    for i in lost.into_iter().rev() {
        t.arrays.remove(i);
    }
}

/// The image with these arrays (address, length, in order) is committed: its chunk
/// hashes are what the arrays held when their pages were last scanned.
pub(crate) fn committed(image: &std::path::Path, arrays: &[(usize, usize)]) {
    let mut g = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(Some(t)) = g.as_mut() else { return };
    // Arrays not in this image are gone from the program's state (or moved): forget them.
    t.arrays
        .retain(|a| arrays.iter().any(|&(b, l)| a.base == b && a.len == l));
    let Ok(refs) = super::chunks::refs_of(image) else {
        forget(t);
        return;
    };
    let mut at = 0;
    for &(base, len) in arrays {
        let n = len.div_ceil(CHUNK);
        let Some(rs) = refs.get(at..at + n) else {
            forget(t);
            return;
        };
        at += n;
        if let Some(a) = t.arrays.iter_mut().find(|a| a.base == base && a.len == len) {
            a.hashes = Some(rs.iter().map(|r| r.hash).collect());
        }
    }
}

/// A save failed: the hashes of the image before it miss the writes that landed between
/// that image's save and the protection after it (the failed image would have had them):
/// nothing is known unchanged any more.
pub(crate) fn failed() {
    let mut g = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(Some(t)) = g.as_mut() {
        forget(t);
    }
}

fn forget(t: &mut Tracker) {
    for a in &mut t.arrays {
        a.hashes = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes stand-in: what `committed` would have read from the image.
    fn set_hashes(base: usize, len: usize, h: u128) -> bool {
        let mut g = TRACKER.lock().unwrap();
        let Some(Some(t)) = g.as_mut() else {
            return false;
        };
        let Some(a) = t.arrays.iter_mut().find(|a| a.base == base && a.len == len) else {
            return false;
        };
        a.hashes = Some(vec![h; len.div_ceil(CHUNK)]);
        true
    }

    fn tracked(base: usize, len: usize) -> bool {
        let g = TRACKER.lock().unwrap();
        matches!(&*g, Some(Some(t)) if t.arrays.iter().any(|a| a.base == base && a.len == len))
    }

    #[test]
    fn written_chunks_are_seen_and_protected_again_after_the_save() {
        // 4 chunks at an address that is not page-aligned.
        let mut v = vec![0u8; (4 << 20) + 100];
        let (base, len) = (v.as_ptr() as usize + 100, 4 << 20);
        let at = |chunk: usize| 100 + chunk * CHUNK + 5000;
        known_hashes(base, len);
        if !tracked(base, len) {
            eprintln!("no userfaultfd write protection here: nothing to check");
            return;
        }
        assert!(set_hashes(base, len, 7));
        // Save A, after a write to chunk 1. Chunks 0 and 3 have untracked partial pages:
        // always hashed.
        v[at(1)] = 1;
        assert_eq!(known_hashes(base, len), [None, None, Some(7), None]);
        // Chunk 1 written again between the save and its protection: not recorded by the
        // kernel, so chunk 1 must count as changed at the next save all the same.
        v[at(1)] = 2;
        reprotect();
        assert!(
            tracked(base, len),
            "the protection of unaligned chunks works"
        );
        // Save B.
        assert_eq!(known_hashes(base, len), [None, None, Some(7), None]);
        assert!(set_hashes(base, len, 9));
        reprotect();
        // Save C, nothing written since B.
        assert_eq!(known_hashes(base, len), [None, Some(9), Some(9), None]);
        reprotect();
        // Save D, after a write to chunk 2.
        v[at(2)] = 1;
        assert_eq!(known_hashes(base, len), [None, Some(9), None, None]);
        std::hint::black_box(&v);
    }
}
