//! Incremental images and chunk compression (issue 13, BENCHMARKS.md).
//!
//! A program holds `--mib` MiB (512) of doubles. In one process it measures, with every
//! save durable when it returns (`--ckpt-sync`, so the times are the writes themselves):
//! - a **full save** to a plain image (the baseline) and to an incremental one
//!   (`--ckpt-incremental`: every chunk new);
//! - **re-saves** of the incremental image after changing 0.1 %, 1 %, 10 % and 100 % of
//!   its 1 MiB chunks (evenly spread), each as time and bytes written to the chunk store,
//!   against the full save;
//! - **compression**: a full incremental save of compressible data (a smooth series) and of
//!   incompressible data, with LZ4 on and off: stored size and rate;
//! - **restore**: the time from spawning `--restore` to the first instruction after the
//!   save point, and to the end of a pass that touches every page, for a plain image, an
//!   incremental one, and an incremental one with `--ckpt-lazy` (the image's pages are in
//!   the page cache: it was just written).
//!
//! Each configuration is a child process (settings are per process), run `--reps` times
//! (3), medians reported.
//!
//! ```text
//! cargo run --release --example inc_bench -- [--mib 512] [--reps 3] [--dir D]
//! ```
#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;

use std::process::{Command, Stdio};

const TAG: &str = "INC_BENCH";

/// A configuration: its label, its environment, the child's kind.
type Config<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
const FRACTIONS: [f64; 4] = [0.001, 0.01, 0.1, 1.0];

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child") => child(&args[1..]),
        _ => parent(&args),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("inc_bench: {msg}");
    std::process::exit(1)
}

/// Pseudo-random doubles (nothing for LZ4 to take out) or a smooth series (much).
fn fill(n: usize, smooth: bool) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            if smooth {
                (i / 64) as f64
            } else {
                f64::from_bits((i ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 2)
            }
        })
        .collect()
}

