//! Graphics engine benchmark (issue 12, DESIGN.md §8): frames per second with and without
//! periodic checkpoints, and save/restore time and image size per megapixel against the
//! raw pixel bytes. Built like `bulk_bench` (same baselines, same child processes).
//!
//! **Frames per second.** Each run is a child process (the display is chosen when a
//! process starts): this program with `--gfx-bench-fps EVERY`, which draws Conway's Game
//! of Life like `examples/life.rs` (160×120 cells of 4 px = 640×480: clear, one
//! `fill_rect` per fading dead cell and per run of live cells, a translucent HUD panel and
//! a line of text), one generation per frame, and `gfx::present`s every frame. After 10
//! untimed frames it times `--frames` frames (draw + present + the step + the saves) in
//! four modes: (a) `--ckpt-display none`, no saves; (b) the same with `ckpt::save()` every
//! 10 frames; (c) with `ckpt::save()` after every frame; (d) `--ckpt-display png:DIR`, no
//! saves (frames encoded and written by ckpt's background thread; the program runs at
//! most two frames ahead of it). Saves are durable: ckpt fsyncs the image and its
//! directory on every save. The child also reports its time in drawing, in `present` and
//! in each save (the pause), and the image size.
//!
//! **Per megapixel.** This process holds one surface of `--mp` megapixels (10^6 pixels;
//! the side is the square root rounded to a multiple of 4), drawn once before any timing
//! with a linear gradient, a radial gradient and a tile of random-colour noise drawn over
//! it (251×241 pixels, so rows of tiles never line up with the surface's rows), opaque.
//! Then, exactly as in `bulk_bench`:
//! - plain write: create + one `write_all` of the w·h·4 pixel bytes + `sync_all` + fsync
//!   of the directory;
//! - ckpt save: `ckpt::save_to` of the program holding the surface, timed around the call;
//! - plain read: open + one `read_exact` of the raw file into a pre-sized vector;
//! - ckpt restore: this program started with `--restore IMAGE --ckpt-display none`; right
//!   after the save point returns with `ckpt::restored() == true`, the restored process
//!   takes the time since its parent spawned it, then checks every pixel (a hash) and
//!   prints one line the parent parses; exec-only is the same binary and re-exec, no image.
//!
//! Each measurement runs once as a warm-up and then `--reps` times (3); medians are
//! reported with the targets.
//!
//! ```text
//! cargo run --release --example gfx_bench -- [--mp 16] [--frames 300] [--reps 3] [--dir D] [--cache both|cold|warm]
//! ```
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
use ckpt::gfx::{self, Color, Font, Paint, Surface};

/// Carries the parent's CLOCK_MONOTONIC timestamp (ns) to the child it spawns.
const ENV_T0: &str = "GFX_BENCH_T0_NS";
/// Makes the program exit right after the agent prologue (exec-only overhead).
const PROBE_FLAG: &str = "--gfx-bench-exec-probe";
/// Makes the program a frames-per-second child: its value is the save interval (0: none).
const FPS_FLAG: &str = "--gfx-bench-fps";
/// Prefix of the line a child prints for the parent.
const CHILD_TAG: &str = "GFX_BENCH_CHILD";
const USAGE: &str =
    "usage: gfx_bench [--mp F] [--frames N] [--reps N] [--dir D] [--cache both|cold|warm]";

/// Untimed frames drawn by each frames-per-second child before timing.
const WARMUP_FRAMES: u64 = 10;

/// Command-line options.
struct Opts {
    mp: f64,
    frames: u64,
    reps: u64,
    dir: Option<String>,
    cache: Vec<String>,
    /// In a frames-per-second child: the save interval (0: no saves).
    fps_every: Option<u64>,
}

/// The frames-per-second modes: label, save interval, display.
const FPS_MODES: [(&str, u64, &str); 4] = [
    ("a: display none, no saves", 0, "none"),
    ("b: display none, save every 10 frames", 10, "none"),
    ("c: display none, save every frame", 1, "none"),
    ("d: display png, no saves", 0, "png"),
];

