#[ckpt::checkpointable]
mod app {
    fn make() -> Vec<u32> {
        vec![1, 2, 3]
    }

    pub fn total(xs: &Vec<u32>) -> u32 {
        ckpt::save().unwrap();
        xs.iter().sum()
    }

    pub fn run() {
        let t = total(&make());
        println!("{t}");
    }
}

fn main() {
    app::run();
}
