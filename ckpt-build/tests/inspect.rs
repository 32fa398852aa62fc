//! `inspect` and `verify` on images written here with `ckpt::image::write`.

mod common;

use std::fs;
use std::path::Path;
use std::rc::Rc;

use ckpt::image::{Fingerprint, Header, FORMAT_VERSION};
use ckpt::state::{Encoder, Limits};
use ckpt::Error;
use ckpt_build::{diff, inspect, verify, verify_build, InspectOptions};
use common::TempDir;

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint {
            crate_name: "walker".into(),
            crate_version: "0.2.0".into(),
            sources: "0123456789abcdef".into(),
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            target: "x86_64-unknown-linux-gnu".into(),
        },
        created_unix: 1_700_000_000,
        program: "walker".into(),
        args: vec!["walker".into(), "--steps".into(), "100".into()],
        ckpt_file: Some("run.ckpt".into()),
        options: vec![("every".into(), "10s".into())],
    }
}

/// A frame map as the image format defines it; `live` is written by `live`.
fn frame(
    e: &mut Encoder<'_>,
    function: &str,
    at: u64,
    args: &[(&str, u64)],
    live: impl FnOnce(&mut Encoder<'_>) -> Result<(), Error>,
    lent: &[(&str, &str)],
) -> Result<(), Error> {
    // The outermost frame of these images records where its save point is; the others
    // are as images written before ckpt recorded it.
    let site = (function == "walker::main").then_some("src/main.rs:12");
    e.map(if site.is_some() { 7 } else { 6 });
    e.text("fn");
    e.text(function);
    e.text("hash");
    e.uint(0xfeed);
    e.text("at");
    e.uint(at);
    if let Some(site) = site {
        e.text("site");
        e.text(site);
    }
    e.text("live");
    live(e)?;
    e.text("args");
    e.map(args.len() as u64);
    for (name, v) in args {
        e.text(name);
        e.uint(*v);
    }
    e.text("lent");
    e.map(lent.len() as u64);
    for (a, b) in lent {
        e.text(a);
        e.text(b);
    }
    Ok(())
}

/// An image with two frames, a typed array, a nested struct, a long string and an `Rc`
/// seen twice, plus two components.
fn write_image(path: &Path) {
    let grid: Vec<f64> = (0..1_000_000)
        .map(|i| 1.0 / f64::from(1 << (i % 4)))
        .collect();
    let shared = Rc::new(String::from("shared text"));
    let long = "abcdefghij".repeat(20);
    ckpt::image::write(
        path,
        &header(),
        &mut |e| {
            e.array(2);
            frame(
                e,
                "walker::main",
                3,
                &[],
                |e| {
                    e.map(4);
                    e.text("grid");
                    e.put(&grid)?;
                    e.text("walker");
                    // A struct as derive(State) writes it: a map of named fields.
                    e.map(2);
                    e.text("pos");
                    e.put(&(0.5f64, -1.25f64))?;
                    e.text("inner");
                    e.map(1);
                    e.text("seen");
                    e.put(&(0..20u64).collect::<Vec<_>>())?;
                    e.text("name");
                    e.put(&long)?;
                    e.text("first");
                    e.put(&shared)
                },
                &[("walker", "w")],
            )?;
            frame(
                e,
                "walker::step",
                1,
                &[("n", 42)],
                |e| {
                    e.map(2);
                    e.text("again");
                    e.put(&shared)?;
                    e.text("label");
                    e.put(&String::from("hi"))
                },
                &[],
            )
        },
        &mut |e| {
            e.map(2);
            e.text("rand");
            e.map(1);
            e.text("seed");
            e.uint(7);
            e.text("fs");
            e.put(&vec![String::from("/tmp/a"), String::from("/tmp/b")])
        },
    )
    .expect("write image");
}

#[test]
fn human_report_names_everything_and_abbreviates() {
    let dir = TempDir::new("inspect");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let out = inspect(&path, &InspectOptions::default()).expect("inspect");
    let size = fs::metadata(&path).expect("stat").len();
    for needle in [
        &format!("file:       {}", path.display()),
        &format!("size:       {size} bytes"),
        "format:     1\n",
        "program:    walker\n",
        "created:    2023-11-14 22:13:20 UTC (1700000000)\n",
        "args:       [\"walker\", \"--steps\", \"100\"]\n",
        "ckpt file:  run.ckpt\n",
        "options:    every=10s\n",
        "  crate:    walker 0.2.0\n",
        "  sources:  0123456789abcdef\n",
        "  rustc:    rustc 1.95.0 (59807616e 2026-04-14)\n",
        "  target:   x86_64-unknown-linux-gnu\nexecutable: ",
        "frames (2, outermost first):\n  #0 walker::main  at src/main.rs:12 (save point 3)  (body 000000000000feed)\n",
        "       grid = [f64; 1000000] [1.0, 0.5, 0.25, 0.125, 1.0, 0.5, 0.25, 0.125, …]\n",
        "       walker = { pos: [0.5, -1.25], inner: { seen: [u64; 20] [0, 1, 2, 3, 4, 5, 6, 7, …] } }\n",
        "       first = @0 \"shared text\"\n",
        "     lent:\n       walker -> w\n",
        "  #1 walker::step  at save point 1",
        "     args:\n       n = 42\n",
        "       again = &0\n",
        "       label = \"hi\"\n",
        "components (2):\n  rand = { seed: 7 }\n  fs = [\"/tmp/a\", \"/tmp/b\"]\n",
        "shared objects: 1\n",
        "sections:\n  header  ",
        "\n  frames  ",
        "\n  components  ",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let total = out.lines().last().expect("lines");
    assert!(total.starts_with("  total "), "{total}");
    assert!(total.ends_with(&format!(" {size} bytes")), "{total}");
    let name_line = out
        .lines()
        .find(|l| l.trim_start().starts_with("name = "))
        .expect("name line");
    assert!(name_line.ends_with("…\" (200 chars)"), "{name_line}");
    assert!(name_line.len() < 120, "{name_line}");
    assert!(
        out.lines().all(|l| l.len() < 600),
        "no line explodes:\n{out}"
    );
}

#[test]
fn json_has_the_same_data_and_marks_truncation() {
    let dir = TempDir::new("json");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let opts = InspectOptions {
        json: true,
        ..InspectOptions::default()
    };
    let out = inspect(&path, &opts).expect("inspect");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["program"], "walker");
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["size"], fs::metadata(&path).expect("stat").len());
    assert_eq!(doc["created_unix"], 1_700_000_000u64);
    assert_eq!(doc["args"][1], "--steps");
    assert_eq!(doc["ckpt_file"], "run.ckpt");
    assert_eq!(doc["fingerprint"]["sources"], "0123456789abcdef");
    assert_eq!(doc["fingerprint"]["target"], "x86_64-unknown-linux-gnu");
    assert_eq!(doc["truncated"], true);

    let main = &doc["frames"][0];
    assert_eq!(main["function"], "walker::main");
    assert_eq!(main["at"], 3);
    assert_eq!(main["body_hash"], "000000000000feed");
    let live = main["live"].as_array().expect("live");
    let var = |name: &str| -> &serde_json::Value {
        &live
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["value"]
    };
    let grid = var("grid");
    assert_eq!(grid["$typed"], "f64");
    assert_eq!(grid["len"], 1_000_000);
    assert_eq!(grid["items"][1], 0.5);
    assert_eq!(grid["items"].as_array().expect("items").len(), 8);
    assert_eq!(grid["truncated"], true);
    assert_eq!(var("walker")["pos"][1], -1.25);
    assert_eq!(var("walker")["inner"]["seen"]["len"], 20);
    assert_eq!(var("first")["$shared"], 0);
    assert_eq!(var("first")["value"], "shared text");
    assert_eq!(var("name").as_str().map(str::len), Some(200));
    assert_eq!(main["lent"][0], serde_json::json!(["walker", "w"]));

    assert_eq!(main["site"], "src/main.rs:12");
    let step = &doc["frames"][1];
    assert_eq!(step["site"], serde_json::Value::Null);
    assert_eq!(step["args"][0]["name"], "n");
    assert_eq!(step["args"][0]["value"], 42);
    assert_eq!(step["live"][0]["value"]["$ref"], 0);

    assert_eq!(doc["components"][0]["name"], "rand");
    assert_eq!(doc["components"][0]["value"]["seed"], 7);
    assert_eq!(doc["components"][1]["value"][1], "/tmp/b");
    let sections = doc["sections"].as_array().expect("sections");
    assert!(sections
        .iter()
        .any(|s| s["name"] == "frames" && s["bytes"].as_u64() > Some(8_000_000)));
}

