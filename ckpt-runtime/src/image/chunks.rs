//! Incremental images (`--ckpt-incremental`): large typed arrays are cut into chunks
//! addressed by their content hash and kept in pack files beside the image; the image
//! refers to them. A save writes only the chunks the current image does not already hold
//! (whatever array they belong to), and compresses each new chunk with LZ4 when that
//! shrinks it by an eighth or more.
//!
//! **Layout.** Next to the image `DIR/app.ckpt` is the directory `DIR/app.ckpt.chunks/`
//! of pack files `<16 hex digits>.pack`: `b"CKPTPACK"`, then chunk payloads, an
//! uncompressed one at a multiple of 4096 bytes. A save writes at most one new pack,
//! synced (with the directory) before the image that refers to it is.
//!
//! **In the image**, a chunked array is its RFC 8746 tag, then the tag [`TAG_CHUNKS`] and
//! an array of chunk references, each `[hash, len, pack, offset, stored, codec]`: the
//! xxh3-128 of the chunk's bytes (16 bytes, big-endian), its length, the pack's path
//! relative to the image's directory (`app.ckpt.chunks/….pack`, so the kept images
//! `app.ckpt.N` beside it share the store), where the payload starts, its stored length
//! and its codec (0: raw, 1: LZ4 block). The body's checksum covers the references; each
//! chunk's hash is checked when the chunk is read.
//!
//! **Collection.** Packs no kept image refers to (the kept images are the image and its
//! `--ckpt-keep` generations) are removed by the next save before it writes, and at the
//! end of the run. Never while a save is being written: its new pack is in no image yet.

// Ordered maps, not std's hash maps: their random keys would be an input of the program
// (drawn through ckpt's random source) when an image is read during a replay.
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::state::decode::DecodeError;
use crate::state::{Encoder, TypedArray};

/// The CBOR tag of an array stored as chunks (private use: `"ckpt"` in ASCII).
pub(crate) const TAG_CHUNKS: u64 = 0x636b_7074;
/// The size of a chunk (the last one of an array may be shorter).
pub(crate) const CHUNK: usize = 1 << 20;
/// The magic at the start of a pack.
const PACK_MAGIC: &[u8; 8] = b"CKPTPACK";
/// Alignment of uncompressed payloads in a pack.
const ALIGN: u64 = 4096;
/// A codec is kept when it saves at least this fraction of a chunk.
const MIN_SAVING: usize = 8;
/// A chunk is only compressed when its first this many bytes compress: incompressible
/// data then costs a sixty-fourth of a chunk's compression, not a whole one.
const PROBE: usize = 16 << 10;
/// See `write::WRITEBACK_WINDOW`.
const WRITEBACK_WINDOW: u64 = 16 << 20;

/// Whether `c` looks worth compressing: its first [`PROBE`] bytes shrink enough.
fn compressible(c: &[u8]) -> bool {
    if c.len() <= PROBE {
        return true;
    }
    let probe = &c[..PROBE];
    lz4_flex::block::compress(probe).len() + PROBE / MIN_SAVING <= PROBE
}

/// Codecs of a chunk's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Raw = 0,
    Lz4 = 1,
}

/// A reference to a chunk, as the image holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub hash: u128,
    pub len: u64,
    /// Relative to the image's directory.
    pub pack: String,
    pub offset: u64,
    pub stored: u64,
    pub codec: Codec,
}

