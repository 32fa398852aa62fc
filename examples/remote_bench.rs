//! Images on object storage: upload and download rates of ckpt's remote images against
//! the same object store client moving the same bytes (issue 13, BENCHMARKS.md).
//!
//! Starts moto's S3 server on loopback (`python3 -m moto.server`, installed by
//! `scripts/install-deps.sh`), then per repetition:
//! - a child program holding `--mib` MiB of numbers saves with `--ckpt-file s3://…`
//!   (`CKPT_SYNC=1`: durable, so uploaded, when `save()` returns) and, for comparison, to a
//!   local incremental image: the upload's share is the difference. Then it changes
//!   `--changed` % of its chunks and saves both ways again (the incremental upload);
//! - the baseline: the same client (`object_store`, the same part size and parallelism)
//!   uploading a file of the same size in one multipart upload, and downloading it with
//!   one GET;
//! - ckpt's download: `--restore`'s fetch of the image and its packs into an empty cache.
//!
//! ```text
//! cargo run --release --example remote_bench -- [--mib 256] [--reps 3] [--changed 1]
//! ```
#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;
#[path = "../tests/support/s3.rs"]
#[allow(dead_code)]
mod s3;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::ObjectStoreExt;

const USAGE: &str = "usage: remote_bench [--mib N] [--reps N] [--changed PERCENT]";
const BUCKET: &str = "bench";
/// As ckpt's uploads: 8 MiB parts, 8 at a time.
const PART: usize = 8 << 20;
const PARTS_AT_ONCE: usize = 8;

struct Opts {
    mib: usize,
    reps: usize,
    changed: f64,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        mib: 256,
        reps: 3,
        changed: 1.0,
    };
    parse_pairs(args, USAGE, |name, v| {
        match name {
            "--mib" => o.mib = v.parse().unwrap_or(0),
            "--reps" => o.reps = v.parse().unwrap_or(0),
            "--changed" => o.changed = v.parse().unwrap_or(-1.0),
            _ => return false,
        }
        true
    });
    if o.mib == 0 || o.reps == 0 || !(0.0..=100.0).contains(&o.changed) {
        eprintln!("{USAGE}");
        std::process::exit(2)
    }
    o
}

/// The child: saves to its image (on the store) and to a local image, twice.
#[ckpt::checkpointable]
fn child(mib: usize, changed: f64) {
    let per_chunk = (1 << 20) / 8;
    let mut data: Vec<u64> = (0..(mib << 20) as u64 / 8)
        .map(|i| (i ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    let t = Instant::now();
    ckpt::save().expect("save to the store");
    let full_remote = t.elapsed().as_secs_f64();
    let t = Instant::now();
    ckpt::save_to("local.ckpt").expect("local save");
    let full_local = t.elapsed().as_secs_f64();
    let chunks = mib;
    let n = ((chunks as f64 * changed / 100.0).round() as usize).max(1);
    for c in 0..n {
        let at = (c * chunks / n) * per_chunk;
        data[at] = data[at].wrapping_add(1);
    }
    let t = Instant::now();
    ckpt::save().expect("save to the store");
    let inc_remote = t.elapsed().as_secs_f64();
    let t = Instant::now();
    ckpt::save_to("local.ckpt").expect("local save");
    let inc_local = t.elapsed().as_secs_f64();
    // The state is used after the saves (so they hold it).
    let sum = data.iter().fold(0u64, |a, x| a.wrapping_add(*x));
    println!("RESULT {full_remote} {full_local} {inc_remote} {inc_local} {n} {sum}");
}

/// The largest file under `dir` (the first save's pack).
fn largest(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("the chunk store")
        .flatten()
        .max_by_key(|e| e.metadata().map_or(0, |m| m.len()))
        .expect("a pack")
        .path()
}

/// The baseline: `file` uploaded with one multipart upload (as ckpt's parts), then
/// downloaded with one GET; seconds for each.
fn baseline(rt: &tokio::runtime::Runtime, file: &Path, key: &str) -> (f64, f64) {
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_url(format!("s3://{BUCKET}"))
        .build()
        .expect("the S3 client");
    let key = object_store::path::Path::from(key);
    rt.block_on(async {
        let t = Instant::now();
        let data = std::fs::read(file).expect("read the pack");
        let up = store.put_multipart(&key).await.expect("multipart");
        let mut w = object_store::WriteMultipart::new_with_chunk_size(up, PART);
        for part in data.chunks(PART) {
            w.wait_for_capacity(PARTS_AT_ONCE).await.expect("upload");
            w.write(part);
        }
        w.finish().await.expect("upload");
        let up = t.elapsed().as_secs_f64();
        // Into a file, synced: what a restore needs.
        let t = Instant::now();
        let got = store.get(&key).await.expect("get");
        let mut n = 0usize;
        let mut s = got.into_stream();
        let mut f = std::fs::File::create(file.with_extension("download")).expect("file");
        while let Some(b) = s.try_next().await.expect("download") {
            n += b.len();
            f.write_all(&b).expect("write");
        }
        f.sync_all().expect("sync");
        assert_eq!(n, data.len());
        (up, t.elapsed().as_secs_f64())
    })
}

#[ckpt::checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        let o = parse_opts(&args[1..]);
        child(o.mib, o.changed);
        return;
    }
    parent(parse_opts(&args));
}

