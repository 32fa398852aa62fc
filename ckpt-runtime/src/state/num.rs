//! `State` for the number wrappers of `std::num`: `NonZero*` (saved as the number, a 0
//! refused on load) and `Saturating<T>` (saved as `T`).

use std::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize, Saturating,
};

use super::{Encoder, Loader, State, Value};
use crate::Error;

fn zero(ty: &str) -> Error {
    Error::ty("", format!("{ty} (a number other than 0)"), "0")
}

macro_rules! nonzero_state {
    ($($nz:ident $int:ident)*) => {$(
        impl State for $nz {
            /// The number itself.
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                self.get().save(e)
            }
            fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
                $nz::new(<$int>::load(v, l)?).ok_or_else(|| zero(stringify!($nz)))
            }
            /// Like a slice of the number type (a typed array where it has one).
            fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
                // SAFETY: `NonZero<T>` is `repr(transparent)` over `T`: same size, alignment
                // and layout, and every value of it is a valid `T`.
                let ints = unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<$int>(), xs.len()) };
                <$int>::save_slice(ints, e)
            }
            fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
                <$int>::load_vec(v, l)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| $nz::new(n).ok_or_else(|| zero(stringify!($nz)).within_index(i)))
                    .collect()
            }
        }
    )*};
}

nonzero_state!(
    NonZeroU8 u8 NonZeroU16 u16 NonZeroU32 u32 NonZeroU64 u64 NonZeroU128 u128 NonZeroUsize usize
    NonZeroI8 i8 NonZeroI16 i16 NonZeroI32 i32 NonZeroI64 i64 NonZeroI128 i128 NonZeroIsize isize
);

impl<T: State> State for Saturating<T> {
    /// The wrapped value (slices like slices of `T`).
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.put(&self.0)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        l.load(v).map(Saturating)
    }
    fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
        // SAFETY: `Saturating<T>` is `repr(transparent)` over `T`.
        let inner = unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<T>(), xs.len()) };
        T::save_slice(inner, e)
    }
    fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
        Ok(T::load_vec(v, l)?.into_iter().map(Saturating).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::num::*;

    use crate::state::{decode_slice, from_slice, to_vec, State, Value};
    use crate::Error;

    fn same<T: State + PartialEq + Debug>(v: T) {
        assert_eq!(from_slice::<T>(&to_vec(&v).unwrap()).unwrap(), v);
    }

    #[test]
    fn nonzero_numbers_round_trip_at_their_limits() {
        same(NonZeroU8::MAX);
        same(NonZeroU16::MIN);
        same(NonZeroU32::new(7).unwrap());
        same(NonZeroU64::MAX);
        same(NonZeroU128::MAX);
        same(NonZeroUsize::MAX);
        same(NonZeroI8::MIN);
        same(NonZeroI16::new(-1).unwrap());
        same(NonZeroI32::MAX);
        same(NonZeroI64::MIN);
        same(NonZeroI128::MIN);
        same(NonZeroIsize::MIN);
        same(Some(NonZeroU32::MAX));
        same(None::<NonZeroU32>);
        same(vec![Some(NonZeroU8::MIN), None]);
    }

    #[test]
    fn nonzero_vectors_are_typed_arrays_of_the_number() {
        let v: Vec<NonZeroU32> = (1..=100).map(|n| NonZeroU32::new(n).unwrap()).collect();
        let bytes = to_vec(&v).unwrap();
        assert!(matches!(decode_slice(&bytes).unwrap().0, Value::Typed(_)));
        same(v);
        same(vec![NonZeroI64::MIN; 3]);
    }

    #[test]
    fn a_zero_is_refused_where_a_nonzero_number_is_expected() {
        let r = from_slice::<NonZeroU16>(&to_vec(&0u16).unwrap());
        match r {
            Err(Error::Type {
                expected, found, ..
            }) => {
                assert!(expected.contains("other than 0"), "{expected}");
                assert_eq!(found, "0");
            }
            other => panic!("{other:?}"),
        }
        let r = from_slice::<Vec<NonZeroU64>>(&to_vec(&vec![1u64, 0]).unwrap());
        assert!(matches!(r, Err(Error::Type { at, .. }) if at == "[1]"));
        let r = from_slice::<Option<NonZeroI8>>(&to_vec(&Some(0i8)).unwrap());
        assert!(r.is_err());
    }

    #[test]
    fn saturating_numbers_round_trip() {
        same(Saturating(250u8));
        same(Saturating(-3i64));
        same(vec![Saturating(1.5f64), Saturating(-0.5)]);
        let bytes = to_vec(&vec![Saturating(1u16); 8]).unwrap();
        assert!(matches!(decode_slice(&bytes).unwrap().0, Value::Typed(_)));
    }
}
