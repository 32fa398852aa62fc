//! `Rc`/`Arc`/`Weak`: saved once by identity (tag 28 around the first occurrence, tag 29 +
//! index for the others; in an image, objects met inside another object's definition are
//! written in the `heap` section), rebuilt once by the [`Loader`], in any order of loading
//! and with a call-stack depth that does not depend on how the objects point to each other.
//!
//! Each object lives in one allocation, `Rc<Cell<T>>` (an uninitialised `T` behind an
//! `UnsafeCell`) until its value is written there and the pointer is turned into `Rc<T>`:
//! - an object built when first needed is allocated with `new_cyclic`: during its build its
//!   strong count is 0, so the `Weak` pointers handed out meanwhile (back-references) cannot
//!   be upgraded before it is complete;
//! - an object reached through a `Weak` while builds are already nested as deep as the
//!   loader allows (see `loader.rs`) is *reserved*: allocated with a strong count of 1 held by the loader only, its `Weak`
//!   handed out, its build queued and run by the loader's loop before control leaves the
//!   loader. So is an object whose `new_cyclic` build had to stop (the same allocation is
//!   kept: every `Weak` handed out stays right).
//!
//! The one thing `load` code must not do, therefore: upgrade a `Weak` it has just been given
//! (or reach one through the objects it loads) and read through it before `Loader::load`
//! returns, since the object may be reserved and not written yet. The derived and built-in
//! impls never do; `Loader::load` never returns with a reserved object left. (Std has no
//! stable way to allocate an `Rc` whose strong count stays 0 outside a `new_cyclic` call —
//! `UniqueRc` is unstable — and nesting `new_cyclic` calls is what made the depth grow.)
//!
//! Strong cycles are refused at save time: they could only be rebuilt by handing out strong
//! pointers to uninitialised memory, which any `State::load` could dereference. A strong
//! pointer is only ever handed out to a complete object: one needed too deep stops the
//! builds in progress, which the loader's loop retries after building it.

use std::any::TypeId;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;

use super::encode::{HeapWriter, Shared};
use super::loader::{cycle_error, Slot};
use super::{Encoder, Loader, State, Value};
use crate::Error;

/// The content of an object's allocation until it is built.
type Cell<T> = UnsafeCell<MaybeUninit<T>>;

fn mismatch(n: u64, ty: &str) -> Error {
    Error::ty(
        "",
        ty,
        format!("shared object {n}, already rebuilt as another type"),
    )
}

fn failed_error(n: u64) -> Error {
    Error::ty(
        "",
        "a shared object that could be rebuilt",
        format!("shared object {n}, whose rebuild failed earlier"),
    )
}

/// The error a build stops with to be retried (never seen outside the loader).
fn stop_error(n: u64) -> Error {
    Error::ty(
        "",
        "a build retried later",
        format!("shared object {n}, stopped to follow the load order"),
    )
}

