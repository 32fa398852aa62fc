//! `cargo ckpt inspect` on real images of the examples: the frame stack with functions,
//! save points, live variables by name and values, abbreviated; `--json` for machines.

mod support;

use ckpt_build::{inspect, verify, InspectOptions};
use support::*;

#[test]
fn inspect_shows_the_frame_stack_of_a_montecarlo_image() {
    let d = TempDir::new("inspect-mc");
    let out = run(&example("montecarlo"), &["--steps", "100000"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let img = d.path().join("montecarlo.ckpt");
    let text = inspect(&img, &InspectOptions::default()).expect("inspect");
    for needle in [
        "program:    montecarlo",
        "\"--steps\", \"100000\"",
        "#0 main",
        "#1 batch",
        "rounds = 20",
        "hist: [f64; 64]",
        "stats -> stats",
        "sections:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Long values are abbreviated.
    assert!(text.contains('…'), "{text}");
    let json = inspect(
        &img,
        &InspectOptions {
            json: true,
            ..InspectOptions::default()
        },
    )
    .expect("inspect --json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let frames = v["frames"].as_array().expect("frames array");
    assert_eq!(frames.len(), 2);
    assert!(
        json.contains("\"main\"") && json.contains("\"batch\""),
        "{json}"
    );
    assert!(verify(&img, &Default::default()).is_ok());
}

#[test]
fn inspect_of_a_graph_image_shows_shared_objects() {
    let d = TempDir::new("inspect-graph");
    let out = run(
        &example("graph"),
        &["--nodes", "20", "--iterations", "2"],
        d.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = inspect(&d.path().join("graph.ckpt"), &InspectOptions::default()).expect("inspect");
    assert!(
        text.contains("#0 main") && text.contains("pagerank_step"),
        "{text}"
    );
    assert!(
        text.contains('@') || text.contains('&'),
        "shared objects are not marked:\n{text}"
    );
    // Nodes first met through another node's edges live in the heap section, shown too.
    assert!(
        text.contains("heap (") && text.contains("@1 = { id:"),
        "{text}"
    );
}

#[test]
fn inspect_of_a_broken_image_is_a_typed_error() {
    let d = TempDir::new("inspect-bad");
    let p = d.path().join("x.ckpt");
    std::fs::write(&p, b"CKPT\x01\0\0\0garbage").unwrap();
    let e = inspect(&p, &InspectOptions::default()).unwrap_err();
    assert!(e.to_string().contains("x.ckpt"), "{e}");
}

/// Files opened for writing after the save (the journal next to the image) are listed
/// with what a restore will do to them.
#[test]
fn inspect_lists_files_opened_after_the_save() {
    let d = TempDir::new("inspect-journal");
    let out = run(&example("montecarlo"), &["--steps", "100000"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let img = d.path().join("montecarlo.ckpt");
    let hex = |p: &str| p.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    std::fs::write(
        d.path().join("montecarlo.ckpt.opens"),
        format!(
            "open 12 1 2 3 {}\ncreate 0 1 4 5 {}\n",
            hex("/data/app.log"),
            hex("/data/new.txt")
        ),
    )
    .unwrap();
    let text = inspect(&img, &InspectOptions::default()).expect("inspect");
    assert!(
        text.contains("opened after this save (montecarlo.ckpt.opens"),
        "{text}"
    );
    assert!(
        text.contains("/data/app.log  cut back to 12 bytes"),
        "{text}"
    );
    assert!(
        text.contains("/data/new.txt  created after the save: removed"),
        "{text}"
    );
}
