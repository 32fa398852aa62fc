//! `State` for std scalars, strings, `Option`/`Result`, tuples, arrays, boxes, ranges and
//! bounds, `Ordering`, `Duration`, paths, `io::Error` and `PhantomData`.

use std::cmp::Ordering;
use std::ffi::OsString;
use std::marker::PhantomData;
use std::ops::{Bound, Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};
use std::path::PathBuf;
use std::time::Duration;

use super::{Encoder, Loader, State, Value};
use crate::Error;

fn expect_len(v: Value, ty: &str, n: usize) -> Result<std::vec::IntoIter<Value>, Error> {
    match v {
        Value::Array(items) if items.len() == n => Ok(items.into_iter()),
        Value::Array(items) => Err(Error::ty(
            "",
            format!("{ty} (an array of {n})"),
            format!("an array of {}", items.len()),
        )),
        other => Err(Error::ty(
            "",
            format!("{ty} (an array of {n})"),
            other.kind(),
        )),
    }
}

/// Loads the next item of an array whose length was checked.
fn next<T: State>(
    it: &mut std::vec::IntoIter<Value>,
    i: usize,
    l: &mut Loader,
) -> Result<T, Error> {
    l.load(it.next().unwrap_or(Value::Null))
        .map_err(|e| e.within(&i.to_string()))
}

impl State for bool {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.bool(*self);
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(Error::ty("", "bool", other.kind())),
        }
    }
}

impl State for char {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// A one-character text string.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(self.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Text(t) => {
                let mut cs = t.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Ok(c),
                    _ => Err(Error::ty("", "char", format!("text {t:?}"))),
                }
            }
            Value::Uint(n) => char::from_u32(n as u32)
                .filter(|_| n <= u32::MAX as u64)
                .ok_or_else(|| Error::ty("", "char", format!("{n} (not a scalar value)"))),
            other => Err(Error::ty("", "char", other.kind())),
        }
    }
}

impl State for () {
    fn placeholder() -> Option<Self> {
        Some(())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.null();
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Null => Ok(()),
            other => Err(Error::ty("", "()", other.kind())),
        }
    }
}

impl<T: ?Sized> State for PhantomData<T> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.null();
        Ok(())
    }
    fn load(_: Value, _: &mut Loader) -> Result<Self, Error> {
        Ok(PhantomData)
    }
}

impl State for String {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(self);
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Text(t) => Ok(t),
            other => Err(Error::ty("", "String", other.kind())),
        }
    }
}

impl State for Box<str> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(self);
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        String::load(v, l).map(String::into_boxed_str)
    }
}

impl State for OsString {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// Text when valid UTF-8, else (Unix) the raw bytes.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self.to_str() {
            Some(s) => e.text(s),
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::ffi::OsStrExt;
                    e.bytes(self.as_bytes());
                }
                #[cfg(not(unix))]
                return Err(Error::Unsaveable {
                    at: String::new(),
                    detail: format!("{self:?} is not valid Unicode"),
                });
            }
        }
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Text(t) => Ok(t.into()),
            #[cfg(unix)]
            Value::Bytes(b) => {
                use std::os::unix::ffi::OsStringExt;
                Ok(OsString::from_vec(b))
            }
            other => Err(Error::ty("", "OsString", other.kind())),
        }
    }
}

impl State for PathBuf {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        self.as_os_str().to_os_string().save(e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        OsString::load(v, l).map(PathBuf::from)
    }
}

impl State for Duration {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    /// `[seconds, nanoseconds]`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(2);
        e.uint(self.as_secs());
        e.uint(self.subsec_nanos() as u64);
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut it = expect_len(v, "Duration", 2)?;
        let secs: u64 = next(&mut it, 0, l)?;
        let nanos: u32 = next(&mut it, 1, l)?;
        if nanos >= 1_000_000_000 {
            return Err(Error::ty("1", "nanoseconds below 10^9", nanos.to_string()));
        }
        Ok(Duration::new(secs, nanos))
    }
}

impl<T: State> State for Option<T> {
    fn placeholder() -> Option<Self> {
        Some(None)
    }

    /// `null`, or a one-item array (so `Option<Option<T>>` and `Option<()>` stay exact).
    #[inline(always)]
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self {
            None => {
                e.null();
                Ok(())
            }
            Some(x) => {
                e.array(1);
                e.put(x)
            }
        }
    }
    #[inline(always)]
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Null => Ok(None),
            Value::Array(mut items) if items.len() == 1 => {
                items.pop().map(|x| l.load(x)).transpose()
            }
            other => Err(Error::ty(
                "",
                "Option (null or an array of 1)",
                other.kind(),
            )),
        }
    }
}

impl<T: State, E: State> State for Result<T, E> {
    fn placeholder() -> Option<Self> {
        T::placeholder()
            .map(Ok)
            .or_else(|| E::placeholder().map(Err))
    }

