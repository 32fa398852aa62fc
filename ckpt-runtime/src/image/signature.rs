//! Signed images: an HMAC-SHA256 over the whole image with a key the user configures
//! (`--ckpt-key-file FILE` / `CKPT_KEY_FILE`, or the key itself in `CKPT_KEY`). The
//! checksum in the trailer catches accidents; the signature catches changes made on
//! purpose: a restore with a key configured refuses an unsigned image and one whose
//! signature does not match.
//!
//! A signed image is the unsigned layout followed by a 40-byte block: the 32-byte MAC,
//! then `b"CKPTHMAC"`. The MAC covers every byte before the block except the trailer's
//! end magic (so marking an image finished keeps its signature valid): the prefix, the
//! body, and the trailer's body length and checksum.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;

/// The magic bytes that close a signed image.
pub const SIGNATURE_MAGIC: &[u8; 8] = b"CKPTHMAC";
/// Size of the signature block (MAC + magic).
pub const SIGNATURE_LEN: u64 = 40;

/// The environment variable holding the key itself.
pub const ENV_KEY: &str = "CKPT_KEY";
/// The environment variable naming a file holding the key.
pub const ENV_KEY_FILE: &str = "CKPT_KEY_FILE";

/// A signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from its bytes. Fails on an empty key.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Key, Error> {
        let b = bytes.into();
        if b.is_empty() {
            return Err(Error::Usage(
                "the signing key is empty; put at least 32 random bytes in the key file \
                 (e.g. `head -c 32 /dev/urandom > key`)"
                    .into(),
            ));
        }
        Ok(Key(b))
    }

    /// The key in file `path`: its bytes, without trailing whitespace when the file is
    /// text (so `openssl rand -hex 32 > key` and an editor's final newline both work).
    pub fn from_file(path: &Path) -> Result<Key, Error> {
        let bytes =
            std::fs::read(path).map_err(|e| Error::io("reading the signing key", path, e))?;
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(t) => t.trim_end().as_bytes().to_vec(),
            Err(_) => bytes,
        };
        Key::new(bytes).map_err(|e| match e {
            Error::Usage(m) => Error::Usage(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// The key configured in the environment (`CKPT_KEY_FILE` beats `CKPT_KEY`), if any.
    pub fn from_env() -> Result<Option<Key>, Error> {
        if let Some(f) = std::env::var_os(ENV_KEY_FILE) {
            return Key::from_file(Path::new(&f)).map(Some);
        }
        match std::env::var_os(ENV_KEY) {
            Some(k) => Key::new(k.as_encoded_bytes().to_vec())
                .map(Some)
                .map_err(|e| Error::Usage(format!("{ENV_KEY}: {e}"))),
            None => Ok(None),
        }
    }

    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"))
    }
}

/// Whether the file ends with a signature block.
pub fn is_signed(path: &Path) -> Result<bool, Error> {
    let mut f = File::open(path).map_err(|e| Error::io("reading image", path, e))?;
    Ok(tail_magic(&mut f, path)?.as_ref() == Some(SIGNATURE_MAGIC))
}

/// The length of the open image `f` without its signature block, if it has one: where
/// the unsigned layout (prefix, body, trailer) ends.
pub(crate) fn unsigned_len(f: &mut File, path: &Path) -> Result<u64, Error> {
    let len = f
        .metadata()
        .map_err(|e| Error::io("reading image metadata", path, e))?
        .len();
    if len >= SIGNATURE_LEN && tail_magic(f, path)?.as_ref() == Some(SIGNATURE_MAGIC) {
        return Ok(len - SIGNATURE_LEN);
    }
    Ok(len)
}

fn tail_magic(f: &mut File, path: &Path) -> Result<Option<[u8; 8]>, Error> {
    let io = |e| Error::io("reading image", path, e);
    let len = f.metadata().map_err(io)?.len();
    if len < 8 {
        return Ok(None);
    }
    let mut end = [0u8; 8];
    f.seek(SeekFrom::Start(len - 8)).map_err(io)?;
    f.read_exact(&mut end).map_err(io)?;
    Ok(Some(end))
}

/// Checks the signature of the image at `path` with `key`: an unsigned image and a
/// signature that does not match are [`Error::Signature`].
pub fn verify(path: &Path, key: &Key) -> Result<(), Error> {
    phase!("ckpt.verify", path = path.display());
    let io = |e| Error::io("reading image", path, e);
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if tail_magic(&mut f, path)?.as_ref() != Some(SIGNATURE_MAGIC)
        || len < SIGNATURE_LEN + super::PREFIX_LEN + super::TRAILER_LEN
    {
        return Err(Error::Signature {
            path: path.into(),
            detail: "the image is not signed, and a signing key is configured (CKPT_KEY, \
                     CKPT_KEY_FILE or --ckpt-key-file): refusing to restore it. Restore it \
                     without the key only if you trust where it came from"
                .into(),
        });
    }
    let covered = len - SIGNATURE_LEN - 8;
    let mut mac = key.mac();
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = covered;
    while left > 0 {
        let n = (left as usize).min(buf.len());
        f.read_exact(&mut buf[..n]).map_err(io)?;
        mac.update(&buf[..n]);
        left -= n as u64;
    }
    let mut tag = [0u8; 32];
    f.seek(SeekFrom::Start(len - SIGNATURE_LEN)).map_err(io)?;
    f.read_exact(&mut tag).map_err(io)?;
    mac.verify_slice(&tag).map_err(|_| Error::Signature {
        path: path.into(),
        detail: "the image's signature does not match the configured key: it was changed \
                 after it was written, or signed with another key; refusing to restore it"
            .into(),
    })
}
