//! The program's own globals: statics and `thread_local!` statics that can change.
//!
//! `main`'s `#[checkpointable]` registers each static and thread-local the crate root can
//! name (the build script's analysis lists them) before the agent starts. Every image
//! saves the registered ones in the `globals` component, by path (`"EVENTS"`,
//! `"stats::HITS"`), and a restore puts the values back before any user code runs.
//!
//! What can be registered is chosen by type (autoref specialization, [`GlobalYes`] before
//! [`GlobalNo`]):
//! - atomics (`AtomicU64`, `AtomicBool`, ...): saved as their value, stored back;
//! - `Mutex<T>` and `RwLock<T>`: the value inside, put back under the lock;
//! - `OnceLock<T>`: empty or its value, set back when the image has one;
//! - `LazyLock<T>` of any of these: forced, then as `T`;
//! - a `thread_local!` `Cell<T>` or `RefCell<T>` (of the main thread, the one that saves);
//! - `static mut` (see [`register_static_mut`]).
//!
//! A lock, cell or once of a type that is not [`State`] is a compile error at `main`,
//! naming the static; any other static cannot change and is left alone.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{self, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, RwLock};
use std::thread::LocalKey;

use crate::error::{Error, Result};
use crate::state::{Encoder, Loader, State, Value};

/// Writes the global at an address.
type SaveFn = fn(usize, &mut Encoder<'_>) -> Result<()>;
/// Puts a saved value back into the global at an address.
type RestoreFn = fn(usize, Value, &mut Loader) -> Result<()>;

/// A registered global: where it is and how to save and restore it.
struct Entry {
    /// Its path from the crate root.
    name: &'static str,
    /// Where it is declared (`src/main.rs:12`), for messages.
    at: &'static str,
    /// The address of the static or `LocalKey`.
    addr: usize,
    save: SaveFn,
    restore: RestoreFn,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn registry() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn register<T: 'static>(
    name: &'static str,
    at: &'static str,
    x: &'static T,
    save: SaveFn,
    restore: RestoreFn,
) {
    let mut r = registry();
    if r.iter().any(|e| e.name == name) {
        return;
    }
    r.push(Entry {
        name,
        at,
        addr: x as *const T as usize,
        save,
        restore,
    });
}

/// A global whose value can be written into an image and put back.
#[diagnostic::on_unimplemented(
    message = "a static or thread-local of type `{Self}` can change, but ckpt cannot save it",
    label = "a restore would start it from its initial value",
    note = "ckpt saves the statics and thread-locals that `main` can name: atomics, and `Mutex`, `RwLock`, `OnceLock`, `LazyLock` of those, thread-local `Cell` and `RefCell`, holding values that are `ckpt::State` (derive it); `cargo ckpt report` lists the globals"
)]
pub trait GlobalValue: 'static {
    /// Writes the value.
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()>;
    /// Puts a saved value back.
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()>;
}

fn save_at<T: GlobalValue>(addr: usize, e: &mut Encoder<'_>) -> Result<()> {
    // SAFETY: `addr` is the address of a `&'static T` registered with this function.
    let x: &'static T = unsafe { &*(addr as *const T) };
    x.save_global(e)
}

fn restore_at<T: GlobalValue>(addr: usize, v: Value, l: &mut Loader) -> Result<()> {
    // SAFETY: as in `save_at`.
    let x: &'static T = unsafe { &*(addr as *const T) };
    x.restore_global(v, l)
}

macro_rules! atomics {
    ($($A:ident $T:ty;)*) => {$(
        impl GlobalValue for atomic::$A {
            fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
                e.put(&self.load(Ordering::SeqCst))
            }
            fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
                let x: $T = l.load(v)?;
                self.store(x, Ordering::SeqCst);
                Ok(())
            }
        }
    )*};
}

atomics! {
    AtomicBool bool;
    AtomicU8 u8;
    AtomicU16 u16;
    AtomicU32 u32;
    AtomicU64 u64;
    AtomicUsize usize;
    AtomicI8 i8;
    AtomicI16 i16;
    AtomicI32 i32;
    AtomicI64 i64;
    AtomicIsize isize;
}

impl<T: State + Send + 'static> GlobalValue for Mutex<T> {
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        let g = self.lock().unwrap_or_else(|p| p.into_inner());
        e.put(&*g)
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        let x: T = l.load(v)?;
        *self.lock().unwrap_or_else(|p| p.into_inner()) = x;
        Ok(())
    }
}

impl<T: State + Send + Sync + 'static> GlobalValue for RwLock<T> {
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        let g = self.read().unwrap_or_else(|p| p.into_inner());
        e.put(&*g)
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        let x: T = l.load(v)?;
        *self.write().unwrap_or_else(|p| p.into_inner()) = x;
        Ok(())
    }
}

