//! Reading and validating an image. Nothing in the file is trusted: the prefix and
//! trailer are checked first, every length is bounded by the limits and by the bytes left,
//! and the whole body is hashed even when its structure is broken, so a flipped bit is
//! reported as a checksum mismatch rather than as a confusing parse error.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::checksum::Checksum;

use super::{
    Fingerprint, FrameRecord, Header, Hole, Image, END_MAGIC, FORMAT_VERSION, MAGIC, PREFIX_LEN,
    TRAILER_LEN,
};
use crate::state::decode::{ChunkLoader, DecodeError, Decoder, Head, Source};
use crate::state::{Limits, SharedTable, Value};
use crate::Error;

const BUF: usize = 1 << 20;

/// Bulk data is read and hashed in pieces this large, so each piece is still in the CPU
/// cache when it is hashed (see BENCHMARKS.md).
const PIECE: usize = 256 << 10;

/// The body as a [`Source`]: buffered, bounded by the trailer's length, hashed as read.
struct BodyReader<'f> {
    file: &'f mut File,
    buf: Vec<u8>,
    pos: usize,
    /// Body bytes still in the file (not yet in `buf`).
    left: u64,
    hasher: Checksum,
    /// Told (bytes of the body read, body length) after each piece read from the file.
    progress: Option<&'f mut dyn FnMut(u64, u64)>,
    body_len: u64,
}

impl<'f> BodyReader<'f> {
    fn new(file: &'f mut File, body_len: u64) -> Self {
        BodyReader {
            file,
            buf: Vec::new(),
            pos: 0,
            left: body_len,
            hasher: Checksum::new(),
            progress: None,
            body_len,
        }
    }

    fn pull(&mut self, dst: &mut [u8]) -> Result<(), DecodeError> {
        for chunk in dst.chunks_mut(PIECE) {
            self.file.read_exact(chunk).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
                _ => DecodeError::Io(e),
            })?;
            self.hasher.update(chunk);
            self.left -= chunk.len() as u64;
            if let Some(p) = self.progress.as_mut() {
                p(self.body_len - self.left, self.body_len);
            }
        }
        Ok(())
    }

    /// Bytes of the body read so far.
    fn consumed(&self, body_len: u64) -> u64 {
        body_len - self.remaining_bytes()
    }

    fn remaining_bytes(&self) -> u64 {
        self.left + (self.buf.len() - self.pos) as u64
    }

    /// Hashes the rest of the body and returns the digest.
    fn finish(mut self) -> Result<u64, DecodeError> {
        let mut chunk = vec![0u8; BUF.min(self.left as usize)];
        while self.left > 0 {
            let n = chunk.len().min(self.left as usize);
            self.pull(&mut chunk[..n])?;
        }
        Ok(self.hasher.digest())
    }
}

impl Source for BodyReader<'_> {
    #[inline]
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), DecodeError> {
        let avail = self.buf.len() - self.pos;
        if dst.len() <= avail {
            dst.copy_from_slice(&self.buf[self.pos..self.pos + dst.len()]);
            self.pos += dst.len();
            return Ok(());
        }
        let (head, rest) = dst.split_at_mut(avail);
        head.copy_from_slice(&self.buf[self.pos..]);
        self.pos = self.buf.len();
        if rest.len() as u64 > self.left {
            return Err(DecodeError::Truncated);
        }
        if rest.len() >= BUF / 2 {
            // Bulk data (typed arrays): straight from the file into its final place.
            return self.pull(rest);
        }
        let n = (self.left as usize).min(BUF);
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(n, 0);
        self.pull(&mut buf)?;
        self.buf = buf;
        rest.copy_from_slice(&self.buf[..rest.len()]);
        self.pos = rest.len();
        Ok(())
    }

    fn remaining(&self) -> Option<u64> {
        Some(self.remaining_bytes())
    }
}

/// Highest format version a prefix may plausibly hold; above it (or 0) the prefix is
/// damaged, not written by a later ckpt.
const PLAUSIBLE_VERSION: u32 = 0xFFFF;

