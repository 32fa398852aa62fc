//! The journal: what the program did to files after the last save.
//!
//! The image of a save knows every file written before it. What the program does to
//! files after it — a log opened for writing for the first time, a file removed or
//! renamed — is not in the image, so a restore would leave the killed run's bytes in a log
//! (written again by the restored run), or a removed file gone (removed again by the
//! restored run: `NotFound`). Each such change is appended to `IMAGE.opens` before it
//! returns, and a restore of `IMAGE` undoes them, last first (see [`super::undo`]); a save
//! empties the journal (the new image knows the files as they are now).
//!
//! Every image this run saved to (and the image it was restored from) has its own
//! journal: a change is appended to each, and a save to one image empties only that one.
//!
//! One line per change, paths as hex, `<epoch>` the save the line follows (below):
//!
//! - `open|create <epoch> <len> <dev> <ino> <born_ns> <path>`: the first write-open of a
//!   file (`create`: the open made the file, and a restore removes it, so `create_new`
//!   works again; otherwise a restore cuts it back to `len`).
//! - `remove <epoch> <how> <keep> <dev> <ino> <born_ns> <path>`: `path` was removed; until
//!   the next save what it named is kept at `IMAGE.removed/<keep>` (see [`super::keep`]),
//!   as a hard link (`link`), a copy (`copy`, another file system) or a directory tree
//!   (`tree`), and a restore puts it back.
//! - `rename <epoch> <dev> <ino> <born_ns> <from> <to>`: a restore renames `to` back.
//! - `rmdir <epoch> <dev> <ino> <born_ns> <path>`: an empty directory removed; a restore
//!   makes it again.
//!
//! Lines are written, not synced, before the change returns: the page cache outlives a
//! SIGKILL, and a sync per change would slow down programs that make many. A line cut
//! short by a crash has no newline and is ignored.
//!
//! **Epochs.** Every save writes a fresh number into its image (the `fs` component's
//! `epoch`), and lines appended after it carry that number. A crash between an image's
//! commit and the removal of its journal leaves the previous save's lines next to the new
//! image; their epoch is not the image's, so a restore ignores them. Epoch `0` means
//! "not known yet" (a run that has neither saved to nor restored from the image): such
//! lines count, as do all lines for an image without an epoch.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::identity::Identity;

/// One image whose journal this run appends to.
struct Target {
    image: PathBuf,
    /// The epoch of the image's last save (`0`: not known).
    epoch: u64,
    /// `IMAGE.removed` may hold kept files: the next save deletes it.
    kept: bool,
}

struct Journal {
    /// The journals this run appends to: one per image it saved to or was restored from
    /// (empty: no agent, nothing journaled).
    active: Vec<Target>,
    /// The image being restored.
    read: Option<PathBuf>,
    /// The epoch the `fs` component wrote into the image being saved; the image's own
    /// once the save is committed.
    pending_epoch: u64,
    /// An image being written in the background (see [`open_window`]).
    window: Option<Window>,
}

/// An image being written in the background while the program runs on: a change the
/// program makes meanwhile is journaled twice, with the epoch of the image before (a
/// restore of it undoes the change) and with the new image's (which does not hold the
/// change either). When the new image is committed, its lines are the journal.
struct Window {
    image: PathBuf,
    epoch: u64,
    /// A line was journaled for the new image.
    wrote: bool,
}

static JOURNAL: Mutex<Journal> = Mutex::new(Journal {
    active: Vec::new(),
    read: None,
    pending_epoch: 0,
    window: None,
});

fn journal() -> std::sync::MutexGuard<'static, Journal> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The journal next to an image.
pub(crate) fn path_for(image: &Path) -> PathBuf {
    sibling(image, ".opens")
}

/// The directory next to an image where removed files are kept until its next save.
pub(crate) fn keep_dir_for(image: &Path) -> PathBuf {
    sibling(image, ".removed")
}

