//! Locals moved by value into checkpointable functions that save:
//! `let report = summarize(data);` and `let (n, longest) = summarize_words(words);`.
#[derive(Debug, ckpt::State)]
struct Report {
    count: usize,
    mean: f64,
    min: i32,
    max: i32,
    top: Vec<i32>,
}

#[ckpt::checkpointable]
fn summarize(data: Vec<i32>) -> Report {
    let mut sorted = data;
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0i64;
    for (i, x) in sorted.iter().enumerate() {
        sum += *x as i64;
        if i % 5 == 4 {
            ckpt::save().expect("checkpoint");
            println!("  summed {} values: {sum}", i + 1);
        }
    }
    Report {
        count: sorted.len(),
        mean: sum as f64 / sorted.len() as f64,
        min: *sorted.last().unwrap(),
        max: sorted[0],
        top: sorted.into_iter().take(3).collect(),
    }
}

#[ckpt::checkpointable]
fn summarize_words(words: Vec<String>) -> (usize, String) {
    let mut longest = String::new();
    let mut n = 0;
    for w in words {
        n += 1;
        if w.len() > longest.len() {
            longest = w;
            ckpt::save().expect("checkpoint");
            println!("  new longest word {longest:?}");
        }
    }
    (n, longest)
}

#[ckpt::checkpointable]
fn main() {
    let data: Vec<i32> = (0..30).map(|i| (i * 53 % 97) - 40).collect();
    let report = summarize(data);
    println!("{report:?}");
    println!(
        "range {}..{}, mean {:.2} over {}",
        report.min, report.max, report.mean, report.count
    );
    let words: Vec<String> = "a be cat door eagle fig grapes hi umbrella zoo catastrophe x"
        .split(' ')
        .map(String::from)
        .collect();
    let (n, longest) = summarize_words(words);
    println!(
        "{n} words, longest {longest:?}, top values {:?}",
        report.top
    );
}
