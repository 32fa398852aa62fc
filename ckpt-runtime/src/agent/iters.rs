//! The iterators of `for` loops that hold points.
//!
//! A loop's iterator is saved either whole (it is `State`: a range, a consumed `Vec`, a
//! reader's lines) or as the number of items taken (`{"count": n}`), when it walks a
//! borrowed collection in a stable order. On restore, a counted iterator is made again
//! from the loop's iterable and advanced *one item short*: the loop's head takes the
//! n-th item again, so the loop's bindings — references into the collection included —
//! are made again instead of saved.

use std::cell::Cell;
use std::marker::PhantomData;

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
pub trait SavedWhole: State {}
impl<T: State> SavedWhole for T {}

/// Saves a loop's iterator whole.
pub struct IterSaveWhole;

impl IterSaveWhole {
    /// Writes `{"state": it}` under `key`.
    pub fn save<I: SavedWhole>(c: &Counted<I>, w: &mut Writer<'_, '_>, key: &str) -> Result<()> {
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
pub fn iter_take_as<I: SavedWhole>(
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

/// `State` for ckpt's own adapters of a loop's iterator saved whole: the iterator and
/// their counters, as a map.
macro_rules! adapter_state {
    ($($T:ident { $($f:ident),* };)*) => {$(
        impl<I: State> State for $T<I> {
            fn save(&self, e: &mut crate::state::Encoder<'_>) -> Result<()> {
                e.map(1 + [$(stringify!($f)),*].len() as u64);
                e.text("iter");
                e.put(&self.it)?;
                $(
                    e.text(stringify!($f));
                    e.put(&(self.$f as u64))?;
                )*
                Ok(())
            }
            fn load(v: crate::state::Value, l: &mut crate::state::Loader) -> Result<Self> {
                let mut fields = v.into_fields(stringify!($T))?;
                let it = fields.take("iter", l)?;
                $(let $f: u64 = fields.take(stringify!($f), l)?;)*
                Ok($T { it, $($f: $f as usize),* })
            }
        }
    )*};
}

adapter_state! {
    Taken { n };
    Skipped { n };
    Stepped { step, first };
}

/// `take(n)` over a loop's iterator saved whole.
pub struct Taken<I> {
    it: I,
    n: usize,
}

/// `iterable.into_iter().take(n)`, saveable.
pub fn take<I: IntoIterator>(i: I, n: usize) -> Taken<I::IntoIter> {
    Taken {
        it: i.into_iter(),
        n,
    }
}

impl<I: Iterator> Iterator for Taken<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        self.it.next()
    }
}

/// `skip(n)` over a loop's iterator saved whole.
pub struct Skipped<I> {
    it: I,
    n: usize,
}

/// `iterable.into_iter().skip(n)`, saveable.
pub fn skip<I: IntoIterator>(i: I, n: usize) -> Skipped<I::IntoIter> {
    Skipped {
        it: i.into_iter(),
        n,
    }
}

impl<I: Iterator> Iterator for Skipped<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        if self.n > 0 {
            let n = std::mem::take(&mut self.n);
            return self.it.nth(n);
        }
        self.it.next()
    }
}

/// `step_by(step)` over a loop's iterator saved whole.
pub struct Stepped<I> {
    it: I,
    step: usize,
    /// No item taken yet (the first is taken as it is, the next ones `step` apart).
    first: usize,
}

/// `iterable.into_iter().step_by(step)`, saveable. Panics when `step` is 0, as std's.
pub fn step_by<I: IntoIterator>(i: I, step: usize) -> Stepped<I::IntoIter> {
    assert!(step != 0, "assertion failed: step != 0");
    Stepped {
        it: i.into_iter(),
        step,
        first: 1,
    }
}

impl<I: Iterator> Iterator for Stepped<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        if self.first == 1 {
            self.first = 0;
            return self.it.next();
        }
        self.it.nth(self.step - 1)
    }
}

