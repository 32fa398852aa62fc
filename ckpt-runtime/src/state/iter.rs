//! Iterators: `State` for owning iterators, and the [`StableOrder`] marker.

use std::collections::{btree_map, btree_set, vec_deque};
use std::iter::{Cloned, Copied, Enumerate, Peekable, Rev, Skip, StepBy, Take, Zip};
use std::ops::{Range, RangeInclusive};
use std::{slice, str, vec};

use super::{Encoder, Loader, State, Value};
use crate::Error;

impl<T: State> State for vec::IntoIter<T> {
    fn placeholder() -> Option<Self> {
        Some(Vec::new().into_iter())
    }

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
impl<T> StableOrder for slice::ChunksExact<'_, T> {}
impl<T> StableOrder for slice::RChunks<'_, T> {}
impl<T> StableOrder for slice::ChunksMut<'_, T> {}
impl<T> StableOrder for slice::ChunksExactMut<'_, T> {}
impl<K, V> StableOrder for btree_map::Range<'_, K, V> {}
impl<K, V> StableOrder for btree_map::RangeMut<'_, K, V> {}
impl<K, V> StableOrder for btree_map::ValuesMut<'_, K, V> {}
impl<K, V> StableOrder for btree_map::IntoKeys<K, V> {}
impl<K, V> StableOrder for btree_map::IntoValues<K, V> {}
impl<T> StableOrder for btree_set::Range<'_, T> {}
impl<T> StableOrder for vec_deque::Drain<'_, T> {}
impl StableOrder for str::SplitAsciiWhitespace<'_> {}
impl StableOrder for str::SplitN<'_, char> {}
impl StableOrder for str::SplitN<'_, &str> {}
impl StableOrder for str::RSplit<'_, char> {}
impl StableOrder for str::RSplit<'_, &str> {}
impl StableOrder for str::SplitTerminator<'_, char> {}
impl StableOrder for str::SplitTerminator<'_, &str> {}
impl StableOrder for str::SplitInclusive<'_, char> {}
impl StableOrder for str::Matches<'_, char> {}
impl StableOrder for str::Matches<'_, &str> {}
impl StableOrder for str::EncodeUtf16<'_> {}
impl<T> StableOrder for std::option::Iter<'_, T> {}
impl<T> StableOrder for std::result::IntoIter<T> {}
impl<T> StableOrder for std::iter::Once<T> {}
impl<T> StableOrder for std::iter::Empty<T> {}
impl<T: Clone> StableOrder for std::iter::Repeat<T> {}
impl<T: Clone> StableOrder for std::iter::RepeatN<T> {}
// Adapters keep the order of what they adapt; the closures they hold are made again with
// the loop's iterable on restore.
impl<B, I: StableOrder, F: FnMut(I::Item) -> B> StableOrder for std::iter::Map<I, F> {}
impl<I: StableOrder, P: FnMut(&I::Item) -> bool> StableOrder for std::iter::Filter<I, P> {}
impl<B, I: StableOrder, F: FnMut(I::Item) -> Option<B>> StableOrder for std::iter::FilterMap<I, F> {}
impl<I: StableOrder, P: FnMut(&I::Item) -> bool> StableOrder for std::iter::TakeWhile<I, P> {}
impl<I: StableOrder, P: FnMut(&I::Item) -> bool> StableOrder for std::iter::SkipWhile<I, P> {}
impl<B, I: StableOrder, P: FnMut(I::Item) -> Option<B>> StableOrder for std::iter::MapWhile<I, P> {}
impl<I: StableOrder, F: FnMut(&I::Item)> StableOrder for std::iter::Inspect<I, F> {}
impl<I: StableOrder> StableOrder for std::iter::Fuse<I> {}
impl<I: StableOrder + Clone> StableOrder for std::iter::Cycle<I> {}
impl<A: StableOrder, B: StableOrder<Item = A::Item>> StableOrder for std::iter::Chain<A, B> {}
impl<I, U> StableOrder for std::iter::Flatten<I>
where
    I: StableOrder,
    I::Item: IntoIterator<IntoIter = U, Item = U::Item>,
    U: StableOrder,
{
}
impl<I: StableOrder, U: IntoIterator, F: FnMut(I::Item) -> U> StableOrder
    for std::iter::FlatMap<I, U, F>
where
    U::IntoIter: StableOrder,
{
}
impl<B, I: StableOrder, St, F: FnMut(&mut St, I::Item) -> Option<B>> StableOrder
    for std::iter::Scan<I, St, F>
{
}
impl<T, F: FnMut(&T) -> Option<T>> StableOrder for std::iter::Successors<T, F> {}

/// The elements not yet yielded, like a `Vec`. Loading makes an iterator over them: the
/// array is filled with `Default` values where items were taken already, and skips them.
impl<T: State + Default, const N: usize> State for std::array::IntoIter<T, N> {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        T::save_slice(self.as_slice(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let rest = T::load_vec(v, l)?;
        if rest.len() > N {
            return Err(Error::ty(
                "",
                format!("at most {N} elements"),
                format!("{} elements", rest.len()),
            ));
        }
        let taken = N - rest.len();
        let mut all: Vec<T> = (0..taken).map(|_| T::default()).collect();
        all.extend(rest);
        let arr: [T; N] = match all.try_into() {
            Ok(a) => a,
            Err(_) => return Err(Error::ty("", format!("{N} elements"), "another count")),
        };
        let mut it = arr.into_iter();
        if taken > 0 {
            let _ = it.nth(taken - 1);
        }
        Ok(it)
    }
}
