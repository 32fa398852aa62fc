//! [`HashMap`]: std's `HashMap` API over an insertion-ordered table.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::{Index, IndexMut};

use indexmap::IndexMap;

use crate::state::{Encoder, Loader, StableOrder, State, Value};
use crate::Error;

pub use indexmap::map::{
    Drain, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut,
};

/// A hash map with std's `HashMap` API whose iteration order is the insertion order.
///
/// The order is a pure function of the program's own operations, never of the hasher
/// or of addresses: a key keeps the position of its first insertion (re-inserting an
/// existing key only replaces the value), and [`remove`](Self::remove) closes the gap
/// while keeping the other entries in order (O(n), like `Vec::remove`).
/// [`swap_remove`](Self::swap_remove) is the O(1) alternative: it moves the last entry
/// into the gap, which is still deterministic, just a different order.
///
/// A checkpoint saves the entries in this order and a restore re-inserts them in the
/// same order, so the restored map iterates exactly like the original and keeps doing
/// so under further identical operations. This is why its borrowed iterators are
/// [`StableOrder`]: a `for` loop over a map may hold a save point and resume by
/// position.
///
/// The hasher (`S`, std's `RandomState` by default: DoS-resistant keys) only speeds up
/// lookups. It is not saved: a restore builds a fresh `S::default()`, which changes no
/// order.
pub struct HashMap<K, V, S = RandomState> {
    inner: IndexMap<K, V, S>,
}

impl<K, V> HashMap<K, V, RandomState> {
    /// An empty map.
    pub fn new() -> Self {
        HashMap {
            inner: IndexMap::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        HashMap {
            inner: IndexMap::with_capacity(n),
        }
    }
}

impl<K, V, S> HashMap<K, V, S> {
    /// An empty map using `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        HashMap {
            inner: IndexMap::with_hasher(hasher),
        }
    }

    /// An empty map with room for `n` entries, using `hasher`.
    pub fn with_capacity_and_hasher(n: usize, hasher: S) -> Self {
        HashMap {
            inner: IndexMap::with_capacity_and_hasher(n, hasher),
        }
    }

    /// The hasher.
    pub fn hasher(&self) -> &S {
        self.inner.hasher()
    }

    /// How many entries fit without reallocating.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.inner.iter()
    }

    /// The entries in insertion order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        self.inner.iter_mut()
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> Keys<'_, K, V> {
        self.inner.keys()
    }

    /// The values in insertion order.
    pub fn values(&self) -> Values<'_, K, V> {
        self.inner.values()
    }

    /// The values in insertion order, mutable.
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        self.inner.values_mut()
    }

    /// The keys in insertion order, by value.
    pub fn into_keys(self) -> IntoKeys<K, V> {
        self.inner.into_keys()
    }

    /// The values in insertion order, by value.
    pub fn into_values(self) -> IntoValues<K, V> {
        self.inner.into_values()
    }

    /// Removes and yields every entry in insertion order.
    pub fn drain(&mut self) -> Drain<'_, K, V> {
        self.inner.drain(..)
    }

    /// Removes every entry; keeps the allocation.
    pub fn clear(&mut self) {
        self.inner.clear()
    }

    /// Keeps the entries for which `f` is true; the kept ones stay in order.
    pub fn retain<F: FnMut(&K, &mut V) -> bool>(&mut self, f: F) {
        self.inner.retain(f)
    }

    /// The entry at `index` in iteration order.
    pub fn get_index(&self, index: usize) -> Option<(&K, &V)> {
        self.inner.get_index(index)
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> HashMap<K, V, S> {
    /// Makes room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        self.inner.reserve(n)
    }

    /// Shrinks the allocation to the length.
    pub fn shrink_to_fit(&mut self) {
        self.inner.shrink_to_fit()
    }

    /// Inserts `v` at `k`; returns the old value. A new key goes last; an existing key
    /// keeps its position.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        self.inner.insert(k, v)
    }

    /// The value at `k`.
    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get(k)
    }

    /// The value at `k`, mutable.
    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get_mut(k)
    }

    /// The stored key and the value at `k`.
    pub fn get_key_value<Q>(&self, k: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get_key_value(k)
    }

    /// The position of `k` in iteration order.
    pub fn get_index_of<Q>(&self, k: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get_index_of(k)
    }

    /// Whether `k` is present.
    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.contains_key(k)
    }

    /// Removes `k`; the other entries keep their order (O(n)).
    pub fn remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shift_remove(k)
    }

    /// Removes `k` and yields the stored key too; order kept (O(n)).
    pub fn remove_entry<Q>(&mut self, k: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shift_remove_entry(k)
    }

    /// Removes `k` in O(1) by moving the last entry into its place.
    pub fn swap_remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.swap_remove(k)
    }

    /// Like [`swap_remove`](Self::swap_remove), yielding the stored key too.
    pub fn swap_remove_entry<Q>(&mut self, k: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.swap_remove_entry(k)
    }

    /// The entry at `k`, for in-place updates.
    pub fn entry(&mut self, k: K) -> Entry<'_, K, V> {
        match self.inner.entry(k) {
            indexmap::map::Entry::Occupied(o) => Entry::Occupied(OccupiedEntry(o)),
            indexmap::map::Entry::Vacant(v) => Entry::Vacant(VacantEntry(v)),
        }
    }

    /// Converts to std's map (whose order is then std's own).
    pub fn into_std(self) -> std::collections::HashMap<K, V, S>
    where
        S: Clone,
    {
        let hasher = self.inner.hasher().clone();
        let mut m = std::collections::HashMap::with_capacity_and_hasher(self.len(), hasher);
        m.extend(self.inner);
        m
    }
}

