//! Saving and restoring a deep value: a linked list of `Option<Box<Node>>` nodes (one
//! nesting level per node), next to baselines measured in the same run.
//!
//! ```text
//! cargo run --release --example deep_bench -- [--nodes N] [--reps R] [--dir D]
//! ```
//!
//! Rows (median of R repetitions after one warm-up):
//! - `build + drop`: allocating the list and freeing it (iteratively): the cost of just
//!   having the nodes;
//! - `plain save` / `plain restore`: a hand-written iterative serializer of the same nodes
//!   (a marker byte and the value per node) into a `Vec<u8>`, and the list rebuilt from it;
//! - `ckpt save` / `ckpt restore`: `ckpt::state::to_vec` / `from_slice` (CBOR, field names);
//!   `ckpt decode` (diagnostic): the part of the restore that decodes the bytes into a
//!   `Value` tree (`decode_slice`), the rest is loading the nodes from it;
//! - `image save` / `image restore`: `ckpt::image::write` (temp file, fsync, rename) and
//!   `ckpt::image::read` + `Loader::load` of the list as an image's one component.
//!
//! Peak resident memory is measured per row (Linux: `clear_refs` resets the peak).
//! The last line, `RESULT key=value ...`, is there for scripts.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ckpt::image::{self, Fingerprint, Header, Limits, FORMAT_VERSION};
use ckpt::state::{decode_slice, from_slice, to_vec, Encoder, Loader};

#[derive(ckpt::State)]
struct Node {
    value: u64,
    next: Option<Box<Node>>,
}

type List = Option<Box<Node>>;

fn build(n: u64) -> List {
    let mut head = None;
    for value in (0..n).rev() {
        head = Some(Box::new(Node { value, next: head }));
    }
    head
}

/// Frees the list front to back (the derived drop would recurse once per node).
fn drop_list(mut head: List) {
    while let Some(mut node) = head {
        head = node.next.take();
    }
}

/// Sum of the values, walking the list: every restored node is checked.
fn sum(head: &List) -> (u64, u64) {
    let (mut n, mut s) = (0u64, 0u64);
    let mut cur = head.as_deref();
    while let Some(node) = cur {
        n += 1;
        s = s.wrapping_add(node.value);
        cur = node.next.as_deref();
    }
    (n, s)
}

fn plain_save(head: &List) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cur = head.as_deref();
    while let Some(node) = cur {
        out.push(1);
        out.extend_from_slice(&node.value.to_le_bytes());
        cur = node.next.as_deref();
    }
    out.push(0);
    out
}

fn plain_restore(bytes: &[u8]) -> List {
    let mut head: List = None;
    let mut tail = &mut head;
    let mut rest = bytes;
    while let [1, more @ ..] = rest {
        let (value, after) = more.split_at(8);
        let value = u64::from_le_bytes(value.try_into().expect("8 bytes"));
        let node = tail.insert(Box::new(Node { value, next: None }));
        tail = &mut node.next;
        rest = after;
    }
    head
}

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint::default(),
        created_unix: 0,
        program: "deep_bench".into(),
        args: Vec::new(),
        ckpt_file: None,
        options: Vec::new(),
    }
}

fn image_save(path: &Path, list: &List) -> u64 {
    image::write(
        path,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(0);
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(1);
            e.text("list");
            e.put(list)
        },
    )
    .expect("image write")
}

fn image_restore(path: &Path) -> List {
    let img = image::read(path, &Limits::default()).expect("image read");
    let mut l = Loader::new(img.shared);
    let (_, v) = img.components.into_iter().next().expect("one component");
    l.load(v).expect("load")
}

/// Returns freed memory to the system and resets the peak resident set size (Linux:
/// `malloc_trim`, then `echo 5 > /proc/self/clear_refs`), so the next peak is the step's.
fn reset_peak() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A field of `/proc/self/status` in MB (`VmRSS`: resident now, `VmHWM`: peak since the
/// last reset); 0 if unknown.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb * 1024.0 / 1e6)
}

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One timed row: the seconds of each repetition and the highest peak RSS.
#[derive(Default)]
struct Row {
    secs: Vec<f64>,
    peak: f64,
}

impl Row {
    fn median(&self) -> f64 {
        let mut s = self.secs.clone();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(0.0)
    }
}

