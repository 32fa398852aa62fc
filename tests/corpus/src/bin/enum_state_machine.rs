//! A traffic-light state machine: `match self.state` in a `&mut self` method that saves,
//! driven by a `while` loop, with data-carrying variants.
#[derive(Debug, Clone, PartialEq, ckpt::State)]
enum Light {
    Red { waited: u32 },
    Green,
    Yellow(u8),
}

#[derive(ckpt::State)]
struct Crossing {
    state: Light,
    cycles: u32,
    log: Vec<String>,
}

#[ckpt::checkpointable]
impl Crossing {
    fn step(&mut self) {
        self.state = match &self.state {
            Light::Red { waited } if *waited < 2 => Light::Red { waited: waited + 1 },
            Light::Red { .. } => Light::Green,
            Light::Green => Light::Yellow(3),
            Light::Yellow(0) => {
                self.cycles += 1;
                Light::Red { waited: 0 }
            }
            Light::Yellow(n) => Light::Yellow(n - 1),
        };
        self.log.push(format!("{:?}", self.state));
        ckpt::save().expect("checkpoint");
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut c = Crossing {
        state: Light::Red { waited: 0 },
        cycles: 0,
        log: Vec::new(),
    };
    while c.cycles < 3 {
        c.step();
        println!("{:>3}: {}", c.log.len(), c.log.last().unwrap());
    }
}
