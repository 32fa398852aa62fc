//! Two workers sharing one `Rc<RefCell<Vec<String>>>` log (and one `Rc<RefCell<u32>>`
//! budget) across saves; after each save both append through their own handle.
use std::cell::RefCell;
use std::rc::Rc;

#[derive(ckpt::State)]
struct Worker {
    name: String,
    log: Rc<RefCell<Vec<String>>>,
    budget: Rc<RefCell<u32>>,
    done: u32,
}

impl Worker {
    fn work(&mut self, units: u32) -> bool {
        let mut budget = self.budget.borrow_mut();
        if *budget < units {
            return false;
        }
        *budget -= units;
        self.done += units;
        self.log
            .borrow_mut()
            .push(format!("{} did {units} ({} left)", self.name, *budget));
        true
    }
}

#[ckpt::checkpointable]
fn main() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let budget = Rc::new(RefCell::new(100u32));
    let mut alice = Worker {
        name: "alice".to_string(),
        log: Rc::clone(&log),
        budget: Rc::clone(&budget),
        done: 0,
    };
    let mut bob = Worker {
        name: "bob".to_string(),
        log: Rc::clone(&log),
        budget: Rc::clone(&budget),
        done: 0,
    };
    let mut round = 0;
    loop {
        round += 1;
        let a = alice.work(round % 4 + 3);
        let b = bob.work(round % 3 + 4);
        ckpt::save().expect("checkpoint");
        println!(
            "round {round}: log has {} entries, budget {}, shared: {}",
            log.borrow().len(),
            budget.borrow(),
            Rc::ptr_eq(&alice.log, &bob.log) && Rc::strong_count(&log) == 3
        );
        if !a && !b {
            break;
        }
    }
    println!("alice did {}, bob did {}", alice.done, bob.done);
    for line in log.borrow().iter().rev().take(3) {
        println!("{line}");
    }
}
