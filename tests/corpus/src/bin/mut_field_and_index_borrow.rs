//! `&mut self.balance`, `&mut accounts[i].balance` and `&mut rates[i]` passed to a
//! checkpointable function that saves.
#[derive(Debug, Clone, ckpt::State)]
struct Account {
    owner: String,
    balance: i64,
    history: Vec<i64>,
}

#[ckpt::checkpointable]
fn apply_interest(balance: &mut i64, rate_pct: i64) {
    for month in 1..=3 {
        *balance += *balance * rate_pct / 100 / 12;
        ckpt::save().expect("checkpoint");
        println!("    month {month}: {balance}");
    }
}

#[ckpt::checkpointable]
impl Account {
    fn quarter_end(&mut self) {
        apply_interest(&mut self.balance, 6);
        self.history.push(self.balance);
        println!("  {} closes the quarter at {}", self.owner, self.balance);
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut accounts = vec![
        Account {
            owner: "ann".into(),
            balance: 10_000,
            history: vec![],
        },
        Account {
            owner: "bob".into(),
            balance: 2_500,
            history: vec![],
        },
        Account {
            owner: "cy".into(),
            balance: 77_700,
            history: vec![],
        },
    ];
    for i in 0..accounts.len() {
        println!("{}:", accounts[i].owner);
        apply_interest(&mut accounts[i].balance, 12);
    }
    let mut savings = vec![1_000i64, 50_000];
    for i in 0..savings.len() {
        println!("savings #{i}:");
        apply_interest(&mut savings[i], 3);
    }
    let mut mine = accounts[0].clone();
    mine.quarter_end();
    println!(
        "balances: {:?}",
        accounts.iter().map(|a| a.balance).collect::<Vec<_>>()
    );
    println!("savings: {:?}, mine: {:?}", savings, mine.history);
}
