//! `State` for iterators over borrowed text or slices — `s.chars()`, `s.char_indices()`,
//! `s.lines()`, `s.split_whitespace()`, `v.iter()` — and for `Peekable` over any of them,
//! such as a tokenizer's `src.chars().peekable()` kept across a save point.
//!
//! Each is saved as the items it has still to yield (read from a clone, so saving does
//! not advance it; a `Peekable` gives its peeked item first). Loading builds the same
//! kind of iterator over a copy of those items, leaked with [`Box::leak`] as for `&str`
//! (the iterator borrows it for as long as the program keeps the iterator). What the
//! program sees is the same sequence of items, and for `char_indices` the same offsets.

use std::iter::Peekable;
use std::str::{CharIndices, Chars, Lines, SplitWhitespace};

use super::{Encoder, Loader, State, Value};
use crate::Error;

/// An iterator that can be made again from the items it has still to yield.
pub trait Remaining: Iterator + Clone + Sized {
    /// Writes `items` (this iterator's remaining items, or a `Peekable`'s).
    fn save_items(
        items: impl Iterator<Item = Self::Item>,
        e: &mut Encoder<'_>,
    ) -> Result<(), Error>;
    /// Makes an iterator that yields the saved items.
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error>;
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl Remaining for Chars<'_> {
    /// The text still to come.
    fn save_items(items: impl Iterator<Item = char>, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(&items.collect::<String>());
        Ok(())
    }
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(leak_str(String::load(v, l)?).chars())
    }
}

impl Remaining for CharIndices<'_> {
    /// `[offset, text]`: the byte offset of the next item and the text from there.
    fn save_items(
        items: impl Iterator<Item = (usize, char)>,
        e: &mut Encoder<'_>,
    ) -> Result<(), Error> {
        let mut items = items.peekable();
        let offset = items.peek().map_or(0, |(i, _)| *i);
        let text: String = items.map(|(_, c)| c).collect();
        e.array(2);
        e.put(&offset)?;
        e.text(&text);
        Ok(())
    }
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut xs = v.into_elements("CharIndices", 2)?;
        let offset: usize = xs.next(l)?;
        let text: String = xs.next(l)?;
        // The offsets continue where they stopped: `offset` one-byte characters first,
        // skipped here.
        let mut padded = " ".repeat(offset);
        padded.push_str(&text);
        let mut it = leak_str(padded).char_indices();
        if offset > 0 {
            it.nth(offset - 1);
        }
        Ok(it)
    }
}

impl Remaining for Lines<'_> {
    /// The lines still to come.
    fn save_items(
        items: impl Iterator<Item = Self::Item>,
        e: &mut Encoder<'_>,
    ) -> Result<(), Error> {
        let lines: Vec<&str> = items.collect();
        e.put(&lines)
    }
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let lines: Vec<String> = l.load(v)?;
        let mut text = String::new();
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        Ok(leak_str(text).lines())
    }
}

impl Remaining for SplitWhitespace<'_> {
    /// The words still to come.
    fn save_items(
        items: impl Iterator<Item = Self::Item>,
        e: &mut Encoder<'_>,
    ) -> Result<(), Error> {
        let words: Vec<&str> = items.collect();
        e.put(&words)
    }
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let words: Vec<String> = l.load(v)?;
        Ok(leak_str(words.join(" ")).split_whitespace())
    }
}

impl<'a, T: State> Remaining for std::slice::Iter<'a, T> {
    /// The elements still to come.
    fn save_items(
        items: impl Iterator<Item = Self::Item>,
        e: &mut Encoder<'_>,
    ) -> Result<(), Error> {
        let rest: Vec<&T> = items.collect();
        e.array(rest.len() as u64);
        for x in rest {
            e.put(x)?;
        }
        Ok(())
    }
    fn load_items(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let xs: &'a [T] = Box::leak(T::load_vec(v, l)?.into_boxed_slice());
        Ok(xs.iter())
    }
}

/// `State` for iterators that are [`Remaining`].
macro_rules! remaining_state {
    ($($ty:ty $(, $T:ident)?);* $(;)?) => {$(
        impl<$($T: State)?> State for $ty {
            /// The items still to come; loads over a leaked copy of them.
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                <$ty as Remaining>::save_items(self.clone(), e)
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                <$ty as Remaining>::load_items(v, l)
            }
        }
    )*};
}

remaining_state! {
    Chars<'_>;
    CharIndices<'_>;
    Lines<'_>;
    SplitWhitespace<'_>;
    std::slice::Iter<'_, T>, T;
}

impl<I: Remaining> State for Peekable<I>
where
    I::Item: Clone,
{
    /// The items still to come, the peeked one first; loads with nothing peeked (peeking
    /// again yields the same item).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        I::save_items(self.clone(), e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(I::load_items(v, l)?.peekable())
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{from_slice, to_vec, State};

    fn rt<T: State>(v: &T) -> T {
        from_slice(&to_vec(v).unwrap()).unwrap()
    }

    #[test]
    fn chars_and_peekable_continue_where_they_were() {
        let src = String::from("12 + (3*4)");
        let mut it = src.chars().peekable();
        it.next();
        assert_eq!(it.peek(), Some(&'2'));
        let mut back = rt(&it);
        assert_eq!(back.peek(), Some(&'2'));
        assert_eq!(back.collect::<String>(), it.collect::<String>());
        let mut c = src.chars();
        c.next_back();
        assert_eq!(rt(&c).collect::<String>(), "12 + (3*4");
    }

    #[test]
    fn char_indices_keep_their_offsets() {
        let src = "héllo wörld";
        let mut it = src.char_indices();
        it.nth(3);
        let back = rt(&it);
        assert_eq!(back.collect::<Vec<_>>(), it.collect::<Vec<_>>());
        let mut done = src.char_indices();
        done.by_ref().for_each(drop);
        assert_eq!(rt(&done).next(), None);
    }

    #[test]
    fn lines_words_and_slices() {
        for text in ["a\n\nb\n", "a\r\nb", "a\n\n", "", "one"] {
            let mut it = text.lines();
            assert_eq!(
                rt(&it).collect::<Vec<_>>(),
                it.clone().collect::<Vec<_>>(),
                "{text:?}"
            );
            it.next();
            assert_eq!(rt(&it).collect::<Vec<_>>(), it.collect::<Vec<_>>());
        }
        let mut w = "  the quick\tbrown  fox ".split_whitespace();
        w.next();
        assert_eq!(rt(&w).collect::<Vec<_>>(), ["quick", "brown", "fox"]);
        let v = [String::from("a"), "b".into(), "c".into()];
        let mut s = v.iter().peekable();
        s.next();
        s.peek();
        let back = rt(&s);
        assert_eq!(back.collect::<Vec<_>>(), [&v[1], &v[2]]);
    }
}
