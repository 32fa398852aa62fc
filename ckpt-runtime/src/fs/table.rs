//! The table of files the program has open or has written, and the `fs` component that
//! saves it.
//!
//! Every [`File`](super::File) registers a *handle* here while it is open. A *record* is
//! one file on disk, identified by device and inode: it stays in the table while a handle
//! is open, and for the rest of the run once the program has written to it, so a restore
//! can cut every written file back to its length at the save, whether or not the program
//! still holds it.

use std::os::unix::fs::MetadataExt;
use std::os::unix::io::RawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::identity::Identity;
use super::journal::{self, Op};
use super::sys;
use super::{undo, Policy};
use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

/// How a handle was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) append: bool,
}

impl Mode {
    /// `"r"`, `"w"`, `"rw"`, `"a"`, `"ra"`: the form images and `inspect` show.
    pub(crate) fn code(self) -> &'static str {
        match (self.read, self.write || self.append, self.append) {
            (true, false, _) => "r",
            (false, true, false) => "w",
            (true, true, false) => "rw",
            (false, true, true) => "a",
            (true, true, true) => "ra",
            (false, false, _) => "-",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Mode> {
        let (read, write, append) = match code {
            "r" => (true, false, false),
            "w" => (false, true, false),
            "rw" => (true, true, false),
            "a" => (false, true, true),
            "ra" => (true, true, true),
            _ => return None,
        };
        Some(Mode {
            read,
            write,
            append,
        })
    }

    pub(crate) fn writes(self) -> bool {
        self.write || self.append
    }
}

struct Handle {
    id: u64,
    fd: RawFd,
    mode: Mode,
}

struct Record {
    path: PathBuf,
    id: Identity,
    /// The program wrote (or may have written) to it during this run.
    written: bool,
    /// Written since the last save without an open handle to sync through.
    dirty: bool,
    handles: Vec<Handle>,
}

#[derive(Default)]
struct Table {
    records: Vec<Record>,
    next_handle: u64,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    records: Vec::new(),
    next_handle: 1,
});

fn table() -> MutexGuard<'static, Table> {
    // A panic while the table was locked leaves it consistent (every update is one push
    // or one field store), so a poisoned lock is still usable.
    TABLE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers an open file; returns the handle id its `File` keeps.
/// `created`: this open made the file (a restore to a save before it removes it again).
pub(crate) fn register(
    path: &Path,
    file: &std::fs::File,
    fd: RawFd,
    mode: Mode,
    created: bool,
) -> u64 {
    let (id, regular) = match file.metadata() {
        Ok(m) => (Identity::of(&m), m.is_file()),
        Err(_) => (
            Identity {
                dev: 0,
                ino: 0,
                born_ns: 0,
            },
            false,
        ),
    };
    let mut t = table();
    let handle = t.next_handle;
    t.next_handle += 1;
    let rec = match t.records.iter().position(|r| r.id == id) {
        Some(i) => {
            let r = &mut t.records[i];
            r.path = path.to_path_buf();
            r
        }
        None => {
            t.records.push(Record {
                path: path.to_path_buf(),
                id,
                written: false,
                dirty: false,
                handles: Vec::new(),
            });
            let last = t.records.len() - 1;
            &mut t.records[last]
        }
    };
    // Only regular files have a length to cut back to (and can be fdatasync'd).
    let first_write = mode.writes() && regular && !rec.written;
    if mode.writes() && regular {
        rec.written = true;
        rec.dirty = true;
    }
    let journaled = first_write.then(|| (rec.path.clone(), rec.id));
    rec.handles.push(Handle {
        id: handle,
        fd,
        mode,
    });
    drop(t);
    if let Some((path, id)) = journaled {
        journal::note_open(&path, id, file, created);
    }
    handle
}

/// A handle was closed. Records of files only read are forgotten with their last handle.
pub(crate) fn unregister(handle: u64) {
    let mut t = table();
    for r in &mut t.records {
        r.handles.retain(|h| h.id != handle);
    }
    t.records.retain(|r| r.written || !r.handles.is_empty());
}

