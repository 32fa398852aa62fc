//! Primitive numbers, and their bulk path: slices as RFC 8746 typed arrays.

use super::{Encoder, Loader, State, TypedArray, Value};
use crate::Error;

/// Primitive numbers whose slices are written as typed arrays. Every bit pattern is a
/// valid value and there is no padding, which is what makes the byte views below sound.
pub trait Pod: Copy + Default + 'static {
    /// RFC 8746 little-endian tag.
    const TAG: u64;
    /// The bytes of a slice, in memory order.
    fn as_bytes(xs: &[Self]) -> &[u8];
    /// The bytes of a mutable slice, in memory order.
    fn as_bytes_mut(xs: &mut [Self]) -> &mut [u8];
    /// Appends one element in little-endian order.
    fn put_le(&self, buf: &mut Vec<u8>);
    /// Converts elements read as little-endian bytes to native order (no-op on LE hosts).
    fn fix_endian(xs: &mut [Self]);
    /// Wraps a vector.
    fn wrap(v: Vec<Self>) -> TypedArray;
    /// Unwraps a vector of this element type.
    fn unwrap(t: TypedArray) -> Result<Vec<Self>, TypedArray>;
}

macro_rules! pod {
    ($($t:ident $tag:literal $var:ident),*) => {$(
        impl Pod for $t {
            const TAG: u64 = $tag;
            fn as_bytes(xs: &[Self]) -> &[u8] {
                // SAFETY: `$t` is a primitive number: no padding, alignment 1 is always fine
                // for u8, and the length covers exactly the slice's memory.
                unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<u8>(), std::mem::size_of_val(xs)) }
            }
            fn as_bytes_mut(xs: &mut [Self]) -> &mut [u8] {
                // SAFETY: as above, and every byte pattern is a valid `$t`, so writes through
                // the byte view cannot create an invalid value.
                unsafe { std::slice::from_raw_parts_mut(xs.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(xs)) }
            }
            fn put_le(&self, buf: &mut Vec<u8>) {
                buf.extend_from_slice(&self.to_le_bytes());
            }
            fn fix_endian(xs: &mut [Self]) {
                if cfg!(target_endian = "big") {
                    for x in xs {
                        *x = <$t>::from_le_bytes(x.to_ne_bytes());
                    }
                }
            }
            fn wrap(v: Vec<Self>) -> TypedArray {
                TypedArray::$var(v)
            }
            fn unwrap(t: TypedArray) -> Result<Vec<Self>, TypedArray> {
                match t {
                    TypedArray::$var(v) => Ok(v),
                    other => Err(other),
                }
            }
        }
    )*};
}

pod!(u8 64 U8, u16 69 U16, u32 70 U32, u64 71 U64, i8 72 I8, i16 77 I16, i32 78 I32, i64 79 I64, f32 85 F32, f64 86 F64);

/// The element type for a typed-array tag, as (size, constructor of a zeroed vector).
pub(crate) fn typed_elem(tag: u64) -> Option<usize> {
    Some(match tag {
        64 | 72 => 1,
        69 | 77 => 2,
        70 | 78 | 85 => 4,
        71 | 79 | 86 => 8,
        _ => return None,
    })
}

/// Reads a typed array of `n_bytes` through `fill`, straight into its final vector.
pub(crate) fn read_typed<E>(
    tag: u64,
    n_bytes: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
) -> Result<TypedArray, E> {
    fn go<T: Pod, E>(
        n: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
    ) -> Result<TypedArray, E> {
        // `vec![zero; n]` allocates zeroed memory (calloc): the pages are only touched by the read.
        let mut v = vec![T::default(); n];
        fill(T::as_bytes_mut(&mut v))?;
        T::fix_endian(&mut v);
        Ok(T::wrap(v))
    }
    match tag {
        64 => go::<u8, E>(n_bytes, fill),
        69 => go::<u16, E>(n_bytes / 2, fill),
        70 => go::<u32, E>(n_bytes / 4, fill),
        71 => go::<u64, E>(n_bytes / 8, fill),
        72 => go::<i8, E>(n_bytes, fill),
        77 => go::<i16, E>(n_bytes / 2, fill),
        78 => go::<i32, E>(n_bytes / 4, fill),
        79 => go::<i64, E>(n_bytes / 8, fill),
        85 => go::<f32, E>(n_bytes / 4, fill),
        _ => go::<f64, E>(n_bytes / 8, fill),
    }
}

/// Loads a vector of primitive numbers: a typed array of the same type (moved, no copy),
/// or anything else element by element.
fn load_pod_vec<T: Pod + State>(v: Value, l: &mut Loader, name: &str) -> Result<Vec<T>, Error> {
    match v {
        Value::Typed(t) => T::unwrap(t).map_err(|t| {
            Error::ty(
                "",
                format!("a typed array of {name}"),
                format!("a typed array of {}", t.elem()),
            )
        }),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.into_iter().enumerate() {
                out.push(T::load(x, l).map_err(|e| e.within_index(i))?);
            }
            Ok(out)
        }
        other => Err(Error::ty("", format!("an array of {name}"), other.kind())),
    }
}

fn int_from(v: &Value) -> Option<i128> {
    match *v {
        Value::Uint(n) => Some(n as i128),
        Value::Nint(n) => Some(-1 - n as i128),
        _ => None,
    }
}

fn bad_int(v: &Value, name: &str) -> Error {
    match int_from(v) {
        Some(n) => Error::ty("", name, format!("{n} (out of range)")),
        None => Error::ty("", name, v.kind()),
    }
}

