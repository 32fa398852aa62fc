//! Methods of a struct looping over its own fields with saves inside: `&mut self.tasks`
//! calling a method on each item, a filtered `iter()` feeding a method on another field,
//! `while let` over a VecDeque field with a HashMap lookup, nested `enumerate` over a grid,
//! `lines()` of a String field, and `chars()` of a borrowed loop variable.
use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(ckpt::State, Debug, Clone)]
struct Task {
    name: String,
    cost: u32,
    active: bool,
    tags: Vec<String>,
}

impl Task {
    fn bump(&mut self, by: u32) {
        self.cost += by;
    }
}

#[derive(ckpt::State, Default)]
struct Stats {
    seen: u32,
    by_tag: BTreeMap<String, u32>,
}

impl Stats {
    fn add(&mut self, t: &Task) {
        self.seen += 1;
        for tag in &t.tags {
            *self.by_tag.entry(tag.clone()).or_insert(0) += t.cost;
        }
    }
}

#[derive(ckpt::State)]
struct Board {
    tasks: Vec<Task>,
    stats: Stats,
    queue: VecDeque<String>,
    owners: HashMap<String, String>,
    grid: Vec<Vec<u8>>,
    text: String,
}

#[ckpt::checkpointable]
impl Board {
    fn bump_all(&mut self) {
        for t in &mut self.tasks {
            t.bump(2);
            ckpt::save().expect("checkpoint");
            println!("bumped {} to {}", t.name, t.cost);
        }
    }

    fn tally(&mut self) {
        for t in self.tasks.iter().filter(|t| t.active) {
            self.stats.add(t);
            ckpt::save().expect("checkpoint");
            println!("tallied {} ({} seen)", t.name, self.stats.seen);
        }
    }

    fn drain_queue(&mut self) {
        while let Some(name) = self.queue.pop_front() {
            let owner = self
                .owners
                .get(&name)
                .cloned()
                .unwrap_or_else(|| "nobody".to_string());
            ckpt::save().expect("checkpoint");
            println!("{name} -> {owner}");
        }
    }

    fn scan(&self) -> u32 {
        let mut sum = 0;
        for (r, row) in self.grid.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sum += *cell as u32 * (r as u32 + c as u32);
            }
            ckpt::save().expect("checkpoint");
            println!("row {r}: sum {sum}");
        }
        sum
    }

    fn words(&self) -> usize {
        let mut longest = 0;
        for (i, line) in self.text.lines().enumerate() {
            for w in line.split_whitespace() {
                longest = longest.max(w.len());
            }
            ckpt::save().expect("checkpoint");
            println!("line {i}: longest so far {longest}");
        }
        longest
    }
}

#[ckpt::checkpointable]
fn main() {
    let tasks: Vec<Task> = ["write", "test", "ship", "rest"]
        .iter()
        .enumerate()
        .map(|(i, n)| Task {
            name: n.to_string(),
            cost: i as u32 * 3 + 1,
            active: i != 3,
            tags: vec![if i % 2 == 0 { "even" } else { "odd" }.to_string()],
        })
        .collect();
    let mut owners = HashMap::new();
    owners.insert("write".to_string(), "ann".to_string());
    owners.insert("ship".to_string(), "bob".to_string());
    let mut b = Board {
        queue: tasks.iter().map(|t| t.name.clone()).collect(),
        tasks,
        stats: Stats::default(),
        owners,
        grid: vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]],
        text: "alpha beta\ngamma delta epsilon\nzeta".to_string(),
    };
    b.bump_all();
    b.tally();
    b.drain_queue();
    let s = b.scan();
    let w = b.words();
    println!("scan {s} words {w} stats {:?}", b.stats.by_tag);
    let words = vec!["hello".to_string(), "ckpt".to_string()];
    for word in &words {
        for (j, ch) in word.chars().enumerate() {
            if j % 2 == 0 {
                ckpt::save().expect("checkpoint");
            }
            println!("{word}[{j}] = {ch}");
        }
    }
}
