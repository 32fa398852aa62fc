//! [`HashSet`]: std's `HashSet` API over an insertion-ordered table.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use indexmap::IndexSet;

use crate::state::{Encoder, Loader, StableOrder, State, Value};
use crate::Error;

pub use indexmap::set::{
    Difference, Drain, Intersection, IntoIter, Iter, SymmetricDifference, Union,
};

/// A hash set with std's `HashSet` API whose iteration order is the insertion order.
///
/// Same rules as [`HashMap`](super::HashMap): the order depends only on the program's
/// operations (never on the hasher), [`remove`](Self::remove) keeps the others in
/// order (O(n)), [`swap_remove`](Self::swap_remove) is the O(1) alternative, and a
/// restore rebuilds the exact order, so the iterators are [`StableOrder`].
pub struct HashSet<T, S = RandomState> {
    inner: IndexSet<T, S>,
}

impl<T> HashSet<T, RandomState> {
    /// An empty set.
    pub fn new() -> Self {
        HashSet {
            inner: IndexSet::new(),
        }
    }

    /// An empty set with room for `n` items.
    pub fn with_capacity(n: usize) -> Self {
        HashSet {
            inner: IndexSet::with_capacity(n),
        }
    }
}

impl<T, S> HashSet<T, S> {
    /// An empty set using `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        HashSet {
            inner: IndexSet::with_hasher(hasher),
        }
    }

    /// An empty set with room for `n` items, using `hasher`.
    pub fn with_capacity_and_hasher(n: usize, hasher: S) -> Self {
        HashSet {
            inner: IndexSet::with_capacity_and_hasher(n, hasher),
        }
    }

    /// The hasher.
    pub fn hasher(&self) -> &S {
        self.inner.hasher()
    }

    /// How many items fit without reallocating.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The items in insertion order.
    pub fn iter(&self) -> Iter<'_, T> {
        self.inner.iter()
    }

    /// Removes and yields every item in insertion order.
    pub fn drain(&mut self) -> Drain<'_, T> {
        self.inner.drain(..)
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.inner.clear()
    }

    /// Keeps the items for which `f` is true, in order.
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, f: F) {
        self.inner.retain(f)
    }

    /// The item at `index` in iteration order.
    pub fn get_index(&self, index: usize) -> Option<&T> {
        self.inner.get_index(index)
    }
}

impl<T: Hash + Eq, S: BuildHasher> HashSet<T, S> {
    /// Makes room for `n` more items.
    pub fn reserve(&mut self, n: usize) {
        self.inner.reserve(n)
    }

    /// Shrinks the allocation to the length.
    pub fn shrink_to_fit(&mut self) {
        self.inner.shrink_to_fit()
    }

    /// Adds `x` (last) unless present; true if it was absent.
    pub fn insert(&mut self, x: T) -> bool {
        self.inner.insert(x)
    }

    /// Adds `x`, replacing an equal item in place; yields the replaced one.
    pub fn replace(&mut self, x: T) -> Option<T> {
        self.inner.replace(x)
    }

    /// Whether `x` is present.
    pub fn contains<Q>(&self, x: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.contains(x)
    }

    /// The stored item equal to `x`.
    pub fn get<Q>(&self, x: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get(x)
    }

    /// Removes `x`, keeping the others in order (O(n)); true if it was present.
    pub fn remove<Q>(&mut self, x: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shift_remove(x)
    }

    /// Removes and yields `x`, keeping the others in order (O(n)).
    pub fn take<Q>(&mut self, x: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shift_take(x)
    }

    /// Removes `x` in O(1) by moving the last item into its place.
    pub fn swap_remove<Q>(&mut self, x: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.swap_remove(x)
    }

    /// Items of `self` then those of `other` not in `self`.
    pub fn union<'a>(&'a self, other: &'a HashSet<T, S>) -> Union<'a, T, S> {
        self.inner.union(&other.inner)
    }

    /// Items of `self` also in `other`, in `self`'s order.
    pub fn intersection<'a>(&'a self, other: &'a HashSet<T, S>) -> Intersection<'a, T, S> {
        self.inner.intersection(&other.inner)
    }

    /// Items of `self` not in `other`, in `self`'s order.
    pub fn difference<'a>(&'a self, other: &'a HashSet<T, S>) -> Difference<'a, T, S> {
        self.inner.difference(&other.inner)
    }

    /// Items in exactly one of the sets: `self`'s first, then `other`'s.
    pub fn symmetric_difference<'a>(
        &'a self,
        other: &'a HashSet<T, S>,
    ) -> SymmetricDifference<'a, T, S, S> {
        self.inner.symmetric_difference(&other.inner)
    }

    /// Whether every item is in `other`.
    pub fn is_subset(&self, other: &HashSet<T, S>) -> bool {
        self.inner.is_subset(&other.inner)
    }

    /// Whether every item of `other` is in `self`.
    pub fn is_superset(&self, other: &HashSet<T, S>) -> bool {
        self.inner.is_superset(&other.inner)
    }

    /// Whether no item is in both.
    pub fn is_disjoint(&self, other: &HashSet<T, S>) -> bool {
        self.inner.is_disjoint(&other.inner)
    }

    /// Converts to std's set (whose order is then std's own).
    pub fn into_std(self) -> std::collections::HashSet<T, S>
    where
        S: Clone,
    {
        let hasher = self.inner.hasher().clone();
        let mut s = std::collections::HashSet::with_capacity_and_hasher(self.len(), hasher);
        s.extend(self.inner);
        s
    }
}

