//! `for (i, acct) in self.accounts.iter_mut().enumerate()` calling a checkpointable
//! `&mut self` method of each item that saves inside.
#[derive(Debug, ckpt::State)]
struct Account {
    id: u32,
    balance: i64,
    history: Vec<i64>,
}

#[ckpt::checkpointable]
impl Account {
    fn apply(&mut self, amount: i64) {
        self.balance += amount;
        self.history.push(amount);
        ckpt::save().expect("checkpoint");
    }
}

#[derive(ckpt::State)]
struct Bank {
    accounts: Vec<Account>,
    day: u32,
}

#[ckpt::checkpointable]
impl Bank {
    fn end_of_day(&mut self) {
        self.day += 1;
        for (i, acct) in self.accounts.iter_mut().enumerate() {
            let interest = acct.balance / 100 + i as i64;
            acct.apply(interest);
            println!("day {} account {} now {}", self.day, acct.id, acct.balance);
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut bank = Bank {
        accounts: (1..=3)
            .map(|id| Account {
                id,
                balance: 1000 * id as i64,
                history: vec![],
            })
            .collect(),
        day: 0,
    };
    for _ in 0..3 {
        bank.end_of_day();
    }
    for a in &bank.accounts {
        println!("{} {:?}", a.id, a.history);
    }
}
