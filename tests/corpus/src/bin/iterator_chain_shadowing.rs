//! Iterator chains (`map`/`filter`/`sum`/`collect`) computing values before and after
//! saves, and shadowing (`let line = raw.trim();`, `let n: u32 = n.parse()..`).
const INPUT: &str =
    "  12 apples \n 7 pears\n\n  30 plums  \n 3 quinces\n 18 figs \n 9 limes\n 25 dates\n  4 kiwis";

#[ckpt::checkpointable]
fn main() {
    let mut inventory = Vec::new();
    for raw in INPUT.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let (n, fruit) = line.split_once(' ').unwrap();
        let n: u32 = n.parse().unwrap();
        let fruit = fruit.trim().to_string();
        ckpt::save().expect("checkpoint");
        println!("{fruit}: {n}");
        inventory.push((fruit, n));
    }
    let total: u32 = inventory.iter().map(|(_, n)| n).sum();
    ckpt::save().expect("checkpoint");
    println!("total {total}");
    let big: Vec<&str> = inventory
        .iter()
        .filter(|(_, n)| *n >= 10)
        .map(|(f, _)| f.as_str())
        .collect();
    ckpt::save().expect("checkpoint");
    println!("big: {}", big.join(" "));
    let longest = inventory.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    let total = total as f64 / inventory.len() as f64;
    println!("longest name {longest} letters, mean count {total:.2}");
}
