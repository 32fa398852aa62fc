//! The children of a [`Value`]: [`Items`] (of an array) and [`Entries`] (of a map).
//!
//! They are `Vec`s (they deref to one) whose drop, comparison, clone and debug output do
//! not recurse once per level on the machine stack, so a value as deep as a million-node
//! linked list is dropped and compared in constant stack: dropping moves the children of
//! nested containers onto a work list instead of recursing; comparing walks both trees
//! with an explicit stack; cloning and formatting recurse, but grow the stack on demand
//! ([`grow`]).

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::Value;

/// Stack that must remain before a nested save, load or clone starts without growing it.
pub(crate) const RED_ZONE: usize = 128 << 10;
/// Size of each stack segment added when it does not (see `stacker::maybe_grow`).
pub(crate) const SEGMENT: usize = 4 << 20;

/// Runs `f` on the current stack if at least [`RED_ZONE`] of it is left, else on a new
/// [`SEGMENT`] (freed when `f` returns): deep recursion uses memory, not the stack's end.
///
/// Like `stacker::maybe_grow`, with the switch out of line: the frame of the common case
/// stays small, and a deep value pays it once per level.
#[inline(always)]
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    if has_room(RED_ZONE) {
        f()
    } else {
        on_new_segment(f)
    }
}

/// Whether at least `red_zone` bytes of the current stack are left.
#[inline(always)]
pub(crate) fn has_room(red_zone: usize) -> bool {
    stacker::remaining_stack().is_some_and(|left| left >= red_zone)
}

#[cold]
#[inline(never)]
pub(crate) fn on_new_segment<R>(f: impl FnOnce() -> R) -> R {
    stacker::grow(SEGMENT, f)
}

/// How far above the stack pointer of the last full check the fast check still trusts
/// it: saves and loads nested in that call only go down, siblings stay close.
const CEIL_MARGIN: usize = 256 << 10;

/// The stack room known to the encoder or loader, so that the check each nested save or
/// load makes is two comparisons with the stack pointer (asking `stacker` costs two calls
/// and a thread-local access, which shows on a vector of millions of small values).
///
/// `floor` is the lowest stack pointer at which [`RED_ZONE`] is still left on the stack
/// the last full check ran on; `ceil` bounds that stack from above, so code running on
/// another stack (a segment added by anyone) fails the fast check and asks again.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Headroom {
    floor: usize,
    ceil: usize,
}

impl Headroom {
    /// Whether a nested save or load may start here without growing the stack.
    #[inline(always)]
    pub(crate) fn ok(&self) -> bool {
        let sp = stack_pointer();
        sp > self.floor && sp < self.ceil
    }

    /// The full check: whether the stack has [`RED_ZONE`] left here (then remembered).
    #[cold]
    #[inline(never)]
    pub(crate) fn refresh(&mut self) -> bool {
        let sp = stack_pointer();
        match stacker::remaining_stack() {
            Some(left) if left >= RED_ZONE => {
                self.floor = sp.saturating_sub(left) + RED_ZONE;
                self.ceil = sp.saturating_add(CEIL_MARGIN);
                true
            }
            _ => false,
        }
    }
}

/// The stack pointer. Read with one instruction where that is possible: the address of a
/// local would do too, but taking it keeps the caller from tail-calling (see `put`).
#[inline(always)]
fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: copies the stack pointer into a register; no memory is touched.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
        }
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: copies the stack pointer into a register; no memory is touched.
        unsafe {
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
        }
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        stacker::remaining_stack().map_or(0, |_| {
            let marker = 0u8;
            std::hint::black_box(&marker) as *const u8 as usize
        })
    }
}

/// [`grow`] with twice the red zone, for loops that save or load many children: the loop
/// then runs where each child has room, instead of each child growing the stack anew
/// when the loop happens to sit right at the red zone.
#[inline(always)]
pub(crate) fn grow_for_loop<R>(f: impl FnOnce() -> R) -> R {
    if has_room(2 * RED_ZONE) {
        f()
    } else {
        on_new_segment(f)
    }
}

/// The items of a [`Value::Array`]. A `Vec<Value>` (it derefs to one, converts from and
/// into one) whose drop and comparison take constant stack however deep the tree is.
#[derive(Default)]
pub struct Items(Vec<Value>);

/// The entries of a [`Value::Map`], in the order written. A `Vec<(Value, Value)>` (it
/// derefs to one, converts from and into one) whose drop and comparison take constant
/// stack however deep the tree is.
#[derive(Default)]
pub struct Entries(Vec<(Value, Value)>);

