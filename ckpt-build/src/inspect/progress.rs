//! The progress bar `cargo ckpt` draws on standard error while it reads a large image,
//! when standard error is a terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Images smaller than this are read without a bar (they take well under a second).
pub const PROGRESS_MIN_BYTES: u64 = 64 << 20;
/// The bar is redrawn at most this often.
const REDRAW: Duration = Duration::from_millis(100);
/// Width of the bar in cells.
const WIDTH: usize = 30;

/// A bar for reading one file: `reading app.ckpt [#####·····]  45%  117/260 MiB`.
pub(crate) struct Bar {
    name: String,
    last: Option<Instant>,
    drawn: bool,
}

impl Bar {
    /// A bar for `path` if it is worth one: `wanted`, the file at least
    /// [`PROGRESS_MIN_BYTES`], and standard error a terminal.
    pub(crate) fn for_file(path: &Path, wanted: bool) -> Option<Bar> {
        if !wanted || !std::io::stderr().is_terminal() {
            return None;
        }
        let len = std::fs::metadata(path).ok()?.len();
        (len >= PROGRESS_MIN_BYTES).then(|| Bar {
            name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
            last: None,
            drawn: false,
        })
    }

    /// Called with (bytes done, bytes in all); redraws when due.
    pub(crate) fn update(&mut self, done: u64, total: u64) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < REDRAW) && done < total {
            return;
        }
        self.last = Some(now);
        self.drawn = true;
        let mut err = std::io::stderr().lock();
        // A progress bar that cannot be drawn is not worth failing the command for.
        let _ = write!(err, "\r{}", line(&self.name, done, total));
        let _ = err.flush();
    }
}

impl Drop for Bar {
    /// Clears the bar's line, so what follows starts on a clean one.
    fn drop(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// One state of the bar, without the carriage return.
pub(crate) fn line(name: &str, done: u64, total: u64) -> String {
    // An empty body is read as soon as it is opened.
    let (done, total) = if total == 0 {
        (1, 1)
    } else {
        (done.min(total), total)
    };
    let filled = (done as u128 * WIDTH as u128 / total as u128) as usize;
    let percent = done as u128 * 100 / total as u128;
    let mib = |b: u64| b >> 20;
    format!(
        "reading {name} [{}{}] {percent:>3}%  {}/{} MiB",
        "#".repeat(filled),
        "·".repeat(WIDTH - filled),
        mib(done),
        mib(total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_bytes_read() {
        assert_eq!(
            line("a.ckpt", 0, 100 << 20),
            format!("reading a.ckpt [{}]   0%  0/100 MiB", "·".repeat(30))
        );
        assert_eq!(
            line("a.ckpt", 50 << 20, 100 << 20),
            format!(
                "reading a.ckpt [{}{}]  50%  50/100 MiB",
                "#".repeat(15),
                "·".repeat(15)
            )
        );
        assert_eq!(
            line("a.ckpt", 200, 100),
            format!("reading a.ckpt [{}] 100%  0/0 MiB", "#".repeat(30))
        );
        // An empty body does not divide by zero.
        assert!(line("a.ckpt", 0, 0).contains("100%"));
    }

    #[test]
    fn no_bar_for_small_files_or_when_not_wanted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("small.ckpt");
        std::fs::write(&p, b"CKPT").expect("write");
        assert!(Bar::for_file(&p, true).is_none());
        assert!(Bar::for_file(&p, false).is_none());
    }
}
