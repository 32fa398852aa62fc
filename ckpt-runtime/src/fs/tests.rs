use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::table::{self, Mode};
use super::*;
use crate::state::{decode_slice, from_slice, to_vec, Encoder, Value};

/// The file table is process-wide: tests that save or restore it run one at a time.
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A directory for one test's files, removed on drop (also when the test fails).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new(tag: &str) -> Dir {
        let prefix = format!("ckpt-fs-{tag}-");
        Dir(tempfile::Builder::new().prefix(&prefix).tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

fn component() -> Value {
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    table::save_component(&mut e).unwrap();
    e.finish().unwrap();
    decode_slice(&bytes).unwrap().0
}

#[test]
fn modes_round_trip() {
    for code in ["r", "w", "rw", "a", "ra"] {
        assert_eq!(Mode::parse(code).unwrap().code(), code);
    }
    assert!(Mode::parse("x").is_none());
}

#[test]
fn policy_parses_and_explains() {
    assert_eq!(Policy::parse("").unwrap(), Policy::Strict);
    assert_eq!(Policy::parse("strict").unwrap(), Policy::Strict);
    assert_eq!(
        Policy::parse("accept-changed").unwrap(),
        Policy::AcceptChanged
    );
    let e = Policy::parse("yes").unwrap_err().to_string();
    assert!(
        e.contains("CKPT_FILES") && e.contains("accept-changed"),
        "{e}"
    );
}

#[test]
fn a_saved_file_reopens_at_its_offset() {
    let _g = serial();
    let d = Dir::new("reopen");
    let p = d.path().join("data.bin");
    std::fs::write(&p, b"0123456789").unwrap();
    let mut f = File::open(&p).unwrap();
    let mut head = [0u8; 4];
    f.read_exact(&mut head).unwrap();
    let bytes = to_vec(&f).unwrap();
    let mut g: File = from_slice(&bytes).unwrap();
    let mut rest = String::new();
    g.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "456789");
    assert_eq!(g.path().unwrap(), p);
}

#[test]
fn a_replaced_file_is_refused_on_load() {
    let _g = serial();
    let d = Dir::new("replaced");
    let p = d.path().join("out.txt");
    let f = File::create(&p).unwrap();
    let bytes = to_vec(&f).unwrap();
    drop(f);
    std::fs::remove_file(&p).unwrap();
    // The file system may give the new file the old inode number: the birth time still
    // tells them apart.
    std::fs::write(&p, b"other").unwrap();
    let e = from_slice::<File>(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("cannot restore") && e.contains("different file"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), b"other");
}

#[test]
fn restore_cuts_written_files_back_and_checks_inputs_first() {
    let _g = serial();
    let d = Dir::new("truncate");
    let out = d.path().join("out.log");
    let input = d.path().join("in.txt");
    std::fs::write(&input, b"input data\n").unwrap();
    let reader = File::open(&input).unwrap();
    let mut w = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&out)
        .unwrap();
    w.write_all(b"before the save\n").unwrap();
    let saved = component();
    // After the save: more output, then a kill (nothing dropped cleanly).
    w.write_all(b"after the save\n").unwrap();
    let later = d.path().join("later.txt");
    write(&later, b"written after the save").unwrap();

    // An input that changed blocks the restore, and nothing is truncated.
    std::fs::write(&input, b"input data, edited\n").unwrap();
    let e = table::restore_component(&saved, Policy::Strict)
        .unwrap_err()
        .to_string();
    assert!(e.contains("changed since") && e.contains("in.txt"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap().len(), 31);

    // Accepted by policy: the log is cut back to its length at the save.
    table::restore_component(&saved, Policy::AcceptChanged).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"before the save\n");
    // A file first written after the save is not the checkpoint's: left alone.
    assert_eq!(std::fs::read(&later).unwrap(), b"written after the save");
    drop((reader, w));
}

