//! A struct with `impl Display`, `u128`/`i128` arithmetic, `f32` (NaN and infinities) and
//! Unicode strings kept across saves and printed after them.
use std::fmt;

#[derive(ckpt::State)]
struct Reading {
    label: String,
    big: u128,
    delta: i128,
    ratio: f32,
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] big={} delta={} ratio={:.3}",
            self.label, self.big, self.delta, self.ratio
        )
    }
}

#[ckpt::checkpointable]
fn main() {
    let labels = ["température", "naïve", "日本語", "emoji 🎉"];
    let mut readings = Vec::new();
    let mut big: u128 = 1;
    for (i, l) in labels.iter().enumerate() {
        big = big * 1_000_000_007 + i as u128;
        let r = Reading {
            label: l.to_string(),
            big,
            delta: -(big as i128) / 3,
            ratio: match i {
                0 => f32::NAN,
                1 => f32::INFINITY,
                2 => -0.0,
                _ => 1.0 / 3.0,
            },
        };
        ckpt::save().expect("checkpoint");
        println!("{r} ({} chars)", r.label.chars().count());
        readings.push(r);
    }
    let total: u128 = readings.iter().map(|r| r.big % 1000).sum();
    println!("sum of last digits {total}");
}