#[test]
fn full_shows_everything() {
    let dir = TempDir::new("full");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let out = inspect(&path, &InspectOptions::full()).expect("inspect");
    assert!(out.contains(&"abcdefghij".repeat(20)));
    assert!(out.contains("17, 18, 19]"));
}

#[test]
fn verify_summarises_a_good_image() {
    let dir = TempDir::new("verify");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let size = fs::metadata(&path).expect("stat").len();
    let out = verify(&path, &Limits::default()).expect("verify");
    assert_eq!(
        out,
        format!(
            "{}: OK (format 1, {size} bytes, program walker, 2 frames, 2 components)",
            path.display()
        )
    );
}

#[test]
fn verify_build_names_the_differing_fingerprint_parts() {
    let dir = TempDir::new("verify-build");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let same = header().fingerprint;
    let out = verify_build(&path, &Limits::default(), &same).expect("same build");
    assert!(out.ends_with("; written by this build"), "{out}");
    let mut other = same.clone();
    other.sources = "ffffffffffffffff".into();
    let err = verify_build(&path, &Limits::default(), &other).expect_err("other build");
    match &err {
        Error::BuildMismatch {
            differences,
            program,
            ..
        } => {
            assert_eq!(program, "walker");
            assert_eq!(
                differences,
                &["sources: 0123456789abcdef (image) vs ffffffffffffffff (this build)"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn corrupt_and_foreign_files_give_the_typed_errors() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);
    let mut bytes = fs::read(&path).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(&path, &bytes).expect("write");
    let err = inspect(&path, &InspectOptions::default()).expect_err("corrupt");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("corrupt image"), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    let err = verify(&path, &Limits::default()).expect_err("corrupt");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");

    let other = dir.path().join("notes.txt");
    fs::write(&other, "just some text, long enough to hold a trailer").expect("write");
    let err = verify(&other, &Limits::default()).expect_err("not an image");
    assert!(matches!(err, Error::NotAnImage { .. }), "{err:?}");

    let missing = dir.path().join("missing.ckpt");
    let err = inspect(&missing, &InspectOptions::default()).expect_err("missing");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

#[test]
fn cargo_ckpt_binary_prints_reports_and_exits_with_a_code_per_error_kind() {
    let bin = env!("CARGO_BIN_EXE_cargo-ckpt");
    let dir = TempDir::new("bin");
    let path = dir.path().join("walker.ckpt");
    write_image(&path);

    let out = std::process::Command::new(bin)
        .args(["ckpt", "verify"])
        .arg(&path)
        .output()
        .expect("run cargo-ckpt");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(": OK (format 1,"), "{stdout}");

    let out = std::process::Command::new(bin)
        .args(["ckpt", "inspect", "--json"])
        .arg(&path)
        .output()
        .expect("run cargo-ckpt");
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["program"], "walker");

    let bad = dir.path().join("bad.ckpt");
    fs::write(&bad, b"CKPT").expect("write");
    let out = std::process::Command::new(bin)
        .args(["ckpt", "inspect"])
        .arg(&bad)
        .output()
        .expect("run cargo-ckpt");
    // A damaged image: 4.
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("bad.ckpt"), "{stderr}");
    assert!(out.stdout.is_empty());

    // A missing file: 3; a newer format: 5; a bad command line: 2.
    let code = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(bin)
            .arg("ckpt")
            .args(args)
            .output()
            .expect("run cargo-ckpt")
            .status
            .code()
    };
    let missing = dir.path().join("missing.ckpt");
    assert_eq!(code(&["verify".as_ref(), missing.as_os_str()]), Some(3));
    // A later format frames its body its own way: a version-1 body behind a changed
    // version number is a damaged image (4), not this.
    let newer = dir.path().join("newer.ckpt");
    let mut bytes = b"CKPT".to_vec();
    bytes.extend(2u32.to_le_bytes());
    bytes.extend([0x5a; 64]);
    fs::write(&newer, bytes).expect("write");
    assert_eq!(code(&["inspect".as_ref(), newer.as_os_str()]), Some(5));
    assert_eq!(code(&["inspect".as_ref(), "--bogus".as_ref()]), Some(2));

    // `--help` lists the exit codes, as the README does.
    let help = std::process::Command::new(bin)
        .args(["ckpt", "--help"])
        .output()
        .expect("run cargo-ckpt");
    let help = String::from_utf8_lossy(&help.stdout);
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
        .expect("README.md");
    for (exit, what) in ckpt_build::Exit::TABLE {
        let line = format!("  {}  {what}", exit.code());
        assert!(help.contains(&line), "--help lacks {line:?}:\n{help}");
        let row = format!("| {} | {what} |", exit.code());
        assert!(readme.contains(&row), "README.md lacks the row {row:?}");
    }
}