/// The path a handle was opened with.
pub(crate) fn path_of(handle: u64) -> Option<PathBuf> {
    let t = table();
    t.records
        .iter()
        .find(|r| r.handles.iter().any(|h| h.id == handle))
        .map(|r| r.path.clone())
}

/// A file was written by path (`fs::write`): it is cut back on restore like any other.
/// `created`: the write made it (journaled, so a restore to an earlier save removes it).
pub(crate) fn note_written(path: &Path, created: bool) {
    let Ok(m) = std::fs::metadata(path) else {
        return;
    };
    if !m.is_file() {
        return;
    }
    let id = Identity::of(&m);
    if created {
        journal::note_open_len(path, id, 0, true);
    }
    let mut t = table();
    match t.records.iter_mut().find(|r| r.id == id) {
        Some(r) => {
            r.written = true;
            r.dirty = true;
            r.path = path.to_path_buf();
        }
        None => t.records.push(Record {
            path: path.to_path_buf(),
            id,
            written: true,
            dirty: true,
            handles: Vec::new(),
        }),
    }
}

/// A file is about to be removed: forget what the program wrote to it.
pub(crate) fn note_removed(id: Identity) {
    table()
        .records
        .retain(|r| r.id != id || !r.handles.is_empty());
}

/// A file was renamed.
pub(crate) fn note_renamed(id: Identity, to: &Path) {
    let mut t = table();
    if let Some(r) = t.records.iter_mut().find(|r| r.id == id) {
        r.path = to.to_path_buf();
    }
}

/// A directory was renamed: the files known inside it are at their new paths.
pub(crate) fn note_dir_renamed(from: &Path, to: &Path) {
    let mut t = table();
    for r in &mut t.records {
        if let Ok(rest) = r.path.strip_prefix(from) {
            r.path = to.join(rest);
        }
    }
}

/// A directory tree is about to be removed: forget what the program wrote inside it.
pub(crate) fn note_removed_under(dir: &Path) {
    table()
        .records
        .retain(|r| !r.path.starts_with(dir) || !r.handles.is_empty());
}

/// One record as the `fs` component saves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SavedFile {
    pub(crate) path: PathBuf,
    pub(crate) id: Identity,
    pub(crate) written: bool,
    pub(crate) len: u64,
    pub(crate) mtime_ns: i128,
    /// `(offset, mode)` of each handle open at the save.
    pub(crate) open: Vec<(u64, Mode)>,
}

pub(crate) fn mtime_ns(m: &std::fs::Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

/// The `fs` component: writes every record after making written data durable.
///
/// `{"files": [{"path", "dev", "ino", "born_ns", "written", "len", "mtime_ns", "open":
/// [{"offset", "mode"}]}], "epoch"}`. Written files are `fdatasync`ed here, before the
/// image is committed, so the lengths it records are on disk when the image is. `epoch`
/// names this save in the journal lines that follow it (see [`journal`]).
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    let saved = snapshot()?;
    e.map(2);
    e.text("epoch");
    e.uint(journal::next_epoch());
    e.text("files");
    e.array(saved.len() as u64);
    for f in &saved {
        e.map(8);
        e.text("path");
        e.text(&f.path.to_string_lossy());
        f.id.save(e);
        e.text("written");
        e.bool(f.written);
        e.text("len");
        e.uint(f.len);
        e.text("mtime_ns");
        e.int(i64::try_from(f.mtime_ns).unwrap_or(i64::MAX));
        e.text("open");
        e.array(f.open.len() as u64);
        for (offset, mode) in &f.open {
            e.map(2);
            e.text("offset");
            e.uint(*offset);
            e.text("mode");
            e.text(mode.code());
        }
    }
    Ok(())
}

