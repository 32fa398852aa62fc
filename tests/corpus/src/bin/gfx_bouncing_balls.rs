//! Balls bouncing in a box, drawn with `ckpt::gfx` by methods of a struct that owns the
//! screen surface and a `Vec` of balls; an iterator chain sums their energy. Frames go to
//! `frames/` (the default display); one save every 4 frames.
use ckpt::gfx::{self, Color, Font, Paint, Path, Surface};

#[derive(ckpt::State, Clone)]
struct Ball {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    r: f32,
    color: Color,
}

#[derive(ckpt::State)]
struct Scene {
    screen: Surface,
    balls: Vec<Ball>,
    bounces: u32,
}

impl Scene {
    fn new(width: u32, height: u32) -> std::io::Result<Scene> {
        let colors = [
            Color::rgb(230, 80, 60),
            Color::rgb(60, 140, 230),
            Color::rgb(80, 190, 100),
            Color::rgb(240, 190, 40),
        ];
        let balls = (0..6)
            .map(|i| Ball {
                x: 30.0 + i as f32 * 35.0,
                y: 40.0 + (i % 3) as f32 * 30.0,
                vx: 3.0 - i as f32,
                vy: 1.5 + i as f32 * 0.7,
                r: 8.0 + (i % 3) as f32 * 4.0,
                color: colors[i % colors.len()],
            })
            .collect();
        Ok(Scene {
            screen: Surface::new(width, height)?,
            balls,
            bounces: 0,
        })
    }

    fn update(&mut self) {
        let (w, h) = (self.screen.width() as f32, self.screen.height() as f32);
        for b in self.balls.iter_mut() {
            b.vy += 0.4;
            b.x += b.vx;
            b.y += b.vy;
            if b.x < b.r || b.x > w - b.r {
                b.vx = -b.vx;
                b.x = b.x.clamp(b.r, w - b.r);
                self.bounces += 1;
            }
            if b.y > h - b.r {
                b.vy = -b.vy * 0.9;
                b.y = h - b.r;
                self.bounces += 1;
            }
        }
    }

    fn energy(&self) -> f32 {
        self.balls
            .iter()
            .map(|b| 0.5 * (b.vx * b.vx + b.vy * b.vy))
            .sum()
    }

    fn draw(&mut self) {
        let h = self.screen.height() as f32;
        self.screen.set_fill(Paint::linear(
            (0.0, 0.0),
            (0.0, h),
            Color::rgb(250, 250, 255),
            Color::rgb(200, 210, 230),
        ));
        self.screen.fill_rect(0.0, 0.0, 240.0, h);
        for ball in &self.balls {
            self.screen.set_fill(ball.color);
            self.screen.fill_path(&Path::circle(ball.x, ball.y, ball.r));
        }
        let label = format!("bounces {}", self.bounces);
        self.screen.set_fill(Color::BLACK);
        self.screen.set_font(Font::Sans, 12.0);
        self.screen.fill_text(&label, 6.0, 16.0);
    }
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let mut scene = Scene::new(240, 160)?;
    for frame in 0..40 {
        scene.update();
        scene.draw();
        gfx::present(&scene.screen)?;
        println!("frame {frame}: energy {:.3}", scene.energy());
        if frame % 4 == 3 {
            ckpt::save().map_err(std::io::Error::other)?;
        }
    }
    println!("bounces: {}", scene.bounces);
    Ok(())
}