/// A view into one entry of a [`HashMap`], like std's `hash_map::Entry`.
pub enum Entry<'a, K, V> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V>),
}

/// A present entry.
pub struct OccupiedEntry<'a, K, V>(indexmap::map::OccupiedEntry<'a, K, V>);

/// An absent entry; inserting through it puts the key last.
pub struct VacantEntry<'a, K, V>(indexmap::map::VacantEntry<'a, K, V>);

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserting `default` if absent.
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(default),
        }
    }

    /// The value, inserting `f()` if absent.
    pub fn or_insert_with<F: FnOnce() -> V>(self, f: F) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(f()),
        }
    }

    /// The value, inserting `f(&key)` if absent.
    pub fn or_insert_with_key<F: FnOnce(&K) -> V>(self, f: F) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let x = f(v.key());
                v.insert(x)
            }
        }
    }

    /// The value, inserting `V::default()` if absent.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value if present.
    pub fn and_modify<F: FnOnce(&mut V)>(self, f: F) -> Self {
        match self {
            Entry::Occupied(mut o) => {
                f(o.get_mut());
                Entry::Occupied(o)
            }
            v => v,
        }
    }

    /// The key.
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(o) => o.key(),
            Entry::Vacant(v) => v.key(),
        }
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// The stored key.
    pub fn key(&self) -> &K {
        self.0.key()
    }
    /// The value.
    pub fn get(&self) -> &V {
        self.0.get()
    }
    /// The value, mutable.
    pub fn get_mut(&mut self) -> &mut V {
        self.0.get_mut()
    }
    /// The value, mutable, for the map's lifetime.
    pub fn into_mut(self) -> &'a mut V {
        self.0.into_mut()
    }
    /// Replaces the value; yields the old one. The position is kept.
    pub fn insert(&mut self, v: V) -> V {
        self.0.insert(v)
    }
    /// Removes the entry, keeping the others in order (O(n)).
    pub fn remove(self) -> V {
        self.0.shift_remove()
    }
    /// Removes the entry, keeping the others in order, yielding the key too.
    pub fn remove_entry(self) -> (K, V) {
        self.0.shift_remove_entry()
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    /// The key that would be inserted.
    pub fn key(&self) -> &K {
        self.0.key()
    }
    /// Takes the key back.
    pub fn into_key(self) -> K {
        self.0.into_key()
    }
    /// Inserts `v` (last in iteration order).
    pub fn insert(self, v: V) -> &'a mut V {
        self.0.insert(v)
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Entry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(o) => f.debug_tuple("Occupied").field(o.key()).finish(),
            Entry::Vacant(v) => f.debug_tuple("Vacant").field(v.key()).finish(),
        }
    }
}

