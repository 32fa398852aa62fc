//! The CBOR decoder: reads one item into a [`Value`] tree under [`Limits`], never trusting
//! a length before it has been checked against the limits and the bytes that remain.
//!
//! Shared objects: tag 28 defines the next index in place; tag 29 + index refers to a
//! defined one. In an image, tag 29 with exactly the next index is a *forward reference*:
//! the object is defined later, in the `heap` section (see [`Decoder::heap`]).

use std::io::{self, Read};
use std::path::PathBuf;

use super::typed::{read_typed, typed_elem};
use super::{Entries, Items, Value};
use crate::Error;

/// Bounds on what the decoder accepts, so a hostile or corrupt input cannot exhaust the
/// memory.
///
/// Nesting costs no machine stack (the decoder keeps open containers on a list), so the
/// default depth is unlimited: whatever the encoder wrote reads back. The encoder refuses
/// what the default limits would refuse: an item longer than [`MAX_LEN`], a chain of more
/// than [`MAX_TAG_CHAIN`] tags directly inside each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of arrays, maps and tags.
    pub max_depth: u32,
    /// Most items in one array or map, or bytes in one string.
    pub max_len: u64,
}

/// The length of an indefinite-length container in [`Open`].
const INDEFINITE: u64 = u64::MAX;

/// The default [`Limits::max_len`]: 64 Gi items or bytes in one item.
pub const MAX_LEN: u64 = 64 << 30;

/// Most tags directly inside each other (`tag(tag(...(item)))`, not counting the tag of a
/// shared object's definition), in any input: ckpt itself never writes more than two.
pub const MAX_TAG_CHAIN: usize = 64;

impl Default for Limits {
    /// Unlimited depth, one item up to [`MAX_LEN`].
    fn default() -> Self {
        Limits {
            max_depth: u32::MAX,
            max_len: MAX_LEN,
        }
    }
}

/// A container still open while decoding (small: a linked list keeps one per level).
enum Open {
    /// An array: its items so far, and how many in all ([`INDEFINITE`]: up to a break).
    Array { items: Vec<Value>, len: u64 },
    /// A map: its entries so far, and how many in all. `key`: the last entry holds only its
    /// key so far (with a null value), its value comes next.
    Map {
        entries: Vec<(Value, Value)>,
        len: u64,
        key: bool,
    },
    /// A tag, around the next item.
    Tag(u64),
    /// The definition of shared value n (tag 28), which is the next item.
    Shared(usize),
}

/// Why a CBOR item could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The reader failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// The input ended in the middle of an item.
    #[error("unexpected end of data")]
    Truncated,
    /// A length or the nesting depth exceeds the [`Limits`].
    #[error("{0}")]
    Limit(String),
    /// The bytes are not valid CBOR (or not the subset ckpt writes).
    #[error("{0}")]
    Malformed(String),
}

impl DecodeError {
    /// The [`Error`] for this failure in `section` of the image at `path`.
    pub fn into_error(self, path: impl Into<PathBuf>, section: &str) -> Error {
        let path = path.into();
        match self {
            DecodeError::Io(source) => Error::Io {
                op: "reading image",
                path,
                source,
            },
            DecodeError::Truncated => Error::Truncated {
                path,
                detail: format!("section `{section}` ends early"),
            },
            DecodeError::Limit(detail) => Error::Limit {
                path,
                section: section.into(),
                detail,
            },
            DecodeError::Malformed(detail) => Error::Corrupt {
                path,
                section: section.into(),
                detail,
            },
        }
    }
}

/// Where the decoder reads from.
pub(crate) trait Source {
    /// Fills `buf` completely, or fails with [`DecodeError::Truncated`].
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), DecodeError>;

    /// Bytes left in the input, if known: no declared length may exceed it.
    fn remaining(&self) -> Option<u64>;

    #[inline]
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let mut b = [0u8];
        self.fill(&mut b)?;
        Ok(b[0])
    }
}

/// A reader with no known end; reads exactly the bytes of the item and no more.
struct Unbuffered<'a>(&'a mut dyn Read);

impl Source for Unbuffered<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), DecodeError> {
        self.0.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
            _ => DecodeError::Io(e),
        })
    }
    fn remaining(&self) -> Option<u64> {
        None
    }
}

