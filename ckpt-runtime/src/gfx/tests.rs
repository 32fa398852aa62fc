//! The engine's drawing semantics and its component: what is drawn where, and that an
//! image gives back every pixel and every piece of drawing state.

use std::sync::Mutex;

use super::component::{restore_component, save_component};
use super::engine;
use super::*;
use crate::state::{decode_slice, Encoder, Loader, Value};

/// The engine is process-global: these tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn white(w: u32, h: u32) -> Surface {
    let mut s = Surface::new(w, h).unwrap();
    s.clear(Color::WHITE);
    s
}

#[test]
fn fills_strokes_and_clips_land_where_asked() {
    let _g = serial();
    let mut s = white(100, 100);
    s.set_fill(Color::rgb(255, 0, 0));
    s.save_state();
    s.clip_rect(0.0, 0.0, 50.0, 100.0);
    s.fill_rect(10.0, 10.0, 80.0, 80.0);
    s.restore_state();
    assert_eq!(s.pixel(20, 50), Color::rgb(255, 0, 0));
    assert_eq!(s.pixel(70, 50), Color::WHITE, "clipped away");
    // The clip went with the popped state.
    s.fill_rect(60.0, 60.0, 10.0, 10.0);
    assert_eq!(s.pixel(65, 65), Color::rgb(255, 0, 0));
    // A stroke of width 4 along y = 95.
    s.set_stroke(Color::rgb(0, 0, 255));
    s.set_line_width(4.0);
    s.line(0.0, 95.0, 100.0, 95.0);
    assert_eq!(s.pixel(50, 95), Color::rgb(0, 0, 255));
    assert_eq!(s.pixel(50, 90), Color::WHITE);
    // Dashes leave gaps.
    s.set_dash(&[10.0, 10.0], 0.0);
    s.line(0.0, 3.0, 100.0, 3.0);
    assert_eq!(s.pixel(5, 3), Color::rgb(0, 0, 255));
    assert_eq!(s.pixel(15, 3), Color::WHITE);
}

#[test]
fn transforms_blending_alpha_and_gradients() {
    let _g = serial();
    let mut s = white(100, 100);
    s.translate(50.0, 50.0);
    s.scale(2.0, 2.0);
    s.set_fill(Color::rgb(0, 128, 0));
    s.fill_rect(0.0, 0.0, 10.0, 10.0); // 50..70 on screen
    assert_eq!(s.pixel(65, 65), Color::rgb(0, 128, 0));
    assert_eq!(s.pixel(45, 45), Color::WHITE);
    assert_eq!(s.transform().apply(1.0, 1.0), (52.0, 52.0));
    s.set_transform(Transform::identity());
    // Multiply white by a color gives the color; over green gives darker.
    s.set_blend(BlendMode::Multiply);
    s.set_fill(Color::rgb(255, 0, 255));
    s.fill_rect(0.0, 0.0, 100.0, 10.0);
    assert_eq!(s.pixel(5, 5), Color::rgb(255, 0, 255));
    s.set_blend(BlendMode::SourceOver);
    // Half opacity over white.
    s.set_alpha(0.5);
    s.set_fill(Color::BLACK);
    s.fill_rect(0.0, 20.0, 10.0, 10.0);
    let c = s.pixel(5, 25);
    assert!((126..=129).contains(&c.r), "{c:?}");
    s.set_alpha(1.0);
    // A horizontal gradient: black at the left, white at the right.
    s.set_fill(Paint::linear(
        (0.0, 0.0),
        (100.0, 0.0),
        Color::BLACK,
        Color::WHITE,
    ));
    s.fill_rect(0.0, 40.0, 100.0, 10.0);
    let (l, m, r) = (s.pixel(1, 45).r, s.pixel(50, 45).r, s.pixel(98, 45).r);
    assert!(l < 10 && (115..140).contains(&m) && r > 245, "{l} {m} {r}");
    s.set_fill(Paint::radial(
        (50.0, 80.0),
        15.0,
        Color::BLACK,
        Color::WHITE,
    ));
    s.fill_rect(30.0, 60.0, 40.0, 40.0);
    assert!(s.pixel(50, 80).r < 20);
    assert!(s.pixel(31, 61).r > 240);
}

