//! A `let sep = ", ";` string literal and `b"..."` byte-string literals held in locals
//! across saves, used (indexed, joined with) after each save.
#[ckpt::checkpointable]
fn main() {
    let sep = ", ";
    let header = b"CKPT-DEMO";
    let magic: &[u8] = b"\x7fELF";
    let mut parts = Vec::new();
    for i in 0..10 {
        parts.push(format!("item{i}"));
        ckpt::save().expect("checkpoint");
        println!("{}", parts.join(sep));
        let b = header[i % header.len()];
        println!("header byte {i}: {} ({})", b, b as char);
    }
    let checksum: u32 = magic.iter().chain(header.iter()).map(|&b| b as u32).sum();
    println!("checksum of magic+header: {checksum}");
    println!(
        "magic starts with 0x{:02x}, separator is {:?}",
        magic[0], sep
    );
}
