//! The rules of the checkpointability report: which constructs ckpt cannot virtualize,
//! and why. Data-driven: [`RULES`] is the table, the rest only matches it.

/// How a rule recognises a construct.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pattern {
    /// A path that starts with these segments (`"std::process::Command"`).
    Prefix(&'static str),
    /// Like `Prefix`, but the leading `std::` may be missing (`thread::spawn` after
    /// `use std::thread;`).
    StdPrefix(&'static str),
    /// A path with this segment anywhere, or a method call of that name.
    Segment(&'static str),
}

/// One row of the table: what it matches, and the reason (`{}` is the construct as
/// written). `None` exempts the construct (pure types such as `std::os::raw::c_int`).
pub(crate) struct Rule {
    pub(crate) pattern: Pattern,
    pub(crate) reason: Option<&'static str>,
}

const FD: &str = "`{}` passes a raw file descriptor around ckpt; ckpt cannot reopen it on \
                  restore; keep raw descriptors outside checkpointable code, or reopen the \
                  resource after a restore";
const MMAP: &str = "`{}` maps memory ckpt does not save; the mapping is gone after a restore; \
                    map it outside checkpointable code and map it again after a restore";
const LIBC: &str = "`{}` calls the C library directly; ckpt cannot intercept it, so its effects \
                    are neither saved nor replayed on restore; move the call out of \
                    checkpointable code or recompute its result after a restore";
const COMMAND: &str = "`{}` starts a process ckpt cannot save or restore; keep it outside \
                       checkpointable code or accept that a restore will not see the child";
const EXIT: &str = "`{}` ends the process from checkpointable code, bypassing ckpt; a restore \
                    resumes from the last save point; return instead, or exit outside \
                    checkpointable code";
const PROCESS: &str = "`{}` touches the OS process ckpt cannot save or restore; keep it \
                       outside checkpointable code";
const THREAD: &str = "`{}` starts an OS thread ckpt does not track; its stack is not in an \
                      image and a restore will not see it; spawn it outside checkpointable \
                      code, or join it before the next save point";
const OS: &str = "`{}` is a platform-specific OS interface ckpt does not virtualize; its \
                  state is not saved; keep it outside checkpointable code";

/// The table, in priority order: the first matching row decides.
pub(crate) const RULES: &[Rule] = &[
    // Pure FFI types: nothing happens at run time.
    Rule {
        pattern: Pattern::Prefix("std::os::raw"),
        reason: None,
    },
    Rule {
        pattern: Pattern::Prefix("core::os::raw"),
        reason: None,
    },
    Rule {
        pattern: Pattern::Segment("FromRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("from_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("AsRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("as_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("IntoRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("into_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Prefix("memmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Prefix("memmap2"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("mmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("munmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("Mmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("MmapMut"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("MmapOptions"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Prefix("libc"),
        reason: Some(LIBC),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Command"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Child"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Stdio"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::exit"),
        reason: Some(EXIT),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::abort"),
        reason: Some(EXIT),
    },
    Rule {
        pattern: Pattern::Prefix("std::process"),
        reason: Some(PROCESS),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::spawn"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::Builder"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::scope"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::Prefix("std::os"),
        reason: Some(OS),
    },
    Rule {
        pattern: Pattern::Prefix("core::os"),
        reason: Some(OS),
    },
];

/// The reason for foreign functions declared in an `extern` block of the package.
pub(crate) const FOREIGN: &str = "`{}` is declared in an `extern` block: a foreign call ckpt \
                                  cannot see into, so its effects are neither saved nor \
                                  replayed on restore; keep it outside checkpointable code";

/// The reason for the path `segments` (without a leading `::`), if a rule reports it.
pub(crate) fn classify_path(segments: &[String]) -> Option<&'static str> {
    RULES
        .iter()
        .find(|r| matches_path(r.pattern, segments))
        .and_then(|r| r.reason)
}

/// The reason for a method call `.name(...)`, if a rule reports it.
pub(crate) fn classify_method(name: &str) -> Option<&'static str> {
    RULES
        .iter()
        .find(|r| matches!(r.pattern, Pattern::Segment(s) if s == name))
        .and_then(|r| r.reason)
}

/// Fills the construct into a reason.
pub(crate) fn explain(reason: &str, construct: &str) -> String {
    reason.replacen("{}", construct, 1)
}

fn matches_path(pattern: Pattern, segments: &[String]) -> bool {
    let starts = |p: &str| {
        let want: Vec<&str> = p.split("::").collect();
        segments.len() >= want.len() && segments.iter().zip(&want).all(|(a, b)| a == b)
    };
    match pattern {
        Pattern::Prefix(p) => starts(p),
        Pattern::StdPrefix(p) => starts(p) || p.strip_prefix("std::").is_some_and(starts),
        Pattern::Segment(s) => segments.iter().any(|seg| seg == s),
    }
}

pub(crate) use crate::analysis::collect::is_marked;

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Option<&'static str> {
        let segs: Vec<String> = p.split("::").map(str::to_owned).collect();
        classify_path(&segs)
    }

    #[test]
    fn first_matching_row_decides() {
        assert_eq!(path("std::process::Command::new"), Some(COMMAND));
        assert_eq!(path("process::exit"), Some(EXIT));
        assert_eq!(path("std::process::id"), Some(PROCESS));
        assert_eq!(path("thread::spawn"), Some(THREAD));
        assert_eq!(path("std::os::fd::FromRawFd"), Some(FD));
        assert_eq!(path("libc::mmap"), Some(MMAP));
        assert_eq!(path("libc::getpid"), Some(LIBC));
        assert_eq!(path("std::os::unix::fs::MetadataExt"), Some(OS));
        assert_eq!(path("std::os::raw::c_int"), None);
        assert_eq!(path("std::fs::File"), None);
        assert_eq!(path("process::id"), None);
        assert_eq!(classify_method("as_raw_fd"), Some(FD));
        assert_eq!(classify_method("spawn"), None);
        assert_eq!(explain(EXIT, "x").matches("`x`").count(), 1);
    }
}
