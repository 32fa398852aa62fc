//! The open journal: files the program starts writing after the last save.
//!
//! The image of a save knows every file written before it; a file first opened for
//! writing after it (a log created or appended to for the first time) is not in the
//! image, so a restore would leave the killed run's bytes in it and the restored run would
//! write them again. Before such an open returns, its path, identity and length are
//! appended to `IMAGE.opens`; a restore of `IMAGE` cuts each of those files
//! back to that length (if it is still the same file), and a save empties the journal
//! (the new image knows the files now).
//!
//! Every image this run saved to (and the image it was restored from) has its own
//! journal: an open is appended to each, and a save to one image empties only that one.
//!
//! One line per open: `open|create <len> <dev> <ino> <born_ns> <path as hex>`; `create`
//! when the open made the file, which a restore then removes (so `create_new` works
//! again). A line cut short by a crash has no newline and is ignored.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::table::{Identity, SavedFile};

struct Journal {
    /// The journals this run appends to: one per image it saved to or was restored from
    /// (empty: no agent, nothing journaled).
    active: Vec<PathBuf>,
    /// The journal of the image being restored.
    read: Option<PathBuf>,
}

static JOURNAL: Mutex<Journal> = Mutex::new(Journal {
    active: Vec::new(),
    read: None,
});

fn journal() -> std::sync::MutexGuard<'static, Journal> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The journal next to an image.
pub(crate) fn path_for(image: &Path) -> PathBuf {
    let mut p = image.as_os_str().to_owned();
    p.push(".opens");
    PathBuf::from(p)
}

/// Set by the agent at start: the run saves to `image`; `restoring` is the image a restore
/// starts from (its journal is read, and kept up to date for another restore of it).
pub(crate) fn configure(image: &Path, restoring: Option<&Path>) {
    let mut j = journal();
    j.active = vec![path_for(image)];
    j.read = restoring.map(path_for);
    if let Some(r) = &j.read {
        if !j.active.contains(r) {
            let r = r.clone();
            j.active.push(r);
        }
    }
}

/// A save to `image` succeeded: that image knows every written file now.
pub(crate) fn saved(image: &Path) {
    let p = path_for(image);
    let _ = std::fs::remove_file(&p);
    let mut j = journal();
    if !j.active.contains(&p) {
        j.active.push(p);
    }
}

/// Records the first write-open of a file in this run (best effort: a journal that
/// cannot be written only loses this protection, never the program's open).
pub(crate) fn note_open(path: &Path, id: Identity, file: &std::fs::File, created: bool) {
    let active = journal().active.clone();
    if active.is_empty() {
        return;
    }
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let hex: String = path
        .as_os_str()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let kind = if created { "create" } else { "open" };
    let line = format!("{kind} {len} {} {} {} {hex}\n", id.dev, id.ino, id.born_ns);
    for jp in active {
        let r = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&jp)
            // Written before the open returns, not synced: the page cache outlives a
            // SIGKILL, and a sync per new file would slow down programs that write many
            // files. A machine crash may lose entries (as it may lose the file data).
            .and_then(|mut j| j.write_all(line.as_bytes()));
        if let Err(e) = r {
            eprintln!(
                "ckpt: warning: cannot journal the open of {} in {} ({e}); a restore will not \
                 cut it back",
                path.display(),
                jp.display()
            );
        }
    }
}

/// One journaled open.
pub(crate) struct Entry {
    path: PathBuf,
    pub(crate) id: Identity,
    /// The file's length right after the open.
    pub(crate) len: u64,
    /// The open created the file.
    created: bool,
}

/// The entries of the journal of the image being restored, first entry per file.
pub(crate) fn entries() -> Vec<Entry> {
    match journal().read.clone() {
        Some(jp) => entries_at(&jp),
        None => Vec::new(),
    }
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
    entries_at(&path_for(image))
        .into_iter()
        .map(|e| PendingOpen {
            path: e.path,
            len_at_open: e.len,
            created: e.created,
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

fn entries_at(jp: &Path) -> Vec<Entry> {
    let Ok(text) = std::fs::read(jp) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = Vec::new();
    for line in text.split_inclusive(|b| *b == b'\n') {
        let Some(line) = line.strip_suffix(b"\n") else {
            continue; // cut short by a crash
        };
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let f: Vec<&str> = line.split(' ').collect();
        let [kind, len, dev, ino, born, hex] = f.as_slice() else {
            continue;
        };
        let (Ok(len), Ok(dev), Ok(ino), Ok(born_ns)) =
            (len.parse(), dev.parse(), ino.parse(), born.parse())
        else {
            continue;
        };
        let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect();
        let (Some(bytes), true) = (bytes, matches!(*kind, "open" | "create")) else {
            continue;
        };
        let id = Identity { dev, ino, born_ns };
        if !out.iter().any(|e| e.id == id) {
            out.push(Entry {
                path: PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)),
                id,
                len,
                created: *kind == "create",
            });
        }
    }
    out
}

/// Undoes what the killed run wrote to the journaled files the image does not know as
/// written: cut back to the length at the open, or removed if the open created them.
pub(crate) fn roll_back(entries: &[Entry], saved: &[SavedFile]) {
    for e in entries {
        if saved.iter().any(|f| f.written && f.id == e.id) {
            continue; // the image knows it as written and has cut it back
        }
        let Ok(m) = std::fs::metadata(&e.path) else {
            continue;
        };
        if Identity::of(&m) != e.id {
            continue; // replaced since: not ours to touch
        }
        let r = if e.created && !saved.iter().any(|f| f.id == e.id) {
            std::fs::remove_file(&e.path)
        } else if m.len() > e.len {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&e.path)
                .and_then(|f| {
                    f.set_len(e.len)?;
                    f.sync_data()
                })
        } else {
            Ok(())
        };
        if let Err(err) = r {
            eprintln!(
                "ckpt: warning: cannot undo the killed run's writes to {} ({err}); its output \
                 after the save may repeat",
                e.path.display()
            );
        }
    }
}

/// Back to no journal (tests that configured one).
#[cfg(test)]
pub(crate) fn unconfigure() {
    let mut j = journal();
    j.active.clear();
    j.read = None;
}
