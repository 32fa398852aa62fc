//! A small paint program: drag with the left button to draw, the right button erases,
//! `c` picks the next color, `+`/`-` change the brush, `x` clears, Escape or closing the
//! window ends it. The picture lives on an offscreen surface that is composed with a
//! toolbar and the brush cursor into every frame. A checkpoint every 10 frames.
//!
//! Without a window, input comes from a script of events (`--ckpt-events FILE`, see
//! `examples/paint.events`):
//!
//! ```text
//! cargo run --release --example paint -- --ckpt-events examples/paint.events
//! cargo run --release --example paint -- --ckpt-display window --frames 100000
//! ```

use ckpt::gfx::{self, BlendMode, Button, Color, Event, Font, Key, LineCap, Paint, Path, Surface};

const W: u32 = 480;
const H: u32 = 360;
const BAR: f32 = 32.0;

const PALETTE: [Color; 5] = [
    Color::rgb(20, 20, 30),
    Color::rgb(220, 50, 50),
    Color::rgb(40, 130, 220),
    Color::rgb(40, 170, 90),
    Color::rgb(240, 180, 20),
];

#[derive(ckpt::State)]
struct Brush {
    color: usize,
    size: f32,
    /// Where the pointer is, and where the stroke being drawn was last.
    at: (f32, f32),
    down: Option<(Button, (f32, f32))>,
}

fn stroke_to(canvas: &mut Surface, brush: &Brush, to: (f32, f32)) {
    let Some((button, from)) = brush.down else {
        return;
    };
    canvas.save_state();
    if button == Button::Right {
        canvas.set_blend(BlendMode::Source);
        canvas.set_stroke(Color::WHITE);
    } else {
        canvas.set_stroke(PALETTE[brush.color]);
    }
    canvas.set_line_width(brush.size);
    canvas.set_line_cap(LineCap::Round);
    canvas.line(from.0, from.1, to.0, to.1);
    canvas.restore_state();
}

fn compose(screen: &mut Surface, canvas: &Surface, brush: &Brush, strokes: u64) {
    screen.clear(Color::rgb(200, 200, 205));
    screen.draw_surface(canvas, 0.0, BAR);
    // Toolbar: the palette with the current color ringed, the brush size, a counter.
    screen.set_fill(Paint::linear(
        (0.0, 0.0),
        (0.0, BAR),
        Color::rgb(70, 74, 90),
        Color::rgb(40, 42, 52),
    ));
    screen.fill_rect(0.0, 0.0, W as f32, BAR);
    for (i, c) in PALETTE.iter().enumerate() {
        let cx = 20.0 + i as f32 * 26.0;
        screen.set_fill(*c);
        screen.fill_path(&Path::circle(cx, BAR / 2.0, 9.0));
        if i == brush.color {
            screen.set_stroke(Color::WHITE);
            screen.set_line_width(2.0);
            screen.stroke_path(&Path::circle(cx, BAR / 2.0, 12.0));
        }
    }
    screen.set_fill(Color::rgb(235, 235, 240));
    screen.set_font(Font::Sans, 13.0);
    let label = format!("brush {:.0}   strokes {strokes}", brush.size);
    screen.fill_text(&label, 160.0, 21.0);
    // The cursor: a ring of the brush's size.
    if brush.at.1 > BAR {
        screen.set_stroke(Color::rgba(0, 0, 0, 140));
        screen.set_line_width(1.0);
        screen.stroke_path(&Path::circle(brush.at.0, brush.at.1, brush.size / 2.0));
    }
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let frames: u64 = args
        .iter()
        .position(|a| a == "--frames")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut screen = Surface::new(W, H + BAR as u32)?;
    let mut canvas = Surface::new(W, H)?;
    canvas.clear(Color::WHITE);
    let mut brush = Brush {
        color: 0,
        size: 8.0,
        at: (0.0, 0.0),
        down: None,
    };
    let mut strokes = 0u64;
    let mut done = false;
    while !done && gfx::frame() < frames {
        while let Some(ev) = gfx::poll_event() {
            match ev {
                Event::MouseDown { x, y, button } => {
                    brush.down = Some((button, (x, y - BAR)));
                    strokes += 1;
                }
                Event::MouseMove { x, y } => {
                    stroke_to(&mut canvas, &brush, (x, y - BAR));
                    if let Some((_, at)) = brush.down.as_mut() {
                        *at = (x, y - BAR);
                    }
                    brush.at = (x, y);
                }
                Event::MouseUp { x, y, .. } => {
                    stroke_to(&mut canvas, &brush, (x, y - BAR));
                    brush.down = None;
                }
                Event::KeyDown(Key::Char('c')) => brush.color = (brush.color + 1) % PALETTE.len(),
                Event::KeyDown(Key::Char('+')) => brush.size = (brush.size + 2.0).min(40.0),
                Event::KeyDown(Key::Char('-')) => brush.size = (brush.size - 2.0).max(2.0),
                Event::KeyDown(Key::Char('x')) => canvas.clear(Color::WHITE),
                Event::KeyDown(Key::Escape) | Event::Closed => done = true,
                _ => {}
            }
        }
        compose(&mut screen, &canvas, &brush, strokes);
        gfx::present(&screen)?;
        if gfx::frame() % 10 == 0 {
            ckpt::save()?;
        }
    }
    println!("result: {} frames, {strokes} strokes", gfx::frame());
    Ok(())
}
