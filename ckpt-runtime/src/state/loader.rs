//! The loader: turns values into Rust values and rebuilds shared objects exactly once.
//!
//! How shared objects are rebuilt (the pointer-specific parts are in `shared.rs`):
//!
//! - Every object has one allocation for its whole life in the loader, made before or when
//!   its build starts, so a `Weak` handed out at any time points at the final object.
//! - Builds nest (an object's `load` builds the objects it points to) only while they use
//!   less than [`NESTING_STACK`] bytes of stack below the point where the loader started
//!   driving them. Beyond that, an object reached through a `Weak` is *reserved*
//!   (allocated, uninitialised) and queued; an object needed through a strong pointer stops
//!   the build that needs it, and the nearest enclosing strong request ([`Loader::drive`])
//!   builds it and retries the stopped build, from a loop over an explicit work stack. So the
//!   call stack stays bounded however the objects point to each other, and a stop only undoes
//!   the one build that could not go deeper.
//! - Outside any build, a needed shared object is built by [`Loader::run`], which also
//!   drains the queue: the `Rc`, `Arc` or `Weak` handed back is complete, and so is every
//!   object reachable from it. No reserved object is left when control goes back to the
//!   caller of [`Loader::load`].
//! - A build that fails leaves its object *failed*: its allocation is released without
//!   ever being read or dropped as a value, and the `Weak` pointers to it dangle.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use super::code::Origin;
use super::tree::{grow_for_loop, on_new_segment, Headroom};
use super::{State, Value};
use crate::Error;

/// Stack that nested builds may use below the point where the loader started driving
/// them (plus what one object's own `load` needs).
pub(crate) const NESTING_STACK: usize = 64 << 10;
/// And at most this many nested builds, whatever their frames weigh.
const MAX_NESTED: u32 = 256;

/// Builds shared object `n` (the monomorphised builder of its type).
pub(crate) type BuildFn = fn(&mut Loader, u64) -> Result<(), Error>;

/// What the loader knows about the n-th shared object.
pub(crate) enum Slot {
    /// Not built and not allocated yet (its content is still in the table).
    Empty,
    /// Allocated, not built yet (`Rc<Cell<T>>`, see `shared.rs`), with its builder.
    Reserved(Box<dyn Any>, BuildFn),
    /// Being built: the `Weak` handed to references meanwhile (`Weak<Cell<T>>`).
    Building(Box<dyn Any>),
    /// Built: holds one strong `Rc`/`Arc`, cloned for every later reference.
    Built(Box<dyn Any>),
    /// Its build failed; the allocation is gone.
    Failed,
}

/// The shared objects of decoded values (their definitions, by index, as
/// [`decode`](super::decode) leaves them), with what a [`Loader`] must know about where
/// they come from: for an image, the executable that wrote it (code pointers are only
/// restored by that one; see [`code`](super::code)).
///
/// Derefs to the `Vec` of definitions; a plain `Vec` converts into one of unknown origin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedTable {
    values: Vec<Option<Value>>,
    origin: Origin,
}

impl SharedTable {
    /// The table of an image whose header names the executable `exe` that wrote it.
    pub(crate) fn of_image(values: Vec<Option<Value>>, exe: Option<String>) -> Self {
        SharedTable {
            values,
            origin: Origin::Image(exe),
        }
    }

    /// The definitions.
    pub fn into_vec(self) -> Vec<Option<Value>> {
        self.values
    }
}

impl From<Vec<Option<Value>>> for SharedTable {
    fn from(values: Vec<Option<Value>>) -> Self {
        SharedTable {
            values,
            origin: Origin::Unknown,
        }
    }
}

impl std::ops::Deref for SharedTable {
    type Target = Vec<Option<Value>>;
    fn deref(&self) -> &Self::Target {
        &self.values
    }
}

impl std::ops::DerefMut for SharedTable {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.values
    }
}

/// Loads values of one image. Owns the table of shared objects (their definitions) and
/// the objects already rebuilt from it, so every `Rc`/`Arc` of the image is built once,
/// whatever the order in which values are loaded.
pub struct Loader {
    table: Vec<Option<Value>>,
    /// Which executable wrote the values (for code pointers).
    pub(crate) origin: Origin,
    pub(crate) slots: Vec<Slot>,
    /// Builds in progress on the call stack.
    pub(crate) depth: u32,
    /// [`run`](Self::run) is active: builds are driven by its loop.
    pub(crate) driving: bool,
    /// Reserved objects waiting for their build (may hold objects built meanwhile).
    pub(crate) queue: Vec<u64>,
    /// The build in progress stops: this object (too deep to build now) is needed first.
    pub(crate) need: Option<(u64, BuildFn)>,
    /// The builds in progress stop: a strong pointer to an object under construction was
    /// requested. Either a reference through a `Weak` further out started that build too
    /// early (its target is then reserved instead, see `get_weak`), or this is a strong
    /// cycle.
    pub(crate) blocked: bool,
    /// Build retries in the current [`run`](Self::run), against runaway inputs.
    attempts: u64,
    /// Where the stack was when [`run`](Self::run) started.
    stack_base: usize,
    /// The stack room known for nested loads.
    room: Headroom,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("shared", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new(Vec::new())
    }
}