fn parent(o: Opts) {
    let work = std::env::temp_dir().join(format!("ckpt-remote-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let server = s3::Server::start(BUCKET);
    for (k, v) in s3::client_env(server.port) {
        std::env::set_var(k, v);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let exe = std::env::current_exe().expect("exe");
    println!(
        "remote_bench: {} MiB, {} reps, {}% of chunks changed; S3 server: moto on loopback; {}",
        o.mib,
        o.reps,
        o.changed,
        loadavg()
    );
    let mib = o.mib as f64;
    let mut rows = Vec::new();
    for rep in 0..o.reps {
        let dir = work.join(format!("rep{rep}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("s3://{BUCKET}/r{rep}/app.ckpt");
        let cache = dir.join("cache");
        let out = Command::new(&exe)
            .args(["child", "--mib", &o.mib.to_string(), "--changed"])
            .arg(o.changed.to_string())
            .args(["--ckpt-file", &url])
            .current_dir(&dir)
            .env("CKPT_SYNC", "1")
            .env("CKPT_INCREMENTAL", "1")
            .env("CKPT_COMPRESS", "off")
            .env("CKPT_CACHE_DIR", &cache)
            .stderr(Stdio::inherit())
            .output()
            .expect("the child");
        assert!(out.status.success(), "the child failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let r: Vec<f64> = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .expect("the child's result")
            .split(' ')
            .map(|v| v.parse().expect("a number"))
            .collect();
        let (full_up, inc_up) = (r[0] - r[1], r[2] - r[3]);
        let pack = largest(&cache.join(format!("s3/{BUCKET}/r{rep}/app.ckpt.chunks")));
        let (base_up, base_down) = baseline(&rt, &pack, &format!("base/r{rep}"));
        // ckpt's download: into an empty cache, as on another machine.
        std::env::set_var("CKPT_CACHE_DIR", dir.join("cache2"));
        let t = Instant::now();
        ckpt::image::remote::fetch(Path::new(&url)).expect("fetch");
        let down = t.elapsed().as_secs_f64();
        println!(
            "rep {rep}: upload ckpt {full_up:.3} s ({:.0} MiB/s) vs client {base_up:.3} s ({:.0} MiB/s): {:.2}x; \
             download ckpt {down:.3} s ({:.0} MiB/s) vs client {base_down:.3} s ({:.0} MiB/s): {:.2}x; \
             re-save with {} chunks changed: upload {inc_up:.3} s = {:.1}% of the full upload",
            mib / full_up,
            mib / base_up,
            full_up / base_up,
            mib / down,
            mib / base_down,
            down / base_down,
            r[4],
            100.0 * inc_up / full_up
        );
        rows.push((full_up / base_up, down / base_down, inc_up / full_up));
    }
    println!(
        "median: upload {:.2}x the client's time, download {:.2}x, incremental upload {:.1}% of a full one",
        median(rows.iter().map(|r| r.0)),
        median(rows.iter().map(|r| r.1)),
        100.0 * median(rows.iter().map(|r| r.2))
    );
    let _ = std::fs::remove_dir_all(&work);
}
