//! A batch job that works in a directory of its own through relative paths, written
//! against std only (plus `ckpt::save()`).
//!
//! ```text
//! workdir [--parts N]
//! ```
//!
//! It makes `work/` and changes into it, then for each part: writes `part<i>.tmp` and
//! renames it to `part<i>.txt` (the atomic-replace idiom), writes `latest.tmp` and renames
//! it over `latest`, renames the previous part to `old.txt` and removes it, and appends a
//! line about the part to `index.txt`, saving between the steps. At the end it removes
//! its `scratch/` directory.
//!
//! ```text
//! cargo run --example workdir -- --parts 4
//! kill -9 <pid>                                   # at any moment
//! cd /anywhere && /path/to/workdir --restore /path/to/workdir.ckpt
//! ```
//!
//! A restore changes back into `work/` (the working directory is in the image) and puts
//! back what the killed run renamed or removed after the last save, so the restored run's
//! relative opens, renames and removals find their files, and `work/` ends byte-identical
//! to an uninterrupted run's.

use std::fs;
use std::io::Write;

fn usage() -> ! {
    eprintln!("usage: workdir [--parts N]");
    std::process::exit(2)
}

fn parse(args: &[String]) -> u64 {
    match args.get(1..).unwrap_or_default() {
        [] => 3,
        [flag, n] if flag == "--parts" => n.parse().unwrap_or_else(|_| usage()),
        _ => usage(),
    }
}

/// The content of part `i`: `i + 1` lines with a checksum each.
fn body(i: u64) -> String {
    (0..=i)
        .map(|k| {
            let z = (i << 32 | k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            format!("part {i} line {k} {:016x}\n", z ^ (z >> 29))
        })
        .collect()
}

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let parts = parse(&args);
    fs::create_dir_all("work/scratch")?;
    std::env::set_current_dir("work")?;
    fs::write("scratch/notes", "scratch space\n")?;
    let mut index = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open("index.txt")?;
    ckpt::save().expect("checkpoint");
    for i in 0..parts {
        let tmp = format!("part{i}.tmp");
        fs::write(&tmp, body(i))?;
        println!("part {i}: written");
        ckpt::save().expect("checkpoint");
        let name = format!("part{i}.txt");
        fs::rename(&tmp, &name)?;
        fs::write("latest.tmp", format!("{i}\n"))?;
        fs::rename("latest.tmp", "latest")?;
        println!("part {i}: in place");
        ckpt::save().expect("checkpoint");
        let text = fs::read_to_string(&name)?;
        if i > 0 {
            let previous = format!("part{}.txt", i - 1);
            fs::rename(&previous, "old.txt")?;
            fs::remove_file("old.txt")?;
        }
        writeln!(
            index,
            "part {i}: {} bytes, {} lines",
            text.len(),
            text.lines().count()
        )?;
        println!("part {i}: indexed");
        ckpt::save().expect("checkpoint");
    }
    fs::remove_dir_all("scratch")?;
    println!("result: {parts} parts");
    Ok(())
}
