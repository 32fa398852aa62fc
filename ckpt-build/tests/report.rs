//! The checkpointability report on package trees made on the fly, through the library
//! and through `cargo ckpt report`.

mod common;

use std::process::Command;

use ckpt_build::{report, Finding};
use common::TempDir;

/// The same constructs twice: in checkpointable code (reported) and in plain functions
/// (not reported). Line numbers matter: the tests below name them.
const LIB: &str = r#"use ckpt::checkpointable;
use std::os::fd::FromRawFd;
mod ffi;
#[checkpointable]
mod inner;

#[checkpointable]
pub fn busy(fd: i32) -> i32 {
    let pid = unsafe { libc::getpid() };
    let child = std::process::Command::new("true").spawn();
    let t = std::thread::spawn(|| 1);
    let f = unsafe { std::fs::File::from_raw_fd(fd) };
    let raw = f.as_raw_fd();
    let m = unsafe { memmap2::Mmap::map(&f) };
    let n = unsafe { ffi::c_twice(raw) };
    println!("{}", std::os::unix::process::parent_id());
    std::process::exit(pid + n)
}

pub fn plain(fd: i32) -> i32 {
    let pid = unsafe { libc::getpid() };
    let child = std::process::Command::new("true").spawn();
    let t = std::thread::spawn(|| 1);
    let f = unsafe { std::fs::File::from_raw_fd(fd) };
    let n = unsafe { ffi::c_twice(f.as_raw_fd()) };
    std::process::exit(pid + n)
}

pub struct Sim;

#[ckpt::checkpointable]
impl Sim {
    pub fn step(&self) {
        use libc::sched_yield;
        let x: std::os::raw::c_int = 0;
        std::thread::Builder::new();
    }
}
"#;

const FFI: &str = r#"extern "C" {
    pub fn c_twice(x: i32) -> i32;
}
"#;

const INNER: &str = r#"pub fn in_marked_module() {
    std::process::abort();
}
"#;

fn package() -> TempDir {
    let dir = TempDir::new("report");
    dir.write("Cargo.toml", "[package]\nname = \"os-calls\"\n")
        .write("src/lib.rs", LIB)
        .write("src/ffi.rs", FFI)
        .write("src/inner.rs", INNER)
        .write(
            "examples/demo.rs",
            "fn main() { std::process::exit(0) }\n#[ckpt::checkpointable]\nfn work() { let _ = std::process::Command::new(\"ls\"); }\n",
        );
    dir
}

fn at(f: &Finding) -> (String, usize, usize, String, String) {
    (
        f.file.clone(),
        f.line,
        f.column,
        f.function.clone(),
        f.construct.clone(),
    )
}