/// The first bytes of a file that is not an image, shown as bytes (escaped), never as
/// text that could pass for a name.
fn shown(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}

/// The file's frame (prefix and trailer), checked.
struct Opened {
    file: File,
    len: u64,
    body_len: u64,
    checksum: u64,
    /// The prefix's format version, not yet checked (see [`version_error`]).
    version: u32,
}

/// The error for a prefix whose format version is not [`FORMAT_VERSION`]. `intact`: the
/// body read as a valid image of this version with an intact checksum, so only the
/// prefix is damaged (a flipped byte is corruption, not another ckpt version).
fn version_error(path: &Path, version: u32, intact: bool) -> Error {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.into(),
        section: "prefix".into(),
        detail,
    };
    if intact {
        corrupt(format!(
            "the prefix says format version {version}, but the body (checksum intact) is a \
             version-{FORMAT_VERSION} image: the version field is damaged"
        ))
    } else if version == 0 || version > PLAUSIBLE_VERSION {
        corrupt(format!(
            "the format version field holds {version}, which no ckpt writes: the file is \
             damaged"
        ))
    } else {
        Error::UnsupportedVersion {
            path: path.into(),
            found: version,
            supported: FORMAT_VERSION,
        }
    }
}

/// Opens the file and checks magic and trailer (the version is checked by the caller,
/// which can tell a damaged version field from a later format).
fn open(path: &Path) -> Result<Opened, Error> {
    let mut file = File::open(path).map_err(|e| Error::io("opening image", path, e))?;
    // A signed image: the layout below ends before the signature block.
    let len = super::signature::unsigned_len(&mut file, path)?;
    let io = |e| Error::io("reading image", path, e);
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    if len == 0 {
        return Err(Error::NotAnImage {
            path: path.into(),
            detail: "empty file".into(),
        });
    }
    let mut prefix = [0u8; PREFIX_LEN as usize];
    let n = (len as usize).min(prefix.len());
    file.read_exact(&mut prefix[..n]).map_err(io)?;
    let m = n.min(MAGIC.len());
    // The trailer, if the file is long enough for one: it tells a damaged image (a
    // trailer whose body length fits the file) from a cut-off or a foreign file.
    let mut trailer = [0u8; TRAILER_LEN as usize];
    let framed = if len >= PREFIX_LEN + TRAILER_LEN {
        file.seek(SeekFrom::Start(len - TRAILER_LEN)).map_err(io)?;
        file.read_exact(&mut trailer).map_err(io)?;
        let body_len = u64::from_le_bytes(trailer[..8].try_into().unwrap_or_default());
        Some(body_len == len - PREFIX_LEN - TRAILER_LEN)
    } else {
        None
    };
    // A finished run's image ends with the finished marker instead (see `mark_finished`).
    let end_ok = framed.is_some()
        && (&trailer[16..] == END_MAGIC || &trailer[16..] == super::FINISHED_MAGIC);
    if prefix[..m] != MAGIC[..m] {
        if end_ok && framed == Some(true) {
            return Err(Error::Corrupt {
                path: path.into(),
                section: "prefix".into(),
                detail: format!(
                    "the magic number is damaged ({} instead of b\"CKPT\"; the trailer is \
                     intact)",
                    shown(&prefix[..m])
                ),
            });
        }
        return Err(Error::NotAnImage {
            path: path.into(),
            detail: format!("starts with {}, not b\"CKPT\"", shown(&prefix[..m])),
        });
    }
    let short = |what: &str| Error::Truncated {
        path: path.into(),
        detail: format!("{len} bytes, {what}"),
    };
    if len < PREFIX_LEN {
        return Err(short("shorter than the 8-byte prefix"));
    }
    let version = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
    // A later format may frame its body differently: its version decides the error.
    let other_version = version != FORMAT_VERSION;
    let Some(fits) = framed else {
        if other_version {
            return Err(version_error(path, version, false));
        }
        return Err(short("too short to hold the trailer"));
    };
    let body_len = u64::from_le_bytes(trailer[..8].try_into().unwrap_or_default());
    let checksum = u64::from_le_bytes(trailer[8..16].try_into().unwrap_or_default());
    let actual = len - PREFIX_LEN - TRAILER_LEN;
    if !(end_ok && fits) && other_version {
        return Err(version_error(path, version, false));
    }
    if !end_ok {
        if fits {
            // The length matches the file exactly: the marker is damaged, not missing.
            return Err(Error::Corrupt {
                path: path.into(),
                section: "trailer".into(),
                detail: "the end marker is damaged (the body length fits the file)".into(),
            });
        }
        return Err(short("no end marker: the write was cut off"));
    }
    if !fits {
        // The end marker is there, so the file was not cut off: the length field is damaged
        // (or bytes went missing inside the file).
        return Err(Error::Corrupt {
            path: path.into(),
            section: "trailer".into(),
            detail: format!(
                "the trailer announces a {body_len}-byte body, the file holds {actual}"
            ),
        });
    }
    file.seek(SeekFrom::Start(PREFIX_LEN)).map_err(io)?;
    Ok(Opened {
        file,
        len,
        body_len,
        checksum,
        version,
    })
}

