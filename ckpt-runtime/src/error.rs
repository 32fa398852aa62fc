//! The one error type of ckpt. Every variant carries what a user needs to act.

use std::path::PathBuf;

/// Everything that can go wrong while saving or restoring.
///
/// `Debug` prints the same message as `Display`, so `ckpt::save().expect("...")` reads well.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on an image or lock file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What ckpt was doing (`"writing image"`, `"opening"`, ...).
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The image cannot be written where it should go: no space left, a read-only file
    /// system, no permission, a missing directory. Reported when the run starts (see
    /// [`image::check_writable`](crate::image::check_writable)) or by the save that
    /// failed, which leaves the previous image as it was.
    #[error("cannot save to {path}: {source}; {hint}")]
    Unwritable {
        /// The image path.
        path: PathBuf,
        /// The underlying error (`ENOSPC`, `EROFS`, `EACCES`, ...).
        #[source]
        source: std::io::Error,
        /// What it means for the image and what to do.
        hint: String,
    },
    /// The file is not a ckpt image at all (wrong magic, empty file).
    #[error("{path}: not a ckpt image ({detail}); pass a file written by ckpt::save()")]
    NotAnImage {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },
    /// The image is shorter than its trailer says: the write was cut off.
    #[error("{path}: truncated image ({detail}); restore from an earlier image")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Expected versus found length.
        detail: String,
    },
    /// The body does not match its checksum, or its structure is invalid.
    #[error(
        "{path}: corrupt image in section `{section}`: {detail}; restore from an earlier image"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The section (`"trailer"`, `"header"`, `"frames"`, ...).
        section: String,
        /// What was expected and what was found.
        detail: String,
    },
    /// The image was written by a newer (or unknown) version of the format.
    #[error("{path}: image format version {found}, this build reads version {supported}; restore with the ckpt version that wrote it")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build understands.
        supported: u32,
    },
    /// The image was written by a different build of the program.
    #[error("{path}: image was written by a different build of `{program}` ({}); rebuild the program that wrote it or start fresh", differences.join("; "))]
    BuildMismatch {
        /// The file.
        path: PathBuf,
        /// The program name.
        program: String,
        /// One entry per differing fingerprint part: `"rustc: 1.80 (image) vs 1.81 (this build)"`.
        differences: Vec<String>,
    },
    /// A limit on size or nesting depth was exceeded while decoding.
    #[error("{path}: image exceeds a decoder limit in section `{section}`: {detail}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// The section.
        section: String,
        /// Which limit.
        detail: String,
    },
    /// A value did not have the shape its type expects (a bug, or an image edited by hand).
    #[error("type mismatch at `{at}`: expected {expected}, found {found}")]
    Type {
        /// Where in the value (`"frames[1].live.acc.field"`).
        at: String,
        /// What the type expected.
        expected: String,
        /// What the image held.
        found: String,
    },
    /// A value could not be saved (a `RefCell` mutably borrowed at the save point, ...).
    #[error("cannot save `{at}`: {detail}")]
    Unsaveable {
        /// The value.
        at: String,
        /// Why, and what to do.
        detail: String,
    },
    /// `ckpt::save()` was called where no checkpointable frame is active.
    #[error("ckpt::save() called at {location} outside a #[checkpointable] function; annotate the function (and its callers up to main) with #[checkpointable]")]
    NoFrame {
        /// `file:line` of the call.
        location: String,
    },
    /// A checkpointable function was reached through a call ckpt did not see.
    #[error("cannot save: `{function}` was called from `{caller}` through a call ckpt cannot resume ({detail})")]
    UnregisteredCall {
        /// The callee.
        function: String,
        /// The caller, or `"(not checkpointable)"`.
        caller: String,
        /// Why the call was not seen.
        detail: String,
    },
    /// The image's frames do not fit this program (function renamed or changed).
    #[error("{path}: cannot resume into `{function}`: {detail}")]
    FrameMismatch {
        /// The file.
        path: PathBuf,
        /// The function.
        function: String,
        /// What differs.
        detail: String,
    },
    /// Another process holds the image lock: another run of the program is saving there.
    #[error(
        "{path} is in use by another run{} (lock file {lock}); wait for it to end, stop it, or pass --ckpt-file FILE to save elsewhere",
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked {
        /// The image.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The pid the holder wrote into the lock file, if readable.
        holder: Option<u32>,
    },
    /// The outside world does not match the checkpoint (a file the program was using
    /// changed, is missing or was replaced), so a restore would not continue correctly.
    #[error("cannot restore: {path}: {detail}")]
    Restore {
        /// The file.
        path: PathBuf,
        /// What differs, and what to do.
        detail: String,
    },
    /// The values hold function pointers but were written by another executable (another
    /// build of the program, or the same sources built differently): code addresses are
    /// only valid in the binary that saved them.
    #[error("this image holds function pointers and was written by another executable ({writer}); restore it with the binary that wrote it (this one is {this})")]
    ForeignCode {
        /// The identity of the executable that wrote the values (its build-id).
        writer: String,
        /// The identity of the running executable.
        this: String,
    },
    /// A signing key is configured and the image is unsigned or its signature does not
    /// match (see [`image::signature`](crate::image::signature)).
    #[error("{path}: {detail}")]
    Signature {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        detail: String,
    },
    /// An input log is not one, or is damaged (see [`replay::log`](crate::replay::log)).
    #[error("{path}: {detail}")]
    BadLog {
        /// The log file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A replayed run asked for another result than the log holds next.
    #[error("replay of {path} diverged at event {event}: {detail}")]
    Diverged {
        /// The log file.
        path: PathBuf,
        /// The event's number.
        event: u64,
        /// Both sides.
        detail: String,
    },
    /// A save written in the background (see `ckpt::wait_durable`) failed; the previous
    /// image is still the current one.
    #[error("the background save to {path} failed: {detail}")]
    Background {
        /// The image.
        path: PathBuf,
        /// What went wrong, and what to do.
        detail: String,
    },
    /// An image on object storage (`s3://`, `gs://`, `az://`) could not be uploaded or
    /// downloaded. After a save, the image in the local cache is complete and the one on
    /// the store is still the previous one (an upload becomes visible only when complete).
    #[error("{url}: {detail}")]
    Remote {
        /// The image's URL.
        url: String,
        /// What went wrong, and what to do.
        detail: String,
    },
    /// A command-line option of ckpt was misused.
    #[error("{0}")]
    Usage(String),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::Type`].
    pub fn ty(
        at: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::Type {
            at: at.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// Result alias of ckpt.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `?` on a ckpt result in a function returning `std::io::Result`: the kind of an I/O
/// failure is kept, anything else is `ErrorKind::Other`; the message stays ckpt's.
///
/// ```
/// fn step() -> std::io::Result<()> {
///     let r: ckpt::Result<()> = Err(ckpt::Error::Usage("no agent".into()));
///     r?;
///     Ok(())
/// }
/// assert_eq!(step().unwrap_err().to_string(), "no agent");
/// ```
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io { source, .. } | Error::Unwritable { source, .. } => source.kind(),
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}
