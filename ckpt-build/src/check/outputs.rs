//! What a run left behind (its standard output and the files in its working directory),
//! and the first difference between two of those.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{CheckError, Mismatch};

/// Files and directories deeper or more numerous than this are not looked at (a check
/// compares a program's results, not a file system).
const MAX_ENTRIES: usize = 100_000;
const MAX_DEPTH: usize = 64;

/// Standard output and the files of the working directory after a run.
#[derive(Debug, Default)]
pub(super) struct Outputs {
    pub stdout: Vec<u8>,
    /// Path relative to the working directory → contents.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Outputs {
    /// Reads `stdout` and every regular file under `work`.
    pub(super) fn read(stdout: &Path, work: &Path) -> Result<Outputs, CheckError> {
        let io = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckError::Io { op, path, source }
        };
        let mut files = BTreeMap::new();
        let mut todo = vec![(work.to_path_buf(), 0usize)];
        let mut seen = 0usize;
        while let Some((dir, depth)) = todo.pop() {
            for e in std::fs::read_dir(&dir).map_err(io("reading directory", &dir))? {
                let e = e.map_err(io("reading directory", &dir))?;
                seen += 1;
                if seen > MAX_ENTRIES {
                    return Err(CheckError::Io {
                        op: "comparing",
                        path: work.to_path_buf(),
                        source: std::io::Error::other(format!(
                            "more than {MAX_ENTRIES} files and directories"
                        )),
                    });
                }
                let p = e.path();
                let ty = e.file_type().map_err(io("reading", &p))?;
                if ty.is_dir() && depth < MAX_DEPTH {
                    todo.push((p, depth + 1));
                } else if ty.is_file() {
                    let rel = p.strip_prefix(work).unwrap_or(&p).to_path_buf();
                    files.insert(rel, std::fs::read(&p).map_err(io("reading", &p))?);
                }
            }
        }
        Ok(Outputs {
            stdout: std::fs::read(stdout).map_err(io("reading", stdout))?,
            files,
        })
    }

    /// The first difference of `self` (a checked run) from `expected`, if any: standard
    /// output first, then the files in name order.
    pub(super) fn first_difference(&self, expected: &Outputs) -> Option<Mismatch> {
        if self.stdout != expected.stdout {
            let (line, want, got) = first_line_difference(&expected.stdout, &self.stdout);
            return Some(Mismatch::Stdout {
                offset: first_byte_difference(&expected.stdout, &self.stdout),
                line,
                expected: want,
                found: got,
            });
        }
        for (path, want) in &expected.files {
            match self.files.get(path) {
                None => return Some(Mismatch::FileMissing { path: path.clone() }),
                Some(got) if got != want => {
                    let (line, w, g) = first_line_difference(want, got);
                    return Some(Mismatch::File {
                        path: path.clone(),
                        offset: first_byte_difference(want, got),
                        line,
                        expected: w,
                        found: g,
                    });
                }
                Some(_) => {}
            }
        }
        self.files
            .keys()
            .find(|p| !expected.files.contains_key(*p))
            .map(|p| Mismatch::FileExtra { path: p.clone() })
    }
}

/// The offset of the first byte where `a` and `b` differ (the shorter length if one is a
/// prefix of the other).
pub(super) fn first_byte_difference(a: &[u8], b: &[u8]) -> u64 {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len())) as u64
}

/// The first line (1-based) where `a` and `b` differ, with each side's line (`None` past
/// the end), lossily decoded and cut to a readable length.
pub(super) fn first_line_difference(a: &[u8], b: &[u8]) -> (usize, Option<String>, Option<String>) {
    let show = |l: &[u8]| {
        let s = String::from_utf8_lossy(l);
        let mut t: String = s.chars().take(200).collect();
        if s.chars().count() > 200 {
            t.push('…');
        }
        t
    };
    let mut la = a.split_inclusive(|c| *c == b'\n');
    let mut lb = b.split_inclusive(|c| *c == b'\n');
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => return (n, None, None),
            (x, y) => {
                let trim = |l: &[u8]| show(l.strip_suffix(b"\n").unwrap_or(l));
                return (n, x.map(trim), y.map(trim));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_differences() {
        assert_eq!(first_byte_difference(b"abc", b"abd"), 2);
        assert_eq!(first_byte_difference(b"ab", b"abc"), 2);
        assert_eq!(
            first_line_difference(b"a\nb\nc\n", b"a\nB\nc\n"),
            (2, Some("b".into()), Some("B".into()))
        );
        assert_eq!(
            first_line_difference(b"a\n", b"a\nmore\n"),
            (2, None, Some("more".into()))
        );
        // A missing final newline is a difference of that line.
        assert_eq!(
            first_line_difference(b"a\nb\n", b"a\nb"),
            (2, Some("b".into()), Some("b".into()))
        );
    }

    #[test]
    fn outputs_compare_stdout_then_files() {
        let mut want = Outputs {
            stdout: b"x\n".to_vec(),
            files: BTreeMap::new(),
        };
        want.files.insert("out.txt".into(), b"1\n2\n".to_vec());
        let mut got = Outputs {
            stdout: b"x\n".to_vec(),
            files: want.files.clone(),
        };
        assert!(got.first_difference(&want).is_none());
        got.files.insert("out.txt".into(), b"1\n3\n".to_vec());
        assert!(matches!(
            got.first_difference(&want),
            Some(Mismatch::File {
                offset: 2,
                line: 2,
                ..
            })
        ));
        got.files.remove(Path::new("out.txt"));
        got.files.insert("other".into(), Vec::new());
        assert!(matches!(
            got.first_difference(&want),
            Some(Mismatch::FileMissing { .. })
        ));
        got.files.insert("out.txt".into(), b"1\n2\n".to_vec());
        assert!(matches!(
            got.first_difference(&want),
            Some(Mismatch::FileExtra { .. })
        ));
        got.stdout = b"y\n".to_vec();
        assert!(matches!(
            got.first_difference(&want),
            Some(Mismatch::Stdout { line: 1, .. })
        ));
    }
}