/// A structural error found inside the body.
fn corrupt(path: &Path, section: &str, e: DecodeError) -> Error {
    match e {
        DecodeError::Truncated => Error::Corrupt {
            path: path.into(),
            section: section.into(),
            detail: "an item runs past the end of the body".into(),
        },
        other => other.into_error(path, section),
    }
}

struct Body {
    header: Option<Header>,
    /// The `exe` field of the header.
    exe: Option<String>,
    frames: Option<Vec<FrameRecord>>,
    components: Option<Vec<(String, Value)>>,
    sections: Vec<(String, u64)>,
}

/// Reads the body map; stops after the header when `header_only`.
fn parse_body(
    src: &mut BodyReader<'_>,
    body_len: u64,
    limits: &Limits,
    shared: &mut Vec<Option<Value>>,
    path: &Path,
    header_only: bool,
    chunks: Option<&mut dyn ChunkLoader>,
) -> Result<Body, Error> {
    let mut body = Body {
        header: None,
        exe: None,
        frames: None,
        components: None,
        sections: Vec::new(),
    };
    let mut d = Decoder::new(src, limits, shared);
    if let Some(l) = chunks {
        d.set_chunks(l);
    }
    d.allow_forward();
    let n = match d.head().map_err(|e| corrupt(path, "body", e))? {
        Head::Map(n) => n,
        other => {
            return Err(Error::Corrupt {
                path: path.into(),
                section: "body".into(),
                detail: format!("expected a map, found {other:?}"),
            })
        }
    };
    let mut i = 0u64;
    loop {
        if n == Some(i) {
            break;
        }
        i += 1;
        let key = match d.head().map_err(|e| corrupt(path, "body", e))? {
            Head::Break if n.is_none() => break,
            h => d.item_after(h).map_err(|e| corrupt(path, "body", e))?,
        };
        let Value::Text(section) = key else {
            return Err(Error::Corrupt {
                path: path.into(),
                section: "body".into(),
                detail: format!("a section key is a {}", key.kind()),
            });
        };
        // Errors name known sections only: another key may be damaged bytes, not a name.
        let known = ["header", "frames", "components", "heap"].contains(&section.as_str());
        let in_section = |e: DecodeError| {
            if known {
                corrupt(path, &section, e)
            } else {
                match corrupt(path, "body", e) {
                    Error::Corrupt {
                        path,
                        section,
                        detail,
                    } => Error::Corrupt {
                        path,
                        section,
                        detail: format!("in a section this build does not know: {detail}"),
                    },
                    other => other,
                }
            }
        };
        let start = d.src.consumed(body_len);
        if section == "heap" && !header_only {
            d.heap().map_err(in_section)?;
            body.sections
                .push((section, d.src.consumed(body_len) - start));
            continue;
        }
        let v = d.item().map_err(in_section)?;
        body.sections
            .push((section.clone(), d.src.consumed(body_len) - start));
        let bad = |detail: String| Error::Corrupt {
            path: path.into(),
            section: if known {
                section.clone()
            } else {
                "body".into()
            },
            detail,
        };
        match section.as_str() {
            "header" => {
                let (header, exe) = parse_header(v).map_err(bad)?;
                body.header = Some(header);
                body.exe = exe;
                if header_only {
                    return Ok(body);
                }
            }
            "frames" => body.frames = Some(parse_frames(v).map_err(bad)?),
            "components" => body.components = Some(text_map(v, "components").map_err(bad)?),
            _ => {} // a section of a later minor revision: ignored
        }
        if header_only {
            return Err(Error::Corrupt {
                path: path.into(),
                section: "body".into(),
                detail: "the body does not start with the header".into(),
            });
        }
    }
    if let Some(n) = d.undefined() {
        return Err(Error::Corrupt {
            path: path.into(),
            section: "heap".into(),
            detail: format!("shared value {n} is referenced but never defined"),
        });
    }
    Ok(body)
}

