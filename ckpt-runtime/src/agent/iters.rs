//! The iterators of `for` loops that hold points.
//!
//! A loop's iterator is saved either whole (it is `State`: a range, a consumed `Vec`, a
//! reader's lines) or as the number of items taken (`{"count": n}`), when it walks a
//! borrowed collection in a stable order. On restore, a counted iterator is made again
//! from the loop's iterable and advanced *one item short*: the loop's head takes the
//! n-th item again, so the loop's bindings — references into the collection included —
//! are made again instead of saved.

use std::cell::Cell;

use super::private::Frame;
use super::stack::Writer;
use crate::error::Result;
use crate::state::{StableOrder, State};

/// Counts the items a `for` loop has taken.
pub struct Counted<I> {
    pub(crate) it: I,
    pub(crate) n: u64,
}

impl<I> Counted<I> {
    /// Wraps a loop's iterator.
    #[inline]
    pub fn new(it: I) -> Self {
        Counted { it, n: 0 }
    }

    /// How many items the loop has taken.
    #[inline]
    pub fn taken(c: &Self) -> u64 {
        c.n
    }
}

impl<I: Iterator> Counted<I> {
    /// `it` advanced one item short of `n` taken, so that the loop's head takes the n-th
    /// item again.
    pub fn resumed(mut it: I, n: u64) -> Self {
        if n > 1 {
            let _ = it.nth((n - 2) as usize);
        }
        Counted {
            it,
            n: n.saturating_sub(1),
        }
    }
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let x = self.it.next();
        self.n += x.is_some() as u64;
        x
    }
}

/// Why a loop saved whole cannot be. Implemented for every `State` type.
#[diagnostic::on_unimplemented(
    message = "the iterator of this `for` loop cannot be saved at the save point inside the loop",
    label = "`{Self}` is not `ckpt::State`",
    note = "a loop over a range, over a collection it consumes (`for x in v`), over a reader's lines, or \
            over an iterable made by a function call keeps its iterator in the image, so the iterator \
            must be `ckpt::State` (ranges, `vec::IntoIter`, ckpt's readers are); loop over a borrowed \
            collection instead (`for x in v.iter()`, `for x in &v`), or collect the iterable into a \
            local `Vec` first"
)]
pub trait SavedWhole {}
impl<T: State> SavedWhole for T {}

/// Saves a loop's iterator whole.
pub struct IterSaveWhole;

impl IterSaveWhole {
    /// Writes `{"state": it}` under `key`.
    pub fn save<I: SavedWhole + State>(
        c: &Counted<I>,
        w: &mut Writer<'_, '_>,
        key: &str,
    ) -> Result<()> {
        if let Some(enc) = w.live_encoder(key) {
            enc.map(1);
            enc.text("state");
            enc.put(&c.it)?;
        }
        Ok(())
    }
}

/// Saves a loop's iterator by count when its order is stable.
pub struct IterSave<'a, I>(pub &'a Counted<I>);

/// Saves a `StableOrder` iterator as the count of items taken (preferred).
pub trait IterSaveCount {
    /// Writes the count under `name`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>;
}
impl<I: StableOrder> IterSaveCount for &IterSave<'_, I> {
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        w.put_count(name, self.0.n)
    }
}

/// Why a loop iterator could not be saved by position. Implemented for nothing: the
/// fallbacks below require it only to turn a missing impl into this message.
#[diagnostic::on_unimplemented(
    message = "the iterator of this `for` loop cannot be saved at the save point inside the loop",
    label = "`{Self}` does not iterate in a stable order",
    note = "ckpt saves a loop over a borrowed collection as the number of items taken, and makes the \
            iterator again on restore; that needs an order that depends only on the collection (slices, \
            `Vec`, `VecDeque`, `BTreeMap`, strings, and adapters such as `enumerate()`, `zip()`, `rev()`). \
            Loop over sorted keys, a `BTreeMap`, or indices (`for i in 0..v.len()`)"
)]
pub trait ResumableLoop {}

