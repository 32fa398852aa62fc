//! A checkpointable helper that appends to a `&mut String` buffer and saves, called in a
//! loop; the buffer is then split and counted.
#[ckpt::checkpointable]
fn append_line(buf: &mut String, n: u32) -> usize {
    buf.push_str(&format!("line {n}: "));
    for k in 0..n % 4 {
        buf.push(char::from(b'a' + k as u8));
    }
    buf.push('\n');
    ckpt::save().expect("checkpoint");
    buf.len()
}

#[ckpt::checkpointable]
fn main() {
    let mut buf = String::with_capacity(16);
    let mut lengths = Vec::new();
    for n in 0..9 {
        let len = append_line(&mut buf, n);
        lengths.push(len);
    }
    let longest = buf.lines().max_by_key(|l| l.len()).unwrap_or("");
    println!(
        "{} lines, longest {longest:?}, lengths {lengths:?}",
        buf.lines().count()
    );
}
