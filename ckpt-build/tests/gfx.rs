//! `inspect` of the `gfx` component (the graphics engine's state) on images written here
//! with `ckpt::image::write`: the summary, `--surface N`, `--png FILE`, and the errors.

mod common;

use std::path::Path;
use std::process::Command;

use ckpt::image::{Fingerprint, Header, FORMAT_VERSION};
use ckpt::state::Encoder;
use ckpt::Error;
use ckpt_build::{inspect, Exit, GfxError, InspectOptions};
use common::TempDir;

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint {
            crate_name: "painter".into(),
            crate_version: "0.1.0".into(),
            sources: "0123456789abcdef".into(),
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            target: "x86_64-unknown-linux-gnu".into(),
        },
        created_unix: 1_700_000_000,
        program: "painter".into(),
        args: vec!["painter".into()],
        ckpt_file: None,
        options: vec![],
    }
}

/// Opaque red, then transparent: 2×1 premultiplied RGBA.
const PIXELS: [u8; 8] = [255, 0, 0, 255, 0, 0, 0, 0];

/// One surface as the `gfx` component writes it; `pixels` may be short (corrupt).
fn surface(e: &mut Encoder<'_>, id: u64, w: u64, h: u64, pixels: &[u8]) -> Result<(), Error> {
    e.map(6);
    e.text("id");
    e.uint(id);
    e.text("width");
    e.uint(w);
    e.text("height");
    e.uint(h);
    e.text("state");
    e.map(3);
    e.text("transform");
    e.map(6);
    for (k, v) in [
        ("sx", 2.0f32),
        ("ky", 0.0),
        ("kx", 0.0),
        ("sy", 2.0),
        ("tx", 5.0),
        ("ty", 0.0),
    ] {
        e.text(k);
        e.put(&v)?;
    }
    e.text("font");
    e.text("Mono");
    e.text("clip");
    e.array(2);
    e.null();
    e.null();
    e.text("stack");
    e.array(1);
    e.map(0);
    e.text("pixels");
    e.put(&pixels.to_vec())
}

/// Writes one value of an image.
type Put<'a> = &'a mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>;

/// An image whose `gfx` component is written by `gfx` (no component when `None`).
fn write(path: &Path, mut gfx: Option<Put<'_>>) {
    ckpt::image::write(
        path,
        &header(),
        &mut |e| {
            e.array(1);
            e.map(6);
            e.text("fn");
            e.text("painter::main");
            e.text("hash");
            e.uint(1);
            e.text("at");
            e.uint(0);
            e.text("live");
            e.map(0);
            e.text("args");
            e.map(0);
            e.text("lent");
            e.map(0);
            Ok(())
        },
        &mut |e| match gfx.as_mut() {
            Some(g) => {
                e.map(1);
                e.text("gfx");
                g(e)
            }
            None => {
                e.map(1);
                e.text("rand");
                e.uint(7);
                Ok(())
            }
        },
    )
    .expect("write image");
}

/// Surfaces 0 (2×1, shown, drawn on since) and 3 (2×2 with 15 bytes of pixels: corrupt),
/// after 4 frames.
fn write_gfx(path: &Path) {
    write(
        path,
        Some(&mut |e| {
            e.map(6);
            e.text("frame");
            e.uint(4);
            e.text("next_id");
            e.uint(4);
            e.text("shown");
            e.put(&Some(0u64))?;
            e.text("dirty");
            e.bool(true);
            e.text("script_pos");
            e.uint(0);
            e.text("surfaces");
            e.array(2);
            surface(e, 0, 2, 1, &PIXELS)?;
            surface(e, 3, 2, 2, &[0; 15])
        }),
    );
}

fn cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-ckpt"))
        .args(["ckpt", "inspect"])
        .args(args)
        .output()
        .expect("run cargo-ckpt")
}

