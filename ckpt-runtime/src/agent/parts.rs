//! Values lent in part to a call: `step(&mut sim.grid)`, `self.engine.run()`,
//! `apply(&mut accounts[i].balance)`.
//!
//! While the call runs, the callee holds a `&mut` to a part of a value the caller owns.
//! The caller cannot read that part (the callee may be changing it), so at a save it
//! writes the rest of the value with a *hole* where the part is (a CBOR tag
//! [`HOLE_TAG`]), and records where the hole is and which callee parameter holds the
//! part. The callee saves the part as its parameter. A restore puts the callee's value
//! back into the hole before the caller takes the whole value back.
//!
//! Writing "the rest of the value" reads the value through a raw pointer taken before the
//! call lent the part, field by field ([`SaveParts`]), never creating a reference that
//! covers the lent part.

use crate::error::{Error, Result};
use crate::state::{Encoder, State, Value};

/// The CBOR tag of a hole: a part of a value that a callee saves.
pub const HOLE_TAG: u64 = 0xC4EC;

/// One step of a path into a value: a field (by name, `"0"` for a tuple's first) or an
/// element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A field.
    Field(&'static str),
    /// An element of a `Vec`, array or slice.
    Index(usize),
}

impl Step {
    fn describe(&self) -> String {
        match self {
            Step::Field(f) => format!(".{f}"),
            Step::Index(i) => format!("[{i}]"),
        }
    }

    /// As written in an image: the field's name, or the index.
    pub(crate) fn save(&self, e: &mut Encoder<'_>) {
        match self {
            Step::Field(f) => e.text(f),
            Step::Index(i) => e.uint(*i as u64),
        }
    }
}

/// Writes a value except a part of it (`#[derive(ckpt::State)]` implements it for
/// structs).
///
/// Only ckpt calls it, with a pointer to a live value of which only the part at `path`
/// may be borrowed (mutably, by a call in progress); implementations read the value only
/// outside `path`, through [`put_field`] and [`field_ptr`]. The method is safe to
/// implement (derived impls contain no `unsafe` of the user's) and is never called with
/// any other pointer, hence the `clippy::not_unsafe_ptr_arg_deref` allowances below.
pub trait SaveParts {
    /// Writes `*this` with the part at `path` (not empty) left as a hole.
    fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()>;
}

/// The address of the field at `offset` (`core::mem::offset_of!`) in the value at `base`.
#[inline]
pub fn field_ptr<T>(base: *const u8, offset: usize) -> *const T {
    base.wrapping_add(offset).cast()
}

/// Writes the field at `offset` in the value at `base`, whole (derived `SaveParts`: a
/// field not on the lent path).
pub fn put_field<T: State>(base: *const u8, offset: usize, e: &mut Encoder<'_>) -> Result<()> {
    // SAFETY: see `SaveParts`: `base` points at a live value whose part at the path is
    // the only one borrowed, and this field is not on it.
    e.put(unsafe { &*field_ptr::<T>(base, offset) })
}

/// The field at `offset` in the value at `base`, borrowed (a field not on the lent path,
/// saved through an adapter).
pub fn field_ref<'a, T>(base: *const u8, offset: usize) -> &'a T {
    // SAFETY: as for `put_field`; the reference lives only while the field is written.
    unsafe { &*field_ptr::<T>(base, offset) }
}

/// The error for a path that does not lead into a value.
pub fn bad_path(path: &[Step]) -> Error {
    bad_step(path)
}

/// Writes the value at a raw pointer with a hole at a path, choosing [`SaveParts`] when
/// the type has it (autoref specialization).
///
/// Only `#[checkpointable]`'s generated code makes one, from `ptr::addr_of!` of a local
/// taken right before the call that lends the part, and uses it only inside that call's
/// capture, while the local lives: that is what makes the methods below sound to call.
pub struct Parts<T: ?Sized>(pub *const T);

/// A type that can be lent in part (preferred).
pub trait PartsYes {
    /// Writes the value with a hole at `path`.
    fn __ckpt_save_except(&self, path: &[Step], e: &mut Encoder<'_>) -> Result<()>;
}
impl<T: SaveParts> PartsYes for &Parts<T> {
    fn __ckpt_save_except(&self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        if path.is_empty() {
            hole(e);
            return Ok(());
        }
        T::save_except(self.0, path, e)
    }
}

/// Any other type: lent whole only.
pub trait PartsNo {
    /// Writes a hole for the whole value, or refuses a path into it.
    fn __ckpt_save_except(&self, path: &[Step], e: &mut Encoder<'_>) -> Result<()>;
}
impl<T: ?Sized> PartsNo for Parts<T> {
    fn __ckpt_save_except(&self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        if path.is_empty() {
            hole(e);
            return Ok(());
        }
        Err(Error::Unsaveable {
            at: format!("{}{}", std::any::type_name::<T>(), describe(path)),
            detail: "this part is lent to a call that saves, and ckpt cannot save the rest of a \
                     value of this type apart from it; derive ckpt::State for the type (structs \
                     deriving it can be lent in part), or pass the whole value"
                .into(),
        })
    }
}

/// The name of the type a pointer points at.
pub fn type_name_of_ptr<T: ?Sized>(_: *const T) -> &'static str {
    std::any::type_name::<T>()
}

/// Writes a hole.
pub fn hole(e: &mut Encoder<'_>) {
    e.tag(HOLE_TAG);
    e.null();
}

fn describe(path: &[Step]) -> String {
    path.iter().map(Step::describe).collect()
}

#[allow(clippy::not_unsafe_ptr_arg_deref)]
impl<T: State + SaveParts> SaveParts for Vec<T> {
    fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        // SAFETY: the header of the Vec is not lent (a lent element lives in its buffer);
        // elements other than the lent one are read through the buffer pointer.
        let (ptr, len) = unsafe { ((*this).as_ptr(), (*this).len()) };
        slice_except(ptr, len, path, e)
    }
}

