//! A `thread_local!` `Cell<u32>` depth counter and `RefCell<Vec<String>>` log touched by
//! checkpointable code across saves.
use std::cell::{Cell, RefCell};

thread_local! {
    static CALLS: Cell<u32> = Cell::new(0);
    static LOG: RefCell<Vec<String>> = RefCell::new(Vec::new());
}

fn note(msg: String) {
    CALLS.with(|c| c.set(c.get() + 1));
    LOG.with(|l| l.borrow_mut().push(msg));
}

#[ckpt::checkpointable]
fn fib_table(n: usize) -> Vec<u64> {
    let mut table = vec![0u64, 1];
    for i in 2..=n {
        let next = table[i - 1] + table[i - 2];
        table.push(next);
        note(format!("fib({i}) = {next}"));
        if i % 3 == 0 {
            ckpt::save().expect("checkpoint");
            let calls = CALLS.with(|c| c.get());
            println!("fib({i}) = {next} after {calls} notes");
        }
    }
    table
}

#[ckpt::checkpointable]
fn main() {
    let table = fib_table(30);
    println!("fib(30) = {}", table[30]);
    let log_len = LOG.with(|l| l.borrow().len());
    let last = LOG.with(|l| l.borrow().last().cloned());
    println!("{log_len} log entries, last {:?}", last);
}
