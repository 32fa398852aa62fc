//! Parameters handed back through a call (DESIGN §4.5).
//!
//! A transformed function keeps its signature, so the resume path of a caller calls it
//! with real arguments. Those it cannot make again (a value moved into the call, a
//! borrow of a temporary) come from the callee's own frame in the image: at every point
//! a frame writes each of its parameters as an *entry*:
//!
//! ```text
//! { "type": "alloc::vec::Vec<u64>", "ctor": <code offset>, "v": <the value> }
//! ```
//!
//! `ctor` is a constructor monomorphised for the parameter's type (it loads `v`, or makes
//! a `Default` when the parameter is no longer used and `v` is absent), saved as a code
//! offset: the caller's `resume_arg::<T>()` needs no bound on `T`, whose type the compiler
//! infers from the callee's signature. A parameter that can be neither saved nor made is
//! written `{"type": …, "absent": true}`; a save whose caller needs it fails with a
//! message, so no image is ever written that cannot be restored.

use std::marker::PhantomData;

use super::stack::Writer;
use crate::error::{Error, Result};
use crate::state::{Encoder, Loader, State, Value};

/// Makes a parameter's value from its entry: a `Box<T>` as a raw pointer.
pub(crate) type Ctor = fn(Option<Value>, &mut Loader) -> Result<*mut ()>;

fn ctor_load<T: State>(v: Option<Value>, l: &mut Loader) -> Result<*mut ()> {
    let v = v.ok_or_else(|| Error::ty("", "a saved argument", "none"))?;
    let x: T = l.load(v)?;
    Ok(Box::into_raw(Box::new(x)).cast())
}

fn ctor_default<T: Default>(_: Option<Value>, _: &mut Loader) -> Result<*mut ()> {
    Ok(Box::into_raw(Box::<T>::default()).cast())
}

fn ctor_state_placeholder<T: State>(_: Option<Value>, _: &mut Loader) -> Result<*mut ()> {
    match T::placeholder() {
        Some(x) => Ok(Box::into_raw(Box::new(x)).cast()),
        None => Err(Error::ty(
            "",
            "a type with a placeholder",
            std::any::type_name::<T>(),
        )),
    }
}

fn ctor_placeholder<T: Placeholder>(_: Option<Value>, _: &mut Loader) -> Result<*mut ()> {
    Ok(Box::into_raw(Box::new(T::placeholder())).cast())
}

fn ctor_offset(c: Ctor) -> u64 {
    crate::state::code::to_offset(c as usize)
}

/// The type of a value, without the value: taken at a function's entry, before the body
/// may move the parameter.
pub struct TypeOf<T: ?Sized>(PhantomData<fn() -> *const T>);

impl<T: ?Sized> TypeOf<T> {
    /// A marker whose type the compiler infers from where it is assigned.
    #[inline(always)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        TypeOf(PhantomData)
    }
}

impl<T: ?Sized> Clone for TypeOf<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for TypeOf<T> {}

/// A computed argument of a generic callee, passed on as it is; `marker` learns its type
/// (the parameter's, after coercion), which the resume path needs to pass the saved
/// argument back.
#[inline(always)]
pub fn mark_arg<T>(marker: &mut TypeOf<T>, x: T) -> T {
    let _ = marker;
    x
}

/// [`mark_arg`] for `&temporary`: the marker holds the referent's type (no lifetime).
#[inline(always)]
pub fn mark_arg_ref<'a, T: ?Sized>(marker: &mut TypeOf<T>, x: &'a T) -> &'a T {
    let _ = marker;
    x
}

/// [`mark_arg`] for `&mut temporary`.
#[inline(always)]
pub fn mark_arg_mut<'a, T: ?Sized>(marker: &mut TypeOf<T>, x: &'a mut T) -> &'a mut T {
    let _ = marker;
    x
}

