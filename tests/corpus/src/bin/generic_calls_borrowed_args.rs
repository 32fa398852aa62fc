//! Saving generic functions called with computed arguments: a borrowed `&str` of a String
//! the loop keeps growing, a number, a `&str` literal through `impl Into<String>`, a
//! closure, a temporary Vec and a range through `impl IntoIterator` and a `vec::IntoIter`
//! through `I: Iterator` (each consumed by a loop with a save), and a generic method.
use std::fmt::Display;

#[ckpt::checkpointable]
fn show<T: Display>(label: &str, x: T) {
    ckpt::save().expect("checkpoint");
    println!("{label}: {x}");
}

#[ckpt::checkpointable]
fn greet(name: impl Into<String>) -> String {
    let name = name.into();
    ckpt::save().expect("checkpoint");
    format!("hello {name}")
}

#[ckpt::checkpointable]
fn apply_twice<F: Fn(i64) -> i64>(f: F, x: i64) -> i64 {
    let once = f(x);
    ckpt::save().expect("checkpoint");
    f(once)
}

#[ckpt::checkpointable]
fn total(items: impl IntoIterator<Item = u32>) -> u32 {
    let mut sum = 0;
    for x in items {
        sum += x;
        ckpt::save().expect("checkpoint");
    }
    sum
}

#[ckpt::checkpointable]
fn drain_jobs<I: Iterator<Item = String>>(jobs: I) -> usize {
    let mut n = 0;
    for job in jobs {
        n += job.len();
        ckpt::save().expect("checkpoint");
        println!("job {job}");
    }
    n
}

#[derive(ckpt::State, Default)]
struct Bag {
    things: Vec<String>,
}

#[ckpt::checkpointable]
impl Bag {
    fn add<T: ToString>(&mut self, t: T) {
        self.things.push(t.to_string());
        ckpt::save().expect("checkpoint");
        println!("bag has {}", self.things.len());
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut s = String::new();
    for i in 0..4 {
        s.push(char::from(b'a' + i as u8));
        show("now", s.as_str());
        show("len", s.len() * 2);
    }
    println!("{}", greet("world"));
    println!("{}", greet(String::from("ckpt")));
    let k = 3;
    println!("twice: {}", apply_twice(|v| v * k + 1, 5));
    println!("total: {}", total(vec![4, 5, 6]));
    println!("total of range: {}", total(1..5));
    let jobs = vec!["wash".to_string(), "dry".to_string(), "fold".to_string()];
    println!("job letters: {}", drain_jobs(jobs.into_iter()));
    let mut bag = Bag::default();
    bag.add(42);
    bag.add('x');
    bag.add(format!("{}-{}", k, s));
    println!("{:?}", bag.things);
}
