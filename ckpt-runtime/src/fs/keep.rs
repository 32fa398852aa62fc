//! Removed files kept beside the image until the next save.
//!
//! A restore continues from the last save, so whatever the program removed after it must
//! be there again for the restored run (which removes it again). Before
//! [`remove_file`](super::remove_file), [`remove_dir_all`](super::remove_dir_all) or a
//! [`rename`](super::rename) over an existing file takes a file away, it is kept in
//! `IMAGE.removed/` next to every image the run journals to, and the journal says where
//! (see [`super::journal`]):
//!
//! - as a **hard link**: the same file (same identity, no data copied), when the image is
//!   on the file's file system;
//! - otherwise as a **copy** with the same bytes, permissions and modification time, if
//!   the file is at most [`COPY_LIMIT`] bytes; a larger file is not removed, and the call
//!   fails with an error that says why — ckpt never lets a restore lose data silently;
//! - a directory tree is moved there whole when it is on the image's file system (one
//!   rename), else mirrored (hard links or copies, within the same limit in total). A
//!   file of a tree put back from copies is a new file: if the image had it open, the
//!   restore refuses it as replaced.
//!
//! A save to the image deletes its `IMAGE.removed/`; a restore puts the kept files back
//! and then deletes it.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::identity::Identity;
use super::journal::{self, Kept};
use super::sys;

/// The largest file (or directory tree, in total) ckpt copies to keep it when a hard link
/// is impossible (the file is on another file system than the image): 16 MiB. Larger
/// removals fail instead, with an error that says why.
pub const COPY_LIMIT: u64 = 16 << 20;

/// Names of kept files: a counter, skipping names already taken (by a killed run).
static NEXT: AtomicU64 = AtomicU64::new(0);

fn next_name() -> String {
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// `IMAGE.removed`, made if missing (mode 0700: it may hold copies of private files).
fn keep_dir(image: &Path) -> io::Result<PathBuf> {
    let dir = journal::keep_dir_for(image);
    sys::make_private_dir(&dir)?;
    journal::mark_kept(image);
    Ok(dir)
}

/// Keeps the file `path` (not a directory; `meta` its `lstat`) for every journaled image,
/// before it is removed or renamed over. No agent: nothing to do.
pub(crate) fn before_remove(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    let id = Identity::of(meta);
    for (image, epoch) in journal::targets() {
        let dir = keep_dir(&image)?;
        let (how, name) = keep_file(path, meta, &dir)?;
        journal::note_removed(&image, epoch, how, &name, id, path)?;
    }
    Ok(())
}

/// Puts a link to (or a copy of) `path` in `dir` under a fresh name.
fn keep_file(path: &Path, meta: &std::fs::Metadata, dir: &Path) -> io::Result<(Kept, String)> {
    loop {
        let name = next_name();
        match sys::hard_link(path, &dir.join(&name)) {
            Ok(()) => return Ok((Kept::Link, name)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(link_err) => {
                let mut budget = COPY_LIMIT;
                copy_entry(path, meta, &dir.join(&name), &mut budget)
                    .map_err(|e| cannot_keep(path, dir, &link_err, e))?;
                return Ok((Kept::Copy, name));
            }
        }
    }
}

/// Copies one file or symbolic link to `to` (which must not exist), charging `budget`.
fn copy_entry(
    from: &Path,
    meta: &std::fs::Metadata,
    to: &Path,
    budget: &mut u64,
) -> io::Result<()> {
    let ft = meta.file_type();
    if ft.is_symlink() {
        return sys::symlink(&std::fs::read_link(from)?, to);
    }
    if !ft.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "it is neither a regular file nor a symbolic link",
        ));
    }
    if meta.len() > *budget {
        return Err(io::Error::other(format!(
            "{} bytes: larger than the {COPY_LIMIT} bytes ckpt copies",
            meta.len()
        )));
    }
    *budget -= meta.len();
    sys::copy_file(from, to, false)
}

fn cannot_keep(path: &Path, dir: &Path, link_err: &io::Error, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "ckpt: not removing {}: a restore must be able to put it back, and it cannot be \
             kept in {} (a hard link failed: {link_err}; a copy failed: {e}); save images on \
             its file system (--ckpt-file), or remove it outside #[checkpointable] code",
            path.display(),
            dir.display()
        ),
    )
}

