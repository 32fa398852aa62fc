//! `State` for strings and slices behind `Cow`, `Rc`, `Arc` and `&`: saved like `String`
//! (text) and `Vec<T>` (an array, or a typed array of numbers); and for shared references
//! to any `State` value.
//!
//! They load as fresh values: a `Cow` of the same variant (a borrowed one points at a
//! leaked copy); a new `Rc<str>`/`Arc<[T]>` per pointer
//! (identity is not kept for these unsized pointers, unlike `Rc<T>`); and for references,
//! a copy leaked with [`Box::leak`].

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use super::{Encoder, Loader, State, Value};
use crate::Error;

impl State for Cow<'_, str> {
    /// `Cow::Owned`: the text. `Cow::Borrowed`: `{"Borrowed": text}`, loaded as a
    /// borrowed copy leaked with [`Box::leak`] (as for `&str`), so a program that looks
    /// at which variant it holds sees the same one after a restore.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if let Cow::Borrowed(_) = self {
            e.map(1);
            e.text("Borrowed");
        }
        e.text(self);
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Map(_) => {
                let (variant, payload) = v.into_variant("Cow<str>")?;
                if variant != "Borrowed" {
                    return Err(Error::ty("", "Cow<str> (Borrowed or text)", variant));
                }
                let s = String::load(payload, l)?;
                Ok(Cow::Borrowed(Box::leak(s.into_boxed_str())))
            }
            v => String::load(v, l).map(Cow::Owned),
        }
    }
}

impl<T: State + Clone> State for Cow<'_, [T]> {
    /// `Cow::Owned`: like a `Vec<T>`. `Cow::Borrowed`: `{"Borrowed": elements}`, loaded
    /// as a borrowed copy leaked with [`Box::leak`] (as for `&[T]`).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if let Cow::Borrowed(_) = self {
            e.map(1);
            e.text("Borrowed");
        }
        e.put_slice(&self[..])
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Map(_) => {
                let (variant, payload) = v.into_variant("Cow<[T]>")?;
                if variant != "Borrowed" {
                    return Err(Error::ty("", "Cow<[T]> (Borrowed or elements)", variant));
                }
                let xs = T::load_vec(payload, l)?;
                Ok(Cow::Borrowed(Box::leak(xs.into_boxed_slice())))
            }
            v => T::load_vec(v, l).map(Cow::Owned),
        }
    }
}

/// `State` for a pointer to an unsized `str` or `[T]`, saved by value.
macro_rules! unsized_pointers {
    ($($P:ident)*) => {$(
        impl State for $P<str> {
            /// Text. Saved by value: two pointers to one string load as two strings (unlike
            /// `Rc<T>`/`Arc<T>` for sized `T`, whose identity is kept).
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.text(self);
                Ok(())
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                String::load(v, l).map($P::from)
            }
        }

        impl<T: State> State for $P<[T]> {
            /// Like a `Vec<T>`. Saved by value: two pointers to one slice load as two slices
            /// (unlike `Rc<T>`/`Arc<T>` for sized `T`, whose identity is kept).
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.put_slice(&self[..])
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                T::load_vec(v, l).map($P::from)
            }
        }
    )*};
}

unsized_pointers!(Rc Arc);

impl State for &str {
    /// Text. Loading leaks the string ([`Box::leak`]): each restore leaks the bytes of
    /// every `&str` it loads, once. A `&str` kept across a save point that ckpt cannot make
    /// again from where it points (`longest = word;` in a loop) then restores as a copy
    /// with the same text; a string literal (`let mode = "fast";`) just works. It is small
    /// and bounded by the image.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(self);
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        String::load(v, l).map(|s| &*Box::leak(s.into_boxed_str()))
    }
}

impl<T: State> State for &[T] {
    /// Like a `Vec<T>` (a byte string for `&[u8]`). Loading leaks the elements
    /// ([`Box::leak`]): each restore leaks every slice it loads, once, as for `&str`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put_slice(&self[..])
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l).map(|v| &*Box::leak(v.into_boxed_slice()))
    }
}

impl<T: State> State for &T {
    /// What it points at. Loading leaks a copy ([`Box::leak`]): a shared reference kept
    /// across a save point that ckpt cannot make again from where it points (a cursor
    /// walking a list, `let best = &items[i]` with `i` changing) restores as a reference
    /// to a copy with the same value. Its address differs, and a later change of the
    /// original through a `Cell` or `RefCell` is not seen by the copy.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(*self)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let x: T = l.load(v)?;
        Ok(&*Box::leak(Box::new(x)))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::fmt::Debug;
    use std::rc::Rc;
    use std::sync::Arc;

    use crate::state::{decode_slice, from_slice, to_vec, State, Value};

    fn rt<T: State>(v: &T) -> T {
        from_slice(&to_vec(v).unwrap()).unwrap()
    }

    fn same<T: State + PartialEq + Debug>(v: T) {
        assert_eq!(rt(&v), v);
    }

    #[test]
    fn cows_load_owned() {
        let c: Cow<'static, str> = Cow::Borrowed("lit");
        let back = rt(&c);
        assert!(matches!(back, Cow::Borrowed("lit")));
        let c: Cow<'static, [u32]> = Cow::Borrowed(&[1, 2, 3]);
        let back = rt(&c);
        assert!(matches!(back, Cow::Borrowed(&[1, 2, 3])));
        same(Some(Cow::<str>::Owned("x".into())));
        same(vec![Cow::<[String]>::Owned(vec!["a".into()])]);
    }

    #[test]
    fn unsized_pointers_round_trip_by_value() {
        same(Rc::<str>::from("rc"));
        same(Arc::<str>::from("arc"));
        same(Rc::<[u8]>::from(&b"bytes"[..]));
        same(Arc::<[f64]>::from(&[1.5, -2.0][..]));
        same(Arc::<[String]>::from(vec!["s".to_string()]));
        // Saved by value: two pointers to one string are two strings after the load.
        let s = Rc::<str>::from("one");
        let (a, b) = rt(&(s.clone(), s));
        assert_eq!((&*a, &*b), ("one", "one"));
        assert!(!Rc::ptr_eq(&a, &b));
        // The encoding is the plain one: text, typed array.
        let bytes = to_vec(&Arc::<[u64]>::from(&[1, 2][..])).unwrap();
        assert!(matches!(decode_slice(&bytes).unwrap().0, Value::Typed(_)));
    }

    #[test]
    fn static_references_load_as_leaked_copies() {
        same("a literal");
        same(&b"raw bytes"[..]);
        same(&[1u16, 2, 3][..]);
        same(Some(&["x", "y"][..]));
        let bytes = to_vec(&"text").unwrap();
        assert_eq!(decode_slice(&bytes).unwrap().0, Value::Text("text".into()));
        let bytes = to_vec(&&b"ab"[..]).unwrap();
        assert_eq!(
            decode_slice(&bytes).unwrap().0,
            Value::Bytes(b"ab".to_vec())
        );
    }
}