/// A loop over a hash map or set, in the order of one run: its items collected when the
/// loop starts. Saved as the keys still to visit (or, for a consumed map, as the items
/// still to visit), so a restore — whose map iterates in another order — visits exactly
/// those, in that order.
///
/// `O` is what the loop sees of an item: the item itself, or its value alone for a loop
/// over `map.values()` (whose items are still collected with their keys).
pub struct Replay<T, O = T> {
    /// A consumed collection's items.
    items: Vec<Option<T>>,
    /// A borrowed collection's items as pointers, the key's first (see [`ItemKey`]).
    raw: Vec<Raw>,
    pos: usize,
    keyed: Option<Keyed<T>>,
    project: fn(T) -> O,
    /// The items borrow the collection.
    _items: PhantomData<T>,
}

/// An item of a borrowed collection as pointers: its key's, and its value's (or 0).
type Raw = [usize; 2];

/// How a keyed `Replay` saves a key and makes an item back from its pointers.
struct Keyed<T> {
    save_key: KeySaver,
    make: unsafe fn(Raw) -> T,
}

impl<T> Clone for Keyed<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Keyed<T> {}

fn same<T>(x: T) -> T {
    x
}

type KeySaver = fn(*const (), &mut crate::state::Encoder<'_>) -> Result<()>;

fn save_key<K: State>(p: *const (), e: &mut crate::state::Encoder<'_>) -> Result<()> {
    // SAFETY: `p` points at a key of the collection the loop borrows for as long as the
    // `Replay` lives (its items borrow it), and keys are never changed while borrowed.
    let k = unsafe { &*p.cast::<K>() };
    e.put(k)
}

fn key_ptrs(raw: &[Raw]) -> Vec<*const ()> {
    raw.iter().map(|r| r[0] as *const ()).collect()
}

fn write_keys(
    enc: &mut crate::state::Encoder<'_>,
    n: u64,
    keys: &[*const ()],
    save: KeySaver,
) -> Result<()> {
    enc.map(2);
    enc.text("count");
    enc.uint(n);
    enc.text("keys");
    enc.array(keys.len() as u64);
    for &k in keys {
        save(k, enc)?;
    }
    Ok(())
}

impl<T> Replay<T> {
    fn owned(items: impl Iterator<Item = T>) -> Self {
        Replay {
            items: items.map(Some).collect(),
            raw: Vec::new(),
            pos: 0,
            keyed: None,
            project: same,
            _items: PhantomData,
        }
    }

    fn keyed(items: impl Iterator<Item = T>) -> Self
    where
        T: ItemKey,
    {
        Replay::keyed_as(items, same)
    }
}

impl<T: ItemKey, O> Replay<T, O> {
    fn keyed_as(items: impl Iterator<Item = T>, project: fn(T) -> O) -> Self {
        Replay {
            items: Vec::new(),
            raw: items.map(|i| i.into_raw()).collect(),
            pos: 0,
            keyed: Some(Keyed {
                save_key: save_key::<T::Key>,
                make: T::from_raw,
            }),
            project,
            _items: PhantomData,
        }
    }

    /// The items of a fresh `Replay` (the collection iterated again) in the order of
    /// `keys`; `None` when one of them is no longer in the collection.
    fn reordered(mut self, keys: &[T::Key]) -> Option<Self> {
        let mut at =
            crate::state::FixedMap::with_capacity_and_hasher(self.raw.len(), Default::default());
        for (i, r) in self.raw.iter().enumerate() {
            // SAFETY: as in `save_key`: keys of the borrowed collection.
            at.insert(unsafe { &*(r[0] as *const T::Key) }, i);
        }
        let mut order = Vec::with_capacity(keys.len());
        for k in keys {
            order.push(*at.get(k)?);
        }
        self.raw = order.iter().map(|&i| self.raw[i]).collect();
        self.pos = 0;
        Some(self)
    }
}

impl<T, O> Iterator for Replay<T, O> {
    type Item = O;
    #[inline]
    fn next(&mut self) -> Option<O> {
        let x = match &self.keyed {
            Some(k) => {
                let r = *self.raw.get(self.pos)?;
                // SAFETY: `r` was made by `ItemKey::into_raw` of an item of the collection
                // this `Replay` borrows (for its lifetime: `_items`), and each position is
                // handed out once (after a `SuspendedReplay`, again only once the item
                // handed out before is no longer used).
                Some(unsafe { (k.make)(r) })
            }
            None => self.items.get_mut(self.pos)?.take(),
        };
        self.pos += 1;
        x.map(self.project)
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

/// A loop over a borrowed hash map or set, walked as it is: it keeps the key of the item
/// it handed out last, and a save writes that key and those still to come (read from a
/// clone of the iterator, so the walk itself costs what std's does). A restore makes the
/// collection's items again in that order ([`Replay`]).
pub struct Live<I: Iterator, O = <I as Iterator>::Item> {
    it: I,
    last: *const (),
    project: fn(I::Item) -> O,
}

impl<I: Iterator, O> Live<I, O>
where
    I::Item: ItemKey + Copy,
{
    #[inline]
    fn new(it: I, project: fn(I::Item) -> O) -> Self {
        Live {
            it,
            last: std::ptr::null(),
            project,
        }
    }
}

impl<I: Iterator, O> Iterator for Live<I, O>
where
    I::Item: ItemKey + Copy,
{
    type Item = O;
    #[inline]
    fn next(&mut self) -> Option<O> {
        let x = self.it.next()?;
        self.last = x.into_raw()[0] as *const ();
        Some((self.project)(x))
    }
}

impl<I: Iterator + Clone, O> IterSaveReplay for &&IterSave<'_, Live<I, O>>
where
    I::Item: ItemKey + Copy,
{
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        let c = self.0;
        let live = &c.it;
        if let Some(enc) = w.live_encoder(name) {
            let mut keys = Vec::with_capacity(1 + live.it.size_hint().0);
            if !live.last.is_null() {
                keys.push(live.last);
            }
            keys.extend(live.it.clone().map(|x| x.into_raw()[0] as *const ()));
            let save = save_key::<<I::Item as ItemKey>::Key>;
            write_keys(enc, c.n, &keys, save)?;
        }
        Ok(())
    }
}

impl<I: Iterator, O> IterLoadReplay<I::Item, O> for &&IterLoad<Live<I, O>>
where
    I::Item: ItemKey + Copy,
{
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<Replay<I::Item, O>> {
        let (n, keys) = f.take_keys::<<I::Item as ItemKey>::Key>(name);
        let Some(fresh) = self.0.take() else {
            f.internal("iterator made twice")
        };
        let replay = Replay::keyed_as(fresh.it, fresh.project);
        match replay.reordered(&keys) {
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

/// The item of a hash map's or set's loop, with its key borrowed from the collection.
pub trait ItemKey: Sized {
    /// The key's type.
    type Key: State + Eq + std::hash::Hash;
    /// The item as pointers, its key's first.
    fn into_raw(self) -> Raw;
    /// Makes the item back.
    ///
    /// # Safety
    /// `r` comes from `into_raw` of an item of the same collection, still borrowed as the
    /// item was, and no other item made from `r` is in use.
    unsafe fn from_raw(r: Raw) -> Self;
}

impl<'a, K: State + Eq + std::hash::Hash, V> ItemKey for (&'a K, &'a V) {
    type Key = K;
    fn into_raw(self) -> Raw {
        [self.0 as *const K as usize, self.1 as *const V as usize]
    }
    unsafe fn from_raw(r: Raw) -> Self {
        // SAFETY: see the trait.
        unsafe { (&*(r[0] as *const K), &*(r[1] as *const V)) }
    }
}
impl<'a, K: State + Eq + std::hash::Hash, V> ItemKey for (&'a K, &'a mut V) {
    type Key = K;
    fn into_raw(self) -> Raw {
        [self.0 as *const K as usize, self.1 as *mut V as usize]
    }
    unsafe fn from_raw(r: Raw) -> Self {
        // SAFETY: see the trait; the value's pointer came from a `&mut`.
        unsafe { (&*(r[0] as *const K), &mut *(r[1] as *mut V)) }
    }
}
impl<K: State + Eq + std::hash::Hash> ItemKey for &K {
    type Key = K;
    fn into_raw(self) -> Raw {
        [self as *const K as usize, 0]
    }
    unsafe fn from_raw(r: Raw) -> Self {
        // SAFETY: see the trait.
        unsafe { &*(r[0] as *const K) }
    }
}

/// A loop over a mutable borrow (`for v in m.values_mut()`) around one of its points:
/// the iterator is set aside, so the point can save the collection, and taken up again
/// after it (see [`SuspendedCount`], [`SuspendedReplay`]). Autoref specialization: call
/// as `(&&Suspend::new(it)).__ckpt_suspend()`.
pub struct Suspend<I>(Cell<Option<Counted<I>>>);

impl<I> Suspend<I> {
    /// Takes the loop's iterator.
    #[inline]
    pub fn new(it: Counted<I>) -> Self {
        Suspend(Cell::new(Some(it)))
    }

    #[inline]
    fn take(&self) -> Counted<I> {
        match self.0.take() {
            Some(it) => it,
            None => unreachable_impl(),
        }
    }
}

/// A hash map's or set's loop set aside (preferred): its items kept as pointers.
pub trait SuspendReplay {
    /// Sets the iterator aside.
    fn __ckpt_suspend(&self) -> SuspendedReplay;
}
impl<T: ItemKey, O> SuspendReplay for &Suspend<Replay<T, O>> {
    fn __ckpt_suspend(&self) -> SuspendedReplay {
        let c = self.take();
        let r = c.it;
        let Some(keyed) = r.keyed else {
            unreachable_impl()
        };
        SuspendedReplay {
            raw: r.raw,
            pos: r.pos,
            n: c.n,
            save_key: keyed.save_key,
            make: keyed.make as usize,
            project: r.project as usize,
        }
    }
}

/// Any other loop set aside: the number of items it took; taken up again by making the
/// iterator again and skipping them.
pub trait SuspendAny {
    /// Sets the iterator aside.
    fn __ckpt_suspend(&self) -> SuspendedCount;
}
impl<I> SuspendAny for Suspend<I> {
    fn __ckpt_suspend(&self) -> SuspendedCount {
        SuspendedCount(self.take().n)
    }
}

/// A loop set aside by its count.
pub struct SuspendedCount(u64);

impl SuspendedCount {
    /// Writes the loop's iterator under `name`: `{"count": n}`.
    pub fn __ckpt_put(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        w.put_count(name, self.0)
    }

    /// The iterator made again (`fresh`) one item short, so the loop's head takes the
    /// current item again.
    pub fn __ckpt_resume<I: Iterator>(self, fresh: impl FnOnce() -> I) -> Counted<I> {
        Counted::resumed(fresh(), self.0)
    }
}

/// A hash map's or set's loop set aside: its items as pointers into the collection, which
/// nothing changes meanwhile (the loop borrowed it mutably in the program as written).
pub struct SuspendedReplay {
    raw: Vec<Raw>,
    pos: usize,
    n: u64,
    save_key: KeySaver,
    make: usize,
    project: usize,
}

impl SuspendedReplay {
    /// Writes the loop's iterator under `name`: the count and the keys still to visit,
    /// the current item's first.
    pub fn __ckpt_put(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        if let Some(enc) = w.live_encoder(name) {
            let from = self.pos.saturating_sub(1).min(self.raw.len());
            write_keys(enc, self.n, &key_ptrs(&self.raw[from..]), self.save_key)?;
        }
        Ok(())
    }

    /// The iterator taken up again one item short, so the loop's head takes the current
    /// item again. `_fresh` only names the iterator's type (it is not called).
    pub fn __ckpt_resume<T: ItemKey, O>(
        self,
        _fresh: impl FnOnce() -> Replay<T, O>,
    ) -> Counted<Replay<T, O>> {
        // SAFETY: `make` and `project` were taken from a `Replay<T, O>` of the same loop
        // (the type differs at most in lifetimes, which have no say in these functions).
        let (make, project) = unsafe {
            (
                std::mem::transmute::<usize, unsafe fn(Raw) -> T>(self.make),
                std::mem::transmute::<usize, fn(T) -> O>(self.project),
            )
        };
        Counted {
            it: Replay {
                items: Vec::new(),
                raw: self.raw,
                pos: self.pos.saturating_sub(1),
                keyed: Some(Keyed {
                    save_key: self.save_key,
                    make,
                }),
                project,
                _items: PhantomData,
            },
            n: self.n.saturating_sub(1),
        }
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
        order_hash!(@one $how [$($g)*] $it => $item);
    )*};
    (@one live [$($g:tt)*] $it:ty => $item:ty) => {
        impl<$($g)*> OrderHash for &Order<$it> {
            type Out = Live<$it>;
            #[inline]
            fn __ckpt_order(&self) -> Live<$it> {
                Live::new(self.take(), same)
            }
        }
    };
    (@one $how:ident [$($g:tt)*] $it:ty => $item:ty) => {
        impl<$($g)*> OrderHash for &Order<$it> {
            type Out = Replay<$item>;
            #[inline]
            fn __ckpt_order(&self) -> Replay<$item> {
                Replay::$how(self.take())
            }
        }
    };
}

order_hash! {
    live ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::Iter<'a, K, V> => (&'a K, &'a V);
    keyed ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::IterMut<'a, K, V> => (&'a K, &'a mut V);
    live ['a, K: State + Eq + std::hash::Hash, V] std::collections::hash_map::Keys<'a, K, V> => &'a K;
    owned [K, V] std::collections::hash_map::IntoIter<K, V> => (K, V);
    live ['a, T: State + Eq + std::hash::Hash] std::collections::hash_set::Iter<'a, T> => &'a T;
    owned [T] std::collections::hash_set::IntoIter<T> => T;
    live ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Intersection<'a, T, S> => &'a T;
    live ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Union<'a, T, S> => &'a T;
    live ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::Difference<'a, T, S> => &'a T;
    live ['a, T: State + Eq + std::hash::Hash, S: std::hash::BuildHasher] std::collections::hash_set::SymmetricDifference<'a, T, S> => &'a T;
}

/// `map.values()` of a hash map, with the keys its loop is saved by: what a loop over
/// `m.values()` iterates (see [`PickRef`]).
pub struct KeyedValues<'a, K, V>(std::collections::hash_map::Iter<'a, K, V>);

impl<'a, K, V> Iterator for KeyedValues<'a, K, V> {
    type Item = &'a V;
    #[inline]
    fn next(&mut self) -> Option<&'a V> {
        self.0.next().map(|(_, v)| v)
    }
}

/// `map.values_mut()` of a hash map, with the keys its loop is saved by.
pub struct KeyedValuesMut<'a, K, V>(std::collections::hash_map::IterMut<'a, K, V>);

impl<'a, K, V> Iterator for KeyedValuesMut<'a, K, V> {
    type Item = &'a mut V;
    #[inline]
    fn next(&mut self) -> Option<&'a mut V> {
        self.0.next().map(|(_, v)| v)
    }
}

fn value_of<'a, K, V>(kv: (&'a K, &'a V)) -> &'a V {
    kv.1
}

fn value_mut_of<'a, K, V>(kv: (&'a K, &'a mut V)) -> &'a mut V {
    kv.1
}

impl<'a, K: State + Eq + std::hash::Hash, V> OrderHash for &Order<KeyedValues<'a, K, V>> {
    type Out = Live<std::collections::hash_map::Iter<'a, K, V>, &'a V>;
    #[inline]
    fn __ckpt_order(&self) -> Self::Out {
        Live::new(self.take().0, value_of)
    }
}

impl<'a, K: State + Eq + std::hash::Hash, V> OrderHash for &Order<KeyedValuesMut<'a, K, V>> {
    type Out = Replay<(&'a K, &'a mut V), &'a mut V>;
    #[inline]
    fn __ckpt_order(&self) -> Self::Out {
        Replay::keyed_as(self.take().0, value_mut_of)
    }
}

/// The collection of a loop over `x.values()`: for a std hash map, its values with their
/// keys ([`KeyedValues`]); for anything else, `x.values()` itself (the closure the loop
/// passes). Autoref specialization: call as `(&&PickRef(&x)).__ckpt_values(|m| m.values())`.
pub struct PickRef<'a, M: ?Sized>(pub &'a M);

