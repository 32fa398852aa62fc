//! The loader: turns values into Rust values and rebuilds shared objects exactly once.

use std::any::Any;

use super::{State, Value};
use crate::Error;

/// What the loader knows about the n-th shared object.
pub(crate) enum Slot {
    /// Not built yet (its content is still in the table).
    Empty,
    /// Being built: holds the `Weak` handed to back-references meanwhile.
    Pending(Box<dyn Any>),
    /// Built: holds one strong `Rc`/`Arc`, cloned for every later reference.
    Built(Box<dyn Any>),
}

/// A deferred build that must run before the object it names can be built.
pub(crate) type Builder = Box<dyn FnOnce(&mut Loader) -> Result<(), Error>>;

/// Loads values of one image. Owns the table of shared objects (tag 28 definitions) and
/// the objects already rebuilt from it, so every `Rc`/`Arc` of the image is built once,
/// whatever the order in which values are loaded.
pub struct Loader {
    table: Vec<Option<Value>>,
    pub(crate) slots: Vec<Slot>,
    /// A strong reference met an object under construction (index).
    pub(crate) blocked: Option<u64>,
    /// Build this first, then retry the object under construction (index, builder).
    pub(crate) restart: Option<(u64, Builder)>,
    /// Objects with shared links built inside the builds in progress: undone if an
    /// enclosing build fails (they may point at its abandoned allocation).
    log: Vec<u64>,
    /// Builds in progress.
    depth: u32,
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
    /// A loader over the shared table produced by [`decode`](super::decode).
    pub fn new(shared: Vec<Option<Value>>) -> Self {
        let slots = shared.iter().map(|_| Slot::Empty).collect();
        Loader {
            table: shared,
            slots,
            blocked: None,
            restart: None,
            log: Vec::new(),
            depth: 0,
        }
    }

    /// Loads one value.
    pub fn load<T: State>(&mut self, v: Value) -> Result<T, Error> {
        T::load(v, self)
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

    /// Starts building object `n`: returns its content and the rollback mark. The content
    /// is taken from the table when it holds no shared links (such a build cannot depend on
    /// the order of loading); cloned otherwise, so a restarted build still finds it.
    pub(crate) fn begin_build(&mut self, n: u64) -> Result<(Value, usize), Error> {
        let entry = &mut self.table[n as usize];
        let v = match entry {
            Some(v) if has_links(v) => v.clone(),
            Some(_) => entry.take().unwrap_or(Value::Null),
            None => {
                return Err(Error::ty(
                    "",
                    "a shared value",
                    format!("shared value {n} used again after it was consumed"),
                ))
            }
        };
        self.depth += 1;
        Ok((v, self.log.len()))
    }

    /// Ends the build of object `n`. On failure, undoes the objects with links built
    /// since `mark`; when the outermost build succeeds, frees the retained contents.
    pub(crate) fn end_build(&mut self, n: u64, mark: usize, ok: bool) {
        self.depth -= 1;
        if ok {
            if self.table[n as usize].is_some() {
                self.log.push(n);
            }
            if self.depth == 0 {
                for i in self.log.drain(..) {
                    self.table[i as usize] = None;
                }
            }
        } else {
            for i in self.log.drain(mark..) {
                self.slots[i as usize] = Slot::Empty;
            }
        }
    }
}

/// Whether a value refers to other shared objects (not descending into them).
fn has_links(v: &Value) -> bool {
    match v {
        Value::Shared(_) | Value::Ref(_) => true,
        Value::Array(items) => items.iter().any(has_links),
        Value::Map(entries) => entries.iter().any(|(k, v)| has_links(k) || has_links(v)),
        Value::Tag(_, v) => has_links(v),
        _ => false,
    }
}
