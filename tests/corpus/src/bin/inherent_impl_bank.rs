//! `#[checkpointable] impl Bank` with `&mut self` methods that save, called on a local
//! `bank` from main (`bank.run_day(day)`), including a method calling another method.
#[derive(Debug, ckpt::State)]
struct Bank {
    accounts: Vec<i64>,
    fees: i64,
    log: Vec<String>,
}

#[ckpt::checkpointable]
impl Bank {
    fn transfer(&mut self, from: usize, to: usize, amount: i64) -> bool {
        if self.accounts[from] < amount {
            self.log.push(format!("declined {from}->{to} {amount}"));
            return false;
        }
        self.accounts[from] -= amount + 1;
        self.accounts[to] += amount;
        self.fees += 1;
        true
    }

    fn run_day(&mut self, day: u32) {
        let n = self.accounts.len();
        let mut ok = 0;
        for k in 0..6 {
            let from = (day as usize * 3 + k) % n;
            let to = (from + 1 + k) % n;
            if self.transfer(from, to, (day as i64 * 13 + k as i64 * 7) % 50 + 1) {
                ok += 1;
            }
            if k % 3 == 2 {
                ckpt::save().expect("checkpoint");
                println!(
                    "  day {day}, batch {}: {ok} transfers ok, fees {}",
                    k / 3,
                    self.fees
                );
            }
        }
    }

    fn total(&self) -> i64 {
        self.accounts.iter().sum::<i64>() + self.fees
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut bank = Bank {
        accounts: vec![100, 20, 75, 0, 40],
        fees: 0,
        log: Vec::new(),
    };
    let start = bank.total();
    for day in 1..=5 {
        bank.run_day(day);
        println!("day {day}: balances {:?}", bank.accounts);
    }
    println!("money conserved: {}", bank.total() == start);
    println!("{} declined: {:?}", bank.log.len(), bank.log.first());
}