#[test]
fn component_lists_open_handles_with_offsets() {
    let _g = serial();
    let d = Dir::new("handles");
    let p = d.path().join("h.txt");
    std::fs::write(&p, b"abcdef").unwrap();
    let mut f = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    f.seek(SeekFrom::Start(3)).unwrap();
    let v = component();
    let files = match v.get("files") {
        Some(Value::Array(files)) => files.clone(),
        other => panic!("{other:?}"),
    };
    let me = files
        .iter()
        .find(|f| f.get("path").and_then(Value::as_str) == Some(p.to_str().unwrap()))
        .expect("the open file is listed");
    assert_eq!(me.get("len").and_then(Value::as_u64), Some(6));
    assert!(matches!(me.get("written"), Some(Value::Bool(true))));
    let open = match me.get("open") {
        Some(Value::Array(o)) => o.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].get("offset").and_then(Value::as_u64), Some(3));
    assert_eq!(open[0].get("mode").and_then(Value::as_str), Some("rw"));
    drop(f);
}

#[test]
fn rename_and_remove_follow_the_file() {
    let _g = serial();
    let d = Dir::new("rename");
    let a = d.path().join("a.txt");
    let b = d.path().join("b.txt");
    write(&a, b"x").unwrap();
    rename(&a, &b).unwrap();
    let listed = |p: &std::path::Path| {
        let v = component();
        matches!(v.get("files"), Some(Value::Array(fs)) if fs.iter().any(|f| f.get("path").and_then(Value::as_str) == p.to_str()))
    };
    assert!(listed(&b) && !listed(&a));
    remove_file(&b).unwrap();
    assert!(!listed(&b));
}

#[test]
fn pipes_are_refused_at_save() {
    let _g = serial();
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors, owned by the Files below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    use std::os::unix::io::FromRawFd;
    // SAFETY: fresh descriptors from pipe(2), each owned once.
    let (r, w) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    let f = File::from_std(r);
    let e = to_vec(&f).unwrap_err().to_string();
    assert!(e.contains("pipe or socket"), "{e}");
    drop((f, w));
}

#[test]
fn an_open_written_file_cut_short_behind_the_program_is_refused() {
    let _g = serial();
    let d = Dir::new("short");
    let p = d.path().join("log");
    let mut w = File::create(&p).unwrap();
    w.write_all(b"0123456789").unwrap();
    let saved = component();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(4)
        .unwrap();
    let e = table::restore_component(&saved, Policy::AcceptChanged)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("shorter than at the checkpoint (4 < 10 bytes)"),
        "{e}"
    );
    drop(w);
}

#[test]
fn clones_stay_one_open_file_after_a_restore() {
    let _g = serial();
    let d = Dir::new("clones");
    let p = d.path().join("out.txt");
    let mut a = File::create(&p).unwrap();
    let mut b = a.try_clone().unwrap();
    a.write_all(b"a0 ").unwrap();
    b.write_all(b"b0 ").unwrap();
    let bytes = to_vec(&(a, b)).unwrap();
    let (mut a, mut b): (File, File) = from_slice(&bytes).unwrap();
    a.write_all(b"a1 ").unwrap();
    b.write_all(b"b1").unwrap();
    drop((a, b));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "a0 b0 a1 b1");
}

#[test]
fn devices_are_written_and_saved_without_a_length_to_cut_back() {
    let _g = serial();
    let mut f = File::create("/dev/null").unwrap();
    f.write_all(b"gone").unwrap();
    let v = component();
    drop(f);
    let v2 = component();
    table::restore_component(&v, Policy::Strict).unwrap();
    table::restore_component(&v2, Policy::Strict).unwrap();
}