/// An image whose one live value is `depth` arrays inside each other around `leaf`.
fn write_deep(path: &Path, depth: usize, leaf: u64) {
    ckpt::image::write(
        path,
        &header(),
        &mut |e| {
            e.array(1);
            frame(
                e,
                "deep",
                0,
                &[],
                |e| {
                    e.map(1);
                    e.text("list");
                    for _ in 0..depth {
                        e.array(1);
                    }
                    e.uint(leaf);
                    Ok(())
                },
                &[],
            )
        },
        &mut |e| {
            e.map(0);
            Ok(())
        },
    )
    .expect("write");
}

#[test]
fn deep_values_stay_readable() {
    // 300 000 levels (a long linked list has as many) on a 4 MiB stack: reading, rendering,
    // comparing and dropping the values never recurse once per level (the renderers stop
    // at a fixed depth; their frames are large in a debug build).
    std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| {
            let dir = TempDir::new("deep");
            let (a, b) = (dir.path().join("a.ckpt"), dir.path().join("b.ckpt"));
            write_deep(&a, 300_000, 1);
            write_deep(&b, 300_000, 2);
            let human = inspect(&a, &InspectOptions::default()).expect("inspect");
            assert!(human.contains("list = [[[["), "{human}");
            let opts = InspectOptions {
                json: true,
                ..InspectOptions::default()
            };
            let out = inspect(&a, &opts).expect("inspect --json");
            let doc: serde_json::Value =
                serde_json::from_str(&out).expect("parses with serde_json");
            assert_eq!(doc["truncated"], true);
            assert!(out.contains("\"$deep\": true"));
            assert!(verify(&a, &Limits::default())
                .expect("verify")
                .contains("OK"));
            let d = diff(&a, &b, &InspectOptions::default()).expect("diff");
            assert!(d.contains("list"), "{d}");
            let same = diff(&a, &a, &InspectOptions::default()).expect("diff");
            assert!(!same.contains("list"), "{same}");
        })
        .expect("spawn")
        .join()
        .expect("join");
}

