//! Property test of the image decoder (`image::read`, `image::read_header`) on random and
//! mutated images: every input gives a typed error or a valid image, never a panic, and
//! the memory the decoder takes grows with the bytes the file holds, never with a length
//! the file merely claims.
//!
//! Bounded and reproducible: `CASES` inputs from a seeded generator (the seed is printed;
//! set `CKPT_TEST_SEED` to repeat a run, `CKPT_PROP_CASES` for more cases). Memory is
//! measured by a counting global allocator, so this binary holds one test only (the
//! counters are process-wide). The same inputs, unbounded, are what `fuzz/` feeds the
//! decoder (see RELIABILITY.md).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ckpt::image::{self, Fingerprint, Header, Limits, FORMAT_VERSION};
use ckpt::state::Encoder;

mod counting_alloc;

use counting_alloc::{measured, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

// ---- Inputs ----------------------------------------------------------------------------

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(ckpt::State)]
struct Node {
    value: u64,
    label: String,
    next: Option<Rc<RefCell<Node>>>,
}

fn header(i: usize) -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint {
            crate_name: "props".into(),
            crate_version: "0.1.0".into(),
            sources: format!("{i:016x}"),
            rustc: "rustc 1.95.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
        },
        created_unix: 1_700_000_000 + i as u64,
        program: "props".into(),
        args: vec!["props".into(), format!("--case={i}")],
        ckpt_file: Some("props.ckpt".into()),
        options: vec![("trigger".into(), "manual".into())],
    }
}

/// Real images of several shapes: typed arrays, text, maps, indefinite-length maps, a
/// chain of shared objects (heap section), nested vectors, floats and negative numbers.
fn real_images(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..6usize {
        let p = dir.join(format!("real{i}.ckpt"));
        let floats: Vec<f64> = (0..[4, 100, 3000, 0, 16, 700][i])
            .map(|k| k as f64 / 3.0)
            .collect();
        let words: Vec<String> = (0..[3, 40, 5, 200, 1, 9][i])
            .map(|k| format!("w{k}-{}", "x".repeat(k % 7)))
            .collect();
        let map: BTreeMap<String, i64> = (0..[2, 30, 0, 8, 100, 5][i])
            .map(|k| (format!("k{k}"), -(k as i64) * 1001))
            .collect();
        let nested: Vec<Vec<u16>> = (0..[1, 4, 20, 2, 0, 6][i])
            .map(|k| (0..k as u16).collect())
            .collect();
        // A chain of shared nodes, each first met inside the previous one: heap section.
        let mut chain: Option<Rc<RefCell<Node>>> = None;
        for k in 0..[0, 3, 10, 1, 40, 2][i] as u64 {
            chain = Some(Rc::new(RefCell::new(Node {
                value: k,
                label: format!("n{k}"),
                next: chain,
            })));
        }
        let shared = Rc::new(String::from("shared by a frame and a component"));
        image::write(
            &p,
            &header(i),
            &mut |e: &mut Encoder<'_>| {
                e.array(2);
                for f in 0..2u64 {
                    e.map(5);
                    e.text("fn");
                    e.text(&format!("props::f{f}"));
                    e.text("hash");
                    e.uint(0xdead_beef ^ f);
                    e.text("at");
                    e.uint(f + 1);
                    e.text("live");
                    e.map_indef();
                    e.text("floats");
                    e.put(&floats)?;
                    e.text("words");
                    e.put(&words)?;
                    e.text("shared");
                    e.put(&shared)?;
                    e.text("opt");
                    e.put(&Some((f as i32 - 5, f % 2 == 0, 1.5f32)))?;
                    e.end();
                    e.text("lent");
                    e.map(1);
                    e.text("buf");
                    e.text("out");
                }
                Ok(())
            },
            &mut |e: &mut Encoder<'_>| {
                e.map(4);
                e.text("map");
                e.put(&map)?;
                e.text("nested");
                e.put(&nested)?;
                e.text("chain");
                e.put(&chain)?;
                e.text("again");
                e.put(&shared)
            },
        )
        .expect("writing a real image");
        out.push(std::fs::read(&p).expect("reading it back"));
    }
    out
}

/// Prefix and trailer around `body`, with a length and checksum that match it, so the
/// structural checks run rather than the checksum's.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = b"CKPT".to_vec();
    v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    v.extend_from_slice(body);
    v.extend_from_slice(&(body.len() as u64).to_le_bytes());
    v.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
    v.extend_from_slice(b"CKPTEND\0");
    v
}

/// The body of an image (between prefix and trailer), if it has that shape.
fn body_of(v: &[u8]) -> &[u8] {
    if v.len() >= 32 {
        &v[8..v.len() - 24]
    } else {
        &[]
    }
}

/// A CBOR head claiming a huge length (strings, arrays, maps) or a huge tag.
fn huge_head(r: &mut Rng) -> Vec<u8> {
    let major = [2u8, 3, 4, 5, 6][r.below(5)];
    let n: u64 = [
        u64::MAX,
        u64::MAX - 1,
        1 << 63,
        1 << 40,
        u32::MAX as u64,
        1 << 24,
        100_000,
        4096,
    ][r.below(8)];
    if n <= u32::MAX as u64 && r.chance(50) {
        let mut h = vec![(major << 5) | 26];
        h.extend_from_slice(&(n as u32).to_be_bytes());
        h
    } else {
        let mut h = vec![(major << 5) | 27];
        h.extend_from_slice(&n.to_be_bytes());
        h
    }
}

