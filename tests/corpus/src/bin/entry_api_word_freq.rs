//! Word frequencies in a `HashMap<&str, usize>` filled with the entry API, with
//! `if let Err(e) = ckpt::save()` after each line; the result is sorted before printing.
use std::collections::HashMap;

#[ckpt::checkpointable]
fn main() {
    let text = "one fish two fish red fish blue fish\n\
                black fish blue fish old fish new fish\n\
                this one has a little star\n\
                this one has a little car\n\
                say what a lot of fish there are\n\
                yes some are red and some are blue\n\
                some are old and some are new\n\
                some are sad and some are glad\n\
                and some are very very bad";
    let mut freq: HashMap<&str, usize> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        for word in line.split_whitespace() {
            *freq.entry(word).or_insert(0) += 1;
        }
        if let Err(e) = ckpt::save() {
            eprintln!("could not save a checkpoint: {e}");
        }
        println!("after line {}: {} distinct words", n + 1, freq.len());
    }
    let mut pairs: Vec<(&str, usize)> = freq.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (word, count) in pairs.iter().take(6) {
        println!("{word}: {count}");
    }
}
