//! Checkpointable trait impls called through `&mut dyn Task` and a
//! `Vec<Box<dyn Task>>` (the trait is `#[checkpointable]` too, so its objects can be
//! saved); `work` saves inside.
#[ckpt::checkpointable]
trait Task {
    fn label(&self) -> &str;
    fn work(&mut self, budget: u32) -> u32;
    fn done(&self) -> bool;
}

#[derive(ckpt::State)]
struct Download {
    name: String,
    bytes_left: u32,
}

#[derive(ckpt::State)]
struct Compress {
    name: String,
    blocks: Vec<u32>,
    ratio_sum: u32,
}

#[ckpt::checkpointable]
impl Task for Download {
    fn label(&self) -> &str {
        &self.name
    }

    fn work(&mut self, budget: u32) -> u32 {
        let chunk = budget.min(self.bytes_left);
        self.bytes_left -= chunk;
        ckpt::save().expect("checkpoint");
        println!(
            "  {}: downloaded {chunk}, {} left",
            self.name, self.bytes_left
        );
        chunk
    }

    fn done(&self) -> bool {
        self.bytes_left == 0
    }
}

#[ckpt::checkpointable]
impl Task for Compress {
    fn label(&self) -> &str {
        &self.name
    }

    fn work(&mut self, budget: u32) -> u32 {
        let mut used = 0;
        while used < budget {
            match self.blocks.pop() {
                Some(b) => {
                    self.ratio_sum += b % 7 + 1;
                    used += 10;
                }
                None => break,
            }
        }
        ckpt::save().expect("checkpoint");
        println!(
            "  {}: {} blocks to go, ratio sum {}",
            self.name,
            self.blocks.len(),
            self.ratio_sum
        );
        used
    }

    fn done(&self) -> bool {
        self.blocks.is_empty()
    }
}

#[ckpt::checkpointable]
fn drive(task: &mut dyn Task, budget: u32) -> u32 {
    let used = task.work(budget);
    println!("{} used {used} of {budget}", task.label());
    used
}

#[ckpt::checkpointable]
fn main() {
    let mut tasks: Vec<Box<dyn Task>> = vec![
        Box::new(Download {
            name: "fetch".into(),
            bytes_left: 100,
        }),
        Box::new(Compress {
            name: "zip".into(),
            blocks: (1..=12).collect(),
            ratio_sum: 0,
        }),
    ];
    let mut round = 0;
    while tasks.iter().any(|t| !t.done()) {
        round += 1;
        println!("round {round}");
        for t in tasks.iter_mut() {
            if !t.done() {
                drive(t.as_mut(), 30);
            }
        }
    }
    let mut extra = Download {
        name: "extra".into(),
        bytes_left: 45,
    };
    while !extra.done() {
        drive(&mut extra, 20);
    }
    println!("all done after {round} rounds");
}