/// The temp directory, its files, the samples gathered so far and the surface's checks.
/// Saved in the image (so the restored process has it); `armed` and the raw pixels are
/// not saved, so the restored process never removes the parent's files and the image
/// holds the pixels once (in the surface).
#[derive(ckpt::State)]
struct Bench {
    dir: String,
    image: String,
    raw: String,
    reps: u64,
    frames: u64,
    cache: Vec<String>,
    width: u32,
    height: u32,
    /// The hash of the surface's pixels, checked by the restored process.
    hash: u64,
    /// The current repetition; 0 is the warm-up, whose samples are printed, not kept.
    rep: u64,
    /// Samples (seconds, or other units named by the key), by series name.
    samples: Vec<(String, Vec<f64>)>,
    #[ckpt(skip)]
    raw_px: Vec<u8>,
    #[ckpt(skip)]
    armed: bool,
}

#[checkpointable]
fn main() {
    let opts = parse_opts();
    if let Some(every) = opts.fps_every {
        fps_child(every, opts.frames);
    } else {
        let mut bench = Bench::create(&opts);
        bench.fps_part();
        let surface = bench.make_surface(opts.mp);
        // Repetition 0 is a warm-up: every timed write then replaces a file of its own kind.
        let mut rep = 0u64;
        while rep <= bench.reps {
            bench.rep = rep;
            bench.plain_write();
            bench.before_save();
            let t0 = now_ns();
            let saved = ckpt::save_to(&bench.image);
            if ckpt::restored() {
                restored_child(&bench, &surface);
            }
            let pause = secs(now_ns() - t0);
            bench.after_save(saved, pause);
            rep += 1;
        }
        bench.finish();
        drop(surface);
    }
}

// ---------------------------------------------------------------------------------------
// Options, clocks