/// Last resort of the iterator save: reports [`ResumableLoop`].
pub trait IterSaveFallback<I> {
    /// Never compiles when called: `I` is not `ResumableLoop`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>
    where
        I: ResumableLoop;
}
impl<I> IterSaveFallback<I> for IterSave<'_, I> {
    fn __ckpt_save(&self, _: &mut Writer<'_, '_>, _: &str) -> Result<()>
    where
        I: ResumableLoop,
    {
        unreachable_impl()
    }
}

fn unreachable_impl() -> ! {
    eprintln!("ckpt: internal error: ResumableLoop has no impls");
    std::process::abort()
}

/// Makes a counted loop iterator again on restore, from the loop's iterable evaluated
/// again.
pub struct IterLoad<I>(Cell<Option<I>>);

impl<I> IterLoad<I> {
    /// Wraps the iterator made from the loop's iterable.
    pub fn new(it: I) -> Self {
        IterLoad(Cell::new(Some(it)))
    }
}

/// Loads a `StableOrder` iterator: advanced one short of the count saved (preferred).
pub trait IterLoadCount<I> {
    /// Makes the iterator `name` again.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I>;
}
impl<I: StableOrder + Iterator> IterLoadCount<I> for &IterLoad<I> {
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I> {
        let n = f.take_count(name);
        let Some(it) = self.0.take() else {
            f.internal("iterator made twice")
        };
        Counted::resumed(it, n)
    }
}

/// Last resort of the iterator load: reports [`ResumableLoop`].
pub trait IterLoadFallback<I> {
    /// Never compiles when called: `I` is not `ResumableLoop`.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<I>
    where
        I: ResumableLoop;
}
impl<I> IterLoadFallback<I> for IterLoad<I> {
    fn __ckpt_load(&self, _: &Frame, _: &str) -> Counted<I>
    where
        I: ResumableLoop,
    {
        unreachable_impl()
    }
}

/// Takes back a loop iterator saved whole, its type named by a marker.
pub fn iter_take_as<I: State>(
    f: &Frame,
    _: super::args::TypeOf<Counted<I>>,
    name: &str,
) -> Counted<I> {
    iter_take(f, name)
}

/// Takes back a loop iterator saved whole.
pub fn iter_take<I: State>(f: &Frame, name: &str) -> Counted<I> {
    Counted {
        it: f.take_whole(name),
        n: 0,
    }
}

/// `enumerate()` over a loop's iterator saved whole: `State` when the iterator is (std's
/// `Enumerate` keeps its count private).
pub struct Enumerated<I> {
    it: I,
    n: usize,
}

/// `iterable.into_iter().enumerate()`, saveable.
pub fn enumerate<I: IntoIterator>(i: I) -> Enumerated<I::IntoIter> {
    Enumerated {
        it: i.into_iter(),
        n: 0,
    }
}

impl<I: Iterator> Iterator for Enumerated<I> {
    type Item = (usize, I::Item);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let x = self.it.next()?;
        let i = self.n;
        self.n += 1;
        Some((i, x))
    }
}

impl<I: State> State for Enumerated<I> {
    fn save(&self, e: &mut crate::state::Encoder<'_>) -> Result<()> {
        e.map(2);
        e.text("iter");
        e.put(&self.it)?;
        e.text("n");
        e.put(&(self.n as u64))
    }
    fn load(v: crate::state::Value, l: &mut crate::state::Loader) -> Result<Self> {
        let crate::state::Value::Map(fields) = v else {
            return Err(crate::Error::ty("", "a map", v.kind()));
        };
        let (mut it, mut n) = (None, None);
        for (k, v) in fields {
            match k {
                crate::state::Value::Text(k) if k == "iter" => it = Some(l.load::<I>(v)?),
                crate::state::Value::Text(k) if k == "n" => n = Some(l.load::<u64>(v)?),
                _ => {}
            }
        }
        match (it, n) {
            (Some(it), Some(n)) => Ok(Enumerated { it, n: n as usize }),
            _ => Err(crate::Error::ty("", "{iter, n}", "a map without them")),
        }
    }
}

