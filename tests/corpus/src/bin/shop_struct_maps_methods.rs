//! A shop: struct fields holding a HashMap, a HashSet and a BTreeMap, methods on fields
//! (`self.stats.record(..)`), a loop over a clone of a field, sorted map entries, and a
//! Vec of references kept across saves.
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(ckpt::State, Debug, Clone, PartialEq)]
struct Item {
    name: String,
    price: u32,
    tags: Vec<String>,
}

#[derive(ckpt::State, Default)]
struct Stats {
    count: usize,
    by_tag: HashMap<String, u32>,
}

impl Stats {
    fn record(&mut self, item: &Item) {
        self.count += 1;
        for t in &item.tags {
            *self.by_tag.entry(t.clone()).or_default() += item.price;
        }
    }
}

#[derive(ckpt::State)]
struct Shop {
    items: Vec<Item>,
    stats: Stats,
    seen: HashSet<String>,
    totals: BTreeMap<String, u64>,
}

#[ckpt::checkpointable]
impl Shop {
    fn process(&mut self) {
        for item in self.items.clone() {
            self.stats.record(&item);
            self.seen.insert(item.name.clone());
            *self.totals.entry(item.name.clone()).or_insert(0) += item.price as u64;
            ckpt::save().expect("checkpoint");
            println!("processed {} ({} seen)", item.name, self.seen.len());
        }
    }

    fn report(&self) -> String {
        let mut lines = Vec::new();
        for (name, total) in &self.totals {
            ckpt::save().expect("checkpoint");
            lines.push(format!("{name}={total}"));
        }
        lines.join(",")
    }
}

fn make_items() -> Vec<Item> {
    (0..6)
        .map(|i| Item {
            name: format!("item{i}"),
            price: 10 + i * 3,
            tags: vec![
                if i % 2 == 0 {
                    "even".into()
                } else {
                    "odd".into()
                },
                "all".into(),
            ],
        })
        .collect()
}

#[ckpt::checkpointable]
fn main() {
    let mut shop = Shop {
        items: make_items(),
        stats: Stats::default(),
        seen: HashSet::new(),
        totals: BTreeMap::new(),
    };
    shop.process();
    let report = shop.report();
    println!("report: {report}");
    let mut tags: Vec<_> = shop.stats.by_tag.iter().collect();
    tags.sort();
    for (tag, sum) in tags {
        ckpt::save().expect("checkpoint");
        println!("tag {tag}: {sum}");
    }
    let expensive: Vec<&Item> = shop.items.iter().filter(|i| i.price > 15).collect();
    for item in &expensive {
        ckpt::save().expect("checkpoint");
        println!("expensive: {} {}", item.name, item.price);
    }
    let total: u32 = shop.items.iter().map(|i| i.price).sum();
    println!("count {} total {total}", shop.stats.count);
}
