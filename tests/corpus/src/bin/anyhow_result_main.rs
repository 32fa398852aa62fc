//! `fn main() -> anyhow::Result<()>` with `ckpt::save()?`, `.context(..)` on a parse, and
//! a checkpointable helper returning `anyhow::Result<u64>`.
use anyhow::{bail, Context};

#[ckpt::checkpointable]
fn checked_sum(fields: &[&str]) -> anyhow::Result<u64> {
    let mut sum = 0u64;
    for f in fields {
        let n: u64 = f
            .parse()
            .with_context(|| format!("field {f:?} is not a number"))?;
        if n > 1000 {
            bail!("field {n} is too large");
        }
        sum += n;
        ckpt::save()?;
    }
    Ok(sum)
}

#[ckpt::checkpointable]
fn main() -> anyhow::Result<()> {
    let rows = ["1,2,3", "10,x,30", "7,8", "2000,1"];
    let mut good = 0;
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        match checked_sum(&fields) {
            Ok(s) => {
                good += 1;
                println!("{row}: {s}");
            }
            Err(e) => println!("{row}: error: {e:#}"),
        }
        ckpt::save().context("saving after a row")?;
    }
    println!("{good} good rows");
    Ok(())
}
