//! Loops over `values()` / `values_mut()` of a HashMap in a struct field, of a BTreeMap,
//! and of a type of the program that has its own `values()`, saving inside each.
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, ckpt::State)]
struct Account {
    owner: String,
    balance: i64,
}

#[derive(ckpt::State)]
struct Bank {
    accounts: HashMap<u32, Account>,
    rates: BTreeMap<String, f64>,
}

#[derive(ckpt::State)]
struct Samples {
    data: Vec<f64>,
}

impl Samples {
    fn values(&self) -> std::slice::Iter<'_, f64> {
        self.data.iter()
    }
}

#[ckpt::checkpointable]
impl Bank {
    fn apply_interest(&mut self, percent: i64) {
        for account in self.accounts.values_mut() {
            account.balance += account.balance * percent / 100;
            ckpt::save().expect("checkpoint");
        }
    }

    fn total(&self) -> i64 {
        let mut sum = 0;
        for (i, account) in self.accounts.values().enumerate() {
            sum += account.balance;
            if i % 2 == 0 {
                ckpt::save().expect("checkpoint");
            }
        }
        sum
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut bank = Bank {
        accounts: HashMap::new(),
        rates: BTreeMap::new(),
    };
    for (id, name) in ["ada", "bob", "cyd", "dee", "eve"].iter().enumerate() {
        bank.accounts.insert(
            id as u32,
            Account {
                owner: name.to_string(),
                balance: 1000 * (id as i64 + 1),
            },
        );
    }
    bank.rates.insert("gold".into(), 1.5);
    bank.rates.insert("silver".into(), 0.75);
    bank.apply_interest(10);
    println!("total after interest: {}", bank.total());
    let mut weighted = 0.0;
    for rate in bank.rates.values() {
        weighted += rate * 2.0;
        ckpt::save().expect("checkpoint");
        println!("weighted so far {weighted}");
    }
    let samples = Samples {
        data: vec![1.5, 2.5, 4.0],
    };
    let mut acc = 0.0;
    for x in samples.values() {
        acc += x;
        ckpt::save().expect("checkpoint");
        println!("sample {x}, sum {acc}");
    }
    let mut stock: HashMap<String, u32> = HashMap::new();
    for (i, item) in ["nut", "bolt", "gear", "cog"].into_iter().enumerate() {
        stock.insert(item.to_string(), (i as u32 + 1) * 10);
    }
    for (name, count) in stock.iter_mut() {
        *count += name.len() as u32;
        ckpt::save().expect("checkpoint");
    }
    for (_, count) in &mut stock {
        *count *= 2;
        ckpt::save().expect("checkpoint");
    }
    let mut listed: Vec<_> = stock.into_iter().collect();
    listed.sort();
    println!("stock: {listed:?}");
    let mut owners: Vec<&Account> = bank.accounts.values().collect();
    owners.sort_by(|a, b| a.owner.cmp(&b.owner));
    for a in owners {
        println!("{} has {}", a.owner, a.balance);
    }
}