/// A loop over a hash map or set, in the order of one run: its items collected when the
/// loop starts. Saved as the keys still to visit (or, for a consumed map, as the items
/// still to visit), so a restore — whose map iterates in another order — visits exactly
/// those, in that order.
pub struct Replay<T> {
    items: Vec<Option<T>>,
    pos: usize,
    /// The items' keys, borrowed from the collection the loop borrows (empty for items
    /// that own their keys).
    keys: Vec<*const ()>,
    save_key: Option<KeySaver>,
}

type KeySaver = fn(*const (), &mut crate::state::Encoder<'_>) -> Result<()>;

fn save_key<K: State>(p: *const (), e: &mut crate::state::Encoder<'_>) -> Result<()> {
    // SAFETY: `p` points at a key of the collection the loop borrows for as long as the
    // `Replay` lives (its items borrow it), and keys are never changed while borrowed.
    let k = unsafe { &*p.cast::<K>() };
    e.put(k)
}

impl<T> Replay<T> {
    fn owned(items: impl Iterator<Item = T>) -> Self {
        Replay {
            items: items.map(Some).collect(),
            pos: 0,
            keys: Vec::new(),
            save_key: None,
        }
    }
}

impl<T: ItemKey> Replay<T> {
    fn keyed(items: impl Iterator<Item = T>) -> Self {
        let items: Vec<Option<T>> = items.map(Some).collect();
        let keys = items
            .iter()
            .map(|i| i.as_ref().map_or(std::ptr::null(), ItemKey::key_ptr))
            .collect();
        Replay {
            items,
            pos: 0,
            keys,
            save_key: Some(save_key::<T::Key>),
        }
    }

    /// The items of a fresh `Replay` (the collection iterated again) in the order of
    /// `keys`; `None` when one of them is no longer in the collection.
    fn reordered(mut self, keys: &[T::Key]) -> Option<Self> {
        let mut at = std::collections::HashMap::with_capacity(self.items.len());
        for (i, p) in self.keys.iter().enumerate() {
            // SAFETY: as in `save_key`: keys of the borrowed collection.
            at.insert(unsafe { &*p.cast::<T::Key>() }, i);
        }
        let mut order = Vec::with_capacity(keys.len());
        for k in keys {
            order.push(*at.get(k)?);
        }
        let items = order.iter().map(|&i| self.items[i].take()).collect();
        let keys = order.iter().map(|&i| self.keys[i]).collect();
        Some(Replay {
            items,
            pos: 0,
            keys,
            save_key: self.save_key,
        })
    }
}

impl<T> Iterator for Replay<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        let x = self.items.get_mut(self.pos)?.take();
        self.pos += 1;
        x
    }
}

/// A consumed map's loop: the items still to visit.
impl<T: State> State for Replay<T> {
    fn save(&self, e: &mut crate::state::Encoder<'_>) -> Result<()> {
        let rest: Vec<&T> = self.items[self.pos.min(self.items.len())..]
            .iter()
            .flatten()
            .collect();
        e.array(rest.len() as u64);
        for x in rest {
            e.put(x)?;
        }
        Ok(())
    }
    fn load(v: crate::state::Value, l: &mut crate::state::Loader) -> Result<Self> {
        let items: Vec<T> = l.load(v)?;
        Ok(Replay::owned(items.into_iter()))
    }
}

/// The key of a hash map's or set's item, borrowed from the collection.
pub trait ItemKey {
    /// The key's type.
    type Key: State + Eq + std::hash::Hash;
    /// Where the key is.
    fn key_ptr(&self) -> *const ();
}

impl<K: State + Eq + std::hash::Hash, V> ItemKey for (&K, &V) {
    type Key = K;
    fn key_ptr(&self) -> *const () {
        (self.0 as *const K).cast()
    }
}
impl<K: State + Eq + std::hash::Hash, V> ItemKey for (&K, &mut V) {
    type Key = K;
    fn key_ptr(&self) -> *const () {
        (self.0 as *const K).cast()
    }
}
impl<K: State + Eq + std::hash::Hash> ItemKey for &K {
    type Key = K;
    fn key_ptr(&self) -> *const () {
        (*self as *const K).cast()
    }
}