/// Syncs and describes every record.
fn snapshot() -> Result<Vec<SavedFile>> {
    let mut t = table();
    let mut out = Vec::with_capacity(t.records.len());
    for r in &mut t.records {
        let meta = if let Some(h) = r.handles.first() {
            if r.written {
                let via = r.handles.iter().find(|h| h.mode.writes()).unwrap_or(h);
                crate::image::sync_before(&r.path, via.fd, true)
                    .map_err(|e| Error::io("syncing", &r.path, e))?;
            }
            sys::fstat(h.fd).map_err(|e| Error::io("reading metadata of", &r.path, e))?
        } else {
            // Closed: the file as its path names it now, if it is still the same file.
            match std::fs::File::open(&r.path).and_then(|f| Ok((f.metadata()?, f))) {
                Ok((m, f)) if Identity::of(&m) == r.id => {
                    if r.dirty {
                        use std::os::fd::AsRawFd;
                        crate::image::sync_before(&r.path, f.as_raw_fd(), true)
                            .map_err(|e| Error::io("syncing", &r.path, e))?;
                        r.dirty = false;
                    }
                    m
                }
                // Removed or replaced behind the program's back: nothing to cut back.
                _ => continue,
            }
        };
        let mut open = Vec::with_capacity(r.handles.len());
        for h in &r.handles {
            open.push((sys::offset(h.fd).unwrap_or(0), h.mode));
        }
        out.push(SavedFile {
            path: r.path.clone(),
            id: r.id,
            written: r.written,
            len: meta.len(),
            mtime_ns: mtime_ns(&meta),
            open,
        });
    }
    Ok(out)
}

/// The epoch of the save that wrote `v` (`0` for an image without one).
pub(crate) fn epoch_of(v: &Value) -> u64 {
    v.get("epoch").and_then(Value::as_u64).unwrap_or(0)
}

pub(crate) fn parse_component(v: &Value) -> Result<Vec<SavedFile>> {
    let files = match v.get("files") {
        Some(Value::Array(files)) => files,
        _ => return Err(Error::ty("files", "an array of files", v.kind())),
    };
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let at = |k: &str| format!("files[{i}].{k}");
        let uint = |k: &str| {
            f.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| Error::ty(at(k), "an unsigned integer", "something else"))
        };
        let path = f
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::ty(at("path"), "a path", "something else"))?;
        let written = matches!(f.get("written"), Some(Value::Bool(true)));
        let mtime_ns = match f.get("mtime_ns") {
            Some(Value::Uint(n)) => i128::from(*n),
            Some(Value::Nint(n)) => -1 - i128::from(*n),
            _ => return Err(Error::ty(at("mtime_ns"), "an integer", "something else")),
        };
        let mut open = Vec::new();
        if let Some(Value::Array(hs)) = f.get("open") {
            for h in hs {
                let offset = h.get("offset").and_then(Value::as_u64);
                let mode = h.get("mode").and_then(Value::as_str).and_then(Mode::parse);
                match (offset, mode) {
                    (Some(o), Some(m)) => open.push((o, m)),
                    _ => return Err(Error::ty(at("open"), "{offset, mode}", "something else")),
                }
            }
        }
        out.push(SavedFile {
            path: PathBuf::from(path),
            id: Identity::load(f).map_err(|e| e.within(&format!("files[{i}]")))?,
            written,
            len: uint("len")?,
            mtime_ns,
            open,
        });
    }
    Ok(out)
}

/// What a restore will do to one written file.
enum Plan {
    Truncate(PathBuf, u64),
    Keep,
}

