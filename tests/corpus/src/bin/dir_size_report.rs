//! Writes a few report files into a directory, then walks the directory the way a
//! person would: `fs::read_dir`, sort the names, `fs::metadata` for each size, and
//! prints a size report. Saves between the files it writes and between the entries it
//! reads.

use std::fs;
use std::path::Path;

#[ckpt::checkpointable]
fn main() -> std::io::Result<()> {
    let dir = Path::new("reports");
    fs::create_dir_all(dir)?;
    for day in 1..=6u32 {
        let lines: Vec<String> = (0..day * 3)
            .map(|i| format!("day {day} item {i}"))
            .collect();
        fs::write(dir.join(format!("day{day:02}.txt")), lines.join("\n"))?;
        ckpt::save().expect("checkpoint");
    }
    let mut names: Vec<String> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    let mut total = 0u64;
    for name in &names {
        let size = fs::metadata(dir.join(name))?.len();
        total += size;
        println!("{name:>12} {size:>6} bytes");
        ckpt::save().expect("checkpoint");
    }
    println!("{} files, {total} bytes", names.len());
    Ok(())
}