#[test]
fn text_images_and_surfaces_onto_surfaces() {
    let _g = serial();
    let mut s = white(120, 40);
    s.set_font(Font::Sans, 20.0);
    let w = s.measure_text("Hello");
    assert!((40.0..70.0).contains(&w), "{w}");
    s.set_fill(Color::BLACK);
    s.fill_text("Hello", 5.0, 28.0);
    let dark = (0..120)
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| s.pixel(x, y).r < 128)
        .collect::<Vec<_>>();
    assert!(dark.len() > 60, "{} dark pixels", dark.len());
    assert!(dark
        .iter()
        .all(|&(x, y)| (4..70).contains(&x) && (8..33).contains(&y)));
    // The same text draws the same pixels again (glyphs are cached).
    let mut t = white(120, 40);
    t.set_font(Font::Sans, 20.0);
    t.set_fill(Color::BLACK);
    t.fill_text("Hello", 5.0, 28.0);
    assert_eq!(t.to_rgba(), s.to_rgba());
    // PNG round trip, then drawn at an offset onto another surface.
    let png = s.to_png().unwrap();
    let back = Surface::from_png(&png).unwrap();
    assert_eq!(back.to_rgba(), s.to_rgba());
    let mut big = white(200, 100);
    big.draw_surface(&back, 50.0, 50.0);
    assert_eq!(
        big.pixel(50 + dark[0].0, 50 + dark[0].1),
        s.pixel(dark[0].0, dark[0].1)
    );
    assert!(Surface::from_png(b"not a png").is_err());
    assert!(Surface::new(0, 10).is_err());
    assert!(Surface::new(10, 20_000).is_err());
}

/// Encodes the component and decodes it: the entry a restore sees.
fn saved() -> Value {
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    save_component(&mut e).unwrap();
    e.finish().unwrap();
    decode_slice(&bytes).unwrap().0
}

fn restore(v: Value) -> crate::Result<()> {
    restore_component(v, &mut Loader::new(Vec::<Option<Value>>::new()))
}

#[test]
fn the_component_gives_back_pixels_state_and_frames() {
    let _g = serial();
    let mut a = white(64, 48);
    a.set_fill(Paint::radial(
        (32.0, 24.0),
        20.0,
        Color::rgb(200, 0, 0),
        Color::TRANSPARENT,
    ));
    a.fill_path(&Path::circle(32.0, 24.0, 20.0));
    a.save_state();
    a.rotate(30.0);
    a.clip_rect(0.0, 0.0, 30.0, 30.0);
    a.set_font(Font::Mono, 11.0);
    let b = Surface::new(3, 2).unwrap();
    let (pixels, state, stack) = engine::with(|e| {
        e.frame = 17;
        e.shown = Some(a.id);
        let s = &e.surfaces[&a.id];
        (s.pix.data().to_vec(), s.st.clone(), s.stack.clone())
    });
    let v = saved();
    // Everything gone, then back from the entry.
    *engine::lock_if_used() = None;
    restore(v).unwrap();
    engine::with(|e| {
        assert_eq!(e.frame, 17);
        assert_eq!(e.shown, Some(a.id));
        let s = &e.surfaces[&a.id];
        assert_eq!(s.pix.data(), &pixels[..]);
        assert_eq!(s.st, state);
        assert_eq!(s.stack, stack);
        assert_eq!(e.surfaces[&b.id].pix.width(), 3);
    });
    // The clip came back too: drawing after the restore is clipped the same way.
    a.set_fill(Color::BLACK);
    a.fill_rect(-100.0, -100.0, 300.0, 300.0);
    assert_ne!(a.pixel(63, 47), Color::BLACK, "outside the rotated clip");
    assert_eq!(a.pixel(4, 14), Color::BLACK, "inside the rotated clip");
}