fn missing(path: &Path, section: &str) -> Error {
    Error::Corrupt {
        path: path.into(),
        section: section.into(),
        detail: "section missing".into(),
    }
}

/// Reads and validates a whole image: size, magic, version, trailer, checksum,
/// structure and limits. Bulk typed arrays land directly in their final vectors.
pub fn read(path: &Path, limits: &Limits) -> Result<Image, Error> {
    phase!("ckpt.read", path = path.display());
    read_with_progress(path, limits, &mut |_, _| {})
}

/// [`read`], telling `progress` (bytes of the body read so far, body length) as it goes
/// (after each piece of up to 1 MiB), for a progress bar on large images.
pub fn read_with_progress(
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Image, Error> {
    let Opened {
        mut file,
        len: file_len,
        body_len,
        checksum,
        version,
    } = open(path)?;
    let mut src = BodyReader::new(&mut file, body_len);
    src.progress = Some(progress);
    let mut shared = Vec::new();
    let mut loader = super::chunks::Loader::new(path);
    let parsed = parse_body(
        &mut src,
        body_len,
        limits,
        &mut shared,
        path,
        false,
        Some(&mut loader),
    );
    let leftover = src.remaining_bytes();
    let digest = src.finish().map_err(|e| corrupt(path, "body", e))?;
    if version != FORMAT_VERSION {
        let intact = digest == checksum
            && leftover == 0
            && matches!(&parsed, Ok(b) if b.header.as_ref().is_some_and(|h| h.format == FORMAT_VERSION));
        return Err(version_error(path, version, intact));
    }
    if digest != checksum {
        return Err(mismatch(path, checksum, digest));
    }
    let body = parsed?;
    if leftover != 0 {
        return Err(Error::Corrupt {
            path: path.into(),
            section: "body".into(),
            detail: format!("{leftover} bytes after the body map"),
        });
    }
    Ok(Image {
        path: path.into(),
        header: body.header.ok_or_else(|| missing(path, "header"))?,
        frames: body.frames.ok_or_else(|| missing(path, "frames"))?,
        components: body.components.ok_or_else(|| missing(path, "components"))?,
        exe: body.exe.clone(),
        shared: SharedTable::of_image(shared, body.exe),
        sections: body.sections,
        file_len,
    })
}

/// The error for a body whose checksum does not match the trailer's.
fn mismatch(path: &Path, checksum: u64, digest: u64) -> Error {
    Error::Corrupt {
        path: path.into(),
        section: "body".into(),
        detail: format!(
            "checksum mismatch (trailer {checksum:016x}, body {digest:016x}): the file was \
             damaged after it was written"
        ),
    }
}

/// Reads only the prefix and the header (for a re-exec with the original arguments).
/// Checks magic, version and lengths; the checksum only when the header is broken, so a
/// damaged byte is reported as a checksum mismatch, not as the structure it breaks (a
/// damaged byte in a header that still parses is caught by the [`read`] that follows).
pub fn read_header(path: &Path) -> Result<Header, Error> {
    let Opened {
        mut file,
        body_len,
        checksum,
        version,
        ..
    } = open(path)?;
    if version != FORMAT_VERSION {
        // Rare: the whole read tells a damaged version field from a later format.
        return Err(read(path, &Limits::default())
            .err()
            .unwrap_or_else(|| version_error(path, version, false)));
    }
    let mut src = BodyReader::new(&mut file, body_len);
    let mut shared = Vec::new();
    let parsed = parse_body(
        &mut src,
        body_len,
        &Limits::default(),
        &mut shared,
        path,
        true,
        None,
    );
    match parsed {
        Ok(body) => body.header.ok_or_else(|| missing(path, "header")),
        Err(e) => {
            let digest = src.finish().map_err(|e| corrupt(path, "body", e))?;
            if digest != checksum {
                return Err(mismatch(path, checksum, digest));
            }
            Err(e)
        }
    }
}

fn text(v: Value, what: &str) -> Result<String, String> {
    match v {
        Value::Text(t) => Ok(t),
        other => Err(format!("`{what}`: expected text, found {}", other.kind())),
    }
}

fn uint(v: Value, what: &str) -> Result<u64, String> {
    match v {
        Value::Uint(n) => Ok(n),
        other => Err(format!(
            "`{what}`: expected an unsigned integer, found {}",
            other.kind()
        )),
    }
}

fn field(v: &mut Value, key: &str) -> Result<Value, String> {
    v.take_field(key)
        .ok_or_else(|| format!("field `{key}` missing"))
}

/// A map with text keys, in order.
fn text_map(v: Value, what: &str) -> Result<Vec<(String, Value)>, String> {
    match v {
        Value::Map(entries) => entries
            .into_iter()
            .map(|(k, x)| Ok((text(k, what)?, x)))
            .collect(),
        other => Err(format!("`{what}`: expected a map, found {}", other.kind())),
    }
}

/// The header, and the executable it names (`exe`: absent in older images).
fn parse_header(mut v: Value) -> Result<(Header, Option<String>), String> {
    if !matches!(v, Value::Map(_)) {
        return Err(format!("expected a map, found {}", v.kind()));
    }
    let mut fp = field(&mut v, "fingerprint")?;
    if !matches!(fp, Value::Map(_)) {
        return Err(format!(
            "`fingerprint`: expected a map, found {}",
            fp.kind()
        ));
    }
    let mut part = |k: &str| field(&mut fp, k).and_then(|x| text(x, k));
    let fingerprint = Fingerprint {
        crate_name: part("crate_name")?,
        crate_version: part("crate_version")?,
        sources: part("sources")?,
        rustc: part("rustc")?,
        target: part("target")?,
    };
    let format = uint(field(&mut v, "format")?, "format")?;
    let args = match field(&mut v, "args")? {
        Value::Array(items) => items
            .into_iter()
            .map(|a| text(a, "args"))
            .collect::<Result<_, _>>()?,
        other => return Err(format!("`args`: expected an array, found {}", other.kind())),
    };
    let ckpt_file = match field(&mut v, "ckpt_file")? {
        Value::Null => None,
        other => Some(text(other, "ckpt_file")?),
    };
    let options = text_map(field(&mut v, "options")?, "options")?
        .into_iter()
        .map(|(k, x)| Ok((k, text(x, "options")?)))
        .collect::<Result<_, String>>()?;
    let exe = match v.take_field("exe") {
        None | Some(Value::Null) => None,
        Some(other) => Some(text(other, "exe")?),
    };
    let header = Header {
        format: u32::try_from(format).map_err(|_| format!("`format`: {format} is out of range"))?,
        fingerprint,
        created_unix: uint(field(&mut v, "created")?, "created")?,
        program: text(field(&mut v, "program")?, "program")?,
        args,
        ckpt_file,
        options,
    };
    Ok((header, exe))
}

fn parse_frames(v: Value) -> Result<Vec<FrameRecord>, String> {
    let Value::Array(items) = v else {
        return Err(format!("expected an array of frames, found {}", v.kind()));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, f)| parse_frame(f).map_err(|e| format!("frame {i}: {e}")))
        .collect()
}

