//! `ckpt::time::Instant` across SIGKILL + restore: the elapsed time excludes the downtime
//! (default), or includes it with `CKPT_TIME=wall`; the image carries the `time` component.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ckpt_build::{inspect, InspectOptions};
use support::*;

const STEPS: &str = "30"; // about 20 ms each: 0.6 s of work
const DOWNTIME: Duration = Duration::from_millis(1500);

fn elapsed_ms(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix("elapsed_ms="))
        .unwrap_or_else(|| panic!("no elapsed_ms line in:\n{out}"))
        .trim()
        .parse()
        .expect("elapsed_ms is a number")
}

/// Runs the stopwatch, kills it once its first image exists, waits [`DOWNTIME`], restores
/// it with `policy` as `CKPT_TIME` and returns (its final output, total real time).
fn killed_and_restored(tag: &str, policy: Option<&str>) -> (String, Duration) {
    let d = TempDir::new(tag);
    let bin = example("stopwatch");
    let image = d.path().join("stopwatch.ckpt");
    let t0 = Instant::now();
    kill_once_saved(
        Command::new(&bin)
            .args(["--steps", STEPS])
            .current_dir(d.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        &image,
        Duration::from_secs(30),
    );
    std::thread::sleep(DOWNTIME);

    // The image carries the time component.
    let text = inspect(&image, &InspectOptions::default()).expect("inspect");
    assert!(
        text.contains("time = virtual monotonic clock at"),
        "no time component in:\n{text}"
    );

    let mut cmd = Command::new(&bin);
    cmd.arg("--restore")
        .arg("stopwatch.ckpt")
        .current_dir(d.path())
        .stdin(Stdio::null())
        .env_remove("CKPT_TIME");
    match policy {
        Some(opt) if opt.starts_with("--") => {
            cmd.arg(opt);
        }
        Some(p) => {
            cmd.env("CKPT_TIME", p);
        }
        None => {}
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let o = Running::spawn(&mut cmd).finish(Duration::from_secs(60));
    let total = t0.elapsed();
    assert!(o.status.success(), "restore failed: {}", stderr(&o));
    let s = stdout(&o);
    assert_eq!(result_line(&s), format!("result: steps={STEPS}"), "{s}");
    (s, total)
}

#[test]
fn elapsed_time_excludes_the_downtime() {
    let (out, total) = killed_and_restored("time-mono", None);
    let ms = elapsed_ms(&out);
    // 30 steps of >= 20 ms sleep each ran (some of them twice, but the clock was set
    // back to the save): at least the work, never negative.
    assert!(
        ms >= 30 * 20,
        "elapsed {ms} ms is less than the work done\n{out}"
    );
    let bound = total.saturating_sub(Duration::from_secs(1)).as_millis() as u64;
    assert!(
        ms < bound,
        "elapsed {ms} ms includes the downtime (total real time {total:?})\n{out}"
    );
}

#[test]
fn wall_policy_includes_the_downtime() {
    let (out, total) = killed_and_restored("time-wall", Some("wall"));
    let ms = elapsed_ms(&out);
    assert!(
        ms >= DOWNTIME.as_millis() as u64,
        "elapsed {ms} ms excludes the downtime with CKPT_TIME=wall\n{out}"
    );
    assert!(ms <= total.as_millis() as u64 + 100, "{ms} ms > {total:?}");
}

#[test]
fn wall_policy_as_a_command_line_option() {
    let (out, total) = killed_and_restored("time-wall-opt", Some("--ckpt-time=wall"));
    let ms = elapsed_ms(&out);
    assert!(
        ms >= 1500,
        "elapsed {ms} ms excludes the downtime with --ckpt-time=wall\n{out}"
    );
    assert!(
        ms as u128 <= total.as_millis() + 100,
        "elapsed {ms} ms > real {total:?}"
    );
}

#[test]
fn a_bad_policy_is_a_usage_error() {
    let d = TempDir::new("time-bad");
    let bin = example("stopwatch");
    let out = run(&bin, &["--steps", "2"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let o = Command::new(&bin)
        .args(["--restore", "stopwatch.ckpt"])
        .current_dir(d.path())
        .env("CKPT_TIME", "sideways")
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("CKPT_TIME"), "{}", stderr(&o));
}
