//! Undoing what the killed run did to files after the save being restored: the journal
//! ([`super::journal`]) replayed backwards, last change first.
//!
//! Two phases, so that a refused restore changes nothing. [`plan`] reads the journal and
//! the disk and decides every step, refusing (naming the path and what to do) a change it
//! cannot undo safely: a renamed file whose new name now names another file (device,
//! inode, birth time), a removed file whose name another file took since, a kept file
//! that is gone. The image's own checks then look at each file where the plan will put it
//! ([`Plan::stat`]). Only when every check passed does [`Plan::apply`] run the steps.
//!
//! Every step is idempotent, so a restore killed half-way can be run again: a file
//! already back under its old name, or never moved (a kill between the journal line and
//! the change), is left alone. Only files the journal names are ever moved.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::identity::Identity;
use super::journal::{Entry, Kept, Op};
use super::keep;
use super::sys;
use super::table::SavedFile;
use crate::error::{Error, Result};

/// What a path touched by the steps planned so far names once they ran.
#[derive(Debug, Clone)]
enum Slot {
    /// Nothing.
    Empty,
    /// The file or directory `id`, which is at `now` before the steps run; `copy`: a copy
    /// kept across file systems (its identity is `id` only by the journal's word).
    File {
        id: Identity,
        now: PathBuf,
        copy: bool,
    },
    /// A kept directory tree (at `keep` before the steps run), merged into what is at the
    /// path, if anything.
    Tree { id: Identity, keep: PathBuf },
    /// A removed empty directory, made again.
    NewDir { id: Identity },
}

/// One change to the disk, in the order they run.
#[derive(Debug)]
enum Step {
    /// `from` (the journal's `to`) back to `to` (the journal's `from`).
    RenameBack { from: PathBuf, to: PathBuf },
    /// A kept file back at `path`; `copy`: kept as a copy of the file `Identity`.
    PutBack {
        keep: PathBuf,
        path: PathBuf,
        copy: Option<Identity>,
    },
    /// A kept tree back at `path`.
    PutTreeBack { keep: PathBuf, path: PathBuf },
    /// A removed empty directory.
    MakeDir { path: PathBuf },
    /// A file the killed run created.
    RemoveCreated { path: PathBuf, id: Identity },
    /// A file the killed run first opened for writing, back to its length then.
    CutBack {
        path: PathBuf,
        id: Identity,
        len: u64,
    },
}

/// The steps that undo a journal, decided and checked, not yet run.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    steps: Vec<Step>,
    overlay: crate::state::FixedMap<PathBuf, Slot>,
}

/// Plans the undoing of `entries` (a journal, in the order written) for a restore of an
/// image that knows `saved` and keeps removed files in `keep_dir`. Changes nothing.
pub(crate) fn plan(entries: &[Entry], saved: &[SavedFile], keep_dir: &Path) -> Result<Plan> {
    let mut p = Plan::default();
    for e in entries.iter().rev() {
        match &e.op {
            Op::Open {
                path,
                id,
                len,
                created,
            } => p.open(path, *id, *len, *created, saved),
            Op::Renamed { id, from, to } => p.rename(*id, from, to)?,
            Op::Removed {
                path,
                id,
                how,
                keep,
            } => p.removed(path, *id, *how, &keep_dir.join(keep))?,
            Op::DirRemoved { path, id } => p.rmdir(path, *id),
        }
    }
    Ok(p)
}

fn refuse(path: &Path, detail: String) -> Error {
    Error::Restore {
        path: path.to_path_buf(),
        detail,
    }
}

impl Plan {
    /// Where what `p` will name is before the steps run, and its identity when only the
    /// plan knows it (a copy, a tree, a directory made again). `None`: nothing.
    fn resolve(&self, p: &Path) -> Option<(PathBuf, Option<Identity>)> {
        for anc in p.ancestors() {
            let Some(slot) = self.overlay.get(anc) else {
                continue;
            };
            let rest = p.strip_prefix(anc).unwrap_or(Path::new(""));
            let exact = rest.as_os_str().is_empty();
            return match slot {
                Slot::Empty => None,
                Slot::File { id, now, copy } if exact => Some((now.clone(), copy.then_some(*id))),
                Slot::File { now, .. } => Some((now.join(rest), None)),
                Slot::Tree { id, keep } if exact => Some((keep.clone(), Some(*id))),
                // Merged: what is at the path stays, what it lacks comes from the tree.
                Slot::Tree { keep, .. } => {
                    let here = anc.join(rest);
                    if std::fs::symlink_metadata(&here).is_ok() {
                        Some((here, None))
                    } else {
                        Some((keep.join(rest), None))
                    }
                }
                Slot::NewDir { id } if exact => Some((p.to_path_buf(), Some(*id))),
                Slot::NewDir { .. } => None,
            };
        }
        Some((p.to_path_buf(), None))
    }