    /// `{"Ok": v}` or `{"Err": e}`, like a derived enum.
    #[inline]
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.map(1);
        match self {
            Ok(x) => {
                e.text("Ok");
                e.put(x)
            }
            Err(x) => {
                e.text("Err");
                e.put(x)
            }
        }
    }
    #[inline]
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let (name, payload) = v.into_variant("Result")?;
        match name.as_str() {
            "Ok" => l.load(payload).map(Ok).map_err(|e| e.within("Ok")),
            "Err" => l.load(payload).map(Err).map_err(|e| e.within("Err")),
            _ => Err(Error::ty(
                "",
                "Result (Ok or Err)",
                format!("variant `{name}`"),
            )),
        }
    }
}

macro_rules! tuple_state {
    ($($n:literal: ($($T:ident $i:tt),+))*) => {$(
        impl<$($T: State),+> State for ($($T,)+) {
            fn placeholder() -> Option<Self> {
                Some(($($T::placeholder()?,)+))
            }

            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.array($n);
                $(e.put(&self.$i)?;)+
                Ok(())
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                let mut it = expect_len(v, concat!("a tuple of ", $n), $n)?;
                Ok(($(next::<$T>(&mut it, $i, l)?,)+))
            }
        }
    )*};
}

tuple_state! {
    1: (A 0)
    2: (A 0, B 1)
    3: (A 0, B 1, C 2)
    4: (A 0, B 1, C 2, D 3)
    5: (A 0, B 1, C 2, D 3, E 4)
    6: (A 0, B 1, C 2, D 3, E 4, F 5)
    7: (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    8: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    9: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    10: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    11: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    12: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

impl<T: State, const N: usize> State for [T; N] {
    fn placeholder() -> Option<Self> {
        let items: Option<Vec<T>> = (0..N).map(|_| T::placeholder()).collect();
        items?.try_into().ok()
    }

    /// Like a slice: a typed array for primitive numbers.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        T::save_slice(self, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let items = T::load_vec(v, l)?;
        let n = items.len();
        items
            .try_into()
            .map_err(|_| Error::ty("", format!("an array of {N} items"), format!("{n} items")))
    }
}

impl<T: State> State for Box<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(Box::new)
    }

    #[inline(always)]
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&**self)
    }
    #[inline(always)]
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(Box::new)
    }
}

impl<T: State> State for Box<[T]> {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        T::save_slice(self, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        T::load_vec(v, l).map(Vec::into_boxed_slice)
    }
}

impl<T: State> State for Range<T> {
    fn placeholder() -> Option<Self> {
        Some(T::placeholder()?..T::placeholder()?)
    }

    /// `[start, end]`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(2);
        e.put(&self.start)?;
        e.put(&self.end)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut it = expect_len(v, "Range", 2)?;
        Ok(next(&mut it, 0, l)?..next(&mut it, 1, l)?)
    }
}

/// `[start, end, exhausted]`: an inclusive range that has yielded its last item keeps
/// `start == end` and a hidden "exhausted" flag, which this restores.
macro_rules! range_inclusive_state {
    ($($t:ty)*) => {$(
        impl State for RangeInclusive<$t> {
            fn placeholder() -> Option<Self> {
                Some(<$t>::default()..=<$t>::default())
            }

            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.array(3);
                self.start().save(e)?;
                self.end().save(e)?;
                e.bool(self.is_empty() && self.start() <= self.end());
                Ok(())
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                let mut it = expect_len(v, "RangeInclusive", 3)?;
                let (start, end): ($t, $t) = (next(&mut it, 0, l)?, next(&mut it, 1, l)?);
                let exhausted: bool = next(&mut it, 2, l)?;
                if exhausted {
                    // Only `end..=end` stepped once reproduces the flag through the public API.
                    let mut r = end..=end;
                    r.next();
                    Ok(r)
                } else {
                    Ok(start..=end)
                }
            }
        }
    )*};
}

range_inclusive_state!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize char);

/// Float ranges are not iterators, so they are never exhausted: `[start, end, false]`.
macro_rules! float_range_inclusive_state {
    ($($t:ty)*) => {$(
        impl State for RangeInclusive<$t> {
            fn placeholder() -> Option<Self> {
                Some(<$t>::default()..=<$t>::default())
            }

            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.array(3);
                self.start().save(e)?;
                self.end().save(e)?;
                e.bool(false);
                Ok(())
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                let mut it = expect_len(v, "RangeInclusive", 3)?;
                let (start, end): ($t, $t) = (next(&mut it, 0, l)?, next(&mut it, 1, l)?);
                let _exhausted: bool = next(&mut it, 2, l)?;
                Ok(start..=end)
            }
        }
    )*};
}

float_range_inclusive_state!(f32 f64);

/// A map with one field, `{"start": x}` or `{"end": x}`: one-sided ranges.
fn save_one_field<T: State>(key: &str, x: &T, e: &mut Encoder<'_>) -> Result<(), Error> {
    e.map(1);
    e.text(key);
    e.put(x)
}