fn sibling(image: &Path, suffix: &str) -> PathBuf {
    let mut p = image.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Set by the agent at start: the run saves to `image`; `restoring` is the image a restore
/// starts from (its journal is read, and kept up to date for another restore of it).
pub(crate) fn configure(image: &Path, restoring: Option<&Path>) {
    let mut j = journal();
    j.active = vec![Target {
        image: image.to_path_buf(),
        epoch: 0,
        kept: true,
    }];
    j.read = restoring.map(Path::to_path_buf);
    if let Some(r) = restoring {
        if r != image {
            j.active.push(Target {
                image: r.to_path_buf(),
                epoch: 0,
                kept: true,
            });
        }
    }
}

/// A fresh epoch for the image being saved (written into it by the `fs` component).
pub(crate) fn next_epoch() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut j = journal();
    let e = now.max(j.pending_epoch.saturating_add(1)).max(1);
    j.pending_epoch = e;
    e
}

/// A save to `image` succeeded: that image knows every file as it is now, so its journal
/// and the files kept for it are not needed any more (but for the changes made while it
/// was written in the background: those lines stay, as the new image's, with the files
/// they keep).
pub(crate) fn saved(image: &Path) {
    let mut j = journal();
    let epoch = j.pending_epoch;
    let window = j.window.take_if(|w| w.image == image);
    let i = match j.active.iter().position(|t| t.image == image) {
        Some(i) => i,
        None => {
            j.active.push(Target {
                image: image.to_path_buf(),
                epoch,
                kept: true,
            });
            j.active.len() - 1
        }
    };
    let t = &mut j.active[i];
    t.epoch = epoch;
    if window.is_some_and(|w| w.wrote) {
        keep_only_epoch(image, epoch);
        return;
    }
    let _ = std::fs::remove_file(path_for(image));
    if std::mem::take(&mut t.kept) {
        let _ = std::fs::remove_dir_all(keep_dir_for(image));
    }
}

/// Rewrites `image`'s journal with only the lines of `epoch` (temp file and rename: a
/// crash leaves the old journal or the new one, and a restore ignores other epochs'
/// lines in either).
fn keep_only_epoch(image: &Path, epoch: u64) {
    let path = path_for(image);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let want = epoch.to_string();
    let kept: String = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && l.split(' ').nth(1) == Some(want.as_str()))
        .collect();
    let tmp = sibling(image, ".opens.tmp");
    if std::fs::write(&tmp, kept).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// A save of `image` is about to be written in the background (see [`Window`]).
pub(crate) fn open_window(image: &Path) {
    let mut j = journal();
    let epoch = j.pending_epoch;
    if j.active.iter().any(|t| t.image == image) {
        j.window = Some(Window {
            image: image.to_path_buf(),
            epoch,
            wrote: false,
        });
    }
}

/// The background save of `image` failed: the previous image stays current, and the lines
/// journaled for the new one are ignored (their epoch is no image's).
pub(crate) fn abandon_window(image: &Path) {
    let mut j = journal();
    if j.window.as_ref().is_some_and(|w| w.image == image) {
        j.window = None;
    }
}

/// The restore read the epoch of the image it restores: lines appended for it carry it.
pub(crate) fn restoring_epoch(epoch: u64) {
    let mut j = journal();
    let Some(read) = j.read.clone() else { return };
    if let Some(t) = j.active.iter_mut().find(|t| t.image == read) {
        t.epoch = epoch;
    }
}

/// Whether this run journals at all (the agent configured it).
pub(crate) fn active() -> bool {
    !journal().active.is_empty()
}

/// The images this run journals to, with their epochs (empty without the agent).
pub(crate) fn targets() -> Vec<(PathBuf, u64)> {
    let mut j = journal();
    let mut out: Vec<(PathBuf, u64)> = j
        .active
        .iter()
        .map(|t| (t.image.clone(), t.epoch))
        .collect();
    if let Some(w) = &mut j.window {
        w.wrote = true;
        out.push((w.image.clone(), w.epoch));
    }
    out
}

