//! The build probe: how a tool learns, without a restore, which images a binary can
//! restore.
//!
//! A program built with ckpt started with `CKPT_PROBE=build` in its environment prints
//! what identifies its build and exits with status 0 before any of its own code runs:
//!
//! ```text
//! ckpt-probe 1
//! fingerprint <crate name>\t<crate version>\t<sources>\t<rustc>\t<target>
//! exe <identity of the executable, or ->
//! ```
//!
//! The fingerprint is the one its images carry (a restore requires it to match); the
//! identity is the one code pointers are checked against (see
//! [`code::identity`](crate::state::code::identity)). `cargo ckpt verify --binary` runs
//! the probe and compares both with an image's header.

use super::Fingerprint;

/// The environment variable that asks a ckpt program for its build.
pub const PROBE_ENV: &str = "CKPT_PROBE";
/// Its value that asks for the build fingerprint and executable identity.
pub const PROBE_BUILD: &str = "build";
/// The first line of the answer (the protocol's version).
const FIRST_LINE: &str = "ckpt-probe 1";

/// What a binary says about its build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProbe {
    /// The fingerprint its images carry.
    pub fingerprint: Fingerprint,
    /// Its executable identity (`build-id:…`, `xxh3:…`); `None` if it could not tell.
    pub exe: Option<String>,
}

impl BuildProbe {
    /// The answer a binary prints.
    pub fn render(&self) -> String {
        let f = &self.fingerprint;
        // Tabs and newlines would break the line format; no part holds them in practice.
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        format!(
            "{FIRST_LINE}\nfingerprint {}\t{}\t{}\t{}\t{}\nexe {}\n",
            clean(&f.crate_name),
            clean(&f.crate_version),
            clean(&f.sources),
            clean(&f.rustc),
            clean(&f.target),
            self.exe.as_deref().map_or("-".to_string(), clean),
        )
    }

    /// Reads an answer; `None` if `out` is not one (an old ckpt, not a ckpt program).
    pub fn parse(out: &str) -> Option<BuildProbe> {
        let mut lines = out.lines().skip_while(|l| *l != FIRST_LINE);
        lines.next()?;
        let fp = lines.next()?.strip_prefix("fingerprint ")?;
        let parts: Vec<&str> = fp.split('\t').collect();
        let [crate_name, crate_version, sources, rustc, target] = parts[..] else {
            return None;
        };
        let exe = match lines.next()?.strip_prefix("exe ")? {
            "-" => None,
            id => Some(id.to_string()),
        };
        Some(BuildProbe {
            fingerprint: Fingerprint {
                crate_name: crate_name.into(),
                crate_version: crate_version.into(),
                sources: sources.into(),
                rustc: rustc.into(),
                target: target.into(),
            },
            exe,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_back() {
        let p = BuildProbe {
            fingerprint: Fingerprint {
                crate_name: "app".into(),
                crate_version: "0.1.0".into(),
                sources: "ab12".into(),
                rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
                target: "x86_64-unknown-linux-gnu".into(),
            },
            exe: Some("build-id:0a0b".into()),
        };
        assert_eq!(BuildProbe::parse(&p.render()), Some(p.clone()));
        let none = BuildProbe { exe: None, ..p };
        assert_eq!(BuildProbe::parse(&none.render()), Some(none.clone()));
        // Whatever the program printed before is skipped.
        assert_eq!(
            BuildProbe::parse(&format!("noise\n{}", none.render())),
            Some(none)
        );
        assert_eq!(BuildProbe::parse("hello\n"), None);
        assert_eq!(
            BuildProbe::parse("ckpt-probe 1\nfingerprint a\tb\nexe -\n"),
            None
        );
    }
}
