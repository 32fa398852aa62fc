//! `cargo ckpt` on real programs: save points with file:line in images, `verify --binary`
//! through the build probe, and `check` (equivalence under SIGKILL and restore) on an
//! example that restores equivalently and on a crate that does not.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ckpt_build::check::{CheckOptions, Mismatch, Target};
use ckpt_build::{InspectOptions, VerifyBinaryError};
use support::*;

/// The line (1-based) of `needle` in `file` of this repository.
fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .expect("source file");
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"))
}

#[test]
fn images_name_their_save_points_by_file_and_line() {
    let d = TempDir::new("sites");
    let out = run(&example("dice"), &["--rolls", "3000"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let img = d.path().join("dice.ckpt");
    let site = format!(
        "examples/dice.rs:{}",
        line_of("examples/dice.rs", "ckpt::save()")
    );
    let text = ckpt_build::inspect(&img, &InspectOptions::default()).expect("inspect");
    assert!(
        text.contains(&format!("#0 main  at {site} (save point")),
        "{text}"
    );
    let json = InspectOptions {
        json: true,
        ..InspectOptions::default()
    };
    let doc: serde_json::Value =
        serde_json::from_str(&ckpt_build::inspect(&img, &json).expect("inspect --json"))
            .expect("JSON");
    assert_eq!(doc["frames"][0]["site"], site.as_str());
}

#[test]
fn verify_binary_asks_the_binary_for_its_build() {
    let d = TempDir::new("verify-binary");
    let out = run(&example("dice"), &["--rolls", "2000"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let img = d.path().join("dice.ckpt");
    let opts = InspectOptions::default();

    let ok = ckpt_build::verify_binary(&img, &example("dice"), &opts).expect("dice restores it");
    assert!(ok.contains("can restore it"), "{ok}");
    let probe = ckpt_build::inspect::probe_binary(&example("dice")).expect("probe");
    assert_eq!(probe.fingerprint.crate_name, "dice");
    // Asked directly, the binary answers and exits before any of its own code runs: it
    // prints no roll and saves no image.
    let asked = TempDir::new("probe");
    let out = std::process::Command::new(example("dice"))
        .args(["--rolls", "2000"])
        .env("CKPT_PROBE", "build")
        .current_dir(asked.path())
        .output()
        .expect("run dice");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ckpt-probe 1\nfingerprint dice\t"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("rolls"), "{}", stdout(&out));
    assert!(!asked.path().join("dice.ckpt").exists());

    // Another program's binary: its fingerprint differs, named part by part.
    let e = ckpt_build::verify_binary(&img, &example("montecarlo"), &opts).unwrap_err();
    match &e {
        VerifyBinaryError::Mismatch { reasons, .. } => assert!(
            reasons
                .iter()
                .any(|r| r.contains("crate name: dice (image) vs montecarlo (the binary)")),
            "{reasons:?}"
        ),
        other => panic!("expected a mismatch, got {other}"),
    }
    assert_eq!(ckpt_build::Exit::from(&e).code(), 1);

    // A program not built with ckpt is not run.
    let e = ckpt_build::verify_binary(&img, Path::new("/bin/sh"), &opts).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyBinaryError::Probe(ckpt_build::ProbeError::NotCkpt { .. })
        ),
        "{e}"
    );
    assert_eq!(ckpt_build::Exit::from(&e).code(), 6);
}

/// A program that saves only at `ckpt::safepoint()` is checked with checkpoints requested
/// by `CKPT_EVERY`.
#[test]
fn check_asks_a_safepoint_only_program_for_checkpoints() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = CheckOptions {
        manifest_path: Some(repo.join("Cargo.toml")),
        target: Target::Example("batch".into()),
        args: vec!["3000".into()],
        kills: 3,
        timeout: Duration::from_secs(120),
        ..CheckOptions::default()
    };
    let report = ckpt_build::check(&opts).expect("check runs");
    let text = report.render_text();
    assert!(report.equivalent(), "{text}");
    assert_eq!(report.kills.len(), 3, "{text}");
    let site = format!(
        "examples/batch.rs:{}",
        line_of("examples/batch.rs", "ckpt::safepoint().expect")
    );
    assert!(
        report
            .kills
            .iter()
            .all(|k| k.resumes_from.site.as_deref() == Some(site.as_str())),
        "{text}"
    );
}

#[test]
fn check_passes_on_an_example_that_restores_equivalently() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = CheckOptions {
        manifest_path: Some(repo.join("Cargo.toml")),
        target: Target::Example("dice".into()),
        args: vec!["--rolls".into(), "20000".into()],
        kills: 4,
        timeout: Duration::from_secs(120),
        ..CheckOptions::default()
    };
    let report = ckpt_build::check(&opts).expect("check runs");
    let text = report.render_text();
    assert!(report.equivalent(), "{text}");
    assert_eq!(report.kills.len(), 4, "{text}");
    assert!(text.contains("equivalent: "), "{text}");
    assert!(
        text.contains(&format!("with seed {}", report.seed)),
        "{text}"
    );
    let site = format!(
        "examples/dice.rs:{}",
        line_of("examples/dice.rs", "ckpt::save()")
    );
    for k in &report.kills {
        assert_eq!(
            k.resumes_from.site.as_deref(),
            Some(site.as_str()),
            "{text}"
        );
    }
    // A restore of a restore happened when a trial had more than one kill.
    if report.kills.len() > report.trials {
        assert!(report.kills.iter().any(|k| k.of_restore), "{text}");
    }
    let doc: serde_json::Value = serde_json::from_str(&report.render_json()).expect("JSON");
    assert_eq!(doc["equivalent"], true);
    assert_eq!(doc["kills"][0]["resumed_from"]["site"], site.as_str());
}