#[test]
fn a_file_renamed_over_is_forgotten() {
    let _g = serial();
    let d = Dir::new("rename-over");
    let tmp = d.path().join("state.tmp");
    let fin = d.path().join("state");
    for i in 0..3 {
        write(&tmp, format!("v{i}")).unwrap();
        rename(&tmp, &fin).unwrap();
    }
    let v = component();
    let n = match v.get("files") {
        Some(Value::Array(fs)) => fs
            .iter()
            .filter(|f| {
                f.get("path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.starts_with(d.path().to_str().unwrap()))
            })
            .count(),
        other => panic!("{other:?}"),
    };
    assert_eq!(n, 1, "{v:?}");
}

#[test]
fn files_first_written_after_the_save_are_cut_back_through_the_journal() {
    let _g = serial();
    let d = Dir::new("journal");
    let image = d.path().join("app.ckpt");
    super::journal::configure(&image, None);
    let old = d.path().join("old.log");
    std::fs::write(&old, b"from before\n").unwrap();
    let saved = component();
    super::journal::saved(&image);

    // After the save: a new log and an existing file appended to for the first time.
    let new = d.path().join("new.log");
    let mut a = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&new)
        .unwrap();
    a.write_all(b"written by the killed run\n").unwrap();
    let mut b = OpenOptions::new().append(true).open(&old).unwrap();
    b.write_all(b"appended by the killed run\n").unwrap();
    let journal = std::fs::read_to_string(super::journal::path_for(&image)).unwrap();
    assert_eq!(journal.lines().count(), 2, "{journal}");
    drop((a, b));

    // The restore of that image removes the file the killed run created and cuts the
    // other back; the image's own files are its business.
    super::journal::configure(&image, Some(&image));
    table::restore_component(&saved, Policy::Strict).unwrap();
    super::journal::unconfigure();
    assert!(!new.exists());
    assert_eq!(std::fs::read(&old).unwrap(), b"from before\n");
}

#[test]
fn a_save_empties_the_journal_and_a_torn_line_is_ignored() {
    let _g = serial();
    let d = Dir::new("journal-reset");
    let image = d.path().join("app.ckpt");
    super::journal::configure(&image, Some(&image));
    let p = d.path().join("x.log");
    let mut f = File::create(&p).unwrap();
    f.write_all(b"abc").unwrap();
    let jp = super::journal::path_for(&image);
    assert!(jp.exists());
    // A crash in the middle of the next journal line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&jp)
        .unwrap()
        .write_all(b"open 0 1 2")
        .unwrap();
    table::restore_component(&component_without(&p), Policy::Strict).unwrap();
    assert!(!p.exists(), "created after the save: removed");
    super::journal::saved(&image);
    assert!(!jp.exists());
    super::journal::unconfigure();
    drop(f);
}

/// A component image that does not know `p` (as one saved before it was opened).
fn component_without(p: &std::path::Path) -> Value {
    let v = component();
    let Some(Value::Array(files)) = v.get("files") else {
        panic!("{v:?}")
    };
    let kept: Vec<Value> = files
        .iter()
        .filter(|f| f.get("path").and_then(Value::as_str) != p.to_str())
        .cloned()
        .collect();
    Value::Map(vec![(Value::Text("files".into()), Value::Array(kept.into()))].into())
}

#[test]
fn journal_covers_new_files_read_held_files_and_every_image_saved_to() {
    let _g = serial();
    let d = Dir::new("journal-more");
    let image = d.path().join("app.ckpt");
    let other = d.path().join("other.ckpt");
    super::journal::configure(&image, None);
    let held = d.path().join("held.txt");
    std::fs::write(&held, b"seed\n").unwrap();
    let reader = File::open(&held).unwrap();
    // A save to another image (`save_to`): its journal starts now.
    let saved = component();
    super::journal::saved(&other);

    let fresh = d.path().join("fresh.txt");
    let mut n = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&fresh)
        .unwrap();
    n.write_all(b"new").unwrap();
    let mut a = OpenOptions::new().append(true).open(&held).unwrap();
    a.write_all(b"appended after the save\n").unwrap();
    drop((n, a));
    for j in [&image, &other] {
        let text = std::fs::read_to_string(super::journal::path_for(j)).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    // Restoring the other image: the created file goes (create_new works again), the
    // file read at the save and appended to after it is cut back, not refused.
    super::journal::configure(&image, Some(&other));
    table::restore_component(&saved, Policy::Strict).unwrap();
    super::journal::unconfigure();
    assert!(!fresh.exists());
    assert_eq!(std::fs::read(&held).unwrap(), b"seed\n");
    drop(reader);
}

/// A run journaling to `image`, as the agent sets it up; back to no journal on drop.
struct Journaled {
    image: PathBuf,
}

