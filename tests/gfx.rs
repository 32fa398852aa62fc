//! The graphics engine end to end: programs that draw, killed with SIGKILL at random
//! moments and restored, present exactly the frames of an uninterrupted run, byte for
//! byte; a program saved on one display continues on another; bad display options are
//! clear errors.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use support::{example, run, run_killed, stderr, stdout, TempDir};

/// Every frame file in `dir` by name. Fails on a half-written one left behind.
fn frames(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".png"), "stray file {name} in the frames");
        out.insert(name, std::fs::read(e.path()).unwrap());
    }
    out
}

fn result_line(out: &str) -> String {
    support::result_line(out)
}

/// Runs `name` uninterrupted, then killed at random moments (at least 5 kills) and
/// restored each time; every frame must equal the uninterrupted run's.
fn frames_survive_kills(name: &str, args: &[&str]) {
    let bin = example(name);
    let clean = TempDir::new(&format!("{name}-clean"));
    let t0 = Instant::now();
    let base = run(&bin, args, clean.path());
    let ms = t0.elapsed().as_millis() as u64;
    assert!(base.status.success(), "{}", stderr(&base));
    let expected = frames(&clean.path().join("frames"));
    assert!(expected.len() >= 20, "only {} frames", expected.len());
    let result = result_line(&stdout(&base));
    let image = format!("{name}.ckpt");
    let mut kills = 0;
    let mut round = 0;
    while kills < 5 {
        assert!(round < 6, "only {kills} kills landed in {round} rounds");
        let dir = TempDir::new(&format!("{name}-killed-{round}"));
        let r = run_killed(
            &bin,
            args,
            dir.path(),
            &image,
            5 - kills,
            (ms / 12).max(30),
            (ms / 4).max(60),
        );
        kills += r.kills;
        assert!(
            r.final_output.status.success(),
            "{}",
            stderr(&r.final_output)
        );
        assert_eq!(result_line(&stdout(&r.final_output)), result);
        let got = frames(&dir.path().join("frames"));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "the frames after {} kills are not the uninterrupted run's",
            r.kills
        );
        for (name, bytes) in &expected {
            assert!(
                got[name] == *bytes,
                "{name} differs after {} kills",
                r.kills
            );
        }
        round += 1;
    }
}

#[test]
fn life_frames_are_pixel_identical_after_repeated_sigkill() {
    frames_survive_kills("life", &["--frames", "60", "--save-every", "4"]);
}

#[test]
fn plot_frames_are_pixel_identical_after_repeated_sigkill() {
    frames_survive_kills("plot", &["--points", "60"]);
}

#[test]
fn paint_frames_are_pixel_identical_after_repeated_sigkill() {
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/paint.events");
    let events = events.to_str().unwrap();
    frames_survive_kills("paint", &["--frames", "80", "--ckpt-events", events]);
}

/// A run saved on the PNG display continues on another: `none` shows nothing and ends
/// the same, another PNG directory gets exactly the frames after the image's.
#[test]
fn a_run_saved_on_one_display_restores_onto_another() {
    let bin = example("life");
    let args = ["--frames", "30", "--save-every", "10"];
    let clean = TempDir::new("life-display-clean");
    let base = run(&bin, &args, clean.path());
    assert!(base.status.success(), "{}", stderr(&base));
    let all = frames(&clean.path().join("frames"));

    let dir = TempDir::new("life-display");
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(args)
        .current_dir(dir.path())
        .env("CKPT_CRASH_AFTER_SAVES", "2");
    let out = cmd.output().unwrap();
    assert!(
        !out.status.success(),
        "the crash after the second save did not happen"
    );
    // The image was written right after frame 19 was presented.
    let first = frames(&dir.path().join("frames"));
    assert!(first.contains_key("frame-000019.png"));

    // Each restore from its own copy: a run that ends marks its image finished.
    std::fs::copy(dir.path().join("life.ckpt"), dir.path().join("copy.ckpt")).unwrap();
    std::fs::copy(dir.path().join("life.ckpt"), dir.path().join("copy2.ckpt")).unwrap();
    let none = run(
        &bin,
        &["--restore", "copy.ckpt", "--ckpt-display", "none"],
        dir.path(),
    );
    assert!(none.status.success(), "{}", stderr(&none));
    assert_eq!(result_line(&stdout(&none)), result_line(&stdout(&base)));

    let other = dir.path().join("other");
    let png = run(
        &bin,
        &[
            "--restore",
            "copy2.ckpt",
            "--ckpt-display",
            &format!("png:{}", other.display()),
        ],
        dir.path(),
    );
    assert!(png.status.success(), "{}", stderr(&png));
    let rest = frames(&other);
    let want: Vec<_> = all.keys().skip(20).cloned().collect();
    assert_eq!(rest.keys().cloned().collect::<Vec<_>>(), want);
    for (k, v) in &rest {
        assert!(all[k] == *v, "{k} differs on the other display");
    }
}

#[test]
fn bad_display_options_are_clear_errors() {
    let bin = example("life");
    let dir = TempDir::new("life-bad");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ckpt-display", "vnc"],
            "expected png:DIR, window or none",
        ),
        (&["--ckpt-display", "png:"], "needs a directory"),
        (&["--ckpt-events", "missing.events"], "cannot read it"),
    ];
    for (args, needle) in cases {
        let out = run(&bin, args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    std::fs::write(dir.path().join("bad.events"), "1 down 1 2\n0 close\n").unwrap();
    let out = run(&bin, &["--ckpt-events", "bad.events"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad.events:2: frame 0 after frame 1"),
        "{}",
        stderr(&out)
    );
    // A window without an X display is an error of the first present, saying what to do.
    let out = std::process::Command::new(&bin)
        .args(["--frames", "2", "--ckpt-display", "window"])
        .current_dir(dir.path())
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "cannot connect to the X display (DISPLAY is not set): set DISPLAY or use png:DIR"
        ),
        "{}",
        stderr(&out)
    );
    // A display directory that cannot be created is an error of the first present.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let out = run(
        &bin,
        &["--frames", "2", "--ckpt-display", "png:file/sub"],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot create the directory"),
        "{}",
        stderr(&out)
    );
}
