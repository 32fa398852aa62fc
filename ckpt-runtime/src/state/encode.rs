//! The CBOR encoder: a buffered writer of CBOR heads with a bulk path for typed arrays
//! and the identity table of shared objects.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::typed::Pod;
use super::{State, TypedArray, Value};
use crate::Error;

/// Size of the encoder's own buffer.
const BUF: usize = 1 << 20;
/// Slices at least this long skip the buffer and go to the writer in one call.
const DIRECT: usize = 64 << 10;

/// Streams CBOR into a writer through a ~1 MiB buffer.
///
/// I/O errors are sticky: the first one stops all output and is reported by
/// [`put`](Encoder::put) and [`finish`](Encoder::finish). Call `finish` to flush.
pub struct Encoder<'w> {
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
            out,
            buf: Vec::with_capacity(BUF),
            flushed: 0,
            err: None,
            ids: HashMap::new(),
            open: HashSet::new(),
            outer: Vec::new(),
            next_id: 0,
            keep: Vec::new(),
        }
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
    pub(crate) fn typed<T: Pod>(&mut self, xs: &[T]) {
        self.tag(T::TAG);
        self.head(2, std::mem::size_of_val(xs) as u64);
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
        if let Some(&n) = self.ids.get(&(addr, ty)) {
            if !weak && self.open.contains(&n) {
                return Err(Error::Unsaveable {
                    at: String::new(),
                    detail: "a strong Rc/Arc cycle (an object owns itself through Rc/Arc); \
                             make the back edge a Weak"
                        .into(),
                });
            }
            self.tag(29);
            self.uint(n);
            return Ok(Shared::Referenced);
        }
        let n = self.next_id;
        self.next_id += 1;
        self.ids.insert((addr, ty), n);
        if weak {
            self.outer.push(std::mem::take(&mut self.open));
        }
        self.open.insert(n);
        self.keep.push(keep());
        self.tag(28);
        Ok(Shared::Define(n))
    }

    /// Closes the definition of shared object `n` (`weak` as passed to [`share`](Self::share)).
    #[doc(hidden)]
    pub fn end_share(&mut self, n: u64, weak: bool) {
        self.open.remove(&n);
        if weak {
            self.open = self.outer.pop().unwrap_or_default();
        }
    }
}