macro_rules! shared_impls {
    ($modname:ident, $Rc:ident, $Weak:path, $name:literal) => {
        mod $modname {
            use super::*;
            #[allow(unused_imports)]
            use std::rc::Rc;
            #[allow(unused_imports)]
            use std::sync::Arc;
            use $Weak as Weak;

            /// Saves a strong or (upgraded) weak pointer.
            pub(super) fn save_ptr<T: State + 'static>(
                p: &$Rc<T>,
                weak: bool,
                e: &mut Encoder<'_>,
            ) -> Result<(), Error> {
                let addr = $Rc::as_ptr(p) as *const () as usize;
                let keep = p.clone();
                let writer = || -> HeapWriter {
                    let p = p.clone();
                    Box::new(move |e: &mut Encoder<'_>| e.put(&*p))
                };
                let ty = TypeId::of::<$Rc<T>>();
                match e.share_or_defer(addr, ty, weak, move || Box::new(keep), Some(writer))? {
                    Shared::Referenced => Ok(()),
                    Shared::Define(n) => {
                        let r = e.put(&**p);
                        e.end_share(n, weak);
                        r
                    }
                }
            }

            /// A `Weak<T>` to the allocation of an object not built yet.
            fn weak_to<T>(w: Weak<Cell<T>>) -> Weak<T> {
                // SAFETY: `Cell<T>` (`UnsafeCell<MaybeUninit<T>>`) has the size, alignment
                // and layout of `T` (both wrappers guarantee it), so the allocation behind `w`
                // is exactly the one a `Weak<T>` would own; this is the condition under which
                // `from_raw` documents casting between pointee types, and `Weak::from_raw`
                // finds the allocation from `T`'s alignment only. The weak count moves from
                // `w` to the result unchanged. Dropping a `Weak<T>` never drops the value, so
                // an allocation that is never initialised is only ever freed, never read.
                unsafe { Weak::from_raw(Weak::into_raw(w).cast::<T>()) }
            }

            /// Builds object `n` (empty or reserved) by loading its content; on success the
            /// slot holds the `Rc<T>`. When the build has to stop (to be retried), the
            /// object is left reserved, allocation kept; when it fails, failed.
            fn build<T: State + 'static>(l: &mut Loader, n: u64) -> Result<(), Error> {
                let reserved = match l.slot(n)? {
                    Slot::Built(_) => return Ok(()),
                    Slot::Building(_) => {
                        l.blocked = true;
                        return Err(cycle_error(n));
                    }
                    Slot::Failed => return Err(failed_error(n)),
                    Slot::Empty => None,
                    Slot::Reserved(a, _) => Some(
                        a.downcast_ref::<$Rc<Cell<T>>>()
                            .cloned()
                            .ok_or_else(|| mismatch(n, $name))?,
                    ),
                };
                let content = match l.content(n) {
                    Ok(v) => v,
                    Err(e) => {
                        l.set_slot(n, Slot::Failed);
                        return Err(e);
                    }
                };
                let mut err = None;
                let cell = match reserved {
                    None => $Rc::<Cell<T>>::new_cyclic(|w| {
                        l.set_slot(n, Slot::Building(Box::new(w.clone())));
                        let (value, e) = load_content::<T>(l, n, content);
                        err = e;
                        // The strong count is 0 until this returns: no `Weak` handed out
                        // during the load could be upgraded.
                        UnsafeCell::new(value)
                    }),
                    Some(cell) => {
                        l.set_slot(n, Slot::Building(Box::new($Rc::downgrade(&cell))));
                        let (value, e) = load_content::<T>(l, n, content);
                        err = e;
                        if err.is_none() {
                            // SAFETY: the pointer comes from a shared reference to the
                            // `UnsafeCell`, which allows writing through it; nothing reads or
                            // borrows the cell meanwhile (the object is not built, so no
                            // `Rc<T>` to it exists and the loader reads it nowhere). The
                            // write replaces an uninitialised `MaybeUninit`: nothing to drop.
                            unsafe { cell.get().write(value) };
                        }
                        cell
                    }
                };
                match err {
                    None => {
                        // SAFETY: the value was written (by `new_cyclic` or above), so the
                        // cell holds an initialised `T`; `Cell<T>` and `T` have the same size
                        // and alignment, which is what `from_raw` requires of a pointer from
                        // `into_raw` of another pointee type.
                        let p: $Rc<T> = unsafe { $Rc::from_raw($Rc::into_raw(cell).cast::<T>()) };
                        l.built(n, Box::new(p));
                        Ok(())
                    }
                    Some(e) if l.stopping() => {
                        // Retried by whoever handles the stop; queued too, so that it is
                        // complete before control leaves the loader in any case.
                        l.set_slot(n, Slot::Reserved(Box::new(cell), build::<T>));
                        l.queue.push(n);
                        Err(e)
                    }
                    Some(e) => {
                        // The value was never written: dropping the cell drops a `MaybeUninit`,
                        // which does nothing, and the `Weak` pointers to it now dangle.
                        l.set_slot(n, Slot::Failed);
                        drop(cell);
                        Err(e)
                    }
                }
            }

            /// Loads the content of object `n`: the value, or `uninit` and why not.
            fn load_content<T: State>(
                l: &mut Loader,
                n: u64,
                content: Value,
            ) -> (MaybeUninit<T>, Option<Error>) {
                l.depth += 1;
                let r = l.load::<T>(content);
                l.depth -= 1;
                match r {
                    Ok(v) if !l.stopping() => (MaybeUninit::new(v), None),
                    // A stop swallowed by a `load`: the value is not the right one.
                    Ok(_) => (MaybeUninit::uninit(), Some(stop_error(n))),
                    Err(e) => (MaybeUninit::uninit(), Some(e)),
                }
            }

            fn built<T: 'static>(l: &Loader, n: u64) -> Result<$Rc<T>, Error> {
                match l.slot(n)? {
                    Slot::Built(b) => b
                        .downcast_ref::<$Rc<T>>()
                        .cloned()
                        .ok_or_else(|| mismatch(n, $name)),
                    _ => Err(failed_error(n)),
                }
            }

            /// The strong pointer to shared object `n`, building it if needed.
            pub(super) fn get_strong<T: State + 'static>(
                l: &mut Loader,
                n: u64,
            ) -> Result<$Rc<T>, Error> {
                match l.slot(n)? {
                    Slot::Built(_) => return built(l, n),
                    Slot::Building(_) => {
                        // Either a strong cycle, or a `Weak` further out started the build
                        // of this reference's owner too early: see `get_weak`.
                        l.blocked = true;
                        return Err(cycle_error(n));
                    }
                    Slot::Failed => return Err(failed_error(n)),
                    Slot::Empty | Slot::Reserved(..) => {}
                }
                if !l.driving {
                    l.run(n, build::<T>)?;
                } else if !l.too_deep() {
                    l.drive(n, build::<T>)?;
                } else {
                    // Too deep to build here: the build in progress stops, and is retried by
                    // the enclosing `drive` once this object is built.
                    l.need = Some((n, build::<T>));
                    return Err(stop_error(n));
                }
                built(l, n)
            }

            /// The weak pointer to shared object `n`: built first if it can be done now,
            /// else to its allocation, complete before control leaves the loader.
            pub(super) fn get_weak<T: State + 'static>(
                l: &mut Loader,
                n: u64,
            ) -> Result<Weak<T>, Error> {
                match l.slot(n)? {
                    Slot::Built(_) => return built::<T>(l, n).map(|p| $Rc::downgrade(&p)),
                    Slot::Building(w) => {
                        return w
                            .downcast_ref::<Weak<Cell<T>>>()
                            .cloned()
                            .map(weak_to)
                            .ok_or_else(|| mismatch(n, $name))
                    }
                    Slot::Reserved(a, _) => {
                        return a
                            .downcast_ref::<$Rc<Cell<T>>>()
                            .map(|a| weak_to($Rc::downgrade(a)))
                            .ok_or_else(|| mismatch(n, $name))
                    }
                    Slot::Failed => return Err(failed_error(n)),
                    Slot::Empty => {}
                }
                if !l.driving {
                    l.run(n, build::<T>)?;
                    return built::<T>(l, n).map(|p| $Rc::downgrade(&p));
                }
                if !l.too_deep() {
                    match l.drive(n, build::<T>) {
                        Ok(()) => return built::<T>(l, n).map(|p| $Rc::downgrade(&p)),
                        Err(e) if !l.stopping() => return Err(e),
                        Err(_) => {
                            // Its build stopped: it needs (strongly) an object being built
                            // further out. A `Weak` does not need it complete now: it stays
                            // reserved and queued, and is retried once that one is built.
                            l.need = None;
                            l.blocked = false;
                            return get_weak(l, n);
                        }
                    }
                }
                let cell = $Rc::new(UnsafeCell::new(MaybeUninit::<T>::uninit()));
                let w = weak_to($Rc::downgrade(&cell));
                l.set_slot(n, Slot::Reserved(Box::new(cell), build::<T>));
                l.queue.push(n);
                Ok(w)
            }

            impl<T: State + 'static> State for $Rc<T> {
                fn placeholder() -> Option<Self> {
                    T::placeholder().map($Rc::new)
                }

                fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                    save_ptr(self, false, e)
                }
                fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                    match v {
                        Value::Shared(n) | Value::Ref(n) => get_strong(l, n),
                        // Not shared (an image edited or produced by hand): a fresh object.
                        other => l.load(other).map($Rc::new),
                    }
                }
            }

            impl<T: State + 'static> State for Weak<T> {
                /// A dangling weak pointer is saved as null and loads as `Weak::new()`.
                fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                    match self.upgrade() {
                        Some(p) => save_ptr(&p, true, e),
                        None => {
                            e.null();
                            Ok(())
                        }
                    }
                }
                fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                    match v {
                        Value::Shared(n) | Value::Ref(n) => get_weak(l, n),
                        Value::Null => Ok(Weak::new()),
                        other => Err(Error::ty("", concat!($name, " weak pointer"), other.kind())),
                    }
                }
            }
        }
    };
}

shared_impls!(rc_impls, Rc, std::rc::Weak, "Rc");
shared_impls!(arc_impls, Arc, std::sync::Weak, "Arc");
