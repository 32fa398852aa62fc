//! `Rc`/`Arc`/`Weak`: saved once by identity (tag 28 around the first occurrence, tag 29 +
//! index for the others), rebuilt once by the [`Loader`], in any order of loading.
//!
//! Objects are built with `new_cyclic`, so a `Weak` back-reference met while its target is
//! being built points at the right allocation, and cannot be upgraded before the target is
//! complete (its strong count is still 0). Strong cycles are refused at save time: they
//! could only be rebuilt by handing out strong pointers to uninitialised memory, which any
//! `State::load` could dereference.
//!
//! Loading out of order (a child first, whose `Weak` parent owns the child strongly) is
//! handled by a restart: the child's build stops, the parent is built (which builds the
//! child inside it), and the child is then taken from the parent.

use std::any::TypeId;
use std::mem::MaybeUninit;

use super::encode::Shared;
use super::loader::Slot;
use super::{Encoder, Loader, State, Value};
use crate::Error;

/// How many times one object's build may be restarted before giving up.
const MAX_RESTARTS: u32 = 16;

fn cycle_error(n: u64) -> Error {
    Error::ty(
        "",
        "a shared object that is complete",
        format!("shared object {n} is still being rebuilt (a strong cycle, or an unsupported load order)"),
    )
}

fn mismatch(n: u64, ty: &str) -> Error {
    Error::ty(
        "",
        ty,
        format!("shared object {n}, already rebuilt as another type"),
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
                match e.share(addr, TypeId::of::<$Rc<T>>(), weak, move || Box::new(keep))? {
                    Shared::Referenced => Ok(()),
                    Shared::Define(n) => {
                        let r = (**p).save(e);
                        e.end_share(n, weak);
                        r
                    }
                }
            }

            /// The strong pointer to shared object `n`, building it if needed.
            pub(super) fn get_strong<T: State + 'static>(
                l: &mut Loader,
                n: u64,
            ) -> Result<$Rc<T>, Error> {
                let mut restarts = 0;
                loop {
                    match l.slot(n)? {
                        Slot::Built(b) => {
                            return b
                                .downcast_ref::<$Rc<T>>()
                                .cloned()
                                .ok_or_else(|| mismatch(n, $name));
                        }
                        Slot::Pending(_) => {
                            l.blocked = Some(n);
                            return Err(cycle_error(n));
                        }
                        Slot::Empty => {}
                    }
                    match build::<T>(l, n) {
                        Ok(p) => return Ok(p),
                        Err(e) => {
                            let mine = l.restart.as_ref().is_some_and(|(x, _)| *x == n);
                            if !mine || restarts >= MAX_RESTARTS {
                                return Err(e);
                            }
                            restarts += 1;
                            if let Some((_, first)) = l.restart.take() {
                                first(l)?;
                            }
                        }
                    }
                }
            }

            fn build<T: State + 'static>(l: &mut Loader, n: u64) -> Result<$Rc<T>, Error> {
                let (content, mark) = l.begin_build(n)?;
                let mut failed = None;
                let p = $Rc::<MaybeUninit<T>>::new_cyclic(|w| {
                    // SAFETY: `MaybeUninit<T>` has the size, alignment and layout of `T`, so the
                    // allocation behind `w` is exactly the one a `Weak<T>` would own; this is the
                    // condition under which `from_raw` documents casting between pointee types,
                    // and `Weak::from_raw` locates the allocation from `T`'s alignment only. The
                    // strong count is 0 until `new_cyclic` returns, so no `Weak<T>` handed out can
                    // be upgraded before the value is complete; dropping a `Weak<T>` never drops
                    // the value, so the uninitialised case below is never read.
                    let weak: Weak<T> =
                        unsafe { Weak::from_raw(Weak::into_raw(w.clone()).cast::<T>()) };
                    l.set_slot(n, Slot::Pending(Box::new(weak)));
                    match T::load(content, l) {
                        Ok(v) => MaybeUninit::new(v),
                        Err(e) => {
                            failed = Some(e);
                            MaybeUninit::uninit()
                        }
                    }
                });
                if let Some(e) = failed {
                    // The allocation holds no value: it is freed (as MaybeUninit, never dropped
                    // as `T`) when the last `Weak` handed out during the failed build goes.
                    l.set_slot(n, Slot::Empty);
                    l.end_build(n, mark, false);
                    return Err(e);
                }
                // SAFETY: the closure returned `MaybeUninit::new(v)`: the value is initialised.
                let p = unsafe { p.assume_init() };
                l.set_slot(n, Slot::Built(Box::new(p.clone())));
                l.end_build(n, mark, true);
                Ok(p)
            }

            /// The weak pointer to shared object `n`: to the object under construction if it is
            /// pending, else to the built object.
            pub(super) fn get_weak<T: State + 'static>(
                l: &mut Loader,
                n: u64,
            ) -> Result<Weak<T>, Error> {
                match l.slot(n)? {
                    Slot::Built(b) => {
                        return b
                            .downcast_ref::<$Rc<T>>()
                            .map($Rc::downgrade)
                            .ok_or_else(|| mismatch(n, $name))
                    }
                    Slot::Pending(w) => {
                        return w
                            .downcast_ref::<Weak<T>>()
                            .cloned()
                            .ok_or_else(|| mismatch(n, $name))
                    }
                    Slot::Empty => {}
                }
                l.blocked = None;
                match get_strong::<T>(l, n) {
                    Ok(p) => Ok($Rc::downgrade(&p)),
                    Err(e) => {
                        // Building the target needed (strongly) an object whose build is in
                        // progress further out: restart that one after building this target.
                        if let Some(x) = l.blocked.take() {
                            if l.restart.is_none() && matches!(l.slot(x), Ok(Slot::Pending(_))) {
                                l.restart = Some((
                                    x,
                                    Box::new(move |l: &mut Loader| get_strong::<T>(l, n).map(drop)),
                                ));
                            }
                        }
                        Err(e)
                    }
                }
            }

            impl<T: State + 'static> State for $Rc<T> {
                fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                    save_ptr(self, false, e)
                }
                fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                    match v {
                        Value::Shared(n) | Value::Ref(n) => get_strong(l, n),
                        // Not shared (an image edited or produced by hand): a fresh object.
                        other => T::load(other, l).map($Rc::new),
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
