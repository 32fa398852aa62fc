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
//! - What the program does to files between a save and a kill is not in that save's
//!   image, so it goes into a small journal next to the image (`IMAGE.opens`) before the
//!   call returns, and a restore undoes it, last change first:
//!   - a file first opened for writing (or created by [`write()`]) is cut back to its length
//!     at that open, or removed if that open created it;
//!   - a file [`rename`]d is renamed back, unless its new name now names another file
//!     (device, inode, birth time), which refuses the restore;
//!   - a file removed ([`remove_file`], [`remove_dir_all`], or a [`rename`] over it) is
//!     kept as a hard link in `IMAGE.removed/` until the next save, and put back (a copy
//!     when the file is on another file system than the image, up to [`COPY_LIMIT`]
//!     bytes; a larger one is not removed: the call fails and says why). An empty
//!     directory removed with [`remove_dir`] is made again.
//!
//!   Files the program did not touch are never moved. A save empties its image's journal
//!   and deletes the files kept for it.
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
pub(crate) mod identity;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod journal;
mod keep;
pub(crate) mod sys;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) mod table;
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
mod undo;

#[cfg(test)]
pub(crate) mod tests;

pub use std::fs::*;

#[cfg(feature = "agent")]
pub(crate) use file::absolute;
pub use file::{File, OpenOptions};
pub use journal::{
    pending_changes, pending_opens, pending_opens_journal_name, PendingChange, PendingOpen,
};
pub use keep::COPY_LIMIT;

use std::io;
use std::path::Path;

use crate::error::{Error, Result};
use identity::Identity;

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
#[track_caller]
pub fn read<P: AsRef<Path>>(path: P) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let r = std::fs::read(path);
    if crate::replay::on() {
        checked_whole(path, &r, |v| v);
    }
    r
}

/// Reads a whole file as UTF-8 (see [`std::fs::read_to_string`]).
#[track_caller]
pub fn read_to_string<P: AsRef<Path>>(path: P) -> io::Result<String> {
    let path = path.as_ref();
    let r = std::fs::read_to_string(path);
    if crate::replay::on() {
        checked_whole(path, &r, |s| s.as_bytes());
    }
    r
}

/// A whole file read while recording or replaying: the open's outcome and the bytes' hash
/// are logged, and checked by a replay.
#[track_caller]
fn checked_whole<T>(path: &Path, r: &io::Result<T>, bytes: impl FnOnce(&T) -> &[u8]) {
    file::checked_open(path, 1, r);
    if let Ok(v) = r {
        let observed = crate::replay::hash(bytes(v));
        crate::replay::check(crate::replay::Kind::FileRead, u64::MAX, observed, || {
            format!("reading {}", path.display())
        });
    }
}

/// Writes a whole file (see [`std::fs::write`]); the file is recorded as written, so a
/// restore to an earlier save cuts it back (or removes it, if this call created it after
/// that save).
pub fn write<P: AsRef<Path>, C: AsRef<[u8]>>(path: P, contents: C) -> io::Result<()> {
    let path = path.as_ref();
    // Only a journaled run needs to know (one `lstat` less per write otherwise).
    let existed = !journal::active() || std::fs::symlink_metadata(path).is_ok();
    std::fs::write(path, contents)?;
    table::note_written(&file::absolute(path), !existed);
    Ok(())
}

/// Removes a file (see [`std::fs::remove_file`]). Until the next save the file is kept
/// beside the image (`IMAGE.removed/`, a hard link), so that a restore to the last save
/// puts it back; ckpt forgets what it recorded about it.
///
/// # Errors
///
/// std's, and: when the file is on another file system than the image and larger than
/// [`COPY_LIMIT`], or cannot be kept at all, it is not removed and the error says why.
pub fn remove_file<P: AsRef<Path>>(path: P) -> io::Result<()> {
    let path = path.as_ref();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if !m.is_dir() {
            keep::before_remove(&file::absolute(path), &m)?;
        }
        table::note_removed(Identity::of(&m));
    }
    std::fs::remove_file(path)
}

/// Removes an empty directory (see [`std::fs::remove_dir`]); a restore to the last save
/// makes it again.
pub fn remove_dir<P: AsRef<Path>>(path: P) -> io::Result<()> {
    let path = path.as_ref();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.is_dir() {
            journal::note_rmdir(Identity::of(&m), &file::absolute(path))?;
        }
    }
    std::fs::remove_dir(path)
}