/// Containers nested as deep as the bytes allow, each claiming as many items as bytes are
/// left: a decoder that reserves what a container claims reserves it at every level.
fn nested_claims(r: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    let claim = len.min(u16::MAX as usize) as u16;
    while v.len() + 3 <= len {
        let major = if r.chance(50) { 4u8 } else { 5 };
        v.push((major << 5) | 25);
        v.extend_from_slice(&claim.to_be_bytes());
    }
    v
}

/// One input: a mutation of a real image, or random bytes; sometimes re-framed with a
/// matching checksum.
fn input(r: &mut Rng, real: &[Vec<u8>]) -> (Vec<u8>, &'static str) {
    let base = &real[r.below(real.len())];
    let mut v = base.clone();
    let what = match r.below(10) {
        0 => {
            let n = r.below(4096);
            v = (0..n).map(|_| r.next() as u8).collect();
            if r.chance(50) {
                v = framed(&v);
            }
            "random bytes"
        }
        1 => {
            for _ in 0..1 + r.below(8) {
                let i = r.below(v.len());
                v[i] ^= 1 << r.below(8);
            }
            "bit flips"
        }
        2 => {
            for _ in 0..1 + r.below(4) {
                let i = r.below(v.len());
                v[i] = r.next() as u8;
            }
            "bytes set"
        }
        3 => {
            v.truncate(r.below(v.len()));
            "truncation"
        }
        4 => {
            // A range of another image spliced in (replacing, inserted or removed).
            let other = &real[r.below(real.len())];
            let (a, n) = (r.below(other.len()), r.below(256));
            let piece = other[a..(a + n).min(other.len())].to_vec();
            let at = r.below(v.len());
            match r.below(3) {
                0 => {
                    let end = (at + piece.len()).min(v.len());
                    v.splice(at..end, piece);
                }
                1 => {
                    v.splice(at..at, piece);
                }
                _ => {
                    let end = (at + n).min(v.len());
                    v.drain(at..end);
                }
            }
            "splice"
        }
        5 | 6 => {
            let at = 8 + r.below(v.len().saturating_sub(32).max(1));
            let h = huge_head(r);
            let end = (at + h.len()).min(v.len());
            v.splice(at..end, h);
            "huge length"
        }
        7 => {
            let at = 8 + r.below(v.len().saturating_sub(32).max(1));
            let n = 64 + r.below(2048);
            let deep = nested_claims(r, n);
            v.splice(at..at, deep);
            "nested claims"
        }
        8 => {
            // Deep nesting of one-item containers and tags.
            let at = 8 + r.below(v.len().saturating_sub(32).max(1));
            let unit = [[0x81u8], [0xa1], [0x9f], [0xc6]][r.below(4)];
            let n = r.below(5000);
            v.splice(at..at, unit.iter().copied().cycle().take(n));
            "deep nesting"
        }
        _ => {
            // The prefix or the trailer hit.
            let i = if r.chance(50) {
                r.below(8)
            } else {
                v.len() - 1 - r.below(24)
            };
            v[i] ^= 1 << r.below(8);
            "prefix or trailer"
        }
    };
    // Half the mutated images get a trailer that matches the damage, so the decoder's
    // structure checks are exercised, not just the checksum.
    if what != "random bytes" && v.len() >= 32 && r.chance(50) {
        v = framed(body_of(&v));
    }
    (v, what)
}

// ---- The property -----------------------------------------------------------------------

/// Memory the decoder may take per byte of file: the decoded tree (a 32-byte `Value` per
/// item of at least one byte, in vectors that grow by doubling) plus the containers still
/// open (40 bytes each, in a list that grows by doubling: 120 bytes per level while it
/// moves). The costliest shape is a one-item array per byte, nested just past a doubling
/// of that list: 120 + 32 = 152 bytes per byte. Nothing is reserved for a length a file
/// claims but does not hold.
const PER_BYTE: usize = 160;
/// Memory the decoder may take whatever the file (error messages, small tables).
const FIXED: usize = 64 << 10;

