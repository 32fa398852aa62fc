//! The text and JSON forms of a [`CheckReport`].

use std::fmt::Write as _;

use serde_json::json;

use super::{CheckReport, KillHow, Mismatch, ResumePoint};

impl CheckReport {
    /// The human report: what ran, every kill and where its restore resumed, and the
    /// verdict with the first difference.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "checked {} {:?} with seed {}",
            self.binary.display(),
            self.args,
            self.seed
        );
        let _ = writeln!(
            o,
            "uninterrupted: {} ms, {} bytes of standard output, {} file{}",
            self.reference_ms,
            self.reference_stdout,
            self.reference_files,
            if self.reference_files == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            o,
            "{} kill{} with SIGKILL in {} trial{}, each followed by a restore:",
            self.kills.len(),
            if self.kills.len() == 1 { "" } else { "s" },
            self.trials,
            if self.trials == 1 { "" } else { "s" }
        );
        for k in &self.kills {
            let _ = writeln!(
                o,
                "  trial {}: {} {} → resumed from {}",
                k.trial,
                if k.of_restore { "restore" } else { "run" },
                k.how,
                k.resumes_from
            );
        }
        match &self.difference {
            None => {
                let _ = writeln!(
                    o,
                    "equivalent: every restored run ended with the uninterrupted run's \
                     standard output and files"
                );
            }
            Some(d) => {
                let _ = write!(o, "DIFFERENCE in trial {}", d.trial);
                match &d.resumed_from {
                    Some(p) => {
                        let _ = writeln!(o, ", after resuming from {p}:");
                    }
                    None => {
                        let _ = writeln!(
                            o,
                            ", in output written before the first kill (the program does \
                             not run the same way twice):"
                        );
                    }
                }
                mismatch_text(&mut o, &d.mismatch);
                if d.restores.len() > 1 {
                    let _ = writeln!(o, "  restores in that trial, in order:");
                    for r in &d.restores {
                        let _ = writeln!(o, "    {r}");
                    }
                }
                let _ = writeln!(
                    o,
                    "repeat these kills with --seed {} (kills after a save repeat exactly)",
                    self.seed
                );
            }
        }
        o
    }

    /// One JSON document: `{"binary", "args", "seed", "equivalent", "uninterrupted":
    /// {"ms", "stdout_bytes", "files"}, "trials", "kills": [{"trial", "of_restore",
    /// "after_saves" | "after_ms", "resumed_from": point}], "difference": null |
    /// {"trial", "resumed_from": point | null, "restores": [point], "what": "stdout" |
    /// "file" | "file_missing" | "file_extra" | "failed", …}}`, a point being
    /// `{"function", "at", "site", "frames"}`.
    pub fn render_json(&self) -> String {
        let point = |p: &ResumePoint| json!({ "function": p.function, "at": p.at, "site": p.site, "frames": p.frames });
        let kills: Vec<_> = self
            .kills
            .iter()
            .map(|k| {
                let mut v = json!({
                    "trial": k.trial,
                    "of_restore": k.of_restore,
                    "resumed_from": point(&k.resumes_from),
                });
                match k.how {
                    KillHow::AfterSaves(n) => v["after_saves"] = json!(n),
                    KillHow::AfterMillis(ms) => v["after_ms"] = json!(ms),
                }
                v
            })
            .collect();
        let difference = self.difference.as_ref().map(|d| {
            let mut v = match &d.mismatch {
                Mismatch::Stdout {
                    offset,
                    line,
                    expected,
                    found,
                } => json!({ "what": "stdout", "offset": offset, "line": line,
                             "expected": expected, "found": found }),
                Mismatch::File {
                    path,
                    offset,
                    line,
                    expected,
                    found,
                } => json!({ "what": "file", "path": path, "offset": offset, "line": line,
                             "expected": expected, "found": found }),
                Mismatch::FileMissing { path } => json!({ "what": "file_missing", "path": path }),
                Mismatch::FileExtra { path } => json!({ "what": "file_extra", "path": path }),
                Mismatch::Failed { status, stderr } => {
                    json!({ "what": "failed", "status": status, "stderr": stderr })
                }
            };
            v["trial"] = json!(d.trial);
            v["resumed_from"] = d.resumed_from.as_ref().map_or(json!(null), point);
            v["restores"] = d.restores.iter().map(point).collect();
            v
        });
        let doc = json!({
            "binary": self.binary,
            "args": self.args,
            "seed": self.seed,
            "equivalent": self.equivalent(),
            "uninterrupted": {
                "ms": self.reference_ms,
                "stdout_bytes": self.reference_stdout,
                "files": self.reference_files,
            },
            "trials": self.trials,
            "kills": kills,
            "difference": difference,
        });
        // Serializing a serde_json::Value cannot fail.
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn mismatch_text(o: &mut String, m: &Mismatch) {
    let side = |s: &Option<String>| {
        s.as_ref()
            .map_or("(ended)".to_string(), |l| format!("{l:?}"))
    };
    match m {
        Mismatch::Stdout {
            offset,
            line,
            expected,
            found,
        } => {
            let _ = writeln!(o, "  standard output, line {line} (byte {offset}):");
            let _ = writeln!(o, "    uninterrupted: {}", side(expected));
            let _ = writeln!(o, "    restored:      {}", side(found));
        }
        Mismatch::File {
            path,
            offset,
            line,
            expected,
            found,
        } => {
            let _ = writeln!(o, "  file {}, line {line} (byte {offset}):", path.display());
            let _ = writeln!(o, "    uninterrupted: {}", side(expected));
            let _ = writeln!(o, "    restored:      {}", side(found));
        }
        Mismatch::FileMissing { path } => {
            let _ = writeln!(
                o,
                "  file {} was left by the uninterrupted run, not by the restored one",
                path.display()
            );
        }
        Mismatch::FileExtra { path } => {
            let _ = writeln!(
                o,
                "  file {} was left by the restored run, not by the uninterrupted one",
                path.display()
            );
        }
        Mismatch::Failed { status, stderr } => {
            let _ = writeln!(
                o,
                "  the run failed: {status}; its standard error ends with:"
            );
            for l in stderr.lines() {
                let _ = writeln!(o, "    {l}");
            }
        }
    }
}
