//! A Caesar cipher over `message.chars()` with a save every few letters inside the loop,
//! building the ciphertext `String`; then decodes it with the same loop shape.
use ckpt::checkpointable;

#[checkpointable]
fn shift_text(message: &str, key: u8) -> String {
    let mut out = String::with_capacity(message.len());
    let mut letters = 0;
    for c in message.chars() {
        let shifted = if c.is_ascii_lowercase() {
            letters += 1;
            (((c as u8 - b'a' + key) % 26) + b'a') as char
        } else if c.is_ascii_uppercase() {
            letters += 1;
            (((c as u8 - b'A' + key) % 26) + b'A') as char
        } else {
            c
        };
        out.push(shifted);
        if letters % 9 == 0 && c.is_alphabetic() {
            ckpt::save().expect("checkpoint");
            println!("  {letters} letters: {out}");
        }
    }
    out
}

#[checkpointable]
fn main() {
    let message =
        String::from("Meet me at the Old Bridge at dawn, bring the maps and the lantern.");
    let secret = shift_text(&message, 13);
    println!("encrypted: {secret}");
    let plain = shift_text(&secret, 13);
    println!("decrypted: {plain}");
    println!("round trip ok: {}", plain == message);
}