fn load_one_field<T: State>(
    v: Value,
    ty: &'static str,
    key: &'static str,
    l: &mut Loader,
) -> Result<T, Error> {
    let mut fields = v.into_fields(ty)?;
    fields.take(key, l)
}

impl<T: State> State for RangeFrom<T> {
    fn placeholder() -> Option<Self> {
        Some(T::placeholder()?..)
    }

    /// `{"start": x}`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_one_field("start", &self.start, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(load_one_field(v, "RangeFrom", "start", l)?..)
    }
}

impl<T: State> State for RangeTo<T> {
    fn placeholder() -> Option<Self> {
        Some(..T::placeholder()?)
    }

    /// `{"end": x}`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_one_field("end", &self.end, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(..load_one_field(v, "RangeTo", "end", l)?)
    }
}

impl<T: State> State for RangeToInclusive<T> {
    /// `{"end": x}` (the end is included).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        save_one_field("end", &self.end, e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(..=load_one_field(v, "RangeToInclusive", "end", l)?)
    }
}

impl State for RangeFull {
    /// `null`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.null();
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Null => Ok(..),
            other => Err(Error::ty("", "RangeFull (null)", other.kind())),
        }
    }
}

impl<T: State> State for Bound<T> {
    /// Like a derived enum: `{"Included": x}`, `{"Excluded": x}` or `"Unbounded"`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self {
            Bound::Included(x) => save_one_field("Included", x, e),
            Bound::Excluded(x) => save_one_field("Excluded", x, e),
            Bound::Unbounded => {
                e.text("Unbounded");
                Ok(())
            }
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let (name, payload) = v.into_variant("Bound")?;
        match name.as_str() {
            "Included" => l
                .load(payload)
                .map(Bound::Included)
                .map_err(|e| e.within("Included")),
            "Excluded" => l
                .load(payload)
                .map(Bound::Excluded)
                .map_err(|e| e.within("Excluded")),
            "Unbounded" => Ok(Bound::Unbounded),
            _ => Err(Error::ty(
                "",
                "Bound (Included, Excluded or Unbounded)",
                format!("variant `{name}`"),
            )),
        }
    }
}

impl State for Ordering {
    fn placeholder() -> Option<Self> {
        Some(Ordering::Equal)
    }

    /// Like a derived enum: `"Less"`, `"Equal"` or `"Greater"`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.text(match self {
            Ordering::Less => "Less",
            Ordering::Equal => "Equal",
            Ordering::Greater => "Greater",
        });
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v.as_str() {
            Some("Less") => Ok(Ordering::Less),
            Some("Equal") => Ok(Ordering::Equal),
            Some("Greater") => Ok(Ordering::Greater),
            Some(other) => Err(Error::ty(
                "",
                "Ordering (Less, Equal or Greater)",
                format!("variant `{other}`"),
            )),
            None => Err(Error::ty("", "Ordering", v.kind())),
        }
    }
}

/// The kinds of `io::Error` by name (their `Debug` form), for [`std::io::Error`]'s load.
const IO_KINDS: &[std::io::ErrorKind] = {
    use std::io::ErrorKind::*;
    &[
        NotFound,
        PermissionDenied,
        ConnectionRefused,
        ConnectionReset,
        ConnectionAborted,
        NotConnected,
        AddrInUse,
        AddrNotAvailable,
        BrokenPipe,
        AlreadyExists,
        WouldBlock,
        InvalidInput,
        InvalidData,
        TimedOut,
        WriteZero,
        Interrupted,
        Unsupported,
        UnexpectedEof,
        OutOfMemory,
        Other,
    ]
};

impl State for std::io::Error {
    /// `[kind, OS error code or null, message]`: an error the OS gave comes back as the
    /// same OS error; any other as an error of the same kind and message (its inner
    /// error, if any, is its message only).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(3);
        e.text(&format!("{:?}", self.kind()));
        match self.raw_os_error() {
            Some(code) => e.int(i64::from(code)),
            None => e.null(),
        }
        e.text(&self.to_string());
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut it = expect_len(v, "io::Error", 3)?;
        let kind: String = next(&mut it, 0, l)?;
        let code: Option<i32> = match it.next() {
            Some(Value::Null) | None => None,
            Some(v) => Some(l.load(v).map_err(|e: Error| e.within("1"))?),
        };
        let message: String = next(&mut it, 2, l)?;
        if let Some(code) = code {
            return Ok(std::io::Error::from_raw_os_error(code));
        }
        let kind = IO_KINDS
            .iter()
            .copied()
            .find(|k| format!("{k:?}") == kind)
            .unwrap_or(std::io::ErrorKind::Other);
        Ok(std::io::Error::new(kind, message))
    }
}

impl<T: State> State for std::num::Wrapping<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(std::num::Wrapping)
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&self.0)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(std::num::Wrapping)
    }
}

impl<T: State> State for std::cmp::Reverse<T> {
    fn placeholder() -> Option<Self> {
        T::placeholder().map(std::cmp::Reverse)
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&self.0)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(std::cmp::Reverse)
    }
}