/// An in-memory input.
pub(crate) struct SliceSource<'a> {
    pub(crate) data: &'a [u8],
}

impl Source for SliceSource<'_> {
    #[inline]
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), DecodeError> {
        if buf.len() > self.data.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.data.split_at(buf.len());
        buf.copy_from_slice(head);
        self.data = rest;
        Ok(())
    }
    fn remaining(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
}

/// Decodes one CBOR item from a reader. Shared definitions (tag 28) are moved into
/// `shared` and appear in the tree as [`Value::Shared`]. Typed arrays are read straight
/// into their final vector. Reads exactly the item's bytes (pass a `BufReader` for speed).
pub fn decode(
    r: &mut dyn Read,
    limits: &Limits,
    shared: &mut Vec<Option<Value>>,
) -> Result<Value, DecodeError> {
    Decoder::new(&mut Unbuffered(r), limits, shared).item()
}

/// Decodes a byte slice holding exactly one CBOR item; returns it with its shared table.
pub fn decode_slice(bytes: &[u8]) -> Result<(Value, Vec<Option<Value>>), Error> {
    let mut shared = Vec::new();
    let mut src = SliceSource { data: bytes };
    let v = Decoder::new(&mut src, &Limits::default(), &mut shared)
        .item()
        .map_err(|e| e.into_error("<memory>", "value"))?;
    if !src.data.is_empty() {
        return Err(Error::Corrupt {
            path: "<memory>".into(),
            section: "value".into(),
            detail: format!("{} bytes after the item", src.data.len()),
        });
    }
    Ok((v, shared))
}

/// The head of a CBOR item. Lengths are `None` for indefinite-length items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head {
    Uint(u64),
    Nint(u64),
    Bytes(Option<u64>),
    Text(Option<u64>),
    Array(Option<u64>),
    Map(Option<u64>),
    Tag(u64),
    Simple(u8),
    Float(f64),
    Break,
}

/// A decoder over a source; image reading drives it section by section.
pub(crate) struct Decoder<'a, S: Source> {
    pub(crate) src: &'a mut S,
    limits: Limits,
    shared: &'a mut Vec<Option<Value>>,
    depth: u32,
    /// Forward references allowed (image reading): the indices referenced ahead of their
    /// definition and not defined yet. `None`: a reference must follow its definition.
    forward: Option<super::FixedSet<u64>>,
    /// Bytes the open definite-length containers still need for their items not yet
    /// started (one per array item, map key and map value). A new length must fit in the
    /// input left *after* them: nested containers cannot all claim the same bytes, so
    /// what they reserve together never exceeds the input.
    owed: u64,
    /// Where arrays stored as chunks are read from (image reading); `None`: such an
    /// array is malformed input.
    chunks: Option<&'a mut dyn ChunkLoader>,
}

/// Reads the arrays an image stores as chunks (see `image::chunks`).
pub(crate) trait ChunkLoader {
    /// The typed array (RFC 8746 tag `tag`) made of the chunks `refs`, in order.
    fn load(
        &mut self,
        tag: u64,
        refs: Vec<crate::image::chunks::ChunkRef>,
    ) -> Result<super::TypedArray, DecodeError>;
}

impl<'a, S: Source> Decoder<'a, S> {
    pub(crate) fn new(src: &'a mut S, limits: &Limits, shared: &'a mut Vec<Option<Value>>) -> Self {
        Decoder {
            src,
            limits: *limits,
            shared,
            depth: 0,
            forward: None,
            owed: 0,
            chunks: None,
        }
    }

    /// Reads arrays stored as chunks through `l`.
    pub(crate) fn set_chunks(&mut self, l: &'a mut dyn ChunkLoader) {
        self.chunks = Some(l);
    }

    /// An array stored as chunks: the references, then the chunks through the loader.
    fn chunked(&mut self, t: u64, size: usize) -> Result<Value, DecodeError> {
        let h = self.head()?;
        let Head::Array(Some(_)) = h else {
            return Err(DecodeError::Malformed(
                "chunk references that are not an array".into(),
            ));
        };
        let Value::Array(items) = self.item_after(h)? else {
            return Err(DecodeError::Malformed("bad chunk references".into()));
        };
        let refs = items
            .into_iter()
            .map(crate::image::chunks::ChunkRef::from_value)
            .collect::<Result<Vec<_>, _>>()?;
        let total: u64 = refs.iter().map(|r| r.len).sum();
        if !total.is_multiple_of(size as u64) {
            return Err(DecodeError::Malformed(format!(
                "typed array of {total} bytes, not a multiple of {size}"
            )));
        }
        self.check_len(total)?;
        let Some(l) = self.chunks.as_mut() else {
            return Err(DecodeError::Malformed(
                "an array stored as chunks outside an image".into(),
            ));
        };
        l.load(t, refs).map(Value::Typed)
    }

