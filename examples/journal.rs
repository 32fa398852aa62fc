//! A program whose output depends on what the OS hands it: the lines of standard input,
//! the monotonic and wall clocks and the kernel's random bytes. Live, two runs never print the same;
//! recorded with `--ckpt-record`, its replay prints exactly what the recorded run printed,
//! in another directory, without its input.
//!
//! ```sh
//! seq 1 50 | cargo run --example journal -- --ckpt-record run.log > recorded.txt
//! cargo run --example journal -- --replay start --log run.log < /dev/null > replayed.txt
//! cmp recorded.txt replayed.txt
//! ```
//!
//! `--save-every K` saves every K lines (default 10); `--pace MS` waits MS milliseconds
//! after each line. With `--marks FILE`, every line of FILE costs one more clock reading
//! at the start. The log holds a reference to FILE (a hash of what was read), not its
//! bytes: editing FILE between recording and replay makes the replay stop and say where.

use ckpt::checkpointable;

#[checkpointable]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let marks = args
        .iter()
        .position(|a| a == "--marks")
        .and_then(|i| args.get(i + 1))
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .unwrap_or_default();
    let save_every: u64 = args
        .iter()
        .position(|a| a == "--save-every")
        .and_then(|i| args.get(i + 1))
        .and_then(|k| k.parse().ok())
        .unwrap_or(10);
    // Milliseconds to wait after each line (a slower run, to kill in the middle of).
    let pace: u64 = args
        .iter()
        .position(|a| a == "--pace")
        .and_then(|i| args.get(i + 1))
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    let start = std::time::Instant::now();
    for _ in marks.lines() {
        let _ = std::time::Instant::now();
    }
    let mut rng = ckpt::rand::Rng::from_os();
    let mut n = 0u64;
    let mut total = 0usize;
    for line in std::io::stdin().lines() {
        let line = line.expect("stdin");
        n += 1;
        total += line.len();
        println!(
            "line {n}: {:?} tag {:08x} after {} ns",
            line,
            rng.next_u64() as u32,
            start.elapsed().as_nanos()
        );
        if n % save_every == 0 {
            ckpt::save().expect("checkpoint");
        }
        if pace > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pace));
        }
    }
    let finished = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    println!(
        "result: {n} lines, {total} bytes, last tag {:08x}, finished at {} ms after the epoch",
        rng.next_u64() as u32,
        finished.as_millis()
    );
}