/// The type of `x`.
#[inline(always)]
pub fn type_of<T>(_: &T) -> TypeOf<T> {
    TypeOf(PhantomData)
}

/// A by-value parameter still in use.
pub struct ArgVal<'a, T>(pub &'a T);
/// A by-value parameter known by its type only (no longer used, or lent on).
pub struct ArgType<T>(pub TypeOf<T>);
/// The value behind a reference parameter.
pub struct ArgRef<'a, T: ?Sized>(pub &'a T);

/// Writes an entry's value.
type ValueWriter<'a> = &'a dyn Fn(&mut Encoder<'_>) -> Result<()>;

/// Writes an entry: `{type, ctor, v?}`.
fn entry(
    w: &mut Writer<'_, '_>,
    pos: usize,
    key: &str,
    needed_only: bool,
    ty: &str,
    ctor: Option<Ctor>,
    value: Option<ValueWriter<'_>>,
) -> Result<()> {
    let Some(enc) = w.arg_slot(pos, key, needed_only) else {
        return Ok(());
    };
    let n = 1 + u64::from(ctor.is_some()) + u64::from(value.is_some());
    enc.map(n);
    enc.text("type");
    enc.text(ty);
    if let Some(c) = ctor {
        enc.text("ctor");
        enc.uint(ctor_offset(c));
    }
    if let Some(v) = value {
        enc.text("v");
        v(enc)?;
    }
    Ok(())
}

/// An entry that cannot be made: fails the save when the caller needs it.
fn absent(w: &mut Writer<'_, '_>, pos: usize, key: &str, ty: &str, why: &str) -> Result<()> {
    if w.caller_needs(pos) {
        return Err(Error::Unsaveable {
            at: format!("parameter `{key}` of `{}`", w.function()),
            detail: format!(
                "its caller passed a value the resume path cannot make again, and `{ty}` {why}; \
                 derive ckpt::State for it, pass it by reference from a local, or bind it to a \
                 local of the caller that is saved"
            ),
        });
    }
    let Some(enc) = w.arg_slot(pos, key, false) else {
        return Ok(());
    };
    enc.map(2);
    enc.text("type");
    enc.text(ty);
    enc.text("absent");
    enc.bool(true);
    Ok(())
}

/// `ArgVal` of a `State` type (autoref specialization: preferred).
pub trait ArgValState {
    /// Writes the parameter's entry with its value.
    fn __ckpt_put(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T: State> ArgValState for &ArgVal<'_, T> {
    fn __ckpt_put(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        let x = self.0;
        entry(
            w,
            pos,
            key,
            false,
            std::any::type_name::<T>(),
            Some(ctor_load::<T> as Ctor),
            Some(&|e: &mut Encoder<'_>| e.put(x)),
        )
    }
}

/// `ArgVal` of any other type: absent.
pub trait ArgValNone {
    /// Writes an absent entry.
    fn __ckpt_put(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T> ArgValNone for ArgVal<'_, T> {
    fn __ckpt_put(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        absent(
            w,
            pos,
            key,
            std::any::type_name::<T>(),
            "is not ckpt::State",
        )
    }
}

/// An entry whose value the constructor `ctor` makes (the saved value is null).
fn made(w: &mut Writer<'_, '_>, pos: usize, key: &str, ty: &str, ctor: Ctor) -> Result<()> {
    entry(
        w,
        pos,
        key,
        false,
        ty,
        Some(ctor),
        Some(&|e: &mut Encoder<'_>| {
            e.null();
            Ok(())
        }),
    )
}

/// A value of a type without `Default` that the resume path can pass for a by-value
/// parameter the function no longer uses (`fn f(r: BufReader<File>)` whose `r.lines()`
/// took the reader, saved with the loop): never read, only dropped. ckpt's files, readers
/// and writers have one.
pub trait Placeholder {
    /// The placeholder.
    fn placeholder() -> Self;
}

/// A parameter no longer used whose type has a [`Placeholder`] (preferred over
/// `Default`).
pub trait ArgPlaceholder {
    /// Writes an entry that makes the placeholder.
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T: Placeholder> ArgPlaceholder for &&&ArgType<T> {
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        made(
            w,
            pos,
            key,
            std::any::type_name::<T>(),
            ctor_placeholder::<T>,
        )
    }
}

/// A parameter no longer used whose type has a `Default`.
pub trait ArgDefaultYes {
    /// Writes an entry that makes a `Default`.
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T: Default> ArgDefaultYes for &&ArgType<T> {
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        made(w, pos, key, std::any::type_name::<T>(), ctor_default::<T>)
    }
}

/// A parameter no longer used, of a `State` type without `Default` (a derived type, or a
/// type parameter): its [`State::placeholder`], when the type has one.
pub trait ArgStatePlaceholder {
    /// Writes an entry that makes the placeholder, or an absent one.
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T: State> ArgStatePlaceholder for &ArgType<T> {
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        let ty = std::any::type_name::<T>();
        if T::placeholder().is_some() {
            made(w, pos, key, ty, ctor_state_placeholder::<T>)
        } else {
            absent(
                w,
                pos,
                key,
                ty,
                "is no longer used at this point and has no Default",
            )
        }
    }
}

/// A parameter no longer used, of a type without `Default`.
pub trait ArgDefaultNo {
    /// Writes an absent entry.
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T> ArgDefaultNo for ArgType<T> {
    fn __ckpt_default(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        absent(
            w,
            pos,
            key,
            std::any::type_name::<T>(),
            "is no longer used at this point and has no Default",
        )
    }
}

/// A by-value parameter lent on to a callee: the constructor here, the value down the
/// lent map (preferred: `State`).
pub trait ArgCtorState {
    /// Writes an entry without a value.
    fn __ckpt_lent(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T: State> ArgCtorState for &ArgType<T> {
    fn __ckpt_lent(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        entry(
            w,
            pos,
            key,
            false,
            std::any::type_name::<T>(),
            Some(ctor_load::<T> as Ctor),
            None,
        )
    }
}

/// A by-value parameter lent on, of a type that cannot be saved.
pub trait ArgCtorNone {
    /// Writes an absent entry.
    fn __ckpt_lent(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()>;
}
impl<T> ArgCtorNone for ArgType<T> {
    fn __ckpt_lent(&self, w: &mut Writer<'_, '_>, pos: usize, key: &str) -> Result<()> {
        absent(
            w,
            pos,
            key,
            std::any::type_name::<&mut T>(),
            "is not ckpt::State",
        )
    }
}

/// What a reference parameter points at, when it can be saved: a `State` value, a slice
/// of them (`&[T]`, saved like the `Vec` it usually borrows from), or a `str`.
///
/// A resume path that passes back a borrow of a temporary (`f(&vec![1, 2])`,
/// `g(&format!(..))`) gets a copy leaked with [`Box::leak`]: the callee may keep the
/// borrow as long as the call, and no local of the caller holds the temporary.
pub trait Pointee {
    /// Writes the value.
    fn save_pointee(&self, e: &mut Encoder<'_>) -> Result<()>;
    /// Loads a copy that lives for the rest of the process (from [`Box::into_raw`]).
    fn load_leaked(v: Value, l: &mut Loader) -> Result<*mut Self>;
}
impl<T: State> Pointee for T {
    fn save_pointee(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.put(self)
    }
    fn load_leaked(v: Value, l: &mut Loader) -> Result<*mut Self> {
        let x: T = l.load(v)?;
        Ok(Box::into_raw(Box::new(x)))
    }
}
impl<T: State> Pointee for [T] {
    fn save_pointee(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.put_slice(self)
    }
    fn load_leaked(v: Value, l: &mut Loader) -> Result<*mut Self> {
        Ok(Box::into_raw(T::load_vec(v, l)?.into_boxed_slice()))
    }
}
impl Pointee for str {
    fn save_pointee(&self, e: &mut Encoder<'_>) -> Result<()> {
        e.text(self);
        Ok(())
    }
    fn load_leaked(v: Value, l: &mut Loader) -> Result<*mut Self> {
        Ok(Box::into_raw(String::load(v, l)?.into_boxed_str()))
    }
}

/// Makes the reference a `&`/`&mut U` parameter held: a `Box<*mut U>` (the layout of
/// `Box<&mut U>`), pointing at a copy never freed.
fn ctor_ref<U: ?Sized + Pointee>(v: Option<Value>, l: &mut Loader) -> Result<*mut ()> {
    let v = v.ok_or_else(|| Error::ty("", "a saved argument", "none"))?;
    let r: *mut U = U::load_leaked(v, l)?;
    Ok(Box::into_raw(Box::new(r)).cast())
}

/// The value behind a reference parameter, of a [`Pointee`] type (preferred).
pub trait ArgRefState {
    /// Writes the entry (`needed_only`: only if the caller needs it back).
    fn __ckpt_put(
        &self,
        w: &mut Writer<'_, '_>,
        pos: usize,
        key: &str,
        needed_only: bool,
    ) -> Result<()>;
}
impl<T: ?Sized + Pointee> ArgRefState for &ArgRef<'_, T> {
    fn __ckpt_put(
        &self,
        w: &mut Writer<'_, '_>,
        pos: usize,
        key: &str,
        needed_only: bool,
    ) -> Result<()> {
        let x = self.0;
        entry(
            w,
            pos,
            key,
            needed_only,
            std::any::type_name::<&mut T>(),
            Some(ctor_ref::<T> as Ctor),
            Some(&|e: &mut Encoder<'_>| x.save_pointee(e)),
        )
    }
}

/// The receiver of a method of a `#[checkpointable] impl Trait for T` whose trait objects
/// are saved: written in the trait object's envelope (`save`, the impl's own), so that it
/// fills a `Box<dyn Trait>` it was lent from as well as a `T`.
pub fn arg_self_dyn<T: Pointee>(
    w: &mut Writer<'_, '_>,
    pos: usize,
    key: &str,
    needed_only: bool,
    save: ValueWriter<'_>,
) -> Result<()> {
    entry(
        w,
        pos,
        key,
        needed_only,
        std::any::type_name::<&mut T>(),
        Some(ctor_ref::<T> as Ctor),
        Some(save),
    )
}

/// The receiver of a default method of a `#[checkpointable]` trait (whose `Self` is any
/// implementation): written by the implementation's own hook (`save`), in the trait
/// object's envelope. Without a constructor: a caller gets it back through its lent map.
pub fn arg_self_in_trait<T: ?Sized>(
    w: &mut Writer<'_, '_>,
    pos: usize,
    key: &str,
    needed_only: bool,
    save: ValueWriter<'_>,
) -> Result<()> {
    entry(
        w,
        pos,
        key,
        needed_only,
        std::any::type_name::<&mut T>(),
        None,
        Some(save),
    )
}

/// The value behind a reference parameter of any other type.
pub trait ArgRefNone {
    /// Writes an absent entry.
    fn __ckpt_put(
        &self,
        w: &mut Writer<'_, '_>,
        pos: usize,
        key: &str,
        needed_only: bool,
    ) -> Result<()>;
}
impl<T: ?Sized> ArgRefNone for ArgRef<'_, T> {
    fn __ckpt_put(
        &self,
        w: &mut Writer<'_, '_>,
        pos: usize,
        key: &str,
        needed_only: bool,
    ) -> Result<()> {
        if needed_only && !w.caller_needs(pos) {
            return Ok(());
        }
        absent(
            w,
            pos,
            key,
            std::any::type_name::<&mut T>(),
            "is not ckpt::State",
        )
    }
}

/// An entry read back from an image.
pub(crate) struct Entry {
    pub ty: Option<String>,
    pub ctor: Option<u64>,
    pub value: Option<Value>,
    pub absent: bool,
}

impl Entry {
    /// Splits an entry; a plain value (an older image) is a value without a type.
    pub(crate) fn parse(v: Value) -> Entry {
        let mut e = Entry {
            ty: None,
            ctor: None,
            value: None,
            absent: false,
        };
        let Value::Map(fields) = v else {
            e.value = Some(v);
            return e;
        };
        let is_entry = fields
            .iter()
            .any(|(k, _)| matches!(k, Value::Text(t) if t == "type"));
        if !is_entry {
            e.value = Some(Value::Map(fields));
            return e;
        }
        for (k, v) in fields {
            match (k, v) {
                (Value::Text(k), Value::Text(t)) if k == "type" => e.ty = Some(t),
                (Value::Text(k), Value::Uint(n)) if k == "ctor" => e.ctor = Some(n),
                (Value::Text(k), v) if k == "v" => e.value = Some(v),
                (Value::Text(k), Value::Bool(b)) if k == "absent" => e.absent = b,
                _ => {}
            }
        }
        e
    }

    /// Makes the `T` this entry describes.
    ///
    /// # Safety
    /// `T` must be the type of the parameter that wrote the entry, in the executable that
    /// wrote it (checked here by its name and by the image's executable identity).
    pub(crate) unsafe fn make<T>(self, l: &mut Loader) -> std::result::Result<T, String> {
        let want = std::any::type_name::<T>();
        if self.absent {
            return Err(format!("the image holds no value for it (`{want}`)"));
        }
        // A reference parameter's entry makes a `&'static mut U`, which is also the `&U`
        // a caller passing a shared reference wants (same layout).
        let shared_of = |t: &str| t.strip_prefix("&mut ").map(|u| format!("&{u}"));
        match &self.ty {
            Some(t) if t == want => {}
            Some(t) if shared_of(t).as_deref() == Some(want) => {}
            Some(t) => {
                return Err(format!(
                    "the image holds a `{t}` where `{want}` is expected"
                ))
            }
            None => return Err("the image holds no type for it".into()),
        }
        let Some(off) = self.ctor else {
            return Err("the image holds no constructor for it".into());
        };
        let addr = crate::state::code::from_offset(off, l).map_err(|e| e.to_string())?;
        // SAFETY: `addr` is a `Ctor` of this executable (from_offset checked the image was
        // written by it), written for a parameter of type `want` (checked above).
        let ctor: Ctor = unsafe { std::mem::transmute::<usize, Ctor>(addr) };
        let p = ctor(self.value, l).map_err(|e| e.to_string())?;
        // SAFETY: the constructor returned `Box::into_raw` of a `Box<T>`.
        Ok(*unsafe { Box::from_raw(p.cast::<T>()) })
    }
}

/// A closure that may change the locals it borrows, kept across a save point: the
/// pointers to those locals, taken before the closure borrowed them, are how a save
/// reads them meanwhile (see [`lent_ref`]). Returns the closure.
#[inline(always)]
pub fn lends<F, P>(f: F, pointers: P) -> F {
    let _ = pointers;
    f
}

/// The local behind a pointer of [`lends`], read by a save while the closure that
/// borrows it is alive between two of its calls: nothing else writes it meanwhile. Only
/// the code `#[checkpointable]` generates calls it, with such a pointer (as `parts`
/// does for its pointers), hence the allowance.
#[inline(always)]
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn lent_ref<'a, T: ?Sized>(p: *const T) -> &'a T {
    // SAFETY: `p` points at a local of the running function, taken by `addr_of!` before
    // a closure borrowed it; the local outlives the save that reads it (both are in that
    // function), and no write happens during the read (the closure is not running: the
    // save point is in the function's own body, not in the closure).
    unsafe { &*p }
}
