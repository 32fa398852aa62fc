//! Uniform sampling from ranges: Lemire's unbiased multiply-and-reject for integers.

use std::ops::{Range, RangeInclusive};

use super::Rng;

/// A range [`Rng::gen_range`] can draw from: `Range` and `RangeInclusive` of every
/// integer type, `f64` and `f32`.
///
/// ```
/// use ckpt::rand::{Rng, SampleRange};
/// let mut rng = Rng::seed_from(3);
/// let x: i16 = (-5..5).sample(&mut rng);
/// assert!((-5..5).contains(&x));
/// ```
pub trait SampleRange<T> {
    /// Draws one uniform value of the range.
    ///
    /// # Panics
    ///
    /// If the range is empty.
    fn sample(self, rng: &mut Rng) -> T;
}

/// Uniform in `[0, span)`, `span > 0`: Lemire, "Fast random integer generation in an
/// interval" (2019). Rejects only the low products below `2^32 mod span`, so the
/// result is exactly uniform and usually costs one draw and no division.
#[inline]
fn below_u32(rng: &mut Rng, span: u32) -> u32 {
    let mut m = rng.next_u32() as u64 * span as u64;
    if (m as u32) < span {
        let t = span.wrapping_neg() % span;
        while (m as u32) < t {
            m = rng.next_u32() as u64 * span as u64;
        }
    }
    (m >> 32) as u32
}

/// [`below_u32`] for 64 bits.
#[inline]
fn below_u64(rng: &mut Rng, span: u64) -> u64 {
    let mut m = rng.next_u64() as u128 * span as u128;
    if (m as u64) < span {
        let t = span.wrapping_neg() % span;
        while (m as u64) < t {
            m = rng.next_u64() as u128 * span as u128;
        }
    }
    (m >> 64) as u64
}

/// The full 256-bit product of two `u128`s as (high, low).
pub(super) fn wide_mul_u128(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a_hi, a_lo) = (a >> 64, a & M);
    let (b_hi, b_lo) = (b >> 64, b & M);
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 64) + (lh & M) + (hl & M);
    let lo = (ll & M) | (mid << 64);
    let hi = hh + (lh >> 64) + (hl >> 64) + (mid >> 64);
    (hi, lo)
}

/// [`below_u32`] for 128 bits (two draws per attempt).
fn below_u128(rng: &mut Rng, span: u128) -> u128 {
    let mut draw = || (rng.next_u64() as u128) << 64 | rng.next_u64() as u128;
    let (mut hi, mut lo) = wide_mul_u128(draw(), span);
    if lo < span {
        let t = span.wrapping_neg() % span;
        while lo < t {
            (hi, lo) = wide_mul_u128(draw(), span);
        }
    }
    hi
}

/// Full-width random bits of the working type.
trait Bits: Sized {
    fn bits(rng: &mut Rng) -> Self;
}
impl Bits for u32 {
    fn bits(rng: &mut Rng) -> Self {
        rng.next_u32()
    }
}
impl Bits for u64 {
    fn bits(rng: &mut Rng) -> Self {
        rng.next_u64()
    }
}
impl Bits for u128 {
    fn bits(rng: &mut Rng) -> Self {
        (rng.next_u64() as u128) << 64 | rng.next_u64() as u128
    }
}

