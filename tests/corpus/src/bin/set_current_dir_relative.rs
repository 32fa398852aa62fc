//! `std::env::set_current_dir("work")` followed by relative `fs::write` /
//! `fs::read_to_string` opens, with saves between them.
use std::env;
use std::fs;

#[ckpt::checkpointable]
fn main() {
    fs::create_dir_all("work").expect("create work dir");
    env::set_current_dir("work").expect("cd work");
    let mut sizes = Vec::new();
    for i in 0..10 {
        let name = format!("part{i}.txt");
        let body: String = (0..=i).map(|k| format!("line {k} of part {i}\n")).collect();
        fs::write(&name, &body).expect("write part");
        ckpt::save().expect("checkpoint");
        let back = fs::read_to_string(&name).expect("read part");
        sizes.push(back.len());
        println!(
            "{name}: {} bytes, {} lines",
            back.len(),
            back.lines().count()
        );
    }
    let summary: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    fs::write("summary.txt", summary.join(",") + "\n").expect("write summary");
    println!("total {} bytes", sizes.iter().sum::<usize>());
}
