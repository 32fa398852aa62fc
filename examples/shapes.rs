//! Every control-flow shape the resume transform supports, with a save point in each
//! (and loops over a consumed local and over a file's lines).
//! The test `tests/shapes.rs` restores from the image of EVERY save point and checks
//! that the run continues exactly like the uninterrupted one.
//!
//! Each save writes `shape-<n>.ckpt` (n counts saves) and then prints `@n`.
use std::collections::BTreeMap;

use ckpt::checkpointable;

/// Saves to `shape-<n>.ckpt` and prints `@n` (after a restore too).
#[checkpointable]
fn mark(saves: &mut u64) -> Result<(), ckpt::Error> {
    *saves += 1;
    let path = format!("shape-{saves}.ckpt");
    ckpt::save_to(&path)?;
    println!(
        "@{saves}{}",
        if ckpt::restored() { " (restored)" } else { "" }
    );
    Ok(())
}

#[derive(ckpt::State, Clone, Debug, PartialEq)]
struct Sim {
    t: u64,
    cells: Vec<i64>,
}

#[checkpointable]
impl Sim {
    /// `&mut self` method with its own save point; returns whether to go on.
    fn step(&mut self, saves: &mut u64) -> bool {
        self.t += 1;
        let i = (self.t as usize * 7) % self.cells.len();
        self.cells[i] += self.t as i64;
        if self.t % 3 == 0 {
            mark(saves).expect("save");
        }
        self.t < 9
    }

    /// `&self` method: reads only.
    fn checksum(&self, saves: &mut u64) -> i64 {
        let s: i64 = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| (i as i64 + 1) * c)
            .sum();
        mark(saves).expect("save");
        s ^ self.t as i64
    }

    /// Takes `self` by value and gives it back.
    fn absorb(mut self, extra: Vec<i64>, saves: &mut u64) -> Sim {
        for (i, e) in extra.iter().enumerate() {
            self.cells[i % 5] += e;
            if i == 1 {
                mark(saves).expect("save");
            }
        }
        self
    }
}

/// Nested `for`, labelled `continue`/`break`, `while`, `while let`, `loop` with a value.
#[checkpointable]
fn loops(saves: &mut u64) -> u64 {
    let mut acc = 0u64;
    'outer: for i in 0..4u64 {
        for j in 0..4u64 {
            if j == 3 {
                continue 'outer;
            }
            if i == 3 {
                break 'outer;
            }
            acc = acc * 3 + i * 4 + j;
            if (i + j) % 2 == 0 {
                mark(saves).expect("save");
            }
        }
    }
    let mut n = 5u64;
    while n > 0 {
        n -= 1;
        acc += n;
        if n == 2 {
            mark(saves).expect("save");
            continue;
        }
    }
    let mut stack = vec![1u64, 2, 3];
    while let Some(top) = stack.pop() {
        acc = acc.wrapping_mul(31) + top;
        if top == 2 {
            mark(saves).expect("save");
        }
    }
    let found = loop {
        n += 1;
        if n == 2 {
            mark(saves).expect("save");
        }
        if n > 3 {
            break n * 10;
        }
    };
    acc + found
}

/// `match` with guards and bindings, `if let`, early `return` and `?`.
#[checkpointable]
fn branches(x: i64, saves: &mut u64) -> Result<i64, ckpt::Error> {
    let v = match x {
        n if n < 0 => {
            mark(saves)?;
            -n
        }
        0 => 100,
        n => {
            let doubled = n * 2;
            mark(saves)?;
            doubled + 1
        }
    };
    let maybe = if v > 5 { Some(v) } else { None };
    if let Some(big) = maybe {
        mark(saves)?;
        if big > 50 {
            return Ok(big);
        }
    } else {
        mark(saves)?;
    }
    Ok(v * 3)
}

mod math {
    use super::mark;

    /// Recursion through a checkpointable function, in another module.
    #[ckpt::checkpointable]
    pub fn fib(n: u64, saves: &mut u64) -> u64 {
        if n < 2 {
            return n;
        }
        let a = fib(n - 1, saves);
        if n == 4 {
            mark(saves).expect("save");
        }
        let b = fib(n - 2, saves);
        a + b
    }
}

/// A generic function with a bound; by-value, `&` and `&mut` arguments.
#[checkpointable]
fn fold_all<T: Copy + Into<i64> + ckpt::State>(
    xs: &[T],
    scale: i64,
    out: &mut BTreeMap<String, i64>,
    saves: &mut u64,
) -> i64 {
    let mut total = 0i64;
    for (i, x) in xs.iter().enumerate() {
        total += (*x).into() * scale;
        if i == 1 {
            mark(saves).expect("save");
        }
    }
    out.insert(format!("fold{scale}"), total);
    total
}

/// Loops that consume a local: `for x in v` (the iterator is saved whole, the local is
/// not), one inside an `if` a block away from the local, and `for line in reader.lines()`
/// over a file the program wrote (the reader reopens at its offset on restore).
#[checkpointable]
fn consumed(saves: &mut u64) -> String {
    use std::io::BufRead;
    let words = vec!["a".to_string(), "bb".into(), "ccc".into()];
    let mut out = String::new();
    for w in words {
        out.push_str(&w);
        mark(saves).expect("save");
    }
    let v = vec![1u32, 2, 3];
    if out.len() > 2 {
        for n in v.into_iter() {
            out.push_str(&n.to_string());
            if n == 2 {
                mark(saves).expect("save");
            }
        }
    }
    // A name bound again after its loop consumed it, and shadowed inside the loop.
    let v = vec![5u32];
    for x in v {
        let v = x * 3;
        out.push_str(&v.to_string());
        mark(saves).expect("save");
    }
    std::fs::write("shape-lines.txt", "x\ny\nz\n").expect("write");
    let reader = std::io::BufReader::new(std::fs::File::open("shape-lines.txt").expect("open"));
    for line in reader.lines() {
        out.push_str(&line.expect("line"));
        mark(saves).expect("save");
    }
    out
}

#[checkpointable]
fn main() {
    let mut saves = 0u64;
    let mut log: Vec<String> = Vec::new();

    let l = loops(&mut saves);
    log.push(format!("loops {l}"));
    println!("loops {l}");

    for x in [-4i64, 0, 3, 40] {
        let b = branches(x, &mut saves).expect("branches");
        println!("branches({x}) = {b}");
        log.push(format!("b{b}"));
    }

    let s = consumed(&mut saves);
    println!("consumed {s}");
    log.push(s);

    let f = math::fib(6, &mut saves);
    println!("fib {f}");

    let mut sim = Sim {
        t: 0,
        cells: vec![0; 5],
    };
    while sim.step(&mut saves) {
        println!("t={} cells={:?}", sim.t, sim.cells);
    }
    let c = sim.checksum(&mut saves);
    println!("checksum {c}");
    sim = sim.absorb(vec![5, 6, 7], &mut saves);
    println!("absorbed {:?}", sim.cells);

    let xs = vec![3u32, 1, 4, 1, 5];
    let mut folds = BTreeMap::new();
    let t1 = fold_all(&xs, 2, &mut folds, &mut saves);
    let ys = [7i32, -2, 9];
    let t2 = fold_all(&ys, 3, &mut folds, &mut saves);
    println!("folds {t1} {t2} {folds:?}");

    mark(&mut saves).expect("final save");
    println!("result: saves={saves} log={log:?} sim={sim:?}");
}