/// A component entry's fields.
type Fields = [(Value, Value)];

fn surfaces(m: &mut Fields) -> &mut Vec<Value> {
    let entry = m
        .iter_mut()
        .find(|(k, _)| *k == Value::Text("surfaces".into()));
    match &mut entry.unwrap().1 {
        Value::Array(items) => &mut *items,
        _ => unreachable!(),
    }
}

#[test]
fn malformed_component_entries_are_clear_errors() {
    let _g = serial();
    let s = white(4, 4);
    let good = saved();
    let edit = |f: &dyn Fn(&mut Fields)| {
        let mut v = good.clone();
        if let Value::Map(m) = &mut v {
            f(&mut *m);
        }
        v
    };
    let cut_pixels = edit(&|m| {
        let items = surfaces(m);
        for it in items.iter_mut() {
            if let Value::Map(f) = it {
                for (k, v) in f.iter_mut() {
                    if *k == Value::Text("pixels".into()) {
                        *v = Value::Typed(crate::state::TypedArray::U8(vec![0; 7]));
                    }
                }
            }
        }
    });
    let e = restore(cut_pixels).unwrap_err().to_string();
    assert!(e.contains("bytes of pixels"), "{e}");
    let no_surfaces = edit(&|m| {
        surfaces(m).clear();
        for (k, v) in m.iter_mut() {
            if *k == Value::Text("shown".into()) {
                *v = Value::Array(vec![Value::Uint(0)].into());
            }
        }
    });
    let e = restore(no_surfaces).unwrap_err().to_string();
    assert!(e.contains("shown surface"), "{e}");
    assert!(restore(Value::Text("x".into())).is_err());
    // Whatever failed, the engine in place is untouched.
    assert_eq!(s.width(), 4);
}

/// The opaque-rectangle fast path writes exactly the rasterizer's pixels.
#[test]
fn opaque_rectangles_match_the_rasterizer() {
    let _g = serial();
    let mut fast = Surface::new(97, 61).unwrap();
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut next = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m) as f32
    };
    let mut rects = Vec::new();
    for _ in 0..300 {
        let r = (
            next(120) - 10.0,
            next(80) - 10.0,
            next(40) + 1.0,
            next(30) + 1.0,
        );
        let c = Color::rgb(next(256) as u8, next(256) as u8, next(256) as u8);
        let t = (next(5) - 2.0, next(5) - 2.0);
        rects.push((r, c, t));
    }
    for ((x, y, w, h), c, (tx, ty)) in &rects {
        fast.set_transform(Transform::translate(*tx, *ty));
        fast.set_fill(*c);
        fast.fill_rect(*x, *y, *w, *h);
    }
    let mut slow = tiny_skia::Pixmap::new(97, 61).unwrap();
    for ((x, y, w, h), c, (tx, ty)) in &rects {
        let paint = tiny_skia::Paint {
            shader: tiny_skia::Shader::SolidColor(c.to_skia()),
            ..Default::default()
        };
        let r = tiny_skia::Rect::from_xywh(*x, *y, *w, *h).unwrap();
        slow.fill_rect(
            r,
            &paint,
            tiny_skia::Transform::from_translate(*tx, *ty),
            None,
        );
    }
    engine::with(|e| assert!(e.surfaces[&fast.id].pix.data() == slow.data()));
}

/// A program that ends with `std::process::exit` still writes the frames it presented:
/// this test runs itself again as that program, in a directory of its own.
#[test]
fn frames_presented_before_process_exit_are_written() {
    const CHILD: &str = "CKPT_GFX_TEST_EXIT_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let mut s = Surface::new(800, 600).unwrap();
        for i in 0..6u8 {
            s.clear(Color::rgb(i * 40, 0, 0));
            present(&s).unwrap();
        }
        std::process::exit(0);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "gfx::tests::frames_presented_before_process_exit_are_written",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = std::fs::read_dir(dir.path().join("frames"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".png")
        })
        .count();
    assert_eq!(n, 6, "frames written before the exit");
}