/// Times `f` (its result is passed to `after`, untimed), recording how far the resident
/// memory rose above what it was before the step.
fn time<R>(row: &mut Row, f: impl FnOnce() -> R, after: impl FnOnce(R)) {
    reset_peak();
    let base = status_mb("VmRSS:");
    let t = Instant::now();
    let r = f();
    row.secs.push(t.elapsed().as_secs_f64());
    row.peak = row.peak.max(status_mb("VmHWM:") - base);
    after(r);
}

fn main() {
    let n: u64 = arg("--nodes", 1_000_000);
    let reps: usize = arg("--reps", 3);
    let dir: PathBuf = arg("--dir", PathBuf::from("."));
    let work = dir.join(format!("deep_bench.tmp.{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("create the work directory");
    let path = work.join("deep.ckpt");
    let expect = (n, (0..n).fold(0u64, u64::wrapping_add));

    let names = [
        "build + drop",
        "plain save",
        "plain restore",
        "ckpt save",
        "ckpt restore",
        "ckpt decode",
        "image save",
        "image restore",
    ];
    let mut rows: Vec<Row> = names.iter().map(|_| Row::default()).collect();
    let (mut plain_bytes, mut ckpt_bytes, mut image_bytes) = (0, 0, 0);
    for rep in 0..=reps {
        let mut r: Vec<Row> = names.iter().map(|_| Row::default()).collect();
        time(&mut r[0], || build(n), drop_list);
        let list = build(n);

        let mut plain = Vec::new();
        time(&mut r[1], || plain_save(&list), |b| plain = b);
        plain_bytes = plain.len();
        time(
            &mut r[2],
            || plain_restore(&plain),
            |l| {
                assert_eq!(sum(&l), expect);
                drop_list(l)
            },
        );
        drop(plain);

        let mut bytes = Vec::new();
        time(&mut r[3], || to_vec(&list).expect("save"), |b| bytes = b);
        ckpt_bytes = bytes.len();
        time(
            &mut r[4],
            || from_slice::<List>(&bytes).expect("restore"),
            |l| {
                assert_eq!(sum(&l), expect);
                drop_list(l)
            },
        );
        time(&mut r[5], || decode_slice(&bytes).expect("decode"), drop);
        drop(bytes);

        time(&mut r[6], || image_save(&path, &list), |b| image_bytes = b);
        time(
            &mut r[7],
            || image_restore(&path),
            |l| {
                assert_eq!(sum(&l), expect);
                drop_list(l)
            },
        );
        drop_list(black_box(list));
        if rep > 0 {
            // Repetition 0 is the warm-up.
            for (all, one) in rows.iter_mut().zip(r) {
                all.secs.extend(one.secs);
                all.peak = all.peak.max(one.peak);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);

    println!("deep_bench: a list of {n} Option<Box<Node>> nodes (one nesting level each), median of {reps}");
    println!("encoded: plain {plain_bytes} B, ckpt {ckpt_bytes} B, image {image_bytes} B");
    println!(
        "{:<14} {:>10} {:>11} {:>12} {:>13}",
        "step", "time", "ns/node", "vs plain", "peak RSS +MB"
    );
    let med: Vec<f64> = rows.iter().map(Row::median).collect();
    let plain_of = |i: usize| match i {
        3 | 6 => Some(med[1]),
        4 | 5 | 7 => Some(med[2]),
        _ => None,
    };
    for (i, name) in names.iter().enumerate() {
        let ratio = plain_of(i).map_or("".to_string(), |p| format!("{:.1}x", med[i] / p));
        println!(
            "{:<14} {:>8.1}ms {:>11.1} {:>12} {:>13.0}",
            name,
            med[i] * 1e3,
            med[i] * 1e9 / n as f64,
            ratio,
            rows[i].peak
        );
    }
    println!(
        "RESULT nodes={n} build_drop_ms={:.1} plain_save_ms={:.1} plain_restore_ms={:.1} \
         ckpt_save_ms={:.1} ckpt_restore_ms={:.1} ckpt_decode_ms={:.1} image_save_ms={:.1} \
         image_restore_ms={:.1} ckpt_save_peak_mb={:.0} ckpt_restore_peak_mb={:.0}",
        med[0] * 1e3,
        med[1] * 1e3,
        med[2] * 1e3,
        med[3] * 1e3,
        med[4] * 1e3,
        med[5] * 1e3,
        med[6] * 1e3,
        med[7] * 1e3,
        rows[3].peak,
        rows[4].peak
    );
}
