//! Files for checkpointed programs: the `fs` component.
//!
//! Inside `#[checkpointable]` code, `std::fs` means this module: it is a superset of
//! `std::fs` (everything std has is re-exported) whose [`File`], [`OpenOptions`] and the
//! functions that create, write, rename or remove files also keep a table of the files the
//! program has open or has written. That table is the `fs` component of every image:
//!
//! - **At a save**, every written file is `fdatasync`ed before the image is committed,
//!   and the image records each file's absolute path, identity (device, inode), length,
//!   modification time and open handles (offset and mode). A [`File`] live in a frame is
//!   saved with its path, mode and offset.
//! - **At a restore**, every file is checked first, and only if all checks pass: files the
//!   program created, wrote or appended to are cut back to their length at the save (so
//!   nothing is written twice), then open files are reopened by path and seeked.
//! - A file the program starts writing between a save and a kill is not in that save's
//!   image: its length when first opened is appended to a small journal next
//!   to the image (`IMAGE.opens`) before the open returns, and a restore cuts it back to
//!   that length too (or removes it, if that open created it). A save empties its image's
//!   journal.
//! - A written file whose identity changed is refused, never truncated. A file the program
//!   was reading that changed since the save (size or modification time), was replaced, or
//!   is missing is an error by default: the program's state depends on what it read. Restore
//!   with `--ckpt-files=accept-changed` (or `CKPT_FILES=accept-changed`) to continue with
//!   the file as it is now.
//!
//! ```no_run
//! use std::io::{BufRead, Write};
//!
//! #[ckpt::checkpointable]
//! fn main() -> std::io::Result<()> {
//!     let input = ckpt::io::BufReader::new(ckpt::fs::File::open("input.txt")?);
//!     let mut out = ckpt::io::BufWriter::new(ckpt::fs::File::create("lengths.txt")?);
//!     for line in input.lines() {
//!         writeln!(out, "{}", line?.len())?;
//!         ckpt::save().expect("checkpoint");
//!     }
//!     Ok(())
//! }
//! ```

mod file;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod journal;
pub(crate) mod sys;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod table;

#[cfg(test)]
pub(crate) mod tests;

pub use std::fs::*;

#[cfg(feature = "agent")]
pub(crate) use file::absolute;
pub use file::{File, OpenOptions};
pub use journal::{pending_opens, pending_opens_journal_name, PendingOpen};

use std::io;
use std::path::Path;

use crate::error::{Error, Result};

/// The environment variable that chooses the [`Policy`] of a restore.
pub const ENV_POLICY: &str = "CKPT_FILES";

/// What a restore does with a file the program was reading that changed since the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Refuse the restore, naming the file (the default; `CKPT_FILES=strict`).
    #[default]
    Strict,
    /// Restore anyway and read the file as it is now (`CKPT_FILES=accept-changed`).
    /// Written files are still never truncated when their identity changed.
    AcceptChanged,
}

impl Policy {
    pub(crate) const HINT: &'static str =
        "restore with --ckpt-files=accept-changed (or CKPT_FILES=accept-changed) to continue with the file as it is now";

    /// Parses a `CKPT_FILES` value.
    pub fn parse(s: &str) -> Result<Policy> {
        match s.trim() {
            "" | "strict" => Ok(Policy::Strict),
            "accept-changed" => Ok(Policy::AcceptChanged),
            other => Err(Error::Usage(format!(
                "{ENV_POLICY}={other:?}: expected `strict` (the default) or `accept-changed`"
            ))),
        }
    }

    /// The policy of this process, from `CKPT_FILES`.
    pub fn from_env() -> Result<Policy> {
        crate::policy::from_env(ENV_POLICY, Policy::parse)
    }
}

/// Reads a whole file (see [`std::fs::read`]).
pub fn read<P: AsRef<Path>>(path: P) -> io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// Reads a whole file as UTF-8 (see [`std::fs::read_to_string`]).
pub fn read_to_string<P: AsRef<Path>>(path: P) -> io::Result<String> {
    std::fs::read_to_string(path)
}

/// Writes a whole file (see [`std::fs::write`]); the file is recorded as written, so a
/// restore to an earlier save cuts it back.
pub fn write<P: AsRef<Path>, C: AsRef<[u8]>>(path: P, contents: C) -> io::Result<()> {
    let path = path.as_ref();
    std::fs::write(path, contents)?;
    table::note_written(&file::absolute(path));
    Ok(())
}

/// Removes a file (see [`std::fs::remove_file`]); ckpt forgets what it recorded about it.
pub fn remove_file<P: AsRef<Path>>(path: P) -> io::Result<()> {
    let path = path.as_ref();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        table::note_removed(table::Identity::of(&m));
    }
    std::fs::remove_file(path)
}

/// Renames a file (see [`std::fs::rename`]); ckpt follows the file to its new path.
pub fn rename<P: AsRef<Path>, Q: AsRef<Path>>(from: P, to: Q) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    let id = std::fs::symlink_metadata(from)
        .ok()
        .map(|m| table::Identity::of(&m));
    let replaced = std::fs::symlink_metadata(to)
        .ok()
        .map(|m| table::Identity::of(&m));
    std::fs::rename(from, to)?;
    if let Some(old) = replaced.filter(|r| Some(*r) != id) {
        // The file `to` named is gone (unless still open): nothing to cut back there.
        table::note_removed(old);
    }
    if let Some(id) = id {
        table::note_renamed(id, &file::absolute(to));
    }
    Ok(())
}

/// Creates a directory and its parents (see [`std::fs::create_dir_all`]).
pub fn create_dir_all<P: AsRef<Path>>(path: P) -> io::Result<()> {
    std::fs::create_dir_all(path)
}

/// A file's metadata (see [`std::fs::metadata`]).
pub fn metadata<P: AsRef<Path>>(path: P) -> io::Result<Metadata> {
    std::fs::metadata(path)
}
