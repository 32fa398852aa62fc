//! The syscall-heavy interception benchmark (issue 4, DESIGN §8: ≤ 1.10× std): the same
//! loops on std's types and on ckpt's components, in one run.
//!
//! Rows (each `std` next to the `ckpt` type a checkpointable program gets instead):
//! - `read 64 B`: `File::read` of 64 bytes from a 64 KiB temp file, seeking back at EOF;
//! - `write 64 B`: `File::write_all` of 64 bytes to a temp file, `set_len(0)` and a seek
//!   back every 1024 writes;
//! - `BufReader::lines`: every line of a generated ~20 MB text file (per line);
//! - `BufWriter writeln!`: short formatted lines into a temp file (per line);
//! - `Instant::now`: a reading and its distance to a start reading;
//! - `env::var`: one variable set by the benchmark (a fresh run: no restored environment).
//!
//! The ckpt side names ckpt's types explicitly (`ckpt::fs::File`, `ckpt::io::BufReader`,
//! `ckpt::time::Instant`, `ckpt::env::var`), as `#[checkpointable]` code gets them, and
//! runs the same loop body (generic functions, instantiated once per side). Each
//! repetition times every row on both sides, alternating which side goes first; the
//! best of `--reps` is reported as ns per operation with the ratio ckpt / std. Loop
//! results go through `black_box`. Temp files live in a fresh directory under
//! `std::env::temp_dir()`, removed at the end (and on panic).
//!
//! ```text
//! cargo run --release --example io_overhead -- [--n 200000] [--mb 20] [--reps 11] [--only KEY,...]
//! ```
//!
//! `--n` scales the operation counts (reads and writes: n, formatted lines, clock and
//! variable reads: 10 n). `--only` runs some rows (keys: `read`, `write`, `lines`,
//! `bufwriter`, `instant`, `env_var`). The last line, `RESULT key=ratio ...`, is for
//! scripts.
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options: `--n`, `--mb`, `--reps`, `--only`.
struct Opts {
    n: u64,
    mb: u64,
    reps: u32,
    /// Row keys to run (`--only read,lines`); empty: all.
    only: Vec<String>,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    Opts {
        n: get("--n", 200_000).max(1),
        mb: get("--mb", 20).max(1),
        reps: get("--reps", 11).max(1) as u32,
        only: args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

/// A fresh directory under the temp dir, removed on drop (also on panic).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("ckpt_io_overhead.{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One row: the best time of each side, over the operations of one measurement.
struct Row {
    key: &'static str,
    name: &'static str,
    ops: u64,
    best: [f64; 2],
}

impl Row {
    fn ns(&self, side: usize) -> f64 {
        self.best[side] * 1e9 / self.ops as f64
    }

    fn ratio(&self) -> f64 {
        self.best[1] / self.best[0]
    }
}

/// A benchmark row: `ops` operations per measurement, the std side and the ckpt side.
type Side<'a> = Box<dyn FnMut() -> io::Result<u64> + 'a>;

struct Bench<'a> {
    /// Short name for `--only` and the `RESULT` line.
    key: &'static str,
    name: &'static str,
    ops: u64,
    sides: [Side<'a>; 2],
}

fn time(f: &mut Side<'_>) -> io::Result<f64> {
    let t = Instant::now();
    black_box(f()?);
    Ok(t.elapsed().as_secs_f64())
}

/// Runs every bench once as a warm-up, then `reps` times interleaved (std and ckpt
/// alternate which goes first); keeps the best time of each side.
fn run(benches: &mut [Bench<'_>], reps: u32) -> io::Result<Vec<Row>> {
    let mut rows: Vec<Row> = benches
        .iter()
        .map(|b| Row {
            key: b.key,
            name: b.name,
            ops: b.ops,
            best: [f64::MAX; 2],
        })
        .collect();
    for b in benches.iter_mut() {
        for s in &mut b.sides {
            time(s)?;
        }
    }
    for rep in 0..reps {
        for (b, row) in benches.iter_mut().zip(&mut rows) {
            let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let t = time(&mut b.sides[side])?;
                row.best[side] = row.best[side].min(t);
            }
        }
    }
    Ok(rows)
}

// The loop bodies, shared by both sides.

/// `n` reads of 64 bytes, back to the start at EOF; returns the bytes read.
fn small_reads(mut f: impl Read + Seek, n: u64) -> io::Result<u64> {
    let mut buf = [0u8; 64];
    let mut total = 0;
    for _ in 0..n {
        let got = f.read(black_box(&mut buf))?;
        if got == 0 {
            f.seek(SeekFrom::Start(0))?;
        }
        total += got as u64;
    }
    Ok(total)
}

/// `n` writes of 64 bytes; every 1024 the file is emptied and the offset reset.
fn small_writes<F: Write + Seek>(
    mut f: F,
    set_len: impl Fn(&F) -> io::Result<()>,
    n: u64,
) -> io::Result<u64> {
    let buf = [b'x'; 64];
    for i in 0..n {
        f.write_all(black_box(&buf))?;
        if i % 1024 == 1023 {
            set_len(&f)?;
            f.seek(SeekFrom::Start(0))?;
        }
    }
    Ok(n)
}

/// Counts the lines and their bytes.
fn count_lines(lines: impl Iterator<Item = io::Result<String>>) -> io::Result<u64> {
    let mut n = 0u64;
    let mut bytes = 0u64;
    for line in lines {
        bytes += line?.len() as u64;
        n += 1;
    }
    Ok(n ^ bytes)
}

/// `n` short formatted lines, then a flush.
fn formatted_lines(mut w: impl Write, n: u64) -> io::Result<u64> {
    for i in 0..n {
        writeln!(w, "{i} {}", black_box(i * 7 % 1000))?;
    }
    w.flush()?;
    Ok(n)
}

/// A text file of about `mb` MB with lines of 10–90 bytes.
fn generate_text(path: &Path, mb: u64) -> io::Result<u64> {
    let mut w = io::BufWriter::new(std::fs::File::create(path)?);
    let mut line = String::new();
    let (mut bytes, mut lines, mut x) = (0u64, 0u64, 0x9E37_79B9_7F4A_7C15u64);
    while bytes < mb * 1_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        line.clear();
        let _ = write!(line, "{lines:08} ");
        while line.len() < 10 + (x % 80) as usize {
            line.push_str("lorem ");
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        lines += 1;
    }
    w.flush()?;
    Ok(lines)
}

fn main() -> io::Result<()> {
    let o = opts();
    let dir = TempDir::new()?;
    let small = dir.file("small.bin");
    std::fs::write(&small, vec![7u8; 64 * 1024])?;
    let text = dir.file("text.txt");
    let n_lines = generate_text(&text, o.mb)?;
    let (w_std, w_ckpt) = (dir.file("w_std.bin"), dir.file("w_ckpt.bin"));
    let (l_std, l_ckpt) = (dir.file("l_std.txt"), dir.file("l_ckpt.txt"));
    // Not a `CKPT_*` name: those bypass the environment view.
    let var = "IO_OVERHEAD_VALUE";
    std::env::set_var(var, "some value of a typical length");
    let (n, n10) = (o.n, o.n * 10);

    println!(
        "io_overhead: best of {} (interleaved), temp dir {}",
        o.reps,
        dir.0.display()
    );
    let benches = [
        Bench {
            key: "read",
            name: "read 64 B (File::read)",
            ops: n,
            sides: [
                Box::new(|| small_reads(std::fs::File::open(&small)?, n)),
                Box::new(|| small_reads(ckpt::fs::File::open(&small)?, n)),
            ],
        },
        Bench {
            key: "write",
            name: "write 64 B (File::write_all)",
            ops: n,
            sides: [
                Box::new(|| small_writes(std::fs::File::create(&w_std)?, |f| f.set_len(0), n)),
                Box::new(|| small_writes(ckpt::fs::File::create(&w_ckpt)?, |f| f.set_len(0), n)),
            ],
        },
        Bench {
            key: "lines",
            name: "BufReader::lines (per line)",
            ops: n_lines,
            sides: [
                Box::new(|| count_lines(io::BufReader::new(std::fs::File::open(&text)?).lines())),
                Box::new(|| {
                    count_lines(ckpt::io::BufReader::new(ckpt::fs::File::open(&text)?).lines())
                }),
            ],
        },
        Bench {
            key: "bufwriter",
            name: "BufWriter writeln! (per line)",
            ops: n10,
            sides: [
                Box::new(|| {
                    formatted_lines(io::BufWriter::new(std::fs::File::create(&l_std)?), n10)
                }),
                Box::new(|| {
                    formatted_lines(
                        ckpt::io::BufWriter::new(ckpt::fs::File::create(&l_ckpt)?),
                        n10,
                    )
                }),
            ],
        },
        Bench {
            key: "instant",
            name: "Instant::now",
            ops: n10,
            sides: [
                Box::new(|| {
                    let start = std::time::Instant::now();
                    Ok((0..n10)
                        .map(|_| {
                            std::time::Instant::now()
                                .duration_since(start)
                                .subsec_nanos() as u64
                        })
                        .fold(0, u64::wrapping_add))
                }),
                Box::new(|| {
                    let start = ckpt::time::Instant::now();
                    Ok((0..n10)
                        .map(|_| {
                            ckpt::time::Instant::now()
                                .duration_since(start)
                                .subsec_nanos() as u64
                        })
                        .fold(0, u64::wrapping_add))
                }),
            ],
        },
        Bench {
            key: "env_var",
            name: "env::var",
            ops: n10,
            sides: [
                Box::new(|| {
                    Ok((0..n10)
                        .map(|_| std::env::var(black_box(var)).map_or(0, |v| v.len() as u64))
                        .sum())
                }),
                Box::new(|| {
                    Ok((0..n10)
                        .map(|_| ckpt::env::var(black_box(var)).map_or(0, |v| v.len() as u64))
                        .sum())
                }),
            ],
        },
    ];
    let mut benches: Vec<Bench<'_>> = benches
        .into_iter()
        .filter(|b| o.only.is_empty() || o.only.iter().any(|k| k == b.key))
        .collect();
    let rows = run(&mut benches, o.reps)?;
    drop(benches);

    println!(
        "{:<31} {:>12} {:>12} {:>7}",
        "operation", "std ns/op", "ckpt ns/op", "ratio"
    );
    for r in &rows {
        println!(
            "{:<31} {:>12.2} {:>12.2} {:>7.3}{}",
            r.name,
            r.ns(0),
            r.ns(1),
            r.ratio(),
            if r.ratio() > 1.10 { "  over 1.10" } else { "" }
        );
    }
    let result: Vec<String> = rows
        .iter()
        .map(|r| format!("{}={:.3}", r.key, r.ratio()))
        .collect();
    println!("RESULT {}", result.join(" "));
    drop(dir);
    Ok(())
}
