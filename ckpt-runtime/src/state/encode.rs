//! The CBOR encoder: a buffered writer of CBOR heads with a bulk path for typed arrays
//! and the identity table of shared objects.
//!
//! Shared objects (`Rc`/`Arc`) are written once, by identity. A standalone encoder
//! ([`Encoder::new`]) writes each definition inline at its first occurrence (tag 28), which
//! nests as deep as the objects point to each other. The image writer instead turns on the
//! *heap*: an object first met inside the definition of another one is not written there
//! but gets its index (tag 29 + index, a forward reference) and is queued; the image writer
//! then drains the queue into the `heap` section after the frames and components, one
//! definition after the other (writing one may queue more). The nesting of the output is
//! then that of one object, however long the chains of shared objects are.

use std::any::{Any, TypeId};
use std::collections::VecDeque;

use super::{FixedMap, FixedSet};
use std::io::{self, Write};

use super::decode::{MAX_LEN, MAX_TAG_CHAIN};
use super::tree::{grow, grow_for_loop, on_new_segment, Headroom};
use super::typed::Pod;
use super::{State, TypedArray, Value};
use crate::Error;

/// Size of the encoder's own buffer.
const BUF: usize = 1 << 20;
/// Slices at least this long skip the buffer and go to the writer in one call.
const DIRECT: usize = 64 << 10;

/// Writes the content of a queued shared object (a closure holding a clone of it).
pub(crate) type HeapWriter = Box<dyn FnOnce(&mut Encoder<'_>) -> Result<(), Error>>;

/// The deferred definitions of an image's `heap` section.
#[derive(Default)]
struct Heap {
    /// Objects given an index but not written yet, in the order met.
    queue: VecDeque<(u64, HeapWriter)>,
    /// Strong references between shared objects (owner, target): checked for cycles once
    /// every definition is written.
    edges: Vec<(u64, u64)>,
}

/// Alignment, in the file, of the data of large typed arrays.
pub(crate) const ALIGN: u64 = 4096;
/// Typed arrays of at least this many bytes are aligned.
pub(crate) const ALIGN_FROM: u64 = 1 << 20;

/// Streams CBOR into a writer through a ~1 MiB buffer.
///
/// I/O errors are sticky: the first one stops all output and is reported by
/// [`put`](Encoder::put) and [`finish`](Encoder::finish). Call `finish` to flush.
pub struct Encoder<'w> {
    /// Where the output starts in its file (bulk data is aligned to file offsets).
    file_offset: u64,
    out: &'w mut dyn Write,
    buf: Vec<u8>,
    flushed: u64,
    err: Option<io::Error>,
    /// Identity of the shared objects written so far: (address, type) → index.
    ids: FixedMap<(usize, TypeId), u64>,
    /// Shared objects whose definition is being written and that own the current position
    /// through strong pointers only (a strong reference to one of them is a strong cycle).
    open: FixedSet<u64>,
    /// The `open` sets set aside while a definition reached through a `Weak` is written.
    outer: Vec<FixedSet<u64>>,
    next_id: u64,
    /// Clones of the shared objects seen, so no address is reused during the save.
    keep: Vec<Box<dyn Any>>,
    /// The shared objects whose definitions are being written, innermost last.
    defining: Vec<u64>,
    /// Deferred definitions (image writing only); `None`: every definition is inline.
    heap: Option<Heap>,
    /// The output is an image body whose header names the executable (code pointers need
    /// not carry its identity).
    exe_in_header: bool,
    /// Why the output would not decode under the default [`Limits`](super::Limits), once
    /// something written exceeds them: reported like an I/O error.
    refused: Option<String>,
    /// Tags written directly inside each other so far, and where the last one ended.
    tag_chain: usize,
    tag_end: u64,
    /// The stack room known for nested saves.
    room: Headroom,
    /// A digest of the state, not an image (see [`digest_of`]).
    digest: bool,
    /// Large typed arrays left out of the output, to be written by the image writer
    /// (see [`defer_bulk`](Encoder::defer_bulk)); `None`: written inline.
    bulk: Option<Vec<Bulk>>,
    /// One per deferred array: keeps positions (tag chains) distinct.
    skipped: u64,
}