impl<T: State + Send + Sync + 'static> GlobalValue for OnceLock<T> {
    /// `null` while empty, else the value.
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        match self.get() {
            Some(x) => e.put(x),
            None => {
                e.null();
                Ok(())
            }
        }
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        if matches!(v, Value::Null) {
            return Ok(());
        }
        let x: T = l.load(v)?;
        // Set once: if the program set it already (before `main`), it keeps that value.
        let _ = self.set(x);
        Ok(())
    }
}

impl<T: GlobalValue + Sync + Send> GlobalValue for LazyLock<T> {
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        let inner: &'static T = LazyLock::force(self);
        inner.save_global(e)
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        let inner: &'static T = LazyLock::force(self);
        inner.restore_global(v, l)
    }
}

impl<T: State + Copy + 'static> GlobalValue for LocalKey<Cell<T>> {
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        e.put(&self.with(Cell::get))
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        let x: T = l.load(v)?;
        self.with(|c| c.set(x));
        Ok(())
    }
}

impl<T: State + 'static> GlobalValue for LocalKey<RefCell<T>> {
    fn save_global(&'static self, e: &mut Encoder<'_>) -> Result<()> {
        self.with(|c| match c.try_borrow() {
            Ok(g) => e.put(&*g),
            Err(_) => Err(Error::Unsaveable {
                at: "a thread-local RefCell".into(),
                detail: "it is borrowed mutably at the save point; end the borrow before saving"
                    .into(),
            }),
        })
    }
    fn restore_global(&'static self, v: Value, l: &mut Loader) -> Result<()> {
        let x: T = l.load(v)?;
        self.with(|c| *c.borrow_mut() = x);
        Ok(())
    }
}

/// Registers a static or thread-local that can change, from `main` before the agent
/// starts. `name` is its path from the crate root, `at` where it is declared.
pub fn register_global<T: GlobalValue>(name: &'static str, at: &'static str, x: &'static T) {
    register(name, at, x, save_at::<T>, restore_at::<T>);
}

fn save_mut<T: State>(addr: usize, e: &mut Encoder<'_>) -> Result<()> {
    // SAFETY: `addr` is the address of the `static mut` registered with this function; a
    // save runs on the thread that calls `ckpt::save()`, between the program's own
    // accesses (a single-threaded program cannot be writing it meanwhile).
    let x: &T = unsafe { &*(addr as *const T) };
    e.put(x)
}

fn restore_mut<T: State>(addr: usize, v: Value, l: &mut Loader) -> Result<()> {
    let x: T = l.load(v)?;
    // SAFETY: as in `save_mut`; a restore runs before any user code.
    unsafe { *(addr as *mut T) = x };
    Ok(())
}

/// Registers a `static mut NAME: T` (by `&raw mut NAME`): saved and put back like any
/// other global.
pub fn register_static_mut<T: State + 'static>(name: &'static str, at: &'static str, x: *mut T) {
    let mut r = registry();
    if r.iter().any(|e| e.name == name) {
        return;
    }
    r.push(Entry {
        name,
        at,
        addr: x as usize,
        save: save_mut::<T>,
        restore: restore_mut::<T>,
    });
}

/// The `globals` component: `{path: value}` for every registered global.
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    let list: Vec<(&'static str, &'static str, usize, SaveFn)> = registry()
        .iter()
        .map(|g| (g.name, g.at, g.addr, g.save))
        .collect();
    e.map(list.len() as u64);
    for (name, at, addr, save) in list {
        e.text(name);
        save(addr, e).map_err(|err| match err {
            Error::Unsaveable { detail, .. } => Error::Unsaveable {
                at: format!("the global `{name}` ({at})"),
                detail,
            },
            other => other,
        })?;
    }
    Ok(())
}

/// Puts back the globals an image saved. A global this build does not register (the
/// image is of the same build, so only a registration that did not run) is an error.
pub(crate) fn restore_component(v: Value, l: &mut Loader) -> Result<()> {
    let Value::Map(entries) = v else {
        return Err(Error::ty("globals", "a map", v.kind()));
    };
    let list: Vec<(&'static str, usize, RestoreFn)> = registry()
        .iter()
        .map(|g| (g.name, g.addr, g.restore))
        .collect();
    for (k, val) in entries.into_iter() {
        let Value::Text(name) = k else {
            return Err(Error::ty("globals", "a global's name", k.kind()));
        };
        let Some((_, addr, restore)) = list.iter().find(|(n, _, _)| *n == name) else {
            return Err(Error::ty(
                "globals",
                "a global this program registers",
                format!("`{name}`"),
            ));
        };
        restore(*addr, val, l).map_err(|e| e.within(&name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
