//! User-space randomness whose stream continues identically after a restore.
//!
//! A checkpointed program must not draw its random numbers from the operating system
//! (`rand::thread_rng()`, `getrandom`, `/dev/urandom`, a generator seeded from the clock
//! and kept outside the program's state): after a restore that source starts afresh, so
//! the restored run takes other branches than the original would have, and a run that
//! was killed and restored no longer ends like an uninterrupted one.
//!
//! [`Rng`] keeps its whole state (four 64-bit words of xoshiro256\*\*) inside the
//! program. It implements [`State`](crate::State), so a live `Rng` is saved in the image
//! with the rest of the frame and, after `--restore`, continues with exactly the numbers
//! it would have drawn next. Seed it from the OS ([`Rng::new`]) for a different run every
//! time, or with [`Rng::seed_from`] for a reproducible one; either way the stream is
//! continued, not re-seeded, on restore. `cargo ckpt inspect` shows the generator's
//! position as the number of values it has drawn ([`Rng::draws`]).
//!
//! ```no_run
//! use ckpt::rand::Rng;
//!
//! #[ckpt::checkpointable]
//! fn main() {
//!     let mut rng = Rng::new(); // OS-seeded once; the state then lives in the image
//!     let mut heads = 0u64;
//!     for i in 0..1_000_000u64 {
//!         if rng.gen_bool(0.5) {
//!             heads += 1;
//!         }
//!         if i % 10_000 == 0 {
//!             ckpt::save().expect("checkpoint");
//!         }
//!     }
//!     println!("{heads} heads");
//! }
//! ```
//!
//! The generator is xoshiro256\*\* by Blackman and Vigna: fast, 256 bits of state, a
//! period of 2^256 − 1, and [`Rng::jump`] / [`Rng::split`] to derive streams that do not
//! overlap. It is not a cryptographic generator: do not use it for keys or tokens.

mod range;
mod state;
pub(crate) mod sys;

#[cfg(test)]
mod tests;

pub use range::SampleRange;

/// The name saved in images; loading checks it.
const ALGORITHM: &str = "xoshiro256**";

/// A seedable, checkpointable pseudo-random generator (xoshiro256\*\*).
///
/// Its state is owned by the program and saved in checkpoint images, so after a restore
/// it continues the exact stream it was drawing. See the [module docs](self).
///
/// ```
/// use ckpt::rand::Rng;
///
/// let mut rng = Rng::seed_from(42);
/// let die = rng.gen_range(1..=6u32);
/// assert!((1..=6).contains(&die));
/// assert_eq!(rng.draws(), 1);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
    draws: u64,
}

impl std::fmt::Debug for Rng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rng")
            .field("algorithm", &ALGORITHM)
            .field("draws", &self.draws)
            .finish_non_exhaustive()
    }
}

impl Default for Rng {
    /// The same as [`Rng::new`]: seeded from the operating system.
    fn default() -> Self {
        Rng::new()
    }
}