impl<K, V, S: Default> Default for HashMap<K, V, S> {
    fn default() -> Self {
        HashMap {
            inner: IndexMap::default(),
        }
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for HashMap<K, V, S> {
    fn clone(&self) -> Self {
        HashMap {
            inner: self.inner.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for HashMap<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Order-insensitive, like std: same keys mapped to equal values.
impl<K: Hash + Eq, V: PartialEq, S: BuildHasher> PartialEq for HashMap<K, V, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Hash + Eq, V: Eq, S: BuildHasher> Eq for HashMap<K, V, S> {}

impl<K, Q, V, S> Index<&Q> for HashMap<K, V, S>
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
{
    type Output = V;
    /// Panics if `k` is absent.
    fn index(&self, k: &Q) -> &V {
        self.get(k).expect("key not in HashMap")
    }
}

impl<K, Q, V, S> IndexMut<&Q> for HashMap<K, V, S>
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
{
    fn index_mut(&mut self, k: &Q) -> &mut V {
        self.get_mut(k).expect("key not in HashMap")
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> Extend<(K, V)> for HashMap<K, V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, it: I) {
        self.inner.extend(it)
    }
}

impl<'a, K: Hash + Eq + Copy, V: Copy, S: BuildHasher> Extend<(&'a K, &'a V)> for HashMap<K, V, S> {
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, it: I) {
        self.inner.extend(it)
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Default> FromIterator<(K, V)> for HashMap<K, V, S> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(it: I) -> Self {
        HashMap {
            inner: IndexMap::from_iter(it),
        }
    }
}

impl<K: Hash + Eq, V, const N: usize> From<[(K, V); N]> for HashMap<K, V, RandomState> {
    fn from(xs: [(K, V); N]) -> Self {
        HashMap {
            inner: IndexMap::from(xs),
        }
    }
}

/// Takes std's current iteration order as the insertion order (std's order is
/// arbitrary; from here on it is fixed). The hasher is kept.
impl<K: Hash + Eq, V, S: BuildHasher + Clone> From<std::collections::HashMap<K, V, S>>
    for HashMap<K, V, S>
{
    fn from(m: std::collections::HashMap<K, V, S>) -> Self {
        let mut inner = IndexMap::with_capacity_and_hasher(m.len(), m.hasher().clone());
        inner.extend(m);
        HashMap { inner }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Clone> From<HashMap<K, V, S>>
    for std::collections::HashMap<K, V, S>
{
    fn from(m: HashMap<K, V, S>) -> Self {
        m.into_std()
    }
}

impl<K, V, S> IntoIterator for HashMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;
    fn into_iter(self) -> IntoIter<K, V> {
        self.inner.into_iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a HashMap<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.inner.iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a mut HashMap<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.inner.iter_mut()
    }
}

// The order of every iterator is the map's order: a function of its operations only.
impl<K, V> StableOrder for Iter<'_, K, V> {}
impl<K, V> StableOrder for IterMut<'_, K, V> {}
impl<K, V> StableOrder for Keys<'_, K, V> {}
impl<K, V> StableOrder for Values<'_, K, V> {}
impl<K, V> StableOrder for ValuesMut<'_, K, V> {}
impl<K, V> StableOrder for IntoIter<K, V> {}
impl<K, V> StableOrder for IntoKeys<K, V> {}
impl<K, V> StableOrder for IntoValues<K, V> {}

fn save_map<'a, K: State + 'a, V: State + 'a>(
    len: usize,
    it: impl Iterator<Item = (&'a K, &'a V)>,
    e: &mut Encoder<'_>,
) -> Result<(), Error> {
    e.map(len as u64);
    for (k, v) in it {
        k.save(e)?;
        v.save(e)?;
    }
    Ok(())
}

fn load_map<K: State + Hash + Eq, V: State, S: BuildHasher + Default>(
    v: Value,
    l: &mut Loader,
) -> Result<IndexMap<K, V, S>, Error> {
    let entries = match v {
        Value::Map(entries) => entries,
        other => return Err(Error::ty("", "HashMap (a map)", other.kind())),
    };
    let mut m = IndexMap::with_capacity_and_hasher(entries.len(), S::default());
    for (i, (k, x)) in entries.into_iter().enumerate() {
        let k = K::load(k, l).map_err(|e| e.within("key").within_index(i))?;
        let x = V::load(x, l).map_err(|e| e.within_index(i))?;
        m.insert(k, x);
    }
    Ok(m)
}

impl<K: State + Hash + Eq, V: State, S: BuildHasher + Default> State for HashMap<K, V, S> {
    /// A CBOR map in iteration order; the hasher is not saved. Load re-inserts in the
    /// same order, so the restored map iterates exactly like the original.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_map(self.len(), self.iter(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        load_map(v, l).map(|inner| HashMap { inner })
    }
}

impl<K: State + Hash + Eq, V: State> State for IntoIter<K, V> {
    /// The entries not yet yielded, like a map.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        let rest = self.as_slice();
        save_map(rest.len(), rest.iter(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        load_map::<K, V, RandomState>(v, l).map(IndexMap::into_iter)
    }
}