macro_rules! int_state {
    ($($t:ident)*) => {$(
        impl State for $t {
            fn placeholder() -> Option<Self> {
                Some(Default::default())
            }

            #[inline]
            #[allow(unused_comparisons)]
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                if *self >= 0 as $t { e.uint(*self as u64) } else { e.int(*self as i64) }
                Ok(())
            }
            fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
                int_from(&v).and_then(|n| <$t>::try_from(n).ok()).ok_or_else(|| bad_int(&v, stringify!($t)))
            }
            fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
                e.typed(xs);
                Ok(())
            }
            fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
                load_pod_vec(v, l, stringify!($t))
            }
        }
    )*};
}

int_state!(u16 u32 u64 i8 i16 i32 i64);

impl State for u8 {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    #[inline]
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.uint(*self as u64);
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        int_from(&v)
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| bad_int(&v, "u8"))
    }
    /// Bytes are a plain CBOR byte string; a large buffer is a typed array of `u8`, the
    /// bulk path (taken without a copy by a background save, chunked by an incremental
    /// one).
    fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
        if xs.len() as u64 >= super::encode::ALIGN_FROM {
            e.typed(xs);
        } else {
            e.bytes(xs);
        }
        Ok(())
    }
    fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
        match v {
            Value::Bytes(b) => Ok(b),
            other => load_pod_vec(other, l, "u8"),
        }
    }
}

macro_rules! float_state {
    ($($t:ident $put:ident)*) => {$(
        impl State for $t {
            fn placeholder() -> Option<Self> {
                Some(Default::default())
            }

            #[inline]
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                e.$put(*self);
                Ok(())
            }
            fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
                match v {
                    Value::Float(f) => Ok(f as $t),
                    other => match int_from(&other) {
                        Some(n) => Ok(n as $t),
                        None => Err(Error::ty("", stringify!($t), other.kind())),
                    },
                }
            }
            fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
                e.typed(xs);
                Ok(())
            }
            fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
                load_pod_vec(v, l, stringify!($t))
            }
        }
    )*};
}

float_state!(f32 f32 f64 f64);

/// `usize`/`isize` are saved as 64-bit numbers (typed arrays of u64/i64), so an image is
/// readable on a host of another pointer width when the values fit.
macro_rules! size_state {
    ($($t:ident $wide:ident)*) => {$(
        impl State for $t {
            fn placeholder() -> Option<Self> {
                Some(Default::default())
            }

            #[inline]
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                (*self as $wide).save(e)
            }
            fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
                int_from(&v).and_then(|n| <$t>::try_from(n).ok()).ok_or_else(|| bad_int(&v, stringify!($t)))
            }
            fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
                if std::mem::size_of::<$t>() == 8 {
                    // SAFETY: on this host `$t` and `$wide` have the same size and alignment,
                    // and both accept every bit pattern.
                    let wide = unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<$wide>(), xs.len()) };
                    e.typed(wide);
                } else {
                    let wide: Vec<$wide> = xs.iter().map(|&x| x as $wide).collect();
                    e.typed(&wide);
                }
                Ok(())
            }
            fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
                let wide = load_pod_vec::<$wide>(v, l, stringify!($t))?;
                wide.into_iter()
                    .enumerate()
                    .map(|(i, x)| <$t>::try_from(x).map_err(|_| Error::ty(format!("[{i}]"), stringify!($t), format!("{x} (out of range)"))))
                    .collect()
            }
        }
    )*};
}

size_state!(usize u64 isize i64);

impl State for u128 {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match u64::try_from(*self) {
            Ok(n) => e.uint(n),
            Err(_) => {
                // RFC 8949 unsigned bignum.
                e.tag(2);
                let b = self.to_be_bytes();
                let skip = b.iter().take_while(|&&x| x == 0).count();
                e.bytes(&b[skip..]);
            }
        }
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Uint(n) => Ok(n as u128),
            Value::Tag(2, b) => {
                bignum(&b).ok_or_else(|| Error::ty("", "u128", "a bignum out of range"))
            }
            other => Err(bad_int(&other, "u128")),
        }
    }
}

impl State for i128 {
    fn placeholder() -> Option<Self> {
        Some(Default::default())
    }

    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if let Ok(n) = i64::try_from(*self) {
            e.int(n);
        } else if *self >= 0 {
            (*self as u128).save(e)?;
        } else {
            // RFC 8949 negative bignum: -1 - n.
            let n = (-1 - *self) as u128;
            match u64::try_from(n) {
                Ok(n) => e.value(&Value::Nint(n))?,
                Err(_) => {
                    e.tag(3);
                    let b = n.to_be_bytes();
                    let skip = b.iter().take_while(|&&x| x == 0).count();
                    e.bytes(&b[skip..]);
                }
            }
        }
        Ok(())
    }
    fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
        let err = || Error::ty("", "i128", "a bignum out of range");
        match v {
            Value::Uint(n) => Ok(n as i128),
            Value::Nint(n) => Ok(-1 - n as i128),
            Value::Tag(2, b) => bignum(&b)
                .and_then(|n| i128::try_from(n).ok())
                .ok_or_else(err),
            Value::Tag(3, b) => bignum(&b)
                .and_then(|n| i128::try_from(n).ok())
                .map(|n| -1 - n)
                .ok_or_else(err),
            other => Err(bad_int(&other, "i128")),
        }
    }
}

fn bignum(v: &Value) -> Option<u128> {
    match v {
        Value::Bytes(b) => {
            let b = &b[b.iter().take_while(|&&x| x == 0).count()..];
            if b.len() > 16 {
                return None;
            }
            Some(b.iter().fold(0u128, |acc, &x| (acc << 8) | x as u128))
        }
        _ => None,
    }
}