    /// Accepts forward references, to be defined by a [`heap`](Self::heap) section.
    pub(crate) fn allow_forward(&mut self) {
        self.forward.get_or_insert_with(Default::default);
    }

    /// The lowest index referenced ahead of its definition and still not defined.
    pub(crate) fn undefined(&self) -> Option<u64> {
        self.forward.as_ref()?.iter().min().copied()
    }

    /// Decodes a heap section: a map index → definition, each index one forward-referenced
    /// earlier and not defined yet. The definitions go into the shared table; each is
    /// decoded at the depth of the map, whatever the chains between the objects.
    pub(crate) fn heap(&mut self) -> Result<(), DecodeError> {
        let len = match self.head()? {
            Head::Map(len) => len,
            other => {
                return Err(DecodeError::Malformed(format!(
                    "expected a map of shared values, found {other:?}"
                )))
            }
        };
        self.count(len, 2)?;
        self.enter(0)?;
        self.depth += 1;
        let mut i = 0u64;
        loop {
            if len == Some(i) {
                break;
            }
            let n = match self.head()? {
                Head::Break if len.is_none() => break,
                Head::Uint(n) => n,
                other => {
                    return Err(DecodeError::Malformed(format!(
                        "a heap key is {other:?}, not a shared value index"
                    )))
                }
            };
            i += 1;
            self.check_len(i)?;
            if !self.forward.as_mut().is_some_and(|f| f.remove(&n)) {
                return Err(DecodeError::Malformed(format!(
                    "the heap defines shared value {n}, which is not awaiting a definition"
                )));
            }
            let v = self.item()?;
            self.shared[n as usize] = Some(v);
        }
        self.depth -= 1;
        Ok(())
    }

    fn arg(&mut self, ai: u8) -> Result<Option<u64>, DecodeError> {
        Ok(Some(match ai {
            0..=23 => ai as u64,
            24 => self.src.byte()? as u64,
            25 => {
                let mut b = [0; 2];
                self.src.fill(&mut b)?;
                u16::from_be_bytes(b) as u64
            }
            26 => {
                let mut b = [0; 4];
                self.src.fill(&mut b)?;
                u32::from_be_bytes(b) as u64
            }
            27 => {
                let mut b = [0; 8];
                self.src.fill(&mut b)?;
                u64::from_be_bytes(b)
            }
            31 => return Ok(None),
            _ => {
                return Err(DecodeError::Malformed(format!(
                    "reserved additional information {ai}"
                )))
            }
        }))
    }

    /// Reads the head of the next item.
    pub(crate) fn head(&mut self) -> Result<Head, DecodeError> {
        let ib = self.src.byte()?;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        let arg = self.arg(ai)?;
        let definite = |what: &str| {
            arg.ok_or_else(|| DecodeError::Malformed(format!("indefinite-length {what}")))
        };
        Ok(match major {
            0 => Head::Uint(definite("integer")?),
            1 => Head::Nint(definite("integer")?),
            2 => Head::Bytes(arg),
            3 => Head::Text(arg),
            4 => Head::Array(arg),
            5 => Head::Map(arg),
            6 => Head::Tag(definite("tag")?),
            _ => match (ai, arg) {
                (31, _) => Head::Break,
                (25, Some(h)) => Head::Float(half_to_f64(h as u16)),
                (26, Some(f)) => Head::Float(f32::from_bits(f as u32) as f64),
                (27, Some(d)) => Head::Float(f64::from_bits(d)),
                (_, Some(s)) if s < 256 => Head::Simple(s as u8),
                _ => {
                    return Err(DecodeError::Malformed(format!(
                        "invalid simple value byte {ib:#04x}"
                    )))
                }
            },
        })
    }

