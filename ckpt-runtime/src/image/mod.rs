//! The image file: `b"CKPT"` + format version (u32 LE) + CBOR body + 24-byte trailer
//! (body length u64 LE, xxh3-64 of the body u64 LE, `b"CKPTEND\0"`, or `b"CKPTFIN\0"`
//! once the run that wrote it ended normally: see [`mark_finished`]), and, when it is
//! signed, a 40-byte signature block after the trailer (see [`signature`]).
//!
//! The body is the map `{"header": {...}, "frames": [...], "components": {...},
//! "heap": {...}}`, always in that order (so [`read_header`] can stop after the header).
//! One [`Encoder`] writes the whole body, so an `Rc` seen in a frame and in a component is
//! one object.
//!
//! Shared objects (`Rc`/`Arc`, tag 28 definition, tag 29 + index reference, indices in
//! order of first occurrence): one met outside any other shared object is defined where it
//! is met; one first met inside another's definition is only referenced there (tag 29 with
//! the next index: a forward reference) and defined in `heap`, an indefinite-length map
//! index → definition written after everything else. So the nesting depth of the body is
//! that of the deepest single object, never that of a chain of objects. (Images written
//! before the heap existed have no `heap` section and no forward reference; they read the
//! same.)
//!
//! The header also names the executable that wrote the image (`"exe"`, since images that
//! may hold code pointers; absent before): a function pointer is only restored by that
//! executable (see [`code`](crate::state::code)).
//!
//! A frame record is the map `{"fn": text, "hash": uint, "at": uint, "site": text,
//! "live": {name: value}, "args": {name: value}, "lent": {local: callee parameter}}`;
//! `live` and `args` may be indefinite-length maps. `site` is where the point `at` is in
//! the source (`"src/main.rs:12"`), for people reading the image; it is absent in images
//! written before ckpt recorded it and where the compiler gave no location, and a
//! restore never reads it.
//!
//! [`Encoder`]: crate::state::Encoder

mod checksum;
pub(crate) mod chunks;
pub mod crash;
pub(crate) mod dirty;
pub(crate) mod lazy;
pub mod probe;
mod read;
pub mod remote;
pub mod signature;
mod uffd;
mod write;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use crate::state::{SharedTable, Value};

/// Decoder limits of [`read`] (re-exported from [`crate::state`]).
pub use crate::state::Limits;
pub use read::{read, read_header, read_with_progress};
pub(crate) use write::sync_before;
#[cfg(test)]
pub(crate) use write::write_header_as;
pub use write::{check_writable, is_finished, mark_finished, write, write_signed};
#[cfg(feature = "agent")]
pub(crate) use write::{commit, encode_body, Body, Unlink};

/// Version of the image format written by this build; [`read`] refuses newer ones.
pub const FORMAT_VERSION: u32 = 1;

/// The magic bytes that open every image.
pub const MAGIC: &[u8; 4] = b"CKPT";
/// The magic bytes that close every image.
pub const END_MAGIC: &[u8; 8] = b"CKPTEND\0";
/// The magic bytes that close the image of a run that ended normally after writing it
/// (written over [`END_MAGIC`] in place by [`mark_finished`]; the checksum covers the
/// body only, so the image stays valid and restorable).
pub const FINISHED_MAGIC: &[u8; 8] = b"CKPTFIN\0";
/// Size of the prefix (magic + version).
pub const PREFIX_LEN: u64 = 8;
/// Size of the trailer (body length + checksum + end magic).
pub const TRAILER_LEN: u64 = 24;

/// What identifies the build that wrote an image; a restore requires an exact match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// Name of the program's crate.
    pub crate_name: String,
    /// Version of the program's crate.
    pub crate_version: String,
    /// Hex hash of every source file ckpt-build read.
    pub sources: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Target triple.
    pub target: String,
}

impl Fingerprint {
    /// One line per differing part: `"rustc: X (image) vs Y (this build)"`. Empty if equal.
    pub fn differences(&self, this_build: &Fingerprint) -> Vec<String> {
        let parts: [(&str, &String, &String); 5] = [
            ("crate name", &self.crate_name, &this_build.crate_name),
            (
                "crate version",
                &self.crate_version,
                &this_build.crate_version,
            ),
            ("sources", &self.sources, &this_build.sources),
            ("rustc", &self.rustc, &this_build.rustc),
            ("target", &self.target, &this_build.target),
        ];
        parts
            .iter()
            .filter(|(_, a, b)| a != b)
            .map(|(what, a, b)| format!("{what}: {a} (image) vs {b} (this build)"))
            .collect()
    }
}

/// The first section of the body: who wrote the image, when, and how it was run.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Format version (also in the prefix).
    pub format: u32,
    /// The build that wrote the image.
    pub fingerprint: Fingerprint,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
    /// Program name.
    pub program: String,
    /// The original command-line arguments (for a re-exec with the same arguments).
    pub args: Vec<String>,
    /// Where the program was saving (`--ckpt-file` / `CKPT_FILE`), if set.
    pub ckpt_file: Option<String>,
    /// ckpt options in force, as name/value pairs.
    pub options: Vec<(String, String)>,
}

/// One frame of the resume stack.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRecord {
    /// Path of the function.
    pub function: String,
    /// Hash of the function's body at build time.
    pub body_hash: u64,
    /// The save point (resume point index) the frame is stopped at.
    pub at: u32,
    /// Where that point is in the source (`src/main.rs:12`); `None` in images written
    /// before ckpt recorded it, or when the compiler did not say.
    pub site: Option<String>,
    /// Live locals: name → value.
    pub live: Vec<(String, Value)>,
    /// Arguments: name → value.
    pub args: Vec<(String, Value)>,
    /// Locals lent to the callee: local → callee parameter.
    pub lent: Vec<(String, String)>,
    /// Parts of locals lent to the callee (the local is saved with a hole there).
    pub holes: Vec<Hole>,
}

/// A part of a local lent to the callee: the local was saved with a hole at `path`, and
/// the callee's parameter `param` holds the part.
#[derive(Debug, Clone, PartialEq)]
pub struct Hole {
    /// The local (or the frame's own parameter) with the hole.
    pub local: String,
    /// Fields (text) and elements (unsigned) from the local to the hole.
    pub path: Vec<Value>,
    /// The callee's parameter.
    pub param: String,
}

/// A whole image, read and validated.
#[derive(Debug)]
pub struct Image {
    /// The file it was read from.
    pub path: PathBuf,
    /// The header.
    pub header: Header,
    /// The resume stack, outermost frame first (as written).
    pub frames: Vec<FrameRecord>,
    /// Component states: name → value.
    pub components: Vec<(String, Value)>,
    /// The executable that wrote the image (`"exe"` in the header: see
    /// [`code::identity`](crate::state::code::identity)); `None` in images written before
    /// ckpt recorded it.
    pub exe: Option<String>,
    /// Shared objects (defined in place by tag 28, or in the `heap` section), for
    /// [`Loader::new`](crate::state::Loader::new), which also learns from it which
    /// executable wrote the image.
    pub shared: SharedTable,
    /// Encoded size in bytes of each section (`header`, `frames`, `components`, `heap`).
    pub sections: Vec<(String, u64)>,
    /// Size of the file.
    pub file_len: u64,
}

impl Image {
    /// The state of component `name`.
    pub fn component(&self, name: &str) -> Option<&Value> {
        self.components
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}
