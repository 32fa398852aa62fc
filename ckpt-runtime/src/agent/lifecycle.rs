//! The life of a run's images: the lock taken at start, sequence numbers and rotation
//! (`--ckpt-keep N`), finding the newest valid image (`--restore latest|DIR`), and what
//! happens when the run ends (the image is marked finished or removed, temporary files
//! are swept).
//!
//! Files next to an image `app.ckpt` (all in its directory):
//! - `app.ckpt.lock`: the advisory lock (`flock`) of the run writing `app.ckpt`; it holds
//!   the holder's pid, so a second instance can say who has it.
//! - `app.ckpt.<seq>`: with `--ckpt-keep N` (N > 1), the N − 1 images before the newest,
//!   named by their sequence number (the newest is always `app.ckpt` itself).
//! - `.app.ckpt.tmp.<pid>` / `.app.ckpt.old.<pid>`: an image being written, the previous
//!   image on its way out. Removed before a run ends and, if a run was killed, by the
//!   next one that takes the lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::{self, Limits};

/// The lock file of image `path`: `path` + `.lock`.
pub(crate) fn lock_file(path: &Path) -> PathBuf {
    suffixed(path, ".lock")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Takes the advisory lock of image `path` and writes this process's pid into the lock
/// file. Fails with [`Error::Locked`] naming the holder's pid when another process has it.
pub(crate) fn take_lock(path: &Path) -> Result<File> {
    let lock = lock_file(path);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io("opening lock file", lock.clone(), e))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let try_lock = |f: &File| unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    let mut waited = None;
    while try_lock(&f) != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(Error::io("locking", lock, e));
        }
        let mut text = String::new();
        let _ = f.rewind();
        let _ = f.read_to_string(&mut text);
        let holder: Option<u32> = text.trim().parse().ok();
        // The run that holds the lock ended (killed) while its last save was being
        // written in the background: the process writing it holds the lock until the
        // image is complete. Wait for it, so the restore sees that image.
        let started = *waited.get_or_insert_with(std::time::Instant::now);
        let gone = holder.is_some_and(|pid| !alive(pid));
        if !gone || started.elapsed() > SAVE_WAIT {
            return Err(Error::Locked {
                path: path.to_path_buf(),
                lock,
                holder,
            });
        }
        if started.elapsed() >= std::time::Duration::from_millis(200)
            && started.elapsed() < std::time::Duration::from_millis(220)
        {
            eprintln!(
                "ckpt: waiting for the save that process {} started before it ended to finish \
                 writing {}",
                holder.unwrap_or(0),
                path.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Who holds it, for the error another instance prints. Best effort: the lock itself
    // is the flock, not the text.
    let _ = f.set_len(0);
    let _ = f.rewind();
    let _ = writeln!(f, "{}", std::process::id());
    sweep_stale(path);
    Ok(f)
}

/// How long a run waits for the background save of a run that ended before it.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Whether process `pid` exists.
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes temporary and previous-image files of `path` (`.{name}.tmp.*`,
/// `.{name}.old.*`). Only called with the image's lock held, so none is in use by another
/// process; this process's own ones are only removed when no save is running.
pub(crate) fn sweep_stale(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let (tmp, old) = (format!(".{name}.tmp."), format!(".{name}.old."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n.starts_with(&tmp) || n.starts_with(&old) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The kept image of `path` with sequence number `seq`: `app.ckpt.<seq>`.
pub(crate) fn generation(path: &Path, seq: u64) -> PathBuf {
    suffixed(path, &format!(".{seq}"))
}

/// The kept images of `path` (`app.ckpt.<seq>`), newest (highest sequence number) first.
pub(crate) fn generations(path: &Path) -> Vec<(u64, PathBuf)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let seq = n.strip_prefix(&prefix)?;
            if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((seq.parse().ok()?, e.path()))
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.0));
    out
}

/// The header key of an image's sequence number.
pub(crate) const SEQ_KEY: &str = "seq";

/// The sequence number an image's header records (0 for images without one).
pub(crate) fn seq_of(header: &image::Header) -> u64 {
    header
        .options
        .iter()
        .find(|(k, _)| k == SEQ_KEY)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// The highest sequence number among `path` and its kept images.
pub(crate) fn last_seq(path: &Path) -> u64 {
    let newest = image::read_header(path).map(|h| seq_of(&h)).unwrap_or(0);
    let kept = generations(path).first().map(|g| g.0).unwrap_or(0);
    newest.max(kept)
}

/// Before a new image replaces `path`: with `keep > 1`, the image there now (sequence
/// number `prev_seq`) stays as `app.ckpt.<prev_seq>`, and older kept images beyond the
/// last `keep − 1` are removed first, so that a kill at any moment leaves at most `keep`
/// images.
pub(crate) fn rotate(path: &Path, keep: u32, prev_seq: u64) {
    if keep <= 1 || prev_seq == 0 || !path.exists() {
        return;
    }
    prune(path, keep - 1);
    let g = generation(path, prev_seq);
    if !g.exists() {
        // A hard link: the image's bytes are not copied, and `image::write` still
        // replaces `path` atomically.
        let _ = std::fs::hard_link(path, &g);
    }
}

/// Removes kept images beyond the newest `keep − 1`.
pub(crate) fn prune(path: &Path, keep: u32) {
    let keep_old = keep.saturating_sub(1) as usize;
    for (_, old) in generations(path).into_iter().skip(keep_old) {
        let _ = std::fs::remove_file(old);
    }
}

/// What `--restore` was given that is not a file: `latest` (the newest valid image of
/// this run's image path) or a directory (the newest valid image of this program in it).
/// Returns the image to restore; damaged images are skipped with a warning on stderr.
pub(crate) fn resolve_restore(
    arg: &Path,
    image_path: &Path,
    program: &str,
) -> Result<Option<PathBuf>> {
    if arg.is_dir() {
        let mut candidates = Vec::new();
        for e in std::fs::read_dir(arg)
            .map_err(|e| Error::io("listing images in", arg, e))?
            .flatten()
        {
            let p = e.path();
            if p.is_file() && is_image_name(&p) {
                candidates.push(p);
            }
        }
        let mut headed: Vec<(u64, u64, PathBuf)> = candidates
            .into_iter()
            .filter_map(|p| match image::read_header(&p) {
                Ok(h) if h.program == program => Some((h.created_unix, seq_of(&h), p)),
                Ok(_) => None,
                Err(e) => {
                    warn_skip(&p, &e);
                    None
                }
            })
            .collect();
        headed.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
        let ordered: Vec<PathBuf> = headed.into_iter().map(|c| c.2).collect();
        if ordered.is_empty() {
            return Err(Error::Usage(format!(
                "{}: no image of {program} in this directory; pass an image file",
                arg.display()
            )));
        }
        return first_valid(&ordered).map(Some);
    }
    latest(image_path).map(Some)
}

/// The newest valid image of `path`: `path` itself, else its kept images by sequence
/// number. Damaged ones are skipped with a warning.
pub(crate) fn latest(path: &Path) -> Result<PathBuf> {
    let mut ordered = Vec::new();
    if path.exists() {
        ordered.push(path.to_path_buf());
    }
    ordered.extend(generations(path).into_iter().map(|g| g.1));
    if ordered.is_empty() {
        return Err(Error::Usage(format!(
            "no image to restore: {} does not exist (and no kept image {}.N does)",
            path.display(),
            path.display()
        )));
    }
    first_valid(&ordered)
}

fn first_valid(ordered: &[PathBuf]) -> Result<PathBuf> {
    // With a key configured, an image must also carry its signature.
    let key = image::signature::Key::from_env()?;
    for p in ordered {
        let signed = match &key {
            Some(k) => image::signature::verify(p, k),
            None => Ok(()),
        };
        match signed.and_then(|()| image::read(p, &Limits::default())) {
            Ok(_) => return Ok(p.clone()),
            Err(e) => warn_skip(p, &e),
        }
    }
    Err(Error::Usage(format!(
        "no valid image among {}; every one is damaged (see the warnings above)",
        ordered
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn warn_skip(p: &Path, e: &Error) {
    eprintln!("ckpt: warning: skipping {}: {e}", p.display());
}

/// `x.ckpt` or a kept image `x.ckpt.<seq>`.
fn is_image_name(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if n.starts_with('.') {
        return false;
    }
    if n.ends_with(".ckpt") {
        return true;
    }
    match n.rsplit_once('.') {
        Some((stem, seq)) => {
            stem.ends_with(".ckpt") && !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// What a run that ends normally does with its image (`--ckpt-finished`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    /// Keep the image, marked finished (the default): it can still be inspected and
    /// restored explicitly, and `--ckpt-resume` starts fresh.
    Keep,
    /// Remove the image and its kept images.
    Remove,
}

impl Finished {
    pub(crate) fn parse(v: &str) -> std::result::Result<Self, String> {
        match v {
            "keep" => Ok(Finished::Keep),
            "remove" => Ok(Finished::Remove),
            _ => Err("expected `keep` or `remove`".into()),
        }
    }
}

/// The run ended normally: marks (or removes) the image at `path` if this run wrote it or
/// was restored from it.
pub(crate) fn finish(path: &Path, how: Finished) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let r = match how {
        Finished::Keep => image::mark_finished(path),
        Finished::Remove => {
            for (_, g) in generations(path) {
                let _ = std::fs::remove_file(g);
            }
            std::fs::remove_file(path).map_err(|e| Error::io("removing finished image", path, e))
        }
    };
    // The chunks only images gone or rotated out referred to (all of them, removed).
    image::chunks::collect(path);
    // An image on object storage follows: marked finished, or removed with its packs.
    let remote = match how {
        Finished::Keep => image::remote::push(path),
        Finished::Remove => image::remote::remove(path),
    };
    r.and(remote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_are_recognised() {
        for (n, yes) in [
            ("a.ckpt", true),
            ("a.ckpt.12", true),
            ("a.ckpt.lock", false),
            (".a.ckpt.tmp.12", false),
            ("a.ckpt.", false),
            ("notes.txt", false),
        ] {
            assert_eq!(is_image_name(Path::new(n)), yes, "{n}");
        }
    }

    #[test]
    fn generations_are_listed_newest_first_and_pruned() {
        let dir = std::env::temp_dir().join(format!("ckpt-gen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.ckpt");
        for s in [3u64, 10, 7] {
            std::fs::write(generation(&path, s), b"x").unwrap();
        }
        std::fs::write(dir.join("a.ckpt.lock"), b"1").unwrap();
        let seqs: Vec<u64> = generations(&path).iter().map(|g| g.0).collect();
        assert_eq!(seqs, [10, 7, 3]);
        prune(&path, 2);
        let seqs: Vec<u64> = generations(&path).iter().map(|g| g.0).collect();
        assert_eq!(seqs, [10]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("ckpt-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.ckpt");
        let _held = take_lock(&path).unwrap();
        // flock locks belong to the open file description: a second open conflicts even
        // in the same process.
        match take_lock(&path) {
            Err(Error::Locked { holder, .. }) => assert_eq!(holder, Some(std::process::id())),
            other => panic!("expected Locked, got {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
