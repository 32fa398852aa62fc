//! Bulk save and restore benchmark (DESIGN.md §8, issue item 9).
//!
//! Measures in one run, on the same machine and in the same directory, for a `Vec<f64>`
//! of `--gib` GiB (filled before any timing):
//! - plain write: create + one `write_all` of the vector's bytes + `sync_all` + fsync of
//!   the directory (ckpt fsyncs the directory too);
//! - ckpt save: `ckpt::save_to` of the program holding the vector and
//!   `ckpt::wait_durable`, timed around both (temp file, fsync, rename, directory fsync),
//!   and the pause the program sees: until `save_to` returns (the image is written in
//!   the background);
//! - plain read: open + one `read_exact` of the raw file into a pre-sized vector;
//! - ckpt restore: this program started with `--restore IMAGE`; the restored process,
//!   right after the save point returns with `ckpt::restored() == true`, measures the
//!   time since its parent spawned it (CLOCK_MONOTONIC, passed in an environment
//!   variable), checks every element, and prints one line the parent parses. That time
//!   includes the exec, the agent's re-exec, and reading and validating the image; the
//!   exec-only part is measured with the same binary and the same re-exec, no image.
//!
//! Diagnostics beside them: the plain write and read in 1 MiB pieces (the piece size of
//! ckpt's image code), and `ckpt::image::read` timed in this process (no exec).
//! Each step runs once as a warm-up and then `--reps` times (3); medians are reported,
//! with the DESIGN §8 ratios. Repetitions interleave the plain and ckpt steps.
//!
//! ```text
//! cargo run --release --example bulk_bench -- [--gib 1] [--dir D] [--reps 3] [--cache both|cold|warm]
//! ```
//!
//! Reads see the same page-cache state on both sides: `cold` drops the file's pages with
//! `posix_fadvise(DONTNEED)` before each timed read or restore (the file is fsynced, so
//! all its pages are clean and go), `warm` reads the whole file once before each; mincore
//! checks the state. Every timed write creates a new file after the previous one of its
//! kind was removed and the file system synced (`syncfs`), outside the timing.
//!
//! All files live in a fresh directory under the working directory (or under `--dir D`),
//! removed at the end, on error and on panic (not when the process is killed).
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;

use ckpt::checkpointable;

/// Carries the parent's CLOCK_MONOTONIC timestamp (ns) to the child it spawns.
const ENV_T0: &str = "BULK_BENCH_T0_NS";
/// Makes the program exit right after the agent prologue (exec-only overhead).
const PROBE_FLAG: &str = "--bulk-bench-exec-probe";
/// Prefix of the line a child prints for the parent.
const CHILD_TAG: &str = "BULK_BENCH_CHILD";
const USAGE: &str = "usage: bulk_bench [--gib F] [--dir D] [--reps N] [--cache both|cold|warm]";

/// Command-line options of the parent run.
struct Opts {
    gib: f64,
    dir: Option<String>,
    reps: u64,
    cache: Vec<String>,
}

/// The temp directory, its files and the samples gathered so far. Saved in the image
/// (so the restored process has it); `armed` is not saved, so the restored process never
/// removes the parent's files.
#[derive(ckpt::State)]
struct Bench {
    dir: String,
    image: String,
    raw: String,
    reps: u64,
    cache: Vec<String>,
    /// The current repetition; 0 is the warm-up, whose samples are printed, not kept.
    rep: u64,
    /// Samples in seconds, by series name, in the order the series first appeared.
    samples: Vec<(String, Vec<f64>)>,
    #[ckpt(skip)]
    armed: bool,
}

/// Size of the pieces of the piecewise baselines (what ckpt's image code uses).
const PIECE: usize = 1 << 20;

#[checkpointable]
fn main() {
    let opts = parse_opts();
    let mut bench = Bench::create(&opts);
    let data = make_data(elements(opts.gib));
    bench.start(&data);
    // Repetition 0 is a warm-up: every timed write then replaces a file of its own kind.
    let mut rep = 0u64;
    while rep <= bench.reps {
        bench.rep = rep;
        bench.plain_write(&data, None);
        bench.plain_write(&data, Some(PIECE));
        bench.before_save();
        let t0 = now_ns();
        let saved = ckpt::save_to(&bench.image);
        if ckpt::restored() {
            restored_child(&data);
        }
        let pause = secs(now_ns() - t0);
        let saved = saved.and_then(|()| ckpt::wait_durable());
        let durable = secs(now_ns() - t0);
        bench.after_save(saved, pause, durable);
        rep += 1;
    }
    bench.finish(&data);
}