/// Something may have been kept in `image`'s `IMAGE.removed`.
pub(crate) fn mark_kept(image: &Path) {
    if let Some(t) = journal().active.iter_mut().find(|t| t.image == image) {
        t.kept = true;
    }
}

/// Appends `line` (no newline) to `image`'s journal.
pub(crate) fn append(image: &Path, line: &str) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path_for(image))
        // One write: a line is whole or cut short, never interleaved.
        .and_then(|mut j| j.write_all(&bytes))
}

/// `path` as hex, the form journal lines hold paths in.
pub(crate) fn hex(path: &Path) -> String {
    use std::fmt::Write as _;
    let bytes = path.as_os_str().as_bytes();
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(hex: &str) -> Option<PathBuf> {
    let bytes: Option<Vec<u8>> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok().filter(|p| p.len() == 2)?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect();
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&bytes?)))
}

fn id_fields(id: Identity) -> String {
    format!("{} {} {}", id.dev, id.ino, id.born_ns)
}

/// Records the first write-open of a file in this run (best effort: a journal that
/// cannot be written only loses this protection, never the program's open).
pub(crate) fn note_open(path: &Path, id: Identity, file: &std::fs::File, created: bool) {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    note_open_len(path, id, len, created);
}

/// [`note_open`] with the length known.
pub(crate) fn note_open_len(path: &Path, id: Identity, len: u64, created: bool) {
    let kind = if created { "create" } else { "open" };
    for (image, epoch) in targets() {
        let line = format!("{kind} {epoch} {len} {} {}", id_fields(id), hex(path));
        if let Err(e) = append(&image, &line) {
            eprintln!(
                "ckpt: warning: cannot journal the open of {} in {} ({e}); a restore will not \
                 cut it back",
                path.display(),
                path_for(&image).display()
            );
        }
    }
}

/// Records, before it happens, that the file `id` is renamed from `from` to `to`. An
/// error means the rename must not happen: a restore could not undo it.
pub(crate) fn note_rename(id: Identity, from: &Path, to: &Path) -> std::io::Result<()> {
    for (image, epoch) in targets() {
        let line = format!("rename {epoch} {} {} {}", id_fields(id), hex(from), hex(to));
        append(&image, &line).map_err(|e| cannot_journal("rename", from, &image, e))?;
    }
    Ok(())
}

/// Records, before it happens, that the empty directory `path` is removed.
pub(crate) fn note_rmdir(id: Identity, path: &Path) -> std::io::Result<()> {
    for (image, epoch) in targets() {
        let line = format!("rmdir {epoch} {} {}", id_fields(id), hex(path));
        append(&image, &line).map_err(|e| cannot_journal("removal", path, &image, e))?;
    }
    Ok(())
}

/// Records in `image`'s journal that `path` (the file `id`) is removed and kept as
/// `IMAGE.removed/<keep>`.
pub(crate) fn note_removed(
    image: &Path,
    epoch: u64,
    how: Kept,
    keep: &str,
    id: Identity,
    path: &Path,
) -> std::io::Result<()> {
    let line = format!(
        "remove {epoch} {} {keep} {} {}",
        how.code(),
        id_fields(id),
        hex(path)
    );
    append(image, &line).map_err(|e| cannot_journal("removal", path, image, e))
}

fn cannot_journal(what: &str, path: &Path, image: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!(
            "ckpt: cannot journal the {what} of {} in {} ({e}), so a restore could not undo \
             it; make the image's directory writable",
            path.display(),
            path_for(image).display()
        ),
    )
}

/// How a removed file is kept beside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// A hard link: the same file (identity kept).
    Link,
    /// A copy (the file was on another file system): a new file with the same bytes,
    /// permissions and modification time.
    Copy,
    /// A directory tree, moved or mirrored with hard links (copies across file systems).
    Tree,
}