#[test]
fn random_and_mutated_images_give_typed_errors_within_the_files_size() {
    let cases: usize = std::env::var("CKPT_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let seed: u64 = std::env::var("CKPT_TEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!(
        "decode property seed: {seed} (set CKPT_TEST_SEED to repeat); a Value is {} bytes",
        std::mem::size_of::<ckpt::state::Value>()
    );
    // In memory where there is a tmpfs for it: thousands of small files, and the time a
    // busy disk takes to accept them is not what this test measures.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix("ckpt-decode-props-")
        .tempdir_in(base)
        .expect("mkdir");
    let real = real_images(dir.path());
    // The real images read, and their memory is what the bound allows.
    let mut worst_real = 0f64;
    for (i, v) in real.iter().enumerate() {
        let p = dir.path().join(format!("real{i}.ckpt"));
        let (r, peak, _) = measured(|| image::read(&p, &Limits::default()));
        r.unwrap_or_else(|e| panic!("real image {i}: {e}"));
        worst_real = worst_real.max(peak as f64 / v.len() as f64);
    }

    // The shapes that cost the most memory per byte, at a size where the fixed part no
    // longer hides the ratio.
    let mut worst_shape = (0f64, "");
    let shapes: [(&str, Vec<u8>); 7] = [
        // Just past a doubling of the decoder's list of open containers.
        (
            "65 537 nested one-item arrays",
            [vec![0x81u8; 65_537], vec![0]].concat(),
        ),
        (
            "100k nested one-item arrays",
            [vec![0x81u8; 100_000], vec![0]].concat(),
        ),
        ("100k nested one-entry maps", {
            let mut v = [0xa1u8, 0x00].repeat(50_000);
            v.push(0);
            v
        }),
        ("tags and arrays alternating", {
            let mut v = [0xc6u8, 0x81].repeat(50_000);
            v.push(0);
            v
        }),
        ("an array of 100k one-byte items", {
            let mut v = vec![0x9a, 0, 1, 0x86, 0xa0];
            v.extend(std::iter::repeat_n(0x01, 100_000));
            v
        }),
        ("an indefinite array of 100k one-byte items", {
            let mut v = vec![0x9f];
            v.extend(std::iter::repeat_n(0x01, 100_000));
            v.push(0xff);
            v
        }),
        (
            "nested claims over 100k bytes",
            nested_claims(&mut Rng(7), 100_000),
        ),
    ];
    let path = dir.path().join("case.ckpt");
    for (name, body) in shapes {
        let bytes = framed(&[vec![0xa1, 0x66], b"header".to_vec(), body].concat());
        std::fs::write(&path, &bytes).expect("write shape");
        let (res, peak, _) = measured(|| image::read(&path, &Limits::default()));
        assert!(res.is_err(), "{name}: read as an image");
        let ratio = peak as f64 / bytes.len() as f64;
        eprintln!("{name}: {} bytes, peak {peak} ({ratio:.1}x)", bytes.len());
        assert!(
            peak <= PER_BYTE * bytes.len() + FIXED,
            "{name}: the decoder took {peak} bytes for a file of {}",
            bytes.len()
        );
        if ratio > worst_shape.0 {
            worst_shape = (ratio, name);
        }
    }

    let mut r = Rng(seed | 1);
    let started = Instant::now();
    let (mut errors, mut valid) = (0usize, 0usize);
    // Ratios over files of 4 KiB or more, where the fixed part does not dominate.
    let (mut worst_ratio, mut worst_largest, mut big) = (0f64, 0f64, 0usize);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for case in 0..cases {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "bounded in time: {case} cases in 120 s"
        );
        let (bytes, what) = input(&mut r, &real);
        std::fs::write(&path, &bytes).expect("write case");
        let len = bytes.len();
        let repro = || format!("case {case} ({what}, {len} bytes), seed {seed}");
        let run = std::panic::catch_unwind(|| {
            let (full, peak, largest) = measured(|| image::read(&path, &Limits::default()));
            let (head, hpeak, hlargest) = measured(|| image::read_header(&path));
            (
                full.map(drop),
                head.map(drop),
                peak.max(hpeak),
                largest.max(hlargest),
            )
        });
        let (full, head, peak, largest) = match run {
            Ok(x) => x,
            Err(_) => {
                let keep =
                    std::env::temp_dir().join(format!("ckpt-decode-panic-{seed}-{case}.ckpt"));
                let _ = std::fs::write(&keep, &bytes);
                panic!(
                    "{}: the decoder panicked (input kept in {})",
                    repro(),
                    keep.display()
                );
            }
        };
        for e in [full.as_ref().err(), head.as_ref().err()]
            .into_iter()
            .flatten()
        {
            let m = e.to_string();
            assert!(
                m.contains("case.ckpt"),
                "{}: the error does not name the file: {m}",
                repro()
            );
        }
        assert!(
            peak <= PER_BYTE * len + FIXED,
            "{}: the decoder took {peak} bytes for a file of {len}",
            repro()
        );
        if len >= 4096 {
            big += 1;
            worst_ratio = worst_ratio.max(peak as f64 / len as f64);
            worst_largest = worst_largest.max(largest as f64 / len as f64);
        }
        match full {
            Ok(()) => valid += 1,
            Err(_) => errors += 1,
        }
        *kinds.entry(what).or_default() += 1;
    }
    eprintln!(
        "{cases} cases in {:.1} s: {errors} typed errors, {valid} valid images; within \
         {PER_BYTE} x size + {FIXED} bytes every time; over the {big} files of 4 KiB or more, \
         peak memory at most {worst_ratio:.1}x the file size, largest single block \
         {worst_largest:.1}x (real images: {worst_real:.1}x; costliest shape: {:.1}x, {}); by \
         mutation: {kinds:?}",
        started.elapsed().as_secs_f64(),
        worst_shape.0,
        worst_shape.1
    );
}
