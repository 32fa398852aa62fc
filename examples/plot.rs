//! Simulates predators and prey (the Lotka–Volterra equations, integrated with RK4) and
//! plots both populations as they evolve: axes with ticks and labels, a dashed grid, a
//! gradient under the prey curve, a legend. One frame per simulated point; a checkpoint
//! every 5 frames.
//!
//! ```text
//! cargo run --release --example plot -- --points 240                # frames/ as PNGs
//! cargo run --release --example plot -- --ckpt-display window       # waits for close
//! ```

use ckpt::gfx::{self, Color, Event, Font, LineJoin, Paint, Path, Surface};

const W: u32 = 720;
const H: u32 = 420;
/// The plot area inside the margins.
const LEFT: f32 = 64.0;
const RIGHT: f32 = 700.0;
const TOP: f32 = 48.0;
const BOTTOM: f32 = 370.0;

#[derive(Clone, Copy, ckpt::State)]
struct Pops {
    prey: f64,
    predators: f64,
}

fn deriv(p: Pops) -> Pops {
    let (a, b, c, d) = (1.1, 0.4, 0.4, 0.1);
    Pops {
        prey: a * p.prey - b * p.prey * p.predators,
        predators: d * p.prey * p.predators - c * p.predators,
    }
}

fn rk4(p: Pops, h: f64) -> Pops {
    let add = |p: Pops, k: Pops, s: f64| Pops {
        prey: p.prey + k.prey * s,
        predators: p.predators + k.predators * s,
    };
    let k1 = deriv(p);
    let k2 = deriv(add(p, k1, h / 2.0));
    let k3 = deriv(add(p, k2, h / 2.0));
    let k4 = deriv(add(p, k3, h));
    Pops {
        prey: p.prey + h / 6.0 * (k1.prey + 2.0 * k2.prey + 2.0 * k3.prey + k4.prey),
        predators: p.predators
            + h / 6.0 * (k1.predators + 2.0 * k2.predators + 2.0 * k3.predators + k4.predators),
    }
}

