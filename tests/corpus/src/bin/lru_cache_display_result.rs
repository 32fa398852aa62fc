//! An LRU cache struct (HashMap + VecDeque fields) with a Display impl, a saving function
//! returning `Result` with `?` on a parser, `sort_by` with a closure, a `while` over
//! indices with a borrowed tuple, and `binary_search` in a loop over an array.
use std::collections::{HashMap, VecDeque};
use std::fmt;

#[derive(ckpt::State)]
struct Lru {
    cap: usize,
    map: HashMap<u32, String>,
    order: VecDeque<u32>,
    hits: u32,
    misses: u32,
}

impl Lru {
    fn new(cap: usize) -> Self {
        Lru {
            cap,
            map: HashMap::new(),
            order: VecDeque::new(),
            hits: 0,
            misses: 0,
        }
    }
    fn get(&mut self, k: u32) -> Option<&String> {
        if self.map.contains_key(&k) {
            self.hits += 1;
            self.order.retain(|&x| x != k);
            self.order.push_back(k);
            self.map.get(&k)
        } else {
            self.misses += 1;
            None
        }
    }
    fn put(&mut self, k: u32, v: String) {
        if self.map.len() == self.cap && !self.map.contains_key(&k) {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.order.retain(|&x| x != k);
        self.order.push_back(k);
        self.map.insert(k, v);
    }
}

impl fmt::Display for Lru {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "Lru[{}] hits={} misses={} order={:?}",
            self.cap, self.hits, self.misses, self.order
        )
    }
}

#[derive(Debug)]
#[allow(dead_code)]
enum ParseErr {
    Empty,
    Bad(String),
}

fn parse_pair(s: &str) -> Result<(u32, u32), ParseErr> {
    if s.is_empty() {
        return Err(ParseErr::Empty);
    }
    let mut it = s.split(',');
    let a = it
        .next()
        .ok_or(ParseErr::Empty)?
        .trim()
        .parse()
        .map_err(|_| ParseErr::Bad(s.to_string()))?;
    let b = it
        .next()
        .ok_or(ParseErr::Empty)?
        .trim()
        .parse()
        .map_err(|_| ParseErr::Bad(s.to_string()))?;
    Ok((a, b))
}

#[ckpt::checkpointable]
fn run(lines: &[&str]) -> Result<u32, ParseErr> {
    let mut cache = Lru::new(3);
    let mut total = 0;
    for line in lines {
        let (k, v) = parse_pair(line)?;
        match cache.get(k) {
            Some(s) => println!("hit {k}: {s}"),
            None => {
                cache.put(k, format!("v{v}"));
                println!("miss {k}");
            }
        }
        total += v;
        ckpt::save().expect("checkpoint");
        println!("{cache}");
    }
    Ok(total)
}

#[ckpt::checkpointable]
fn main() {
    let input = vec![
        "1,10", "2,20", "1,11", "3,30", "4,40", "2,21", "1,12", "5,50", "3,31",
    ];
    match run(&input) {
        Ok(t) => println!("total {t}"),
        Err(e) => println!("error {e:?}"),
    }
    let mut scores: Vec<(String, u32)> = vec![
        ("ann".into(), 7),
        ("bob".into(), 9),
        ("cy".into(), 7),
        ("di".into(), 3),
    ];
    scores.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rank = 0;
    while rank < scores.len() {
        let (name, s) = &scores[rank];
        ckpt::save().expect("checkpoint");
        println!("#{} {name} {s}", rank + 1);
        rank += 1;
    }
    let sorted: Vec<u32> = (0..20).map(|x| x * 3).collect();
    for target in [9u32, 10, 57, 60] {
        ckpt::save().expect("checkpoint");
        match sorted.binary_search(&target) {
            Ok(i) => println!("{target} at {i}"),
            Err(i) => println!("{target} would go at {i}"),
        }
    }
    let bad = run(&["7,1", "oops"]);
    println!("bad: {bad:?}");
}