fn parse_opts() -> Opts {
    let mut opts = Opts {
        mp: 16.0,
        frames: 300,
        reps: 3,
        dir: None,
        cache: vec!["cold".into(), "warm".into()],
        fps_every: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            PROBE_FLAG => exec_probe(),
            FPS_FLAG => {
                let v = value();
                opts.fps_every = Some(
                    v.parse()
                        .unwrap_or_else(|_| usage(&format!("{FPS_FLAG} {v}: not a number"))),
                );
            }
            "--mp" => {
                let v = value();
                opts.mp = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--mp {v}: not a number")));
                if !(opts.mp >= 0.01 && opts.mp <= 256.0) {
                    usage("--mp must be in [0.01, 256]");
                }
            }
            "--frames" => {
                let v = value();
                opts.frames = v
                    .parse()
                    .ok()
                    .filter(|&n| (1..=1_000_000).contains(&n))
                    .unwrap_or_else(|| usage("--frames must be in [1, 1000000]"));
            }
            "--dir" => opts.dir = Some(value()),
            "--reps" => {
                let v = value();
                opts.reps = v
                    .parse()
                    .ok()
                    .filter(|&n| (1..=100).contains(&n))
                    .unwrap_or_else(|| usage("--reps must be in [1, 100]"));
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
    eprintln!("gfx_bench: {msg}\n{USAGE}");
    std::process::exit(2)
}

/// A 64-bit FNV-1a-style hash over 8-byte words (fast enough for 64 MB, order-sensitive).
fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().expect("8 bytes"))).wrapping_mul(0x100_0000_01b3);
    }
    for &x in words.remainder() {
        h = (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// A xorshift generator (the noise and the Life board).
fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

// ---------------------------------------------------------------------------------------
// The drawing loop of examples/life.rs

const COLS: usize = 160;
const ROWS: usize = 120;
const CELL: f32 = 4.0;

/// The board: 1 for a live cell; `age` counts the generations since a cell died.
#[derive(ckpt::State)]
struct World {
    cells: Vec<u8>,
    age: Vec<u8>,
    generation: u64,
}

impl World {
    fn random(seed: u64) -> World {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let cells = (0..COLS * ROWS)
            .map(|_| u8::from(xorshift(&mut s) % 100 < 28))
            .collect();
        World {
            cells,
            age: vec![255; COLS * ROWS],
            generation: 0,
        }
    }

    fn neighbours(&self, x: usize, y: usize) -> u8 {
        let mut n = 0;
        for dy in [ROWS - 1, 0, 1] {
            for dx in [COLS - 1, 0, 1] {
                if dx == 0 && dy == 0 {
                    continue;
                }
                n += self.cells[((y + dy) % ROWS) * COLS + (x + dx) % COLS];
            }
        }
        n
    }

    fn step(&mut self) {
        let mut next = vec![0u8; COLS * ROWS];
        for y in 0..ROWS {
            for x in 0..COLS {
                let i = y * COLS + x;
                let n = self.neighbours(x, y);
                next[i] = u8::from(n == 3 || (n == 2 && self.cells[i] == 1));
                if self.cells[i] == 1 && next[i] == 0 {
                    self.age[i] = 0;
                } else {
                    self.age[i] = self.age[i].saturating_add(1);
                }
            }
        }
        self.cells = next;
        self.generation += 1;
    }

    fn alive(&self) -> usize {
        self.cells.iter().filter(|&&c| c == 1).count()
    }
}

/// One frame, as `examples/life.rs` draws it.
fn draw(screen: &mut Surface, world: &World) {
    screen.clear(Color::rgb(14, 16, 24));
    for (i, &age) in world.age.iter().enumerate() {
        if age < 8 && world.cells[i] == 0 {
            let fade = 90 - age * 10;
            screen.set_fill(Color::rgb(fade / 2, fade / 3, fade));
            let (x, y) = (i % COLS, i / COLS);
            screen.fill_rect(x as f32 * CELL, y as f32 * CELL, CELL, CELL);
        }
    }
    screen.set_fill(Color::rgb(120, 220, 140));
    for y in 0..ROWS {
        let row = &world.cells[y * COLS..(y + 1) * COLS];
        let mut x = 0;
        while x < COLS {
            if row[x] == 0 {
                x += 1;
                continue;
            }
            let start = x;
            while x < COLS && row[x] == 1 {
                x += 1;
            }
            screen.fill_rect(
                start as f32 * CELL,
                y as f32 * CELL,
                (x - start) as f32 * CELL - 1.0,
                CELL - 1.0,
            );
        }
    }
    screen.set_fill(Color::rgba(0, 0, 0, 170));
    screen.fill_rect(6.0, 6.0, 250.0, 24.0);
    screen.set_fill(Color::WHITE);
    screen.set_font(Font::Mono, 13.0);
    let hud = format!("gen {:4}  alive {:5}", world.generation, world.alive());
    screen.fill_text(&hud, 12.0, 23.0);
}

fn fail(msg: &str) -> ! {
    eprintln!("gfx_bench: error: {msg}");
    std::process::exit(1)
}

fn present(screen: &Surface) {
    if let Err(e) = gfx::present(screen) {
        fail(&format!("gfx::present: {e}"));
    }
}

fn saved_ok(r: ckpt::Result<()>) {
    if ckpt::restored() {
        fail("a frames-per-second child was restored");
    }
    if let Err(e) = r {
        fail(&format!("ckpt::save: {e}"));
    }
}

/// Prints the frames-per-second child's line and exits (without the end of `main`: the
/// parent measures the image and removes the files).
fn fps_report(
    frames: u64,
    total: u64,
    draw: u64,
    present: u64,
    step: u64,
    mut saves: Vec<u64>,
) -> ! {
    let n = saves.len() as u64;
    let sum: u64 = saves.iter().sum();
    saves.sort_unstable();
    let p50 = saves.get(saves.len() / 2).copied().unwrap_or(0);
    let max = saves.last().copied().unwrap_or(0);
    println!(
        "{CHILD_TAG} kind=fps frames={frames} total_ns={total} draw_ns={draw} present_ns={present} \
         step_ns={step} saves={n} save_ns={sum} save_p50_ns={p50} save_max_ns={max} ok=1"
    );
    std::process::exit(0)
}

/// A frames-per-second child: `frames` timed Life frames, `ckpt::save()` every `every`.
#[checkpointable]
fn fps_child(every: u64, frames: u64) {
    let mut world = World::random(42);
    let mut screen = match Surface::new(COLS as u32 * CELL as u32, ROWS as u32 * CELL as u32) {
        Ok(s) => s,
        Err(e) => fail(&format!("Surface::new: {e}")),
    };
    let mut i = 0u64;
    while i < WARMUP_FRAMES {
        draw(&mut screen, &world);
        present(&screen);
        world.step();
        i += 1;
    }
    let (mut t_draw, mut t_present, mut t_step) = (0u64, 0u64, 0u64);
    let mut saves: Vec<u64> = Vec::new();
    let t0 = now_ns();
    let mut shown = 0u64;
    while shown < frames {
        let a = now_ns();
        draw(&mut screen, &world);
        let b = now_ns();
        present(&screen);
        let c = now_ns();
        world.step();
        let d = now_ns();
        t_draw += b - a;
        t_present += c - b;
        t_step += d - c;
        shown += 1;
        if every > 0 && shown % every == 0 {
            let s0 = now_ns();
            let r = ckpt::save();
            saved_ok(r);
            saves.push(now_ns() - s0);
        }
    }
    let total = now_ns() - t0;
    fps_report(frames, total, t_draw, t_present, t_step, saves);
}

// ---------------------------------------------------------------------------------------
// The child processes of the per-megapixel part

/// Runs in the restored process, right after the save point returned.
fn restored_child(bench: &Bench, surface: &Surface) -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0(ENV_T0, "gfx_bench"));
    let px = surface.to_rgba();
    let ok = surface.width() == bench.width
        && surface.height() == bench.height
        && hash_bytes(&px) == bench.hash;
    println!(
        "{CHILD_TAG} kind=restore elapsed_ns={elapsed} len={} ok={}",
        px.len(),
        ok as u8
    );
    std::process::exit(if ok { 0 } else { 3 })
}