/// Removes the directory tree `path` (`meta` its `lstat`), keeping it for every journaled
/// image first. Without the agent, std's `remove_dir_all`.
pub(crate) fn remove_tree(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    let mut targets = journal::targets();
    // An image inside the tree goes with it: there is nothing left to restore from (and
    // a tree cannot be kept inside itself).
    let tree = std::fs::canonicalize(path)?;
    targets.retain(|(image, _)| {
        image
            .parent()
            .and_then(|d| std::fs::canonicalize(d).ok())
            .is_some_and(|d| !d.starts_with(&tree))
    });
    let Some(((last, last_epoch), others)) = targets.split_last() else {
        return std::fs::remove_dir_all(path);
    };
    let id = Identity::of(meta);
    for (image, epoch) in others {
        let dir = keep_dir(image)?;
        let name = mirror_fresh(path, &dir)?;
        journal::note_removed(image, *epoch, Kept::Tree, &name, id, path)?;
    }
    let dir = keep_dir(last)?;
    let same_fs = std::fs::metadata(&dir).is_ok_and(|d| d.dev() == meta.dev());
    if same_fs {
        // Moved whole: the removal is one atomic rename, and nothing is copied.
        loop {
            let name = next_name();
            let to = dir.join(&name);
            if std::fs::symlink_metadata(&to).is_ok() {
                continue;
            }
            journal::note_removed(last, *last_epoch, Kept::Tree, &name, id, path)?;
            match sys::rename_noreplace(path, &to) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                // A bind mount of the same device: mirrored below. The line just written
                // names nothing and a restore skips it (`path` is still there when it
                // reaches it, last change first).
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => break,
                Err(e) => return Err(e),
            }
        }
    }
    let name = mirror_fresh(path, &dir)?;
    journal::note_removed(last, *last_epoch, Kept::Tree, &name, id, path)?;
    std::fs::remove_dir_all(path)
}

/// Mirrors the tree `path` into `dir` under a fresh name; returns the name.
fn mirror_fresh(path: &Path, dir: &Path) -> io::Result<String> {
    loop {
        let name = next_name();
        let to = dir.join(&name);
        match std::fs::create_dir(&to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        let mut budget = COPY_LIMIT;
        return match mirror(path, &to, &mut budget) {
            Ok(()) => Ok(name),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&to);
                Err(io::Error::new(
                    e.kind(),
                    format!(
                        "ckpt: not removing {}: a restore must be able to put it back, and it \
                         cannot be kept in {} ({e}); save images on its file system \
                         (--ckpt-file), or remove it outside #[checkpointable] code",
                        path.display(),
                        dir.display()
                    ),
                ))
            }
        };
    }
}

/// Recreates the directory `from` at `to` (which exists, empty): subdirectories made,
/// files hard-linked or (on another file system) copied within `budget`.
fn mirror(from: &Path, to: &Path, budget: &mut u64) -> io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&src)?;
        if meta.is_dir() {
            std::fs::create_dir(&dst)?;
            mirror(&src, &dst, budget)?;
        } else if sys::hard_link(&src, &dst).is_err() {
            copy_entry(&src, &meta, &dst, budget)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", src.display())))?;
        }
    }
    Ok(())
}

/// Puts a kept tree back: the whole directory when `path` is free (renamed, or copied
/// across file systems), else only the entries missing at `path` (a removal cut short by a
/// crash). Consumes `keep`.
pub(crate) fn put_tree_back(keep: &Path, path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(_) => match sys::rename_noreplace(keep, path) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                std::fs::create_dir(path)?;
                merge(keep, path)?;
            }
            Err(e) => return Err(e),
        },
        Ok(_) => merge(keep, path)?,
    }
    std::fs::remove_dir_all(keep)
}

/// Moves (or copies) every entry of `keep` that `path` lacks into it, recursively.
fn merge(keep: &Path, path: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(keep)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), path.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&src)?;
        match std::fs::symlink_metadata(&dst) {
            Ok(d) if d.is_dir() && meta.is_dir() => merge(&src, &dst)?,
            Ok(_) => {}
            Err(_) => match sys::rename_noreplace(&src, &dst) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                    if meta.is_dir() {
                        std::fs::create_dir(&dst)?;
                        merge(&src, &dst)?;
                    } else {
                        // Putting back what was kept: no limit.
                        let mut unlimited = u64::MAX;
                        copy_entry(&src, &meta, &dst, &mut unlimited)?;
                    }
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(())
}

/// Puts a kept copy back at `path` (which must be free): copied next to it, then renamed
/// into place, so a crash leaves either nothing or the whole file. Consumes `keep`.
/// Returns the identity of the file now at `path`.
pub(crate) fn put_copy_back(keep: &Path, path: &Path) -> io::Result<Identity> {
    let meta = std::fs::symlink_metadata(keep)?;
    let tmp = {
        let mut name = std::ffi::OsString::from(".");
        name.push(path.file_name().unwrap_or_default());
        name.push(format!(".ckpt-restore.{}", std::process::id()));
        path.with_file_name(name)
    };
    let _ = std::fs::remove_file(&tmp);
    if meta.file_type().is_symlink() {
        sys::symlink(&std::fs::read_link(keep)?, &tmp)?;
    } else {
        sys::copy_file(keep, &tmp, true)?;
    }
    if let Err(e) = sys::rename_noreplace(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let now = Identity::of(&std::fs::symlink_metadata(path)?);
    let _ = std::fs::remove_file(keep);
    Ok(now)
}
