//! Text rendering of the built-in components' state (`time`, `cwd`, `fs`, `io`): what a
//! user asks of an image — which files were open where, how far the clock had run, which
//! directory the program was in. `None` when the entry does not have the expected shape
//! (then the generic rendering shows it).

use std::fmt::Write as _;

use ckpt::state::Value;

use super::text::utc;

fn uint(v: &Value, k: &str) -> Option<u64> {
    v.get(k).and_then(Value::as_u64)
}

/// `virtual clock at 86403.544795137 s, saved 2026-11-25 15:09:11 UTC`.
pub(crate) fn time(v: &Value) -> Option<String> {
    let now = uint(v, "now_ns")?;
    let wall = uint(v, "wall_unix_ns")?;
    Some(format!(
        "virtual monotonic clock at {}.{:09} s, saved at {}",
        now / 1_000_000_000,
        now % 1_000_000_000,
        utc(wall / 1_000_000_000)
    ))
}

/// One line per file, then one per handle open at the save.
pub(crate) fn fs(v: &Value, indent: &str) -> Option<String> {
    let Some(Value::Array(files)) = v.get("files") else {
        return None;
    };
    let mut out = format!(
        "{} file{} known",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    for f in files {
        let path = f.get("path").and_then(Value::as_str)?;
        let written = matches!(f.get("written"), Some(Value::Bool(true)));
        let _ = write!(
            out,
            "\n{indent}{path}  {}, {} bytes (dev {}, ino {}){}",
            if written { "written" } else { "read" },
            uint(f, "len")?,
            uint(f, "dev")?,
            uint(f, "ino")?,
            if written {
                "; a restore cuts it back to this length"
            } else {
                ""
            }
        );
        if let Some(Value::Array(open)) = f.get("open") {
            for h in open {
                let mode = h.get("mode").and_then(Value::as_str)?;
                let _ = write!(
                    out,
                    "\n{indent}  open {mode} at offset {}",
                    uint(h, "offset")?
                );
            }
        }
    }
    Some(out)
}

/// `/home/me/work (a restore changes to it; …)`: the working directory at the save.
pub(crate) fn cwd(v: &Value) -> Option<String> {
    match v.get("path")? {
        Value::Null => {
            Some("none (removed under the program); a restore stays where it starts".into())
        }
        Value::Text(p) => Some(format!(
            "{p} (a restore changes to it; --ckpt-cwd=current keeps the restoring process's)"
        )),
        Value::Bytes(b) => Some(format!(
            "{} (not UTF-8; a restore changes to it; --ckpt-cwd=current keeps the restoring \
             process's)",
            String::from_utf8_lossy(b)
        )),
        _ => None,
    }
}

/// `stdout: file (dev 1, ino 2), 1532 bytes; stderr: pipe or terminal; stdin: 0 bytes
/// buffered`.
pub(crate) fn io(v: &Value) -> Option<String> {
    let mut out = String::new();
    for name in ["stdout", "stderr"] {
        match v.get(name)? {
            Value::Null => {
                let _ = write!(out, "{name}: pipe or terminal (not cut back); ");
            }
            s => {
                let _ = write!(
                    out,
                    "{name}: file (dev {}, ino {}) at {} bytes; ",
                    uint(s, "dev")?,
                    uint(s, "ino")?,
                    uint(s, "len")?
                );
            }
        }
    }
    match v.get("stdin")? {
        Value::Bytes(b) => {
            let _ = write!(out, "stdin: {} bytes buffered", b.len());
        }
        _ => out.push_str("stdin: buffered in a saved lock"),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
    }

    #[test]
    fn files_show_path_mode_offset() {
        let v = map(vec![(
            "files",
            Value::Array(
                vec![map(vec![
                    ("path", text("/data/in.txt")),
                    ("dev", Value::Uint(1)),
                    ("ino", Value::Uint(2)),
                    ("written", Value::Bool(false)),
                    ("len", Value::Uint(100)),
                    ("mtime_ns", Value::Uint(5)),
                    (
                        "open",
                        Value::Array(
                            vec![map(vec![("offset", Value::Uint(40)), ("mode", text("r"))])]
                                .into(),
                        ),
                    ),
                ])]
                .into(),
            ),
        )]);
        let s = fs(&v, "    ").unwrap();
        assert!(s.contains("/data/in.txt  read, 100 bytes"), "{s}");
        assert!(s.contains("open r at offset 40"), "{s}");
    }

    #[test]
    fn clock_and_stdio() {
        let t = map(vec![
            ("now_ns", Value::Uint(86_403_500_000_000)),
            ("wall_unix_ns", Value::Uint(1_700_000_000_000_000_000)),
        ]);
        assert_eq!(
            time(&t).unwrap(),
            "virtual monotonic clock at 86403.500000000 s, saved at 2023-11-14 22:13:20 UTC"
        );
        let io_v = map(vec![
            ("stdout", Value::Null),
            (
                "stderr",
                map(vec![
                    ("dev", Value::Uint(1)),
                    ("ino", Value::Uint(9)),
                    ("len", Value::Uint(12)),
                ]),
            ),
            ("stdin", Value::Bytes(vec![1, 2])),
        ]);
        let s = io(&io_v).unwrap();
        assert!(s.contains("stdout: pipe or terminal"), "{s}");
        assert!(s.contains("stderr: file (dev 1, ino 9) at 12 bytes"), "{s}");
        assert!(s.contains("stdin: 2 bytes buffered"), "{s}");
    }
}