macro_rules! seq {
    ($Seq:ident, $T:ty) => {
        impl $Seq {
            /// An empty sequence.
            pub fn new() -> Self {
                $Seq(Vec::new())
            }

            /// The elements, as a `Vec`.
            pub fn into_vec(mut self) -> Vec<$T> {
                std::mem::take(&mut self.0)
            }
        }

        impl Deref for $Seq {
            type Target = Vec<$T>;
            fn deref(&self) -> &Vec<$T> {
                &self.0
            }
        }

        impl DerefMut for $Seq {
            fn deref_mut(&mut self) -> &mut Vec<$T> {
                &mut self.0
            }
        }

        impl From<Vec<$T>> for $Seq {
            fn from(v: Vec<$T>) -> Self {
                $Seq(v)
            }
        }

        impl From<$Seq> for Vec<$T> {
            fn from(s: $Seq) -> Self {
                s.into_vec()
            }
        }

        impl FromIterator<$T> for $Seq {
            fn from_iter<I: IntoIterator<Item = $T>>(it: I) -> Self {
                $Seq(it.into_iter().collect())
            }
        }

        impl IntoIterator for $Seq {
            type Item = $T;
            type IntoIter = std::vec::IntoIter<$T>;
            fn into_iter(self) -> Self::IntoIter {
                self.into_vec().into_iter()
            }
        }

        impl<'a> IntoIterator for &'a $Seq {
            type Item = &'a $T;
            type IntoIter = std::slice::Iter<'a, $T>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.iter()
            }
        }

        impl<'a> IntoIterator for &'a mut $Seq {
            type Item = &'a mut $T;
            type IntoIter = std::slice::IterMut<'a, $T>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.iter_mut()
            }
        }

        impl Clone for $Seq {
            /// Recursive, on a stack grown on demand.
            fn clone(&self) -> Self {
                grow(|| $Seq(self.0.clone()))
            }
        }

        impl fmt::Debug for $Seq {
            /// Like the `Vec`'s, on a stack grown on demand.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                grow(|| fmt::Debug::fmt(&self.0, f))
            }
        }
    };
}

seq!(Items, Value);
seq!(Entries, (Value, Value));

impl Drop for Items {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            dismantle(Open::Items(std::mem::take(&mut self.0).into_iter()));
        }
    }
}

impl Drop for Entries {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            dismantle(Open::Entries(std::mem::take(&mut self.0).into_iter(), None));
        }
    }
}

/// The children of a container being dropped that are not dropped yet.
enum Open {
    Items(std::vec::IntoIter<Value>),
    /// Entries, and the value of the entry whose key was just taken.
    Entries(std::vec::IntoIter<(Value, Value)>, Option<Value>),
}

impl Open {
    fn next(&mut self) -> Option<Value> {
        match self {
            Open::Items(it) => it.next(),
            Open::Entries(it, pending) => pending.take().or_else(|| {
                let (k, v) = it.next()?;
                *pending = Some(v);
                Some(k)
            }),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Open::Items(it) => it.len() == 0,
            Open::Entries(it, pending) => pending.is_none() && it.len() == 0,
        }
    }

    /// The children of `v` if it has any (its container is left empty, so dropping it does
    /// nothing more); `None` for a leaf, which is dropped here.
    fn of(mut v: Value) -> Option<Open> {
        loop {
            match v {
                Value::Array(mut items) => {
                    let items = std::mem::take(&mut items.0);
                    return (!items.is_empty()).then(|| Open::Items(items.into_iter()));
                }
                Value::Map(mut entries) => {
                    let entries = std::mem::take(&mut entries.0);
                    return (!entries.is_empty()).then(|| Open::Entries(entries.into_iter(), None));
                }
                Value::Tag(_, inner) => v = *inner,
                _ => return None,
            }
        }
    }
}

/// Drops a tree depth first, keeping the containers still open on a `Vec` (one per level
/// that has children left: a linked list needs none).
fn dismantle(root: Open) {
    let mut stack: Vec<Open> = Vec::new();
    let mut cur = root;
    loop {
        match cur.next() {
            Some(child) => {
                if let Some(open) = Open::of(child) {
                    if !cur.is_empty() {
                        stack.push(cur);
                    }
                    cur = open;
                }
            }
            None => match stack.pop() {
                Some(o) => cur = o,
                None => return,
            },
        }
    }
}

impl PartialEq for Items {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && equal(Pair::Items(self.0.iter(), other.0.iter()))
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && equal(Pair::Entries(self.0.iter(), other.0.iter(), None))
    }
}

/// Two sequences of the same length being compared, element by element.
enum Pair<'a> {
    Items(std::slice::Iter<'a, Value>, std::slice::Iter<'a, Value>),
    Entries(
        std::slice::Iter<'a, (Value, Value)>,
        std::slice::Iter<'a, (Value, Value)>,
        Option<(&'a Value, &'a Value)>,
    ),
}

