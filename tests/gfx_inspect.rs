//! `cargo ckpt inspect` on images of a program that draws with `ckpt::gfx` (the example
//! `life`): the `gfx` component's summary, `--surface N` and `--png FILE` (the surface's
//! pixels equal the frame the program presented right before the save), and the errors
//! of images and surfaces that have no graphics to show.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use support::*;

/// The `cargo-ckpt` binary, built once per test run with `cargo build -p ckpt-build` in
/// the target directory of this test (the root package's tests do not build it).
fn cargo_ckpt() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "ckpt-build",
            "--bin",
            "cargo-ckpt",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let built = Running::spawn(&mut cmd).finish(Duration::from_secs(900));
        assert!(
            built.status.success(),
            "building cargo-ckpt failed:\n{}",
            stderr(&built)
        );
        // The executable, as cargo reports it (whatever the target directory's layout).
        stdout(&built)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "cargo-ckpt")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no cargo-ckpt executable")
    })
}

/// `cargo ckpt inspect ARGS…`.
fn inspect(args: &[&str]) -> Output {
    Command::new(cargo_ckpt())
        .arg("ckpt")
        .arg("inspect")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cargo-ckpt")
}

/// Runs `life` for 6 frames with a save every 3: its image holds the state right after
/// frame 5 was presented (written to `DIR/f/frame-000005.png`).
fn life_image(d: &TempDir) -> PathBuf {
    let frames = d.path().join("f");
    let img = d.path().join("life.ckpt");
    let out = run(
        &example("life"),
        &[
            "--frames",
            "6",
            "--save-every",
            "3",
            &format!("--ckpt-display=png:{}", frames.display()),
            &format!("--ckpt-file={}", img.display()),
            "--ckpt-finished=keep",
        ],
        d.path(),
    );
    assert!(out.status.success(), "life failed: {}", stderr(&out));
    assert!(img.exists(), "life wrote no image: {}", stderr(&out));
    assert!(frames.join("frame-000005.png").exists());
    img
}

/// Width, height and 8-bit RGBA pixels of a PNG file.
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; dec.output_buffer_size().expect("buffer size")];
    let info = dec.next_frame(&mut buf).expect("a frame");
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgba, png::BitDepth::Eight),
        "{}",
        path.display()
    );
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_of_the_screen_equals_the_frame_presented_before_the_save() {
    let d = TempDir::new("gfx-png");
    let img = life_image(&d);
    let now = d.path().join("now.png");
    let out = inspect(&[
        img.to_str().unwrap(),
        "--surface",
        "0",
        "--png",
        now.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("wrote surface 0 (640×480, frame 5) to {}\n", now.display())
    );
    let (w, h, px) = decode(&now);
    assert_eq!((w, h), (640, 480));
    let (fw, fh, frame) = decode(&d.path().join("f").join("frame-000005.png"));
    assert_eq!((fw, fh), (w, h));
    assert!(px == frame, "now.png differs from frame-000005.png");
    // Only the file asked for is left in the directory: no temporary file.
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("now.png"))
        .collect();
    assert_eq!(left, ["now.png"]);

    // Without --surface: the shown surface, said so.
    let again = d.path().join("shown.png");
    let out = inspect(&[img.to_str().unwrap(), "--png", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("wrote surface 0 (the shown one; 640×480, frame 5)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(decode(&again).2, frame);
}

#[test]
fn inspect_summarizes_the_graphics_state() {
    let d = TempDir::new("gfx-text");
    let img = life_image(&d);
    let out = inspect(&[img.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "gfx = 6 frames presented (the last: frame 5); shown: surface 0; 1 surface",
        "surface 0: 640×480, shown",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The pixels are not listed.
    assert!(!text.contains("[u8; 1228800]"), "{text}");

    let out = inspect(&[img.to_str().unwrap(), "--surface", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "surface 0: 640×480, shown",
        "transform:  identity",
        "fill:       solid #ffffffff",
        "font:       Mono 13.0 px",
        "clip:       none",
        "stack:      depth 0",
        "pixels:     1228800 bytes",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    // The JSON report keeps the pixels as any typed array: abbreviated.
    let out = inspect(&[img.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let gfx = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gfx")
        .expect("a gfx component");
    let px = &gfx["value"]["surfaces"][0]["pixels"];
    assert_eq!(px["$typed"], "u8");
    assert_eq!(px["len"], 640 * 480 * 4);
    assert_eq!(px["truncated"], true);
}

#[test]
fn surfaces_that_are_not_there_are_clear_errors() {
    let d = TempDir::new("gfx-errors");
    let img = life_image(&d);
    let png = d.path().join("x.png");

    let out = inspect(&[
        img.to_str().unwrap(),
        "--surface",
        "9",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no surface 9 in this image; surfaces present: 0"),
        "{}",
        stderr(&out)
    );
    assert!(!png.exists());
    let out = inspect(&[img.to_str().unwrap(), "--surface", "9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("surfaces present: 0"),
        "{}",
        stderr(&out)
    );

    // Into a directory that does not exist.
    let nowhere = d.path().join("no-such-dir").join("now.png");
    let out = inspect(&[
        img.to_str().unwrap(),
        "--surface",
        "0",
        "--png",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot write {}", nowhere.display()))
            && err.contains("does not exist"),
        "{err}"
    );

    // An image of a program that never drew.
    let plain = TempDir::new("gfx-none");
    let out = run(&example("dice"), &["--rolls", "2000"], plain.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let dice = plain.path().join("dice.ckpt");
    for args in [
        vec![dice.to_str().unwrap(), "--surface", "0"],
        vec![dice.to_str().unwrap(), "--png", png.to_str().unwrap()],
    ] {
        let out = inspect(&args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("this image has no graphics state: the program did not draw"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!png.exists());
}
