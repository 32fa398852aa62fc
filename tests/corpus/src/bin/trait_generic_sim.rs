//! `#[checkpointable] impl Sim for T` for two simulations, driven through a generic
//! `fn run<S: Sim>(sim: &mut S, ..)`; the trait method `step` saves.
trait Sim {
    fn name(&self) -> String;
    fn step(&mut self) -> bool;
    fn report(&self) -> String;
}

#[derive(ckpt::State)]
struct Ball {
    y: f64,
    vy: f64,
    bounces: u32,
}

#[ckpt::checkpointable]
impl Sim for Ball {
    fn name(&self) -> String {
        "bouncing ball".to_string()
    }

    fn step(&mut self) -> bool {
        self.vy -= 9.81 * 0.05;
        self.y += self.vy * 0.05;
        if self.y < 0.0 {
            self.y = -self.y;
            self.vy = -self.vy * 0.7;
            self.bounces += 1;
            ckpt::save().expect("checkpoint");
            println!("  bounce {} with speed {:.3}", self.bounces, self.vy);
        }
        self.bounces < 6
    }

    fn report(&self) -> String {
        format!("{} bounces, height {:.3}", self.bounces, self.y)
    }
}

#[derive(ckpt::State)]
struct Population {
    size: u64,
    generation: u32,
}

#[ckpt::checkpointable]
impl Sim for Population {
    fn name(&self) -> String {
        String::from("rabbits")
    }

    fn step(&mut self) -> bool {
        self.generation += 1;
        self.size = self.size * 3 / 2 + 1;
        if self.generation % 2 == 0 {
            ckpt::save().expect("checkpoint");
            println!("  generation {}: {} rabbits", self.generation, self.size);
        }
        self.size < 1_000
    }

    fn report(&self) -> String {
        format!(
            "{} rabbits after {} generations",
            self.size, self.generation
        )
    }
}

#[ckpt::checkpointable]
fn run<S: Sim>(sim: &mut S, max_steps: u32) -> u32 {
    println!("running {}", sim.name());
    let mut steps = 0;
    while steps < max_steps && sim.step() {
        steps += 1;
    }
    println!(
        "{} stopped after {steps} steps: {}",
        sim.name(),
        sim.report()
    );
    steps
}

#[ckpt::checkpointable]
fn main() {
    let mut ball = Ball {
        y: 10.0,
        vy: 0.0,
        bounces: 0,
    };
    let a = run(&mut ball, 500);
    let mut rabbits = Population {
        size: 2,
        generation: 0,
    };
    let b = run(&mut rabbits, 100);
    println!("total steps {}", a + b);
}