    /// Decodes the next complete item.
    pub(crate) fn item(&mut self) -> Result<Value, DecodeError> {
        let h = self.head()?;
        self.item_after(h)
    }

    /// Decodes the rest of an item whose head was already read.
    ///
    /// Without recursion: the arrays, maps and tags still open are kept on an explicit
    /// stack ([`Open`]), so the nesting depth of the input costs heap memory (about as
    /// much as the containers themselves), never the machine stack.
    pub(crate) fn item_after(&mut self, h: Head) -> Result<Value, DecodeError> {
        self.items(h, &mut Vec::new())
    }

    fn items(&mut self, first: Head, open: &mut Vec<Open>) -> Result<Value, DecodeError> {
        let mut next = Some(first);
        loop {
            let h = match next.take() {
                Some(h) => h,
                None => {
                    // An item of the innermost container starts: one byte less owed.
                    if let Some(Open::Array { len, .. } | Open::Map { len, .. }) = open.last() {
                        if *len != INDEFINITE {
                            self.owed = self.owed.saturating_sub(1);
                        }
                    }
                    self.head()?
                }
            };
            // A complete value, or a container opened (then read its first item).
            let mut v = match h {
                Head::Uint(n) => Value::Uint(n),
                Head::Nint(n) => Value::Nint(n),
                Head::Float(f) => Value::Float(f),
                Head::Simple(20) => Value::Bool(false),
                Head::Simple(21) => Value::Bool(true),
                Head::Simple(22 | 23) => Value::Null,
                Head::Simple(s) => {
                    return Err(DecodeError::Malformed(format!(
                        "unsupported simple value {s}"
                    )))
                }
                Head::Break => match open.pop() {
                    Some(Open::Array {
                        items,
                        len: INDEFINITE,
                    }) => Value::Array(items.into()),
                    Some(Open::Map {
                        entries,
                        len: INDEFINITE,
                        key: false,
                    }) => Value::Map(entries.into()),
                    _ => return Err(DecodeError::Malformed("unexpected break".into())),
                },
                Head::Bytes(len) => Value::Bytes(self.string(2, len)?),
                Head::Text(len) => {
                    let b = self.string(3, len)?;
                    Value::Text(
                        String::from_utf8(b)
                            .map_err(|_| DecodeError::Malformed("text is not UTF-8".into()))?,
                    )
                }
                Head::Array(len) => {
                    let n = self.count(len, 1)?;
                    if len == Some(0) {
                        Value::Array(Items::new())
                    } else {
                        self.enter(open.len())?;
                        self.owed += n;
                        open.push(Open::Array {
                            items: Vec::with_capacity(n.min(4096) as usize),
                            len: len.unwrap_or(INDEFINITE),
                        });
                        continue;
                    }
                }
                Head::Map(len) => {
                    let n = self.count(len, 2)?;
                    if len == Some(0) {
                        Value::Map(Entries::new())
                    } else {
                        self.enter(open.len())?;
                        self.owed += 2 * n;
                        open.push(Open::Map {
                            entries: Vec::with_capacity(n.min(4096) as usize),
                            len: len.unwrap_or(INDEFINITE),
                            key: false,
                        });
                        continue;
                    }
                }
                Head::Tag(28) => {
                    self.enter(open.len())?;
                    open.push(Open::Shared(self.shared.len()));
                    self.shared.push(None);
                    continue;
                }
                Head::Tag(29) => self.reference()?,
                Head::Tag(t) => {
                    let h = self.head()?;
                    match (typed_elem(t), h) {
                        (Some(size), Head::Bytes(Some(n))) => self.typed(t, size, n)?,
                        (Some(size), Head::Bytes(None)) => self.padded_typed(t, size)?,
                        (Some(size), Head::Tag(crate::image::chunks::TAG_CHUNKS)) => {
                            self.chunked(t, size)?
                        }
                        _ => {
                            let chain = open
                                .iter()
                                .rev()
                                .take_while(|o| matches!(o, Open::Tag(_)))
                                .count();
                            if chain >= MAX_TAG_CHAIN {
                                return Err(DecodeError::Limit(format!(
                                    "more than {MAX_TAG_CHAIN} tags directly inside each other"
                                )));
                            }
                            self.enter(open.len())?;
                            open.push(Open::Tag(t));
                            next = Some(h);
                            continue;
                        }
                    }
                }
            };
            // Hand the value to the innermost open container, closing those it completes.
            loop {
                v = match open.last_mut() {
                    None => return Ok(v),
                    Some(Open::Array { items, len }) => {
                        items.push(v);
                        let n = items.len() as u64;
                        if *len == INDEFINITE {
                            self.check_len(n)?;
                            break;
                        } else if n < *len {
                            break;
                        }
                        let items = std::mem::take(items);
                        open.pop();
                        Value::Array(items.into())
                    }
                    Some(Open::Map { entries, len, key }) => {
                        if !*key {
                            entries.push((v, Value::Null));
                            *key = true;
                            break;
                        }
                        *key = false;
                        if let Some(last) = entries.last_mut() {
                            last.1 = v;
                        }
                        let n = entries.len() as u64;
                        if *len == INDEFINITE {
                            self.check_len(n)?;
                            break;
                        } else if n < *len {
                            break;
                        }
                        let entries = std::mem::take(entries);
                        open.pop();
                        Value::Map(entries.into())
                    }
                    Some(Open::Tag(t)) => {
                        let t = *t;
                        open.pop();
                        Value::Tag(t, Box::new(v))
                    }
                    Some(Open::Shared(idx)) => {
                        let idx = *idx;
                        open.pop();
                        self.shared[idx] = Some(v);
                        Value::Shared(idx as u64)
                    }
                };
            }
        }
    }