impl Loader {
    /// A loader over the shared table produced by [`decode`](super::decode) (a `Vec`), or
    /// by [`image::read`](crate::image::read) (an [`Image`](crate::image::Image)'s
    /// `shared`, which also says which executable wrote the image).
    pub fn new(shared: impl Into<SharedTable>) -> Self {
        let SharedTable { values, origin } = shared.into();
        let slots = values.iter().map(|_| Slot::Empty).collect();
        Loader {
            table: values,
            origin,
            slots,
            depth: 0,
            driving: false,
            queue: Vec::new(),
            need: None,
            blocked: false,
            attempts: 0,
            stack_base: 0,
            room: Headroom::default(),
        }
    }

    /// Loads one value. `State` impls load the values they hold through this (not by
    /// calling their `load` directly): it grows the stack when little is left, so values
    /// nested a million deep (a long `Option<Box<Node>>` list) load without overflowing it.
    #[inline(always)]
    pub fn load<T: State>(&mut self, v: Value) -> Result<T, Error> {
        if !T::TAKES_DYN && matches!(v, Value::Tag(crate::state::DYN_TAG, _)) {
            return self.load_unwrapped(v);
        }
        if self.room.ok() {
            T::load(v, self)
        } else {
            self.load_slow(v)
        }
    }

    /// A trait object's envelope (`{type, dyn, ctor, v}`, see `ckpt::__private::save_dyn`)
    /// loaded as the type inside it, which must be `T`.
    #[cold]
    #[inline(never)]
    fn load_unwrapped<T: State>(&mut self, v: Value) -> Result<T, Error> {
        let Value::Tag(_, inner) = v else {
            return Err(Error::ty("", "a trait object", v.kind()));
        };
        let mut fields = inner.into_fields("a trait object")?;
        let ty: String = fields.take("type", self)?;
        let want = std::any::type_name::<T>();
        if ty != want {
            return Err(Error::ty("", format!("a `{want}`"), format!("a `{ty}`")));
        }
        let value: Value = fields.take_with("v", self, |v, _| Ok(v))?;
        self.load(value)
    }

    /// [`load`](Self::load) after the fast stack check failed: the full check, and the
    /// load on a new stack segment if this one is nearly used up.
    #[cold]
    #[inline(never)]
    fn load_slow<T: State>(&mut self, v: Value) -> Result<T, Error> {
        if self.room.refresh() {
            return T::load(v, self);
        }
        // The segment's room is learnt by the first check on it; this stack's is kept.
        let room = std::mem::take(&mut self.room);
        let r = on_new_segment(|| T::load(v, self));
        self.room = room;
        r
    }

    /// Number of shared objects in the image.
    pub fn shared_len(&self) -> usize {
        self.table.len()
    }

    /// The definition of shared object `n`, still unbuilt (for inspection).
    pub fn shared(&self, n: u64) -> Option<&Value> {
        self.table.get(usize::try_from(n).ok()?)?.as_ref()
    }

    pub(crate) fn slot(&self, n: u64) -> Result<&Slot, Error> {
        usize::try_from(n)
            .ok()
            .and_then(|i| self.slots.get(i))
            .ok_or_else(|| {
                Error::ty(
                    "",
                    "a defined shared value",
                    format!("reference to shared value {n}, which does not exist"),
                )
            })
    }

    pub(crate) fn set_slot(&mut self, n: u64, s: Slot) {
        self.slots[n as usize] = s;
    }

    /// Whether the builds in progress are stopping (to be retried).
    pub(crate) fn stopping(&self) -> bool {
        self.need.is_some() || self.blocked
    }

    /// The content of object `n` for one build attempt. Taken from the table when it holds
    /// no shared links (such a build is never stopped); cloned otherwise, for a retry.
    pub(crate) fn content(&mut self, n: u64) -> Result<Value, Error> {
        let entry = &mut self.table[n as usize];
        match entry {
            Some(v) if has_links(v) => Ok(v.clone()),
            Some(_) => Ok(entry.take().unwrap_or(Value::Null)),
            None => Err(Error::ty(
                "",
                "a shared value",
                format!("shared value {n}, which has no definition"),
            )),
        }
    }

