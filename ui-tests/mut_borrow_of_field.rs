#[ckpt::checkpointable]
mod app {
    #[derive(ckpt::State)]
    pub struct Sim {
        pub grid: Vec<u32>,
    }

    pub fn step(grid: &mut Vec<u32>) {
        grid.push(1);
        ckpt::save().unwrap();
    }

    pub fn run() {
        let mut sim = Sim { grid: Vec::new() };
        step(&mut sim.grid);
        println!("{}", sim.grid.len());
    }
}

fn main() {
    app::run();
}
