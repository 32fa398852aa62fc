//! Bulk save and restore benchmark (DESIGN.md §8, issue item 9).
//!
//! Measures in one run, on the same machine and in the same directory:
//! a plain `write_all` + `sync_all` + directory fsync of the bytes of a `Vec<f64>`, a
//! durable `ckpt::save_to` of the same vector, a plain read of the raw file, and a full
//! restore (`--restore` in a new process: exec + the agent reading and validating the
//! image + resuming to the save point). Every measurement is repeated (`--reps`, 3) and
//! the median is reported, with the DESIGN §8 ratios.
//!
//! ```text
//! cargo run --release --example bulk_bench -- [--gib 1] [--dir D] [--reps 3] [--cache both|cold|warm]
//! ```
//!
//! Reads are measured with the same page-cache state on both sides: `cold` drops the
//! file's pages with `posix_fadvise(DONTNEED)` before each timed read or restore, `warm`
//! reads the whole file once before each. All files live in a fresh directory under the
//! working directory (or `--dir D`), removed at the end, on error and on panic.
//!
//! The restored process is this program itself: the save point in `main` returns with
//! `ckpt::restored() == true`, and the process reports how long ago its parent started
//! it (a CLOCK_MONOTONIC timestamp in an environment variable) on one line of stdout.
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};

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

/// The temp directory, its files and the samples gathered before the save point.
/// Saved in the image (so the restored process has it); `armed` is not saved, so the
/// restored process never removes the parent's files.
#[derive(ckpt::State)]
struct Bench {
    dir: String,
    image: String,
    raw: String,
    reps: u64,
    cache: Vec<String>,
    writes: Vec<WriteSample>,
    saves: Vec<f64>,
    #[ckpt(skip)]
    armed: bool,
}

/// One plain write: total and its phases, in seconds.
#[derive(ckpt::State, Clone)]
struct WriteSample {
    total: f64,
    create: f64,
    write: f64,
    fsync: f64,
    dir_fsync: f64,
}

/// One repetition of the read side for one cache state, in seconds.
struct ReadSample {
    read: f64,
    restore: f64,
    exec: f64,
    agent_read: f64,
}

#[checkpointable]
fn main() {
    let opts = parse_opts();
    let mut bench = Bench::create(&opts);
    let data = make_data(elements(opts.gib));
    bench.start(&data);
    let mut rep = 0u64;
    while rep < bench.reps {
        bench.plain_write(&data);
        bench.before_save();
        let t0 = now_ns();
        let saved = ckpt::save_to(&bench.image);
        if ckpt::restored() {
            restored_child(&data);
        }
        let pause = secs(now_ns() - t0);
        bench.after_save(saved, pause);
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
                opts.cache = match value().as_str() {
                    "both" => vec!["cold".into(), "warm".into()],
                    "cold" => vec!["cold".into()],
                    "warm" => vec!["warm".into()],
                    other => usage(&format!("--cache {other}: expected both, cold or warm")),
                }
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

/// CLOCK_MONOTONIC in ns: one clock for this process and the children it spawns.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

fn since(t0: u64) -> f64 {
    secs(now_ns().saturating_sub(t0))
}

fn parent_t0() -> u64 {
    std::env::var(ENV_T0)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            eprintln!(
                "bulk_bench: {ENV_T0} is not set: this mode is started by the benchmark itself"
            );
            std::process::exit(2)
        })
}

// ---------------------------------------------------------------------------------------
// The child processes

/// Runs in the restored process, right after the save point returned.
fn restored_child(data: &[f64]) -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0());
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
    let elapsed = now_ns().saturating_sub(parent_t0());
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

fn fsync_dir(dir: &str) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Flushes the file system (journal, discards of deleted files) outside the timings.
fn settle(dir: &str) {
    if let Ok(d) = File::open(dir) {
        // SAFETY: syncfs on a descriptor we own.
        unsafe { libc::syncfs(d.as_raw_fd()) };
    }
}

fn remove_if_exists(path: &str) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Puts `path` in the cache state `mode` names: "cold" (pages dropped) or "warm" (read once).
fn set_cache(path: &str, mode: &str) -> std::io::Result<()> {
    let mut f = File::open(path)?;
    if mode == "cold" {
        // Clean pages (the file was fsynced) are dropped at once.
        // SAFETY: posix_fadvise on a descriptor we own.
        let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
    } else {
        let mut buf = vec![0u8; 8 << 20];
        while f.read(&mut buf)? > 0 {}
    }
    Ok(())
}