/// [`PickRef`] for `x.values_mut()`.
pub struct PickMut<'a, M: ?Sized>(Cell<Option<&'a mut M>>);

impl<'a, M: ?Sized> PickMut<'a, M> {
    /// Wraps the collection.
    #[inline]
    pub fn new(m: &'a mut M) -> Self {
        PickMut(Cell::new(Some(m)))
    }

    #[inline]
    fn take(&self) -> &'a mut M {
        match self.0.take() {
            Some(m) => m,
            None => unreachable_impl(),
        }
    }
}

/// `values()` of a std hash map (preferred).
pub trait ValuesHash<'a, M: ?Sized + 'a> {
    /// The iterator the loop uses.
    type Out;
    /// Its values with their keys.
    fn __ckpt_values<R>(&self, f: impl FnOnce(&'a M) -> R) -> Self::Out;
}

/// `values()` of anything else.
pub trait ValuesAny<'a, M: ?Sized + 'a> {
    /// `f(x)`: `x.values()`.
    fn __ckpt_values<R>(&self, f: impl FnOnce(&'a M) -> R) -> R;
}

impl<'a, M: ?Sized> ValuesAny<'a, M> for PickRef<'a, M> {
    #[inline]
    fn __ckpt_values<R>(&self, f: impl FnOnce(&'a M) -> R) -> R {
        f(self.0)
    }
}

/// `values_mut()` of a std hash map (preferred).
pub trait ValuesMutHash<'a, M: ?Sized + 'a> {
    /// The iterator the loop uses.
    type Out;
    /// Its values with their keys.
    fn __ckpt_values_mut<R>(&self, f: impl FnOnce(&'a mut M) -> R) -> Self::Out;
}

/// `values_mut()` of anything else.
pub trait ValuesMutAny<'a, M: ?Sized + 'a> {
    /// `f(x)`: `x.values_mut()`.
    fn __ckpt_values_mut<R>(&self, f: impl FnOnce(&'a mut M) -> R) -> R;
}

impl<'a, M: ?Sized> ValuesMutAny<'a, M> for PickMut<'a, M> {
    #[inline]
    fn __ckpt_values_mut<R>(&self, f: impl FnOnce(&'a mut M) -> R) -> R {
        f(self.take())
    }
}

impl<'a, K, V, S> ValuesHash<'a, std::collections::HashMap<K, V, S>>
    for &PickRef<'a, std::collections::HashMap<K, V, S>>
where
    K: State + Eq + std::hash::Hash,
{
    type Out = KeyedValues<'a, K, V>;
    #[inline]
    fn __ckpt_values<R>(
        &self,
        _: impl FnOnce(&'a std::collections::HashMap<K, V, S>) -> R,
    ) -> KeyedValues<'a, K, V> {
        KeyedValues(self.0.iter())
    }
}

impl<'a, K, V, S> ValuesMutHash<'a, std::collections::HashMap<K, V, S>>
    for &PickMut<'a, std::collections::HashMap<K, V, S>>
where
    K: State + Eq + std::hash::Hash,
{
    type Out = KeyedValuesMut<'a, K, V>;
    #[inline]
    fn __ckpt_values_mut<R>(
        &self,
        _: impl FnOnce(&'a mut std::collections::HashMap<K, V, S>) -> R,
    ) -> KeyedValuesMut<'a, K, V> {
        KeyedValuesMut(self.take().iter_mut())
    }
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
impl<T: ItemKey, O> IterSaveReplay for &&IterSave<'_, Replay<T, O>> {
    fn __ckpt_save(&self, w: &mut Writer<'_, '_>, name: &str) -> Result<()> {
        let c = self.0;
        let r = &c.it;
        let Some(keyed) = &r.keyed else {
            return Ok(());
        };
        if let Some(enc) = w.live_encoder(name) {
            let from = r.pos.saturating_sub(1).min(r.raw.len());
            write_keys(enc, c.n, &key_ptrs(&r.raw[from..]), keyed.save_key)?;
        }
        Ok(())
    }
}

/// Loads a loop over a hash map or set: the collection iterated again, in the order of
/// the keys saved (preferred over [`IterLoadCount`]).
pub trait IterLoadReplay<T, O> {
    /// Makes the iterator `name` again.
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<Replay<T, O>>;
}
impl<T: ItemKey, O> IterLoadReplay<T, O> for &&IterLoad<Replay<T, O>> {
    fn __ckpt_load(&self, f: &Frame, name: &str) -> Counted<Replay<T, O>> {
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

/// `filter(p)` of a loop's iterator chain, applied to one item in the loop's body (see
/// the macro's `normalize`): the closure gets its parameter type from `x`, as it would
/// from the iterator.
#[inline(always)]
pub fn lowered_filter<T, P: FnOnce(&T) -> bool>(x: &T, p: P) -> bool {
    p(x)
}

/// `map(f)` of a loop's iterator chain, applied to one item.
#[inline(always)]
pub fn lowered_map<T, U, F: FnOnce(T) -> U>(x: T, f: F) -> U {
    f(x)
}

/// `filter_map(f)` of a loop's iterator chain, applied to one item.
#[inline(always)]
pub fn lowered_filter_map<T, U, F: FnOnce(T) -> Option<U>>(x: T, f: F) -> Option<U> {
    f(x)
}

/// The iterator a function returns as `impl Iterator` (or a boxed `dyn Iterator`), in a
/// `for` loop with a save point: saved as the count of items taken, and made again on
/// restore by calling the function again (with the arguments it had, made again from
/// the restored locals) and skipping as many items. The function must give the same items
/// for the same arguments, as a lazily written one does (a walk over a std `HashMap`
/// inside it would not: its order changes when the map is rebuilt).
pub struct Remade<I>(I);

/// Wraps the iterator of a call of a function returning `impl Iterator` (see [`Remade`]).
#[inline]
pub fn remade<I: IntoIterator>(i: I) -> Remade<I::IntoIter> {
    Remade(i.into_iter())
}

impl<I: Iterator> Iterator for Remade<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
    #[inline]
    fn nth(&mut self, n: usize) -> Option<I::Item> {
        self.0.nth(n)
    }
}

impl<I: DoubleEndedIterator> DoubleEndedIterator for Remade<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        self.0.next_back()
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for Remade<I> {}

impl<I: Iterator> StableOrder for Remade<I> {}

#[cfg(test)]
mod adapter_tests {
    use super::*;
    use crate::state::{from_slice, to_vec};

    /// ckpt's adapters yield what std's do, and continue after a save and load.
    #[test]
    fn take_skip_step_by_match_std_and_resume() {
        for n in [0usize, 1, 3, 7, 20] {
            assert!(take(0..10u32, n).eq((0..10u32).take(n)), "take {n}");
            assert!(skip(0..10u32, n).eq((0..10u32).skip(n)), "skip {n}");
            if n > 0 {
                assert!(
                    step_by(0..10u32, n).eq((0..10u32).step_by(n)),
                    "step_by {n}"
                );
            }
        }
        let mut it = step_by(skip(take(0..100u64, 50), 3), 4);
        let first: Vec<u64> = it.by_ref().take(3).collect();
        let back: Stepped<Skipped<Taken<std::ops::Range<u64>>>> =
            from_slice(&to_vec(&it).unwrap()).unwrap();
        let rest: Vec<u64> = back.collect();
        let all: Vec<u64> = (0..100u64).take(50).skip(3).step_by(4).collect();
        assert_eq!([first, rest].concat(), all);
    }
}
