//! `text.lines()` with `line.split_whitespace()` inside, and `csv.split(',')`, over owned
//! `String`s, with saves in the loops and a `&str` borrowed from the text kept across them.
#[ckpt::checkpointable]
fn main() {
    let text = String::from(
        "The quick brown fox\njumps over the lazy dog\n\nPack my box with\nfive dozen liquor jugs\nHow vexingly quick daft zebras jump\nSphinx of black quartz judge my vow",
    );
    let mut word_count = 0;
    let mut longest = "";
    for (n, line) in text.lines().enumerate() {
        for word in line.split_whitespace() {
            word_count += 1;
            if word.len() > longest.len() {
                longest = word;
            }
        }
        ckpt::save().expect("checkpoint");
        println!(
            "line {}: {} words so far, longest {:?}",
            n + 1,
            word_count,
            longest
        );
    }
    let csv = String::from("red,green,blue,,cyan,magenta,yellow,black");
    for field in csv.split(',') {
        if field.is_empty() {
            println!("(empty field)");
            continue;
        }
        ckpt::save().expect("checkpoint");
        println!("color {field} has {} letters", field.len());
    }
    println!("{word_count} words; longest is {longest:?}");
}
