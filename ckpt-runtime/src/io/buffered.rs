//! `BufReader`, `BufWriter` and the iterators over readers: std's behaviour, plus
//! [`State`] so they may be live across a save point with their buffered bytes.

use std::fmt;
use std::io::{self, BufRead, IoSliceMut, Read, Seek, SeekFrom, Write};

use crate::error::Error;
use crate::state::{Encoder, Loader, State, Value};

/// std's default buffer size.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// A buffered reader: a drop-in for [`std::io::BufReader`] that can be saved in a
/// checkpoint (its inner reader and the bytes buffered but not yet consumed).
///
/// [`lines`](BufReader::lines), [`split`](BufReader::split) and
/// [`bytes`](BufReader::bytes) return iterators that are [`State`] too, so
/// `for line in reader.lines() { …; ckpt::save()?; }` resumes at the next line.
///
/// ```
/// use std::io::BufRead;
///
/// let data: &[u8] = b"one\ntwo\n";
/// let mut r = ckpt::io::BufReader::new(data);
/// let mut first = String::new();
/// r.read_line(&mut first).unwrap();
/// assert_eq!(first, "one\n");
/// assert_eq!(r.buffer(), b"two\n");
/// ```
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
}

impl<R: Read> BufReader<R> {
    /// A reader with an 8 KiB buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            filled: 0,
        }
    }
}

impl<R> BufReader<R> {
    /// A reader over `inner` whose buffer starts with `buffered` (bytes already read
    /// from `inner` and not consumed: what std's `BufReader` held when it is turned into
    /// this one).
    #[cfg_attr(not(feature = "agent"), allow(dead_code))]
    pub(crate) fn with_buffered(capacity: usize, inner: R, buffered: &[u8]) -> BufReader<R> {
        let mut buf = vec![0; capacity.max(buffered.len()).max(1)].into_boxed_slice();
        buf[..buffered.len()].copy_from_slice(buffered);
        BufReader {
            inner,
            buf,
            pos: 0,
            filled: buffered.len(),
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably (reading from it directly skips the buffer).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The bytes buffered and not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The inner reader; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn discard(&mut self) {
        self.pos = 0;
        self.filled = 0;
    }
}

impl<R: Read> BufReader<R> {
    /// The lines of the reader (see [`BufRead::lines`]); the iterator is [`State`].
    pub fn lines(self) -> Lines<Self> {
        Lines { buf: self }
    }

    /// The reader split at `byte` (see [`BufRead::split`]); the iterator is [`State`].
    pub fn split(self, byte: u8) -> Split<Self> {
        Split {
            buf: self,
            delim: byte,
        }
    }

    /// The reader's bytes (see [`Read::bytes`]); the iterator is [`State`].
    pub fn bytes(self) -> Bytes<Self> {
        Bytes { inner: self }
    }
}

impl<R: Read> Read for BufReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A read at least as large as the buffer skips it, as std's does.
        if self.pos == self.filled && out.len() >= self.buf.len() {
            self.discard();
            return self.inner.read(out);
        }
        let n = {
            let mut rem = self.fill_buf()?;
            rem.read(out)?
        };
        self.consume(n);
        Ok(n)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if self.pos == self.filled && total >= self.buf.len() {
            self.discard();
            return self.inner.read_vectored(bufs);
        }
        let n = {
            let mut rem = self.fill_buf()?;
            rem.read_vectored(bufs)?
        };
        self.consume(n);
        Ok(n)
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let n = self.filled - self.pos;
        out.extend_from_slice(self.buffer());
        self.discard();
        Ok(n + self.inner.read_to_end(out)?)
    }
}

impl<R: Read> BufRead for BufReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.filled = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

impl<R: Seek> Seek for BufReader<R> {
    /// Seeks the inner reader; `SeekFrom::Current` counts from the logical position (the
    /// buffered bytes are accounted for), and the buffer is emptied, as std does.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let r = match pos {
            SeekFrom::Current(n) => {
                let rem = (self.filled - self.pos) as i64;
                self.inner.seek(SeekFrom::Current(n - rem))?
            }
            other => self.inner.seek(other)?,
        };
        self.discard();
        Ok(r)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("reader", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.filled - self.pos, self.buf.len()),
            )
            .finish()
    }
}

/// `{"inner", "buffered": bytes, "capacity"}`.
impl<R: State> State for BufReader<R> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.map(3);
        e.text("inner");
        self.inner.save(e).map_err(|e| e.within("inner"))?;
        e.text("buffered");
        e.bytes(self.buffer());
        e.text("capacity");
        e.uint(self.buf.len() as u64);
        Ok(())
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut f = v.into_fields("BufReader")?;
        let inner = f.take::<R>("inner", l)?;
        let buffered = f.take::<ByteBuf>("buffered", l)?.0;
        let capacity = f.take::<u64>("capacity", l)? as usize;
        let mut buf = vec![0; capacity.max(buffered.len()).max(1)].into_boxed_slice();
        buf[..buffered.len()].copy_from_slice(&buffered);
        Ok(BufReader {
            inner,
            buf,
            pos: 0,
            filled: buffered.len(),
        })
    }
}

