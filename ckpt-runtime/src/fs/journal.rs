//! The open journal: files the program starts writing after the last save.
//!
//! The image of a save knows every file written before it; a file first opened for
//! writing after it (a log created or appended to for the first time) is not in the
//! image, so a restore would leave the killed run's bytes in it and the restored run would
//! write them again. Before such an open returns, its path, identity and length are
//! appended to `IMAGE.opens` and synced; a restore of `IMAGE` cuts each of those files
//! back to that length (if it is still the same file), and a save empties the journal
//! (the new image knows the files now).
//!
//! One line per open: `open <len> <dev> <ino> <born_ns> <path as hex>`. A line cut short
//! by a crash has no newline and is ignored.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::table::{Identity, SavedFile};

struct Journal {
    /// Where this run journals its opens (`None`: no agent, nothing journaled).
    write: Option<PathBuf>,
    /// The journal of the image being restored.
    read: Option<PathBuf>,
}

static JOURNAL: Mutex<Journal> = Mutex::new(Journal {
    write: None,
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

/// Set by the agent: journal opens next to `image`; `restoring` is the image a restore
/// starts from.
pub(crate) fn configure(image: &Path, restoring: Option<&Path>) {
    let mut j = journal();
    j.write = Some(path_for(image));
    j.read = restoring.map(path_for);
}

/// A save to the run's image succeeded: the image knows every written file now.
pub(crate) fn reset() {
    if let Some(p) = &journal().write {
        let _ = std::fs::remove_file(p);
    }
}

/// Records the first write-open of a file in this run (best effort: a journal that
/// cannot be written only loses this protection, never the program's open).
pub(crate) fn note_open(path: &Path, id: Identity, file: &std::fs::File) {
    let Some(jp) = journal().write.clone() else {
        return;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let hex: String = path
        .as_os_str()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let line = format!("open {len} {} {} {} {hex}\n", id.dev, id.ino, id.born_ns);
    let r = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&jp)
        .and_then(|mut j| {
            j.write_all(line.as_bytes())?;
            j.sync_data()
        });
    if let Err(e) = r {
        eprintln!(
            "ckpt: warning: cannot journal the open of {} in {} ({e}); a restore will not cut \
             it back",
            path.display(),
            jp.display()
        );
    }
}

/// `(path, identity, length at open)` of each journaled file, first entry per file.
fn entries(journal: &Path) -> Vec<(PathBuf, Identity, u64)> {
    let Ok(text) = std::fs::read(journal) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Identity, u64)> = Vec::new();
    for line in text.split_inclusive(|b| *b == b'\n') {
        let Some(line) = line.strip_suffix(b"\n") else {
            continue; // cut short by a crash
        };
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let f: Vec<&str> = line.split(' ').collect();
        let [_, len, dev, ino, born, hex] = f.as_slice() else {
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
        let Some(bytes) = bytes else {
            continue;
        };
        let id = Identity { dev, ino, born_ns };
        if !out.iter().any(|(_, i, _)| *i == id) {
            out.push((PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)), id, len));
        }
    }
    out
}

/// Cuts the journaled files the image does not know back to their length at open.
pub(crate) fn roll_back(saved: &[SavedFile]) {
    let Some(jp) = journal().read.clone() else {
        return;
    };
    for (path, id, len) in entries(&jp) {
        if saved.iter().any(|f| f.id == id) {
            continue; // the image knows it and has already dealt with it
        }
        let Ok(m) = std::fs::metadata(&path) else {
            continue;
        };
        if Identity::of(&m) != id || m.len() <= len {
            continue; // replaced since, or nothing written after the open
        }
        let r = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| {
                f.set_len(len)?;
                f.sync_data()
            });
        if let Err(e) = r {
            eprintln!(
                "ckpt: warning: cannot cut {} back to {len} bytes ({e}); output the killed run \
                 wrote after the save may repeat",
                path.display()
            );
        }
    }
}

/// Back to no journal (tests that configured one).
#[cfg(test)]
pub(crate) fn unconfigure() {
    let mut j = journal();
    j.write = None;
    j.read = None;
}
