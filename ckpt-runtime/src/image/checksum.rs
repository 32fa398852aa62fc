//! The body checksum: XXH3-64 (seed 0) of the body bytes.
//!
//! twox-hash picks the AVX2/SSE2/NEON code path at run time, so a program built for the
//! baseline target still hashes at the speed of the CPU it runs on (restore reads and
//! hashes every byte of an image; see BENCHMARKS.md).

use std::hash::Hasher as _;

/// Streaming XXH3-64 of an image body.
pub(crate) struct Checksum(twox_hash::XxHash3_64);

impl Checksum {
    pub(crate) fn new() -> Self {
        Checksum(twox_hash::XxHash3_64::with_seed(0))
    }

    #[inline]
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    pub(crate) fn digest(&self) -> u64 {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Checksum;

    #[test]
    fn streaming_digest_is_standard_xxh3_64() {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut c = Checksum::new();
        for piece in data.chunks(4099) {
            c.update(piece);
        }
        assert_eq!(c.digest(), xxhash_rust::xxh3::xxh3_64(&data));
        assert_eq!(Checksum::new().digest(), xxhash_rust::xxh3::xxh3_64(b""));
    }
}