/// One step of SplitMix64, the generator recommended to expand a 64-bit seed.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from the operating system (see [`Rng::from_os`]).
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::new();
    /// let _coin = rng.gen_bool(0.5);
    /// ```
    ///
    /// # Panics
    ///
    /// If the operating system provides no randomness at all (see [`Rng::from_os`]).
    pub fn new() -> Self {
        Rng::from_os()
    }

    /// A generator seeded with 256 bits from the kernel (`getrandom`, falling back to
    /// `/dev/urandom`): a different stream on every run. Only the seed comes from the
    /// OS; once running, the stream is the program's state and survives restores.
    ///
    /// ```
    /// use ckpt::rand::Rng;
    /// assert_ne!(Rng::from_os(), Rng::from_os());
    /// ```
    ///
    /// # Panics
    ///
    /// If both `getrandom` and `/dev/urandom` fail; use [`Rng::try_from_os`] to handle
    /// that case.
    #[track_caller]
    pub fn from_os() -> Self {
        match Rng::try_from_os() {
            Ok(rng) => rng,
            Err(e) => panic!("ckpt::rand::Rng::from_os: no OS randomness: {e}"),
        }
    }

    /// Like [`Rng::from_os`], but returns the error when the OS provides no randomness.
    ///
    /// ```
    /// let rng = ckpt::rand::Rng::try_from_os().expect("OS randomness");
    /// # let _ = rng;
    /// ```
    #[track_caller]
    pub fn try_from_os() -> Result<Self, crate::Error> {
        let mut seed = [0u8; 32];
        sys::os_random(&mut seed).map_err(|e| crate::Error::io("reading", "/dev/urandom", e))?;
        Ok(Rng::from_seed(seed))
    }

    /// A generator whose state is `seed` expanded with SplitMix64: the same seed gives
    /// the same stream on every run and platform.
    ///
    /// ```
    /// use ckpt::rand::Rng;
    /// let (mut a, mut b) = (Rng::seed_from(7), Rng::seed_from(7));
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn seed_from(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        // SplitMix64 is a bijection of its counter, so four outputs are never all zero.
        Rng { s, draws: 0 }
    }

    /// A generator whose state is the 32 bytes of `seed` (four little-endian words).
    /// The all-zero seed, which xoshiro cannot leave, is replaced by `seed_from(0)`.
    ///
    /// ```
    /// use ckpt::rand::Rng;
    /// let mut seed = [0u8; 32];
    /// seed[0] = 1;
    /// let mut rng = Rng::from_seed(seed);
    /// let _ = rng.next_u64();
    /// ```
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (w, chunk) in s.iter_mut().zip(seed.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        if s == [0; 4] {
            return Rng::seed_from(0);
        }
        Rng { s, draws: 0 }
    }

    /// Rebuilds a generator from a raw state (used by loading; the state is not zero).
    pub(crate) fn from_parts(s: [u64; 4], draws: u64) -> Self {
        Rng { s, draws }
    }

    /// The raw state words (for saving and tests).
    pub(crate) fn words(&self) -> [u64; 4] {
        self.s
    }

    /// How many 64-bit values this generator has drawn since it was seeded (or split
    /// off): its position in the stream, shown by `cargo ckpt inspect`. Every `next_*`
    /// call counts one; `gen_range` may count more (rejections), `fill_bytes` one per
    /// 8 bytes.
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// rng.next_u32();
    /// rng.next_f64();
    /// assert_eq!(rng.draws(), 2);
    /// ```
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// The next 64 uniformly random bits.
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// let _x: u64 = rng.next_u64();
    /// ```
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        self.draws = self.draws.wrapping_add(1);
        result
    }

    /// The next 32 uniformly random bits (the high half of one 64-bit draw).
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// let _x: u32 = rng.next_u32();
    /// ```
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits (every value a multiple of 2^-53).
    ///
    /// ```
    /// let x = ckpt::rand::Rng::seed_from(1).next_f64();
    /// assert!((0.0..1.0).contains(&x));
    /// ```
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits.
    ///
    /// ```
    /// let x = ckpt::rand::Rng::seed_from(1).next_f32();
    /// assert!((0.0..1.0).contains(&x));
    /// ```
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform value in `range`: any `Range` or `RangeInclusive` of an integer type
    /// (unbiased, Lemire's multiply-and-reject method) or of `f64`/`f32`.
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// let die = rng.gen_range(1..=6u8);
    /// let index = rng.gen_range(0..10usize);
    /// let any = rng.gen_range(i64::MIN..=i64::MAX);
    /// let x = rng.gen_range(-1.0..1.0);
    /// assert!((1..=6).contains(&die) && index < 10 && (-1.0..1.0).contains(&x));
    /// # let _ = any;
    /// ```
    ///
    /// # Panics
    ///
    /// If the range is empty (`5..5`, `3..=2`), like `rand`'s `gen_range`; for floats
    /// also if a bound is not finite.
    #[inline]
    #[track_caller]
    pub fn gen_range<T, R: SampleRange<T>>(&mut self, range: R) -> T {
        range.sample(self)
    }

    /// `true` with probability `p` (one 53-bit draw).
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// assert!(rng.gen_bool(1.0));
    /// assert!(!rng.gen_bool(0.0));
    /// ```
    ///
    /// # Panics
    ///
    /// If `p` is not in `[0, 1]`.
    #[inline]
    #[track_caller]
    pub fn gen_bool(&mut self, p: f64) -> bool {
        assert!(
            (0.0..=1.0).contains(&p),
            "Rng::gen_bool: probability {p} is not in [0, 1]"
        );
        self.next_f64() < p
    }

    /// Fills `dest` with random bytes (one draw per 8 bytes, little endian).
    ///
    /// ```
    /// let mut key = [0u8; 16];
    /// ckpt::rand::Rng::seed_from(1).fill_bytes(&mut key);
    /// assert_ne!(key, [0; 16]);
    /// ```
    pub fn fill_bytes(&mut self, dest: &mut [u8]) {
        let mut chunks = dest.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let n = rest.len();
            rest.copy_from_slice(&self.next_u64().to_le_bytes()[..n]);
        }
    }

    /// Shuffles `xs` in place uniformly (Fisher–Yates).
    ///
    /// ```
    /// let mut xs = [1, 2, 3, 4, 5];
    /// ckpt::rand::Rng::seed_from(1).shuffle(&mut xs);
    /// xs.sort();
    /// assert_eq!(xs, [1, 2, 3, 4, 5]);
    /// ```
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.gen_range(0..=i);
            xs.swap(i, j);
        }
    }

    /// A uniformly chosen element of `xs`, `None` if it is empty (then nothing is drawn).
    ///
    /// ```
    /// let mut rng = ckpt::rand::Rng::seed_from(1);
    /// assert!([10, 20, 30].contains(rng.choose(&[10, 20, 30]).unwrap()));
    /// assert_eq!(rng.choose::<u8>(&[]), None);
    /// ```
    pub fn choose<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        if xs.is_empty() {
            None
        } else {
            Some(&xs[self.gen_range(0..xs.len())])
        }
    }

    /// Advances the state by 2^128 draws at once: the next 2^128 values of a generator
    /// that jumped do not overlap those it would have drawn. [`draws`](Rng::draws) is
    /// unchanged (it counts values drawn, not positions skipped).
    ///
    /// ```
    /// use ckpt::rand::Rng;
    /// let mut a = Rng::seed_from(1);
    /// let mut b = a.clone();
    /// b.jump();
    /// assert_ne!(a.next_u64(), b.next_u64());
    /// ```
    pub fn jump(&mut self) {
        const JUMP: [u64; 4] = [
            0x180E_C6D3_3CFD_0ABA,
            0xD5A6_1266_F0C9_392C,
            0xA958_2618_E03F_C9AA,
            0x39AB_DC45_29B1_661C,
        ];
        let draws = self.draws;
        let mut acc = [0u64; 4];
        for word in JUMP {
            for b in 0..64 {
                if word & (1u64 << b) != 0 {
                    for (a, s) in acc.iter_mut().zip(self.s) {
                        *a ^= s;
                    }
                }
                self.next_u64();
            }
        }
        self.s = acc;
        self.draws = draws;
    }

    /// Splits off an independent generator: the returned one continues this stream,
    /// and `self` jumps 2^128 values ahead, so the two never overlap. Call it repeatedly
    /// to hand one generator to each worker; the result is as reproducible as `self`.
    ///
    /// ```
    /// let mut main = ckpt::rand::Rng::seed_from(1);
    /// let mut worker = main.split();
    /// assert_eq!(worker.draws(), 0);
    /// assert_ne!(worker.next_u64(), main.next_u64());
    /// ```
    pub fn split(&mut self) -> Rng {
        let child = Rng {
            s: self.s,
            draws: 0,
        };
        self.jump();
        child
    }
}