impl<'a> Pair<'a> {
    fn is_empty(&self) -> bool {
        match self {
            Pair::Items(a, _) => a.len() == 0,
            Pair::Entries(a, _, pending) => pending.is_none() && a.len() == 0,
        }
    }

    fn next(&mut self) -> Option<(&'a Value, &'a Value)> {
        match self {
            Pair::Items(a, b) => Some((a.next()?, b.next()?)),
            Pair::Entries(a, b, pending) => pending.take().or_else(|| {
                let ((ka, va), (kb, vb)) = (a.next()?, b.next()?);
                *pending = Some((va, vb));
                Some((ka, kb))
            }),
        }
    }
}

/// Structural equality of the sequences of `root`, with an explicit stack (one entry per
/// level that has elements left to compare: a linked list needs none).
fn equal(root: Pair<'_>) -> bool {
    let mut stack = vec![root];
    while let Some(top) = stack.last_mut() {
        let Some((mut a, mut b)) = top.next() else {
            stack.pop();
            continue;
        };
        if top.is_empty() {
            stack.pop();
        }
        // Look through tags (compared on the way), then open containers or compare leaves.
        loop {
            match (a, b) {
                (Value::Tag(ta, xa), Value::Tag(tb, xb)) => {
                    if ta != tb {
                        return false;
                    }
                    (a, b) = (xa, xb);
                }
                (Value::Array(xa), Value::Array(xb)) => {
                    if xa.0.len() != xb.0.len() {
                        return false;
                    }
                    stack.push(Pair::Items(xa.0.iter(), xb.0.iter()));
                    break;
                }
                (Value::Map(xa), Value::Map(xb)) => {
                    if xa.0.len() != xb.0.len() {
                        return false;
                    }
                    stack.push(Pair::Entries(xa.0.iter(), xb.0.iter(), None));
                    break;
                }
                // Leaves (and containers of different kinds): no recursion below.
                _ => {
                    if a != b {
                        return false;
                    }
                    break;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[[[...[leaf]...]]]`, `n` arrays deep, built without recursion.
    fn nested(n: usize, leaf: Value) -> Value {
        let mut v = leaf;
        for i in 0..n {
            v = if i % 3 == 0 {
                Value::Map(vec![(Value::Text("k".into()), v)].into())
            } else if i % 3 == 1 {
                Value::Tag(1, Box::new(Value::Array(vec![Value::Null, v].into())))
            } else {
                Value::Array(vec![v].into())
            };
        }
        v
    }

    /// Runs `f` on a thread with a 128 KiB stack: one frame per level would overflow it.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_trees_drop_and_compare_on_a_small_stack() {
        on_small_stack(|| {
            let a = nested(1_000_000, Value::Uint(1));
            let b = nested(1_000_000, Value::Uint(1));
            assert!(a == b);
            let c = nested(1_000_000, Value::Uint(2));
            assert!(a != c);
            drop((a, b, c));
        });
    }

    #[test]
    fn deep_trees_clone_and_format_on_a_growing_stack() {
        on_small_stack(|| {
            let a = nested(100_000, Value::Text("leaf".into()));
            let b = a.clone();
            assert!(a == b);
            let s = format!("{b:?}");
            assert!(s.contains("leaf") && s.len() > 100_000);
        });
    }

    #[test]
    fn equality_is_structural() {
        let t = |s: &str| Value::Text(s.into());
        let m = |k: &str, v: Value| Value::Map(vec![(t(k), v)].into());
        assert_eq!(m("a", Value::Uint(1)), m("a", Value::Uint(1)));
        assert_ne!(m("a", Value::Uint(1)), m("b", Value::Uint(1)));
        assert_ne!(m("a", Value::Uint(1)), m("a", Value::Uint(2)));
        assert_ne!(
            Value::Array(vec![Value::Null].into()),
            Value::Array(vec![Value::Null, Value::Null].into())
        );
        assert_ne!(
            Value::Tag(1, Box::new(Value::Null)),
            Value::Tag(2, Box::new(Value::Null))
        );
        assert_ne!(Value::Array(Items::new()), Value::Map(Entries::new()));
        let f = Value::Float(f64::NAN);
        assert_ne!(
            Value::Array(vec![f.clone()].into()),
            Value::Array(vec![f].into())
        );
    }

    #[test]
    fn items_behave_like_a_vec() {
        let mut items: Items = (0..3).map(Value::Uint).collect();
        items.push(Value::Null);
        assert_eq!(items.len(), 4);
        let v: Vec<Value> = items.clone().into();
        assert_eq!(v.len(), 4);
        assert_eq!(items.into_iter().nth(2), Some(Value::Uint(2)));
    }
}