/// Removes a directory and everything in it (see [`std::fs::remove_dir_all`]). Until the
/// next save the tree is kept beside the image (moved there whole when it is on the
/// image's file system), so that a restore to the last save puts it back.
///
/// # Errors
///
/// std's, and: when the tree is on another file system than the image and its files
/// exceed [`COPY_LIMIT`] bytes in total, nothing is removed and the error says why.
pub fn remove_dir_all<P: AsRef<Path>>(path: P) -> io::Result<()> {
    let path = path.as_ref();
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return std::fs::remove_dir_all(path);
    };
    let abs = file::absolute(path);
    if !m.is_dir() {
        // std removes a symbolic link itself (and refuses other files).
        if m.file_type().is_symlink() {
            keep::before_remove(&abs, &m)?;
        }
        return std::fs::remove_dir_all(path);
    }
    table::note_removed_under(&abs);
    keep::remove_tree(&abs, &m)
}

/// Renames a file or directory (see [`std::fs::rename`]); ckpt follows the file to its
/// new path. The rename is journaled first, so a restore to the last save renames it
/// back; a file it replaces is kept like a removed one (see [`remove_file`]).
pub fn rename<P: AsRef<Path>, Q: AsRef<Path>>(from: P, to: Q) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    let from_meta = std::fs::symlink_metadata(from).ok();
    let to_meta = std::fs::symlink_metadata(to).ok();
    let id = from_meta.as_ref().map(Identity::of);
    let replaced = to_meta.as_ref().map(Identity::of);
    let (from_abs, to_abs) = (file::absolute(from), file::absolute(to));
    if let Some(id) = id {
        if let Some(m) = to_meta.as_ref().filter(|_| replaced != Some(id)) {
            // The rename removes what `to` names: kept, so a restore can put it back.
            if m.is_dir() {
                journal::note_rmdir(Identity::of(m), &to_abs)?;
            } else {
                keep::before_remove(&to_abs, m)?;
            }
        }
        journal::note_rename(id, &from_abs, &to_abs)?;
    }
    std::fs::rename(from, to)?;
    if let Some(old) = replaced.filter(|r| Some(*r) != id) {
        // The file `to` named is gone (unless still open): nothing to cut back there.
        table::note_removed(old);
    }
    match (id, from_meta) {
        (Some(_), Some(m)) if m.is_dir() => table::note_dir_renamed(&from_abs, &to_abs),
        (Some(id), _) => table::note_renamed(id, &to_abs),
        _ => {}
    }
    Ok(())
}

/// Creates a directory and its parents (see [`std::fs::create_dir_all`]).
pub fn create_dir_all<P: AsRef<Path>>(path: P) -> io::Result<()> {
    std::fs::create_dir_all(path)
}

/// A file's metadata (see [`std::fs::metadata`]). While recording or replaying, its
/// outcome, file type and length are checked against the log (times are not: a replay in
/// a fresh directory tree has files with other times).
#[track_caller]
pub fn metadata<P: AsRef<Path>>(path: P) -> io::Result<Metadata> {
    let path = path.as_ref();
    let r = std::fs::metadata(path);
    if crate::replay::on() {
        let observed = match &r {
            Ok(m) => {
                let kind = u64::from(m.is_dir()) | u64::from(m.is_file()) << 1;
                crate::replay::hash(&[kind.to_le_bytes(), m.len().to_le_bytes()].concat())
            }
            Err(_) => crate::replay::outcome(&r),
        };
        crate::replay::check(
            crate::replay::Kind::Metadata,
            path_digest(path),
            observed,
            || format!("the metadata of {}", path.display()),
        );
    }
    r
}

/// The entries of a directory (see [`std::fs::read_dir`]). While recording or replaying,
/// the outcome and the names in it are checked against the log (as a set: the order
/// the OS lists them in may differ in a fresh directory tree).
#[track_caller]
pub fn read_dir<P: AsRef<Path>>(path: P) -> io::Result<ReadDir> {
    let path = path.as_ref();
    let r = std::fs::read_dir(path);
    if crate::replay::on() {
        use std::os::unix::ffi::OsStrExt;
        let observed = match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut names: Vec<Vec<u8>> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().as_bytes().to_vec())
                    .collect();
                names.sort();
                crate::replay::hash(&names.join(&0u8))
            }
            Err(e) => crate::replay::outcome::<()>(&Err(e)),
        };
        crate::replay::check(
            crate::replay::Kind::Dir,
            path_digest(path),
            observed,
            || format!("the listing of {}", path.display()),
        );
    }
    r
}

/// The digest of a path, for the log.
fn path_digest(path: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    crate::replay::hash(path.as_os_str().as_bytes())
}