// ---------------------------------------------------------------------------------------
// Options, data, clocks

fn parse_opts() -> Opts {
    let mut opts = Opts {
        gib: 1.0,
        dir: None,
        reps: 3,
        cache: vec!["cold".into(), "warm".into()],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            PROBE_FLAG => exec_probe(),
            "--gib" => {
                let v = value();
                opts.gib = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--gib {v}: not a number")));
                if !(opts.gib > 0.0 && opts.gib <= 64.0) {
                    usage("--gib must be in (0, 64]");
                }
            }
            "--dir" => opts.dir = Some(value()),
            "--reps" => {
                let v = value();
                opts.reps = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage("--reps must be ≥ 1"));
            }
            "--cache" => {
                let v = value();
                opts.cache = parse_cache(&v)
                    .unwrap_or_else(|| usage(&format!("--cache {v}: expected both, cold or warm")));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    opts
}

fn usage(msg: &str) -> ! {
    eprintln!("bulk_bench: {msg}\n{USAGE}");
    std::process::exit(2)
}

/// Number of f64 in `gib` GiB.
fn elements(gib: f64) -> usize {
    ((gib * (1u64 << 30) as f64) as u64 / 8).max(1) as usize
}

fn value_at(i: usize) -> f64 {
    i as f64 * 0.5
}

fn make_data(n: usize) -> Vec<f64> {
    (0..n).map(value_at).collect()
}

fn data_ok(data: &[f64], n: usize) -> bool {
    data.len() == n && data.iter().enumerate().all(|(i, &x)| x == value_at(i))
}

fn as_bytes(data: &[f64]) -> &[u8] {
    // SAFETY: f64 has no padding and every byte pattern is a valid u8; the slice
    // borrows `data` for its whole life.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

// ---------------------------------------------------------------------------------------
// The child processes

/// Runs in the restored process, right after the save point returned.
fn restored_child(data: &[f64]) -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0(ENV_T0, "bulk_bench"));
    let ok = data_ok(data, data.len()) && !data.is_empty();
    println!(
        "{CHILD_TAG} kind=restore elapsed_ns={elapsed} len={} ok={}",
        data.len(),
        ok as u8
    );
    std::process::exit(if ok { 0 } else { 3 })
}

/// The exec-only path: the same binary, the same re-exec of the agent prologue (an
/// `--ckpt-file` option makes it re-exec like `--restore` does), no image to read.
fn exec_probe() -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0(ENV_T0, "bulk_bench"));
    println!("{CHILD_TAG} kind=probe elapsed_ns={elapsed} len=0 ok=1");
    std::process::exit(0)
}

/// Spawns this program with `args`, the start timestamp taken right before the spawn;
/// returns the child's measured delay in seconds and the `len` it reported.
fn spawn_child(args: &[&str], kind: &str) -> Result<(f64, u64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd.env(ENV_T0, now_ns().to_string());
    // A restore shows the program the environment of the run that saved, where the start
    // timestamp is not: this child reads the restoring process's own.
    cmd.env("CKPT_ENV", "current");
    let out = cmd
        .output()
        .map_err(|e| format!("spawning the {kind} child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with(CHILD_TAG));
    let (Some(line), true) = (line, out.status.success()) else {
        return Err(format!(
            "the {kind} child failed ({}); its stdout: {stdout:?}",
            out.status
        ));
    };
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("the {kind} child's line lacks {k}: {line:?}"))
    };
    if field("ok")? != 1 || !line.contains(&format!("kind={kind}")) {
        return Err(format!("the {kind} child reported a failure: {line:?}"));
    }
    Ok((secs(field("elapsed_ns")?), field("len")?))
}

// ---------------------------------------------------------------------------------------
// File helpers

// ---------------------------------------------------------------------------------------
// The benchmark