impl Journaled {
    fn new(d: &Path) -> Journaled {
        let image = d.join("app.ckpt");
        super::journal::configure(&image, None);
        Journaled { image }
    }

    /// A save point: the component as the image holds it, then the save's commit.
    fn save(&self) -> Value {
        let v = component();
        super::journal::saved(&self.image);
        v
    }

    /// A restore of `saved` in a new process (the table starts from the image).
    fn restore(&self, saved: &Value) -> crate::error::Result<()> {
        super::journal::configure(&self.image, Some(&self.image));
        table::restore_component(saved, Policy::Strict)
    }

    fn kept(&self) -> Vec<std::ffi::OsString> {
        match std::fs::read_dir(super::journal::keep_dir_for(&self.image)) {
            Ok(rd) => rd.map(|e| e.unwrap().file_name()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Journaled {
    fn drop(&mut self) {
        super::journal::unconfigure();
    }
}

fn identity(p: &std::path::Path) -> super::identity::Identity {
    super::identity::Identity::of(&std::fs::symlink_metadata(p).unwrap())
}

#[test]
fn a_removed_file_is_put_back_with_its_content_and_identity() {
    let _g = serial();
    let d = Dir::new("undo-remove");
    let j = Journaled::new(d.path());
    let p = d.path().join("input.txt");
    std::fs::write(&p, b"needed after the save\n").unwrap();
    let id = identity(&p);
    let saved = j.save();
    remove_file(&p).unwrap();
    assert!(!p.exists());
    assert_eq!(j.kept().len(), 1, "kept as a hard link beside the image");

    j.restore(&saved).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"needed after the save\n");
    let back = identity(&p);
    assert!(
        back == id && back.born_ns == id.born_ns,
        "{back:?} != {id:?}"
    );
    assert!(j.kept().is_empty(), "the restore removes what it put back");
    assert!(!super::journal::path_for(&j.image).exists());
    // The restored run removes it again, as the killed one did.
    remove_file(&p).unwrap();
}

#[test]
fn a_renamed_file_is_renamed_back() {
    let _g = serial();
    let d = Dir::new("undo-rename");
    let j = Journaled::new(d.path());
    let (a, b) = (d.path().join("results.tmp"), d.path().join("results.txt"));
    let mut w = File::create(&a).unwrap();
    w.write_all(b"1 2 3\n").unwrap();
    drop(w);
    let id = identity(&a);
    let saved = j.save();
    rename(&a, &b).unwrap();

    j.restore(&saved).unwrap();
    assert!(!b.exists());
    assert_eq!(identity(&a), id);
    assert_eq!(std::fs::read(&a).unwrap(), b"1 2 3\n");
    rename(&a, &b).unwrap();
}

#[test]
fn renames_and_removals_after_one_save_are_undone_last_first() {
    let _g = serial();
    let d = Dir::new("undo-chain");
    let j = Journaled::new(d.path());
    let f = |n: &str| d.path().join(n);
    for n in ["a", "d", "e"] {
        std::fs::write(f(n), format!("{n} at the save\n")).unwrap();
    }
    std::fs::create_dir(f("sub")).unwrap();
    std::fs::write(f("sub/inner"), b"inside\n").unwrap();
    let ids: Vec<_> = ["a", "d", "e", "sub/inner"]
        .iter()
        .map(|n| identity(&f(n)))
        .collect();
    let saved = j.save();

    rename(f("a"), f("b")).unwrap();
    rename(f("b"), f("c")).unwrap();
    remove_file(f("c")).unwrap(); // a is gone after a chain of renames
    rename(f("d"), f("a")).unwrap(); // a's name taken by d
    write(f("e.tmp"), b"new e\n").unwrap(); // created after the save
    rename(f("e.tmp"), f("e")).unwrap(); // over e: e is removed
    rename(f("sub"), f("moved")).unwrap();
    remove_file(f("moved/inner")).unwrap();
    remove_dir(f("moved")).unwrap();

    j.restore(&saved).unwrap();
    for (n, id) in ["a", "d", "e", "sub/inner"].iter().zip(&ids) {
        assert_eq!(identity(&f(n)), *id, "{n}");
    }
    assert_eq!(std::fs::read_to_string(f("a")).unwrap(), "a at the save\n");
    assert_eq!(std::fs::read_to_string(f("e")).unwrap(), "e at the save\n");
    assert_eq!(std::fs::read_to_string(f("sub/inner")).unwrap(), "inside\n");
    for gone in ["b", "c", "e.tmp", "moved"] {
        assert!(!f(gone).exists(), "{gone} is still there");
    }
    assert!(j.kept().is_empty());
}

#[test]
fn a_renamed_file_whose_new_name_was_replaced_is_refused() {
    let _g = serial();
    let d = Dir::new("undo-replaced");
    let j = Journaled::new(d.path());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    std::fs::write(&a, b"original\n").unwrap();
    let saved = j.save();
    rename(&a, &b).unwrap();
    // Replaced behind the program's back: a new file under the new name.
    std::fs::remove_file(&b).unwrap();
    std::fs::write(&b, b"someone else's\n").unwrap();
    let journal = std::fs::read(super::journal::path_for(&j.image)).unwrap();

    let e = j.restore(&saved).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, crate::Error::Restore { path, .. } if *path == b)
            && msg.contains("different file")
            && msg.contains("put the renamed file back"),
        "{msg}"
    );
    // Refused: nothing moved, the journal kept for another try.
    assert!(!a.exists());
    assert_eq!(std::fs::read(&b).unwrap(), b"someone else's\n");
    assert_eq!(
        std::fs::read(super::journal::path_for(&j.image)).unwrap(),
        journal
    );
}

#[test]
fn a_removed_name_taken_by_another_file_is_refused() {
    let _g = serial();
    let d = Dir::new("undo-taken");
    let j = Journaled::new(d.path());
    let p = d.path().join("p");
    std::fs::write(&p, b"kept").unwrap();
    let saved = j.save();
    remove_file(&p).unwrap();
    std::fs::write(&p, b"another file").unwrap();
    let e = j.restore(&saved).unwrap_err().to_string();
    assert!(e.contains("another file has its name"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"another file");
    assert_eq!(j.kept().len(), 1);
}

#[test]
fn the_next_save_deletes_the_kept_files_and_the_journal() {
    let _g = serial();
    let d = Dir::new("undo-cleanup");
    let j = Journaled::new(d.path());
    let (p, q) = (d.path().join("p"), d.path().join("q"));
    std::fs::write(&p, b"p").unwrap();
    std::fs::write(&q, b"q").unwrap();
    j.save();
    remove_file(&p).unwrap();
    rename(&q, d.path().join("r")).unwrap();
    assert_eq!(j.kept().len(), 1);
    assert_eq!(
        pending_changes(&j.image),
        vec![
            PendingChange::Removed {
                path: p.clone(),
                kept: super::journal::keep_dir_for(&j.image).join(&j.kept()[0]),
                copy: false,
            },
            PendingChange::Renamed {
                from: q.clone(),
                to: d.path().join("r"),
            },
        ]
    );
    let later = j.save();
    assert!(!super::journal::keep_dir_for(&j.image).exists());
    assert!(!super::journal::path_for(&j.image).exists());
    // A restore of the later image has nothing to undo.
    j.restore(&later).unwrap();
    assert!(!p.exists() && !q.exists() && d.path().join("r").exists());
}

#[test]
fn lines_of_an_earlier_save_left_by_a_crash_are_ignored() {
    let _g = serial();
    let d = Dir::new("undo-epoch");
    let j = Journaled::new(d.path());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    std::fs::write(&a, b"x").unwrap();
    j.save();
    rename(&a, &b).unwrap();
    // The next image is committed, and the process dies before it empties the journal.
    let newer = component();
    j.restore(&newer).unwrap();
    assert!(
        b.exists() && !a.exists(),
        "a rename before that save was undone"
    );
}

#[test]
fn a_restore_cut_short_runs_again() {
    let _g = serial();
    let d = Dir::new("undo-again");
    let j = Journaled::new(d.path());
    let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
    std::fs::write(&a, b"a").unwrap();
    std::fs::write(&c, b"c").unwrap();
    let saved = j.save();
    rename(&a, &b).unwrap();
    remove_file(&c).unwrap();
    // A first restore put `c` back (renaming the kept link) and was killed.
    let kept = super::journal::keep_dir_for(&j.image).join(&j.kept()[0]);
    std::fs::rename(&kept, &c).unwrap();
    j.restore(&saved).unwrap();
    assert!(a.exists() && !b.exists());
    assert_eq!(std::fs::read(&c).unwrap(), b"c");
}

#[test]
fn a_removed_directory_tree_is_put_back() {
    let _g = serial();
    let d = Dir::new("undo-tree");
    let j = Journaled::new(d.path());
    let tree = d.path().join("scratch");
    std::fs::create_dir_all(tree.join("deep")).unwrap();
    std::fs::write(tree.join("deep/f"), b"f").unwrap();
    let id = identity(&tree.join("deep/f"));
    let saved = j.save();
    remove_dir_all(&tree).unwrap();
    assert!(!tree.exists());
    j.restore(&saved).unwrap();
    assert_eq!(identity(&tree.join("deep/f")), id);
    assert!(j.kept().is_empty());
}

/// A directory for files on another file system than the temporary directory (images
/// are there), if the machine has one (`/dev/shm` is usually a tmpfs).
fn other_fs(tag: &str) -> Option<Dir> {
    use std::os::unix::fs::MetadataExt;
    let shm = std::path::Path::new("/dev/shm");
    let dev = |p: &std::path::Path| std::fs::metadata(p).ok().map(|m| m.dev());
    if dev(shm).is_none() || dev(shm) == dev(&std::env::temp_dir()) {
        return None;
    }
    let prefix = format!("ckpt-fs-{tag}-");
    let dir = tempfile::Builder::new().prefix(&prefix).tempdir_in(shm);
    dir.ok().map(Dir)
}

#[test]
fn a_file_on_another_file_system_is_kept_as_a_copy_and_put_back() {
    let _g = serial();
    let Some(other) = other_fs("copy") else {
        eprintln!("skipped: no second file system");
        return;
    };
    let d = Dir::new("undo-copy");
    let j = Journaled::new(d.path());
    let p = other.path().join("log");
    let mut w = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&p)
        .unwrap();
    w.write_all(b"before\n").unwrap();
    let saved = j.save();
    w.write_all(b"after\n").unwrap();
    drop(w);
    remove_file(&p).unwrap();
    assert_eq!(
        pending_changes(&j.image).len(),
        1,
        "{:?}",
        pending_changes(&j.image)
    );
    assert!(matches!(
        &pending_changes(&j.image)[0],
        PendingChange::Removed { copy: true, .. }
    ));

    // Put back as a copy (a new file), known as the saved one: cut back, not refused.
    j.restore(&saved).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"before\n");
    assert!(j.kept().is_empty());
}

#[test]
fn a_large_file_on_another_file_system_is_not_removed() {
    let _g = serial();
    let Some(other) = other_fs("large") else {
        eprintln!("skipped: no second file system");
        return;
    };
    let d = Dir::new("undo-large");
    let _j = Journaled::new(d.path());
    let p = other.path().join("big");
    // Sparse: nothing is written, and nothing is copied either.
    std::fs::File::create(&p)
        .unwrap()
        .set_len(COPY_LIMIT + 1)
        .unwrap();
    let e = remove_file(&p).unwrap_err().to_string();
    assert!(
        e.contains("not removing") && e.contains("--ckpt-file") && e.contains("big"),
        "{e}"
    );
    assert!(p.exists());
}

#[test]
fn a_tree_holding_the_image_is_removed_without_keeping_it() {
    let _g = serial();
    let d = Dir::new("undo-tree-image");
    let inner = d.path().join("run");
    std::fs::create_dir(&inner).unwrap();
    let j = Journaled::new(&inner);
    std::fs::write(inner.join("data"), b"x").unwrap();
    j.save();
    remove_dir_all(&inner).unwrap();
    assert!(!inner.exists());
}
