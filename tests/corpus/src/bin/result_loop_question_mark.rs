//! A checkpointable `fn process(records: &[&str]) -> Result<u32, String>` that calls a
//! checkpointable validator with `?` inside a `for`, stopping at the first error.
#[ckpt::checkpointable]
fn validate(r: &str, seen: &mut Vec<String>) -> Result<u32, String> {
    let n: u32 = r.parse().map_err(|_| format!("not a number: {r}"))?;
    if seen.iter().any(|s| s == r) {
        return Err(format!("duplicate {r}"));
    }
    seen.push(r.to_string());
    ckpt::save().map_err(|e| e.to_string())?;
    Ok(n * 2)
}

#[ckpt::checkpointable]
fn process(records: &[&str]) -> Result<u32, String> {
    let mut seen = Vec::new();
    let mut sum = 0;
    for r in records {
        sum += validate(r, &mut seen)?;
        println!("  ok {r}, sum {sum}");
    }
    Ok(sum)
}

#[ckpt::checkpointable]
fn main() {
    let batches: Vec<Vec<&str>> = vec![vec!["1", "2", "3"], vec!["4", "x", "5"], vec!["6", "6"]];
    for (i, b) in batches.iter().enumerate() {
        match process(b) {
            Ok(s) => println!("batch {i}: sum {s}"),
            Err(e) => println!("batch {i}: error {e}"),
        }
    }
}