fn parse_frame(mut v: Value) -> Result<FrameRecord, String> {
    if !matches!(v, Value::Map(_)) {
        return Err(format!("expected a map, found {}", v.kind()));
    }
    let opt_map = |v: &mut Value, k: &str| match v.take_field(k) {
        None => Ok(Vec::new()),
        Some(m) => text_map(m, k),
    };
    let at = uint(field(&mut v, "at")?, "at")?;
    Ok(FrameRecord {
        function: text(field(&mut v, "fn")?, "fn")?,
        body_hash: uint(field(&mut v, "hash")?, "hash")?,
        at: u32::try_from(at).map_err(|_| format!("`at`: {at} is out of range"))?,
        site: match v.take_field("site") {
            None => None,
            Some(s) => Some(text(s, "site")?),
        },
        live: text_map(field(&mut v, "live")?, "live")?,
        args: opt_map(&mut v, "args")?,
        lent: opt_map(&mut v, "lent")?
            .into_iter()
            .map(|(k, x)| Ok((k, text(x, "lent")?)))
            .collect::<Result<_, String>>()?,
        holes: match v.take_field("holes") {
            None => Vec::new(),
            Some(h) => parse_holes(h)?,
        },
    })
}

/// `[[local, [step…], parameter], …]`: parts of locals lent to the callee.
fn parse_holes(v: Value) -> Result<Vec<Hole>, String> {
    let Value::Array(items) = v else {
        return Err(format!("`holes`: expected an array, found {}", v.kind()));
    };
    items
        .into_iter()
        .map(|h| {
            let Value::Array(parts) = h else {
                return Err("`holes`: expected [local, path, parameter]".to_string());
            };
            let mut parts = parts.into_vec().into_iter();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(Value::Text(local)), Some(Value::Array(path)), Some(Value::Text(param))) => {
                    Ok(Hole {
                        local,
                        path: path.into_vec(),
                        param,
                    })
                }
                _ => Err("`holes`: expected [local, path, parameter]".to_string()),
            }
        })
        .collect()
}