/// A large typed array the encoder left out of its output (see
/// [`Encoder::defer_bulk`]): its tag and byte-string head are the image writer's to write.
pub(crate) struct Bulk {
    /// Where it goes: the number of output bytes before it.
    pub at: u64,
    /// The elements' bytes, little-endian, in the program's memory.
    pub data: BulkData,
    /// For an incremental save: the hash of each chunk known unchanged since the last
    /// image (empty: none known).
    pub known: Vec<Option<u128>>,
}

/// The bytes of a [`Bulk`] array.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) enum BulkData {
    /// Still in the program's memory, which must not change until it is written (the
    /// save runs with the program stopped, or in a forked child that has its own copy).
    Borrowed(*const u8, usize),
    /// A copy (a save written by a thread while the program runs on).
    Owned(Copied),
}

// SAFETY: a borrowed array is only read, and only while its owner is stopped or in a
// forked copy of the process (see `BulkData::Borrowed`).
unsafe impl Send for BulkData {}

impl BulkData {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: the pointer and length came from a live slice, which outlives the
            // save (see `BulkData::Borrowed`).
            BulkData::Borrowed(p, n) => unsafe { std::slice::from_raw_parts(*p, *n) },
            BulkData::Owned(c) => c.bytes(),
        }
    }

    /// Makes the bytes the save's own (the program may change its memory after this).
    #[cfg_attr(not(feature = "agent"), allow(dead_code))]
    pub fn own(&mut self) {
        if let BulkData::Borrowed(..) = self {
            *self = BulkData::Owned(Copied::of(self.bytes()));
        }
    }
}

/// A copy of a large array in memory aligned to 2 MiB and asked to be backed by huge
/// pages, so that making it costs few page faults (a plain vector of 512 MiB takes
/// 131 072 faults, which cost more than the copy itself).
pub(crate) struct Copied {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
    layout: std::alloc::Layout,
}

// SAFETY: `Copied` owns its allocation, like a `Vec<u8>`.
unsafe impl Send for Copied {}

impl Copied {
    const HUGE: usize = 2 << 20;

