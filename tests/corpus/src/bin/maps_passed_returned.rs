//! A `HashMap<String, Vec<usize>>` built and returned by one checkpointable function,
//! passed by reference to a second and by value to a third; all three save.
use std::collections::HashMap;

#[ckpt::checkpointable]
fn build_index(text: &str) -> HashMap<String, Vec<usize>> {
    let mut index = HashMap::new();
    for (line_no, line) in text.lines().enumerate() {
        for word in line.split_whitespace() {
            let word = word
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            if !word.is_empty() {
                index.entry(word).or_insert_with(Vec::new).push(line_no + 1);
            }
        }
        ckpt::save().expect("checkpoint");
        println!(
            "indexed line {}: {} distinct words",
            line_no + 1,
            index.len()
        );
    }
    index
}

#[ckpt::checkpointable]
fn most_common(index: &HashMap<String, Vec<usize>>, n: usize) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = index
        .iter()
        .map(|(w, lines)| (w.clone(), lines.len()))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(n);
    ckpt::save().expect("checkpoint");
    println!("top {n} computed");
    counts
}

#[ckpt::checkpointable]
fn into_sorted(index: HashMap<String, Vec<usize>>) -> Vec<(String, Vec<usize>)> {
    let mut all: Vec<(String, Vec<usize>)> = index.into_iter().collect();
    all.sort();
    ckpt::save().expect("checkpoint");
    println!("sorted {} entries", all.len());
    all
}

#[ckpt::checkpointable]
fn main() {
    let text = "It was the best of times, it was the worst of times,\n\
                it was the age of wisdom, it was the age of foolishness,\n\
                it was the epoch of belief, it was the epoch of incredulity,\n\
                it was the season of Light, it was the season of Darkness,\n\
                it was the spring of hope, it was the winter of despair,\n\
                we had everything before us, we had nothing before us,\n\
                we were all going direct to Heaven,\n\
                we were all going direct the other way";
    let index = build_index(text);
    let top = most_common(&index, 5);
    for (word, n) in &top {
        println!("{word}: {n}");
    }
    let sorted = into_sorted(index);
    for (word, lines) in sorted.iter().take(8) {
        println!("{word} -> {:?}", lines);
    }
}
