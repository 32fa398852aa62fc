//! Builds a report `String` with `push_str`, `write!` and `format!` in a loop, saving
//! after each section; the report and a `&str` slice of it are used after.
use std::fmt::Write;

#[ckpt::checkpointable]
fn main() {
    let sections = ["intro", "method", "results", "discussion"];
    let mut report = String::new();
    for (i, name) in sections.iter().enumerate() {
        report.push_str(&format!("## {}\n", name.to_uppercase()));
        writeln!(report, "section {} of {}", i + 1, sections.len()).unwrap();
        for k in 0..i {
            write!(report, "{}.", k).unwrap();
        }
        report.push('\n');
        ckpt::save().expect("checkpoint");
        println!("{} bytes after {name}", report.len());
    }
    let first_line = report.lines().next().unwrap_or("");
    println!("{report}first line: {first_line}");
}