    /// Records object `n` as built (`p`: its strong pointer) and frees its content.
    pub(crate) fn built(&mut self, n: u64, p: Box<dyn Any>) {
        self.slots[n as usize] = Slot::Built(p);
        self.table[n as usize] = None;
    }

    /// Builds retried in the last [`run`](Self::run).
    #[cfg(test)]
    pub(crate) fn retries(&self) -> u64 {
        self.attempts
    }

    /// Whether a build started now would nest too deep: it must not be started here. (On
    /// another stack segment than `run`'s, the distance is huge: too deep, which is right.)
    pub(crate) fn too_deep(&self) -> bool {
        self.depth >= MAX_NESTED || stack_pos().abs_diff(self.stack_base) > NESTING_STACK
    }

    /// Builds object `n` with `build`, and everything reserved meanwhile: the entry point
    /// outside any build. On failure, every object not built is failed.
    pub(crate) fn run(&mut self, n: u64, build: BuildFn) -> Result<(), Error> {
        debug_assert!(!self.driving && self.depth == 0);
        self.driving = true;
        self.attempts = 0;
        // On a stack with room for the nested builds (a new segment if this one is nearly
        // used up): `too_deep` measures their depth from here, within one segment.
        let r = grow_for_loop(|| {
            self.stack_base = stack_pos();
            panic::catch_unwind(AssertUnwindSafe(|| {
                self.drive(n, build)?;
                while let Some(m) = self.queue.pop() {
                    if let Slot::Reserved(_, b) = self.slots[m as usize] {
                        self.drive(m, b)?;
                    }
                }
                Ok(())
            }))
        });
        self.driving = false;
        self.depth = 0;
        self.need = None;
        self.blocked = false;
        if !matches!(r, Ok(Ok(()))) {
            self.fail_unbuilt();
        }
        match r {
            Ok(r) => r,
            Err(p) => panic::resume_unwind(p),
        }
    }

    /// Builds object `n` with `build` at the current depth. When the build stops because it
    /// needs an object it could not build deeper, builds that one first (here, so at most
    /// one build is undone per stop), then retries; over an explicit work stack, so a chain
    /// of such needs costs no call stack. A stop on an object under construction (`blocked`)
    /// and failures are passed on.
    pub(crate) fn drive(&mut self, n: u64, build: BuildFn) -> Result<(), Error> {
        match build(self, n) {
            Ok(()) => return Ok(()),
            Err(e) if self.need.is_none() => return Err(e),
            Err(_) => {}
        }
        let mut work: Vec<(u64, BuildFn)> = vec![(n, build)];
        let mut waiting: super::FixedSet<u64> = [n].into_iter().collect();
        let limit = 64 * self.slots.len() as u64 + 1024;
        while let Some(&(m, build)) = work.last() {
            if let Some((k, b)) = self.need.take() {
                if !waiting.insert(k) {
                    // Needed again by what it needs: a cycle of strong pointers.
                    return Err(cycle_error(k));
                }
                work.push((k, b));
                continue;
            }
            if matches!(self.slots[m as usize], Slot::Built(_)) {
                work.pop();
                continue;
            }
            self.attempts += 1;
            if self.attempts > limit {
                return Err(Error::ty(
                    "",
                    "shared objects that can be rebuilt in some order",
                    "a load order that does not converge",
                ));
            }
            match build(self, m) {
                Ok(()) => {
                    work.pop();
                }
                Err(e) if self.need.is_none() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Fails every object allocated but not built (after a failed load): releases the
    /// allocations, never read nor dropped as values, so the `Weak` pointers to them dangle.
    fn fail_unbuilt(&mut self) {
        self.queue.clear();
        for s in &mut self.slots {
            if matches!(s, Slot::Reserved(..) | Slot::Building(_)) {
                *s = Slot::Failed;
            }
        }
    }
}

/// Where the stack is (an address in the current frame).
#[inline(never)]
fn stack_pos() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// A strong pointer met an object under construction: a strong cycle.
pub(crate) fn cycle_error(n: u64) -> Error {
    Error::ty(
        "",
        "a shared object that is complete",
        format!("shared object {n} is still being rebuilt (a strong Rc/Arc cycle)"),
    )
}

/// Whether a value refers to other shared objects (not descending into them). Without
/// recursion: a shared object's content may be deep.
fn has_links(v: &Value) -> bool {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Shared(_) | Value::Ref(_) => return true,
            Value::Array(items) => todo.extend(items.iter().filter(|x| x.is_container())),
            Value::Map(entries) => {
                for (k, x) in entries.iter() {
                    for x in [k, x] {
                        match x {
                            Value::Shared(_) | Value::Ref(_) => return true,
                            x if x.is_container() => todo.push(x),
                            _ => {}
                        }
                    }
                }
            }
            Value::Tag(_, x) => todo.push(x),
            _ => {}
        }
    }
    false
}