/// A byte string as CBOR bytes (a `Vec<u8>` is a typed array).
struct ByteBuf(Vec<u8>);

impl State for ByteBuf {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.bytes(&self.0);
        Ok(())
    }

    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Bytes(b) => Ok(ByteBuf(b)),
            other => Err(Error::ty("", "a byte string", other.kind())),
        }
    }
}

/// A buffered writer: a drop-in for [`std::io::BufWriter`] that can be saved in a
/// checkpoint. Bytes written but not yet flushed are part of the image, so a restore
/// neither loses nor repeats them; the file behind it is cut back to its length at the
/// save.
///
/// ```
/// use std::io::Write;
///
/// let mut w = ckpt::io::BufWriter::new(Vec::new());
/// write!(w, "hello").unwrap();
/// assert_eq!(w.buffer(), b"hello");
/// w.flush().unwrap();
/// assert_eq!(w.get_ref(), b"hello");
/// ```
pub struct BufWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    capacity: usize,
    /// The inner writer panicked during a write: do not write the buffer again on drop.
    panicked: bool,
}

impl<W: Write> BufWriter<W> {
    /// A writer with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A writer with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            capacity: capacity.max(1),
            panicked: false,
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably (writing to it directly skips the buffer).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The bytes written and not yet flushed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Flushes the buffer and returns the inner writer; if the flush fails, the error and
    /// the writer (with its unwritten bytes) come back in an [`IntoInnerError`], as std's.
    pub fn into_inner(mut self) -> Result<W, IntoInnerError<BufWriter<W>>> {
        if let Err(e) = self.flush_buf() {
            return Err(IntoInnerError(self, e));
        }
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; each field is moved out once.
        let inner = unsafe { std::ptr::read(&this.inner) };
        drop(unsafe { std::ptr::read(&this.buf) });
        Ok(inner)
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        let mut written = 0;
        let len = self.buf.len();
        let mut ret = Ok(());
        while written < len {
            self.panicked = true;
            let r = self.inner.write(&self.buf[written..]);
            self.panicked = false;
            match r {
                Ok(0) => {
                    ret = Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "failed to write the buffered data",
                    ));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    ret = Err(e);
                    break;
                }
            }
        }
        self.buf.drain(..written);
        ret
    }
}

impl<W: Write> BufWriter<W> {
    /// Whether `len` more bytes go into the buffer without a flush and without reaching
    /// its size (strict, as std's fast path: a write that fills the buffer exactly takes
    /// the general path).
    #[inline]
    fn fits(&self, len: usize) -> bool {
        len < self.capacity.saturating_sub(self.buf.len())
    }

    /// [`Write::write`] past the fast path: flush if `data` does not fit, then buffer it,
    /// or write it straight through when it is as large as the buffer or larger. Out of
    /// line so the buffered path inlines small.
    #[cold]
    #[inline(never)]
    fn write_cold(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.capacity {
            self.flush_buf()?;
        }
        if data.len() >= self.capacity {
            self.panicked = true;
            let r = self.inner.write(data);
            self.panicked = false;
            r
        } else {
            self.buf.extend_from_slice(data);
            Ok(data.len())
        }
    }

    /// [`Write::write_all`] past the fast path (see `write_cold`).
    #[cold]
    #[inline(never)]
    fn write_all_cold(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buf.len() + data.len() <= self.capacity {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        self.flush_buf()?;
        if data.len() >= self.capacity {
            self.panicked = true;
            let r = self.inner.write_all(data);
            self.panicked = false;
            r
        } else {
            self.buf.extend_from_slice(data);
            Ok(())
        }
    }
}

impl<W: Write> Write for BufWriter<W> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.fits(data.len()) {
            self.buf.extend_from_slice(data);
            Ok(data.len())
        } else {
            self.write_cold(data)
        }
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.fits(data.len()) {
            self.buf.extend_from_slice(data);
            Ok(())
        } else {
            self.write_all_cold(data)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.inner.flush()
    }
}

impl<W: Write + Seek> Seek for BufWriter<W> {
    /// Flushes the buffer, then seeks the inner writer.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.flush_buf()?;
        self.inner.seek(pos)
    }
}

impl<W: Write> Drop for BufWriter<W> {
    fn drop(&mut self) {
        if !self.panicked {
            // As std: errors on drop are ignored; call `flush` to see them.
            let _ = self.flush_buf();
        }
    }
}

impl<W: Write + fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("writer", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.buf.len(), self.capacity),
            )
            .finish()
    }
}

