//! A particle world: a trait implemented by a struct, a generic function over `&[B]`,
//! `iter_mut` on a field, a VecDeque log, `max_by` into an Option field, and `while let`
//! over a queue with a borrowed element across the save.
use std::collections::VecDeque;

trait Body {
    fn step(&mut self, dt: f64);
    fn energy(&self) -> f64;
}

#[derive(ckpt::State, Debug, Clone)]
struct Particle {
    pos: (f64, f64),
    vel: (f64, f64),
    mass: f64,
}

impl Body for Particle {
    fn step(&mut self, dt: f64) {
        self.pos.0 += self.vel.0 * dt;
        self.pos.1 += self.vel.1 * dt;
        self.vel.1 -= 9.81 * dt;
        if self.pos.1 < 0.0 {
            self.pos.1 = -self.pos.1;
            self.vel.1 = -self.vel.1 * 0.9;
        }
    }
    fn energy(&self) -> f64 {
        0.5 * self.mass * (self.vel.0 * self.vel.0 + self.vel.1 * self.vel.1)
            + self.mass * 9.81 * self.pos.1
    }
}

fn total_energy<B: Body>(bodies: &[B]) -> f64 {
    bodies.iter().map(|b| b.energy()).sum()
}

#[derive(ckpt::State)]
struct World {
    particles: Vec<Particle>,
    time: f64,
    log: VecDeque<String>,
    best: Option<usize>,
}

#[ckpt::checkpointable]
impl World {
    fn run(&mut self, steps: usize) {
        let dt = 0.05;
        for s in 0..steps {
            for p in self.particles.iter_mut() {
                p.step(dt);
            }
            self.time += dt;
            let e = total_energy(&self.particles);
            self.log.push_back(format!("t={:.2} e={:.3}", self.time, e));
            if self.log.len() > 3 {
                self.log.pop_front();
            }
            let highest = self
                .particles
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.pos.1.partial_cmp(&b.1.pos.1).unwrap())
                .map(|(i, _)| i);
            self.best = highest;
            if s % 5 == 4 {
                ckpt::save().expect("checkpoint");
                println!("step {s}: {:?} best={:?}", self.log.back(), self.best);
            }
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut world = World {
        particles: (0..4)
            .map(|i| Particle {
                pos: (i as f64, 1.0 + i as f64),
                vel: (1.0, 0.5 * i as f64),
                mass: 1.0 + i as f64,
            })
            .collect(),
        time: 0.0,
        log: VecDeque::new(),
        best: None,
    };
    world.run(40);
    let mut queue: VecDeque<usize> = (0..world.particles.len()).collect();
    while let Some(i) = queue.pop_front() {
        let p = &world.particles[i];
        ckpt::save().expect("checkpoint");
        println!("particle {i}: ({:.3}, {:.3})", p.pos.0, p.pos.1);
    }
    println!("final energy {:.4}", total_energy(&world.particles));
}