impl ChunkRef {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.array(6);
        e.bytes(&self.hash.to_be_bytes());
        e.uint(self.len);
        e.text(&self.pack);
        e.uint(self.offset);
        e.uint(self.stored);
        e.uint(self.codec as u64);
    }

    /// A reference from its decoded form.
    pub(crate) fn from_value(v: crate::state::Value) -> Result<ChunkRef, DecodeError> {
        use crate::state::Value;
        let bad = || DecodeError::Malformed("a malformed chunk reference".into());
        let Value::Array(items) = v else {
            return Err(bad());
        };
        let items: Vec<Value> = items.into();
        let [hash, len, pack, offset, stored, codec]: [Value; 6] =
            items.try_into().map_err(|_| bad())?;
        let hash = match hash {
            Value::Bytes(b) if b.len() == 16 => {
                u128::from_be_bytes(b.as_slice().try_into().map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        };
        let uint = |v: Value| match v {
            Value::Uint(n) => Ok(n),
            _ => Err(bad()),
        };
        let pack = match pack {
            Value::Text(t) if is_pack_name(&t) => t,
            _ => return Err(bad()),
        };
        let codec = match uint(codec)? {
            0 => Codec::Raw,
            1 => Codec::Lz4,
            n => {
                return Err(DecodeError::Malformed(format!(
                    "a chunk with codec {n}, which this build does not know"
                )))
            }
        };
        let r = ChunkRef {
            hash,
            len: uint(len)?,
            pack,
            offset: uint(offset)?,
            stored: uint(stored)?,
            codec,
        };
        if r.len as usize > CHUNK || r.stored > CHUNK as u64 + (CHUNK as u64 >> 4) {
            return Err(bad());
        }
        Ok(r)
    }
}

/// A pack path as images hold it: `<store dir>/<16 hex>.pack`, one level, no `..`.
fn is_pack_name(p: &str) -> bool {
    let mut parts = p.split('/');
    let (Some(dir), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    dir.ends_with(".chunks")
        && !dir.starts_with('.')
        && file.len() == 21
        && file.ends_with(".pack")
        && file[..16].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The chunk store directory of the image `path` (`app.ckpt` → `app.ckpt.chunks`),
/// relative to the image's directory.
pub(crate) fn store_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Kept generations (`app.ckpt.3`) share the store of the image they were.
    format!("{}.chunks", strip_generation(&name))
}

fn strip_generation(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((base, seq)) if !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    }
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes the chunks of one save: the ones already in the store are referred to, new
/// ones go to a new pack.
pub(crate) struct ChunkWriter {
    /// The image's directory.
    dir: PathBuf,
    store: String,
    /// Chunks the current image holds, and the ones written by this save.
    known: BTreeMap<u128, ChunkRef>,
    pack: Option<(File, String, u64)>,
    compress: bool,
    /// Bytes of chunks written / referred to (for the report).
    pub written: u64,
    pub reused: u64,
    /// Payload bytes written to the pack.
    pub stored: u64,
    /// Pack bytes already handed to writeback.
    kicked: u64,
}

impl ChunkWriter {
    /// A writer for the image `path`, which knows the chunks of the image now at `path`
    /// (if any: it is the one a new image is compared with).
    ///
    /// Packs no kept image refers to any more are removed first: saves are written one
    /// at a time, so no other save is writing a pack meanwhile.
    pub(crate) fn new(path: &Path, compress: bool) -> ChunkWriter {
        collect(path);
        let mut known = BTreeMap::new();
        if let Ok(refs) = refs_of(path) {
            for r in refs {
                known.insert(r.hash, r);
            }
        }
        ChunkWriter {
            dir: dir_of(path),
            store: store_name(path),
            known,
            pack: None,
            compress,
            written: 0,
            reused: 0,
            stored: 0,
            kicked: 0,
        }
    }

    /// Writes the references of `data`'s chunks into `out` (as CBOR: the chunk tag and the
    /// array of references), storing the chunks not known yet.
    /// `known`: the hashes of chunks known unchanged since the image the store holds
    /// (not read again when that image has them).
    pub(crate) fn array(
        &mut self,
        data: &[u8],
        known: &[Option<u128>],
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let hashes = hash_chunks(data, |i| {
            known
                .get(i)
                .copied()
                .flatten()
                .filter(|h| self.known.contains_key(h))
        });
        let mut e = Encoder::new(out);
        e.tag(TAG_CHUNKS);
        e.array(hashes.len() as u64);
        for (c, &hash) in data.chunks(CHUNK).zip(&hashes) {
            let r = match self.known.get(&hash) {
                Some(r) if r.len == c.len() as u64 => {
                    self.reused += c.len() as u64;
                    r.clone()
                }
                _ => {
                    let r = self.store(hash, c)?;
                    self.written += c.len() as u64;
                    self.known.insert(hash, r.clone());
                    r
                }
            };
            r.encode(&mut e);
        }
        e.finish().map_err(io::Error::other)
    }

    fn store(&mut self, hash: u128, c: &[u8]) -> io::Result<ChunkRef> {
        let mut packed = None;
        if self.compress && compressible(c) {
            let z = lz4_flex::block::compress(c);
            if z.len() + c.len() / MIN_SAVING <= c.len() {
                packed = Some(z);
            }
        }
        if self.pack.is_none() {
            let store = self.dir.join(&self.store);
            fs::create_dir_all(&store)?;
            let name = format!("{:016x}.pack", fresh_id());
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(store.join(&name))?;
            f.write_all(PACK_MAGIC)?;
            self.pack = Some((f, format!("{}/{name}", self.store), PACK_MAGIC.len() as u64));
        }
        let Some((f, name, end)) = &mut self.pack else {
            unreachable!("the pack was just opened")
        };
        let (payload, codec, at) = match &packed {
            Some(z) => (z.as_slice(), Codec::Lz4, *end),
            None => (c, Codec::Raw, end.next_multiple_of(ALIGN)),
        };
        f.write_all_at(payload, at)?;
        *end = at + payload.len() as u64;
        self.stored += payload.len() as u64;
        // Hand the pack to the disk in windows, so the sync before the image only waits
        // for the last one.
        if *end - self.kicked >= WRITEBACK_WINDOW {
            super::write::start_writeback(f, self.kicked, *end - self.kicked);
            self.kicked = *end;
        }
        Ok(ChunkRef {
            hash,
            len: c.len() as u64,
            pack: name.clone(),
            offset: at,
            stored: payload.len() as u64,
            codec,
        })
    }

    /// Makes the new pack durable (before the image that refers to it is written).
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if let Some((f, _, _)) = &self.pack {
            f.sync_data()?;
            File::open(self.dir.join(&self.store))?.sync_all()?;
        }
        Ok(())
    }

    /// Removes the new pack (the image was not written).
    pub(crate) fn abandon(&mut self) {
        if let Some((_, name, _)) = self.pack.take() {
            let _ = fs::remove_file(self.dir.join(name));
        }
    }
}

/// The hashes of `data`'s chunks, on two threads for a large array (hashing is most of
/// the work of a save that finds few new chunks).
/// Chunks whose hash `known(i)` gives are not read.
fn hash_chunks(data: &[u8], known: impl Fn(usize) -> Option<u128> + Sync) -> Vec<u128> {
    let hash = |first: usize, part: &[u8]| -> Vec<u128> {
        part.chunks(CHUNK)
            .enumerate()
            .map(|(i, c)| known(first + i).unwrap_or_else(|| twox_hash::XxHash3_128::oneshot(c)))
            .collect()
    };
    let n = data.len().div_ceil(CHUNK);
    let unknown = (0..n).filter(|&i| known(i).is_none()).count();
    if unknown < 16 {
        return hash(0, data);
    }
    let (a, b) = data.split_at(n / 2 * CHUNK);
    std::thread::scope(|s| {
        let other = s.spawn(|| hash(n / 2, b));
        let mut out = hash(0, a);
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(hash(n / 2, b)),
        }
        out
    })
}