impl<T, S: Default> Default for HashSet<T, S> {
    fn default() -> Self {
        HashSet {
            inner: IndexSet::default(),
        }
    }
}

impl<T: Clone, S: Clone> Clone for HashSet<T, S> {
    fn clone(&self) -> Self {
        HashSet {
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug, S> fmt::Debug for HashSet<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Order-insensitive, like std.
impl<T: Hash + Eq, S: BuildHasher> PartialEq for HashSet<T, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|x| other.contains(x))
    }
}

impl<T: Hash + Eq, S: BuildHasher> Eq for HashSet<T, S> {}

macro_rules! set_operator {
    ($trait:ident, $method:ident, $inner:ident, $doc:literal) => {
        #[doc = $doc]
        impl<T: Hash + Eq + Clone, S: BuildHasher + Default> std::ops::$trait<&HashSet<T, S>>
            for &HashSet<T, S>
        {
            type Output = HashSet<T, S>;

            fn $method(self, rhs: &HashSet<T, S>) -> HashSet<T, S> {
                self.$inner(rhs).cloned().collect()
            }
        }
    };
}
set_operator!(
    BitOr,
    bitor,
    union,
    "`&a | &b`: the union, as a new set (`a`'s order first)."
);
set_operator!(
    BitAnd,
    bitand,
    intersection,
    "`&a & &b`: the intersection, as a new set (in `a`'s order)."
);
set_operator!(
    BitXor,
    bitxor,
    symmetric_difference,
    "`&a ^ &b`: the items in exactly one of the sets, as a new set."
);
set_operator!(
    Sub,
    sub,
    difference,
    "`&a - &b`: the items of `a` not in `b`, as a new set."
);

impl<T: Hash + Eq, S: BuildHasher> Extend<T> for HashSet<T, S> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, it: I) {
        self.inner.extend(it)
    }
}

impl<'a, T: Hash + Eq + Copy + 'a, S: BuildHasher> Extend<&'a T> for HashSet<T, S> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, it: I) {
        self.inner.extend(it)
    }
}

impl<T: Hash + Eq, S: BuildHasher + Default> FromIterator<T> for HashSet<T, S> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        HashSet {
            inner: IndexSet::from_iter(it),
        }
    }
}

impl<T: Hash + Eq, const N: usize> From<[T; N]> for HashSet<T, RandomState> {
    fn from(xs: [T; N]) -> Self {
        HashSet {
            inner: IndexSet::from(xs),
        }
    }
}

/// Takes std's current iteration order as the insertion order. The hasher is kept.
impl<T: Hash + Eq, S: BuildHasher + Clone> From<std::collections::HashSet<T, S>> for HashSet<T, S> {
    fn from(s: std::collections::HashSet<T, S>) -> Self {
        let mut inner = IndexSet::with_capacity_and_hasher(s.len(), s.hasher().clone());
        inner.extend(s);
        HashSet { inner }
    }
}

impl<T: Hash + Eq, S: BuildHasher + Clone> From<HashSet<T, S>> for std::collections::HashSet<T, S> {
    fn from(s: HashSet<T, S>) -> Self {
        s.into_std()
    }
}

impl<T, S> IntoIterator for HashSet<T, S> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        self.inner.into_iter()
    }
}

impl<'a, T, S> IntoIterator for &'a HashSet<T, S> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.inner.iter()
    }
}

impl<T> StableOrder for Iter<'_, T> {}
impl<T> StableOrder for IntoIter<T> {}
impl<T: Hash + Eq, S: BuildHasher> StableOrder for Union<'_, T, S> {}
impl<T: Hash + Eq, S: BuildHasher> StableOrder for Intersection<'_, T, S> {}
impl<T: Hash + Eq, S: BuildHasher> StableOrder for Difference<'_, T, S> {}
impl<T: Hash + Eq, S: BuildHasher> StableOrder for SymmetricDifference<'_, T, S, S> {}

fn load_set<T: State + Hash + Eq, S: BuildHasher + Default>(
    v: Value,
    l: &mut Loader,
) -> Result<IndexSet<T, S>, Error> {
    let items = match v {
        Value::Array(items) => items,
        other => return Err(Error::ty("", "HashSet (an array)", other.kind())),
    };
    let mut s = IndexSet::with_capacity_and_hasher(items.len(), S::default());
    for (i, x) in items.into_iter().enumerate() {
        s.insert(T::load(x, l).map_err(|e| e.within_index(i))?);
    }
    Ok(s)
}

impl<T: State + Hash + Eq, S: BuildHasher + Default> State for HashSet<T, S> {
    /// A CBOR array in iteration order; the hasher is not saved.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(self.len() as u64);
        self.iter().try_for_each(|x| x.save(e))
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        load_set(v, l).map(|inner| HashSet { inner })
    }
}

impl<T: State + Hash + Eq> State for IntoIter<T> {
    /// The items not yet yielded, like a set.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        let rest = self.as_slice();
        e.array(rest.len() as u64);
        rest.iter().try_for_each(|x| x.save(e))
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        load_set::<T, RandomState>(v, l).map(IndexSet::into_iter)
    }
}