/// Chooses a loop's iterator: a hash map's or set's is collected into a [`Replay`].
pub struct Order<I>(Cell<Option<I>>);

impl<I> Order<I> {
    /// Wraps the iterator made from the loop's iterable.
    #[inline]
    pub fn new(it: I) -> Self {
        Order(Cell::new(Some(it)))
    }

    #[inline]
    fn take(&self) -> I {
        match self.0.take() {
            Some(it) => it,
            None => unreachable_impl(),
        }
    }
}

/// The iterators of std's hash maps and sets (preferred).
pub trait OrderHash {
    /// The iterator the loop uses.
    type Out;
    /// Collects it.
    fn __ckpt_order(&self) -> Self::Out;
}

macro_rules! order_hash {
    ($($how:ident [$($g:tt)*] $it:ty => $item:ty;)*) => {$(
        impl<$($g)*> OrderHash for &Order<$it> {
            type Out = Replay<$item>;
            #[inline]
            fn __ckpt_order(&self) -> Replay<$item> {
                Replay::$how(self.take())
            }
        }
    )*};
}

order_hash! {
    keyed ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::Iter<'a, K, V> => (&'a K, &'a V);
    keyed ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::IterMut<'a, K, V> => (&'a K, &'a mut V);
    keyed ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::Keys<'a, K, V> => &'a K;
    owned [K, V] std::collections::hash_map::IntoIter<K, V> => (K, V);
    keyed ['a, T: State + Eq + std::hash::Hash] std::collections::hash_set::Iter<'a, T> => &'a T;
    owned [T] std::collections::hash_set::IntoIter<T> => T;
    keyed ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Intersection<'a, T, S> => &'a T;
    keyed ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Union<'a, T, S> => &'a T;
    keyed ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Difference<'a, T, S> => &'a T;
    keyed ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::SymmetricDifference<'a, T, S> => &'a T;
}

/// Any other iterator, as it is.
pub trait OrderAny {
    /// The iterator the loop uses.
    type Out;
    /// Returns it.
    fn __ckpt_order(&self) -> Self::Out;
}
impl<I> OrderAny for Order<I> {
    type Out = I;
    #[inline]
    fn __ckpt_order(&self) -> I {
        self.take()
    }
}

/// A loop over a hash map or set saved by the keys still to visit, the item the loop
/// holds now first (preferred over [`IterSaveCount`]).
pub trait IterSaveReplay {
    /// Writes `{"count": n, "keys": [...]}` under `name`.
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()>;
}
impl<T: ItemKey> IterSaveReplay for &&IterSave<'_, Replay<T>> {
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        let c = self.0;
        let r = &c.it;
        let Some(save) = r.save_key else {
            return Ok(());
        };
        if let Some(enc) = w.live_encoder(name) {
            enc.map(2);
            enc.text("count");
            enc.uint(c.n);
            enc.text("keys");
            let from = r.pos.saturating_sub(1).min(r.keys.len());
            enc.array((r.keys.len() - from) as u64);
            for &k in &r.keys[from..] {
                save(k, enc)?;
            }
        }
        Ok(())
    }
}

/// Loads a loop over a hash map or set: the collection iterated again, in the order of
/// the keys saved (preferred over [`IterLoadCount`]).
pub trait IterLoadReplay<T> {
    /// Makes the iterator `name` again.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<Replay<T>>;
}
impl<T: ItemKey> IterLoadReplay<T> for &&IterLoad<Replay<T>> {
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<Replay<T>> {
        let (n, keys) = f.take_keys::<T::Key>(name);
        let Some(fresh) = self.0.take() else {
            f.internal("iterator made twice")
        };
        match fresh.reordered(&keys) {
            Some(r) => Counted {
                it: r,
                n: n.saturating_sub(1),
            },
            None => super::private::resume_failed(
                f,
                &format!("a key of the map the loop `{name}` was visiting is no longer in it"),
            ),
        }
    }
}