    /// The identity of what `p` will name (the link itself for a symbolic link).
    fn lstat_id(&self, p: &Path) -> Option<Identity> {
        let (at, known) = self.resolve(p)?;
        known.or_else(|| std::fs::symlink_metadata(at).ok().map(|m| Identity::of(&m)))
    }

    /// The metadata of the file `p` will name once the steps ran (symbolic links
    /// followed), and its identity.
    pub(crate) fn stat(&self, p: &Path) -> io::Result<(std::fs::Metadata, Identity)> {
        let Some((at, known)) = self.resolve(p) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the killed run made it after the checkpoint; the restore removes it",
            ));
        };
        let m = std::fs::metadata(at)?;
        let id = known.unwrap_or_else(|| Identity::of(&m));
        Ok((m, id))
    }

    fn open(&mut self, path: &Path, id: Identity, len: u64, created: bool, saved: &[SavedFile]) {
        let known = saved.iter().find(|f| f.id == id);
        if known.is_some_and(|f| f.written) {
            return; // the image cuts it back itself
        }
        let now = self.resolve(path).and_then(|(at, known)| {
            known.or_else(|| std::fs::metadata(at).ok().map(|m| Identity::of(&m)))
        });
        if now != Some(id) {
            return; // replaced or removed since: not the killed run's to undo
        }
        if created && known.is_none() {
            self.steps.push(Step::RemoveCreated {
                path: path.to_path_buf(),
                id,
            });
            self.overlay.insert(path.to_path_buf(), Slot::Empty);
        } else {
            self.steps.push(Step::CutBack {
                path: path.to_path_buf(),
                id,
                len,
            });
        }
    }

    fn rename(&mut self, id: Identity, from: &Path, to: &Path) -> Result<()> {
        if self.lstat_id(from) == Some(id) {
            return Ok(()); // never renamed (a kill before it), or renamed back already
        }
        match self.lstat_id(to) {
            Some(now) if now == id => {}
            Some(_) => {
                return Err(refuse(
                    to,
                    format!(
                        "the program renamed {} to it after the checkpoint, and the path now \
                         names a different file (device, inode or creation time changed: \
                         replaced since); restore refuses to rename it back — put the \
                         renamed file back at this path, or start fresh",
                        from.display()
                    ),
                ))
            }
            None => {
                return Err(refuse(
                    to,
                    format!(
                        "the program renamed {} to it after the checkpoint, and it is gone \
                         now, so it cannot be renamed back; put the file back at this path, \
                         or start fresh",
                        from.display()
                    ),
                ))
            }
        }
        if self.lstat_id(from).is_some() {
            return Err(refuse(
                from,
                format!(
                    "the program renamed it to {} after the checkpoint, and another file has \
                     its name now; move that file away so the restore can rename it back",
                    to.display()
                ),
            ));
        }
        let slot = self.overlay.remove(to).unwrap_or(Slot::File {
            id,
            now: to.to_path_buf(),
            copy: false,
        });
        // What the steps put inside a renamed directory moves with it.
        let inside: Vec<PathBuf> = self
            .overlay
            .keys()
            .filter(|k| k.starts_with(to))
            .cloned()
            .collect();
        for k in inside {
            if let (Some(s), Ok(rest)) = (self.overlay.remove(&k), k.strip_prefix(to)) {
                self.overlay.insert(from.join(rest), s);
            }
        }
        self.overlay.insert(to.to_path_buf(), Slot::Empty);
        self.overlay.insert(from.to_path_buf(), slot);
        self.steps.push(Step::RenameBack {
            from: to.to_path_buf(),
            to: from.to_path_buf(),
        });
        Ok(())
    }

    fn removed(&mut self, path: &Path, id: Identity, how: Kept, keep: &Path) -> Result<()> {
        let kept = std::fs::symlink_metadata(keep).ok();
        if how == Kept::Tree {
            let here = self.resolve(path).and_then(|(at, known)| match known {
                Some(_) => Some(true),
                None => std::fs::symlink_metadata(at).ok().map(|m| m.is_dir()),
            });
            match (here, kept) {
                // Moved back already, or never removed (a kill before the removal).
                (Some(_), None) => return Ok(()),
                (Some(false), Some(_)) => {
                    return Err(refuse(
                        path,
                        format!(
                            "the program removed this directory after the checkpoint, and a \
                             file has its name now; move that file away so the restore can \
                             put the directory back (ckpt keeps it as {})",
                            keep.display()
                        ),
                    ))
                }
                (None, None) => return Err(lost(path, keep)),
                (_, Some(_)) => {}
            }
            self.steps.push(Step::PutTreeBack {
                keep: keep.to_path_buf(),
                path: path.to_path_buf(),
            });
            self.overlay.insert(
                path.to_path_buf(),
                Slot::Tree {
                    id,
                    keep: keep.to_path_buf(),
                },
            );
            return Ok(());
        }
        match self.lstat_id(path) {
            Some(now) if now == id => return Ok(()), // never removed, or put back already
            Some(_) => {
                return Err(refuse(
                    path,
                    format!(
                        "the program removed it after the checkpoint, and another file has its \
                         name now; move that file away so the restore can put the removed one \
                         back (ckpt keeps it as {})",
                        keep.display()
                    ),
                ))
            }
            None => {}
        }
        let Some(kept) = kept else {
            return Err(lost(path, keep));
        };
        if how == Kept::Link && Identity::of(&kept) != id {
            return Err(lost(path, keep));
        }
        let copy = how == Kept::Copy;
        self.steps.push(Step::PutBack {
            keep: keep.to_path_buf(),
            path: path.to_path_buf(),
            copy: copy.then_some(id),
        });
        self.overlay.insert(
            path.to_path_buf(),
            Slot::File {
                id,
                now: keep.to_path_buf(),
                copy,
            },
        );
        Ok(())
    }

    fn rmdir(&mut self, path: &Path, id: Identity) {
        if self
            .resolve(path)
            .is_some_and(|(at, known)| known.is_some() || std::fs::symlink_metadata(at).is_ok())
        {
            return; // never removed, or made again already
        }
        self.steps.push(Step::MakeDir {
            path: path.to_path_buf(),
        });
        self.overlay.insert(path.to_path_buf(), Slot::NewDir { id });
    }

    /// Runs the steps. Returns the identities that changed: `(at the save, now)` of each
    /// file put back as a copy.
    pub(crate) fn apply(self) -> Result<Vec<(Identity, Identity)>> {
        let mut remap: Vec<(Identity, Identity)> = Vec::new();
        let is = |m: &std::fs::Metadata, id: Identity, remap: &[(Identity, Identity)]| {
            let now = Identity::of(m);
            now == id || remap.iter().any(|(a, b)| *a == id && *b == now)
        };
        for step in self.steps {
            match step {
                Step::RenameBack { from, to } => {
                    sys::rename_noreplace(&from, &to).map_err(|e| {
                        Error::io("renaming back to its name at the checkpoint", from, e)
                    })?
                }
                Step::PutBack {
                    keep,
                    path,
                    copy: None,
                } => sys::rename_noreplace(&keep, &path)
                    .map_err(|e| Error::io("putting back the removed file", path, e))?,
                Step::PutBack {
                    keep,
                    path,
                    copy: Some(id),
                } => {
                    let now = keep::put_copy_back(&keep, &path)
                        .map_err(|e| Error::io("putting back the removed file", path, e))?;
                    remap.push((id, now));
                }
                Step::PutTreeBack { keep, path } => keep::put_tree_back(&keep, &path)
                    .map_err(|e| Error::io("putting back the removed directory", path, e))?,
                Step::MakeDir { path } => match std::fs::create_dir(&path) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                        return Err(Error::io("making again the removed directory", path, e))
                    }
                    _ => {}
                },
                Step::RemoveCreated { path, id } => {
                    let r = match std::fs::symlink_metadata(&path) {
                        Ok(m) if is(&m, id, &remap) => std::fs::remove_file(&path),
                        _ => Ok(()),
                    };
                    if let Err(e) = r {
                        warn_undo(&path, &e);
                    }
                }
                Step::CutBack { path, id, len } => {
                    let r = match std::fs::metadata(&path) {
                        Ok(m) if is(&m, id, &remap) && m.len() > len => std::fs::OpenOptions::new()
                            .write(true)
                            .open(&path)
                            .and_then(|f| {
                                f.set_len(len)?;
                                f.sync_data()
                            }),
                        _ => Ok(()),
                    };
                    if let Err(e) = r {
                        warn_undo(&path, &e);
                    }
                }
            }
        }
        Ok(remap)
    }
}

fn lost(path: &Path, keep: &Path) -> Error {
    refuse(
        path,
        format!(
            "the program removed it after the checkpoint, and what ckpt kept of it ({}) is \
             gone or was replaced, so it cannot be put back; restore it by hand from a backup, \
             or start fresh",
            keep.display()
        ),
    )
}

fn warn_undo(path: &Path, e: &io::Error) {
    eprintln!(
        "ckpt: warning: cannot undo the killed run's writes to {} ({e}); its output after the \
         save may repeat",
        path.display()
    );
}

/// Files put back as copies by the last restore: `(identity at the save, identity now)`.
static REMAPPED: Mutex<Vec<(Identity, Identity)>> = Mutex::new(Vec::new());

/// Remembers the identities a restore changed (for files loaded with the frames).
pub(crate) fn set_remapped(remap: Vec<(Identity, Identity)>) {
    *REMAPPED.lock().unwrap_or_else(|p| p.into_inner()) = remap;
}

/// The identity the file saved as `id` has now, if the restore put it back as a copy.
pub(crate) fn remapped(id: Identity) -> Option<Identity> {
    REMAPPED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(a, _)| *a == id)
        .map(|(_, b)| *b)
}
