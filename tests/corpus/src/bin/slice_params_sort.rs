//! Checkpointable functions with `&mut [i32]`, `&[u8]` and `&str` parameters that save:
//! an insertion sort, an Adler-32 checksum and a vowel counter.
#[ckpt::checkpointable]
fn insertion_sort(xs: &mut [i32]) {
    for i in 1..xs.len() {
        let mut j = i;
        while j > 0 && xs[j - 1] > xs[j] {
            xs.swap(j - 1, j);
            j -= 1;
        }
        if i % 4 == 0 {
            ckpt::save().expect("checkpoint");
            println!("sorted prefix of {}: {:?}", i + 1, &xs[..=i]);
        }
    }
}

#[ckpt::checkpointable]
fn adler32(data: &[u8]) -> u32 {
    let mut a = 1u32;
    let mut b = 0u32;
    for (i, &byte) in data.iter().enumerate() {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
        if i % 16 == 15 {
            ckpt::save().expect("checkpoint");
            println!("adler after {} bytes: {:08x}", i + 1, (b << 16) | a);
        }
    }
    (b << 16) | a
}

#[ckpt::checkpointable]
fn count_vowels(text: &str) -> usize {
    let mut n = 0;
    for (i, word) in text.split_whitespace().enumerate() {
        n += word.chars().filter(|c| "aeiouAEIOU".contains(*c)).count();
        if i % 3 == 2 {
            ckpt::save().expect("checkpoint");
            println!("{n} vowels up to {word:?}");
        }
    }
    n
}

#[ckpt::checkpointable]
fn main() {
    let mut numbers = vec![42, -7, 19, 3, 88, 0, -15, 27, 64, 5, 11, -2, 99, 31, 8, 50];
    insertion_sort(&mut numbers);
    println!("sorted: {:?}", numbers);
    let text = String::from("Rust is a multi-paradigm general-purpose programming language that emphasizes performance and safety");
    let checksum = adler32(text.as_bytes());
    println!("adler32 = {checksum:08x}");
    let vowels = count_vowels(&text);
    println!("{vowels} vowels in {} bytes", text.len());
}