    fn of(bytes: &[u8]) -> Copied {
        let Ok(layout) = std::alloc::Layout::from_size_align(bytes.len().max(1), Self::HUGE) else {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<u8>())
        };
        // SAFETY: a non-zero size; the allocation is checked and then fully written.
        unsafe {
            let p = std::alloc::alloc(layout);
            let Some(ptr) = std::ptr::NonNull::new(p) else {
                std::alloc::handle_alloc_error(layout)
            };
            #[cfg(target_os = "linux")]
            libc::madvise(p.cast(), layout.size(), libc::MADV_HUGEPAGE);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            Copied {
                ptr,
                len: bytes.len(),
                layout,
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `of` wrote the first `len` bytes of the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Copied {
    fn drop(&mut self) {
        // SAFETY: allocated in `of` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// A sink that only hashes what is written.
struct HashSink(twox_hash::XxHash3_64);

impl Write for HashSink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        std::hash::Hasher::write(&mut self.0, b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The digest of what `f` encodes, with the encoder in digest mode: values that differ
/// between equal runs in different places are left out or made order-free (an open file
/// is its mode and offset, not its path and inode; a std hash map's entries are hashed
/// one by one and sorted, whatever keys the map has).
pub(crate) fn digest_of(
    f: impl FnOnce(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut sink = HashSink(Default::default());
    let mut e = Encoder::new(&mut sink);
    e.digest = true;
    f(&mut e)?;
    e.finish()?;
    Ok(std::hash::Hasher::finish(&sink.0))
}

impl std::fmt::Debug for Encoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("bytes_written", &self.bytes_written())
            .finish_non_exhaustive()
    }
}

/// What [`Encoder::share`] decided for a shared object.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// First occurrence: tag 28 has been written; write the content, then call `end_share`.
    Define(u64),
    /// Already written: tag 29 has been written; nothing more to do.
    Referenced,
}

impl<'w> Encoder<'w> {
    /// An encoder writing into `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        Encoder {
            file_offset: 0,
            out,
            buf: Vec::with_capacity(BUF),
            flushed: 0,
            err: None,
            ids: Default::default(),
            open: Default::default(),
            outer: Vec::new(),
            next_id: 0,
            keep: Vec::new(),
            defining: Vec::new(),
            heap: None,
            exe_in_header: false,
            refused: None,
            tag_chain: 0,
            tag_end: u64::MAX,
            room: Headroom::default(),
            digest: false,
            bulk: None,
            skipped: 0,
        }
    }

    /// Leaves large typed arrays (≥ [`ALIGN_FROM`] bytes, on little-endian hosts) out of
    /// the output: only their tag is written, and [`take_bulk`](Self::take_bulk) lists
    /// them with their positions, for the image writer to write in place (inline, or as
    /// chunks of a chunk store).
    pub(crate) fn defer_bulk(&mut self) {
        if cfg!(target_endian = "little") {
            self.bulk = Some(Vec::new());
        }
    }

    /// The arrays left out so far (see [`defer_bulk`](Self::defer_bulk)), in order.
    pub(crate) fn take_bulk(&mut self) -> Vec<Bulk> {
        self.bulk.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Whether this encoder makes a digest of the state rather than an image (see
    /// `digest_of`): `State` impls whose encoding depends on where the program runs
    /// (paths, inodes, hash map order) write a form that does not.
    #[doc(hidden)]
    pub fn is_digest(&self) -> bool {
        self.digest
    }

    /// The output is an image body whose header names the running executable.
    pub(crate) fn set_exe_in_header(&mut self) {
        self.exe_in_header = true;
    }

    /// Whether the output's header names the running executable (see `code.rs`).
    pub(crate) fn exe_in_header(&self) -> bool {
        self.exe_in_header
    }

    /// From now on, defer the definition of a shared object met inside another one to the
    /// heap section, written by [`write_heap`](Self::write_heap).
    pub(crate) fn defer_shared(&mut self) {
        self.heap.get_or_insert_with(Heap::default);
    }

    /// Writes the heap section: an indefinite-length map index → definition, draining the
    /// queue of deferred objects (writing one may queue others), then refuses strong cycles.
    pub(crate) fn write_heap(&mut self) -> Result<(), Error> {
        self.map_indef();
        // One segment for the loop if the stack is nearly used up (not one per definition).
        grow_for_loop(|| {
            while let Some((n, write)) = self.heap.as_mut().and_then(|h| h.queue.pop_front()) {
                self.uint(n);
                self.defining.push(n);
                let r = write(self);
                self.defining.pop();
                r?;
                self.check()?;
            }
            Ok::<(), Error>(())
        })?;
        self.end();
        if let Some(h) = &mut self.heap {
            check_strong_cycles(self.next_id, &mut h.edges)?;
        }
        self.check()
    }

    /// Saves one value. `State` impls save the values they hold through this (not by
    /// calling their `save` directly): it grows the stack when little is left, so values
    /// nested a million deep (a long `Option<Box<Node>>` list) save without overflowing it.
    ///
    /// An I/O error stops the output: it is returned by the `put` after it (and by
    /// [`finish`](Self::finish)).
    #[inline]
    pub fn put<T: State>(&mut self, v: &T) -> Result<(), Error> {
        if !self.room.ok() {
            return self.put_slow(v);
        }
        if self.failed() {
            return Err(self.sticky());
        }
        // A tail call: this frame is on the stack once per level of a deep value, so it
        // holds nothing (the result goes straight to the caller's).
        v.save(self)
    }

    /// [`put`](Self::put) after the fast stack check failed: the full check, and the save
    /// on a new stack segment if this one is nearly used up.
    #[cold]
    #[inline(never)]
    fn put_slow<T: State>(&mut self, v: &T) -> Result<(), Error> {
        self.check()?;
        if self.room.refresh() {
            return v.save(self);
        }
        // The segment's room is learnt by the first check on it; this stack's is kept.
        let room = std::mem::take(&mut self.room);
        let r = on_new_segment(|| v.save(self));
        self.room = room;
        r
    }

    /// Saves a slice as one CBOR item (a typed array for primitive numbers).
    #[inline]
    pub fn put_slice<T: State>(&mut self, xs: &[T]) -> Result<(), Error> {
        grow(|| T::save_slice(xs, self))?;
        self.check()
    }

    /// Whether an I/O error or a limit stopped the output.
    #[inline(always)]
    fn failed(&self) -> bool {
        self.refused.is_some() || self.err.is_some()
    }

    /// The sticky I/O error or limit, if any, as an [`Error`].
    #[inline(always)]
    fn check(&self) -> Result<(), Error> {
        if self.failed() {
            Err(self.sticky())
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn sticky(&self) -> Error {
        match (&self.refused, &self.err) {
            (Some(detail), _) => Error::Unsaveable {
                at: String::new(),
                detail: detail.clone(),
            },
            (None, Some(e)) => Error::io(
                "writing checkpoint",
                "",
                // The OS error code itself where there is one: callers tell a full disk
                // or a read-only file system by it.
                e.raw_os_error()
                    .map(io::Error::from_raw_os_error)
                    .unwrap_or_else(|| io::Error::new(e.kind(), e.to_string())),
            ),
            (None, None) => Error::Unsaveable {
                at: String::new(),
                detail: "no error (internal: sticky error without one)".into(),
            },
        }
    }

    /// Records that the output exceeds a limit of the decoder: no image holding it could
    /// be restored, so the save fails (at the next [`put`](Self::put) or at
    /// [`finish`](Self::finish)).
    #[cold]
    fn refuse(&mut self, detail: String) {
        self.refused.get_or_insert(detail);
    }

    /// Refuses an item of `n` elements or bytes, beyond what the decoder accepts.
    #[inline]
    fn check_len(&mut self, n: u64, what: &str) {
        if n > MAX_LEN {
            self.refuse(format!(
                "{what} of {n} elements or bytes, more than the {MAX_LEN} a restore accepts; \
                 split it into smaller ones"
            ));
        }
    }

    /// Tells the encoder that its output starts at `offset` in a file, so large typed
    /// arrays can be aligned to file pages.
    pub(crate) fn set_file_offset(&mut self, offset: u64) {
        self.file_offset = offset;
    }

    /// Number of bytes accepted so far (flushed or buffered).
    pub fn bytes_written(&self) -> u64 {
        self.flushed + self.buf.len() as u64 + self.skipped
    }

    /// Flushes the buffer and the writer; reports the first I/O error (or a limit exceeded,
    /// see [`Limits`](super::Limits)).
    pub fn finish(mut self) -> Result<(), Error> {
        self.check()?;
        self.flush_buf();
        if self.err.is_none() {
            if let Err(e) = self.out.flush() {
                self.err = Some(e);
            }
        }
        match self.err.take() {
            None => Ok(()),
            Some(e) => Err(Error::io("writing checkpoint", "", e)),
        }
    }

    fn flush_buf(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if self.err.is_none() {
            match self.out.write_all(&self.buf) {
                Ok(()) => self.flushed += self.buf.len() as u64,
                Err(e) => self.err = Some(e),
            }
        }
        self.buf.clear();
    }

    #[inline]
    fn reserve(&mut self, n: usize) {
        if self.buf.len() + n > BUF {
            self.flush_buf();
        }
    }

    /// Writes a CBOR head: major type and argument, in the shortest form.
    #[inline]
    fn head(&mut self, major: u8, v: u64) {
        self.reserve(9);
        let m = major << 5;
        if v < 24 {
            self.buf.push(m | v as u8);
        } else if v <= u8::MAX as u64 {
            self.buf.extend_from_slice(&[m | 24, v as u8]);
        } else if v <= u16::MAX as u64 {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(v as u16).to_be_bytes());
        } else if v <= u32::MAX as u64 {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(v as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// Writes raw bytes (already framed by a head).
    fn raw(&mut self, b: &[u8]) {
        if b.len() >= DIRECT {
            self.flush_buf();
            if self.err.is_none() {
                match self.out.write_all(b) {
                    Ok(()) => self.flushed += b.len() as u64,
                    Err(e) => self.err = Some(e),
                }
            }
        } else {
            self.reserve(b.len());
            self.buf.extend_from_slice(b);
        }
    }

    /// An unsigned integer.
    #[inline]
    pub fn uint(&mut self, v: u64) {
        self.head(0, v);
    }

    /// A signed integer.
    #[inline]
    pub fn int(&mut self, v: i64) {
        if v >= 0 {
            self.head(0, v as u64);
        } else {
            self.head(1, !(v as u64));
        }
    }

    /// A double-precision float (always 8 bytes: exact, bit for bit).
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.reserve(9);
        self.buf.push(0xfb);
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    /// A single-precision float.
    #[inline]
    pub fn f32(&mut self, v: f32) {
        self.reserve(5);
        self.buf.push(0xfa);
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    /// `true` or `false`.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.reserve(1);
        self.buf.push(if v { 0xf5 } else { 0xf4 });
    }

    /// `null`.
    #[inline]
    pub fn null(&mut self) {
        self.reserve(1);
        self.buf.push(0xf6);
    }

    /// A text string.
    pub fn text(&mut self, s: &str) {
        self.check_len(s.len() as u64, "a text");
        self.head(3, s.len() as u64);
        self.raw(s.as_bytes());
    }

    /// A byte string.
    pub fn bytes(&mut self, b: &[u8]) {
        self.check_len(b.len() as u64, "a byte string");
        self.head(2, b.len() as u64);
        self.raw(b);
    }

    /// The head of an array of `len` items; write the items next.
    #[inline]
    pub fn array(&mut self, len: u64) {
        self.check_len(len, "an array");
        self.head(4, len);
    }

    /// The head of a map of `len` pairs; write key, value, key, value... next.
    #[inline]
    pub fn map(&mut self, len: u64) {
        self.check_len(len, "a map");
        self.head(5, len);
    }

    /// The head of an indefinite-length array; close it with [`end`](Encoder::end).
    pub fn array_indef(&mut self) {
        self.reserve(1);
        self.buf.push(0x9f);
    }

    /// The head of an indefinite-length map; close it with [`end`](Encoder::end).
    pub fn map_indef(&mut self) {
        self.reserve(1);
        self.buf.push(0xbf);
    }

    /// The CBOR break that closes an indefinite-length array or map.
    pub fn end(&mut self) {
        self.reserve(1);
        self.buf.push(0xff);
    }

    /// A tag; write the tagged item next. At most [`MAX_TAG_CHAIN`] tags may be written
    /// directly inside each other (the decoder's limit; the save fails beyond it).
    #[inline]
    pub fn tag(&mut self, t: u64) {
        let at = self.bytes_written();
        self.tag_chain = if at == self.tag_end {
            self.tag_chain + 1
        } else {
            1
        };
        self.head(6, t);
        self.tag_end = self.bytes_written();
        if self.tag_chain > MAX_TAG_CHAIN {
            self.refuse(format!(
                "more than {MAX_TAG_CHAIN} tags directly inside each other, which a restore \
                 refuses; write an item between them"
            ));
        }
    }

    /// A typed array: tag, byte-string head, then the elements' bytes in one write.
    ///
    /// A large one (≥ [`ALIGN_FROM`]) is written as an indefinite-length byte string whose
    /// first chunks are empty (one byte each), so that its data starts at a multiple of
    /// [`ALIGN`] in the file: the kernel then copies whole pages into the page-aligned
    /// vector on restore, which is measurably faster than copying across page boundaries
    /// (see BENCHMARKS.md). At most `ALIGN - 1` bytes of padding, never below 1 MiB of data.
    pub(crate) fn typed<T: Pod>(&mut self, xs: &[T]) {
        self.head(6, T::TAG);
        let n = std::mem::size_of_val(xs) as u64;
        self.check_len(n, "a typed array");
        let aligned = n >= ALIGN_FROM;
        if aligned && self.bulk.is_some() {
            self.flush_buf();
            let at = self.flushed;
            let bytes = T::as_bytes(xs);
            if let Some(b) = &mut self.bulk {
                b.push(Bulk {
                    at,
                    data: BulkData::Borrowed(bytes.as_ptr(), bytes.len()),
                    known: Vec::new(),
                });
            }
            self.skipped += 1;
            return;
        }
        if aligned {
            self.reserve(1);
            self.buf.push(0x5f);
            let head = if n > u32::MAX as u64 { 9 } else { 5 };
            let at = self.file_offset + self.bytes_written() + head;
            let pad = ((ALIGN - at % ALIGN) % ALIGN) as usize;
            self.reserve(pad);
            self.buf.resize(self.buf.len() + pad, 0x40);
            // The data's head, in its long form so its size is the one computed above.
            self.reserve(9);
            if head == 9 {
                self.buf.push(0x5b);
                self.buf.extend_from_slice(&n.to_be_bytes());
            } else {
                self.buf.push(0x5a);
                self.buf.extend_from_slice(&(n as u32).to_be_bytes());
            }
        } else {
            self.head(2, n);
        }
        self.typed_data(xs);
        if aligned {
            self.reserve(1);
            self.buf.push(0xff);
        }
    }

    /// The elements' bytes, little-endian.
    fn typed_data<T: Pod>(&mut self, xs: &[T]) {
        if cfg!(target_endian = "little") {
            self.raw(T::as_bytes(xs));
        } else {
            for chunk in xs.chunks(4096) {
                self.reserve(std::mem::size_of_val(chunk));
                for x in chunk {
                    x.put_le(&mut self.buf);
                }
            }
        }
    }

    /// Re-encodes a decoded tree (without recursion: any depth). Shared definitions and
    /// references cannot be re-encoded without their table and give [`Error::Unsaveable`].
    pub fn value(&mut self, v: &Value) -> Result<(), Error> {
        /// A container being re-encoded: its children not written yet.
        enum Open<'a> {
            Items(std::slice::Iter<'a, Value>),
            Entries(std::slice::Iter<'a, (Value, Value)>, Option<&'a Value>),
        }
        let mut open: Vec<Open<'_>> = Vec::new();
        let mut next = Some(v);
        loop {
            let v = match next.take() {
                Some(v) => v,
                None => {
                    let child = match open.last_mut() {
                        None => break,
                        Some(Open::Items(it)) => it.next(),
                        Some(Open::Entries(it, pending)) => pending.take().or_else(|| {
                            let (k, x) = it.next()?;
                            *pending = Some(x);
                            Some(k)
                        }),
                    };
                    match child {
                        Some(c) => c,
                        None => {
                            open.pop();
                            continue;
                        }
                    }
                }
            };
            match v {
                Value::Uint(n) => self.uint(*n),
                Value::Nint(n) => self.head(1, *n),
                Value::Float(f) => self.f64(*f),
                Value::Bool(b) => self.bool(*b),
                Value::Null => self.null(),
                Value::Text(t) => self.text(t),
                Value::Bytes(b) => self.bytes(b),
                Value::Array(items) => {
                    self.array(items.len() as u64);
                    open.push(Open::Items(items.iter()));
                }
                Value::Map(entries) => {
                    self.map(entries.len() as u64);
                    open.push(Open::Entries(entries.iter(), None));
                }
                Value::Tag(t, x) => {
                    self.tag(*t);
                    next = Some(x);
                }
                Value::Typed(t) => match t {
                    TypedArray::U8(v) => self.typed(v),
                    TypedArray::U16(v) => self.typed(v),
                    TypedArray::U32(v) => self.typed(v),
                    TypedArray::U64(v) => self.typed(v),
                    TypedArray::I8(v) => self.typed(v),
                    TypedArray::I16(v) => self.typed(v),
                    TypedArray::I32(v) => self.typed(v),
                    TypedArray::I64(v) => self.typed(v),
                    TypedArray::F32(v) => self.typed(v),
                    TypedArray::F64(v) => self.typed(v),
                },
                Value::Shared(_) | Value::Ref(_) => {
                    return Err(Error::Unsaveable {
                        at: String::new(),
                        detail: format!(
                            "a decoded {} cannot be re-encoded without its table; load it first",
                            v.kind()
                        ),
                    })
                }
            }
        }
        self.check()
    }

    /// Looks up a shared object by identity. The first time, writes tag 28 and returns
    /// [`Shared::Define`] (the caller writes the content, then calls [`end_share`](Self::end_share));
    /// later, writes tag 29 + index. `keep` is a clone that holds the object alive until the
    /// encoder is dropped, so its address cannot be reused by another object. A strong
    /// reference (`weak == false`) to an object whose definition is still open is a cycle
    /// that cannot be restored: [`Error::Unsaveable`].
    #[doc(hidden)]
    pub fn share(
        &mut self,
        addr: usize,
        ty: TypeId,
        weak: bool,
        keep: impl FnOnce() -> Box<dyn Any>,
    ) -> Result<Shared, Error> {
        self.share_or_defer(addr, ty, weak, keep, None::<fn() -> HeapWriter>)
    }

    /// [`share`](Self::share), but with the heap on, an object met for the first time inside
    /// the definition of another one is queued (`writer` makes its writer) and only its
    /// forward reference (tag 29 + its new index) is written: the result is then
    /// [`Shared::Referenced`] too.
    pub(crate) fn share_or_defer(
        &mut self,
        addr: usize,
        ty: TypeId,
        weak: bool,
        keep: impl FnOnce() -> Box<dyn Any>,
        writer: Option<impl FnOnce() -> HeapWriter>,
    ) -> Result<Shared, Error> {
        let known = self.ids.get(&(addr, ty)).copied();
        if let Some(heap) = &mut self.heap {
            // A strong reference inside a definition is an ownership edge; cycles of them
            // are refused once the whole graph is written (a self-reference right away).
            if let (false, Some(&owner)) = (weak, self.defining.last()) {
                if known == Some(owner) {
                    return Err(strong_cycle());
                }
                heap.edges.push((owner, known.unwrap_or(self.next_id)));
            }
        } else if let Some(n) = known {
            if !weak && self.open.contains(&n) {
                return Err(strong_cycle());
            }
        }
        if let Some(n) = known {
            self.head(6, 29);
            self.uint(n);
            return Ok(Shared::Referenced);
        }
        let n = self.next_id;
        self.next_id += 1;
        self.ids.insert((addr, ty), n);
        self.keep.push(keep());
        if let (Some(heap), Some(writer), false) =
            (&mut self.heap, writer, self.defining.is_empty())
        {
            heap.queue.push_back((n, writer()));
            self.head(6, 29);
            self.uint(n);
            return Ok(Shared::Referenced);
        }
        if self.heap.is_none() {
            if weak {
                self.outer.push(std::mem::take(&mut self.open));
            }
            self.open.insert(n);
        }
        self.defining.push(n);
        self.head(6, 28);
        Ok(Shared::Define(n))
    }

    /// Closes the definition of shared object `n` (`weak` as passed to [`share`](Self::share)).
    #[doc(hidden)]
    pub fn end_share(&mut self, n: u64, weak: bool) {
        if let Some(i) = self.defining.iter().rposition(|&d| d == n) {
            self.defining.truncate(i);
        }
        if self.heap.is_none() {
            self.open.remove(&n);
            if weak {
                self.open = self.outer.pop().unwrap_or_default();
            }
        }
    }
}

fn strong_cycle() -> Error {
    Error::Unsaveable {
        at: String::new(),
        detail: "a strong Rc/Arc cycle (an object owns itself through Rc/Arc); \
                 make the back edge a Weak"
            .into(),
    }
}

/// Refuses a cycle among the strong references between shared objects `0..n` (an
/// iterative depth-first search: the graph may be a chain of millions of objects).
fn check_strong_cycles(n: u64, edges: &mut Vec<(u64, u64)>) -> Result<(), Error> {
    if edges.is_empty() {
        return Ok(());
    }
    edges.sort_unstable();
    edges.dedup();
    let n = n as usize;
    // Compressed adjacency: the targets of `v` are `to[first[v]..first[v + 1]]`.
    let mut first = vec![0usize; n + 1];
    for &(a, _) in edges.iter() {
        first[a as usize + 1] += 1;
    }
    for v in 0..n {
        first[v + 1] += first[v];
    }
    let to: Vec<usize> = edges.iter().map(|&(_, b)| b as usize).collect();
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != NEW || first[root] == first[root + 1] {
            continue;
        }
        state[root] = OPEN;
        stack.push((root, first[root]));
        while let Some((v, i)) = stack.last_mut() {
            if *i == first[*v + 1] {
                state[*v] = DONE;
                stack.pop();
                continue;
            }
            let w = to[*i];
            *i += 1;
            match state[w] {
                NEW => {
                    state[w] = OPEN;
                    stack.push((w, first[w]));
                }
                OPEN => return Err(strong_cycle()),
                _ => {}
            }
        }
    }
    Ok(())
}
