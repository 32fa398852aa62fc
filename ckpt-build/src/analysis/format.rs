//! Rendering of the analysis file (format described in the parent module's docs).

use std::fmt::Write as _;

use super::Analysis;

/// The format version written on the first line.
pub const FORMAT_VERSION: u32 = 1;

/// The first line of the file, without its newline.
pub const FORMAT_HEADER: &str = "ckpt-analysis 1";

/// Name of the file written into `OUT_DIR`.
pub const ANALYSIS_FILE_NAME: &str = "ckpt-analysis.txt";

/// 16 lower-case hex digits.
pub(crate) fn hex16(v: u64) -> String {
    format!("{v:016x}")
}

/// Tabs and newlines would break the line format; rustc -V and triples hold none, but a
/// wrapper set as `RUSTC` might print anything.
fn field(s: &str) -> String {
    s.trim().replace(['\t', '\n', '\r'], " ")
}

pub(crate) fn render(analysis: &Analysis, rustc: &str, target: &str) -> String {
    let mut out = String::new();
    out.push_str(FORMAT_HEADER);
    out.push('\n');
    for krate in &analysis.crates {
        // `write!` into a String cannot fail.
        let _ = writeln!(out, "crate {}", krate.crate_name);
        let _ = writeln!(
            out,
            "fingerprint {}\t{}\t{}\t{}\t{}",
            krate.crate_name,
            field(&analysis.version),
            hex16(krate.sources_hash),
            field(rustc),
            field(target)
        );
        for f in &krate.functions {
            let _ = writeln!(out, "fn {f}");
        }
        for f in &krate.reader_fns {
            let _ = writeln!(out, "reader_fn {f}");
        }
        for (ty, m) in &krate.methods {
            let _ = writeln!(out, "method {ty} {m}");
        }
        for f in &krate.generic {
            let _ = writeln!(out, "generic {f}");
        }
        for f in &krate.iter_fns {
            let _ = writeln!(out, "iter_fn {f}");
        }
        for (key, uses) in &krate.imports {
            for (alias, path) in uses {
                let _ = writeln!(out, "use {key} {alias} {path}");
            }
        }
        for t in &krate.traits {
            let _ = writeln!(out, "trait {t}");
        }
        let mut globals: Vec<_> = krate
            .globals
            .iter()
            .filter(|g| g.reachable && g.changes)
            .collect();
        globals.sort_by(|a, b| (a.lib, &a.path).cmp(&(b.lib, &b.path)));
        for g in globals {
            let _ = writeln!(
                out,
                "global {} {} {} {}:{}",
                g.kind.word(),
                if g.lib { "lib" } else { "here" },
                g.path.join("::"),
                g.file,
                g.line
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_version() {
        assert_eq!(FORMAT_HEADER, format!("ckpt-analysis {FORMAT_VERSION}"));
    }

    #[test]
    fn hex_is_sixteen_digits() {
        assert_eq!(hex16(0xab), "00000000000000ab");
        assert_eq!(hex16(u64::MAX), "ffffffffffffffff");
    }

    #[test]
    fn fields_stay_on_one_line() {
        assert_eq!(field(" rustc 1.95.0 (x)\n"), "rustc 1.95.0 (x)");
        assert_eq!(field("a\tb"), "a b");
    }
}