#[test]
fn finds_each_construct_in_checkpointable_code_only() {
    let dir = package();
    let r = report(dir.path()).expect("report");
    assert_eq!(r.package_name, "os-calls");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let got: Vec<_> = r.findings.iter().map(at).collect();
    let want = [
        (
            "examples/demo.rs",
            3,
            21,
            "work",
            "std::process::Command::new",
        ),
        (
            "src/inner.rs",
            2,
            5,
            "in_marked_module",
            "std::process::abort",
        ),
        ("src/lib.rs", 9, 24, "busy", "libc::getpid"),
        ("src/lib.rs", 10, 17, "busy", "std::process::Command::new"),
        ("src/lib.rs", 11, 13, "busy", "std::thread::spawn"),
        ("src/lib.rs", 12, 22, "busy", "std::fs::File::from_raw_fd"),
        ("src/lib.rs", 13, 17, "busy", ".as_raw_fd()"),
        ("src/lib.rs", 14, 22, "busy", "memmap2::Mmap::map"),
        ("src/lib.rs", 15, 22, "busy", "ffi::c_twice"),
        (
            "src/lib.rs",
            16,
            20,
            "busy",
            "std::os::unix::process::parent_id",
        ),
        ("src/lib.rs", 17, 5, "busy", "std::process::exit"),
        ("src/lib.rs", 34, 19, "Sim::step", "libc::sched_yield"),
        (
            "src/lib.rs",
            36,
            9,
            "Sim::step",
            "std::thread::Builder::new",
        ),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(f, l, c, func, what)| (f.to_string(), *l, *c, func.to_string(), what.to_string()))
        .collect();
    assert_eq!(got, want);
    for f in &r.findings {
        assert!(
            f.reason.starts_with(&format!("`{}` ", f.construct)),
            "{f:?}"
        );
    }
    let reason = |line: usize| {
        r.findings
            .iter()
            .find(|f| f.file == "src/lib.rs" && f.line == line)
            .map(|f| f.reason.clone())
            .expect("finding")
    };
    assert_eq!(
        reason(10),
        "`std::process::Command::new` starts a process ckpt cannot save or restore; keep it \
         outside checkpointable code or accept that a restore will not see the child"
    );
    assert!(reason(9).contains("C library"));
    assert!(reason(11).contains("thread"));
    assert!(reason(12).contains("file descriptor"));
    assert!(reason(14).contains("maps memory"));
    assert!(reason(15).contains("`extern` block"));
    assert!(reason(16).contains("OS interface"));
    assert!(reason(17).contains("ends the process"));
}

#[test]
fn text_and_json_renderings() {
    let dir = package();
    let r = report(dir.path()).expect("report");
    let text = r.render_text();
    assert!(
        text.contains("src/lib.rs:10:17: in `busy`: `std::process::Command::new` starts a process"),
        "{text}"
    );
    assert!(
        text.ends_with("`os-calls`: 13 OS calls ckpt cannot virtualize in checkpointable code\n"),
        "{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&r.render_json()).expect("json");
    assert_eq!(doc["package"], "os-calls");
    assert_eq!(doc["warnings"], serde_json::json!([]));
    let findings = doc["findings"].as_array().expect("array");
    assert_eq!(findings.len(), 13);
    let first = findings[0].as_object().expect("object");
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["file", "line", "column", "function", "construct", "reason"]
    );
    assert_eq!(first["file"], "examples/demo.rs");
    assert_eq!(first["line"], 3);
    assert_eq!(first["function"], "work");
}

#[test]
fn clean_package_and_missing_package() {
    let dir = TempDir::new("report-clean");
    dir.write("Cargo.toml", "[package]\nname = \"clean\"\n").write(
        "src/main.rs",
        "#[ckpt::checkpointable]\nfn main() { let _ = std::fs::read(\"x\"); }\nfn exit() { std::process::exit(1) }\n",
    );
    let r = report(dir.path()).expect("report");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(
        r.render_text(),
        "`clean`: no OS calls ckpt cannot virtualize in checkpointable code\n"
    );
    let empty = TempDir::new("report-none");
    assert!(report(empty.path()).is_err());
}

fn cargo_ckpt(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-ckpt"))
        .arg("ckpt")
        .arg("report")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run cargo-ckpt")
}

