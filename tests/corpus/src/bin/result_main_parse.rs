//! `fn main() -> Result<(), Box<dyn Error>>` parsing numbers with `?`, a helper returning
//! `Result<_, String>`, and saves between records.
use std::error::Error;

#[ckpt::checkpointable]
fn parse_record(line: &str) -> Result<(String, u32), String> {
    let (name, age) = line
        .split_once(',')
        .ok_or_else(|| format!("no comma in {line:?}"))?;
    let age: u32 = age
        .trim()
        .parse()
        .map_err(|e| format!("bad age in {line:?}: {e}"))?;
    ckpt::save().map_err(|e| e.to_string())?;
    Ok((name.trim().to_string(), age))
}

#[ckpt::checkpointable]
fn main() -> Result<(), Box<dyn Error>> {
    let input = "ada, 36\nbob, 41\ncyd, x\ndee, 29";
    let mut people = Vec::new();
    let mut errors = 0;
    for line in input.lines() {
        match parse_record(line) {
            Ok(p) => people.push(p),
            Err(e) => {
                errors += 1;
                println!("skipped: {e}");
            }
        }
    }
    ckpt::save()?;
    let oldest = people.iter().max_by_key(|(_, a)| *a).ok_or("no people")?;
    println!(
        "{} people, {errors} errors, oldest {}",
        people.len(),
        oldest.0
    );
    Ok(())
}