/// A program that does not restore equivalently: its ticket counter is a static declared
/// inside a function, which `main` cannot name, so ckpt does not save it (the build warns)
/// and a restore starts it again from 0.
const NOT_EQUIVALENT: &str = r#"use std::sync::atomic::{AtomicU64, Ordering};

fn next_ticket() -> u64 {
    static TICKETS: AtomicU64 = AtomicU64::new(0);
    TICKETS.fetch_add(1, Ordering::Relaxed) + 1
}

#[ckpt::checkpointable]
fn main() {
    let mut total = 0u64;
    for i in 0..8u64 {
        total += i;
        ckpt::save().expect("checkpoint");
        let ticket = next_ticket();
        println!("step {i}: total {total}, ticket {ticket}");
    }
    std::fs::write("total.txt", format!("{total}\n")).expect("write");
}
"#;

#[test]
fn check_reports_the_first_difference_with_its_save_point() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let krate = TempDir::new("check-crate");
    let write = |rel: &str, text: &str| {
        let p = krate.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    let runtime = repo.join("ckpt-runtime");
    let build = repo.join("ckpt-build");
    write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"tickets\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             [workspace]\n\n[dependencies]\n\
             ckpt = {{ path = {runtime:?}, package = \"ckpt-runtime\" }}\n\
             [build-dependencies]\n\
             ckpt-build = {{ path = {build:?}, default-features = false }}\n"
        ),
    );
    write("build.rs", "fn main() { ckpt_build::instrument(); }\n");
    write("src/main.rs", NOT_EQUIVALENT);
    // The target directory of the README's crate test: ckpt's crates are built once for
    // both.
    let target_dir = repo.join("target").join("use-in-crate");
    let opts = CheckOptions {
        manifest_path: Some(krate.path().join("Cargo.toml")),
        target_dir: Some(target_dir),
        kills: 3,
        seed: Some(7),
        timeout: Duration::from_secs(60),
        ..CheckOptions::default()
    };
    let report = ckpt_build::check(&opts).expect("check runs");
    let text = report.render_text();
    assert!(!report.equivalent(), "{text}");
    let d = report.difference.as_ref().expect("a difference");
    let save_line = 1 + NOT_EQUIVALENT
        .lines()
        .position(|l| l.contains("ckpt::save()"))
        .expect("the save point");
    let site = format!("src/main.rs:{save_line}");
    assert_eq!(
        d.resumed_from.as_ref().and_then(|p| p.site.as_deref()),
        Some(site.as_str()),
        "{text}"
    );
    match &d.mismatch {
        Mismatch::Stdout {
            expected, found, ..
        } => {
            let (e, f) = (expected.as_deref(), found.as_deref());
            assert!(e.is_some_and(|l| l.contains("ticket")) && e != f, "{text}");
        }
        other => panic!("expected a difference in standard output, got {other:?}\n{text}"),
    }
    assert!(text.contains("DIFFERENCE in trial"), "{text}");
    assert!(
        text.contains(&format!("after resuming from `main` at {site}")),
        "{text}"
    );
    assert!(text.contains("--seed 7"), "{text}");
}
