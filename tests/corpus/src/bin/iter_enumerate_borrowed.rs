//! `for (i, name) in names.iter().enumerate()`: a save inside the body, with both the
//! index and the borrowed element used after the save.
use ckpt::checkpointable;

#[checkpointable]
fn main() {
    let names = vec![
        "ada", "grace", "linus", "barbara", "dennis", "ken", "margaret", "alan", "edsger",
        "donald", "frances", "john", "niklaus", "tony", "leslie", "robin", "fran", "bjarne",
    ];
    let mut longest = String::new();
    let mut initials = String::new();
    for (i, name) in names.iter().enumerate() {
        if i % 2 == 0 {
            ckpt::save().expect("checkpoint");
        }
        initials.push(name.chars().next().unwrap().to_ascii_uppercase());
        if name.len() > longest.len() {
            longest = name.to_string();
        }
        println!(
            "{:>2}: {:<10} len={} initials so far: {}",
            i,
            name,
            name.len(),
            initials
        );
    }
    println!("longest: {longest}");
    println!("initials: {initials}");
}