#[test]
fn cli_prints_the_report_and_exits_zero() {
    let dir = package();
    // From a subdirectory: the package is found upwards.
    let out = cargo_ckpt(&[], &dir.path().join("src"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("src/lib.rs:11:13: in `busy`: `std::thread::spawn` starts an OS thread"),
        "{stdout}"
    );
    assert!(!stdout.contains("in `plain`"), "{stdout}");
    assert_eq!(stdout.lines().count(), 14, "{stdout}");

    let manifest = dir.path().join("Cargo.toml");
    let out = cargo_ckpt(
        &[
            "--manifest-path",
            manifest.to_str().expect("utf-8"),
            "--json",
        ],
        std::path::Path::new("/"),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(13));

    let out = cargo_ckpt(&["--dir", dir.path().to_str().expect("utf-8")], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let empty = TempDir::new("report-cli-none");
    let out = cargo_ckpt(&["--manifest-path", "nope/Cargo.toml"], empty.path());
    // A missing file: exit code 3 (see `ckpt_build::Exit`).
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn globals_main_cannot_name_are_findings() {
    let dir = TempDir::new("report-globals");
    dir.write("Cargo.toml", "[package]\nname = \"globals\"\n")
        .write(
            "src/main.rs",
            "use std::sync::atomic::AtomicU64;\n\
             mod stats;\n\
             static SEEN: AtomicU64 = AtomicU64::new(0);\n\
             static NAMES: [&str; 2] = [\"a\", \"b\"];\n\
             #[ckpt::checkpointable]\n\
             fn main() {\n\
             \x20   static CALLS: AtomicU64 = AtomicU64::new(0);\n\
             \x20   ckpt::save().unwrap();\n\
             }\n",
        )
        .write(
            "src/stats.rs",
            "use std::cell::Cell;\n\
             use std::sync::Mutex;\n\
             pub(crate) static SHARED: Mutex<Vec<u8>> = Mutex::new(Vec::new());\n\
             static HIDDEN: Mutex<u32> = Mutex::new(0);\n\
             static FIXED: u32 = 7;\n\
             thread_local! {\n\
             \x20   pub static DEPTH: Cell<u32> = Cell::new(0);\n\
             \x20   static LOCAL: Cell<u32> = Cell::new(0);\n\
             }\n",
        );
    let r = report(dir.path()).expect("report");
    let found: Vec<(String, usize, String)> = r
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.line, f.construct.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("src/main.rs".to_string(), 7, "static CALLS".to_string()),
            ("src/stats.rs".to_string(), 4, "stats::HIDDEN".to_string()),
            ("src/stats.rs".to_string(), 8, "stats::LOCAL".to_string()),
        ]
    );
    assert!(
        r.findings[1].reason.contains("pub(crate)"),
        "{}",
        r.findings[1]
    );
    assert!(
        r.findings[0].reason.contains("outside the function"),
        "{}",
        r.findings[0]
    );

    // What main registers: the ones it can name and that can change.
    let a = ckpt_build::analyze(dir.path(), "globals", "0.1.0").expect("analysis");
    let text = a.render("rustc 1", "x86_64-unknown-linux-gnu");
    let globals: Vec<&str> = text.lines().filter(|l| l.starts_with("global ")).collect();
    assert_eq!(
        globals,
        [
            "global static here SEEN src/main.rs:3",
            "global thread_local here stats::DEPTH src/stats.rs:7",
            "global static here stats::SHARED src/stats.rs:3",
        ]
    );
}

#[test]
fn a_libs_public_globals_are_registered_by_every_main() {
    let dir = TempDir::new("report-lib-globals");
    dir.write("Cargo.toml", "[package]\nname = \"libglob\"\n")
        .write(
            "src/lib.rs",
            "use std::sync::atomic::AtomicU64;\n\
             pub static HITS: AtomicU64 = AtomicU64::new(0);\n\
             static HIDDEN: AtomicU64 = AtomicU64::new(0);\n\
             pub fn hit() { HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed); }\n",
        )
        .write(
            "src/bin/tool.rs",
            "#[ckpt::checkpointable]\nfn main() { libglob::hit(); ckpt::save().unwrap(); }\n",
        );
    let a = ckpt_build::analyze(dir.path(), "libglob", "0.1.0").expect("analysis");
    let text = a.render("rustc 1", "x86_64-unknown-linux-gnu");
    let tool: Vec<&str> = text
        .split("crate ")
        .find(|b| b.starts_with("tool\n"))
        .expect("tool's block")
        .lines()
        .filter(|l| l.starts_with("global "))
        .collect();
    assert_eq!(tool, ["global static lib HITS src/lib.rs:2"]);
}
