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
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};

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
    ids: HashMap<(usize, TypeId), u64>,
    /// Shared objects whose definition is being written and that own the current position
    /// through strong pointers only (a strong reference to one of them is a strong cycle).
    open: HashSet<u64>,
    /// The `open` sets set aside while a definition reached through a `Weak` is written.
    outer: Vec<HashSet<u64>>,
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
            ids: HashMap::new(),
            open: HashSet::new(),
            outer: Vec::new(),
            next_id: 0,
            keep: Vec::new(),
            defining: Vec::new(),
            heap: None,
            exe_in_header: false,
        }
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
        while let Some((n, write)) = self.heap.as_mut().and_then(|h| h.queue.pop_front()) {
            self.uint(n);
            self.defining.push(n);
            let r = write(self);
            self.defining.pop();
            r?;
            self.check()?;
        }
        self.end();
        if let Some(h) = &mut self.heap {
            check_strong_cycles(self.next_id, &mut h.edges)?;
        }
        self.check()
    }

    /// Saves one value.
    pub fn put<T: State>(&mut self, v: &T) -> Result<(), Error> {
        v.save(self)?;
        self.check()
    }

    /// Saves a slice as one CBOR item (a typed array for primitive numbers).
    pub fn put_slice<T: State>(&mut self, xs: &[T]) -> Result<(), Error> {
        T::save_slice(xs, self)?;
        self.check()
    }

    /// The sticky I/O error, if any, as an [`Error`].
    fn check(&self) -> Result<(), Error> {
        match &self.err {
            None => Ok(()),
            Some(e) => Err(Error::io(
                "writing checkpoint",
                "",
                io::Error::new(e.kind(), e.to_string()),
            )),
        }
    }

    /// Tells the encoder that its output starts at `offset` in a file, so large typed
    /// arrays can be aligned to file pages.
    pub(crate) fn set_file_offset(&mut self, offset: u64) {
        self.file_offset = offset;
    }

    /// Number of bytes accepted so far (flushed or buffered).
    pub fn bytes_written(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// Flushes the buffer and the writer; reports the first I/O error.
    pub fn finish(mut self) -> Result<(), Error> {
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
        self.head(3, s.len() as u64);
        self.raw(s.as_bytes());
    }

    /// A byte string.
    pub fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.raw(b);
    }

    /// The head of an array of `len` items; write the items next.
    #[inline]
    pub fn array(&mut self, len: u64) {
        self.head(4, len);
    }

    /// The head of a map of `len` pairs; write key, value, key, value... next.
    #[inline]
    pub fn map(&mut self, len: u64) {
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

    /// A tag; write the tagged item next.
    #[inline]
    pub fn tag(&mut self, t: u64) {
        self.head(6, t);
    }

    /// A typed array: tag, byte-string head, then the elements' bytes in one write.
    ///
    /// A large one (≥ [`ALIGN_FROM`]) is written as an indefinite-length byte string whose
    /// first chunks are empty (one byte each), so that its data starts at a multiple of
    /// [`ALIGN`] in the file: the kernel then copies whole pages into the page-aligned
    /// vector on restore, which is measurably faster than copying across page boundaries
    /// (see BENCHMARKS.md). At most `ALIGN - 1` bytes of padding, never below 1 MiB of data.
    pub(crate) fn typed<T: Pod>(&mut self, xs: &[T]) {
        self.tag(T::TAG);
        let n = std::mem::size_of_val(xs) as u64;
        let aligned = n >= ALIGN_FROM;
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

    /// Re-encodes a decoded tree. Shared definitions and references cannot be re-encoded
    /// without their table and give [`Error::Unsaveable`].
    pub fn value(&mut self, v: &Value) -> Result<(), Error> {
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
                for x in items {
                    self.value(x)?;
                }
            }
            Value::Map(entries) => {
                self.map(entries.len() as u64);
                for (k, x) in entries {
                    self.value(k)?;
                    self.value(x)?;
                }
            }
            Value::Tag(t, x) => {
                self.tag(*t);
                self.value(x)?;
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
            self.tag(29);
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
            self.tag(29);
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
        self.tag(28);
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
