//! Iterators: `State` for owning iterators, and the [`StableOrder`] marker.

use std::collections::{btree_map, btree_set, vec_deque};
use std::iter::{Cloned, Copied, Enumerate, Peekable, Rev, Skip, StepBy, Take, Zip};
use std::ops::{Range, RangeInclusive};
use std::{slice, str, vec};

use super::{Encoder, Loader, State, Value};
use crate::Error;

impl<T: State> State for vec::IntoIter<T> {
    /// The elements not yet yielded, like a `Vec`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        T::save_slice(self.as_slice(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l).map(Vec::into_iter)
    }
}

/// Marker for iterators whose order is a pure function of the collection's contents
/// (not of addresses, hashes or history). The resume transform relies on it to resume a
/// `for` loop over a borrowed collection by skipping the items already seen.
///
/// Not implemented for std's `HashMap`/`HashSet` iterators: their order depends on the
/// hasher keys and the insertion history, and a rebuilt map does not reproduce it. The
/// maps of [`crate::collections`] iterate in the program's own insertion order and do
/// implement it.
pub trait StableOrder: Iterator {}

impl<T> StableOrder for slice::Iter<'_, T> {}
impl<T> StableOrder for slice::IterMut<'_, T> {}
impl<T> StableOrder for slice::Chunks<'_, T> {}
impl<T> StableOrder for slice::Windows<'_, T> {}
impl<T> StableOrder for vec::IntoIter<T> {}
impl<T, const N: usize> StableOrder for std::array::IntoIter<T, N> {}
impl<T> StableOrder for vec_deque::Iter<'_, T> {}
impl<T> StableOrder for vec_deque::IterMut<'_, T> {}
impl<T> StableOrder for vec_deque::IntoIter<T> {}
impl<K, V> StableOrder for btree_map::Iter<'_, K, V> {}
impl<K, V> StableOrder for btree_map::IterMut<'_, K, V> {}
impl<K, V> StableOrder for btree_map::Keys<'_, K, V> {}
impl<K, V> StableOrder for btree_map::Values<'_, K, V> {}
impl<K, V> StableOrder for btree_map::IntoIter<K, V> {}
impl<T> StableOrder for btree_set::Iter<'_, T> {}
impl<T> StableOrder for btree_set::IntoIter<T> {}
impl<A> StableOrder for Range<A> where Range<A>: Iterator {}
impl<A> StableOrder for RangeInclusive<A> where RangeInclusive<A>: Iterator {}
impl StableOrder for str::Chars<'_> {}
impl StableOrder for str::CharIndices<'_> {}
impl StableOrder for str::Bytes<'_> {}
impl StableOrder for str::Lines<'_> {}
impl StableOrder for str::SplitWhitespace<'_> {}
impl StableOrder for str::Split<'_, char> {}
impl StableOrder for str::Split<'_, &str> {}
impl<T> StableOrder for std::option::IntoIter<T> {}
impl<I: StableOrder> StableOrder for Enumerate<I> {}
impl<I: StableOrder + DoubleEndedIterator> StableOrder for Rev<I> {}
impl<I: StableOrder> StableOrder for Skip<I> {}
impl<I: StableOrder> StableOrder for Take<I> {}
impl<I: StableOrder> StableOrder for StepBy<I> {}
impl<I: StableOrder> StableOrder for Peekable<I> {}
impl<A: StableOrder, B: StableOrder> StableOrder for Zip<A, B> {}
impl<'a, T: 'a + Copy, I: StableOrder + Iterator<Item = &'a T>> StableOrder for Copied<I> {}
impl<'a, T: 'a + Clone, I: StableOrder + Iterator<Item = &'a T>> StableOrder for Cloned<I> {}