/// One frame `main` with `i` and `text` live (and `extra` when given), one component.
fn write_small(path: &Path, i: u64, text: &str, extra: Option<u64>, seed: u64) {
    let shared = Rc::new(text.to_owned());
    ckpt::image::write(
        path,
        &header(),
        &mut |e| {
            e.array(1);
            frame(
                e,
                "main",
                2,
                &[],
                |e| {
                    e.map(3 + u64::from(extra.is_some()));
                    e.text("i");
                    e.uint(i);
                    // The iterator of a `for` loop, as the transform names it.
                    e.text("__ckpt_it1");
                    e.map(1);
                    e.text("count");
                    e.uint(i * 10);
                    e.text("text");
                    e.put(&shared)?;
                    if let Some(x) = extra {
                        e.text("extra");
                        e.uint(x);
                    }
                    Ok(())
                },
                &[],
            )
        },
        &mut |e| {
            e.map(1);
            e.text("rand");
            e.map(1);
            e.text("seed");
            e.uint(seed);
            Ok(())
        },
    )
    .expect("write");
}

#[test]
fn diff_reports_changed_added_and_removed_values() {
    let dir = TempDir::new("diff");
    let (a, b) = (dir.path().join("a.ckpt"), dir.path().join("b.ckpt"));
    write_small(&a, 1, "one", Some(5), 7);
    write_small(&b, 2, "two", None, 7);
    let out = ckpt_build::diff(&a, &b, &InspectOptions::default()).expect("diff");
    assert!(out.contains("frame #0 main:\n    live:\n"), "{out}");
    assert!(out.contains("        i: 1 → 2\n"), "{out}");
    assert!(out.contains("        text: \"one\" → \"two\"\n"), "{out}");
    assert!(out.contains("      - extra = 5\n"), "{out}");
    assert!(
        !out.contains("rand"),
        "unchanged component not shown: {out}"
    );

    // Named as `inspect` names it.
    assert!(
        out.contains("        (for loop 1: iterator).count: 10 → 20\n"),
        "{out}"
    );
    assert!(!out.contains("__ckpt_it1"), "{out}");

    let same = ckpt_build::diff(&a, &a, &InspectOptions::default()).expect("diff");
    assert!(
        same.ends_with("same build, same frames, same values\n"),
        "{same}"
    );

    let json = InspectOptions {
        json: true,
        ..InspectOptions::default()
    };
    let doc: serde_json::Value =
        serde_json::from_str(&ckpt_build::diff(&a, &b, &json).expect("diff --json"))
            .expect("valid JSON");
    assert_eq!(doc["same"], false);
    let frame = &doc["frames"][0];
    assert_eq!(frame["function"], "main");
    let live = frame["live"].as_array().expect("live changes");
    let var = |name: &str| {
        live.iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no change of {name} in {live:?}"))
    };
    assert_eq!(var("i")["change"], "changed");
    assert_eq!(
        var("i")["leaves"][0],
        serde_json::json!({"path": "i", "a": 1, "b": 2})
    );
    assert_eq!(var("__ckpt_it1")["display"], "(for loop 1: iterator)");
    assert_eq!(
        var("__ckpt_it1")["leaves"][0]["path"],
        "(for loop 1: iterator).count"
    );
    assert_eq!(var("extra")["change"], "removed");
    assert_eq!(var("extra")["value"], 5);
    assert_eq!(doc["components"], serde_json::json!([]));
    let same: serde_json::Value =
        serde_json::from_str(&ckpt_build::diff(&a, &a, &json).expect("diff --json"))
            .expect("valid JSON");
    assert_eq!(same["same"], true);
    assert_eq!(same["frames"], serde_json::json!([]));
}
