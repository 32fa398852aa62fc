//! `State` for [`Rng`]: a map that `cargo ckpt inspect` shows as it is.

use super::{Rng, ALGORITHM};
use crate::state::{Encoder, Loader, State, Value};
use crate::Error;

impl State for Rng {
    /// `{"algorithm": "xoshiro256**", "state": [s0, s1, s2, s3], "draws": n}`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.map(3);
        e.text("algorithm");
        e.text(ALGORITHM);
        e.text("state");
        e.put(&self.words())?;
        e.text("draws");
        e.uint(self.draws());
        Ok(())
    }

    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let mut f = v.into_fields("ckpt::rand::Rng")?;
        let algorithm: String = f.take("algorithm", l)?;
        if algorithm != ALGORITHM {
            return Err(Error::ty(
                "algorithm",
                format!("{ALGORITHM:?} (the generator of ckpt::rand::Rng)"),
                format!("{algorithm:?}"),
            ));
        }
        let s: [u64; 4] = f.take("state", l)?;
        if s == [0; 4] {
            return Err(Error::ty(
                "state",
                "a xoshiro256** state with a nonzero word",
                "all four words zero (a generator stuck at zero)",
            ));
        }
        let draws: u64 = f.take("draws", l)?;
        Ok(Rng::from_parts(s, draws))
    }
}
