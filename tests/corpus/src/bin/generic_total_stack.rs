//! A generic checkpointable `fn total<T: Into<f64> + Copy>(xs: &[T])` and a generic
//! `Stack<T>` whose checkpointable methods save.
use std::fmt::Debug;

#[ckpt::checkpointable]
fn total<T: Into<f64> + Copy>(xs: &[T]) -> f64 {
    let mut sum = 0.0;
    for (i, &x) in xs.iter().enumerate() {
        sum += x.into();
        if i % 4 == 3 {
            ckpt::save().expect("checkpoint");
            println!("  partial sum after {} items: {sum}", i + 1);
        }
    }
    sum
}

#[derive(Debug, ckpt::State)]
struct Stack<T> {
    items: Vec<T>,
}

#[ckpt::checkpointable]
impl<T: Debug + Clone> Stack<T> {
    fn new() -> Self {
        Stack { items: Vec::new() }
    }

    fn push_all(&mut self, xs: &[T]) {
        for x in xs {
            self.items.push(x.clone());
            if self.items.len() % 3 == 0 {
                ckpt::save().expect("checkpoint");
                println!(
                    "  stack depth {}, top {:?}",
                    self.items.len(),
                    self.items.last()
                );
            }
        }
    }

    fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }
}

#[ckpt::checkpointable]
fn main() {
    let bytes: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
    let floats = vec![0.5f32, 1.25, 2.0, 3.5, 4.75];
    let ints: Vec<i32> = vec![-10, 20, -30, 40];
    println!("bytes total {}", total(&bytes));
    println!("floats total {}", total(&floats));
    println!("ints total {}", total(&ints));
    let mut words: Stack<String> = Stack::new();
    words.push_all(&[
        "red".to_string(),
        "green".into(),
        "blue".into(),
        "cyan".into(),
        "teal".into(),
        "pink".into(),
    ]);
    let mut nums: Stack<u16> = Stack::new();
    nums.push_all(&[9, 8, 7, 6, 5, 4, 3, 2, 1]);
    println!("popped {:?} and {:?}", words.pop(), nums.pop());
    println!("left: {:?} / {:?}", words, nums);
}