/// The exec-only path: the same binary, the same re-exec of the agent prologue (an
/// `--ckpt-file` option makes it re-exec like `--restore` does), no image to read.
fn exec_probe() -> ! {
    let elapsed = now_ns().saturating_sub(parent_t0(ENV_T0, "gfx_bench"));
    println!("{CHILD_TAG} kind=probe elapsed_ns={elapsed} len=0 ok=1");
    std::process::exit(0)
}

/// A child's line, as key=value pairs.
struct ChildLine(String);

impl ChildLine {
    fn field(&self, k: &str) -> Result<u64, String> {
        self.0
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("the child's line lacks {k}: {:?}", self.0))
    }
}

/// Spawns this program with `args`, the start timestamp taken right before the spawn;
/// returns its line (checked: `kind=KIND`, `ok=1`).
fn spawn_child(args: &[&str], kind: &str) -> Result<ChildLine, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Piped, not inherited: a restored process cuts its standard output and error
        // back to their length at the save when they are the file the saving run wrote
        // to, and this process's are (`> log 2>&1`).
        .stderr(Stdio::piped());
    cmd.env(ENV_T0, now_ns().to_string());
    // A restore shows the program the environment of the run that saved, where the start
    // timestamp is not: this child reads the restoring process's own.
    cmd.env("CKPT_ENV", "current");
    let out = cmd
        .output()
        .map_err(|e| format!("spawning the {kind} child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && !out.stderr.is_empty() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let line = stdout.lines().find(|l| l.starts_with(CHILD_TAG));
    let (Some(line), true) = (line, out.status.success()) else {
        return Err(format!(
            "the {kind} child failed ({}); its stdout: {stdout:?}; its stderr: {:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    };
    let line = ChildLine(line.to_string());
    if line.field("ok")? != 1 || !line.0.contains(&format!("kind={kind} ")) {
        return Err(format!("the {kind} child reported a failure: {:?}", line.0));
    }
    Ok(line)
}

// ---------------------------------------------------------------------------------------
// File helpers (as in bulk_bench)

// ---------------------------------------------------------------------------------------
// The benchmark

impl Bench {
    /// Creates a fresh directory for all files of the run.
    fn create(opts: &Opts) -> Bench {
        let parent = opts.dir.clone().unwrap_or_else(|| ".".into());
        let parent =
            fs::canonicalize(&parent).unwrap_or_else(|e| usage(&format!("--dir {parent}: {e}")));
        let dir = parent.join(format!("gfx_bench.tmp.{}", std::process::id()));
        if let Err(e) = fs::create_dir(&dir) {
            usage(&format!("creating {}: {e}", dir.display()));
        }
        let dir = dir.to_string_lossy().into_owned();
        println!(
            "gfx_bench: dir {dir} ({}), {} repetitions after a warm-up, medians reported; \
             load average at start {}",
            fs_type(&dir),
            opts.reps,
            loadavg()
        );
        Bench {
            image: format!("{dir}/surface.ckpt"),
            raw: format!("{dir}/pixels.raw"),
            dir,
            reps: opts.reps,
            frames: opts.frames,
            cache: opts.cache.clone(),
            width: 0,
            height: 0,
            hash: 0,
            rep: 0,
            samples: Vec::new(),
            raw_px: Vec::new(),
            armed: true,
        }
    }

    /// Reports an error, removes the files and exits.
    fn die(&mut self, msg: &str) -> ! {
        eprintln!("gfx_bench: error: {msg}");
        self.cleanup();
        std::process::exit(1)
    }

    fn cleanup(&mut self) {
        if std::mem::take(&mut self.armed) {
            if let Err(e) = fs::remove_dir_all(&self.dir) {
                eprintln!("gfx_bench: warning: removing {}: {e}", self.dir);
            }
        }
    }

    /// Keeps a sample of series `key` (not during the warm-up).
    fn record(&mut self, key: &str, x: f64) {
        if self.rep == 0 {
            return;
        }
        match self.samples.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(x),
            None => self.samples.push((key.to_string(), vec![x])),
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

    fn range_of(&self, key: &str) -> (f64, f64) {
        let v = self.series(key);
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        (lo, hi)
    }

    fn rep_label(&self) -> String {
        if self.rep == 0 {
            "warm-up".into()
        } else {
            format!("rep {}", self.rep)
        }
    }

    // --- frames per second ---

    /// The frames-per-second runs: every mode once per repetition, interleaved.
    fn fps_part(&mut self) {
        let frames = self.frames.to_string();
        let image = format!("{}/fps.ckpt", self.dir);
        let png_dir = format!("{}/frames", self.dir);
        println!(
            "frames per second: 640×480 Life frames, {WARMUP_FRAMES} untimed then {} timed per run",
            self.frames
        );
        for rep in 0..=self.reps {
            self.rep = rep;
            for (i, (label, every, display)) in FPS_MODES.iter().enumerate() {
                if let Err(e) = remove_if_exists(&image) {
                    self.die(&format!("removing {image}: {e}"));
                }
                let _ = fs::remove_dir_all(&png_dir);
                settle(&self.dir);
                let display = if *display == "png" {
                    format!("png:{png_dir}")
                } else {
                    display.to_string()
                };
                let every = every.to_string();
                let args = [
                    "--ckpt-display",
                    &display,
                    "--ckpt-file",
                    &image,
                    FPS_FLAG,
                    &every,
                    "--frames",
                    &frames,
                ];
                let line = match spawn_child(&args, "fps") {
                    Ok(l) => l,
                    Err(e) => self.die(&e),
                };
                let get = |k: &str| -> Result<f64, String> { line.field(k).map(|v| v as f64) };
                let vals: Result<Vec<f64>, String> = [
                    "frames",
                    "total_ns",
                    "draw_ns",
                    "present_ns",
                    "step_ns",
                    "saves",
                    "save_p50_ns",
                    "save_max_ns",
                ]
                .iter()
                .map(|k| get(k))
                .collect();
                let v = match vals {
                    Ok(v) => v,
                    Err(e) => self.die(&e),
                };
                let [n, total, draw, present, step, saves, p50, max] =
                    v[..].try_into().expect("eight fields");
                let image_len = fs::metadata(&image).map_or(0.0, |m| m.len() as f64);
                let fps = n / (total / 1e9);
                let per = |t: f64| t / n / 1e6;
                println!(
                    "  {} {label}: {fps:7.1} frames/s (per frame: draw {:.3} ms, present {:.3} ms, \
                     step {:.3} ms); {saves} saves, pause p50 {:.2} ms max {:.2} ms; image {image_len} B",
                    self.rep_label(),
                    per(draw),
                    per(present),
                    per(step),
                    p50 / 1e6,
                    max / 1e6,
                );
                let key = format!("fps{i}");
                self.record(&format!("{key}.fps"), fps);
                self.record(&format!("{key}.draw_ms"), per(draw));
                self.record(&format!("{key}.present_ms"), per(present));
                self.record(&format!("{key}.save_p50_ms"), p50 / 1e6);
                self.record(&format!("{key}.save_max_ms"), max / 1e6);
                self.record(&format!("{key}.image"), image_len);
            }
        }
        let _ = remove_if_exists(&image);
        let _ = fs::remove_dir_all(&png_dir);
        self.png_encode_diagnostic();
    }

    /// What the png display's thread does per frame, timed here: `Surface::to_png` of a
    /// Life frame (the same encoder; without the file write and rename).
    fn png_encode_diagnostic(&mut self) {
        let mut world = World::random(42);
        let mut i = 0;
        while i < WARMUP_FRAMES {
            world.step();
            i += 1;
        }
        let mut screen = match Surface::new(COLS as u32 * CELL as u32, ROWS as u32 * CELL as u32) {
            Ok(s) => s,
            Err(e) => self.die(&format!("Surface::new: {e}")),
        };
        draw(&mut screen, &world);
        let mut times = Vec::new();
        let mut len = 0;
        for _ in 0..5 {
            let t0 = now_ns();
            match screen.to_png() {
                Ok(png) => len = png.len(),
                Err(e) => self.die(&format!("Surface::to_png: {e}")),
            }
            times.push(since(t0));
        }
        let t = median(times.into_iter());
        println!(
            "  diagnostic: Surface::to_png of one 640×480 Life frame in this process: {:.2} ms \
             (median of 5), {len} bytes: at most {:.0} frames/s for the png display's thread",
            t * 1e3,
            1.0 / t
        );
        self.rep = 1;
        self.record("png_encode_ms", t * 1e3);
    }

    // --- per megapixel ---

    /// The surface of `mp` megapixels, drawn before any timing; keeps its pixel bytes
    /// (for the plain write) and their hash (for the restored process's check).
    fn make_surface(&mut self, mp: f64) -> Surface {
        let side = ((mp * 1e6).sqrt() / 4.0).round().max(1.0) as u32 * 4;
        let (w, h) = (side, side);
        let mut s = match Surface::new(w, h) {
            Ok(s) => s,
            Err(e) => self.die(&format!("Surface::new({w}, {h}): {e}")),
        };
        let (fw, fh) = (w as f32, h as f32);
        s.set_fill(Paint::linear(
            (0.0, 0.0),
            (fw, fh),
            Color::rgb(10, 40, 160),
            Color::rgb(230, 180, 40),
        ));
        s.fill_rect(0.0, 0.0, fw, fh);
        s.set_fill(Paint::radial(
            (fw * 0.3, fh * 0.6),
            fw * 0.5,
            Color::rgba(255, 255, 255, 160),
            Color::rgba(0, 120, 60, 0),
        ));
        s.fill_rect(0.0, 0.0, fw, fh);
        // Noise: a 251×241 tile of random colours at 35 % opacity, tiled over it.
        let (tw, th) = (251u32, 241u32);
        let mut tile = match Surface::new(tw, th) {
            Ok(t) => t,
            Err(e) => self.die(&format!("Surface::new(tile): {e}")),
        };
        let mut seed = 0x1234_5678_9abc_def1u64;
        for y in 0..th {
            for x in 0..tw {
                let r = xorshift(&mut seed);
                tile.set_fill(Color::rgba(r as u8, (r >> 8) as u8, (r >> 16) as u8, 90));
                tile.fill_rect(x as f32, y as f32, 1.0, 1.0);
            }
        }
        let mut y = 0;
        while y < h {
            let mut x = 0;
            while x < w {
                s.draw_surface(&tile, x as f32, y as f32);
                x += tw;
            }
            y += th;
        }
        drop(tile);
        self.width = w;
        self.height = h;
        self.raw_px = s.to_rgba();
        self.hash = hash_bytes(&self.raw_px);
        let opaque = self.raw_px.chunks_exact(4).all(|p| p[3] == 255);
        println!(
            "\nper megapixel: one surface of {w}×{h} = {:.2} MP, {} pixel bytes (w·h·4){}",
            f64::from(w) * f64::from(h) / 1e6,
            self.raw_px.len(),
            if opaque { ", opaque" } else { "" }
        );
        s
    }

    /// One timed plain write of the pixel bytes into a new file: create, one `write_all`,
    /// `sync_all`, directory fsync.
    fn plain_write(&mut self) {
        if let Err(e) = remove_if_exists(&self.raw) {
            self.die(&format!("removing {}: {e}", self.raw));
        }
        settle(&self.dir);
        let t0 = now_ns();
        let r = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.raw)?;
            f.write_all(&self.raw_px)?;
            f.sync_all()?;
            drop(f);
            fsync_dir(&self.dir)
        })();
        let t = since(t0);
        if let Err(e) = r {
            self.die(&format!("plain write of {}: {e}", self.raw));
        }
        self.record("write", t);
        print!("  {}: plain write+fsync {t:.3} s;", self.rep_label());
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
        println!(" ckpt save {pause:.3} s");
        self.record("save", pause);
    }

    /// One timed plain read of the raw file into a pre-sized vector; checks the bytes
    /// outside the timing.
    fn plain_read(&mut self) -> f64 {
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
            Ok(buf) if buf == self.raw_px => t,
            Ok(_) => self.die(&format!("{}: read back different bytes", self.raw)),
            Err(e) => self.die(&format!("reading {}: {e}", self.raw)),
        }
    }

    /// The agent's image read and validation alone, in this process (no exec).
    fn agent_read(&mut self) -> f64 {
        let t0 = now_ns();
        let r = ckpt::image::read(Path::new(&self.image), &ckpt::image::Limits::default());
        let t = since(t0);
        match r {
            Ok(img) if img.file_len >= self.raw_px.len() as u64 => t,
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
                "gfx_bench: warning: {path} is {:.1} % in the page cache after making it {mode}",
                r * 100.0
            );
        }
    }

    fn child(&mut self, args: &[&str], kind: &str) -> f64 {
        let n = self.raw_px.len() as u64;
        let r = spawn_child(args, kind).and_then(|l| Ok((l.field("elapsed_ns")?, l.field("len")?)));
        match r {
            Ok((t, len)) if kind != "restore" || len == n => secs(t),
            Ok((_, len)) => self.die(&format!("the restored surface has {len} bytes, not {n}")),
            Err(e) => self.die(&e),
        }
    }

    /// The read side for one cache state: a warm-up, then `reps` repetitions.
    fn reads(&mut self, mode: &str) {
        let (raw, image) = (self.raw.clone(), self.image.clone());
        let probe_file = format!("{}/probe.ckpt", self.dir);
        // The restored child saves elsewhere: this process still holds the image's lock.
        let restored_file = format!("{}/restored.ckpt", self.dir);
        for rep in 0..=self.reps {
            self.rep = rep;
            self.cache(&raw, mode);
            let read = self.plain_read();
            self.cache(&image, mode);
            let restore = self.child(
                &[
                    "--restore",
                    &image,
                    "--ckpt-file",
                    &restored_file,
                    "--ckpt-display",
                    "none",
                ],
                "restore",
            );
            let exec = self.child(
                &[
                    "--ckpt-file",
                    &probe_file,
                    "--ckpt-display",
                    "none",
                    PROBE_FLAG,
                ],
                "probe",
            );
            self.cache(&image, mode);
            let agent = self.agent_read();
            println!(
                "  {mode} {}: plain read {read:.3} s; ckpt restore {restore:.3} s (exec-only \
                 {exec:.4}; agent image::read in-process {agent:.3})",
                self.rep_label()
            );
            self.record(&format!("{mode}.read"), read);
            self.record(&format!("{mode}.restore"), restore);
            self.record(&format!("{mode}.exec"), exec);
            self.record(&format!("{mode}.agent_read"), agent);
        }
    }

    /// The read side, the report, the cleanup.
    fn finish(&mut self) {
        let bytes = self.raw_px.len() as f64;
        let mpix = f64::from(self.width) * f64::from(self.height) / 1e6;
        let image_len = match fs::metadata(&self.image) {
            Ok(m) => m.len() as f64,
            Err(e) => self.die(&format!("{}: {e}", self.image)),
        };
        for mode in self.cache.clone() {
            self.reads(&mode);
        }
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };

        println!(
            "\nresults: median of {} (range min..max) after one warm-up; load average now {}",
            self.reps,
            loadavg()
        );
        println!(
            "\nframes per second, 640×480 Life frames, {} per run (saves are durable: fsync \
             of the image and its directory):",
            self.frames
        );
        println!(
            "  {:<40} {:>9} {:>7} {:>9} {:>10} {:>12} {:>9}",
            "mode", "frames/s", "vs a", "draw ms", "present ms", "save p50 ms", "image KB"
        );
        let base = self.median_of("fps0.fps");
        let mut summary = format!(
            "RESULT mp={mpix:.3} frames={} fps_none={base:.1}",
            self.frames
        );
        for (i, (label, every, _)) in FPS_MODES.iter().enumerate() {
            let key = format!("fps{i}");
            let fps = self.median_of(&format!("{key}.fps"));
            let (lo, hi) = self.range_of(&format!("{key}.fps"));
            let save = if *every > 0 {
                format!("{:.2}", self.median_of(&format!("{key}.save_p50_ms")))
            } else {
                "-".into()
            };
            let image = if *every > 0 {
                format!("{:.0}", self.median_of(&format!("{key}.image")) / 1e3)
            } else {
                "-".into()
            };
            println!(
                "  {label:<40} {fps:9.1} {:7.3} {:9.3} {:10.3} {save:>12} {image:>9}   ({lo:.1}..{hi:.1})",
                fps / base,
                self.median_of(&format!("{key}.draw_ms")),
                self.median_of(&format!("{key}.present_ms")),
            );
            if i > 0 {
                summary += &format!(" fps{i}={fps:.1} ratio{i}={:.3}", fps / base);
            }
        }

        println!(
            "\nper megapixel: {}×{} = {mpix:.2} MP, {bytes:.0} pixel bytes; image {image_len:.0} \
             bytes; MB = 10^6 bytes, MB/s = pixel bytes / time",
            self.width, self.height
        );
        let row = |label: &str, key: &str| {
            let t = self.median_of(key);
            let (lo, hi) = self.range_of(key);
            let rate = if key.ends_with("exec") {
                format!("{:>13}", "-")
            } else {
                format!("{:8.1} MB/s", bytes / t / 1e6)
            };
            println!(
                "  {label:<44} {t:7.4} s {rate} {:8.4} s/MP   ({lo:.4}..{hi:.4})",
                t / mpix
            );
        };
        row("plain create+write_all+fsync+dir fsync", "write");
        row("ckpt save (the pause, durable)", "save");
        for mode in self.cache.clone() {
            row(
                &format!("{mode}: plain read (one read_exact)"),
                &format!("{mode}.read"),
            );
            row(
                &format!("{mode}: ckpt restore (exec to save point)"),
                &format!("{mode}.restore"),
            );
            row(&format!("{mode}:   exec-only"), &format!("{mode}.exec"));
            row(
                &format!("{mode}:   agent image::read in-process"),
                &format!("{mode}.agent_read"),
            );
        }
        let size_ratio = image_len / bytes;
        let write = self.median_of("write");
        let save = self.median_of("save");
        println!("targets (issue 12, DESIGN §8):");
        println!(
            "  image size / pixel bytes   {size_ratio:.6}   (<= 1.01: {})",
            verdict(size_ratio <= 1.01)
        );
        println!(
            "  save speed / plain write   {:.3}      (bulk speed, >= 0.8: {})",
            write / save,
            verdict(write / save >= 0.8)
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
                "  {mode}: restore / read    {:.3}      (>= 0.8: {})   [without exec-only: {:.3}]",
                read / restore,
                verdict(read / restore >= 0.8),
                read / (restore - exec),
            );
            summary += &format!(
                " {mode}_restore_read_ratio={:.3} {mode}_restore_noexec_read_ratio={:.3}",
                read / restore,
                read / (restore - exec)
            );
        }
        println!(
            "  frames/s with a save every 10 frames / without: {:.3}; with a save every frame: {:.3}",
            self.median_of("fps1.fps") / base,
            self.median_of("fps2.fps") / base
        );
        println!(
            "  png display: one frame's Surface::to_png {:.2} ms in-process (at most {:.0} frames/s)",
            self.median_of("png_encode_ms"),
            1e3 / self.median_of("png_encode_ms")
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