#[test]
fn summary_and_surface_state() {
    let d = TempDir::new("gfx-summary");
    let img = d.path().join("p.ckpt");
    write_gfx(&img);
    let text = inspect(&img, &InspectOptions::default()).expect("inspect");
    for needle in [
        "  gfx = 4 frames presented (the last: frame 3); shown: surface 0 (drawn on since); \
         2 surfaces",
        "      surface 0: 2×1, shown, drawn on since frame 3 was presented, 1 saved drawing state",
        "      surface 3: 2×2, 1 saved drawing state",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    let s =
        ckpt_build::inspect::surface(&img, Some(0), &InspectOptions::default()).expect("surface 0");
    for needle in [
        "surface 0: 2×1, shown, drawn on since frame 3 was presented",
        "transform:  [sx ky kx sy tx ty] = [2.0 0.0 0.0 2.0 5.0 0.0]",
        "font:       Mono ? px",
        "clip:       2 regions",
        "stack:      depth 1",
        "pixels:     8 bytes",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in:\n{s}");
    }
    // Without a number: the shown surface.
    let shown =
        ckpt_build::inspect::surface(&img, None, &InspectOptions::default()).expect("shown");
    assert_eq!(shown, s);
    let json = InspectOptions {
        json: true,
        ..InspectOptions::default()
    };
    let doc: serde_json::Value =
        serde_json::from_str(&ckpt_build::inspect::surface(&img, Some(0), &json).expect("--json"))
            .expect("JSON");
    assert_eq!(doc["width"], 2);
    assert_eq!(doc["shown"], true);
    assert_eq!(doc["stack_depth"], 1);

    // A surface whose pixels do not fill it: a corrupt image.
    let e = ckpt_build::inspect::surface(&img, Some(3), &InspectOptions::default()).unwrap_err();
    assert!(matches!(e, GfxError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("surface 3: 15 bytes of pixels for 2×2 (expected 16)"),
        "{e}"
    );
    assert_eq!(Exit::from(&e), Exit::Damaged);
}

#[test]
fn png_and_errors_through_the_binary() {
    let d = TempDir::new("gfx-png");
    let img = d.path().join("p.ckpt");
    write_gfx(&img);
    let png = d.path().join("now.png");
    let out = cli(&[img.as_os_str(), "--png".as_ref(), png.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "wrote surface 0 (the shown one; 2×1, frame 3, drawn on since) to {}\n",
            png.display()
        )
    );
    assert_eq!(
        std::fs::read(&png).unwrap(),
        ckpt::gfx::png_of_premultiplied(2, 1, &PIXELS).unwrap()
    );

    let code = |args: &[&std::ffi::OsStr]| {
        let out = cli(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (c, err) = code(&[img.as_os_str(), "--surface".as_ref(), "7".as_ref()]);
    assert_eq!(c, Some(2), "{err}");
    assert!(
        err.contains("no surface 7 in this image; surfaces present: 0, 3"),
        "{err}"
    );
    let bad = d.path().join("bad.png");
    let (c, err) = code(&[
        img.as_os_str(),
        "--surface".as_ref(),
        "3".as_ref(),
        "--png".as_ref(),
        bad.as_os_str(),
    ]);
    assert_eq!(c, Some(4), "{err}");
    assert!(err.contains("corrupt image"), "{err}");
    assert!(!bad.exists());
    let (c, err) = code(&[img.as_os_str(), "--png".as_ref(), d.path().as_os_str()]);
    assert_eq!(c, Some(3), "{err}");
    assert!(err.contains("it is a directory"), "{err}");

    // No component, and a `null` one: the program never drew.
    let none = d.path().join("none.ckpt");
    write(&none, None);
    let null = d.path().join("null.ckpt");
    write(
        &null,
        Some(&mut |e| {
            e.null();
            Ok(())
        }),
    );
    for p in [&none, &null] {
        let (c, err) = code(&[p.as_os_str(), "--surface".as_ref(), "0".as_ref()]);
        assert_eq!(c, Some(2), "{err}");
        assert!(
            err.contains("this image has no graphics state: the program did not draw"),
            "{err}"
        );
    }
    let text = inspect(&null, &InspectOptions::default()).expect("inspect");
    assert!(
        text.contains("gfx = null (the program did not draw)"),
        "{text}"
    );
}