/// Collects the chunk references of an image without reading the chunks (each chunked
/// array decodes as empty).
struct RefsOnly<'r>(&'r mut Vec<super::chunks::ChunkRef>);

impl ChunkLoader for RefsOnly<'_> {
    fn load(
        &mut self,
        tag: u64,
        refs: Vec<super::chunks::ChunkRef>,
    ) -> Result<crate::state::TypedArray, DecodeError> {
        self.0.extend(refs);
        crate::state::read_typed(tag, 0, |_: &mut [u8]| Ok(()))
    }
}

/// The chunk references of the image at `path` (checked like [`read`], chunks not read).
pub(crate) fn read_refs(path: &Path, refs: &mut Vec<super::chunks::ChunkRef>) -> Result<(), Error> {
    let Opened {
        mut file,
        body_len,
        checksum,
        ..
    } = open(path)?;
    let mut src = BodyReader::new(&mut file, body_len);
    let mut shared = Vec::new();
    let mut only = RefsOnly(refs);
    let parsed = parse_body(
        &mut src,
        body_len,
        &Limits::default(),
        &mut shared,
        path,
        false,
        Some(&mut only),
    );
    let digest = src.finish().map_err(|e| corrupt(path, "body", e))?;
    if digest != checksum {
        return Err(mismatch(path, checksum, digest));
    }
    parsed.map(drop)
}
