//! Code pointers and the identity of the running executable.
//!
//! A function pointer is saved as its offset from a fixed anchor function of the same
//! executable: ASLR moves the whole executable, so the offset is stable for one binary,
//! and meaningless for any other. Each image therefore names the executable that wrote
//! it (`"exe"` in its header: the GNU build-id, or an XXH3 of the executable's file when
//! the linker wrote none), and a code pointer is only restored by that same executable.
//! Images without code pointers restore as before, whichever binary reads them.
//!
//! Encoding: tag [`TAG`] around the offset (a signed integer) in an image, whose header
//! names the executable; tag [`TAG`] around `[offset, identity]` in values written by a
//! standalone [`Encoder`] (`to_vec`), which have no header.
//!
//! `fn(A..) -> R` pointers with up to six arguments implement `State` through this. A
//! pointer whose arguments hold references (`fn(&str)`, higher-ranked) is another type;
//! save such a field with `#[ckpt(with = path)]` and [`save_address`]/[`load_address`].

mod sys;

use std::sync::OnceLock;

use super::{Encoder, Loader, State, Value};
use crate::Error;

/// The CBOR tag of a code pointer.
pub const TAG: u64 = 0xC0DE;

/// What is known of the running executable, once per process.
struct Exe {
    /// `"build-id:<hex>"`, `"xxh3:<hex>"`, or `None` when neither could be read.
    id: Option<String>,
    /// Address ranges of its code, `[start, end)` (empty: unknown).
    text: Vec<(usize, usize)>,
}

fn exe() -> &'static Exe {
    static EXE: OnceLock<Exe> = OnceLock::new();
    EXE.get_or_init(|| {
        let p = sys::main_program();
        let id = match &p.build_id {
            Some(b) if !b.is_empty() => Some(format!("build-id:{}", hex(b))),
            _ => sys::exe_file_hash().map(|h| format!("xxh3:{h:016x}")),
        };
        Exe { id, text: p.text }
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The identity of the running executable: `"build-id:<hex>"` (its GNU build-id note) or
/// `"xxh3:<hex>"` (a hash of its file, when it has no build-id); `None` if neither can be
/// read. Computed once per process.
pub fn identity() -> Option<&'static str> {
    exe().id.as_deref()
}

/// The fixed point offsets are taken from: a function of this executable.
#[inline(never)]
fn anchor() {
    std::hint::black_box(());
}

fn anchor_addr() -> usize {
    anchor as fn() as usize
}

/// The offset of code address `addr` from the anchor (wrapping: it may lie before it).
pub(crate) fn to_offset(addr: usize) -> u64 {
    addr.wrapping_sub(anchor_addr()) as u64
}

/// Which executable wrote the values a [`Loader`] reads, as far as it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Values not read from an image (a table built by hand, `decode_slice`).
    #[default]
    Unknown,
    /// An image; the identity its header names (`None`: an image written before ckpt
    /// recorded it).
    Image(Option<String>),
}

/// Refuses code pointers written by an executable other than `this` one.
fn check_writer(writer: Option<&str>, this: Option<&str>) -> Result<(), Error> {
    match (writer, this) {
        (Some(w), Some(t)) if w == t => Ok(()),
        _ => Err(Error::ForeignCode {
            writer: writer.unwrap_or("not recorded in the image").into(),
            this: this.unwrap_or("unidentifiable").into(),
        }),
    }
}

/// The code address at offset `off` from the anchor, if the values `l` reads were written
/// by this very executable (its image's header says so); the address is checked to lie
/// in this executable's code.
pub(crate) fn from_offset(off: u64, l: &Loader) -> Result<usize, Error> {
    let writer = match &l.origin {
        Origin::Image(id) => id.as_deref(),
        Origin::Unknown => None,
    };
    check_writer(writer, identity())?;
    address_in_code(anchor_addr().wrapping_add(off as usize))
}

/// `addr` if it lies in this executable's code (or the code's extent is unknown).
fn address_in_code(addr: usize) -> Result<usize, Error> {
    let text = &exe().text;
    if text.is_empty() || text.iter().any(|&(s, e)| (s..e).contains(&addr)) {
        Ok(addr)
    } else {
        Err(Error::ty(
            "",
            "a code pointer into this executable",
            format!("an offset that points outside its code ({addr:#x})"),
        ))
    }
}

/// Saves the code address `addr` (a function of this executable, e.g. `f as usize` for a
/// function pointer `f`). Refused ([`Error::Unsaveable`]) for code outside the executable
/// (a shared library's) and when the executable cannot be identified: no image holding
/// the pointer could then be restored.
pub fn save_address(addr: usize, e: &mut Encoder<'_>) -> Result<(), Error> {
    let unsaveable = |detail: String| Error::Unsaveable {
        at: String::new(),
        detail,
    };
    let id = identity().ok_or_else(|| {
        unsaveable(
            "a function pointer, but this executable cannot be identified (no build-id, and \
             its file cannot be read); link with --build-id"
                .into(),
        )
    })?;
    address_in_code(addr).map_err(|_| {
        unsaveable(format!(
            "a function pointer to {addr:#x}, outside this executable's code (a shared \
             library's function?); only functions of the executable itself can be saved"
        ))
    })?;
    let off = to_offset(addr) as i64;
    e.tag(TAG);
    if e.exe_in_header() {
        e.int(off);
    } else {
        e.array(2);
        e.int(off);
        e.text(id);
    }
    Ok(())
}

/// Loads what [`save_address`] wrote: the code address, in this process, of the function
/// saved. Refused ([`Error::ForeignCode`]) unless the values were written by this very
/// executable.
pub fn load_address(v: Value, l: &mut Loader) -> Result<usize, Error> {
    let offset = |v: &Value| match *v {
        Value::Uint(n) => Some(n),
        Value::Nint(n) => Some(!n),
        _ => None,
    };
    let bad = |found: &str| Error::ty("", "a code pointer", found.to_string());
    match v {
        Value::Tag(TAG, inner) => match &*inner {
            Value::Array(items) if items.len() == 2 => {
                let off = offset(&items[0]).ok_or_else(|| bad("a code pointer without offset"))?;
                check_writer(items[1].as_str(), identity())?;
                address_in_code(anchor_addr().wrapping_add(off as usize))
            }
            other => match offset(other) {
                Some(off) => from_offset(off, l),
                None => Err(bad(other.kind())),
            },
        },
        other => Err(bad(other.kind())),
    }
}

/// `State` for `fn(A..) -> R`: the code address through [`save_address`].
macro_rules! fn_ptr_state {
    ($($($A:ident)*;)*) => {$(
        impl<R, $($A),*> State for fn($($A),*) -> R {
            /// The function's offset in this executable (tag 0xC0DE). Only the executable
            /// that saved it can load it back: another one gets [`Error::ForeignCode`].
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                save_address(*self as usize, e)
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                let addr = load_address(v, l)?;
                // SAFETY: `addr` is the address, in this process, of the function that was
                // saved from a `fn(..) -> R` of this type by this very executable (its
                // identity was checked), so it is a function of exactly this signature.
                // Only an image forged to pass the identity check could break this, and
                // restoring an image means trusting it as much as the executable.
                Ok(unsafe { std::mem::transmute::<usize, fn($($A),*) -> R>(addr) })
            }
        }
    )*};
}

fn_ptr_state! {
    ;
    A;
    A B;
    A B C;
    A B C D;
    A B C D E;
    A B C D E F;
}

#[cfg(test)]
mod tests;
