//! `acc = acc.absorb(x)` in a loop, where `fn absorb(mut self, x) -> Self` is a
//! checkpointable method that saves every few samples.
#[derive(Debug, Clone, ckpt::State)]
struct Stats {
    n: u64,
    sum: i64,
    sumsq: i64,
    min: i64,
    max: i64,
}

#[ckpt::checkpointable]
impl Stats {
    fn new() -> Self {
        Stats {
            n: 0,
            sum: 0,
            sumsq: 0,
            min: i64::MAX,
            max: i64::MIN,
        }
    }

    fn absorb(mut self, x: i64) -> Self {
        self.n += 1;
        self.sum += x;
        self.sumsq += x * x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if self.n % 4 == 0 {
            ckpt::save().expect("checkpoint");
            println!("after {} samples: mean {:.3}", self.n, self.mean());
        }
        self
    }

    fn mean(&self) -> f64 {
        self.sum as f64 / self.n as f64
    }

    fn variance(&self) -> f64 {
        let m = self.mean();
        self.sumsq as f64 / self.n as f64 - m * m
    }
}

#[ckpt::checkpointable]
fn main() {
    let samples: Vec<i64> = (1..=40).map(|i| (i * i * 7) % 61 - 30).collect();
    let mut acc = Stats::new();
    for x in samples {
        acc = acc.absorb(x);
    }
    println!("{acc:?}");
    println!(
        "n={} mean={:.4} var={:.4} range=[{}, {}]",
        acc.n,
        acc.mean(),
        acc.variance(),
        acc.min,
        acc.max
    );
}
