//! Word frequencies of a large text file, written against std only (plus `ckpt::save()`).
//!
//! ```text
//! wordfreq INPUT OUT.tsv [--save-every LINES]
//! ```
//!
//! Reads INPUT line by line, counts words (lower-cased runs of letters and digits),
//! prints progress to stdout, then writes `word<TAB>count` rows to OUT.tsv, most frequent
//! first. It checkpoints every LINES lines while counting and every 1000 rows while
//! writing. `#[checkpointable]` routes its `std::fs`, `std::io` and
//! `std::collections` calls to ckpt's components, so after `kill -9` and
//! `wordfreq --restore wordfreq.ckpt >> progress.txt` both OUT.tsv and the progress file
//! are byte-identical to an uninterrupted run's.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};

use ckpt::checkpointable;

fn usage() -> ! {
    eprintln!("usage: wordfreq INPUT OUT.tsv [--save-every LINES]");
    std::process::exit(2)
}

#[derive(ckpt::State)]
struct Options {
    input: String,
    output: String,
    save_every: u64,
}

fn parse(args: &[String]) -> Options {
    let mut positional = Vec::new();
    let mut save_every = 20_000;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--save-every" => match it.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => save_every = n,
                _ => usage(),
            },
            s if s.starts_with('-') => usage(),
            s => positional.push(s.to_string()),
        }
    }
    let [input, output] = <[String; 2]>::try_from(positional).unwrap_or_else(|_| usage());
    Options {
        input,
        output,
        save_every,
    }
}

#[checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opts = parse(&args);
    let save_every = opts.save_every;

    let reader = BufReader::new(File::open(&opts.input)?);
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut lines = 0u64;
    let mut words = 0u64;
    for line in reader.lines() {
        let line = line?;
        for w in line
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            words += 1;
            match counts.get_mut(w) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(w.to_lowercase(), 1);
                }
            }
        }
        lines += 1;
        if lines % save_every == 0 {
            println!("{lines} lines, {words} words, {} distinct", counts.len());
            ckpt::save().expect("checkpoint");
        }
    }
    println!(
        "counted {lines} lines, {words} words, {} distinct",
        counts.len()
    );

    let mut rows: Vec<(String, u64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = BufWriter::new(File::create(&opts.output)?);
    let mut written = 0u64;
    for (word, n) in rows {
        writeln!(out, "{word}\t{n}")?;
        written += 1;
        if written % 1000 == 0 {
            println!("wrote {written} rows");
            ckpt::save().expect("checkpoint");
        }
    }
    out.flush()?;
    println!("result: {written} rows to {}", opts.output);
    Ok(())
}
