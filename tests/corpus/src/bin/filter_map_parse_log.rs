//! A `for` over `lines.iter().filter_map(|l| ...)`, where the closure parses
//! `name,millis` records and skips malformed ones; the loop saves on every record.
const LOG: &str = "\
# request timings
index,12
search,240
broken line
login,35
search,198
,not-a-number
upload,1020
index,9
logout,4
search,310
upload,870
healthz,1";

#[ckpt::checkpointable]
fn main() {
    let lines: Vec<&str> = LOG.lines().collect();
    let mut total_ms = 0u64;
    let mut slowest = ("", 0u64);
    for (name, ms) in lines.iter().filter_map(|l| {
        let mut parts = l.split(',');
        let name = parts.next()?;
        let ms: u64 = parts.next()?.trim().parse().ok()?;
        Some((name, ms))
    }) {
        ckpt::save().expect("checkpoint");
        total_ms += ms;
        if ms > slowest.1 {
            slowest = (name, ms);
        }
        println!("{name}: {ms} ms (total {total_ms})");
    }
    println!("slowest: {} at {} ms", slowest.0, slowest.1);
}
