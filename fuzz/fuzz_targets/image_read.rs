//! Fuzz target of the image decoder: `ckpt::image::read` and `read_header` on any input
//! give a typed error or an image, never a panic, and take memory in proportion to the
//! file's size (the bound of `ckpt-runtime/tests/decode_props.rs`), never to a length the
//! file claims.
//!
//! An input that starts with `CKPT` is the whole file; any other input is the body of an
//! image, framed here with a prefix and a trailer whose length and checksum match it, so
//! the fuzzer explores the body's structure instead of stopping at the checksum.

#![no_main]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::OnceLock;

use ckpt::image::{self, Limits, END_MAGIC, FORMAT_VERSION, MAGIC};
use libfuzzer_sys::fuzz_target;

#[path = "../../ckpt-runtime/tests/counting_alloc/mod.rs"]
mod counting_alloc;

use counting_alloc::{measured, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The bound of the property test: per byte of file, and whatever the file.
const PER_BYTE: usize = 160;
const FIXED: usize = 64 << 10;

/// One file per fuzzing process, rewritten for every input (in memory where possible),
/// unlinked at once and read through `/proc/self/fd/N`, so nothing is left behind when
/// libFuzzer ends the process.
fn input_file() -> &'static (File, PathBuf) {
    static FILE: OnceLock<(File, PathBuf)> = OnceLock::new();
    FILE.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let named = dir.join(format!("ckpt-fuzz-{}.ckpt", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&named)
            .expect("creating the input file");
        std::fs::remove_file(&named).expect("unlinking the input file");
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        (file, path)
    })
}

fn file_of(data: &[u8]) -> Vec<u8> {
    if data.starts_with(MAGIC) {
        return data.to_vec();
    }
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    v.extend_from_slice(data);
    v.extend_from_slice(&(data.len() as u64).to_le_bytes());
    v.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(data).to_le_bytes());
    v.extend_from_slice(END_MAGIC);
    v
}

fuzz_target!(|data: &[u8]| {
    let bytes = file_of(data);
    let (file, path) = input_file();
    file.set_len(0).expect("truncating the input file");
    file.write_all_at(&bytes, 0)
        .expect("writing the input file");
    let ((full, head), peak, _) = measured(|| {
        (
            image::read(path, &Limits::default()),
            image::read_header(path),
        )
    });
    assert!(
        peak <= PER_BYTE * bytes.len() + FIXED,
        "the decoder took {peak} bytes for a file of {}",
        bytes.len()
    );
    for e in [full.err(), head.err()].into_iter().flatten() {
        let m = e.to_string();
        assert!(
            m.contains("/proc/self/fd/"),
            "the error does not name the file: {m}"
        );
    }
});