/// A "nice" tick step for a range: 1, 2 or 5 times a power of ten.
fn tick_step(range: f64, ticks: f64) -> f64 {
    let raw = range / ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn render(screen: &mut Surface, history: &[Pops], total: usize) {
    let ymax = history
        .iter()
        .map(|p| p.prey.max(p.predators))
        .fold(1.0f64, f64::max)
        * 1.1;
    let x_of = |i: usize| LEFT + (RIGHT - LEFT) * i as f32 / (total.max(2) - 1) as f32;
    let y_of = |v: f64| BOTTOM - (BOTTOM - TOP) * (v / ymax) as f32;

    screen.clear(Color::WHITE);
    screen.set_fill(Color::rgb(30, 30, 40));
    screen.set_font(Font::SansBold, 18.0);
    screen.fill_text("Predators and prey", LEFT, 30.0);

    // Grid and y labels.
    let step = tick_step(ymax, 6.0);
    screen.set_font(Font::Sans, 12.0);
    let mut v = 0.0;
    while v <= ymax {
        let y = y_of(v);
        screen.set_stroke(Color::rgb(210, 214, 222));
        screen.set_line_width(1.0);
        screen.set_dash(&[4.0, 4.0], 0.0);
        screen.line(LEFT, y, RIGHT, y);
        screen.set_dash(&[], 0.0);
        let label = format!("{v:.0}");
        let w = screen.measure_text(&label);
        screen.set_fill(Color::rgb(60, 60, 70));
        screen.fill_text(&label, LEFT - 8.0 - w, y + 4.0);
        v += step;
    }
    // x labels: the simulated time.
    for i in (0..total).step_by((total / 6).max(1)) {
        let label = format!("t={:.0}", i as f64 * 0.1);
        let w = screen.measure_text(&label);
        screen.set_fill(Color::rgb(60, 60, 70));
        screen.fill_text(&label, x_of(i) - w / 2.0, BOTTOM + 18.0);
    }
    // Axes.
    screen.set_stroke(Color::rgb(40, 40, 50));
    screen.set_line_width(1.5);
    screen.line(LEFT, TOP, LEFT, BOTTOM);
    screen.line(LEFT, BOTTOM, RIGHT, BOTTOM);

    // The curves, clipped to the plot area.
    screen.save_state();
    screen.clip_rect(LEFT, TOP, RIGHT - LEFT, BOTTOM - TOP);
    if history.len() >= 2 {
        let prey: Vec<(f32, f32)> = history
            .iter()
            .enumerate()
            .map(|(i, p)| (x_of(i), y_of(p.prey)))
            .collect();
        let mut area = Path::polyline(&prey, false);
        area.line_to(x_of(history.len() - 1), BOTTOM)
            .line_to(LEFT, BOTTOM)
            .close();
        screen.set_fill(Paint::linear(
            (0.0, TOP),
            (0.0, BOTTOM),
            Color::rgba(40, 160, 90, 120),
            Color::rgba(40, 160, 90, 10),
        ));
        screen.fill_path(&area);
        screen.set_line_join(LineJoin::Round, 4.0);
        screen.set_line_width(2.5);
        screen.set_stroke(Color::rgb(30, 140, 70));
        screen.stroke_path(&Path::polyline(&prey, false));
        let predators: Vec<(f32, f32)> = history
            .iter()
            .enumerate()
            .map(|(i, p)| (x_of(i), y_of(p.predators)))
            .collect();
        screen.set_stroke(Color::rgb(200, 60, 50));
        screen.stroke_path(&Path::polyline(&predators, false));
        // The newest points.
        let last = history[history.len() - 1];
        let x = x_of(history.len() - 1);
        screen.set_fill(Color::rgb(30, 140, 70));
        screen.fill_path(&Path::circle(x, y_of(last.prey), 4.0));
        screen.set_fill(Color::rgb(200, 60, 50));
        screen.fill_path(&Path::circle(x, y_of(last.predators), 4.0));
    }
    screen.restore_state();

    // Legend.
    screen.set_fill(Color::rgba(255, 255, 255, 230));
    screen.fill_rect(RIGHT - 150.0, TOP + 8.0, 140.0, 48.0);
    screen.set_stroke(Color::rgb(180, 180, 190));
    screen.set_line_width(1.0);
    screen.stroke_rect(RIGHT - 150.0, TOP + 8.0, 140.0, 48.0);
    for (row, (name, color)) in [
        ("prey", Color::rgb(30, 140, 70)),
        ("predators", Color::rgb(200, 60, 50)),
    ]
    .iter()
    .enumerate()
    {
        let y = TOP + 26.0 + row as f32 * 20.0;
        screen.set_stroke(*color);
        screen.set_line_width(3.0);
        screen.line(RIGHT - 140.0, y - 4.0, RIGHT - 116.0, y - 4.0);
        screen.set_fill(Color::rgb(40, 40, 50));
        screen.fill_text(name, RIGHT - 108.0, y);
    }
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let points: usize = args
        .iter()
        .position(|a| a == "--points")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let mut screen = Surface::new(W, H)?;
    let mut history = vec![Pops {
        prey: 10.0,
        predators: 5.0,
    }];
    while history.len() <= points {
        render(&mut screen, &history, points + 1);
        gfx::present(&screen)?;
        let last = history[history.len() - 1];
        history.push(rk4(last, 0.1));
        if history.len() % 5 == 0 {
            ckpt::save()?;
        }
    }
    let last = history[history.len() - 1];
    println!(
        "result: {} frames, prey {:.4}, predators {:.4}",
        gfx::frame(),
        last.prey,
        last.predators
    );
    if gfx::interactive() {
        println!("plot: shown; close the window to exit");
        loop {
            match gfx::wait_event(std::time::Duration::from_millis(500)) {
                Some(Event::Closed) => break,
                _ => ckpt::safepoint()?,
            }
        }
    }
    Ok(())
}