impl Bench {
    /// Creates a fresh directory for all files of the run.
    fn create(opts: &Opts) -> Bench {
        let parent = opts.dir.clone().unwrap_or_else(|| ".".into());
        let parent =
            fs::canonicalize(&parent).unwrap_or_else(|e| usage(&format!("--dir {parent}: {e}")));
        let dir = parent.join(format!("bulk_bench.tmp.{}", std::process::id()));
        if let Err(e) = fs::create_dir(&dir) {
            usage(&format!("creating {}: {e}", dir.display()));
        }
        let dir = dir.to_string_lossy().into_owned();
        Bench {
            image: format!("{dir}/bulk.ckpt"),
            raw: format!("{dir}/plain.bin"),
            dir,
            reps: opts.reps,
            cache: opts.cache.clone(),
            rep: 0,
            samples: Vec::new(),
            armed: true,
        }
    }

    /// Reports an error, removes the files and exits.
    fn die(&mut self, msg: &str) -> ! {
        eprintln!("bulk_bench: error: {msg}");
        self.cleanup();
        std::process::exit(1)
    }

    fn cleanup(&mut self) {
        if std::mem::take(&mut self.armed) {
            if let Err(e) = fs::remove_dir_all(&self.dir) {
                eprintln!("bulk_bench: warning: removing {}: {e}", self.dir);
            }
        }
    }

    fn start(&mut self, data: &[f64]) {
        println!(
            "bulk_bench: {} bytes ({:.3} GiB, {} f64), dir {} ({}), {} repetitions, median reported",
            std::mem::size_of_val(data),
            std::mem::size_of_val(data) as f64 / (1u64 << 30) as f64,
            data.len(),
            self.dir,
            fs_type(&self.dir),
            self.reps
        );
    }