/// `{"inner", "buffered": bytes, "capacity"}`.
impl<W: Write + State> State for BufWriter<W> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.map(3);
        e.text("inner");
        self.inner.save(e).map_err(|e| e.within("inner"))?;
        e.text("buffered");
        e.bytes(&self.buf);
        e.text("capacity");
        e.uint(self.capacity as u64);
        Ok(())
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut f = v.into_fields("BufWriter")?;
        let inner = f.take::<W>("inner", l)?;
        let buffered = f.take::<ByteBuf>("buffered", l)?.0;
        let capacity = (f.take::<u64>("capacity", l)? as usize).max(1);
        let mut buf = Vec::with_capacity(capacity.max(buffered.len()));
        buf.extend_from_slice(&buffered);
        Ok(BufWriter {
            inner,
            buf,
            capacity,
            panicked: false,
        })
    }
}

/// The error of [`BufWriter::into_inner`]: the flush error and the writer, like std's
/// `IntoInnerError`.
pub struct IntoInnerError<W>(W, io::Error);

impl<W> IntoInnerError<W> {
    /// The error of the flush.
    pub fn error(&self) -> &io::Error {
        &self.1
    }

    /// The writer, with the bytes it could not write still buffered.
    pub fn into_inner(self) -> W {
        self.0
    }

    /// The error of the flush.
    pub fn into_error(self) -> io::Error {
        self.1
    }

    /// The error and the writer.
    pub fn into_parts(self) -> (io::Error, W) {
        (self.1, self.0)
    }
}

impl<W> fmt::Debug for IntoInnerError<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.1, f)
    }
}

impl<W> fmt::Display for IntoInnerError<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.1, f)
    }
}

impl<W> std::error::Error for IntoInnerError<W> {}

impl<W> From<IntoInnerError<W>> for io::Error {
    fn from(e: IntoInnerError<W>) -> io::Error {
        e.1
    }
}

/// The lines of a buffered reader (see [`BufReader::lines`]): std's `Lines`, plus
/// [`State`].
#[derive(Debug)]
pub struct Lines<B> {
    buf: B,
}

impl<B: BufRead> Lines<B> {
    /// Lines of any buffered reader.
    pub fn new(buf: B) -> Lines<B> {
        Lines { buf }
    }
}

impl<B: BufRead> Iterator for Lines<B> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        let mut line = String::new();
        match self.buf.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => {
                if line.ends_with('\n') {
                    line.pop();
                    if line.ends_with('\r') {
                        line.pop();
                    }
                }
                Some(Ok(line))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<B: State> State for Lines<B> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        self.buf.save(e)
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(Lines {
            buf: B::load(v, l)?,
        })
    }
}

/// A buffered reader split at a byte (see [`BufReader::split`]): std's `Split`, plus
/// [`State`].
#[derive(Debug)]
pub struct Split<B> {
    buf: B,
    delim: u8,
}

impl<B: BufRead> Iterator for Split<B> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        let mut out = Vec::new();
        match self.buf.read_until(self.delim, &mut out) {
            Ok(0) => None,
            Ok(_) => {
                if out.last() == Some(&self.delim) {
                    out.pop();
                }
                Some(Ok(out))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<B: State> State for Split<B> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(2);
        self.buf.save(e)?;
        e.uint(u64::from(self.delim));
        Ok(())
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut it = v.into_elements("Split", 2)?;
        Ok(Split {
            buf: it.next(l)?,
            delim: it.next(l)?,
        })
    }
}

/// The bytes of a reader (see [`BufReader::bytes`]): std's `Bytes`, plus [`State`].
#[derive(Debug)]
pub struct Bytes<R> {
    inner: R,
}

impl<R> Bytes<R> {
    pub(crate) fn new(inner: R) -> Bytes<R> {
        Bytes { inner }
    }
}

impl crate::fs::File {
    /// Reads the file's bytes one by one (`Read::bytes`, resumable: the iterator is
    /// [`State`]).
    pub fn bytes(self) -> Bytes<crate::fs::File> {
        Bytes::new(self)
    }
}

impl<R: Read> Iterator for Bytes<R> {
    type Item = io::Result<u8>;

    fn next(&mut self) -> Option<io::Result<u8>> {
        let mut byte = 0;
        loop {
            return match self.inner.read(std::slice::from_mut(&mut byte)) {
                Ok(0) => None,
                Ok(_) => Some(Ok(byte)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Some(Err(e)),
            };
        }
    }
}

impl<R: State> State for Bytes<R> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        self.inner.save(e)
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(Bytes {
            inner: R::load(v, l)?,
        })
    }
}

/// A reader over the inner reader's placeholder (see
/// [`Placeholder`](crate::__private::Placeholder)).
#[cfg(feature = "agent")]
impl<R: Read + crate::__private::Placeholder> crate::__private::Placeholder for BufReader<R> {
    fn placeholder() -> Self {
        BufReader::new(R::placeholder())
    }
}

/// A writer over the inner writer's placeholder, with nothing buffered.
#[cfg(feature = "agent")]
impl<W: Write + crate::__private::Placeholder> crate::__private::Placeholder for BufWriter<W> {
    fn placeholder() -> Self {
        BufWriter::new(W::placeholder())
    }
}
