//! `?` with a custom error enum (`From` impls for `ParseIntError` and the checkpoint
//! error) in a checkpointable function; some errors are reported and skipped.
use std::fmt;
use std::num::ParseIntError;

#[derive(Debug)]
enum AppError {
    Parse(ParseIntError),
    Negative(i64),
    Checkpoint(String),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Parse(e) => write!(f, "not a number: {e}"),
            AppError::Negative(v) => write!(f, "negative value {v}"),
            AppError::Checkpoint(e) => write!(f, "checkpoint failed: {e}"),
        }
    }
}

impl From<ParseIntError> for AppError {
    fn from(e: ParseIntError) -> Self {
        AppError::Parse(e)
    }
}

impl From<ckpt::Error> for AppError {
    fn from(e: ckpt::Error) -> Self {
        AppError::Checkpoint(e.to_string())
    }
}

#[ckpt::checkpointable]
fn parse_amount(line: &str) -> Result<i64, AppError> {
    let v: i64 = line.trim().parse()?;
    if v < 0 {
        return Err(AppError::Negative(v));
    }
    ckpt::save()?;
    Ok(v)
}

#[ckpt::checkpointable]
fn main() {
    let lines = [
        "10", " 25", "abc", "-3", "40", "7 ", "", "12", "1000", "-1", "5", "8", "13",
    ];
    let mut total = 0;
    let mut errors = 0;
    for line in lines {
        match parse_amount(line) {
            Ok(v) => {
                total += v;
                println!("{line:?} -> {v}, total {total}");
            }
            Err(e) => {
                errors += 1;
                println!("skipping {line:?}: {e}");
            }
        }
    }
    println!("total {total}, {errors} bad lines");
}