    /// The depth limit, for a container opened inside `open` others.
    fn enter(&mut self, open: usize) -> Result<(), DecodeError> {
        let depth = (self.depth as u64).saturating_add(open as u64 + 1);
        if depth > self.limits.max_depth as u64 {
            return Err(DecodeError::Limit(format!(
                "nesting deeper than {} levels",
                self.limits.max_depth
            )));
        }
        Ok(())
    }

    /// Tag 29: a reference to a shared value defined before (or, in an image, the next
    /// index: a forward reference to the heap section).
    fn reference(&mut self) -> Result<Value, DecodeError> {
        match self.head()? {
            Head::Uint(n) if n < self.shared.len() as u64 => Ok(Value::Ref(n)),
            Head::Uint(n) if n == self.shared.len() as u64 && self.forward.is_some() => {
                self.shared.push(None);
                if let Some(f) = &mut self.forward {
                    f.insert(n);
                }
                Ok(Value::Ref(n))
            }
            Head::Uint(n) => Err(DecodeError::Malformed(format!(
                "reference to shared value {n}, which is not defined before it"
            ))),
            other => Err(DecodeError::Malformed(format!(
                "shared reference holds {other:?}"
            ))),
        }
    }

    /// A typed array of `n` bytes in one definite-length byte string.
    fn typed(&mut self, t: u64, size: usize, n: u64) -> Result<Value, DecodeError> {
        let partial = n % size as u64;
        if partial != 0 {
            return Err(DecodeError::Malformed(format!(
                "typed array of {n} bytes, not a multiple of {size}"
            )));
        }
        let n = self.count(Some(n), 1)?;
        if self.src.remaining().is_none() && n > 1 << 20 {
            // Unknown input length: read through a growing buffer, then copy.
            let b = self.definite_bytes(n)?;
            return read_typed(t, b.len(), |dst| {
                dst.copy_from_slice(&b);
                Ok(())
            })
            .map(Value::Typed);
        }
        let n = usize::try_from(n)
            .map_err(|_| DecodeError::Limit(format!("a typed array of {n} bytes")))?;
        let src = &mut *self.src;
        read_typed(t, n, |dst| src.fill(dst)).map(Value::Typed)
    }

    fn check_len(&self, n: u64) -> Result<(), DecodeError> {
        if n > self.limits.max_len {
            return Err(DecodeError::Limit(format!(
                "an item of {n} elements or bytes (limit {})",
                self.limits.max_len
            )));
        }
        Ok(())
    }

    /// Checks a declared count against the limits and the input left (`min_bytes` per item),
    /// after what the open containers still need.
    fn count(&self, len: Option<u64>, min_bytes: u64) -> Result<u64, DecodeError> {
        let Some(n) = len else { return Ok(0) };
        if n == INDEFINITE {
            // Stands for "indefinite" in `Open`; no input holds that many items anyway.
            return Err(DecodeError::Limit(format!("an item of {n} elements")));
        }
        self.check_len(n)?;
        if let Some(left) = self.src.remaining() {
            if n.saturating_mul(min_bytes).saturating_add(self.owed) > left {
                return Err(DecodeError::Truncated);
            }
        }
        Ok(n)
    }