/// The packs in `dir` with their sizes.
fn packs(dir: &str) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    (n, e.metadata().map_or(0, |m| m.len()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Bytes of the packs in `dir` that are not in `before` (what a save wrote).
fn new_bytes(dir: &str, before: &[(String, u64)]) -> u64 {
    packs(dir)
        .into_iter()
        .filter(|(n, _)| !before.iter().any(|(b, _)| b == n))
        .map(|(_, len)| len)
        .sum()
}

/// `--child KIND MIB DIR`: KIND `full` (the plain baseline and the re-saves) or
/// `compress-smooth` / `compress-random` (one full incremental save).
#[ckpt::checkpointable]
fn child(args: &[String]) {
    let kind = args[0].clone();
    let mib: usize = args[1].parse().unwrap_or(1);
    let dir = args[2].clone();
    let smooth = kind == "compress-smooth";
    let mut data = fill(mib << 17, smooth);
    let image = format!("{dir}/inc.ckpt");
    if kind == "restore-src" {
        // The image the restore children continue from.
        let saved = ckpt::save_to(&image);
        if ckpt::restored() {
            restored(&data);
        }
        if let Err(e) = saved {
            fail(&format!("save: {e}"));
        }
        return;
    }
    let store = format!("{dir}/inc.ckpt.chunks");
    let t0 = now_ns();
    if let Err(e) = ckpt::save_to(&image) {
        fail(&format!("save: {e}"));
    }
    let first = since(t0);
    println!(
        "{TAG} kind={kind} step=first secs={first:.6} stored={}",
        new_bytes(&store, &[])
    );
    if kind != "full" {
        return;
    }
    let chunks = data.len() / (1 << 17);
    for f in FRACTIONS {
        let n = ((chunks as f64 * f).round() as usize).max(1);
        let stride = chunks / n;
        for k in 0..n {
            let at = k * stride * (1 << 17);
            data[at] += 1.0;
        }
        let before = packs(&store);
        let t0 = now_ns();
        if let Err(e) = ckpt::save_to(&image) {
            fail(&format!("save: {e}"));
        }
        let secs = since(t0);
        let grew = new_bytes(&store, &before);
        println!("{TAG} kind={kind} step={f} secs={secs:.6} stored={grew} chunks={n}");
    }
}

/// In a restored child: the time since the parent spawned it, then after touching
/// every page.
fn restored(data: &[f64]) -> ! {
    let t0 = parent_t0(ENV_T0, "inc_bench");
    let first = now_ns().saturating_sub(t0);
    let sum: f64 = data.iter().step_by(512).sum();
    let all = now_ns().saturating_sub(t0);
    println!(
        "{TAG} kind=restore first={} all={} check={}",
        secs(first),
        secs(all),
        sum.is_finite() as u8
    );
    std::process::exit(0)
}

const ENV_T0: &str = "INC_BENCH_T0_NS";

/// Restores `image` (`lazy`: with `--ckpt-lazy`); returns (first instruction, all pages).
fn run_restore(image: &str, lazy: bool) -> (f64, f64) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--restore", image]);
    if lazy {
        cmd.arg("--ckpt-lazy");
    }
    cmd.env("CKPT_ENV", "current")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env(ENV_T0, now_ns().to_string());
    let out = cmd.output().expect("spawn");
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find(|l| l.starts_with(TAG)) else {
        fail(&format!(
            "the restore of {image} printed nothing: {}",
            out.status
        ));
    };
    (field(line, "first"), field(line, "all"))
}

fn run_child(kind: &str, mib: usize, dir: &str, env: &[(&str, &str)]) -> Vec<String> {
    let _ = std::fs::remove_dir_all(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        fail(&format!("{dir}: {e}"));
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--child", kind, &mib.to_string(), dir])
        .arg(format!("--ckpt-file={dir}/main.ckpt"))
        .env("CKPT_SYNC", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("spawn");
    if !out.status.success() {
        fail(&format!("the {kind} child failed: {}", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(TAG))
        .map(str::to_string)
        .collect()
}

fn field(line: &str, k: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn parent(args: &[String]) {
    let (mut mib, mut reps, mut base) = (512usize, 3usize, ".".to_string());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--mib" => mib = v.parse().unwrap_or(0),
            "--reps" => reps = v.parse().unwrap_or(0),
            "--dir" => base = v,
            _ => fail("usage: inc_bench [--mib N] [--reps N] [--dir D]"),
        }
    }
    if mib == 0 || reps == 0 {
        fail("usage: inc_bench [--mib N] [--reps N] [--dir D]");
    }
    let dir = format!("{base}/inc_bench.{}", std::process::id());
    println!(
        "inc_bench: {mib} MiB of f64, {reps} repetitions, in {base} ({}), load {}",
        fs_type(&base),
        loadavg()
    );
    let bytes = (mib << 20) as f64;
    // (label, env, kind)
    let configs: [Config; 6] = [
        ("plain image", &[], "full"),
        ("incremental", &[("CKPT_INCREMENTAL", "1")], "full"),
        (
            "smooth, lz4",
            &[("CKPT_INCREMENTAL", "1")],
            "compress-smooth",
        ),
        (
            "smooth, no codec",
            &[("CKPT_INCREMENTAL", "1"), ("CKPT_COMPRESS", "off")],
            "compress-smooth",
        ),
        (
            "random, lz4",
            &[("CKPT_INCREMENTAL", "1")],
            "compress-random",
        ),
        (
            "random, no codec",
            &[("CKPT_INCREMENTAL", "1"), ("CKPT_COMPRESS", "off")],
            "compress-random",
        ),
    ];
    let mut results: Vec<Vec<Vec<String>>> = vec![Vec::new(); configs.len()];
    for round in 0..reps {
        for (i, (label, env, kind)) in configs.iter().enumerate() {
            let lines = run_child(kind, mib, &dir, env);
            println!("  round {round} {label}: {}", lines.join(" | "));
            results[i].push(lines);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let med = |i: usize, step: &str, k: &str| {
        median(results[i].iter().filter_map(|ls| {
            ls.iter()
                .find(|l| l.contains(&format!("step={step} ")))
                .map(|l| field(l, k))
        }))
    };
    let plain = med(0, "first", "secs");
    let full_inc = med(1, "first", "secs");
    let mut summary =
        format!("RESULT mib={mib} plain_s={plain:.4} incremental_full_s={full_inc:.4}");
    println!("\nresults (median of {reps}), {mib} MiB, every save durable on return:");
    println!(
        "  full save, plain image        {plain:.3} s  {:7.0} MB/s",
        bytes / plain / 1e6
    );
    println!(
        "  full save, incremental        {full_inc:.3} s  {:7.0} MB/s  ({:.2}x the plain save)",
        bytes / full_inc / 1e6,
        full_inc / plain
    );
    println!("  re-save after changing        time       vs full save   bytes stored   vs full");
    for f in FRACTIONS {
        let step = f.to_string();
        let (t, b) = (med(1, &step, "secs"), med(1, &step, "stored"));
        println!(
            "    {:>6.1} % of chunks        {t:.4} s   {:>8.2} %   {:>12.0}   {:>6.2} %",
            f * 100.0,
            100.0 * t / plain,
            b,
            100.0 * b / bytes
        );
        summary += &format!(" resave_{step}_s={t:.4} resave_{step}_bytes={b:.0}");
    }
    println!("  compression (full incremental save)   time      stored / raw   rate");
    for (i, (label, _, _)) in configs.iter().enumerate().skip(2) {
        let (t, b) = (med(i, "first", "secs"), med(i, "first", "stored"));
        println!(
            "    {label:<20}              {t:.3} s   {:>10.3}   {:7.0} MB/s",
            b / bytes,
            bytes / t / 1e6
        );
        summary += &format!(
            " {}_s={t:.4} {}_ratio={:.4}",
            label.replace([',', ' '], "_"),
            label.replace([',', ' '], "_"),
            b / bytes
        );
    }
    // Restores: a plain image and an incremental one, eager and lazy.
    let mut rows: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("plain image", vec![]),
        ("incremental", vec![]),
        ("incremental, --ckpt-lazy", vec![]),
    ];
    for round in 0..reps {
        let plain_dir = format!("{dir}/plain");
        let inc_dir = format!("{dir}/inc");
        run_child("restore-src", mib, &plain_dir, &[]);
        run_child("restore-src", mib, &inc_dir, &[("CKPT_INCREMENTAL", "1")]);
        let sources = [
            format!("{plain_dir}/inc.ckpt"),
            format!("{inc_dir}/inc.ckpt"),
            format!("{inc_dir}/inc.ckpt"),
        ];
        for (i, image) in sources.iter().enumerate() {
            let r = run_restore(image, i == 2);
            println!(
                "  round {round} restore {}: first instruction {:.4} s, every page {:.4} s",
                rows[i].0, r.0, r.1
            );
            rows[i].1.push(r);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("  restore (exec to the save point, then a pass touching every page):");
    for (label, v) in &rows {
        let first = median(v.iter().map(|r| r.0));
        let all = median(v.iter().map(|r| r.1));
        println!("    {label:<26} first instruction {first:.4} s   every page touched {all:.4} s");
        summary += &format!(
            " restore_{}_first_s={first:.4} restore_{}_all_s={all:.4}",
            label.replace([',', ' ', '-'], "_"),
            label.replace([',', ' ', '-'], "_")
        );
    }
    println!("{summary}");
}