/// Fraction of `path`'s pages in the page cache (mincore), to check `set_cache`.
fn resident(path: &str) -> f64 {
    let Ok(f) = File::open(path) else {
        return f64::NAN;
    };
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    if len == 0 {
        return f64::NAN;
    }
    // SAFETY: a read-only shared mapping of a file we opened, unmapped below; mincore
    // writes one byte per page into a vector of exactly that many bytes.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        if p == libc::MAP_FAILED {
            return f64::NAN;
        }
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        let mut vec = vec![0u8; len.div_ceil(page)];
        let rc = libc::mincore(p, len, vec.as_mut_ptr());
        libc::munmap(p, len);
        if rc != 0 {
            return f64::NAN;
        }
        vec.iter().filter(|&&b| b & 1 == 1).count() as f64 / vec.len() as f64
    }
}

/// The file system type of `dir`, from statfs.
fn fs_type(dir: &str) -> String {
    let Ok(c) = std::ffi::CString::new(dir) else {
        return "?".into();
    };
    // SAFETY: statfs writes into the zeroed struct we own.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut s) } != 0 {
        return "?".into();
    }
    match s.f_type as u64 {
        0xEF53 => "ext4".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794C_7630 => "overlayfs".into(),
        0x2FC1_2FC1 => "zfs".into(),
        t => format!("0x{t:x}"),
    }
}

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
            writes: Vec::new(),
            saves: Vec::new(),
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

    /// One timed plain write of the data's bytes: create, write_all, sync_all, dir fsync.
    fn plain_write(&mut self, data: &[f64]) {
        let bytes = as_bytes(data);
        if let Err(e) = remove_if_exists(&self.raw) {
            self.die(&format!("removing {}: {e}", self.raw));
        }
        settle(&self.dir);
        let t0 = now_ns();
        let r = (|| -> std::io::Result<WriteSample> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.raw)?;
            let t1 = now_ns();
            f.write_all(bytes)?;
            let t2 = now_ns();
            f.sync_all()?;
            let t3 = now_ns();
            drop(f);
            fsync_dir(&self.dir)?;
            let t4 = now_ns();
            Ok(WriteSample {
                total: secs(t4 - t0),
                create: secs(t1 - t0),
                write: secs(t2 - t1),
                fsync: secs(t3 - t2),
                dir_fsync: secs(t4 - t3),
            })
        })();
        match r {
            Ok(s) => self.writes.push(s),
            Err(e) => self.die(&format!("plain write of {}: {e}", self.raw)),
        }
    }

    /// The save writes a new file, like the plain write: no old image to replace.
    fn before_save(&mut self) {
        if let Err(e) = remove_if_exists(&self.image) {
            self.die(&format!("removing {}: {e}", self.image));
        }
        settle(&self.dir);
    }

    fn after_save(&mut self, saved: ckpt::Result<()>, pause: f64) {
        if let Err(e) = saved {
            self.die(&format!("ckpt::save_to({}): {e}", self.image));
        }
        let w = self.writes.last().map_or(f64::NAN, |w| w.total);
        println!(
            "  rep {}: plain write+fsync {:.3} s (write {:.3}, fsync {:.3}, dir fsync {:.4}); ckpt save {:.3} s",
            self.saves.len() + 1,
            w,
            self.writes.last().map_or(f64::NAN, |w| w.write),
            self.writes.last().map_or(f64::NAN, |w| w.fsync),
            self.writes.last().map_or(f64::NAN, |w| w.dir_fsync),
            pause
        );
        self.saves.push(pause);
    }

    /// One timed plain read of the raw file into a pre-sized vector; checks the bytes.
    fn plain_read(&mut self, data: &[f64]) -> f64 {
        let t0 = now_ns();
        let r = (|| -> std::io::Result<Vec<u8>> {
            let mut f = File::open(&self.raw)?;
            let len = f.metadata()?.len() as usize;
            let mut buf = vec![0u8; len];
            f.read_exact(&mut buf)?;
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

    /// The read side for one cache state; interleaves the measurements of each repetition.
    fn reads(&mut self, data: &[f64], mode: &str) -> Vec<ReadSample> {
        let n = data.len();
        let (raw, image) = (self.raw.clone(), self.image.clone());
        let probe_file = format!("{}/probe.ckpt", self.dir);
        let mut out = Vec::new();
        for rep in 0..self.reps {
            self.cache(&raw, mode);
            let read = self.plain_read(data);
            self.cache(&image, mode);
            let restore = self.child(&["--restore", &image], "restore", n);
            let exec = self.child(&["--ckpt-file", &probe_file, PROBE_FLAG], "probe", n);
            self.cache(&image, mode);
            let agent_read = self.agent_read(n);
            println!(
                "  {mode} rep {}: plain read {read:.3} s; ckpt restore {restore:.3} s \
                 (exec-only {exec:.4} s; agent read in-process {agent_read:.3} s)",
                rep + 1
            );
            out.push(ReadSample {
                read,
                restore,
                exec,
                agent_read,
            });
        }
        out
    }

    /// The read side, the report, the cleanup.
    fn finish(&mut self, data: &[f64]) {
        let bytes = std::mem::size_of_val(data) as f64;
        let image_len = match fs::metadata(&self.image) {
            Ok(m) => m.len() as f64,
            Err(e) => self.die(&format!("{}: {e}", self.image)),
        };
        let mut reads = Vec::new();
        for mode in self.cache.clone() {
            let r = self.reads(data, &mode);
            reads.push((mode, r));
        }
        let mbs = |t: f64| bytes / t / 1e6;
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let write = median(self.writes.iter().map(|w| w.total));
        let save = median(self.saves.iter().copied());
        let size_ratio = image_len / bytes;
        println!(
            "\nresults (median of {}; MB = 10^6 bytes; rates are data bytes / time):",
            self.reps
        );
        println!("  data bytes                  {bytes:.0}");
        println!(
            "  image size                  {image_len:.0}  ratio {size_ratio:.6}  (target <= 1.01: {})",
            verdict(size_ratio <= 1.01)
        );
        println!(
            "  plain write+fsync+dir fsync {write:.3} s  {:8.1} MB/s  (create {:.4}, write {:.3}, fsync {:.3}, dir fsync {:.4})",
            mbs(write),
            median(self.writes.iter().map(|w| w.create)),
            median(self.writes.iter().map(|w| w.write)),
            median(self.writes.iter().map(|w| w.fsync)),
            median(self.writes.iter().map(|w| w.dir_fsync)),
        );
        println!(
            "  ckpt save (pause)           {save:.3} s  {:8.1} MB/s",
            mbs(save)
        );
        println!(
            "  ratio save/write            {:.3}  (target >= 0.8: {})",
            write / save,
            verdict(write / save >= 0.8)
        );
        let mut summary = format!(
            "RESULT bytes={bytes:.0} image={image_len:.0} size_ratio={size_ratio:.6} write_s={write:.4} \
             save_s={save:.4} save_pause_s={save:.4} write_mbs={:.1} save_mbs={:.1} save_write_ratio={:.3}",
            mbs(write),
            mbs(save),
            write / save
        );
        for (mode, r) in &reads {
            let read = median(r.iter().map(|s| s.read));
            let restore = median(r.iter().map(|s| s.restore));
            let exec = median(r.iter().map(|s| s.exec));
            let agent = median(r.iter().map(|s| s.agent_read));
            println!(
                "  {mode}: plain read              {read:.3} s  {:8.1} MB/s",
                mbs(read)
            );
            println!(
                "  {mode}: ckpt restore            {restore:.3} s  {:8.1} MB/s",
                mbs(restore)
            );
            println!(
                "  {mode}: ratio restore/read      {:.3}  (target >= 0.8: {})",
                read / restore,
                verdict(read / restore >= 0.8)
            );
            println!(
                "  {mode}:   of the restore: exec-only {exec:.4} s; restore - exec {:.3} s ({:.1} MB/s); \
                 agent image::read in-process {agent:.3} s ({:.1} MB/s)",
                restore - exec,
                mbs(restore - exec),
                mbs(agent)
            );
            summary += &format!(
                " {mode}_read_s={read:.4} {mode}_restore_s={restore:.4} {mode}_read_mbs={:.1} \
                 {mode}_restore_mbs={:.1} {mode}_restore_read_ratio={:.3} {mode}_exec_s={exec:.4} {mode}_agent_read_s={agent:.4}",
                mbs(read),
                mbs(restore),
                read / restore
            );
        }
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

fn median(xs: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
