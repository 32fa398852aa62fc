//! The exit codes of `cargo ckpt`, one per kind of outcome, so scripts can tell a
//! damaged image from a missing one or a program that does not restore equivalently.
//! The README and `cargo ckpt --help` list the same table ([`Exit::TABLE`]).

use crate::inspect::{ProbeError, VerifyBinaryError};

/// What a `cargo ckpt` command ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// 0: done; the image is valid; the program restores equivalently.
    Ok,
    /// 1: the answer is no: `check` found a difference, or the binary of
    /// `verify --binary` cannot restore the image.
    No,
    /// 2: the command line is wrong.
    Usage,
    /// 3: a file could not be read or written (missing, permissions).
    Io,
    /// 4: the image is damaged: not an image, truncated, corrupt, or over a decoder limit.
    Damaged,
    /// 5: the image was written by a newer ckpt (a format version this tool does not read).
    NewerFormat,
    /// 6: the package could not be read or built, or the binary is not a ckpt program.
    Build,
    /// 7: the program under `check` failed by itself: its uninterrupted run failed or
    /// timed out, or it never wrote an image to restore.
    ProgramFailed,
}

impl Exit {
    /// Every outcome with its code and meaning, as the README and `--help` list them.
    pub const TABLE: &'static [(Exit, &'static str)] = &[
        (
            Exit::Ok,
            "done; the image is valid; `check`: the program restores equivalently",
        ),
        (
            Exit::No,
            "`check` found a difference; `verify --binary`: that binary cannot restore the image",
        ),
        (Exit::Usage, "the command line is wrong"),
        (
            Exit::Io,
            "a file could not be read or written (missing, permissions)",
        ),
        (
            Exit::Damaged,
            "the image is damaged: not an image, truncated, corrupt, or over a decoder limit",
        ),
        (Exit::NewerFormat, "the image was written by a newer ckpt"),
        (
            Exit::Build,
            "the package could not be read or built, or the binary is not a ckpt program",
        ),
        (
            Exit::ProgramFailed,
            "`check`: the program failed uninterrupted, timed out, or never wrote an image",
        ),
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::No => 1,
            Exit::Usage => 2,
            Exit::Io => 3,
            Exit::Damaged => 4,
            Exit::NewerFormat => 5,
            Exit::Build => 6,
            Exit::ProgramFailed => 7,
        }
    }

    /// The table as `--help` prints it: one `  N  meaning` line per code.
    pub fn help_table() -> String {
        Exit::TABLE
            .iter()
            .map(|(e, what)| format!("  {}  {what}\n", e.code()))
            .collect()
    }
}

impl From<&ckpt::Error> for Exit {
    fn from(e: &ckpt::Error) -> Exit {
        use ckpt::Error as E;
        match e {
            E::Io { .. } => Exit::Io,
            E::NotAnImage { .. }
            | E::Truncated { .. }
            | E::Corrupt { .. }
            | E::Limit { .. }
            | E::Type { .. } => Exit::Damaged,
            E::UnsupportedVersion { .. } => Exit::NewerFormat,
            E::BuildMismatch { .. } | E::ForeignCode { .. } | E::FrameMismatch { .. } => Exit::No,
            E::Usage(_) => Exit::Usage,
            _ => Exit::Damaged,
        }
    }
}

impl From<&ProbeError> for Exit {
    fn from(e: &ProbeError) -> Exit {
        match e {
            ProbeError::Read { .. } => Exit::Io,
            _ => Exit::Build,
        }
    }
}

impl From<&VerifyBinaryError> for Exit {
    fn from(e: &VerifyBinaryError) -> Exit {
        match e {
            VerifyBinaryError::Image(e) => e.into(),
            VerifyBinaryError::Probe(e) => e.into(),
            VerifyBinaryError::Mismatch { .. } => Exit::No,
        }
    }
}

impl From<&crate::GfxError> for Exit {
    fn from(e: &crate::GfxError) -> Exit {
        use crate::GfxError as G;
        match e {
            G::Image(e) => e.into(),
            G::Corrupt { .. } => Exit::Damaged,
            G::Write { .. } => Exit::Io,
            // No graphics state, no such surface, nothing shown: the command line asks
            // the image for something it does not hold.
            _ => Exit::Usage,
        }
    }
}

impl From<&crate::ReportError> for Exit {
    fn from(_: &crate::ReportError) -> Exit {
        Exit::Build
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed_in_order() {
        let codes: Vec<u8> = Exit::TABLE.iter().map(|(e, _)| e.code()).collect();
        assert_eq!(codes, (0..Exit::TABLE.len() as u8).collect::<Vec<_>>());
    }

    #[test]
    fn image_errors_map_to_their_kind() {
        let io = ckpt::Error::io(
            "opening image",
            "x.ckpt",
            std::io::ErrorKind::NotFound.into(),
        );
        assert_eq!(Exit::from(&io), Exit::Io);
        let bad = ckpt::Error::NotAnImage {
            path: "x".into(),
            detail: "empty file".into(),
        };
        assert_eq!(Exit::from(&bad), Exit::Damaged);
        let newer = ckpt::Error::UnsupportedVersion {
            path: "x".into(),
            found: 9,
            supported: 1,
        };
        assert_eq!(Exit::from(&newer).code(), 5);
    }
}
