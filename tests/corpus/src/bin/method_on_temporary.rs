//! Saving methods called on temporaries: `Countdown::new(6).run()` and
//! `Histogram::new("ages").fill(&ages).render()`.
#[derive(ckpt::State)]
struct Countdown {
    from: u32,
}

#[ckpt::checkpointable]
impl Countdown {
    fn new(from: u32) -> Self {
        Countdown { from }
    }

    fn run(self) -> u32 {
        let mut steps = 0;
        for n in (1..=self.from).rev() {
            ckpt::save().expect("checkpoint");
            println!("  {n}...");
            steps += 1;
        }
        steps
    }
}

#[derive(ckpt::State)]
struct Histogram {
    title: String,
    bins: Vec<u32>,
}

#[ckpt::checkpointable]
impl Histogram {
    fn new(title: &str) -> Self {
        Histogram {
            title: title.to_string(),
            bins: vec![0; 5],
        }
    }

    fn fill(mut self, values: &[u32]) -> Self {
        for (i, v) in values.iter().enumerate() {
            self.bins[(*v as usize / 20).min(4)] += 1;
            if i % 4 == 3 {
                ckpt::save().expect("checkpoint");
                println!("  filled {} values", i + 1);
            }
        }
        self
    }

    fn render(&self) -> String {
        let mut out = format!("{}:\n", self.title);
        for (i, n) in self.bins.iter().enumerate() {
            out.push_str(&format!(
                "{:>3}-{:<3} {}\n",
                i * 20,
                i * 20 + 19,
                "*".repeat(*n as usize)
            ));
        }
        out
    }
}

#[ckpt::checkpointable]
fn main() {
    let steps = Countdown::new(6).run();
    println!("counted down {steps} steps");
    let ages = [3, 17, 25, 31, 44, 52, 67, 71, 89, 12, 38, 41, 59, 63, 8, 95];
    let chart = Histogram::new("ages").fill(&ages).render();
    print!("{chart}");
}