impl<T: State + SaveParts, const N: usize> SaveParts for [T; N] {
    fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        slice_except(this.cast::<T>(), N, path, e)
    }
}

#[allow(clippy::not_unsafe_ptr_arg_deref)]
impl<T: State + SaveParts> SaveParts for std::collections::VecDeque<T> {
    fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        let Some((Step::Index(i), rest)) = path.split_first() else {
            return Err(bad_step(path));
        };
        // SAFETY: as for Vec: the deque's header is not lent; its two slices point into
        // its buffer, read element by element except the lent one.
        let (a, b) = unsafe { (*this).as_slices() };
        let (a_ptr, a_len, b_ptr, b_len) = (a.as_ptr(), a.len(), b.as_ptr(), b.len());
        e.array((a_len + b_len) as u64);
        for j in 0..a_len + b_len {
            // SAFETY: `j` is in bounds of one of the two slices.
            let p = unsafe {
                if j < a_len {
                    a_ptr.add(j)
                } else {
                    b_ptr.add(j - a_len)
                }
            };
            element(p, j == *i, rest, e)?;
        }
        Ok(())
    }
}

#[allow(clippy::not_unsafe_ptr_arg_deref)]
impl<T: SaveParts> SaveParts for Box<T> {
    fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
        // A box saves as what it holds: the path goes on inside.
        // SAFETY: reading the box's pointer; the box itself is not lent.
        let inner: *const T = unsafe { &**this };
        T::save_except(inner, path, e)
    }
}

fn bad_step(path: &[Step]) -> Error {
    Error::Unsaveable {
        at: describe(path),
        detail: "this path does not lead into the value it is lent from".into(),
    }
}

/// Elements `0..len` at `ptr`, the one at the path's index saved apart.
fn slice_except<T: State + SaveParts>(
    ptr: *const T,
    len: usize,
    path: &[Step],
    e: &mut Encoder<'_>,
) -> Result<()> {
    let Some((Step::Index(i), rest)) = path.split_first() else {
        return Err(bad_step(path));
    };
    e.array(len as u64);
    for j in 0..len {
        // SAFETY: `j < len` elements of a live slice.
        element(unsafe { ptr.add(j) }, j == *i, rest, e)?;
    }
    Ok(())
}

/// One element: whole, or (the lent one) a hole or its own parts.
fn element<T: State + SaveParts>(
    p: *const T,
    lent: bool,
    rest: &[Step],
    e: &mut Encoder<'_>,
) -> Result<()> {
    if !lent {
        // SAFETY: not the lent element.
        return e.put(unsafe { &*p });
    }
    if rest.is_empty() {
        hole(e);
        return Ok(());
    }
    T::save_except(p, rest, e)
}

/// Types without parts to lend: a path into them is refused.
macro_rules! leaf_parts {
    ($($t:ty),*) => {$(
        impl SaveParts for $t {
            fn save_except(_: *const Self, path: &[Step], _: &mut Encoder<'_>) -> Result<()> {
                Err(bad_step(path))
            }
        }
    )*};
}

leaf_parts!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    String,
    std::path::PathBuf,
    std::time::Duration
);

impl<T> SaveParts for Option<T> {
    fn save_except(_: *const Self, path: &[Step], _: &mut Encoder<'_>) -> Result<()> {
        Err(bad_step(path))
    }
}

macro_rules! tuple_parts {
    ($(($($n:tt $T:ident),+))*) => {$(
        #[allow(clippy::not_unsafe_ptr_arg_deref)]
        impl<$($T: State + SaveParts),+> SaveParts for ($($T,)+) {
            fn save_except(this: *const Self, path: &[Step], e: &mut Encoder<'_>) -> Result<()> {
                let Some((Step::Field(f), rest)) = path.split_first() else {
                    return Err(bad_step(path));
                };
                let count = [$($n),+].len();
                e.array(count as u64);
                $(
                    // SAFETY: a field of the live tuple (no reference is made).
                    let p = unsafe { std::ptr::addr_of!((*this).$n) };
                    element(p, *f == stringify!($n), rest, e)?;
                )+
                Ok(())
            }
        }
    )*};
}

tuple_parts! {
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
}

/// Puts `part` into the hole of `v` at `path`. Returns `false` when there is no hole
/// there.
pub(crate) fn fill(v: &mut Value, path: &[Value], part: Value) -> bool {
    let mut cur = v;
    for step in path {
        let next = match (cur, step) {
            (Value::Map(entries), Value::Text(name)) => entries
                .iter_mut()
                .find(|(k, _)| matches!(k, Value::Text(t) if t == name))
                .map(|(_, v)| v),
            (Value::Array(items), Value::Uint(i)) => items.get_mut(*i as usize),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    if !matches!(cur, Value::Tag(HOLE_TAG, _)) {
        return false;
    }
    *cur = part;
    true
}