/// A fresh pack id: time and pid, so two processes never pick the same.
fn fresh_id() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    twox_hash::XxHash3_64::oneshot(
        &[t.to_le_bytes(), u64::from(std::process::id()).to_le_bytes()].concat(),
    )
}

/// The chunk references of the image at `path`, without reading the chunks.
pub(crate) fn refs_of(path: &Path) -> Result<Vec<ChunkRef>, crate::Error> {
    let mut refs = Vec::new();
    super::read::read_refs(path, &mut refs)?;
    Ok(refs)
}

/// The images that share `path`'s chunk store: the image and its kept generations
/// (`app.ckpt.N`).
fn kept_images(path: &Path) -> Vec<PathBuf> {
    let dir = dir_of(path);
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let mut out = vec![path.to_path_buf()];
    if let Ok(entries) = fs::read_dir(&dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(seq) = n.strip_prefix(&format!("{name}.")) {
                if !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

/// The packs (as images name them, `app.ckpt.chunks/<16 hex>.pack`) that a kept image of
/// `path` (the image and its kept generations) refers to; `None` when a kept image
/// cannot be read (it might still be restored: nothing may go).
pub(crate) fn live_packs(path: &Path) -> Option<BTreeSet<String>> {
    let mut live = BTreeSet::new();
    for k in kept_images(path) {
        match refs_of(&k) {
            Ok(refs) => live.extend(refs.into_iter().map(|r| r.pack)),
            Err(_) if k.exists() => return None,
            Err(_) => {}
        }
    }
    Some(live)
}

/// Whether `name` (relative to an image's directory) is a pack of `path`'s store.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn is_pack_of(path: &Path, name: &str) -> bool {
    is_pack_name(name) && name.split('/').next() == Some(store_name(path).as_str())
}

/// Removes the packs of `path`'s store that no kept image (the image and its kept
/// generations) refers to. Best effort: a pack left behind is removed by a later save.
pub(crate) fn collect(path: &Path) {
    let dir = dir_of(path);
    let store = store_name(path);
    let Some(live) = live_packs(path) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir.join(&store)) else {
        return;
    };
    for e in entries.flatten() {
        let name = format!("{store}/{}", e.file_name().to_string_lossy());
        if is_pack_name(&name) && !live.contains(&name) {
            let _ = fs::remove_file(e.path());
        }
    }
    // No image left: no store either (fails while packs remain).
    if live.is_empty() {
        let _ = fs::remove_dir(dir.join(&store));
    }
}

/// Chunked arrays of the next image read are filled lazily (see [`lazy`](super::lazy)).
static LAZY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes the chunked arrays of the images read next lazily filled (the agent's restore
/// with `--ckpt-lazy`), or not.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn set_lazy(on: bool) {
    LAZY.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Reads chunked arrays of the image in directory `dir` (see [`ChunkLoader`]).
pub(crate) struct Loader {
    image: PathBuf,
    dir: PathBuf,
    packs: BTreeMap<String, File>,
}

impl Loader {
    pub(crate) fn new(image: &Path) -> Loader {
        Loader {
            image: image.to_path_buf(),
            dir: dir_of(image),
            packs: BTreeMap::new(),
        }
    }

    fn pack(&mut self, name: &str) -> Result<&File, DecodeError> {
        if !self.packs.contains_key(name) {
            let f = File::open(self.dir.join(name)).map_err(|e| {
                DecodeError::Malformed(format!(
                    "chunk pack {name}: {e} (copy the image's {}/ directory with it)",
                    name.split('/').next().unwrap_or(name)
                ))
            })?;
            self.packs.insert(name.to_string(), f);
        }
        Ok(&self.packs[name])
    }

    /// Reads and checks one chunk into `dst` (its length).
    pub(crate) fn chunk(&mut self, r: &ChunkRef, dst: &mut [u8]) -> Result<(), DecodeError> {
        let f = self.pack(&r.pack)?;
        let bad = |what: &str| {
            DecodeError::Malformed(format!(
                "chunk {:032x} in {} at {}: {what}",
                r.hash, r.pack, r.offset
            ))
        };
        match r.codec {
            Codec::Raw => {
                if r.stored != r.len {
                    return Err(bad("stored length differs from its length"));
                }
                f.read_exact_at(dst, r.offset)
                    .map_err(|e| bad(&format!("cannot read it ({e})")))?;
            }
            Codec::Lz4 => {
                let mut z = vec![0; r.stored as usize];
                f.read_exact_at(&mut z, r.offset)
                    .map_err(|e| bad(&format!("cannot read it ({e})")))?;
                let n = lz4_flex::block::decompress_into(&z, dst)
                    .map_err(|e| bad(&format!("cannot decompress it ({e})")))?;
                if n != dst.len() {
                    return Err(bad("decompressed to another length"));
                }
            }
        }
        if twox_hash::XxHash3_128::oneshot(dst) != r.hash {
            return Err(bad(
                "its bytes do not match its hash (the pack was damaged)",
            ));
        }
        Ok(())
    }
}

impl crate::state::decode::ChunkLoader for Loader {
    fn load(&mut self, tag: u64, refs: Vec<ChunkRef>) -> Result<TypedArray, DecodeError> {
        let total: u64 = refs.iter().map(|r| r.len).sum();
        let total = usize::try_from(total)
            .map_err(|_| DecodeError::Limit(format!("a typed array of {total} bytes")))?;
        if refs.iter().rev().skip(1).any(|r| r.len != CHUNK as u64) {
            return Err(DecodeError::Malformed(
                "a chunked array whose chunks are not whole but the last".into(),
            ));
        }
        let lazy = LAZY.load(std::sync::atomic::Ordering::Relaxed);
        crate::state::read_typed(tag, total, |dst| {
            if lazy && super::lazy::register(&self.image, dst, &refs) {
                return Ok(());
            }
            for (r, d) in refs.iter().zip(dst.chunks_mut(CHUNK)) {
                self.chunk(r, d)?;
            }
            Ok(())
        })
    }
}