    /// Keeps a sample of series `key` (not during the warm-up).
    fn record(&mut self, key: &str, secs: f64) {
        if self.rep == 0 {
            return;
        }
        match self.samples.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(secs),
            None => self.samples.push((key.to_string(), vec![secs])),
        }
    }

    fn series(&self, key: &str) -> &[f64] {
        self.samples
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[][..], |(_, v)| v.as_slice())
    }

    fn median_of(&self, key: &str) -> f64 {
        median(self.series(key).iter().copied())
    }

    fn rep_label(&self) -> String {
        if self.rep == 0 {
            "warm-up".into()
        } else {
            format!("rep {}", self.rep)
        }
    }

    /// One timed plain write of the data's bytes into a new file: create, `write_all`
    /// (in one call, or in `piece`-byte calls), `sync_all`, directory fsync.
    fn plain_write(&mut self, data: &[f64], piece: Option<usize>) {
        let bytes = as_bytes(data);
        if let Err(e) = remove_if_exists(&self.raw) {
            self.die(&format!("removing {}: {e}", self.raw));
        }
        settle(&self.dir);
        let t0 = now_ns();
        let r = (|| -> std::io::Result<[u64; 4]> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.raw)?;
            match piece {
                None => f.write_all(bytes)?,
                Some(p) => bytes.chunks(p).try_for_each(|c| f.write_all(c))?,
            }
            let t1 = now_ns();
            f.sync_all()?;
            let t2 = now_ns();
            drop(f);
            fsync_dir(&self.dir)?;
            let t3 = now_ns();
            Ok([t1 - t0, t2 - t1, t3 - t2, t3 - t0])
        })();
        let [write, fsync, dir_fsync, total] = match r {
            Ok(t) => t.map(secs),
            Err(e) => self.die(&format!("plain write of {}: {e}", self.raw)),
        };
        let key = if piece.is_some() {
            "write_pieces"
        } else {
            "write"
        };
        self.record(key, total);
        self.record(&format!("{key}.write"), write);
        self.record(&format!("{key}.fsync"), fsync);
        self.record(&format!("{key}.dir_fsync"), dir_fsync);
        print!(
            "  {}: plain write{} {total:.3} s (write {write:.3}, fsync {fsync:.3}, dir fsync {dir_fsync:.4});",
            self.rep_label(),
            if piece.is_some() { " in 1 MiB pieces" } else { "" }
        );
        if piece.is_none() {
            println!();
        }
    }

    /// The save writes a new file, like the plain write: no old image to replace.
    fn before_save(&mut self) {
        if let Err(e) = remove_if_exists(&self.image) {
            self.die(&format!("removing {}: {e}", self.image));
        }
        settle(&self.dir);
    }

    fn after_save(&mut self, saved: ckpt::Result<()>, pause: f64, durable: f64) {
        if let Err(e) = saved {
            self.die(&format!("ckpt::save_to({}): {e}", self.image));
        }
        println!(
            " ckpt save {durable:.3} s (program paused {:.2} ms)",
            pause * 1e3
        );
        self.record("save", durable);
        self.record("pause", pause);
    }

    /// One timed plain read of the raw file into a pre-sized vector (in one `read_exact`,
    /// or in `piece`-byte calls); checks the bytes outside the timing.
    fn plain_read(&mut self, data: &[f64], piece: Option<usize>) -> f64 {
        let t0 = now_ns();
        let r = (|| -> std::io::Result<Vec<u8>> {
            let mut f = File::open(&self.raw)?;
            let len = f.metadata()?.len() as usize;
            let mut buf = vec![0u8; len];
            match piece {
                None => f.read_exact(&mut buf)?,
                Some(p) => buf.chunks_mut(p).try_for_each(|c| f.read_exact(c))?,
            }
            Ok(buf)
        })();
        let t = since(t0);
        match r {
            Ok(buf) if buf == as_bytes(data) => t,
            Ok(_) => self.die(&format!("{}: read back different bytes", self.raw)),
            Err(e) => self.die(&format!("reading {}: {e}", self.raw)),
        }
    }

    /// The agent's image read and validation alone, in this process (no exec).
    fn agent_read(&mut self, n: usize) -> f64 {
        let t0 = now_ns();
        let r = ckpt::image::read(Path::new(&self.image), &ckpt::image::Limits::default());
        let t = since(t0);
        match r {
            Ok(img) if img.file_len > (n * 8) as u64 => t,
            Ok(img) => self.die(&format!(
                "{}: image of {} bytes is too small",
                self.image, img.file_len
            )),
            Err(e) => self.die(&format!("ckpt::image::read: {e}")),
        }
    }

    /// Prepares a timed read of `path`: puts it in the page-cache state `mode`.
    fn cache(&mut self, path: &str, mode: &str) {
        if let Err(e) = set_cache(path, mode) {
            self.die(&format!("setting the page cache of {path} to {mode}: {e}"));
        }
        let r = resident(path);
        let bad = if mode == "cold" { r > 0.01 } else { r < 0.99 };
        if bad {
            eprintln!(
                "bulk_bench: warning: {path} is {:.1} % in the page cache after making it {mode}",
                r * 100.0
            );
        }
    }

    fn child(&mut self, args: &[&str], kind: &str, n: usize) -> f64 {
        match spawn_child(args, kind) {
            Ok((t, len)) if kind != "restore" || len == n as u64 => t,
            Ok((_, len)) => self.die(&format!("the restored vector has {len} elements, not {n}")),
            Err(e) => self.die(&e),
        }
    }

    /// The read side for one cache state: a warm-up, then `reps` repetitions, each
    /// measuring every variant once with the same cache state.
    fn reads(&mut self, data: &[f64], mode: &str) {
        let n = data.len();
        let (raw, image) = (self.raw.clone(), self.image.clone());
        let probe_file = format!("{}/probe.ckpt", self.dir);
        // The restored child saves elsewhere: this process still holds the image's lock.
        let restored_file = format!("{}/restored.ckpt", self.dir);
        for rep in 0..=self.reps {
            self.rep = rep;
            self.cache(&raw, mode);
            let read = self.plain_read(data, None);
            self.cache(&raw, mode);
            let pieces = self.plain_read(data, Some(PIECE));
            self.cache(&image, mode);
            let restore = self.child(
                &["--restore", &image, "--ckpt-file", &restored_file],
                "restore",
                n,
            );
            let exec = self.child(&["--ckpt-file", &probe_file, PROBE_FLAG], "probe", n);
            self.cache(&image, mode);
            let agent = self.agent_read(n);
            println!(
                "  {mode} {}: plain read {read:.3} s (in 1 MiB pieces {pieces:.3}); ckpt restore \
                 {restore:.3} s (exec-only {exec:.4}; agent image::read in-process {agent:.3})",
                self.rep_label()
            );
            self.record(&format!("{mode}.read"), read);
            self.record(&format!("{mode}.read_pieces"), pieces);
            self.record(&format!("{mode}.restore"), restore);
            self.record(&format!("{mode}.exec"), exec);
            self.record(&format!("{mode}.agent_read"), agent);
        }
    }

    /// The read side, the report, the cleanup.
    fn finish(&mut self, data: &[f64]) {
        let bytes = std::mem::size_of_val(data) as f64;
        let image_len = match fs::metadata(&self.image) {
            Ok(m) => m.len() as f64,
            Err(e) => self.die(&format!("{}: {e}", self.image)),
        };
        for mode in self.cache.clone() {
            self.reads(data, &mode);
        }
        let mbs = |t: f64| bytes / t / 1e6;
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let mut summary = format!("RESULT bytes={bytes:.0} image={image_len:.0}");
        println!(
            "\nresults: median of {} (range min..max), after one warm-up; MB = 10^6 bytes; \
             MB/s = data bytes / time",
            self.reps
        );
        let row = |label: &str, key: &str, summary: &mut String| {
            let t = self.median_of(key);
            let v = self.series(key);
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(0.0, f64::max);
            // A rate only where the step moves the data's bytes.
            let rate = if key.ends_with("exec") || key == "pause" {
                "        -    ".to_string()
            } else {
                format!("{:8.1} MB/s", mbs(t))
            };
            println!("  {label:<46} {t:7.3} s {rate}   ({lo:.3}..{hi:.3})");
            *summary += &format!(" {key}_s={t:.4}");
        };
        let size_ratio = image_len / bytes;
        println!("  data bytes {bytes:.0}, image bytes {image_len:.0}");
        row(
            "plain create+write_all+fsync+dir fsync",
            "write",
            &mut summary,
        );
        row("  of which write_all", "write.write", &mut summary);
        row("  of which fsync", "write.fsync", &mut summary);
        row(
            "plain write in 1 MiB pieces (diagnostic)",
            "write_pieces",
            &mut summary,
        );
        row("ckpt save, until durable", "save", &mut summary);
        row("  of which the program's pause", "pause", &mut summary);
        for mode in self.cache.clone() {
            row(
                &format!("{mode}: plain read (one read_exact)"),
                &format!("{mode}.read"),
                &mut summary,
            );
            row(
                &format!("{mode}: plain read in 1 MiB pieces (diagnostic)"),
                &format!("{mode}.read_pieces"),
                &mut summary,
            );
            row(
                &format!("{mode}: ckpt restore (exec to save point)"),
                &format!("{mode}.restore"),
                &mut summary,
            );
            row(
                &format!("{mode}:   exec-only"),
                &format!("{mode}.exec"),
                &mut summary,
            );
            row(
                &format!("{mode}:   agent image::read in-process"),
                &format!("{mode}.agent_read"),
                &mut summary,
            );
        }
        let write = self.median_of("write");
        let save = self.median_of("save");
        println!("targets (DESIGN §8):");
        println!(
            "  image size / data bytes  {size_ratio:.6}   (<= 1.01: {})",
            verdict(size_ratio <= 1.01)
        );
        println!(
            "  save / plain write       {:.3}      (>= 0.8: {})   [vs the 1 MiB-piece write: {:.3}]",
            write / save,
            verdict(write / save >= 0.8),
            self.median_of("write_pieces") / save
        );
        summary += &format!(
            " size_ratio={size_ratio:.6} save_write_ratio={:.3}",
            write / save
        );
        for mode in self.cache.clone() {
            let read = self.median_of(&format!("{mode}.read"));
            let restore = self.median_of(&format!("{mode}.restore"));
            let exec = self.median_of(&format!("{mode}.exec"));
            println!(
                "  {mode}: restore / read    {:.3}      (>= 0.8: {})   [without exec-only: {:.3}; \
                 vs the 1 MiB-piece read: {:.3}]",
                read / restore,
                verdict(read / restore >= 0.8),
                read / (restore - exec),
                self.median_of(&format!("{mode}.read_pieces")) / restore
            );
            summary += &format!(" {mode}_restore_read_ratio={:.3}", read / restore);
        }
        println!(
            "  save with {:.3} GiB: {save:.4} s until durable, the program paused {:.4} s",
            bytes / (1u64 << 30) as f64,
            self.median_of("pause")
        );
        println!("{summary}");
        self.cleanup();
    }
}

impl Drop for Bench {
    /// Removes the files on panic too (never in the restored process: `armed` is not saved).
    fn drop(&mut self) {
        self.cleanup();
    }
}