impl Kept {
    fn code(self) -> &'static str {
        match self {
            Kept::Link => "link",
            Kept::Copy => "copy",
            Kept::Tree => "tree",
        }
    }

    fn parse(s: &str) -> Option<Kept> {
        match s {
            "link" => Some(Kept::Link),
            "copy" => Some(Kept::Copy),
            "tree" => Some(Kept::Tree),
            _ => None,
        }
    }
}

/// One journaled change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// The first write-open of a file after the save.
    Open {
        path: PathBuf,
        id: Identity,
        /// The file's length right after the open.
        len: u64,
        /// The open created the file.
        created: bool,
    },
    /// `path` was removed and is kept at `IMAGE.removed/<keep>`.
    Removed {
        path: PathBuf,
        id: Identity,
        how: Kept,
        keep: String,
    },
    /// The file `id` was renamed from `from` to `to`.
    Renamed {
        id: Identity,
        from: PathBuf,
        to: PathBuf,
    },
    /// The empty directory `path` was removed.
    DirRemoved { path: PathBuf, id: Identity },
}

/// A line of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) epoch: u64,
    pub(crate) op: Op,
}

/// The image being restored (its journal is the one a restore undoes).
pub(crate) fn restoring() -> Option<PathBuf> {
    journal().read.clone()
}

/// The changes of the journal of the image being restored that follow its save (epoch
/// `epoch`), in the order they were made.
pub(crate) fn entries(epoch: u64) -> Vec<Entry> {
    match restoring() {
        Some(image) => entries_of(&image, epoch),
        None => Vec::new(),
    }
}

/// The changes in `image`'s journal that follow the save of epoch `epoch` (`0`: every
/// line), in order.
pub(crate) fn entries_of(image: &Path, epoch: u64) -> Vec<Entry> {
    entries_at(&path_for(image))
        .into_iter()
        .filter(|e| epoch == 0 || e.epoch == 0 || e.epoch == epoch)
        .collect()
}

/// The restore undid the journal of the image it restored: its lines and kept files are
/// spent (the restored run journals its own changes again).
pub(crate) fn consumed() {
    if let Some(image) = restoring() {
        let _ = std::fs::remove_file(path_for(&image));
        let _ = std::fs::remove_dir_all(keep_dir_for(&image));
    }
}

fn entries_at(jp: &Path) -> Vec<Entry> {
    let Ok(text) = std::fs::read(jp) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.split_inclusive(|b| *b == b'\n') {
        let Some(line) = line.strip_suffix(b"\n") else {
            continue; // cut short by a crash
        };
        if let Some(e) = std::str::from_utf8(line).ok().and_then(parse_line) {
            out.push(e);
        }
    }
    out
}

fn parse_line(line: &str) -> Option<Entry> {
    let f: Vec<&str> = line.split(' ').collect();
    let id = |dev: &str, ino: &str, born: &str| {
        Some(Identity {
            dev: dev.parse().ok()?,
            ino: ino.parse().ok()?,
            born_ns: born.parse().ok()?,
        })
    };
    let (epoch, op) = match f.as_slice() {
        // Without an epoch: the form of earlier versions.
        [kind @ ("open" | "create"), len, dev, ino, born, path] => (
            "0",
            Op::Open {
                path: unhex(path)?,
                id: id(dev, ino, born)?,
                len: len.parse().ok()?,
                created: *kind == "create",
            },
        ),
        [kind @ ("open" | "create"), epoch, len, dev, ino, born, path] => (
            *epoch,
            Op::Open {
                path: unhex(path)?,
                id: id(dev, ino, born)?,
                len: len.parse().ok()?,
                created: *kind == "create",
            },
        ),
        ["remove", epoch, how, keep, dev, ino, born, path] => (
            *epoch,
            Op::Removed {
                path: unhex(path)?,
                id: id(dev, ino, born)?,
                how: Kept::parse(how)?,
                keep: valid_keep(keep)?.to_string(),
            },
        ),
        ["rename", epoch, dev, ino, born, from, to] => (
            *epoch,
            Op::Renamed {
                id: id(dev, ino, born)?,
                from: unhex(from)?,
                to: unhex(to)?,
            },
        ),
        ["rmdir", epoch, dev, ino, born, path] => (
            *epoch,
            Op::DirRemoved {
                path: unhex(path)?,
                id: id(dev, ino, born)?,
            },
        ),
        _ => return None,
    };
    Some(Entry {
        epoch: epoch.parse().ok()?,
        op,
    })
}

