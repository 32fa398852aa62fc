//! `State` for std collections and cells.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, OnceLock, RwLock, TryLockError};

use super::tree::grow_for_loop;
use super::{Encoder, Loader, State, Value};
use crate::Error;

impl<T: State> State for Vec<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// Through the slice hook: one typed array for primitive numbers.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        T::save_slice(self, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l)
    }
}

impl<T: State> State for VecDeque<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// Like a `Vec` (a typed array when the ring buffer is contiguous).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self.as_slices() {
            (a, []) => T::save_slice(a, e),
            ([], b) => T::save_slice(b, e),
            _ => {
                e.array(self.len() as u64);
                grow_for_loop(|| self.iter().try_for_each(|x| e.put(x)))
            }
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l).map(VecDeque::from)
    }
}

impl<T: State + Ord> State for BinaryHeap<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// Its elements in the heap's own order (like a `Vec`), which a valid heap keeps on
    /// load: elements that compare equal pop in the same order after a restore.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put_slice(self.as_slice())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l).map(BinaryHeap::from)
    }
}

impl<T: State> State for LinkedList<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// An array, front first.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(self.len() as u64);
        grow_for_loop(|| self.iter().try_for_each(|x| e.put(x)))
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut list = LinkedList::new();
        let items = items(v, "LinkedList")?;
        grow_for_loop(|| {
            for (i, x) in items.into_iter().enumerate() {
                list.push_back(l.load(x).map_err(|e| e.within_index(i))?);
            }
            Ok(list)
        })
    }
}

fn entries(v: Value, ty: &str) -> Result<Vec<(Value, Value)>, Error> {
    match v {
        Value::Map(entries) => Ok(entries.into_vec()),
        other => Err(Error::ty("", format!("{ty} (a map)"), other.kind())),
    }
}

fn items(v: Value, ty: &str) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(items) => Ok(items.into_vec()),
        other => Err(Error::ty("", format!("{ty} (an array)"), other.kind())),
    }
}

/// Loads map entries; errors name the entry (`[3]`) and whether the key or value failed.
fn load_entries<K: State, V: State>(
    v: Value,
    ty: &str,
    l: &mut Loader,
    mut put: impl FnMut(K, V),
) -> Result<(), Error> {
    let entries = entries(v, ty)?;
    grow_for_loop(|| {
        for (i, (k, x)) in entries.into_iter().enumerate() {
            let k = l.load(k).map_err(|e| e.within("key").within_index(i))?;
            let x = l.load(x).map_err(|e| e.within_index(i))?;
            put(k, x);
        }
        Ok(())
    })
}

fn save_entries<'a, K: State + 'a, V: State + 'a>(
    len: usize,
    it: impl Iterator<Item = (&'a K, &'a V)>,
    e: &mut Encoder<'_>,
) -> Result<(), Error> {
    e.map(len as u64);
    grow_for_loop(|| {
        for (k, v) in it {
            e.put(k)?;
            e.put(v)?;
        }
        Ok(())
    })
}

/// A hash map's or set's items in a digest (`Encoder::is_digest`): each item's digest,
/// sorted, so the map's keys (its iteration order) do not count.
fn digest_items<'a, T: 'a>(
    it: impl Iterator<Item = T>,
    e: &mut Encoder<'_>,
    item: impl Fn(&mut Encoder<'_>, T) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut hs = it
        .map(|x| super::digest_of(|d| item(d, x)))
        .collect::<Result<Vec<u64>, Error>>()?;
    hs.sort_unstable();
    e.array(hs.len() as u64);
    for h in hs {
        e.uint(h);
    }
    Ok(())
}

impl<K: State + Eq + Hash, V: State, S: BuildHasher + Default> State for HashMap<K, V, S> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// A CBOR map in iteration order.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if e.is_digest() {
            return digest_items(self.iter(), e, |d, (k, v)| {
                d.put(k)?;
                d.put(v)
            });
        }
        save_entries(self.len(), self.iter(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut m = HashMap::with_hasher(S::default());
        load_entries(v, "HashMap", l, |k, x| {
            m.insert(k, x);
        })?;
        Ok(m)
    }
}

impl<K: State + Ord, V: State> State for BTreeMap<K, V> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_entries(self.len(), self.iter(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut m = BTreeMap::new();
        load_entries(v, "BTreeMap", l, |k, x| {
            m.insert(k, x);
        })?;
        Ok(m)
    }
}

impl<T: State + Eq + Hash, S: BuildHasher + Default> State for HashSet<T, S> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if e.is_digest() {
            return digest_items(self.iter(), e, |d, x| d.put(x));
        }
        e.array(self.len() as u64);
        grow_for_loop(|| self.iter().try_for_each(|x| e.put(x)))
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let items = items(v, "HashSet")?;
        let mut s = HashSet::with_capacity_and_hasher(items.len(), S::default());
        grow_for_loop(|| {
            for (i, x) in items.into_iter().enumerate() {
                s.insert(l.load(x).map_err(|e| e.within_index(i))?);
            }
            Ok(s)
        })
    }
}

impl<T: State + Ord> State for BTreeSet<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(self.len() as u64);
        grow_for_loop(|| self.iter().try_for_each(|x| e.put(x)))
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut s = BTreeSet::new();
        let items = items(v, "BTreeSet")?;
        grow_for_loop(|| {
            for (i, x) in items.into_iter().enumerate() {
                s.insert(l.load(x).map_err(|e| e.within_index(i))?);
            }
            Ok(s)
        })
    }
}

fn busy(what: &str) -> Error {
    Error::Unsaveable {
        at: String::new(),
        detail: format!(
            "the {what} is locked or mutably borrowed at the save point; release it before saving"
        ),
    }
}

impl<T: State> State for RefCell<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(RefCell::new)
    }

    /// The content; a `RefCell` mutably borrowed at the save point is [`Error::Unsaveable`].
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&*self.try_borrow().map_err(|_| busy("RefCell"))?)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(RefCell::new)
    }
}

impl<T: State + Copy> State for Cell<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(Cell::new)
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&self.get())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(Cell::new)
    }
}

/// `OnceCell` and `OnceLock` are saved like an `Option` of their content: `null` when
/// unset, else a one-item array.
macro_rules! once_state {
    ($($Once:ident)*) => {$(
        impl<T: State> State for $Once<T> {
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                match self.get() {
                    None => {
                        e.null();
                        Ok(())
                    }
                    Some(x) => {
                        e.array(1);
                        e.put(x)
                    }
                }
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                let cell = $Once::new();
                if let Some(x) = l.load::<Option<T>>(v)? {
                    // A new cell is unset: `set` cannot fail.
                    let _ = cell.set(x);
                }
                Ok(cell)
            }
        }
    )*};
}

once_state!(OnceCell OnceLock);

impl<T: State> State for Mutex<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(Mutex::new)
    }

    /// The content. A mutex held at the save point (by this thread or another) is
    /// [`Error::Unsaveable`] rather than a deadlock; a poisoned one is saved as is.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self.try_lock() {
            Ok(g) => e.put(&*g),
            Err(TryLockError::Poisoned(p)) => e.put(&*p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy("Mutex")),
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(Mutex::new)
    }
}

impl<T: State> State for RwLock<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(RwLock::new)
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self.try_read() {
            Ok(g) => e.put(&*g),
            Err(TryLockError::Poisoned(p)) => e.put(&*p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy("RwLock")),
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(RwLock::new)
    }
}