/// The policy of the restore in progress, for files loaded with the frames after the
/// components (the environment variable is consumed by then).
static RESTORE_POLICY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the restore accepts changed input files (set by [`restore_component`]).
pub(crate) fn accepts_changed() -> bool {
    RESTORE_POLICY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Restores the `fs` component: plans the undoing of the journal of the image being
/// restored (renames, removals, files opened after the save) and checks every saved file
/// where that plan puts it; then, only if all checks pass, undoes the journal, cuts
/// written files back to their saved length and rebuilds the table. Nothing on disk
/// changes when any check fails.
pub(crate) fn restore_component(v: &Value, policy: Policy) -> Result<()> {
    RESTORE_POLICY.store(
        policy == Policy::AcceptChanged,
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut saved = parse_component(v)?;
    let epoch = epoch_of(v);
    journal::restoring_epoch(epoch);
    let journaled = journal::entries(epoch);
    for f in saved.iter_mut().filter(|f| !f.written) {
        // Read at the save, first written after it (at the length it had at the save):
        // the growth is the killed run's own output, to be cut back like a written file's.
        if journaled
            .iter()
            .any(|e| matches!(e.op, Op::Open { id, len, .. } if id == f.id && len == f.len))
        {
            f.written = true;
        }
    }
    let keep_dir = journal::restoring()
        .map(|image| journal::keep_dir_for(&image))
        .unwrap_or_default();
    let undo = undo::plan(&journaled, &saved, &keep_dir)?;
    let mut plans = Vec::with_capacity(saved.len());
    for f in &saved {
        plans.push(check(f, policy, &undo)?);
    }
    let remap = undo.apply()?;
    for plan in plans {
        if let Plan::Truncate(path, len) = plan {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io("opening", &path, e))?;
            file.set_len(len)
                .and_then(|()| file.sync_data())
                .map_err(|e| Error::io("truncating", &path, e))?;
        }
    }
    journal::consumed();
    let id_now = |id: Identity| {
        remap
            .iter()
            .find(|(at_save, _)| *at_save == id)
            .map_or(id, |(_, now)| *now)
    };
    let records = saved
        .into_iter()
        .filter(|f| f.written)
        .map(|f| Record {
            path: f.path,
            id: id_now(f.id),
            written: true,
            dirty: false,
            handles: Vec::new(),
        })
        .collect();
    undo::set_remapped(remap);
    table().records = records;
    Ok(())
}

/// What a restore does to the saved file `f`, found where `undo` puts it.
fn check(f: &SavedFile, policy: Policy, undo: &undo::Plan) -> Result<Plan> {
    let open = !f.open.is_empty();
    let refuse = |detail: String| Error::Restore {
        path: f.path.clone(),
        detail,
    };
    let (meta, now) = match undo.stat(&f.path) {
        Ok(found) => found,
        Err(e) if open => {
            return Err(refuse(format!(
                "the program had it open at the checkpoint, and it cannot be opened now \
                 ({e}); put the file back to restore"
            )))
        }
        // Closed at the save and gone now: nothing to cut back, nothing to reopen.
        Err(_) => return Ok(Plan::Keep),
    };
    if !meta.is_file() && now == f.id {
        // A device or other special file (`/dev/null`, a terminal): nothing to compare.
        return Ok(Plan::Keep);
    }
    let same = now == f.id;
    if f.written {
        if !same {
            if open {
                return Err(refuse(
                    "the program was writing it at the checkpoint, and the path now names a \
                     different file (device, inode or creation time changed: replaced or recreated); restore \
                     refuses to write into it — put the original back or start fresh"
                        .into(),
                ));
            }
            // A closed file replaced by another: not the program's to cut back.
            return Ok(Plan::Keep);
        }
        if meta.len() < f.len {
            if open {
                return Err(refuse(format!(
                    "it is shorter than at the checkpoint ({} < {} bytes): data the program \
                     wrote before the checkpoint is gone; restore from a copy of the file or \
                     start fresh",
                    meta.len(),
                    f.len
                )));
            }
            return Ok(Plan::Keep);
        }
        if meta.len() > f.len {
            return Ok(Plan::Truncate(f.path.clone(), f.len));
        }
        return Ok(Plan::Keep);
    }
    // Only read: the program's state depends on what it read.
    if policy == Policy::AcceptChanged {
        return Ok(Plan::Keep);
    }
    if !same {
        return Err(refuse(format!(
            "the program was reading it at the checkpoint, and the path now names a \
             different file (device, inode or creation time changed); {}",
            Policy::HINT
        )));
    }
    if meta.len() != f.len || mtime_ns(&meta) != f.mtime_ns {
        return Err(refuse(format!(
            "the program was reading it at the checkpoint, and it changed since (size {} → \
             {} bytes{}); {}",
            f.len,
            meta.len(),
            if mtime_ns(&meta) != f.mtime_ns {
                ", modification time differs"
            } else {
                ""
            },
            Policy::HINT
        )));
    }
    Ok(Plan::Keep)
}
