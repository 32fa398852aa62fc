//! Checkpoints that do not stop the program: the pause of a background save and the
//! program's slowdown while the image is written (issue 13, BENCHMARKS.md).
//!
//! A program holds `--mib` MiB of doubles (512). For each way of writing an image it
//! runs as a child process of its own and measures, after one warm-up:
//! - the pause: how long `ckpt::save_to` stops the program;
//! - until durable: from the save to the end of `ckpt::wait_durable` called right after
//!   it (a separate save, the program idle meanwhile);
//! - a pass over the whole array (every element read and written, so every page is
//!   written once: the worst case for copy-on-write) right after the save, while the
//!   image is written, against the same pass with no save running (the baseline, timed
//!   in the same process).
//!
//! The ways: `fork` (the default: a forked copy writes), `thread` (the fallback: the
//! arrays are copied in the pause and a thread writes) and `sync` (`--ckpt-sync`: the
//! save is durable when it returns; the baseline the others are compared with).
//!
//! ```text
//! cargo run --release --example bg_bench -- [--mib 512] [--reps 3] [--dir D]
//! ```
#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;

use std::process::{Command, Stdio};

const CHILD_TAG: &str = "BG_BENCH_CHILD";
const USAGE: &str = "usage: bg_bench [--mib N] [--reps N] [--dir D]";

struct Opts {
    mib: usize,
    reps: usize,
    dir: String,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        mib: 512,
        reps: 3,
        dir: ".".into(),
    };
    parse_pairs(args, USAGE, |name, v| {
        match name {
            "--mib" => o.mib = v.parse().unwrap_or(0),
            "--reps" => o.reps = v.parse().unwrap_or(0),
            "--dir" => o.dir = v,
            _ => return false,
        }
        true
    });
    if o.mib == 0 || o.reps == 0 {
        eprintln!("{USAGE}");
        std::process::exit(2)
    }
    o
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
        return;
    }
    parent(parse_opts(&args));
}

/// One pass over the array: every element read and written.
fn pass(data: &mut [f64]) -> f64 {
    let t0 = now_ns();
    for x in data.iter_mut() {
        *x = *x * 0.999_999 + 1.0;
    }
    since(t0)
}

fn fail(msg: &str) -> ! {
    eprintln!("bg_bench: {msg}");
    std::process::exit(1)
}

/// A child: `--child MODE MIB REPS IMAGE`. Prints one line per repetition.
#[ckpt::checkpointable]
fn child(args: &[String]) {
    let mode = args[0].clone();
    let mib: usize = args[1].parse().unwrap_or(1);
    let reps: usize = args[2].parse().unwrap_or(1);
    let image = args[3].clone();
    let mut data: Vec<f64> = (0..mib << 17).map(|i| i as f64).collect();
    pass(&mut data);
    for rep in 0..=reps {
        let base = pass(&mut data);
        // A save the program waits for at once: the time to a durable image.
        let t0 = now_ns();
        if let Err(e) = ckpt::save_to(&image).and_then(|()| ckpt::wait_durable()) {
            fail(&format!("save: {e}"));
        }
        let durable = since(t0);
        // A save the program runs on after: its pause, and the pass while it is written.
        let t0 = now_ns();
        if let Err(e) = ckpt::save_to(&image) {
            fail(&format!("save: {e}"));
        }
        let pause = since(t0);
        let during = pass(&mut data);
        if let Err(e) = ckpt::wait_durable() {
            fail(&format!("save: {e}"));
        }
        println!(
            "{CHILD_TAG} mode={mode} rep={rep} pause={pause:.6} durable={durable:.6} \
             base={base:.6} during={during:.6}"
        );
    }
}

fn parent(o: Opts) {
    let dir = format!("{}/bg_bench.{}", o.dir, std::process::id());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("bg_bench: {dir}: {e}");
        std::process::exit(1);
    }
    let exe = std::env::current_exe().expect("current_exe");
    println!(
        "bg_bench: {} MiB of f64, {} repetitions after a warm-up, in {dir} ({}), load {}",
        o.mib,
        o.reps,
        fs_type(&dir),
        loadavg()
    );
    let modes = ["sync", "fork", "thread"];
    // series[mode] = (pause, durable, base, during) samples.
    let mut series: Vec<(&str, Vec<[f64; 4]>)> = modes.iter().map(|m| (*m, vec![])).collect();
    // Interleaved: one child per mode per round, so drift hits every mode alike.
    for round in 0..o.reps {
        for (mode, samples) in series.iter_mut() {
            let image = format!("{dir}/{mode}.ckpt");
            let mut cmd = Command::new(&exe);
            cmd.args(["--child", mode, &o.mib.to_string(), "1", &image])
                .arg(format!("--ckpt-file={dir}/{mode}.main.ckpt"))
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            match *mode {
                "sync" => cmd.env("CKPT_SYNC", "1"),
                "thread" => cmd.env("CKPT_BACKGROUND", "thread"),
                _ => cmd.env_remove("CKPT_BACKGROUND"),
            };
            let out = cmd.output().expect("spawn child");
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                eprintln!("bg_bench: the {mode} child failed: {}", out.status);
                let _ = std::fs::remove_dir_all(&dir);
                std::process::exit(1);
            }
            // The last line (rep 1): rep 0 is the child's warm-up.
            let Some(line) = text.lines().rfind(|l| l.starts_with(CHILD_TAG)) else {
                eprintln!("bg_bench: the {mode} child printed no result");
                std::process::exit(1);
            };
            let f = |k: &str| -> f64 {
                line.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            };
            let s = [f("pause"), f("durable"), f("base"), f("during")];
            println!(
                "  round {round} {mode:<6}: pause {:8.2} ms, durable {:.3} s, pass {:.3} s alone, {:.3} s during the write",
                s[0] * 1e3,
                s[1],
                s[2],
                s[3]
            );
            samples.push(s);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let med = |v: &[[f64; 4]], i: usize| median(v.iter().map(|s| s[i]));
    let sync = &series[0].1;
    let sync_durable = med(sync, 1);
    println!("\nresults (median of {} rounds), {} MiB:", o.reps, o.mib);
    println!(
        "  {:<8} {:>10} {:>12} {:>14} {:>22}",
        "mode", "pause", "durable", "pause vs sync", "pass during / alone"
    );
    let mut summary = format!("RESULT mib={}", o.mib);
    for (mode, v) in &series {
        let (pause, durable) = (med(v, 0), med(v, 1));
        let slow = med(v, 3) / med(v, 2);
        println!(
            "  {mode:<8} {:>8.2} ms {:>10.3} s {:>13.3}x {:>21.2}x",
            pause * 1e3,
            durable,
            pause / sync_durable,
            slow
        );
        summary += &format!(
            " {mode}_pause_ms={:.2} {mode}_durable_s={durable:.4} {mode}_slowdown={slow:.3}",
            pause * 1e3
        );
    }
    println!("{summary}");
}