/// `$t`: the sampled type; `$u`: the unsigned type of the same width; `$w`: the
/// working width (at least 32 bits) and `$below` its sampler.
macro_rules! int_range {
    ($($t:ty, $u:ty, $w:ty, $below:ident;)*) => {$(
        impl SampleRange<$t> for Range<$t> {
            #[inline]
            #[track_caller]
            fn sample(self, rng: &mut Rng) -> $t {
                let (low, high) = (self.start, self.end);
                assert!(low < high, "cannot sample empty range {low}..{high}");
                let span = (high as $u).wrapping_sub(low as $u) as $w;
                low.wrapping_add($below(rng, span) as $u as $t)
            }
        }

        impl SampleRange<$t> for RangeInclusive<$t> {
            #[inline]
            #[track_caller]
            fn sample(self, rng: &mut Rng) -> $t {
                let (low, high) = (*self.start(), *self.end());
                assert!(!self.is_empty(), "cannot sample empty range {low}..={high}");
                let span = ((high as $u).wrapping_sub(low as $u) as $w).wrapping_add(1);
                if span == 0 {
                    // The whole domain of the working type: every bit pattern is fine.
                    return <$w as Bits>::bits(rng) as $u as $t;
                }
                low.wrapping_add($below(rng, span) as $u as $t)
            }
        }
    )*};
}

int_range! {
    u8, u8, u32, below_u32;
    u16, u16, u32, below_u32;
    u32, u32, u32, below_u32;
    u64, u64, u64, below_u64;
    u128, u128, u128, below_u128;
    i8, u8, u32, below_u32;
    i16, u16, u32, below_u32;
    i32, u32, u32, below_u32;
    i64, u64, u64, below_u64;
    i128, u128, u128, below_u128;
}

#[cfg(target_pointer_width = "64")]
int_range! {
    usize, usize, u64, below_u64;
    isize, usize, u64, below_u64;
}

#[cfg(not(target_pointer_width = "64"))]
int_range! {
    usize, usize, u32, below_u32;
    isize, usize, u32, below_u32;
}

/// `low + (high - low) * u` for `u` in `[0, 1]`, without overflow when the span
/// exceeds the type's range (`-MAX..MAX`).
macro_rules! lerp {
    ($($t:ident)*) => {$(
        impl Lerp for $t {
            #[inline]
            fn lerp(low: $t, high: $t, u: $t) -> $t {
                let span = high - low;
                if span.is_finite() {
                    low + span * u
                } else {
                    low * (1.0 - u) + high * u
                }
            }
        }
    )*};
}

trait Lerp {
    fn lerp(low: Self, high: Self, u: Self) -> Self;
}

lerp!(f64 f32);

#[inline]
fn lerp<T: Lerp>(low: T, high: T, u: T) -> T {
    T::lerp(low, high, u)
}

macro_rules! float_range {
    ($($t:ident $unit:ident $closed:ident;)*) => {$(
        impl SampleRange<$t> for Range<$t> {
            #[track_caller]
            fn sample(self, rng: &mut Rng) -> $t {
                let (low, high) = (self.start, self.end);
                assert!(low < high, "cannot sample empty range {low}..{high}");
                assert!(
                    low.is_finite() && high.is_finite(),
                    "cannot sample range {low}..{high}: bounds must be finite"
                );
                loop {
                    let x = lerp(low, high, rng.$unit());
                    // Rounding can reach `high`: redraw (rare).
                    if x < high {
                        return x;
                    }
                }
            }
        }

        impl SampleRange<$t> for RangeInclusive<$t> {
            #[track_caller]
            fn sample(self, rng: &mut Rng) -> $t {
                let (low, high) = (*self.start(), *self.end());
                assert!(low <= high, "cannot sample empty range {low}..={high}");
                assert!(
                    low.is_finite() && high.is_finite(),
                    "cannot sample range {low}..={high}: bounds must be finite"
                );
                lerp(low, high, $closed(rng)).clamp(low, high)
            }
        }
    )*};
}

/// A uniform `f64` in `[0, 1]` (both ends reachable).
fn closed_f64(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / ((1u64 << 53) - 1) as f64
}

/// A uniform `f32` in `[0, 1]` (both ends reachable).
fn closed_f32(rng: &mut Rng) -> f32 {
    (rng.next_u64() >> 40) as f32 / ((1u32 << 24) - 1) as f32
}

float_range! {
    f64 next_f64 closed_f64;
    f32 next_f32 closed_f32;
}
