//! Program-wide state in globals: a `static mut` tick counter, a `OnceLock` config set
//! at start, a `LazyLock<Mutex<HashMap>>` cache and a thread-local `RefCell` trail in a
//! module, all changed between saves.
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, OnceLock};

static mut TICKS: u64 = 0;
static CONFIG: OnceLock<String> = OnceLock::new();

mod cache {
    use super::*;
    use std::cell::RefCell;

    pub(crate) static SQUARES: LazyLock<Mutex<HashMap<u64, u64>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));

    thread_local! {
        pub static TRAIL: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    pub fn square(n: u64) -> u64 {
        let mut map = SQUARES.lock().unwrap();
        if let Some(v) = map.get(&n) {
            return *v;
        }
        TRAIL.with(|t| t.borrow_mut().push(n));
        let v = n * n;
        map.insert(n, v);
        v
    }
}

fn tick() -> u64 {
    unsafe {
        TICKS += 1;
        TICKS
    }
}

#[ckpt::checkpointable]
fn main() {
    CONFIG.set(format!("mode=fast;seed={}", 7)).unwrap();
    let mut total = 0;
    for round in 0..6u64 {
        for n in [round, round + 1, round + 2] {
            total += cache::square(n);
            tick();
        }
        ckpt::save().expect("checkpoint");
        let cached = cache::SQUARES.lock().unwrap().len();
        let trail = cache::TRAIL.with(|t| t.borrow().len());
        println!(
            "round {round}: total {total}, ticks {}, cached {cached}, computed {trail}, {}",
            tick(),
            CONFIG.get().unwrap()
        );
    }
}
