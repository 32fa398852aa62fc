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
