//! Closures that change what they capture, kept across saves: one adding to a total and
//! pushing to a log, one counting words in a HashMap through `entry`, and a `move`
//! counter whose own copy runs ahead of the outer variable, one pushing through a
//! `&mut Vec` parameter, and one in a method changing two fields of `self`.
use std::collections::HashMap;

#[ckpt::checkpointable]
fn fill(v: &mut Vec<i32>, n: i32) {
    let mut push = |x: i32| v.push(x * 2);
    for i in 0..n {
        push(i);
        ckpt::save().expect("checkpoint");
        println!("pushed {i}");
    }
}

#[derive(ckpt::State, Default)]
struct Journal {
    events: Vec<String>,
    count: u32,
}

#[ckpt::checkpointable]
impl Journal {
    fn run(&mut self, n: u32) {
        let mut log = |m: String| {
            self.count += 1;
            self.events.push(m)
        };
        for i in 0..n {
            log(format!("event {i}"));
            ckpt::save().expect("checkpoint");
            println!("logged {i}");
        }
        println!("{} events: {:?}", self.count, self.events);
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut total = 0;
    let mut log: Vec<String> = Vec::new();
    let mut add = |x: i32| {
        total += x;
        log.push(format!("+{x}"));
    };
    for i in 0..6 {
        add(i);
        ckpt::save().expect("checkpoint");
        println!("added {i}");
    }
    println!("total {total} log {log:?}");
    let mut id = 100;
    let mut next_id = move || {
        id += 1;
        id
    };
    for i in 0..5 {
        let n = next_id();
        ckpt::save().expect("checkpoint");
        println!("{i}: id {n}");
    }
    println!("outer id still {id}");
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut bump = |w: &str| *counts.entry(w.to_lowercase()).or_insert(0) += 1;
    for w in "The cat saw the other cat and THE dog".split(' ') {
        bump(w);
        ckpt::save().expect("checkpoint");
        println!("counted {w}");
    }
    let mut keys: Vec<_> = counts.iter().collect();
    keys.sort();
    println!("{keys:?}");
    let mut doubled = vec![100];
    fill(&mut doubled, 4);
    println!("{doubled:?}");
    let mut j = Journal::default();
    j.run(4);
    println!("journal holds {}", j.events.len());
}