    fn string(&mut self, major: u8, len: Option<u64>) -> Result<Vec<u8>, DecodeError> {
        match len {
            Some(n) => self.definite_bytes(n),
            None => {
                let mut out = Vec::new();
                loop {
                    match self.head()? {
                        Head::Break => return Ok(out),
                        Head::Bytes(Some(n)) if major == 2 => out.extend(self.definite_bytes(n)?),
                        Head::Text(Some(n)) if major == 3 => out.extend(self.definite_bytes(n)?),
                        _ => {
                            return Err(DecodeError::Malformed(
                                "bad chunk in an indefinite-length string".into(),
                            ))
                        }
                    }
                    self.check_len(out.len() as u64)?;
                }
            }
        }
    }

    fn definite_bytes(&mut self, n: u64) -> Result<Vec<u8>, DecodeError> {
        let n = self.count(Some(n), 1)?;
        let n =
            usize::try_from(n).map_err(|_| DecodeError::Limit(format!("a string of {n} bytes")))?;
        if self.src.remaining().is_some() || n <= 1 << 20 {
            let mut b = vec![0; n];
            self.src.fill(&mut b)?;
            Ok(b)
        } else {
            // Unknown input length: grow with the data actually read, not with the claim.
            let mut b = Vec::new();
            while b.len() < n {
                let start = b.len();
                let step = (n - start).min(1 << 20);
                b.resize(start + step, 0);
                self.src.fill(&mut b[start..])?;
            }
            Ok(b)
        }
    }

    /// A typed array in an indefinite-length byte string: empty chunks (alignment padding,
    /// see `Encoder::typed`), then the data in one chunk. Data in several chunks is
    /// accepted too, through a copy.
    fn padded_typed(&mut self, t: u64, size: usize) -> Result<Value, DecodeError> {
        let mut padding = 0u32;
        loop {
            match self.head()? {
                Head::Bytes(Some(0)) => {
                    padding += 1;
                    if padding > 1 << 16 {
                        return Err(DecodeError::Malformed(
                            "over 65536 empty chunks in a typed array".into(),
                        ));
                    }
                }
                Head::Bytes(Some(n)) => {
                    if n % size as u64 != 0 {
                        return Err(DecodeError::Malformed(format!(
                            "typed array chunk of {n} bytes, not a multiple of {size}"
                        )));
                    }
                    let n = self.count(Some(n), 1)?;
                    let n = usize::try_from(n)
                        .map_err(|_| DecodeError::Limit(format!("a typed array of {n} bytes")))?;
                    let src = &mut *self.src;
                    let first = read_typed(t, n, |dst| src.fill(dst))?;
                    match self.head()? {
                        Head::Break => return Ok(Value::Typed(first)),
                        Head::Bytes(Some(m)) => {
                            // Rare (not written by ckpt): gather the rest and copy.
                            let mut all = first.to_le_bytes();
                            all.extend(self.definite_bytes(m)?);
                            loop {
                                match self.head()? {
                                    Head::Break => break,
                                    Head::Bytes(Some(m)) => all.extend(self.definite_bytes(m)?),
                                    _ => {
                                        return Err(DecodeError::Malformed(
                                            "bad chunk in a typed array".into(),
                                        ))
                                    }
                                }
                                self.check_len(all.len() as u64)?;
                            }
                            if all.len() % size != 0 {
                                return Err(DecodeError::Malformed(
                                    "typed array chunks of a partial element".into(),
                                ));
                            }
                            return read_typed(t, all.len(), |dst| {
                                dst.copy_from_slice(&all);
                                Ok(())
                            })
                            .map(Value::Typed);
                        }
                        _ => {
                            return Err(DecodeError::Malformed("bad chunk in a typed array".into()))
                        }
                    }
                }
                Head::Break => return read_typed(t, 0, |_: &mut [u8]| Ok(())).map(Value::Typed),
                _ => return Err(DecodeError::Malformed("bad chunk in a typed array".into())),
            }
        }
    }
}

/// IEEE 754 half precision to f64.
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}
