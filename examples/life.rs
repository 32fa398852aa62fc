//! Conway's Game of Life on a 160×120 torus, drawn with `ckpt::gfx`: live cells, a
//! fading trail of the cells that died, and a text HUD. One frame per generation; a
//! checkpoint every `--save-every` frames (default 10).
//!
//! ```text
//! cargo run --release --example life -- --ckpt-display png:frames/   # frames/frame-000000.png, ...
//! kill -9 <pid>
//! cargo run --release --example life -- --restore life.ckpt          # frames/ continues
//! cargo run --release --example life -- --restore life.ckpt --ckpt-display window
//! cargo ckpt inspect life.ckpt --surface 0 --png now.png              # what it showed
//! ```
//!
//! `--frames N` stops after N generations (default 300); `--seed S` picks the start.
//! In a window, space pauses and Escape or closing the window ends the run.

use ckpt::gfx::{self, Color, Event, Font, Key, Surface};

const COLS: usize = 160;
const ROWS: usize = 120;
const CELL: f32 = 4.0;

#[derive(ckpt::State)]
struct Args {
    frames: u64,
    save_every: u64,
    seed: u64,
}

fn parse_args() -> Args {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Args {
        frames: get("--frames", 300),
        save_every: get("--save-every", 10).max(1),
        seed: get("--seed", 42),
    }
}

/// The board: 1 for a live cell; `age` counts the generations since a cell died (for the
/// trail), saturating.
#[derive(ckpt::State)]
struct World {
    cells: Vec<u8>,
    age: Vec<u8>,
    generation: u64,
}

impl World {
    fn random(seed: u64) -> World {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut cells = vec![0u8; COLS * ROWS];
        for c in cells.iter_mut() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *c = u8::from(s % 100 < 28);
        }
        World {
            cells,
            age: vec![255; COLS * ROWS],
            generation: 0,
        }
    }

    fn neighbours(&self, x: usize, y: usize) -> u8 {
        let mut n = 0;
        for dy in [ROWS - 1, 0, 1] {
            for dx in [COLS - 1, 0, 1] {
                if dx == 0 && dy == 0 {
                    continue;
                }
                n += self.cells[((y + dy) % ROWS) * COLS + (x + dx) % COLS];
            }
        }
        n
    }

    fn step(&mut self) {
        let mut next = vec![0u8; COLS * ROWS];
        for y in 0..ROWS {
            for x in 0..COLS {
                let i = y * COLS + x;
                let n = self.neighbours(x, y);
                next[i] = u8::from(n == 3 || (n == 2 && self.cells[i] == 1));
                if self.cells[i] == 1 && next[i] == 0 {
                    self.age[i] = 0;
                } else {
                    self.age[i] = self.age[i].saturating_add(1);
                }
            }
        }
        self.cells = next;
        self.generation += 1;
    }

    fn alive(&self) -> usize {
        self.cells.iter().filter(|&&c| c == 1).count()
    }
}

fn draw(screen: &mut Surface, world: &World, paused: bool) {
    screen.clear(Color::rgb(14, 16, 24));
    // The trail of cells that died recently, fading over 8 generations.
    for (i, &age) in world.age.iter().enumerate() {
        if age < 8 && world.cells[i] == 0 {
            let fade = 90 - age * 10;
            screen.set_fill(Color::rgb(fade / 2, fade / 3, fade));
            let (x, y) = (i % COLS, i / COLS);
            screen.fill_rect(x as f32 * CELL, y as f32 * CELL, CELL, CELL);
        }
    }
    // Live cells, one rectangle per horizontal run.
    screen.set_fill(Color::rgb(120, 220, 140));
    for y in 0..ROWS {
        let row = &world.cells[y * COLS..(y + 1) * COLS];
        let mut x = 0;
        while x < COLS {
            if row[x] == 0 {
                x += 1;
                continue;
            }
            let start = x;
            while x < COLS && row[x] == 1 {
                x += 1;
            }
            screen.fill_rect(
                start as f32 * CELL,
                y as f32 * CELL,
                (x - start) as f32 * CELL - 1.0,
                CELL - 1.0,
            );
        }
    }
    // The HUD: translucent panel, text.
    screen.set_fill(Color::rgba(0, 0, 0, 170));
    screen.fill_rect(6.0, 6.0, 250.0, 24.0);
    screen.set_fill(Color::WHITE);
    screen.set_font(Font::Mono, 13.0);
    let status = if paused { "  paused" } else { "" };
    let hud = format!(
        "gen {:4}  alive {:5}{status}",
        world.generation,
        world.alive()
    );
    screen.fill_text(&hud, 12.0, 23.0);
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args();
    let mut world = World::random(args.seed);
    let mut screen = Surface::new(COLS as u32 * CELL as u32, ROWS as u32 * CELL as u32)?;
    let mut paused = false;
    let mut shown = 0u64;
    while shown < args.frames {
        let mut quit = false;
        while let Some(ev) = gfx::poll_event() {
            match ev {
                Event::Closed | Event::KeyDown(Key::Escape) => quit = true,
                Event::KeyDown(Key::Char(' ')) => paused = !paused,
                _ => {}
            }
        }
        if quit {
            break;
        }
        draw(&mut screen, &world, paused);
        gfx::present(&screen)?;
        shown += 1;
        if paused {
            std::thread::sleep(std::time::Duration::from_millis(30));
        } else {
            world.step();
        }
        if shown % args.save_every == 0 {
            ckpt::save()?;
        }
    }
    println!(
        "result: {} frames, generation {}, {} alive",
        gfx::frame(),
        world.generation,
        world.alive()
    );
    Ok(())
}
