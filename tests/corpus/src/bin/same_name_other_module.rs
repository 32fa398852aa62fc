//! A plain (non-checkpointable) `util::parse` in another module with the same name as the
//! checkpointable `parse` that calls it and saves.
mod util {
    pub fn parse(s: &str) -> Vec<u32> {
        s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
    }

    pub fn mean(xs: &[u32]) -> f64 {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<u32>() as f64 / xs.len() as f64
        }
    }
}

#[ckpt::checkpointable]
fn parse(records: &[String]) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for r in records {
        let (name, rest) = r.split_once(':').unwrap_or((r.as_str(), ""));
        let nums = util::parse(rest);
        ckpt::save().expect("checkpoint");
        let m = util::mean(&nums);
        println!("{name}: {} values, mean {m:.2}", nums.len());
        out.push((name.to_string(), m));
    }
    out
}

#[ckpt::checkpointable]
fn main() {
    let records: Vec<String> = vec![
        "alpha: 1, 2, 3".to_string(),
        "beta: 10, 20, x, 30".to_string(),
        "gamma:".to_string(),
        "delta: 7".to_string(),
        "epsilon: 5, 5, 5, 5, 6".to_string(),
        "zeta: 100, 200".to_string(),
        "eta: 9, 8, 7, 6, 5, 4".to_string(),
        "theta: 42, 43".to_string(),
        "iota: 1, 1".to_string(),
    ];
    let parsed = parse(&records);
    let best = parsed
        .iter()
        .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap())
        .unwrap();
    println!("highest mean: {} ({:.2})", best.0, best.1);
}
