//! A `#[checkpointable]` trait whose default method loops and saves, calling a required
//! method; two types use the default, one overrides it.
#[ckpt::checkpointable]
trait Job {
    fn unit(&mut self, i: u32) -> u32;
    fn name(&self) -> &str;
    fn run(&mut self, n: u32) -> u32 {
        let mut acc = 0;
        for i in 0..n {
            acc += self.unit(i);
            ckpt::save().expect("checkpoint");
            println!("  {} unit {i}: acc {acc}", self.name());
        }
        acc
    }
}

#[derive(ckpt::State)]
struct Squares {
    calls: u32,
}

#[derive(ckpt::State)]
struct Echo {
    text: String,
}

#[ckpt::checkpointable]
impl Job for Squares {
    fn unit(&mut self, i: u32) -> u32 {
        self.calls += 1;
        i * i
    }
    fn name(&self) -> &str {
        "squares"
    }
}

#[ckpt::checkpointable]
impl Job for Echo {
    fn unit(&mut self, i: u32) -> u32 {
        self.text.push_str(&i.to_string());
        self.text.len() as u32
    }
    fn name(&self) -> &str {
        &self.text
    }
    fn run(&mut self, n: u32) -> u32 {
        let mut last = 0;
        for i in 0..n {
            last = self.unit(i);
            ckpt::save().expect("checkpoint");
        }
        last
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut s = Squares { calls: 0 };
    let a = s.run(5);
    let mut e = Echo { text: "e".into() };
    let b = e.run(4);
    println!("squares {a} after {} calls; echo {b} ({})", s.calls, e.text);
}