/// A kept file's name is one path component ckpt made: never `..` or a path.
fn valid_keep(keep: &str) -> Option<&str> {
    let ok = !keep.is_empty()
        && keep
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(keep)
}

/// A file the run that saved an image (or a restore of it) first opened for writing
/// after that save: a restore of the image cuts it back, or removes it (see
/// [`crate::fs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOpen {
    /// The file, as opened (absolute).
    pub path: PathBuf,
    /// Its length right after the open: what a restore cuts it back to.
    pub len_at_open: u64,
    /// The open created it: a restore removes it.
    pub created: bool,
}

/// What a restore of `image` will undo in files opened after its save, from the journal
/// next to it (`IMAGE.opens`); empty when there is none. For tools (`cargo ckpt inspect`).
///
/// ```
/// let none = ckpt::fs::pending_opens(std::path::Path::new("/nonexistent/app.ckpt"));
/// assert!(none.is_empty());
/// ```
pub fn pending_opens(image: &Path) -> Vec<PendingOpen> {
    let mut out: Vec<(Identity, PendingOpen)> = Vec::new();
    for e in entries_of(image, 0) {
        if let Op::Open {
            path,
            id,
            len,
            created,
        } = e.op
        {
            // The first open of a file is what a restore goes back to.
            if !out.iter().any(|(i, _)| *i == id) {
                out.push((
                    id,
                    PendingOpen {
                        path,
                        len_at_open: len,
                        created,
                    },
                ));
            }
        }
    }
    out.into_iter().map(|(_, p)| p).collect()
}

/// A file or directory the run that saved an image (or a restore of it) renamed or
/// removed after that save: a restore of the image undoes it, last change first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PendingChange {
    /// Renamed from `from` to `to`: a restore renames it back.
    Renamed {
        /// Its name at the save.
        from: PathBuf,
        /// Its name now.
        to: PathBuf,
    },
    /// Removed; kept at `kept` until the next save: a restore puts it back at `path`.
    Removed {
        /// Where it was.
        path: PathBuf,
        /// Where ckpt keeps it (`IMAGE.removed/<n>`).
        kept: PathBuf,
        /// Kept as a copy (it was on another file system than the image).
        copy: bool,
    },
    /// An empty directory removed: a restore makes it again.
    DirRemoved {
        /// The directory.
        path: PathBuf,
    },
}

/// The renames and removals a restore of `image` will undo, in the order they were made,
/// from the journal next to it (`IMAGE.opens`). For tools (`cargo ckpt inspect`).
///
/// ```
/// let none = ckpt::fs::pending_changes(std::path::Path::new("/nonexistent/app.ckpt"));
/// assert!(none.is_empty());
/// ```
pub fn pending_changes(image: &Path) -> Vec<PendingChange> {
    let keep_dir = keep_dir_for(image);
    entries_of(image, 0)
        .into_iter()
        .filter_map(|e| match e.op {
            Op::Open { .. } => None,
            Op::Removed {
                path, how, keep, ..
            } => Some(PendingChange::Removed {
                path,
                kept: keep_dir.join(keep),
                copy: how == Kept::Copy,
            }),
            Op::Renamed { from, to, .. } => Some(PendingChange::Renamed { from, to }),
            Op::DirRemoved { path, .. } => Some(PendingChange::DirRemoved { path }),
        })
        .collect()
}

/// The journal's file name next to `image` (`app.ckpt.opens`), for messages.
pub fn pending_opens_journal_name(image: &Path) -> String {
    path_for(image)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Back to no journal (tests that configured one).
#[cfg(test)]
pub(crate) fn unconfigure() {
    let mut j = journal();
    j.active.clear();
    j.read = None;
}
